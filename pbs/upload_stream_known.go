package pbs

import (
	"context"
	"errors"
	"io"

	"github.com/proxkit/proxkit/chunker"
	"github.com/proxkit/proxkit/datastore"
)

// Unchanged stretches of a stream are recognised without chunking them.
//
// Where a chunk that starts at offset c ends depends only on its own
// bytes: the chunker starts afresh at every cut, and whether a position
// e is a cut depends on the bytes of [c, e) alone. So when the previous
// snapshot's index has a chunk [c, e) and the new stream's bytes [c, e)
// hash to that chunk's digest, they are the same bytes (as far as
// SHA-256 tells, which is what deduplication rests on anyway) and a
// chunker with the same average cuts at e again: the chunk is known, and
// its bytes need hashing but no scanning. Only the last chunk of the
// previous stream may have ended with the input rather than at a cut; it
// is taken only if the new input ends there too, or if scanning its bytes
// finds the cut at its end.
//
// That the previous index was cut with this average is checked, not
// assumed: its first verifyFirst matching chunks are scanned as well (on
// the goroutine that hashes them), and every chunk taken must be as long
// as this chunker's chunks can be and end where this chunker's hash
// allows a cut (a test of the 64 bytes before its end). One that is not
// switches the guessing off for the archive. (An index cut with another
// average passes a scanned chunk with a probability of about a third or
// less, and so the first verifyFirst of them with one of at most 1e-7.)
//
// The stream is read chunk by chunk along the previous index, a few
// chunks ahead, each hashed on its own goroutine, and confirmed in order.
// A chunk whose bytes differ is scanned; if its cut is where the previous
// one was, it goes to the pipeline as a new chunk (hashed already) and the
// guessing goes on; otherwise everything read ahead goes back to the
// cutter, which cuts normally until a cut lands on a boundary of the
// previous index again.

// guessDepth bounds how many chunks are read and hashed ahead of the one
// being confirmed.
const guessDepth = 4

// verifyFirst is how many matching chunks of an archive are scanned as
// well before the previous index's boundaries are trusted.
const verifyFirst = 16

// streamGuesser follows the previous index of a stream archive.
type streamGuesser struct {
	w        *ArchiveWriter
	cut      *streamCutter
	ix       *datastore.DynamicIndex
	avg      int // this chunker's average: chunks of avg/4 to avg*4 bytes
	depth    int
	queue    []*chunkGuess
	ahead    uint64 // bytes in queue
	checking int    // guesses in queue that are scanned as well
	agreed   int    // scanned guesses whose cut was the previous one
	off      bool   // the previous index is not this chunker's
}

// chunkGuess is a chunk read where the previous index has one.
type chunkGuess struct {
	buf    []byte // from the pipeline's reserve: header room, then the bytes read
	want   datastore.Digest
	last   bool // the previous index's last chunk
	verify bool // scan it as well
	got    datastore.Digest
	cutAt  int           // with verify: scanChunk of the data
	done   chan struct{} // closed when got (and cutAt) are set
}

func (g *chunkGuess) data() []byte { return g.buf[hdr:] }

// newStreamGuesser returns a guesser along ix for a chunker of average
// avg, or nil without an index.
func newStreamGuesser(w *ArchiveWriter, cut *streamCutter, ix *datastore.DynamicIndex, avg int) *streamGuesser {
	if ix == nil || ix.Count() == 0 {
		return nil
	}
	depth := min(guessDepth, w.s.env.workers+1, max(1, cap(w.s.env.slots)/2))
	return &streamGuesser{w: w, cut: cut, ix: ix, avg: avg, depth: depth}
}

// at returns the previous index's chunk that starts at offset, if any.
func (sg *streamGuesser) at(offset uint64) (size int, d datastore.Digest, last, ok bool) {
	i, found := sg.ix.ChunkFor(offset)
	if !found {
		return 0, d, false, false
	}
	start, end, d := sg.ix.Entry(i)
	if start != offset || end <= start || end-start > chunker.MaxChunkSize {
		return 0, d, false, false
	}
	return int(end - start), d, i == sg.ix.Count()-1, true
}

// synced reports whether the writer's next offset is a chunk start of the
// previous index.
func (sg *streamGuesser) synced() bool {
	if sg.off {
		return false
	}
	_, _, _, ok := sg.at(sg.w.next)
	return ok
}

// run appends chunks along the previous index for as long as its
// boundaries hold. It returns when there is no guess at the next offset
// (the input ended, or the stream left the previous boundaries: the
// cutter then holds everything read ahead).
func (sg *streamGuesser) run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			sg.drop()
		}
	}()
	for {
		if err := sg.fill(ctx); err != nil {
			return err
		}
		if len(sg.queue) == 0 {
			return nil
		}
		g := sg.queue[0]
		<-g.done
		n := sg.end(g)
		switch size := len(g.data()); {
		case n == size && g.got == g.want:
			sg.pop()
			sg.w.p.unreserve(g.buf)
			sg.w.s.env.meter.addRead(size)
			if err := sg.w.AppendKnown(ctx, g.want); err != nil {
				return err
			}
		case n == size:
			// Other bytes, same cut: a new chunk, hashed already.
			sg.pop()
			if err := sg.w.appendReserved(ctx, g.buf, &g.got); err != nil {
				return err
			}
		default:
			return sg.giveBack(ctx, n)
		}
		if sg.off {
			return sg.giveBack(ctx, -1)
		}
	}
}

// end returns where the chunk that starts with guess g's bytes ends
// within them, as scanChunk does: scanning them unless they are the
// previous chunk and its boundary can be trusted. A previous chunk whose
// boundary turns out not to be this chunker's switches guessing off.
func (sg *streamGuesser) end(g *chunkGuess) int {
	size := len(g.data())
	if g.verify {
		sg.checking--
		if g.got == g.want && !g.last {
			if g.cutAt != size {
				sg.off = true
			} else {
				sg.agreed++
			}
		}
		return g.cutAt
	}
	if g.got != g.want {
		return scanChunk(sg.cut.ck, g.data())
	}
	if g.last {
		if sg.cut.ended() && size <= 4*sg.avg {
			return size
		}
		// The previous stream ended here; this one goes on. Its bytes are
		// the same, so its chunk ends here too only if this is a cut.
		return scanChunk(sg.cut.ck, g.data())
	}
	if size < sg.avg/4 || size > 4*sg.avg || (size < 4*sg.avg && !endsAtCut(sg.cut.ck, g.data(), sg.avg/4)) {
		sg.off = true
		return scanChunk(sg.cut.ck, g.data())
	}
	return size
}

// fill reads guesses until depth are queued or the previous index has no
// chunk at the next offset.
func (sg *streamGuesser) fill(ctx context.Context) error {
	for len(sg.queue) < sg.depth {
		size, want, last, ok := sg.at(sg.w.next + sg.ahead)
		if !ok {
			return nil
		}
		buf, err := sg.w.p.reserve(ctx, size)
		if err != nil {
			return err
		}
		n, err := sg.cut.take(buf[hdr:])
		if err != nil {
			sg.w.p.unreserve(buf)
			return err
		}
		if n < size {
			// The input ends inside the chunk: the cutter cuts the rest.
			sg.cut.untake(buf[hdr : hdr+n])
			sg.w.p.unreserve(buf)
			return nil
		}
		if last {
			if err := sg.cut.peek(); err != nil {
				sg.w.p.unreserve(buf)
				return err
			}
		}
		g := &chunkGuess{buf: buf, want: want, last: last, done: make(chan struct{})}
		if sg.agreed+sg.checking < verifyFirst {
			g.verify = true
			sg.checking++
		}
		go g.hash(sg.avg)
		sg.queue = append(sg.queue, g)
		sg.ahead += uint64(size)
	}
	return nil
}

// hash sets got and, to verify, cutAt, then closes done.
func (g *chunkGuess) hash(avg int) {
	defer close(g.done)
	g.got = datastore.ComputeDigest(g.data())
	if g.verify {
		ck, err := chunker.New(avg)
		if err != nil {
			return // cannot be: the cutter has one of this average
		}
		g.cutAt = scanChunk(ck, g.data())
	}
}

// pop removes the confirmed head of the queue.
func (sg *streamGuesser) pop() {
	g := sg.queue[0]
	sg.queue[0] = nil
	sg.queue = sg.queue[1:]
	sg.ahead -= uint64(len(g.data()))
}

// giveBack ends guessing at the head of the queue, which is cut after n
// bytes (0: not within them; -1: no head, the queue is all given back):
// the chunk of those n bytes is appended, and everything read after them
// goes back to the cutter, in order.
func (sg *streamGuesser) giveBack(ctx context.Context, n int) error {
	for _, g := range sg.queue {
		<-g.done // hashing reads the buffers
	}
	rest := sg.queue
	var head *chunkGuess
	var back [][]byte
	if n >= 0 {
		head, rest = sg.queue[0], sg.queue[1:]
		back = append(back, head.data()[n:])
	}
	for _, g := range rest {
		back = append(back, g.data())
	}
	sg.cut.untake(back...)
	for _, g := range rest {
		sg.w.p.unreserve(g.buf)
	}
	sg.queue, sg.ahead, sg.checking = nil, 0, 0
	switch {
	case head == nil:
		return nil
	case n == 0:
		sg.w.p.unreserve(head.buf)
		return nil
	}
	return sg.w.appendReserved(ctx, head.buf[:hdr+n], nil)
}

// drop releases every guess after a failure.
func (sg *streamGuesser) drop() {
	for _, g := range sg.queue {
		<-g.done
		sg.w.p.unreserve(g.buf)
	}
	sg.queue, sg.ahead, sg.checking = nil, 0, 0
}

// scanChunk returns where a chunk starting with data ends within it (the
// chunker's cut, or len(data) at the maximum size), or 0 if it goes on.
// ck is reset before and after.
func scanChunk(ck *chunker.Chunker, data []byte) int {
	ck.Reset()
	n := ck.Scan(data)
	ck.Reset()
	return n
}

// endsAtCut reports whether the hash of the chunker ck (reset before and
// after) allows a cut right after data, which is at least minLen (the
// chunker's minimum) long: only the window before the end is hashed.
func endsAtCut(ck *chunker.Chunker, data []byte, minLen int) bool {
	return len(data) >= minLen && scanChunk(ck, data[len(data)-minLen:]) == minLen
}

// appendReserved appends the chunk in buf (from the pipeline's reserve,
// data from hdr on); d, when not nil, is its digest already.
func (w *ArchiveWriter) appendReserved(ctx context.Context, buf []byte, d *datastore.Digest) error {
	size := len(buf) - hdr
	if err := w.check(size); err != nil {
		w.p.unreserve(buf)
		return err
	}
	var err error
	if d != nil {
		err = w.p.submitHashed(ctx, w.next, buf, *d)
	} else {
		err = w.p.submitBuf(ctx, w.next, buf, nil)
	}
	if err != nil {
		return err
	}
	w.advance(size)
	return nil
}

// take moves the next len(dst) bytes of the input (what was read ahead
// first) into dst, fewer only where the input ends.
func (c *streamCutter) take(dst []byte) (int, error) {
	n := copy(dst, c.carry)
	c.carry = c.carry[:copy(c.carry, c.carry[n:])]
	for n < len(dst) && c.err == nil {
		m, err := c.read(dst[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// untake puts bytes taken back in front of the input, in the order given
// and before anything read ahead: the cutter reads them again first.
func (c *streamCutter) untake(parts ...[]byte) {
	total := len(c.carry) + len(c.replay)
	for _, p := range parts {
		total += len(p)
	}
	if total == 0 {
		return
	}
	joined := make([]byte, 0, total)
	for _, p := range parts {
		joined = append(joined, p...)
	}
	joined = append(joined, c.carry...)
	c.replay = append(joined, c.replay...)
	c.carry = c.carry[:0]
	if c.err != nil {
		// The end of the input comes after the bytes given back.
		c.held, c.err = c.err, nil
	}
}

// peek reads ahead, if nothing is read ahead yet, so that ended knows.
func (c *streamCutter) peek() error {
	if len(c.carry) > 0 || len(c.replay) > 0 || c.err != nil {
		return nil
	}
	n, err := c.read(c.carry[:cap(c.carry)])
	c.carry = c.carry[:n]
	return err
}

// ended reports whether the input is used up: nothing read ahead or given
// back, and the end seen.
func (c *streamCutter) ended() bool {
	return len(c.carry) == 0 && len(c.replay) == 0 && errors.Is(c.err, io.EOF)
}
