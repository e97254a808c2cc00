package datastore

import (
	"context"
	"encoding/binary"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// storeSharedDir is ../shared beside the module root.
func storeSharedDir(t testing.TB) string {
	t.Helper()
	return formatTestShared(t)
}

// storeRealFixture returns the path of the read-only real PBS datastore.
func storeRealFixture(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(storeSharedDir(t), "artifacts", "real-datastore")
	_, err := os.Stat(dir)
	require.NoError(t, err, "the real datastore fixture is part of ../shared")
	return dir
}

// storeCopyTree copies the directory tree src to dst, making everything
// writable for the owner (the fixture is read-only) and keeping modes
// otherwise.
func storeCopyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	require.NoError(t, err)
}

// storePRNG returns the first n bytes of the xorshift64* stream of the
// chunker vectors (../shared/vectors/chunker/README.md) for seed.
func storePRNG(seed uint64, n int) []byte {
	out := make([]byte, (n+7)/8*8)
	x := seed
	for i := 0; i < len(out); i += 8 {
		x ^= x >> 12
		x ^= x << 25
		x ^= x >> 27
		binary.LittleEndian.PutUint64(out[i:], x*0x2545F4914F6CDD1D)
	}
	return out[:n]
}

// storeNewTest creates an empty datastore in a temporary directory,
// without fsyncs.
func storeNewTest(t testing.TB, opts ...Option) *Store {
	t.Helper()
	s, err := Create(context.Background(), filepath.Join(t.TempDir(), "store"), append([]Option{WithSync(SyncNone)}, opts...)...)
	require.NoError(t, err)
	return s
}

// storeFakeClock is an adjustable clock for WithClock.
type storeFakeClock struct{ t time.Time }

func (c *storeFakeClock) now() time.Time          { return c.t }
func (c *storeFakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// storeSnap builds a snapshot value, failing the test on bad input.
func storeSnap(t testing.TB, s string) Snapshot {
	t.Helper()
	snap, err := ParseSnapshot(s)
	require.NoError(t, err)
	return snap
}

// storeNS parses a namespace, failing the test on bad input.
func storeNS(t testing.TB, s string) Namespace {
	t.Helper()
	ns, err := ParseNamespace(s)
	require.NoError(t, err)
	return ns
}

// storeTestArchive is one archive of a snapshot written by storeWrite.
type storeTestArchive struct {
	name string
	data []byte
	// chunk is the chunk size for dynamic archives (fixed ones use 4 MiB).
	chunk int
}

// storeWrite writes a finished snapshot holding the given archives
// (".fidx", ".didx" or ".blob" names) through a SnapshotWriter and returns
// its manifest.
func storeWrite(t testing.TB, s *Store, ns Namespace, snap Snapshot, owner string, archives ...storeTestArchive) *Manifest {
	t.Helper()
	w, err := s.BeginSnapshot(ns, snap, owner)
	require.NoError(t, err)
	m := storeFill(t, s, w, archives...)
	require.NoError(t, w.Commit(m))
	return m
}

// storeFill writes archives through w and returns the manifest listing
// them (not yet committed).
func storeFill(t testing.TB, s *Store, w *SnapshotWriter, archives ...storeTestArchive) *Manifest {
	t.Helper()
	enc := NewBlobEncoder()
	snap := w.Snapshot()
	m := &Manifest{BackupType: string(snap.Type), BackupID: snap.ID, BackupTime: snap.Time.Unix()}
	for _, a := range archives {
		typ, err := ParseArchiveName(a.name)
		require.NoError(t, err)
		var csum [32]byte
		switch typ {
		case ArchiveFixed:
			ix, err := w.CreateFixedIndex(a.name, uint64(len(a.data)))
			require.NoError(t, err)
			for slot := 0; slot*FixedChunkSize < len(a.data); slot++ {
				piece := a.data[slot*FixedChunkSize : min(len(a.data), (slot+1)*FixedChunkSize)]
				d, _, err := s.InsertData(enc, piece, true)
				require.NoError(t, err)
				require.NoError(t, ix.SetDigest(slot, d))
			}
			csum, err = ix.Close()
			require.NoError(t, err)
		case ArchiveDynamic:
			ix, err := w.CreateDynamicIndex(a.name)
			require.NoError(t, err)
			for off := 0; off < len(a.data); off += a.chunk {
				end := min(len(a.data), off+a.chunk)
				d, _, err := s.InsertData(enc, a.data[off:end], true)
				require.NoError(t, err)
				require.NoError(t, ix.Append(uint64(end), d))
			}
			csum, err = ix.Close()
			require.NoError(t, err)
		case ArchiveBlob:
			blob, err := enc.Encode(nil, a.data, true)
			require.NoError(t, err)
			require.NoError(t, w.WriteBlob(a.name, blob))
			csum = ComputeDigest(blob)
			m.Files = append(m.Files, ManifestFile{Filename: a.name, CryptMode: CryptNone, Size: uint64(len(blob)), Csum: Digest(csum).String()})
			continue
		}
		m.Files = append(m.Files, ManifestFile{Filename: a.name, CryptMode: CryptNone, Size: uint64(len(a.data)), Csum: Digest(csum).String()})
	}
	return m
}

// storeAgeChunks sets the access time of every chunk file to t.
func storeAgeChunks(t testing.TB, s *Store, at time.Time) {
	t.Helper()
	require.NoError(t, s.WalkChunks(context.Background(), func(c ChunkInfo) error {
		return lockSetAtime(c.Path, at)
	}))
}
