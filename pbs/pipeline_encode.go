package pbs

import (
	"bytes"
	"encoding/hex"

	"github.com/klauspost/compress/zstd"

	"github.com/proxkit/proxkit/datastore"
)

// Sampling of CompressAuto: a chunk longer than sampleMinLen is compressed
// only if sampleCount pieces of sampleLen bytes, spread over it, shrink to
// less than sampleRatio of their size with zstd. Upstream tries zstd on
// every chunk; on an incompressible 4 MiB chunk that costs about half of
// hashing it (zstd level 1 ~2 GB/s against SHA-256 ~1 GB/s here, and the
// blob CRC on top), the samples about 0.3 % of the hash (14 us per chunk).
// The stored result differs only for chunks whose samples do not compress
// but which would as a whole, which are sent uncompressed (valid either
// way); CompressAlways does what upstream does.
const (
	sampleLen    = 16 << 10
	sampleCount  = 4
	sampleMinLen = 4 * sampleCount * sampleLen
	sampleRatio  = 0.97
)

// chunkEncoder is the per-worker state for encoding chunks: one blob
// encoder (with its zstd encoder) and one zstd encoder for samples. It is
// not safe for concurrent use.
type chunkEncoder struct {
	blob    *datastore.BlobEncoder
	probe   *zstd.Encoder
	scratch []byte
	zeros   []byte
}

func newChunkEncoder() *chunkEncoder {
	return &chunkEncoder{blob: datastore.NewBlobEncoder()}
}

// encodeChunk turns chunk, blob header room followed by the plain data,
// into the chunk's DataBlob: compressed into a buffer from pool when the
// mode asks for it and zstd makes it smaller, else uncompressed in place,
// chunk itself (inPlace). sealed says chunk already is the uncompressed
// blob (datastore.SealUncompressedDigest); tried, that zstd was tried.
func (e *chunkEncoder) encodeChunk(chunk []byte, pool *bufferPool, mode Compression, sealed bool) (blob []byte, inPlace, tried bool, err error) {
	data := chunk[datastore.BlobHeaderSize:]
	if mode != CompressAlways && (mode != CompressAuto || !e.worthCompressing(data)) {
		if !sealed {
			err = datastore.SealUncompressed(chunk)
		}
		return chunk, err == nil, false, err
	}
	out := pool.get(len(data))
	blob, inPlace, err = e.blob.EncodeInPlace(out, chunk, true)
	if err != nil || inPlace {
		pool.put(out)
	}
	return blob, inPlace, true, err
}

// encode appends the DataBlob of data to dst[:0].
func (e *chunkEncoder) encode(dst, data []byte, mode Compression) ([]byte, error) {
	compress := mode == CompressAlways || (mode == CompressAuto && e.worthCompressing(data))
	return e.blob.Encode(dst, data, compress)
}

// worthCompressing guesses from samples whether zstd shrinks data.
func (e *chunkEncoder) worthCompressing(data []byte) bool {
	if len(data) < sampleMinLen {
		return true
	}
	if e.probe == nil {
		z, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderCRC(false),
			zstd.WithEncoderConcurrency(1),
			zstd.WithLowerEncoderMem(true),
		)
		if err != nil {
			return true // let the blob encoder try (and report) it
		}
		e.probe = z
	}
	step := (len(data) - sampleLen) / (sampleCount - 1)
	packed := 0
	for i := range sampleCount {
		off := i * step
		e.scratch = e.probe.EncodeAll(data[off:off+sampleLen], e.scratch[:0])
		packed += len(e.scratch)
	}
	return float64(packed) < sampleRatio*float64(sampleCount*sampleLen)
}

// allZero reports whether every byte of b is zero.
func (e *chunkEncoder) allZero(b []byte) bool {
	if e.zeros == nil {
		e.zeros = make([]byte, 64<<10)
	}
	for len(b) > 0 {
		n := min(len(b), len(e.zeros))
		if !bytes.Equal(b[:n], e.zeros[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}

// zeroChunkDigest is the digest of a 4 MiB chunk of zeros (unencrypted),
// which pbs-protocol.md appendix A lists.
const zeroChunkDigestHex = "bb9f8df61474d25e71fa00722318cd387396ca1736605e1248821cc0de3d3af8"

func zeroChunkDigest() datastore.Digest {
	var d datastore.Digest
	_, _ = hex.Decode(d[:], []byte(zeroChunkDigestHex)) // a constant, checked by a test
	return d
}
