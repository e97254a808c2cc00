package httpapi

import (
	"bytes"
	"errors"
	"io"
)

// errNotReplayable is returned when a consumed body would have to be sent
// again.
var errNotReplayable = errors.New("the request body cannot be replayed (not an io.Seeker)")

// replayBody hands out the request body once per attempt: encoded
// parameters from memory, a seekable reader from its starting offset, any
// other reader exactly once.
type replayBody struct {
	data   []byte // form body, or nil
	r      io.Reader
	seeker io.Seeker
	start  int64
	length int64
	known  bool // length is known
	used   bool
}

func newBytesBody(b []byte) *replayBody {
	return &replayBody{data: b, length: int64(len(b)), known: true}
}

// newReplayBody wraps a caller's body. A seekable body's remaining length
// is measured unless the caller gave it.
func newReplayBody(r io.Reader, length int64) *replayBody {
	b := &replayBody{r: r, length: length, known: length > 0}
	s, ok := r.(io.Seeker)
	if !ok {
		return b
	}
	start, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return b // a pipe or similar: send once
	}
	b.seeker, b.start = s, start
	if !b.known {
		end, err := s.Seek(0, io.SeekEnd)
		if _, rerr := s.Seek(start, io.SeekStart); rerr != nil {
			b.seeker = nil
			return b
		}
		if err == nil && end >= start {
			b.length, b.known = end-start, true
		}
	}
	return b
}

// replayable reports whether the body can be sent again after an attempt
// consumed it.
func (b *replayBody) replayable() bool { return b == nil || b.data != nil || b.seeker != nil }

// open returns the body for the next attempt and its length (0 when
// unknown).
func (b *replayBody) open() (io.Reader, int64, error) {
	switch {
	case b.data != nil:
		return bytes.NewReader(b.data), b.length, nil
	case b.seeker != nil:
		if b.used {
			if _, err := b.seeker.Seek(b.start, io.SeekStart); err != nil {
				return nil, 0, err
			}
		}
		b.used = true
		return b.r, b.length, nil
	case b.used:
		return nil, 0, errNotReplayable
	}
	b.used = true
	return b.r, b.length, nil
}
