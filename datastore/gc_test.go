package datastore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gcSetup creates a store on a fake clock with one snapshot referencing
// three chunks and two unreferenced chunks, all inserted "now".
func gcSetup(t *testing.T) (*Store, *storeFakeClock, map[Digest]bool, []Digest) {
	t.Helper()
	clock := &storeFakeClock{t: time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)}
	s := storeNewTest(t, WithClock(clock.now))
	storeWrite(t, s, Namespace{}, storeSnap(t, "host/gc/2030-06-01T00:00:00Z"), "root@pam",
		storeTestArchive{name: "data.pxar.didx", data: storePRNG(11, 3000), chunk: 1000})
	referenced := conformanceReferenced(t, s)
	require.Len(t, referenced, 3)
	enc := NewBlobEncoder()
	var garbage []Digest
	for i := range 2 {
		d, _, err := s.InsertData(enc, storePRNG(uint64(100+i), 777), true)
		require.NoError(t, err)
		garbage = append(garbage, d)
	}
	return s, clock, referenced, garbage
}

func TestGCGracePeriod(t *testing.T) {
	ctx := context.Background()
	s, clock, referenced, garbage := gcSetup(t)

	// Right away nothing goes: the garbage was touched less than 24h5m ago.
	rep, err := s.GarbageCollect(ctx, GCOptions{})
	require.NoError(t, err)
	assert.Zero(t, rep.RemovedChunks)
	assert.Equal(t, uint64(5), rep.DiskChunks)
	assert.Equal(t, clock.t.Add(-GCGracePeriod-GCSafetyGap), rep.Cutoff)

	// 24h later the garbage is within the 5 minute safety gap: pending.
	clock.advance(GCGracePeriod)
	rep, err = s.GarbageCollect(ctx, GCOptions{})
	require.NoError(t, err)
	assert.Zero(t, rep.RemovedChunks)
	assert.Equal(t, uint64(2), rep.PendingChunks)
	assert.Positive(t, rep.PendingBytes)
	assert.Equal(t, uint64(3), rep.DiskChunks)

	// Past the gap it is removed; referenced chunks were touched by every
	// mark phase and stay.
	clock.advance(GCSafetyGap + time.Second)
	rep, err = s.GarbageCollect(ctx, GCOptions{})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), rep.RemovedChunks)
	assert.Positive(t, rep.RemovedBytes)
	assert.Equal(t, uint64(3), rep.DiskChunks)
	assert.Equal(t, uint64(1), rep.IndexFileCount)
	assert.Equal(t, uint64(3000), rep.IndexDataBytes)
	for d := range referenced {
		ok, err := s.HasChunk(d)
		require.NoError(t, err)
		assert.True(t, ok)
	}
	for _, d := range garbage {
		ok, err := s.HasChunk(d)
		require.NoError(t, err)
		assert.False(t, ok)
	}

	// The status file is PBS's JSON.
	raw, err := os.ReadFile(filepath.Join(s.Path(), ".gc-status"))
	require.NoError(t, err)
	for _, key := range []string{"upid", "index-file-count", "index-data-bytes", "disk-bytes", "disk-chunks",
		"removed-bytes", "removed-chunks", "pending-bytes", "pending-chunks", "removed-bad", "still-bad"} {
		assert.Contains(t, string(raw), `"`+key+`"`)
	}
	st, err := s.LastGCStatus()
	require.NoError(t, err)
	assert.Equal(t, rep.GCStatus, *st)
	require.NotNil(t, st.UPID)
	assert.True(t, strings.HasPrefix(*st.UPID, "UPID:localhost:"), *st.UPID)
}

func TestGCExplicitCutoff(t *testing.T) {
	ctx := context.Background()
	s, clock, referenced, garbage := gcSetup(t)
	clock.advance(time.Minute)
	rep, err := s.GarbageCollect(ctx, GCOptions{Cutoff: clock.t, UPID: "UPID:x", NoStatusFile: true})
	require.NoError(t, err)
	assert.Equal(t, uint64(len(garbage)), rep.RemovedChunks)
	assert.Equal(t, uint64(len(referenced)), rep.DiskChunks)
	assert.NoFileExists(t, filepath.Join(s.Path(), ".gc-status"))
}

func TestGCKeepsChunksOfRunningWriters(t *testing.T) {
	ctx := context.Background()
	s, clock, _, garbage := gcSetup(t)
	clock.advance(time.Minute)
	snap := storeSnap(t, "host/gc/2030-06-02T00:00:00Z")
	w, err := s.BeginSnapshot(Namespace{}, snap, "root@pam")
	require.NoError(t, err)
	// A chunk uploaded by the running backup, in an index not closed yet.
	ix, err := w.CreateDynamicIndex("new.pxar.didx")
	require.NoError(t, err)
	d, _, err := s.InsertData(NewBlobEncoder(), []byte("fresh upload"), false)
	require.NoError(t, err)
	require.NoError(t, ix.Append(12, d))

	// Another process (here: another Store on the same directory) cannot
	// collect while the writer holds the shared lock...
	other, err := Open(s.Path(), WithClock(clock.now), WithSync(SyncNone))
	require.NoError(t, err)
	_, err = other.GarbageCollect(ctx, GCOptions{})
	assert.ErrorIs(t, err, ErrLocked)

	// ...but the writer's own Store can, as within one PBS daemon: the
	// cutoff moves back to the writer's start, so its upload survives
	// even two days later; garbage from before the writer started is
	// pending (kept for now).
	clock.advance(48 * time.Hour)
	rep, err := s.GarbageCollect(ctx, GCOptions{})
	require.NoError(t, err)
	ok, err := s.HasChunk(d)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Zero(t, rep.RemovedChunks)
	assert.Equal(t, uint64(len(garbage)), rep.PendingChunks)
	assert.Equal(t, uint64(3+1), rep.DiskChunks)

	_, err = ix.Close()
	require.NoError(t, err)
	require.NoError(t, w.Abort())
	// Once the writer is gone, nothing references the upload.
	rep, err = s.GarbageCollect(ctx, GCOptions{})
	require.NoError(t, err)
	ok, err = s.HasChunk(d)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, uint64(len(garbage)+1), rep.RemovedChunks)
	// And the other Store may collect again.
	_, err = other.GarbageCollect(ctx, GCOptions{})
	require.NoError(t, err)
}

func TestGCOldestWriterMovesCutoff(t *testing.T) {
	s, clock, _, _ := gcSetup(t)
	start := clock.t
	unregister := s.registerWriter(start.Add(-72 * time.Hour))
	defer unregister()
	oldest, ok := s.oldestWriter()
	require.True(t, ok)
	assert.Equal(t, start.Add(-72*time.Hour), oldest)
	// Exercise the sweep directly (the chunk store lock is per writer
	// session, which registerWriter alone does not take).
	rep := &GCReport{}
	require.NoError(t, s.gcMark(context.Background(), start, rep, func(string, ...any) {}))
	storeAgeChunks(t, s, start.Add(-48*time.Hour))
	require.NoError(t, s.gcSweep(context.Background(), oldest.Add(-GCSafetyGap), oldest, rep))
	assert.Zero(t, rep.RemovedChunks, "everything newer than the oldest writer stays")
	assert.Equal(t, uint64(5), rep.DiskChunks)
}

func TestGCSkipsHiddenAndTemporaryFiles(t *testing.T) {
	ctx := context.Background()
	s, clock, _, _ := gcSetup(t)
	// An index in a hidden directory (a writer's temporary snapshot) and a
	// temporary index file are not marked: their chunks go.
	hidden := filepath.Join(s.GroupPath(Namespace{}, Group{Type: TypeHost, ID: "gc"}), ".2030-06-03T00:00:00Z.tmp_1")
	require.NoError(t, os.MkdirAll(hidden, 0o755))
	f, err := os.Create(filepath.Join(hidden, "x.didx"))
	require.NoError(t, err)
	iw, err := NewDynamicIndexWriter(f)
	require.NoError(t, err)
	d, _, err := s.InsertData(NewBlobEncoder(), []byte("only in hidden index"), false)
	require.NoError(t, err)
	require.NoError(t, iw.Append(20, d))
	_, err = iw.Close()
	require.NoError(t, err)
	require.NoError(t, f.Close())
	// Junk that is not an index in a snapshot directory is ignored.
	snapDir := s.SnapshotPath(Namespace{}, storeSnap(t, "host/gc/2030-06-01T00:00:00Z"))
	require.NoError(t, os.WriteFile(filepath.Join(snapDir, "junk.didx.tmp_didx"), []byte("junk"), 0o644))

	clock.advance(GCGracePeriod + GCSafetyGap + time.Second)
	rep, err := s.GarbageCollect(ctx, GCOptions{})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), rep.IndexFileCount)
	ok, err := s.HasChunk(d)
	require.NoError(t, err)
	assert.False(t, ok)
	// Both leftovers were older than the stale age and their group was
	// free: cleaned up.
	assert.NoDirExists(t, hidden)
	assert.NoFileExists(t, filepath.Join(snapDir, "junk.didx.tmp_didx"))
	assert.Equal(t, 2, rep.RemovedTemp)
}

func TestGCBrokenIndexAborts(t *testing.T) {
	ctx := context.Background()
	s, clock, referenced, _ := gcSetup(t)
	snapDir := s.SnapshotPath(Namespace{}, storeSnap(t, "host/gc/2030-06-01T00:00:00Z"))
	require.NoError(t, os.WriteFile(filepath.Join(snapDir, "broken.fidx"), []byte("not an index"), 0o644))
	clock.advance(30 * 24 * time.Hour)
	_, err := s.GarbageCollect(ctx, GCOptions{})
	require.ErrorIs(t, err, ErrTruncated)
	for d := range referenced {
		ok, err := s.HasChunk(d)
		require.NoError(t, err)
		assert.True(t, ok, "nothing deleted when an index is unreadable")
	}
}

func TestGCMissingAndBadChunks(t *testing.T) {
	ctx := context.Background()
	s, clock, referenced, _ := gcSetup(t)
	var victim Digest
	for d := range referenced {
		victim = d
		break
	}
	// Verify found it corrupt: it became a .bad file, still referenced.
	_, err := s.renameCorruptChunk(victim)
	require.NoError(t, err)
	// An unreferenced .bad file of some other chunk.
	other, _, err := s.InsertData(NewBlobEncoder(), []byte("other bad"), false)
	require.NoError(t, err)
	_, err = s.renameCorruptChunk(other)
	require.NoError(t, err)

	clock.advance(GCGracePeriod + GCSafetyGap + time.Second)
	var logs []string
	rep, err := s.GarbageCollect(ctx, GCOptions{Log: func(m string) { logs = append(logs, m) }})
	require.NoError(t, err)
	assert.Equal(t, []Digest{victim}, rep.MissingChunks)
	assert.Equal(t, uint64(1), rep.RemovedBad, "the unreferenced .bad file goes")
	assert.FileExists(t, s.badChunkPath(victim, 0), "the referenced .bad file is kept")
	assert.NoFileExists(t, s.badChunkPath(other, 0))
	assert.NotEmpty(t, logs)
	found := false
	for _, l := range logs {
		found = found || strings.Contains(l, victim.String())
	}
	assert.True(t, found, "the missing chunk is logged")
}

func TestGCConcurrentRunsAndCancel(t *testing.T) {
	s, _, _, _ := gcSetup(t)
	other, err := Open(s.Path(), WithSync(SyncNone))
	require.NoError(t, err)
	unlock, err := other.chunkLock.acquire(other.Path(), true)
	require.NoError(t, err)
	_, err = other.chunkLock.acquire(other.Path(), true)
	assert.ErrorIs(t, err, ErrLocked, "one collection per Store")
	_, err = s.GarbageCollect(context.Background(), GCOptions{})
	assert.ErrorIs(t, err, ErrLocked, "another collector holds the lock")
	_, err = s.BeginSnapshot(Namespace{}, storeSnap(t, "host/gc/2030-07-01T00:00:00Z"), "root@pam")
	assert.ErrorIs(t, err, ErrLocked, "no backup starts while a foreign GC runs")
	unlock()
	unlock()

	// Within one Store, writers may start while its GC runs, and the
	// exclusive lock goes back to shared afterwards.
	unlock, err = s.chunkLock.acquire(s.Path(), true)
	require.NoError(t, err)
	w, err := s.BeginSnapshot(Namespace{}, storeSnap(t, "host/gc/2030-07-01T00:00:00Z"), "root@pam")
	require.NoError(t, err)
	unlock()
	_, err = other.GarbageCollect(context.Background(), GCOptions{})
	assert.ErrorIs(t, err, ErrLocked, "the writer still holds the shared lock")
	require.NoError(t, w.Abort())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.GarbageCollect(ctx, GCOptions{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestParseGCStatus(t *testing.T) {
	st, err := ParseGCStatus([]byte(`{"upid":"UPID:pbs:000:000:000:000:garbage_collection:store1:root@pam:","index-file-count":2,"index-data-bytes":10,"disk-bytes":5,"disk-chunks":1,"removed-bytes":0,"removed-chunks":0,"pending-bytes":0,"pending-chunks":0,"removed-bad":0,"still-bad":0}`))
	require.NoError(t, err)
	assert.Equal(t, uint64(2), st.IndexFileCount)
	require.NotNil(t, st.UPID)
	st, err = ParseGCStatus([]byte(`{"upid":null,"future-member":[1]}`))
	require.NoError(t, err)
	assert.Nil(t, st.UPID)
	for _, bad := range []string{"", "[]", `{"disk-bytes":-1}`, `{"upid":5}`, "{"} {
		_, err := ParseGCStatus([]byte(bad))
		assert.ErrorIs(t, err, ErrBadGCStatus, bad)
	}
}

func TestGCConcurrentWithBackups(t *testing.T) {
	// Backups, listings and collections of one Store at the same time:
	// no race, no deadlock, and every committed snapshot verifies.
	ctx := context.Background()
	s := storeNewTest(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 3 {
			snap := storeSnap(t, "host/busy/2024-01-0"+string(rune('1'+i))+"T00:00:00Z")
			storeWrite(t, s, Namespace{}, snap, "root@pam",
				storeTestArchive{name: "data.pxar.didx", data: storePRNG(uint64(50+i), 40000), chunk: 4000})
		}
	}()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		_, err := s.GarbageCollect(ctx, GCOptions{Cutoff: time.Now().Add(-time.Hour)})
		require.NoError(t, err)
		_, err = s.ListSnapshots(ctx, Namespace{}, "", "")
		require.NoError(t, err)
	}
	items, err := s.ListSnapshots(ctx, Namespace{}, "", "")
	require.NoError(t, err)
	require.Len(t, items, 3)
	for _, it := range items {
		res, err := s.Verify(ctx, Namespace{}, it.Snapshot, VerifyOptions{NoUpdate: true})
		require.NoError(t, err)
		assert.True(t, res.OK(), "%v", res.Errors)
	}
}
