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
// once when the index is opened, so lookups are O(1) and never fail.
type FixedIndex struct {
	hdr       idxHeader
	size      uint64
	chunkSize uint64
	count     int
	digests   []byte // count*32 bytes
}

// ReadFixedIndex reads a fixed index of size bytes from r. It checks the
// magic, that chunk size and image size are not zero and that size is
// exactly 4096 + 32*ceil(image size / chunk size), before reading the
// digests in bounded pieces. Reserved header bytes are not checked, as
// upstream does not.
func ReadFixedIndex(r io.ReaderAt, size int64) (*FixedIndex, error) {
	const what = "fixed index"
	buf, hdr, err := idxReadHeader(r, size, fidxMagic, what)
	if err != nil {
		return nil, err
	}
	ix := &FixedIndex{
		hdr:       hdr,
		size:      binary.LittleEndian.Uint64(buf[idxOffSize:]),
		chunkSize: binary.LittleEndian.Uint64(buf[idxOffChunk:]),
	}
	switch {
	case ix.chunkSize == 0:
		return nil, formatErr(what, idxOffChunk, ErrBadIndex, "chunk size 0")
	case ix.size == 0:
		// Upstream cannot map an empty digest list and refuses such files.
		return nil, formatErr(what, idxOffSize, ErrBadIndex, "image size 0")
	}
	count := (ix.size-1)/ix.chunkSize + 1
	body := uint64(size - IndexHeaderSize)
	if count > body/32 {
		return nil, formatErr(what, size, ErrTruncated, "header implies "+strconv.FormatUint(count, 10)+
			" digests, the file has room for "+strconv.FormatUint(body/32, 10))
	}
	if body != count*32 {
		return nil, formatErr(what, size, ErrBadIndex, "file has "+strconv.FormatInt(size, 10)+
			" bytes, header implies "+strconv.FormatUint(IndexHeaderSize+count*32, 10))
	}
	ix.count = int(count)
	if ix.digests, err = idxReadBody(r, int64(body), what); err != nil {
		return nil, err
	}
	return ix, nil
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
func (ix *FixedIndex) UUID() [16]byte { return ix.hdr.uuid }

// CTime returns the creation time stored in the header.
func (ix *FixedIndex) CTime() time.Time { return time.Unix(ix.hdr.ctime, 0).UTC() }

// Size returns the image size in bytes.
func (ix *FixedIndex) Size() uint64 { return ix.size }

// ChunkSize returns the size of every chunk but the last.
func (ix *FixedIndex) ChunkSize() uint64 { return ix.chunkSize }

// Count returns the number of chunks (digest slots).
func (ix *FixedIndex) Count() int { return ix.count }

// Digest returns the digest of slot i; it panics if i is out of range, like
// a slice index.
func (ix *FixedIndex) Digest(i int) Digest {
	return Digest(ix.digests[i*32 : i*32+32])
}

// ChunkRange returns the byte range [start, end) of the image slot i covers.
func (ix *FixedIndex) ChunkRange(i int) (start, end uint64) {
	start = uint64(i) * ix.chunkSize
	return start, min(start+ix.chunkSize, ix.size)
}

// ChunkFor returns the slot holding image offset and the position within
// that chunk; ok is false when offset is at or beyond Size.
func (ix *FixedIndex) ChunkFor(offset uint64) (i int, within uint64, ok bool) {
	if offset >= ix.size {
		return 0, 0, false
	}
	return int(offset / ix.chunkSize), offset % ix.chunkSize, true
}

// StoredChecksum returns the checksum stored in the header. Upstream readers
// do not trust it; compare Checksum with the manifest instead.
func (ix *FixedIndex) StoredChecksum() [32]byte { return ix.hdr.csum }

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
