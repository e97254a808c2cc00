package h2upgrade

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUpgradeRefusedByTestServer(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{})
	tests := []struct {
		name    string
		change  func(*DialConfig)
		status  int
		message string
		ended   error // what the server's Upgrade returned, if it ran
	}{
		{"no credentials", func(c *DialConfig) { c.Authorize = nil }, 401, "authentication failed", nil},
		{"other protocol", func(c *DialConfig) { c.Protocol = ReaderProtocol }, 400, "invalid protocol name", ErrInvalidProtocol},
		{"unknown path", func(c *DialConfig) { c.URL = ts.sessionURL("/api2/json/nope") }, 404, "Path '/api2/json/nope' not found.", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ts.config()
			tt.change(&cfg)
			c, err := Dial(context.Background(), cfg)
			require.Error(t, err)
			assert.Nil(t, c)
			var ue *UpgradeError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, tt.status, ue.Status)
			assert.Equal(t, tt.message, ue.Message)
			assert.NotContains(t, err.Error(), "secret-value")
			if tt.ended != nil {
				assert.ErrorIs(t, ts.waitEnded(t), tt.ended)
			}
		})
	}
}

// rawServer answers upgrade requests with whatever answer writes.
func rawServer(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *testServer {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(answer))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, protocol: BackupProtocol}
}

// hijackAndWrite takes over the connection and writes raw bytes.
func hijackAndWrite(w http.ResponseWriter, raw string) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, raw)
}

func TestUpgradeRefusals(t *testing.T) {
	ts := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("answer") {
		case "status":
			code, _ := strconv.Atoi(r.URL.Query().Get("code"))
			w.Header().Set("Content-Type", "application/json;charset=UTF-8") // PBS says so even for text
			w.WriteHeader(code)
			_, _ = io.WriteString(w, r.URL.Query().Get("body"))
		case "other-protocol":
			hijackAndWrite(w, "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n")
		case "no-upgrade-header":
			hijackAndWrite(w, "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n")
		case "garbage":
			hijackAndWrite(w, "SSH-2.0-OpenSSH\r\n\r\n")
		case "hang-up":
			hijackAndWrite(w, "")
		}
	})
	dial := func(q url.Values) error {
		cfg := ts.config()
		cfg.URL.RawQuery = q.Encode()
		c, err := Dial(context.Background(), cfg)
		if c != nil {
			c.Close()
		}
		return err
	}
	for _, tt := range []struct {
		code      int
		body, msg string
	}{
		{400, "invalid protocol name\n", "invalid protocol name"},
		{401, "authentication failed", "authentication failed"},
		{403, "permission check failed", "permission check failed"},
		{404, "namespace not found", "namespace not found"},
		{400, "backup timestamp is older than last backup.", "backup timestamp is older than last backup."},
		{500, "", ""},
		{200, `{"data":null}`, `{"data":null}`},
		{400, "bad \xff utf8", "bad \uFFFD utf8"},
	} {
		t.Run(strconv.Itoa(tt.code)+" "+tt.msg, func(t *testing.T) {
			err := dial(url.Values{"answer": {"status"}, "code": {strconv.Itoa(tt.code)}, "body": {tt.body}})
			var ue *UpgradeError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, &UpgradeError{Status: tt.code, Message: tt.msg}, ue)
		})
	}
	t.Run("101 for another protocol", func(t *testing.T) {
		assert.ErrorIs(t, dial(url.Values{"answer": {"other-protocol"}}), ErrProtocolMismatch)
		assert.ErrorIs(t, dial(url.Values{"answer": {"no-upgrade-header"}}), ErrProtocolMismatch)
	})
	t.Run("not HTTP", func(t *testing.T) {
		assert.ErrorIs(t, dial(url.Values{"answer": {"garbage"}}), ErrMalformedResponse)
		assert.ErrorIs(t, dial(url.Values{"answer": {"hang-up"}}), ErrMalformedResponse)
	})
}

func TestUpgradeErrorText(t *testing.T) {
	assert.Equal(t, "h2upgrade: upgrade refused: 401 Unauthorized: authentication failed",
		(&UpgradeError{Status: 401, Message: "authentication failed"}).Error())
	assert.Equal(t, "h2upgrade: upgrade refused: 500 Internal Server Error",
		(&UpgradeError{Status: 500}).Error())
	assert.Equal(t, "h2upgrade: upgrade refused: 599 status: x", (&UpgradeError{Status: 599, Message: "x"}).Error())
}

func TestDialConfigErrors(t *testing.T) {
	good := func() DialConfig {
		u, _ := url.Parse("https://pbs.example:8007/api2/json/backup")
		return DialConfig{URL: u, Protocol: BackupProtocol}
	}
	for name, change := range map[string]func(*DialConfig){
		"no URL":        func(c *DialConfig) { c.URL = nil },
		"http":          func(c *DialConfig) { c.URL.Scheme = "http" },
		"no host":       func(c *DialConfig) { c.URL.Host = ":8007" },
		"no protocol":   func(c *DialConfig) { c.Protocol = "" },
		"space":         func(c *DialConfig) { c.Protocol = "proxmox backup" },
		"CRLF":          func(c *DialConfig) { c.Protocol = "p\r\nX-Injected: 1" },
		"only version":  func(c *DialConfig) { c.Protocol = "/1" },
		"trailing /":    func(c *DialConfig) { c.Protocol = "p/" },
		"too long name": func(c *DialConfig) { c.Protocol = string(make([]byte, 300)) },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := good()
			change(&cfg)
			_, _, err := cfg.target()
			assert.Error(t, err)
		})
	}
	cfg := good()
	addr, host, err := cfg.target()
	require.NoError(t, err)
	assert.Equal(t, "pbs.example:8007", addr)
	assert.Equal(t, "pbs.example", host)

	cfg.URL, _ = url.Parse("https://[::1]/api2/json/reader")
	addr, host, err = cfg.target()
	require.NoError(t, err)
	assert.Equal(t, "[::1]:8007", addr, "PBS's port when none is given")
	assert.Equal(t, "::1", host)
	assert.True(t, validProtocol("h2c/1.0"))
}

func TestDialFailures(t *testing.T) {
	ts := startServer(t, BackupProtocol, serverOptions{})

	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		l.Close()
		cfg := ts.config()
		cfg.URL.Host = addr
		_, err = Dial(context.Background(), cfg)
		var opErr *net.OpError
		assert.ErrorAs(t, err, &opErr)
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		cfg := ts.config()
		cfg.TLSConfig = nil
		_, err := Dial(context.Background(), cfg)
		var verr *tls.CertificateVerificationError
		assert.ErrorAs(t, err, &verr)
	})
	t.Run("TLS config is cloned", func(t *testing.T) {
		cfg := ts.config()
		cfg.TLSConfig.NextProtos = []string{"h2"}
		c, err := Dial(context.Background(), cfg)
		require.NoError(t, err)
		c.Close()
		assert.Equal(t, []string{"h2"}, cfg.TLSConfig.NextProtos)
		assert.Empty(t, cfg.TLSConfig.ServerName)
	})
	t.Run("authorize fails", func(t *testing.T) {
		cfg := ts.config()
		boom := errors.New("no ticket")
		cfg.Authorize = func(*http.Request) error { return boom }
		_, err := Dial(context.Background(), cfg)
		assert.ErrorIs(t, err, boom)
	})
	t.Run("custom dialer", func(t *testing.T) {
		cfg := ts.config()
		var dialed string
		cfg.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialed = addr
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		c, err := Dial(context.Background(), cfg)
		require.NoError(t, err)
		c.Close()
		assert.Equal(t, ts.Listener.Addr().String(), dialed)
	})
}

func TestDialTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	ts := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-release // never answers the upgrade in time
	})
	defer close(release)

	cfg := ts.config()
	cfg.UpgradeTimeout = 100 * time.Millisecond
	start := time.Now()
	_, err := Dial(context.Background(), cfg)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.ErrorContains(t, err, "timed out")
	assert.Less(t, time.Since(start), 5*time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = Dial(ctx, ts.config())
	assert.ErrorIs(t, err, context.Canceled)

	ctx, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	cfg.UpgradeTimeout = -1 // only ctx bounds it
	_, err = Dial(ctx, cfg)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
