package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

func TestGrantStorageRules(t *testing.T) {
	for _, product := range []auth.Product{auth.PVE, auth.PBS} {
		t.Run(product.String(), func(t *testing.T) {
			p := NewPolicy(product)
			admin := p.adminRole()

			// root@pam rows are accepted and not stored; its tokens' rows are.
			require.NoError(t, p.Grant(EntryFor("/", id("root@pam"), admin, true)))
			assert.Empty(t, p.Entries())
			require.NoError(t, p.SetToken(id("root@pam!t"), true))
			require.NoError(t, p.Grant(EntryFor("/", id("root@pam!t"), admin, true)))
			assert.Len(t, p.Entries(), 1)

			// Re-adding overwrites the propagate flag.
			u := id("alice@" + map[auth.Product]string{auth.PVE: "pve", auth.PBS: "pbs"}[product])
			require.NoError(t, p.Grant(EntryFor("/access", u, admin, true)))
			require.NoError(t, p.Grant(EntryFor("/access", u, admin, false)))
			rows := p.ListACL(id("root@pam"), "", false)
			require.Len(t, rows, 2)
			assert.Equal(t, Entry{Path: "/access", Type: User, Subject: u.String(), Role: admin, Propagate: false}, rows[1])

			// Revoking twice is fine; the node disappears with its last row.
			require.NoError(t, p.Revoke(EntryFor("/access", u, admin, false)))
			require.NoError(t, p.Revoke(EntryFor("/access", u, admin, false)))
			require.NoError(t, p.Revoke(EntryFor("/never/granted", u, admin, false)))
			assert.Len(t, p.Entries(), 1)
			assert.NotContains(t, p.treePaths(), "/access")
		})
	}
}

func TestPVENoAccessIsNotExclusiveInStorage(t *testing.T) {
	p := NewPolicy(auth.PVE)
	carol := id("carol@pve")
	require.NoError(t, p.Grant(EntryFor("/vms", carol, "PVEAdmin", true)))
	require.NoError(t, p.Grant(EntryFor("/vms", carol, "NoAccess", true)))
	assert.Len(t, p.Entries(), 2, "PVE stores both rows")
	assert.Empty(t, p.Privileges(carol, "/vms"), "and NoAccess wins when evaluating")
}

func TestGrantRefusals(t *testing.T) {
	pve := NewPolicy(auth.PVE)
	pbs := NewPolicy(auth.PBS)
	cases := []struct {
		p        *Policy
		e        Entry
		sentinel error
	}{
		{pve, Entry{Path: "", Type: User, Subject: "a@pve", Role: "PVEAuditor"}, ErrInvalidPath},
		{pbs, Entry{Path: "/datastore/", Type: User, Subject: "a@pbs", Role: "Audit"}, ErrInvalidPath},
		{pve, Entry{Path: "/", Type: User, Subject: "a@pve", Role: "Admin"}, ErrUnknownRole},
		{pbs, Entry{Path: "/", Type: User, Subject: "a@pbs", Role: "Administrator"}, ErrUnknownRole},
		{pve, Entry{Path: "/", Type: User, Subject: "nobody", Role: "PVEAuditor"}, ErrInvalidSubject},
		{pve, Entry{Path: "/", Type: User, Subject: "a@pve!tok", Role: "PVEAuditor"}, ErrInvalidSubject},
		{pve, Entry{Path: "/", Type: Token, Subject: "a@pve", Role: "PVEAuditor"}, ErrInvalidSubject},
		{pve, Entry{Path: "/", Type: Token, Subject: "a@pve!tok", Role: "PVEAuditor"}, ErrUnknownToken},
		{pve, Entry{Path: "/", Type: Group, Subject: "ops", Role: "PVEAuditor"}, ErrUnknownGroup},
		{pve, Entry{Path: "/", Type: Group, Subject: "bad group", Role: "PVEAuditor"}, ErrInvalidSubject},
		{pve, Entry{Path: "/", Subject: "a@pve", Role: "PVEAuditor"}, ErrInvalidSubject},
	}
	for _, c := range cases {
		err := c.p.Grant(c.e)
		require.Error(t, err, "%+v", c.e)
		assert.ErrorIs(t, err, c.sentinel, "%+v", c.e)
	}
	assert.Empty(t, pve.Entries())
	assert.Empty(t, pbs.Entries())

	// PBS stores rows for tokens it was never told about, and group rows.
	require.NoError(t, pbs.Grant(EntryFor("/", id("a@pbs!tok"), "Audit", true)))
	require.NoError(t, pbs.Grant(Entry{Path: "/", Type: Group, Subject: "admins", Role: "Admin", Propagate: true}))
	assert.Len(t, pbs.Entries(), 2)

	err := pve.Grant(EntryFor("/", id("a@pve!tok"), "PVEAuditor", true))
	assert.EqualError(t, err, "no such token 'tok' for user 'a@pve'")
}

func TestEntriesTreeOrder(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
token:z@pve!t::1:
token:a@pve!t::1:
group:ops:a@pve:
group:adm:a@pve:
acl:1:/vms-x:a@pve:PVEAuditor:
acl:1:/vms/100:a@pve:PVEAuditor:
acl:1:/vms:z@pve!t:PVEAuditor:
acl:1:/vms:@ops:PVEAuditor:
acl:1:/vms:z@pve:PVEAuditor:
acl:1:/vms:a@pve:PVEVMUser,PVEAuditor:
acl:1:/vms:a@pve!t:PVEAuditor:
acl:1:/vms:@adm:PVEAuditor:
acl:1:/:a@pve:PVEAuditor:
acl:1:/access:a@pve:PVEAuditor:
`)
	var got []string
	for _, e := range p.Entries() {
		got = append(got, e.Path+" "+e.Type.String()+" "+e.Subject+" "+e.Role)
	}
	assert.Equal(t, []string{
		"/ user a@pve PVEAuditor",
		"/access user a@pve PVEAuditor",
		"/vms user a@pve PVEAuditor",
		"/vms user a@pve PVEVMUser",
		"/vms user z@pve PVEAuditor",
		"/vms group adm PVEAuditor",
		"/vms group ops PVEAuditor",
		"/vms token a@pve!t PVEAuditor",
		"/vms token z@pve!t PVEAuditor",
		"/vms/100 user a@pve PVEAuditor",
		"/vms-x user a@pve PVEAuditor",
	}, got)
	assert.Equal(t, []string{"/", "/access", "/vms", "/vms/100", "/vms-x"}, p.treePaths())
}

func TestRemoveUserAndToken(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
token:bob@pve!a::1:
token:bob@pve!b::0:
token:bobby@pve!a::1:
group:ops:bob@pve,bobby@pve:
acl:1:/vms:bob@pve:PVEVMUser:
acl:1:/vms:bob@pve!a:PVEVMUser:
acl:1:/vms:bobby@pve!a:PVEVMUser:
acl:1:/vms:@ops:PVEAuditor:
`)
	p.RemoveUser(auth.MustParseUserid("bob@pve"))
	var subjects []string
	for _, e := range p.Entries() {
		subjects = append(subjects, e.Subject)
	}
	assert.Equal(t, []string{"ops", "bobby@pve!a"}, subjects)
	assert.Equal(t, []string{"bobby@pve!a"}, p.Tokens())
	assert.Equal(t, []auth.Userid{auth.MustParseUserid("bobby@pve")}, p.GroupMembers("ops"))
	assert.Empty(t, p.Privileges(id("bob@pve!a"), "/vms"), "its tokens are gone")

	p.RemoveToken(id("bobby@pve!a"))
	assert.Len(t, p.Entries(), 1)
	_, ok := p.Token(id("bobby@pve!a"))
	assert.False(t, ok)
}

func TestUserNamesWithBangAndAt(t *testing.T) {
	// "a@pve!x@pve" is the user "a@pve!x" in realm pve, not a token of a@pve.
	p := NewPolicy(auth.PBS)
	odd := id("a@pve!x@pve")
	require.False(t, odd.IsToken())
	require.NoError(t, p.Grant(EntryFor("/", odd, "Audit", true)))
	require.NoError(t, p.Grant(EntryFor("/", id("a@pve!x@pve!tok"), "Audit", true)))
	p.RemoveUser(auth.MustParseUserid("a@pve"))
	assert.Len(t, p.Entries(), 2, "nothing of a@pve was there")
	p.RemoveUser(odd.User())
	assert.Empty(t, p.Entries())
}

func TestGroups(t *testing.T) {
	p := NewPolicy(auth.PVE)
	alice, bob := auth.MustParseUserid("alice@pve"), auth.MustParseUserid("bob@pve")
	require.NoError(t, p.SetGroupMembers("ops", []auth.Userid{alice}))
	require.NoError(t, p.SetGroupMembers("dev", nil))
	assert.ErrorIs(t, p.SetGroupMembers("bad/id", nil), ErrInvalidSubject)
	assert.Equal(t, []string{"dev", "ops"}, p.Groups())
	require.NoError(t, p.SetUserGroups(bob, []string{"ops", "dev"}))
	assert.Equal(t, []string{"dev", "ops"}, p.UserGroups(bob))
	require.NoError(t, p.SetUserGroups(bob, []string{"dev"}))
	assert.Equal(t, []auth.Userid{alice}, p.GroupMembers("ops"))
	assert.ErrorIs(t, p.SetUserGroups(bob, []string{"nope"}), ErrUnknownGroup)
	assert.Equal(t, []string{"dev"}, p.UserGroups(bob), "a refused update changes nothing")

	require.NoError(t, p.Grant(Entry{Path: "/vms", Type: Group, Subject: "ops", Role: "PVEVMUser", Propagate: true}))
	assert.NotEmpty(t, p.Privileges(alice.Authid(), "/vms/100"))
	require.NoError(t, p.DeleteGroup("ops"))
	assert.Empty(t, p.Entries())
	assert.Empty(t, p.Privileges(alice.Authid(), "/vms/100"))
	assert.ErrorIs(t, p.DeleteGroup("ops"), ErrUnknownGroup)

	pbs := NewPolicy(auth.PBS)
	assert.ErrorIs(t, pbs.SetGroupMembers("ops", nil), ErrUnsupported)
	require.NoError(t, pbs.Grant(Entry{Path: "/", Type: Group, Subject: "ops", Role: "Admin", Propagate: true}))
	require.NoError(t, pbs.DeleteGroup("ops"))
	assert.Empty(t, pbs.Entries())
}

func TestPools(t *testing.T) {
	p := NewPolicy(auth.PVE)
	require.NoError(t, p.SetPool("dev", []int{101, 100, 100}, []string{"local", "nfs-1"}))
	vms, stores, ok := p.Pool("dev")
	require.True(t, ok)
	assert.Equal(t, []int{100, 101}, vms)
	assert.Equal(t, []string{"local", "nfs-1"}, stores)
	assert.ErrorIs(t, p.SetPool("ops", []int{100}, nil), ErrInvalidPoolMember, "a VM is in one pool only")
	assert.ErrorIs(t, p.SetPool("a/b/c/d", nil, nil), ErrInvalidPoolMember)
	assert.ErrorIs(t, p.SetPool("a b", nil, nil), ErrInvalidPoolMember)
	assert.ErrorIs(t, p.SetPool("ok", []int{0}, nil), ErrInvalidPoolMember)
	assert.ErrorIs(t, p.SetPool("ok", nil, []string{"1local"}), ErrInvalidPoolMember)
	assert.ErrorIs(t, p.SetPool("ok", nil, []string{"local-"}), ErrInvalidPoolMember)
	require.NoError(t, p.SetPool("dev/team", []int{200}, []string{"local"}))
	assert.Equal(t, []string{"dev", "dev/team"}, p.Pools())
	assert.ErrorIs(t, NewPolicy(auth.PBS).SetPool("dev", nil, nil), ErrUnsupported)

	frank := id("frank@pve")
	require.NoError(t, p.Grant(EntryFor("/pool/dev", frank, "PVEVMUser", true)))
	assert.NotEmpty(t, p.Privileges(frank, "/vms/100"))
	assert.NotEmpty(t, p.Privileges(frank, "/vms/200"), "nested pool inherits the propagated role")
	assert.Empty(t, p.Privileges(frank, "/vms/100/x"), "pool roles apply to the exact member path only")
	assert.Empty(t, p.Privileges(frank, "/vms/0100"), "PVE matches the decimal vmid as it prints it")

	// Replacing a pool's members moves the VM out.
	require.NoError(t, p.SetPool("dev", []int{101}, nil))
	assert.Empty(t, p.Privileges(frank, "/vms/100"))
	require.NoError(t, p.SetPool("ops", []int{100}, nil))

	p.RemoveVM(101)
	assert.Empty(t, p.Privileges(frank, "/vms/101"))
	p.RemoveStorage("local")
	_, stores, _ = p.Pool("dev/team")
	assert.Empty(t, stores)

	require.NoError(t, p.Grant(EntryFor("/pool/dev/team", frank, "PVEAuditor", true)))
	p.DeletePool("dev")
	assert.Empty(t, p.Entries(), "entries on the pool and its sub-pools go with it")
	_, _, ok = p.Pool("dev")
	assert.False(t, ok)
}

func TestClone(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, upstreamTest6+upstreamTest8)
	c := p.Clone()
	assert.Equal(t, p.Entries(), c.Entries())
	for _, who := range []string{"User1@pve", "User3@pve", "intern@pve", "max@pve!token2", "carol@pam!token"} {
		assert.Equal(t, p.Permissions(id(who)), c.Permissions(id(who)), who)
	}
	// Changing the clone leaves the original alone.
	require.NoError(t, c.SetRole("customer", nil))
	require.NoError(t, c.SetGroupMembers("DEVEL", nil))
	require.NoError(t, c.SetPool("devel", nil, nil))
	require.NoError(t, c.SetToken(id("max@pve!token2"), false))
	c.RemovePath("/vms")
	assert.NotEqual(t, p.Entries(), c.Entries())
	assert.Equal(t, "VM.Console,VM.PowerMgmt", joinedPrivs(p.Privileges(id("User1@pve"), "/vms/500")))
	assert.Equal(t, "VM.Allocate,VM.Audit,VM.Console,VM.PowerMgmt", joinedPrivs(p.Privileges(id("max@pve!token2"), "/vms/300")))
	privs, _ := p.Role("customer")
	assert.Equal(t, []string{"VM.Audit", "VM.PowerMgmt"}, privs)
}

func TestSetTokenRefusesUsers(t *testing.T) {
	p := NewPolicy(auth.PVE)
	assert.ErrorIs(t, p.SetToken(id("a@pve"), true), ErrInvalidSubject)
	pbs := NewPolicy(auth.PBS)
	require.NoError(t, pbs.SetToken(id("a@pbs!t"), false))
	privsep, ok := pbs.Token(id("a@pbs!t"))
	assert.True(t, ok)
	assert.True(t, privsep, "PBS tokens are always separated")
}

// Evaluation only reads: many goroutines may evaluate one policy at once
// (run with -race).
func TestConcurrentEvaluation(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, upstreamTest6+upstreamTest8)
	done := make(chan map[string]PrivSet, 4)
	for i := 0; i < 4; i++ {
		go func() {
			for _, who := range []string{"User1@pve", "max@pve!token2", "carol@pam!token"} {
				_ = p.Privileges(id(who), "/vms/500")
				_ = p.ListACL(id(who), "", false)
				_ = Lint(p, nil, lintNow)
			}
			done <- p.Permissions(id("User4@pve"))
		}()
	}
	first := <-done
	for i := 1; i < 4; i++ {
		assert.Equal(t, first, <-done)
	}
}

func TestParseSubjectTypeInvertsString(t *testing.T) {
	for _, typ := range []SubjectType{User, Group, Token} {
		got, ok := ParseSubjectType(typ.String())
		assert.True(t, ok, typ.String())
		assert.Equal(t, typ, got)
	}
	for _, bad := range []string{"", "unknown", "pool", "User", " user"} {
		_, ok := ParseSubjectType(bad)
		assert.False(t, ok, bad)
	}
}
