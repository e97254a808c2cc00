package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/examples/internal/exampletest"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
	"github.com/proxkit/proxkit/pve"
	"github.com/proxkit/proxkit/pve/pvetest"
)

func TestGrantsAndRevokesOnPBS(t *testing.T) {
	srv := pbstest.NewServer(t)
	ctx := t.Context()
	admin := exampletest.PBSClient(t, srv, srv.AdminToken)
	user := auth.MustParseUserid("backup@pbs")
	require.NoError(t, admin.Access.CreateUser(ctx, pbs.NewUser{ID: user}))
	tok, err := admin.Access.CreateToken(ctx, auth.MustParseAuthid("backup@pbs!client"), pbs.TokenOptions{})
	require.NoError(t, err)
	env := exampletest.PBSEnv(t, srv)

	res := exampletest.RunApp(t, "acl-grant", run, env, nil, "/datastore/store1", "DatastoreBackup", "backup@pbs!client", "backup@pbs")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "granted DatastoreBackup on /datastore/store1 to backup@pbs!client\n"+
		"granted DatastoreBackup on /datastore/store1 to backup@pbs\n", res.Stdout)

	res = exampletest.RunApp(t, "acl-grant", run, env, nil, "--no-propagate", "/datastore", "DatastoreAudit", "backup@pbs")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "granted DatastoreAudit on /datastore to backup@pbs (this path only)\n", res.Stdout)

	entries, _, err := admin.Access.ListACL(ctx, &pbs.ListACLOptions{Path: "/datastore"})
	require.NoError(t, err)
	got := map[string]bool{}
	for _, e := range entries {
		got[e.Path+" "+e.Role+" "+e.AuthID.String()] = e.Propagate
	}
	assert.Equal(t, map[string]bool{
		"/datastore/store1 DatastoreBackup backup@pbs!client": true,
		"/datastore/store1 DatastoreBackup backup@pbs":        true,
		"/datastore DatastoreAudit backup@pbs":                false,
	}, got)

	// The token can back up into store1 now: its own entry and its user's.
	c := exampletest.PBSClient(t, srv, tok.Credentials())
	perms, err := c.Access.GetPermissions(ctx, &pbs.PermissionsOptions{Path: "/datastore/store1"})
	require.NoError(t, err)
	assert.True(t, perms["/datastore/store1"].Has("Datastore.Backup"))

	res = exampletest.RunApp(t, "acl-grant", run, env, nil, "--revoke", "/datastore/store1", "DatastoreBackup", "backup@pbs!client")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "revoked DatastoreBackup on /datastore/store1 from backup@pbs!client\n", res.Stdout)
	perms, err = c.Access.GetPermissions(ctx, &pbs.PermissionsOptions{Path: "/datastore/store1"})
	require.NoError(t, err)
	assert.False(t, perms["/datastore/store1"].Has("Datastore.Backup"))
}

func TestGrantErrorsOnPBS(t *testing.T) {
	srv := pbstest.NewServer(t)
	env := exampletest.PBSEnv(t, srv)
	res := exampletest.RunApp(t, "acl-grant", run, env, nil, "/datastore/store1", "NoSuchRole", "root@pam")
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)
	assert.True(t, strings.HasPrefix(res.Stderr, "acl-grant: PBS PUT /access/acl: HTTP 400"), res.Stderr)

	res = exampletest.RunApp(t, "acl-grant", run, env, nil, "/datastore/store1", "DatastoreBackup", "@admins")
	assert.Equal(t, 2, res.Code, res.Stderr)
	res = exampletest.RunApp(t, "acl-grant", run, env, nil, "datastore", "DatastoreBackup", "root@pam")
	assert.Equal(t, 2, res.Code, res.Stderr)
	res = exampletest.RunApp(t, "acl-grant", run, env, nil, "/", "Admin")
	assert.Equal(t, 2, res.Code, res.Stderr)
}

func TestGrantsOnPVEIncludingGroups(t *testing.T) {
	srv := pvetest.NewServer(t)
	ctx := t.Context()
	admin := exampletest.PVEClient(t, srv, srv.AdminToken)
	user := auth.MustParseUserid("monitor@pve")
	require.NoError(t, admin.Access.CreateUser(ctx, user, nil))
	require.NoError(t, admin.Access.CreateGroup(ctx, "ops", ""))
	tok, err := admin.Access.CreateToken(ctx, auth.MustParseAuthid("monitor@pve!ci"), nil)
	require.NoError(t, err)
	env := exampletest.PVEEnv(srv)

	res := exampletest.RunApp(t, "acl-grant", run, env, nil, "/vms/100", "PVEAuditor", "monitor@pve!ci", "monitor@pve", "@ops")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "granted PVEAuditor on /vms/100 to monitor@pve!ci\n"+
		"granted PVEAuditor on /vms/100 to monitor@pve\n"+
		"granted PVEAuditor on /vms/100 to group ops\n", res.Stdout)

	entries, err := admin.Access.ListACL(ctx)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		if e.Path == "/vms/100" {
			got = append(got, e.Subject+" "+e.Role)
		}
	}
	assert.ElementsMatch(t, []string{"monitor@pve!ci PVEAuditor", "monitor@pve PVEAuditor", "ops PVEAuditor"}, got)

	c := exampletest.PVEClient(t, srv, tok.Credentials())
	perms, err := c.Access.Permissions(ctx, &pve.PermissionsOptions{Path: "/vms/100"})
	require.NoError(t, err)
	assert.True(t, perms["/vms/100"].Has("VM.Audit"))

	res = exampletest.RunApp(t, "acl-grant", run, env, nil, "--revoke", "/vms/100", "PVEAuditor", "monitor@pve")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "revoked PVEAuditor on /vms/100 from monitor@pve\n", res.Stdout)
	perms, err = c.Access.Permissions(ctx, &pve.PermissionsOptions{Path: "/vms/100"})
	require.NoError(t, err)
	assert.False(t, perms["/vms/100"].Has("VM.Audit"), "the separated token lost it with its user")

	// Without the right to modify permissions: 403, one line.
	res = exampletest.RunApp(t, "acl-grant", run, exampletest.PVEEnvFor(srv, tok.ID, tok.Secret), nil, "/vms/100", "PVEAdmin", "monitor@pve!ci")
	assert.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, "403")
	assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)
}
