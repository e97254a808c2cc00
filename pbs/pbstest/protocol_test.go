package pbstest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/h2upgrade"
)

// refused dials a session that must be refused and returns the status
// and PBS's message.
func refused(t *testing.T, c *protoConn, err error) (int, string) {
	t.Helper()
	if c != nil {
		c.conn.Close()
	}
	var ue *h2upgrade.UpgradeError
	require.ErrorAs(t, err, &ue)
	return ue.Status, ue.Message
}

// rawUpgrade sends an upgrade request with net/http (no Upgrade handling)
// and returns status and body.
func rawUpgrade(t *testing.T, srv *Server, path, upgrade string) (int, string) {
	t.Helper()
	q := backupQuery("host", "x", protoTime)
	if path == "/api2/json/reader" {
		q = readerQuery("host", "x", protoTime)
	}
	req, err := http.NewRequest("GET", srv.URL+path+"?"+q.Encode(), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", srv.AdminToken.PBSHeader())
	if upgrade != "" {
		req.Header.Set("Connection", "upgrade")
		req.Header.Set("Upgrade", upgrade)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestBackupUpgradeAcceptsRustClientsDoubleSlash(t *testing.T) {
	srv := NewServer(t)
	c, err := protoDial(t, srv, srv.AdminToken, "//api2/json/backup", h2upgrade.BackupProtocol, backupQuery("host", "x", protoTime))
	require.NoError(t, err)
	c.data("GET", "/previous_backup_time", nil, "", nil)
	r, err := protoDial(t, srv, srv.AdminToken, "//api2/json/reader", h2upgrade.ReaderProtocol, readerQuery("host", "x", protoTime))
	status, msg := refused(t, r, err)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, msg, "does not exist", "the reader route is reached too")
}

func TestBackupUpgradeChecksHeaderAndProtocol(t *testing.T) {
	srv := NewServer(t)
	status, body := rawUpgrade(t, srv, "/api2/json/backup", "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "missing Upgrade header", body)
	status, body = rawUpgrade(t, srv, "/api2/json/backup", h2upgrade.ReaderProtocol)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid protocol name", body)
	status, body = rawUpgrade(t, srv, "/api2/json/reader", h2upgrade.BackupProtocol)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid protocol name", body)

	req, err := http.NewRequest("GET", srv.URL+"/api2/json/backup", nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "authentication comes first")
}

func TestBackupUpgradeParameters(t *testing.T) {
	srv := NewServer(t)
	for name, mod := range map[string]func(q map[string][]string){
		"missing store":  func(q map[string][]string) { delete(q, "store") },
		"bad type":       func(q map[string][]string) { q["backup-type"] = []string{"lxc"} },
		"bad id":         func(q map[string][]string) { q["backup-id"] = []string{"a/b"} },
		"time zero":      func(q map[string][]string) { q["backup-time"] = []string{"0"} },
		"time text":      func(q map[string][]string) { q["backup-time"] = []string{"now"} },
		"unknown":        func(q map[string][]string) { q["compress"] = []string{"1"} },
		"bad namespace":  func(q map[string][]string) { q["ns"] = []string{"a//b"} },
		"year past 9999": func(q map[string][]string) { q["backup-time"] = []string{"253402300800"} },
	} {
		t.Run(name, func(t *testing.T) {
			q := backupQuery("host", "x", protoTime)
			mod(q)
			c, err := protoDial(t, srv, srv.AdminToken, "/api2/json/backup", h2upgrade.BackupProtocol, q)
			status, msg := refused(t, c, err)
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Contains(t, msg, "parameter verification failed")
		})
	}
	q := backupQuery("host", "x", protoTime)
	q.Set("store", "nostore")
	c, err := protoDial(t, srv, srv.AdminToken, "/api2/json/backup", h2upgrade.BackupProtocol, q)
	status, msg := refused(t, c, err)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "no such datastore 'nostore'", msg)
}

func TestBackupUpgradeNeedsBackupPrivilege(t *testing.T) {
	srv := NewServer(t)
	audit := addToken(t, srv, "audit@pbs", "DatastoreAudit", "/datastore/store1")
	c, err := protoDial(t, srv, audit, "/api2/json/backup", h2upgrade.BackupProtocol, backupQuery("host", "x", protoTime))
	status, msg := refused(t, c, err)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Equal(t, "missing permissions 'Datastore.Backup' on '/datastore/store1'", msg)

	// A grant on a namespace only covers that namespace.
	st := srv.stores[DefaultDatastore]
	_, err = st.CreateNamespace(datastore.Namespace{}, "team")
	require.NoError(t, err)
	team := addToken(t, srv, "team@pbs", "DatastoreBackup", "/datastore/store1/team")
	q := backupQuery("host", "x", protoTime)
	c, err = protoDial(t, srv, team, "/api2/json/backup", h2upgrade.BackupProtocol, q)
	status, _ = refused(t, c, err)
	assert.Equal(t, http.StatusForbidden, status)
	q.Set("ns", "team")
	c, err = protoDial(t, srv, team, "/api2/json/backup", h2upgrade.BackupProtocol, q)
	require.NoError(t, err)
	c.conn.Close()
}

func TestBackupUpgradeMissingNamespaceIs404(t *testing.T) {
	srv := NewServer(t)
	q := backupQuery("host", "x", protoTime)
	q.Set("ns", "nowhere")
	c, err := protoDial(t, srv, srv.AdminToken, "/api2/json/backup", h2upgrade.BackupProtocol, q)
	status, msg := refused(t, c, err)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "namespace not found", msg)
}

func TestBackupUpgradeBenchmarkRules(t *testing.T) {
	srv := NewServer(t)
	c, err := protoDial(t, srv, srv.AdminToken, "/api2/json/backup", h2upgrade.BackupProtocol, backupQuery("host", "benchmark", protoTime))
	_, msg := refused(t, c, err)
	assert.Equal(t, "unable to run benchmark without --benchmark flags", msg)
	q := backupQuery("host", "x", protoTime)
	q.Set("benchmark", "true")
	c, err = protoDial(t, srv, srv.AdminToken, "/api2/json/backup", h2upgrade.BackupProtocol, q)
	_, msg = refused(t, c, err)
	assert.Equal(t, "benchmark flags is only allowed on 'host/benchmark'", msg)

	// A benchmark runs the whole protocol and keeps nothing.
	q = backupQuery("host", "benchmark", protoTime)
	q.Set("benchmark", "1")
	c, err = protoDial(t, srv, srv.AdminToken, "/api2/json/backup", h2upgrade.BackupProtocol, q)
	require.NoError(t, err)
	f := c.uploadDynamic("bench.didx", testChunks(4, 2, 1024), nil)
	c.finishBackup("host", "benchmark", protoTime, f)
	waitSessions(t, srv)
	items, err := openStore(t, srv).ListSnapshots(context.Background(), datastore.Namespace{}, "", "")
	require.NoError(t, err)
	assert.Empty(t, items)
}

func TestBackupOneWriterPerGroup(t *testing.T) {
	srv := NewServer(t)
	first := startBackupSession(t, srv, "ct", "101", protoTime)
	c, err := protoDial(t, srv, srv.AdminToken, "/api2/json/backup", h2upgrade.BackupProtocol, backupQuery("ct", "101", protoTime+1))
	status, msg := refused(t, c, err)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, msg, "another backup is already running")
	// Other groups are not affected.
	startBackupSession(t, srv, "ct", "102", protoTime).conn.Close()

	first.conn.Close()
	waitSessions(t, srv)
	startBackupSession(t, srv, "ct", "101", protoTime+1).conn.Close()
}

func TestBackupTimeMustIncreaseAndSnapshotBeNew(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	f := c.uploadBlob("a.conf.blob", []byte("a"))
	c.finishBackup("host", "x", protoTime, f)
	waitSessions(t, srv)

	for _, epoch := range []int64{protoTime - 1, protoTime} {
		c, err := protoDial(t, srv, srv.AdminToken, "/api2/json/backup", h2upgrade.BackupProtocol, backupQuery("host", "x", epoch))
		status, msg := refused(t, c, err)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, "backup timestamp is older than last backup.", msg, "time %d", epoch)
	}
	startBackupSession(t, srv, "host", "x", protoTime+1).conn.Close()
}

func TestBackupOwnerRule(t *testing.T) {
	srv := NewServer(t)
	alice := addToken(t, srv, "alice@pbs", "DatastoreBackup", "/datastore/store1")
	bob := addToken(t, srv, "bob@pbs", "DatastoreBackup", "/datastore/store1")

	// alice's token creates the group and owns it.
	c, err := protoDial(t, srv, alice, "/api2/json/backup", h2upgrade.BackupProtocol, backupQuery("host", "shared", protoTime))
	require.NoError(t, err)
	c.finishBackup("host", "shared", protoTime, c.uploadBlob("a.conf.blob", []byte("x")))
	waitSessions(t, srv)

	c, err = protoDial(t, srv, bob, "/api2/json/backup", h2upgrade.BackupProtocol, backupQuery("host", "shared", protoTime+1))
	status, msg := refused(t, c, err)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "backup owner check failed (bob@pbs!t != alice@pbs!t)", msg)

	// The admin token holds Datastore.Backup but does not own the group.
	c, err = protoDial(t, srv, srv.AdminToken, "/api2/json/backup", h2upgrade.BackupProtocol, backupQuery("host", "shared", protoTime+1))
	_, msg = refused(t, c, err)
	assert.Contains(t, msg, "backup owner check failed")

	assert.True(t, ownerMatches("alice@pbs!t", alice.ID))
	assert.True(t, ownerMatches("alice@pbs!t", alice.ID.User().Authid()), "a user may write into its token's group")
	assert.False(t, ownerMatches("alice@pbs", alice.ID), "a token may not write into its user's group")
	assert.False(t, ownerMatches("not an id", alice.ID))
}

func TestBackupTimeQueryRoundTrip(t *testing.T) {
	srv := NewServer(t)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	c.finishBackup("host", "x", protoTime, c.uploadBlob("a.conf.blob", []byte("x")))
	waitSessions(t, srv)
	c = startBackupSession(t, srv, "host", "x", protoTime+60)
	assert.Equal(t, strconv.FormatInt(protoTime, 10), string(c.data("GET", "/previous_backup_time", nil, "", nil)))
}

// TestSessionsEndWithServerClose proves a session cut off by Close
// leaves no snapshot (with a state directory, so the datastore survives).
func TestSessionsEndWithServerClose(t *testing.T) {
	dir := t.TempDir()
	srv, err := Start(WithStateDir(dir))
	require.NoError(t, err)
	c := startBackupSession(t, srv, "host", "x", protoTime)
	f := c.uploadDynamic("a.didx", testChunks(5, 2, 1024), nil)
	c.postBlob(datastore.ManifestName, manifestBlob(t, "host", "x", protoTime, f))
	require.NoError(t, srv.Close())
	waitSessions(t, srv)
	_, _, err = c.try("POST", "/finish", nil, "", nil)
	assert.True(t, errors.Is(err, h2upgrade.ErrClosed), "%v", err)

	srv2, err := Start(WithStateDir(dir))
	require.NoError(t, err)
	defer srv2.Close()
	items, err := openStore(t, srv2).ListSnapshots(context.Background(), datastore.Namespace{}, "", "")
	require.NoError(t, err)
	assert.Empty(t, items)
}
