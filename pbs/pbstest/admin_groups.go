package pbstest

import (
	"errors"
	"net/http"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// handleGroupList serves GET /admin/datastore/{store}/groups: every group
// of ns with Datastore.Audit, only the owned ones with Datastore.Backup.
func (s *Server) handleGroupList(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "ns")
	if !ok {
		return
	}
	ns := adminNSParam(p, "ns")
	if !s.paramsOK(w, p) {
		return
	}
	st, limited, ok := s.adminNSStore(w, id, r.PathValue("store"), ns, adminPrivs{adminPrivAudit}, adminPrivs{adminPrivBackup})
	if !ok {
		return
	}
	groups, err := st.ListGroups(r.Context(), ns)
	if err != nil {
		s.fail(w, adminStoreErr(err, adminTarget{ns: ns}))
		return
	}
	out := groups[:0]
	for _, g := range groups {
		if !limited || adminOwns(g.Owner, id) {
			out = append(out, g)
		}
	}
	s.reply(w, out, nil)
}

// handleGroupDelete serves DELETE /admin/datastore/{store}/groups.
func (s *Server) handleGroupDelete(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "ns", "backup-type", "backup-id")
	if !ok {
		return
	}
	ns := adminNSParam(p, "ns")
	g := adminGroupParams(p)
	if !s.paramsOK(w, p) {
		return
	}
	st, ok := s.adminStoreAccess(w, id, r.PathValue("store"), ns, g, adminPrivs{adminPrivModify}, adminPrivs{adminPrivPrune})
	if !ok {
		return
	}
	stats, err := st.RemoveGroup(r.Context(), ns, g)
	if err != nil {
		s.fail(w, adminStoreErr(err, adminTarget{ns: ns, group: g}))
		return
	}
	if stats.Protected > 0 {
		mockcore.WritePBSError(w, http.StatusBadRequest, "group only partially deleted due to protected snapshots")
		return
	}
	s.reply(w, nil, nil)
}

// handleChangeOwner serves POST /admin/datastore/{store}/change-owner.
// With Datastore.Modify any active auth id may become the owner; with only
// Datastore.Backup a group may move between the caller and its own tokens
// (token to token of the same user, token to its user, user to its token),
// anything else is a 401.
func (s *Server) handleChangeOwner(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "ns", "backup-type", "backup-id", "new-owner")
	if !ok {
		return
	}
	ns := adminNSParam(p, "ns")
	g := adminGroupParams(p)
	p.Require("new-owner")
	var newOwner auth.Authid
	if v, ok := p.String("new-owner"); ok {
		var err error
		if newOwner, err = auth.ParseAuthid(v); err != nil {
			p.Fail("new-owner", msgRegex)
		}
	}
	if !s.paramsOK(w, p) {
		return
	}
	st, limited, ok := s.adminNSStore(w, id, r.PathValue("store"), ns, adminPrivs{adminPrivModify}, adminPrivs{adminPrivBackup})
	if !ok {
		return
	}
	target := adminTarget{ns: ns, group: g}
	if limited {
		cur, err := st.GroupOwner(ns, g)
		if err != nil {
			s.fail(w, adminStoreErr(err, target))
			return
		}
		owner, err := auth.ParseAuthid(cur)
		if err != nil || !adminOwnerChangeAllowed(id, owner, newOwner) {
			mockcore.WritePBSError(w, http.StatusUnauthorized,
				id.String()+" does not have permission to change owner of backup group '"+g.String()+"' to "+newOwner.String())
			return
		}
	}
	if !s.accountActive(newOwner, s.now()) {
		kind := "user"
		if newOwner.IsToken() {
			kind = "API token"
		}
		mockcore.WritePBSError(w, http.StatusBadRequest, kind+" '"+newOwner.String()+"' is inactive or non-existent")
		return
	}
	if err := st.SetGroupOwner(ns, g, newOwner.String()); err != nil {
		s.fail(w, adminStoreErr(err, target))
		return
	}
	s.reply(w, nil, nil)
}

// adminOwnerChangeAllowed is PBS's rule for callers without
// Datastore.Modify: ownership may only move within the caller's own ids.
func adminOwnerChangeAllowed(caller, owner, newOwner auth.Authid) bool {
	self := !caller.IsToken()
	switch {
	case owner.IsToken() && newOwner.IsToken():
		return self && owner.User() == newOwner.User() && owner.User() == caller.User()
	case owner.IsToken():
		return self && owner.User() == caller.User() && newOwner == caller
	case newOwner.IsToken():
		return owner == caller && self && newOwner.User() == caller.User()
	}
	return false
}

// handleGroupNotes serves GET and PUT /admin/datastore/{store}/group-notes.
func (s *Server) handleGroupNotes(w http.ResponseWriter, r *http.Request) {
	put := r.Method == http.MethodPut
	allowed := []string{"ns", "backup-type", "backup-id"}
	if put {
		allowed = append(allowed, "notes")
	}
	id, p, ok := s.authenticatedCall(w, r, allowed...)
	if !ok {
		return
	}
	ns := adminNSParam(p, "ns")
	g := adminGroupParams(p)
	var notes string
	if put {
		p.Require("notes")
		notes, _ = p.String("notes")
	}
	if !s.paramsOK(w, p) {
		return
	}
	full := adminPrivs{adminPrivAudit}
	if put {
		full = adminPrivs{adminPrivModify}
	}
	st, ok := s.adminStoreAccess(w, id, r.PathValue("store"), ns, g, full, adminPrivs{adminPrivBackup})
	if !ok {
		return
	}
	target := adminTarget{ns: ns, group: g}
	if put {
		if err := st.SetGroupNotes(ns, g, notes); err != nil {
			s.fail(w, adminStoreErr(err, target))
			return
		}
		s.reply(w, nil, nil)
		return
	}
	text, err := st.GroupNotes(ns, g)
	if err != nil && !errors.Is(err, datastore.ErrGroupNotFound) {
		s.fail(w, adminStoreErr(err, target))
		return
	}
	// PBS reads an optional file: a group that does not exist has no notes.
	s.reply(w, text, nil)
}

// adminGroupRoutes registers the group endpoints.
func (s *Server) adminGroupRoutes(rt *mockcore.Router) {
	rt.Handle("GET", "/admin/datastore/{store}/groups", s.handleGroupList)
	rt.Handle("DELETE", "/admin/datastore/{store}/groups", s.handleGroupDelete)
	rt.Handle("POST", "/admin/datastore/{store}/change-owner", s.handleChangeOwner)
	rt.Handle("GET", "/admin/datastore/{store}/group-notes", s.handleGroupNotes)
	rt.Handle("PUT", "/admin/datastore/{store}/group-notes", s.handleGroupNotes)
}
