package h2upgrade

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// writeTimeout bounds writing the 101 answer to a peer that does not read.
const writeTimeout = 30 * time.Second

// ServeOption adjusts Upgrade.
type ServeOption func(*serveConfig)

type serveConfig struct {
	ctx        context.Context
	base       *http.Server
	maxStreams uint32
}

// WithContext sets the session's base context. Requests inside the
// session derive their contexts from it (so values the outer request's
// middleware stored travel along), and cancelling it closes the
// connection: the way a server drops or shuts down a session. The
// default is the upgrade request's context. Note that http.Server.Close
// and Shutdown do not reach hijacked connections; cancel this instead.
func WithContext(ctx context.Context) ServeOption {
	return func(c *serveConfig) { c.ctx = ctx }
}

// WithBaseConfig sets the http.Server whose settings (ErrorLog, timeouts,
// HTTP2 limits, which override this package's) apply inside the session.
// The default is a fresh server that only borrows ErrorLog from the
// server the upgrade request came through: no idle or read timeout may
// end a session that is merely quiet.
func WithBaseConfig(s *http.Server) ServeOption {
	return func(c *serveConfig) { c.base = s }
}

// WithMaxConcurrentStreams limits the streams a client may have open at
// once (x/net/http2's default is 250; upstream's limit is unknown).
func WithMaxConcurrentStreams(n uint32) ServeOption {
	return func(c *serveConfig) { c.maxStreams = n }
}

// CheckUpgrade reports whether r may be upgraded to protocol, with PBS's
// checks in PBS's order: the Upgrade header must be present
// (ErrMissingUpgrade) and exactly protocol (ErrInvalidProtocol), and the
// request must be HTTP/1.x (ErrHTTPVersion). The header name is matched
// case-insensitively; the request path is not looked at. The error text
// is what PBS answers with status 400.
func CheckUpgrade(r *http.Request, protocol string) error {
	values := r.Header.Values("Upgrade")
	if len(values) == 0 {
		return ErrMissingUpgrade
	}
	if values[0] != protocol {
		return ErrInvalidProtocol
	}
	if r.ProtoMajor >= 2 {
		return fmt.Errorf("%w '%s' (expected version < 2)", ErrHTTPVersion, r.Proto)
	}
	return nil
}

// Upgrade turns an upgrade request into a PBS session served by handler
// (the server side of Dial, for mock servers). If CheckUpgrade fails
// (ErrMissingUpgrade, ErrInvalidProtocol, ErrHTTPVersion), or the
// connection cannot be hijacked (ErrNotHijackable), it returns the error
// having written nothing, so the caller answers (PBS: 400 with the error
// text); any other error comes after the connection was taken over, and w
// must not be used. Otherwise it takes over the connection, writes
//
//	HTTP/1.1 101 Switching Protocols
//	connection: upgrade
//	upgrade: <protocol>
//
// and serves HTTP/2 on it as the HTTP/2 server, with PBS's settings
// (ServerWindow for streams and the connection, MaxFrameSize frames).
//
// Upgrade blocks until the session has ended, that is the connection
// closed or broken and every handler call returned (their request
// contexts are cancelled when the connection goes), so the caller can run
// its end-of-session logic (keep or discard the snapshot) right after. It
// then returns nil, or the context's error if WithContext's context ended
// the session.
//
// A server that imitates PBS's order of checks calls CheckUpgrade itself
// at that step (after the permission and datastore checks) and Upgrade
// once everything else has passed.
func Upgrade(w http.ResponseWriter, r *http.Request, protocol string, handler http.Handler, opts ...ServeOption) error {
	if err := CheckUpgrade(r, protocol); err != nil {
		return err
	}
	cfg := serveConfig{ctx: r.Context()}
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.base == nil {
		cfg.base = &http.Server{}
		if outer, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok {
			cfg.base.ErrorLog = outer.ErrorLog
		}
	}

	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotHijackable, err)
	}
	defer conn.Close()
	if err := writeSwitching(conn, rw.Writer, protocol); err != nil {
		return err
	}
	buffered, err := takeBuffered(rw.Reader)
	if err != nil {
		return err
	}
	nc, _ := wrapConn(conn, buffered)

	// Handlers must see the session end only once the connection is gone:
	// a handler that returns on cancellation would otherwise still get its
	// answer out, and a dropped session would look like a served request.
	sessionCtx, endSession := context.WithCancelCause(context.WithoutCancel(cfg.ctx))
	defer endSession(nil)
	stop := context.AfterFunc(cfg.ctx, func() {
		conn.Close()
		endSession(context.Cause(cfg.ctx))
	})
	defer stop()

	tracked := &handlerTracker{next: handler}
	srv := &http2.Server{
		MaxReadFrameSize:             MaxFrameSize,
		MaxUploadBufferPerConnection: ServerWindow,
		MaxUploadBufferPerStream:     ServerWindow,
		MaxConcurrentStreams:         cfg.maxStreams,
		// PBS does not restrict ciphers inside sessions; neither does the mock.
		PermitProhibitedCipherSuites: true,
	}
	srv.ServeConn(nc, &http2.ServeConnOpts{Context: sessionCtx, BaseConfig: cfg.base, Handler: tracked})
	conn.Close()
	tracked.closeAndWait()
	if err := cfg.ctx.Err(); err != nil {
		return context.Cause(cfg.ctx)
	}
	return nil
}

// writeSwitching sends the 101 answer in PBS's spelling.
func writeSwitching(conn net.Conn, bw *bufio.Writer, protocol string) error {
	if err := conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return fmt.Errorf("h2upgrade: set deadline: %w", err)
	}
	bw.WriteString("HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: ")
	bw.WriteString(protocol)
	bw.WriteString("\r\n\r\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("h2upgrade: write 101 answer: %w", err)
	}
	if err := conn.SetWriteDeadline(time.Time{}); err != nil {
		return fmt.Errorf("h2upgrade: clear deadline: %w", err)
	}
	return nil
}

// takeBuffered returns what the HTTP/1.1 server had read past the request:
// a client may send its HTTP/2 preface without waiting for the 101.
func takeBuffered(br *bufio.Reader) ([]byte, error) {
	n := br.Buffered()
	if n == 0 {
		return nil, nil
	}
	b, err := br.Peek(n)
	if err != nil {
		return nil, fmt.Errorf("h2upgrade: read buffered bytes: %w", err)
	}
	return b, nil
}

// handlerTracker counts running handler calls so Upgrade can wait for
// them: x/net/http2 returns from ServeConn without waiting. A call that
// starts after the session ended (its goroutine was late) does not run
// the handler at all; its connection is gone anyway.
type handlerTracker struct {
	next http.Handler

	mu      sync.Mutex
	ended   bool
	running int
	idle    *sync.Cond
}

func (t *handlerTracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	t.running++
	t.mu.Unlock()
	defer t.done()
	t.next.ServeHTTP(w, r)
}

func (t *handlerTracker) done() {
	t.mu.Lock()
	t.running--
	if t.running == 0 && t.idle != nil {
		t.idle.Broadcast()
	}
	t.mu.Unlock()
}

// closeAndWait refuses further calls and waits for the running ones.
func (t *handlerTracker) closeAndWait() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended = true
	if t.idle == nil {
		t.idle = sync.NewCond(&t.mu)
	}
	for t.running > 0 {
		t.idle.Wait()
	}
}
