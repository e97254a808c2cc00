package pvetest_test

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pve/pvetest"
)

// reply is a raw answer of the mock.
type reply struct {
	status int
	line   string // "401 No ticket"
	header http.Header
	body   string
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.body), &m), r.body)
	return m
}

// do sends one raw request; header values are set as given.
func do(t *testing.T, srv *pvetest.Server, method, path string, form url.Values, header map[string]string) reply {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+"/api2/json"+path, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, line: resp.Status, header: resp.Header, body: string(b)}
}

func authz(tok auth.Token) map[string]string {
	return map[string]string{"Authorization": tok.PVEHeader()}
}

// Pitfall: PVE answers 401 with an empty body and the text in the reason
// phrase; 403 carries the text in both.
func TestAuthFailuresOnTheWire(t *testing.T) {
	srv := pvetest.NewServer(t)
	secret := srv.AdminToken.Secret.Reveal()
	id := srv.AdminToken.ID.String()
	for name, hdr := range map[string]map[string]string{
		"none":            nil,
		"bearer":          {"Authorization": "Bearer " + secret},
		"PBS prefix":      {"Authorization": "PBSAPIToken=" + id + ":" + secret},
		"PVE cookie name": {"Cookie": "PBSAuthCookie=x"},
	} {
		r := do(t, srv, "GET", "/version", nil, hdr)
		assert.Equal(t, "401 No ticket", r.line, name)
		assert.Empty(t, r.body, name)
		assert.Equal(t, "pve-api-daemon/3.0", r.header.Get("Server"), name)
	}
	for name, value := range map[string]string{
		"PBS separator":    "PVEAPIToken=" + id + ":" + secret,
		"wrong secret":     "PVEAPIToken=" + id + "=00000000-0000-4000-8000-000000000000",
		"token name alone": "PVEAPIToken=" + AdminName + "=" + secret,
		"no realm":         "PVEAPIToken=root!admin=" + secret,
		"user id":          "PVEAPIToken=root@pam=" + secret,
		"unknown token":    "PVEAPIToken=root@pam!nope=" + secret,
		"bad ticket":       "PVEAuthCookie=PVE:root@pam:00000000::AAAA",
	} {
		r := do(t, srv, "GET", "/version", nil, map[string]string{"Authorization": value})
		assert.Equal(t, "401 Authentication failed!", r.line, name)
		assert.Empty(t, r.body, name)
	}
	r := do(t, srv, "GET", "/version", nil, map[string]string{"Authorization": "PVEAPIToken " + id + "=" + secret})
	assert.Equal(t, http.StatusOK, r.status, "a space works as prefix separator too")
	r = do(t, srv, "GET", "/version", nil, map[string]string{"Authorization": "PVEAPIToken=root%40pam%21admin=" + secret})
	assert.Equal(t, http.StatusOK, r.status, "PVE percent-decodes the whole value, the id included")
	r = do(t, srv, "GET", "/access/ticket", nil, nil)
	assert.Equal(t, map[string]any{"data": nil}, r.json(t), "GET /access/ticket needs no credentials")
	r = do(t, srv, "GET", "/version", nil, authz(srv.AdminToken))
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, map[string]any{"data": map[string]any{"version": "9.1.1", "release": "9.1", "repoid": "00000000"}}, r.json(t))
}

// AdminName is the admin token's name.
const AdminName = pvetest.AdminTokenName

func TestErrorShapesOnTheWire(t *testing.T) {
	srv := pvetest.NewServer(t)
	admin := authz(srv.AdminToken)

	r := do(t, srv, "POST", "/access/users", url.Values{"userid": {"x@pve"}, "enable": {"true"}, "bogus": {"1"}}, admin)
	assert.Equal(t, "400 Parameter verification failed.", r.line)
	assert.Equal(t, map[string]any{
		"data": nil, "message": "Parameter verification failed.\n",
		"errors": map[string]any{
			"enable": "type check ('boolean') failed - got 'true'",
			"bogus":  "property is not defined in schema and the schema does not allow additional properties",
		},
	}, r.json(t), "PVE booleans are 0/1 in forms")

	r = do(t, srv, "GET", "/access/users/nobody@pve", nil, admin)
	assert.Equal(t, "500 no such user ('nobody@pve')", r.line)
	assert.Equal(t, map[string]any{"data": nil, "message": "no such user ('nobody@pve')\n"}, r.json(t))

	r = do(t, srv, "GET", "/nodes", nil, admin)
	assert.Equal(t, "501 Method 'GET /nodes' not implemented", r.line)

	// A user without privileges gets 403 with the text in both places.
	r = do(t, srv, "POST", "/access/users", url.Values{"userid": {"x@pve"}}, admin)
	require.Equal(t, http.StatusOK, r.status)
	r = do(t, srv, "POST", "/access/users/x@pve/token/t1", nil, admin)
	require.Equal(t, http.StatusOK, r.status)
	var created struct {
		Data struct {
			Value string `json:"value"`
			Full  string `json:"full-tokenid"`
			Info  map[string]any
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &created))
	assert.Equal(t, "x@pve!t1", created.Data.Full)
	assert.Equal(t, map[string]any{"privsep": float64(1)}, created.Data.Info, "info has no expire when none was passed")
	tok := auth.Token{ID: auth.MustParseAuthid(created.Data.Full), Secret: auth.NewSecret(created.Data.Value)}
	r = do(t, srv, "PUT", "/access/acl", url.Values{"path": {"/"}, "roles": {"PVEAuditor"}, "users": {"x@pve"}}, authz(tok))
	assert.Equal(t, "403 Permission check failed (/, Permissions.Modify)", r.line)
	assert.Equal(t, map[string]any{"data": nil, "message": "Permission check failed (/, Permissions.Modify)\n"}, r.json(t))

	r = do(t, srv, "GET", "/access/users/x@pve/token/t1", nil, admin)
	assert.Equal(t, map[string]any{"data": map[string]any{"privsep": float64(1), "expire": float64(0)}}, r.json(t),
		"later reads show expire 0")
}

// Ticket login: the cookie, and the CSRF token on every non-GET request;
// tokens may not log in.
func TestTicketLoginAndCSRF(t *testing.T) {
	srv := pvetest.NewServer(t, pvetest.WithRootPassword(auth.NewSecret("secret-root")))

	r := do(t, srv, "POST", "/access/ticket", url.Values{"username": {"root@pam"}, "password": {"wrong"}}, nil)
	assert.Equal(t, "401 authentication failure", r.line)
	assert.Equal(t, map[string]any{"data": nil, "message": "authentication failure\n"}, r.json(t))

	r = do(t, srv, "POST", "/access/ticket", url.Values{"username": {"root"}, "realm": {"pam"}, "password": {"secret-root"}}, nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	data := r.json(t)["data"].(map[string]any)
	assert.Equal(t, "root@pam", data["username"])
	ticket, csrf := data["ticket"].(string), data["CSRFPreventionToken"].(string)
	assert.True(t, strings.HasPrefix(ticket, "PVE:root@pam:"), ticket)
	caps := data["cap"].(map[string]any)
	assert.Contains(t, caps["access"], "Permissions.Modify", "root has every capability")
	assert.Contains(t, caps["vms"], "VM.Allocate")

	cookie := map[string]string{"Cookie": "PVEAuthCookie=" + url.QueryEscape(ticket)}
	assert.Equal(t, http.StatusOK, do(t, srv, "GET", "/access/users", nil, cookie).status)
	r = do(t, srv, "POST", "/access/groups", url.Values{"groupid": {"g1"}}, cookie)
	assert.Equal(t, "401 Permission denied - invalid csrf token", r.line)
	assert.Empty(t, r.body)
	cookie["CSRFPreventionToken"] = csrf
	assert.Equal(t, http.StatusOK, do(t, srv, "POST", "/access/groups", url.Values{"groupid": {"g1"}}, cookie).status)

	// Renewal: the ticket as password.
	r = do(t, srv, "POST", "/access/ticket", url.Values{"username": {"root@pam"}, "password": {ticket}}, nil)
	assert.Equal(t, http.StatusOK, r.status)

	// A ticket cookie wins over a token header on the same request.
	both := map[string]string{"Cookie": "PVEAuthCookie=" + url.QueryEscape(ticket), "Authorization": srv.AdminToken.PVEHeader()}
	r = do(t, srv, "POST", "/access/groups", url.Values{"groupid": {"g2"}}, both)
	assert.Equal(t, "401 Permission denied - invalid csrf token", r.line, "the cookie was used, so CSRF is needed")

	r = do(t, srv, "POST", "/access/ticket", url.Values{"username": {"root@pam"}, "password": {"secret-root"}}, authz(srv.AdminToken))
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Contains(t, r.line, "not available with API token, need proper ticket.")

	r = do(t, srv, "POST", "/access/ticket", url.Values{"password": {"x"}}, nil)
	assert.Equal(t, "400 Parameter verification failed.", r.line)
}

func TestLoginVerifyMode(t *testing.T) {
	srv := pvetest.NewServer(t, pvetest.WithRootPassword(auth.NewSecret("secret-root")))
	ok := do(t, srv, "POST", "/access/ticket", url.Values{
		"username": {"root@pam"}, "password": {"secret-root"}, "path": {"/vms/100"}, "privs": {"VM.Audit"},
	}, nil)
	require.Equal(t, http.StatusOK, ok.status)
	data := ok.json(t)["data"].(map[string]any)
	assert.Equal(t, "root@pam", data["username"])
	assert.NotContains(t, data, "ticket", "verify mode issues no ticket")

	r := do(t, srv, "POST", "/access/ticket", url.Values{"username": {"root@pam"}, "password": {"secret-root"}, "path": {"/vms"}}, nil)
	assert.Equal(t, "400 Parameter verification failed.", r.line)
	assert.Contains(t, r.body, "missing property - 'path' requires this property")
}

func TestStartCloseAndTLS(t *testing.T) {
	srv, err := pvetest.Start()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(srv.URL, "https://127.0.0.1:"), srv.URL)
	assert.False(t, srv.Fingerprint.IsZero())

	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: srv.TLSConfig()}}
	resp, err := hc.Get(srv.URL + "/api2/json/version")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the TLS configuration trusts the server")

	_, err = http.Get(srv.URL + "/api2/json/version")
	assert.Error(t, err, "default clients reject the self-signed certificate")

	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close(), "Close twice is fine")

	_, err = pvetest.Start(pvetest.WithClock(nil))
	assert.Error(t, err)
	_, err = pvetest.Start(pvetest.WithListenAddr("256.0.0.1:1"))
	assert.Error(t, err)
}

// WithRealDelays holds a 401 back until about 3 seconds after arrival, as
// PVE does.
func TestRealDelays(t *testing.T) {
	t.Parallel()
	srv := pvetest.NewServer(t, pvetest.WithRealDelays())
	start := time.Now()
	r := do(t, srv, "GET", "/version", nil, nil)
	assert.Equal(t, "401 No ticket", r.line)
	assert.GreaterOrEqual(t, time.Since(start), 2500*time.Millisecond)
	assert.Equal(t, http.StatusOK, do(t, srv, "GET", "/version", nil, authz(srv.AdminToken)).status)
}

func TestWithVersion(t *testing.T) {
	var logs strings.Builder
	srv := pvetest.NewServer(t, pvetest.WithVersion("8.4.1", "8.4", "abcd1234"), pvetest.WithErrorLog(log.New(&logs, "", 0)))
	r := do(t, srv, "GET", "/version", nil, authz(srv.AdminToken))
	assert.Equal(t, map[string]any{"data": map[string]any{"version": "8.4.1", "release": "8.4", "repoid": "abcd1234"}}, r.json(t))
	_, err := pvetest.Start(pvetest.WithVersion("", "", ""))
	assert.Error(t, err)

	srv.CloseClientConnections()
	assert.Equal(t, http.StatusOK, do(t, srv, "GET", "/version", nil, authz(srv.AdminToken)).status, "new connections work")
}
