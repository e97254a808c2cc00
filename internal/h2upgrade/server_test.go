package h2upgrade

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckUpgrade(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		major   int
		header  []string // Upgrade values; nil: absent
		wantErr error
		text    string
	}{
		{"exact", "/api2/json/backup", 1, []string{BackupProtocol}, nil, ""},
		{"double slash path is not our business", "//api2/json/backup", 1, []string{BackupProtocol}, nil, ""},
		{"HTTP/1.0", "/api2/json/backup", 1, []string{BackupProtocol}, nil, ""},
		{"missing", "/api2/json/backup", 1, nil, ErrMissingUpgrade, "missing Upgrade header"},
		{"empty", "/api2/json/backup", 1, []string{""}, ErrInvalidProtocol, "invalid protocol name"},
		{"other protocol", "/api2/json/backup", 1, []string{ReaderProtocol}, ErrInvalidProtocol, "invalid protocol name"},
		{"case differs", "/api2/json/backup", 1, []string{strings.ToUpper(BackupProtocol)}, ErrInvalidProtocol, "invalid protocol name"},
		{"first value counts", "/api2/json/backup", 1, []string{"websocket", BackupProtocol}, ErrInvalidProtocol, "invalid protocol name"},
		{"HTTP/2", "/api2/json/backup", 2, []string{BackupProtocol}, ErrHTTPVersion, "unexpected http version 'HTTP/2.0' (expected version < 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.path, nil)
			if tt.major == 2 {
				r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
			}
			for _, v := range tt.header {
				r.Header.Add("UPGRADE", v) // canonicalised, as net/http does on the wire
			}
			err := CheckUpgrade(r, BackupProtocol)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
			assert.EqualError(t, err, tt.text)
		})
	}
}

func TestUpgradeNeedsHijackableWriter(t *testing.T) {
	r := httptest.NewRequest("GET", "/api2/json/backup", nil)
	r.Header.Set("Upgrade", BackupProtocol)
	rec := httptest.NewRecorder()
	err := Upgrade(rec, r, BackupProtocol, http.NotFoundHandler())
	assert.ErrorIs(t, err, ErrNotHijackable)
	assert.False(t, rec.Flushed)
	assert.Zero(t, rec.Body.Len(), "nothing written: the caller still answers")
}

type ctxKey struct{}

// Requests inside the session see the values of the upgrade request's
// context (for example who authenticated), and WithBaseConfig applies.
func TestSessionRequestsInheritUpgradeContext(t *testing.T) {
	var sawLog atomic.Bool
	base := &http.Server{ErrorLog: log.New(writerFunc(func(p []byte) (int, error) {
		sawLog.Store(true)
		return len(p), nil
	}), "", 0)}
	session := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("handler bug") // logged through the base config's ErrorLog
		}
		_, _ = io.WriteString(w, r.Context().Value(ctxKey{}).(string))
	})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), ctxKey{}, "root@pam!t")
		if err := Upgrade(w, r.WithContext(ctx), BackupProtocol, session, WithBaseConfig(base)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	}))
	srv.StartTLS()
	defer srv.Close()
	ts := &testServer{Server: srv, protocol: BackupProtocol}
	c := ts.dial(t)
	resp, err := c.Do(context.Background(), "GET", "/whoami", nil, "", nil)
	require.NoError(t, err)
	assert.Equal(t, "root@pam!t", readBody(t, resp))

	_, err = c.Do(context.Background(), "GET", "/panic", nil, "", nil)
	assert.Error(t, err, "the stream is reset")
	assert.True(t, c.Usable(), "a handler panic costs the stream, not the session")
	// The server resets the stream before it logs the panic, so the log
	// line may come a moment after the client saw the reset.
	assert.Eventually(t, sawLog.Load, 5*time.Second, 5*time.Millisecond, "the panic is logged")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestHandlerTrackerWaitsAndRefusesLateCalls(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	tr := &handlerTracker{next: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		calls.Add(1)
		<-release
	})}
	r := httptest.NewRequest("GET", "/", nil)
	go tr.ServeHTTP(httptest.NewRecorder(), r)
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, time.Millisecond)

	waited := make(chan struct{})
	go func() {
		tr.closeAndWait()
		close(waited)
	}()
	select {
	case <-waited:
		t.Fatal("closeAndWait returned while a handler ran")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-waited

	tr.ServeHTTP(httptest.NewRecorder(), r)
	assert.Equal(t, int32(1), calls.Load(), "no handler runs after the session ended")
	tr.closeAndWait() // idempotent
}
