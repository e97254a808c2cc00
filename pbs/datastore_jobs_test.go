package pbs_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// waitLog waits for task upid and returns its final status, error and log
// lines.
func waitLog(t *testing.T, c *pbs.Client, upid pbs.UPID) (*pbs.TaskStatus, error, []string) {
	t.Helper()
	var lines []string
	st, err := c.Datastore.WaitTask(dsCtx(t), upid, &pbs.WaitOptions{
		Interval: 10 * time.Millisecond,
		Log:      func(l pbs.TaskLogLine) { lines = append(lines, l.Text) },
	})
	return st, err, lines
}

// corruptFirstChunk flips a byte in the first chunk of data.didx of sn.
func (e *dsEnv) corruptFirstChunk(t *testing.T, sn datastore.Snapshot) datastore.Digest {
	t.Helper()
	ix, err := e.st.OpenDynamicIndex(datastore.Namespace{}, sn, "data.didx")
	require.NoError(t, err)
	_, _, d := ix.Entry(0)
	path := e.st.ChunkPath(d)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[len(b)-1] ^= 0xff
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return d
}

func TestVerifySnapshotGroupAndDatastore(t *testing.T) {
	e := newDSEnv(t)
	c := e.c.Datastore
	root := datastore.Namespace{}
	good := e.backup(t, "", "host/good/2026-01-01T10:00:00Z", "root@pam", "good data here")
	bad := e.backup(t, "", "host/bad/2026-01-01T10:00:00Z", "root@pam", "corrupted data")

	upid, err := c.StartVerify(dsCtx(t), e.store, pbs.VerifyOptions{Group: good.Group, Time: good.Time})
	require.NoError(t, err)
	assert.Equal(t, "verify_snapshot", upid.WorkerType)
	assert.Equal(t, fmt.Sprintf("store1:/host/good/%08X", good.Time.Unix()), upid.WorkerID)
	assert.Equal(t, e.srv.AdminToken.ID, upid.AuthID)
	st, err, lines := waitLog(t, e.c, upid)
	require.NoError(t, err)
	assert.False(t, st.Running)
	assert.Equal(t, "OK", st.ExitStatus)
	assert.True(t, st.Succeeded())
	assert.Equal(t, e.srv.AdminToken.ID, st.User)
	assert.Equal(t, upid.String(), st.UPID.String())
	require.NotEmpty(t, lines)
	assert.Contains(t, lines[0], ": verify store1:host/good/2026-01-01T10:00:00Z")
	assert.True(t, strings.HasSuffix(lines[len(lines)-1], ": TASK OK"), lines)

	snaps, err := c.ListSnapshots(dsCtx(t), e.store, root, pbs.SnapshotFilter{ID: "good"})
	require.NoError(t, err)
	require.Len(t, snaps, 1)
	require.NotNil(t, snaps[0].Verification)
	assert.Equal(t, pbs.VerifyOK, snaps[0].Verification.State)
	assert.Equal(t, upid.String(), snaps[0].Verification.UPID.String())

	digest := e.corruptFirstChunk(t, bad)
	upid, err = c.StartVerify(dsCtx(t), e.store, pbs.VerifyOptions{Group: bad.Group})
	require.NoError(t, err)
	assert.Equal(t, "verify_group", upid.WorkerType)
	st, err, lines = waitLog(t, e.c, upid)
	var terr *pbs.TaskError
	require.ErrorAs(t, err, &terr)
	assert.ErrorIs(t, err, pbs.ErrTaskFailed)
	assert.Equal(t, "verification failed - please check the log for details", terr.ExitStatus)
	require.NotNil(t, st)
	assert.False(t, st.Succeeded())
	joined := strings.Join(lines, "\n")
	assert.Contains(t, joined, "verify group store1:host/bad (1 snapshots)")
	assert.Contains(t, joined, "verify store1:host/bad/2026-01-01T10:00:00Z/data.didx failed")
	assert.Contains(t, joined, "\thost/bad/2026-01-01T10:00:00Z")
	_, err = os.Stat(e.st.ChunkPath(digest))
	assert.True(t, os.IsNotExist(err), "the corrupt chunk was renamed to .bad, as PBS does")

	snaps, err = c.ListSnapshots(dsCtx(t), e.store, root, pbs.SnapshotFilter{ID: "bad"})
	require.NoError(t, err)
	require.NotNil(t, snaps[0].Verification)
	assert.Equal(t, pbs.VerifyFailed, snaps[0].Verification.State)

	// The whole datastore: both snapshots carry a verify state, so with
	// ignore-verified (the default) both are skipped, the failed one too,
	// as PBS's verify filter only asks whether there is a state.
	upid, err = c.StartVerify(dsCtx(t), e.store, pbs.VerifyOptions{})
	require.NoError(t, err)
	assert.Equal(t, "verify", upid.WorkerType)
	assert.Equal(t, "store1", upid.WorkerID)
	_, err, lines = waitLog(t, e.c, upid)
	require.NoError(t, err)
	joined = strings.Join(lines, "\n")
	assert.Contains(t, joined, "found 2 groups")
	assert.Contains(t, joined, "SKIPPED: verify store1:host/good/2026-01-01T10:00:00Z (recently verified)")
	assert.Contains(t, joined, "SKIPPED: verify store1:host/bad/2026-01-01T10:00:00Z (recently verified)")

	no := false
	upid, err = c.StartVerify(dsCtx(t), e.store, pbs.VerifyOptions{IgnoreVerified: &no})
	require.NoError(t, err)
	_, err, lines = waitLog(t, e.c, upid)
	assert.ErrorIs(t, err, pbs.ErrTaskFailed, "verified again, the bad snapshot fails again")
	assert.NotContains(t, strings.Join(lines, "\n"), "SKIPPED")
}

// testClock is a settable clock for the mock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestGarbageCollection(t *testing.T) {
	clock := &testClock{t: time.Now()}
	e := newDSEnv(t, pbstest.WithClock(clock.now))
	c := e.c.Datastore
	root := datastore.Namespace{}
	keep := e.backup(t, "", "host/keep/2026-01-01T10:00:00Z", "root@pam", "referenced chunks")
	gone := e.backup(t, "", "host/gone/2026-01-01T10:00:00Z", "root@pam", "chunks to collect")
	require.NoError(t, c.DeleteSnapshot(dsCtx(t), e.store, root, gone))

	// Right away nothing is collected: the chunks are younger than the
	// 24 h grace period.
	upid, err := c.StartGC(dsCtx(t), e.store)
	require.NoError(t, err)
	assert.Equal(t, "garbage_collection", upid.WorkerType)
	assert.Equal(t, "store1", upid.WorkerID)
	st, err, lines := waitLog(t, e.c, upid)
	require.NoError(t, err)
	assert.Equal(t, "OK", st.ExitStatus)
	assert.Contains(t, lines[0], "starting garbage collection on store store1")
	gc, err := c.GCStatus(dsCtx(t), e.store)
	require.NoError(t, err)
	assert.Equal(t, "store1", gc.Store)
	require.NotNil(t, gc.Status.UPID)
	assert.Equal(t, upid.String(), *gc.Status.UPID)
	assert.Zero(t, gc.Status.RemovedChunks)
	assert.Equal(t, uint64(4), gc.Status.DiskChunks)
	assert.Equal(t, "OK", gc.LastRunState)
	assert.False(t, gc.LastRunEndtime.IsZero())

	clock.add(48 * time.Hour)
	upid, err = c.StartGC(dsCtx(t), e.store)
	require.NoError(t, err)
	_, err, _ = waitLog(t, e.c, upid)
	require.NoError(t, err)
	gc, err = c.GCStatus(dsCtx(t), e.store)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), gc.Status.RemovedChunks, "the two chunks of the deleted snapshot")
	assert.Equal(t, uint64(2), gc.Status.DiskChunks)

	upid, err = c.StartVerify(dsCtx(t), e.store, pbs.VerifyOptions{Group: keep.Group, Time: keep.Time})
	require.NoError(t, err)
	_, err, _ = waitLog(t, e.c, upid)
	require.NoError(t, err, "referenced chunks survive")

	usage, err := c.Usage(dsCtx(t))
	require.NoError(t, err)
	require.NotNil(t, usage[0].GCStatus)
	assert.Equal(t, uint64(2), usage[0].GCStatus.RemovedChunks, "the usage list carries the last GC status")
}

func TestPrune(t *testing.T) {
	e := newDSEnv(t)
	c := e.c.Datastore
	root := datastore.Namespace{}
	s1 := e.backup(t, "", "vm/101/2026-01-01T10:00:00Z", "root@pam", "day one")
	s2 := e.backup(t, "", "vm/101/2026-01-02T10:00:00Z", "root@pam", "day two")
	s3 := e.backup(t, "", "vm/101/2026-01-03T10:00:00Z", "root@pam", "day three")
	require.NoError(t, c.SetProtected(dsCtx(t), e.store, root, s1, true))

	plan, err := c.Prune(dsCtx(t), e.store, root, s1.Group, pbs.PruneOptions{KeepLast: 1, DryRun: true})
	require.NoError(t, err)
	require.Len(t, plan, 3)
	assert.Equal(t, []pbs.PruneItem{
		{Snapshot: s1, Keep: true, Protected: true},
		{Snapshot: s2, Keep: false},
		{Snapshot: s3, Keep: true},
	}, plan, "oldest first; a protected snapshot is always kept")
	snaps, err := c.ListSnapshots(dsCtx(t), e.store, root, pbs.SnapshotFilter{})
	require.NoError(t, err)
	assert.Len(t, snaps, 3, "a dry run removes nothing")

	done, err := c.Prune(dsCtx(t), e.store, root, s1.Group, pbs.PruneOptions{KeepLast: 1})
	require.NoError(t, err)
	assert.Equal(t, plan, done)
	snaps, err = c.ListSnapshots(dsCtx(t), e.store, root, pbs.SnapshotFilter{})
	require.NoError(t, err)
	require.Len(t, snaps, 2)
	assert.Equal(t, s1, snaps[0].Snapshot, "the protected snapshot survived the prune")
	assert.Equal(t, s3, snaps[1].Snapshot)

	// Without any keep option prune keeps everything.
	all, err := c.Prune(dsCtx(t), e.store, root, s1.Group, pbs.PruneOptions{})
	require.NoError(t, err)
	for _, it := range all {
		assert.True(t, it.Keep)
	}

	_, err = c.Prune(dsCtx(t), e.store, root, datastore.Group{Type: datastore.TypeVM, ID: "999"}, pbs.PruneOptions{KeepLast: 1})
	assert.ErrorIs(t, err, pbs.ErrNotFound)
}

func TestPruneAsTaskInNamespace(t *testing.T) {
	e := newDSEnv(t)
	c := e.c.Datastore
	prod := e.createNS(t, "prod")
	e.backup(t, "prod", "ct/300/2026-03-01T10:00:00Z", "root@pam", "march")
	s2 := e.backup(t, "prod", "ct/300/2026-04-01T10:00:00Z", "root@pam", "april")

	plan, err := c.Prune(dsCtx(t), e.store, prod, s2.Group, pbs.PruneOptions{KeepLast: 1, DryRun: true})
	require.NoError(t, err)
	require.Len(t, plan, 2)
	assert.Equal(t, prod, plan[0].Namespace, "dry runs name the namespace")

	upid, err := c.StartPrune(dsCtx(t), e.store, prod, s2.Group, pbs.PruneOptions{KeepLast: 1})
	require.NoError(t, err)
	assert.Equal(t, "prune", upid.WorkerType)
	assert.Equal(t, "store1:prod:ct/300", upid.WorkerID)
	st, err, lines := waitLog(t, e.c, upid)
	require.NoError(t, err)
	assert.Equal(t, "OK", st.ExitStatus)
	joined := strings.Join(lines, "\n")
	assert.Contains(t, joined, "retention options: --ns prod --keep-last 1")
	assert.Contains(t, joined, `Starting prune on datastore 'store1', namespace 'prod' group "ct/300"`)
	assert.Contains(t, joined, "ct/300/2026-03-01T10:00:00Z remove")
	assert.Contains(t, joined, "ct/300/2026-04-01T10:00:00Z keep")
	snaps, err := c.ListSnapshots(dsCtx(t), e.store, prod, pbs.SnapshotFilter{})
	require.NoError(t, err)
	require.Len(t, snaps, 1)
	assert.Equal(t, s2, snaps[0].Snapshot)
}

func TestTaskLogWindowsAndUnknownTasks(t *testing.T) {
	e := newDSEnv(t)
	c := e.c.Datastore
	s := e.backup(t, "", "host/a/2026-01-01T10:00:00Z", "root@pam", "abc")
	upid, err := c.StartVerify(dsCtx(t), e.store, pbs.VerifyOptions{Group: s.Group, Time: s.Time})
	require.NoError(t, err)

	all, err := c.TaskLog(dsCtx(t), upid, 0, 0)
	require.NoError(t, err)
	require.Greater(t, len(all.Lines), 2)
	assert.Equal(t, uint64(len(all.Lines)), all.Total)
	assert.False(t, all.Active)
	for i, l := range all.Lines {
		assert.Equal(t, uint64(i+1), l.N)
		assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d: `, l.Text, "PBS stamps each line")
	}
	win, err := c.TaskLog(dsCtx(t), upid, 2, 1)
	require.NoError(t, err)
	require.Len(t, win.Lines, 1)
	assert.Equal(t, all.Lines[1], win.Lines[0])
	assert.Equal(t, all.Total, win.Total)

	// A well-formed UPID the server never ran: stopped, status unknown, no
	// log.
	ghost := upid
	ghost.TaskID += 1000
	ghost, err = pbs.ParseUPID(fakeString(ghost))
	require.NoError(t, err)
	st, err := c.TaskStatus(dsCtx(t), ghost)
	require.NoError(t, err)
	assert.False(t, st.Running)
	assert.Equal(t, "unknown", st.ExitStatus)
	assert.ErrorIs(t, st.Err(), pbs.ErrTaskFailed)
	_, err = c.TaskLog(dsCtx(t), ghost, 0, 0)
	assert.ErrorIs(t, err, pbs.ErrNotFound)
}

// fakeString renders a UPID built in code (its raw text dropped).
func fakeString(u pbs.UPID) string {
	return pbs.UPID{Node: u.Node, PID: u.PID, PStart: u.PStart, TaskID: u.TaskID, StartTime: u.StartTime,
		WorkerType: u.WorkerType, WorkerID: u.WorkerID, AuthID: u.AuthID}.String()
}

func TestTaskAccess(t *testing.T) {
	e := newDSEnv(t)
	s := e.backup(t, "", "host/a/2026-01-01T10:00:00Z", "root@pam", "abc")
	auditor, _ := e.newToken(t, "audit@pbs", "t", dsGrant{"/datastore/store1", "DatastoreAudit"})
	sysAudit, _ := e.newToken(t, "sys@pbs", "t", dsGrant{"/system/tasks", "Audit"})
	upid, err := e.c.Datastore.StartVerify(dsCtx(t), e.store, pbs.VerifyOptions{Group: s.Group, Time: s.Time})
	require.NoError(t, err)

	_, err = auditor.Datastore.TaskStatus(dsCtx(t), upid)
	perr := apiError(t, err)
	assert.Equal(t, "task access not allowed", perr.Message)
	st, err := sysAudit.Datastore.TaskStatus(dsCtx(t), upid)
	require.NoError(t, err, "Sys.Audit on /system/tasks reads every task")
	assert.Equal(t, "OK", st.ExitStatus)

	// A token's task is readable by its user... and the GC task by whoever
	// may run GC.
	admin, adminID := e.newToken(t, "ops@pbs", "gc", dsGrant{"/datastore/store1", "DatastoreAdmin"})
	gcUPID, err := admin.Datastore.StartGC(dsCtx(t), e.store)
	require.NoError(t, err)
	assert.Equal(t, adminID, gcUPID.AuthID)
	other, _ := e.newToken(t, "ops2@pbs", "gc", dsGrant{"/datastore/store1", "DatastoreAdmin"})
	_, err = other.Datastore.TaskStatus(dsCtx(t), gcUPID)
	require.NoError(t, err, "Datastore.Modify on the datastore reads its GC tasks")
	_, err = auditor.Datastore.TaskStatus(dsCtx(t), gcUPID)
	perr = apiError(t, err)
	assert.Equal(t, "task access not allowed", perr.Message)
}

func TestPruneDatastore(t *testing.T) {
	e := newDSEnv(t)
	c := e.c.Datastore
	e.createNS(t, "a/b")
	for _, n := range []string{"", "a", "a/b"} {
		e.backup(t, n, "host/x/2026-01-01T10:00:00Z", "root@pam", "old "+n)
		e.backup(t, n, "host/x/2026-01-02T10:00:00Z", "root@pam", "new "+n)
	}
	count := func() int {
		total := 0
		for _, n := range []string{"", "a", "a/b"} {
			snaps, err := c.ListSnapshots(dsCtx(t), e.store, dsNS(t, n), pbs.SnapshotFilter{})
			require.NoError(t, err)
			total += len(snaps)
		}
		return total
	}

	depth := 1
	upid, err := c.StartPruneDatastore(dsCtx(t), e.store, pbs.PruneDatastoreOptions{
		PruneOptions: pbs.PruneOptions{KeepLast: 1, DryRun: true}, Namespace: dsNS(t, "a"), MaxDepth: &depth})
	require.NoError(t, err)
	assert.Equal(t, "store1:a", upid.WorkerID)
	_, err, lines := waitLog(t, e.c, upid)
	require.NoError(t, err)
	joined := strings.Join(lines, "\n")
	assert.Contains(t, joined, "Starting datastore prune on datastore 'store1', namespace 'a', to depth 1")
	assert.Contains(t, joined, "(dry test run)")
	assert.Contains(t, joined, "retention options: --ns a --max-depth 1 --keep-last 1")
	assert.Contains(t, joined, `Pruning group a/b:"host/x"`)
	assert.Contains(t, joined, "would remove host/x/2026-01-01T10:00:00Z")
	assert.Equal(t, 6, count(), "a dry run removes nothing")

	upid, err = c.StartPruneDatastore(dsCtx(t), e.store, pbs.PruneDatastoreOptions{PruneOptions: pbs.PruneOptions{KeepLast: 1}})
	require.NoError(t, err)
	_, err, _ = waitLog(t, e.c, upid)
	require.NoError(t, err)
	assert.Equal(t, 3, count(), "the older snapshot of every group is gone")

	backupOnly, _ := e.newToken(t, "bk@pbs", "t", dsGrant{"/datastore/store1", "DatastoreBackup"})
	_, err = backupOnly.Datastore.StartPruneDatastore(dsCtx(t), e.store, pbs.PruneDatastoreOptions{PruneOptions: pbs.PruneOptions{KeepLast: 1}})
	assertPBSError(t, err, 400, "missing permissions 'Datastore.Modify|Datastore.Prune' on '/datastore/store1'")
}
