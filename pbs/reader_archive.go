package pbs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/proxkit/proxkit/datastore"
)

// chunkIndex is what reading needs of a fixed or dynamic index.
type chunkIndex interface {
	Count() int
	Size() uint64
	// chunk returns chunk i's byte range and digest.
	chunk(i int) (start, end uint64, d datastore.Digest)
	// find returns the chunk holding offset.
	find(offset uint64) (int, bool)
	// checksum recomputes the index checksum the manifest lists.
	checksum() (datastore.Digest, error)
}

type fixedIndex struct{ *datastore.FixedIndex }

func (x fixedIndex) chunk(i int) (uint64, uint64, datastore.Digest) {
	start, end := x.ChunkRange(i)
	return start, end, x.Digest(i)
}

func (x fixedIndex) find(off uint64) (int, bool) {
	i, _, ok := x.ChunkFor(off)
	return i, ok
}

func (x fixedIndex) checksum() (datastore.Digest, error) { return x.Checksum(), nil }

type dynamicIndex struct{ *datastore.DynamicIndex }

func (x dynamicIndex) chunk(i int) (uint64, uint64, datastore.Digest) { return x.Entry(i) }

func (x dynamicIndex) find(off uint64) (int, bool) { return x.ChunkFor(off) }

func (x dynamicIndex) checksum() (datastore.Digest, error) {
	sum, err := x.Checksum()
	return sum, err
}

// checkIndex compares an index with its manifest entry: the recomputed
// checksum and the size must be what the manifest lists (pbs-protocol.md
// 4.3); the stored checksum is not trusted.
func checkIndex(f datastore.ManifestFile, ix chunkIndex) error {
	want, err := f.CsumDigest()
	if err != nil {
		return &IntegrityError{Archive: f.Filename, Chunk: -1, Err: err}
	}
	got, err := ix.checksum()
	if err != nil {
		return &IntegrityError{Archive: f.Filename, Chunk: -1, Err: err}
	}
	if got != want {
		return &IntegrityError{Archive: f.Filename, Chunk: -1,
			Err: fmt.Errorf("%w: index checksum %s, manifest says %s", datastore.ErrChecksum, got, want)}
	}
	if ix.Size() != f.Size {
		return &IntegrityError{Archive: f.Filename, Chunk: -1,
			Err: fmt.Errorf("%w: index holds %d bytes, manifest says %d", datastore.ErrSizeMismatch, ix.Size(), f.Size)}
	}
	return nil
}

// Archive is one archive of a snapshot opened for reading: a fixed image,
// a dynamic stream or a blob. It is an io.ReaderAt (random access, chunks
// fetched on demand and cached) and an io.WriterTo (sequential restore
// with chunks fetched ahead). Every chunk is verified against its digest
// and size before its bytes are handed out; a chunk that does not verify
// fails the read with an *IntegrityError naming it. An Archive is safe for
// concurrent use and works while its session is open.
type Archive struct {
	name     string
	typ      datastore.ArchiveType
	ix       chunkIndex // nil for blobs
	blob     []byte     // the decoded data of a blob
	chunks   *chunkFetcher
	ctx      context.Context // the session's: io.ReaderAt has no context
	prefetch int
}

// Name returns the archive's server-side name.
func (a *Archive) Name() string { return a.name }

// Type returns the kind of archive.
func (a *Archive) Type() datastore.ArchiveType { return a.typ }

// Size returns the archive's plain size in bytes.
func (a *Archive) Size() int64 {
	if a.ix == nil {
		return int64(len(a.blob))
	}
	return int64(a.ix.Size())
}

// Chunks returns the number of chunks of the archive's index (0 for a
// blob).
func (a *Archive) Chunks() int {
	if a.ix == nil {
		return 0
	}
	return a.ix.Count()
}

// ReadAt implements io.ReaderAt over the archive's plain data.
func (a *Archive) ReadAt(p []byte, off int64) (int, error) {
	return a.readAt(a.ctx, p, off)
}

func (a *Archive) readAt(ctx context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("pbs: %s: negative offset %d", a.name, off)
	}
	size := a.Size()
	if off >= size {
		return 0, io.EOF
	}
	if a.ix == nil {
		n := copy(p, a.blob[off:])
		if n < len(p) {
			return n, io.EOF
		}
		return n, nil
	}
	n := 0
	for n < len(p) && off < size {
		i, ok := a.ix.find(uint64(off))
		if !ok {
			break
		}
		start, _, _ := a.ix.chunk(i)
		data, err := a.chunk(ctx, i)
		if err != nil {
			return n, err
		}
		k := copy(p[n:], data[uint64(off)-start:])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// chunk returns the verified data of chunk i.
func (a *Archive) chunk(ctx context.Context, i int) ([]byte, error) {
	start, end, d := a.ix.chunk(i)
	if end <= start || end-start > maxChunkBlob {
		return nil, &IntegrityError{Archive: a.name, Chunk: i, Offset: start, Digest: d,
			Err: fmt.Errorf("%w: index gives the chunk %d..%d", datastore.ErrBadIndex, start, end)}
	}
	data, err := a.chunks.get(ctx, d, int(end-start))
	if err != nil {
		return nil, chunkError(a.name, i, start, d, err)
	}
	return data, nil
}

// chunkError names the chunk a fetch failed for: data that did not verify
// is an *IntegrityError, anything else (the server refused, the session
// ended) is wrapped as it is.
func chunkError(name string, i int, offset uint64, d datastore.Digest, err error) error {
	var fe *datastore.FormatError
	if errors.As(err, &fe) {
		return &IntegrityError{Archive: name, Chunk: i, Offset: offset, Digest: d, Err: err}
	}
	return fmt.Errorf("pbs: %s: chunk %d at offset %d (digest %s): %w", name, i, offset, d, err)
}

// WriteTo implements io.WriterTo: it writes the whole archive to w in
// order, fetching and verifying the next chunks concurrently.
func (a *Archive) WriteTo(w io.Writer) (int64, error) {
	return a.writeTo(a.ctx, w)
}

func (a *Archive) writeTo(ctx context.Context, w io.Writer) (int64, error) {
	if a.ix == nil {
		n, err := w.Write(a.blob)
		return int64(n), err
	}
	count := a.ix.Count()
	ahead := max(1, a.prefetch)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		data []byte
		err  error
	}
	ring := make([]chan result, ahead)
	start := func(i int) {
		ch := make(chan result, 1)
		ring[i%ahead] = ch
		go func() {
			data, err := a.chunk(ctx, i)
			ch <- result{data, err}
		}()
	}
	for i := range min(ahead, count) {
		start(i)
	}
	var written int64
	for i := range count {
		r := <-ring[i%ahead]
		if r.err != nil {
			return written, r.err
		}
		if next := i + ahead; next < count {
			start(next)
		}
		n, err := w.Write(r.data)
		written += int64(n)
		if err == nil && n < len(r.data) {
			err = io.ErrShortWrite
		}
		if err != nil {
			return written, err
		}
	}
	if written != a.Size() {
		return written, &IntegrityError{Archive: a.name, Chunk: -1,
			Err: fmt.Errorf("%w: chunks hold %d bytes, the index %d", datastore.ErrSizeMismatch, written, a.Size())}
	}
	return written, nil
}
