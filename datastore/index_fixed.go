package datastore

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"io"
	"strconv"
	"time"
)

// FixedChunkSize is the chunk size of every fixed index a PBS server writes.
const FixedChunkSize = 4 << 20

// FixedIndex is a parsed fixed index (.fidx, spec 5.3): the digests of the
// equally sized chunks of an image, slot i covering bytes
// [i*ChunkSize, min((i+1)*ChunkSize, Size)).
//
// The digest list (32 bytes per chunk, 256 KiB for a 32 GiB image) is read
// once when the index is opened, so lookups are O(1) and never fail. For
// images so large that this matters, FixedIndexReader reads digests on
// demand instead.
type FixedIndex struct {
	fidxHeader
	digests []byte // count*32 bytes
}

// fidxHeader is what the header of a fixed index says; FixedIndex and
// FixedIndexReader share it and its methods.
type fidxHeader struct {
	hdr       idxHeader
	size      uint64
	chunkSize uint64
	count     int
}

// fidxReadHeader reads and checks the header of a fixed index of size
// bytes: magic, chunk size and image size not zero, and size exactly
// 4096 + 32*ceil(image size / chunk size). Reserved header bytes are not
// checked, as upstream does not.
func fidxReadHeader(r io.ReaderAt, size int64) (fidxHeader, error) {
	const what = "fixed index"
	buf, hdr, err := idxReadHeader(r, size, fidxMagic, what)
	if err != nil {
		return fidxHeader{}, err
	}
	h := fidxHeader{
		hdr:       hdr,
		size:      binary.LittleEndian.Uint64(buf[idxOffSize:]),
		chunkSize: binary.LittleEndian.Uint64(buf[idxOffChunk:]),
	}
	switch {
	case h.chunkSize == 0:
		return fidxHeader{}, formatErr(what, idxOffChunk, ErrBadIndex, "chunk size 0")
	case h.size == 0:
		// Upstream cannot map an empty digest list and refuses such files.
		return fidxHeader{}, formatErr(what, idxOffSize, ErrBadIndex, "image size 0")
	}
	count := (h.size-1)/h.chunkSize + 1
	body := uint64(size - IndexHeaderSize)
	if count > body/32 {
		return fidxHeader{}, formatErr(what, size, ErrTruncated, "header implies "+strconv.FormatUint(count, 10)+
			" digests, the file has room for "+strconv.FormatUint(body/32, 10))
	}
	if body != count*32 {
		return fidxHeader{}, formatErr(what, size, ErrBadIndex, "file has "+strconv.FormatInt(size, 10)+
			" bytes, header implies "+strconv.FormatUint(IndexHeaderSize+count*32, 10))
	}
	h.count = int(count)
	return h, nil
}

// ReadFixedIndex reads a fixed index of size bytes from r. It checks the
// magic, that chunk size and image size are not zero and that size is
// exactly 4096 + 32*ceil(image size / chunk size), before reading the
// digests in bounded pieces. Reserved header bytes are not checked, as
// upstream does not.
func ReadFixedIndex(r io.ReaderAt, size int64) (*FixedIndex, error) {
	h, err := fidxReadHeader(r, size)
	if err != nil {
		return nil, err
	}
	digests, err := idxReadBody(r, int64(h.count)*32, "fixed index")
	if err != nil {
		return nil, err
	}
	return &FixedIndex{fidxHeader: h, digests: digests}, nil
}

// OpenFixedIndex reads the fixed index file at path. The file is closed
// before OpenFixedIndex returns.
func OpenFixedIndex(path string) (*FixedIndex, error) {
	return idxOpenFile(path, ReadFixedIndex)
}

// Close releases the index. The digests are held in memory, so it has
// nothing to release today; it exists so that callers can treat indexes as
// resources and the representation can change.
func (ix *FixedIndex) Close() error { return nil }

// UUID returns the random UUID the writer stored in the header.
func (h fidxHeader) UUID() [16]byte { return h.hdr.uuid }

// CTime returns the creation time stored in the header.
func (h fidxHeader) CTime() time.Time { return time.Unix(h.hdr.ctime, 0).UTC() }

// Size returns the image size in bytes.
func (h fidxHeader) Size() uint64 { return h.size }

// ChunkSize returns the size of every chunk but the last.
func (h fidxHeader) ChunkSize() uint64 { return h.chunkSize }

// Count returns the number of chunks (digest slots).
func (h fidxHeader) Count() int { return h.count }

// Digest returns the digest of slot i; it panics if i is out of range, like
// a slice index.
func (ix *FixedIndex) Digest(i int) Digest {
	return Digest(ix.digests[i*32 : i*32+32])
}

// ChunkRange returns the byte range [start, end) of the image slot i covers.
func (h fidxHeader) ChunkRange(i int) (start, end uint64) {
	start = uint64(i) * h.chunkSize
	return start, min(start+h.chunkSize, h.size)
}

// ChunkFor returns the slot holding image offset and the position within
// that chunk; ok is false when offset is at or beyond Size.
func (h fidxHeader) ChunkFor(offset uint64) (i int, within uint64, ok bool) {
	if offset >= h.size {
		return 0, 0, false
	}
	return int(offset / h.chunkSize), offset % h.chunkSize, true
}

// StoredChecksum returns the checksum stored in the header. Upstream readers
// do not trust it; compare Checksum with the manifest instead.
func (h fidxHeader) StoredChecksum() [32]byte { return h.hdr.csum }

// Checksum recomputes the index checksum from the digests: SHA-256 over all
// digests in slot order. Together with Size it is what the manifest lists.
func (ix *FixedIndex) Checksum() [32]byte { return sha256.Sum256(ix.digests) }

// FixedChecksum computes a fixed index checksum while digests stream by.
// The zero value is ready to use.
type FixedChecksum struct {
	h hash.Hash
}

// Add feeds the digest of the next slot.
func (c *FixedChecksum) Add(d Digest) {
	if c.h == nil {
		c.h = sha256.New()
	}
	c.h.Write(d[:])
}

// Sum returns the checksum of the digests added so far.
func (c *FixedChecksum) Sum() [32]byte {
	if c.h == nil {
		return sha256.Sum256(nil)
	}
	var out [32]byte
	c.h.Sum(out[:0])
	return out
}
