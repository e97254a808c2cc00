package datastore

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	idxTestUUID  = [16]byte{0, 1, 2, 3, 4, 5, 0x46, 7, 0x88, 9, 10, 11, 12, 13, 14, 15}
	idxTestCTime = time.Unix(1700000000, 0)
)

func idxTestDigest(b byte) Digest {
	var d Digest
	for i := range d {
		d[i] = b + byte(i)
	}
	return d
}

// TestFixedIndexWriterLayout compares a written index with the layout of
// spec 5.3, built by hand field by field.
func TestFixedIndexWriterLayout(t *testing.T) {
	const chunk = 4096
	size := uint64(2*chunk + 5) // three slots, the last one 5 bytes
	d0, d1 := idxTestDigest(0x10), idxTestDigest(0x20)

	var out formatTestWriterAt
	w, err := NewFixedIndexWriter(&out, size, chunk, WithIndexUUID(idxTestUUID), WithIndexCTime(idxTestCTime))
	require.NoError(t, err)
	require.Equal(t, 3, w.Count())
	require.NoError(t, w.SetDigest(1, d1))
	require.NoError(t, w.SetDigest(0, Digest{9})) // overwritten below
	require.NoError(t, w.SetDigest(0, d0))
	// slot 2 stays unset: all zero, like upstream's pre-truncated file
	csum, err := w.Close()
	require.NoError(t, err)

	body := append(append(append([]byte(nil), d0[:]...), d1[:]...), make([]byte, 32)...)
	wantCsum := sha256.Sum256(body)
	assert.Equal(t, wantCsum, csum)

	want := make([]byte, 0, 4096+96)
	want = append(want, formatTestUnhex(t, "2f7f41ed91fd0fcd")...) // 0: magic
	want = append(want, idxTestUUID[:]...)                         // 8: uuid
	want = append(want, formatTestUnhex(t, "00f1536500000000")...) // 24: ctime 1700000000 LE
	want = append(want, wantCsum[:]...)                            // 32: checksum
	want = append(want, formatTestUnhex(t, "0520000000000000")...) // 64: size 8197 LE
	want = append(want, formatTestUnhex(t, "0010000000000000")...) // 72: chunk size 4096 LE
	want = append(want, make([]byte, 4016)...)                     // 80: reserved
	want = append(want, body...)                                   // 4096: digests
	require.Len(t, want, 4096+96)
	assert.True(t, bytes.Equal(want, out.buf), "layout differs:\n got %x\nwant %x", out.buf[:80], want[:80])

	ix, err := ReadFixedIndex(bytes.NewReader(out.buf), int64(len(out.buf)))
	require.NoError(t, err)
	assert.Equal(t, idxTestUUID, ix.UUID())
	assert.True(t, idxTestCTime.Equal(ix.CTime()))
	assert.Equal(t, size, ix.Size())
	assert.Equal(t, uint64(chunk), ix.ChunkSize())
	assert.Equal(t, 3, ix.Count())
	assert.Equal(t, d1, ix.Digest(1))
	assert.True(t, ix.Digest(2).IsZero())
	assert.Equal(t, wantCsum, ix.StoredChecksum())
	assert.Equal(t, wantCsum, ix.Checksum())
	start, end := ix.ChunkRange(2)
	assert.Equal(t, [2]uint64{2 * chunk, size}, [2]uint64{start, end})
	slot, within, ok := ix.ChunkFor(size - 1)
	assert.True(t, ok)
	assert.Equal(t, 2, slot)
	assert.Equal(t, uint64(4), within)

	// Writer misuse.
	_, err = w.Close()
	assert.ErrorIs(t, err, ErrBadIndex)
	assert.ErrorIs(t, w.SetDigest(0, d0), ErrBadIndex)
}

func TestFixedIndexWriterDefaultsAndErrors(t *testing.T) {
	var out formatTestWriterAt
	before := time.Now().Unix()
	w, err := NewFixedIndexWriter(&out, 10*FixedChunkSize, FixedChunkSize)
	require.NoError(t, err)
	assert.Equal(t, 10, w.Count())
	assert.ErrorIs(t, w.SetDigest(10, Digest{}), ErrBadIndex)
	assert.ErrorIs(t, w.SetDigest(-1, Digest{}), ErrBadIndex)
	_, err = w.Close()
	require.NoError(t, err)
	ix, err := ReadFixedIndex(bytes.NewReader(out.buf), int64(len(out.buf)))
	require.NoError(t, err)
	assert.Equal(t, byte(0x40), ix.UUID()[6]&0xf0, "random UUID version 4")
	assert.Equal(t, byte(0x80), ix.UUID()[8]&0xc0, "RFC 4122 variant")
	assert.GreaterOrEqual(t, ix.CTime().Unix(), before)

	for _, tc := range []struct {
		size, chunk uint64
		want        error
	}{
		{0, FixedChunkSize, ErrBadIndex},
		{100, 0, ErrBadIndex},
		{100, 3000, ErrBadIndex},
		{1 << 62, 1, ErrTooLarge},
	} {
		_, err := NewFixedIndexWriter(&out, tc.size, tc.chunk)
		assert.ErrorIs(t, err, tc.want, "size %d chunk %d", tc.size, tc.chunk)
	}

	failing := idxTestFailingWriter{}
	w, err = NewFixedIndexWriter(failing, 5, 4)
	require.NoError(t, err)
	_, err = w.Close()
	assert.ErrorIs(t, err, errIdxTestIO)
}

var errIdxTestIO = errors.New("disk on fire")

type idxTestFailingWriter struct{}

func (idxTestFailingWriter) WriteAt([]byte, int64) (int, error) { return 0, errIdxTestIO }

// idxTestFixedFile builds a fixed index file with the given header values.
func idxTestFixedFile(size, chunk uint64, digests int) []byte {
	b := make([]byte, 4096+32*digests)
	copy(b, fidxMagic[:])
	putLE := func(off int, v uint64) {
		for i := range 8 {
			b[off+i] = byte(v >> (8 * i))
		}
	}
	putLE(64, size)
	putLE(72, chunk)
	return b
}

func TestReadFixedIndexErrors(t *testing.T) {
	badMagic := idxTestFixedFile(10, 4, 3)
	badMagic[0] ^= 1
	for _, tc := range []struct {
		name string
		file []byte
		size int64 // -1: len(file)
		want error
	}{
		{"empty", nil, -1, ErrTruncated},
		{"header cut", idxTestFixedFile(10, 4, 3)[:4000], -1, ErrTruncated},
		{"bad magic", badMagic, -1, ErrBadMagic},
		{"dynamic magic", append(didxMagic[:], make([]byte, 4088)...), -1, ErrBadMagic},
		{"chunk size 0", idxTestFixedFile(10, 0, 3), -1, ErrBadIndex},
		{"image size 0", idxTestFixedFile(0, 4, 0), -1, ErrBadIndex},
		{"one digest missing", idxTestFixedFile(10, 4, 2), -1, ErrTruncated},
		{"one digest too many", idxTestFixedFile(10, 4, 4), -1, ErrBadIndex},
		{"huge claim", idxTestFixedFile(1<<63, 1, 1), -1, ErrTruncated},
		{"reader shorter than its size", idxTestFixedFile(10, 4, 3), 4096 + 32*3 + 0, ErrTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size := tc.size
			r := io.ReaderAt(bytes.NewReader(tc.file))
			if size < 0 {
				size = int64(len(tc.file))
			} else {
				r = bytes.NewReader(tc.file[:len(tc.file)-1]) // the reader lies about its length
			}
			_, err := ReadFixedIndex(r, size)
			assert.ErrorIs(t, err, tc.want)
			var fe *FormatError
			assert.ErrorAs(t, err, &fe)
		})
	}

	_, err := ReadFixedIndex(idxTestFailingReader{}, 4096+32)
	assert.ErrorIs(t, err, errIdxTestIO, "I/O errors come through unchanged")
	_, err = OpenFixedIndex("/nonexistent/x.fidx")
	assert.Error(t, err)
}

type idxTestFailingReader struct{}

func (idxTestFailingReader) ReadAt([]byte, int64) (int, error) { return 0, errIdxTestIO }

func TestFixedIndexOddChunkSize(t *testing.T) {
	// Readers accept any chunk size (upstream does); lookups use division.
	file := idxTestFixedFile(10, 3, 4)
	ix, err := ReadFixedIndex(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	slot, within, ok := ix.ChunkFor(7)
	assert.True(t, ok)
	assert.Equal(t, 2, slot)
	assert.Equal(t, uint64(1), within)
	start, end := ix.ChunkRange(3)
	assert.Equal(t, [2]uint64{9, 10}, [2]uint64{start, end})
}

func TestFixedChecksumZeroValue(t *testing.T) {
	var c FixedChecksum
	assert.Equal(t, sha256.Sum256(nil), c.Sum())
	c.Add(Digest{1})
	assert.Equal(t, sha256.Sum256(append([]byte{1}, make([]byte, 31)...)), c.Sum())
}
