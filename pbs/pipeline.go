package pbs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/proxkit/proxkit/datastore"
)

// maxAppendBatch is the most digests one PUT *_index append carries, as
// proxmox-backup-qemu sends them (the CLI sends 64 to 127).
const maxAppendBatch = 128

// chunkRef is one entry of an index append: where the chunk starts in
// the archive and its digest.
type chunkRef struct {
	offset uint64
	digest datastore.Digest
}

// chunkServer is what the pipeline needs from the server: chunk uploads
// and index appends of one archive writer. Both block until answered.
type chunkServer interface {
	uploadChunk(ctx context.Context, d datastore.Digest, size int, blob []byte) error
	appendChunks(ctx context.Context, refs []chunkRef) error
}

// pipelineEnv is what the pipelines of one session share: the known
// chunks, the bound on chunks in flight, buffers and encoders.
type pipelineEnv struct {
	known    *knownChunks
	slots    chan struct{} // one token per chunk held in memory
	plain    *bufferPool
	encoded  *bufferPool
	encoders chan *chunkEncoder // idle encoders, reused across archives
	meter    *progressMeter
	workers  int
}

func newPipelineEnv(workers, inFlight int, progress func(Progress)) *pipelineEnv {
	return &pipelineEnv{
		known:    newKnownChunks(),
		slots:    make(chan struct{}, inFlight),
		plain:    newBufferPool(inFlight),
		encoded:  newBufferPool(inFlight),
		encoders: make(chan *chunkEncoder, 2*workers),
		meter:    &progressMeter{fn: progress},
		workers:  workers,
	}
}

func (e *pipelineEnv) getEncoder() *chunkEncoder {
	select {
	case enc := <-e.encoders:
		return enc
	default:
		return newChunkEncoder()
	}
}

func (e *pipelineEnv) putEncoder(enc *chunkEncoder) {
	select {
	case e.encoders <- enc:
	default:
	}
}

// chunkJob is one chunk on its way: read, hashed, encoded and uploaded
// (or found known), then appended in input order.
type chunkJob struct {
	offset uint64
	size   int
	buf    []byte             // blob header room, then the plain data; from the pool until uploaded or encoded
	load   func([]byte) error // fills the data in a worker (io.ReaderAt sources)
	digest datastore.Digest
	hashed bool // digest is the data's already

	ready chan struct{} // closed when digest and wait are set, or err
	wait  *chunkState   // the upload the append waits for
	fresh bool          // this job uploaded the chunk
	coded int           // encoded size, when fresh
	err   error
}

// pipeline moves the chunks of one archive to the server: the caller
// submits chunks in archive order; workers hash them and, for chunks the
// session does not know, encode them and start their uploads, each on its
// own stream; the appender takes the chunks in submission order, waits
// until each one's upload has been answered and sends the appends in
// batches of maxAppendBatch. Chunks held in memory (read but not yet
// uploaded and answered, or found known) are bounded by the session's
// slots; everything else is a digest.
type pipeline struct {
	env     *pipelineEnv
	srv     chunkServer
	comp    Compression
	fixed   bool                                              // detect zero chunks of full size
	onChunk func(offset uint64, size int, d datastore.Digest) // called by the appender, in order
	onFail  func(error)                                       // told about the first failure

	ctx    context.Context
	cancel context.CancelCauseFunc
	work   chan *chunkJob
	order  chan *chunkJob

	wg      sync.WaitGroup // workers and appender
	uploads sync.WaitGroup
	pending []*chunkJob // producer side: submitted chunks maybe not hashed yet
	closing sync.Once
	sealing atomic.Bool // the last chunk processed went out uncompressed without trying zstd

	errMu  sync.Mutex
	err    error
	closed bool // close has returned: failures come too late

	stats UploadStats // written by the appender, read after close
}

// newPipeline starts the workers and the appender under parent, which
// ends them when it is cancelled.
func newPipeline(parent context.Context, env *pipelineEnv, srv chunkServer, comp Compression, fixed bool,
	onChunk func(uint64, int, datastore.Digest), onFail func(error)) *pipeline {
	ctx, cancel := context.WithCancelCause(parent)
	p := &pipeline{
		env: env, srv: srv, comp: comp, fixed: fixed, onChunk: onChunk, onFail: onFail,
		ctx: ctx, cancel: cancel,
		work:  make(chan *chunkJob, cap(env.slots)),
		order: make(chan *chunkJob, 2*maxAppendBatch),
	}
	p.wg.Add(env.workers + 1)
	for range env.workers {
		go p.worker()
	}
	go p.appender()
	return p
}

// fail records the first failure and stops the pipeline. Calls failing
// because the pipeline's context ended (the session was aborted or failed
// elsewhere) record why it ended instead of their own echo of it. onFail
// runs under the lock, so that what it records is visible to whoever
// reads the failure afterwards. After close, fail does nothing: the
// archive is complete.
func (p *pipeline) fail(err error) {
	p.errMu.Lock()
	if p.err != nil || p.closed {
		p.errMu.Unlock()
		return
	}
	if p.ctx.Err() != nil {
		err = context.Cause(p.ctx)
	}
	p.err = err
	if p.onFail != nil {
		p.onFail(err)
	}
	p.errMu.Unlock()
	p.cancel(err)
}

// failure returns the recorded failure, or why the pipeline's context
// ended.
func (p *pipeline) failure() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	if p.err != nil {
		return p.err
	}
	if p.ctx.Err() != nil {
		return context.Cause(p.ctx)
	}
	return nil
}

// acquire takes a slot for one chunk in memory.
func (p *pipeline) acquire(ctx context.Context) error {
	select {
	case p.env.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.ctx.Done():
		return p.failure()
	}
}

func (p *pipeline) release() { <-p.env.slots }

// hdr is the room left in front of chunk data for the blob header, so that
// an uncompressed chunk is sealed where it was read.
const hdr = datastore.BlobHeaderSize

// reserve takes a slot for one chunk in memory and a buffer for it of
// length hdr+size (data from hdr on). Give both back with unreserve, or
// hand them on with submitBuf.
func (p *pipeline) reserve(ctx context.Context, size int) ([]byte, error) {
	if err := p.acquire(ctx); err != nil {
		return nil, err
	}
	return p.env.plain.get(hdr + size), nil
}

func (p *pipeline) unreserve(buf []byte) {
	p.env.plain.put(buf)
	p.release()
}

// submitData queues size bytes at offset. fill writes them into the
// buffer it gets: right away, or in a worker when deferred (for sources
// that can be read concurrently). An error from an immediate fill is
// returned as it is and nothing is queued.
func (p *pipeline) submitData(ctx context.Context, offset uint64, size int, fill func([]byte) error, deferred bool) error {
	buf, err := p.reserve(ctx, size)
	if err != nil {
		return err
	}
	var load func([]byte) error
	if deferred {
		load = fill
	} else if err := fill(buf[hdr:]); err != nil {
		p.unreserve(buf)
		return err
	}
	return p.submitBuf(ctx, offset, buf, load)
}

// submitBuf queues the chunk in buf (from reserve, data from hdr on),
// which the pipeline owns from now on, also when it fails.
func (p *pipeline) submitBuf(ctx context.Context, offset uint64, buf []byte, load func([]byte) error) error {
	return p.submitJob(ctx, &chunkJob{offset: offset, size: len(buf) - hdr, buf: buf, load: load, ready: make(chan struct{})})
}

// submitHashed is submitBuf for a chunk whose digest d is known already.
func (p *pipeline) submitHashed(ctx context.Context, offset uint64, buf []byte, d datastore.Digest) error {
	return p.submitJob(ctx, &chunkJob{offset: offset, size: len(buf) - hdr, buf: buf, digest: d, hashed: true, ready: make(chan struct{})})
}

// submitJob queues j, whose buffer the pipeline owns from now on.
func (p *pipeline) submitJob(ctx context.Context, j *chunkJob) error {
	buf, size := j.buf, j.size
	if err := p.enqueue(ctx, j); err != nil {
		p.unreserve(buf)
		return err
	}
	p.env.meter.addRead(size)
	p.track(j)
	select {
	case p.work <- j:
		return nil
	case <-p.ctx.Done():
		return p.failure()
	}
}

// submitKnown queues a chunk the session knows by digest (st), without
// data.
func (p *pipeline) submitKnown(ctx context.Context, offset uint64, size int, d datastore.Digest, st *chunkState) error {
	j := &chunkJob{offset: offset, size: size, digest: d, wait: st, ready: p.env.known.answered}
	return p.enqueue(ctx, j)
}

// enqueue hands a job to the appender, in submission order.
func (p *pipeline) enqueue(ctx context.Context, j *chunkJob) error {
	select {
	case p.order <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.ctx.Done():
		return p.failure()
	}
}

// track remembers a submitted job until it is hashed, dropping the ones
// that are.
func (p *pipeline) track(j *chunkJob) {
	if len(p.pending) >= 2*cap(p.env.slots) {
		kept := p.pending[:0]
		for _, q := range p.pending {
			select {
			case <-q.ready:
			default:
				kept = append(kept, q)
			}
		}
		clear(p.pending[len(kept):])
		p.pending = kept
	}
	p.pending = append(p.pending, j)
}

// hashed waits until every chunk submitted so far has its digest (or the
// pipeline ended), so that the session knows their digests. Only the
// producer calls it.
func (p *pipeline) hashed(ctx context.Context) error {
	for _, j := range p.pending {
		select {
		case <-j.ready:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.ctx.Done():
			return p.failure()
		}
	}
	clear(p.pending)
	p.pending = p.pending[:0]
	return nil
}

// worker hashes and encodes chunks with its own encoder.
func (p *pipeline) worker() {
	defer p.wg.Done()
	enc := p.env.getEncoder()
	defer p.env.putEncoder(enc)
	for {
		select {
		case j, ok := <-p.work:
			if !ok {
				return
			}
			p.process(enc, j)
		case <-p.ctx.Done():
			return
		}
	}
}

// process hashes one chunk and, if the session does not know it, encodes
// it and starts its upload.
func (p *pipeline) process(enc *chunkEncoder, j *chunkJob) {
	defer close(j.ready)
	drop := func() {
		p.unreserve(j.buf)
		j.buf = nil
	}
	if err := p.failure(); err != nil {
		j.err = err
		drop()
		return
	}
	chunk := j.buf[:hdr+j.size]
	data := chunk[hdr:]
	if j.load != nil {
		if err := j.load(data); err != nil {
			j.err = err
			drop()
			p.fail(err)
			return
		}
	}
	sealed := false
	switch {
	case j.hashed:
	case p.fixed && j.size == datastore.FixedChunkSize && enc.allZero(data):
		j.digest = zeroChunkDigest()
	case p.sealing.Load():
		// The last chunk went out uncompressed, so this one likely will:
		// hash it and compute its blob CRC in one pass over the data.
		j.digest, _ = datastore.SealUncompressedDigest(chunk) // chunks are far below the blob limit
		sealed = true
	default:
		j.digest = datastore.ComputeDigest(data)
	}
	st, fresh := p.env.known.claim(j.digest, j.size)
	j.wait = st
	if !fresh {
		p.sealing.Store(false)
		drop()
		return
	}
	blob, inPlace, tried, err := enc.encodeChunk(chunk, p.env.encoded, p.comp, sealed)
	p.sealing.Store(err == nil && inPlace && !tried)
	if err != nil {
		p.env.known.finish(j.digest, st, err)
		j.err = err
		drop()
		p.fail(fmt.Errorf("pbs: encode chunk at offset %d: %w", j.offset, err))
		return
	}
	pool := p.env.plain
	if !inPlace {
		p.env.plain.put(j.buf)
		pool = p.env.encoded
	}
	j.buf = nil
	j.fresh, j.coded = true, len(blob)
	p.uploads.Add(1)
	go p.upload(j.digest, j.size, st, blob, pool)
}

// upload sends one chunk and records the answer in its state; blob goes
// back to pool once answered.
func (p *pipeline) upload(d datastore.Digest, size int, st *chunkState, blob []byte, pool *bufferPool) {
	defer p.uploads.Done()
	err := p.srv.uploadChunk(p.ctx, d, size, blob)
	p.env.known.finish(d, st, err)
	if err == nil {
		// After an error the transport may still be reading the body, so
		// only an answered upload gives its buffer back.
		pool.put(blob)
	}
	p.release()
	if err != nil {
		p.fail(err)
	}
}

// appender sends the appends in submission order, each digest only after
// its upload was answered.
func (p *pipeline) appender() {
	defer p.wg.Done()
	batch := make([]chunkRef, 0, maxAppendBatch)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := p.srv.appendChunks(p.ctx, batch); err != nil {
			p.fail(err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case j, ok := <-p.order:
			if !ok {
				if p.failure() == nil {
					flush()
				}
				return
			}
			if !p.await(j) {
				continue
			}
			batch = append(batch, chunkRef{offset: j.offset, digest: j.digest})
			p.account(j)
			if len(batch) == maxAppendBatch {
				flush()
			}
		case <-p.ctx.Done():
			return
		}
	}
}

// await waits until j's digest is known and its upload answered.
func (p *pipeline) await(j *chunkJob) bool {
	select {
	case <-j.ready:
	case <-p.ctx.Done():
		return false
	}
	if j.err != nil || p.failure() != nil {
		return false
	}
	select {
	case <-j.wait.done:
	case <-p.ctx.Done():
		return false
	}
	if j.wait.err != nil {
		if !j.fresh {
			// Another archive's upload of the same chunk failed; that
			// archive reports it, this one only notes the consequence.
			p.fail(fmt.Errorf("pbs: chunk %s at offset %d: upload failed: %w", j.digest, j.offset, j.wait.err))
		}
		return false
	}
	return true
}

// account counts an appended chunk and reports progress.
func (p *pipeline) account(j *chunkJob) {
	d := UploadStats{Chunks: 1, Bytes: int64(j.size)}
	if j.fresh {
		d.NewChunks, d.NewBytes, d.UploadedBytes = 1, int64(j.size), int64(j.coded)
	} else {
		d.ReusedChunks = 1
	}
	p.stats.add(d)
	if p.onChunk != nil {
		p.onChunk(j.offset, j.size, j.digest)
	}
	p.env.meter.record(d)
}

// close waits until every submitted chunk has been appended (or the
// pipeline failed) and every upload has ended, and returns the first
// failure. The caller must not submit afterwards.
func (p *pipeline) close() error {
	p.closing.Do(func() {
		close(p.work)
		close(p.order)
	})
	p.wg.Wait()
	p.uploads.Wait()
	err := p.failure()
	p.errMu.Lock()
	p.closed = true
	p.errMu.Unlock()
	p.cancel(errPipelineClosed)
	return err
}

// errPipelineClosed ends the context of a pipeline that completed.
var errPipelineClosed = errors.New("pbs: archive upload completed")
