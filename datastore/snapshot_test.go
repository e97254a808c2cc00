package datastore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSnapshotWriterCommitMakesVisible(t *testing.T) {
	ctx := context.Background()
	s := storeNewTest(t)
	snap := storeSnap(t, "vm/100/2024-06-05T14:24:36Z")
	w, err := s.BeginSnapshot(Namespace{}, snap, "alice@pbs")
	require.NoError(t, err)
	assert.Equal(t, "alice@pbs", w.Owner())
	_, hasPrev := w.Previous()
	assert.False(t, hasPrev)
	assert.True(t, strings.HasPrefix(filepath.Base(w.Dir()), "."), "temporary directory is hidden")

	m := storeFill(t, s, w, storeTestArchive{name: "drive-scsi0.img.fidx", data: storePRNG(5, 5<<20)},
		storeTestArchive{name: "qemu-server.conf.blob", data: []byte("memory: 512\n")})

	// Not visible before the commit.
	items, err := s.ListSnapshots(ctx, Namespace{}, "", "")
	require.NoError(t, err)
	assert.Empty(t, items)
	groups, err := s.ListGroups(ctx, Namespace{})
	require.NoError(t, err)
	assert.Empty(t, groups, "a group without snapshots is not listed")
	files, err := w.Files()
	require.NoError(t, err)
	assert.Equal(t, []string{"drive-scsi0.img.fidx", "qemu-server.conf.blob"}, files)

	require.NoError(t, w.Commit(m))
	assert.NoDirExists(t, w.Dir())
	assert.ErrorIs(t, w.Commit(m), ErrClosed)
	require.NoError(t, w.Abort(), "abort after commit is a no-op")

	items, err = s.ListSnapshots(ctx, Namespace{}, "", "")
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, snap, items[0].Snapshot)
	assert.True(t, items[0].Finished)
	owner, err := s.GroupOwner(Namespace{}, snap.Group)
	require.NoError(t, err)
	assert.Equal(t, "alice@pbs", owner)
	raw, err := os.ReadFile(filepath.Join(s.GroupPath(Namespace{}, snap.Group), "owner"))
	require.NoError(t, err)
	assert.Equal(t, "alice@pbs\n", string(raw))

	// The group lock was released: the next backup can start.
	next := snap
	next.Time = snap.Time.Add(time.Hour)
	w2, err := s.BeginSnapshot(Namespace{}, next, "bob@pbs")
	require.NoError(t, err)
	assert.Equal(t, "alice@pbs", w2.Owner(), "an existing group keeps its owner")
	prev, ok := w2.Previous()
	assert.True(t, ok)
	assert.Equal(t, snap, prev)
	require.NoError(t, w2.Abort())
}

func TestSnapshotWriterAbortRemovesEverything(t *testing.T) {
	ctx := context.Background()
	s := storeNewTest(t)
	snap := storeSnap(t, "host/web01/2024-01-01T00:00:00Z")
	w, err := s.BeginSnapshot(Namespace{}, snap, "root@pam")
	require.NoError(t, err)
	storeFill(t, s, w, storeTestArchive{name: "root.pxar.didx", data: storePRNG(1, 100000), chunk: 30000})
	ix, err := w.CreateDynamicIndex("open.pxar.didx")
	require.NoError(t, err)
	require.NoError(t, ix.Append(10, Digest{1}))
	require.NoError(t, w.Abort())
	assert.NoDirExists(t, w.Dir())
	assert.NoDirExists(t, s.SnapshotPath(Namespace{}, snap))
	_, err = ix.Close()
	assert.Error(t, err, "the index went with the directory")
	items, err := s.ListSnapshots(ctx, Namespace{}, "", "")
	require.NoError(t, err)
	assert.Empty(t, items)
	_, ok, err := s.LastFinishedSnapshot(Namespace{}, snap.Group)
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestSnapshotWriterIndexes(t *testing.T) {
	s := storeNewTest(t)
	snap := storeSnap(t, "ct/101/2024-01-01T00:00:00Z")
	w, err := s.BeginSnapshot(Namespace{}, snap, "root@pam")
	require.NoError(t, err)
	defer w.Abort()

	_, err = w.CreateFixedIndex("wrong.didx", 10)
	assert.ErrorIs(t, err, ErrBadName)
	_, err = w.CreateDynamicIndex("../evil.didx")
	assert.ErrorIs(t, err, ErrBadName)
	assert.ErrorIs(t, w.WriteBlob("x.fidx", chunkTestBlob(BlobUncompressed, 1, 1)), ErrBadName)
	bad := chunkTestBlob(BlobUncompressed, 4, 1)
	bad[12] ^= 1
	assert.ErrorIs(t, w.WriteBlob("x.blob", bad), ErrChecksum)

	fx, err := w.CreateFixedIndex("disk.img.fidx", FixedChunkSize+1)
	require.NoError(t, err)
	assert.Equal(t, 2, fx.Count())
	assert.FileExists(t, filepath.Join(w.Dir(), "disk.img.fidx.tmp_fidx"), "PBS's temporary name while open")
	_, err = w.CreateFixedIndex("disk.img.fidx", 1)
	assert.Error(t, err, "the same name twice at once")
	assert.Equal(t, []string{"disk.img.fidx"}, w.OpenIndexes())
	assert.Error(t, w.Commit(&Manifest{}), "open indexes block the commit")

	require.NoError(t, fx.SetDigest(1, Digest{2}))
	require.NoError(t, fx.SetDigest(0, Digest{1}))
	csum, err := fx.Close()
	require.NoError(t, err)
	var want FixedChecksum
	want.Add(Digest{1})
	want.Add(Digest{2})
	assert.Equal(t, want.Sum(), csum)
	assert.NoFileExists(t, filepath.Join(w.Dir(), "disk.img.fidx.tmp_fidx"))
	assert.FileExists(t, filepath.Join(w.Dir(), "disk.img.fidx"))
	_, err = fx.Close()
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, fx.SetDigest(0, Digest{}), ErrClosed)

	dx, err := w.CreateDynamicIndex("a.pxar.didx")
	require.NoError(t, err)
	require.NoError(t, dx.Append(100, Digest{3}))
	require.NoError(t, dx.Append(250, Digest{4}))
	assert.Equal(t, 2, dx.Count())
	assert.Equal(t, uint64(250), dx.Size())
	require.NoError(t, dx.Abort())
	assert.NoFileExists(t, filepath.Join(w.Dir(), "a.pxar.didx.tmp_didx"))
	assert.Empty(t, w.OpenIndexes())
	assert.ErrorIs(t, dx.Append(300, Digest{5}), ErrClosed)
}

func TestSnapshotWriterFinishLikeTheServer(t *testing.T) {
	// The backup protocol uploads the manifest as a blob and the server
	// rewrites it with upload statistics at finish.
	s := storeNewTest(t)
	snap := storeSnap(t, "host/a/2024-01-01T00:00:00Z")
	w, err := s.BeginSnapshot(Namespace{}, snap, "root@pam")
	require.NoError(t, err)
	assert.ErrorIs(t, w.Finish(nil), ErrNotFinished, "no manifest uploaded yet")
	m := storeFill(t, s, w, storeTestArchive{name: "a.conf.blob", data: []byte("x")})
	blob, err := m.EncodeBlob(NewBlobEncoder())
	require.NoError(t, err)
	require.NoError(t, w.WriteBlob(ManifestName, blob))
	got, err := w.ReadFile(ManifestName)
	require.NoError(t, err)
	assert.Equal(t, blob, got)
	stats := &UploadStats{Count: 3, Size: 300, CompressedSize: 200, Duplicates: 1}
	require.NoError(t, w.Finish(func(m *Manifest) error {
		m.Unprotected.ChunkUploadStats = stats
		return nil
	}))
	stored, _, err := s.ReadManifest(Namespace{}, snap)
	require.NoError(t, err)
	assert.Equal(t, stats, stored.Unprotected.ChunkUploadStats)
	assert.Equal(t, m.Files, stored.Files)
}

func TestBeginSnapshotChecks(t *testing.T) {
	s := storeNewTest(t)
	g := storeSnap(t, "host/h/2024-01-02T00:00:00Z")
	storeWrite(t, s, Namespace{}, g, "alice@pbs", storeTestArchive{name: "a.blob", data: []byte("a")})

	t.Run("namespace must exist", func(t *testing.T) {
		_, err := s.BeginSnapshot(storeNS(t, "missing"), g, "alice@pbs")
		assert.ErrorIs(t, err, ErrNamespaceNotFound)
	})
	t.Run("time must be newer than the last backup", func(t *testing.T) {
		for _, ts := range []string{"2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z"} {
			_, err := s.BeginSnapshot(Namespace{}, storeSnap(t, "host/h/"+ts), "alice@pbs")
			assert.ErrorIs(t, err, ErrBackupTooOld, ts)
		}
	})
	t.Run("one backup per group at a time", func(t *testing.T) {
		w, err := s.BeginSnapshot(Namespace{}, storeSnap(t, "host/h/2024-01-03T00:00:00Z"), "alice@pbs")
		require.NoError(t, err)
		_, err = s.BeginSnapshot(Namespace{}, storeSnap(t, "host/h/2024-01-04T00:00:00Z"), "alice@pbs")
		assert.ErrorIs(t, err, ErrLocked)
		var le *LockError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, "another backup is already running", le.Reason)
		_, err = s.LockGroup(Namespace{}, g.Group)
		assert.ErrorIs(t, err, ErrLocked)
		// The previous snapshot is locked shared: it can be read, not removed.
		r, err := s.LockSnapshot(Namespace{}, g, false)
		require.NoError(t, err)
		require.NoError(t, r.Unlock())
		assert.ErrorIs(t, s.RemoveSnapshot(context.Background(), Namespace{}, g, false), ErrLocked)
		assert.ErrorIs(t, s.SetProtected(Namespace{}, g, true), ErrLocked)
		require.NoError(t, w.Abort())
		lock, err := s.LockGroup(Namespace{}, g.Group)
		require.NoError(t, err)
		require.NoError(t, lock.Unlock())
		require.NoError(t, lock.Unlock(), "unlock twice is fine")
	})
	t.Run("snapshot must not exist", func(t *testing.T) {
		// An unfinished snapshot directory newer than the last finished one.
		dir := s.SnapshotPath(Namespace{}, storeSnap(t, "host/h/2024-01-05T00:00:00Z"))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		_, err := s.BeginSnapshot(Namespace{}, storeSnap(t, "host/h/2024-01-05T00:00:00Z"), "alice@pbs")
		assert.ErrorIs(t, err, ErrSnapshotExists)
		require.NoError(t, os.Remove(dir))
	})
	t.Run("owner check comes first", func(t *testing.T) {
		denied := errors.New("not your group")
		var seen string
		_, err := s.BeginSnapshot(Namespace{}, storeSnap(t, "host/h/2024-01-01T00:00:00Z"), "mallory@pbs",
			WithOwnerCheck(func(owner string) error { seen = owner; return denied }))
		assert.ErrorIs(t, err, denied, "before the time check")
		assert.Equal(t, "alice@pbs", seen)
	})
	t.Run("invalid input", func(t *testing.T) {
		_, err := s.BeginSnapshot(Namespace{}, Snapshot{Group: Group{Type: "host", ID: ".."}, Time: time.Unix(1, 0)}, "a@pbs")
		assert.ErrorIs(t, err, ErrBadName)
		_, err = s.BeginSnapshot(Namespace{}, storeSnap(t, "host/new/2024-01-01T00:00:00Z"), "")
		assert.ErrorIs(t, err, ErrBadOwner)
		_, err = s.BeginSnapshot(Namespace{}, storeSnap(t, "host/new/2024-01-01T00:00:00Z"), "a@pbs\nroot@pam")
		assert.ErrorIs(t, err, ErrBadOwner)
	})
}

func TestLastFinishedSnapshot(t *testing.T) {
	ctx := context.Background()
	s := storeNewTest(t)
	g := storeSnap(t, "vm/200/2024-03-01T10:00:00Z")
	older := g
	storeWrite(t, s, Namespace{}, older, "root@pam", storeTestArchive{name: "a.blob", data: []byte("1")})
	newer := g
	newer.Time = g.Time.Add(24 * time.Hour)
	storeWrite(t, s, Namespace{}, newer, "root@pam", storeTestArchive{name: "a.blob", data: []byte("2")})
	// An unfinished, even newer snapshot does not count.
	unfinished := g
	unfinished.Time = g.Time.Add(48 * time.Hour)
	require.NoError(t, os.MkdirAll(s.SnapshotPath(Namespace{}, unfinished), 0o755))

	got, ok, err := s.LastFinishedSnapshot(Namespace{}, g.Group)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, newer, got)

	// A verify state "ok" changes nothing; "failed" means no previous at
	// all, not the older one.
	require.NoError(t, s.UpdateManifest(ctx, Namespace{}, newer, func(m *Manifest) error {
		m.Unprotected.VerifyState = &VerifyState{UPID: "UPID:x", State: VerifyStateOK}
		return nil
	}))
	_, ok, err = s.LastFinishedSnapshot(Namespace{}, g.Group)
	require.NoError(t, err)
	assert.True(t, ok)
	require.NoError(t, s.UpdateManifest(ctx, Namespace{}, newer, func(m *Manifest) error {
		m.Unprotected.VerifyState = &VerifyState{UPID: "UPID:x", State: VerifyStateFailed}
		return nil
	}))
	_, ok, err = s.LastFinishedSnapshot(Namespace{}, g.Group)
	require.NoError(t, err)
	assert.False(t, ok)

	// So the next backup has no base and may even be older than the
	// failed snapshot? No: it must still not collide, but no time check
	// applies without a previous snapshot.
	w, err := s.BeginSnapshot(Namespace{}, unfinished, "root@pam")
	assert.ErrorIs(t, err, ErrSnapshotExists)
	assert.Nil(t, w)

	_, ok, err = s.LastFinishedSnapshot(Namespace{}, Group{Type: TypeVM, ID: "404"})
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestOwnerNotesProtection(t *testing.T) {
	ctx := context.Background()
	s := storeNewTest(t)
	snap := storeSnap(t, "host/notes/2024-01-01T00:00:00Z")
	storeWrite(t, s, Namespace{}, snap, "alice@pbs", storeTestArchive{name: "a.blob", data: []byte("a")})

	require.NoError(t, s.SetGroupOwner(Namespace{}, snap.Group, "alice@pbs!token1"))
	owner, err := s.GroupOwner(Namespace{}, snap.Group)
	require.NoError(t, err)
	assert.Equal(t, "alice@pbs!token1", owner)
	assert.ErrorIs(t, s.SetGroupOwner(Namespace{}, snap.Group, ""), ErrBadOwner)
	_, err = s.GroupOwner(Namespace{}, Group{Type: TypeHost, ID: "none"})
	assert.ErrorIs(t, err, ErrGroupNotFound)

	notes, err := s.GroupNotes(Namespace{}, snap.Group)
	require.NoError(t, err)
	assert.Empty(t, notes)
	require.NoError(t, s.SetGroupNotes(Namespace{}, snap.Group, "first line\nsecond"))
	notes, err = s.GroupNotes(Namespace{}, snap.Group)
	require.NoError(t, err)
	assert.Equal(t, "first line\nsecond", notes)

	require.NoError(t, s.SetSnapshotNotes(ctx, Namespace{}, snap, "snap notes\nmore"))
	notes, err = s.SnapshotNotes(Namespace{}, snap)
	require.NoError(t, err)
	assert.Equal(t, "snap notes\nmore", notes)

	groups, err := s.ListGroups(ctx, Namespace{})
	require.NoError(t, err)
	require.Len(t, groups, 1)
	assert.Equal(t, "first line", groups[0].Comment)
	item, err := s.SnapshotInfo(Namespace{}, snap)
	require.NoError(t, err)
	assert.Equal(t, "snap notes", item.Comment)
	assert.Equal(t, "alice@pbs!token1", item.Owner)

	prot, err := s.IsProtected(Namespace{}, snap)
	require.NoError(t, err)
	assert.False(t, prot)
	require.NoError(t, s.SetProtected(Namespace{}, snap, true))
	require.NoError(t, s.SetProtected(Namespace{}, snap, true), "idempotent")
	prot, err = s.IsProtected(Namespace{}, snap)
	require.NoError(t, err)
	assert.True(t, prot)
	assert.FileExists(t, filepath.Join(s.SnapshotPath(Namespace{}, snap), ".protected"))

	assert.ErrorIs(t, s.RemoveSnapshot(ctx, Namespace{}, snap, false), ErrProtected)
	assert.ErrorIs(t, s.RemoveSnapshot(ctx, Namespace{}, snap, true), ErrProtected, "force skips locks, not protection")
	stats, err := s.RemoveGroup(ctx, Namespace{}, snap.Group)
	require.NoError(t, err)
	assert.Equal(t, GroupRemoveStats{Protected: 1}, stats)
	assert.DirExists(t, s.GroupPath(Namespace{}, snap.Group))

	require.NoError(t, s.SetProtected(Namespace{}, snap, false))
	require.NoError(t, s.SetProtected(Namespace{}, snap, false), "idempotent")
	require.NoError(t, s.RemoveSnapshot(ctx, Namespace{}, snap, false))
	assert.NoDirExists(t, s.SnapshotPath(Namespace{}, snap))
	assert.ErrorIs(t, s.RemoveSnapshot(ctx, Namespace{}, snap, false), ErrSnapshotNotFound)
	_, _, err = s.ReadManifest(Namespace{}, snap)
	assert.ErrorIs(t, err, ErrSnapshotNotFound)
}

func TestRemoveGroup(t *testing.T) {
	ctx := context.Background()
	s := storeNewTest(t)
	a := storeSnap(t, "vm/1/2024-01-01T00:00:00Z")
	b := storeSnap(t, "vm/1/2024-01-02T00:00:00Z")
	storeWrite(t, s, Namespace{}, a, "root@pam", storeTestArchive{name: "a.blob", data: []byte("a")})
	storeWrite(t, s, Namespace{}, b, "root@pam", storeTestArchive{name: "a.blob", data: []byte("b")})
	stats, err := s.RemoveGroup(ctx, Namespace{}, a.Group)
	require.NoError(t, err)
	assert.Equal(t, GroupRemoveStats{Removed: 2}, stats)
	assert.NoDirExists(t, s.GroupPath(Namespace{}, a.Group))
	_, err = s.RemoveGroup(ctx, Namespace{}, a.Group)
	assert.ErrorIs(t, err, ErrGroupNotFound)
}

func TestParseOwner(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"test@pbs\n", "test@pbs", false},
		{"root@pam", "root@pam", false},
		{"user@pbs!tok \r\n", "user@pbs!tok", false},
		{"a@pbs\nsecond line ignored", "a@pbs", false},
		{"", "", true},
		{"\n", "", true},
		{"  \n", "", true},
		{"a\x00b@pbs\n", "", true},
		{"\xff\xfe@pbs\n", "", true},
	}
	for _, tt := range tests {
		got, err := ParseOwner([]byte(tt.in))
		if tt.err {
			assert.ErrorIs(t, err, ErrBadOwner, "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		assert.Equal(t, tt.want, got)
	}
}

func TestUpdateManifestKeepsOtherMembers(t *testing.T) {
	ctx := context.Background()
	s := storeNewTest(t)
	snap := storeSnap(t, "host/m/2024-01-01T00:00:00Z")
	m := storeWrite(t, s, Namespace{}, snap, "root@pam", storeTestArchive{name: "a.blob", data: []byte("a")})
	failing := errors.New("changed my mind")
	assert.ErrorIs(t, s.UpdateManifest(ctx, Namespace{}, snap, func(m *Manifest) error {
		m.Unprotected.Notes = "never stored"
		return failing
	}), failing)
	require.NoError(t, s.SetSnapshotNotes(ctx, Namespace{}, snap, "n"))
	got, _, err := s.ReadManifest(Namespace{}, snap)
	require.NoError(t, err)
	assert.Equal(t, "n", got.Unprotected.Notes)
	assert.Equal(t, m.Files, got.Files)

	// The manifest lock is exclusive and waits (bounded by ctx).
	lock, err := lockManifest(ctx, s.SnapshotPath(Namespace{}, snap))
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err = s.SetSnapshotNotes(short, Namespace{}, snap, "blocked")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, lock.Unlock())
}

func TestUploadBackupLog(t *testing.T) {
	s := storeNewTest(t)
	snap := storeSnap(t, "host/log/2024-01-01T00:00:00Z")
	storeWrite(t, s, Namespace{}, snap, "root@pam", storeTestArchive{name: "a.blob", data: []byte("a")})
	log, err := NewBlobEncoder().Encode(nil, []byte("client log\n"), true)
	require.NoError(t, err)
	bad := append([]byte(nil), log...)
	bad[len(bad)-1] ^= 1
	assert.ErrorIs(t, s.UploadBackupLog(Namespace{}, snap, bad), ErrChecksum)
	require.NoError(t, s.UploadBackupLog(Namespace{}, snap, log))
	assert.ErrorIs(t, s.UploadBackupLog(Namespace{}, snap, log), ErrLogExists)
	f, err := s.OpenSnapshotFile(Namespace{}, snap, ClientLogName)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	files, err := s.SnapshotFiles(Namespace{}, snap)
	require.NoError(t, err)
	assert.Equal(t, ClientLogName, files[len(files)-1].Filename)
	_, err = s.OpenSnapshotFile(Namespace{}, snap, "../owner")
	assert.ErrorIs(t, err, ErrBadName)
	assert.ErrorIs(t, s.UploadBackupLog(Namespace{}, storeSnap(t, "host/log/2024-01-02T00:00:00Z"), log), ErrSnapshotNotFound)
}

func TestInterruptedSnapshotLeavesNothingVisible(t *testing.T) {
	ctx := context.Background()
	clock := &storeFakeClock{t: time.Now()}
	s := storeNewTest(t, WithClock(clock.now))
	done := storeSnap(t, "vm/7/2024-01-01T00:00:00Z")
	storeWrite(t, s, Namespace{}, done, "root@pam", storeTestArchive{name: "a.blob", data: []byte("a")})
	crashed := storeSnap(t, "vm/7/2024-01-02T00:00:00Z")
	w, err := s.BeginSnapshot(Namespace{}, crashed, "root@pam")
	require.NoError(t, err)
	m := storeFill(t, s, w, storeTestArchive{name: "disk.img.fidx", data: storePRNG(8, 1000)})
	ix, err := w.CreateDynamicIndex("half.pxar.didx")
	require.NoError(t, err)
	require.NoError(t, ix.Append(5, Digest{5}))
	blob, err := m.EncodeBlob(NewBlobEncoder())
	require.NoError(t, err)
	require.NoError(t, w.WriteBlob(ManifestName, blob))
	// The process dies: its locks go, its files stay.
	w.release()
	tmp := w.Dir()
	require.DirExists(t, tmp)

	s2, err := Open(s.Path(), WithClock(clock.now), WithSync(SyncNone))
	require.NoError(t, err)
	items, err := s2.ListSnapshots(ctx, Namespace{}, "", "")
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, done, items[0].Snapshot)
	groups, err := s2.ListGroups(ctx, Namespace{})
	require.NoError(t, err)
	require.Len(t, groups, 1)
	assert.Equal(t, uint64(1), groups[0].BackupCount)
	prev, ok, err := s2.LastFinishedSnapshot(Namespace{}, done.Group)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, done, prev)
	res, err := s2.Prune(ctx, Namespace{}, done.Group, PruneOptions{KeepLast: 1}, true)
	require.NoError(t, err)
	assert.Len(t, res, 1)

	// GC does not read the half-written indexes, and keeps the directory
	// while it is young.
	rep, err := s2.GarbageCollect(ctx, GCOptions{})
	require.NoError(t, err)
	assert.Equal(t, uint64(0), rep.IndexFileCount)
	assert.DirExists(t, tmp)

	// The same snapshot can be written again.
	w2, err := s2.BeginSnapshot(Namespace{}, crashed, "root@pam")
	require.NoError(t, err)
	require.NoError(t, w2.Commit(storeFill(t, s2, w2, storeTestArchive{name: "b.blob", data: []byte("b")})))

	// Once stale, the leftovers go.
	clock.advance(2 * DefaultStaleAge)
	n, err := s2.CleanupStale(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.NoDirExists(t, tmp)
	items, err = s2.ListSnapshots(ctx, Namespace{}, "", "")
	require.NoError(t, err)
	assert.Len(t, items, 2)
}
