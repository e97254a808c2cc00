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

func TestRolesBuiltin(t *testing.T) {
	e := newEnv(t)
	roles, err := e.admin.Access.ListRoles(ctx(t))
	require.NoError(t, err)
	builtin := acl.BuiltinRoles(auth.PVE)
	require.Len(t, roles, len(builtin))
	for _, r := range roles {
		assert.True(t, r.Special, r.ID)
		assert.Equal(t, builtin[r.ID], r.Privs, r.ID)
	}
	r, err := e.admin.Access.GetRole(ctx(t), "NoAccess")
	require.NoError(t, err)
	assert.Equal(t, pve.Role{ID: "NoAccess", Privs: []string{}, Special: true}, *r)
	r, err = e.admin.Access.GetRole(ctx(t), "PVEAuditor")
	require.NoError(t, err)
	assert.Equal(t, builtin["PVEAuditor"], r.Privs)
}

func TestCustomRoleLifecycle(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.admin.Access.CreateRole(ctx(t), "Backup", []string{"VM.Backup", "VM.Audit"}))
	r, err := e.admin.Access.GetRole(ctx(t), "Backup")
	require.NoError(t, err)
	assert.Equal(t, pve.Role{ID: "Backup", Privs: []string{"VM.Audit", "VM.Backup"}}, *r)

	require.NoError(t, e.admin.Access.UpdateRole(ctx(t), "Backup", pve.RoleUpdate{Privs: []string{"Datastore.AllocateSpace"}, Append: true}))
	r, err = e.admin.Access.GetRole(ctx(t), "Backup")
	require.NoError(t, err)
	assert.Equal(t, []string{"Datastore.AllocateSpace", "VM.Audit", "VM.Backup"}, r.Privs)

	require.NoError(t, e.admin.Access.UpdateRole(ctx(t), "Backup", pve.RoleUpdate{Privs: []string{"VM.Audit"}}))
	roles, err := e.admin.Access.ListRoles(ctx(t))
	require.NoError(t, err)
	var found *pve.Role
	for i := range roles {
		if roles[i].ID == "Backup" {
			found = &roles[i]
		}
	}
	require.NotNil(t, found)
	assert.Equal(t, pve.Role{ID: "Backup", Privs: []string{"VM.Audit"}}, *found, "replaced, not special")

	// Pitfall (spec 4.4): deleting a role drops the ACL rows naming it.
	e.mkUser("u@pve", nil)
	e.grant(pve.ACLChange{Path: "/vms", Roles: []string{"Backup"}, Users: []auth.Userid{uid("u@pve")}})
	require.NoError(t, e.admin.Access.DeleteRole(ctx(t), "Backup"))
	entries, err := e.admin.Access.ListACL(ctx(t))
	require.NoError(t, err)
	for _, en := range entries {
		assert.NotEqual(t, "Backup", en.Role)
	}
	_, err = e.admin.Access.GetRole(ctx(t), "Backup")
	assert.ErrorIs(t, err, pve.ErrNotFound)
	assert.ErrorIs(t, e.admin.Access.DeleteRole(ctx(t), "Backup"), pve.ErrNotFound)
}

func TestRoleErrors(t *testing.T) {
	e := newEnv(t)
	var pe *pve.Error
	err := e.admin.Access.CreateRole(ctx(t), "pveMine", nil)
	pe = apiError(t, err)
	assert.Equal(t, http.StatusBadRequest, pe.Status)
	assert.Equal(t, "cannot use role ID starting with the (case-insensitive) 'PVE' namespace", pe.Errors["roleid"])

	err = e.admin.Access.CreateRole(ctx(t), "Mine", []string{"VM.Fly"})
	pe = apiError(t, err)
	assert.Equal(t, http.StatusBadRequest, pe.Status)
	assert.Contains(t, pe.Errors["privs"], "invalid privilege 'VM.Fly'")

	err = e.admin.Access.CreateRole(ctx(t), "Administrator", nil)
	pe = apiError(t, err)
	assert.Equal(t, "create role failed: role 'Administrator' already exists", pe.Message)
	assert.ErrorIs(t, err, pve.ErrExists)

	err = e.admin.Access.UpdateRole(ctx(t), "PVEAdmin", pve.RoleUpdate{Privs: []string{"VM.Audit"}})
	pe = apiError(t, err)
	assert.Equal(t, http.StatusInternalServerError, pe.Status)
	assert.Equal(t, "auto-generated role 'PVEAdmin' cannot be modified", pe.Message)
	err = e.admin.Access.DeleteRole(ctx(t), "NoAccess")
	pe = apiError(t, err)
	assert.Equal(t, "auto-generated role 'NoAccess' cannot be deleted", pe.Message)
	err = e.admin.Access.UpdateRole(ctx(t), "Ghost", pve.RoleUpdate{Privs: []string{"VM.Audit"}})
	assert.ErrorIs(t, err, pve.ErrNotFound)

	// Role changes need Sys.Modify on /access.
	e.mkUser("u@pve", nil)
	e.grant(pve.ACLChange{Path: "/", Roles: []string{"PVEAuditor"}, Users: []auth.Userid{uid("u@pve")}})
	tok := e.mkToken("u@pve!t1", &pve.TokenOptions{Privsep: pve.Ptr(false)})
	err = e.as(tok.Credentials()).Access.CreateRole(ctx(t), "Mine", nil)
	pe = apiError(t, err)
	assert.Equal(t, "Permission check failed (/access, Sys.Modify)", pe.Message)
	_, err = e.as(tok.Credentials()).Access.ListRoles(ctx(t))
	assert.NoError(t, err, "anyone may list roles")
}
