package datastore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conformanceSnapshot is what a conformance run expects of one snapshot.
type conformanceSnapshot struct {
	snap Snapshot
	// files are the manifest's file names, in manifest order.
	files []string
}

// conformanceExpect describes the datastore a conformance run checks: one
// group in namespace ns with the listed snapshots (oldest first), and the
// plain content of some archives (restored through their indexes and
// compared byte for byte).
type conformanceExpect struct {
	ns        Namespace
	group     Group
	owner     string
	snapshots []conformanceSnapshot
	content   map[string][]byte
}

// runConformance checks a datastore, whoever wrote it: listings, manifests,
// indexes, restores, verify (on a copy), and garbage collection (on a copy,
// with chunk access times set far back first) that must not remove any
// referenced chunk. s is opened on the original directory and is not
// modified.
func runConformance(t *testing.T, s *Store, exp conformanceExpect) {
	ctx := context.Background()
	last := exp.snapshots[len(exp.snapshots)-1]

	t.Run("groups", func(t *testing.T) {
		groups, err := s.ListGroups(ctx, exp.ns)
		require.NoError(t, err)
		require.Len(t, groups, 1)
		g := groups[0]
		assert.Equal(t, exp.group, g.Group())
		assert.Equal(t, exp.owner, g.Owner)
		assert.Equal(t, uint64(len(exp.snapshots)), g.BackupCount)
		assert.Equal(t, last.snap.Time.Unix(), g.LastBackup)
		assert.ElementsMatch(t, append([]string{ManifestName}, last.files...), g.Files)
		raw, err := json.Marshal(g)
		require.NoError(t, err)
		var generic map[string]any
		require.NoError(t, json.Unmarshal(raw, &generic))
		assert.Equal(t, string(exp.group.Type), generic["backup-type"])
		assert.Equal(t, exp.group.ID, generic["backup-id"])
		assert.Contains(t, generic, "last-backup")
		assert.Contains(t, generic, "backup-count")
	})

	t.Run("snapshots", func(t *testing.T) {
		items, err := s.ListSnapshots(ctx, exp.ns, exp.group.Type, exp.group.ID)
		require.NoError(t, err)
		require.Len(t, items, len(exp.snapshots))
		for i, want := range exp.snapshots {
			it := items[i]
			assert.Equal(t, want.snap, it.Snapshot)
			assert.True(t, it.Finished)
			assert.False(t, it.Protected)
			assert.Equal(t, exp.owner, it.Owner)
			var names []string
			var sum uint64
			for _, f := range it.Files {
				names = append(names, f.Filename)
				require.NotNil(t, f.Size, f.Filename)
				sum += *f.Size
				assert.Equal(t, CryptNone, f.CryptMode, f.Filename)
			}
			assert.Equal(t, append(append([]string{}, want.files...), ManifestName), names)
			require.NotNil(t, it.Size)
			assert.Equal(t, sum, *it.Size)

			files, err := s.SnapshotFiles(exp.ns, want.snap)
			require.NoError(t, err)
			assert.Equal(t, it.Files, files)
		}
	})

	t.Run("manifests and indexes", func(t *testing.T) {
		for _, want := range exp.snapshots {
			m, blobSize, err := s.ReadManifest(exp.ns, want.snap)
			require.NoError(t, err)
			assert.Positive(t, blobSize)
			assert.Equal(t, string(want.snap.Type), m.BackupType)
			assert.Equal(t, want.snap.ID, m.BackupID)
			assert.Equal(t, want.snap.Time.Unix(), m.BackupTime)
			var names []string
			for _, f := range m.Files {
				names = append(names, f.Filename)
				typ, err := ParseArchiveName(f.Filename)
				require.NoError(t, err)
				switch typ {
				case ArchiveFixed:
					ix, err := s.OpenFixedIndex(exp.ns, want.snap, f.Filename)
					require.NoError(t, err)
					assert.Equal(t, f.Size, ix.Size())
					assert.Equal(t, f.Csum, Digest(ix.Checksum()).String())
					require.NoError(t, ix.Close())
				case ArchiveDynamic:
					ix, err := s.OpenDynamicIndex(exp.ns, want.snap, f.Filename)
					require.NoError(t, err)
					assert.Equal(t, f.Size, ix.Size())
					csum, err := ix.Checksum()
					require.NoError(t, err)
					assert.Equal(t, f.Csum, Digest(csum).String())
					require.NoError(t, ix.Close())
				}
			}
			assert.Equal(t, want.files, names)
		}
	})

	t.Run("previous snapshot", func(t *testing.T) {
		prev, ok, err := s.LastFinishedSnapshot(exp.ns, exp.group)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, last.snap, prev)
	})

	t.Run("restore", func(t *testing.T) {
		dec := NewBlobDecoder()
		for _, want := range exp.snapshots {
			m, _, err := s.ReadManifest(exp.ns, want.snap)
			require.NoError(t, err)
			for _, f := range m.Files {
				content, ok := exp.content[f.Filename]
				if !ok {
					continue
				}
				got := conformanceRestore(t, s, dec, exp.ns, want.snap, f.Filename)
				assert.True(t, bytes.Equal(content, got), "%s/%s differs from the expected content", want.snap, f.Filename)
			}
		}
	})

	t.Run("chunks", func(t *testing.T) {
		referenced := conformanceReferenced(t, s)
		require.NotEmpty(t, referenced)
		for d := range referenced {
			blob, err := s.ReadChunk(d)
			require.NoError(t, err, d.String())
			require.NoError(t, CheckBlobCRC(blob))
		}
	})

	// The rest mutates: work on copies.
	t.Run("verify", func(t *testing.T) {
		cp := conformanceCopy(t, s)
		cache := NewVerifyCache()
		for _, want := range exp.snapshots {
			res, err := cp.Verify(ctx, exp.ns, want.snap, VerifyOptions{Cache: cache, RenameCorrupt: true})
			require.NoError(t, err)
			assert.Empty(t, res.Errors)
			assert.Equal(t, VerifyStateOK, res.State)
			assert.Positive(t, res.Chunks)
			m, _, err := cp.ReadManifest(exp.ns, want.snap)
			require.NoError(t, err)
			require.NotNil(t, m.Unprotected.VerifyState)
			assert.Equal(t, VerifyStateOK, m.Unprotected.VerifyState.State)
			assert.Equal(t, res.UPID, m.Unprotected.VerifyState.UPID)
		}
	})

	t.Run("gc", func(t *testing.T) {
		cp := conformanceCopy(t, s)
		referenced := conformanceReferenced(t, cp)
		storeAgeChunks(t, cp, time.Now().Add(-30*24*time.Hour))
		rep, err := cp.GarbageCollect(ctx, GCOptions{})
		require.NoError(t, err)
		assert.Zero(t, rep.RemovedChunks)
		assert.Empty(t, rep.MissingChunks)
		assert.Equal(t, uint64(len(referenced)), rep.DiskChunks)
		var indexes uint64
		require.NoError(t, cp.walkIndexes(ctx, func(string, func(func(Digest) bool), uint64) error {
			indexes++
			return nil
		}))
		assert.Equal(t, indexes, rep.IndexFileCount)
		for d := range referenced {
			ok, err := cp.HasChunk(d)
			require.NoError(t, err)
			assert.True(t, ok, "referenced chunk %s removed", d)
		}
		st, err := cp.LastGCStatus()
		require.NoError(t, err)
		assert.Equal(t, rep.GCStatus, *st)
	})
}

// conformanceRestore rebuilds the plain content of an archive from its
// index and the chunk store, checking every chunk's digest and length.
func conformanceRestore(t *testing.T, s *Store, dec *BlobDecoder, ns Namespace, snap Snapshot, name string) []byte {
	t.Helper()
	var out, buf []byte
	typ, err := ParseArchiveName(name)
	require.NoError(t, err)
	if typ == ArchiveFixed {
		ix, err := s.OpenFixedIndex(ns, snap, name)
		require.NoError(t, err)
		defer ix.Close()
		for i := range ix.Count() {
			start, end := ix.ChunkRange(i)
			blob, err := s.ReadChunk(ix.Digest(i))
			require.NoError(t, err)
			buf, err = dec.DecodeChunk(buf, blob, ix.Digest(i), int(end-start))
			require.NoError(t, err)
			out = append(out, buf...)
		}
		return out
	}
	ix, err := s.OpenDynamicIndex(ns, snap, name)
	require.NoError(t, err)
	defer ix.Close()
	for i := range ix.Count() {
		start, end, d := ix.Entry(i)
		blob, err := s.ReadChunk(d)
		require.NoError(t, err)
		buf, err = dec.DecodeChunk(buf, blob, d, int(end-start))
		require.NoError(t, err)
		out = append(out, buf...)
	}
	return out
}

// conformanceReferenced collects every digest referenced by an index.
func conformanceReferenced(t *testing.T, s *Store) map[Digest]bool {
	t.Helper()
	out := map[Digest]bool{}
	err := s.walkIndexes(context.Background(), func(_ string, digests func(func(Digest) bool), _ uint64) error {
		digests(func(d Digest) bool {
			out[d] = true
			return true
		})
		return nil
	})
	require.NoError(t, err)
	return out
}

// conformanceCopy copies the datastore of s to a temporary directory and
// opens the copy.
func conformanceCopy(t *testing.T, s *Store) *Store {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	storeCopyTree(t, s.Path(), dst)
	cp, err := Open(dst, WithSync(SyncNone))
	require.NoError(t, err)
	return cp
}

// realFixtureExpect is what ../shared/artifacts/README.md says about the
// real datastore.
func realFixtureExpect(t *testing.T) conformanceExpect {
	first := storeSnap(t, "host/fixture/2025-11-22T08:26:40Z")
	second := storeSnap(t, "host/fixture/2025-11-22T09:26:40Z")
	return conformanceExpect{
		group: first.Group,
		owner: "test@pbs",
		snapshots: []conformanceSnapshot{
			{snap: first, files: realFixtureFiles(t, first)},
			{snap: second, files: []string{"disk.img.fidx"}},
		},
		content: map[string][]byte{"disk.img.fidx": storePRNG(31337, 10_498_105)},
	}
}

// realFixtureFiles reads the file order of the first fixture snapshot's
// manifest (the README names the files, not their order).
func realFixtureFiles(t *testing.T, snap Snapshot) []string {
	s, err := Open(storeRealFixture(t))
	require.NoError(t, err)
	m, _, err := s.ReadManifest(Namespace{}, snap)
	require.NoError(t, err)
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Filename)
	}
	require.ElementsMatch(t, []string{"disk.img.fidx", "root.pxar.didx", "catalog.pcat1.didx"}, names)
	return names
}

func TestConformanceRealDatastore(t *testing.T) {
	dir := storeRealFixture(t)
	s, err := Open(dir)
	require.NoError(t, err)
	runConformance(t, s, realFixtureExpect(t))

	// Nothing above may have written into the fixture.
	err = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		require.NoError(t, err)
		assert.NotEqual(t, ".gc-status", e.Name())
		assert.NotEqual(t, manifestLockName, e.Name())
		return nil
	})
	require.NoError(t, err)
}

func TestConformanceOwnDatastore(t *testing.T) {
	// The same logical content as the real fixture, written by this package.
	s := storeNewTest(t)
	exp := realFixtureExpect(t)
	disk := exp.content["disk.img.fidx"]
	hello := []byte("hello from a real PBS fixture\n")
	data := storePRNG(4711, 300_000)
	first, second := exp.snapshots[0].snap, exp.snapshots[1].snap
	var archives []storeTestArchive
	for _, name := range exp.snapshots[0].files {
		switch name {
		case "disk.img.fidx":
			archives = append(archives, storeTestArchive{name: name, data: disk})
		case "root.pxar.didx":
			archives = append(archives, storeTestArchive{name: name, data: data, chunk: 65536})
		default:
			archives = append(archives, storeTestArchive{name: name, data: hello, chunk: 4096})
		}
	}
	storeWrite(t, s, Namespace{}, first, "test@pbs", archives...)
	storeWrite(t, s, Namespace{}, second, "test@pbs", storeTestArchive{name: "disk.img.fidx", data: disk})
	exp.content["root.pxar.didx"] = data
	exp.content["catalog.pcat1.didx"] = hello
	runConformance(t, s, exp)

	// And in a namespace, to cover the ns/ layout.
	ns, err := s.CreateNamespace(Namespace{}, "site1")
	require.NoError(t, err)
	ns, err = s.CreateNamespace(ns, "rack2")
	require.NoError(t, err)
	storeWrite(t, s, ns, first, "test@pbs", archives...)
	storeWrite(t, s, ns, second, "test@pbs", storeTestArchive{name: "disk.img.fidx", data: disk})
	exp.ns = ns
	runConformance(t, s, exp)
}

func TestConformanceRealDatastoreReadOnly(t *testing.T) {
	s, err := Open(storeRealFixture(t))
	require.NoError(t, err)
	snap := storeSnap(t, "host/fixture/2025-11-22T08:26:40Z")
	// Verify without recording needs no write access.
	res, err := s.Verify(context.Background(), Namespace{}, snap, VerifyOptions{NoUpdate: true})
	require.NoError(t, err)
	assert.True(t, res.OK(), "%v", res.Errors)
	// The fixture holds only the non-empty prefix directories.
	ok, err := s.HasChunk(Digest{0xff, 0xff})
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = s.ReadChunk(Digest{0xff, 0xff})
	assert.True(t, errors.Is(err, ErrChunkNotFound), "%v", err)
}
