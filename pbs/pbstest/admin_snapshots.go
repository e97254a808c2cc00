package pbstest

import (
	"errors"
	"net/http"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// handleSnapshotList serves GET /admin/datastore/{store}/snapshots: the
// snapshots of ns (optionally of one type and/or id), of every group with
// Datastore.Audit, of the owned groups with Datastore.Backup.
func (s *Server) handleSnapshotList(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "ns", "backup-type", "backup-id")
	if !ok {
		return
	}
	ns := adminNSParam(p, "ns")
	typ := adminTypeParam(p)
	bid := adminIDParam(p)
	if !s.paramsOK(w, p) {
		return
	}
	st, limited, ok := s.adminNSStore(w, id, r.PathValue("store"), ns, adminPrivs{adminPrivAudit}, adminPrivs{adminPrivBackup})
	if !ok {
		return
	}
	list, err := st.ListSnapshots(r.Context(), ns, typ, bid)
	if err != nil {
		s.fail(w, adminStoreErr(err, adminTarget{ns: ns}))
		return
	}
	out := list[:0]
	for _, it := range list {
		if !limited || adminOwns(it.Owner, id) {
			out = append(out, it)
		}
	}
	s.reply(w, out, nil)
}

// adminSnapshotCall reads the snapshot triple (plus extra parameters the
// caller reads itself before calling p.Err) and applies the privilege
// rule of check_privs_and_load_store.
type adminSnapshotCall struct {
	st     *datastore.Store
	ns     datastore.Namespace
	snap   datastore.Snapshot
	target adminTarget
}

// adminSnapshotRequest handles the common part of the per-snapshot calls.
// read may read further parameters; it runs before the parameter check.
func (s *Server) adminSnapshotRequest(w http.ResponseWriter, r *http.Request, full, partial adminPrivs, extra []string, read func(*mockcore.Params)) (adminSnapshotCall, bool) {
	id, p, ok := s.authenticatedCall(w, r, append([]string{"ns", "backup-type", "backup-id", "backup-time"}, extra...)...)
	if !ok {
		return adminSnapshotCall{}, false
	}
	var c adminSnapshotCall
	c.ns = adminNSParam(p, "ns")
	c.snap = adminSnapshotParams(p)
	if read != nil {
		read(p)
	}
	if !s.paramsOK(w, p) {
		return c, false
	}
	c.target = adminTarget{ns: c.ns, group: c.snap.Group, snap: c.snap}
	c.st, ok = s.adminStoreAccess(w, id, r.PathValue("store"), c.ns, c.snap.Group, full, partial)
	return c, ok
}

// adminSnapshotProperty is the common part of GET and PUT of a snapshot
// property (protected, notes): GET needs Datastore.Audit, PUT
// Datastore.Modify and the parameter param, which read reads; either works
// with Datastore.Backup for owned groups.
func (s *Server) adminSnapshotProperty(w http.ResponseWriter, r *http.Request, param string, read func(*mockcore.Params)) (c adminSnapshotCall, put, ok bool) {
	put = r.Method == http.MethodPut
	full, extra := adminPrivs{adminPrivAudit}, []string(nil)
	if put {
		full, extra = adminPrivs{adminPrivModify}, []string{param}
	}
	c, ok = s.adminSnapshotRequest(w, r, full, adminPrivs{adminPrivBackup}, extra, func(p *mockcore.Params) {
		if put {
			p.Require(param)
			read(p)
		}
	})
	return c, put, ok
}

// handleSnapshotFiles serves GET /admin/datastore/{store}/files.
func (s *Server) handleSnapshotFiles(w http.ResponseWriter, r *http.Request) {
	c, ok := s.adminSnapshotRequest(w, r, adminPrivs{adminPrivAudit, adminPrivRead}, adminPrivs{adminPrivBackup}, nil, nil)
	if !ok {
		return
	}
	files, err := c.st.SnapshotFiles(c.ns, c.snap)
	if err != nil {
		s.fail(w, adminStoreErr(err, c.target))
		return
	}
	s.reply(w, files, nil)
}

// handleSnapshotDelete serves DELETE /admin/datastore/{store}/snapshots.
func (s *Server) handleSnapshotDelete(w http.ResponseWriter, r *http.Request) {
	c, ok := s.adminSnapshotRequest(w, r, adminPrivs{adminPrivModify}, adminPrivs{adminPrivPrune}, nil, nil)
	if !ok {
		return
	}
	if err := c.st.RemoveSnapshot(r.Context(), c.ns, c.snap, false); err != nil {
		s.fail(w, adminStoreErr(err, c.target))
		return
	}
	s.reply(w, nil, nil)
}

// handleProtected serves GET and PUT /admin/datastore/{store}/protected.
func (s *Server) handleProtected(w http.ResponseWriter, r *http.Request) {
	var protected bool
	c, put, ok := s.adminSnapshotProperty(w, r, "protected", func(p *mockcore.Params) { protected, _ = p.Bool("protected") })
	if !ok {
		return
	}
	if !put {
		is, err := c.st.IsProtected(c.ns, c.snap)
		// PBS only tests for the marker file: a snapshot that does not
		// exist is reported unprotected.
		if err != nil && !errors.Is(err, datastore.ErrSnapshotNotFound) {
			s.fail(w, adminStoreErr(err, c.target))
			return
		}
		s.reply(w, is, nil)
		return
	}
	if err := c.st.SetProtected(c.ns, c.snap, protected); err != nil {
		if errors.Is(err, datastore.ErrSnapshotNotFound) {
			mockcore.WritePBSError(w, http.StatusBadRequest, "snapshot "+c.snap.String()+" does not exist!")
			return
		}
		s.fail(w, adminStoreErr(err, c.target))
		return
	}
	s.reply(w, nil, nil)
}

// handleNotes serves GET and PUT /admin/datastore/{store}/notes, the notes
// kept in the snapshot's manifest.
func (s *Server) handleNotes(w http.ResponseWriter, r *http.Request) {
	var notes string
	c, put, ok := s.adminSnapshotProperty(w, r, "notes", func(p *mockcore.Params) { notes, _ = p.String("notes") })
	if !ok {
		return
	}
	if !put {
		text, err := c.st.SnapshotNotes(c.ns, c.snap)
		if err != nil {
			s.fail(w, adminStoreErr(err, c.target))
			return
		}
		s.reply(w, text, nil)
		return
	}
	if err := c.st.SetSnapshotNotes(r.Context(), c.ns, c.snap, notes); err != nil {
		mockcore.WritePBSError(w, http.StatusBadRequest, "unable to update manifest blob - "+adminStoreErr(err, c.target).Message)
		return
	}
	s.reply(w, nil, nil)
}

// adminSnapshotRoutes registers the snapshot endpoints.
func (s *Server) adminSnapshotRoutes(rt *mockcore.Router) {
	rt.Handle("GET", "/admin/datastore/{store}/snapshots", s.handleSnapshotList)
	rt.Handle("DELETE", "/admin/datastore/{store}/snapshots", s.handleSnapshotDelete)
	rt.Handle("GET", "/admin/datastore/{store}/files", s.handleSnapshotFiles)
	rt.Handle("GET", "/admin/datastore/{store}/protected", s.handleProtected)
	rt.Handle("PUT", "/admin/datastore/{store}/protected", s.handleProtected)
	rt.Handle("GET", "/admin/datastore/{store}/notes", s.handleNotes)
	rt.Handle("PUT", "/admin/datastore/{store}/notes", s.handleNotes)
}
