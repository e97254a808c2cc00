package pbstest_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// rawGet sends GET path with an optional Authorization header and returns
// status and body.
func rawGet(t *testing.T, srv *pbstest.Server, path, authz string) (int, string) {
	t.Helper()
	status, body, _ := pbstest.RawRequest(t, srv, "GET", path, nil, "", authz)
	return status, body
}

func TestServerStartsWithAdminTokenAndStore(t *testing.T) {
	srv := pbstest.NewServer(t)
	assert.Regexp(t, `^https://127\.0\.0\.1:\d+$`, srv.URL)
	assert.False(t, srv.Fingerprint.IsZero())
	assert.Equal(t, "root@pam!admin", srv.AdminToken.ID.String())
	assert.Len(t, srv.AdminToken.Secret.Reveal(), 36)
	assert.Equal(t, "store1", srv.Datastore)

	st, err := datastore.Open(srv.DatastorePath)
	require.NoError(t, err, "DatastorePath holds a datastore in PBS's layout")
	assert.Equal(t, srv.DatastorePath, st.Path())
}

func TestVersionNeedsAuthentication(t *testing.T) {
	srv := pbstest.NewServer(t, pbstest.WithVersion("3.4.1", "2", "abc"))

	status, body := rawGet(t, srv, "/api2/json/version", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "authentication failed", body)

	for _, sep := range []string{" ", "="} {
		hdr := "PBSAPIToken" + sep + srv.AdminToken.ID.String() + ":" + srv.AdminToken.Secret.Reveal()
		status, body = rawGet(t, srv, "/api2/json/version", hdr)
		require.Equal(t, http.StatusOK, status, body)
		var got struct {
			Data map[string]string `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &got))
		assert.Equal(t, map[string]string{"version": "3.4.1", "release": "2", "repoid": "abc"}, got.Data)
	}

	status, _ = rawGet(t, srv, "/api2/json/version", "PBSAPIToken "+srv.AdminToken.ID.String()+":wrong")
	assert.Equal(t, http.StatusUnauthorized, status)
}

func TestPathsAreNormalizedAsPBSDoes(t *testing.T) {
	srv := pbstest.NewServer(t)
	hdr := srv.AdminToken.PBSHeader()

	status, body := rawGet(t, srv, "//api2/json//version", hdr)
	assert.Equal(t, http.StatusOK, status, body)

	status, body = rawGet(t, srv, "/api2/json/nope", hdr)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "Path '/api2/json/nope' not found.", body)

	status, body = rawGet(t, srv, "/api2/json/.hidden", hdr)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "path contains illegal components", body)

	status, body = rawGet(t, srv, "/api2/json/ping", "")
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"data":{"pong":true}}`, body)
}

func TestStateDirKeepsDatastores(t *testing.T) {
	dir := t.TempDir()
	srv, err := pbstest.Start(pbstest.WithStateDir(dir), pbstest.WithDatastore("store2"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "store1"), srv.DatastorePath)
	marker := filepath.Join(dir, "store2", "marker")
	require.NoError(t, os.WriteFile(marker, []byte("x"), 0o600))
	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close(), "Close twice is fine")

	srv2, err := pbstest.Start(pbstest.WithStateDir(dir), pbstest.WithDatastore("store2"))
	require.NoError(t, err, "existing datastores are reopened")
	defer srv2.Close()
	assert.FileExists(t, marker)
	assert.NotEqual(t, srv.AdminToken.Secret.Reveal(), srv2.AdminToken.Secret.Reveal())
}

func TestTempDatastoreRemovedOnClose(t *testing.T) {
	srv, err := pbstest.Start()
	require.NoError(t, err)
	path := srv.DatastorePath
	require.DirExists(t, path)
	require.NoError(t, srv.Close())
	assert.NoDirExists(t, path)
}

func TestBadOptionsFailStart(t *testing.T) {
	for name, opt := range map[string]pbstest.Option{
		"store name":    pbstest.WithDatastore("x"),
		"store dup":     pbstest.WithDatastore("store1"),
		"empty addr":    pbstest.WithListenAddr(""),
		"nil clock":     pbstest.WithClock(nil),
		"root password": pbstest.WithRootPassword(auth.Secret{}),
	} {
		_, err := pbstest.Start(opt)
		assert.Error(t, err, name)
	}
}
