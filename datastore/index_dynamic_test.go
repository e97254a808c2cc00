package datastore

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDynamicIndexWriterLayout compares a written index with the layout of
// spec 5.4, built by hand, written after 100 bytes of something else to
// show that Close patches the checksum relative to where the index began.
func TestDynamicIndexWriterLayout(t *testing.T) {
	d0, d1, d2 := idxTestDigest(0x10), idxTestDigest(0x20), idxTestDigest(0x30)
	var out formatTestWriterAt
	_, err := out.Write(bytes.Repeat([]byte{0xee}, 100))
	require.NoError(t, err)

	w, err := NewDynamicIndexWriter(&out, WithIndexUUID(idxTestUUID), WithIndexCTime(idxTestCTime))
	require.NoError(t, err)
	require.NoError(t, w.Append(1000, d0))
	require.NoError(t, w.Append(1001, d1))
	require.NoError(t, w.Append(70000, d2))
	assert.Equal(t, 3, w.Count())
	assert.Equal(t, uint64(70000), w.Size())
	csum, err := w.Close()
	require.NoError(t, err)

	var body []byte
	for _, e := range []struct {
		end uint64
		d   Digest
	}{{1000, d0}, {1001, d1}, {70000, d2}} {
		body = binary.LittleEndian.AppendUint64(body, e.end)
		body = append(body, e.d[:]...)
	}
	wantCsum := sha256.Sum256(body)
	assert.Equal(t, wantCsum, csum)

	want := bytes.Repeat([]byte{0xee}, 100)
	want = append(want, formatTestUnhex(t, "1c914ea519bab3cd")...) // 0: magic
	want = append(want, idxTestUUID[:]...)                         // 8: uuid
	want = append(want, formatTestUnhex(t, "00f1536500000000")...) // 24: ctime
	want = append(want, wantCsum[:]...)                            // 32: checksum
	want = append(want, make([]byte, 4032)...)                     // 64: reserved
	want = append(want, body...)                                   // 4096: entries
	assert.True(t, bytes.Equal(want, out.buf), "layout differs:\n got %x\nwant %x", out.buf[100:164], want[100:164])

	file := out.buf[100:]
	ix, err := ReadDynamicIndex(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	assert.Equal(t, idxTestUUID, ix.UUID())
	assert.True(t, idxTestCTime.Equal(ix.CTime()))
	assert.Equal(t, 3, ix.Count())
	assert.Equal(t, uint64(70000), ix.Size())
	assert.Equal(t, wantCsum, ix.StoredChecksum())
	got, err := ix.Checksum()
	require.NoError(t, err)
	assert.Equal(t, wantCsum, got)
	start, end, d := ix.Entry(1)
	assert.Equal(t, []any{uint64(1000), uint64(1001), d1}, []any{start, end, d})
	start, _, _ = ix.Entry(0)
	assert.Zero(t, start)

	for _, tc := range []struct {
		off  uint64
		want int
		ok   bool
	}{{0, 0, true}, {999, 0, true}, {1000, 1, true}, {1001, 2, true}, {69999, 2, true}, {70000, 3, false}, {1 << 63, 3, false}} {
		i, ok := ix.ChunkFor(tc.off)
		assert.Equal(t, tc.ok, ok, tc.off)
		if ok {
			assert.Equal(t, tc.want, i, tc.off)
		}
	}

	_, err = w.Close()
	assert.ErrorIs(t, err, ErrBadIndex)
	assert.ErrorIs(t, w.Append(80000, d0), ErrBadIndex)
}

func TestDynamicIndexWriterOrder(t *testing.T) {
	var out formatTestWriterAt
	w, err := NewDynamicIndexWriter(&out)
	require.NoError(t, err)
	assert.ErrorIs(t, w.Append(0, Digest{}), ErrBadIndex, "empty first chunk")
	require.NoError(t, w.Append(10, Digest{}))
	assert.ErrorIs(t, w.Append(10, Digest{}), ErrBadIndex, "empty chunk")
	assert.ErrorIs(t, w.Append(5, Digest{}), ErrBadIndex, "going back")
	assert.Equal(t, 1, w.Count())
}

func TestDynamicIndexEmpty(t *testing.T) {
	var out formatTestWriterAt
	w, err := NewDynamicIndexWriter(&out)
	require.NoError(t, err)
	csum, err := w.Close()
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(nil), csum)
	require.Len(t, out.buf, 4096)
	ix, err := ReadDynamicIndex(bytes.NewReader(out.buf), 4096)
	require.NoError(t, err)
	assert.Zero(t, ix.Count())
	assert.Zero(t, ix.Size())
	_, ok := ix.ChunkFor(0)
	assert.False(t, ok)
	assert.Equal(t, byte(0x40), ix.UUID()[6]&0xf0)
}

// TestDynamicIndexLookupMatchesScan writes a large random index through the
// writer (several buffer flushes) and checks ChunkFor against a linear scan.
func TestDynamicIndexLookupMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var out formatTestWriterAt
	w, err := NewDynamicIndexWriter(&out)
	require.NoError(t, err)
	var ends []uint64
	var sum DynamicChecksum
	var end uint64
	for i := range 5000 {
		end += 1 + uint64(rng.IntN(8<<20))
		d := ComputeDigest([]byte{byte(i), byte(i >> 8)})
		require.NoError(t, w.Append(end, d))
		sum.Add(end, d)
		ends = append(ends, end)
	}
	csum, err := w.Close()
	require.NoError(t, err)
	assert.Equal(t, sum.Sum(), csum)

	ix, err := ReadDynamicIndex(bytes.NewReader(out.buf), int64(len(out.buf)))
	require.NoError(t, err)
	require.Equal(t, len(ends), ix.Count())
	for range 2000 {
		off := rng.Uint64N(end + 10)
		want := 0
		for want < len(ends) && ends[want] <= off {
			want++
		}
		i, ok := ix.ChunkFor(off)
		require.Equal(t, want < len(ends), ok, off)
		if ok {
			require.Equal(t, want, i, off)
			s, e, _ := ix.Entry(i)
			require.True(t, s <= off && off < e)
		}
	}
}

func TestReadDynamicIndexErrors(t *testing.T) {
	valid := append(append([]byte(nil), didxMagic[:]...), make([]byte, 4088+80)...)
	for _, tc := range []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"header cut", valid[:100], ErrTruncated},
		{"fixed magic", append(fidxMagic[:], make([]byte, 4088)...), ErrBadMagic},
		{"partial entry", valid[:len(valid)-1], ErrBadIndex},
		{"extra byte", append(valid, 0), ErrBadIndex},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadDynamicIndex(bytes.NewReader(tc.file), int64(len(tc.file)))
			assert.ErrorIs(t, err, tc.want)
			var fe *FormatError
			assert.ErrorAs(t, err, &fe)
		})
	}
	_, err := ReadDynamicIndex(bytes.NewReader(valid[:4096+40]), int64(len(valid)))
	assert.ErrorIs(t, err, ErrTruncated, "reader shorter than the size it was given")
	_, err = ReadDynamicIndex(idxTestFailingReader{}, 4096)
	assert.ErrorIs(t, err, errIdxTestIO)
	_, err = OpenDynamicIndex("/nonexistent/x.didx")
	assert.Error(t, err)

	// Decreasing end offsets are read as upstream reads them, without panics.
	bad := append([]byte(nil), valid...)
	bad = append(bad, make([]byte, 40)...)
	binary.LittleEndian.PutUint64(bad[4096:], 500)
	binary.LittleEndian.PutUint64(bad[4096+40:], 100)
	binary.LittleEndian.PutUint64(bad[4096+80:], 50)
	ix, err := ReadDynamicIndex(bytes.NewReader(bad), int64(len(bad)))
	require.NoError(t, err)
	s, e, _ := ix.Entry(1)
	assert.Greater(t, s, e)
	_, _ = ix.ChunkFor(120)
}

type idxTestFailingSeeker struct{ formatTestWriterAt }

func (idxTestFailingSeeker) Seek(int64, int) (int64, error) { return 0, errIdxTestIO }

func TestDynamicIndexWriterIOErrors(t *testing.T) {
	_, err := NewDynamicIndexWriter(&idxTestFailingSeeker{})
	assert.ErrorIs(t, err, errIdxTestIO)
	var _ io.WriteSeeker = &formatTestWriterAt{}
}
