package pbs_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// speedTestShort keeps the tests quick; the figures do not matter here.
const speedTestShort = 200 * time.Millisecond

// A speed test measures something, and a benchmark session leaves no
// snapshot behind (pbs-protocol.md 3.2: "in benchmark mode the snapshot
// is always removed").
func TestUploadSpeedTest(t *testing.T) {
	e := newBkEnv(t)
	res, err := e.c.UploadSpeedTest(bkCtx(t), e.srv.Datastore, speedTestShort)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, res.Requests, pbs.SpeedTestInFlight, "every call in flight sends at least once")
	assert.Equal(t, int64(res.Requests)*pbs.SpeedTestBufferSize, res.Bytes)
	assert.GreaterOrEqual(t, res.Duration, speedTestShort)
	assert.Greater(t, res.BytesPerSecond(), 0.0)
	assert.Regexp(t, `^\d+\.\d\d MB/s \(\d+ x 4 MiB in \d+\.\d\ds\)$`, res.String())

	assert.Empty(t, e.snapshots("benchmark"))
	assertNoSnapshotDirs(t, e)
	assert.Zero(t, e.srv.ActiveSessions(), "the session was closed")
}

// assertNoSnapshotDirs checks the datastore directory itself: under
// host/benchmark there is at most the group's owner file, never a
// snapshot directory, finished or not.
func assertNoSnapshotDirs(t *testing.T, e *bkEnv) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.srv.DatastorePath, "host", "benchmark"))
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	require.NoError(t, err)
	for _, en := range entries {
		assert.False(t, en.IsDir(), "left behind: %s", en.Name())
	}
}

// Each speedtest call carries a 4 MiB body of proxmox-backup-client's
// counter pattern, no parameters and the form content type the reference
// client sends for it, on a session opened with benchmark=true.
func TestSpeedTestWire(t *testing.T) {
	e := newBkEnv(t)
	var mu sync.Mutex
	var calls []pbs.CallEvent
	ctx := pbs.WithCallObserver(bkCtx(t), func(ev pbs.CallEvent) {
		mu.Lock()
		defer mu.Unlock()
		if !ev.Done {
			calls = append(calls, ev)
		}
	})
	res, err := e.c.UploadSpeedTest(ctx, e.srv.Datastore, time.Nanosecond)
	require.NoError(t, err)
	assert.Equal(t, pbs.SpeedTestInFlight, res.Requests, "a test shorter than one call sends one per slot")

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, calls, pbs.SpeedTestInFlight, "no previous_backup_time: a benchmark group has nothing to reuse")
	for _, c := range calls {
		assert.Equal(t, http.MethodPost, c.Method)
		assert.Equal(t, "/speedtest", c.Path)
		assert.Empty(t, c.Query)
		assert.Equal(t, "application/x-www-form-urlencoded", c.ContentType)
		require.Len(t, c.Body, 4<<20)
		assert.Equal(t, []byte{0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0}, c.Body[:12])
		assert.Equal(t, []byte{0xff, 0xff, 0x0f, 0x00}, c.Body[len(c.Body)-4:])
	}
}

// The benchmark rule (pbs-protocol.md 3.1 step 6) both ways, and a
// benchmark session that even finishes keeps nothing.
func TestBenchmarkOption(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	var perr *pbs.Error

	o := e.opts("web01")
	o.Benchmark = true
	_, err := e.c.StartBackup(ctx, o)
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, 400, perr.Status)
	assert.Contains(t, perr.Message, "benchmark flags is only allowed on 'host/benchmark'")

	_, err = e.c.StartBackup(ctx, e.opts("benchmark"))
	require.ErrorAs(t, err, &perr)
	assert.Contains(t, perr.Message, "unable to run benchmark without --benchmark flags")

	o = e.opts("benchmark")
	o.Benchmark = true
	s, err := e.c.StartBackup(ctx, o)
	require.NoError(t, err)
	_, err = s.UploadBlob(ctx, "app.conf", []byte("port = 80\n"))
	require.NoError(t, err)
	_, err = s.SpeedTest(ctx, time.Nanosecond)
	require.NoError(t, err)
	_, err = s.Finish(ctx)
	require.NoError(t, err, "the server checks a benchmark's finish as any other")
	assert.Empty(t, e.snapshots("benchmark"))
	assertNoSnapshotDirs(t, e)
}

// On an ordinary session the speed test changes nothing of the snapshot.
func TestSpeedTestInsideABackup(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	s := e.start("web01")
	_, err := s.SpeedTest(ctx, speedTestShort)
	require.NoError(t, err)
	_, err = s.UploadBlob(ctx, "app.conf", []byte("port = 80\n"))
	require.NoError(t, err)
	res, err := s.Finish(ctx)
	require.NoError(t, err)
	require.Len(t, res.Manifest.Files, 1)
	assert.Equal(t, "app.conf.blob", res.Manifest.Files[0].Filename)
	assert.Len(t, e.snapshots("web01"), 1)
}

// Cancelling the context stops a test long before its duration, with the
// context's error, and the session is gone without a trace.
func TestUploadSpeedTestCancel(t *testing.T) {
	e := newBkEnv(t)
	ctx, cancel := context.WithCancel(bkCtx(t))
	done := make(chan error, 1)
	go func() {
		_, err := e.c.UploadSpeedTest(ctx, e.srv.Datastore, time.Hour)
		done <- err
	}()
	require.Eventually(t, func() bool { return e.srv.ActiveSessions() == 1 }, 30*time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond) // let some calls run
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, pbs.ErrAborted)
	case <-time.After(30 * time.Second):
		t.Fatal("the speed test did not stop when its context was cancelled")
	}
	assert.Empty(t, e.snapshots("benchmark"))
	assertNoSnapshotDirs(t, e)
}

// A failed call ends the test with the server's answer and aborts the
// session, as every failed call of a backup session does.
func TestSpeedTestFailureAbortsTheSession(t *testing.T) {
	e := newBkEnv(t, pbstest.WithFaults(pbstest.FailPath("/speedtest", 3, http.StatusInternalServerError)))
	ctx := bkCtx(t)
	s := e.start("web01")
	_, err := s.SpeedTest(ctx, time.Hour)
	var perr *pbs.Error
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, http.StatusInternalServerError, perr.Status)
	assert.Contains(t, err.Error(), "speedtest")

	_, err = s.UploadBlob(ctx, "app.conf", []byte("x"))
	assert.ErrorIs(t, err, pbs.ErrSessionFailed)
	_, err = s.SpeedTest(ctx, time.Nanosecond)
	assert.ErrorIs(t, err, pbs.ErrSessionFailed)
	assert.Empty(t, e.snapshots("web01"))
}

// Datastore.Backup is needed (403 without it); ownership of
// host/benchmark is not (pbs-protocol.md 3.1 step 8: skipped for
// benchmarks), so two users can both measure.
func TestUploadSpeedTestPrivileges(t *testing.T) {
	e := newBkEnv(t)
	ctx := bkCtx(t)
	token := func(user, role string) *pbs.Client {
		u := auth.MustParseUserid(user)
		require.NoError(t, e.c.Access.CreateUser(ctx, pbs.NewUser{ID: u}))
		id := auth.MustParseAuthid(user + "!bench")
		ct, err := e.c.Access.CreateToken(ctx, id, pbs.TokenOptions{})
		require.NoError(t, err)
		for _, who := range []auth.Authid{id, u.Authid()} {
			require.NoError(t, e.c.Access.GrantACL(ctx, pbs.ACLUpdate{Path: "/datastore/" + e.srv.Datastore, Role: role, AuthID: who}))
		}
		return connect(t, e.srv, ct.Credentials())
	}
	auditor := token("audit@pbs", "DatastoreAudit")
	_, err := auditor.UploadSpeedTest(ctx, e.srv.Datastore, time.Nanosecond)
	var perr *pbs.Error
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, http.StatusForbidden, perr.Status)
	assert.ErrorIs(t, err, pbs.ErrForbidden)

	for _, user := range []string{"alice@pbs", "bob@pbs"} {
		_, err := token(user, "DatastoreBackup").UploadSpeedTest(ctx, e.srv.Datastore, time.Nanosecond)
		require.NoError(t, err, user)
		e.settle() // one session of a group at a time
	}
	items, err := e.store().ListGroups(ctx, datastore.Namespace{})
	require.NoError(t, err)
	for _, g := range items {
		assert.NotEqual(t, "benchmark", g.BackupID, "listed as a group: %+v", g)
	}
}
