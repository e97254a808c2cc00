package pbs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/httpapi"
)

// VerifyState is the outcome of a snapshot's last verification.
type VerifyState string

// The verify states PBS records.
const (
	VerifyOK     VerifyState = datastore.VerifyStateOK     // every chunk was readable and matched
	VerifyFailed VerifyState = datastore.VerifyStateFailed // something was missing or corrupt
)

// Verification is the last verification of a snapshot: the verify task and
// its outcome.
type Verification struct {
	UPID  UPID
	State VerifyState
}

// SnapshotInfo is one snapshot of GET /admin/datastore/{store}/snapshots.
// For a snapshot whose manifest cannot be read (a backup in progress, or a
// damaged one) the server lists only the file names: Size is nil and
// Comment, Verification and KeyFingerprint are empty.
type SnapshotInfo struct {
	Snapshot datastore.Snapshot
	// Comment is the first line of the snapshot notes.
	Comment string
	// Verification is the last verification, nil if never verified.
	Verification *Verification
	// KeyFingerprint is the colon-hex fingerprint of the encryption key
	// the backup was made with, "" for unencrypted backups.
	KeyFingerprint string
	// Files lists the manifest's files with crypt mode and size, then
	// index.json.blob, then files present but not in the manifest (no
	// crypt mode or size).
	Files []datastore.BackupContent
	// Size sums the known file sizes; nil when the manifest was not read.
	Size *uint64
	// Owner is the owner of the snapshot's group.
	Owner auth.Authid
	// Protected is true when the snapshot is protected from prune and
	// removal.
	Protected bool
}

// UnmarshalJSON decodes PBS's SnapshotListItem, checking names, owner,
// verification and crypt modes.
func (si *SnapshotInfo) UnmarshalJSON(b []byte) error {
	var w struct {
		Type         string `json:"backup-type"`
		ID           string `json:"backup-id"`
		Time         *int64 `json:"backup-time"`
		Comment      string `json:"comment"`
		Verification *struct {
			UPID  UPID   `json:"upid"`
			State string `json:"state"`
		} `json:"verification"`
		Fingerprint string                    `json:"fingerprint"`
		Files       []datastore.BackupContent `json:"files"`
		Size        *uint64                   `json:"size"`
		Owner       string                    `json:"owner"`
		Protected   bool                      `json:"protected"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	snap, err := dsDecodeSnapshot("snapshot", w.Type, w.ID, w.Time)
	if err != nil {
		return err
	}
	owner, err := dsDecodeOwner(w.Owner)
	if err != nil {
		return err
	}
	if err := dsCheckFiles(w.Files); err != nil {
		return err
	}
	*si = SnapshotInfo{
		Snapshot: snap,
		Comment:  w.Comment, KeyFingerprint: w.Fingerprint, Files: w.Files, Size: w.Size,
		Owner: owner, Protected: w.Protected,
	}
	if w.Verification != nil {
		st := VerifyState(w.Verification.State)
		if st != VerifyOK && st != VerifyFailed {
			return fmt.Errorf("pbs: snapshot %s: unknown verify state %q", si.Snapshot, w.Verification.State)
		}
		si.Verification = &Verification{UPID: w.Verification.UPID, State: st}
	}
	return nil
}

// SnapshotFilter narrows ListSnapshots to one backup type, one backup id,
// or both (one group). The zero filter lists every snapshot of the
// namespace.
type SnapshotFilter struct {
	Type datastore.BackupType
	ID   string
}

// ListSnapshots returns the snapshots of namespace ns (of the groups the
// filter selects), oldest first within each group. Callers with only
// Datastore.Backup see the snapshots of the groups they own.
//
// PBS: GET /admin/datastore/{store}/snapshots (needs Datastore.Audit, or
// Datastore.Backup for owned groups, on /datastore/{store}[/{ns}])
func (s *DatastoreService) ListSnapshots(ctx context.Context, store string, ns datastore.Namespace, filter SnapshotFilter) ([]SnapshotInfo, error) {
	var v httpapi.Values
	dsSetNS(&v, "ns", ns)
	if filter.Type != "" {
		v.Set("backup-type", string(filter.Type))
	}
	if filter.ID != "" {
		v.Set("backup-id", filter.ID)
	}
	return dsCall[[]SnapshotInfo](ctx, s.c, http.MethodGet, dsStorePath(store, "snapshots"), v)
}

// SnapshotFiles returns the files of snapshot snap as ListSnapshots
// describes them; it fails (400) when the manifest cannot be read.
//
// PBS: GET /admin/datastore/{store}/files (needs Datastore.Audit or
// Datastore.Read, or Datastore.Backup for owned groups, on
// /datastore/{store}[/{ns}])
func (s *DatastoreService) SnapshotFiles(ctx context.Context, store string, ns datastore.Namespace, snap datastore.Snapshot) ([]datastore.BackupContent, error) {
	v, err := dsSnapshotValues(ns, snap)
	if err != nil {
		return nil, err
	}
	return dsCall[dsFiles](ctx, s.c, http.MethodGet, dsStorePath(store, "files"), v)
}

// DeleteSnapshot removes snapshot snap. A protected snapshot is refused
// ("cannot remove protected snapshot"), and so is one in use by a reader or
// a running backup.
//
// PBS: DELETE /admin/datastore/{store}/snapshots (needs Datastore.Modify, or
// Datastore.Prune for owned groups, on /datastore/{store}[/{ns}])
func (s *DatastoreService) DeleteSnapshot(ctx context.Context, store string, ns datastore.Namespace, snap datastore.Snapshot) error {
	v, err := dsSnapshotValues(ns, snap)
	if err != nil {
		return err
	}
	return wrapError(s.c.api.Delete(ctx, dsStorePath(store, "snapshots"), v, nil))
}

// Protected reports whether snapshot snap is protected from prune and
// removal.
//
// PBS: GET /admin/datastore/{store}/protected (needs Datastore.Audit, or
// Datastore.Backup for owned groups, on /datastore/{store}[/{ns}])
func (s *DatastoreService) Protected(ctx context.Context, store string, ns datastore.Namespace, snap datastore.Snapshot) (bool, error) {
	v, err := dsSnapshotValues(ns, snap)
	if err != nil {
		return false, err
	}
	return dsCall[bool](ctx, s.c, http.MethodGet, dsStorePath(store, "protected"), v)
}

// SetProtected protects snapshot snap from prune and removal, or lifts the
// protection. It fails while the snapshot is in use (read, verified, or the
// base of a running backup).
//
// PBS: PUT /admin/datastore/{store}/protected (needs Datastore.Modify, or
// Datastore.Backup for owned groups, on /datastore/{store}[/{ns}])
func (s *DatastoreService) SetProtected(ctx context.Context, store string, ns datastore.Namespace, snap datastore.Snapshot, protected bool) error {
	v, err := dsSnapshotValues(ns, snap)
	if err != nil {
		return err
	}
	v.SetBool("protected", protected)
	return wrapError(s.c.api.Put(ctx, dsStorePath(store, "protected"), v, nil))
}

// Notes returns the notes of snapshot snap ("" when it has none).
//
// PBS: GET /admin/datastore/{store}/notes (needs Datastore.Audit, or
// Datastore.Backup for owned groups, on /datastore/{store}[/{ns}])
func (s *DatastoreService) Notes(ctx context.Context, store string, ns datastore.Namespace, snap datastore.Snapshot) (string, error) {
	v, err := dsSnapshotValues(ns, snap)
	if err != nil {
		return "", err
	}
	return dsCall[string](ctx, s.c, http.MethodGet, dsStorePath(store, "notes"), v)
}

// SetNotes replaces the notes of snapshot snap (kept in its manifest); the
// first line is the snapshot's comment in listings.
//
// PBS: PUT /admin/datastore/{store}/notes (needs Datastore.Modify, or
// Datastore.Backup for owned groups, on /datastore/{store}[/{ns}])
func (s *DatastoreService) SetNotes(ctx context.Context, store string, ns datastore.Namespace, snap datastore.Snapshot, notes string) error {
	v, err := dsSnapshotValues(ns, snap)
	if err != nil {
		return err
	}
	v.Set("notes", notes)
	return wrapError(s.c.api.Put(ctx, dsStorePath(store, "notes"), v, nil))
}

// dsFiles decodes a file list, checking names and crypt modes.
type dsFiles []datastore.BackupContent

func (f *dsFiles) UnmarshalJSON(b []byte) error {
	var list []datastore.BackupContent
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	if err := dsCheckFiles(list); err != nil {
		return err
	}
	*f = list
	return nil
}

// dsCheckFiles rejects file entries without a name or with a crypt mode
// PBS does not know.
func dsCheckFiles(files []datastore.BackupContent) error {
	for _, f := range files {
		if f.Filename == "" {
			return fmt.Errorf("pbs: file entry without filename")
		}
		if f.CryptMode != "" && !f.CryptMode.Valid() {
			return fmt.Errorf("pbs: file %q: unknown crypt-mode %q", f.Filename, f.CryptMode)
		}
	}
	return nil
}
