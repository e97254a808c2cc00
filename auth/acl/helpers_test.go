package acl

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

// policyFromConfig builds a policy from lines in the servers' own
// configuration syntax (PVE user.cfg: token, group, role, acl, pool lines;
// PBS acl.cfg: acl lines), so upstream test fixtures can be written down as
// they are. "user:" lines are accepted and ignored (the policy does not
// track users).
func policyFromConfig(t testing.TB, product auth.Product, cfg string) *Policy {
	t.Helper()
	p := NewPolicy(product)
	var acls, pools [][]string
	for _, line := range strings.Split(cfg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		for len(f) < 6 {
			f = append(f, "")
		}
		switch f[0] {
		case "user":
		case "token":
			id := auth.MustParseAuthid(f[1])
			require.NoError(t, p.SetToken(id, f[3] == "1"), line)
		case "group":
			var members []auth.Userid
			for _, m := range splitList(f[2]) {
				members = append(members, auth.MustParseUserid(m))
			}
			require.NoError(t, p.SetGroupMembers(f[1], members), line)
		case "role":
			require.NoError(t, p.SetRole(f[1], splitList(f[2])), line)
		case "acl":
			acls = append(acls, f)
		case "pool":
			pools = append(pools, f)
		default:
			t.Fatalf("unknown config line %q", line)
		}
	}
	for _, f := range pools {
		var vms []int
		for _, v := range splitList(f[3]) {
			n, err := strconv.Atoi(v)
			require.NoError(t, err)
			vms = append(vms, n)
		}
		require.NoError(t, p.SetPool(f[1], vms, splitList(f[4])))
	}
	for _, f := range acls {
		for _, role := range splitList(f[4]) {
			for _, ug := range splitList(f[3]) {
				require.NoError(t, p.Grant(configEntry(f[2], ug, role, f[1] == "1")), strings.Join(f, ":"))
			}
		}
	}
	return p
}

func configEntry(path, ug, role string, propagate bool) Entry {
	if g, ok := strings.CutPrefix(ug, "@"); ok {
		return Entry{Path: path, Type: Group, Subject: g, Role: role, Propagate: propagate}
	}
	return EntryFor(path, auth.MustParseAuthid(ug), role, propagate)
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' })
}

// rolePrivSet is the privileges of the named roles, all with flag.
func rolePrivSet(t testing.TB, p *Policy, flag bool, roles ...string) PrivSet {
	t.Helper()
	out := PrivSet{}
	for _, r := range roles {
		privs, ok := p.Role(r)
		require.True(t, ok, "role %s", r)
		for _, priv := range privs {
			out[priv] = flag
		}
	}
	return out
}

// privSet builds a set from names, all with flag.
func privSet(flag bool, names ...string) PrivSet {
	out := PrivSet{}
	for _, n := range names {
		out[n] = flag
	}
	return out
}

// joinedPrivs renders a set as the upstream tests print it: sorted names
// joined by commas.
func joinedPrivs(s PrivSet) string { return strings.Join(s.Names(), ",") }

func joinedRoles(m map[string]bool) string {
	names := make([]string, 0, len(m))
	for r := range m {
		names = append(names, r)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

func id(s string) auth.Authid { return auth.MustParseAuthid(s) }
