package pbs_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

func TestTicketLoginAndCSRF(t *testing.T) {
	srv, admin := adminSetup(t, pbstest.WithRootPassword(auth.NewSecret("rootpw")))
	ctx := ctxT(t)

	creds, err := auth.NewTicketCredentials(auth.RootUserid, auth.NewSecret("rootpw"))
	require.NoError(t, err)
	root := connect(t, srv, creds)
	_, err = root.Version(ctx)
	require.NoError(t, err)
	require.NoError(t, root.Access.CreateUser(ctx, pbs.NewUser{ID: auth.MustParseUserid("ann@pbs")}),
		"non-GET requests carry the CSRF token")

	bad, err := auth.NewTicketCredentials(auth.RootUserid, auth.NewSecret("wrong"))
	require.NoError(t, err)
	_, err = connect(t, srv, bad).Version(ctx)
	assert.ErrorIs(t, err, auth.ErrLoginFailed)

	// Raw: the login answer, then a POST with the cookie but no CSRF token.
	form := url.Values{"username": {"root@pam"}, "password": {"rootpw"}}.Encode()
	req, err := http.NewRequest("POST", srv.URL+"/api2/json/access/ticket", strings.NewReader(form))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, body := doRaw(t, srv, req)
	require.Equal(t, 200, status, body)
	var login struct {
		Data struct {
			Username, Ticket string
			CSRF             string `json:"CSRFPreventionToken"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &login))
	assert.Equal(t, "root@pam", login.Data.Username)
	assert.True(t, strings.HasPrefix(login.Data.Ticket, "PBS:root@pam:"))

	post := func(csrf string) int {
		req, err := http.NewRequest("POST", srv.URL+"/api2/json/access/users", strings.NewReader("userid=x@pbs"))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "PBSAuthCookie", Value: login.Data.Ticket})
		if csrf != "" {
			req.Header.Set("CSRFPreventionToken", csrf)
		}
		status, _ := doRaw(t, srv, req)
		return status
	}
	assert.Equal(t, 401, post(""), "a ticket needs the CSRF token on non-GET")
	assert.Equal(t, 200, post(login.Data.CSRF))

	// A failed login is 401 "permission check failed.".
	req, err = http.NewRequest("POST", srv.URL+"/api2/json/access/ticket",
		strings.NewReader(url.Values{"username": {"root@pam"}, "password": {"nope"}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, body = doRaw(t, srv, req)
	assert.Equal(t, 401, status)
	assert.Equal(t, "permission check failed.", body)
	_ = admin
}

func TestTicketExpiresWithTheServerClock(t *testing.T) {
	clock := mockcore.NewFakeClock(time.Now())
	srv := pbstest.NewServer(t, pbstest.WithClock(clock.Now), pbstest.WithRootPassword(auth.NewSecret("rootpw")))
	ctx := ctxT(t)
	creds, err := auth.NewTicketCredentials(auth.RootUserid, auth.NewSecret("rootpw"),
		auth.WithClock(clock.Now))
	require.NoError(t, err)
	c := connect(t, srv, creds)
	_, err = c.Version(ctx)
	require.NoError(t, err)
	clock.Advance(3 * time.Hour)
	_, err = c.Version(ctx)
	require.NoError(t, err, "the client logs in again when its ticket is too old")
}

func TestChangePassword(t *testing.T) {
	srv, admin := adminSetup(t)
	ctx := ctxT(t)
	bea := auth.MustParseUserid("bea@pbs")
	require.NoError(t, admin.Access.CreateUser(ctx, pbs.NewUser{ID: bea, Password: auth.NewSecret("first1")}))
	creds, err := auth.NewTicketCredentials(bea, auth.NewSecret("first1"))
	require.NoError(t, err)
	self := connect(t, srv, creds)
	require.NoError(t, self.Access.ChangePassword(ctx, bea, auth.NewSecret("second2"), auth.NewSecret("first1")))

	again, err := auth.NewTicketCredentials(bea, auth.NewSecret("second2"))
	require.NoError(t, err)
	_, err = connect(t, srv, again).Version(ctx)
	require.NoError(t, err)

	// API tokens are refused (after the owner's password confirmation).
	tok := mkToken(t, admin, "bea@pbs!t", pbs.TokenOptions{})
	err = connect(t, srv, tok).Access.ChangePassword(ctx, bea, auth.NewSecret("third3"), auth.NewSecret("second2"))
	pe := apiError(t, err)
	assert.Equal(t, "API tokens cannot access this API endpoint", pe.Message)
}
