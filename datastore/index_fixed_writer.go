package datastore

import (
	"crypto/sha256"
	"encoding/binary"
	"io"
	"strconv"
)

// fidxPageSlots is how many digests the writer keeps per lazily allocated
// page (32 KiB), so memory follows the slots actually set, not the image size.
const fidxPageSlots = 1024

// fidxMaxCount caps the slot count of a writer (1 EiB at 4 MiB per chunk),
// keeping its page table small whatever size it is given.
const fidxMaxCount = 1 << 28

// FixedIndexWriter builds a fixed index for an image whose size is known up
// front. Digests may be set in any order (uploads finish out of order); Close
// writes header and digest list through the io.WriterAt in one pass. Slots
// never set stay all-zero, as in upstream's pre-truncated files.
type FixedIndexWriter struct {
	w         io.WriterAt
	size      uint64
	chunkSize uint64
	count     int
	pages     [][]byte
	cfg       idxWriterConfig
	closed    bool
}

// NewFixedIndexWriter prepares a fixed index for an image of size bytes cut
// into chunks of chunkSize (FixedChunkSize for PBS; it must be a power of
// two). The header gets a random version 4 UUID and the current time unless
// options say otherwise. Nothing is written before Close.
func NewFixedIndexWriter(w io.WriterAt, size uint64, chunkSize uint64, opts ...IndexWriterOption) (*FixedIndexWriter, error) {
	const what = "fixed index writer"
	switch {
	case chunkSize == 0 || chunkSize&(chunkSize-1) != 0:
		return nil, formatErr(what, -1, ErrBadIndex, "chunk size "+strconv.FormatUint(chunkSize, 10)+" is not a power of two")
	case size == 0:
		return nil, formatErr(what, -1, ErrBadIndex, "image size 0 (PBS cannot read empty fixed indexes)")
	}
	count := (size-1)/chunkSize + 1
	if count > fidxMaxCount {
		return nil, formatErr(what, -1, ErrTooLarge, strconv.FormatUint(count, 10)+" chunks")
	}
	cfg, err := idxApplyOptions(opts)
	if err != nil {
		return nil, err
	}
	return &FixedIndexWriter{
		w:         w,
		size:      size,
		chunkSize: chunkSize,
		count:     int(count),
		pages:     make([][]byte, (count+fidxPageSlots-1)/fidxPageSlots),
		cfg:       cfg,
	}, nil
}

// Count returns the number of digest slots, ceil(size / chunk size).
func (w *FixedIndexWriter) Count() int { return w.count }

// SetDigest stores the digest of slot (chunk number slot, counted from 0).
// Setting a slot again overwrites it.
func (w *FixedIndexWriter) SetDigest(slot int, d Digest) error {
	if w.closed {
		return formatErr("fixed index writer", -1, ErrBadIndex, "already closed")
	}
	if slot < 0 || slot >= w.count {
		return formatErr("fixed index writer", -1, ErrBadIndex,
			"slot "+strconv.Itoa(slot)+" out of range [0, "+strconv.Itoa(w.count)+")")
	}
	p := slot / fidxPageSlots
	if w.pages[p] == nil {
		w.pages[p] = make([]byte, fidxPageSlots*32)
	}
	copy(w.pages[p][slot%fidxPageSlots*32:], d[:])
	return nil
}

// Close writes the header, with the checksum over all slots, and the digest
// list, and returns the checksum. It does not close the underlying writer.
// The writer cannot be used afterwards.
func (w *FixedIndexWriter) Close() ([32]byte, error) {
	var csum [32]byte
	if w.closed {
		return csum, formatErr("fixed index writer", -1, ErrBadIndex, "already closed")
	}
	w.closed = true
	var zero []byte
	h := sha256.New()
	off := int64(IndexHeaderSize)
	for p, page := range w.pages {
		n := min(fidxPageSlots, w.count-p*fidxPageSlots) * 32
		if page == nil {
			if zero == nil {
				zero = make([]byte, fidxPageSlots*32)
			}
			page = zero
		}
		h.Write(page[:n])
		if _, err := w.w.WriteAt(page[:n], off); err != nil {
			return csum, err
		}
		off += int64(n)
	}
	h.Sum(csum[:0])
	hdr := make([]byte, IndexHeaderSize)
	idxPutHeader(hdr, fidxMagic, w.cfg.uuid, w.cfg.ctime.Unix(), csum)
	binary.LittleEndian.PutUint64(hdr[idxOffSize:], w.size)
	binary.LittleEndian.PutUint64(hdr[idxOffChunk:], w.chunkSize)
	if _, err := w.w.WriteAt(hdr, 0); err != nil {
		return csum, err
	}
	w.pages = nil
	return csum, nil
}
