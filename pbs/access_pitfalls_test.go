package pbs_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

func TestVersion(t *testing.T) {
	srv := pbstest.NewServer(t, pbstest.WithVersion("3.2.4", "1", "abc123"))
	v, err := connect(t, srv, srv.AdminToken).Version(ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, pbs.VersionInfo{Version: "3.2.4", Release: "1", RepoID: "abc123"}, *v)
	assert.Equal(t, "3.2.4-1", v.String())

	_, err = connect(t, srv, nil).Version(ctxT(t))
	assert.ErrorIs(t, err, pbs.ErrUnauthorized)
}

// The most common "token created but backups fail" report: PBS tokens
// are always privilege-separated, so a token holds what its own entry
// grants only where its user holds it too.
func TestTokenNeedsItsOwnACLAndItsUsers(t *testing.T) {
	srv, admin := adminSetup(t)
	ctx := ctxT(t)
	mkUser(t, admin, "backup@pbs")
	other := mkUser(t, admin, "other@pbs")
	tok := mkToken(t, admin, "backup@pbs!client", pbs.TokenOptions{})
	c := connect(t, srv, tok)
	read := func() error { _, _, err := c.Access.GetUser(ctx, other); return err }

	err := read()
	require.ErrorIs(t, err, pbs.ErrForbidden, "a new token holds nothing")
	pe := apiError(t, err)
	assert.Equal(t, 403, pe.Status)
	assert.Equal(t, "permission check failed", pe.Message, "PBS's 403 text")

	grant(t, admin, "/access/users", "backup@pbs!client", "Audit", true)
	assert.ErrorIs(t, read(), pbs.ErrForbidden, "the token's entry alone is not enough: its user holds nothing")

	grant(t, admin, "/access", "backup@pbs", "Audit", true)
	assert.NoError(t, read(), "token entry ∩ user's privileges")

	grant(t, admin, "/access/users", "backup@pbs", "NoAccess", false)
	assert.ErrorIs(t, read(), pbs.ErrForbidden, "the user's deeper NoAccess caps the token")
}

// A non-propagating entry is invisible below its path.
func TestNonPropagatingEntryInvisibleBelow(t *testing.T) {
	srv, admin := adminSetup(t)
	ctx := ctxT(t)
	mkUser(t, admin, "viewer@pbs")
	target := mkUser(t, admin, "target@pbs")
	tok := mkToken(t, admin, "viewer@pbs!t", pbs.TokenOptions{})
	grant(t, admin, "/access", "viewer@pbs", "Audit", false)
	grant(t, admin, "/access", "viewer@pbs!t", "Audit", true)
	_, _, err := connect(t, srv, tok).Access.GetUser(ctx, target)
	assert.ErrorIs(t, err, pbs.ErrForbidden, "/access/users lies below the non-propagating entry")
}

// The two token headers split differently: PBS splits at the first ':'
// after "PBSAPIToken", and takes '=' or one space after the prefix.
func TestTokenHeaderDialects(t *testing.T) {
	srv := pbstest.NewServer(t)
	id, secret := srv.AdminToken.ID.String(), srv.AdminToken.Secret.Reveal()
	for hdr, want := range map[string]int{
		"PBSAPIToken " + id + ":" + secret:         200,
		"PBSAPIToken=" + id + ":" + secret:         200,
		srv.AdminToken.PBSHeader():                 200,
		"PBSAPIToken=" + id + "=" + secret:         401, // the PVE separator
		"PVEAPIToken=" + id + "=" + secret:         401, // the PVE header
		srv.AdminToken.PVEHeader():                 401,
		"Bearer " + secret:                         401,
		"PBSAPIToken " + "root@pam" + ":" + secret: 401, // a user id in the token header
		"pbsapitoken " + id + ":" + secret:         401, // the prefix is case-sensitive
	} {
		req, err := http.NewRequest("GET", srv.URL+"/api2/json/version", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", hdr)
		status, body := doRaw(t, srv, req)
		assert.Equal(t, want, status, strings.Replace(hdr, secret, "SECRET", 1))
		if want == 401 {
			assert.Equal(t, "authentication failed", body, "PBS's 401 is plain text")
		}
	}
}

// A ticket cookie wins over a token header, so a request must never
// carry both.
func TestTicketCookieWinsOverTokenHeader(t *testing.T) {
	srv := pbstest.NewServer(t)
	req, err := http.NewRequest("GET", srv.URL+"/api2/json/version", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", srv.AdminToken.PBSHeader())
	req.AddCookie(&http.Cookie{Name: "PBSAuthCookie", Value: "PBS:root@pam:00000000::bogus"})
	status, _ := doRaw(t, srv, req)
	assert.Equal(t, 401, status)
}

// An update that sets only the comment leaves enable and expiry alone
// (an update that silently resets flags is a known bug elsewhere).
func TestTokenUpdateSendsOnlySetFields(t *testing.T) {
	srv, admin := adminSetup(t)
	ctx := ctxT(t)
	mkUser(t, admin, "wu@pbs")
	tok := mkToken(t, admin, "wu@pbs!t", pbs.TokenOptions{Enable: ptr(false)})
	require.NoError(t, admin.Access.UpdateToken(ctx, tok.ID, pbs.TokenUpdate{Comment: ptr("renamed")}))
	got, _, err := admin.Access.GetToken(ctx, tok.ID)
	require.NoError(t, err)
	assert.Equal(t, pbs.Token{ID: tok.ID, Comment: "renamed", Enabled: false}, *got)
	_, err = connect(t, srv, tok).Version(ctx)
	assert.ErrorIs(t, err, pbs.ErrUnauthorized, "still disabled")
}

// No error text and no log record of failing calls contains a secret.
func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	srv, admin := adminSetup(t, pbstest.WithRootPassword(auth.NewSecret("root-password-xyz")))
	ctx := ctxT(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mkUser(t, admin, "sec@pbs")
	created, err := admin.Access.CreateToken(ctx, auth.MustParseAuthid("sec@pbs!t"), pbs.TokenOptions{})
	require.NoError(t, err)
	secrets := []string{created.Secret.Reveal(), srv.AdminToken.Secret.Reveal(), "root-password-xyz", "wrong-secret-123"}

	var errs []error
	record := func(err error) {
		require.Error(t, err)
		errs = append(errs, err)
	}
	tokClient := connect(t, srv, created.Credentials(), pbs.WithLogger(logger))
	_, _, err = tokClient.Access.GetUser(ctx, auth.RootUserid)
	record(err) // 403
	_, err = tokClient.Access.CreateToken(ctx, auth.MustParseAuthid("sec@pbs!x"), pbs.TokenOptions{})
	record(err) // 403
	wrong, err := auth.NewToken(created.ID, auth.NewSecret("wrong-secret-123"))
	require.NoError(t, err)
	_, err = connect(t, srv, wrong, pbs.WithLogger(logger)).Version(ctx)
	record(err) // 401
	badLogin, err := auth.NewTicketCredentials(auth.RootUserid, auth.NewSecret("wrong-secret-123"))
	require.NoError(t, err)
	_, err = connect(t, srv, badLogin, pbs.WithLogger(logger)).Version(ctx)
	record(err) // failed login
	logged := connect(t, srv, srv.AdminToken, pbs.WithLogger(logger))
	record(logged.Access.CreateUser(ctx, pbs.NewUser{ID: auth.MustParseUserid("sec2@pbs"), Password: auth.NewSecret("wrong-secret-123"), Firstname: "x"}))
	_, err = logged.Access.CreateToken(ctx, created.ID, pbs.TokenOptions{})
	record(err) // exists
	require.NoError(t, admin.Access.DisableToken(ctx, created.ID))
	_, err = tokClient.Version(ctx)
	record(err) // disabled
	_, err = pbs.NewClient("https://[::1", pbs.WithCredentials(created.Credentials()))
	record(err)

	var text strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&text, "%v\n%+v\n%#v\n%s\n", e, e, e, e.Error())
	}
	fmt.Fprintf(&text, "%v %+v %#v %s\n", created, created, created, created.Credentials())
	fmt.Fprintf(&text, "%v %+v %#v\n", srv.AdminToken, srv.AdminToken, *created)
	require.NotEmpty(t, logs.String(), "the client logged its requests")
	for _, s := range secrets {
		assert.NotContains(t, text.String(), s)
		assert.NotContains(t, logs.String(), s)
	}
}
