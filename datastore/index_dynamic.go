package datastore

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"io"
	"sort"
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
type DynamicIndex struct {
	hdr     idxHeader
	count   int
	entries []byte // count*40 bytes, exactly as stored
}

// ReadDynamicIndex reads a dynamic index of size bytes from r. It checks the
// magic and that the body is a whole number of 40-byte entries before reading
// them in bounded pieces.
func ReadDynamicIndex(r io.ReaderAt, size int64) (*DynamicIndex, error) {
	const what = "dynamic index"
	_, hdr, err := idxReadHeader(r, size, didxMagic, what)
	if err != nil {
		return nil, err
	}
	body := size - IndexHeaderSize
	if body%didxEntrySize != 0 {
		return nil, formatErr(what, size, ErrBadIndex,
			"body of "+strconv.FormatInt(body, 10)+" bytes is not a multiple of 40")
	}
	ix := &DynamicIndex{hdr: hdr, count: int(body / didxEntrySize)}
	if ix.entries, err = idxReadBody(r, body, what); err != nil {
		return nil, err
	}
	return ix, nil
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
func (ix *DynamicIndex) UUID() [16]byte { return ix.hdr.uuid }

// CTime returns the creation time stored in the header. (Upstream's reader
// reports the time of opening instead; nothing there depends on it.)
func (ix *DynamicIndex) CTime() time.Time { return time.Unix(ix.hdr.ctime, 0).UTC() }

// Count returns the number of chunks.
func (ix *DynamicIndex) Count() int { return ix.count }

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
	i = sort.Search(ix.count, func(k int) bool { return ix.didxEnd(k) > offset })
	return i, i < ix.count
}

// StoredChecksum returns the checksum stored in the header.
func (ix *DynamicIndex) StoredChecksum() [32]byte { return ix.hdr.csum }

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
