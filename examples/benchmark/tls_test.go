package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/examples/internal/exampletest"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	exampletest.Cleanup()
	os.Exit(code)
}

// tlsRow is the pattern of a measured TLS row of the table.
const tlsRow = `^│ TLS \(maximal backup upload speed\) │ \d+\.\d\d MB/s \(\d+%\) +│$`

// assertNoBenchmarkSnapshot checks the datastore directory: a benchmark
// session leaves no snapshot of host/benchmark, finished or not.
func assertNoBenchmarkSnapshot(t *testing.T, dir string) {
	t.Helper()
	st, err := datastore.Open(dir)
	require.NoError(t, err)
	snaps, err := st.ListSnapshots(t.Context(), datastore.Namespace{}, datastore.TypeHost, "benchmark")
	require.NoError(t, err)
	assert.Empty(t, snaps)
	entries, _ := os.ReadDir(filepath.Join(dir, "host", "benchmark"))
	for _, e := range entries {
		assert.False(t, e.IsDir(), "left behind: %s", e.Name())
	}
}

func TestTLSRowMeasuredWithARepository(t *testing.T) {
	srv := pbstest.NewServer(t)
	env := exampletest.PBSEnv(t, srv)
	res := exampletest.RunApp(t, "benchmark", run, env, nil, "--scale", "0.01")
	require.Equal(t, cli.ExitOK, res.Code, res.Stderr)
	lines := strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n")
	require.Len(t, lines, 15)
	assert.Regexp(t, tlsRow, lines[3])
	assert.True(t, strings.HasPrefix(res.Stderr, "TLS speed: "), "the server test runs first, as upstream: %s", res.Stderr)
	assert.NotContains(t, res.Stdout+res.Stderr, srv.AdminToken.Secret.Reveal())

	require.NoError(t, srv.WaitSessions(t.Context()))
	assertNoBenchmarkSnapshot(t, srv.DatastorePath)
}

func TestTLSInJSON(t *testing.T) {
	srv := pbstest.NewServer(t)
	res := exampletest.RunApp(t, "benchmark", run, exampletest.PBSEnv(t, srv), nil, "--scale", "0.01", "--output-format", "json")
	require.Equal(t, cli.ExitOK, res.Code, res.Stderr)
	var got map[string]map[string]float64
	require.NoError(t, json.Unmarshal([]byte(res.Stdout), &got))
	assert.Greater(t, got["tls"]["speed"], 0.0)
	assert.Equal(t, 1235e6, got["tls"]["top"])
	assert.Len(t, got, 6)
}

// The flags replace PBS_REPOSITORY and PBS_FINGERPRINT; the secret comes
// from PBS_PASSWORD_FILE.
func TestTLSWithFlagsAndPasswordFile(t *testing.T) {
	srv := pbstest.NewServer(t)
	secret := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secret, []byte(srv.AdminToken.Secret.Reveal()+"\n"), 0o600))
	env := map[string]string{
		auth.EnvPBSRepository:  "root@pam!nobody@127.0.0.1:1:nowhere",
		auth.EnvPBSFingerprint: strings.Repeat("00:", 31) + "00",
		"PBS_PASSWORD_FILE":    secret,
	}
	res := exampletest.RunApp(t, "benchmark", run, env, nil, "--scale", "0.01",
		"--repository", exampletest.PBSRepository(t, srv, srv.AdminToken.ID),
		"--fingerprint", srv.Fingerprint.String())
	require.Equal(t, cli.ExitOK, res.Code, res.Stderr)
	assert.Regexp(t, tlsRow, strings.Split(res.Stdout, "\n")[3])
}

// A server test that fails ends the program with one line, before the
// local tests run, and never shows the secret.
func TestTLSFailures(t *testing.T) {
	srv := pbstest.NewServer(t)
	admin, err := pbs.NewClient(srv.URL, pbs.WithCredentials(srv.AdminToken), pbs.WithFingerprint(srv.Fingerprint))
	require.NoError(t, err)
	ctx := t.Context()
	auditor := auth.MustParseAuthid("root@pam!audit")
	tok, err := admin.Access.CreateToken(ctx, auditor, pbs.TokenOptions{})
	require.NoError(t, err)
	require.NoError(t, admin.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/datastore/" + srv.Datastore, Role: "DatastoreAudit", AuthID: auditor}))

	wrong := exampletest.PBSEnv(t, srv)
	wrong[auth.EnvPBSPassword] = "not-the-secret"
	noSecret := exampletest.PBSEnv(t, srv)
	delete(noSecret, auth.EnvPBSPassword)
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"wrong secret":        {wrong, "401"},
		"no Datastore.Backup": {exampletest.PBSEnvFor(t, srv, tok.Credentials()), "403"},
		"no secret":           {noSecret, "PBS_PASSWORD"},
	} {
		t.Run(name, func(t *testing.T) {
			res := exampletest.RunApp(t, "benchmark", run, tc.env, nil, "--scale", "0.01")
			assert.Equal(t, cli.ExitFailure, res.Code)
			assert.Empty(t, res.Stdout)
			assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)
			assert.True(t, strings.HasPrefix(res.Stderr, "benchmark: "), res.Stderr)
			assert.Contains(t, res.Stderr, tc.want)
			assert.NotContains(t, res.Stderr, "not-the-secret")
			assert.NotContains(t, res.Stderr, tok.Secret.Reveal())
		})
	}
}

// The program and the mock as separate processes, driven as a script
// drives them: PBS_REPOSITORY, PBS_PASSWORD and PBS_FINGERPRINT from the
// mock's JSON line.
func TestBinaryAgainstMockserver(t *testing.T) {
	bins := exampletest.Prebuild(t, "mockserver", "benchmark")
	mock := exampletest.StartMock(t, "-product", "pbs", "-listen", "127.0.0.1:0", "-state", t.TempDir())
	res := exampletest.Run(t, bins[1], mock.PBSEnv(), nil, "--scale", "0.02")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Regexp(t, tlsRow, strings.Split(res.Stdout, "\n")[3])
	assert.NotContains(t, res.Stdout+res.Stderr, mock.Secret)
	assert.Equal(t, 0, mock.Stop(t))
	assertNoBenchmarkSnapshot(t, mock.DatastorePath)
}
