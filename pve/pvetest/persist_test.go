package pvetest_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pve/pvetest"
)

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	first, err := pvetest.Start(pvetest.WithStateDir(dir))
	require.NoError(t, err)
	admin := authz(first.AdminToken)
	for _, step := range []struct {
		method, path string
		form         url.Values
	}{
		{"POST", "/access/groups", url.Values{"groupid": {"ops"}, "comment": {"operators"}}},
		{"POST", "/access/users", url.Values{"userid": {"alice@pve"}, "groups": {"ops"}, "password": {"alice-password"}, "comment": {"lead"}}},
		{"POST", "/access/roles", url.Values{"roleid": {"Backup"}, "privs": {"VM.Backup,VM.Audit"}}},
		{"PUT", "/access/acl", url.Values{"path": {"/vms"}, "roles": {"Backup"}, "users": {"alice@pve"}}},
	} {
		r := do(t, first, step.method, step.path, step.form, admin)
		require.Equal(t, http.StatusOK, r.status, "%s %s: %s", step.method, step.path, r.line)
	}
	r := do(t, first, "POST", "/access/users/alice@pve/token/ci", url.Values{"privsep": {"0"}, "expire": {"4000000000"}}, admin)
	require.Equal(t, http.StatusOK, r.status)
	data := r.json(t)["data"].(map[string]any)
	tok := auth.Token{ID: auth.MustParseAuthid(data["full-tokenid"].(string)), Secret: auth.NewSecret(data["value"].(string))}
	r = do(t, first, "PUT", "/access/acl", url.Values{"path": {"/"}, "roles": {"PVEAuditor"}, "tokens": {tok.ID.String()}}, admin)
	require.Equal(t, http.StatusOK, r.status)
	before := do(t, first, "GET", "/access/acl", nil, admin).body
	users := do(t, first, "GET", "/access/users?full=1", nil, admin).body
	require.NoError(t, first.Close())

	file := filepath.Join(dir, pvetest.StateFile)
	st, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the state file is private")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	for _, secret := range []string{tok.Secret.Reveal(), first.AdminToken.Secret.Reveal(), "alice-password"} {
		assert.NotContains(t, string(raw), secret, "secrets are stored hashed")
	}

	second, err := pvetest.Start(pvetest.WithStateDir(dir))
	require.NoError(t, err)
	defer second.Close()
	assert.Equal(t, first.AdminToken.ID, second.AdminToken.ID)
	assert.False(t, second.AdminToken.Secret.Equal(first.AdminToken.Secret), "the admin secret is re-issued")
	assert.Equal(t, "401 Authentication failed!", do(t, second, "GET", "/version", nil, authz(first.AdminToken)).line)
	admin = authz(second.AdminToken)
	assert.Equal(t, before, do(t, second, "GET", "/access/acl", nil, admin).body, "ACL survived")
	assert.Equal(t, users, do(t, second, "GET", "/access/users?full=1", nil, admin).body, "users and tokens survived")
	assert.Equal(t, http.StatusOK, do(t, second, "GET", "/version", nil, authz(tok)).status, "a token's secret still works")
	r = do(t, second, "POST", "/access/ticket", url.Values{"username": {"alice@pve"}, "password": {"alice-password"}}, nil)
	assert.Equal(t, http.StatusOK, r.status, "and so does a password")
	r = do(t, second, "GET", "/access/groups/ops", nil, admin)
	assert.Equal(t, map[string]any{"data": map[string]any{"comment": "operators", "members": []any{"alice@pve"}}}, r.json(t))
	r = do(t, second, "GET", "/access/roles/Backup", nil, admin)
	assert.Equal(t, map[string]any{"data": map[string]any{"VM.Audit": float64(1), "VM.Backup": float64(1)}}, r.json(t))
}

func TestStateWithFixedAdminSecret(t *testing.T) {
	dir := t.TempDir()
	secret := auth.NewSecret("11111111-2222-4333-8444-555555555555")
	first, err := pvetest.Start(pvetest.WithStateDir(dir), pvetest.WithAdminSecret(secret))
	require.NoError(t, err)
	// Even if the admin token lost its entry, a restart restores it.
	r := do(t, first, "PUT", "/access/acl", url.Values{
		"path": {"/"}, "roles": {"Administrator"}, "tokens": {first.AdminToken.ID.String()}, "delete": {"1"},
	}, authz(first.AdminToken))
	require.Equal(t, http.StatusOK, r.status)
	require.NoError(t, first.Close())

	second, err := pvetest.Start(pvetest.WithStateDir(dir), pvetest.WithAdminSecret(secret))
	require.NoError(t, err)
	defer second.Close()
	assert.True(t, second.AdminToken.Secret.Equal(secret))
	assert.Equal(t, http.StatusOK, do(t, second, "GET", "/access/users", nil, authz(first.AdminToken)).status)
	r = do(t, second, "POST", "/access/groups", url.Values{"groupid": {"g"}}, authz(second.AdminToken))
	assert.Equal(t, http.StatusOK, r.status, "Administrator on / again")
}

func TestStateFileCorrupt(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, pvetest.StateFile), []byte(`{"version":1,"users":[{"userid":"nope"}]}`), 0o600))
	_, err := pvetest.Start(pvetest.WithStateDir(dir))
	assert.ErrorContains(t, err, pvetest.StateFile)
	require.NoError(t, os.WriteFile(filepath.Join(dir, pvetest.StateFile), []byte(`{`), 0o600))
	_, err = pvetest.Start(pvetest.WithStateDir(dir))
	assert.Error(t, err)
}
