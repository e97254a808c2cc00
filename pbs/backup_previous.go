package pbs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/proxkit/proxkit/datastore"
)

// maxPreviousFile bounds a file downloaded with GET previous: a fixed
// index of a 64 TiB image is 512 MiB; nothing sane is larger.
const maxPreviousFile = 1 << 30

// loadPreviousManifest asks for the previous snapshot and downloads its
// manifest (pbs-protocol.md 3.7 step 1). A manifest that cannot be read,
// or one of an encrypted backup (whose chunk digests are keyed and so never
// match this client's), only disables reuse; a session that broke meanwhile
// is an error.
func (s *BackupSession) loadPreviousManifest(ctx context.Context) error {
	var epoch int64
	var ok bool
	err := s.sess.call(ctx, http.MethodGet, "/previous_backup_time", nil, formType, nil, func(raw []byte) (err error) {
		epoch, ok, err = decodePreviousTime(raw)
		return err
	})
	if err != nil || !ok {
		return err
	}
	s.prevTime = time.Unix(epoch, 0).UTC()
	blob, err := s.downloadPrevious(ctx, datastore.ManifestName)
	if err != nil {
		return tolerate(err)
	}
	m, err := datastore.DecodeManifestBlob(blob)
	if err != nil || m.Unprotected.KeyFingerprint != "" {
		return nil
	}
	s.prevManifest = m
	return nil
}

// tolerate drops refusals of the server (PBS answers 400 or 404 for a
// file the previous snapshot lacks) and keeps everything else.
func tolerate(err error) error {
	var refused *Error
	if errors.As(err, &refused) {
		return nil
	}
	return err
}

// downloadPrevious downloads a file of the previous snapshot. For an
// index this registers its chunks on the server (3.5.2).
func (s *BackupSession) downloadPrevious(ctx context.Context, name string) ([]byte, error) {
	return s.sess.download(ctx, "/previous", url.Values{"archive-name": {name}}, nil, maxPreviousFile)
}

// previousIndex is the index of an archive of the previous snapshot,
// downloaded in this session and checked against the previous manifest.
type previousIndex struct {
	entry   datastore.ManifestFile
	fixed   *datastore.FixedIndex
	dynamic *datastore.DynamicIndex
}

// reusePrevious prepares the reuse of archive name (3.7 step 2): if the
// previous manifest lists it, its index is downloaded (which makes the
// server accept its chunks in appends), checked against the manifest
// entry, and its chunks become known. It returns nil when there is
// nothing to reuse.
func (s *BackupSession) reusePrevious(ctx context.Context, name string, typ datastore.ArchiveType) (*previousIndex, error) {
	if s.prevManifest == nil {
		return nil, nil
	}
	entry, ok := s.prevManifest.File(name)
	if !ok {
		return nil, nil
	}
	want, err := entry.CsumDigest()
	if err != nil {
		return nil, nil
	}
	raw, err := s.downloadPrevious(ctx, name)
	if err != nil {
		return nil, tolerate(err)
	}
	prev := &previousIndex{entry: entry}
	var sum [32]byte
	var size uint64
	switch typ {
	case datastore.ArchiveFixed:
		ix, err := datastore.ReadFixedIndex(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			return nil, nil
		}
		prev.fixed, sum, size = ix, ix.Checksum(), ix.Size()
	case datastore.ArchiveDynamic:
		ix, err := datastore.ReadDynamicIndex(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			return nil, nil
		}
		if sum, err = ix.Checksum(); err != nil {
			return nil, nil
		}
		prev.dynamic, size = ix, ix.Size()
	default:
		return nil, fmt.Errorf("pbs: %s is not an index", name)
	}
	if datastore.Digest(sum) != want || size != entry.Size {
		return nil, nil // the index does not match its manifest: do not trust it
	}
	s.registerIndex(prev)
	if prev.dynamic != nil {
		s.mu.Lock()
		if s.prevIdx == nil {
			s.prevIdx = map[string]*datastore.DynamicIndex{}
		}
		s.prevIdx[name] = prev.dynamic
		s.mu.Unlock()
	}
	return prev, nil
}

// previousDynamic returns the previous snapshot's dynamic index of
// archive name if this session downloaded it, else nil.
func (s *BackupSession) previousDynamic(name string) *datastore.DynamicIndex {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prevIdx[name]
}

// registerIndex makes the chunks of a downloaded previous index known.
func (s *BackupSession) registerIndex(prev *previousIndex) {
	if prev.fixed != nil {
		for i := range prev.fixed.Count() {
			start, end := prev.fixed.ChunkRange(i)
			s.env.known.register(prev.fixed.Digest(i), end-start)
		}
		return
	}
	for i := range prev.dynamic.Count() {
		start, end, d := prev.dynamic.Entry(i)
		s.env.known.register(d, end-start)
	}
}

// RegisterPrevious downloads the index of archive name of the previous
// snapshot in this session (PBS: GET previous?archive-name=NAME), which
// makes its chunks appendable with ArchiveWriter.AppendKnown, and returns
// how many chunks it lists. UploadStream and UploadImage do this by
// themselves; the low-level writers do not. It fails with ErrNotInManifest
// when there is no previous snapshot or it has no such index, and with
// ErrIntegrity when the index does not match the previous manifest.
func (s *BackupSession) RegisterPrevious(ctx context.Context, name string) (int, error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	typ, err := datastore.ParseArchiveName(name)
	if err != nil {
		return 0, fmt.Errorf("pbs: %w", err)
	}
	if typ == datastore.ArchiveBlob {
		return 0, fmt.Errorf("pbs: %s is a blob, not an index", name)
	}
	if s.prevManifest == nil {
		return 0, fmt.Errorf("%w: no previous snapshot", ErrNotInManifest)
	}
	if _, ok := s.prevManifest.File(name); !ok {
		return 0, fmt.Errorf("%w: previous snapshot has no %s", ErrNotInManifest, name)
	}
	prev, err := s.reusePrevious(ctx, name, typ)
	if err != nil {
		return 0, s.fail(err)
	}
	if prev == nil {
		return 0, &IntegrityError{Archive: name, Chunk: -1,
			Err: errors.New("previous index could not be downloaded or does not match the previous manifest")}
	}
	if prev.fixed != nil {
		return prev.fixed.Count(), nil
	}
	return prev.dynamic.Count(), nil
}
