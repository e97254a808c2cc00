package pbs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/proxkit/proxkit/datastore"
)

// UploadImage stores an image of size bytes as the fixed archive name
// (".fidx" is added when missing, e.g. "drive-scsi0.img" becomes
// "drive-scsi0.img.fidx"), in 4 MiB chunks with one shorter tail, the
// only layout PBS accepts (PBS: POST fixed_index, POST fixed_chunk, PUT
// fixed_index, POST fixed_close).
//
// As in proxmox-backup-qemu, zero chunks are recognised without hashing
// and appended by the zero chunk's digest, which is uploaded once (only
// when the image has one and the session does not know it yet; qemu
// always uploads it). Chunks of the previous snapshot's image of the same name are
// not sent again. When r is an io.ReaderAt (an *os.File, a block device)
// chunks are read concurrently by the workers; otherwise r is read in
// order and must yield at least size bytes. With WithDirtyChunks only
// the chunks that changed are read and sent.
//
// Any failure, cancelling ctx included, aborts the session.
func (s *BackupSession) UploadImage(ctx context.Context, name string, r io.Reader, size int64, opts ...UploadOption) (*UploadResult, error) {
	cfg, err := newUploadConfig(opts)
	if err != nil {
		return nil, err
	}
	if size < 1 {
		return nil, fmt.Errorf("pbs: image size %d: must be at least 1 byte", size)
	}
	ra, isReaderAt := r.(io.ReaderAt)
	if cfg.dirty != nil && !isReaderAt {
		return nil, errors.New("pbs: WithDirtyChunks needs an io.ReaderAt image")
	}
	name = datastore.ServerArchiveName(name, datastore.ArchiveFixed)
	w, err := s.createArchive(ctx, name, datastore.ArchiveFixed, uint64(size), cfg)
	if err != nil {
		return nil, err
	}
	return w.run(ctx, func() error {
		slots := len(w.slots)
		for i := range slots {
			if w.reuse && !cfg.dirty(i) {
				continue
			}
			w.seek(i)
			n := int(min(datastore.FixedChunkSize, uint64(size)-w.next))
			off := int64(w.next)
			var err error
			if isReaderAt {
				err = w.appendFrom(ctx, n, func(b []byte) error { return readChunkAt(ra, b, off, size) }, true)
			} else {
				err = w.appendFrom(ctx, n, func(b []byte) error { return readChunk(r, b, off, size) }, false)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// readChunk fills b from r, which is at offset off of an image of size
// bytes.
func readChunk(r io.Reader, b []byte, off, size int64) error {
	n, err := io.ReadFull(r, b)
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("image ends at %d bytes, before its size %d: %w", off+int64(n), size, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("read image at %d: %w", off+int64(n), err)
}

// readChunkAt fills b from offset off of r, an image of size bytes.
func readChunkAt(r io.ReaderAt, b []byte, off, size int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return fmt.Errorf("image ends at %d bytes, before its size %d: %w", off+int64(n), size, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("read image at %d: %w", off+int64(n), err)
}
