package httpapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

// Test tokens. The secrets are UUID-shaped, as real ones, so that a leak
// into an error or log is easy to search for.
var (
	pveTokenID     = auth.MustParseAuthid("alice@pve!automation")
	pbsTokenID     = auth.MustParseAuthid("alice@pbs!backup")
	testSecret     = "5b1f3d2e-8c4a-4e6f-9a7b-0c1d2e3f4a5b"
	paramSecret    = "hunter2-correct-horse-battery"
	pveTestToken   = auth.Token{ID: pveTokenID, Secret: auth.NewSecret(testSecret)}
	pbsTestToken   = auth.Token{ID: pbsTokenID, Secret: auth.NewSecret(testSecret)}
	pveServerIdent = "pve-api-daemon/3.0"
)

// seen is one request as the test server received it.
type seen struct {
	Method      string
	Path        string // escaped path
	RawQuery    string
	ContentType string
	Body        string
	Header      http.Header
}

// product is a TLS test server speaking one product's dialect. Handlers
// are plain functions of the test; the server records every request.
type product struct {
	*httptest.Server
	t       testing.TB
	product auth.Product
	mu      sync.Mutex
	reqs    []seen
}

// newServer starts a TLS server for p whose handler is h. Requests outside
// /api2/json fail the test: the client must always use the prefix.
func newServer(t testing.TB, p auth.Product, h http.HandlerFunc) *product {
	t.Helper()
	s := &product{t: t, product: p}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			ContentType: r.Header.Get("Content-Type"), Body: string(body), Header: r.Header.Clone()})
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !strings.HasPrefix(r.URL.Path, APIPrefix+"/") {
			t.Errorf("request outside %s: %s", APIPrefix, r.URL.Path)
			http.Error(w, "wrong prefix", http.StatusTeapot)
			return
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// requests returns what the server has received so far.
func (s *product) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

func (s *product) count() int { return len(s.requests()) }

// last returns the last request; the test fails if there was none.
func (s *product) last() seen {
	s.t.Helper()
	r := s.requests()
	require.NotEmpty(s.t, r, "server received no request")
	return r[len(r)-1]
}

// trust returns a TLS config that verifies the server's certificate
// normally (no InsecureSkipVerify).
func (s *product) trust() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// client returns a client for the server; mod adjusts the config.
func (s *product) client(creds auth.Credentials, mod ...func(*Config)) *Client {
	s.t.Helper()
	cfg := Config{BaseURL: s.URL, Product: s.product, Credentials: creds, TLSConfig: s.trust(),
		Retry: RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	require.NoError(s.t, err)
	return c
}

// writeData writes both products' success envelope with extra members.
func writeData(w http.ResponseWriter, data any, extra map[string]any) {
	m := map[string]any{"data": data}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(b)
}

// writePBSError answers like proxmox-rest-server: the message as plain
// text although the content type says JSON.
func writePBSError(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

// writeRaw writes a response with a custom reason phrase, which net/http
// cannot do: it hijacks the connection, writes the status line by hand and
// closes the connection (as pveproxy's errors do not keep it alive here).
func writeRaw(t testing.TB, w http.ResponseWriter, status int, reason string, header map[string]string, body string) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	defer conn.Close()
	var b strings.Builder
	b.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + reason + "\r\n")
	b.WriteString("Server: " + pveServerIdent + "\r\n")
	for k, v := range header {
		b.WriteString(k + ": " + v + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body)
	_, _ = rw.WriteString(b.String())
	_ = rw.Flush()
}

// writePVEError answers like pve-http-server: the reason phrase carries
// the message's first line, the body is {"data":null,"message":...} plus
// "errors" for parameter errors. A 401 has no body at all.
func writePVEError(t testing.TB, w http.ResponseWriter, status int, reason, message string, errs map[string]string) {
	if status == http.StatusUnauthorized && message == "" {
		writeRaw(t, w, status, reason, nil, "")
		return
	}
	m := map[string]any{"data": nil, "message": message + "\n"}
	if errs != nil {
		m["errors"] = errs
	}
	b, _ := json.Marshal(m)
	writeRaw(t, w, status, reason, map[string]string{"Content-Type": "application/json;charset=UTF-8"}, string(b))
}

// checkToken verifies the Authorization header like the product does
// (PVE: split at the last '='; PBS: at the first ':') and answers 401 in
// the product's dialect when it does not match id/secret. It reports
// whether the request may go on.
func checkToken(t testing.TB, p auth.Product, w http.ResponseWriter, r *http.Request, id auth.Authid, secret string) bool {
	h := r.Header.Get("Authorization")
	ok := false
	switch p {
	case auth.PVE:
		if v, found := strings.CutPrefix(h, "PVEAPIToken="); found {
			i := strings.LastIndexByte(v, '=')
			ok = i > 0 && v[:i] == id.String() && v[i+1:] == secret
		}
	case auth.PBS:
		v, found := strings.CutPrefix(h, "PBSAPIToken=")
		if !found {
			v, found = strings.CutPrefix(h, "PBSAPIToken ")
		}
		if found {
			gotID, gotSecret, _ := strings.Cut(v, ":")
			ok = gotID == id.String() && gotSecret == secret
		}
	}
	if ok {
		return true
	}
	if p == auth.PVE {
		reason := "Authentication failed!"
		if h == "" || !strings.HasPrefix(h, "PVEAPIToken") {
			reason = "No ticket"
		}
		writePVEError(t, w, http.StatusUnauthorized, reason, "", nil)
	} else {
		writePBSError(w, http.StatusUnauthorized, "authentication failed")
	}
	return false
}

// headerCreds is a test double for hand-written credentials: it sets a
// fixed Authorization header for an arbitrary auth id, which auth.Token
// refuses to do for ids that are not token ids.
type headerCreds struct {
	id     auth.Authid
	header string
}

func (c headerCreds) AuthID() auth.Authid { return c.id }
func (c headerCreds) Apply(_ context.Context, r *http.Request, _ auth.Endpoint) error {
	r.Header.Set("Authorization", c.header)
	return nil
}

// logBuffer returns a debug-level logger writing JSON records to a buffer.
func logBuffer() (*slog.Logger, *syncBuffer) {
	var b syncBuffer
	return slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
