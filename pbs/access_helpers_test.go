package pbs_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// noRetry keeps failing calls fast.
var noRetry = pbs.WithRetryPolicy(pbs.RetryPolicy{MaxAttempts: 1})

// connect returns a client of srv with creds (nil: unauthenticated).
func connect(t testing.TB, srv *pbstest.Server, creds auth.Credentials, opts ...pbs.Option) *pbs.Client {
	t.Helper()
	base := []pbs.Option{pbs.WithFingerprint(srv.Fingerprint), noRetry}
	if creds != nil {
		base = append(base, pbs.WithCredentials(creds))
	}
	c, err := pbs.NewClient(srv.URL, append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// adminSetup starts a server and returns it with an admin client.
func adminSetup(t testing.TB, opts ...pbstest.Option) (*pbstest.Server, *pbs.Client) {
	t.Helper()
	srv := pbstest.NewServer(t, opts...)
	return srv, connect(t, srv, srv.AdminToken)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mkUser creates user id (realm pbs) through admin.
func mkUser(t testing.TB, admin *pbs.Client, id string) auth.Userid {
	t.Helper()
	u := auth.MustParseUserid(id)
	require.NoError(t, admin.Access.CreateUser(ctxT(t), pbs.NewUser{ID: u}))
	return u
}

// mkToken creates token id and returns it as credentials.
func mkToken(t testing.TB, admin *pbs.Client, id string, opts pbs.TokenOptions) auth.Token {
	t.Helper()
	ct, err := admin.Access.CreateToken(ctxT(t), auth.MustParseAuthid(id), opts)
	require.NoError(t, err)
	return ct.Credentials()
}

// grant adds an ACL entry through admin.
func grant(t testing.TB, admin *pbs.Client, path, id, role string, propagate bool) {
	t.Helper()
	require.NoError(t, admin.Access.GrantACL(ctxT(t), pbs.ACLUpdate{
		Path: path, Role: role, AuthID: auth.MustParseAuthid(id), Propagate: &propagate,
	}))
}

func ptr[T any](v T) *T { return &v }

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}

// newRawRequest builds a form request with the admin token.
func newRawRequest(srv *pbstest.Server, method, path, form string) (*http.Request, error) {
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", srv.AdminToken.PBSHeader())
	return req, nil
}

// apiError requires err to be an error answer of the server and returns
// it.
func apiError(t testing.TB, err error, msgAndArgs ...any) *pbs.Error {
	t.Helper()
	var pe *pbs.Error
	require.ErrorAs(t, err, &pe, msgAndArgs...)
	return pe
}

// doRaw sends req and returns status and body.
func doRaw(t testing.TB, srv *pbstest.Server, req *http.Request) (int, string) {
	t.Helper()
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}
