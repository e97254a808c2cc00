package mockcore

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

func startTestServer(t *testing.T, h http.Handler, opts ...ServerOption) *Server {
	t.Helper()
	s, err := StartServer("", h, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestNewSelfSignedCert(t *testing.T) {
	cert, fp, err := NewSelfSignedCert("pbs.example", "10.0.0.7", "localhost")
	require.NoError(t, err)
	leaf := cert.Leaf
	require.NotNil(t, leaf)
	assert.Equal(t, auth.Fingerprint(sha256.Sum256(cert.Certificate[0])), fp)
	assert.Regexp(t, `^([0-9a-f]{2}:){31}[0-9a-f]{2}$`, fp.String())
	assert.ElementsMatch(t, []string{"localhost", "pbs.example"}, leaf.DNSNames)
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	assert.ElementsMatch(t, []string{"127.0.0.1", "::1", "10.0.0.7"}, ips)
	assert.Greater(t, time.Until(leaf.NotAfter), 40*365*24*time.Hour)
	assert.True(t, leaf.NotBefore.Before(time.Now()))
	assert.Equal(t, x509.ECDSA, leaf.PublicKeyAlgorithm)
	for _, host := range []string{"127.0.0.1", "::1", "localhost", "pbs.example"} {
		assert.NoError(t, leaf.VerifyHostname(host), host)
	}
	_, fp2, err := NewSelfSignedCert()
	require.NoError(t, err)
	assert.NotEqual(t, fp, fp2, "each call makes a new key and certificate")
}

func TestServerTLSAndFingerprint(t *testing.T) {
	s := startTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	assert.True(t, strings.HasPrefix(s.URL, "https://127.0.0.1:"))
	assert.Equal(t, "https://"+s.Addr, s.URL)
	assert.Equal(t, s.CertFingerprint.String(), s.Fingerprint)
	assert.Equal(t, auth.FingerprintOf(s.Certificate), s.CertFingerprint)

	// Default verification fails: the certificate is self-signed.
	_, err := http.Get(s.URL)
	require.Error(t, err)

	// Trusting the pool works.
	resp, body := get(t, s.Client(), s.URL+"/x")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "HTTP/1.1", body)

	// Pinning with auth's TLS config works, a wrong pin fails.
	conf, err := auth.TLSConfig(auth.WithFingerprint(&s.CertFingerprint))
	require.NoError(t, err)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: conf}}
	resp, _ = get(t, c, s.URL)
	assert.Equal(t, 200, resp.StatusCode)
	wrong := s.CertFingerprint
	wrong[0] ^= 1
	conf, err = auth.TLSConfig(auth.WithFingerprint(&wrong))
	require.NoError(t, err)
	_, err = (&http.Client{Transport: &http.Transport{TLSClientConfig: conf}}).Get(s.URL)
	assert.ErrorIs(t, err, auth.ErrFingerprintMismatch)
}

func TestServerNeverNegotiatesH2(t *testing.T) {
	s := startTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	conn, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: s.CertPool(), NextProtos: []string{"h2", "http/1.1"}})
	require.NoError(t, err)
	defer conn.Close()
	assert.Equal(t, "http/1.1", conn.ConnectionState().NegotiatedProtocol)

	// A client offering only h2 gets no ALPN agreement.
	conn2, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: s.CertPool(), NextProtos: []string{"h2"}})
	if err == nil {
		assert.NotEqual(t, "h2", conn2.ConnectionState().NegotiatedProtocol)
		conn2.Close()
	}

	// Go's client with HTTP/2 enabled still ends up on HTTP/1.1.
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CertPool()}, ForceAttemptHTTP2: true}
	resp, err := (&http.Client{Transport: tr}).Get(s.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 1, resp.ProtoMajor)
}

func TestServerOptions(t *testing.T) {
	cert, fp, err := NewSelfSignedCert()
	require.NoError(t, err)
	s := startTestServer(t, http.NotFoundHandler(), WithCertificate(cert))
	assert.Equal(t, fp.String(), s.Fingerprint)

	noLeaf := cert
	noLeaf.Leaf = nil
	s2 := startTestServer(t, http.NotFoundHandler(), WithCertificate(noLeaf))
	assert.Equal(t, fp, s2.CertFingerprint)

	_, err = StartServer("", http.NotFoundHandler(), WithCertificate(tls.Certificate{}))
	assert.Error(t, err)
	_, err = StartServer("", nil)
	assert.Error(t, err)
	_, err = StartServer("256.0.0.1:0", http.NotFoundHandler())
	assert.Error(t, err)

	s3 := startTestServer(t, http.NotFoundHandler(), WithErrorLog(nil))
	assert.NotEmpty(t, s3.URL)

	// An explicit address is honoured.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	s4, err := StartServer(addr, http.NotFoundHandler())
	require.NoError(t, err)
	assert.Equal(t, "https://"+addr, s4.URL)
	require.NoError(t, s4.Close())
	require.NoError(t, s4.Close(), "Close is idempotent")
}

// TestServerCloseEndsHijackedConnections: upgraded (hijacked) connections
// are not known to http.Server, but Close must still end them.
func TestServerCloseEndsHijackedConnections(t *testing.T) {
	hijacked := make(chan struct{})
	s, err := StartServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
		_ = rw.Flush()
		close(hijacked)
		_, _ = io.Copy(io.Discard, conn) // hold the connection open
	}))
	require.NoError(t, err)
	conn, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: s.CertPool()})
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.1 101 Switching Protocols\r\n", line)
	<-hijacked

	require.NoError(t, s.Close())
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = io.ReadAll(br)
	assert.False(t, isTimeout(err), "connection still open after Close")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestServerCloseClientConnections(t *testing.T) {
	s := startTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	conn, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: s.CertPool()})
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.Handshake())
	s.CloseClientConnections()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = conn.Read(make([]byte, 1))
	require.Error(t, err)
	assert.False(t, isTimeout(err), "connection not closed")
	// The server keeps listening.
	resp, _ := get(t, s.Client(), s.URL)
	assert.Equal(t, 200, resp.StatusCode)
}
