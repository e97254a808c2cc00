package chunker

import (
	"errors"
	"io"
)

// Chunk is one piece of a stream.
type Chunk struct {
	// Offset is the position of the chunk's first byte in the input.
	Offset int64
	// Data holds the chunk's bytes. It points into the Stream's buffer and is
	// valid only until the next call to Next or Reset on that Stream; copy it
	// (or finish hashing, compressing, uploading it) before then.
	Data []byte
}

// Stream cuts the bytes of an io.Reader into chunks, content-defined
// (NewStream) or of a fixed size (NewFixed). It reads in large blocks into a
// buffer it reuses, so that in steady state Next allocates nothing. A Stream
// is not safe for concurrent use.
type Stream struct {
	r       io.Reader
	chunker *Chunker // nil for a fixed-size stream
	fixed   int      // chunk size of a fixed-size stream
	limit   int      // the most buffer the stream ever allocates
	config  error    // invalid size given to the constructor

	buf []byte
	// buf[start:end] holds input not yet returned, starting at input offset
	// offset; buf[start:scanned] has already been fed to the chunker.
	start, scanned, end int
	offset              int64
	readErr             error // the reader's error, io.EOF included, once seen
	err                 error // returned by every Next once the stream ended
}

// initialBuffer is the first buffer a Stream allocates: small inputs (configs,
// logs, catalogs) should not cost the full limit. The buffer grows fourfold
// up to the limit while a chunk does not fit.
const initialBuffer = 64 << 10

// maxEmptyReads is how many (0, nil) reads in a row end the stream with
// io.ErrNoProgress instead of spinning forever.
const maxEmptyReads = 100

// errBadRead reports a reader that claims to have read more than it was
// given room for, or a negative count.
var errBadRead = errors.New("chunker: reader returned an invalid byte count")

// NewStream returns a Stream that cuts r into content-defined chunks
// exactly as proxmox-backup-client does, for an average chunk size of
// avgSize (DefaultAvgSize when unsure; see New for the allowed values).
// The last chunk holds whatever follows the last boundary. An invalid
// avgSize makes every Next return a *SizeError. The stream buffers at most
// 8*avgSize bytes (twice the maximum chunk size).
func NewStream(r io.Reader, avgSize int) *Stream {
	if err := checkAvgSize(avgSize); err != nil {
		return &Stream{r: r, config: err, err: err}
	}
	return newStream(r, newChunker(avgSize))
}

// newStream lets tests use chunkers with small averages.
func newStream(r io.Reader, c *Chunker) *Stream {
	return &Stream{r: r, chunker: c, limit: 2 * c.max}
}

// NewFixed returns a Stream that cuts r into chunks of exactly size bytes,
// the last one holding the remainder: the layout of a PBS fixed index
// (images). size 0 selects DefaultFixedSize, the only size a PBS server
// accepts for fixed indexes; otherwise it must be 1..MaxChunkSize, or every
// Next returns a *SizeError. The stream buffers size bytes and returns each
// chunk without copying it.
func NewFixed(r io.Reader, size int) *Stream {
	if size == 0 {
		size = DefaultFixedSize
	}
	s := &Stream{r: r, fixed: size, limit: size}
	if err := checkFixedSize(size); err != nil {
		s.config = err
		s.err = err
	}
	return s
}

// Reset makes the Stream cut r from its start, keeping its buffer and
// settings, so that one Stream can serve many inputs without allocating.
func (s *Stream) Reset(r io.Reader) {
	s.r = r
	s.start, s.scanned, s.end = 0, 0, 0
	s.offset = 0
	s.readErr = nil
	s.err = s.config
	if s.chunker != nil {
		s.chunker.Reset()
	}
}

// Next returns the next chunk, or io.EOF after the last one (an empty input
// has no chunk). The chunk's Data is valid only until the following call to
// Next or Reset. A read error other than io.EOF is returned once the chunks
// completed before it have been returned; the bytes after the last complete
// chunk are then lost, and every later call returns the same error.
func (s *Stream) Next() (Chunk, error) {
	if s.err != nil {
		return Chunk{}, s.err
	}
	for {
		if cut := s.findCut(); cut > 0 {
			return s.emit(cut), nil
		}
		if s.readErr != nil {
			if s.readErr == io.EOF && s.start < s.end {
				s.err = io.EOF
				return s.emit(s.end), nil
			}
			s.err = s.readErr
			return Chunk{}, s.err
		}
		s.fill()
	}
}

// findCut returns the buffer position just after the next boundary among
// the buffered bytes, or 0 if they hold none.
func (s *Stream) findCut() int {
	if s.chunker == nil {
		if s.end-s.start >= s.fixed {
			return s.start + s.fixed
		}
		return 0
	}
	if s.scanned < s.end {
		if k := s.chunker.Scan(s.buf[s.scanned:s.end]); k > 0 {
			return s.scanned + k
		}
		s.scanned = s.end
	}
	return 0
}

// emit returns buf[start:cut] as the next chunk. Its capacity ends at cut so
// that appending to Data cannot overwrite the following chunk.
func (s *Stream) emit(cut int) Chunk {
	c := Chunk{Offset: s.offset, Data: s.buf[s.start:cut:cut]}
	s.offset += int64(cut - s.start)
	s.start, s.scanned = cut, cut
	return c
}

// fill reads once into the free end of the buffer, making room first.
func (s *Stream) fill() {
	s.makeRoom()
	for range maxEmptyReads {
		n, err := s.r.Read(s.buf[s.end:])
		if n < 0 || n > len(s.buf)-s.end {
			s.readErr = errBadRead
			return
		}
		s.end += n
		if err != nil {
			s.readErr = err
			return
		}
		if n > 0 {
			return
		}
	}
	s.readErr = io.ErrNoProgress
}

// makeRoom ensures free space after end. The pending bytes buf[start:end]
// are always shorter than one maximum chunk when fill is needed (else the
// chunker would have cut), so a buffer of limit = 2*max has room for at least
// one more maximum chunk after moving them to the front.
func (s *Stream) makeRoom() {
	if s.end < len(s.buf) {
		return
	}
	pending := s.end - s.start
	dst := s.buf
	if len(s.buf) == 0 || (len(s.buf) < s.limit && pending > len(s.buf)/2) {
		dst = make([]byte, min(max(4*len(s.buf), initialBuffer), s.limit))
	}
	copy(dst, s.buf[s.start:s.end])
	s.buf = dst
	s.scanned -= s.start
	s.start, s.end = 0, pending
}
