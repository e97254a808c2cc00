package datastore

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeChunkViewUncompressedIsAView(t *testing.T) {
	data := formatTestPRNG(3, 100000)
	blob, err := EncodeBlob(data, true)
	require.NoError(t, err)
	h, err := ParseBlobHeader(blob)
	require.NoError(t, err)
	require.Equal(t, BlobUncompressed, h.Kind, "random data stays uncompressed")

	out, err := NewBlobDecoder().DecodeChunkView(make([]byte, 10), blob, ComputeDigest(data), len(data))
	require.NoError(t, err)
	assert.Equal(t, data, out)
	assert.Same(t, &blob[BlobHeaderSize], &out[0], "the data is not copied")
}

func TestDecodeChunkViewCompressedDecodesIntoDst(t *testing.T) {
	data := blobTestText(100000)
	blob, err := EncodeBlob(data, true)
	require.NoError(t, err)
	dst := make([]byte, 0, len(data)+blobDecodeSlack)
	out, err := NewBlobDecoder().DecodeChunkView(dst, blob, ComputeDigest(data), len(data))
	require.NoError(t, err)
	assert.Equal(t, data, out)
	assert.Same(t, &dst[:1][0], &out[0])
}

// TestDecodeChunkViewErrorsAsDecodeChunk: every failure is the one
// DecodeChunk reports, in the same order of checks.
func TestDecodeChunkViewErrorsAsDecodeChunk(t *testing.T) {
	data := formatTestPRNG(4, 5000)
	d := ComputeDigest(data)
	plain := blobTestRaw(BlobUncompressed, data)
	badCRC := bytes.Clone(plain)
	badCRC[8] ^= 1
	enc := append(blobMagicEncrypted[:], make([]byte, 40)...)
	require.NoError(t, FixBlobCRC(enc))
	packed, err := EncodeBlob(blobTestText(5000), true)
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		blob []byte
		want Digest
		size int
		is   error
	}{
		{"ok", plain, d, len(data), nil},
		{"any size", plain, d, -1, nil},
		{"bad crc", badCRC, d, len(data), ErrChecksum},
		{"bad crc and size", badCRC, d, 10, ErrChecksum},
		{"more than wanted", plain, d, len(data) - 1, ErrSizeMismatch},
		{"less than wanted", plain, d, len(data) + 1, ErrSizeMismatch},
		{"digest", plain, Digest{1}, len(data), ErrDigestMismatch},
		{"encrypted", enc, d, -1, ErrEncrypted},
		{"magic", []byte("not a blob at all"), d, -1, ErrBadMagic},
		{"truncated", plain[:10], d, -1, ErrTruncated},
		{"compressed digest", packed, d, 5000, ErrDigestMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, wantErr := NewBlobDecoder().DecodeChunk(nil, tc.blob, tc.want, tc.size)
			out, err := NewBlobDecoder().DecodeChunkView(nil, tc.blob, tc.want, tc.size)
			if tc.is == nil {
				require.NoError(t, wantErr)
				require.NoError(t, err)
				assert.Equal(t, data, out)
				return
			}
			assert.ErrorIs(t, err, tc.is)
			assert.Equal(t, wantErr, err)
		})
	}
}

func TestSealUncompressedDigest(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("x"), formatTestPRNG(5, 3*blobSumPiece+7)} {
		want, err := EncodeBlob(data, false)
		require.NoError(t, err)
		buf := append(make([]byte, BlobHeaderSize), data...)
		d, err := SealUncompressedDigest(buf)
		require.NoError(t, err)
		assert.Equal(t, want, buf)
		assert.Equal(t, ComputeDigest(data), d)
	}
	_, err := SealUncompressedDigest(make([]byte, BlobHeaderSize-1))
	assert.ErrorIs(t, err, ErrTruncated)
}

// FuzzDecodeChunkView: whatever the blob, DecodeChunkView never panics
// and agrees with DecodeChunk, data and error alike.
func FuzzDecodeChunkView(f *testing.F) {
	data := formatTestPRNG(6, 3000)
	f.Add(blobTestRaw(BlobUncompressed, data), true, 3000)
	f.Add(blobTestRaw(BlobUncompressed, data), false, -1)
	f.Add([]byte("short"), false, 1)
	f.Add(append(blobMagicEncrypted[:], make([]byte, 50)...), true, 10)
	if blob, err := EncodeBlob(blobTestText(3000), true); err == nil {
		f.Add(blob, false, 3000)
	}
	view, copying := NewBlobDecoder(), NewBlobDecoder()
	f.Fuzz(func(t *testing.T, blob []byte, fixCRC bool, size int) {
		if fixCRC && len(blob) >= 12 {
			_ = FixBlobCRC(blob)
		}
		var want Digest
		if len(blob) > BlobHeaderSize {
			want = ComputeDigest(blob[BlobHeaderSize:]) // the right digest when uncompressed
		}
		wantOut, wantErr := copying.DecodeChunk(nil, blob, want, size)
		out, err := view.DecodeChunkView(nil, blob, want, size)
		if wantErr != nil {
			formatTestTyped(t, err)
			if err.Error() != wantErr.Error() {
				t.Fatalf("DecodeChunkView: %v, DecodeChunk: %v", err, wantErr)
			}
			return
		}
		if err != nil || !bytes.Equal(out, wantOut) {
			t.Fatalf("DecodeChunkView: %v, data equal: %v", err, bytes.Equal(out, wantOut))
		}
	})
}

func TestEncodeInPlaceAsEncode(t *testing.T) {
	enc := NewBlobEncoder()
	for _, tc := range []struct {
		name     string
		data     []byte
		compress bool
		inPlace  bool
	}{
		{"incompressible", formatTestPRNG(8, 200000), true, true},
		{"compressible", blobTestText(200000), true, false},
		{"not asked to compress", blobTestText(200000), false, true},
		{"empty", nil, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := enc.Encode(nil, tc.data, tc.compress)
			require.NoError(t, err)
			buf := append(make([]byte, BlobHeaderSize), tc.data...)
			blob, inPlace, err := enc.EncodeInPlace(make([]byte, 0, 10), buf, tc.compress)
			require.NoError(t, err)
			assert.Equal(t, tc.inPlace, inPlace)
			assert.Equal(t, want, blob)
			if inPlace {
				assert.Same(t, &buf[0], &blob[0], "the data is not copied")
			}
		})
	}
	_, _, err := enc.EncodeInPlace(nil, make([]byte, BlobHeaderSize-1), true)
	assert.ErrorIs(t, err, ErrTruncated)
}

// TestEncodeIntoOverlappingDst: passing back a blob that aliases the input
// (the in-place result, or the data itself) as dst must not corrupt the
// input or the blob.
func TestEncodeIntoOverlappingDst(t *testing.T) {
	enc := NewBlobEncoder()
	for name, data := range map[string][]byte{
		"incompressible": formatTestPRNG(10, 300000),
		"compressible":   blobTestText(300000),
	} {
		t.Run(name, func(t *testing.T) {
			want, err := enc.Encode(nil, data, true)
			require.NoError(t, err)

			buf := append(make([]byte, BlobHeaderSize), data...)
			var dst []byte
			for round := range 3 {
				blob, _, err := enc.EncodeInPlace(dst, buf, true)
				require.NoError(t, err)
				assert.Equal(t, want, blob, "round %d", round)
				assert.Equal(t, data, buf[BlobHeaderSize:], "round %d: input intact", round)
				dst = blob // in place, this is buf itself
			}

			in := bytes.Clone(data)
			blob, err := enc.Encode(in[:0], in, true)
			require.NoError(t, err)
			assert.Equal(t, want, blob)
			assert.Equal(t, data, in, "input intact")
		})
	}
	assert.False(t, blobOverlaps(make([]byte, 0, 8), make([]byte, 8)))
	whole := make([]byte, 16)
	assert.True(t, blobOverlaps(whole[:0], whole[8:]), "capacity counts")
	assert.False(t, blobOverlaps(whole[:4:8], whole[8:]))
}

func TestNewBlobBuffer(t *testing.T) {
	for _, size := range []int{0, 1, 100, 4 << 20} {
		buf := NewBlobBuffer(size)
		require.Len(t, buf, BlobHeaderSize+size)
		if size > 0 {
			addr := uintptr(unsafe.Pointer(&buf[BlobHeaderSize]))
			assert.Zero(t, addr%16, "size %d: data on a 16-byte boundary", size)
		}
		copy(buf[BlobHeaderSize:], blobTestText(size))
		blob, inPlace, err := NewBlobEncoder().EncodeInPlace(nil, buf, false)
		require.NoError(t, err)
		assert.True(t, inPlace)
		want, err := EncodeBlob(blobTestText(size), false)
		require.NoError(t, err)
		assert.Equal(t, want, blob)
	}
}

func TestDecodeViewAsDecode(t *testing.T) {
	dec := NewBlobDecoder()
	plain := blobTestRaw(BlobUncompressed, formatTestPRNG(9, 70000))
	out, err := dec.DecodeView(nil, plain)
	require.NoError(t, err)
	assert.Same(t, &plain[BlobHeaderSize], &out[0], "the data is not copied")
	assert.Equal(t, plain[BlobHeaderSize:], out)

	packed, err := EncodeBlob(blobTestText(70000), true)
	require.NoError(t, err)
	out, err = dec.DecodeView(nil, packed)
	require.NoError(t, err)
	assert.Equal(t, blobTestText(70000), out)

	bad := bytes.Clone(plain)
	bad[20] ^= 1
	_, wantErr := dec.Decode(nil, bad)
	_, err = dec.DecodeView(nil, bad)
	assert.ErrorIs(t, err, ErrChecksum)
	assert.Equal(t, wantErr, err)
	_, err = dec.DecodeView(nil, []byte("no blob"))
	assert.ErrorIs(t, err, ErrTruncated)
}

// FuzzDecodeView: whatever the blob, DecodeView never panics and agrees
// with Decode, data and error alike.
func FuzzDecodeView(f *testing.F) {
	f.Add(blobTestRaw(BlobUncompressed, []byte("hello")), true)
	f.Add([]byte("short"), false)
	f.Add(append(blobMagicEncrypted[:], make([]byte, 50)...), true)
	if blob, err := EncodeBlob(blobTestText(3000), true); err == nil {
		f.Add(blob, false)
	}
	view, copying := NewBlobDecoder(), NewBlobDecoder()
	f.Fuzz(func(t *testing.T, blob []byte, fixCRC bool) {
		if fixCRC && len(blob) >= 12 {
			_ = FixBlobCRC(blob)
		}
		wantOut, wantErr := copying.Decode(nil, blob)
		out, err := view.DecodeView(nil, blob)
		if wantErr != nil {
			formatTestTyped(t, err)
			if err.Error() != wantErr.Error() {
				t.Fatalf("DecodeView: %v, Decode: %v", err, wantErr)
			}
			return
		}
		if err != nil || !bytes.Equal(out, wantOut) {
			t.Fatalf("DecodeView: %v, data equal: %v", err, bytes.Equal(out, wantOut))
		}
	})
}

// TestDecodeIntoOverlappingDst decodes an uncompressed blob into a dst that
// shares its memory: starting before the payload (where a copy in pieces
// would still work) and inside it, so that writing the output overwrites
// payload bytes not yet read.
func TestDecodeIntoOverlappingDst(t *testing.T) {
	data := formatTestPRNG(11, 300000)
	blob, err := EncodeBlob(data, false)
	require.NoError(t, err)
	dec := NewBlobDecoder()
	for _, at := range []int{0, BlobHeaderSize + 1000, BlobHeaderSize + 200000} {
		big := make([]byte, 2*len(blob))
		src := big[:len(blob)]
		copy(src, blob)
		out, err := dec.Decode(big[at:at], src)
		require.NoError(t, err, "dst at %d", at)
		assert.Equal(t, data, out, "dst at %d", at)
	}
}
