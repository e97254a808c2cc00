package datastore

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFixedIndexGoldenRealServer reads drive-scsi0.img.fidx, written by a
// PBS server for a 32 GiB VM disk (../shared/artifacts/README.md).
func TestFixedIndexGoldenRealServer(t *testing.T) {
	path := formatTestShared(t, "artifacts", "drive-scsi0.img.fidx")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, raw, 266240)

	ix, err := OpenFixedIndex(path)
	require.NoError(t, err)
	defer ix.Close()

	assert.Equal(t, uint64(32<<30), ix.Size())
	assert.Equal(t, uint64(FixedChunkSize), ix.ChunkSize())
	assert.Equal(t, 8192, ix.Count())
	want := formatTestDigest(t, "33eeca3bc6062071d601778d5c7f259cace872df54f67a01a34a11fde06378dc")
	assert.Equal(t, [32]byte(want), ix.StoredChecksum())
	assert.Equal(t, [32]byte(want), ix.Checksum(), "checksum = SHA-256 over the digests")
	assert.Equal(t, byte(0x40), ix.UUID()[6]&0xf0, "UUID version 4")
	assert.Equal(t, "2025-04-21", ix.CTime().Format(time.DateOnly))
	assert.Equal(t, make([]byte, 4096-80), raw[80:4096], "reserved header bytes are zero")

	// Streaming checksum over the same digests.
	var c FixedChecksum
	for i := range ix.Count() {
		c.Add(ix.Digest(i))
	}
	assert.Equal(t, ix.Checksum(), c.Sum())

	// Digests are the body, in slot order.
	assert.Equal(t, Digest(raw[4096:4096+32]), ix.Digest(0))
	assert.Equal(t, Digest(raw[len(raw)-32:]), ix.Digest(8191))
	// The backup was encrypted: the zero-chunk digest is keyed.
	zero := formatTestDigest(t, "bb9f8df61474d25e71fa00722318cd387396ca1736605e1248821cc0de3d3af8")
	for i := range ix.Count() {
		require.NotEqual(t, zero, ix.Digest(i))
	}

	// Lookups.
	for _, tc := range []struct {
		off    uint64
		slot   int
		within uint64
	}{
		{0, 0, 0},
		{FixedChunkSize - 1, 0, FixedChunkSize - 1},
		{FixedChunkSize, 1, 0},
		{5*FixedChunkSize + 17, 5, 17},
		{32<<30 - 1, 8191, FixedChunkSize - 1},
	} {
		slot, within, ok := ix.ChunkFor(tc.off)
		require.True(t, ok, tc.off)
		assert.Equal(t, tc.slot, slot, tc.off)
		assert.Equal(t, tc.within, within, tc.off)
	}
	_, _, ok := ix.ChunkFor(32 << 30)
	assert.False(t, ok, "offset == size is outside")
	start, end := ix.ChunkRange(8191)
	assert.Equal(t, uint64(32<<30-FixedChunkSize), start)
	assert.Equal(t, uint64(32<<30), end)

	// The same through an io.ReaderAt, and our writer reproduces the file
	// byte for byte from its header fields and digests.
	ix2, err := ReadFixedIndex(bytes.NewReader(raw), int64(len(raw)))
	require.NoError(t, err)
	assert.Equal(t, ix.Checksum(), ix2.Checksum())

	var out formatTestWriterAt
	w, err := NewFixedIndexWriter(&out, ix.Size(), ix.ChunkSize(), WithIndexUUID(ix.UUID()), WithIndexCTime(ix.CTime()))
	require.NoError(t, err)
	for i := ix.Count() - 1; i >= 0; i-- { // any order
		require.NoError(t, w.SetDigest(i, ix.Digest(i)))
	}
	csum, err := w.Close()
	require.NoError(t, err)
	assert.Equal(t, ix.Checksum(), csum)
	assert.True(t, bytes.Equal(raw, out.buf), "rewritten index differs from the server's")
}

// formatTestWriterAt is an in-memory io.WriterAt (and io.WriteSeeker).
type formatTestWriterAt struct {
	buf []byte
	pos int64
}

func (w *formatTestWriterAt) WriteAt(p []byte, off int64) (int, error) {
	if need := int(off) + len(p); need > len(w.buf) {
		w.buf = append(w.buf, make([]byte, need-len(w.buf))...)
	}
	return copy(w.buf[off:], p), nil
}

func (w *formatTestWriterAt) Write(p []byte) (int, error) {
	n, err := w.WriteAt(p, w.pos)
	w.pos += int64(n)
	return n, err
}

func (w *formatTestWriterAt) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case 0:
		w.pos = off
	case 1:
		w.pos += off
	default:
		w.pos = int64(len(w.buf)) + off
	}
	return w.pos, nil
}
