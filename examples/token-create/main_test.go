package main

import (
	"os"
	"path/filepath"
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

func TestCreatesPBSTokenWithConfig(t *testing.T) {
	srv := pbstest.NewServer(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "pbs-config.json")
	secretPath := filepath.Join(dir, "secret")
	res := exampletest.RunApp(t, "token-create", run, exampletest.PBSEnv(t, srv), nil,
		"--create-user", "--comment", "nightly", "--config", cfgPath, "--secret-file", secretPath, "--ns", "hosts/web", "backup@pbs!client")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "created API token backup@pbs!client (privilege separated, no expiry)\n"+
		"wrote "+cfgPath+" (mode 0600)\n"+
		"next: acl-grant /datastore/store1 DatastoreBackup backup@pbs!client (the token has no privileges yet)\n"+
		"wrote the secret to "+secretPath+" (mode 0600)\n", res.Stdout)

	for _, p := range []string{cfgPath, secretPath} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), p)
	}
	cfg, err := auth.ReadPBSConfig(cfgPath)
	require.NoError(t, err)
	assert.Equal(t, srv.URL, cfg.BaseURL)
	assert.Equal(t, "backup@pbs!client", cfg.AuthID.String())
	assert.Equal(t, "store1", cfg.Datastore)
	assert.Equal(t, "hosts/web", cfg.Namespace)
	require.NotNil(t, cfg.Fingerprint)
	assert.Equal(t, srv.Fingerprint, *cfg.Fingerprint)
	secret, err := os.ReadFile(secretPath)
	require.NoError(t, err)
	assert.Equal(t, cfg.Secret.Reveal()+"\n", string(secret))
	assert.NotContains(t, res.Stdout, cfg.Secret.Reveal(), "no secret on stdout unless asked")

	tok, _, err := exampletest.PBSClient(t, srv, srv.AdminToken).Access.GetToken(t.Context(), cfg.AuthID)
	require.NoError(t, err)
	assert.Equal(t, "nightly", tok.Comment)

	// The config works as is: the token authenticates (and, having no
	// privileges yet, sees no datastore).
	c, err := pbs.NewClientFromConfig(cfg)
	require.NoError(t, err)
	stores, err := c.Datastore.List(t.Context())
	require.NoError(t, err)
	assert.Empty(t, stores)
}

func TestKeepsExistingFilesAndPrintsSecretOnRequest(t *testing.T) {
	srv := pbstest.NewServer(t)
	env := exampletest.PBSEnv(t, srv)
	cfgPath := filepath.Join(t.TempDir(), "pbs-config.json")
	require.NoError(t, os.WriteFile(cfgPath, []byte("{}"), 0o600))

	res := exampletest.RunApp(t, "token-create", run, env, nil, "--create-user", "--config", cfgPath, "backup@pbs!client")
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, "token-create: "+cfgPath+" exists (use --force to replace it)\n", res.Stderr)
	_, _, err := exampletest.PBSClient(t, srv, srv.AdminToken).Access.GetToken(t.Context(), auth.MustParseAuthid("backup@pbs!client"))
	assert.ErrorIs(t, err, pbs.ErrNotFound, "nothing is created when the secret could not be stored")

	res = exampletest.RunApp(t, "token-create", run, env, nil, "--create-user", "--config", cfgPath, "--force", "--print-secret", "backup@pbs!client")
	require.Equal(t, 0, res.Code, res.Stderr)
	cfg, err := auth.ReadPBSConfig(cfgPath)
	require.NoError(t, err)
	assert.Equal(t, cfg.Secret.Reveal(), res.LastLine())

	// The token exists now: a second run fails on the server, in one line.
	res = exampletest.RunApp(t, "token-create", run, env, nil, "--config", filepath.Join(t.TempDir(), "x.json"), "backup@pbs!client")
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)
	assert.Contains(t, res.Stderr, "already exists")
}

func TestTokenCreateUsage(t *testing.T) {
	env := map[string]string{auth.EnvPBSRepository: "root@pam@localhost:store1", auth.EnvPBSPassword: "pw"}
	for _, args := range [][]string{
		{},
		{"backup@pbs"},
		{"--no-privsep", "backup@pbs!client"},
		{"--expire", "tomorrow", "backup@pbs!client"},
		{"-product", "pve", "--url", "https://localhost", "--authid", "root@pam", "backup@pve!ci"},
	} {
		res := exampletest.RunApp(t, "token-create", run, env, nil, args...)
		assert.Equal(t, 2, res.Code, "%v: %s", args, res.Stderr)
		assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)
	}
}

func TestCreatesPVEToken(t *testing.T) {
	srv := pvetest.NewServer(t)
	env := exampletest.PVEEnv(srv)
	secretPath := filepath.Join(t.TempDir(), "secret")
	res := exampletest.RunApp(t, "token-create", run, env, nil,
		"--create-user", "--expire", "2030-01-01T00:00:00Z", "--secret-file", secretPath, "monitor@pve!ci")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "created API token monitor@pve!ci (privilege separated, expires 2030-01-01T00:00:00Z)\n"+
		"next: acl-grant -product pve PATH ROLE monitor@pve!ci (the token has no privileges yet)\n"+
		"wrote the secret to "+secretPath+" (mode 0600)\n", res.Stdout)
	st, err := os.Stat(secretPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	admin := exampletest.PVEClient(t, srv, srv.AdminToken)
	tok, err := admin.Access.GetToken(t.Context(), auth.MustParseAuthid("monitor@pve!ci"))
	require.NoError(t, err)
	assert.True(t, tok.Privsep)
	assert.Equal(t, int64(1893456000), tok.Expire.Unix())

	// The secret file works as PVE_PASSWORD_FILE.
	c, err := pve.NewClient(srv.URL, pve.WithFingerprint(srv.Fingerprint), pve.WithToken(tok.ID, auth.NewSecret(strings.TrimSpace(readFile(t, secretPath)))))
	require.NoError(t, err)
	_, err = c.Version(t.Context())
	require.NoError(t, err)

	res = exampletest.RunApp(t, "token-create", run, env, nil, "--no-privsep", "--print-secret", "monitor@pve!full")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.True(t, strings.HasPrefix(res.Stdout, "created API token monitor@pve!full (not separated: it has all of its user's privileges, no expiry)\n"), res.Stdout)
	assert.Regexp(t, `^[0-9a-f-]{36}$`, res.LastLine())

	res = exampletest.RunApp(t, "token-create", run, env, nil, "monitor@pve!lost")
	assert.Equal(t, 2, res.Code)
	assert.Equal(t, "token-create: the secret is shown only once: give --secret-file FILE or --print-secret\n", res.Stderr)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}
