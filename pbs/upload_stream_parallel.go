package pbs

import (
	"io"
	"runtime"

	"github.com/proxkit/proxkit/chunker"
)

// Content-defined chunking spread over several cores.
//
// Where a chunk that starts at c ends is decided by the chunker's rolling
// hash, which at an end position e depends only on the 64 bytes before e
// (chunker package docs, "Why skipping is exact"): the chunk ends at the
// first e >= c+min whose hash passes the cut test, or at c+max. A fresh
// chunker started at s tests every end e >= s+min with exactly the hash
// the real one computes there, and skips the bytes before s+min-64 without
// looking at them. So the candidate ends in [c+min, c+max] can be searched
// in segments at the same time: segment j, the ends in [c+min+j*segLen,
// c+min+(j+1)*segLen], by a fresh chunker fed the input from c+j*segLen;
// the chunk ends at the first candidate of the lowest segment that has
// one. The input is still read in order, straight into the chunk's
// buffer; only the scanning is shared, so that the chunker no longer
// bounds a backup whose chunks are mostly known already.

// segLen is the length of a segment of candidate ends.
const segLen = 256 << 10

// parallelMinAvg is the smallest average chunk size scanned in parallel;
// smaller chunks are scanned in one go, as there is little to share.
const parallelMinAvg = 1 << 20

// maxScanners bounds the chunkers of one segScanner.
const maxScanners = 4

// segScanner searches segments for candidate ends with one chunker of its
// own and one per helper goroutine.
type segScanner struct {
	min, max int
	own      *chunker.Chunker
	helpers  []*segHelper
}

// segHelper scans the segments handed to it with its own chunker.
type segHelper struct {
	ck  *chunker.Chunker
	req chan []byte
	res chan int
}

// newSegScanner returns a scanner for average avg, or nil when chunks of
// that size are scanned sequentially or there is only one core.
func newSegScanner(avg int) *segScanner {
	n := min(runtime.GOMAXPROCS(0), maxScanners)
	if avg < parallelMinAvg || n < 2 {
		return nil
	}
	own, err := chunker.New(avg)
	if err != nil {
		return nil
	}
	s := &segScanner{min: avg / 4, max: avg * 4, own: own}
	for range n - 1 {
		ck, err := chunker.New(avg)
		if err != nil {
			break
		}
		h := &segHelper{ck: ck, req: make(chan []byte), res: make(chan int)}
		go h.run()
		s.helpers = append(s.helpers, h)
	}
	return s
}

func (h *segHelper) run() {
	for data := range h.req {
		h.ck.Reset()
		h.res <- h.ck.Scan(data)
	}
}

// width is the number of segments searched per round.
func (s *segScanner) width() int { return len(s.helpers) + 1 }

// stop ends the helpers.
func (s *segScanner) stop() {
	for _, h := range s.helpers {
		close(h.req)
	}
	s.helpers = nil
}

// round searches the segments whose candidate ends start at lo, lo+segLen,
// ... (at most width of them) in the chunk data (data[0] is the chunk's
// first byte; the input is there up to len(data)). It returns the chunk's
// length if a segment holds a candidate end, else 0.
func (s *segScanner) round(data []byte, lo int) int {
	var starts, ends, found [maxScanners]int
	used := 0
	for j := range s.width() {
		start := lo + j*segLen
		if start > len(data) || start > s.max {
			break
		}
		starts[j], ends[j] = start, min(start+segLen, len(data), s.max)
		used++
	}
	for j := 1; j < used; j++ {
		s.helpers[j-1].req <- data[starts[j]-s.min : ends[j]]
	}
	if used > 0 {
		s.own.Reset()
		if k := s.own.Scan(data[starts[0]-s.min : ends[0]]); k > 0 {
			found[0] = starts[0] - s.min + k
		}
	}
	for j := 1; j < used; j++ {
		if k := <-s.helpers[j-1].res; k > 0 {
			found[j] = starts[j] - s.min + k
		}
	}
	for j := range used {
		if found[j] > 0 {
			return found[j]
		}
	}
	return 0
}

// nextParallel is next for a cutter with a segScanner: it reads the chunk
// round by round, as far as the round's segments reach, and lets the
// scanner search them.
func (c *streamCutter) nextParallel(dst []byte) ([]byte, error) {
	s := c.par
	start := len(dst)
	dst = c.room(dst, len(c.carry))
	dst = append(dst, c.carry...)
	c.carry = c.carry[:0]
	for lo := s.min; ; lo += s.width() * segLen {
		need := min(lo+s.width()*segLen, s.max)
		var err error
		if dst, err = c.fill(dst, start+need); err != nil {
			return dst, err
		}
		data := dst[start:]
		switch {
		case len(data) == 0:
			return dst, c.err // the input ended with the previous chunk
		case len(data) < lo:
			return dst, nil // the final chunk, shorter than the minimum
		}
		if n := s.round(data, lo); n > 0 {
			c.carry = append(c.carry, data[n:]...)
			return dst[:start+n], nil
		}
		switch {
		case len(data) < need:
			return dst, nil // the final chunk: the input ended before a cut
		case need == s.max:
			c.carry = append(c.carry, data[s.max:]...)
			return dst[:start+s.max], nil // no candidate: cut at the maximum
		}
	}
}

// fill reads until dst holds target bytes or the input ends.
func (c *streamCutter) fill(dst []byte, target int) ([]byte, error) {
	for len(dst) < target {
		if c.err != nil {
			if c.err == io.EOF {
				return dst, nil
			}
			return dst, c.err
		}
		dst = c.room(dst, target-len(dst))
		n := len(dst)
		m, err := c.read(dst[n:target])
		dst = dst[:n+m]
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}
