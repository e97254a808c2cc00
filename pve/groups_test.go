package pve_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pve"
)

func TestGroupLifecycle(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.admin.Access.CreateGroup(ctx(t), "ops", "operators"))
	require.NoError(t, e.admin.Access.CreateGroup(ctx(t), "empty", ""))
	e.mkUser("b@pve", &pve.UserOptions{Groups: []string{"ops"}})
	e.mkUser("a@pve", &pve.UserOptions{Groups: []string{"ops"}})

	list, err := e.admin.Access.ListGroups(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, []pve.Group{
		{ID: "empty", Members: []auth.Userid{}},
		{ID: "ops", Comment: "operators", Members: []auth.Userid{uid("a@pve"), uid("b@pve")}},
	}, list, "members from the comma-joined users, sorted")

	got, err := e.admin.Access.GetGroup(ctx(t), "ops")
	require.NoError(t, err)
	assert.Equal(t, list[1], *got, "members from the array")

	require.NoError(t, e.admin.Access.UpdateGroup(ctx(t), "ops", "on call"))
	got, err = e.admin.Access.GetGroup(ctx(t), "ops")
	require.NoError(t, err)
	assert.Equal(t, "on call", got.Comment)

	err = e.admin.Access.CreateGroup(ctx(t), "ops", "")
	assert.ErrorIs(t, err, pve.ErrExists)

	e.grant(pve.ACLChange{Path: "/vms", Roles: []string{"PVEAuditor"}, Groups: []string{"ops"}})
	perms, err := e.admin.Access.Permissions(ctx(t), &pve.PermissionsOptions{AuthID: aid("a@pve"), Path: "/vms/100"})
	require.NoError(t, err)
	assert.True(t, perms["/vms/100"].Has("VM.Audit"), "group entries apply to members")

	require.NoError(t, e.admin.Access.DeleteGroup(ctx(t), "ops"))
	_, err = e.admin.Access.GetGroup(ctx(t), "ops")
	assert.ErrorIs(t, err, pve.ErrNotFound)
	pe := apiError(t, err)
	assert.Equal(t, "group 'ops' does not exist", pe.Message)
	entries, err := e.admin.Access.ListACL(ctx(t))
	require.NoError(t, err)
	for _, en := range entries {
		assert.NotEqual(t, "ops", en.Subject, "the group's ACL entries go with it")
	}
	u, err := e.admin.Access.GetUser(ctx(t), uid("a@pve"))
	require.NoError(t, err)
	assert.Equal(t, []string{}, u.Groups)

	assert.ErrorIs(t, e.admin.Access.DeleteGroup(ctx(t), "ops"), pve.ErrNotFound)
	assert.ErrorIs(t, e.admin.Access.UpdateGroup(ctx(t), "ops", ""), pve.ErrNotFound)
}

func TestGroupErrorsAndPermissions(t *testing.T) {
	e := newEnv(t, withPasswords()...)
	err := e.admin.Access.CreateGroup(ctx(t), "bad/name", "")
	pe := apiError(t, err)
	assert.Equal(t, http.StatusBadRequest, pe.Status)
	assert.Contains(t, pe.Errors["groupid"], "group name 'bad/name' contains invalid characters")

	e.mkUser("u@pve", &pve.UserOptions{Password: auth.NewSecret("u-password")})
	u := e.login("u@pve", "u-password")
	err = u.Access.CreateGroup(ctx(t), "mine", "")
	pe = apiError(t, err)
	assert.Equal(t, "Permission check failed (/access/groups, Group.Allocate)", pe.Message)
	_, err = u.Access.GetGroup(ctx(t), "mine")
	pe = apiError(t, err)
	assert.Equal(t, "Permission check failed (/access/groups, Sys.Audit|Group.Allocate)", pe.Message)

	require.NoError(t, e.admin.Access.CreateGroup(ctx(t), "seen", ""))
	require.NoError(t, e.admin.Access.CreateGroup(ctx(t), "hidden", ""))
	e.grant(pve.ACLChange{Path: "/access/groups/seen", Roles: []string{"PVEAuditor"}, Users: []auth.Userid{uid("u@pve")}})
	list, err := u.Access.ListGroups(ctx(t))
	require.NoError(t, err)
	require.Len(t, list, 1, "the list shows only groups with User.Modify, Sys.Audit or Group.Allocate")
	assert.Equal(t, "seen", list[0].ID)
}
