package pbs_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/chunker"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/pbs"
)

// refChunk is a chunk as chunker.Stream cuts it.
type refChunk struct {
	end    uint64
	digest datastore.Digest
}

func refChunks(t *testing.T, data []byte, avg int) []refChunk {
	t.Helper()
	var out []refChunk
	var end uint64
	st := chunker.NewStream(bytes.NewReader(data), avg)
	for {
		c, err := st.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		end += uint64(len(c.Data))
		out = append(out, refChunk{end: end, digest: datastore.ComputeDigest(c.Data)})
	}
}

// storedChunks reads the dynamic index of a snapshot from the mock's disk.
func storedChunks(t *testing.T, e *bkEnv, snap datastore.Snapshot, name string) []refChunk {
	t.Helper()
	ix, err := e.store().OpenDynamicIndex(datastore.Namespace{}, snap, name)
	require.NoError(t, err)
	out := make([]refChunk, ix.Count())
	for i := range out {
		_, end, d := ix.Entry(i)
		out[i] = refChunk{end: end, digest: d}
	}
	return out
}

// A second backup that follows the previous index (hashing chunks where
// the previous one had them instead of scanning) cuts exactly where the
// chunker cuts the new data, whatever changed: nothing, bytes in place,
// insertions and deletions (the boundaries shift, then meet the previous
// ones again), a shorter or longer stream, other data altogether.
func TestUploadStreamFollowsPreviousIndex(t *testing.T) {
	base := randomData(41, 9<<20+12345)
	edits := map[string]func([]byte) []byte{
		"same": slices.Clone[[]byte],
		"byte flipped": func(b []byte) []byte {
			b = slices.Clone(b)
			b[len(b)/2] ^= 0xff
			return b
		},
		"bytes flipped everywhere": func(b []byte) []byte {
			b = slices.Clone(b)
			for i := 100; i < len(b); i += 300 << 10 {
				b[i] ^= 1
			}
			return b
		},
		"inserted": func(b []byte) []byte {
			return slices.Concat(b[:len(b)/3], randomData(42, 1000), b[len(b)/3:])
		},
		"deleted": func(b []byte) []byte {
			return slices.Concat(b[:len(b)/2], b[len(b)/2+5000:])
		},
		"truncated": func(b []byte) []byte { return slices.Clone(b[:len(b)*7/10]) },
		"cut short by a byte": func(b []byte) []byte {
			return slices.Clone(b[:len(b)-1])
		},
		"appended": func(b []byte) []byte { return slices.Concat(b, randomData(43, 3<<20)) },
		"other":    func(b []byte) []byte { return randomData(44, len(b)) },
		"prefixed": func(b []byte) []byte { return slices.Concat([]byte("x"), b) },
	}
	for _, avg := range []int{64 << 10, 1 << 20} {
		for name, edit := range edits {
			t.Run(name, func(t *testing.T) {
				e := newBkEnv(t)
				first := e.backupOne("s", "data.raw", base, pbs.WithAverageChunkSize(avg))
				prev := storedChunks(t, e, first.Snapshot, "data.raw.didx")
				data := edit(base)

				s := e.start("s")
				up, err := s.UploadStream(bkCtx(t), "data.raw", iotest.HalfReader(bytes.NewReader(data)), pbs.WithAverageChunkSize(avg))
				require.NoError(t, err)
				res, err := s.Finish(bkCtx(t))
				require.NoError(t, err)
				e.settle()

				want := refChunks(t, data, avg)
				got := storedChunks(t, e, res.Snapshot, "data.raw.didx")
				require.Equal(t, want, got, "avg %d: boundaries and digests as the chunker's", avg)
				assert.Equal(t, data, e.restore(res.Snapshot, "data.raw"))

				known := map[datastore.Digest]bool{}
				for _, c := range prev {
					known[c.digest] = true
				}
				var reused, fresh int64
				for _, c := range got {
					if known[c.digest] {
						reused++
					} else {
						fresh++
						known[c.digest] = true // a repeat within the stream is sent once
					}
				}
				assert.Equal(t, reused+fresh, up.Stats.Chunks)
				assert.LessOrEqual(t, up.Stats.NewChunks, fresh)
				if name == "same" {
					assert.Zero(t, up.Stats.NewChunks)
					assert.Equal(t, prev, got)
				}
			})
		}
	}
}

// A previous stream shorter than the minimum chunk ended with its input,
// not at a cut: a longer stream starting with the same bytes is cut by
// the chunker, not where the previous one ended.
func TestUploadStreamPreviousEndedWithInput(t *testing.T) {
	avg := 64 << 10
	whole := randomData(45, 2<<20)
	for _, n := range []int{1000, avg / 4, avg} {
		e := newBkEnv(t)
		e.backupOne("s", "data.raw", whole[:n], pbs.WithAverageChunkSize(avg))
		res := e.backupOne("s", "data.raw", whole, pbs.WithAverageChunkSize(avg))
		assert.Equal(t, refChunks(t, whole, avg), storedChunks(t, e, res.Snapshot, "data.raw.didx"), "previous of %d bytes", n)
	}
}

// A read error while following the previous index fails the upload with
// that error and leaves only the previous snapshot.
func TestUploadStreamFollowingFailsCleanly(t *testing.T) {
	avg := 64 << 10
	base := randomData(46, 3<<20)
	e := newBkEnv(t)
	e.backupOne("s", "data.raw", base, pbs.WithAverageChunkSize(avg))
	boom := errors.New("disk on fire")
	s := e.start("s")
	src := io.MultiReader(bytes.NewReader(base[:2<<20]), iotest.ErrReader(boom))
	_, err := s.UploadStream(bkCtx(t), "data.raw", src, pbs.WithAverageChunkSize(avg))
	require.ErrorIs(t, err, boom)
	assert.Len(t, e.snapshots("s"), 1)
}

// A previous index cut with another average is noticed: the new one is
// cut as the chunker cuts with this average, not along the old
// boundaries.
func TestUploadStreamPreviousOfAnotherAverage(t *testing.T) {
	data := randomData(47, 6<<20)
	for _, c := range []struct{ before, now int }{
		{64 << 10, 128 << 10}, {128 << 10, 64 << 10}, {64 << 10, 256 << 10}, {1 << 20, 2 << 20}, {2 << 20, 1 << 20},
	} {
		e := newBkEnv(t)
		e.backupOne("s", "data.raw", data, pbs.WithAverageChunkSize(c.before))
		res := e.backupOne("s", "data.raw", data, pbs.WithAverageChunkSize(c.now))
		assert.Equal(t, refChunks(t, data, c.now), storedChunks(t, e, res.Snapshot, "data.raw.didx"), "%d after %d", c.now, c.before)
	}
}
