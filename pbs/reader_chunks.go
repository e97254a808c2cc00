package pbs

import (
	"container/list"
	"context"
	"errors"
	"net/url"
	"sync"

	"github.com/proxkit/proxkit/datastore"
)

// maxChunkBlob is the largest encoded chunk: 16 MiB of data plus the
// largest blob header.
const maxChunkBlob = 16<<20 + 44

// chunkSource returns the encoded bytes of a chunk (the DataBlob as
// stored). The reader session's source is GET chunk; tests read chunk
// files of a local datastore.
type chunkSource interface {
	fetchChunk(ctx context.Context, d datastore.Digest, dst []byte) ([]byte, error)
}

// fetchChunk implements chunkSource for a reader session (PBS: GET
// chunk?digest=; only chunks of indexes downloaded in the session).
func (s *session) fetchChunk(ctx context.Context, d datastore.Digest, dst []byte) ([]byte, error) {
	return s.download(ctx, "/chunk", url.Values{"digest": {d.String()}}, dst, maxChunkBlob)
}

// chunkFetcher fetches, decodes and verifies chunks: each digest is
// fetched once while in use (concurrent requests for it share the
// fetch) and kept in an LRU cache of decoded chunks afterwards. Decoded
// chunks are shared and must not be modified.
type chunkFetcher struct {
	src      chunkSource
	decoders chan *datastore.BlobDecoder
	raw      *bufferPool

	mu       sync.Mutex
	inflight map[datastore.Digest]*fetchCall
	cache    *chunkCache
}

// fetchCall is one fetch in progress.
type fetchCall struct {
	done chan struct{}
	data []byte
	err  error
}

func newChunkFetcher(src chunkSource, cacheSize int64, parallel int) *chunkFetcher {
	return &chunkFetcher{
		src:      src,
		decoders: make(chan *datastore.BlobDecoder, parallel),
		raw:      newBufferPool(parallel),
		inflight: map[datastore.Digest]*fetchCall{},
		cache:    newChunkCache(cacheSize),
	}
}

// get returns the plain data of chunk d, which the index says holds size
// bytes. Errors are the source's, or *datastore.FormatError values (bad
// CRC, digest, size) for data that does not verify.
func (f *chunkFetcher) get(ctx context.Context, d datastore.Digest, size int) ([]byte, error) {
	f.mu.Lock()
	if data, ok := f.cache.get(d); ok && len(data) == size {
		f.mu.Unlock()
		return data, nil
	}
	if c, ok := f.inflight[d]; ok {
		f.mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		switch {
		case c.err == nil && len(c.data) != size:
			return f.fetch(ctx, d, size) // same digest, other size: a corrupt index; let it fail on its own
		case isContextErr(c.err) && ctx.Err() == nil:
			return f.get(ctx, d, size) // the fetch was cancelled for its caller, not for this one
		}
		return c.data, c.err
	}
	c := &fetchCall{done: make(chan struct{})}
	f.inflight[d] = c
	f.mu.Unlock()

	c.data, c.err = f.fetch(ctx, d, size)
	f.mu.Lock()
	delete(f.inflight, d)
	if c.err == nil {
		f.cache.put(d, c.data)
	}
	f.mu.Unlock()
	close(c.done)
	return c.data, c.err
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// fetch downloads and decodes one chunk. An uncompressed chunk's data is
// a view of the downloaded blob, which then stays with the chunk; the
// blob of a compressed one goes back to the pool.
func (f *chunkFetcher) fetch(ctx context.Context, d datastore.Digest, size int) ([]byte, error) {
	raw, err := f.src.fetchChunk(ctx, d, f.raw.get(0))
	if err != nil {
		f.raw.put(raw)
		return nil, err
	}
	var dec *datastore.BlobDecoder
	select {
	case dec = <-f.decoders:
	default:
		dec = datastore.NewBlobDecoder()
	}
	data, err := dec.DecodeChunkView(nil, raw, d, size)
	select {
	case f.decoders <- dec:
	default:
	}
	if err != nil || !viewOf(data, raw) {
		f.raw.put(raw)
	}
	if err != nil {
		return nil, err
	}
	return data, nil
}

// viewOf reports whether data lies in blob's memory.
func viewOf(data, blob []byte) bool {
	return len(data) > 0 && len(blob) >= len(data) && &data[0] == &blob[len(blob)-len(data)]
}

// chunkCache is an LRU cache of decoded chunks bounded by their total
// size. It is guarded by its fetcher's mutex.
type chunkCache struct {
	limit int64
	used  int64
	order *list.List // front: most recently used
	items map[datastore.Digest]*list.Element
}

type cacheEntry struct {
	digest datastore.Digest
	data   []byte
}

func newChunkCache(limit int64) *chunkCache {
	return &chunkCache{limit: limit, order: list.New(), items: map[datastore.Digest]*list.Element{}}
}

func (c *chunkCache) get(d datastore.Digest) ([]byte, bool) {
	e, ok := c.items[d]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).data, true
}

// put caches data, counting its capacity: a view of a larger download
// buffer holds all of it.
func (c *chunkCache) put(d datastore.Digest, data []byte) {
	if int64(cap(data)) > c.limit {
		return
	}
	if e, ok := c.items[d]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.items[d] = c.order.PushFront(&cacheEntry{digest: d, data: data})
	c.used += int64(cap(data))
	for c.used > c.limit {
		last := c.order.Back()
		ent := last.Value.(*cacheEntry)
		c.order.Remove(last)
		delete(c.items, ent.digest)
		c.used -= int64(cap(ent.data))
	}
}
