package pbstest_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	srv, err := pbstest.Start(pbstest.WithStateDir(dir))
	require.NoError(t, err)
	call(t, srv, "POST", "/access/users", url.Values{"userid": {"kai@pbs"}, "comment": {"persisted"}, "password": {"kaipass"}})
	_, _, env := call(t, srv, "POST", "/access/users/kai@pbs/token/t", url.Values{"enable": {"0"}})
	secret := string(env["data"])
	call(t, srv, "PUT", "/access/users/kai@pbs/token/t", url.Values{"enable": {"1"}})
	call(t, srv, "PUT", "/access/acl", url.Values{"path": {"/datastore/store1"}, "role": {"DatastoreBackup"}, "auth-id": {"kai@pbs!t"}})
	oldAdmin := srv.AdminToken.Secret.Reveal()
	require.NoError(t, srv.Close())

	raw, err := os.ReadFile(filepath.Join(dir, pbstest.StateFile))
	require.NoError(t, err)
	info, err := os.Stat(filepath.Join(dir, pbstest.StateFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	assert.NotContains(t, string(raw), "kaipass", "passwords are stored hashed")
	assert.NotContains(t, string(raw), oldAdmin)
	for _, part := range strings.Split(secret, `"`) {
		if len(part) == 36 {
			assert.NotContains(t, string(raw), part, "token secrets are stored hashed")
		}
	}

	srv2 := pbstest.NewServer(t, pbstest.WithStateDir(dir), pbstest.WithRootPassword(auth.NewSecret("rootpw")))
	for user, pw := range map[string]string{"root@pam": "rootpw", "kai@pbs": "kaipass"} {
		login, err := srv2.Client().PostForm(srv2.URL+"/api2/json/access/ticket", url.Values{"username": {user}, "password": {pw}})
		require.NoError(t, err)
		login.Body.Close()
		assert.Equal(t, 200, login.StatusCode, "%s logs in after the restart", user)
	}
	_, _, env = call(t, srv2, "GET", "/access/users/kai@pbs", nil)
	assert.JSONEq(t, `{"userid":"kai@pbs","comment":"persisted"}`, string(env["data"]))
	_, _, env = call(t, srv2, "GET", "/access/acl", url.Values{"path": {"/datastore/store1"}})
	assert.Contains(t, string(env["data"]), `"ugid":"kai@pbs!t"`)

	// The token's secret from before the restart still works.
	var tokenSecret string
	for _, part := range strings.Split(secret, `"`) {
		if len(part) == 36 {
			tokenSecret = part
		}
	}
	require.NotEmpty(t, tokenSecret)
	status, _, _ := pbstest.RawRequest(t, srv2, "GET", "/api2/json/version", nil, "", "PBSAPIToken kai@pbs!t:"+tokenSecret)
	assert.Equal(t, 200, status)

	// The admin token has a new secret; the old one is refused.
	assert.NotEqual(t, oldAdmin, srv2.AdminToken.Secret.Reveal())
	status, _, _ = pbstest.RawRequest(t, srv2, "GET", "/api2/json/version", nil, "", "PBSAPIToken root@pam!admin:"+oldAdmin)
	assert.Equal(t, 401, status)
}

func TestBadStateFileFailsStart(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, pbstest.StateFile), []byte(`{"version":1,"acl":[{"path":"/","type":"user","ugid":"a@pbs","roleid":"Bogus"}]}`), 0o600))
	_, err := pbstest.Start(pbstest.WithStateDir(dir))
	assert.Error(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, pbstest.StateFile), []byte(`{"version":9}`), 0o600))
	_, err = pbstest.Start(pbstest.WithStateDir(dir))
	assert.Error(t, err)
}
