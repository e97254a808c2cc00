package pbs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"sync"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/h2upgrade"
)

// Defaults of ReaderOptions.
const (
	// DefaultChunkCacheSize bounds the decoded chunks a reader session
	// keeps for repeated digests and random access: 64 MiB.
	DefaultChunkCacheSize = 64 << 20
	// DefaultPrefetch is how many chunks RestoreArchive fetches ahead of
	// the one it writes.
	DefaultPrefetch = 8
)

// maxIndexFile bounds a downloaded index (a fixed index of a 64 TiB image
// is 512 MiB).
const maxIndexFile = 1 << 30

// ReaderOptions name the snapshot a reader session opens and tune it.
// Datastore and Snapshot are required.
type ReaderOptions struct {
	// Datastore holds the snapshot.
	Datastore string
	// Namespace of the snapshot's group; the zero value is the root.
	Namespace datastore.Namespace
	// Snapshot is the snapshot to read, e.g. from datastore.ParseSnapshot.
	Snapshot datastore.Snapshot
	// CacheSize bounds the memory of decoded chunks kept for reuse; 0
	// means DefaultChunkCacheSize, negative disables the cache (repeated
	// digests are then still fetched once per concurrent use).
	CacheSize int64
	// Prefetch is how many chunks RestoreArchive and Archive.WriteTo keep
	// in flight ahead of the one being written, fetched and verified
	// concurrently; 0 means DefaultPrefetch.
	Prefetch int
	// Debug asks the server for a verbose task log ("debug" parameter).
	Debug bool
}

// ReaderSession reads one snapshot over its own connection: its
// manifest, blobs and archives, every chunk checked against its digest and
// every file against the manifest. It is safe for concurrent use. As with
// sql.DB.BeginTx, the context given to StartReader governs the session;
// Close ends it.
type ReaderSession struct {
	sess     *session
	opts     ReaderOptions
	manifest *datastore.Manifest

	ctx       context.Context
	cancel    context.CancelCauseFunc
	stopWatch func() bool

	chunks *chunkFetcher

	mu      sync.Mutex
	indexes map[string]chunkIndex // indexes downloaded in this session
}

// StartReader opens a reader session on a snapshot and downloads its
// manifest (PBS: GET /api2/json/reader with the protocol upgrade, then GET
// download?file-name=index.json.blob; needs Datastore.Read, or
// Datastore.Backup and ownership of the group). The snapshot must be
// finished.
func (c *Client) StartReader(ctx context.Context, opts ReaderOptions) (*ReaderSession, error) {
	if opts.Datastore == "" {
		return nil, errors.New("pbs: ReaderOptions.Datastore is required")
	}
	snap := opts.Snapshot
	if err := snap.Group.Validate(); err != nil {
		return nil, fmt.Errorf("pbs: snapshot: %w", err)
	}
	if snap.Time.Unix() < 1 {
		return nil, fmt.Errorf("pbs: snapshot time %v is before 1970", snap.Time)
	}
	q := url.Values{
		"store":       {opts.Datastore},
		"backup-type": {string(snap.Type)},
		"backup-id":   {snap.ID},
		"backup-time": {strconv.FormatInt(snap.Time.Unix(), 10)},
		"debug":       {strconv.FormatBool(opts.Debug)},
	}
	if !opts.Namespace.IsRoot() {
		q.Set("ns", opts.Namespace.String())
	}
	sess, err := c.dialSession(ctx, "reader", h2upgrade.ReaderProtocol, q)
	if err != nil {
		return nil, err
	}
	if opts.Prefetch <= 0 {
		opts.Prefetch = DefaultPrefetch
	}
	cacheSize := opts.CacheSize
	if cacheSize == 0 {
		cacheSize = DefaultChunkCacheSize
	}
	r := &ReaderSession{sess: sess, opts: opts, indexes: map[string]chunkIndex{}}
	r.chunks = newChunkFetcher(sess, max(0, cacheSize), opts.Prefetch+runtime.GOMAXPROCS(0))
	r.ctx, r.cancel = context.WithCancelCause(context.WithoutCancel(ctx))
	r.stopWatch = context.AfterFunc(ctx, func() { r.closeWith(context.Cause(ctx)) })
	if err := r.loadManifest(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// loadManifest downloads and decodes the snapshot's manifest and checks it
// describes the snapshot asked for.
func (r *ReaderSession) loadManifest(ctx context.Context) error {
	raw, err := r.download(ctx, datastore.ManifestName, MaxBlobSize)
	if err != nil {
		return fmt.Errorf("pbs: download manifest: %w", err)
	}
	m, err := datastore.DecodeManifestBlob(raw)
	if err != nil {
		return &IntegrityError{Archive: datastore.ManifestName, Chunk: -1, Err: err}
	}
	got, err := m.Snapshot()
	if err != nil {
		return &IntegrityError{Archive: datastore.ManifestName, Chunk: -1, Err: err}
	}
	if want := r.opts.Snapshot; got.Group != want.Group || !got.Time.Equal(want.Time) {
		return &IntegrityError{Archive: datastore.ManifestName, Chunk: -1,
			Err: fmt.Errorf("%w: manifest describes %s, not %s", datastore.ErrBadManifest, got, want)}
	}
	r.manifest = m
	return nil
}

// download fetches a file of the snapshot (PBS: GET download?file-name=).
func (r *ReaderSession) download(ctx context.Context, name string, limit int64) ([]byte, error) {
	return r.sess.download(ctx, "/download", url.Values{"file-name": {name}}, nil, limit)
}

// Snapshot returns the snapshot the session reads.
func (r *ReaderSession) Snapshot() datastore.Snapshot { return r.opts.Snapshot }

// Manifest returns the snapshot's manifest. The caller must not modify it.
func (r *ReaderSession) Manifest() *datastore.Manifest { return r.manifest }

// Close ends the session. Archives opened from it stop working.
func (r *ReaderSession) Close() error {
	r.closeWith(ErrSessionClosed)
	return nil
}

func (r *ReaderSession) closeWith(cause error) {
	r.cancel(cause)
	r.stopWatch()
	_ = r.sess.conn.Close()
}

// lookup finds the manifest entry for name, given with or without its
// server-side extension ("disk.img" finds "disk.img.fidx").
func (r *ReaderSession) lookup(name string) (datastore.ManifestFile, datastore.ArchiveType, error) {
	candidates := []string{name}
	if _, err := datastore.ParseArchiveName(name); err != nil {
		candidates = []string{name + ".didx", name + ".fidx", name + ".blob"}
	}
	for _, n := range candidates {
		if f, ok := r.manifest.File(n); ok {
			typ, err := datastore.ParseArchiveName(n)
			if err != nil {
				return f, 0, &IntegrityError{Archive: n, Chunk: -1, Err: err}
			}
			if f.CryptMode == datastore.CryptEncrypt {
				return f, typ, fmt.Errorf("pbs: %s is encrypted: %w", n, datastore.ErrEncrypted)
			}
			return f, typ, nil
		}
	}
	return datastore.ManifestFile{}, 0, fmt.Errorf("%w: %s in %s", ErrNotInManifest, name, r.opts.Snapshot)
}
