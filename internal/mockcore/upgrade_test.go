package mockcore

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
)

// TestServerCarriesH2AfterUpgrade runs the PBS session pattern on a
// Server: an HTTP/1.1 upgrade request, a hand-written 101, then HTTP/2
// with prior knowledge on the same TLS connection (pbs-protocol.md 3.1,
// 3.2). ALPN said http/1.1; HTTP/2 must still work on the hijacked conn.
func TestServerCarriesH2AfterUpgrade(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto+" "+r.URL.Path)
	})
	s := startTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "proxmox-backup-protocol-v1" {
			WritePBSError(w, 400, "missing upgrade")
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: proxmox-backup-protocol-v1\r\n\r\n")
		if rw.Flush() != nil {
			conn.Close()
			return
		}
		(&http2.Server{}).ServeConn(conn, &http2.ServeConnOpts{Handler: inner})
	}))

	conn, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: s.CertPool(), NextProtos: []string{"http/1.1"}})
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET //api2/json/backup?store=s HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: proxmox-backup-protocol-v1\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Zero(t, br.Buffered(), "nothing may follow the 101 before the client speaks")

	cc, err := (&http2.Transport{}).NewClientConn(conn)
	require.NoError(t, err)
	defer cc.Close()
	for _, path := range []string{"/previous_backup_time", "/dynamic_index"} {
		req, err := http.NewRequest("GET", "https://x"+path, nil)
		require.NoError(t, err)
		r2, err := cc.RoundTrip(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(r2.Body)
		r2.Body.Close()
		assert.Equal(t, "HTTP/2.0 "+path, string(body))
	}
}
