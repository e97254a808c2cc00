package datastore

import (
	"encoding/binary"
	"strconv"

	"github.com/klauspost/compress/zstd"
)

// BlobEncoder encodes data as DataBlobs (spec 5.1), reusing one zstd encoder
// and its buffers across calls. It is not safe for concurrent use: give each
// worker its own.
type BlobEncoder struct {
	zenc *zstd.Encoder // created on the first compressed blob
}

// NewBlobEncoder returns an encoder for unencrypted blobs.
//
// Encryption is not implemented yet; when it is, keys will come in as
// options of this constructor and the output of the unencrypted path will
// not change.
func NewBlobEncoder() *BlobEncoder {
	return &BlobEncoder{}
}

// Encode appends the blob encoding of data to dst[:0] and returns it. With
// compress set it tries zstd (level 1, like upstream) and keeps the result
// only when it is strictly shorter than data; otherwise, and without
// compress, the blob is uncompressed. Data longer than MaxBlobSize is
// ErrTooLarge. A dst that overlaps data is not written to: a new one is
// allocated.
func (e *BlobEncoder) Encode(dst, data []byte, compress bool) ([]byte, error) {
	if len(data) > MaxBlobSize {
		return dst[:0], formatErr("blob", -1, ErrTooLarge,
			strconv.Itoa(len(data))+" bytes of data, the limit is "+strconv.Itoa(MaxBlobSize))
	}
	dst = blobOwnDst(dst, data)[:0]
	if compress && len(data) > 0 {
		blob, ok, err := e.blobCompress(dst, data)
		if err != nil || ok {
			return blob, err
		}
		dst = blob[:0]
	}
	dst = append(dst, blobZeroHeader...)
	dst, crc := blobAppendCRC(dst, data)
	magic := blobMagicUncompressed
	copy(dst, magic[:])
	binary.LittleEndian.PutUint32(dst[8:12], crc)
	return dst, nil
}

// EncodeInPlace is Encode for data the caller has placed behind
// BlobHeaderSize bytes of room in buf (the data is buf[BlobHeaderSize:];
// NewBlobBuffer makes such a buffer with the data where zstd reads it
// fastest),
// as writers that read chunks straight into their upload buffers do: a
// compressed blob is appended to dst[:0], as Encode writes it; otherwise
// (compress unset, or zstd not strictly shorter) buf itself becomes the
// uncompressed blob, as SealUncompressed makes it, and the data is not
// copied. inPlace says which of the two blob is. A dst that overlaps buf
// (such as a blob returned in place before) is not written to: a new one
// is allocated.
func (e *BlobEncoder) EncodeInPlace(dst, buf []byte, compress bool) (blob []byte, inPlace bool, err error) {
	dst = blobOwnDst(dst, buf)
	if err := blobSealCheck(buf); err != nil {
		return dst[:0], false, err
	}
	if data := buf[blobHeaderSize:]; compress && len(data) > 0 {
		blob, ok, err := e.blobCompress(dst[:0], data)
		if err != nil || ok {
			return blob, false, err
		}
	}
	return blobSeal(buf, BlobUncompressed), true, nil
}

// blobCompress appends the compressed blob of data to dst and reports
// whether it is strictly shorter than data; if not, the bytes appended are
// garbage and the caller falls back to an uncompressed blob.
func (e *BlobEncoder) blobCompress(dst, data []byte) ([]byte, bool, error) {
	zenc, err := e.blobZstd()
	if err != nil {
		return dst, false, err
	}
	dst = append(dst, blobZeroHeader...)
	dst = zenc.EncodeAll(data, dst)
	if len(dst)-blobHeaderSize < len(data) {
		return blobSeal(dst, BlobCompressed), true, nil
	}
	return dst, false, nil
}

// blobZeroHeader reserves the header room before the payload is known.
const blobZeroHeader = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// blobSeal writes magic and CRC into the first 12 bytes of an unencrypted
// blob whose payload is already in place.
func blobSeal(blob []byte, kind BlobKind) []byte {
	return blobSealCRC(blob, kind, crcUpdate(0, blob[blobHeaderSize:]))
}

// blobSealCRC is blobSeal with the payload's CRC already computed.
func blobSealCRC(blob []byte, kind BlobKind, crc uint32) []byte {
	magic := kind.blobMagic()
	copy(blob, magic[:])
	binary.LittleEndian.PutUint32(blob[8:12], crc)
	return blob
}

// blobZstd returns the encoder's zstd encoder, creating it on first use.
func (e *BlobEncoder) blobZstd() (*zstd.Encoder, error) {
	if e.zenc != nil {
		return e.zenc, nil
	}
	// SpeedFastest corresponds to zstd level 1, what upstream uses. No zstd
	// checksum: the blob CRC already covers the frame, and upstream frames
	// carry none either. Concurrency 1: EncodeAll runs on the caller's
	// goroutine, parallelism comes from one BlobEncoder per worker.
	zenc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderCRC(false),
		zstd.WithEncoderConcurrency(1),
	)
	if err != nil {
		return nil, formatErr("blob", -1, ErrCorrupt, "zstd encoder: "+err.Error())
	}
	e.zenc = zenc
	return zenc, nil
}

// EncodeBlob encodes data with a new BlobEncoder. Prefer a long-lived
// BlobEncoder when encoding many blobs.
func EncodeBlob(data []byte, compress bool) ([]byte, error) {
	return NewBlobEncoder().Encode(nil, data, compress)
}
