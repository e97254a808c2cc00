package pbstest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
)

// adminCall sends a raw request with the admin token; params go into the
// query string for GET and DELETE and into a form body otherwise, as the
// reference client sends them.
func adminCall(t *testing.T, srv *Server, method, path string, params url.Values) (int, string) {
	t.Helper()
	target := "/api2/json" + path
	var body io.Reader
	contentType := ""
	if method == "GET" || method == "DELETE" {
		if len(params) > 0 {
			target += "?" + params.Encode()
		}
	} else {
		body, contentType = strings.NewReader(params.Encode()), "application/x-www-form-urlencoded"
	}
	status, b, _ := RawRequest(t, srv, method, target, body, contentType, srv.AdminToken.PBSHeader())
	return status, b
}

// adminSnapshot writes a finished snapshot with one blob into the
// server's store.
func adminSnapshot(t *testing.T, srv *Server, ns datastore.Namespace, s, owner string) datastore.Snapshot {
	t.Helper()
	snap, err := datastore.ParseSnapshot(s)
	require.NoError(t, err)
	srv.mu.Lock()
	st := srv.stores[srv.Datastore]
	srv.mu.Unlock()
	w, err := st.BeginSnapshot(ns, snap, owner)
	require.NoError(t, err)
	blob, err := datastore.EncodeBlob([]byte("x"), false)
	require.NoError(t, err)
	require.NoError(t, w.WriteBlob("a.blob", blob))
	require.NoError(t, w.Commit(&datastore.Manifest{BackupType: string(snap.Type), BackupID: snap.ID, BackupTime: snap.Time.Unix(),
		Files: []datastore.ManifestFile{{Filename: "a.blob", CryptMode: datastore.CryptNone, Size: uint64(len(blob)),
			Csum: datastore.ComputeDigest(blob).String()}}}))
	return snap
}

func TestAdminWireShapes(t *testing.T) {
	srv := NewServer(t)
	adminSnapshot(t, srv, datastore.Namespace{}, "host/a/2026-01-01T00:00:00Z", "root@pam")

	status, body := adminCall(t, srv, "GET", "/admin/datastore", nil)
	require.Equal(t, 200, status, body)
	assert.JSONEq(t, `{"data":[{"store":"store1","comment":null}]}`, body, "comment is null, not left out")

	status, body = adminCall(t, srv, "GET", "/admin/datastore/store1/snapshots", nil)
	require.Equal(t, 200, status, body)
	var snaps struct {
		Data []map[string]json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &snaps))
	require.Len(t, snaps.Data, 1)
	for _, k := range []string{"backup-type", "backup-id", "backup-time", "files", "size", "owner", "protected"} {
		assert.Contains(t, snaps.Data[0], k)
	}
	assert.NotContains(t, snaps.Data[0], "comment", "empty optional members are left out")
	assert.NotContains(t, snaps.Data[0], "verification")

	status, body = adminCall(t, srv, "GET", "/admin/datastore/store1/namespace", nil)
	require.Equal(t, 200, status, body)
	assert.JSONEq(t, `{"data":[{"ns":""}]}`, body)

	status, body = adminCall(t, srv, "POST", "/admin/datastore/store1/namespace", url.Values{"name": {"a"}})
	require.Equal(t, 200, status, body)
	assert.JSONEq(t, `{"data":"a"}`, body)

	status, body = adminCall(t, srv, "PUT", "/admin/datastore/store1/protected",
		url.Values{"backup-type": {"host"}, "backup-id": {"a"}, "backup-time": {"1767225600"}, "protected": {"yes"}})
	require.Equal(t, 200, status, body)
	assert.JSONEq(t, `{"data":null}`, body)
	status, body = adminCall(t, srv, "GET", "/admin/datastore/store1/protected",
		url.Values{"backup-type": {"host"}, "backup-id": {"a"}, "backup-time": {"1767225600"}})
	require.Equal(t, 200, status, body)
	assert.JSONEq(t, `{"data":true}`, body)
	status, body = adminCall(t, srv, "GET", "/admin/datastore/store1/protected",
		url.Values{"backup-type": {"host"}, "backup-id": {"a"}, "backup-time": {"1767225601"}})
	require.Equal(t, 200, status, body)
	assert.JSONEq(t, `{"data":false}`, body, "PBS only looks for the marker: a missing snapshot is unprotected")
}

func TestAdminParameterErrors(t *testing.T) {
	srv := NewServer(t)
	for _, tc := range []struct {
		method, path string
		params       url.Values
		want         string
	}{
		{"GET", "/admin/datastore/store1/snapshots", url.Values{"backup-type": {"disk"}},
			"parameter verification failed - 'backup-type': value 'disk' is not defined in the enumeration."},
		{"GET", "/admin/datastore/store1/groups", url.Values{"ns": {"a//b"}},
			"parameter verification failed - 'ns': value does not match the regex pattern"},
		{"GET", "/admin/datastore/store1/files", url.Values{"backup-type": {"host"}, "backup-id": {"a"}},
			"parameter verification failed - 'backup-time': parameter is missing and it is not optional."},
		{"GET", "/admin/datastore/store1/groups", url.Values{"bogus": {"1"}},
			"parameter verification failed - 'bogus': schema does not allow additional properties."},
		{"POST", "/admin/datastore/store1/prune", url.Values{"backup-type": {"host"}, "backup-id": {"a"}, "keep-last": {"0"}},
			"parameter verification failed - 'keep-last': value must have a minimum value of 1 (got 0)"},
		{"POST", "/admin/datastore/store1/namespace", url.Values{"name": {strings.Repeat("n", 33)}},
			"parameter verification failed - 'name': value may only be 32 characters long"},
		{"POST", "/admin/datastore/store1/verify", url.Values{"backup-type": {"host"}},
			"parameters do not specify a backup group or snapshot"},
		{"GET", "/nodes/localhost/tasks/UPID:nope/status", nil,
			"parameter verification failed - 'upid': value does not match the regex pattern"},
	} {
		status, body := adminCall(t, srv, tc.method, tc.path, tc.params)
		assert.Equal(t, http.StatusBadRequest, status, "%s %s", tc.method, tc.path)
		assert.Equal(t, tc.want, body, "%s %s %v", tc.method, tc.path, tc.params)
	}
}

func TestAdminGCRunsOncePerStore(t *testing.T) {
	srv := NewServer(t)
	srv.admin.mu.Lock()
	srv.admin.gcRunning = map[string]bool{"store1": true}
	srv.admin.mu.Unlock()
	status, body := adminCall(t, srv, "POST", "/admin/datastore/store1/gc", nil)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "garbage collection already running", body)

	srv.admin.mu.Lock()
	srv.admin.gcRunning = nil
	srv.admin.mu.Unlock()
	status, body = adminCall(t, srv, "POST", "/admin/datastore/store1/gc", nil)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, ":garbage_collection:store1:root@pam!admin:")

	status, body = adminCall(t, srv, "GET", "/admin/datastore/nostore/gc", nil)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "no such datastore 'nostore'", body)
}

func TestAdminTaskLogEnvelope(t *testing.T) {
	srv := NewServer(t)
	status, body := adminCall(t, srv, "POST", "/admin/datastore/store1/verify", nil)
	require.Equal(t, http.StatusOK, status, body)
	var upid struct {
		Data string `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &upid))
	path := "/nodes/localhost/tasks/" + url.PathEscape(upid.Data) + "/log"

	status, body = adminCall(t, srv, "GET", path, url.Values{"start": {"1"}, "limit": {"2"}, "test-status": {"1"}})
	require.Equal(t, http.StatusOK, status, body)
	var log struct {
		Data []struct {
			N int    `json:"n"`
			T string `json:"t"`
		} `json:"data"`
		Total   int  `json:"total"`
		Success int  `json:"success"`
		Active  bool `json:"active"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &log))
	require.Len(t, log.Data, 2)
	assert.Equal(t, 1, log.Data[0].N)
	assert.True(t, strings.HasSuffix(log.Data[0].T, ": verify datastore store1"), log.Data[0].T)
	assert.Equal(t, 1, log.Success)
	assert.False(t, log.Active)
	assert.GreaterOrEqual(t, log.Total, 3)

	status, body = adminCall(t, srv, "GET", path, url.Values{"download": {"1"}})
	require.Equal(t, http.StatusOK, status, body)
	assert.True(t, strings.HasSuffix(body, ": TASK OK\n"), body)
	status, body = adminCall(t, srv, "GET", path, url.Values{"download": {"1"}, "limit": {"1"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "Parameter 'download' cannot be used with other parameters", body)
}

func TestAdminOwnerRules(t *testing.T) {
	alice := auth.MustParseAuthid("alice@pbs")
	aliceTok := auth.MustParseAuthid("alice@pbs!one")
	aliceTok2 := auth.MustParseAuthid("alice@pbs!two")
	bob := auth.MustParseAuthid("bob@pbs")
	bobTok := auth.MustParseAuthid("bob@pbs!one")

	assert.NoError(t, adminOwnerCheck("alice@pbs", alice))
	assert.NoError(t, adminOwnerCheck("alice@pbs!one", alice), "a user owns what its tokens own")
	assert.Error(t, adminOwnerCheck("alice@pbs", aliceTok), "a token does not own its user's groups")
	assert.Error(t, adminOwnerCheck("alice@pbs!one", aliceTok2), "nor its sibling's")
	assert.EqualError(t, adminOwnerCheck("bob@pbs", alice), "400: backup owner check failed (alice@pbs != bob@pbs)")

	for _, tc := range []struct {
		caller, owner, next auth.Authid
		ok                  bool
	}{
		{alice, aliceTok, aliceTok2, true}, // token to token of the same user, by the user
		{alice, aliceTok, alice, true},     // token to its user
		{alice, alice, aliceTok, true},     // user to its token
		{alice, alice, bob, false},         // user to user: never without Datastore.Modify
		{alice, aliceTok, bobTok, false},   // to another user's token
		{aliceTok, aliceTok, aliceTok2, false},
		{alice, bobTok, alice, false},
	} {
		assert.Equal(t, tc.ok, adminOwnerChangeAllowed(tc.caller, tc.owner, tc.next), "%s: %s -> %s", tc.caller, tc.owner, tc.next)
	}
}

func TestAdminWaitTaskFollowsARunningTask(t *testing.T) {
	srv := NewServer(t)
	c, err := pbs.NewClient(srv.URL, pbs.WithCredentials(srv.AdminToken), pbs.WithFingerprint(srv.Fingerprint))
	require.NoError(t, err)
	task := srv.adminStartTask("verify", "store1", srv.AdminToken.ID)
	srv.adminTaskLog(task, "line 1")

	st, err := c.Datastore.TaskStatus(context.Background(), task.upid)
	require.NoError(t, err)
	assert.True(t, st.Running)
	assert.Empty(t, st.ExitStatus)
	assert.NoError(t, st.Err())
	log, err := c.Datastore.TaskLog(context.Background(), task.upid, 0, 0)
	require.NoError(t, err)
	assert.True(t, log.Active)

	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(50 * time.Millisecond)
		srv.adminTaskLog(task, "line 2")
		srv.adminFinishTask(task, errors.New("boom"))
	}()
	var lines []string
	st, err = c.Datastore.WaitTask(context.Background(), task.upid, &pbs.WaitOptions{
		Interval: 5 * time.Millisecond,
		Log:      func(l pbs.TaskLogLine) { lines = append(lines, l.Text[strings.Index(l.Text, ": ")+2:]) },
	})
	<-done
	var terr *pbs.TaskError
	require.ErrorAs(t, err, &terr)
	assert.Equal(t, "boom", terr.ExitStatus)
	assert.Equal(t, "pbs: task verify store1 failed: boom", terr.Error())
	require.NotNil(t, st)
	assert.False(t, st.Running)
	assert.Equal(t, []string{"line 1", "line 2", "TASK ERROR: boom"}, lines, "every line once, in order")

	// The context ends the wait, not the task.
	forever := srv.adminStartTask("verify", "store1", srv.AdminToken.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = c.Datastore.WaitTask(ctx, forever.upid, &pbs.WaitOptions{Interval: 5 * time.Millisecond})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
