package pbs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/proxkit/proxkit/chunker"
	"github.com/proxkit/proxkit/datastore"
)

// ErrEmptyArchive: the source of UploadStream holds no data. PBS cannot
// store an empty dynamic archive, so nothing was sent.
var ErrEmptyArchive = errors.New("pbs: empty archive")

// UploadResult is what one archive or blob upload produced.
type UploadResult struct {
	// File is the manifest entry: the server-side name, the plain size
	// and index checksum of an archive, or the encoded size and SHA-256 of
	// a blob.
	File datastore.ManifestFile
	// Stats counts what this upload did.
	Stats UploadStats
}

// UploadStream stores everything r yields as the dynamic archive name
// (".didx" is added when missing, e.g. "db.sql" becomes "db.sql.didx"),
// cut into content-defined chunks exactly where proxmox-backup-client
// cuts them, so the two deduplicate against each other (PBS: POST
// dynamic_index, POST dynamic_chunk, PUT dynamic_index, POST
// dynamic_close). Chunks of the previous snapshot's archive of the same
// name, and chunks already uploaded in this session, are not sent again.
// Where the stream still holds the previous archive's chunks, they are
// recognised by their digests along the previous index, without running
// the chunker over them; the boundaries are the chunker's all the same.
//
// Reading, hashing, compressing and uploading overlap; memory stays
// bounded by BackupOptions.MaxChunksInFlight. An empty r is refused with
// ErrEmptyArchive before anything is sent. Any other failure, cancelling
// ctx included, aborts the session.
func (s *BackupSession) UploadStream(ctx context.Context, name string, r io.Reader, opts ...UploadOption) (*UploadResult, error) {
	cfg, err := newUploadConfig(opts)
	if err != nil {
		return nil, err
	}
	name = datastore.ServerArchiveName(name, datastore.ArchiveDynamic)
	if err := s.usable(); err != nil {
		return nil, err
	}
	cut, err := newStreamCutter(r, cfg.avgChunkSize, s.env.plain)
	if err != nil {
		return nil, err
	}
	defer cut.close()
	// The first bytes are read before the server hears of the archive, so
	// that an empty source leaves the session intact.
	empty, err := cut.prime()
	switch {
	case err != nil:
		return nil, fmt.Errorf("pbs: %s: %w", name, err)
	case empty:
		return nil, fmt.Errorf("%w: %s", ErrEmptyArchive, name)
	}
	w, err := s.createArchive(ctx, name, datastore.ArchiveDynamic, 0, cfg)
	if err != nil {
		return nil, err
	}
	// Buffers take the largest chunk plus one block read past its cut, so
	// they never grow: a pool of equal buffers, only touched as far as the
	// chunks reach, and no garbage.
	capacity := 4*cfg.avgChunkSize + cut.block
	var guess *streamGuesser
	if !cfg.noReuse && !s.opts.NoReuse {
		guess = newStreamGuesser(w, cut, s.previousDynamic(name), cfg.avgChunkSize)
	}
	return w.run(ctx, func() error {
		for {
			if guess != nil && guess.synced() {
				if err := guess.run(ctx); err != nil {
					return err
				}
			}
			switch err := w.appendCut(ctx, capacity, cut.next); {
			case errors.Is(err, io.EOF):
				return nil
			case err != nil:
				return err
			}
		}
	})
}

// streamCutter cuts a stream into content-defined chunks read straight
// into pipeline buffers, behind the room for the blob header: the input
// is read in blocks and scanned with the chunker as it comes; the bytes of
// the last block after a cut (at most one block) are carried over into the
// next chunk's buffer. So every byte is read once into the buffer it is
// hashed and uploaded from, where chunker.Stream would hand out chunks of
// its own buffer to be copied.
type streamCutter struct {
	r     io.Reader
	ck    *chunker.Chunker
	par   *segScanner // nil: scan as the input comes
	block int
	carry []byte // read but not scanned yet: the next chunk's first bytes
	err   error  // what ended the input: io.EOF, or a read error
	pool  *bufferPool

	// Bytes given back by a streamGuesser, read again before the input,
	// and the input's end if it had been seen already.
	replay []byte
	held   error
}

func newStreamCutter(r io.Reader, avg int, pool *bufferPool) (*streamCutter, error) {
	ck, err := chunker.New(avg)
	if err != nil {
		return nil, fmt.Errorf("pbs: %w", err)
	}
	block := min(256<<10, max(64<<10, avg/4))
	c := &streamCutter{r: r, ck: ck, block: block, pool: pool, par: newSegScanner(avg)}
	carry := block
	if c.par != nil {
		// What follows a cut: the rest of a round and the next one, read ahead.
		carry = max(carry, 2*c.par.width()*segLen)
	}
	c.carry = make([]byte, 0, carry)
	return c, nil
}

// close stops the cutter's helpers, if any.
func (c *streamCutter) close() {
	if c.par != nil {
		c.par.stop()
	}
}

// prime reads the first block and reports whether the input is empty.
func (c *streamCutter) prime() (empty bool, err error) {
	n, err := c.read(c.carry[:c.block])
	c.carry = c.carry[:n]
	if err != nil {
		return false, err
	}
	return n == 0 && c.err != nil, nil
}

// read reads at least one byte into b unless the input ends (c.err is
// then io.EOF) or fails (the error is returned and kept).
func (c *streamCutter) read(b []byte) (int, error) {
	if len(c.replay) > 0 {
		n := copy(b, c.replay)
		c.replay = c.replay[n:]
		if len(c.replay) == 0 {
			c.replay, c.err, c.held = nil, c.held, nil
		}
		return n, nil
	}
	n, err := io.ReadAtLeast(c.r, b, 1)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		c.err = io.EOF
		return n, nil
	default:
		c.err = fmt.Errorf("read input: %w", err)
		return n, c.err
	}
}

// next appends the next chunk to dst, which holds the header room, and
// returns it (possibly moved to a larger buffer). After the last chunk it
// returns io.EOF.
func (c *streamCutter) next(dst []byte) ([]byte, error) {
	if c.par != nil {
		return c.nextParallel(dst)
	}
	start := len(dst)
	for {
		var fresh []byte
		switch {
		case len(c.carry) > 0:
			dst = c.room(dst, len(c.carry))
			n := len(dst)
			dst = append(dst, c.carry...)
			c.carry = c.carry[:0]
			fresh = dst[n:]
		case c.err != nil:
			if len(dst) > start && errors.Is(c.err, io.EOF) {
				return dst, nil // the final chunk: whatever follows the last cut
			}
			return dst, c.err
		default:
			dst = c.room(dst, c.block)
			n := len(dst)
			m, err := c.read(dst[n : n+c.block])
			dst = dst[:n+m]
			if err != nil {
				return dst, err
			}
			fresh = dst[n:]
		}
		if k := c.ck.Scan(fresh); k > 0 {
			end := len(dst) - len(fresh) + k
			c.carry = append(c.carry, dst[end:]...)
			return dst[:end], nil
		}
	}
}

// room makes sure dst can take n more bytes, moving it to a larger buffer
// (and giving the old one back) when it cannot.
func (c *streamCutter) room(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	grown := make([]byte, len(dst), max(2*cap(dst), len(dst)+n))
	copy(grown, dst)
	c.pool.put(dst)
	return grown
}

// run feeds the writer with feed and closes it. Any failure, and the end
// of ctx while it runs, fails the session: the server holds an open
// writer that cannot be finished.
func (w *ArchiveWriter) run(ctx context.Context, feed func() error) (*UploadResult, error) {
	stop := context.AfterFunc(ctx, func() { w.p.fail(context.Cause(ctx)) })
	defer stop()
	if err := feed(); err != nil {
		w.closed = true
		if perr := w.p.close(); perr != nil {
			err = perr // the pipeline's own failure says more than its echo
		}
		return nil, w.failed(err)
	}
	return w.Close(ctx)
}
