package datastore

import (
	"encoding/binary"
	"io"
	"strconv"
)

// didxWriteBuffer is how many entries the writer collects before a write.
const didxWriteBuffer = 1638 // 64 KiB

// DynamicIndexWriter writes a dynamic index to a stream: a placeholder header
// first, then the entries in order, and on Close the checksum into the header.
type DynamicIndexWriter struct {
	w      io.WriteSeeker
	base   int64 // position of the header in w
	buf    []byte
	count  int
	end    uint64
	csum   DynamicChecksum
	closed bool
}

// NewDynamicIndexWriter writes the header (random version 4 UUID and the
// current time unless options say otherwise, checksum zero until Close) at
// the current position of w.
func NewDynamicIndexWriter(w io.WriteSeeker, opts ...IndexWriterOption) (*DynamicIndexWriter, error) {
	cfg, err := idxApplyOptions(opts)
	if err != nil {
		return nil, err
	}
	base, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	hdr := make([]byte, IndexHeaderSize)
	idxPutHeader(hdr, didxMagic, cfg.uuid, cfg.ctime.Unix(), [32]byte{})
	if _, err := w.Write(hdr); err != nil {
		return nil, err
	}
	return &DynamicIndexWriter{w: w, base: base, buf: make([]byte, 0, didxWriteBuffer*didxEntrySize)}, nil
}

// Append adds the next chunk, given by its end offset in the stream (the
// running total of chunk sizes) and its digest. End offsets must increase
// strictly: every chunk holds at least one byte.
func (w *DynamicIndexWriter) Append(end uint64, d Digest) error {
	if w.closed {
		return formatErr("dynamic index writer", -1, ErrBadIndex, "already closed")
	}
	if end <= w.end {
		return formatErr("dynamic index writer", -1, ErrBadIndex,
			"end offset "+strconv.FormatUint(end, 10)+" does not follow "+strconv.FormatUint(w.end, 10))
	}
	if len(w.buf) == cap(w.buf) {
		if err := w.didxFlush(); err != nil {
			return err
		}
	}
	w.buf = binary.LittleEndian.AppendUint64(w.buf, end)
	w.buf = append(w.buf, d[:]...)
	w.csum.Add(end, d)
	w.end = end
	w.count++
	return nil
}

// Count returns the number of entries appended.
func (w *DynamicIndexWriter) Count() int { return w.count }

// Size returns the stream size so far: the last end offset.
func (w *DynamicIndexWriter) Size() uint64 { return w.end }

// Close writes the remaining entries and the checksum into the header and
// returns the checksum. The position of w is left after the checksum field.
// It does not close w. The writer cannot be used afterwards.
func (w *DynamicIndexWriter) Close() ([32]byte, error) {
	var csum [32]byte
	if w.closed {
		return csum, formatErr("dynamic index writer", -1, ErrBadIndex, "already closed")
	}
	w.closed = true
	if err := w.didxFlush(); err != nil {
		return csum, err
	}
	csum = w.csum.Sum()
	if _, err := w.w.Seek(w.base+idxOffCsum, io.SeekStart); err != nil {
		return csum, err
	}
	if _, err := w.w.Write(csum[:]); err != nil {
		return csum, err
	}
	return csum, nil
}

func (w *DynamicIndexWriter) didxFlush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.w.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}
