package datastore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// The values of VerifyState.State.
const (
	VerifyStateOK     = "ok"
	VerifyStateFailed = "failed"
)

// ErrVerify is matched by every *VerifyError.
var ErrVerify = errors.New("verification failed")

// VerifyError is one problem verify found: in which archive, and for chunk
// problems which chunk (Index in the archive's index, Offset of its first
// byte in the archive, Digest). Index is -1 for problems of the archive as
// a whole (missing file, wrong checksum or size against the manifest).
// Err says what is wrong (ErrChunkNotFound, ErrChecksum,
// ErrDigestMismatch, ErrSizeMismatch, ...).
type VerifyError struct {
	Archive string
	Index   int
	Offset  uint64
	Digest  Digest
	Err     error
}

// Error describes the problem.
func (e *VerifyError) Error() string {
	if e.Index < 0 {
		return "datastore: verify " + e.Archive + ": " + e.Err.Error()
	}
	return fmt.Sprintf("datastore: verify %s: chunk %d (offset %d, digest %s): %v", e.Archive, e.Index, e.Offset, e.Digest, e.Err)
}

// Unwrap returns the underlying problem.
func (e *VerifyError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrVerify) true.
func (e *VerifyError) Is(target error) bool { return target == ErrVerify }

// VerifyCache remembers chunks already found good or bad, so that verifying
// many snapshots reads shared chunks once, as PBS's verify job does. Share
// one between Verify calls; it is safe for concurrent use.
type VerifyCache struct {
	mu      sync.Mutex
	good    map[Digest]bool
	corrupt map[Digest]error
}

// NewVerifyCache returns an empty cache.
func NewVerifyCache() *VerifyCache {
	return &VerifyCache{good: map[Digest]bool{}, corrupt: map[Digest]error{}}
}

// lookup returns whether d is known good, or its error if known corrupt.
func (c *VerifyCache) lookup(d Digest) (known bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.good[d] {
		return true, nil
	}
	if e, ok := c.corrupt[d]; ok {
		return true, e
	}
	return false, nil
}

// record stores the outcome for d.
func (c *VerifyCache) record(d Digest, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.good[d] = true
	} else {
		c.corrupt[d] = err
	}
}

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// UPID is stored in the verify state; empty means a generated task id.
	UPID string
	// RenameCorrupt renames chunks that fail (unreadable, bad CRC, wrong
	// digest or length) to <digest>.<n>.bad like PBS, so the next backup
	// uploads them again.
	RenameCorrupt bool
	// NoUpdate leaves the manifest alone (PBS always records the result).
	NoUpdate bool
	// Cache, if set, is consulted and filled; share it between snapshots.
	Cache *VerifyCache
}

// VerifyResult is the outcome of Verify.
type VerifyResult struct {
	Snapshot Snapshot
	// State is VerifyStateOK or VerifyStateFailed, as recorded.
	State string
	// UPID is the task id recorded with the state.
	UPID string
	// Errors lists every problem found; each is a *VerifyError.
	Errors []error
	// Chunks counts the chunk references checked (cached ones included);
	// BytesRead sums the chunk files read.
	Chunks    int
	BytesRead int64
	// Renamed lists the .bad paths corrupt chunks were moved to.
	Renamed []string
}

// OK reports whether nothing was wrong.
func (r *VerifyResult) OK() bool { return len(r.Errors) == 0 }

// Verify checks snapshot snap as PBS's verify does (spec 7.7): for every
// file of the manifest, indexes must match the manifest's size and
// checksum and every chunk they reference is read and checked (CRC;
// unencrypted chunks are decoded and must hash to their digest and have
// the indexed length; a chunk's encryption must match the archive's crypt
// mode), blobs must match size and checksum and decode. The result is
// recorded in the manifest as unprotected.verify_state {upid, state} unless
// opts.NoUpdate is set. Problems of the snapshot's data are reported in
// the result, not as the error: the error is for an unfinished snapshot
// (ErrNotFinished), a lock held by a writer (ErrLocked), cancellation and
// I/O failures around the check.
func (s *Store) Verify(ctx context.Context, ns Namespace, snap Snapshot, opts VerifyOptions) (*VerifyResult, error) {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return nil, err
	}
	lock, err := lockDir(dir, "snapshot", "locked by another operation", false)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	m, _, err := s.readManifestAt(dir)
	if err != nil {
		return nil, err
	}
	res := &VerifyResult{Snapshot: snap, UPID: opts.UPID}
	if res.UPID == "" {
		res.UPID = makeUPID("verify", s.cfg.name+":"+ns.String()+":"+snap.String(), s.now())
	}
	cache := opts.Cache
	if cache == nil {
		cache = NewVerifyCache()
	}
	v := &verifier{s: s, dir: dir, opts: opts, cache: cache, res: res, dec: NewBlobDecoder()}
	for _, f := range m.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := v.file(ctx, f); err != nil {
			return nil, err
		}
	}
	res.State = VerifyStateOK
	if !res.OK() {
		res.State = VerifyStateFailed
	}
	if !opts.NoUpdate {
		err := s.updateManifestAt(ctx, dir, func(m *Manifest) error {
			m.Unprotected.VerifyState = &VerifyState{UPID: res.UPID, State: res.State}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// verifier carries the state of one Verify call.
type verifier struct {
	s     *Store
	dir   string
	opts  VerifyOptions
	cache *VerifyCache
	res   *VerifyResult
	dec   *BlobDecoder
	buf   []byte
}

// fail records a problem of archive (index -1: the archive as a whole).
func (v *verifier) fail(archive string, index int, offset uint64, d Digest, err error) {
	v.res.Errors = append(v.res.Errors, &VerifyError{Archive: archive, Index: index, Offset: offset, Digest: d, Err: err})
}

// file verifies one manifest entry. Only errors that stop the whole
// verification are returned.
func (v *verifier) file(ctx context.Context, f ManifestFile) error {
	t, err := ParseArchiveName(f.Filename)
	if err != nil {
		v.fail(f.Filename, -1, 0, Digest{}, err)
		return nil
	}
	path := filepath.Join(v.dir, f.Filename)
	switch t {
	case ArchiveBlob:
		v.blob(path, f)
		return nil
	case ArchiveFixed:
		ix, err := OpenFixedIndex(path)
		if err != nil {
			v.fail(f.Filename, -1, 0, Digest{}, err)
			return nil
		}
		defer ix.Close()
		if !v.indexMatches(f, ix.Checksum(), ix.Size()) {
			return nil
		}
		return v.chunks(ctx, f, ix.Count(), func(i int) (uint64, uint64, Digest) {
			start, end := ix.ChunkRange(i)
			return start, end, ix.Digest(i)
		})
	default:
		ix, err := OpenDynamicIndex(path)
		if err != nil {
			v.fail(f.Filename, -1, 0, Digest{}, err)
			return nil
		}
		defer ix.Close()
		csum, err := ix.Checksum()
		if err != nil {
			v.fail(f.Filename, -1, 0, Digest{}, err)
			return nil
		}
		if !v.indexMatches(f, csum, ix.Size()) {
			return nil
		}
		return v.chunks(ctx, f, ix.Count(), ix.Entry)
	}
}

// indexMatches compares an index's checksum and size with the manifest.
func (v *verifier) indexMatches(f ManifestFile, csum [32]byte, size uint64) bool {
	if size != f.Size {
		v.fail(f.Filename, -1, 0, Digest{}, verifyMismatch(ErrSizeMismatch, "wrong size ("+strconv.FormatUint(f.Size, 10)+" != "+strconv.FormatUint(size, 10)+")"))
		return false
	}
	if Digest(csum).String() != f.Csum {
		v.fail(f.Filename, -1, 0, Digest{}, verifyMismatch(ErrChecksum, "wrong index checksum"))
		return false
	}
	return true
}

// verifyMismatch joins a sentinel with PBS's wording.
func verifyMismatch(sentinel error, detail string) error {
	return fmt.Errorf("%w: %s", sentinel, detail)
}

// blob verifies a blob file against its manifest entry.
func (v *verifier) blob(path string, f ManifestFile) {
	data, err := os.ReadFile(path)
	if err != nil {
		v.fail(f.Filename, -1, 0, Digest{}, err)
		return
	}
	if err := CheckBlobCRC(data); err != nil {
		v.fail(f.Filename, -1, 0, Digest{}, err)
		return
	}
	if uint64(len(data)) != f.Size {
		v.fail(f.Filename, -1, 0, Digest{}, verifyMismatch(ErrSizeMismatch, "wrong size ("+strconv.FormatUint(f.Size, 10)+" != "+strconv.Itoa(len(data))+")"))
		return
	}
	if Digest(sha256.Sum256(data)).String() != f.Csum {
		v.fail(f.Filename, -1, 0, Digest{}, verifyMismatch(ErrChecksum, "wrong blob checksum"))
		return
	}
	h, _ := ParseBlobHeader(data)
	if h.Kind.Encrypted() {
		return
	}
	out, err := v.dec.Decode(v.buf[:0], data)
	if err != nil {
		v.fail(f.Filename, -1, 0, Digest{}, err)
		return
	}
	v.buf = out[:0]
}

// chunks verifies the chunks of an index with count entries.
func (v *verifier) chunks(ctx context.Context, f ManifestFile, count int, entry func(int) (uint64, uint64, Digest)) error {
	encrypted := f.CryptMode == CryptEncrypt
	for i := range count {
		if i&255 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		start, end, d := entry(i)
		v.res.Chunks++
		if known, err := v.cache.lookup(d); known {
			if err != nil {
				v.fail(f.Filename, i, start, d, err)
			}
			continue
		}
		err := v.chunk(d, int(end-start), encrypted)
		var mismatch *verifyModeError
		if err != nil && !errors.As(err, &mismatch) {
			v.cache.record(d, err)
			if v.opts.RenameCorrupt {
				if to, rerr := v.s.renameCorruptChunk(d); rerr != nil {
					return rerr
				} else if to != "" {
					v.res.Renamed = append(v.res.Renamed, to)
				}
			}
		} else if err == nil {
			v.cache.record(d, nil)
		}
		if err != nil {
			v.fail(f.Filename, i, start, d, err)
		}
	}
	return nil
}

// verifyModeError says a chunk's encryption does not match its archive's
// crypt mode; PBS counts it as an error but does not treat the chunk as
// corrupt.
type verifyModeError struct{ chunkEncrypted bool }

// Error describes the mismatch.
func (e *verifyModeError) Error() string {
	if e.chunkEncrypted {
		return "chunk is encrypted, archive is not"
	}
	return "chunk is not encrypted, archive is"
}

// chunk reads and checks one chunk.
func (v *verifier) chunk(d Digest, size int, wantEncrypted bool) error {
	blob, err := os.ReadFile(v.s.ChunkPath(d))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.Join(ErrChunkNotFound, err)
		}
		return err
	}
	v.res.BytesRead += int64(len(blob))
	h, err := ParseBlobHeader(blob)
	if err != nil {
		return err
	}
	if err := CheckBlobCRC(blob); err != nil {
		return err
	}
	if h.Kind.Encrypted() {
		if !wantEncrypted {
			return &verifyModeError{chunkEncrypted: true}
		}
		return nil
	}
	out, err := v.dec.DecodeChunk(v.buf[:0], blob, d, size)
	if err != nil {
		return err
	}
	v.buf = out[:0]
	if wantEncrypted {
		return &verifyModeError{chunkEncrypted: false}
	}
	return nil
}
