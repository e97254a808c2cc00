package acl

import (
	"errors"
	"strings"
	"testing"

	"github.com/proxkit/proxkit/auth"
)

func productOf(b byte) auth.Product {
	if b%2 == 0 {
		return auth.PVE
	}
	return auth.PBS
}

func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"", "/", "0", "//vms//100/", "vms", "/vms/1 0", "/datastore/s1/ns", "/a/", "/\n", "/ä", "/.x", "/" + strings.Repeat("a", 200)} {
		f.Add(byte(0), s)
		f.Add(byte(1), s)
	}
	f.Fuzz(func(t *testing.T, pb byte, path string) {
		p := productOf(pb)
		norm, err := NormalizePath(p, path)
		if err != nil {
			var pe *PathError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidPath) {
				t.Fatalf("untyped error %v", err)
			}
			if ValidatePath(p, path) == nil {
				t.Fatalf("ValidatePath accepts %q that does not normalize", path)
			}
			return
		}
		again, err := NormalizePath(p, norm)
		if err != nil || again != norm {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", path, norm, again, err)
		}
		if !strings.HasPrefix(norm, "/") || strings.Contains(norm, "//") || len(norm) > 1 && strings.HasSuffix(norm, "/") {
			t.Fatalf("not canonical: %q -> %q", path, norm)
		}
		if p == auth.PBS && norm != path {
			t.Fatalf("PBS changed %q to %q", path, norm)
		}
	})
}

func FuzzValidatePath(f *testing.F) {
	for _, s := range []string{"/", "/vms/100", "/vms/99", "/sdn/zones/z/v/1", "/pool/a/b/c/d", "/datastore/s/a/b/c/d/e/f/g/h", "/system/network/interfaces/eth0", "/tape/job/x/y"} {
		f.Add(byte(0), s)
		f.Add(byte(1), s)
	}
	f.Fuzz(func(t *testing.T, pb byte, path string) {
		p := productOf(pb)
		err := ValidatePath(p, path)
		if err == nil {
			if _, nerr := NormalizePath(p, path); nerr != nil {
				t.Fatalf("valid but does not normalize: %q", path)
			}
			return
		}
		var pe *PathError
		if !errors.As(err, &pe) || pe.Reason == "" || pe.Product != p {
			t.Fatalf("bad error %#v", err)
		}
	})
}

// fuzzWorld is the small vocabulary random policies are built from, so
// that operations collide on the same paths and subjects.
type fuzzWorld struct {
	paths, users, tokens, groups, roles []string
}

func worldFor(p auth.Product) fuzzWorld {
	roles := []string{"NoAccess"}
	if p == auth.PVE {
		return fuzzWorld{
			paths:  []string{"/", "/vms", "/vms/100", "/vms/101", "/storage", "/storage/local", "/pool/dev", "/pool/dev/sub", "/nodes", "/nodes/n1", "/vms/100/x"},
			users:  []string{"a@pve", "b@pve", "root@pam"},
			tokens: []string{"a@pve!t1", "a@pve!t2", "b@pve!t", "root@pam!t"},
			groups: []string{"g1", "g2"},
			roles:  append(roles, "Administrator", "PVEAdmin", "PVEVMUser", "PVEAuditor", "PVEDatastoreUser", "PVETemplateUser", "custom"),
		}
	}
	return fuzzWorld{
		paths:  []string{"/", "/datastore", "/datastore/s1", "/datastore/s1/ns", "/datastore/s2", "/remote", "/remote/r1", "/system", "/access/acl"},
		users:  []string{"a@pbs", "b@pbs", "root@pam"},
		tokens: []string{"a@pbs!t1", "a@pbs!t2", "b@pbs!t", "root@pam!t"},
		groups: []string{"g1", "g2"},
		roles:  append(roles, "Admin", "Audit", "DatastoreAdmin", "DatastoreReader", "DatastoreBackup", "RemoteSyncOperator"),
	}
}

// buildFuzzPolicy interprets data as a sequence of 4-byte operations.
// Operations the policy refuses are simply refused; the point is the
// states that are reachable.
func buildFuzzPolicy(p *Policy, w fuzzWorld, data []byte) {
	pick := func(list []string, b byte) string { return list[int(b)%len(list)] }
	if p.product == auth.PVE {
		_ = p.SetRole("custom", []string{"VM.Audit", "Sys.Audit", "Permissions.Modify"})
	}
	const maxOps = 64
	for i := 0; i+4 <= len(data) && i < 4*maxOps; i += 4 {
		op, a, b, c := data[i], data[i+1], data[i+2], data[i+3]
		path, role, prop := pick(w.paths, a), pick(w.roles, b), c&1 == 1
		switch op % 9 {
		case 0:
			_ = p.Grant(Entry{Path: path, Type: User, Subject: pick(w.users, c>>1), Role: role, Propagate: prop})
		case 1:
			_ = p.Grant(Entry{Path: path, Type: Token, Subject: pick(w.tokens, c>>1), Role: role, Propagate: prop})
		case 2:
			_ = p.Grant(Entry{Path: path, Type: Group, Subject: pick(w.groups, c>>1), Role: role, Propagate: prop})
		case 3:
			_ = p.Revoke(Entry{Path: path, Type: SubjectType(1 + c%3), Subject: pick(append(append(w.users, w.tokens...), w.groups...), c>>2), Role: role})
		case 4:
			_ = p.SetToken(id(pick(w.tokens, a)), b&1 == 1)
		case 5:
			var members []auth.Userid
			for j, u := range w.users {
				if b&(1<<j) != 0 {
					members = append(members, auth.MustParseUserid(u))
				}
			}
			_ = p.SetGroupMembers(pick(w.groups, a), members)
		case 6:
			var vms []int
			if b&1 != 0 {
				vms = append(vms, 100)
			}
			if b&2 != 0 {
				vms = append(vms, 101)
			}
			_ = p.SetPool([]string{"dev", "dev/sub"}[a%2], vms, []string{"local"}[:c%2])
		case 7:
			if a%4 == 0 {
				p.RemoveUser(auth.MustParseUserid(pick(w.users, b)))
			} else {
				p.RemoveToken(id(pick(w.tokens, b)))
			}
		case 8:
			_ = p.DeleteRole("custom")
		}
	}
}

// ownNoAccessAt reports whether subject has a NoAccess entry of its own
// exactly at path.
func ownNoAccessAt(p *Policy, subject auth.Authid, path string) bool {
	n := p.nodes[path]
	if n == nil {
		return false
	}
	tab := n.users
	if subject.IsToken() {
		tab = n.tokens
	}
	_, ok := tab[subject.String()][RoleNoAccess]
	return ok
}

func FuzzEvaluator(f *testing.F) {
	f.Add(byte(0), []byte{0, 1, 1, 1, 4, 0, 1, 0, 1, 0, 2, 1})
	f.Add(byte(1), []byte{0, 1, 1, 1, 1, 1, 1, 2, 1, 2, 0, 1})
	f.Add(byte(0), []byte{5, 0, 3, 0, 2, 0, 2, 1, 6, 0, 3, 1, 2, 6, 0, 1, 0, 4, 4, 0})
	f.Add(byte(1), []byte{0, 0, 1, 1, 0, 1, 0, 0, 1, 2, 2, 3, 7, 0, 0, 0})
	f.Fuzz(func(t *testing.T, pb byte, data []byte) {
		product := productOf(pb)
		w := worldFor(product)
		p := NewPolicy(product)
		buildFuzzPolicy(p, w, data)

		subjects := append(append([]string{}, w.users...), w.tokens...)
		for _, s := range subjects {
			who := id(s)
			perms := p.Permissions(who)
			for path, set := range perms {
				if len(set) == 0 || !set.Equal(p.Privileges(who, path)) {
					t.Fatalf("Permissions(%s)[%s] = %v, Privileges says %v", who, path, set, p.Privileges(who, path))
				}
			}
			// A PVE token with privsep 0 (or a missing one) ignores its own
			// rows and has its user's privileges: root@pam's tokens too
			// (access-api.md 6.3 step 2, example E7).
			privsep := true
			if who.IsToken() && product == auth.PVE {
				set, ok := p.Token(who)
				privsep = ok && set
			}
			separated := who.IsToken() && !who.User().IsRoot() && privsep
			for _, path := range w.paths {
				got := p.Privileges(who, path)
				if separated {
					owner := p.Privileges(who.User().Authid(), path)
					for priv, flag := range got {
						oflag, ok := owner[priv]
						if !ok || flag && !oflag {
							t.Fatalf("%s holds %s[%v] on %s beyond its owner (%v)", who, priv, flag, path, owner)
						}
					}
				}
				ignoresOwnRows := who.IsToken() && !privsep
				if !who.IsRoot() && !ignoresOwnRows && ownNoAccessAt(p, who, path) && len(got) > 0 {
					t.Fatalf("%s has NoAccess on %s but holds %v", who, path, got)
				}
			}
		}
		c := p.Clone()
		if len(c.Entries()) != len(p.Entries()) {
			t.Fatal("clone differs")
		}
		_ = Lint(p, nil, lintNow)
	})
}

func FuzzUpdate(f *testing.F) {
	f.Add(byte(0), "/vms/100", "PVEVMUser", "a@pve", byte(1))
	f.Add(byte(1), "/datastore/s1", "Admin", "a@pbs!t", byte(3))
	f.Add(byte(0), "", "", "", byte(0))
	f.Fuzz(func(t *testing.T, pb byte, path, role, subject string, flags byte) {
		product := productOf(pb)
		p := NewPolicy(product)
		caller := id([]string{"root@pam", "a@pve", "a@pbs", "a@pbs!x"}[flags%4])
		exists := func(auth.Authid) bool { return flags&4 != 0 }
		var err error
		if product == auth.PVE {
			req := PVEACLUpdate{Path: path, Roles: splitList(role), Users: splitList(subject), Propagate: flags&8 != 0, Delete: flags&16 != 0}
			if flags&32 != 0 {
				req.Users, req.Tokens = nil, splitList(subject)
			}
			err = p.UpdatePVEACL(caller, req, func(u auth.Userid) bool { return exists(u.Authid()) })
		} else {
			target, _ := auth.ParseAuthid(subject)
			req := PBSACLUpdate{Path: path, Role: role, AuthID: target, Propagate: flags&8 != 0, Delete: flags&16 != 0}
			err = p.UpdatePBSACL(caller, req, exists)
		}
		if err != nil {
			var ue *UpdateError
			if !errors.As(err, &ue) || ue.Kind == 0 || ue.Err == nil || ue.Message == "" {
				t.Fatalf("untyped error %#v", err)
			}
		}
	})
}
