package pve_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
	"github.com/proxkit/proxkit/pve"
	"github.com/proxkit/proxkit/pve/pvetest"
)

// env is one mock server with an admin client.
type env struct {
	t     *testing.T
	srv   *pvetest.Server
	admin *pve.Client
	clock *mockcore.FakeClock
	log   *bytes.Buffer // the admin client's log output
}

// epoch is the mock's start time in tests: fixed, so expiry is exact.
var epoch = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, opts ...pvetest.Option) *env {
	t.Helper()
	clock := mockcore.NewFakeClock(epoch)
	srv := pvetest.NewServer(t, append([]pvetest.Option{pvetest.WithClock(clock.Now)}, opts...)...)
	e := &env{t: t, srv: srv, clock: clock, log: &bytes.Buffer{}}
	e.admin = e.client(pve.WithCredentials(srv.AdminToken),
		pve.WithLogger(slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	return e
}

// client returns a client of the mock with the given options (no
// retries, so failures show at once).
func (e *env) client(opts ...pve.Option) *pve.Client {
	e.t.Helper()
	c, err := pve.NewClient(e.srv.URL, append([]pve.Option{
		pve.WithFingerprint(e.srv.Fingerprint), pve.WithRetryPolicy(pve.RetryPolicy{MaxAttempts: 1}),
	}, opts...)...)
	require.NoError(e.t, err)
	return c
}

// as returns a client authenticated with tok.
func (e *env) as(tok auth.Token) *pve.Client {
	return e.client(pve.WithCredentials(tok))
}

func ctx(t *testing.T) context.Context { return t.Context() }

// apiError requires err to be an error answer of the server and returns
// it.
func apiError(t *testing.T, err error, msgAndArgs ...any) *pve.Error {
	t.Helper()
	var pe *pve.Error
	require.ErrorAs(t, err, &pe, msgAndArgs...)
	return pe
}

func uid(s string) auth.Userid { return auth.MustParseUserid(s) }
func aid(s string) auth.Authid { return auth.MustParseAuthid(s) }

// mkUser creates a user as admin.
func (e *env) mkUser(id string, opts *pve.UserOptions) auth.Userid {
	e.t.Helper()
	u := uid(id)
	require.NoError(e.t, e.admin.Access.CreateUser(ctx(e.t), u, opts))
	return u
}

// mkToken creates a token as admin and returns its credentials.
func (e *env) mkToken(id string, opts *pve.TokenOptions) *pve.CreatedToken {
	e.t.Helper()
	tok, err := e.admin.Access.CreateToken(ctx(e.t), aid(id), opts)
	require.NoError(e.t, err)
	return tok
}

// grant adds an ACL entry as admin.
func (e *env) grant(ch pve.ACLChange) {
	e.t.Helper()
	require.NoError(e.t, e.admin.Access.Grant(ctx(e.t), ch))
}

// rootPassword is root@pam's password in tests that log in.
const rootPassword = "root-password"

func withPasswords() []pvetest.Option {
	return []pvetest.Option{pvetest.WithRootPassword(auth.NewSecret(rootPassword))}
}

// login returns a client with ticket credentials of user, on the mock's
// clock.
func (e *env) login(user, password string) *pve.Client {
	e.t.Helper()
	tk, err := auth.NewTicketCredentials(uid(user), auth.NewSecret(password), auth.WithClock(e.clock.Now))
	require.NoError(e.t, err)
	return e.client(pve.WithCredentials(tk))
}
