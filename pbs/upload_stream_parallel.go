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

// segScanner searches segments for candidate ends, one helper goroutine
// with its own chunker per segment of a round. The cutter does not scan
// itself: while the helpers search one round, it reads the input of the
// next, so that reading, scanning and hashing (in the pipeline's workers)
// are all independent work the scheduler can spread over the cores. A
// cutter that scanned its own segment between reads made itself the one
// sequential step of an unchanged backup, which waits for nothing else.
type segScanner struct {
	min, max int
	helpers  []*segHelper
}

// segHelper scans the segments handed to it with its own chunker.
type segHelper struct {
	ck  *chunker.Chunker
	req chan []byte
	res chan int
}

// segRound is a round in progress: the first candidate end of each
// segment handed out.
type segRound struct {
	used   int
	starts [maxScanners]int
}

// newSegScanner returns a scanner for average avg, or nil when chunks of
// that size are scanned sequentially or there is only one core.
func newSegScanner(avg int) *segScanner {
	n := min(runtime.GOMAXPROCS(0), maxScanners)
	if avg < parallelMinAvg || n < 2 {
		return nil
	}
	s := &segScanner{min: avg / 4, max: avg * 4}
	for range n {
		ck, err := chunker.New(avg)
		if err != nil {
			break
		}
		h := &segHelper{ck: ck, req: make(chan []byte), res: make(chan int)}
		go h.run()
		s.helpers = append(s.helpers, h)
	}
	if len(s.helpers) < 2 {
		s.stop()
		return nil
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
func (s *segScanner) width() int { return len(s.helpers) }

// stop ends the helpers.
func (s *segScanner) stop() {
	for _, h := range s.helpers {
		close(h.req)
	}
	s.helpers = nil
}

// dispatch hands out the segments whose candidate ends start at lo,
// lo+segLen, ... (at most width of them) in the chunk data (data[0] is
// the chunk's first byte; the input is there up to len(data)). The bytes
// handed out must not change until collect returns.
func (s *segScanner) dispatch(data []byte, lo int) segRound {
	var r segRound
	for j := range s.width() {
		start := lo + j*segLen
		if start > len(data) || start > s.max {
			break
		}
		end := min(start+segLen, len(data), s.max)
		s.helpers[j].req <- data[start-s.min : end]
		r.starts[j] = start
		r.used++
	}
	return r
}

// collect waits for the round's results and returns the chunk's length if
// a segment holds a candidate end (the lowest one), else 0.
func (s *segScanner) collect(r segRound) int {
	found := 0
	for j := range r.used {
		if k := <-s.helpers[j].res; k > 0 && found == 0 {
			found = r.starts[j] - s.min + k
		}
	}
	return found
}

// nextParallel is next for a cutter with a segScanner: it reads the chunk
// round by round, as far as the round's segments reach, lets the helpers
// search them and meanwhile reads ahead for the next round.
func (c *streamCutter) nextParallel(dst []byte) ([]byte, error) {
	s := c.par
	start := len(dst)
	dst = c.room(dst, len(c.carry))
	dst = append(dst, c.carry...)
	c.carry = c.carry[:0]
	step := s.width() * segLen
	for lo := s.min; ; lo += step {
		need := min(lo+step, s.max)
		var err error
		if dst, err = c.fill(dst, start+need); err != nil {
			return dst, err
		}
		have := len(dst) - start
		switch {
		case have == 0:
			return dst, c.err // the input ended with the previous chunk
		case have < lo:
			return dst, nil // the final chunk, shorter than the minimum
		}
		round := s.dispatch(dst[start:], lo)
		var ahead error
		if have >= need && need < s.max {
			// Only into the buffer as it is: the bytes being scanned stay put.
			dst, ahead = c.fill(dst, min(start+need+step, start+s.max, cap(dst)))
		}
		n := s.collect(round)
		data := dst[start:]
		switch {
		case n > 0:
			c.carry = append(c.carry, data[n:]...)
			return dst[:start+n], nil // a read error is kept for the next call
		case ahead != nil:
			return dst, ahead
		case have < need:
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
