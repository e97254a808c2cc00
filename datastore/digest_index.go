package datastore

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
	"time"
)

// IndexHeaderSize is the size of the header of fixed and dynamic indexes;
// the digest list starts right after it.
const IndexHeaderSize = 4096

// Header layout shared by both index kinds (spec 5.3, 5.4).
const (
	idxOffUUID  = 8
	idxOffCTime = 24
	idxOffCsum  = 32
	idxOffSize  = 64 // fixed only
	idxOffChunk = 72 // fixed only
)

// Index magic numbers: first 8 bytes of SHA-256 over the labels of spec 5.3/5.4.
var (
	fidxMagic = [8]byte{0x2f, 0x7f, 0x41, 0xed, 0x91, 0xfd, 0x0f, 0xcd}
	didxMagic = [8]byte{0x1c, 0x91, 0x4e, 0xa5, 0x19, 0xba, 0xb3, 0xcd}
)

// idxReadPiece bounds each read of an index body, so that a reader whose
// real length is shorter than the size it was opened with fails before the
// whole claimed size is allocated.
const idxReadPiece = 1 << 20

// idxHeader holds the fields both index kinds share.
type idxHeader struct {
	uuid  [16]byte
	ctime int64
	csum  [32]byte
}

// idxReadHeader reads the 4096-byte header of an index of the given size and
// checks its magic.
func idxReadHeader(r io.ReaderAt, size int64, magic [8]byte, what string) ([]byte, idxHeader, error) {
	var h idxHeader
	if size < IndexHeaderSize {
		return nil, h, formatErr(what, size, ErrTruncated,
			"file has "+strconv.FormatInt(size, 10)+" bytes, the header alone has 4096")
	}
	buf := make([]byte, IndexHeaderSize)
	if err := idxReadAt(r, buf, 0, what); err != nil {
		return nil, h, err
	}
	if [8]byte(buf[:8]) != magic {
		return nil, h, formatErr(what, 0, ErrBadMagic, "magic "+blobHex(buf[:8]))
	}
	copy(h.uuid[:], buf[idxOffUUID:])
	h.ctime = int64(binary.LittleEndian.Uint64(buf[idxOffCTime:]))
	copy(h.csum[:], buf[idxOffCsum:])
	return buf, h, nil
}

// idxReadBody reads n bytes at IndexHeaderSize in bounded pieces.
func idxReadBody(r io.ReaderAt, n int64, what string) ([]byte, error) {
	body := make([]byte, 0, min(n, idxReadPiece))
	for int64(len(body)) < n {
		piece := min(n-int64(len(body)), idxReadPiece)
		start := len(body)
		body = append(body, make([]byte, piece)...)
		if err := idxReadAt(r, body[start:], IndexHeaderSize+int64(start), what); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// idxReadAt fills buf from r at off; a short read is ErrTruncated.
func idxReadAt(r io.ReaderAt, buf []byte, off int64, what string) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return formatErr(what, off+int64(n), ErrTruncated, "read "+strconv.Itoa(n)+" of "+strconv.Itoa(len(buf))+" bytes")
	}
	return err
}

// idxPutHeader writes the shared header fields into a 4096-byte buffer.
func idxPutHeader(buf []byte, magic [8]byte, uuid [16]byte, ctime int64, csum [32]byte) {
	copy(buf, magic[:])
	copy(buf[idxOffUUID:], uuid[:])
	binary.LittleEndian.PutUint64(buf[idxOffCTime:], uint64(ctime))
	copy(buf[idxOffCsum:], csum[:])
}

// IndexWriterOption adjusts a FixedIndexWriter or DynamicIndexWriter.
type IndexWriterOption func(*idxWriterConfig)

type idxWriterConfig struct {
	uuid    [16]byte
	uuidSet bool
	ctime   time.Time
}

// WithIndexUUID sets the UUID written into the header instead of a random
// version 4 UUID (for reproducible files in tests).
func WithIndexUUID(uuid [16]byte) IndexWriterOption {
	return func(c *idxWriterConfig) { c.uuid, c.uuidSet = uuid, true }
}

// WithIndexCTime sets the creation time written into the header instead of
// the current time (stored as whole Unix seconds).
func WithIndexCTime(t time.Time) IndexWriterOption {
	return func(c *idxWriterConfig) { c.ctime = t }
}

// idxApplyOptions resolves the writer options, generating a random UUID and
// taking the current time where none was given.
func idxApplyOptions(opts []IndexWriterOption) (idxWriterConfig, error) {
	var c idxWriterConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if !c.uuidSet {
		if _, err := rand.Read(c.uuid[:]); err != nil {
			return c, err
		}
		c.uuid[6] = c.uuid[6]&0x0f | 0x40 // version 4
		c.uuid[8] = c.uuid[8]&0x3f | 0x80 // RFC 4122 variant
	}
	if c.ctime.IsZero() {
		c.ctime = time.Now()
	}
	return c, nil
}

// idxOpenFile opens path and reads an index from it with read, putting the
// file name into format errors.
func idxOpenFile[T any](path string, read func(io.ReaderAt, int64) (T, error)) (T, error) {
	var zero T
	f, size, err := idxOpenLazy(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	ix, err := read(f, size)
	return ix, idxNamePath(err, path)
}
