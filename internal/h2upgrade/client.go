package h2upgrade

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/net/http2"
)

// FormContentType is sent when a request names no content type: PBS wants
// a Content-Type on every session request, and the form type means
// "parameters are in the query string" (pbs-protocol.md 3.2).
const FormContentType = "application/x-www-form-urlencoded"

// Conn is one upgraded PBS session: HTTP/2 over the TLS connection that
// carried the upgrade. It is safe for concurrent use; any number of
// requests may be in flight (the server's stream limit queues the rest).
//
// Closing it closes the TCP connection, which is how a PBS client ends a
// session: the server keeps the snapshot only if "finish" succeeded.
type Conn struct {
	cc        *http2.ClientConn
	conn      *upgradedConn
	authority string
	tlsState  tls.ConnectionState

	closeOnce sync.Once
	closeErr  error
}

// newConn starts the HTTP/2 client on an upgraded connection whose TLS
// records go through batch (nil: straight to the socket).
func newConn(tlsConn *tls.Conn, pending []byte, authority string, batch *batchConn) (*Conn, error) {
	nc, uc := wrapConn(tlsConn, pending)
	uc.batch = batch
	// Window sizes are only reachable through net/http's HTTP2Config, which
	// x/net/http2 reads from the HTTP/1 transport it was configured from.
	// That transport is never used to dial.
	t1 := &http.Transport{HTTP2: &http.HTTP2Config{
		MaxReadFrameSize:              MaxFrameSize,
		MaxReceiveBufferPerStream:     ClientWindow,
		MaxReceiveBufferPerConnection: clientConnWindowIncrement,
	}}
	t2, err := http2.ConfigureTransports(t1)
	if err != nil {
		return nil, fmt.Errorf("h2upgrade: configure HTTP/2: %w", err)
	}
	t2.MaxReadFrameSize = MaxFrameSize
	// Without this, a request beyond the server's stream limit fails with
	// "client conn not usable" (a pool would dial another connection);
	// a session must queue it instead.
	t2.StrictMaxConcurrentStreams = true
	// Chunks and blobs are sent and received as they are; no transparent gzip.
	t2.DisableCompression = true
	cc, err := t2.NewClientConn(nc)
	if err != nil {
		return nil, fmt.Errorf("h2upgrade: start HTTP/2: %w", err)
	}
	return &Conn{cc: cc, conn: uc, authority: authority, tlsState: tlsConn.ConnectionState()}, nil
}

// NewRequest builds a session request. path is relative to the session
// and has no /api2/json prefix (for example "/dynamic_chunk"); query is
// encoded with sorted keys, as the reference client sends it; an empty
// contentType means FormContentType. body may be nil. The request
// carries ctx: cancelling it resets only this stream. For a body whose
// length net/http cannot see (anything but bytes.Buffer, bytes.Reader and
// strings.Reader), set ContentLength before RoundTrip if the server
// should get a Content-Length; without one the body simply ends with the
// stream.
func (c *Conn) NewRequest(ctx context.Context, method, path string, query url.Values, contentType string, body io.Reader) (*http.Request, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("h2upgrade: session path %q must start with /", path)
	}
	u := &url.URL{Scheme: "https", Host: c.authority, Path: path, RawQuery: query.Encode()}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("h2upgrade: %s %s: %w", method, path, err)
	}
	if contentType == "" {
		contentType = FormContentType
	}
	req.Header.Set("Content-Type", contentType)
	return req, nil
}

// Do sends one request on the session and returns the response, whose
// body the caller must close. Any status is a response, not an error;
// PBS error bodies are plain text.
func (c *Conn) Do(ctx context.Context, method, path string, query url.Values, contentType string, body io.Reader) (*http.Response, error) {
	req, err := c.NewRequest(ctx, method, path, query, contentType, body)
	if err != nil {
		return nil, err
	}
	return c.RoundTrip(req)
}

// RoundTrip sends req on the session; it makes Conn an http.RoundTripper.
// The request URL's host is not used to choose a connection: everything
// goes over this session. Errors caused by the end of the session match
// ErrClosed; a cancelled request context matches its context error.
func (c *Conn) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.cc.RoundTrip(req)
	if err == nil {
		return resp, nil
	}
	if ctxErr := req.Context().Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	if !c.Usable() {
		return nil, fmt.Errorf("h2upgrade: %s %s: %w: %w", req.Method, req.URL.Path, ErrClosed, err)
	}
	return nil, fmt.Errorf("h2upgrade: %s %s: %w", req.Method, req.URL.Path, err)
}

// Usable reports whether the session can still take requests: its
// connection has not failed or been closed and the server has not sent
// GOAWAY.
func (c *Conn) Usable() bool {
	select {
	case <-c.conn.ended:
		return false
	default:
	}
	st := c.cc.State()
	return !st.Closed && !st.Closing
}

// Done is closed when the session's connection ends: closed by Close, by
// the server, or broken by the network.
func (c *Conn) Done() <-chan struct{} {
	return c.conn.ended
}

// Err is nil while the connection is up; afterwards it matches ErrClosed
// and wraps the first I/O error seen on the connection.
func (c *Conn) Err() error {
	select {
	case <-c.conn.ended:
		return fmt.Errorf("%w: %w", ErrClosed, c.conn.cause())
	default:
		return nil
	}
}

// Ping sends an HTTP/2 PING and waits for the answer, proving the session
// is alive.
func (c *Conn) Ping(ctx context.Context) error {
	if err := c.cc.Ping(ctx); err != nil {
		if !c.Usable() {
			return fmt.Errorf("h2upgrade: ping: %w: %w", ErrClosed, err)
		}
		return fmt.Errorf("h2upgrade: ping: %w", err)
	}
	return nil
}

// ConnectionState returns the TLS state of the session's connection (the
// negotiated protocol is always "http/1.1": HTTP/2 came by upgrade).
func (c *Conn) ConnectionState() tls.ConnectionState {
	return c.tlsState
}

// Close ends the session at once by closing the connection; requests in
// flight fail. It is what a PBS client does after "finish" (or instead of
// it, to abort). Calling it again returns the first result.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.cc.Close()
		// cc.Close closes the connection; make sure, and record the end,
		// even if it did not.
		_ = c.conn.Close()
	})
	return c.closeErr
}
