package httpapi

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

var allSentinels = []error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrExists, ErrConflict, ErrServer, ErrUnknownPath}

// assertSentinels checks that err matches exactly the sentinels in want.
func assertSentinels(t *testing.T, err error, want ...error) {
	t.Helper()
	for _, s := range allSentinels {
		expected := false
		for _, w := range want {
			expected = expected || w == s
		}
		assert.Equal(t, expected, errors.Is(err, s), "errors.Is(err, %v) for %v", s, err)
	}
}

// TestPVEErrorShapes runs each PVE error shape of access-api.md 2.4 and
// 8.1 through a real TLS exchange; reason phrases need a hijacked
// connection, as pve-http-server writes them.
func TestPVEErrorShapes(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		reason    string
		message   string
		errs      map[string]string
		sentinels []error
		wantMsg   string
		wantText  string // in Error()
	}{
		{name: "401 empty body", status: 401, reason: "Authentication failed!",
			sentinels: []error{ErrUnauthorized}, wantMsg: "Authentication failed!", wantText: "HTTP 401 Authentication failed!"},
		{name: "403 permission", status: 403, reason: "Permission check failed (/access, Sys.Audit)",
			message: "Permission check failed (/access, Sys.Audit)", sentinels: []error{ErrForbidden},
			wantMsg: "Permission check failed (/access, Sys.Audit)", wantText: "(/access, Sys.Audit)"},
		{name: "400 parameters", status: 400, reason: "Parameter verification failed.",
			message: "Parameter verification failed.", errs: map[string]string{"tokens": "value 'x' does not look like a valid token id"},
			sentinels: []error{ErrBadRequest}, wantMsg: "Parameter verification failed.", wantText: "tokens: value 'x'"},
		{name: "400 token exists", status: 400, reason: "Parameter verification failed.",
			message: "Parameter verification failed.", errs: map[string]string{"tokenid": "Token already exists."},
			sentinels: []error{ErrBadRequest, ErrExists}, wantText: "tokenid: Token already exists."},
		{name: "500 no such user", status: 500, reason: "no such user ('bob@pve')", message: "no such user ('bob@pve')",
			sentinels: []error{ErrServer, ErrNotFound}, wantMsg: "no such user ('bob@pve')", wantText: "HTTP 500 no such user ('bob@pve')"},
		{name: "500 no such token", status: 500, reason: "no such token 'x' for user 'bob@pve'",
			message: "no such token 'x' for user 'bob@pve'", sentinels: []error{ErrServer, ErrNotFound}},
		{name: "500 user exists", status: 500, reason: "create user failed: user 'bob@pve' already exists",
			message: "create user failed: user 'bob@pve' already exists", sentinels: []error{ErrServer, ErrExists}},
		{name: "500 role missing", status: 500, reason: "role 'Nope' does not exist", message: "role 'Nope' does not exist",
			sentinels: []error{ErrServer, ErrNotFound}},
		{name: "500 other", status: 500, reason: "cfs-lock 'file-user_cfg' error: got lock request timeout",
			message: "cfs-lock 'file-user_cfg' error: got lock request timeout", sentinels: []error{ErrServer}},
		{name: "501 unknown method", status: 501, reason: "Method 'GET /access/nope' not implemented",
			message: "Method 'GET /access/nope' not implemented", sentinels: []error{ErrServer, ErrUnknownPath}},
		{name: "400 digest", status: 400, reason: "detected modified configuration - file changed by other user? Try again.",
			message: "detected modified configuration - file changed by other user? Try again.", sentinels: []error{ErrBadRequest, ErrConflict}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, auth.PVE, func(w http.ResponseWriter, r *http.Request) {
				writePVEError(t, w, tt.status, tt.reason, tt.message, tt.errs)
			})
			c := srv.client(pveTestToken, func(c *Config) { c.Retry = NoRetry })
			err := c.Get(context.Background(), "/access/users/bob@pve", nil, nil)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, auth.PVE, ae.Product)
			assert.Equal(t, http.MethodGet, ae.Method)
			assert.Equal(t, "/access/users/bob@pve", ae.Path)
			assert.Equal(t, tt.status, ae.Status)
			assert.Equal(t, tt.reason, ae.Reason)
			if tt.wantMsg != "" {
				assert.Equal(t, tt.wantMsg, ae.Message)
			}
			if tt.errs != nil {
				assert.Equal(t, tt.errs, ae.Errors)
			}
			assert.Contains(t, err.Error(), tt.wantText)
			assert.Contains(t, err.Error(), "PVE GET /access/users/bob@pve")
			assertSentinels(t, err, tt.sentinels...)
		})
	}
}

// TestPBSErrorShapes: PBS sends the message as plain text with a JSON
// content type (pbs-protocol.md 1.5, access-api.md 8.2).
func TestPBSErrorShapes(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		sentinels []error
		wantErrs  map[string]string
		wantText  string
	}{
		{name: "401", status: 401, body: "authentication failed", sentinels: []error{ErrUnauthorized},
			wantText: "HTTP 401 Unauthorized: authentication failed"},
		{name: "403", status: 403, body: "permission check failed", sentinels: []error{ErrForbidden}},
		{name: "one parameter", status: 400, body: "parameter verification failed - 'userid': value must be at least 3 characters long",
			sentinels: []error{ErrBadRequest}, wantErrs: map[string]string{"userid": "value must be at least 3 characters long"}},
		{name: "several parameters", status: 400,
			body:      "parameter verification failed:\n- 'comment': value too long\n- 'expire': expected integer\n  (got 'soon')",
			sentinels: []error{ErrBadRequest},
			wantErrs:  map[string]string{"comment": "value too long", "expire": "expected integer\n  (got 'soon')"},
			wantText:  "parameter verification failed: 'comment': value too long; 'expire': expected integer; (got 'soon')"},
		{name: "token missing", status: 400, body: "token 'x' of user 'alice@pbs' does not exist.",
			sentinels: []error{ErrBadRequest, ErrNotFound}},
		{name: "user missing", status: 400, body: "user 'bob@pbs' does not exist.", sentinels: []error{ErrBadRequest, ErrNotFound}},
		{name: "token exists", status: 400, body: "token 'x' for user 'alice@pbs' already exists.",
			sentinels: []error{ErrBadRequest, ErrExists}},
		{name: "stale digest", status: 400, body: "detected modified configuration - file changed by other user? Try again.",
			sentinels: []error{ErrBadRequest, ErrConflict}},
		{name: "unknown path", status: 404, body: "Path '/api2/json/nope' not found.", sentinels: []error{ErrUnknownPath}},
		{name: "missing file", status: 404, body: "unable to open file", sentinels: []error{ErrNotFound}},
		{name: "proxy html", status: 502, body: "<html><body>Bad Gateway</body></html>", sentinels: []error{ErrServer},
			wantText: "HTTP 502 Bad Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, auth.PBS, func(w http.ResponseWriter, r *http.Request) {
				writePBSError(w, tt.status, tt.body)
			})
			c := srv.client(pbsTestToken, func(c *Config) { c.Retry = NoRetry })
			err := c.Post(context.Background(), "/access/users", nil, nil)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, auth.PBS, ae.Product)
			assert.Equal(t, http.MethodPost, ae.Method)
			assert.Equal(t, "/access/users", ae.Path)
			assert.Equal(t, tt.status, ae.Status)
			assert.Equal(t, http.StatusText(tt.status), ae.Reason)
			if tt.body[0] != '<' {
				assert.Equal(t, tt.body, ae.Message)
			}
			assert.Equal(t, tt.wantErrs, ae.Errors)
			if tt.wantText != "" {
				assert.Contains(t, err.Error(), tt.wantText)
			}
			assertSentinels(t, err, tt.sentinels...)
		})
	}
}

// TestDecodeErrorBody is the table for the decoder alone, including odd
// bodies a broken server or proxy could send.
func TestDecodeErrorBody(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		reason   string
		body     string
		wantMsg  string
		wantErrs map[string]string
	}{
		{"empty", 401, "No ticket", "", "No ticket", nil},
		{"old PVE without message", 403, "Permission check failed", `{"data":null}`, "Permission check failed", nil},
		{"PVE message newline", 500, "no such user ('x')", "{\"data\":null,\"message\":\"no such user ('x')\\n\"}", "no such user ('x')", nil},
		{"errors not strings", 400, "Parameter verification failed.", `{"data":null,"errors":{"a":1,"b":null,"c":{"x":"y"}}}`,
			"Parameter verification failed.", map[string]string{"a": "1", "b": "", "c": `{"x":"y"}`}},
		{"errors not an object", 400, "Bad Request", `{"errors":"oops","message":"m"}`, "m", nil},
		{"broken JSON is text", 400, "Bad Request", `{"message":`, `{"message":`, nil},
		{"JSON array is text", 400, "Bad Request", `[1,2]`, `[1,2]`, nil},
		{"invalid UTF-8", 400, "Bad Request", "bad \xff\xfe byte", "bad \uFFFD byte", nil},
		{"PBS param without message", 400, "Bad Request", "parameter verification failed - 'x':", "parameter verification failed - 'x':", map[string]string{"x": ""}},
		{"PBS param prefix only", 400, "Bad Request", "parameter verification failed", "parameter verification failed", nil},
		{"PBS list with junk", 400, "Bad Request", "parameter verification failed:\njunk\n- no quote\n- '': empty\n- 'ok': fine",
			"parameter verification failed:\njunk\n- no quote\n- '': empty\n- 'ok': fine", map[string]string{"ok": "fine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := decodeErrorBody(tt.status, tt.reason, []byte(tt.body))
			assert.Equal(t, tt.wantMsg, e.Message)
			assert.Equal(t, tt.wantErrs, e.Errors)
			assert.NotPanics(t, func() { _ = e.Error() })
		})
	}

	long := decodeErrorBody(400, "Bad Request", []byte(string(make([]byte, 0))+repeat("é", maxMessageLen)))
	assert.LessOrEqual(t, len(long.Message), maxMessageLen+len("…"))
}

func repeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for i := 0; i < n; i++ {
		b = append(b, s...)
	}
	return string(b)
}

func TestDecodeErrorsOfSuccessfulAnswers(t *testing.T) {
	bodies := map[string]string{
		"/html":    "<html>login</html>",
		"/nodata":  `{"success":1}`,
		"/null":    `null`,
		"/type":    `{"data":"not a list"}`,
		"/trailer": `{"data":[]} garbage`,
	}
	srv := newServer(t, auth.PVE, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(bodies[r.URL.Path[len(APIPrefix):]]))
	})
	c := srv.client(pveTestToken)
	for path := range bodies {
		var out []string
		_, err := c.Do(context.Background(), Request{Path: path, Out: &out})
		var de *DecodeError
		require.ErrorAs(t, err, &de, path)
		assert.ErrorIs(t, err, ErrMalformedResponse, path)
		assert.NotErrorIs(t, err, ErrResponseTooLarge, path)
		assert.Equal(t, path, de.Path)
		assert.Equal(t, http.MethodGet, de.Method)
		assert.Contains(t, err.Error(), "GET "+path)
	}
	assert.Equal(t, len(bodies), srv.count(), "decode errors are not retried")
}

func TestResponseSizeLimit(t *testing.T) {
	srv := newServer(t, auth.PBS, func(w http.ResponseWriter, r *http.Request) {
		writeData(w, repeat("x", 2000), nil)
	})
	c := srv.client(pbsTestToken, func(c *Config) { c.MaxResponseSize = 1024 })
	var s string
	err := c.Get(context.Background(), "/big", nil, &s)
	require.ErrorIs(t, err, ErrResponseTooLarge)
	assert.NotErrorIs(t, err, ErrMalformedResponse)
	assert.Empty(t, s)

	// Streams are the caller's to bound.
	resp, err := c.Do(context.Background(), Request{Path: "/big", Stream: true})
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
}
