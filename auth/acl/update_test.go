package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

func pveUpdatePolicy(t *testing.T) *Policy {
	return policyFromConfig(t, auth.PVE, `
token:alice@pve!t::1:
group:ops:bob@pve:
acl:1:/vms:alice@pve:PVEVMAdmin:
acl:0:/vms/100:carol@pve:PVEVMAdmin:
acl:1:/:admin@pve:Administrator:
acl:1:/access:auditor@pve:PVEAuditor:
acl:1:/vms:alice@pve!t:PVEVMUser:
`)
}

var pveUsers = map[string]bool{"alice@pve": true, "bob@pve": true, "carol@pve": true, "admin@pve": true, "auditor@pve": true}

func pveUserExists(u auth.Userid) bool { return pveUsers[u.String()] }

func TestUpdatePVEACL(t *testing.T) {
	cases := []struct {
		name    string
		caller  string
		req     PVEACLUpdate
		kind    UpdateErrorKind // 0: success
		params  []string
		message string
		is      error
	}{
		{name: "VM.Allocate delegates a subset below /vms", caller: "alice@pve",
			req: PVEACLUpdate{Path: "/vms/100", Roles: []string{"PVEVMUser"}, Users: []string{"bob@pve"}, Propagate: true}},
		{name: "not a superset", caller: "alice@pve",
			req:  PVEACLUpdate{Path: "/vms/100", Roles: []string{"PVEAdmin"}, Users: []string{"bob@pve"}, Propagate: true},
			kind: UpdateFailed, params: []string{"role"}, is: ErrPermission,
			message: "Cannot add role 'PVEAdmin' - requires 'Permissions.Modify' or superset of privileges."},
		{name: "NoAccess needs Permissions.Modify", caller: "alice@pve",
			req:  PVEACLUpdate{Path: "/vms/100", Roles: []string{"NoAccess"}, Users: []string{"bob@pve"}, Propagate: true},
			kind: UpdateFailed, params: []string{"role"}, is: ErrPermission,
			message: "Cannot add role 'NoAccess' - requires 'Permissions.Modify'"},
		{name: "removing NoAccess needs it too", caller: "alice@pve",
			req:  PVEACLUpdate{Path: "/vms/100", Roles: []string{"NoAccess"}, Users: []string{"bob@pve"}, Delete: true},
			kind: UpdateFailed, is: ErrPermission, params: []string{"role"},
			message: "Cannot remove role 'NoAccess' - requires 'Permissions.Modify'"},
		{name: "perm-modify elsewhere", caller: "alice@pve",
			req:  PVEACLUpdate{Path: "/nodes", Roles: []string{"PVEAuditor"}, Users: []string{"bob@pve"}},
			kind: UpdateForbidden, is: ErrPermission, message: "/nodes, Permissions.Modify"},
		{name: "VM.Allocate counts only below /vms", caller: "alice@pve",
			req:  PVEACLUpdate{Path: "/vms", Roles: []string{"PVEVMUser"}, Users: []string{"bob@pve"}},
			kind: UpdateForbidden, is: ErrPermission, message: "/vms, Permissions.Modify"},
		{name: "perm-modify message names the alternative", caller: "bob@pve",
			req:  PVEACLUpdate{Path: "/storage/local", Roles: []string{"PVEAuditor"}, Users: []string{"bob@pve"}},
			kind: UpdateForbidden, is: ErrPermission, message: "/storage/local, Permissions.Modify|Datastore.Allocate"},
		{name: "a token cannot exceed its capped set", caller: "alice@pve!t",
			req:  PVEACLUpdate{Path: "/vms/100", Roles: []string{"PVEVMUser"}, Users: []string{"bob@pve"}},
			kind: UpdateForbidden, is: ErrPermission, message: "/vms/100, Permissions.Modify|VM.Allocate"},
		{name: "unpropagated privileges cannot be handed out propagating", caller: "carol@pve",
			req:  PVEACLUpdate{Path: "/vms/100", Roles: []string{"PVEVMUser"}, Users: []string{"bob@pve"}, Propagate: true},
			kind: UpdateFailed, is: ErrPermission, params: []string{"role"},
			message: "Cannot add role 'PVEVMUser' with propagation - requires 'Permissions.Modify' or propagated superset of privileges."},
		{name: "but without propagation", caller: "carol@pve",
			req: PVEACLUpdate{Path: "/vms/100", Roles: []string{"PVEVMUser"}, Users: []string{"bob@pve"}}},
		{name: "and removed regardless of the flag", caller: "carol@pve",
			req: PVEACLUpdate{Path: "/vms/100", Roles: []string{"PVEVMUser"}, Users: []string{"bob@pve"}, Propagate: true, Delete: true}},
		{name: "no subjects", caller: "admin@pve",
			req:  PVEACLUpdate{Path: "/", Roles: []string{"PVEAuditor"}},
			kind: UpdateInvalid, is: ErrInvalidSubject, params: []string{"users", "groups", "tokens"},
			message: "either 'users', 'groups' or 'tokens' is required."},
		{name: "no roles", caller: "admin@pve",
			req:  PVEACLUpdate{Path: "/", Users: []string{"bob@pve"}},
			kind: UpdateInvalid, is: ErrUnknownRole, params: []string{"roles"}, message: "property is missing and it is not optional"},
		{name: "path that does not normalize", caller: "admin@pve",
			req:  PVEACLUpdate{Path: "/vms/1 0", Roles: []string{"PVEAuditor"}, Users: []string{"bob@pve"}},
			kind: UpdateInvalid, is: ErrInvalidPath, params: []string{"path"}, message: "invalid ACL path '/vms/1 0'"},
		{name: "unknown object kind when adding", caller: "admin@pve",
			req:  PVEACLUpdate{Path: "/vms/abc", Roles: []string{"PVEAuditor"}, Users: []string{"bob@pve"}},
			kind: UpdateInvalid, is: ErrInvalidPath, params: []string{"path"}, message: "invalid ACL path '/vms/abc'"},
		{name: "but fine when deleting", caller: "admin@pve",
			req: PVEACLUpdate{Path: "/vms/abc", Roles: []string{"PVEAuditor"}, Users: []string{"bob@pve"}, Delete: true}},
		{name: "unknown role", caller: "admin@pve",
			req:  PVEACLUpdate{Path: "/", Roles: []string{"Nope"}, Users: []string{"bob@pve"}},
			kind: UpdateFailed, is: ErrUnknownRole, message: "role 'Nope' does not exist"},
		{name: "unknown user, also when deleting", caller: "admin@pve",
			req:  PVEACLUpdate{Path: "/", Roles: []string{"PVEAuditor"}, Users: []string{"zed@pve"}, Delete: true},
			kind: UpdateFailed, is: ErrUnknownUser, message: "user 'zed@pve' does not exist"},
		{name: "unknown group", caller: "admin@pve",
			req:  PVEACLUpdate{Path: "/", Roles: []string{"PVEAuditor"}, Groups: []string{"dev"}},
			kind: UpdateFailed, is: ErrUnknownGroup, message: "group 'dev' does not exist"},
		{name: "unknown token", caller: "admin@pve",
			req:  PVEACLUpdate{Path: "/", Roles: []string{"PVEAuditor"}, Tokens: []string{"alice@pve!nope"}},
			kind: UpdateFailed, is: ErrUnknownToken, message: "no such token 'nope' for user 'alice@pve'"},
		{name: "token of an unknown user", caller: "admin@pve",
			req:  PVEACLUpdate{Path: "/", Roles: []string{"PVEAuditor"}, Tokens: []string{"zed@pve!t"}},
			kind: UpdateFailed, is: ErrUnknownUser, message: "no such user ('zed@pve')"},
		{name: "malformed user id", caller: "admin@pve",
			req:  PVEACLUpdate{Path: "/", Roles: []string{"PVEAuditor"}, Users: []string{"bob"}},
			kind: UpdateInvalid, is: ErrInvalidSubject, params: []string{"users"}, message: "value 'bob' does not look like a valid user ID"},
		{name: "user id in tokens", caller: "admin@pve",
			req:  PVEACLUpdate{Path: "/", Roles: []string{"PVEAuditor"}, Tokens: []string{"bob@pve"}},
			kind: UpdateInvalid, is: ErrInvalidSubject, params: []string{"tokens"}, message: "value 'bob@pve' does not look like a valid token ID"},
		{name: "malformed role id", caller: "admin@pve",
			req:  PVEACLUpdate{Path: "/", Roles: []string{"a b"}, Users: []string{"bob@pve"}},
			kind: UpdateInvalid, is: ErrUnknownRole, params: []string{"roles"}},
		{name: "root@pam needs nothing", caller: "root@pam",
			req: PVEACLUpdate{Path: "/", Roles: []string{"NoAccess"}, Groups: []string{"ops"}, Tokens: []string{"alice@pve!t"}, Propagate: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := pveUpdatePolicy(t)
			before := p.Entries()
			err := p.UpdatePVEACL(id(c.caller), c.req, pveUserExists)
			if c.kind == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var ue *UpdateError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, c.kind, ue.Kind)
			assert.Equal(t, c.params, ue.Params)
			if c.message != "" {
				assert.Equal(t, c.message, ue.Message)
			}
			assert.ErrorIs(t, err, c.is)
			assert.Equal(t, before, p.Entries(), "a refused update changes nothing")
		})
	}
}

func TestUpdatePVEACLAppliesEverySubjectAndRole(t *testing.T) {
	p := pveUpdatePolicy(t)
	req := PVEACLUpdate{Path: "vms/100/", Roles: []string{"PVEAuditor", "PVETemplateUser"}, Users: []string{"bob@pve", "root@pam"},
		Groups: []string{"ops"}, Tokens: []string{"alice@pve!t"}, Propagate: false}
	require.NoError(t, p.UpdatePVEACL(id("admin@pve"), req, pveUserExists))
	var got []Entry
	for _, e := range p.Entries() {
		if e.Path == "/vms/100" && e.Subject != "carol@pve" {
			got = append(got, e)
		}
	}
	assert.Len(t, got, 6, "2 roles x (bob, ops, token); root@pam is not stored")
	for _, e := range got {
		assert.False(t, e.Propagate)
	}
	req.Delete = true
	require.NoError(t, p.UpdatePVEACL(id("admin@pve"), req, pveUserExists))
	assert.Equal(t, pveUpdatePolicy(t).Entries(), p.Entries())
}

func TestUpdatePVEACLAtomicAcrossRoles(t *testing.T) {
	p := pveUpdatePolicy(t)
	before := p.Entries()
	err := p.UpdatePVEACL(id("admin@pve"), PVEACLUpdate{Path: "/", Roles: []string{"PVEAuditor", "Missing"}, Users: []string{"bob@pve"}}, pveUserExists)
	assert.ErrorIs(t, err, ErrUnknownRole)
	assert.Equal(t, before, p.Entries())
}

func TestCheckPVEACLModify(t *testing.T) {
	p := pveUpdatePolicy(t)
	assert.NoError(t, p.CheckPVEACLModify(id("alice@pve"), "/vms/100", []string{"PVEVMUser", "PVETemplateUser"}, true, false))
	assert.ErrorIs(t, p.CheckPVEACLModify(id("alice@pve"), "/vms/100", []string{"PVEVMUser", "Administrator"}, true, false), ErrPermission)
	assert.NoError(t, p.CheckPVEACLModify(id("admin@pve"), "/", []string{"NoAccess"}, true, false))
	assert.True(t, p.CanModifyACLAt(id("alice@pve"), "/vms/101"))
	assert.False(t, p.CanModifyACLAt(id("alice@pve"), "/vms"))
	assert.True(t, p.CanModifyACLAt(id("root@pam"), "/anything"))
	assert.False(t, p.CanModifyACLAt(id("root@pam!t"), "/"))
}

func TestListACLPVE(t *testing.T) {
	p := pveUpdatePolicy(t)
	assert.Equal(t, p.Entries(), p.ListACL(id("auditor@pve"), "", false), "Sys.Audit on /access shows everything")
	assert.Equal(t, p.Entries(), p.ListACL(id("root@pam"), "", false))
	var paths []string
	for _, e := range p.ListACL(id("alice@pve"), "", false) {
		paths = append(paths, e.Path+" "+e.Subject)
	}
	assert.Equal(t, []string{"/vms/100 carol@pve"}, paths, "only where perm-modify passes")
	assert.Empty(t, p.ListACL(id("bob@pve"), "", false))
}

func pbsUpdatePolicy(t *testing.T) *Policy {
	return policyFromConfig(t, auth.PBS, `
acl:1:/access/acl:aclmgr@pbs:Admin
acl:1:/access/acl:auditor@pbs:Audit
acl:1:/datastore:alice@pbs:DatastoreAdmin
acl:1:/datastore/s1:alice@pbs!t:DatastoreBackup
acl:1:/datastore/s1:bob@pbs!t:DatastoreReader
acl:1:/:@admins:Admin
`)
}

var pbsKnown = map[string]bool{"alice@pbs": true, "bob@pbs": true, "aclmgr@pbs": true, "auditor@pbs": true,
	"alice@pbs!t": true, "alice@pbs!u": true, "bob@pbs!t": true}

func pbsExists(a auth.Authid) bool { return pbsKnown[a.String()] }

func TestUpdatePBSACL(t *testing.T) {
	cases := []struct {
		name    string
		caller  string
		req     PBSACLUpdate
		kind    UpdateErrorKind
		message string
		is      error
	}{
		{name: "own token, any role", caller: "alice@pbs",
			req: PBSACLUpdate{Path: "/datastore/s1", Role: "Admin", AuthID: id("alice@pbs!u"), Propagate: true}},
		{name: "someone else's token", caller: "alice@pbs",
			req:  PBSACLUpdate{Path: "/datastore/s1", Role: "Admin", AuthID: id("bob@pbs!t")},
			kind: UpdateForbidden, is: ErrPermission, message: "Unprivileged users can only set ACL items for their own API tokens."},
		{name: "a user", caller: "alice@pbs",
			req:  PBSACLUpdate{Path: "/datastore/s1", Role: "Admin", AuthID: id("alice@pbs")},
			kind: UpdateForbidden, is: ErrPermission, message: "Unprivileged users can only set ACL items for API tokens."},
		{name: "token caller", caller: "alice@pbs!t",
			req:  PBSACLUpdate{Path: "/datastore/s1", Role: "Admin", AuthID: id("alice@pbs!u")},
			kind: UpdateForbidden, is: ErrPermission, message: "Unprivileged API tokens can't set ACL items."},
		{name: "no subject, unprivileged", caller: "alice@pbs",
			req:  PBSACLUpdate{Path: "/datastore/s1", Role: "Admin"},
			kind: UpdateForbidden, is: ErrPermission, message: "Unprivileged user needs to provide auth_id to update ACL item."},
		{name: "group, unprivileged", caller: "alice@pbs",
			req:  PBSACLUpdate{Path: "/datastore/s1", Role: "Admin", Group: "admins"},
			kind: UpdateForbidden, is: ErrPermission, message: "Unprivileged users are not allowed to create group ACL item."},
		{name: "group, privileged", caller: "aclmgr@pbs",
			req:  PBSACLUpdate{Path: "/datastore/s1", Role: "Admin", Group: "admins"},
			kind: UpdateFailed, is: ErrUnsupported, message: "parameter 'group' - groups are currently not supported."},
		{name: "no subject, privileged", caller: "aclmgr@pbs",
			req:  PBSACLUpdate{Path: "/datastore/s1", Role: "Admin"},
			kind: UpdateFailed, is: ErrInvalidSubject, message: "missing 'userid' or 'group' parameter."},
		{name: "unknown token", caller: "aclmgr@pbs",
			req:  PBSACLUpdate{Path: "/datastore/s1", Role: "Admin", AuthID: id("bob@pbs!nope")},
			kind: UpdateFailed, is: ErrUnknownToken, message: "no such API token."},
		{name: "unknown user", caller: "root@pam",
			req:  PBSACLUpdate{Path: "/datastore/s1", Role: "Admin", AuthID: id("zed@pbs")},
			kind: UpdateFailed, is: ErrUnknownUser, message: "no such user."},
		{name: "deleting for an unknown user is fine", caller: "aclmgr@pbs",
			req: PBSACLUpdate{Path: "/datastore/s1", Role: "Admin", AuthID: id("zed@pbs"), Delete: true}},
		{name: "unknown structure when adding", caller: "aclmgr@pbs",
			req:  PBSACLUpdate{Path: "/storage", Role: "Admin", AuthID: id("bob@pbs")},
			kind: UpdateFailed, is: ErrInvalidPath, message: "invalid acl path '/storage'."},
		{name: "fine when deleting", caller: "aclmgr@pbs",
			req: PBSACLUpdate{Path: "/storage", Role: "Admin", AuthID: id("bob@pbs"), Delete: true}},
		{name: "path syntax is a parameter error", caller: "aclmgr@pbs",
			req:  PBSACLUpdate{Path: "/datastore/", Role: "Admin", AuthID: id("bob@pbs"), Delete: true},
			kind: UpdateInvalid, is: ErrInvalidPath, message: "parameter verification failed - 'path': trailing '/' (PBS does not normalize ACL paths)"},
		{name: "unknown role", caller: "aclmgr@pbs",
			req:  PBSACLUpdate{Path: "/", Role: "Administrator", AuthID: id("bob@pbs")},
			kind: UpdateInvalid, is: ErrUnknownRole, message: "parameter verification failed - 'role': value 'Administrator' is not defined in the enumeration."},
		{name: "root@pam exists and is not stored", caller: "root@pam",
			req: PBSACLUpdate{Path: "/", Role: "NoAccess", AuthID: id("root@pam")}},
		{name: "Sys.Audit is not enough", caller: "auditor@pbs",
			req:  PBSACLUpdate{Path: "/", Role: "Admin", AuthID: id("bob@pbs")},
			kind: UpdateForbidden, is: ErrPermission, message: "Unprivileged users can only set ACL items for API tokens."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := pbsUpdatePolicy(t)
			before := p.Entries()
			err := p.UpdatePBSACL(id(c.caller), c.req, pbsExists)
			if c.kind == 0 {
				require.NoError(t, err)
				return
			}
			var ue *UpdateError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, c.kind, ue.Kind)
			assert.Equal(t, c.message, ue.Message)
			assert.ErrorIs(t, err, c.is)
			assert.Equal(t, before, p.Entries())
		})
	}
}

func TestUpdatePBSACLStorage(t *testing.T) {
	p := pbsUpdatePolicy(t)
	mgr := id("aclmgr@pbs")
	put := func(role string, del bool) {
		require.NoError(t, p.UpdatePBSACL(mgr, PBSACLUpdate{Path: "/datastore", Role: role, AuthID: id("bob@pbs"), Propagate: true, Delete: del}, pbsExists))
	}
	roles := func() string {
		var out []string
		for _, e := range p.ListACL(mgr, "/datastore", true) {
			if e.Subject == "bob@pbs" {
				out = append(out, e.Role)
			}
		}
		return joinedRoles(setOf(out))
	}
	put("Admin", false)
	put("Audit", false)
	assert.Equal(t, "Admin,Audit", roles())
	put("NoAccess", false)
	assert.Equal(t, "NoAccess", roles())
	put("Admin", false)
	assert.Equal(t, "Admin", roles())
	put("Admin", true)
	assert.Equal(t, "", roles())
}

func TestListACLPBS(t *testing.T) {
	p := pbsUpdatePolicy(t)
	all := p.Entries()
	assert.Equal(t, all, p.ListACL(id("auditor@pbs"), "", false), "Sys.Audit on /access/acl")
	assert.Equal(t, all, p.ListACL(id("root@pam"), "/", false))

	subjects := func(rows []Entry) []string {
		var out []string
		for _, e := range rows {
			out = append(out, e.Path+" "+e.Subject)
		}
		return out
	}
	assert.Equal(t, []string{"/datastore/s1 alice@pbs!t"}, subjects(p.ListACL(id("alice@pbs"), "", false)), "only the caller's tokens")
	assert.Empty(t, p.ListACL(id("alice@pbs!t"), "", false), "a token sees nothing")

	assert.Equal(t, []string{"/datastore alice@pbs", "/datastore/s1 alice@pbs!t", "/datastore/s1 bob@pbs!t"},
		subjects(p.ListACL(id("root@pam"), "/datastore", false)))
	assert.Equal(t, []string{"/datastore alice@pbs"}, subjects(p.ListACL(id("root@pam"), "/datastore", true)))
	assert.Empty(t, p.ListACL(id("root@pam"), "/access", true), "an intermediate node has no rows of its own")
	assert.Empty(t, p.ListACL(id("root@pam"), "/remote", false), "no such node")
	assert.Equal(t, []string{"/ admins"}, subjects(p.ListACL(id("root@pam"), "/", true)))
	for _, e := range p.ListACL(id("root@pam"), "/", true) {
		assert.Equal(t, Group, e.Type)
	}
}

func TestCanQueryPermissionsPBS(t *testing.T) {
	p := policyFromConfig(t, auth.PBS, "acl:1:/access:auditor@pbs:Audit")
	assert.NoError(t, p.CanQueryPermissions(id("alice@pbs"), id("alice@pbs")))
	assert.NoError(t, p.CanQueryPermissions(id("alice@pbs"), id("alice@pbs!t")))
	assert.NoError(t, p.CanQueryPermissions(id("alice@pbs!t"), id("alice@pbs!t")))
	assert.NoError(t, p.CanQueryPermissions(id("auditor@pbs"), id("bob@pbs")))
	assert.NoError(t, p.CanQueryPermissions(id("root@pam"), id("bob@pbs!x")))
	err := p.CanQueryPermissions(id("alice@pbs!t"), id("alice@pbs"))
	assert.EqualError(t, err, "not allowed to list permissions of alice@pbs")
	assert.ErrorIs(t, err, ErrPermission)
	assert.Error(t, p.CanQueryPermissions(id("alice@pbs!t"), id("alice@pbs!u")))
	assert.Error(t, p.CanQueryPermissions(id("bob@pbs"), id("alice@pbs!t")))
}
