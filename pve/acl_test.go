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

// rowsOf returns the ACL entries other than the admin token's bootstrap
// entry.
func (e *env) rowsOf() []acl.Entry {
	e.t.Helper()
	entries, err := e.admin.Access.ListACL(ctx(e.t))
	require.NoError(e.t, err)
	var out []acl.Entry
	for _, en := range entries {
		if en.Subject != e.srv.AdminToken.ID.String() {
			out = append(out, en)
		}
	}
	return out
}

func TestACLGrantListRevoke(t *testing.T) {
	e := newEnv(t)
	e.mkUser("a@pve", nil)
	require.NoError(t, e.admin.Access.CreateGroup(ctx(t), "ops", ""))
	tok := e.mkToken("a@pve!ci", nil)

	e.grant(pve.ACLChange{
		Path: "/vms/100", Roles: []string{"PVEVMUser", "PVEAuditor"},
		Users: []auth.Userid{uid("a@pve")}, Groups: []string{"ops"}, Tokens: []auth.Authid{tok.ID},
		Propagate: pve.Ptr(false),
	})
	e.grant(pve.ACLChange{Path: "storage//local/", Roles: []string{"PVEDatastoreUser"}, Users: []auth.Userid{uid("a@pve")}})

	admin := acl.Entry{Path: "/", Type: acl.Token, Subject: e.srv.AdminToken.ID.String(), Role: "Administrator", Propagate: true}
	entries, err := e.admin.Access.ListACL(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, []acl.Entry{
		admin,
		{Path: "/storage/local", Type: acl.User, Subject: "a@pve", Role: "PVEDatastoreUser", Propagate: true},
		{Path: "/vms/100", Type: acl.User, Subject: "a@pve", Role: "PVEAuditor"},
		{Path: "/vms/100", Type: acl.User, Subject: "a@pve", Role: "PVEVMUser"},
		{Path: "/vms/100", Type: acl.Group, Subject: "ops", Role: "PVEAuditor"},
		{Path: "/vms/100", Type: acl.Group, Subject: "ops", Role: "PVEVMUser"},
		{Path: "/vms/100", Type: acl.Token, Subject: "a@pve!ci", Role: "PVEAuditor"},
		{Path: "/vms/100", Type: acl.Token, Subject: "a@pve!ci", Role: "PVEVMUser"},
	}, entries, "normalized paths in tree order; users, groups, tokens; the default propagate is 1")

	// Granting again only changes the flag.
	e.grant(pve.ACLChange{Path: "/storage/local", Roles: []string{"PVEDatastoreUser"}, Users: []auth.Userid{uid("a@pve")}, Propagate: pve.Ptr(false)})
	require.NoError(t, e.admin.Access.Revoke(ctx(t), pve.ACLChange{
		Path: "/vms/100", Roles: []string{"PVEVMUser"}, Users: []auth.Userid{uid("a@pve")}, Groups: []string{"ops"}, Tokens: []auth.Authid{tok.ID},
	}))
	require.NoError(t, e.admin.Access.Revoke(ctx(t), pve.ACLChange{
		Path: "/nodes", Roles: []string{"PVEVMUser"}, Users: []auth.Userid{uid("a@pve")},
	}), "revoking what does not exist is not an error")
	assert.Equal(t, []acl.Entry{
		{Path: "/storage/local", Type: acl.User, Subject: "a@pve", Role: "PVEDatastoreUser"},
		{Path: "/vms/100", Type: acl.User, Subject: "a@pve", Role: "PVEAuditor"},
		{Path: "/vms/100", Type: acl.Group, Subject: "ops", Role: "PVEAuditor"},
		{Path: "/vms/100", Type: acl.Token, Subject: "a@pve!ci", Role: "PVEAuditor"},
	}, e.rowsOf())
}

func TestACLErrors(t *testing.T) {
	e := newEnv(t)
	e.mkUser("a@pve", nil)
	var pe *pve.Error

	err := e.admin.Access.Grant(ctx(t), pve.ACLChange{Path: "/vms/99", Roles: []string{"PVEAuditor"}, Users: []auth.Userid{uid("a@pve")}})
	pe = apiError(t, err)
	assert.Equal(t, http.StatusBadRequest, pe.Status)
	assert.Equal(t, "invalid ACL path '/vms/99'", pe.Errors["path"], "VM ids start at 100")

	err = e.admin.Access.Grant(ctx(t), pve.ACLChange{Path: "/vms", Roles: []string{"Ghost"}, Users: []auth.Userid{uid("a@pve")}})
	pe = apiError(t, err)
	assert.Equal(t, http.StatusInternalServerError, pe.Status)
	assert.Equal(t, "ACL update failed: role 'Ghost' does not exist", pe.Message)
	assert.ErrorIs(t, err, pve.ErrNotFound)

	err = e.admin.Access.Grant(ctx(t), pve.ACLChange{Path: "/vms", Roles: []string{"PVEAuditor"}, Users: []auth.Userid{uid("ghost@pve")}})
	pe = apiError(t, err)
	assert.Equal(t, "ACL update failed: user 'ghost@pve' does not exist", pe.Message)
	err = e.admin.Access.Grant(ctx(t), pve.ACLChange{Path: "/vms", Roles: []string{"PVEAuditor"}, Tokens: []auth.Authid{aid("a@pve!ghost")}})
	pe = apiError(t, err)
	assert.Equal(t, "ACL update failed: no such token 'ghost' for user 'a@pve'", pe.Message)
	err = e.admin.Access.Grant(ctx(t), pve.ACLChange{Path: "/vms", Roles: []string{"PVEAuditor"}, Groups: []string{"ghosts"}})
	pe = apiError(t, err)
	assert.Equal(t, "ACL update failed: group 'ghosts' does not exist", pe.Message)

	err = e.admin.Put(ctx(t), "/access/acl", struct {
		Path  string `api:"path"`
		Roles string `api:"roles"`
	}{"/vms", "PVEAuditor"}, nil)
	pe = apiError(t, err)
	assert.Equal(t, map[string]string{
		"users": "either 'users', 'groups' or 'tokens' is required.", "groups": "either 'users', 'groups' or 'tokens' is required.",
		"tokens": "either 'users', 'groups' or 'tokens' is required.",
	}, pe.Errors)

	assert.ErrorIs(t, e.admin.Access.Grant(ctx(t), pve.ACLChange{Path: "/", Roles: []string{"PVEAuditor"}}), pve.ErrInvalidRequest)
	assert.ErrorIs(t, e.admin.Access.Grant(ctx(t), pve.ACLChange{Path: "/", Users: []auth.Userid{uid("a@pve")}}), pve.ErrInvalidRequest)
	assert.ErrorIs(t, e.admin.Access.Grant(ctx(t), pve.ACLChange{Path: "/", Roles: []string{"PVEAuditor"}, Tokens: []auth.Authid{aid("a@pve")}}),
		pve.ErrInvalidRequest, "a user id in Tokens")
	assert.Empty(t, e.rowsOf(), "nothing was stored")
}

// Pitfall (spec 4.4): entries for root@pam are accepted and not stored;
// entries for root@pam's tokens are.
func TestACLRootEntriesNotStored(t *testing.T) {
	e := newEnv(t)
	e.grant(pve.ACLChange{Path: "/", Roles: []string{"PVEAuditor"}, Users: []auth.Userid{auth.RootUserid}})
	assert.Empty(t, e.rowsOf(), "root@pam's entry is accepted and dropped")

	_, err := e.admin.Access.CreateToken(ctx(t), aid("root@pam!auto"), nil)
	require.NoError(t, err)
	e.grant(pve.ACLChange{Path: "/vms", Roles: []string{"PVEVMUser"}, Tokens: []auth.Authid{aid("root@pam!auto")}})
	assert.Equal(t, []acl.Entry{{Path: "/vms", Type: acl.Token, Subject: "root@pam!auto", Role: "PVEVMUser", Propagate: true}}, e.rowsOf())
}

// Pitfall: a deeper ACL level replaces what is inherited from above, it
// does not add to it; a non-propagating entry is invisible below its path
// (spec 6.6 E1).
func TestACLDeeperLevelReplacesAndNonPropagatingStaysPut(t *testing.T) {
	e := newEnv(t)
	alice := e.mkUser("alice@pve", nil)
	e.grant(pve.ACLChange{Path: "/vms", Roles: []string{"PVEVMUser"}, Users: []auth.Userid{alice}})
	e.grant(pve.ACLChange{Path: "/vms/100", Roles: []string{"PVEAuditor"}, Users: []auth.Userid{alice}})
	e.grant(pve.ACLChange{Path: "/storage", Roles: []string{"PVEDatastoreUser"}, Users: []auth.Userid{alice}, Propagate: pve.Ptr(false)})
	at := func(path string) acl.PrivSet {
		t.Helper()
		perms, err := e.admin.Access.Permissions(ctx(t), &pve.PermissionsOptions{AuthID: alice.Authid(), Path: path})
		require.NoError(t, err)
		return perms[path]
	}
	roles := acl.BuiltinRoles(auth.PVE)
	assert.ElementsMatch(t, roles["PVEVMUser"], at("/vms/101").Names())
	assert.ElementsMatch(t, roles["PVEAuditor"], at("/vms/100").Names(), "replaced, not added")
	assert.False(t, at("/vms/100").Has("VM.PowerMgmt"))
	assert.Equal(t, acl.PrivSet{"Datastore.AllocateSpace": false, "Datastore.Audit": false}, at("/storage"))
	assert.Empty(t, at("/storage/local"), "the non-propagating entry is invisible below /storage")
	assert.Empty(t, at("/"))
}

// Pitfall: a privilege-separated token gets the intersection of its own
// entries with its user's privileges; a token without privilege
// separation is its user and its own entries are ignored (spec 6.6 E5).
func TestACLTokenPrivsep(t *testing.T) {
	e := newEnv(t)
	dave := e.mkUser("dave@pve", nil)
	sep := e.mkToken("dave@pve!sep", nil)
	full := e.mkToken("dave@pve!full", &pve.TokenOptions{Privsep: pve.Ptr(false)})
	none := e.mkToken("dave@pve!none", nil)

	// The separated token alone: its user holds nothing, so it gets nothing.
	e.grant(pve.ACLChange{Path: "/vms", Roles: []string{"PVEAuditor"}, Tokens: []auth.Authid{sep.ID}})
	_, err := e.as(sep.Credentials()).Access.ListACL(ctx(t))
	require.NoError(t, err)
	can := func(tok *pve.CreatedToken, path, priv string) bool {
		t.Helper()
		perms, err := e.as(tok.Credentials()).Access.Permissions(ctx(t), &pve.PermissionsOptions{Path: path})
		require.NoError(t, err)
		return perms[path].Has(priv)
	}
	assert.False(t, can(sep, "/vms/100", "VM.Audit"), "a separated token never exceeds its user")

	e.grant(pve.ACLChange{Path: "/vms", Roles: []string{"PVEVMUser"}, Users: []auth.Userid{dave}})
	e.grant(pve.ACLChange{Path: "/", Roles: []string{"Administrator"}, Tokens: []auth.Authid{sep.ID}})
	e.grant(pve.ACLChange{Path: "/", Roles: []string{"PVEAuditor"}, Tokens: []auth.Authid{full.ID}})

	assert.True(t, can(sep, "/vms/100", "VM.Audit"), "intersection: the deeper token entry and the user's")
	assert.False(t, can(sep, "/vms/100", "VM.PowerMgmt"), "PVEAuditor on /vms replaced Administrator from /")
	assert.False(t, can(sep, "/nodes/n1", "Sys.Audit"), "the user has nothing on /nodes")
	assert.True(t, can(full, "/vms/100", "VM.PowerMgmt"), "privsep=0: exactly the user's privileges")
	assert.False(t, can(full, "/nodes/n1", "Sys.Audit"), "privsep=0 ignores the token's own PVEAuditor on /")
	assert.False(t, can(none, "/vms/100", "VM.Audit"), "a separated token without entries holds nothing")

	// Switching privsep on makes the token's own entries count.
	_, err = e.admin.Access.UpdateToken(ctx(t), full.ID, pve.TokenUpdate{Privsep: pve.Ptr(true)})
	require.NoError(t, err)
	assert.True(t, can(full, "/vms/100", "VM.Audit"))
	assert.False(t, can(full, "/vms/100", "VM.PowerMgmt"), "now capped by its PVEAuditor entry")
}

// A caller without Permissions.Modify may hand out on /vms/{id} what it
// holds there itself (VM.Allocate passes the perm-modify test), never
// NoAccess, and propagated only what it holds propagated.
func TestACLDelegation(t *testing.T) {
	e := newEnv(t)
	vmadmin := e.mkUser("vmadmin@pve", nil)
	e.mkUser("helper@pve", nil)
	e.grant(pve.ACLChange{Path: "/vms/100", Roles: []string{"PVEVMAdmin"}, Users: []auth.Userid{vmadmin}, Propagate: pve.Ptr(false)})
	tok := e.mkToken("vmadmin@pve!t1", &pve.TokenOptions{Privsep: pve.Ptr(false)})
	c := e.as(tok.Credentials())
	helper := []auth.Userid{uid("helper@pve")}

	require.NoError(t, c.Access.Grant(ctx(t), pve.ACLChange{Path: "/vms/100", Roles: []string{"PVEVMUser"}, Users: helper, Propagate: pve.Ptr(false)}))
	var pe *pve.Error
	err := c.Access.Grant(ctx(t), pve.ACLChange{Path: "/vms/100", Roles: []string{"PVEVMUser"}, Users: helper})
	pe = apiError(t, err)
	assert.Equal(t, http.StatusInternalServerError, pe.Status)
	assert.Contains(t, pe.Message, "Cannot add role 'PVEVMUser' with propagation")
	err = c.Access.Grant(ctx(t), pve.ACLChange{Path: "/vms/100", Roles: []string{"NoAccess"}, Users: helper, Propagate: pve.Ptr(false)})
	pe = apiError(t, err)
	assert.Contains(t, pe.Message, "Cannot add role 'NoAccess' - requires 'Permissions.Modify'")
	err = c.Access.Grant(ctx(t), pve.ACLChange{Path: "/vms/101", Roles: []string{"PVEVMUser"}, Users: helper})
	pe = apiError(t, err)
	assert.Equal(t, http.StatusForbidden, pe.Status)
	assert.Equal(t, "Permission check failed (/vms/101, Permissions.Modify|VM.Allocate)", pe.Message)

	entries, err := c.Access.ListACL(ctx(t))
	require.NoError(t, err)
	for _, en := range entries {
		assert.Equal(t, "/vms/100", en.Path, "without Sys.Audit on /access only rows where the caller may change permissions")
	}
	assert.Len(t, entries, 2)
}
