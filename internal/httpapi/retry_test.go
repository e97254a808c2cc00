package httpapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

// failing answers the first n requests with status (PBS style), then 200.
func failing(n int32, status int) (http.HandlerFunc, *atomic.Int32) {
	var calls atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			writePBSError(w, status, "temporarily unavailable")
			return
		}
		writeData(w, "ok", nil)
	}, &calls
}

func TestRetriesIdempotentRequestsOn5xx(t *testing.T) {
	h, _ := failing(2, http.StatusServiceUnavailable)
	srv := newServer(t, auth.PBS, h)
	var s string
	resp, err := srv.client(pbsTestToken).Do(context.Background(), Request{Path: "/status", Out: &s})
	require.NoError(t, err)
	assert.Equal(t, "ok", s)
	assert.Equal(t, 3, resp.Attempts)
	assert.Equal(t, 3, srv.count())
}

func TestRetriesStopAtMaxAttempts(t *testing.T) {
	h, _ := failing(100, http.StatusBadGateway)
	srv := newServer(t, auth.PBS, h)
	err := srv.client(pbsTestToken).Get(context.Background(), "/status", nil, nil)
	require.ErrorIs(t, err, ErrServer)
	assert.Equal(t, DefaultMaxAttempts, srv.count())

	srv2 := newServer(t, auth.PBS, h)
	err = srv2.client(pbsTestToken, func(c *Config) { c.Retry = NoRetry }).Get(context.Background(), "/status", nil, nil)
	require.ErrorIs(t, err, ErrServer)
	assert.Equal(t, 1, srv2.count(), "NoRetry sends once")
}

func TestNoRetries(t *testing.T) {
	tests := []struct {
		name   string
		status int
		req    Request
	}{
		{"POST 503", 503, Request{Method: http.MethodPost, Path: "/x"}},
		{"PUT 503", 503, Request{Method: http.MethodPut, Path: "/x"}},
		{"DELETE 503", 503, Request{Method: http.MethodDelete, Path: "/x"}},
		{"GET 400", 400, Request{Path: "/x"}},
		{"GET 401", 401, Request{Path: "/x"}},
		{"GET 403", 403, Request{Path: "/x"}},
		{"GET 404", 404, Request{Path: "/x"}},
		{"GET 429", 429, Request{Path: "/x"}},
		{"GET 501", 501, Request{Path: "/x"}},
		{"idempotent POST with a one-shot body", 503, Request{Method: http.MethodPost, Path: "/x", Idempotent: true,
			Body: io.MultiReader(strings.NewReader("once"))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := failing(100, tt.status)
			srv := newServer(t, auth.PBS, h)
			_, err := srv.client(pbsTestToken).Do(context.Background(), tt.req)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.status, ae.Status)
			assert.Equal(t, 1, srv.count())
		})
	}
}

// TestPVEHandlerErrorsAreNotRetried: PVE answers 500 for "no such user";
// repeating the GET would give the same answer, so it is sent once, while
// other 500s (a cluster lock timeout) are retried.
func TestPVEHandlerErrorsAreNotRetried(t *testing.T) {
	srv := newServer(t, auth.PVE, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/bob@pve") {
			writePVEError(t, w, 500, "no such user ('bob@pve')", "no such user ('bob@pve')", nil)
			return
		}
		writePVEError(t, w, 500, "cfs-lock 'file-user_cfg' error: got lock request timeout",
			"cfs-lock 'file-user_cfg' error: got lock request timeout", nil)
	})
	c := srv.client(pveTestToken)
	require.ErrorIs(t, c.Get(context.Background(), "/access/users/bob@pve", nil, nil), ErrNotFound)
	assert.Equal(t, 1, srv.count())
	require.ErrorIs(t, c.Get(context.Background(), "/access/users", nil, nil), ErrServer)
	assert.Equal(t, 1+DefaultMaxAttempts, srv.count())
}

func TestIdempotentRequestsReplayTheirBody(t *testing.T) {
	h, _ := failing(2, http.StatusServiceUnavailable)
	srv := newServer(t, auth.PBS, h)
	c := srv.client(pbsTestToken)

	// A seekable body is replayed from where it started, not from 0.
	body := strings.NewReader("skip:payload")
	_, err := body.Seek(5, io.SeekStart)
	require.NoError(t, err)
	resp, err := c.Do(context.Background(), Request{Method: http.MethodPut, Path: "/x", Body: body, Idempotent: true})
	require.NoError(t, err)
	assert.Equal(t, 3, resp.Attempts)
	for _, r := range srv.requests() {
		assert.Equal(t, "payload", r.Body)
	}

	// Form parameters are replayed too.
	h2, _ := failing(1, http.StatusServiceUnavailable)
	srv2 := newServer(t, auth.PVE, h2)
	v := Values{}
	v.Set("comment", "x")
	resp, err = srv2.client(pveTestToken).Do(context.Background(), Request{Method: http.MethodPut, Path: "/x", Params: v, Idempotent: true})
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	for _, r := range srv2.requests() {
		assert.Equal(t, "comment=x", r.Body)
	}
}

// hangUp closes the connection without an answer.
func hangUp(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		_ = conn.Close()
	}
}

func TestConnectionErrors(t *testing.T) {
	srv := newServer(t, auth.PVE, hangUp(t))
	c := srv.client(pveTestToken)
	err := c.Get(context.Background(), "/version", nil, nil)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, DefaultMaxAttempts, te.Attempts)
	assert.Equal(t, DefaultMaxAttempts, srv.count())
	assert.NotContains(t, err.Error(), srv.URL, "transport errors name the path, not the URL")

	err = c.Post(context.Background(), "/version", nil, nil)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 1, te.Attempts)
	assert.Equal(t, DefaultMaxAttempts+1, srv.count(), "a POST is not repeated")

	// Connection refused.
	closed := newServer(t, auth.PVE, hangUp(t))
	cc := closed.client(pveTestToken)
	closed.Close()
	err = cc.Get(context.Background(), "/version", nil, nil)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, DefaultMaxAttempts, te.Attempts)
}

func TestCertificateErrorsAreNotRetried(t *testing.T) {
	srv := newServer(t, auth.PBS, func(w http.ResponseWriter, r *http.Request) { writeData(w, nil, nil) })

	// System roots do not know the test certificate.
	untrusted, err := New(Config{BaseURL: srv.URL, Product: auth.PBS, Credentials: pbsTestToken,
		Retry: RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
	require.NoError(t, err)
	err = untrusted.Get(context.Background(), "/version", nil, nil)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	var verr *tls.CertificateVerificationError
	assert.ErrorAs(t, err, &verr)
	assert.Equal(t, 1, te.Attempts)

	// A pinned fingerprint that does not match.
	wrong := auth.FingerprintOf(srv.Certificate())
	wrong[0] ^= 0xff
	pinned, err := auth.TLSConfig(auth.WithFingerprint(&wrong))
	require.NoError(t, err)
	c := srv.client(pbsTestToken, func(c *Config) { c.TLSConfig = pinned })
	err = c.Get(context.Background(), "/version", nil, nil)
	require.ErrorIs(t, err, auth.ErrFingerprintMismatch)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 1, te.Attempts)

	// The right one is accepted without any CA.
	right := auth.FingerprintOf(srv.Certificate())
	pinned, err = auth.TLSConfig(auth.WithFingerprint(&right))
	require.NoError(t, err)
	c = srv.client(pbsTestToken, func(c *Config) { c.TLSConfig = pinned })
	require.NoError(t, c.Get(context.Background(), "/version", nil, nil))
	assert.Equal(t, 1, srv.count(), "failed handshakes never reach the handler")
}

func TestContextCancelStopsRetries(t *testing.T) {
	answered := make(chan struct{}, 10)
	srv := newServer(t, auth.PBS, func(w http.ResponseWriter, r *http.Request) {
		writePBSError(w, http.StatusServiceUnavailable, "busy")
		answered <- struct{}{}
	})
	slow := func(c *Config) { c.Retry = RetryPolicy{MinBackoff: time.Minute, MaxBackoff: time.Minute} }
	c := srv.client(pbsTestToken, slow)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-answered; time.Sleep(20 * time.Millisecond); cancel() }()
	start := time.Now()
	err := c.Get(ctx, "/status", nil, nil)
	require.ErrorIs(t, err, context.Canceled)
	var ae *APIError
	require.ErrorAs(t, err, &ae, "the last answer is kept")
	assert.Equal(t, http.StatusServiceUnavailable, ae.Status)
	assert.Less(t, time.Since(start), 30*time.Second, "did not wait for the one-minute backoff")
	assert.Equal(t, 1, srv.count())

	ctx, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	err = c.Get(ctx, "/status", nil, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 2, srv.count())

	// An already cancelled context sends nothing.
	dead, cancel3 := context.WithCancel(context.Background())
	cancel3()
	err = c.Get(dead, "/status", nil, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 2, srv.count())
}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	p := RetryPolicy{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	for retry := 0; retry < 200; retry++ {
		want := min(p.MaxBackoff, p.MinBackoff<<min(retry, 20))
		for i := 0; i < 20; i++ {
			d := p.Backoff(retry)
			require.GreaterOrEqual(t, d, want/2, "retry %d", retry)
			require.LessOrEqual(t, d, want, "retry %d", retry)
		}
	}
	seen := map[time.Duration]bool{}
	for i := 0; i < 50; i++ {
		seen[p.Backoff(3)] = true
	}
	assert.Greater(t, len(seen), 1, "backoff is jittered")

	var zero RetryPolicy
	assert.LessOrEqual(t, zero.Backoff(100), DefaultMaxBackoff)
	assert.GreaterOrEqual(t, zero.Backoff(0), DefaultMinBackoff/2)
	huge := RetryPolicy{MinBackoff: time.Duration(1) << 62, MaxBackoff: time.Duration(math.MaxInt64)}
	assert.Positive(t, huge.Backoff(10), "no overflow")
}

// retryLog returns the backoffs of the retry warnings in a JSON log.
func retryLog(t *testing.T, log string) []time.Duration {
	var out []time.Duration
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var rec struct {
			Level   string        `json:"level"`
			Backoff time.Duration `json:"backoff"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if rec.Level == "WARN" {
			out = append(out, rec.Backoff)
		}
	}
	return out
}

func TestRetryAfterIsHonouredUpToMaxBackoff(t *testing.T) {
	var calls atomic.Int32
	srv := newServer(t, auth.PBS, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			writePBSError(w, http.StatusServiceUnavailable, "busy")
			return
		}
		writeData(w, nil, nil)
	})
	logger, buf := logBuffer()
	c := srv.client(pbsTestToken, func(c *Config) {
		c.Logger = logger
		c.Retry = RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 30 * time.Millisecond}
	})
	require.NoError(t, c.Get(context.Background(), "/status", nil, nil))
	assert.Equal(t, []time.Duration{30 * time.Millisecond}, retryLog(t, buf.String()))
}

func TestLogRecords(t *testing.T) {
	h, _ := failing(1, http.StatusBadGateway)
	srv := newServer(t, auth.PVE, h)
	logger, buf := logBuffer()
	c := srv.client(pveTestToken, func(c *Config) { c.Logger = logger })
	require.NoError(t, c.Get(context.Background(), "/nodes", nil, nil))
	log := buf.String()
	assert.Equal(t, 2, strings.Count(log, `"msg":"proxmox API request"`), log)
	assert.Equal(t, 1, strings.Count(log, `"level":"WARN"`), log)
	assert.Contains(t, log, `"path":"/nodes"`)
	assert.Contains(t, log, `"status":502`)
	assert.Len(t, retryLog(t, log), 1)
}
