package pbstest

import (
	"bufio"
	"crypto/tls"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/internal/mockcore"
)

// TestUpgradeReachesHijackingHandler proves the request pipeline keeps the
// connection hijackable and maps the reference client's "//api2/json/backup"
// onto the route protocolRoutes registers as "/backup".
func TestUpgradeReachesHijackingHandler(t *testing.T) {
	rt := mockcore.NewRouter(mockcore.APIPrefix, http.HandlerFunc(mockcore.WritePBSNotFound))
	rt.Handle("GET", "/backup", func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: " + r.Header.Get("Upgrade") + "\r\n\r\n")
		_ = buf.Flush()
	})
	srv, err := mockcore.StartServer("", pipeline(rt))
	require.NoError(t, err)
	defer srv.Close()

	conn, err := tls.Dial("tcp", srv.Addr, &tls.Config{RootCAs: srv.CertPool(), NextProtos: []string{"http/1.1"}})
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("GET //api2/json/backup?store=store1 HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: proxmox-backup-protocol-v1\r\n\r\n"))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	assert.Equal(t, "proxmox-backup-protocol-v1", resp.Header.Get("Upgrade"))
}
