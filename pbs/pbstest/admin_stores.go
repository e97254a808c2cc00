package pbstest

import (
	"context"
	"errors"
	"io/fs"
	"net/http"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// adminStoreItem is one entry of GET /admin/datastore. The mock's
// datastores have no comment, so it is always null, as PBS sends it.
type adminStoreItem struct {
	Store   string  `json:"store"`
	Comment *string `json:"comment"`
}

// handleDatastoreList serves GET /admin/datastore: every datastore on
// which the caller holds Datastore.Audit or Datastore.Backup, and those
// where it holds a datastore privilege somewhere below (name only).
func (s *Server) handleDatastoreList(w http.ResponseWriter, r *http.Request) {
	id, ok := s.authenticatedNoParams(w, r)
	if !ok {
		return
	}
	out := []adminStoreItem{}
	for _, name := range s.storeNames() {
		path := "/datastore/" + name
		if s.hasAnyPriv(id, path, adminPrivAudit, adminPrivBackup) || s.anyPrivsBelow(id, path, adminNSPrivsOK...) {
			out = append(out, adminStoreItem{Store: name})
		}
	}
	s.reply(w, out, nil)
}

// adminUsageItem is one entry of GET /status/datastore-usage. The mock
// keeps no usage history, so history and the full-date estimate are never
// sent, as on a PBS whose statistics are not collected yet.
type adminUsageItem struct {
	Store    string              `json:"store"`
	Total    *uint64             `json:"total,omitempty"`
	Used     *uint64             `json:"used,omitempty"`
	Avail    *uint64             `json:"avail,omitempty"`
	Error    string              `json:"error,omitempty"`
	GCStatus *datastore.GCStatus `json:"gc-status,omitempty"`
}

// handleDatastoreUsage serves GET /status/datastore-usage.
func (s *Server) handleDatastoreUsage(w http.ResponseWriter, r *http.Request) {
	id, ok := s.authenticatedNoParams(w, r)
	if !ok {
		return
	}
	out := []adminUsageItem{}
	for _, name := range s.storeNames() {
		s.mu.Lock()
		st := s.stores[name]
		s.mu.Unlock()
		if !s.hasAnyPriv(id, "/datastore/"+name, adminPrivAudit, adminPrivBackup) {
			if s.adminAnyNamespaceAccess(r.Context(), st, id) {
				out = append(out, adminUsageItem{Store: name})
			}
			continue
		}
		status, err := st.Status(r.Context(), false)
		if err != nil {
			out = append(out, adminUsageItem{Store: name, Error: err.Error()})
			continue
		}
		out = append(out, adminUsageItem{Store: name, Total: &status.Total, Used: &status.Used, Avail: &status.Avail,
			GCStatus: adminLastGC(st)})
	}
	s.reply(w, out, nil)
}

// adminAnyNamespaceAccess is PBS's can_access_any_namespace: a datastore
// privilege on some existing namespace of st (the root included).
func (s *Server) adminAnyNamespaceAccess(ctx context.Context, st *datastore.Store, id auth.Authid) bool {
	list, err := st.ListNamespaces(ctx, datastore.Namespace{}, datastore.MaxNamespaceDepth)
	if err != nil {
		return false
	}
	for _, it := range list {
		if s.hasAnyPriv(id, it.NS.ACLPath(st.Name()), adminNSPrivsOK...) {
			return true
		}
	}
	return false
}

// adminLastGC is the datastore's last GC status; PBS keeps one in memory
// that starts all zero, so there always is one.
func adminLastGC(st *datastore.Store) *datastore.GCStatus {
	gc, err := st.LastGCStatus()
	if err != nil {
		return &datastore.GCStatus{}
	}
	return gc
}

// handleDatastoreStatus serves GET /admin/datastore/{store}/status:
// Datastore.Audit or Datastore.Backup on the datastore give the sizes;
// Datastore.Read, or any datastore privilege below, only the counts (and
// zero sizes); counts cover the caller's own groups unless it holds
// Datastore.Audit, and the GC status needs the full statistics.
func (s *Server) handleDatastoreStatus(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "verbose")
	if !ok {
		return
	}
	verbose := p.BoolOr("verbose", false)
	if !s.paramsOK(w, p) {
		return
	}
	store := r.PathValue("store")
	path := "/datastore/" + store
	var stats bool
	switch {
	case s.hasAnyPriv(id, path, adminPrivAudit, adminPrivBackup):
		stats = true
	case s.hasAnyPriv(id, path, adminPrivRead):
	case s.anyPrivsBelow(id, path, adminNSPrivsOK...):
	default:
		adminHandlerForbidden(w)
		return
	}
	st, ok := s.lookupStore(w, store)
	if !ok {
		return
	}
	out := &datastore.StoreStatus{}
	if stats {
		full, err := st.Status(r.Context(), verbose && s.hasAnyPriv(id, path, adminPrivAudit))
		if err != nil {
			s.fail(w, err)
			return
		}
		out = full
	}
	if verbose {
		if out.Counts == nil {
			counts, err := s.adminCounts(r.Context(), st, id)
			if err != nil {
				s.fail(w, err)
				return
			}
			out.Counts = counts
		}
		if stats && out.GCStatus == nil {
			out.GCStatus = adminLastGC(st)
		}
	}
	s.reply(w, out, nil)
}

// adminCounts counts the groups (with at least one snapshot) and snapshots
// per type that id may see, as PBS does for callers without
// Datastore.Audit on the datastore: in every namespace where id holds a
// datastore privilege, all groups with Datastore.Audit or Datastore.Read
// there, else only the groups id owns.
func (s *Server) adminCounts(ctx context.Context, st *datastore.Store, id auth.Authid) (*datastore.Counts, error) {
	list, err := st.ListNamespaces(ctx, datastore.Namespace{}, datastore.MaxNamespaceDepth)
	if err != nil {
		return nil, err
	}
	c := &datastore.Counts{}
	for _, it := range list {
		path := it.NS.ACLPath(st.Name())
		if !s.hasAnyPriv(id, path, adminNSPrivsOK...) {
			continue
		}
		all := s.hasAnyPriv(id, path, adminPrivAudit, adminPrivRead)
		groups, err := st.ListGroups(ctx, it.NS)
		if errors.Is(err, datastore.ErrNamespaceNotFound) || errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			if !all && !adminOwns(g.Owner, id) {
				continue
			}
			tc := adminTypeCounts(c, g.BackupType)
			tc.Groups++
			tc.Snapshots += g.BackupCount
		}
	}
	return c, nil
}

// adminTypeCounts returns the counter of typ in c, creating it.
func adminTypeCounts(c *datastore.Counts, typ datastore.BackupType) *datastore.TypeCounts {
	slot := &c.Other
	switch typ {
	case datastore.TypeCT:
		slot = &c.CT
	case datastore.TypeHost:
		slot = &c.Host
	case datastore.TypeVM:
		slot = &c.VM
	}
	if *slot == nil {
		*slot = &datastore.TypeCounts{}
	}
	return *slot
}

// adminStoreRoutes registers the datastore-level endpoints.
func (s *Server) adminStoreRoutes(rt *mockcore.Router) {
	rt.Handle("GET", "/admin/datastore", s.handleDatastoreList)
	rt.Handle("GET", "/status/datastore-usage", s.handleDatastoreUsage)
	rt.Handle("GET", "/admin/datastore/{store}/status", s.handleDatastoreStatus)
}
