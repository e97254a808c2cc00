package datastore

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
	"os"
	"strconv"
)

// FixedIndexReader reads a fixed index (.fidx) on demand through an
// io.ReaderAt, the way PBS maps index files instead of reading them:
// opening reads and checks only the 4096-byte header, each digest costs
// one 32-byte ReadAt, and memory stays constant whatever the image size
// (FixedIndex holds 256 MiB of digests for a 32 TiB image). Size,
// ChunkRange and ChunkFor need no I/O.
//
// It is safe for concurrent use (Close aside) when its io.ReaderAt is, as
// io.ReaderAt implementations promise. A file shortened after the index was opened
// makes reads fail with ErrTruncated, never panic.
type FixedIndexReader struct {
	fidxHeader
	r      io.ReaderAt
	closer io.Closer // the file OpenFixedIndexReader opened
}

// NewFixedIndexReader reads and checks the header of a fixed index of size
// bytes from r, exactly as ReadFixedIndex does, and leaves the digests in
// r. Close does not close r.
func NewFixedIndexReader(r io.ReaderAt, size int64) (*FixedIndexReader, error) {
	h, err := fidxReadHeader(r, size)
	if err != nil {
		return nil, err
	}
	return &FixedIndexReader{fidxHeader: h, r: r}, nil
}

// OpenFixedIndexReader opens the fixed index file at path and keeps it open
// until Close.
func OpenFixedIndexReader(path string) (*FixedIndexReader, error) {
	f, size, err := idxOpenLazy(path)
	if err != nil {
		return nil, err
	}
	x, err := NewFixedIndexReader(f, size)
	if err != nil {
		f.Close()
		return nil, idxNamePath(err, path)
	}
	x.closer = f
	return x, nil
}

// Close closes the file OpenFixedIndexReader opened; for a reader made by
// NewFixedIndexReader it does nothing. Do not call it while other calls
// are running.
func (x *FixedIndexReader) Close() error { return idxCloseLazy(&x.closer) }

// ReadDigest reads the digest of slot i. A slot out of range is
// ErrBadIndex.
func (x *FixedIndexReader) ReadDigest(i int) (Digest, error) {
	var d Digest
	if i < 0 || i >= x.count {
		return d, idxSlotRange("fixed index", i, x.count)
	}
	err := idxReadAt(x.r, d[:], IndexHeaderSize+int64(i)*32, "fixed index")
	return d, err
}

// EachDigest calls fn with every slot and its digest in slot order,
// reading the digests in bounded pieces, until fn returns false. It
// returns the first read error.
func (x *FixedIndexReader) EachDigest(fn func(slot int, d Digest) bool) error {
	return idxEachPiece(x.r, int64(x.count)*32, "fixed index", func(first int64, piece []byte) bool {
		for k := 0; k < len(piece); k += 32 {
			if !fn(int(first/32)+k/32, Digest(piece[k:k+32])) {
				return false
			}
		}
		return true
	})
}

// Checksum recomputes the index checksum (SHA-256 over all digests in slot
// order), reading the digests in bounded pieces.
func (x *FixedIndexReader) Checksum() ([32]byte, error) {
	return idxHashBody(x.r, int64(x.count)*32, "fixed index")
}

// Load reads all digests into a FixedIndex.
func (x *FixedIndexReader) Load() (*FixedIndex, error) {
	digests, err := idxReadBody(x.r, int64(x.count)*32, "fixed index")
	if err != nil {
		return nil, err
	}
	return &FixedIndex{fidxHeader: x.fidxHeader, digests: digests}, nil
}

// DynamicIndexReader reads a dynamic index (.didx) on demand through an
// io.ReaderAt: opening reads the header and the last entry (for Size),
// ReadEntry costs one ReadAt, and ChunkFor is a binary search over the
// stored end offsets with O(log n) reads of 8 bytes, so memory stays
// constant whatever the archive size. Like DynamicIndex it does not check
// that end offsets increase.
//
// It is safe for concurrent use (Close aside) when its io.ReaderAt is.
type DynamicIndexReader struct {
	didxHeader
	r      io.ReaderAt
	closer io.Closer
	size   uint64
}

// NewDynamicIndexReader reads and checks the header of a dynamic index of
// size bytes from r, exactly as ReadDynamicIndex does, and its last entry,
// and leaves the other entries in r. Close does not close r.
func NewDynamicIndexReader(r io.ReaderAt, size int64) (*DynamicIndexReader, error) {
	h, err := didxReadHeader(r, size)
	if err != nil {
		return nil, err
	}
	x := &DynamicIndexReader{didxHeader: h, r: r}
	if h.count > 0 {
		if x.size, err = x.end(h.count - 1); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// OpenDynamicIndexReader opens the dynamic index file at path and keeps it
// open until Close.
func OpenDynamicIndexReader(path string) (*DynamicIndexReader, error) {
	f, size, err := idxOpenLazy(path)
	if err != nil {
		return nil, err
	}
	x, err := NewDynamicIndexReader(f, size)
	if err != nil {
		f.Close()
		return nil, idxNamePath(err, path)
	}
	x.closer = f
	return x, nil
}

// Close closes the file OpenDynamicIndexReader opened; for a reader made by
// NewDynamicIndexReader it does nothing. Do not call it while other calls
// are running.
func (x *DynamicIndexReader) Close() error { return idxCloseLazy(&x.closer) }

// Size returns the stream size: the end offset of the last chunk, 0 for an
// empty index.
func (x *DynamicIndexReader) Size() uint64 { return x.size }

// end reads the stored end offset of entry i.
func (x *DynamicIndexReader) end(i int) (uint64, error) {
	var b [8]byte
	if err := idxReadAt(x.r, b[:], IndexHeaderSize+int64(i)*didxEntrySize, "dynamic index"); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// ReadEntry reads chunk i: its byte range [start, end) in the stream and
// its digest. An entry out of range is ErrBadIndex.
func (x *DynamicIndexReader) ReadEntry(i int) (start, end uint64, d Digest, err error) {
	if i < 0 || i >= x.count {
		return 0, 0, d, idxSlotRange("dynamic index", i, x.count)
	}
	// The start is the previous entry's end offset: read both entries in
	// one call.
	var b [2 * didxEntrySize]byte
	off, buf := IndexHeaderSize+int64(i)*didxEntrySize, b[didxEntrySize:]
	if i > 0 {
		off, buf = off-didxEntrySize, b[:]
	}
	if err := idxReadAt(x.r, buf, off, "dynamic index"); err != nil {
		return 0, 0, d, err
	}
	if i > 0 {
		start = binary.LittleEndian.Uint64(b[:8])
	}
	e := b[didxEntrySize:]
	return start, binary.LittleEndian.Uint64(e), Digest(e[8:]), nil
}

// ChunkFor returns the chunk holding stream offset: the first entry whose
// end offset is greater than offset, found with O(log n) reads. ok is false
// when offset is at or beyond Size.
func (x *DynamicIndexReader) ChunkFor(offset uint64) (i int, ok bool, err error) {
	i, err = didxSearch(x.count, offset, x.end)
	if err != nil {
		return 0, false, err
	}
	return i, i < x.count, nil
}

// EachEntry calls fn with every chunk in stream order (index, byte range,
// digest), reading the entries in bounded pieces, until fn returns false.
// It returns the first read error.
func (x *DynamicIndexReader) EachEntry(fn func(i int, start, end uint64, d Digest) bool) error {
	var start uint64
	return idxEachPiece(x.r, int64(x.count)*didxEntrySize, "dynamic index", func(first int64, piece []byte) bool {
		for k := 0; k < len(piece); k += didxEntrySize {
			end := binary.LittleEndian.Uint64(piece[k:])
			if !fn(int(first/didxEntrySize)+k/didxEntrySize, start, end, Digest(piece[k+8:k+didxEntrySize])) {
				return false
			}
			start = end
		}
		return true
	})
}

// Checksum recomputes the index checksum (SHA-256 over the entries as
// stored), reading them in bounded pieces.
func (x *DynamicIndexReader) Checksum() ([32]byte, error) {
	return idxHashBody(x.r, int64(x.count)*didxEntrySize, "dynamic index")
}

// Load reads all entries into a DynamicIndex.
func (x *DynamicIndexReader) Load() (*DynamicIndex, error) {
	entries, err := idxReadBody(x.r, int64(x.count)*didxEntrySize, "dynamic index")
	if err != nil {
		return nil, err
	}
	return &DynamicIndex{didxHeader: x.didxHeader, entries: entries}, nil
}

// idxLazyPiece is how much of an index body the on-demand readers read at
// once when they walk it: 320 KiB, whole entries of either kind (8192
// dynamic entries, 10240 digests).
const idxLazyPiece = 8192 * didxEntrySize

// idxEachPiece reads the n body bytes of an index in pieces of whole
// entries and hands each to fn with its offset in the body, until fn
// returns false.
func idxEachPiece(r io.ReaderAt, n int64, what string, fn func(first int64, piece []byte) bool) error {
	buf := make([]byte, min(n, idxLazyPiece))
	for off := int64(0); off < n; {
		piece := buf[:min(n-off, idxLazyPiece)]
		if err := idxReadAt(r, piece, IndexHeaderSize+off, what); err != nil {
			return err
		}
		if !fn(off, piece) {
			return nil
		}
		off += int64(len(piece))
	}
	return nil
}

// idxHashBody returns the SHA-256 of the n body bytes of an index.
func idxHashBody(r io.ReaderAt, n int64, what string) ([32]byte, error) {
	h := sha256.New()
	err := idxEachPiece(r, n, what, func(_ int64, piece []byte) bool {
		h.Write(piece)
		return true
	})
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, err
}

// idxSlotRange reports an entry number out of range.
func idxSlotRange(what string, i, count int) error {
	return formatErr(what, -1, ErrBadIndex, "entry "+strconv.Itoa(i)+" out of range [0, "+strconv.Itoa(count)+")")
}

// idxOpenLazy opens an index file for an on-demand reader.
func idxOpenLazy(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// idxNamePath puts the file name into a format error.
func idxNamePath(err error, path string) error {
	if fe, ok := err.(*FormatError); ok {
		fe.What += " " + path
	}
	return err
}

// idxCloseLazy closes *c once.
func idxCloseLazy(c *io.Closer) error {
	if *c == nil {
		return nil
	}
	err := (*c).Close()
	*c = nil
	return err
}
