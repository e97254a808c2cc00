package main

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m) }

// pinnedGet sends GET url with the Authorization header over TLS that
// accepts exactly the certificate with fingerprint fp, as curl
// --pinnedpubkey or proxmox-backup-client with PBS_FINGERPRINT would.
func pinnedGet(t *testing.T, fp, url, authorization string) (int, map[string]any) {
	t.Helper()
	pin, err := auth.ParseFingerprint(fp)
	require.NoError(t, err)
	conf, err := auth.TLSConfig(auth.WithFingerprint(&pin))
	require.NoError(t, err)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: conf, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestPBSMockServesUntilInterrupted(t *testing.T) {
	state := t.TempDir()
	m := exampletest.StartMock(t, "-product", "pbs", "-listen", "127.0.0.1:0", "-state", state)

	assert.Equal(t, "pbs", m.Product)
	assert.True(t, strings.HasPrefix(m.URL, "https://127.0.0.1:"), m.URL)
	assert.NotEqual(t, "https://127.0.0.1:0", m.URL, "the URL has the port actually bound")
	assert.Equal(t, "root@pam!admin", m.AuthID)
	assert.NotEmpty(t, m.Secret)
	assert.Equal(t, "store1", m.Datastore)
	assert.Equal(t, filepath.Join(state, "store1"), m.DatastorePath)
	_, err := datastore.Open(m.DatastorePath)
	assert.NoError(t, err, "datastore_path is a datastore in PBS's layout")

	repo, err := auth.ParseRepository(m.Repository)
	require.NoError(t, err)
	assert.Equal(t, m.URL, repo.BaseURL())
	assert.Equal(t, m.AuthID, repo.AuthID.String())
	assert.Equal(t, "store1", repo.Datastore)

	header := "PBSAPIToken=" + m.AuthID + ":" + m.Secret
	status, body := pinnedGet(t, m.Fingerprint, m.URL+"/api2/json/version", header)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body["data"], "version")

	status, _ = pinnedGet(t, m.Fingerprint, m.URL+"/api2/json/access/users", "PBSAPIToken="+m.AuthID+":wrong")
	assert.Equal(t, http.StatusUnauthorized, status)

	assert.Equal(t, 0, m.Stop(t), "SIGINT ends the server with status 0; stderr: %s", m.Stderr())
	assert.DirExists(t, m.DatastorePath, "-state keeps the datastore")
}

func TestMockServerUsage(t *testing.T) {
	bin := exampletest.Build(t, "mockserver")
	res := exampletest.Run(t, bin, nil, nil, "-product", "esx")
	assert.Equal(t, 2, res.Code)
	assert.Equal(t, "mockserver: -product: want pve or pbs, got \"esx\"\n", res.Stderr)
	assert.Empty(t, res.Stdout)

	res = exampletest.Run(t, bin, nil, nil, "-listen", "256.0.0.1:1")
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)
}

func TestPVEMockServesUntilInterrupted(t *testing.T) {
	state := t.TempDir()
	m := exampletest.StartMock(t, "-product", "pve", "-listen", "127.0.0.1:0", "-state", state)
	assert.Equal(t, "pve", m.Product)
	assert.True(t, strings.HasPrefix(m.URL, "https://127.0.0.1:"), m.URL)
	assert.Equal(t, "root@pam!admin", m.AuthID)
	assert.Empty(t, m.Datastore)
	assert.Empty(t, m.Repository)

	header := "PVEAPIToken=" + m.AuthID + "=" + m.Secret
	status, body := pinnedGet(t, m.Fingerprint, m.URL+"/api2/json/version", header)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body["data"], "version")
	status, body = pinnedGet(t, m.Fingerprint, m.URL+"/api2/json/access/users", header)
	assert.Equal(t, http.StatusOK, status, "the token has full rights")
	assert.NotEmpty(t, body["data"])
	status, _ = pinnedGet(t, m.Fingerprint, m.URL+"/api2/json/access/users", "PVEAPIToken="+m.AuthID+"=00000000-0000-0000-0000-000000000000")
	assert.Equal(t, http.StatusUnauthorized, status)

	assert.Equal(t, 0, m.Stop(t), "stderr: %s", m.Stderr())
	assert.FileExists(t, filepath.Join(state, "pvetest-state.json"))
}
