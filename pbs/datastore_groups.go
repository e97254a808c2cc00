package pbs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/httpapi"
)

// GroupInfo is one backup group of GET /admin/datastore/{store}/groups.
type GroupInfo struct {
	Group datastore.Group
	// LastBackup is the time of the group's newest snapshot (finished
	// ones preferred).
	LastBackup time.Time
	// BackupCount counts the group's snapshots, finished or not.
	BackupCount uint64
	// Files are the file names in the directory of the LastBackup
	// snapshot (archives and blobs with their server-side extensions).
	Files []string
	// Owner is the group's owner (zero if the server did not say).
	Owner auth.Authid
	// Comment is the first line of the group notes.
	Comment string
}

// UnmarshalJSON decodes PBS's GroupListItem, checking the group name and
// the owner.
func (g *GroupInfo) UnmarshalJSON(b []byte) error {
	var w struct {
		Type        string   `json:"backup-type"`
		ID          string   `json:"backup-id"`
		LastBackup  int64    `json:"last-backup"`
		BackupCount uint64   `json:"backup-count"`
		Files       []string `json:"files"`
		Owner       string   `json:"owner"`
		Comment     string   `json:"comment"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	grp, err := dsDecodeGroup(w.Type, w.ID)
	if err != nil {
		return err
	}
	owner, err := dsDecodeOwner(w.Owner)
	if err != nil {
		return err
	}
	*g = GroupInfo{Group: grp, LastBackup: dsEpoch(w.LastBackup), BackupCount: w.BackupCount,
		Files: w.Files, Owner: owner, Comment: w.Comment}
	return nil
}

// ListGroups returns the groups of namespace ns that hold at least one
// snapshot. Callers with only Datastore.Backup see the groups they own
// (owned by them, or by one of their tokens).
//
// PBS: GET /admin/datastore/{store}/groups (needs Datastore.Audit, or
// Datastore.Backup for owned groups, on /datastore/{store}[/{ns}])
func (s *DatastoreService) ListGroups(ctx context.Context, store string, ns datastore.Namespace) ([]GroupInfo, error) {
	var v httpapi.Values
	dsSetNS(&v, "ns", ns)
	return dsCall[[]GroupInfo](ctx, s.c, http.MethodGet, dsStorePath(store, "groups"), v)
}

// DeleteGroup removes group g with all its snapshots. Protected snapshots
// stay, and then so does the group: the call fails with "group only
// partially deleted due to protected snapshots".
//
// PBS: DELETE /admin/datastore/{store}/groups (needs Datastore.Modify, or
// Datastore.Prune for owned groups, on /datastore/{store}[/{ns}])
func (s *DatastoreService) DeleteGroup(ctx context.Context, store string, ns datastore.Namespace, g datastore.Group) error {
	v, err := dsGroupValues(ns, g)
	if err != nil {
		return err
	}
	return wrapError(s.c.api.Delete(ctx, dsStorePath(store, "groups"), v, nil))
}

// ChangeOwner makes newOwner the owner of group g. Callers with
// Datastore.Modify may pick any active user or token; callers with only
// Datastore.Backup may only move an owned group between themselves and
// their own tokens (anything else is a 401 naming both ids).
//
// PBS: POST /admin/datastore/{store}/change-owner (needs Datastore.Modify,
// or Datastore.Backup within the caller's own ids, on
// /datastore/{store}[/{ns}])
func (s *DatastoreService) ChangeOwner(ctx context.Context, store string, ns datastore.Namespace, g datastore.Group, newOwner auth.Authid) error {
	v, err := dsGroupValues(ns, g)
	if err != nil {
		return err
	}
	if newOwner.IsZero() {
		return fmt.Errorf("pbs: ChangeOwner: zero new owner")
	}
	v.Set("new-owner", newOwner.String())
	return wrapError(s.c.api.Post(ctx, dsStorePath(store, "change-owner"), v, nil))
}

// GroupNotes returns the notes of group g ("" when it has none).
//
// PBS: GET /admin/datastore/{store}/group-notes (needs Datastore.Audit, or
// Datastore.Backup for owned groups, on /datastore/{store}[/{ns}])
func (s *DatastoreService) GroupNotes(ctx context.Context, store string, ns datastore.Namespace, g datastore.Group) (string, error) {
	v, err := dsGroupValues(ns, g)
	if err != nil {
		return "", err
	}
	return dsCall[string](ctx, s.c, http.MethodGet, dsStorePath(store, "group-notes"), v)
}

// SetGroupNotes replaces the notes of group g; the first line is the
// group's comment in listings.
//
// PBS: PUT /admin/datastore/{store}/group-notes (needs Datastore.Modify, or
// Datastore.Backup for owned groups, on /datastore/{store}[/{ns}])
func (s *DatastoreService) SetGroupNotes(ctx context.Context, store string, ns datastore.Namespace, g datastore.Group, notes string) error {
	v, err := dsGroupValues(ns, g)
	if err != nil {
		return err
	}
	v.Set("notes", notes)
	return wrapError(s.c.api.Put(ctx, dsStorePath(store, "group-notes"), v, nil))
}

// dsDecodeGroup checks a group name from an answer.
func dsDecodeGroup(typ, id string) (datastore.Group, error) {
	g := datastore.Group{Type: datastore.BackupType(typ), ID: id}
	if err := g.Validate(); err != nil {
		return datastore.Group{}, fmt.Errorf("pbs: %w", err)
	}
	return g, nil
}

// dsDecodeSnapshot checks a snapshot name from an answer; what names the
// answer ("snapshot", "prune item") when backup-time is missing.
func dsDecodeSnapshot(what, typ, id string, t *int64) (datastore.Snapshot, error) {
	grp, err := dsDecodeGroup(typ, id)
	if err != nil {
		return datastore.Snapshot{}, err
	}
	if t == nil {
		return datastore.Snapshot{}, fmt.Errorf("pbs: %s of %s without backup-time", what, grp)
	}
	return datastore.Snapshot{Group: grp, Time: dsEpoch(*t)}, nil
}

// dsDecodeOwner parses an optional owner from an answer.
func dsDecodeOwner(s string) (auth.Authid, error) {
	if s == "" {
		return auth.Authid{}, nil
	}
	id, err := auth.ParseAuthid(s)
	if err != nil {
		return auth.Authid{}, fmt.Errorf("pbs: owner: %w", err)
	}
	return id, nil
}
