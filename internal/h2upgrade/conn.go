package h2upgrade

import (
	"crypto/tls"
	"net"
	"sync"
)

// upgradedConn is the connection HTTP/2 runs on after the 101. It first
// returns the bytes that the HTTP/1.1 reader had already buffered past
// the upgrade exchange (the peer may send its preface right behind it),
// then reads from the connection itself. The first read or write error
// marks the connection as ended, which is how Conn notices a lost session.
type upgradedConn struct {
	net.Conn
	pending []byte     // read by the single HTTP/2 frame reader only
	batch   *batchConn // a client's, under its TLS layer; nil on the server side

	endOnce sync.Once
	ended   chan struct{}
	mu      sync.Mutex
	endErr  error
}

// tlsUpgradedConn also exposes the TLS state, so x/net/http2 knows it runs
// over TLS (it checks the version and fills Request.TLS / Response.TLS).
// Plain connections must not have the method: a zero state would read as
// an inadequate TLS version.
type tlsUpgradedConn struct {
	*upgradedConn
	tls *tls.Conn
}

// ConnectionState returns the TLS state of the underlying connection.
func (c tlsUpgradedConn) ConnectionState() tls.ConnectionState {
	return c.tls.ConnectionState()
}

// wrapConn returns c wrapped for HTTP/2 with a copy of buffered, and the
// wrapper for watching its end.
func wrapConn(c net.Conn, buffered []byte) (net.Conn, *upgradedConn) {
	u := &upgradedConn{Conn: c, ended: make(chan struct{})}
	if len(buffered) > 0 {
		u.pending = append([]byte(nil), buffered...)
	}
	if t, ok := c.(*tls.Conn); ok {
		return tlsUpgradedConn{upgradedConn: u, tls: t}, u
	}
	return u, u
}

func (c *upgradedConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	n, err := c.Conn.Read(p)
	if err != nil {
		c.end(err)
	}
	return n, err
}

// Write writes p; on a client, the TLS records of p reach the socket in
// few writes (batchConn).
func (c *upgradedConn) Write(p []byte) (int, error) {
	if c.batch != nil {
		c.batch.begin()
	}
	n, err := c.Conn.Write(p)
	if c.batch != nil {
		if ferr := c.batch.end(); ferr != nil && err == nil {
			n, err = 0, ferr
		}
	}
	if err != nil {
		c.end(err)
	}
	return n, err
}

func (c *upgradedConn) Close() error {
	err := c.Conn.Close()
	c.end(net.ErrClosed)
	return err
}

// end records the first cause and signals the end exactly once.
func (c *upgradedConn) end(cause error) {
	c.endOnce.Do(func() {
		c.mu.Lock()
		c.endErr = cause
		c.mu.Unlock()
		close(c.ended)
	})
}

// cause is the first error seen, nil while the connection is alive.
func (c *upgradedConn) cause() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endErr
}
