package pbstest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/proxkit/proxkit/datastore"
)

// chunkWorkers bounds how many chunk uploads are read and checked at the
// same time and recycles their buffers and decoders, so a client with a
// hundred uploads in flight costs a bounded amount of memory: HTTP/2 flow
// control holds back the bodies of the uploads that wait. It is shared by
// the sessions of a server and safe for concurrent use.
type chunkWorkers struct {
	slots    chan struct{}
	bodies   sync.Pool // *[]byte, encoded chunks
	checkers sync.Pool // *chunkChecker
}

// chunkChecker decodes chunks to verify them, keeping its zstd decoder
// and output buffer between uses.
type chunkChecker struct {
	dec   *datastore.BlobDecoder
	plain []byte
}

// newChunkWorkers allows n chunk uploads at once; n <= 0 means twice the
// number of CPUs, at least 4.
func newChunkWorkers(n int) *chunkWorkers {
	if n <= 0 {
		n = max(2*runtime.GOMAXPROCS(0), 4)
	}
	return &chunkWorkers{slots: make(chan struct{}, n)}
}

// acquire waits for a free slot or the end of ctx.
func (c *chunkWorkers) acquire(ctx context.Context) error {
	select {
	case c.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release frees a slot taken by acquire.
func (c *chunkWorkers) release() { <-c.slots }

// body returns a buffer of length n.
func (c *chunkWorkers) body(n int) *[]byte {
	if p, ok := c.bodies.Get().(*[]byte); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n)
	return &b
}

// checker returns a chunk checker.
func (c *chunkWorkers) checker() *chunkChecker {
	if ck, ok := c.checkers.Get().(*chunkChecker); ok {
		return ck
	}
	return &chunkChecker{dec: datastore.NewBlobDecoder()}
}

// uploadChunk reads, checks and stores one uploaded chunk (POST
// fixed_chunk / dynamic_chunk, pbs-protocol.md 3.5.6): the body must be
// exactly encoded-size bytes and a DataBlob; its CRC is recomputed, an
// unencrypted chunk must decode to size bytes hashing to digest, and then
// it goes into the chunk store and becomes known to the session.
func (s *backupSession) uploadChunk(ctx context.Context, fixed bool, c chunkUpload, body io.Reader) (datastore.Digest, error) {
	if err := s.chunks.acquire(ctx); err != nil {
		return datastore.Digest{}, err
	}
	defer s.chunks.release()
	bp := s.chunks.body(c.encodedSize + 1)
	defer s.chunks.bodies.Put(bp)

	n, err := io.ReadFull(body, *bp)
	switch {
	case err == nil:
		return datastore.Digest{}, errors.New(msgChunkTooLarge)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		if n != c.encodedSize {
			return datastore.Digest{}, errors.New(msgChunkSize)
		}
	default:
		return datastore.Digest{}, fmt.Errorf("reading uploaded chunk failed: %w", err)
	}
	blob := (*bp)[:n]
	hdr, err := datastore.ParseBlobHeader(blob)
	if err != nil {
		return datastore.Digest{}, err
	}
	if err := datastore.FixBlobCRC(blob); err != nil {
		return datastore.Digest{}, err
	}
	if !hdr.Kind.Encrypted() {
		if err := s.chunks.verify(blob, c.digest, c.size); err != nil {
			return datastore.Digest{}, err
		}
	}
	res, err := s.store.InsertChunk(c.digest, blob)
	if err != nil {
		return datastore.Digest{}, err
	}
	return c.digest, s.registerChunk(fixed, c, n, res.Duplicate)
}

// verify decodes an unencrypted chunk and checks its length and digest,
// with PBS's messages.
func (c *chunkWorkers) verify(blob []byte, d datastore.Digest, size int) error {
	ck := c.checker()
	defer c.checkers.Put(ck)
	plain, err := ck.dec.DecodeChunk(ck.plain, blob, d, size)
	if cap(plain) > cap(ck.plain) {
		ck.plain = plain[:0]
	}
	switch {
	case errors.Is(err, datastore.ErrDigestMismatch):
		return errors.New(msgChunkDigest)
	case errors.Is(err, datastore.ErrSizeMismatch), errors.Is(err, datastore.ErrTooLarge):
		return fmt.Errorf("detected chunk with wrong length (expected %d): %w", size, err)
	}
	return err
}
