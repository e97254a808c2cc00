package datastore

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"io"
	"strconv"
	"time"
)

// didxEntrySize is the size of one dynamic index entry: u64le end offset,
// then the digest.
const didxEntrySize = 40

// DynamicIndex is a parsed dynamic index (.didx, spec 5.4): the digests of
// variable-sized chunks of a stream, each entry holding the chunk's end
// offset (exclusive) and its digest.
//
// The entries (40 bytes per chunk) are read once when the index is opened
// and searched in place: ChunkFor is a binary search over the stored end
// offsets, O(log n), with no further I/O. End offsets are not checked for
// order when reading, as upstream does not; an index whose offsets decrease
// yields ranges with start > end and meaningless lookups, never a panic.
// DynamicIndexReader reads entries on demand instead.
type DynamicIndex struct {
	didxHeader
	entries []byte // count*40 bytes, exactly as stored
}

// didxHeader is what the header and length of a dynamic index say;
// DynamicIndex and DynamicIndexReader share it and its methods.
type didxHeader struct {
	hdr   idxHeader
	count int
}

// didxReadHeader reads the header of a dynamic index of size bytes and
// checks its magic and that the body is a whole number of 40-byte entries.
func didxReadHeader(r io.ReaderAt, size int64) (didxHeader, error) {
	const what = "dynamic index"
	_, hdr, err := idxReadHeader(r, size, didxMagic, what)
	if err != nil {
		return didxHeader{}, err
	}
	body := size - IndexHeaderSize
	if body%didxEntrySize != 0 {
		return didxHeader{}, formatErr(what, size, ErrBadIndex,
			"body of "+strconv.FormatInt(body, 10)+" bytes is not a multiple of 40")
	}
	return didxHeader{hdr: hdr, count: int(body / didxEntrySize)}, nil
}

// ReadDynamicIndex reads a dynamic index of size bytes from r. It checks the
// magic and that the body is a whole number of 40-byte entries before reading
// them in bounded pieces.
func ReadDynamicIndex(r io.ReaderAt, size int64) (*DynamicIndex, error) {
	h, err := didxReadHeader(r, size)
	if err != nil {
		return nil, err
	}
	entries, err := idxReadBody(r, int64(h.count)*didxEntrySize, "dynamic index")
	if err != nil {
		return nil, err
	}
	return &DynamicIndex{didxHeader: h, entries: entries}, nil
}

// OpenDynamicIndex reads the dynamic index file at path. The file is closed
// before OpenDynamicIndex returns.
func OpenDynamicIndex(path string) (*DynamicIndex, error) {
	return idxOpenFile(path, ReadDynamicIndex)
}

// Close releases the index. The entries are held in memory, so it has
// nothing to release today.
func (ix *DynamicIndex) Close() error { return nil }

// UUID returns the random UUID the writer stored in the header.
func (h didxHeader) UUID() [16]byte { return h.hdr.uuid }

// CTime returns the creation time stored in the header. (Upstream's reader
// reports the time of opening instead; nothing there depends on it.)
func (h didxHeader) CTime() time.Time { return time.Unix(h.hdr.ctime, 0).UTC() }

// Count returns the number of chunks.
func (h didxHeader) Count() int { return h.count }

// StoredChecksum returns the checksum stored in the header.
func (h didxHeader) StoredChecksum() [32]byte { return h.hdr.csum }

// Size returns the stream size: the end offset of the last chunk, 0 for an
// empty index.
func (ix *DynamicIndex) Size() uint64 {
	if ix.count == 0 {
		return 0
	}
	return ix.didxEnd(ix.count - 1)
}

// didxEnd returns the stored end offset of entry i.
func (ix *DynamicIndex) didxEnd(i int) uint64 {
	return binary.LittleEndian.Uint64(ix.entries[i*didxEntrySize:])
}

// Entry returns chunk i: its byte range [start, end) in the stream and its
// digest. It panics if i is out of range, like a slice index.
func (ix *DynamicIndex) Entry(i int) (start, end uint64, d Digest) {
	e := ix.entries[i*didxEntrySize : (i+1)*didxEntrySize]
	if i > 0 {
		start = ix.didxEnd(i - 1)
	}
	return start, binary.LittleEndian.Uint64(e), Digest(e[8:])
}

// ChunkFor returns the chunk holding stream offset: the first entry whose
// end offset is greater than offset. ok is false when offset is at or
// beyond Size.
func (ix *DynamicIndex) ChunkFor(offset uint64) (i int, ok bool) {
	i, _ = didxSearch(ix.count, offset, func(k int) (uint64, error) { return ix.didxEnd(k), nil })
	return i, i < ix.count
}

// didxSearch is the binary search of ChunkFor over count entries whose end
// offsets endAt returns: the first entry with end > offset (count if
// none), in O(log count) calls of endAt.
func didxSearch(count int, offset uint64, endAt func(int) (uint64, error)) (int, error) {
	lo, hi := 0, count
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		end, err := endAt(mid)
		if err != nil {
			return 0, err
		}
		if end > offset {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// Checksum recomputes the index checksum, SHA-256 over the entries exactly as
// stored (u64le end || digest, in order). Together with Size it is what the
// manifest lists. The error is always nil while entries are held in memory.
func (ix *DynamicIndex) Checksum() ([32]byte, error) {
	return sha256.Sum256(ix.entries), nil
}

// DynamicChecksum computes a dynamic index checksum while entries stream by.
// The zero value is ready to use.
type DynamicChecksum struct {
	h hash.Hash
}

// Add feeds the next entry: the chunk's end offset and its digest.
func (c *DynamicChecksum) Add(end uint64, d Digest) {
	if c.h == nil {
		c.h = sha256.New()
	}
	var e [didxEntrySize]byte
	binary.LittleEndian.PutUint64(e[:], end)
	copy(e[8:], d[:])
	c.h.Write(e[:])
}

// Sum returns the checksum of the entries added so far.
func (c *DynamicChecksum) Sum() [32]byte {
	if c.h == nil {
		return sha256.Sum256(nil)
	}
	var out [32]byte
	c.h.Sum(out[:0])
	return out
}
