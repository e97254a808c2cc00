package pbs

import (
	"bytes"
	"encoding/hex"

	"github.com/klauspost/compress/zstd"

	"github.com/proxkit/proxkit/datastore"
)

// Sampling of CompressAuto: a chunk longer than sampleMinLen is compressed
// only if sampleCount pieces of sampleLen bytes, spread over it, shrink to
// less than sampleRatio of their size with zstd. Trying zstd on a whole
// incompressible 4 MiB chunk costs more than hashing it; the samples cost
// about 1.5 % of that.
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
// blob (datastore.SealUncompressedDigest).
func (e *chunkEncoder) encodeChunk(chunk []byte, pool *bufferPool, mode Compression, sealed bool) (blob []byte, inPlace bool, err error) {
	data := chunk[datastore.BlobHeaderSize:]
	if mode == CompressAlways || (mode == CompressAuto && e.worthCompressing(data)) {
		blob, err := e.blob.Encode(pool.get(len(data))[:0], data, true)
		if err != nil {
			pool.put(blob)
			return nil, false, err
		}
		if h, err := datastore.ParseBlobHeader(blob); err == nil && h.Kind == datastore.BlobCompressed {
			return blob, false, nil
		}
		pool.put(blob) // zstd did not help: the encoder copied the data; seal the original instead
	}
	if sealed {
		return chunk, true, nil
	}
	if err := datastore.SealUncompressed(chunk); err != nil {
		return nil, false, err
	}
	return chunk, true, nil
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
