package pbs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
)

// The reader's verification and random access, on chunk files of local
// datastores: the one a real PBS wrote (../shared/artifacts/real-datastore)
// and ones made with package datastore.

// storeSource serves chunk files of a local datastore, as GET chunk
// serves them: the bytes as stored, unchecked.
type storeSource struct {
	st      *datastore.Store
	fetches atomic.Int64
}

func (s *storeSource) fetchChunk(_ context.Context, d datastore.Digest, dst []byte) ([]byte, error) {
	s.fetches.Add(1)
	b, err := os.ReadFile(s.st.ChunkPath(d))
	return append(dst[:0], b...), err
}

// xorshiftData is the fixture's PRNG stream (../shared/vectors/chunker).
func xorshiftData(seed uint64, n int) []byte {
	out := make([]byte, 0, n+8)
	x := seed
	for len(out) < n {
		x ^= x >> 12
		x ^= x << 25
		x ^= x >> 27
		out = binary.LittleEndian.AppendUint64(out, x*0x2545F4914F6CDD1D)
	}
	return out[:n]
}

// fixtureDir returns the real datastore fixture.
func fixtureDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "artifacts", "real-datastore"))
	require.NoError(t, err)
	_, err = os.Stat(dir)
	require.NoError(t, err, "the real datastore fixture must sit in ../shared beside the module root")
	return dir
}

var fixtureSnap = datastore.Snapshot{
	Group: datastore.Group{Type: datastore.TypeHost, ID: "fixture"},
}

// openLocal opens archive name of snap in st through the reader's
// checks, with chunks from src.
func openLocal(t *testing.T, st *datastore.Store, snap datastore.Snapshot, name string, src chunkSource, cache int64) (*Archive, error) {
	t.Helper()
	m, _, err := st.ReadManifest(datastore.Namespace{}, snap)
	require.NoError(t, err)
	f, ok := m.File(name)
	require.True(t, ok, name)
	typ, err := datastore.ParseArchiveName(name)
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(st.SnapshotPath(datastore.Namespace{}, snap), name))
	require.NoError(t, err)
	ix, err := parseIndex(name, typ, raw)
	if err != nil {
		return nil, err
	}
	if err := checkIndex(f, ix); err != nil {
		return nil, err
	}
	return &Archive{name: name, typ: typ, ix: ix, chunks: newChunkFetcher(src, cache, 4),
		ctx: context.Background(), prefetch: 4}, nil
}

func fixtureSnapshot(t *testing.T) datastore.Snapshot {
	t.Helper()
	tm, err := datastore.ParseBackupTime("2025-11-22T08:26:40Z")
	require.NoError(t, err)
	s := fixtureSnap
	s.Time = tm
	return s
}

// The image a real PBS stored restores byte-identical to its input, in
// sequence and by random access; the pxar stream restores to its size.
func TestRestoreRealFixture(t *testing.T) {
	st, err := datastore.Open(fixtureDir(t))
	require.NoError(t, err)
	snap := fixtureSnapshot(t)
	want := xorshiftData(31337, 10_498_105)

	src := &storeSource{st: st}
	a, err := openLocal(t, st, snap, "disk.img.fidx", src, DefaultChunkCacheSize)
	require.NoError(t, err)
	assert.EqualValues(t, len(want), a.Size())
	assert.Equal(t, 3, a.Chunks())
	var buf bytes.Buffer
	n, err := a.WriteTo(&buf)
	require.NoError(t, err)
	assert.EqualValues(t, len(want), n)
	assert.True(t, bytes.Equal(want, buf.Bytes()), "restored image differs")

	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		off := r.IntN(len(want))
		p := make([]byte, r.IntN(6<<20))
		k, err := a.ReadAt(p, int64(off))
		if off+len(p) > len(want) {
			assert.ErrorIs(t, err, io.EOF)
		} else {
			require.NoError(t, err)
		}
		assert.True(t, bytes.Equal(want[off:off+k], p[:k]), "ReadAt(%d, %d)", off, len(p))
	}
	assert.EqualValues(t, 3, src.fetches.Load(), "the cache serves repeated reads")

	d, err := openLocal(t, st, snap, "root.pxar.didx", &storeSource{st: st}, DefaultChunkCacheSize)
	require.NoError(t, err)
	var pxar bytes.Buffer
	_, err = d.WriteTo(&pxar)
	require.NoError(t, err)
	assert.EqualValues(t, d.Size(), pxar.Len())
	assert.Contains(t, pxar.String(), "hello from a real PBS fixture\n")
	p := make([]byte, 1000)
	_, err = d.ReadAt(p, 50_000)
	require.NoError(t, err)
	assert.Equal(t, pxar.Bytes()[50_000:51_000], p)
}

// copyFixture copies the real datastore so that a test may damage it.
func copyFixture(t *testing.T) *datastore.Store {
	t.Helper()
	src, dst := fixtureDir(t), t.TempDir()
	err := filepath.WalkDir(src, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	require.NoError(t, err)
	st, err := datastore.Open(dst)
	require.NoError(t, err)
	return st
}

// One flipped byte in one chunk fails the restore with an error naming
// that chunk: its number, offset and digest. What came before is intact.
func TestRestoreFlippedByteNamesChunk(t *testing.T) {
	st := copyFixture(t)
	snap := fixtureSnapshot(t)
	ix, err := st.OpenFixedIndex(datastore.Namespace{}, snap, "disk.img.fidx")
	require.NoError(t, err)
	bad := ix.Digest(1)
	path := st.ChunkPath(bad)
	blob, err := os.ReadFile(path)
	require.NoError(t, err)
	blob[len(blob)/2] ^= 0x01
	require.NoError(t, os.WriteFile(path, blob, 0o644))

	a, err := openLocal(t, st, snap, "disk.img.fidx", &storeSource{st: st}, DefaultChunkCacheSize)
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = a.WriteTo(&buf)
	require.Error(t, err)
	var ie *IntegrityError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "disk.img.fidx", ie.Archive)
	assert.Equal(t, 1, ie.Chunk)
	assert.EqualValues(t, 4<<20, ie.Offset)
	assert.Equal(t, bad, ie.Digest)
	assert.ErrorIs(t, err, ErrIntegrity)
	assert.ErrorIs(t, err, datastore.ErrChecksum)
	assert.Contains(t, err.Error(), bad.String())
	assert.Contains(t, err.Error(), "offset 4194304")
	assert.Equal(t, xorshiftData(31337, 4<<20), buf.Bytes(), "the chunk before is written intact")

	_, err = a.ReadAt(make([]byte, 10), 5<<20)
	assert.ErrorAs(t, err, &ie)
}

// A chunk whose CRC was fixed after the damage (as a server would do when
// it stores it) still fails: its data does not hash to the digest.
func TestRestoreWrongDataWithGoodCRC(t *testing.T) {
	st := copyFixture(t)
	snap := fixtureSnapshot(t)
	ix, err := st.OpenFixedIndex(datastore.Namespace{}, snap, "disk.img.fidx")
	require.NoError(t, err)
	bad := ix.Digest(2)
	blob, err := os.ReadFile(st.ChunkPath(bad))
	require.NoError(t, err)
	plain, err := datastore.DecodeBlob(blob)
	require.NoError(t, err)
	plain[0] ^= 0xff
	forged, err := datastore.EncodeBlob(plain, true)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(st.ChunkPath(bad), forged, 0o644))

	a, err := openLocal(t, st, snap, "disk.img.fidx", &storeSource{st: st}, 0)
	require.NoError(t, err)
	_, err = a.WriteTo(io.Discard)
	var ie *IntegrityError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, 2, ie.Chunk)
	assert.ErrorIs(t, err, datastore.ErrDigestMismatch)
}

// An index that does not match its manifest entry is refused before any
// chunk is read.
func TestRestoreIndexAgainstManifest(t *testing.T) {
	st, err := datastore.Open(fixtureDir(t))
	require.NoError(t, err)
	snap := fixtureSnapshot(t)
	m, _, err := st.ReadManifest(datastore.Namespace{}, snap)
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(st.SnapshotPath(datastore.Namespace{}, snap), "disk.img.fidx"))
	require.NoError(t, err)
	ix, err := parseIndex("disk.img.fidx", datastore.ArchiveFixed, raw)
	require.NoError(t, err)
	f, _ := m.File("disk.img.fidx")
	require.NoError(t, checkIndex(f, ix))

	wrongSum := f
	wrongSum.Csum = datastore.Digest{1}.String()
	err = checkIndex(wrongSum, ix)
	var ie *IntegrityError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, -1, ie.Chunk)
	assert.ErrorIs(t, err, datastore.ErrChecksum)

	wrongSize := f
	wrongSize.Size++
	assert.ErrorIs(t, checkIndex(wrongSize, ix), datastore.ErrSizeMismatch)

	_, err = parseIndex("disk.img.fidx", datastore.ArchiveFixed, raw[:len(raw)-1])
	assert.ErrorIs(t, err, ErrIntegrity)

	blobFile := datastore.ManifestFile{Filename: "x.blob", Size: 3, Csum: datastore.ComputeDigest([]byte("abc")).String()}
	require.NoError(t, checkBlob(blobFile, []byte("abc")))
	assert.ErrorIs(t, checkBlob(blobFile, []byte("abd")), datastore.ErrChecksum)
	assert.ErrorIs(t, checkBlob(blobFile, []byte("abcd")), datastore.ErrSizeMismatch)
}

// Repeated digests are fetched once: with the cache, and while one fetch
// is in progress for concurrent readers.
func TestRestoreFetchesRepeatedChunksOnce(t *testing.T) {
	st, err := datastore.Create(context.Background(), t.TempDir(), datastore.WithSync(datastore.SyncNone))
	require.NoError(t, err)
	block := xorshiftData(7, 4<<20)
	d, _, err := st.InsertData(datastore.NewBlobEncoder(), block, true)
	require.NoError(t, err)
	zeros := make([]byte, 4<<20)
	z, _, err := st.InsertData(datastore.NewBlobEncoder(), zeros, true)
	require.NoError(t, err)
	assert.Equal(t, zeroChunkDigest(), z, "the zero chunk digest constant")

	var file bytes.Buffer
	digests := []datastore.Digest{d, z, d, z, z, d, d, z}
	fw, err := datastore.NewFixedIndexWriter(seekBuffer{&file}, uint64(len(digests))<<22, datastore.FixedChunkSize)
	require.NoError(t, err)
	for i, x := range digests {
		require.NoError(t, fw.SetDigest(i, x))
	}
	_, err = fw.Close()
	require.NoError(t, err)
	fx, err := datastore.ReadFixedIndex(bytes.NewReader(file.Bytes()), int64(file.Len()))
	require.NoError(t, err)

	for _, cache := range []int64{DefaultChunkCacheSize, 0} {
		src := &storeSource{st: st}
		a := &Archive{name: "r.img.fidx", typ: datastore.ArchiveFixed, ix: fixedIndex{fx},
			chunks: newChunkFetcher(src, cache, 8), ctx: context.Background(), prefetch: 8}
		var out bytes.Buffer
		_, err := a.WriteTo(&out)
		require.NoError(t, err)
		for i, x := range digests {
			want := block
			if x == z {
				want = zeros
			}
			require.True(t, bytes.Equal(want, out.Bytes()[i<<22:(i+1)<<22]), "chunk %d", i)
		}
		if cache > 0 {
			assert.EqualValues(t, 2, src.fetches.Load(), "each digest fetched once")
		} else {
			assert.LessOrEqual(t, src.fetches.Load(), int64(len(digests)))
		}
	}
}

// seekBuffer is an io.WriterAt over a bytes.Buffer for the index writer.
type seekBuffer struct{ b *bytes.Buffer }

func (s seekBuffer) WriteAt(p []byte, off int64) (int, error) {
	if need := int(off) + len(p); need > s.b.Len() {
		s.b.Write(make([]byte, need-s.b.Len()))
	}
	copy(s.b.Bytes()[off:], p)
	return len(p), nil
}

// A source failure (the server refused, the session ended) names the
// chunk but is not an integrity error.
func TestRestoreSourceErrorNamesChunk(t *testing.T) {
	st, err := datastore.Open(fixtureDir(t))
	require.NoError(t, err)
	boom := errors.New("boom")
	a, err := openLocal(t, st, fixtureSnapshot(t), "disk.img.fidx", failingSource{boom}, 0)
	require.NoError(t, err)
	_, err = a.WriteTo(io.Discard)
	assert.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, ErrIntegrity)
	assert.Contains(t, err.Error(), "chunk 0 at offset 0")
}

type failingSource struct{ err error }

func (f failingSource) fetchChunk(context.Context, datastore.Digest, []byte) ([]byte, error) {
	return nil, f.err
}

// gatedSource holds every fetch until the gate opens or its context ends.
type gatedSource struct {
	inner chunkSource
	gate  chan struct{}
}

func (g gatedSource) fetchChunk(ctx context.Context, d datastore.Digest, dst []byte) ([]byte, error) {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.inner.fetchChunk(ctx, d, dst)
}

// A fetch shared by two readers that is cancelled for the first one is
// repeated for the second.
func TestChunkFetchSharedCancellation(t *testing.T) {
	st, err := datastore.Open(fixtureDir(t))
	require.NoError(t, err)
	ix, err := st.OpenFixedIndex(datastore.Namespace{}, fixtureSnapshot(t), "disk.img.fidx")
	require.NoError(t, err)
	d := ix.Digest(0)
	gate := make(chan struct{})
	f := newChunkFetcher(gatedSource{inner: &storeSource{st: st}, gate: gate}, 0, 2)

	first, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := f.get(first, d, 4<<20)
		errc <- err
	}()
	require.Eventually(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.inflight) == 1
	}, 5*time.Second, time.Millisecond)
	second := make(chan []byte, 1)
	go func() {
		data, err := f.get(context.Background(), d, 4<<20)
		assert.NoError(t, err)
		second <- data
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	close(gate)
	assert.Equal(t, xorshiftData(31337, 4<<20), <-second)
}
