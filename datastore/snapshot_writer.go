package datastore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Temporary names inside a snapshot being written, as PBS uses them for
// index files that are still open.
const (
	tmpFixedSuffix   = ".tmp_fidx"
	tmpDynamicSuffix = ".tmp_didx"
)

// BeginOption configures BeginSnapshot.
type BeginOption func(*beginConfig) error

// beginConfig collects the BeginOptions.
type beginConfig struct {
	checkOwner func(owner string) error
	now        time.Time
}

// WithOwnerCheck makes BeginSnapshot call check with the group's owner
// (the existing one, or the new one for a new group) right after it has
// locked the group, before any other check, which is where PBS checks that
// the caller may write into the group. An error from check aborts the
// backup and is returned as is.
func WithOwnerCheck(check func(owner string) error) BeginOption {
	return func(c *beginConfig) error {
		if check == nil {
			return errors.New("datastore: nil owner check")
		}
		c.checkOwner = check
		return nil
	}
}

// SnapshotWriter writes a new snapshot. Everything goes into a hidden
// temporary directory next to the final one (.<time>.tmp_<random>), which
// listings and garbage collection (ours and PBS's) skip because of the
// leading dot; Commit or Finish writes the manifest and renames the
// directory into place, so a snapshot becomes visible complete or not at
// all. Abort, or a crash, leaves nothing visible (CleanupStale removes the
// leftovers later).
//
// While it is open the writer holds what a PBS backup session holds: the
// group lock, a shared lock on the previous snapshot, and a shared lock on
// the chunk store (so PBS's garbage collection refuses to run); this
// Store's own garbage collection may run meanwhile and keeps every chunk
// touched since the writer began. A SnapshotWriter is safe for concurrent
// use.
type SnapshotWriter struct {
	s        *Store
	ns       Namespace
	snap     Snapshot
	owner    string
	prev     Snapshot
	hasPrev  bool
	groupDir string
	tmpDir   string
	finalDir string

	mu          sync.Mutex
	done        bool
	locks       []*DirLock
	unregister  func()
	unlockStore func()
	open        map[string]bool
}

// BeginSnapshot starts writing snapshot snap into namespace ns with the
// checks PBS makes when a backup starts (spec 3.1 steps 5 and 7 to 11):
//
//   - ns must exist (ErrNamespaceNotFound);
//   - the group is created if missing, with owner as its owner, and locked
//     exclusively (ErrLocked, "another backup is already running");
//   - the owner check of WithOwnerCheck, if given;
//   - the previous snapshot (LastFinishedSnapshot) must be older than snap
//     (ErrBackupTooOld) and is locked shared;
//   - snap must not exist yet (ErrSnapshotExists).
func (s *Store) BeginSnapshot(ns Namespace, snap Snapshot, owner string, opts ...BeginOption) (_ *SnapshotWriter, err error) {
	cfg := beginConfig{now: s.now()}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if err := checkSnapshot(snap); err != nil {
		return nil, err
	}
	if err := checkOwner(owner); err != nil {
		return nil, err
	}
	if err := s.checkNamespace(ns); err != nil {
		return nil, err
	}
	w := &SnapshotWriter{
		s: s, ns: ns, snap: snap,
		groupDir: s.GroupPath(ns, snap.Group),
		finalDir: s.SnapshotPath(ns, snap),
		open:     map[string]bool{},
	}
	defer func() {
		if err != nil {
			if w.tmpDir != "" {
				os.RemoveAll(w.tmpDir)
			}
			w.release()
		}
	}()

	if err := w.lockGroup(owner); err != nil {
		return nil, err
	}
	if cfg.checkOwner != nil {
		if err := cfg.checkOwner(w.owner); err != nil {
			return nil, err
		}
	}
	prev, hasPrev, err := s.LastFinishedSnapshot(ns, snap.Group)
	if err != nil {
		return nil, err
	}
	if hasPrev {
		if !snap.Time.After(prev.Time) {
			return nil, storeErr("begin snapshot", snap.String(), ErrBackupTooOld)
		}
		lock, err := s.LockSnapshot(ns, prev, false)
		if err != nil {
			return nil, err
		}
		w.locks = append(w.locks, lock)
		w.prev, w.hasPrev = prev, true
	}
	if fileExists(w.finalDir) {
		return nil, storeErr("begin snapshot", snap.String(), ErrSnapshotExists)
	}
	unlockStore, err := s.chunkLock.acquire(s.base, false)
	if err != nil {
		return nil, err
	}
	w.unlockStore = unlockStore
	w.tmpDir, err = os.MkdirTemp(w.groupDir, "."+snap.TimeString()+chunkTempInfix)
	if err != nil {
		return nil, storeErr("begin snapshot", snap.String(), err)
	}
	if err := os.Chmod(w.tmpDir, 0o755); err != nil {
		return nil, storeErr("begin snapshot", snap.String(), err)
	}
	// Held until the writer ends: it tells CleanupStale that this
	// directory is alive, however old it looks.
	tmpLock, err := lockDir(w.tmpDir, "temporary snapshot", "in use", true)
	if err != nil {
		return nil, err
	}
	w.locks = append(w.locks, tmpLock)
	w.unregister = s.registerWriter(cfg.now)
	return w, nil
}

// lockGroup creates the group directory if needed (writing the owner file
// exclusively), locks it and reads its owner.
func (w *SnapshotWriter) lockGroup(owner string) error {
	s := w.s
	if err := os.MkdirAll(filepath.Dir(w.groupDir), 0o755); err != nil {
		return storeErr("create group", s.rel(w.groupDir), err)
	}
	created := true
	if err := os.Mkdir(w.groupDir, 0o755); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return storeErr("create group", s.rel(w.groupDir), err)
		}
		created = false
	}
	lock, err := lockDir(w.groupDir, "backup group", "another backup is already running", true)
	if err != nil {
		return err
	}
	w.locks = append(w.locks, lock)
	if created {
		f, err := os.OpenFile(filepath.Join(w.groupDir, OwnerName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return storeErr("write owner", s.rel(w.groupDir), err)
		}
		_, err = f.WriteString(owner + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return storeErr("write owner", s.rel(w.groupDir), err)
		}
	}
	got, err := s.readOwner(w.groupDir)
	if err != nil {
		return err
	}
	w.owner = got
	return nil
}

// Namespace returns the namespace the snapshot is written into.
func (w *SnapshotWriter) Namespace() Namespace { return w.ns }

// Snapshot returns the snapshot being written.
func (w *SnapshotWriter) Snapshot() Snapshot { return w.snap }

// Owner returns the owner of the group (for an existing group, its owner,
// which may differ from the one passed to BeginSnapshot).
func (w *SnapshotWriter) Owner() string { return w.owner }

// Previous returns the previous snapshot of the group (spec 3.1 step 9),
// which the writer keeps locked so it cannot be removed meanwhile.
func (w *SnapshotWriter) Previous() (Snapshot, bool) { return w.prev, w.hasPrev }

// Dir returns the temporary directory files are written into.
func (w *SnapshotWriter) Dir() string { return w.tmpDir }

// checkName validates a file name for this writer: wantType must match its
// extension (0 accepts any archive type).
func (w *SnapshotWriter) checkName(name string, wantType ArchiveType) error {
	t, err := ParseArchiveName(name)
	if err != nil {
		return err
	}
	if wantType != 0 && t != wantType {
		return &StoreError{Op: "check archive name", Path: name, Err: errors.Join(ErrBadName, errors.New("want a "+wantType.Extension()+" name"))}
	}
	return nil
}

// startFile reserves name for an index writer.
func (w *SnapshotWriter) startFile(name string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return ErrClosed
	}
	if w.open[name] {
		return storeErr("create index", name, fs.ErrExist)
	}
	w.open[name] = true
	return nil
}

// endFile releases the reservation of name.
func (w *SnapshotWriter) endFile(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.open, name)
}

// OpenIndexes returns the names of index files created and not yet closed
// or aborted; PBS refuses to finish a backup while there are any.
func (w *SnapshotWriter) OpenIndexes() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.open))
	for name := range w.open {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// CreateFixedIndex starts the fixed index name (ending in .fidx) for an
// image of size bytes in 4 MiB chunks. The file is written as
// <name>.tmp_fidx and renamed when the index is closed.
func (w *SnapshotWriter) CreateFixedIndex(name string, size uint64) (*SnapshotFixedIndex, error) {
	if err := w.checkName(name, ArchiveFixed); err != nil {
		return nil, err
	}
	if err := w.startFile(name); err != nil {
		return nil, err
	}
	tmp := filepath.Join(w.tmpDir, name+tmpFixedSuffix)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		w.endFile(name)
		return nil, storeErr("create index", name, err)
	}
	iw, err := NewFixedIndexWriter(f, size, FixedChunkSize, WithIndexCTime(w.s.now()))
	if err != nil {
		f.Close()
		os.Remove(tmp)
		w.endFile(name)
		return nil, err
	}
	return &SnapshotFixedIndex{sw: w, name: name, f: f, iw: iw}, nil
}

// CreateDynamicIndex starts the dynamic index name (ending in .didx). The
// file is written as <name>.tmp_didx and renamed when the index is closed.
func (w *SnapshotWriter) CreateDynamicIndex(name string) (*SnapshotDynamicIndex, error) {
	if err := w.checkName(name, ArchiveDynamic); err != nil {
		return nil, err
	}
	if err := w.startFile(name); err != nil {
		return nil, err
	}
	tmp := filepath.Join(w.tmpDir, name+tmpDynamicSuffix)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		w.endFile(name)
		return nil, storeErr("create index", name, err)
	}
	iw, err := NewDynamicIndexWriter(f, WithIndexCTime(w.s.now()))
	if err != nil {
		f.Close()
		os.Remove(tmp)
		w.endFile(name)
		return nil, err
	}
	return &SnapshotDynamicIndex{sw: w, name: name, f: f, iw: iw}, nil
}

// WriteBlob stores blob, a complete DataBlob whose CRC must be correct
// (ErrChecksum otherwise, as PBS answers "Data blob has wrong CRC
// checksum."), as the file name (ending in .blob), replacing a file of the
// same name. The manifest index.json.blob may be written this way too, as
// the backup protocol uploads it; see Finish.
func (w *SnapshotWriter) WriteBlob(name string, blob []byte) error {
	if err := w.checkName(name, ArchiveBlob); err != nil {
		return err
	}
	if err := CheckBlobCRC(blob); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return ErrClosed
	}
	return storeErr("write blob", name, w.s.writeFileAtomic(filepath.Join(w.tmpDir, name), blob, false))
}

// Files returns the names of the completed files so far (closed indexes,
// blobs), sorted.
func (w *SnapshotWriter) Files() ([]string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil, ErrClosed
	}
	return snapshotFileNames(w.tmpDir)
}

// ReadFile returns a completed file of the snapshot being written.
func (w *SnapshotWriter) ReadFile(name string) ([]byte, error) {
	if err := checkFileName(name); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil, ErrClosed
	}
	data, err := os.ReadFile(filepath.Join(w.tmpDir, name))
	return data, storeErr("read file", name, err)
}

// Commit writes m as the manifest and makes the snapshot visible. It fails
// while indexes are still open. On failure the writer stays open, so the
// caller can retry or Abort.
func (w *SnapshotWriter) Commit(m *Manifest) error {
	if m == nil {
		return storeErr("commit snapshot", w.snap.String(), ErrNotFinished)
	}
	return w.commit(func() (*Manifest, error) { return m, nil })
}

// Finish completes a snapshot whose manifest was written with WriteBlob,
// as PBS's "finish" call does: it loads the manifest (ErrNotFinished if
// there is none), lets update change it (PBS sets
// Unprotected.ChunkUploadStats; update may be nil), stores it again and
// makes the snapshot visible.
func (w *SnapshotWriter) Finish(update func(*Manifest) error) error {
	return w.commit(func() (*Manifest, error) {
		m, _, err := w.s.readManifestAt(w.tmpDir)
		if err != nil {
			return nil, err
		}
		if update != nil {
			if err := update(m); err != nil {
				return nil, err
			}
		}
		return m, nil
	})
}

// commit writes the manifest returned by get and renames the directory.
func (w *SnapshotWriter) commit(get func() (*Manifest, error)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.s
	if w.done {
		return ErrClosed
	}
	if len(w.open) > 0 {
		return storeErr("commit snapshot", w.snap.String(), errors.New("found open index writer - unable to finish backup"))
	}
	m, err := get()
	if err != nil {
		return err
	}
	if err := s.writeManifestAt(w.tmpDir, m); err != nil {
		return err
	}
	if w.hasPrev && !fileExists(s.SnapshotPath(w.ns, w.prev)) {
		return storeErr("commit snapshot", w.snap.String(), errors.Join(ErrSnapshotNotFound, errors.New("previous snapshot vanished")))
	}
	switch s.cfg.sync {
	case SyncFile:
		if err := syncDir(w.tmpDir); err != nil {
			return storeErr("commit snapshot", w.snap.String(), err)
		}
	case SyncFilesystem:
		if err := s.syncFilesystem(); err != nil {
			return storeErr("commit snapshot", w.snap.String(), err)
		}
	}
	// The group lock keeps other writers of this package and PBS out, so
	// nothing can create the final directory between this check and the
	// rename (which would silently replace an empty directory).
	if fileExists(w.finalDir) {
		return storeErr("commit snapshot", w.snap.String(), ErrSnapshotExists)
	}
	if err := os.Rename(w.tmpDir, w.finalDir); err != nil {
		return storeErr("commit snapshot", w.snap.String(), err)
	}
	if s.cfg.sync == SyncFile {
		if err := syncDir(w.groupDir); err != nil {
			return storeErr("commit snapshot", w.snap.String(), err)
		}
	}
	w.done = true
	w.release()
	return nil
}

// Abort discards everything written and releases the locks. It is a no-op
// after Commit, Finish or an earlier Abort.
func (w *SnapshotWriter) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	w.done = true
	err := os.RemoveAll(w.tmpDir)
	w.release()
	return storeErr("abort snapshot", w.snap.String(), err)
}

// release drops the locks and the writer registration.
func (w *SnapshotWriter) release() {
	for i := len(w.locks) - 1; i >= 0; i-- {
		w.locks[i].Unlock()
	}
	w.locks = nil
	if w.unlockStore != nil {
		w.unlockStore()
		w.unlockStore = nil
	}
	if w.unregister != nil {
		w.unregister()
		w.unregister = nil
	}
}

// SnapshotFixedIndex is a fixed index being written into a snapshot. It is
// safe for concurrent use (digests of out-of-order uploads).
type SnapshotFixedIndex struct {
	sw   *SnapshotWriter
	name string
	mu   sync.Mutex
	f    *os.File
	iw   *FixedIndexWriter
}

// Count returns the number of slots (ceil(size / 4 MiB)).
func (x *SnapshotFixedIndex) Count() int { return x.iw.Count() }

// SetDigest sets the digest of slot, the chunk at offset slot*4 MiB.
func (x *SnapshotFixedIndex) SetDigest(slot int, d Digest) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.f == nil {
		return ErrClosed
	}
	return x.iw.SetDigest(slot, d)
}

// Close writes the index, renames it from <name>.tmp_fidx to name and
// returns its checksum (SHA-256 over the slot digests).
func (x *SnapshotFixedIndex) Close() ([32]byte, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.f == nil {
		return [32]byte{}, ErrClosed
	}
	csum, err := x.iw.Close()
	return csum, x.sw.closeIndex(x.name, &x.f, tmpFixedSuffix, err)
}

// Abort discards the index.
func (x *SnapshotFixedIndex) Abort() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.sw.abortIndex(x.name, &x.f, tmpFixedSuffix)
}

// SnapshotDynamicIndex is a dynamic index being written into a snapshot.
// It is safe for concurrent use, but entries must be appended in stream
// order.
type SnapshotDynamicIndex struct {
	sw   *SnapshotWriter
	name string
	mu   sync.Mutex
	f    *os.File
	iw   *DynamicIndexWriter
}

// Append adds the next chunk by its end offset in the stream and digest.
func (x *SnapshotDynamicIndex) Append(end uint64, d Digest) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.f == nil {
		return ErrClosed
	}
	return x.iw.Append(end, d)
}

// Count returns the number of entries appended.
func (x *SnapshotDynamicIndex) Count() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.iw.Count()
}

// Size returns the stream size so far (the last end offset).
func (x *SnapshotDynamicIndex) Size() uint64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.iw.Size()
}

// Close writes the remaining entries and the checksum, renames the file
// from <name>.tmp_didx to name and returns the checksum.
func (x *SnapshotDynamicIndex) Close() ([32]byte, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.f == nil {
		return [32]byte{}, ErrClosed
	}
	csum, err := x.iw.Close()
	return csum, x.sw.closeIndex(x.name, &x.f, tmpDynamicSuffix, err)
}

// Abort discards the index.
func (x *SnapshotDynamicIndex) Abort() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.sw.abortIndex(x.name, &x.f, tmpDynamicSuffix)
}

// closeIndex finishes the file *fp of index name: sync as configured,
// close, rename into its final name. writeErr is the index writer's error;
// on any error the temporary file is removed.
func (w *SnapshotWriter) closeIndex(name string, fp **os.File, suffix string, writeErr error) error {
	f := *fp
	*fp = nil
	defer w.endFile(name)
	tmp := filepath.Join(w.tmpDir, name+suffix)
	err := writeErr
	if err == nil && w.s.cfg.sync == SyncFile {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(w.tmpDir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return storeErr("close index", name, err)
	}
	return nil
}

// abortIndex removes the temporary file *fp of index name.
func (w *SnapshotWriter) abortIndex(name string, fp **os.File, suffix string) error {
	f := *fp
	if f == nil {
		return nil
	}
	*fp = nil
	defer w.endFile(name)
	f.Close()
	err := os.Remove(filepath.Join(w.tmpDir, name+suffix))
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return storeErr("abort index", name, err)
}
