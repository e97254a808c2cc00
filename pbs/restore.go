package pbs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/proxkit/proxkit/datastore"
)

// OpenArchive opens an archive of the snapshot for reading, name given
// with or without its server-side extension ("disk.img" or
// "disk.img.fidx"). For an index it downloads the index (PBS: GET
// download?file-name=NAME, which also allows its chunks in this session)
// and checks its checksum and size against the manifest; a blob is
// downloaded, checked and decoded at once. A mismatch is an
// *IntegrityError; a name the manifest does not list is ErrNotInManifest.
func (r *ReaderSession) OpenArchive(ctx context.Context, name string) (*Archive, error) {
	f, typ, err := r.lookup(name)
	if err != nil {
		return nil, err
	}
	a := &Archive{name: f.Filename, typ: typ, chunks: r.chunks, ctx: r.ctx, prefetch: r.opts.Prefetch}
	if typ == datastore.ArchiveBlob {
		if a.blob, err = r.blob(ctx, f); err != nil {
			return nil, err
		}
		return a, nil
	}
	if a.ix, err = r.index(ctx, f, typ); err != nil {
		return nil, err
	}
	return a, nil
}

// index returns the checked index of f, downloading it once per session.
func (r *ReaderSession) index(ctx context.Context, f datastore.ManifestFile, typ datastore.ArchiveType) (chunkIndex, error) {
	r.mu.Lock()
	ix, ok := r.indexes[f.Filename]
	r.mu.Unlock()
	if ok {
		return ix, nil
	}
	raw, err := r.download(ctx, f.Filename, maxIndexFile)
	if err != nil {
		return nil, fmt.Errorf("pbs: download %s: %w", f.Filename, err)
	}
	if ix, err = parseIndex(f.Filename, typ, raw); err != nil {
		return nil, err
	}
	if err := checkIndex(f, ix); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.indexes[f.Filename] = ix
	r.mu.Unlock()
	return ix, nil
}

// parseIndex parses a downloaded fixed or dynamic index.
func parseIndex(name string, typ datastore.ArchiveType, raw []byte) (chunkIndex, error) {
	var ix chunkIndex
	var err error
	switch typ {
	case datastore.ArchiveFixed:
		var fx *datastore.FixedIndex
		if fx, err = datastore.ReadFixedIndex(bytes.NewReader(raw), int64(len(raw))); err == nil {
			ix = fixedIndex{fx}
		}
	case datastore.ArchiveDynamic:
		var dx *datastore.DynamicIndex
		if dx, err = datastore.ReadDynamicIndex(bytes.NewReader(raw), int64(len(raw))); err == nil {
			ix = dynamicIndex{dx}
		}
	default:
		return nil, fmt.Errorf("pbs: %s is not an index", name)
	}
	if err != nil {
		return nil, &IntegrityError{Archive: name, Chunk: -1, Err: err}
	}
	return ix, nil
}

// blob downloads the blob f and returns its plain data after checking the
// encoded bytes against the manifest entry (size and SHA-256) and the
// blob's CRC.
func (r *ReaderSession) blob(ctx context.Context, f datastore.ManifestFile) ([]byte, error) {
	raw, err := r.download(ctx, f.Filename, MaxBlobSize)
	if err != nil {
		return nil, fmt.Errorf("pbs: download %s: %w", f.Filename, err)
	}
	if err := checkBlob(f, raw); err != nil {
		return nil, err
	}
	data, err := datastore.DecodeBlob(raw)
	if err != nil {
		return nil, &IntegrityError{Archive: f.Filename, Chunk: -1, Err: err}
	}
	return data, nil
}

// checkBlob compares an encoded blob with its manifest entry.
func checkBlob(f datastore.ManifestFile, raw []byte) error {
	if uint64(len(raw)) != f.Size {
		return &IntegrityError{Archive: f.Filename, Chunk: -1,
			Err: fmt.Errorf("%w: blob has %d bytes, manifest says %d", datastore.ErrSizeMismatch, len(raw), f.Size)}
	}
	want, err := f.CsumDigest()
	if err != nil {
		return &IntegrityError{Archive: f.Filename, Chunk: -1, Err: err}
	}
	if got := datastore.Digest(sha256.Sum256(raw)); got != want {
		return &IntegrityError{Archive: f.Filename, Chunk: -1,
			Err: fmt.Errorf("%w: blob hashes to %s, manifest says %s", datastore.ErrChecksum, got, want)}
	}
	return nil
}

// DownloadBlob returns the plain data of blob name (with or without its
// ".blob" extension), checked against the manifest (PBS: GET
// download?file-name=NAME.blob). The client log (client.log.blob), which
// manifests never list, can be read too; only its CRC is checked.
func (r *ReaderSession) DownloadBlob(ctx context.Context, name string) ([]byte, error) {
	if datastore.ServerArchiveName(name, datastore.ArchiveBlob) == datastore.ClientLogName {
		raw, err := r.download(ctx, datastore.ClientLogName, MaxBlobSize)
		if err != nil {
			return nil, fmt.Errorf("pbs: download %s: %w", datastore.ClientLogName, err)
		}
		data, err := datastore.DecodeBlob(raw)
		if err != nil {
			return nil, &IntegrityError{Archive: datastore.ClientLogName, Chunk: -1, Err: err}
		}
		return data, nil
	}
	f, typ, err := r.lookup(datastore.ServerArchiveName(name, datastore.ArchiveBlob))
	if err != nil {
		return nil, err
	}
	if typ != datastore.ArchiveBlob {
		return nil, fmt.Errorf("pbs: %s is not a blob", f.Filename)
	}
	return r.blob(ctx, f)
}

// RestoreArchive writes the plain data of an archive (a fixed image, a
// dynamic stream or a blob; name with or without its extension) to w,
// fetching chunks ahead concurrently and verifying every one against its
// digest and size, and the index against the manifest (PBS: GET download,
// then GET chunk per chunk; repeated digests are fetched once). It
// returns the number of bytes written. When data does not verify, the
// *IntegrityError names the chunk (number, offset and digest); what was
// written before it is correct.
func (r *ReaderSession) RestoreArchive(ctx context.Context, name string, w io.Writer) (int64, error) {
	a, err := r.OpenArchive(ctx, name)
	if err != nil {
		return 0, err
	}
	return a.writeTo(ctx, w)
}
