package datastore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// NamespaceListItem is one namespace as GET .../namespace returns it.
type NamespaceListItem struct {
	// NS is the namespace ("" for the root).
	NS Namespace
	// Comment is the first line of the namespace's notes; PBS 3.2.4 never
	// fills it.
	Comment string
}

// MarshalJSON renders {"ns": "a/b", "comment"?: "..."}.
func (it NamespaceListItem) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		NS      string `json:"ns"`
		Comment string `json:"comment,omitempty"`
	}{it.NS.String(), it.Comment})
}

// GroupListItem is one backup group as GET .../groups returns it. The JSON
// member names are PBS's.
type GroupListItem struct {
	BackupType BackupType `json:"backup-type"`
	BackupID   string     `json:"backup-id"`
	// LastBackup is the epoch time of the group's last snapshot (finished
	// ones preferred, see ListGroups).
	LastBackup int64 `json:"last-backup"`
	// BackupCount counts all snapshot directories, finished or not.
	BackupCount uint64 `json:"backup-count"`
	// Files are the archive and blob names present in the last snapshot's
	// directory (not read from its manifest).
	Files []string `json:"files"`
	// Owner is the auth id in the group's owner file.
	Owner string `json:"owner,omitempty"`
	// Comment is the first line of the group's notes.
	Comment string `json:"comment,omitempty"`
}

// Group returns the group the item describes.
func (it GroupListItem) Group() Group { return Group{Type: it.BackupType, ID: it.BackupID} }

// BackupContent is one file of a snapshot as GET .../files and the
// snapshot list return it. CryptMode and Size are only known for files the
// manifest lists (and for the manifest itself).
type BackupContent struct {
	Filename  string    `json:"filename"`
	CryptMode CryptMode `json:"crypt-mode,omitempty"`
	Size      *uint64   `json:"size,omitempty"`
}

// SnapshotListItem is one snapshot as GET .../snapshots returns it (JSON
// member names as PBS's). Comment, Verification, Fingerprint and Size are
// omitted when the manifest cannot be read (an unfinished snapshot).
type SnapshotListItem struct {
	BackupType BackupType `json:"backup-type"`
	BackupID   string     `json:"backup-id"`
	BackupTime int64      `json:"backup-time"`
	// Comment is the first line of the snapshot notes.
	Comment string `json:"comment,omitempty"`
	// Verification is the manifest's verify state, if any.
	Verification *VerifyState `json:"verification,omitempty"`
	// Fingerprint is the key fingerprint in the manifest, if any.
	Fingerprint string          `json:"fingerprint,omitempty"`
	Files       []BackupContent `json:"files"`
	// Size sums the known sizes of Files.
	Size      *uint64 `json:"size,omitempty"`
	Owner     string  `json:"owner,omitempty"`
	Protected bool    `json:"protected"`

	// Snapshot is the snapshot the item describes (not rendered).
	Snapshot Snapshot `json:"-"`
	// Finished tells whether the manifest exists (not rendered).
	Finished bool `json:"-"`
}

// ListNamespaces lists parent and the namespaces below it, down to maxDepth
// levels (clamped so that no namespace deeper than MaxNamespaceDepth is
// visited), parent first and then depth first in name order, as PBS does.
// A missing parent is ErrNamespaceNotFound; maxDepth outside 0..7 is
// ErrBadName.
func (s *Store) ListNamespaces(ctx context.Context, parent Namespace, maxDepth int) ([]NamespaceListItem, error) {
	if maxDepth < 0 || maxDepth > MaxNamespaceDepth {
		return nil, &StoreError{Op: "list namespaces", Err: errors.Join(ErrBadName, errors.New("max-depth must be 0.."+strconv.Itoa(MaxNamespaceDepth)))}
	}
	if err := s.checkNamespace(parent); err != nil {
		return nil, err
	}
	maxDepth = min(maxDepth, MaxNamespaceDepth-parent.Depth())
	out := []NamespaceListItem{{NS: parent}}
	var walk func(ns Namespace, depth int) error
	walk = func(ns Namespace, depth int) error {
		if depth >= maxDepth {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		children, err := s.childNamespaces(ns)
		if err != nil {
			return err
		}
		for _, child := range children {
			out = append(out, NamespaceListItem{NS: child})
			if err := walk(child, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(parent, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// childNamespaces returns the direct children of ns in name order, skipping
// entries of <ns>/ns that are not directories or not valid names.
func (s *Store) childNamespaces(ns Namespace) ([]Namespace, error) {
	dir := filepath.Join(s.NamespacePath(ns), "ns")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr("list namespaces", s.rel(dir), err)
	}
	var out []Namespace
	for _, e := range entries {
		if !isDirEntryDir(dir, e) {
			continue
		}
		child, err := ns.Child(e.Name())
		if err != nil {
			continue
		}
		out = append(out, child)
	}
	return out, nil
}

// checkNamespace fails with ErrNamespaceNotFound unless ns exists.
func (s *Store) checkNamespace(ns Namespace) error {
	return requireDir("open namespace", ns.String(), s.NamespacePath(ns), ErrNamespaceNotFound)
}

// NamespaceExists reports whether the directory of ns exists.
func (s *Store) NamespaceExists(ns Namespace) bool {
	return s.checkNamespace(ns) == nil
}

// CreateNamespace creates the child name of parent, which must exist
// (ErrNamespaceNotFound). Like PBS it succeeds if the namespace exists
// already. The name must be a valid component and the result at most
// MaxNamespaceDepth deep (ErrBadName).
func (s *Store) CreateNamespace(parent Namespace, name string) (Namespace, error) {
	if err := s.checkNamespace(parent); err != nil {
		return Namespace{}, err
	}
	ns, err := parent.Child(name)
	if err != nil {
		return Namespace{}, err
	}
	if err := os.MkdirAll(s.NamespacePath(ns), 0o755); err != nil {
		return Namespace{}, storeErr("create namespace", ns.String(), err)
	}
	return ns, nil
}

// RemoveNamespace removes ns and every namespace below it. With
// deleteGroups it first removes all their groups (protected snapshots
// stay, and so do the groups and namespaces holding them); without, only
// empty namespaces are removed. It reports whether everything asked for
// was removed. The root namespace itself is never removed (its groups are,
// with deleteGroups).
func (s *Store) RemoveNamespace(ctx context.Context, ns Namespace, deleteGroups bool) (bool, error) {
	all, err := s.ListNamespaces(ctx, ns, MaxNamespaceDepth-ns.Depth())
	if err != nil {
		return false, err
	}
	complete := true
	if deleteGroups {
		for _, it := range all {
			groups, err := s.storeGroups(ctx, it.NS)
			if err != nil {
				return false, err
			}
			for _, g := range groups {
				stats, err := s.RemoveGroup(ctx, it.NS, g)
				if err != nil {
					return false, err
				}
				if stats.Protected > 0 {
					complete = false
				}
			}
			for _, t := range []BackupType{TypeCT, TypeHost, TypeVM} {
				os.Remove(filepath.Join(s.NamespacePath(it.NS), string(t))) // only if empty
			}
		}
	}
	// Deepest first, with rmdir, so that a namespace that gained a group
	// meanwhile is left alone.
	slices.SortStableFunc(all, func(a, b NamespaceListItem) int { return cmp.Compare(b.NS.Depth(), a.NS.Depth()) })
	for _, it := range all {
		dir := s.NamespacePath(it.NS)
		os.Remove(filepath.Join(dir, "ns"))
		if it.NS.IsRoot() {
			continue
		}
		if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			complete = false
		}
	}
	return complete, nil
}

// storeGroups returns the groups of namespace ns (not of its children):
// directories below ct/, host/ and vm/ whose names are valid backup ids,
// sorted the way PBS sorts groups (see compareGroups).
func (s *Store) storeGroups(ctx context.Context, ns Namespace) ([]Group, error) {
	base := s.NamespacePath(ns)
	var out []Group
	for _, t := range []BackupType{TypeCT, TypeHost, TypeVM} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dir := filepath.Join(base, string(t))
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, storeErr("list groups", s.rel(dir), err)
		}
		for _, e := range entries {
			g := Group{Type: t, ID: e.Name()}
			if g.Validate() != nil || !isDirEntryDir(dir, e) {
				continue
			}
			out = append(out, g)
		}
	}
	slices.SortFunc(out, CompareGroups)
	return out, nil
}

// CompareGroups orders groups as PBS sorts them: by type (ct, host, vm),
// then by id, numerically when both ids are unsigned integers (numbers
// before other ids), lexically otherwise.
func CompareGroups(a, b Group) int {
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	an, aerr := strconv.ParseUint(a.ID, 10, 64)
	bn, berr := strconv.ParseUint(b.ID, 10, 64)
	switch {
	case aerr == nil && berr == nil:
		if c := cmp.Compare(an, bn); c != 0 {
			return c
		}
	case aerr == nil:
		return -1
	case berr == nil:
		return 1
	}
	return strings.Compare(a.ID, b.ID)
}

// storeSnapshotDirs returns the names of the snapshot directories in the
// group directory dir (names in backup time format; so never the hidden
// temporary directories of running writers), oldest first.
func (s *Store) storeSnapshotDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, storeErr("list snapshots", s.rel(dir), err)
	}
	var out []string
	for _, e := range entries {
		if _, err := ParseBackupTime(e.Name()); err != nil || !isDirEntryDir(dir, e) {
			continue
		}
		out = append(out, e.Name())
	}
	// The fixed-width UTC format sorts chronologically.
	slices.Sort(out)
	return out, nil
}

// snapshotFileNames lists the regular files of snapshot directory dir whose
// names end in .fidx, .didx or .blob (PBS's file pattern), sorted.
func snapshotFileNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".fidx") && !strings.HasSuffix(name, ".didx") && !strings.HasSuffix(name, ".blob") {
			continue
		}
		if e.Type().IsRegular() {
			out = append(out, name)
		}
	}
	return out, nil
}

// isDirEntryDir reports whether e is a directory, following symlinks as
// PBS's stat-based fallback does.
func isDirEntryDir(dir string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, e.Name()))
	return err == nil && fi.IsDir()
}

// ListGroups lists the groups of namespace ns that have at least one
// snapshot, as GET .../groups does: groups whose owner file cannot be read
// are skipped, BackupCount counts every snapshot directory, and LastBackup
// and Files come from the newest finished snapshot, or the newest one if
// none is finished. (PBS folds over the snapshots in directory order,
// keeping the current pick while it is finished and newer, so its choice
// can depend on readdir order; this is the choice it intends.) Groups come
// in CompareGroups order.
func (s *Store) ListGroups(ctx context.Context, ns Namespace) ([]GroupListItem, error) {
	if err := s.checkNamespace(ns); err != nil {
		return nil, err
	}
	groups, err := s.storeGroups(ctx, ns)
	if err != nil {
		return nil, err
	}
	out := []GroupListItem{}
	for _, g := range groups {
		dir := s.GroupPath(ns, g)
		owner, err := s.readOwner(dir)
		if err != nil {
			continue
		}
		names, err := s.storeSnapshotDirs(dir)
		if err != nil || len(names) == 0 {
			continue
		}
		last := names[len(names)-1]
		for i := len(names) - 1; i >= 0; i-- {
			if fileExists(filepath.Join(dir, names[i], ManifestName)) {
				last = names[i]
				break
			}
		}
		t, err := ParseBackupTime(last)
		if err != nil {
			continue
		}
		files, err := snapshotFileNames(filepath.Join(dir, last))
		if err != nil {
			continue
		}
		if files == nil {
			files = []string{}
		}
		item := GroupListItem{
			BackupType: g.Type, BackupID: g.ID,
			LastBackup: t.Unix(), BackupCount: uint64(len(names)),
			Files: files, Owner: owner,
		}
		if notes, err := os.ReadFile(filepath.Join(dir, GroupNotesName)); err == nil {
			item.Comment = firstLine(string(notes))
		}
		out = append(out, item)
	}
	return out, nil
}

// ListSnapshots lists the snapshots of namespace ns, as GET .../snapshots
// does: all groups, or only those of group type typ and/or id (either may
// be empty to mean "any"). Groups whose owner cannot be read are skipped.
// Snapshots come oldest first within each group, groups in CompareGroups
// order. See SnapshotListItem for what an unfinished snapshot lacks.
func (s *Store) ListSnapshots(ctx context.Context, ns Namespace, typ BackupType, id string) ([]SnapshotListItem, error) {
	if err := s.checkNamespace(ns); err != nil {
		return nil, err
	}
	groups, err := s.storeGroups(ctx, ns)
	if err != nil {
		return nil, err
	}
	out := []SnapshotListItem{}
	for _, g := range groups {
		if (typ != "" && g.Type != typ) || (id != "" && g.ID != id) {
			continue
		}
		dir := s.GroupPath(ns, g)
		owner, err := s.readOwner(dir)
		if err != nil {
			continue
		}
		names, err := s.storeSnapshotDirs(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			t, err := ParseBackupTime(name)
			if err != nil {
				continue
			}
			item, err := s.snapshotItem(filepath.Join(dir, name), Snapshot{Group: g, Time: t})
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile
			}
			if err != nil {
				return nil, err
			}
			item.Owner = owner
			out = append(out, item)
		}
	}
	return out, nil
}

// MarshalJSON renders the item with PBS's member names, the verification
// as {"upid": ..., "state": ...}.
func (it SnapshotListItem) MarshalJSON() ([]byte, error) {
	type verification struct {
		UPID  string `json:"upid"`
		State string `json:"state"`
	}
	type plain SnapshotListItem
	out := struct {
		plain
		Verification *verification `json:"verification,omitempty"`
	}{plain: plain(it)}
	if v := it.Verification; v != nil {
		out.Verification = &verification{UPID: v.UPID, State: v.State}
	}
	return json.Marshal(out)
}

// snapshotItem builds the list item of the snapshot in directory dir.
func (s *Store) snapshotItem(dir string, snap Snapshot) (SnapshotListItem, error) {
	item := SnapshotListItem{
		BackupType: snap.Type, BackupID: snap.ID, BackupTime: snap.Time.Unix(),
		Snapshot:  snap,
		Protected: fileExists(filepath.Join(dir, ProtectedName)),
	}
	present, err := snapshotFileNames(dir)
	if err != nil {
		return item, storeErr("list snapshot files", s.rel(dir), err)
	}
	m, files, err := s.snapshotContent(dir, present)
	if err != nil {
		// Unfinished or unreadable: names only.
		item.Files = make([]BackupContent, 0, len(present))
		for _, name := range present {
			item.Files = append(item.Files, BackupContent{Filename: name})
		}
		return item, nil
	}
	item.Finished = true
	item.Files = files
	item.Comment = firstLine(m.Unprotected.Notes)
	item.Verification = m.Unprotected.VerifyState
	item.Fingerprint = m.Unprotected.KeyFingerprint
	var size uint64
	for _, f := range files {
		if f.Size != nil {
			size += *f.Size
		}
	}
	item.Size = &size
	return item, nil
}

// snapshotContent lists a finished snapshot's files the way PBS does: the
// manifest's files with crypt mode and size, then index.json.blob itself
// (sign-only if the manifest is signed, else none; size of the blob file),
// then every other archive or blob present in the directory, without crypt
// mode and size.
func (s *Store) snapshotContent(dir string, present []string) (*Manifest, []BackupContent, error) {
	m, blobSize, err := s.readManifestAt(dir)
	if err != nil {
		return nil, nil, err
	}
	files := make([]BackupContent, 0, len(m.Files)+1+len(present))
	seen := make(map[string]bool, len(m.Files)+1)
	for _, f := range m.Files {
		size := f.Size
		mode := f.CryptMode
		if mode == "" {
			mode = CryptNone
		}
		files = append(files, BackupContent{Filename: f.Filename, CryptMode: mode, Size: &size})
		seen[f.Filename] = true
	}
	mode := CryptNone
	if m.Signature != "" {
		mode = CryptSignOnly
	}
	msize := uint64(blobSize)
	files = append(files, BackupContent{Filename: ManifestName, CryptMode: mode, Size: &msize})
	seen[ManifestName] = true
	for _, name := range present {
		if !seen[name] {
			files = append(files, BackupContent{Filename: name})
		}
	}
	return m, files, nil
}

// SnapshotFiles lists the files of snapshot snap as GET .../files does
// (see snapshotContent); unlike the snapshot list it fails when the
// manifest cannot be read (ErrNotFinished for an unfinished snapshot).
func (s *Store) SnapshotFiles(ns Namespace, snap Snapshot) ([]BackupContent, error) {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return nil, err
	}
	present, err := snapshotFileNames(dir)
	if err != nil {
		return nil, storeErr("list snapshot files", s.rel(dir), err)
	}
	_, files, err := s.snapshotContent(dir, present)
	return files, err
}

// SnapshotInfo returns the list item of one snapshot (owner included).
func (s *Store) SnapshotInfo(ns Namespace, snap Snapshot) (SnapshotListItem, error) {
	dir, err := s.snapshotDir(ns, snap)
	if err != nil {
		return SnapshotListItem{}, err
	}
	item, err := s.snapshotItem(dir, snap)
	if err != nil {
		return item, err
	}
	if owner, err := s.readOwner(filepath.Dir(dir)); err == nil {
		item.Owner = owner
	}
	return item, nil
}

// firstLine returns s up to its first line break.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSuffix(line, "\r")
}
