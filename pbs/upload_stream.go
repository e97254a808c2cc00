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
	st := chunker.NewStream(r, cfg.avgChunkSize)
	// The first chunk is read before the server hears of the archive, so
	// that an empty source leaves the session intact.
	first, err := st.Next()
	switch {
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%w: %s", ErrEmptyArchive, name)
	case err != nil:
		return nil, fmt.Errorf("pbs: read %s: %w", name, err)
	}
	w, _, err := s.createArchive(ctx, name, datastore.ArchiveDynamic, 0, cfg)
	if err != nil {
		return nil, err
	}
	return w.run(ctx, func() error {
		for c := first; ; {
			data := c.Data
			if err := w.appendFrom(ctx, len(data), func(b []byte) error { copy(b, data); return nil }, false); err != nil {
				return err
			}
			if c, err = st.Next(); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fmt.Errorf("pbs: read %s: %w", name, err)
			}
		}
	})
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
