package pbs

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/proxkit/proxkit/chunker"
	"github.com/proxkit/proxkit/datastore"
)

// ArchiveWriter writes one fixed or dynamic index of a backup session:
// the low level under UploadStream and UploadImage, for callers that cut
// or hash chunks themselves. Chunks are appended in archive order with
// AppendData (hashed, uploaded unless the session knows the digest, and
// appended once the upload was answered) or AppendKnown (a digest the
// server has in this session); Close sends the count, size and checksum,
// which the server verifies.
//
// Appends pipeline: AppendData returns as soon as the chunk is queued and
// blocks only while the session holds BackupOptions.MaxChunksInFlight
// chunks. An ArchiveWriter is not safe for concurrent use; different
// archives of one session may be written concurrently.
type ArchiveWriter struct {
	s      *BackupSession
	name   string
	typ    datastore.ArchiveType
	prefix string // "fixed" or "dynamic": the endpoint names
	wid    int
	began  time.Time
	p      *pipeline

	// producer side
	next   uint64 // offset of the next chunk
	short  bool   // fixed: the short tail chunk was appended
	closed bool

	reported error // the pipeline's failure as the session recorded it

	// appender side (read after the pipeline closed)
	mu      sync.Mutex
	dynSum  datastore.DynamicChecksum
	slots   []datastore.Digest // fixed: digest per slot
	set     []bool             // fixed: slots appended
	reuse   bool               // fixed: index pre-filled from the previous snapshot
	count   int                // appends
	written uint64             // plain bytes appended
	size    uint64             // fixed: image size
}

// CreateDynamicArchive opens a dynamic index for archive name (ending in
// .didx; the suffix is added when missing) (PBS: POST dynamic_index).
// Unless the session or opts say otherwise, the previous snapshot's index
// of the same name is downloaded first, so that its chunks can be
// appended with AppendKnown and are recognised by AppendData.
func (s *BackupSession) CreateDynamicArchive(ctx context.Context, name string, opts ...UploadOption) (*ArchiveWriter, error) {
	cfg, err := newUploadConfig(opts)
	if err != nil {
		return nil, err
	}
	return s.createArchive(ctx, datastore.ServerArchiveName(name, datastore.ArchiveDynamic), datastore.ArchiveDynamic, 0, cfg)
}

// CreateFixedArchive opens a fixed index for an image of size bytes in
// 4 MiB chunks, archive name ending in .fidx (added when missing) (PBS:
// POST fixed_index). AppendData recognises all-zero 4 MiB chunks without
// hashing them; the zero chunk is uploaded once, when the first one comes.
func (s *BackupSession) CreateFixedArchive(ctx context.Context, name string, size int64, opts ...UploadOption) (*ArchiveWriter, error) {
	cfg, err := newUploadConfig(opts)
	if err != nil {
		return nil, err
	}
	if size < 1 {
		return nil, fmt.Errorf("pbs: image size %d: must be at least 1 byte", size)
	}
	return s.createArchive(ctx, datastore.ServerArchiveName(name, datastore.ArchiveFixed), datastore.ArchiveFixed, uint64(size), cfg)
}

// createArchive reserves the name, prepares reuse of the previous index
// (for an image with a dirty map, the copy of its index) and opens the
// writer on the server.
func (s *BackupSession) createArchive(ctx context.Context, name string, typ datastore.ArchiveType, size uint64, cfg uploadConfig) (*ArchiveWriter, error) {
	if t, err := datastore.ParseArchiveName(name); err != nil {
		return nil, fmt.Errorf("pbs: %w", err)
	} else if t != typ {
		return nil, fmt.Errorf("pbs: archive name %s does not end in %s", name, typ.Extension())
	}
	if err := s.reserve(name, true); err != nil {
		return nil, err
	}
	var prev *previousIndex
	if !cfg.noReuse && !s.opts.NoReuse {
		var err error
		if prev, err = s.reusePrevious(ctx, name, typ); err != nil {
			return nil, s.fail(err)
		}
	}
	w := &ArchiveWriter{s: s, name: name, typ: typ, prefix: typ.String(), began: time.Now(), size: size}
	q := url.Values{"archive-name": {name}}
	if typ == datastore.ArchiveFixed {
		q.Set("size", strconv.FormatUint(size, 10))
		n := int((size + datastore.FixedChunkSize - 1) / datastore.FixedChunkSize)
		w.slots, w.set = make([]datastore.Digest, n), make([]bool, n)
		if cfg.dirty != nil && prev != nil && prev.fixed != nil && prev.fixed.Size() == size {
			q.Set("reuse-csum", prev.entry.Csum)
			for i := range n {
				w.slots[i] = prev.fixed.Digest(i)
			}
			w.reuse = true
		}
	}
	err := s.sess.call(ctx, http.MethodPost, "/"+w.prefix+"_index", q, formType, nil, func(raw []byte) (err error) {
		w.wid, err = decodeWriterID(raw)
		return err
	})
	if err != nil {
		return nil, s.fail(fmt.Errorf("pbs: open %s: %w", name, err))
	}
	w.p = newPipeline(s.ctx, s.env, w, cfg.compression, typ == datastore.ArchiveFixed, w.resolved, func(err error) {
		w.reported = fmt.Errorf("pbs: upload %s: %w", name, err)
		s.fail(w.reported)
	})
	return w, nil
}

// Name returns the archive's server-side name, e.g. "root.pxar.didx".
func (w *ArchiveWriter) Name() string { return w.name }

// Offset returns the archive offset at which the next appended chunk
// starts.
func (w *ArchiveWriter) Offset() int64 { return int64(w.next) }

// AppendData appends the next chunk of the archive (PBS: POST *_chunk
// unless the session knows its digest, then PUT *_index). data is copied;
// the caller may reuse it when AppendData returns. Fixed archives take
// 4 MiB chunks, the last one ending at the image size; dynamic chunks hold
// 1 byte to 16 MiB.
func (w *ArchiveWriter) AppendData(ctx context.Context, data []byte) error {
	if err := w.check(len(data)); err != nil {
		return err
	}
	err := w.p.submitData(ctx, w.next, len(data), func(b []byte) error { copy(b, data); return nil }, false)
	if err != nil {
		return err
	}
	w.advance(len(data))
	return nil
}

// appendFrom appends the next size bytes, read by fill into the buffer
// it is given; deferred fills run in a worker.
func (w *ArchiveWriter) appendFrom(ctx context.Context, size int, fill func([]byte) error, deferred bool) error {
	if err := w.check(size); err != nil {
		return err
	}
	if err := w.p.submitData(ctx, w.next, size, fill, deferred); err != nil {
		return err
	}
	w.advance(size)
	return nil
}

// appendCut appends the next chunk as cut writes it into a buffer of the
// pipeline (at least capacity bytes of room after the header room it is
// given), returning the buffer in use; io.EOF from cut means no more.
func (w *ArchiveWriter) appendCut(ctx context.Context, capacity int, cut func([]byte) ([]byte, error)) error {
	if err := w.check(1); err != nil {
		return err
	}
	buf, err := w.p.reserve(ctx, capacity)
	if err != nil {
		return err
	}
	chunk, err := cut(buf[:hdr])
	if err != nil {
		w.p.unreserve(chunk)
		return err
	}
	size := len(chunk) - hdr
	if err := w.p.submitBuf(ctx, w.next, chunk, nil); err != nil {
		return err
	}
	w.advance(size)
	return nil
}

// AppendKnown appends the next chunk by digest alone (PBS: PUT *_index):
// a chunk appended with AppendData earlier in this session (its upload is
// awaited before the append) or listed by a previous index downloaded in
// it (RegisterPrevious). Any other digest is refused with ErrUnknownChunk
// before anything is sent.
func (w *ArchiveWriter) AppendKnown(ctx context.Context, d datastore.Digest) error {
	st, ok := w.s.env.known.lookup(d)
	if !ok {
		// It may be one of this archive's chunks still being hashed.
		if err := w.p.hashed(ctx); err != nil {
			return err
		}
		if st, ok = w.s.env.known.lookup(d); !ok {
			return fmt.Errorf("%w: %s", ErrUnknownChunk, d)
		}
	}
	size := int(st.size)
	if err := w.check(size); err != nil {
		return err
	}
	if err := w.p.submitKnown(ctx, w.next, size, d, st); err != nil {
		return err
	}
	w.advance(size)
	return nil
}

// check refuses appends the server would refuse (3.5.7).
func (w *ArchiveWriter) check(size int) error {
	if w.closed {
		return fmt.Errorf("pbs: %s: writer closed", w.name)
	}
	if err := w.s.usable(); err != nil {
		return err
	}
	if size < 1 || size > chunker.MaxChunkSize {
		return fmt.Errorf("pbs: %s: chunk of %d bytes, want 1 to %d", w.name, size, chunker.MaxChunkSize)
	}
	if w.typ != datastore.ArchiveFixed {
		return nil
	}
	end := w.next + uint64(size)
	switch {
	case end > w.size:
		return fmt.Errorf("pbs: %s: chunk at %d of %d bytes goes past the image size %d", w.name, w.next, size, w.size)
	case size > datastore.FixedChunkSize:
		return fmt.Errorf("pbs: %s: fixed chunks hold at most %d bytes, got %d", w.name, datastore.FixedChunkSize, size)
	case size < datastore.FixedChunkSize && end != w.size:
		return fmt.Errorf("pbs: %s: only the last chunk may be shorter than %d bytes", w.name, datastore.FixedChunkSize)
	}
	return nil
}

// advance moves past an appended chunk. Fixed archives go on at the next
// slot, or at the next dirty one via seek.
func (w *ArchiveWriter) advance(size int) {
	w.next += uint64(size)
}

// seek moves a fixed writer to the chunk at slot (incremental images skip
// clean chunks).
func (w *ArchiveWriter) seek(slot int) {
	w.next = uint64(slot) * datastore.FixedChunkSize
}

// resolved is the appender's callback for every chunk, in order: it keeps
// the checksum the server will verify at close.
func (w *ArchiveWriter) resolved(offset uint64, size int, d datastore.Digest) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count++
	w.written += uint64(size)
	if w.typ == datastore.ArchiveDynamic {
		w.dynSum.Add(offset+uint64(size), d)
		return
	}
	slot := int(offset / datastore.FixedChunkSize)
	w.slots[slot], w.set[slot] = d, true
}

// Close waits for every append, then closes the index (PBS: POST
// fixed_close / dynamic_close with chunk-count, size and csum, which the
// server checks against what it received) and records the archive for
// the manifest. A dynamic archive needs at least one chunk; a fixed one
// every chunk, unless it is incremental. After a failed Close the session
// is aborted.
func (w *ArchiveWriter) Close(ctx context.Context) (*UploadResult, error) {
	if w.closed {
		return nil, fmt.Errorf("pbs: %s: writer closed", w.name)
	}
	w.closed = true
	if err := w.p.close(); err != nil {
		return nil, w.failed(err)
	}
	count, size, csum, err := w.summary()
	if err != nil {
		return nil, w.s.fail(err)
	}
	q := widQuery(w.wid)
	q.Set("chunk-count", strconv.Itoa(count))
	q.Set("size", strconv.FormatUint(size, 10))
	q.Set("csum", csum.String())
	if err := w.s.sess.call(ctx, http.MethodPost, "/"+w.prefix+"_close", q, formType, nil, nil); err != nil {
		return nil, w.s.fail(fmt.Errorf("pbs: close %s: %w", w.name, err))
	}
	file := datastore.ManifestFile{Filename: w.name, CryptMode: datastore.CryptNone, Size: size, Csum: csum.String()}
	if w.typ == datastore.ArchiveFixed {
		file.Size = w.size
	}
	w.s.addFile(file)
	stats := w.p.stats
	stats.Duration = time.Since(w.began)
	return &UploadResult{File: file, Stats: stats}, nil
}

// failed fails the session with err, a failure of the upload, and returns
// what to report: the error the session recorded when the pipeline failed
// by itself, else err named after the archive. Call it only after the
// pipeline closed.
func (w *ArchiveWriter) failed(err error) error {
	if w.reported != nil && errors.Is(w.reported, err) {
		return w.s.fail(w.reported)
	}
	return w.s.fail(fmt.Errorf("pbs: upload %s: %w", w.name, err))
}

// summary returns what the close call sends: the number of appends, the
// size (dynamic: the stream; fixed: the image, or the bytes written for an
// incremental image, as proxmox-backup-qemu sends) and the index checksum.
func (w *ArchiveWriter) summary() (int, uint64, datastore.Digest, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.typ == datastore.ArchiveDynamic {
		if w.count == 0 {
			return 0, 0, datastore.Digest{}, fmt.Errorf("pbs: close %s: a dynamic archive needs at least one chunk", w.name)
		}
		return w.count, w.written, w.dynSum.Sum(), nil
	}
	if !w.reuse {
		for i, ok := range w.set {
			if !ok {
				return 0, 0, datastore.Digest{}, fmt.Errorf("pbs: close %s: chunk %d of %d was never appended", w.name, i, len(w.set))
			}
		}
	}
	h := sha256.New()
	for i := range w.slots {
		h.Write(w.slots[i][:])
	}
	var sum datastore.Digest
	h.Sum(sum[:0])
	size := w.size
	if w.reuse {
		size = w.written
	}
	return w.count, size, sum, nil
}

// uploadChunk implements chunkServer (PBS: POST fixed_chunk /
// dynamic_chunk with wid, digest, size and encoded-size in the query).
func (w *ArchiveWriter) uploadChunk(ctx context.Context, d datastore.Digest, size int, blob []byte) error {
	q := widQuery(w.wid)
	q.Set("digest", d.String())
	q.Set("size", strconv.Itoa(size))
	q.Set("encoded-size", strconv.Itoa(len(blob)))
	return w.s.sess.call(ctx, http.MethodPost, "/"+w.prefix+"_chunk", q, octetType, blob, func(raw []byte) error {
		return decodeChunkAnswer(raw, d)
	})
}

// appendRequest is the JSON body of PUT fixed_index / dynamic_index.
type appendRequest struct {
	WID     int                `json:"wid"`
	Digests []datastore.Digest `json:"digest-list"`
	Offsets []uint64           `json:"offset-list"`
}

// appendChunks implements chunkServer (PBS: PUT fixed_index /
// dynamic_index, the one call with a JSON body; offsets are start
// offsets).
func (w *ArchiveWriter) appendChunks(ctx context.Context, refs []chunkRef) error {
	req := appendRequest{WID: w.wid, Digests: make([]datastore.Digest, len(refs)), Offsets: make([]uint64, len(refs))}
	for i, r := range refs {
		req.Digests[i], req.Offsets[i] = r.digest, r.offset
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	return w.s.sess.call(ctx, http.MethodPut, "/"+w.prefix+"_index", nil, jsonType, body, nil)
}
