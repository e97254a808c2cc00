package mockcore

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"

	"github.com/hashicorp/go-cleanhttp"

	"github.com/proxkit/proxkit/auth"
)

// DefaultAddr is where StartServer listens when given an empty address: a
// free port on the IPv4 loopback.
const DefaultAddr = "127.0.0.1:0"

// Server is an http.Handler served over TLS, speaking HTTP/1.1 only: the
// PBS backup and reader protocols upgrade an HTTP/1.1 request, so the
// server must never negotiate h2 through ALPN.
type Server struct {
	// URL is the base URL, "https://127.0.0.1:PORT" (no trailing slash).
	URL string
	// Addr is the host:port the server listens on.
	Addr string
	// Fingerprint is the SHA-256 of the certificate's DER encoding as 32
	// lowercase hex byte pairs joined with ':' (PBS_FINGERPRINT form).
	Fingerprint string
	// CertFingerprint is Fingerprint as an auth.Fingerprint.
	CertFingerprint auth.Fingerprint
	// Certificate is the leaf certificate the server presents.
	Certificate *x509.Certificate

	srv      *http.Server
	ln       *trackingListener
	served   chan struct{}
	closeErr error
	once     sync.Once
}

// ServerOption configures StartServer; options may fail.
type ServerOption func(*serverConfig) error

type serverConfig struct {
	cert     *tls.Certificate
	errorLog *log.Logger
}

// WithCertificate makes the server present cert instead of a freshly
// generated self-signed one. cert must hold at least one DER certificate.
func WithCertificate(cert tls.Certificate) ServerOption {
	return func(c *serverConfig) error {
		if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
			return errors.New("mockcore: WithCertificate: certificate or private key missing")
		}
		c.cert = &cert
		return nil
	}
}

// WithErrorLog sends the HTTP server's own messages (TLS handshake errors
// from clients that reject the certificate, panics in handlers) to l. By
// default they are discarded, because tests provoke them on purpose.
func WithErrorLog(l *log.Logger) ServerOption {
	return func(c *serverConfig) error {
		c.errorLog = l
		return nil
	}
}

// StartServer listens on addr (DefaultAddr when empty) and serves h over
// TLS until Close. Without WithCertificate it presents a new certificate
// from NewSelfSignedCert.
func StartServer(addr string, h http.Handler, opts ...ServerOption) (*Server, error) {
	if h == nil {
		return nil, errors.New("mockcore: StartServer: nil handler")
	}
	cfg := serverConfig{errorLog: log.New(io.Discard, "", 0)}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.cert == nil {
		cert, _, err := NewSelfSignedCert()
		if err != nil {
			return nil, err
		}
		cfg.cert = &cert
	}
	leaf := cfg.cert.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cfg.cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("mockcore: parse certificate: %w", err)
		}
	}
	if addr == "" {
		addr = DefaultAddr
	}
	raw, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mockcore: listen: %w", err)
	}
	ln := &trackingListener{Listener: raw, conns: map[*trackedConn]struct{}{}}

	tlsConf := &tls.Config{
		Certificates: []tls.Certificate{*cfg.cert},
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	srv := &http.Server{
		Handler:   h,
		TLSConfig: tlsConf,
		Protocols: &protocols,
		// A non-nil empty map is the documented way to keep net/http from
		// adding h2 on its own.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     cfg.errorLog,
	}
	fp := auth.FingerprintOf(leaf)
	s := &Server{
		URL:             "https://" + ln.Addr().String(),
		Addr:            ln.Addr().String(),
		Fingerprint:     fp.String(),
		CertFingerprint: fp,
		Certificate:     leaf,
		srv:             srv,
		ln:              ln,
		served:          make(chan struct{}),
	}
	go func() {
		defer close(s.served)
		_ = srv.Serve(tls.NewListener(ln, tlsConf))
	}()
	return s, nil
}

// Close stops the server and closes every connection it accepted,
// including hijacked ones (upgraded backup sessions, raw error replies), so
// no goroutine serving a client outlives it. It is safe to call more than
// once.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.closeErr = s.srv.Close()
		s.ln.closeAll()
		<-s.served
	})
	return s.closeErr
}

// CloseClientConnections closes every open client connection (idle,
// active or hijacked) but keeps listening: a fault knob for testing client
// reconnects.
func (s *Server) CloseClientConnections() { s.ln.closeAll() }

// CertPool returns a pool holding only the server certificate, for
// clients that verify through roots instead of a pinned fingerprint.
func (s *Server) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.Certificate)
	return p
}

// Client returns a new HTTP/1.1 client (go-cleanhttp transport) that trusts
// exactly the server certificate.
func (s *Server) Client() *http.Client {
	tr := cleanhttp.DefaultPooledTransport()
	tr.TLSClientConfig = &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12}
	tr.ForceAttemptHTTP2 = false
	return &http.Client{Transport: tr}
}

// trackingListener remembers every accepted connection until it is
// closed, because http.Server forgets hijacked ones.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	conns := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
