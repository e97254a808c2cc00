package datastore

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idxTestCountingReader counts ReadAt calls and the bytes they asked for.
type idxTestCountingReader struct {
	r            *bytes.Reader
	mu           sync.Mutex
	calls, bytes int
}

func (c *idxTestCountingReader) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	c.calls++
	c.bytes += len(p)
	c.mu.Unlock()
	return c.r.ReadAt(p, off)
}

func (c *idxTestCountingReader) reset() {
	c.mu.Lock()
	c.calls, c.bytes = 0, 0
	c.mu.Unlock()
}

// The on-demand reader of the real server's 32 GiB index agrees with the
// in-memory one while reading only what it is asked for.
func TestFixedIndexReaderRealServer(t *testing.T) {
	path := formatTestShared(t, "artifacts", "drive-scsi0.img.fidx")
	full, err := OpenFixedIndex(path)
	require.NoError(t, err)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)

	cr := &idxTestCountingReader{r: bytes.NewReader(raw)}
	x, err := NewFixedIndexReader(cr, int64(len(raw)))
	require.NoError(t, err)
	assert.Equal(t, 1, cr.calls, "opening reads the header only")
	assert.Equal(t, IndexHeaderSize, cr.bytes)
	assert.Equal(t, full.fidxHeader, x.fidxHeader)

	cr.reset()
	d, err := x.ReadDigest(8191)
	require.NoError(t, err)
	assert.Equal(t, full.Digest(8191), d)
	assert.Equal(t, []int{1, 32}, []int{cr.calls, cr.bytes}, "one digest, one 32-byte read")
	slot, within, ok := x.ChunkFor(5*FixedChunkSize + 17)
	assert.Equal(t, []any{5, uint64(17), true}, []any{slot, within, ok})

	csum, err := x.Checksum()
	require.NoError(t, err)
	assert.Equal(t, full.Checksum(), csum)
	n := 0
	require.NoError(t, x.EachDigest(func(i int, d Digest) bool {
		require.Equal(t, n, i)
		require.Equal(t, full.Digest(i), d, "slot %d", i)
		n++
		return true
	}))
	assert.Equal(t, full.Count(), n)
	n = 0
	require.NoError(t, x.EachDigest(func(int, Digest) bool { n++; return n < 3 }))
	assert.Equal(t, 3, n, "stops when fn returns false")

	loaded, err := x.Load()
	require.NoError(t, err)
	assert.Equal(t, full, loaded)
	require.NoError(t, x.Close())

	y, err := OpenFixedIndexReader(path)
	require.NoError(t, err)
	d, err = y.ReadDigest(0)
	require.NoError(t, err)
	assert.Equal(t, full.Digest(0), d)
	require.NoError(t, y.Close())
	require.NoError(t, y.Close(), "closing twice is fine")
	_, err = y.ReadDigest(0)
	assert.Error(t, err, "the file is closed")
}

func TestFixedIndexReaderErrors(t *testing.T) {
	file := idxTestFixedFile(10, 4, 3)
	x, err := NewFixedIndexReader(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	for _, i := range []int{-1, 3} {
		_, err := x.ReadDigest(i)
		assert.ErrorIs(t, err, ErrBadIndex, i)
	}

	// Opening checks exactly what ReadFixedIndex checks.
	_, err = NewFixedIndexReader(bytes.NewReader(file[:4000]), 4000)
	assert.ErrorIs(t, err, ErrTruncated)
	_, err = NewFixedIndexReader(bytes.NewReader(file), int64(len(file))+32)
	assert.ErrorIs(t, err, ErrBadIndex)
	_, err = NewFixedIndexReader(idxTestFailingReader{}, 4096+96)
	assert.ErrorIs(t, err, errIdxTestIO)

	// A body shorter than the size given at open fails on reading, typed.
	short, err := NewFixedIndexReader(bytes.NewReader(file[:4096+40]), int64(len(file)))
	require.NoError(t, err)
	_, err = short.ReadDigest(2)
	assert.ErrorIs(t, err, ErrTruncated)
	_, err = short.Checksum()
	assert.ErrorIs(t, err, ErrTruncated)
	_, err = short.Load()
	assert.ErrorIs(t, err, ErrTruncated)
	assert.ErrorIs(t, short.EachDigest(func(int, Digest) bool { return true }), ErrTruncated)

	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.fidx")
	require.NoError(t, os.WriteFile(bad, file[:100], 0o644))
	_, err = OpenFixedIndexReader(bad)
	var fe *FormatError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.What, bad, "the error names the file")
	_, err = OpenFixedIndexReader(filepath.Join(dir, "missing.fidx"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// idxTestDynamicFile writes a dynamic index of n random entries.
func idxTestDynamicFile(t *testing.T, n int) ([]byte, []uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), 9))
	var out formatTestWriterAt
	w, err := NewDynamicIndexWriter(&out)
	require.NoError(t, err)
	var ends []uint64
	var end uint64
	for i := range n {
		end += 1 + rng.Uint64N(4<<20)
		require.NoError(t, w.Append(end, ComputeDigest([]byte{byte(i), byte(i >> 8), byte(i >> 16)})))
		ends = append(ends, end)
	}
	_, err = w.Close()
	require.NoError(t, err)
	return out.buf, ends
}

// The on-demand dynamic reader agrees with the in-memory one entry for
// entry and lookup for lookup, and a lookup costs O(log n) small reads.
func TestDynamicIndexReaderMatchesInMemory(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 8192, 20000} {
		file, ends := idxTestDynamicFile(t, n)
		full, err := ReadDynamicIndex(bytes.NewReader(file), int64(len(file)))
		require.NoError(t, err)
		cr := &idxTestCountingReader{r: bytes.NewReader(file)}
		x, err := NewDynamicIndexReader(cr, int64(len(file)))
		require.NoError(t, err)
		assert.LessOrEqual(t, cr.calls, 2, "opening reads the header and the last end offset")
		assert.Equal(t, full.Count(), x.Count())
		assert.Equal(t, full.Size(), x.Size())
		assert.Equal(t, full.UUID(), x.UUID())
		assert.Equal(t, full.StoredChecksum(), x.StoredChecksum())
		csum, err := x.Checksum()
		require.NoError(t, err)
		want, err := full.Checksum()
		require.NoError(t, err)
		assert.Equal(t, want, csum)
		assert.Equal(t, sha256.Sum256(file[IndexHeaderSize:]), csum)

		i := 0
		require.NoError(t, x.EachEntry(func(k int, start, end uint64, d Digest) bool {
			s, e, fd := full.Entry(k)
			require.Equal(t, i, k)
			require.Equal(t, []any{s, e, fd}, []any{start, end, d}, "entry %d", k)
			i++
			return true
		}))
		assert.Equal(t, n, i)

		rng := rand.New(rand.NewPCG(1, uint64(n)))
		var last uint64
		if n > 0 {
			last = ends[n-1]
		}
		for range 300 {
			off := rng.Uint64N(last + 10)
			wantI, wantOK := full.ChunkFor(off)
			cr.reset()
			gotI, gotOK, err := x.ChunkFor(off)
			require.NoError(t, err)
			steps := 1
			for c := n; c > 1; c /= 2 {
				steps++
			}
			require.LessOrEqual(t, cr.calls, steps, "ChunkFor reads O(log n) end offsets")
			require.Equal(t, wantOK, gotOK, off)
			if wantOK {
				require.Equal(t, wantI, gotI, off)
				s, e, d, err := x.ReadEntry(gotI)
				require.NoError(t, err)
				fs, fe, fd := full.Entry(gotI)
				require.Equal(t, []any{fs, fe, fd}, []any{s, e, d})
			}
		}
		if n > 0 {
			loaded, err := x.Load()
			require.NoError(t, err)
			assert.Equal(t, full, loaded)
		}
		_, _, _, err = x.ReadEntry(n)
		assert.ErrorIs(t, err, ErrBadIndex)
		_, _, _, err = x.ReadEntry(-1)
		assert.ErrorIs(t, err, ErrBadIndex)
	}
}

func TestDynamicIndexReaderErrorsAndFiles(t *testing.T) {
	file, _ := idxTestDynamicFile(t, 100)
	_, err := NewDynamicIndexReader(bytes.NewReader(file), int64(len(file))-1)
	assert.ErrorIs(t, err, ErrBadIndex)
	_, err = NewDynamicIndexReader(bytes.NewReader(file[:100]), 100)
	assert.ErrorIs(t, err, ErrTruncated)
	// The last entry is read at open: a reader shorter than claimed fails then.
	_, err = NewDynamicIndexReader(bytes.NewReader(file[:len(file)-40]), int64(len(file)))
	assert.ErrorIs(t, err, ErrTruncated)

	dir := t.TempDir()
	path := filepath.Join(dir, "a.didx")
	require.NoError(t, os.WriteFile(path, file, 0o644))
	x, err := OpenDynamicIndexReader(path)
	require.NoError(t, err)
	_, _, _, err = x.ReadEntry(99)
	require.NoError(t, err)
	// The file is shortened while open: reads fail typed, no panic.
	require.NoError(t, os.Truncate(path, int64(len(file)-400)))
	_, _, _, err = x.ReadEntry(99)
	assert.ErrorIs(t, err, ErrTruncated)
	_, err = x.Checksum()
	assert.ErrorIs(t, err, ErrTruncated)
	require.NoError(t, x.Close())

	_, err = OpenDynamicIndexReader(filepath.Join(dir, "missing.didx"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, os.WriteFile(path, file[:4097], 0o644))
	_, err = OpenDynamicIndexReader(path)
	var fe *FormatError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.What, path)
}

// Store.Open*IndexReader serve the same data as the in-memory openers,
// on the real datastore.
func TestStoreIndexReadersRealDatastore(t *testing.T) {
	s, err := Open(storeRealFixture(t))
	require.NoError(t, err)
	snap := storeSnap(t, "host/fixture/2025-11-22T08:26:40Z")
	fx, err := s.OpenFixedIndexReader(Namespace{}, snap, "disk.img.fidx")
	require.NoError(t, err)
	defer fx.Close()
	full, err := s.OpenFixedIndex(Namespace{}, snap, "disk.img.fidx")
	require.NoError(t, err)
	loaded, err := fx.Load()
	require.NoError(t, err)
	assert.Equal(t, full, loaded)

	dx, err := s.OpenDynamicIndexReader(Namespace{}, snap, "root.pxar.didx")
	require.NoError(t, err)
	defer dx.Close()
	dfull, err := s.OpenDynamicIndex(Namespace{}, snap, "root.pxar.didx")
	require.NoError(t, err)
	dloaded, err := dx.Load()
	require.NoError(t, err)
	assert.Equal(t, dfull, dloaded)

	_, err = s.OpenFixedIndexReader(Namespace{}, snap, "../x")
	assert.ErrorIs(t, err, ErrBadName)
	_, err = s.OpenDynamicIndexReader(Namespace{}, storeSnap(t, "host/fixture/2020-01-01T00:00:00Z"), "root.pxar.didx")
	assert.ErrorIs(t, err, ErrSnapshotNotFound)
}

// Concurrent readers of one on-demand index see the same digests.
func TestFixedIndexReaderConcurrent(t *testing.T) {
	path := formatTestShared(t, "artifacts", "drive-scsi0.img.fidx")
	full, err := OpenFixedIndex(path)
	require.NoError(t, err)
	x, err := OpenFixedIndexReader(path)
	require.NoError(t, err)
	defer x.Close()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < x.Count(); i += 4 {
				d, err := x.ReadDigest(i)
				if !assert.NoError(t, err) || !assert.Equal(t, full.Digest(i), d) {
					return
				}
			}
		})
	}
	wg.Wait()
}
