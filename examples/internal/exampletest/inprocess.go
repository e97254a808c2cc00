package exampletest

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
	"github.com/proxkit/proxkit/pve"
	"github.com/proxkit/proxkit/pve/pvetest"
)

// RunApp runs an example's run function in-process as program name, with
// exactly the environment env (nothing of the test process's), stdin and
// args, and returns what it did.
func RunApp(t testing.TB, name string, run func(context.Context, *cli.App) error, env map[string]string, stdin io.Reader, args ...string) Result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := &cli.App{Name: name, Args: args, Stdin: stdin, Stdout: &stdout, Stderr: &stderr, Lookup: auth.MapEnv(env)}
	code := app.Run(t.Context(), run)
	return Result{Code: code, Stdout: stdout.String(), Stderr: stderr.String()}
}

// PBSRepository is the repository string of srv's datastore for id.
func PBSRepository(t testing.TB, srv *pbstest.Server, id auth.Authid) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	r, err := auth.ParseRepository(id.String() + "@" + u.Host + ":" + srv.Datastore)
	require.NoError(t, err)
	return r.String()
}

// PBSEnvFor is the PBS_* environment for token tok on srv.
func PBSEnvFor(t testing.TB, srv *pbstest.Server, tok auth.Token) map[string]string {
	t.Helper()
	return map[string]string{
		auth.EnvPBSRepository:  PBSRepository(t, srv, tok.ID),
		auth.EnvPBSPassword:    tok.Secret.Reveal(),
		auth.EnvPBSFingerprint: srv.Fingerprint.String(),
	}
}

// PBSEnv is the PBS_* environment for srv's admin token.
func PBSEnv(t testing.TB, srv *pbstest.Server) map[string]string {
	return PBSEnvFor(t, srv, srv.AdminToken)
}

// PVEEnvFor is the PVE_* environment for credentials id and secret on srv.
func PVEEnvFor(srv *pvetest.Server, id auth.Authid, secret auth.Secret) map[string]string {
	return map[string]string{
		auth.EnvPVEURL:         srv.URL,
		auth.EnvPVEAuthID:      id.String(),
		auth.EnvPVEPassword:    secret.Reveal(),
		auth.EnvPVEFingerprint: srv.Fingerprint.String(),
	}
}

// PVEEnv is the PVE_* environment for srv's admin token.
func PVEEnv(srv *pvetest.Server) map[string]string {
	return PVEEnvFor(srv, srv.AdminToken.ID, srv.AdminToken.Secret)
}

// PBSClient is a client of srv that authenticates with creds (srv.AdminToken
// for the administrator) and pins srv's certificate.
func PBSClient(t testing.TB, srv *pbstest.Server, creds auth.Credentials) *pbs.Client {
	t.Helper()
	c, err := pbs.NewClient(srv.URL, pbs.WithCredentials(creds), pbs.WithFingerprint(srv.Fingerprint))
	require.NoError(t, err)
	return c
}

// PVEClient is PBSClient for a PVE mock.
func PVEClient(t testing.TB, srv *pvetest.Server, creds auth.Credentials) *pve.Client {
	t.Helper()
	c, err := pve.NewClient(srv.URL, pve.WithCredentials(creds), pve.WithFingerprint(srv.Fingerprint))
	require.NoError(t, err)
	return c
}
