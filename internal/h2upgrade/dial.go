package h2upgrade

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// defaultPort is where PBS listens when the URL names none.
const defaultPort = "8007"

// defaultUserAgent is sent unless the caller sets one.
const defaultUserAgent = "proxkit"

// DialConfig describes the session to open. URL and Protocol are required;
// every other field has a working zero value.
type DialConfig struct {
	// URL is the upgrade endpoint with its query, for example
	// https://pbs:8007/api2/json/backup?backup-id=100&backup-time=1700000000&backup-type=vm&store=tank.
	// Only https is accepted; a missing port means 8007.
	URL *url.URL

	// Protocol is the Upgrade header value: BackupProtocol or ReaderProtocol.
	Protocol string

	// Header holds extra request headers; it is copied, never modified.
	// Connection and Upgrade are always set by Dial.
	Header http.Header

	// Authorize, if set, is called with the finished upgrade request just
	// before it is sent, to add credentials (Authorization, or Cookie and
	// CSRFPreventionToken). Its error aborts Dial unchanged apart from a
	// prefix, so it must not carry secrets either.
	Authorize func(*http.Request) error

	// TLSConfig is cloned; the clone offers only "http/1.1" through ALPN so
	// the upgrade request can never be negotiated into HTTP/2, and gets
	// ServerName from URL when it has none. Nil means a default config
	// (system roots, full verification).
	TLSConfig *tls.Config

	// DialContext, if set, opens the TCP connection (for example through a
	// proxy) instead of a net.Dialer with ConnectTimeout and KeepAlive.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// ConnectTimeout bounds the TCP connection; zero means
	// DefaultConnectTimeout, negative leaves it to ctx.
	ConnectTimeout time.Duration

	// UpgradeTimeout bounds the TLS handshake, the upgrade request and its
	// answer; zero means DefaultUpgradeTimeout, negative leaves it to ctx.
	// It does not apply to the session afterwards.
	UpgradeTimeout time.Duration

	// KeepAlive is the idle time before TCP keepalive probes start; zero
	// means DefaultKeepAlive, negative disables keepalive. Ignored with
	// DialContext.
	KeepAlive time.Duration

	// UserAgent is sent unless Header already has one; empty means "proxkit".
	UserAgent string
}

// Dial opens one session: it connects to URL's host, performs the TLS
// handshake offering only HTTP/1.1, sends "GET <path>?<query> HTTP/1.1"
// with "Connection: upgrade" and "Upgrade: <Protocol>", and on "101
// Switching Protocols" starts an HTTP/2 client on the same connection
// (prior knowledge: this side sends the preface, the server is the HTTP/2
// server).
//
// The session lives on exactly that connection and is never redialed:
// once it ends, requests fail with ErrClosed and the caller decides
// whether to open a new session. ctx bounds Dial only.
//
// A refused upgrade returns *UpgradeError with the status and the
// server's plain-text message; a 101 for another protocol returns
// ErrProtocolMismatch; TLS verification failures come back wrapped, so
// errors.As finds *tls.CertificateVerificationError and the like.
func Dial(ctx context.Context, cfg DialConfig) (*Conn, error) {
	addr, host, err := cfg.target()
	if err != nil {
		return nil, err
	}
	raw, err := cfg.dialTCP(ctx, addr)
	if err != nil {
		return nil, err
	}
	batch := &batchConn{Conn: raw}
	tlsConn, pending, err := cfg.upgrade(ctx, batch, host)
	if err != nil {
		raw.Close()
		return nil, err
	}
	c, err := newConn(tlsConn, pending, addr, batch)
	if err != nil {
		tlsConn.Close()
		return nil, err
	}
	return c, nil
}

// target validates the config and returns the address to dial and the
// host name for TLS.
func (cfg *DialConfig) target() (addr, host string, err error) {
	if cfg.URL == nil {
		return "", "", errors.New("h2upgrade: DialConfig.URL is required")
	}
	if cfg.URL.Scheme != "https" {
		return "", "", fmt.Errorf("h2upgrade: URL scheme must be https, not %q", cfg.URL.Scheme)
	}
	if !validProtocol(cfg.Protocol) {
		return "", "", fmt.Errorf("h2upgrade: invalid protocol name %q", cfg.Protocol)
	}
	host = cfg.URL.Hostname()
	if host == "" {
		return "", "", errors.New("h2upgrade: URL has no host")
	}
	port := cfg.URL.Port()
	if port == "" {
		port = defaultPort
	}
	return net.JoinHostPort(host, port), host, nil
}

func (cfg *DialConfig) dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	timeout := orDefault(cfg.ConnectTimeout, DefaultConnectTimeout)
	dctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var (
		raw net.Conn
		err error
	)
	if cfg.DialContext != nil {
		raw, err = cfg.DialContext(dctx, "tcp", addr)
	} else {
		d := net.Dialer{} // dctx bounds the time
		if ka := orDefault(cfg.KeepAlive, DefaultKeepAlive); ka > 0 {
			// Upstream sets only the idle time before the first probe.
			d.KeepAliveConfig = net.KeepAliveConfig{Enable: true, Idle: ka}
		} else {
			d.KeepAlive = -1
		}
		raw, err = d.DialContext(dctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("h2upgrade: connect to %s: %w", addr, err)
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		// Go sets this by default; a custom dialer may not have.
		_ = tcp.SetNoDelay(true)
	}
	return raw, nil
}

// upgrade runs TLS and the upgrade exchange on raw under one deadline and
// returns the TLS connection with the bytes read past the 101.
func (cfg *DialConfig) upgrade(ctx context.Context, raw net.Conn, host string) (*tls.Conn, []byte, error) {
	tlsConf := cfg.TLSConfig.Clone()
	if tlsConf == nil {
		tlsConf = &tls.Config{}
	}
	tlsConf.NextProtos = []string{"http/1.1"}
	if tlsConf.ServerName == "" {
		tlsConf.ServerName = host
	}
	conn := tls.Client(raw, tlsConf)

	if timeout := orDefault(cfg.UpgradeTimeout, DefaultUpgradeTimeout); timeout > 0 {
		if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
			return nil, nil, fmt.Errorf("h2upgrade: set deadline: %w", err)
		}
	}
	// The end of ctx (cancel or deadline) interrupts whatever I/O is
	// blocked; ctx.Err is set by then, so the cause is reported right.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })

	pending, err := cfg.exchange(ctx, conn)
	if !stop() || ctx.Err() != nil {
		return nil, nil, fmt.Errorf("h2upgrade: upgrade to %s: %w", cfg.Protocol, context.Cause(ctx))
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, nil, fmt.Errorf("h2upgrade: upgrade to %s timed out: %w", cfg.Protocol, err)
		}
		return nil, nil, err
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return nil, nil, fmt.Errorf("h2upgrade: clear deadline: %w", err)
	}
	return conn, pending, nil
}

// exchange performs the TLS handshake, writes the upgrade request and
// reads the answer.
func (cfg *DialConfig) exchange(ctx context.Context, conn *tls.Conn) ([]byte, error) {
	if err := conn.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("h2upgrade: TLS handshake with %s: %w", conn.RemoteAddr(), err)
	}
	req, err := cfg.request(ctx)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriter(conn)
	if err := req.Write(bw); err != nil {
		return nil, fmt.Errorf("h2upgrade: write upgrade request: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("h2upgrade: write upgrade request: %w", err)
	}
	return readUpgradeResponse(bufio.NewReader(conn), req, cfg.Protocol)
}

// request builds the upgrade request, credentials included.
func (cfg *DialConfig) request(ctx context.Context) (*http.Request, error) {
	u := *cfg.URL
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("h2upgrade: upgrade request: %w", err)
	}
	req.Header = cfg.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if req.Header.Get("User-Agent") == "" {
		ua := cfg.UserAgent
		if ua == "" {
			ua = defaultUserAgent
		}
		req.Header.Set("User-Agent", ua)
	}
	if cfg.Authorize != nil {
		if err := cfg.Authorize(req); err != nil {
			return nil, fmt.Errorf("h2upgrade: authorize upgrade request: %w", err)
		}
	}
	req.Header.Set("Connection", "upgrade")
	req.Header.Set("Upgrade", cfg.Protocol)
	return req, nil
}

// orDefault maps zero to def; negative values mean "none" to the caller.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// validProtocol reports whether p is a non-empty HTTP token, optionally
// followed by "/" and a version token, as the Upgrade header grammar wants.
func validProtocol(p string) bool {
	if p == "" || len(p) > 256 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if !isTokenChar(p[i]) && p[i] != '/' {
			return false
		}
	}
	return p[0] != '/' && p[len(p)-1] != '/'
}

func isTokenChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	switch b {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}
