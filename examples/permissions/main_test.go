package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/examples/internal/exampletest"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
	"github.com/proxkit/proxkit/pve"
	"github.com/proxkit/proxkit/pve/pvetest"
)

// backupToken sets up backup@pbs!client with DatastoreBackup on store1 for
// the token and, if user is set, for its user too.
func backupToken(t *testing.T, srv *pbstest.Server, user bool) *pbs.CreatedToken {
	t.Helper()
	ctx := t.Context()
	admin := exampletest.PBSClient(t, srv, srv.AdminToken)
	require.NoError(t, admin.Access.CreateUser(ctx, pbs.NewUser{ID: auth.MustParseUserid("backup@pbs")}))
	tok, err := admin.Access.CreateToken(ctx, auth.MustParseAuthid("backup@pbs!client"), pbs.TokenOptions{})
	require.NoError(t, err)
	require.NoError(t, admin.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/datastore/store1", Role: "DatastoreBackup", AuthID: tok.ID}))
	if user {
		require.NoError(t, admin.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/datastore/store1", Role: "DatastoreBackup", AuthID: tok.ID.User().Authid()}))
	}
	return tok
}

func TestPermissionsShowTheIntersection(t *testing.T) {
	srv := pbstest.NewServer(t)
	tok := backupToken(t, srv, false)
	env := exampletest.PBSEnv(t, srv)

	// The token's own entry alone gives nothing: its user has nothing.
	res := exampletest.RunApp(t, "permissions", run, env, nil, "--of", tok.ID.String(), "--path", "/datastore/store1")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "/datastore/store1  (none)\n", res.Stdout)

	srv2 := pbstest.NewServer(t)
	tok2 := backupToken(t, srv2, true)
	res = exampletest.RunApp(t, "permissions", run, exampletest.PBSEnvFor(t, srv2, tok2.Credentials()), nil, "--path", "/datastore/store1")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "/datastore/store1  Datastore.Backup\n", res.Stdout)

	res = exampletest.RunApp(t, "permissions", run, exampletest.PBSEnvFor(t, srv2, tok2.Credentials()), nil, "--path", "/datastore/store1", "--output-format", "json")
	require.Equal(t, 0, res.Code, res.Stderr)
	var got map[string]map[string]bool
	require.NoError(t, json.Unmarshal([]byte(res.Stdout), &got))
	assert.Equal(t, map[string]map[string]bool{"/datastore/store1": {"Datastore.Backup": true}}, got)
}

func TestPermissionsOfTheCaller(t *testing.T) {
	srv := pbstest.NewServer(t)
	res := exampletest.RunApp(t, "permissions", run, exampletest.PBSEnv(t, srv), nil)
	require.Equal(t, 0, res.Code, res.Stderr)
	// The admin token holds Admin on / through its own entry.
	assert.Regexp(t, `(?m)^/\s+.*Datastore\.Backup.*Sys\.Modify`, res.Stdout)

	res = exampletest.RunApp(t, "permissions", run, exampletest.PBSEnv(t, srv), nil, "--of", "nobody")
	assert.Equal(t, 2, res.Code)
	assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)
}

func TestOnlyHere(t *testing.T) {
	var w strings.Builder
	require.NoError(t, writeText(&w, map[string]acl.PrivSet{
		"/datastore": {"Datastore.Audit": false, "Datastore.Backup": true},
		"/":          {},
	}))
	assert.Equal(t, "/           (none)\n/datastore  Datastore.Audit Datastore.Backup  only here: Datastore.Audit\n", w.String())
}

func TestPermissionsOnPVE(t *testing.T) {
	srv := pvetest.NewServer(t)
	ctx := t.Context()
	admin := exampletest.PVEClient(t, srv, srv.AdminToken)
	require.NoError(t, admin.Access.CreateUser(ctx, auth.MustParseUserid("monitor@pve"), nil))
	tok, err := admin.Access.CreateToken(ctx, auth.MustParseAuthid("monitor@pve!ci"), nil)
	require.NoError(t, err)
	require.NoError(t, admin.Access.Grant(ctx, pve.ACLChange{Path: "/vms/100", Roles: []string{"PVEAuditor"}, Tokens: []auth.Authid{tok.ID}}))

	env := exampletest.PVEEnv(srv)
	res := exampletest.RunApp(t, "permissions", run, env, nil, "--of", "monitor@pve!ci", "--path", "/vms/100")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "/vms/100  (none)\n", res.Stdout, "the user has nothing, so the separated token has nothing")

	require.NoError(t, admin.Access.Grant(ctx, pve.ACLChange{Path: "/vms/100", Roles: []string{"PVEAuditor"}, Users: []auth.Userid{tok.ID.User()}}))
	res = exampletest.RunApp(t, "permissions", run, exampletest.PVEEnvFor(srv, tok.ID, tok.Secret), nil, "--path", "/vms/100")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Regexp(t, `^/vms/100  .*VM\.Audit`, res.Stdout)
	assert.NotContains(t, res.Stdout, "only here")
}
