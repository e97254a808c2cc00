package datastore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// chunkTempInfix separates the digest from the random suffix of a chunk
// being written (<digest>.tmp_<random>), the pattern PBS's atomic file
// replacement uses. Chunk iterators skip such names.
const chunkTempInfix = ".tmp_"

// InsertResult tells what InsertChunk did.
type InsertResult struct {
	// Duplicate is true when a chunk file with the digest was already
	// present and was kept (its access time updated), as PBS reports it.
	Duplicate bool
	// Size is the length of the chunk file now in the store: the existing
	// file's for a duplicate, the new blob's otherwise.
	Size int64
}

// ChunkPath returns the path of the chunk file for d:
// <base>/.chunks/<first 4 hex digits>/<64 hex digits>.
func (s *Store) ChunkPath(d Digest) string {
	hex := d.String()
	return filepath.Join(s.chunkDir, hex[:4], hex)
}

// chunkStripe locks and returns the mutex serialising operations on chunks
// that share d's first byte.
func (s *Store) chunkStripe(d Digest) *sync.Mutex {
	m := &s.stripes[d[0]]
	m.Lock()
	return m
}

// InsertChunk stores blob, an encoded DataBlob, as the chunk with digest d.
// The blob must have a known magic and, if it is stored, a correct CRC
// (the server fixes the CRC with FixBlobCRC before inserting); checking
// that the digest matches the content is the caller's job (only
// unencrypted chunks can be checked).
//
// The write is atomic (temporary file, then rename) and idempotent: when a
// file for d exists, the rules of spec 7.1 decide:
//
//   - same length, or existing smaller than a new unencrypted blob: keep it,
//     touch its access time, report a duplicate;
//   - existing empty, or larger than a new unencrypted blob: replace it;
//   - new encrypted, existing unencrypted: refuse (ErrChunkConflict);
//   - new encrypted uncompressed, existing encrypted uncompressed with
//     another length: refuse (ErrChunkConflict);
//   - new encrypted, any other case: keep the existing one (duplicate).
//
// Concurrent inserts of the same digest are safe.
//
// Durability follows the store's SyncLevel, as PBS's sync-level does: with
// SyncFile the temporary file is fsynced before the rename and the prefix
// directory after it, so a chunk reported stored survives a power loss;
// with SyncFilesystem (the default) nothing is synced here and the
// syncfs(2) at snapshot commit covers every chunk written before it; with
// SyncNone nothing is synced at all. At every level a crash leaves either
// the old state or the complete chunk under its name, never a partial
// one (at worst a stale <digest>.tmp_* file that CleanupStale removes).
func (s *Store) InsertChunk(d Digest, blob []byte) (InsertResult, error) {
	return s.insertChunk(d, blob, true)
}

// InsertCheckedChunk is InsertChunk for a blob whose CRC the caller has
// just checked or set, for example in the same pass as its digest
// (DecodeChunkView) or with FixBlobCRC, as a server does before storing an
// upload: the blob is not read again before it is written. A blob with a
// wrong CRC passed here is stored as it is, and Verify reports it later.
func (s *Store) InsertCheckedChunk(d Digest, blob []byte) (InsertResult, error) {
	return s.insertChunk(d, blob, false)
}

func (s *Store) insertChunk(d Digest, blob []byte, checkCRC bool) (InsertResult, error) {
	h, err := ParseBlobHeader(blob)
	if err != nil {
		return InsertResult{}, &ChunkError{Op: "insert", Digest: d, Err: err}
	}
	path := s.ChunkPath(d)
	defer s.chunkStripe(d).Unlock()

	if fi, err := os.Lstat(path); err == nil {
		keep, err := chunkKeepExisting(path, fi, h, int64(len(blob)))
		if err != nil {
			return InsertResult{}, &ChunkError{Op: "insert", Digest: d, Err: err}
		}
		if keep {
			if err := lockSetAtime(path, s.now()); err != nil {
				return InsertResult{}, &ChunkError{Op: "touch", Digest: d, Err: err}
			}
			return InsertResult{Duplicate: true, Size: fi.Size()}, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return InsertResult{}, &ChunkError{Op: "insert", Digest: d, Err: err}
	}

	// The CRC only matters for a blob that gets stored: a duplicate is
	// answered without reading the new blob (4 MiB of CRC per call).
	if checkCRC {
		if err := CheckBlobCRC(blob); err != nil {
			return InsertResult{}, &ChunkError{Op: "insert", Digest: d, Err: err}
		}
	}
	if err := s.writeFileAtomic(path, blob, true); err != nil {
		return InsertResult{}, &ChunkError{Op: "insert", Digest: d, Err: err}
	}
	if s.cfg.clockSet {
		if err := lockSetAtime(path, s.now()); err != nil {
			return InsertResult{}, &ChunkError{Op: "touch", Digest: d, Err: err}
		}
	}
	return InsertResult{Size: int64(len(blob))}, nil
}

// chunkKeepExisting applies the insert rules of spec 7.1 to an existing
// chunk file: true keeps it, false replaces it, an error refuses the insert.
func chunkKeepExisting(path string, fi fs.FileInfo, newHeader BlobHeader, newSize int64) (bool, error) {
	if !fi.Mode().IsRegular() {
		return false, errors.New("unexpected file type " + fi.Mode().Type().String())
	}
	oldSize := fi.Size()
	switch {
	case oldSize == newSize:
		return true, nil
	case oldSize == 0:
		return false, nil
	case newHeader.Kind.Encrypted():
		oldKind, err := chunkReadKind(path)
		if err != nil {
			return false, err
		}
		if !oldKind.Encrypted() {
			return false, wrapConflict("an unencrypted chunk with this digest exists; refusing an encrypted one")
		}
		if oldKind == BlobEncrypted && !newHeader.Kind.Compressed() {
			return false, wrapConflict("an uncompressed encrypted chunk of another length exists")
		}
		// Both encrypted and at least one compressed: different zstd builds
		// may differ in size, keep the first.
		return true, nil
	case oldSize < newSize:
		return true, nil
	default:
		return false, nil
	}
}

// wrapConflict returns an ErrChunkConflict with an explanation.
func wrapConflict(detail string) error {
	return &StoreError{Op: "overwrite chunk", Err: errors.Join(ErrChunkConflict, errors.New(detail))}
}

// chunkReadKind reads the magic number of the chunk file at path.
func chunkReadKind(path string) (BlobKind, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var hdr [blobEncryptedHeaderSize]byte
	n, err := io.ReadFull(f, hdr[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, err
	}
	h, err := ParseBlobHeader(hdr[:n])
	if err != nil {
		return 0, err
	}
	return h.Kind, nil
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it into place, syncing as the sync level asks. With mkdir, a missing
// parent directory is created (chunk prefix directories are made lazily).
func (s *Store) writeFileAtomic(path string, data []byte, mkdir bool) error {
	dir, name := filepath.Split(path)
	f, err := os.CreateTemp(dir, name+chunkTempInfix+"*")
	if err != nil && mkdir && errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o755); err == nil {
			f, err = os.CreateTemp(dir, name+chunkTempInfix+"*")
		}
	}
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if s.cfg.sync == SyncFile {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if s.cfg.sync == SyncFile {
		return syncDir(dir)
	}
	return nil
}

// HasChunk reports whether a chunk file for d exists.
func (s *Store) HasChunk(d Digest) (bool, error) {
	_, err := os.Lstat(s.ChunkPath(d))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, &ChunkError{Op: "stat", Digest: d, Err: err}
	}
}

// StatChunk returns the file information of the chunk file for d; a
// missing chunk is ErrChunkNotFound.
func (s *Store) StatChunk(d Digest) (fs.FileInfo, error) {
	fi, err := os.Lstat(s.ChunkPath(d))
	if err != nil {
		return nil, chunkFileErr("stat", d, err)
	}
	return fi, nil
}

// ReadChunk returns the encoded chunk (the DataBlob bytes as stored) after
// checking its magic and CRC, as PBS does when it loads a chunk. A missing
// chunk is ErrChunkNotFound, a bad CRC ErrChecksum.
func (s *Store) ReadChunk(d Digest) ([]byte, error) {
	blob, err := os.ReadFile(s.ChunkPath(d))
	if err != nil {
		return nil, chunkFileErr("read", d, err)
	}
	if err := CheckBlobCRC(blob); err != nil {
		return nil, &ChunkError{Op: "read", Digest: d, Err: err}
	}
	return blob, nil
}

// GetChunk reads the chunk d and decodes it with dec into dst[:0] (reusing
// its memory), returning the plain data. With verify, the plain data must hash to d (so only
// unencrypted chunks can be verified; encrypted ones fail with
// ErrEncrypted either way, decoding them needs the key).
func (s *Store) GetChunk(dec *BlobDecoder, dst []byte, d Digest, verify bool) ([]byte, error) {
	blob, err := s.ReadChunk(d)
	if err != nil {
		return dst, err
	}
	var out []byte
	if verify {
		out, err = dec.DecodeChunk(dst, blob, d, -1)
	} else {
		out, err = dec.Decode(dst, blob)
	}
	if err != nil {
		return dst, &ChunkError{Op: "decode", Digest: d, Err: err}
	}
	return out, nil
}

// TouchChunk sets the access time of chunk d to now (the store's clock),
// which protects it from the next garbage collection; a missing chunk is
// ErrChunkNotFound.
func (s *Store) TouchChunk(d Digest) error {
	if err := lockSetAtime(s.ChunkPath(d), s.now()); err != nil {
		return chunkFileErr("touch", d, err)
	}
	return nil
}

// chunkFileErr wraps a file error of chunk d, turning "does not exist"
// into ErrChunkNotFound.
func chunkFileErr(op string, d Digest, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		err = errors.Join(ErrChunkNotFound, err)
	}
	return &ChunkError{Op: op, Digest: d, Err: err}
}

// InsertData encodes plain chunk data with enc (zstd when compress is set
// and it helps), computes its unencrypted digest and inserts it. It is the
// one-call path for unencrypted chunks.
func (s *Store) InsertData(enc *BlobEncoder, data []byte, compress bool) (Digest, InsertResult, error) {
	d := ComputeDigest(data)
	blob, err := enc.Encode(nil, data, compress)
	if err != nil {
		return d, InsertResult{}, &ChunkError{Op: "encode", Digest: d, Err: err}
	}
	res, err := s.InsertChunk(d, blob)
	return d, res, err
}

// ChunkInfo describes one file of the chunk store, as WalkChunks reports it.
type ChunkInfo struct {
	Digest Digest
	// Bad is true for a chunk that verify renamed to <digest>.<n>.bad.
	Bad  bool
	Path string
	Size int64
	// Atime is the access time garbage collection compares with its cutoff.
	Atime time.Time
}

// WalkChunks calls fn for every chunk file (and .bad file) in the chunk
// store, prefix directory by prefix directory in ascending order, names
// sorted within each. Missing prefix directories are fine; names that are
// neither chunks nor .bad files (temporary files) are skipped. An error
// from fn stops the walk and is returned.
func (s *Store) WalkChunks(ctx context.Context, fn func(ChunkInfo) error) error {
	return s.chunkWalk(ctx, nil, func(path string, d Digest, bad bool) error {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // vanished meanwhile
		}
		if err != nil {
			return storeErr("stat chunk", s.rel(path), err)
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		return fn(ChunkInfo{Digest: d, Bad: bad, Path: path, Size: fi.Size(), Atime: lockAtime(fi)})
	})
}

// chunkWalk calls fn with the path, digest and .bad flag of every entry of
// the prefix directories named like a chunk, without stat-ing it, and
// other (if not nil) with the path of every other entry.
func (s *Store) chunkWalk(ctx context.Context, other func(path string) error, fn func(path string, d Digest, bad bool) error) error {
	prefixes, err := s.chunkPrefixDirs()
	if err != nil {
		return err
	}
	for _, prefix := range prefixes {
		if err := ctx.Err(); err != nil {
			return err
		}
		dir := filepath.Join(s.chunkDir, prefix)
		names, err := readDirNames(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return storeErr("read chunk directory", s.rel(dir), err)
		}
		for _, name := range names {
			d, bad, ok := ParseChunkFileName(name)
			if !ok || !strings.HasPrefix(name, prefix) {
				if other != nil {
					if err := other(filepath.Join(dir, name)); err != nil {
						return err
					}
				}
				continue
			}
			if err := fn(filepath.Join(dir, name), d, bad); err != nil {
				return err
			}
		}
	}
	return nil
}

// readDirNames returns the sorted entry names of dir (cheaper than
// os.ReadDir, which builds a DirEntry per name).
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

// chunkPrefixDirs lists the existing prefix directories (four lowercase hex
// digits) below .chunks in ascending order.
func (s *Store) chunkPrefixDirs() ([]string, error) {
	entries, err := os.ReadDir(s.chunkDir)
	if err != nil {
		return nil, storeErr("read chunk store", ".chunks", err)
	}
	var out []string
	for _, e := range entries {
		if name := e.Name(); len(name) == 4 && isLowerHex(name) && e.IsDir() {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ParseChunkFileName decodes the name of a file in a chunk prefix
// directory: 64 lowercase hex digits (a chunk), or those followed by
// ".<n>.bad" with n a digit (a chunk verify found corrupt). ok is false for
// anything else, such as temporary files.
func ParseChunkFileName(name string) (d Digest, bad bool, ok bool) {
	switch {
	case len(name) == 64:
	case len(name) == 70 && name[64] == '.' && name[65] >= '0' && name[65] <= '9' && name[66:] == ".bad":
		bad = true
	default:
		return d, false, false
	}
	parsed, err := ParseDigest(name[:64])
	if err != nil {
		return d, false, false
	}
	return parsed, bad, true
}

// isLowerHex reports whether s consists of lowercase hex digits only.
func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// badChunkPath returns <chunk path>.<n>.bad.
func (s *Store) badChunkPath(d Digest, n int) string {
	return s.ChunkPath(d) + "." + string(rune('0'+n)) + ".bad"
}

// renameCorruptChunk moves chunk d aside as <digest>.<n>.bad with n the
// first unused number in 0..9 (9 is overwritten once all exist), like PBS's
// verify. A chunk that is already gone is not an error.
func (s *Store) renameCorruptChunk(d Digest) (string, error) {
	defer s.chunkStripe(d).Unlock()
	n := 0
	for ; n < 9; n++ {
		if _, err := os.Lstat(s.badChunkPath(d, n)); errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	target := s.badChunkPath(d, n)
	if err := os.Rename(s.ChunkPath(d), target); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return "", &ChunkError{Op: "rename corrupt", Digest: d, Err: err}
	}
	return target, nil
}
