package datastore

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blobTestText is compressible data: repetitive text.
func blobTestText(n int) []byte {
	line := []byte("proxkit blob test line, compressible and boring\n")
	return bytes.Repeat(line, n/len(line)+1)[:n]
}

// blobTestRaw builds an unencrypted blob around payload with a correct CRC.
func blobTestRaw(kind BlobKind, payload []byte) []byte {
	m := kind.blobMagic()
	b := append(append(m[:], 0, 0, 0, 0), payload...)
	binary.LittleEndian.PutUint32(b[8:], crc32.ChecksumIEEE(payload))
	return b
}

func TestBlobRoundTrip(t *testing.T) {
	enc, dec := NewBlobEncoder(), NewBlobDecoder()
	var blob, out []byte
	for _, tc := range []struct {
		name     string
		data     []byte
		compress bool
		kind     BlobKind
	}{
		{"empty", nil, true, BlobUncompressed},
		{"empty plain", []byte{}, false, BlobUncompressed},
		{"one byte", []byte{7}, true, BlobUncompressed},
		{"text compressed", blobTestText(100000), true, BlobCompressed},
		{"text not asked to compress", blobTestText(100000), false, BlobUncompressed},
		{"zeros 4 MiB", make([]byte, 4<<20), true, BlobCompressed},
		{"random stays uncompressed", formatTestPRNG(99, 1<<20), true, BlobUncompressed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			blob, err = enc.Encode(blob, tc.data, tc.compress)
			require.NoError(t, err)
			h, err := ParseBlobHeader(blob)
			require.NoError(t, err)
			assert.Equal(t, tc.kind, h.Kind)
			assert.NoError(t, CheckBlobCRC(blob))
			assert.LessOrEqual(t, len(blob), len(tc.data)+12, "never more than the header longer")
			out, err = dec.Decode(out, blob)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(tc.data, out))
			out, err = dec.DecodeChunk(out, blob, ComputeDigest(tc.data), len(tc.data))
			require.NoError(t, err)
			assert.True(t, bytes.Equal(tc.data, out))
		})
	}
}

// TestBlobCompressOnlyIfStrictlySmaller checks the spec rule on data of
// every degree of compressibility: a compressed blob's frame is shorter than
// the data, and an uncompressed one is chosen only when zstd did not win.
func TestBlobCompressOnlyIfStrictlySmaller(t *testing.T) {
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1))
	require.NoError(t, err)
	enc := NewBlobEncoder()
	rng := rand.New(rand.NewPCG(1, 2))
	sawBoth := map[BlobKind]bool{}
	for i := range 200 {
		n := rng.IntN(3000)
		data := formatTestPRNG(uint64(i+1), n)
		for j := range data { // make a random share of the bytes repetitive
			if rng.IntN(100) < i/2 {
				data[j] = 'a'
			}
		}
		blob, err := enc.Encode(nil, data, true)
		require.NoError(t, err)
		h, err := ParseBlobHeader(blob)
		require.NoError(t, err)
		sawBoth[h.Kind] = true
		z := zenc.EncodeAll(data, nil)
		if h.Kind == BlobCompressed {
			assert.Less(t, len(blob)-12, len(data))
		} else {
			assert.GreaterOrEqual(t, len(z), len(data), "zstd would have been smaller for %d bytes", n)
			assert.Equal(t, data, blob[12:])
		}
	}
	assert.True(t, sawBoth[BlobCompressed] && sawBoth[BlobUncompressed])
}

func TestBlobTooLarge(t *testing.T) {
	_, err := NewBlobEncoder().Encode(nil, make([]byte, MaxBlobSize+1), true)
	assert.ErrorIs(t, err, ErrTooLarge)
}

func TestParseBlobHeaderErrors(t *testing.T) {
	enc := append([]byte(nil), blobMagicEncrypted[:]...)
	for _, tc := range []struct {
		name string
		blob []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"magic only partly", blobMagicUncompressed[:5], ErrTruncated},
		{"no crc", blobMagicUncompressed[:], ErrTruncated},
		{"unknown magic", []byte("not a blob at all"), ErrBadMagic},
		{"zero magic", make([]byte, 12), ErrBadMagic},
		{"encrypted header cut", append(enc, make([]byte, 30)...), ErrTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBlobHeader(tc.blob)
			assert.ErrorIs(t, err, tc.want)
			var fe *FormatError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "blob", fe.What)
			_, err = DecodeBlob(tc.blob)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, CheckBlobCRC(tc.blob), tc.want)
		})
	}
}

func TestBlobChecksum(t *testing.T) {
	blob, err := EncodeBlob(blobTestText(5000), true)
	require.NoError(t, err)
	blob[12] ^= 1 // the zstd magic
	err = CheckBlobCRC(blob)
	assert.ErrorIs(t, err, ErrChecksum)
	var fe *FormatError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, int64(8), fe.Offset)
	_, err = DecodeBlob(blob)
	assert.ErrorIs(t, err, ErrChecksum)

	// With the CRC fixed, the broken frame itself is reported.
	require.NoError(t, FixBlobCRC(blob))
	require.NoError(t, CheckBlobCRC(blob))
	_, err = DecodeBlob(blob)
	assert.ErrorIs(t, err, ErrCorrupt)
	assert.ErrorIs(t, FixBlobCRC([]byte("short")), ErrTruncated)
}

func TestBlobDecodeChunkMismatch(t *testing.T) {
	dec := NewBlobDecoder()
	data := blobTestText(70000)
	blob, err := EncodeBlob(data, true)
	require.NoError(t, err)
	d := ComputeDigest(data)

	_, err = dec.DecodeChunk(nil, blob, d, len(data)-1)
	assert.ErrorIs(t, err, ErrSizeMismatch, "more data than expected")
	_, err = dec.DecodeChunk(nil, blob, d, len(data)+1)
	assert.ErrorIs(t, err, ErrSizeMismatch, "less data than expected")
	_, err = dec.DecodeChunk(nil, blob, Digest{1}, len(data))
	assert.ErrorIs(t, err, ErrDigestMismatch)
	_, err = dec.DecodeChunk(nil, blob, d, -1)
	assert.NoError(t, err)

	plain := blobTestRaw(BlobUncompressed, data)
	_, err = dec.DecodeChunk(nil, plain, d, 10)
	assert.ErrorIs(t, err, ErrSizeMismatch)
	_, err = dec.DecodeChunk(nil, plain, d, len(data))
	assert.NoError(t, err)

	enc := append(blobMagicEncrypted[:], make([]byte, 40)...)
	require.NoError(t, FixBlobCRC(enc))
	_, err = dec.DecodeChunk(nil, enc, d, -1)
	assert.ErrorIs(t, err, ErrEncrypted)
}

// TestBlobDecodeForeignFrames decodes frames as other zstd writers make
// them: streamed without a content size (as upstream's blob encoder does),
// and several frames back to back.
func TestBlobDecodeForeignFrames(t *testing.T) {
	data := blobTestText(300000)
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedDefault))
	require.NoError(t, err)
	_, err = zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	var zh zstd.Header
	require.NoError(t, zh.Decode(buf.Bytes()))
	require.False(t, zh.HasFCS, "streamed frame without content size")

	dec := NewBlobDecoder()
	out, err := dec.DecodeChunk(nil, blobTestRaw(BlobCompressed, buf.Bytes()), ComputeDigest(data), len(data))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, out))
	_, err = dec.DecodeChunk(nil, blobTestRaw(BlobCompressed, buf.Bytes()), ComputeDigest(data), 1000)
	assert.ErrorIs(t, err, ErrSizeMismatch)

	zenc, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	two := zenc.EncodeAll(data[:1000], nil)
	two = zenc.EncodeAll(data[1000:], two)
	out, err = dec.Decode(nil, blobTestRaw(BlobCompressed, two))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, out))

	_, err = dec.Decode(nil, blobTestRaw(BlobCompressed, append(two, "garbage"...)))
	assert.ErrorIs(t, err, ErrCorrupt)
	_, err = dec.Decode(nil, blobTestRaw(BlobCompressed, []byte("no zstd frame")))
	assert.ErrorIs(t, err, ErrCorrupt)
	_, err = dec.Decode(nil, blobTestRaw(BlobCompressed, nil))
	assert.ErrorIs(t, err, ErrCorrupt, "no frame at all: upstream fails with \"incomplete frame\"")
	_, err = dec.Decode(nil, blobTestRaw(BlobCompressed, two[:len(two)-3]))
	assert.ErrorIs(t, err, ErrCorrupt, "truncated frame")
}

// blobTestHostileFrame is a 100-byte compressed blob whose zstd frame
// header claims fcs bytes of content.
func blobTestHostileFrame(fcs uint64) []byte {
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xe0} // magic; single segment, 8-byte content size
	frame = binary.LittleEndian.AppendUint64(frame, fcs)
	frame = append(frame, 0x01, 0x00, 0x00) // last block: raw, empty
	frame = append(frame, make([]byte, 100-12-len(frame))...)
	return blobTestRaw(BlobCompressed, frame)
}

// TestBlobDecodeBoundedAllocation: a frame header's claim is checked against
// the limits and the input length before anything is allocated for it.
func TestBlobDecodeBoundedAllocation(t *testing.T) {
	dec := NewBlobDecoder()
	_, err := dec.Decode(nil, blobTestRaw(BlobCompressed, []byte{0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00}))
	require.NoError(t, err, "warm up the zstd decoder")
	for _, tc := range []struct {
		name string
		fcs  uint64
		want error
	}{
		{"4 GiB claim", 4 << 30, ErrTooLarge},
		{"claim above MaxBlobSize", MaxBlobSize + 1, ErrTooLarge},
		{"100 MiB claim from 100 bytes", 100 << 20, ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blob := blobTestHostileFrame(tc.fcs)
			require.Len(t, blob, 100)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := dec.Decode(nil, blob)
			runtime.ReadMemStats(&after)
			assert.ErrorIs(t, err, tc.want)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "allocated on the frame's word")
		})
	}
	// A chunk decode never exceeds the expected size either.
	_, err = dec.DecodeChunk(nil, blobTestHostileFrame(3<<20), Digest{}, 1<<20)
	assert.ErrorIs(t, err, ErrSizeMismatch)
}

func TestBlobKindMethods(t *testing.T) {
	for _, tc := range []struct {
		kind      BlobKind
		enc, comp bool
		mode      CryptMode
		hdr       int
		name      string
	}{
		{BlobUncompressed, false, false, CryptNone, 12, "uncompressed"},
		{BlobCompressed, false, true, CryptNone, 12, "compressed"},
		{BlobEncrypted, true, false, CryptEncrypt, 44, "encrypted"},
		{BlobEncryptedCompressed, true, true, CryptEncrypt, 44, "encrypted+compressed"},
		{0, false, false, CryptNone, 0, "BlobKind(0)"},
	} {
		assert.Equal(t, tc.enc, tc.kind.Encrypted(), tc.name)
		assert.Equal(t, tc.comp, tc.kind.Compressed(), tc.name)
		assert.Equal(t, tc.mode, tc.kind.CryptMode(), tc.name)
		assert.Equal(t, tc.hdr, tc.kind.HeaderSize(), tc.name)
		assert.Equal(t, tc.name, tc.kind.String())
	}
	// The magic numbers are the first bytes of SHA-256 over the labels.
	for kind, label := range map[BlobKind]string{
		BlobUncompressed:        "Proxmox Backup uncompressed blob v1.0",
		BlobCompressed:          "Proxmox Backup zstd compressed blob v1.0",
		BlobEncrypted:           "Proxmox Backup encrypted blob v1.0",
		BlobEncryptedCompressed: "Proxmox Backup zstd compressed encrypted blob v1.0",
	} {
		sum := ComputeDigest([]byte(label))
		assert.Equal(t, sum[:8], func() []byte { m := kind.blobMagic(); return m[:] }(), label)
	}
	// The retired signed variants (PBS before 0.8.10) are refused as
	// unknown magic, but named.
	for label, magic := range map[string][8]byte{
		"Proxmox Backup authenticated blob v1.0":                 blobMagicAuthenticated,
		"Proxmox Backup zstd compressed authenticated blob v1.0": blobMagicAuthenticatedCompressed,
	} {
		sum := ComputeDigest([]byte(label))
		assert.Equal(t, sum[:8], magic[:], label)
		blob := append(magic[:], make([]byte, 44)...)
		_, err := ParseBlobHeader(blob)
		assert.ErrorIs(t, err, ErrBadMagic, label)
		assert.Contains(t, err.Error(), "authenticated", label)
		_, err = DecodeBlob(blob)
		assert.ErrorIs(t, err, ErrBadMagic, label)
	}
	assert.True(t, CryptSignOnly.Valid())
	assert.False(t, CryptMode("plain").Valid())
}
