package pve_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/pve"
)

// buildScenario sets up the spec's worked examples E1-E5 (groups,
// NoAccess, tokens with and without privilege separation) plus a custom
// role, through the API.
func buildScenario(t *testing.T, e *env) {
	t.Helper()
	for _, g := range []string{"ops", "audit", "net", "g"} {
		require.NoError(t, e.admin.Access.CreateGroup(ctx(t), g, ""))
	}
	e.mkUser("alice@pve", nil)
	e.mkUser("bob@pve", &pve.UserOptions{Groups: []string{"ops", "audit"}})
	e.mkUser("hank@pve", &pve.UserOptions{Groups: []string{"net"}})
	e.mkUser("carol@pve", &pve.UserOptions{Groups: []string{"g"}})
	e.mkUser("dave@pve", nil)
	e.mkToken("dave@pve!sep", nil)
	e.mkToken("dave@pve!full", &pve.TokenOptions{Privsep: pve.Ptr(false)})
	e.mkToken("dave@pve!none", nil)
	require.NoError(t, e.admin.Access.CreateRole(ctx(t), "Backup", []string{"VM.Backup", "VM.Audit", "Datastore.AllocateSpace"}))

	u := func(s string) []auth.Userid { return []auth.Userid{uid(s)} }
	tk := func(s string) []auth.Authid { return []auth.Authid{aid(s)} }
	g := func(s string) []string { return []string{s} }
	r := func(s ...string) []string { return s }
	off := pve.Ptr(false)
	for _, ch := range []pve.ACLChange{
		{Path: "/vms", Roles: r("PVEVMUser"), Users: u("alice@pve")},
		{Path: "/vms/100", Roles: r("PVEAuditor"), Users: u("alice@pve")},
		{Path: "/storage", Roles: r("PVEDatastoreUser"), Users: u("alice@pve"), Propagate: off},
		{Path: "/", Roles: r("PVEVMUser"), Groups: g("ops")},
		{Path: "/", Roles: r("PVEAuditor"), Groups: g("audit")},
		{Path: "/vms", Roles: r("PVEPoolUser"), Users: u("bob@pve")},
		{Path: "/vms/100", Roles: r("PVETemplateUser"), Groups: g("ops")},
		{Path: "/sdn/zones", Roles: r("PVESDNUser"), Users: u("hank@pve")},
		{Path: "/sdn/zones/z1", Roles: r("PVESDNAdmin"), Users: u("hank@pve"), Propagate: off},
		{Path: "/sdn/zones/z1", Roles: r("PVEAuditor"), Groups: g("net")},
		{Path: "/", Roles: r("PVEAdmin"), Users: u("carol@pve")},
		{Path: "/vms", Roles: r("NoAccess"), Users: u("carol@pve")},
		{Path: "/vms/200", Roles: r("PVEVMUser"), Users: u("carol@pve")},
		{Path: "/storage", Roles: r("NoAccess"), Users: u("carol@pve"), Propagate: off},
		{Path: "/nodes", Roles: r("NoAccess", "PVEAuditor"), Groups: g("g")},
		{Path: "/vms", Roles: r("PVEVMUser"), Users: u("dave@pve")},
		{Path: "/", Roles: r("Administrator"), Tokens: tk("dave@pve!sep")},
		{Path: "/", Roles: r("PVEAuditor"), Tokens: tk("dave@pve!full")},
		{Path: "/storage/local", Roles: r("Backup"), Users: u("dave@pve")},
	} {
		e.grant(ch)
	}
}

// offlinePolicy rebuilds the server's access control from what the client
// reads back, in an acl.Policy that knows nothing of the server.
func offlinePolicy(t *testing.T, e *env) (*acl.Policy, []auth.Authid) {
	t.Helper()
	p := acl.NewPolicy(auth.PVE)
	groups, err := e.admin.Access.ListGroups(ctx(t))
	require.NoError(t, err)
	for _, g := range groups {
		require.NoError(t, p.SetGroupMembers(g.ID, g.Members))
	}
	roles, err := e.admin.Access.ListRoles(ctx(t))
	require.NoError(t, err)
	for _, r := range roles {
		if !r.Special {
			require.NoError(t, p.SetRole(r.ID, r.Privs))
		}
	}
	users, err := e.admin.Access.ListUsers(ctx(t), &pve.UserListOptions{Full: true})
	require.NoError(t, err)
	var subjects []auth.Authid
	for _, u := range users {
		subjects = append(subjects, u.ID.Authid())
		for _, tok := range u.Tokens {
			require.NoError(t, p.SetToken(tok.ID, tok.Privsep))
			subjects = append(subjects, tok.ID)
		}
	}
	entries, err := e.admin.Access.ListACL(ctx(t))
	require.NoError(t, err)
	for _, en := range entries {
		require.NoError(t, p.Grant(en))
	}
	return p, subjects
}

// The mock's /access/permissions agrees with an offline evaluation of the
// same ACL entries, read back through the client, for every subject and
// path.
func TestPermissionsAgreeWithOfflineEvaluator(t *testing.T) {
	e := newEnv(t)
	buildScenario(t, e)
	p, subjects := offlinePolicy(t, e)
	require.Len(t, subjects, 10, "root, its admin token, six users, three of dave's tokens")

	paths := []string{"/", "/vms", "/vms/100", "/vms/101", "/vms/200", "/vms/201", "/storage", "/storage/local",
		"/nodes", "/nodes/n1", "/sdn/zones/z1", "/sdn/zones/z1/vnet1", "/sdn/zones/z2/vnet1", "/access", "/pool/dev"}
	for _, id := range subjects {
		all, err := e.admin.Access.Permissions(ctx(t), &pve.PermissionsOptions{AuthID: id})
		require.NoError(t, err, id)
		want := p.Permissions(id)
		assert.Equal(t, len(want), len(all), "%s: same paths", id)
		for path, set := range want {
			assert.True(t, set.Equal(all[path]), "%s on %s: server %v, offline %v", id, path, all[path], set)
		}
		for _, path := range paths {
			one, err := e.admin.Access.Permissions(ctx(t), &pve.PermissionsOptions{AuthID: id, Path: path})
			require.NoError(t, err)
			require.Contains(t, one, path, "the path asked for is always there")
			assert.True(t, p.Privileges(id, path).Equal(one[path]), "%s on %s: server %v, offline %v", id, path, one[path], p.Privileges(id, path))
		}
	}

	// Spot checks against the spec's stated results.
	spot := func(id, path string) acl.PrivSet { return p.Privileges(aid(id), path) }
	roles := acl.BuiltinRoles(auth.PVE)
	assert.Equal(t, []string{"VM.Audit", "VM.Clone"}, spot("bob@pve", "/vms/100").Names(), "E2")
	assert.Equal(t, []string{"Pool.Audit"}, spot("bob@pve", "/vms/101").Names(), "E2")
	assert.Equal(t, roles["PVEAuditor"], spot("hank@pve", "/sdn/zones/z1/vnet1").Names(), "E3")
	assert.Empty(t, spot("carol@pve", "/vms/201"), "E4")
	assert.Equal(t, roles["PVEAdmin"], spot("carol@pve", "/storage/local").Names(), "E4")
	assert.Empty(t, spot("carol@pve", "/nodes/n1"), "E4")
	assert.Equal(t, roles["PVEVMUser"], spot("dave@pve!full", "/vms/100").Names(), "E5")
	assert.Empty(t, spot("dave@pve!none", "/vms/100"), "E5")
}

func TestPermissionsWhoMayAsk(t *testing.T) {
	e := newEnv(t, withPasswords()...)
	e.mkUser("alice@pve", &pve.UserOptions{Password: auth.NewSecret("alice-password")})
	e.mkUser("bob@pve", nil)
	e.grant(pve.ACLChange{Path: "/vms", Roles: []string{"PVEVMUser"}, Users: []auth.Userid{uid("alice@pve")}})
	alice := e.login("alice@pve", "alice-password")
	tok, err := alice.Access.CreateToken(ctx(t), aid("alice@pve!t1"), nil)
	require.NoError(t, err)

	own, err := alice.Access.Permissions(ctx(t), nil)
	require.NoError(t, err, "anyone about itself")
	assert.True(t, own["/vms"].Has("VM.PowerMgmt"))
	assert.Equal(t, map[string]acl.PrivSet{"/vms": own["/vms"]}, own, "paths without privileges are left out")
	_, err = alice.Access.Permissions(ctx(t), &pve.PermissionsOptions{AuthID: tok.ID})
	assert.NoError(t, err, "a user about its own tokens")
	_, err = e.as(tok.Credentials()).Access.Permissions(ctx(t), nil)
	assert.NoError(t, err, "a token about itself")

	_, err = alice.Access.Permissions(ctx(t), &pve.PermissionsOptions{AuthID: aid("bob@pve")})
	pe := apiError(t, err)
	assert.Equal(t, http.StatusForbidden, pe.Status)
	assert.Equal(t, "Permission check failed (/access, Sys.Audit)", pe.Message)
	_, err = e.as(tok.Credentials()).Access.Permissions(ctx(t), &pve.PermissionsOptions{AuthID: aid("alice@pve")})
	assert.ErrorIs(t, err, pve.ErrForbidden, "a token about its user needs Sys.Audit")

	root, err := e.login("root@pam", rootPassword).Access.Permissions(ctx(t), &pve.PermissionsOptions{Path: "/anything"})
	require.NoError(t, err)
	assert.Len(t, root["/anything"], len(acl.AllPrivileges(auth.PVE)), "root@pam holds every privilege")
	assert.Equal(t, acl.AllPrivileges(auth.PVE), root["/anything"].Propagated())

	empty, err := alice.Access.Permissions(ctx(t), &pve.PermissionsOptions{Path: "/nodes"})
	require.NoError(t, err)
	assert.Equal(t, map[string]acl.PrivSet{"/nodes": {}}, empty, "with a path the set may be empty")
}
