package pbstest

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// RawRequest sends method srv.URL+target with body as contentType (""
// sends no Content-Type) and the Authorization header authz ("" sends
// none), and returns the answer's status, body and header. It is the one
// raw HTTP round trip of this package's tests, internal and external
// (exported only to them).
func RawRequest(t testing.TB, srv *Server, method, target string, body io.Reader, contentType, authz string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+target, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.Header
}
