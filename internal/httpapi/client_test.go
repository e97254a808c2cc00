package httpapi

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no product", Config{BaseURL: "https://pve:8006"}, "Product"},
		{"plain http", Config{BaseURL: "http://pve:8006", Product: auth.PVE}, "https"},
		{"user info", Config{BaseURL: "https://root:pw@pve:8006", Product: auth.PVE}, "user info"},
		{"other path", Config{BaseURL: "https://pve:8006/api2/extjs", Product: auth.PVE}, "path"},
		{"negative retry", Config{BaseURL: "https://pve", Product: auth.PVE, Retry: RetryPolicy{MaxAttempts: -1}}, "negative"},
		{"backoff order", Config{BaseURL: "https://pve", Product: auth.PVE, Retry: RetryPolicy{MinBackoff: time.Second, MaxBackoff: time.Millisecond}}, "MaxBackoff"},
		{"client and tls", Config{BaseURL: "https://pve", Product: auth.PVE, HTTPClient: &http.Client{}, TLSConfig: &tls.Config{}}, "either"},
		{"negative size", Config{BaseURL: "https://pve", Product: auth.PVE, MaxResponseSize: -1}, "MaxResponseSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "pw@")
		})
	}
}

func TestNewNormalisesBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://pbs.example.com":                 "https://pbs.example.com:8007",
		"https://pbs.example.com:8007/api2/json":  "https://pbs.example.com:8007",
		"https://pbs.example.com:8007/api2/json/": "https://pbs.example.com:8007",
		"https://[::1]:9000/":                     "https://[::1]:9000",
	} {
		c, err := New(Config{BaseURL: in, Product: auth.PBS})
		require.NoError(t, err, in)
		assert.Equal(t, want, c.BaseURL(), in)
		assert.Equal(t, want+"/api2/json/version", c.url("/version", ""))
	}
}

func TestAccessorsAndTransport(t *testing.T) {
	tlsIn := &tls.Config{ServerName: "pve.internal", MinVersion: tls.VersionTLS13}
	c, err := New(Config{BaseURL: "https://pve", Product: auth.PVE, Credentials: pveTestToken, TLSConfig: tlsIn})
	require.NoError(t, err)
	assert.Equal(t, auth.PVE, c.Product())
	assert.Equal(t, pveTestToken, c.Credentials())
	assert.Equal(t, DefaultUserAgent, c.UserAgent())

	got := c.TLSConfig()
	require.NotNil(t, got)
	assert.Equal(t, "pve.internal", got.ServerName)
	got.ServerName = "changed"
	assert.Equal(t, "pve.internal", c.TLSConfig().ServerName, "TLSConfig must return a clone")
	tlsIn.ServerName = "changed by caller"
	assert.Equal(t, "pve.internal", c.TLSConfig().ServerName, "the caller's config must be cloned")

	tr, ok := c.HTTPClient().Transport.(*http.Transport)
	require.True(t, ok, "transport comes from go-cleanhttp")
	assert.NotSame(t, http.DefaultTransport, tr)
	assert.Equal(t, "pve.internal", tr.TLSClientConfig.ServerName)

	ep := c.Endpoint()
	assert.Equal(t, auth.PVE, ep.Product)
	assert.Equal(t, "https://pve:8006", ep.BaseURL)
	assert.Same(t, c.HTTPClient(), ep.Client)

	// Default TLS: system roots, verification on.
	d, err := New(Config{BaseURL: "https://pve", Product: auth.PVE})
	require.NoError(t, err)
	assert.False(t, d.TLSConfig().InsecureSkipVerify)
	assert.Nil(t, d.TLSConfig().RootCAs)

	// A custom client is used as is.
	hc := &http.Client{Timeout: time.Minute}
	e, err := New(Config{BaseURL: "https://pve", Product: auth.PVE, HTTPClient: hc})
	require.NoError(t, err)
	assert.Same(t, hc, e.HTTPClient())
	assert.Nil(t, e.TLSConfig())
	assert.Nil(t, hc.CheckRedirect, "a custom client must not be modified")
}

func TestGetUnwrapsEnvelopeAndDigest(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	srv := newServer(t, auth.PBS, func(w http.ResponseWriter, r *http.Request) {
		if !checkToken(t, auth.PBS, w, r, pbsTokenID, testSecret) {
			return
		}
		writeData(w, []map[string]any{{"userid": "root@pam", "enable": true}, {"userid": "alice@pbs"}},
			map[string]any{"digest": digest})
	})
	c := srv.client(pbsTestToken)
	var users []struct {
		Userid string `json:"userid"`
		Enable *bool  `json:"enable"`
	}
	params := Values{}
	params.SetBool("include_tokens", true)
	resp, err := c.Do(context.Background(), Request{Path: "/access/users", Params: params, Out: &users})
	require.NoError(t, err)
	require.Len(t, users, 2)
	assert.Equal(t, "alice@pbs", users[1].Userid)
	assert.Equal(t, digest, resp.Digest)
	assert.Contains(t, resp.Attributes, "digest")
	assert.Equal(t, 1, resp.Attempts)

	got := srv.last()
	assert.Equal(t, http.MethodGet, got.Method)
	assert.Equal(t, "/api2/json/access/users", got.Path)
	assert.Equal(t, "include_tokens=1", got.RawQuery)
	assert.Empty(t, got.ContentType, "PBS reads JSON bodies instead of the query: never send a JSON content type on GET")
	assert.Empty(t, got.Body)
	assert.Equal(t, "application/json", got.Header.Get("Accept"))
	assert.Equal(t, DefaultUserAgent, got.Header.Get("User-Agent"))
}

func TestPVETotalAndNullData(t *testing.T) {
	srv := newServer(t, auth.PVE, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api2/json/cluster/tasks" {
			writeData(w, []any{"a", "b"}, map[string]any{"total": 42})
			return
		}
		writeData(w, nil, nil)
	})
	c := srv.client(nil)
	var tasks []string
	resp, err := c.Do(context.Background(), Request{Path: "/cluster/tasks", Out: &tasks})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, tasks)
	assert.Equal(t, int64(42), resp.Total)
	assert.Empty(t, resp.Digest)

	// null data leaves out untouched and is no error.
	out := map[string]any{"kept": true}
	require.NoError(t, c.Delete(context.Background(), "/access/users/bob@pve", nil, &out))
	assert.Equal(t, map[string]any{"kept": true}, out)
	assert.Equal(t, http.MethodDelete, srv.last().Method)
	assert.Empty(t, srv.last().Header.Get("Authorization"), "nil credentials send nothing")
}

// tokenCreate mirrors the parameters of POST .../token/{name}.
type tokenCreate struct {
	Comment string     `api:"comment,omitempty"`
	Expire  *time.Time `api:"expire"`
	Privsep *bool      `api:"privsep"`
}

func TestPostSendsFormBodyPerProduct(t *testing.T) {
	type aclUpdate struct {
		Path      string        `api:"path"`
		Roles     []string      `api:"roles"`
		Tokens    []auth.Authid `api:"tokens,omitempty"`
		Propagate *bool         `api:"propagate"`
		Delete    bool          `api:"delete,omitempty"`
	}
	no := false
	params := aclUpdate{Path: "/vms/100", Roles: []string{"PVEVMUser", "PVEAuditor"},
		Tokens: []auth.Authid{pveTokenID}, Propagate: &no}
	tests := []struct {
		product auth.Product
		want    string
	}{
		{auth.PVE, "path=%2Fvms%2F100&roles=PVEVMUser%2CPVEAuditor&tokens=alice%40pve%21automation&propagate=0"},
		{auth.PBS, "path=%2Fvms%2F100&roles=PVEVMUser&roles=PVEAuditor&tokens=alice%40pve%21automation&propagate=0"},
	}
	for _, tt := range tests {
		t.Run(tt.product.String(), func(t *testing.T) {
			srv := newServer(t, tt.product, func(w http.ResponseWriter, r *http.Request) {
				assert.NoError(t, r.ParseForm())
				writeData(w, nil, nil)
			})
			require.NoError(t, srv.client(nil).Put(context.Background(), "/access/acl", params, nil))
			got := srv.last()
			assert.Equal(t, http.MethodPut, got.Method)
			assert.Equal(t, "application/x-www-form-urlencoded", got.ContentType)
			assert.Equal(t, tt.want, got.Body)
			assert.Empty(t, got.RawQuery)
		})
	}
}

// TestUpdateSendsOnlySetFields: an update that sets only the comment must
// not send privsep (another Go SDK resets privsep to its zero value on
// every token update) nor expire.
func TestUpdateSendsOnlySetFields(t *testing.T) {
	srv := newServer(t, auth.PVE, func(w http.ResponseWriter, r *http.Request) {
		if !checkToken(t, auth.PVE, w, r, pveTokenID, testSecret) {
			return
		}
		assert.NoError(t, r.ParseForm())
		if r.PostForm.Get("comment") == "rotated" {
			_, hasPrivsep := r.PostForm["privsep"]
			assert.False(t, hasPrivsep, "privsep was not set by the caller")
		}
		writeData(w, map[string]any{"privsep": 1, "expire": 0, "comment": r.PostForm.Get("comment")}, nil)
	})
	c := srv.client(pveTestToken)
	var info struct {
		Privsep int    `json:"privsep"`
		Comment string `json:"comment"`
	}
	path := JoinPath("access", "users", "alice@pve", "token", "automation")
	require.NoError(t, c.Put(context.Background(), path, tokenCreate{Comment: "rotated"}, &info))
	assert.Equal(t, "comment=rotated", srv.last().Body)
	assert.Equal(t, "/api2/json/access/users/alice@pve/token/automation", srv.last().Path)
	assert.Equal(t, 1, info.Privsep)

	// Explicitly set zero values are sent.
	no := false
	never := time.Time{}
	require.NoError(t, c.Put(context.Background(), path, tokenCreate{Privsep: &no, Expire: &never}, nil))
	assert.Equal(t, "expire=0&privsep=0", srv.last().Body)
}

// seekReader is a seekable upload body that records Close calls.
type seekReader struct {
	*strings.Reader
	closed bool
}

func (s *seekReader) Close() error { s.closed = true; return nil }

func TestRawUploadAndStreamedDownload(t *testing.T) {
	payload := strings.Repeat("blob-data ", 1000)
	srv := newServer(t, auth.PBS, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			b, _ := io.ReadAll(r.Body)
			assert.Equal(t, payload, string(b))
			assert.Equal(t, int64(len(payload)), r.ContentLength)
			writeData(w, nil, nil)
		case http.MethodGet:
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = io.WriteString(w, payload)
		}
	})
	c := srv.client(pbsTestToken)
	body := &seekReader{Reader: strings.NewReader(payload)}
	params := Values{}
	params.Set("file-name", "qemu-server.conf.blob")
	params.SetInt("encoded-size", int64(len(payload)))
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/blob", Params: params, Body: body})
	require.NoError(t, err)
	got := srv.last()
	assert.Equal(t, "application/octet-stream", got.ContentType)
	assert.Equal(t, "file-name=qemu-server.conf.blob&encoded-size=10000", got.RawQuery, "with a raw body, parameters go to the query")
	assert.False(t, body.closed, "the caller's body must not be closed")

	resp, err := c.Do(context.Background(), Request{Path: "/download", Params: params, Stream: true})
	require.NoError(t, err)
	require.NotNil(t, resp.Body)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, payload, string(b))
	assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	srv := newServer(t, auth.PVE, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/steal", http.StatusFound)
	})
	err := srv.client(pveTestToken).Get(context.Background(), "/version", nil, nil)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusFound, ae.Status)
	assert.Equal(t, 1, srv.count())
}

func TestBadPathsAreRefusedBeforeSending(t *testing.T) {
	srv := newServer(t, auth.PBS, func(w http.ResponseWriter, r *http.Request) { writeData(w, nil, nil) })
	c := srv.client(pbsTestToken)
	for _, p := range []string{"", "access/users", JoinPath("access", "users", ""), "/access//token",
		"/access/users?x=1", "/a/../b", "/a b", "/a%zz", "/a\x00"} {
		err := c.Delete(context.Background(), p, nil, nil)
		assert.ErrorIs(t, err, ErrInvalidRequest, "%q", p)
	}
	assert.Zero(t, srv.count())

	// The prefix is tolerated once.
	require.NoError(t, c.Get(context.Background(), "/api2/json/version", nil, nil))
	assert.Equal(t, "/api2/json/version", srv.last().Path)
}

func TestEncodingErrorsAreRefusedBeforeSending(t *testing.T) {
	srv := newServer(t, auth.PVE, func(w http.ResponseWriter, r *http.Request) { writeData(w, nil, nil) })
	type untagged struct{ Comment string }
	err := srv.client(nil).Post(context.Background(), "/access/users", untagged{Comment: "x"}, nil)
	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.Contains(t, err.Error(), "Comment")
	assert.Zero(t, srv.count())
}

func TestNewHTTPRequestAndCheckResponse(t *testing.T) {
	srv := newServer(t, auth.PBS, func(w http.ResponseWriter, r *http.Request) {
		if !checkToken(t, auth.PBS, w, r, pbsTokenID, testSecret) {
			return
		}
		writePBSError(w, http.StatusNotFound, "namespace 'x' does not exist")
	})
	c := srv.client(pbsTestToken)
	params := Values{}
	params.Set("store", "store1")
	req, err := c.NewHTTPRequest(context.Background(), Request{Path: "/backup", Params: params,
		Header: http.Header{"Upgrade": {"proxmox-backup-protocol-v1"}}})
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/api2/json/backup?store=store1", req.URL.String())
	assert.Equal(t, "proxmox-backup-protocol-v1", req.Header.Get("Upgrade"))
	assert.True(t, strings.HasPrefix(req.Header.Get("Authorization"), "PBSAPIToken"))

	resp, err := c.HTTPClient().Do(req)
	require.NoError(t, err)
	err = c.CheckResponse(resp)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "/backup", ae.Path)
	assert.Equal(t, http.MethodGet, ae.Method)
	assert.ErrorIs(t, err, ErrNotFound)

	assert.NoError(t, c.CheckResponse(&http.Response{StatusCode: 200, Body: http.NoBody}))
}

func TestCredentialErrorsStopTheRequest(t *testing.T) {
	srv := newServer(t, auth.PVE, func(w http.ResponseWriter, r *http.Request) { writeData(w, nil, nil) })
	// A token without secret refuses to apply itself.
	err := srv.client(auth.Token{ID: pveTokenID}).Get(context.Background(), "/version", nil, nil)
	require.ErrorIs(t, err, auth.ErrMissingSecret)
	assert.Zero(t, srv.count())
	assert.False(t, errors.Is(err, ErrUnauthorized))
}
