package pbstest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/proxkit/proxkit/datastore"
)

// chunkWorkers bounds how many chunk uploads are read and checked at the
// same time and recycles their buffers and decoders, so a client with a
// hundred uploads in flight costs a bounded amount of memory: HTTP/2 flow
// control holds back the bodies of the uploads that wait. It is shared by
// the sessions of a server and safe for concurrent use.
//
// Buffers and decoders are kept in free lists of one per slot rather than
// in sync.Pools, which every garbage collection empties: a backup would
// otherwise allocate (and the kernel zero) fresh 4 MiB bodies all along.
type chunkWorkers struct {
	slots    chan struct{}
	bodies   chan []byte        // idle body buffers
	checkers chan *chunkChecker // idle checkers
}

// chunkChecker hashes or decodes chunks to verify them, keeping its zstd
// decoder and output buffer between uses.
type chunkChecker struct {
	dec   *datastore.BlobDecoder
	plain []byte
	sum   datastore.PayloadSum // of the body being read
}

// bodyRound is the granularity of body buffers, so that the buffers of a
// stream backup's chunks of varying sizes can be reused for each other.
const bodyRound = 1 << 20

// newChunkWorkers allows n chunk uploads at once; n <= 0 means twice the
// number of CPUs, at least 4.
func newChunkWorkers(n int) *chunkWorkers {
	if n <= 0 {
		n = max(2*runtime.GOMAXPROCS(0), 4)
	}
	return &chunkWorkers{
		slots: make(chan struct{}, n),
		// Chunk downloads take bodies too, without a slot: a restore
		// keeps about 8 going.
		bodies:   make(chan []byte, 2*n+8),
		checkers: make(chan *chunkChecker, n),
	}
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

// body returns a buffer of length n, an idle one if it is large enough.
func (c *chunkWorkers) body(n int) []byte {
	select {
	case b := <-c.bodies:
		if cap(b) >= n {
			return b[:n]
		}
	default:
	}
	return make([]byte, n, (n+bodyRound-1)/bodyRound*bodyRound)
}

// putBody keeps b for reuse unless enough buffers are idle.
func (c *chunkWorkers) putBody(b []byte) {
	select {
	case c.bodies <- b:
	default:
	}
}

// checker returns a chunk checker.
func (c *chunkWorkers) checker() *chunkChecker {
	select {
	case ck := <-c.checkers:
		return ck
	default:
		return &chunkChecker{dec: datastore.NewBlobDecoder()}
	}
}

// putChecker keeps ck for reuse unless enough checkers are idle.
func (c *chunkWorkers) putChecker(ck *chunkChecker) {
	select {
	case c.checkers <- ck:
	default:
	}
}

// uploadChunk reads, checks and stores one uploaded chunk (POST
// fixed_chunk / dynamic_chunk, pbs-protocol.md 3.5.6): the body must be
// exactly encoded-size bytes and a DataBlob; an unencrypted chunk must
// decode to size bytes hashing to digest; its CRC is recomputed (the
// uploaded one is not checked); then it goes into the chunk store and
// becomes known to the session.
func (s *backupSession) uploadChunk(ctx context.Context, fixed bool, c chunkUpload, body io.Reader) (datastore.Digest, error) {
	if err := s.chunks.acquire(ctx); err != nil {
		return datastore.Digest{}, err
	}
	defer s.chunks.release()
	buf := s.chunks.body(c.encodedSize + 1)
	defer s.chunks.putBody(buf)

	ck := s.chunks.checker()
	defer s.chunks.putChecker(ck)
	n, plain, err := readChunkBody(body, buf, &ck.sum)
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
	blob := buf[:n]
	if !plain || !acceptSummed(blob, c, &ck.sum) {
		hdr, err := datastore.ParseBlobHeader(blob)
		if err != nil {
			return datastore.Digest{}, err
		}
		if hdr.Kind.Encrypted() {
			err = datastore.FixBlobCRC(blob)
		} else {
			err = ck.verify(blob, hdr.Kind, c.digest, c.size)
		}
		if err != nil {
			return datastore.Digest{}, err
		}
	}
	res, err := s.store.InsertCheckedChunk(c.digest, blob) // its CRC is right now
	if err != nil {
		return datastore.Digest{}, err
	}
	return c.digest, s.registerChunk(fixed, c, n, res.Duplicate)
}

// verify checks an unencrypted chunk's length and digest, with PBS's
// messages, and leaves it with a correct CRC. The CRC is checked in the
// same pass as the digest (an uncompressed chunk is hashed where it lies);
// only when the uploaded one is wrong is it recomputed and the chunk
// checked again, so the result is the same as recomputing it first.
func (ck *chunkChecker) verify(blob []byte, kind datastore.BlobKind, d datastore.Digest, size int) error {
	err := ck.check(blob, kind, d, size)
	if errors.Is(err, datastore.ErrChecksum) {
		if err = datastore.FixBlobCRC(blob); err == nil {
			err = ck.check(blob, kind, d, size)
		}
	}
	switch {
	case errors.Is(err, datastore.ErrDigestMismatch):
		return errors.New(msgChunkDigest)
	case errors.Is(err, datastore.ErrSizeMismatch), errors.Is(err, datastore.ErrTooLarge):
		return fmt.Errorf("detected chunk with wrong length (expected %d): %w", size, err)
	}
	return err
}

// check decodes blob, of the given kind, keeping a grown output buffer
// for the next compressed chunk (an uncompressed one is checked in place:
// its data is a view of blob).
func (ck *chunkChecker) check(blob []byte, kind datastore.BlobKind, d datastore.Digest, size int) error {
	plain, err := ck.dec.DecodeChunkView(ck.plain, blob, d, size)
	if kind.Compressed() && cap(plain) > cap(ck.plain) {
		ck.plain = plain[:0]
	}
	return err
}
