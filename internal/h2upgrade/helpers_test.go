package h2upgrade

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// goodToken is the only credential the test server accepts.
const goodToken = "PBSAPIToken root@pam!t:secret-value"

// testServer is a TLS server offering PBS-style upgrades at
// /api2/json/backup (and //api2/json/backup) that serves sessionHandler.
type testServer struct {
	*httptest.Server
	protocol string
	session  *sessionHandler
	extra    []ServeOption

	upgrades chan *http.Request // every upgrade request, as received
	ended    chan error         // Upgrade's result, once per session

	mu      sync.Mutex
	cancels []context.CancelFunc // drop the sessions from the server side
}

type serverOptions struct {
	advertiseH2 bool
	serveOpts   []ServeOption
}

// startServer starts a test server expecting protocol.
func startServer(t testing.TB, protocol string, o serverOptions) *testServer {
	t.Helper()
	ts := &testServer{
		protocol: protocol,
		session:  newSessionHandler(),
		upgrades: make(chan *http.Request, 16),
		ended:    make(chan error, 64),
	}
	ts.extra = o.serveOpts
	srv := httptest.NewUnstartedServer(http.HandlerFunc(ts.serveOuter))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if o.advertiseH2 {
		// As a general-purpose server would: h2 preferred, http/1.1 too.
		srv.EnableHTTP2 = true
		srv.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	}
	ts.Server = srv
	srv.StartTLS()
	t.Cleanup(func() {
		ts.dropSessions()
		srv.Close()
	})
	return ts
}

func (ts *testServer) serveOuter(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api2/json/backup" && r.URL.Path != "//api2/json/backup" {
		http.Error(w, fmt.Sprintf("Path '%s' not found.", r.URL.Path), http.StatusNotFound)
		return
	}
	select {
	case ts.upgrades <- r.Clone(context.Background()):
	default:
	}
	if r.Header.Get("Authorization") != goodToken {
		http.Error(w, "authentication failed", http.StatusUnauthorized)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	ts.mu.Lock()
	ts.cancels = append(ts.cancels, cancel)
	ts.mu.Unlock()
	opts := append([]ServeOption{WithContext(ctx)}, ts.extra...)
	err := Upgrade(w, r, ts.protocol, ts.session, opts...)
	if refusedBeforeHijack(err) {
		http.Error(w, err.Error(), http.StatusBadRequest)
	}
	select {
	case ts.ended <- err:
	default: // benchmarks open sessions nobody waits for
	}
}

// refusedBeforeHijack tells the errors after which Upgrade wrote nothing.
func refusedBeforeHijack(err error) bool {
	for _, e := range []error{ErrMissingUpgrade, ErrInvalidProtocol, ErrHTTPVersion, ErrNotHijackable} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// dropSessions cancels every session's context: the server drops them.
func (ts *testServer) dropSessions() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, c := range ts.cancels {
		c()
	}
}

// tlsConfig trusts the test server's certificate.
func (ts *testServer) tlsConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	return &tls.Config{RootCAs: pool}
}

// sessionURL is the upgrade URL with a typical query.
func (ts *testServer) sessionURL(path string) *url.URL {
	u, err := url.Parse(ts.URL)
	if err != nil {
		panic(err)
	}
	u.Path = path
	u.RawQuery = url.Values{"backup-id": {"100"}, "backup-time": {"1700000000"}, "backup-type": {"vm"}, "store": {"tank"}}.Encode()
	return u
}

// config is a working DialConfig for ts.
func (ts *testServer) config() DialConfig {
	return DialConfig{
		URL:       ts.sessionURL("/api2/json/backup"),
		Protocol:  ts.protocol,
		TLSConfig: ts.tlsConfig(),
		Authorize: func(r *http.Request) error {
			r.Header.Set("Authorization", goodToken)
			return nil
		},
	}
}

// dial opens a session and closes it at the end of the test.
func (ts *testServer) dial(t testing.TB) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, ts.config())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// waitEnded returns the result of the next session's Upgrade call.
func (ts *testServer) waitEnded(t testing.TB) error {
	t.Helper()
	select {
	case err := <-ts.ended:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("server session did not end")
		return nil
	}
}

// sessionHandler implements a few endpoints inside sessions.
type sessionHandler struct {
	mux *http.ServeMux

	slowStarted  chan struct{} // one value per /slow call that started
	slowReturned chan error    // what each /slow call saw: its ctx error
}

func newSessionHandler() *sessionHandler {
	h := &sessionHandler{
		mux:          http.NewServeMux(),
		slowStarted:  make(chan struct{}, 64),
		slowReturned: make(chan error, 64),
	}
	h.mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		_, _ = io.Copy(w, r.Body)
	})
	h.mux.HandleFunc("/sum", func(w http.ResponseWriter, r *http.Request) {
		n, sum, err := digest(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d %s", n, sum)
	})
	h.mux.HandleFunc("/discard", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"data":null}`)
	})
	h.mux.HandleFunc("/download", func(w http.ResponseWriter, r *http.Request) {
		size, err := strconv.ParseInt(r.URL.Query().Get("size"), 10, 64)
		if err != nil {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
		_, _ = io.Copy(w, randomData(7, size))
	})
	h.mux.HandleFunc("/chunk", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(benchChunk()) // ready-made, so only the transport is measured
	})
	h.mux.HandleFunc("/info", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(requestInfo{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Proto: r.Proto,
			ContentType: r.Header.Get("Content-Type"), Host: r.Host, TLS: r.TLS != nil,
			AcceptEncoding: r.Header.Get("Accept-Encoding"),
		})
	})
	h.mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		h.slowStarted <- struct{}{}
		<-r.Context().Done()
		h.slowReturned <- r.Context().Err()
	})
	return h
}

func (h *sessionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// waitSlow waits until a /slow call runs on the server.
func (h *sessionHandler) waitSlow(t testing.TB) {
	t.Helper()
	select {
	case <-h.slowStarted:
	case <-time.After(10 * time.Second):
		t.Fatal("slow request did not reach the server")
	}
}

type requestInfo struct {
	Method, Path, Query, Proto, ContentType, Host, AcceptEncoding string
	TLS                                                           bool
}

// benchChunk is a 4 MiB pseudo-random chunk, made once.
var benchChunk = sync.OnceValue(func() []byte {
	b, _ := io.ReadAll(randomData(3, 4<<20))
	return b
})

// randomData is n reproducible pseudo-random bytes.
func randomData(seed uint64, n int64) io.Reader {
	var key [32]byte
	key[0] = byte(seed)
	key[1] = byte(seed >> 8)
	return io.LimitReader(rand.NewChaCha8(key), n)
}

// digest returns the length and SHA-256 (hex) of everything in r.
func digest(r io.Reader) (int64, string, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// readBody reads and closes a response body.
func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}
