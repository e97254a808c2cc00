package pbs_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/pbs"
)

func TestListRolesHasNamesNotMasks(t *testing.T) {
	_, admin := adminSetup(t)
	roles, err := admin.Access.ListRoles(ctxT(t))
	require.NoError(t, err)
	byName := map[string]pbs.Role{}
	for _, r := range roles {
		byName[r.ID] = r
	}
	assert.Len(t, byName, len(acl.BuiltinRoles(auth.PBS)))
	assert.Equal(t, acl.AllPrivileges(auth.PBS), byName["Admin"].Privileges, "Admin lists every privilege")
	assert.Empty(t, byName["NoAccess"].Privileges)
	assert.Equal(t, []string{"Datastore.Backup"}, byName["DatastoreBackup"].Privileges)
	assert.Equal(t, pbs.Role{ID: "DatastoreReader", Privileges: []string{"Datastore.Audit", "Datastore.Read", "Datastore.Verify"},
		Comment: "Datastore Reader (inspect datastore content and do restores)"}, byName["DatastoreReader"])
	assert.Contains(t, byName, "RemoteSyncPushOperator", "PBS 3.3 role")
}

// Spec E9: a token is capped by its owner; flags are ANDed.
func TestPermissionsTokenCappedByOwner(t *testing.T) {
	srv, admin := adminSetup(t)
	ctx := ctxT(t)
	mkUser(t, admin, "alice@pbs")
	tok := mkToken(t, admin, "alice@pbs!backup", pbs.TokenOptions{})
	grant(t, admin, "/datastore", "alice@pbs", "DatastoreAdmin", true)
	grant(t, admin, "/datastore/store1", "alice@pbs!backup", "DatastoreBackup", false)
	grant(t, admin, "/datastore/store1", "alice@pbs!backup", "DatastoreReader", true)
	grant(t, admin, "/", "alice@pbs!backup", "Admin", true)

	get := func(c *pbs.Client, id, path string) acl.PrivSet {
		t.Helper()
		opts := &pbs.PermissionsOptions{Path: path}
		if id != "" {
			opts.AuthID = auth.MustParseAuthid(id)
		}
		p, err := c.Access.GetPermissions(ctx, opts)
		require.NoError(t, err)
		return p[path]
	}
	self := connect(t, srv, tok)
	assert.Equal(t, acl.PrivSet{"Datastore.Audit": true, "Datastore.Read": true, "Datastore.Verify": true, "Datastore.Backup": false},
		get(self, "", "/datastore/store1"))
	assert.Equal(t, acl.PrivSet{"Datastore.Audit": true, "Datastore.Read": true, "Datastore.Verify": true},
		get(self, "", "/datastore/store1/ns1"), "Backup was not propagated")
	assert.Equal(t, acl.PrivSet{"Datastore.Audit": true, "Datastore.Modify": true, "Datastore.Read": true,
		"Datastore.Verify": true, "Datastore.Backup": true, "Datastore.Prune": true},
		get(admin, "alice@pbs!backup", "/datastore/store2"), "Admin ∩ DatastoreAdmin")
	p, err := self.Access.GetPermissions(ctx, &pbs.PermissionsOptions{Path: "/system"})
	require.NoError(t, err)
	assert.Empty(t, p, "a path without privileges is left out")
}

// Spec E10: NoAccess with a non-propagating grant below it; a deeper
// level replaces, it does not add.
func TestPermissionsReplacementAndNoAccess(t *testing.T) {
	_, admin := adminSetup(t)
	mkUser(t, admin, "alice@pbs")
	grant(t, admin, "/remote", "alice@pbs", "NoAccess", true)
	grant(t, admin, "/remote/r1", "alice@pbs", "RemoteSyncOperator", false)
	grant(t, admin, "/datastore", "alice@pbs", "DatastoreAdmin", true)
	grant(t, admin, "/datastore/store1", "alice@pbs", "DatastoreAudit", true)

	perms, err := admin.Access.GetPermissions(ctxT(t), &pbs.PermissionsOptions{AuthID: auth.MustParseAuthid("alice@pbs")})
	require.NoError(t, err)
	assert.Equal(t, acl.PrivSet{"Remote.Audit": false, "Remote.Read": false}, perms["/remote/r1"])
	assert.NotContains(t, perms, "/remote", "NoAccess holds nothing")
	assert.Equal(t, acl.PrivSet{"Datastore.Audit": true}, perms["/datastore/store1"],
		"the deeper entry replaces DatastoreAdmin, it does not add to it")
	assert.Len(t, perms["/datastore"], 6)
}

// The server's /access/permissions and an offline evaluation of the ACL
// read back through the client agree on every path and subject.
func TestPermissionsAgreeWithOfflineEvaluation(t *testing.T) {
	srv, admin := adminSetup(t)
	ctx := ctxT(t)
	for _, u := range []string{"alice@pbs", "bob@pbs", "carol@pbs"} {
		mkUser(t, admin, u)
	}
	for _, tk := range []string{"alice@pbs!a", "alice@pbs!b", "bob@pbs!x", "carol@pbs!none"} {
		mkToken(t, admin, tk, pbs.TokenOptions{})
	}
	for _, g := range []struct {
		path, id, role string
		prop           bool
	}{
		{"/", "alice@pbs", "Audit", true},
		{"/datastore", "alice@pbs", "DatastoreAdmin", true},
		{"/datastore/store1", "alice@pbs", "DatastoreReader", false},
		{"/datastore/store1/ns1", "alice@pbs", "NoAccess", true},
		{"/datastore/store1/ns1/deep", "alice@pbs", "DatastoreBackup", false},
		{"/datastore", "alice@pbs!a", "Admin", true},
		{"/datastore/store1", "alice@pbs!a", "DatastoreBackup", false},
		{"/system", "alice@pbs!b", "Audit", true},
		{"/remote", "bob@pbs", "RemoteAdmin", true},
		{"/remote/r1", "bob@pbs", "NoAccess", false},
		{"/remote", "bob@pbs!x", "RemoteAudit", false},
		{"/tape", "carol@pbs", "TapeOperator", true},
		{"/access/users", "carol@pbs", "Audit", true},
	} {
		grant(t, admin, g.path, g.id, g.role, g.prop)
	}

	entries, _, err := admin.Access.ListACL(ctx, nil)
	require.NoError(t, err)
	offline := acl.NewPolicy(auth.PBS)
	for _, e := range entries {
		require.NoError(t, offline.Grant(e.Entry()))
	}

	subjects := []string{"root@pam", "alice@pbs", "bob@pbs", "carol@pbs", "alice@pbs!a", "alice@pbs!b",
		"bob@pbs!x", "carol@pbs!none", srv.AdminToken.ID.String()}
	paths := []string{"/", "/access", "/access/users", "/datastore", "/datastore/store1", "/datastore/store1/ns1",
		"/datastore/store1/ns1/deep", "/datastore/store1/ns1/deep/deeper", "/datastore/store2", "/remote", "/remote/r1",
		"/remote/r1/s", "/system", "/system/network", "/tape", "/tape/drive"}
	for _, s := range subjects {
		id := auth.MustParseAuthid(s)
		all, err := admin.Access.GetPermissions(ctx, &pbs.PermissionsOptions{AuthID: id})
		require.NoError(t, err)
		want := pbs.Permissions{}
		for path, privs := range offline.Permissions(id) {
			want[path] = privs
		}
		assert.Equal(t, want, all, "all paths of %s", s)
		for _, path := range paths {
			got, err := admin.Access.GetPermissions(ctx, &pbs.PermissionsOptions{AuthID: id, Path: path})
			require.NoError(t, err)
			expect := offline.Privileges(id, path)
			if len(expect) == 0 {
				assert.Empty(t, got, "%s on %s", s, path)
				continue
			}
			assert.Equal(t, expect, got[path], "%s on %s", s, path)
		}
	}
}

func TestPermissionsOfOthersNeedSysAudit(t *testing.T) {
	srv, admin := adminSetup(t)
	ctx := ctxT(t)
	mkUser(t, admin, "gus@pbs")
	mkUser(t, admin, "hal@pbs")
	gusTok := mkToken(t, admin, "gus@pbs!t", pbs.TokenOptions{})
	mkToken(t, admin, "gus@pbs!u", pbs.TokenOptions{})
	c := connect(t, srv, gusTok)

	_, err := c.Access.GetPermissions(ctx, &pbs.PermissionsOptions{AuthID: gusTok.ID})
	require.NoError(t, err, "anyone may ask about itself")
	_, err = c.Access.GetPermissions(ctx, &pbs.PermissionsOptions{AuthID: auth.MustParseAuthid("gus@pbs!u")})
	pe := apiError(t, err)
	assert.Equal(t, 400, pe.Status)
	assert.Equal(t, "not allowed to list permissions of gus@pbs!u", pe.Message, "a token may ask only about itself")
	_, err = c.Access.GetPermissions(ctx, &pbs.PermissionsOptions{AuthID: auth.MustParseAuthid("hal@pbs")})
	assert.Error(t, err)
}
