package acl

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

// benchPolicy is a PVE cluster of moderate size: 50 users in 10 groups,
// one separated token each, 500 VMs in 10 pools, and a few entries per
// user and group.
func benchPolicy(b *testing.B) *Policy {
	p := NewPolicy(auth.PVE)
	for g := 0; g < 10; g++ {
		var members []auth.Userid
		for u := g; u < 50; u += 10 {
			members = append(members, auth.MustParseUserid(fmt.Sprintf("user%d@pve", u)))
		}
		require.NoError(b, p.SetGroupMembers(fmt.Sprintf("g%d", g), members))
		require.NoError(b, p.Grant(Entry{Path: fmt.Sprintf("/pool/p%d", g), Type: Group, Subject: fmt.Sprintf("g%d", g), Role: "PVEVMUser", Propagate: true}))
		var vms []int
		for v := 0; v < 50; v++ {
			vms = append(vms, 100+g*50+v)
		}
		require.NoError(b, p.SetPool(fmt.Sprintf("p%d", g), vms, []string{fmt.Sprintf("store%d", g)}))
	}
	for u := 0; u < 50; u++ {
		user := auth.MustParseAuthid(fmt.Sprintf("user%d@pve", u))
		tok := auth.MustParseAuthid(fmt.Sprintf("user%d@pve!ci", u))
		require.NoError(b, p.SetToken(tok, true))
		require.NoError(b, p.Grant(EntryFor(fmt.Sprintf("/vms/%d", 100+u*10), user, "PVEVMAdmin", true)))
		require.NoError(b, p.Grant(EntryFor("/nodes", user, "PVEAuditor", true)))
		require.NoError(b, p.Grant(EntryFor("/vms", tok, "PVEVMUser", true)))
	}
	return p
}

func BenchmarkPrivilegesToken(b *testing.B) {
	p := benchPolicy(b)
	tok := auth.MustParseAuthid("user7@pve!ci")
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Privileges(tok, "/vms/170")
	}
}

func BenchmarkCheckUser(b *testing.B) {
	p := benchPolicy(b)
	user := auth.MustParseAuthid("user7@pve")
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Check(user, "/vms/170", "VM.PowerMgmt")
	}
}

func BenchmarkPermissions(b *testing.B) {
	p := benchPolicy(b)
	user := auth.MustParseAuthid("user7@pve")
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Permissions(user)
	}
}

func BenchmarkLint(b *testing.B) {
	p := benchPolicy(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = Lint(p, nil, lintNow)
	}
}
