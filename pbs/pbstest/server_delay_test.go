package pbstest_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/pbs/pbstest"
)

// With delays configured, failures are held back from the request's
// arrival on, as the real server slows down guessing.
func TestFailureDelays(t *testing.T) {
	const d401, d403 = 150 * time.Millisecond, 80 * time.Millisecond
	srv := pbstest.NewServer(t, pbstest.WithDelays(d401, d403))
	get := func(path, authz string) (int, time.Duration) {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		require.NoError(t, err)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		start := time.Now()
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	status, took := get("/api2/json/version", "PBSAPIToken root@pam!admin:wrong")
	assert.Equal(t, 401, status)
	assert.GreaterOrEqual(t, took, d401)

	// A token without privileges on /access/users: 403 after its delay.
	_, _, env := call(t, srv, "POST", "/access/users/root@pam/token/weak", nil)
	var created struct{ Tokenid, Value string }
	require.NoError(t, json.Unmarshal(env["data"], &created))
	status, took = get("/api2/json/access/users/root@pam", "PBSAPIToken "+created.Tokenid+":"+created.Value)
	assert.Equal(t, 403, status)
	assert.GreaterOrEqual(t, took, d403)
	status, _ = get("/api2/json/version", srv.AdminToken.PBSHeader())
	assert.Equal(t, 200, status)

	_, err := pbstest.Start(pbstest.WithDelays(-1, 0))
	assert.Error(t, err)
}
