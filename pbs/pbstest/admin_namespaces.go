package pbstest

import (
	"net/http"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// adminNSNameMaxLen is the schema limit of a new namespace's name
// (upstream create_namespace: 1 to 32 characters, a SAFE_ID).
const adminNSNameMaxLen = 32

// handleNamespaceList serves GET /admin/datastore/{store}/namespace: the
// parent and the namespaces below it (max-depth levels) on which the
// caller holds a datastore privilege. A caller without one on the parent
// gets a 403 instead of learning whether it exists, and so does one who
// would see nothing at all.
func (s *Server) handleNamespaceList(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "parent", "max-depth")
	if !ok {
		return
	}
	parent := adminNSParam(p, "parent")
	depth := adminDepthParam(p, datastore.MaxNamespaceDepth)
	if !s.paramsOK(w, p) {
		return
	}
	store := r.PathValue("store")
	parentAccess := s.hasAnyPriv(id, parent.ACLPath(store), adminNSPrivsOK...)
	st, ok := s.lookupStore(w, store)
	if !ok {
		return
	}
	list, err := st.ListNamespaces(r.Context(), parent, int(depth))
	if err != nil {
		if !parentAccess {
			adminHandlerForbidden(w)
			return
		}
		s.fail(w, adminStoreErr(err, adminTarget{ns: parent}))
		return
	}
	out := []datastore.NamespaceListItem{}
	for _, it := range list {
		if s.hasAnyPriv(id, it.NS.ACLPath(store), adminNSPrivsOK...) {
			out = append(out, it)
		}
	}
	if len(out) == 0 && !parentAccess {
		adminHandlerForbidden(w)
		return
	}
	s.reply(w, out, nil)
}

// adminNSModifyStore is PBS's check_ns_modification_privs (the root
// cannot be created or deleted, anything else needs Datastore.Modify on
// the parent), then the datastore of the {store} path segment. It writes
// the failure and returns false.
func (s *Server) adminNSModifyStore(w http.ResponseWriter, r *http.Request, id auth.Authid, ns datastore.Namespace) (*datastore.Store, bool) {
	if ns.IsRoot() {
		mockcore.WritePBSError(w, http.StatusBadRequest, "Cannot create/delete root namespace!")
		return nil, false
	}
	st, _, ok := s.adminNSStore(w, id, r.PathValue("store"), ns.Parent(), adminPrivs{adminPrivModify}, nil)
	return st, ok
}

// handleNamespaceCreate serves POST /admin/datastore/{store}/namespace and
// answers with the new namespace.
func (s *Server) handleNamespaceCreate(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "name", "parent")
	if !ok {
		return
	}
	p.Require("name")
	parent := adminNSParam(p, "parent")
	name, _ := p.String("name")
	if p.Has("name") {
		switch {
		case name == "":
			p.Fail("name", "value must be at least 1 characters long")
		case len(name) > adminNSNameMaxLen:
			p.Fail("name", "value may only be 32 characters long")
		case !validSafeID(name):
			p.Fail("name", msgRegex)
		}
	}
	if !s.paramsOK(w, p) {
		return
	}
	ns, err := parent.Child(name)
	if err != nil {
		mockcore.WritePBSError(w, http.StatusBadRequest, "namespace '"+parent.String()+"/"+name+"' exceeds the depth or length limit")
		return
	}
	st, ok := s.adminNSModifyStore(w, r, id, ns)
	if !ok {
		return
	}
	created, err := st.CreateNamespace(parent, name)
	if err != nil {
		s.fail(w, adminStoreErr(err, adminTarget{ns: parent}))
		return
	}
	s.reply(w, created.String(), nil)
}

// handleNamespaceDelete serves DELETE /admin/datastore/{store}/namespace.
func (s *Server) handleNamespaceDelete(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "ns", "delete-groups")
	if !ok {
		return
	}
	p.Require("ns")
	ns := adminNSParam(p, "ns")
	deleteGroups := p.BoolOr("delete-groups", false)
	if !s.paramsOK(w, p) {
		return
	}
	st, ok := s.adminNSModifyStore(w, r, id, ns)
	if !ok {
		return
	}
	all, err := st.RemoveNamespace(r.Context(), ns, deleteGroups)
	if err != nil {
		s.fail(w, adminStoreErr(err, adminTarget{ns: ns}))
		return
	}
	if !all {
		if deleteGroups {
			mockcore.WritePBSError(w, http.StatusBadRequest, "group only partially deleted due to protected snapshots")
		} else {
			mockcore.WritePBSError(w, http.StatusBadRequest, "only partially deleted due to existing groups but `delete-groups` not true ")
		}
		return
	}
	s.reply(w, nil, nil)
}

// adminNamespaceRoutes registers the namespace endpoints.
func (s *Server) adminNamespaceRoutes(rt *mockcore.Router) {
	rt.Handle("GET", "/admin/datastore/{store}/namespace", s.handleNamespaceList)
	rt.Handle("POST", "/admin/datastore/{store}/namespace", s.handleNamespaceCreate)
	rt.Handle("DELETE", "/admin/datastore/{store}/namespace", s.handleNamespaceDelete)
}
