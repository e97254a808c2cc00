package pve_test

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pve"
)

func TestNewClientOptions(t *testing.T) {
	c, err := pve.NewClient("https://pve.example.com")
	require.NoError(t, err)
	assert.Equal(t, "https://pve.example.com:8006", c.BaseURL(), "the PVE port is the default")
	assert.True(t, c.AuthID().IsZero())

	id := aid("ci@pve!deploy")
	c, err = pve.NewClient("https://pve.example.com:8443/api2/json", pve.WithToken(id, auth.NewSecret("s")), nil,
		pve.WithUserAgent("test/1"))
	require.NoError(t, err)
	assert.Equal(t, id, c.AuthID())
	assert.Equal(t, "https://pve.example.com:8443", c.BaseURL())

	for name, opt := range map[string]pve.Option{
		"zero fingerprint": pve.WithFingerprint(auth.Fingerprint{}),
		"nil credentials":  pve.WithCredentials(nil),
		"nil roots":        pve.WithRootCAs(nil),
		"nil client":       pve.WithHTTPClient(nil),
		"negative retries": pve.WithRetryPolicy(pve.RetryPolicy{MaxAttempts: -1}),
		"bad token":        pve.WithToken(auth.Authid{}, auth.NewSecret("s")),
	} {
		_, err := pve.NewClient("https://pve.example.com", opt)
		assert.Error(t, err, name)
	}
	_, err = pve.NewClient("https://pve.example.com", pve.WithInsecureSkipVerify(),
		pve.WithFingerprint(auth.MustParseFingerprint("ab:"+repeatHex("cd", 31))))
	assert.Error(t, err, "insecure and pinned exclude each other")
	_, err = pve.NewClient("ftp://pve.example.com")
	assert.Error(t, err)
	_, err = pve.NewClient("https://pve.example.com", pve.WithHTTPClient(http.DefaultClient), pve.WithInsecureSkipVerify())
	assert.Error(t, err, "an own HTTP client carries its own TLS settings")
}

func repeatHex(s string, n int) string {
	out := s
	for i := 1; i < n; i++ {
		out += ":" + s
	}
	return out
}

func TestTLSVerification(t *testing.T) {
	e := newEnv(t)
	_, err := e.client().Version(ctx(t))
	assert.ErrorIs(t, err, pve.ErrUnauthorized, "pinned: the connection works, credentials are missing")

	c, err := pve.NewClient(e.srv.URL, pve.WithCredentials(e.srv.AdminToken), pve.WithRetryPolicy(pve.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = c.Version(ctx(t))
	var cv *tls.CertificateVerificationError
	assert.ErrorAs(t, err, &cv, "system roots: the self-signed certificate is refused")

	c, err = pve.NewClient(e.srv.URL, pve.WithCredentials(e.srv.AdminToken), pve.WithRootCAs(e.srv.CertPool()))
	require.NoError(t, err)
	_, err = c.Version(ctx(t))
	assert.NoError(t, err, "trusted through a root pool")
	c, err = pve.NewClient(e.srv.URL, pve.WithCredentials(e.srv.AdminToken), pve.WithHTTPClient(e.srv.HTTPClient()))
	require.NoError(t, err)
	_, err = c.Version(ctx(t))
	assert.NoError(t, err, "an own HTTP client")
	c, err = pve.NewClient(e.srv.URL, pve.WithCredentials(e.srv.AdminToken), pve.WithInsecureSkipVerify())
	require.NoError(t, err)
	_, err = c.Version(ctx(t))
	assert.NoError(t, err, "verification off by name")
}

func TestVersion(t *testing.T) {
	e := newEnv(t)
	v, err := e.admin.Version(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, pve.Version{Version: "9.1.1", Release: "9.1", RepoID: "00000000"}, *v)
}

// The escape hatch reaches any endpoint with url.Values or tagged structs.
func TestEscapeHatch(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.admin.Post(ctx(t), "/access/users", url.Values{"userid": {"raw@pve"}, "comment": {"via Post"}}, nil))
	require.NoError(t, e.admin.Put(ctx(t), pve.JoinPath("access", "users", "raw@pve"), struct {
		Email   string `api:"email,omitempty"`
		Enabled *bool  `api:"enable"`
	}{Email: "raw@example.com"}, nil))
	var user struct {
		Comment string `json:"comment"`
		Email   string `json:"email"`
		Enable  int    `json:"enable"`
	}
	require.NoError(t, e.admin.Get(ctx(t), pve.JoinPath("access", "users", "raw@pve"), nil, &user))
	assert.Equal(t, "via Post", user.Comment)
	assert.Equal(t, "raw@example.com", user.Email)
	assert.Equal(t, 1, user.Enable, "a nil pointer field was not sent")
	var rows []map[string]any
	require.NoError(t, e.admin.Get(ctx(t), "/access/users", url.Values{"enabled": {"1"}}, &rows))
	assert.Len(t, rows, 2)

	require.NoError(t, e.admin.Delete(ctx(t), pve.JoinPath("access", "users", "raw@pve"), nil, nil))
	err := e.admin.Get(ctx(t), "/nodes/pve1/qemu", nil, &rows)
	assert.ErrorIs(t, err, pve.ErrUnknownPath, "the mock answers 501 for what it does not implement")
	pe := apiError(t, err)
	assert.Equal(t, "/nodes/pve1/qemu", pe.Path)

	var index []map[string]string
	require.NoError(t, e.admin.Get(ctx(t), "/access", nil, &index))
	assert.Contains(t, index, map[string]string{"subdir": "acl"})
}

// The quickstart story: a separated token gets 403 with a hint until its
// own entry and its user's entry both grant the privilege.
func TestForbiddenTokenHint(t *testing.T) {
	e := newEnv(t)
	user := e.mkUser("monitor@pve", nil)
	tok := e.mkToken("monitor@pve!ro", nil)
	c := e.as(tok.Credentials())
	_, err := c.Access.GetUser(ctx(t), user)
	pe := apiError(t, err)
	assert.Equal(t, http.StatusForbidden, pe.Status)
	assert.Contains(t, pe.Hint, "privilege-separated token")

	e.grant(pve.ACLChange{Path: "/access/groups", Roles: []string{"PVEAuditor"}, Tokens: []auth.Authid{tok.ID}})
	_, err = c.Access.GetUser(ctx(t), user)
	assert.ErrorIs(t, err, pve.ErrForbidden, "the token's own entry is not enough: its user holds nothing")
	e.grant(pve.ACLChange{Path: "/access/groups", Roles: []string{"PVEAuditor"}, Users: []auth.Userid{user}})
	_, err = c.Access.GetUser(ctx(t), user)
	assert.NoError(t, err)
}
