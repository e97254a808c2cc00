package datastore

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Well-known file names of groups and snapshots (spec 7.2).
const (
	// ManifestName is the manifest blob; its presence means "finished".
	ManifestName = "index.json.blob"
	// ClientLogName is the optional client log blob of a snapshot.
	ClientLogName = "client.log.blob"
	// ProtectedName is the empty marker that protects a snapshot.
	ProtectedName = ".protected"
	// OwnerName is the group's owner file: the auth id and a newline.
	OwnerName = "owner"
	// GroupNotesName is the group's notes file.
	GroupNotesName = "notes"
)

// checkGroup rejects invalid groups (whose names could escape the
// datastore).
func checkGroup(g Group) error { return g.Validate() }

// checkSnapshot rejects invalid snapshots like checkGroup.
func checkSnapshot(snap Snapshot) error {
	if err := checkGroup(snap.Group); err != nil {
		return err
	}
	if _, err := ParseBackupTime(snap.TimeString()); err != nil {
		return err
	}
	return nil
}

// snapshotDir validates ns and snap and returns the snapshot directory,
// which must exist.
func (s *Store) snapshotDir(ns Namespace, snap Snapshot) (string, error) {
	if err := checkSnapshot(snap); err != nil {
		return "", err
	}
	dir := s.SnapshotPath(ns, snap)
	return dir, requireDir("open snapshot", s.rel(dir), dir, ErrSnapshotNotFound)
}

// groupDir validates ns and g and returns the group directory, which must
// exist.
func (s *Store) groupDir(ns Namespace, g Group) (string, error) {
	if err := checkGroup(g); err != nil {
		return "", err
	}
	dir := s.GroupPath(ns, g)
	return dir, requireDir("open group", s.rel(dir), dir, ErrGroupNotFound)
}

// requireDir fails with a *StoreError (op, name) wrapping notFound unless
// dir is an existing directory.
func requireDir(op, name, dir string, notFound error) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return storeErr(op, name, notFound)
	case err != nil:
		return storeErr(op, name, err)
	case !fi.IsDir():
		return storeErr(op, name, notFound)
	}
	return nil
}

// ParseOwner decodes the content of a group's owner file: its first line
// without the trailing newline and spaces, as PBS reads it. The owner is an
// auth id (user@realm or user@realm!token); this package keeps it as a
// string and leaves its syntax to package auth. An empty first line, or
// one that is not UTF-8 or holds control characters, is ErrBadOwner.
func ParseOwner(data []byte) (string, error) {
	line, _, _ := bytes.Cut(data, []byte{'\n'})
	owner := strings.TrimRight(string(line), " \t\r")
	if owner == "" {
		return "", &StoreError{Op: "parse owner", Err: ErrBadOwner}
	}
	if !utf8.ValidString(owner) {
		return "", &StoreError{Op: "parse owner", Err: ErrBadOwner}
	}
	for _, r := range owner {
		if r < 0x20 || r == 0x7f {
			return "", &StoreError{Op: "parse owner", Err: ErrBadOwner}
		}
	}
	return owner, nil
}

// checkOwner rejects owners ParseOwner would not read back unchanged.
func checkOwner(owner string) error {
	got, err := ParseOwner([]byte(owner + "\n"))
	if err != nil {
		return err
	}
	if got != owner {
		return &StoreError{Op: "check owner", Err: ErrBadOwner}
	}
	return nil
}

// GroupOwner returns the owner (auth id) of group g in ns.
func (s *Store) GroupOwner(ns Namespace, g Group) (string, error) {
	dir, err := s.groupDir(ns, g)
	if err != nil {
		return "", err
	}
	return s.readOwner(dir)
}

// readOwner reads the owner file of the group directory dir.
func (s *Store) readOwner(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, OwnerName))
	if err != nil {
		return "", storeErr("read owner", s.rel(dir), err)
	}
	owner, err := ParseOwner(data)
	if err != nil {
		return "", storeErr("read owner", s.rel(dir), err)
	}
	return owner, nil
}

// SetGroupOwner replaces the owner of group g in ns (PBS's change-owner).
// Who may do that is the caller's business.
func (s *Store) SetGroupOwner(ns Namespace, g Group, owner string) error {
	if err := checkOwner(owner); err != nil {
		return err
	}
	dir, err := s.groupDir(ns, g)
	if err != nil {
		return err
	}
	return storeErr("write owner", s.rel(dir), s.writeFileAtomic(filepath.Join(dir, OwnerName), []byte(owner+"\n"), false))
}

// GroupNotes returns the notes of group g ("" when there are none).
func (s *Store) GroupNotes(ns Namespace, g Group) (string, error) {
	dir, err := s.groupDir(ns, g)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(filepath.Join(dir, GroupNotesName))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", storeErr("read group notes", s.rel(dir), err)
	}
	return string(data), nil
}

// SetGroupNotes replaces the notes of group g.
func (s *Store) SetGroupNotes(ns Namespace, g Group, notes string) error {
	dir, err := s.groupDir(ns, g)
	if err != nil {
		return err
	}
	return storeErr("write group notes", s.rel(dir), s.writeFileAtomic(filepath.Join(dir, GroupNotesName), []byte(notes), false))
}

// IsProtected reports whether snapshot snap carries the .protected marker.
func (s *Store) IsProtected(ns Namespace, snap Snapshot) (bool, error) {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return false, err
	}
	return fileExists(filepath.Join(dir, ProtectedName)), nil
}

// SetProtected creates or removes the .protected marker of snap. Like PBS
// it takes the snapshot's exclusive lock, so it fails with ErrLocked while
// the snapshot is being read, verified or used as a backup's base.
func (s *Store) SetProtected(ns Namespace, snap Snapshot, protected bool) error {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return err
	}
	lock, err := lockDir(dir, "snapshot", "possibly running or in use", true)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	path := filepath.Join(dir, ProtectedName)
	if protected {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return storeErr("protect snapshot", s.rel(dir), err)
		}
		return storeErr("protect snapshot", s.rel(dir), f.Close())
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return storeErr("unprotect snapshot", s.rel(dir), err)
	}
	return nil
}

// LockGroup takes the exclusive, non-blocking lock of group g that a
// running backup holds; if it is held elsewhere the error is a *LockError
// ("another backup is already running") matching ErrLocked.
func (s *Store) LockGroup(ns Namespace, g Group) (*DirLock, error) {
	dir, err := s.groupDir(ns, g)
	if err != nil {
		return nil, err
	}
	return lockDir(dir, "backup group", "another backup is already running", true)
}

// LockSnapshot takes the non-blocking snapshot lock: shared for readers
// (restore sessions, verify, the base of an incremental backup), exclusive
// for changes. A conflicting holder yields a *LockError matching ErrLocked.
func (s *Store) LockSnapshot(ns Namespace, snap Snapshot, exclusive bool) (*DirLock, error) {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return nil, err
	}
	reason := "locked by another operation"
	if exclusive {
		reason = "possibly running or in use"
	}
	return lockDir(dir, "snapshot", reason, exclusive)
}

// ReadManifest loads and decodes the manifest of snap. It also returns the
// size of the stored blob file (what listings report for index.json.blob).
// A snapshot without manifest yields ErrNotFinished.
func (s *Store) ReadManifest(ns Namespace, snap Snapshot) (*Manifest, int64, error) {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return nil, 0, err
	}
	return s.readManifestAt(dir)
}

// readManifestAt loads the manifest in snapshot directory dir.
func (s *Store) readManifestAt(dir string) (*Manifest, int64, error) {
	blob, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, storeErr("read manifest", s.rel(dir), ErrNotFinished)
	}
	if err != nil {
		return nil, 0, storeErr("read manifest", s.rel(dir), err)
	}
	m, err := DecodeManifestBlob(blob)
	if err != nil {
		return nil, 0, storeErr("read manifest", s.rel(dir), err)
	}
	return m, int64(len(blob)), nil
}

// UpdateManifest changes the manifest of snap under the manifest lock: it
// loads the manifest, calls update, and stores the result as a new
// compressed blob (atomically), the way PBS updates notes, verify state and
// upload statistics. If update returns an error nothing is written.
func (s *Store) UpdateManifest(ctx context.Context, ns Namespace, snap Snapshot, update func(*Manifest) error) error {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return err
	}
	return s.updateManifestAt(ctx, dir, update)
}

// updateManifestAt is UpdateManifest on a snapshot directory.
func (s *Store) updateManifestAt(ctx context.Context, dir string, update func(*Manifest) error) error {
	lock, err := lockManifest(ctx, dir)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	m, _, err := s.readManifestAt(dir)
	if err != nil {
		return err
	}
	if err := update(m); err != nil {
		return err
	}
	return s.writeManifestAt(dir, m)
}

// writeManifestAt encodes m and replaces the manifest in dir.
func (s *Store) writeManifestAt(dir string, m *Manifest) error {
	blob, err := m.EncodeBlob(NewBlobEncoder())
	if err != nil {
		return storeErr("encode manifest", s.rel(dir), err)
	}
	return storeErr("write manifest", s.rel(dir), s.writeFileAtomic(filepath.Join(dir, ManifestName), blob, false))
}

// SnapshotNotes returns the notes of snap (unprotected.notes of its
// manifest; "" when unset).
func (s *Store) SnapshotNotes(ns Namespace, snap Snapshot) (string, error) {
	m, _, err := s.ReadManifest(ns, snap)
	if err != nil {
		return "", err
	}
	return m.Unprotected.Notes, nil
}

// SetSnapshotNotes stores notes in the manifest of snap.
func (s *Store) SetSnapshotNotes(ctx context.Context, ns Namespace, snap Snapshot, notes string) error {
	return s.UpdateManifest(ctx, ns, snap, func(m *Manifest) error {
		m.Unprotected.Notes = notes
		return nil
	})
}

// UploadBackupLog stores blob as the client log (client.log.blob) of the
// existing snapshot snap, as PBS's upload-backup-log does: the blob's CRC
// must be correct (ErrChecksum) and a snapshot keeps its first log
// (ErrLogExists).
func (s *Store) UploadBackupLog(ns Namespace, snap Snapshot, blob []byte) error {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, ClientLogName)
	if fileExists(path) {
		return storeErr("upload backup log", s.rel(dir), ErrLogExists)
	}
	if err := CheckBlobCRC(blob); err != nil {
		return storeErr("upload backup log", s.rel(dir), err)
	}
	return storeErr("upload backup log", s.rel(dir), s.writeFileAtomic(path, blob, false))
}

// OpenSnapshotFile opens the file name (an archive, a blob, the manifest)
// of snapshot snap for reading.
func (s *Store) OpenSnapshotFile(ns Namespace, snap Snapshot, name string) (*os.File, error) {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return nil, err
	}
	if err := checkFileName(name); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return nil, storeErr("open snapshot file", s.rel(filepath.Join(dir, name)), err)
	}
	return f, nil
}

// OpenFixedIndex opens and parses the fixed index name of snapshot snap.
func (s *Store) OpenFixedIndex(ns Namespace, snap Snapshot, name string) (*FixedIndex, error) {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return nil, err
	}
	if err := checkFileName(name); err != nil {
		return nil, err
	}
	return OpenFixedIndex(filepath.Join(dir, name))
}

// OpenDynamicIndex opens and parses the dynamic index name of snapshot snap.
func (s *Store) OpenDynamicIndex(ns Namespace, snap Snapshot, name string) (*DynamicIndex, error) {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return nil, err
	}
	if err := checkFileName(name); err != nil {
		return nil, err
	}
	return OpenDynamicIndex(filepath.Join(dir, name))
}

// OpenFixedIndexReader opens the fixed index name of snapshot snap for
// reading on demand (see FixedIndexReader); Close it when done.
func (s *Store) OpenFixedIndexReader(ns Namespace, snap Snapshot, name string) (*FixedIndexReader, error) {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return nil, err
	}
	if err := checkFileName(name); err != nil {
		return nil, err
	}
	return OpenFixedIndexReader(filepath.Join(dir, name))
}

// OpenDynamicIndexReader opens the dynamic index name of snapshot snap for
// reading on demand (see DynamicIndexReader); Close it when done.
func (s *Store) OpenDynamicIndexReader(ns Namespace, snap Snapshot, name string) (*DynamicIndexReader, error) {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return nil, err
	}
	if err := checkFileName(name); err != nil {
		return nil, err
	}
	return OpenDynamicIndexReader(filepath.Join(dir, name))
}

// checkFileName accepts a plain file name of a snapshot directory (no path
// separators, not "." or "..").
func checkFileName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return &StoreError{Op: "check file name", Path: name, Err: ErrBadName}
	}
	return nil
}

// RemoveSnapshot deletes snapshot snap with everything in it. Unless force
// is set it takes the snapshot's exclusive lock (ErrLocked while the
// snapshot is in use) and the manifest lock first. A protected snapshot is
// never removed (ErrProtected). Chunks stay until garbage collection.
func (s *Store) RemoveSnapshot(ctx context.Context, ns Namespace, snap Snapshot, force bool) error {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return err
	}
	return s.removeSnapshotDir(ctx, dir, force)
}

// removeSnapshotDir is RemoveSnapshot on a snapshot directory.
func (s *Store) removeSnapshotDir(ctx context.Context, dir string, force bool) error {
	if !force {
		lock, err := lockDir(dir, "snapshot", "possibly running or in use", true)
		if err != nil {
			return err
		}
		defer lock.Unlock()
		mlock, err := lockManifest(ctx, dir)
		if err != nil {
			return err
		}
		defer mlock.Unlock()
	}
	if fileExists(filepath.Join(dir, ProtectedName)) {
		return storeErr("remove snapshot", s.rel(dir), ErrProtected)
	}
	return storeErr("remove snapshot", s.rel(dir), os.RemoveAll(dir))
}

// GroupRemoveStats tells what RemoveGroup did.
type GroupRemoveStats struct {
	// Removed counts the snapshots deleted.
	Removed int
	// Protected counts the protected snapshots left in place; the group
	// directory is only removed when this is zero.
	Protected int
}

// RemoveGroup deletes every unprotected snapshot of group g and then, if
// none is left, the group directory with its owner and notes. It holds the
// group lock throughout (ErrLocked while a backup of the group runs).
func (s *Store) RemoveGroup(ctx context.Context, ns Namespace, g Group) (GroupRemoveStats, error) {
	var stats GroupRemoveStats
	dir, err := s.groupDir(ns, g)
	if err != nil {
		return stats, err
	}
	lock, err := lockDir(dir, "backup group", "possible running backup", true)
	if err != nil {
		return stats, err
	}
	defer lock.Unlock()
	snaps, err := s.storeSnapshotDirs(dir)
	if err != nil {
		return stats, err
	}
	for _, name := range snaps {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		snapDir := filepath.Join(dir, name)
		if fileExists(filepath.Join(snapDir, ProtectedName)) {
			stats.Protected++
			continue
		}
		if err := s.removeSnapshotDir(ctx, snapDir, false); err != nil {
			return stats, err
		}
		stats.Removed++
	}
	if stats.Protected == 0 {
		if err := os.RemoveAll(dir); err != nil {
			return stats, storeErr("remove group", s.rel(dir), err)
		}
	}
	return stats, nil
}

// LastFinishedSnapshot returns the snapshot a new backup of group g builds
// on, exactly as PBS chooses it (spec 3.1 step 9): the newest snapshot
// that has a manifest, unless that manifest's verify state is "failed", in
// which case there is none (an older snapshot is not used instead). A
// manifest without verify state counts as good. ok is false when there is
// no usable snapshot or no group.
func (s *Store) LastFinishedSnapshot(ns Namespace, g Group) (snap Snapshot, ok bool, err error) {
	if err := checkGroup(g); err != nil {
		return Snapshot{}, false, err
	}
	dir := s.GroupPath(ns, g)
	names, err := s.storeSnapshotDirs(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return Snapshot{}, false, nil
	}
	if err != nil {
		return Snapshot{}, false, err
	}
	for i := len(names) - 1; i >= 0; i-- {
		snapDir := filepath.Join(dir, names[i])
		if !fileExists(filepath.Join(snapDir, ManifestName)) {
			continue
		}
		t, err := ParseBackupTime(names[i])
		if err != nil {
			return Snapshot{}, false, err
		}
		m, _, err := s.readManifestAt(snapDir)
		if err != nil {
			return Snapshot{}, false, err
		}
		if vs := m.Unprotected.VerifyState; vs != nil && vs.State == VerifyStateFailed {
			return Snapshot{}, false, nil
		}
		return Snapshot{Group: g, Time: t}, true, nil
	}
	return Snapshot{}, false, nil
}

// fileExists reports whether path exists (any type).
func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
