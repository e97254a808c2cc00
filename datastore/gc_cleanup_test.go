package datastore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CleanupStale keeps what live writers use, however old it looks, and
// removes the same kind of leftovers once their writer is gone; it never
// needs the group lock, so a running backup of the group does not stop it
// and it never stops a backup from starting.
func TestCleanupStaleRespectsLiveWriters(t *testing.T) {
	ctx := context.Background()
	clock := &storeFakeClock{t: time.Now()}
	s := storeNewTest(t, WithClock(clock.now))
	g := Group{Type: TypeVM, ID: "9"}
	done := Snapshot{Group: g, Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	storeWrite(t, s, Namespace{}, done, "root@pam", storeTestArchive{name: "a.blob", data: []byte("a")})
	groupDir := s.GroupPath(Namespace{}, g)

	// Leftovers of a crash: a writer's hidden directory, an atomic write
	// of the group's notes, and PBS's temporary index in a snapshot.
	crashedDir := filepath.Join(groupDir, ".2024-01-02T00:00:00Z.tmp_crashed")
	require.NoError(t, os.Mkdir(crashedDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(crashedDir, "x.didx.tmp_didx"), []byte("x"), 0o644))
	notesTmp := filepath.Join(groupDir, GroupNotesName+chunkTempInfix+"1")
	require.NoError(t, os.WriteFile(notesTmp, []byte("n"), 0o644))
	// PBS's snapshot lives in another group: the live writer below holds a
	// shared lock on this group's last snapshot.
	pbsSnap := Snapshot{Group: Group{Type: TypeVM, ID: "10"}, Time: done.Time}
	storeWrite(t, s, Namespace{}, pbsSnap, "root@pam", storeTestArchive{name: "a.blob", data: []byte("a")})
	pbsTmp := filepath.Join(s.SnapshotPath(Namespace{}, pbsSnap), "root.pxar.didx.tmp_didx")
	require.NoError(t, os.WriteFile(pbsTmp, []byte("p"), 0o644))

	// A live writer of the same group, holding the group lock.
	live, err := s.BeginSnapshot(Namespace{}, Snapshot{Group: g, Time: time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC)}, "root@pam")
	require.NoError(t, err)
	ix, err := live.CreateFixedIndex("disk.img.fidx", 100)
	require.NoError(t, err)
	// And PBS writing into a snapshot directory (as it does into the
	// snapshot it creates): the snapshot is locked exclusively.
	pbsLock, err := s.LockSnapshot(Namespace{}, pbsSnap, true)
	require.NoError(t, err)

	// Everything looks stale now.
	clock.advance(2 * DefaultStaleAge)
	n, err := s.CleanupStale(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the crashed writer's directory and the notes leftover")
	assert.NoDirExists(t, crashedDir)
	assert.NoFileExists(t, notesTmp)
	assert.DirExists(t, live.Dir(), "a live writer's directory stays")
	assert.FileExists(t, pbsTmp, "a snapshot being written stays untouched")

	// The live writer goes on and commits.
	require.NoError(t, ix.SetDigest(0, Digest{1}))
	csum, err := ix.Close()
	require.NoError(t, err)
	require.NoError(t, live.Commit(&Manifest{BackupType: "vm", BackupID: "9", BackupTime: live.Snapshot().Time.Unix(),
		Files: []ManifestFile{{Filename: "disk.img.fidx", CryptMode: CryptNone, Size: 100, Csum: Digest(csum).String()}}}))

	// Once PBS is gone, its leftover goes too.
	require.NoError(t, pbsLock.Unlock())
	n, err = s.CleanupStale(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.NoFileExists(t, pbsTmp)

	// Readers holding shared locks do not keep leftovers around, and are
	// not disturbed.
	require.NoError(t, os.WriteFile(pbsTmp, []byte("p"), 0o644))
	reader, err := s.LockSnapshot(Namespace{}, pbsSnap, false)
	require.NoError(t, err)
	n, err = s.CleanupStale(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, reader.Unlock())
}
