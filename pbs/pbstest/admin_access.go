package pbstest

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// Datastore privileges (access-api.md 5.3).
const (
	adminPrivAudit  = "Datastore.Audit"
	adminPrivModify = "Datastore.Modify"
	adminPrivRead   = "Datastore.Read"
	adminPrivVerify = "Datastore.Verify"
	adminPrivBackup = "Datastore.Backup"
	adminPrivPrune  = "Datastore.Prune"
)

// adminNSPrivsOK is PBS's NS_PRIVS_OK: any of these on a namespace makes it
// visible to the caller.
var adminNSPrivsOK = []string{adminPrivAudit, adminPrivModify, adminPrivRead, adminPrivBackup}

// adminPrivs is a list of privilege names for the checks below.
type adminPrivs []string

// adminNSAccess is PBS's check_ns_privs_full: one of full on the ACL path
// of ns in store gives full access (limited false); else one of partial
// gives limited access, which callers combine with an owner check; else
// it writes the 403 "permission check failed - missing A|B on /datastore/..."
// and ok is false.
func (s *Server) adminNSAccess(w http.ResponseWriter, id auth.Authid, store string, ns datastore.Namespace, full, partial adminPrivs) (limited, ok bool) {
	path := ns.ACLPath(store)
	if len(full) > 0 && s.hasAnyPriv(id, path, full...) {
		return false, true
	}
	if len(partial) > 0 && s.hasAnyPriv(id, path, partial...) {
		return true, true
	}
	names := append(append([]string{}, full...), partial...)
	acl.SortPrivileges(auth.PBS, names)
	mockcore.WritePBSError(w, http.StatusForbidden,
		fmt.Sprintf("permission check failed - missing %s on %s", strings.Join(names, "|"), path))
	return false, false
}

// adminOwnerCheck is PBS's check_backup_owner: the caller is the owner, or
// the owner is a token of the caller (a user).
func adminOwnerCheck(owner string, caller auth.Authid) error {
	if owner == caller.String() {
		return nil
	}
	if o, err := auth.ParseAuthid(owner); err == nil && o.IsToken() && !caller.IsToken() && o.User() == caller.User() {
		return nil
	}
	return mockcore.Errorf(http.StatusBadRequest, "backup owner check failed (%s != %s)", caller, owner)
}

// adminOwns reports whether caller passes the owner check for owner.
func adminOwns(owner string, caller auth.Authid) bool { return adminOwnerCheck(owner, caller) == nil }

// adminNSStore is the namespace check (adminNSAccess), then the
// datastore (lookupStore). It writes the failure and returns ok false.
func (s *Server) adminNSStore(w http.ResponseWriter, id auth.Authid, store string, ns datastore.Namespace, full, partial adminPrivs) (st *datastore.Store, limited, ok bool) {
	if limited, ok = s.adminNSAccess(w, id, store, ns, full, partial); !ok {
		return nil, false, false
	}
	st, ok = s.lookupStore(w, store)
	return st, limited, ok
}

// adminStoreAccess is PBS's check_privs_and_load_store: the namespace
// check, then the datastore, then, for limited access, the owner check on
// group g. It writes the failure and returns ok false.
func (s *Server) adminStoreAccess(w http.ResponseWriter, id auth.Authid, store string, ns datastore.Namespace, g datastore.Group, full, partial adminPrivs) (*datastore.Store, bool) {
	st, limited, ok := s.adminNSStore(w, id, store, ns, full, partial)
	if !ok || limited && !s.adminCheckOwner(w, st, id, ns, g) {
		return nil, false
	}
	return st, true
}

// adminCheckOwner is check_backup_owner on group g of ns in st. It writes
// the failure (the group's missing owner included) and returns false.
func (s *Server) adminCheckOwner(w http.ResponseWriter, st *datastore.Store, id auth.Authid, ns datastore.Namespace, g datastore.Group) bool {
	owner, err := st.GroupOwner(ns, g)
	if err != nil {
		s.fail(w, adminStoreErr(err, adminTarget{ns: ns, group: g}))
		return false
	}
	if err := adminOwnerCheck(owner, id); err != nil {
		s.fail(w, err)
		return false
	}
	return true
}

// adminTarget names what a call addressed, for error texts.
type adminTarget struct {
	ns    datastore.Namespace
	group datastore.Group
	snap  datastore.Snapshot // Time zero: no snapshot
}

// adminStoreErr turns an error of package datastore into the 400 PBS
// answers, with texts the client recognises (a missing object "does not
// exist", a protected snapshot "cannot remove protected snapshot", lock
// errors as PBS words them).
func adminStoreErr(err error, t adminTarget) *mockcore.HTTPError {
	var lockErr *datastore.LockError
	switch {
	case errors.Is(err, datastore.ErrNamespaceNotFound):
		return mockcore.Errorf(http.StatusBadRequest, "namespace '%s' does not exist", t.ns)
	case errors.Is(err, datastore.ErrGroupNotFound):
		return mockcore.Errorf(http.StatusBadRequest, "backup group '%s' does not exist", adminQualified(t.ns, t.group.String()))
	case errors.Is(err, datastore.ErrSnapshotNotFound):
		return mockcore.Errorf(http.StatusBadRequest, "snapshot '%s' does not exist", adminQualified(t.ns, t.snap.String()))
	case errors.Is(err, datastore.ErrNotFinished):
		// PBS fails to open the manifest blob of the snapshot.
		return mockcore.Errorf(http.StatusBadRequest, "unable to load blob '%s/%s' - No such file or directory (os error 2)",
			adminQualified(t.ns, t.snap.String()), datastore.ManifestName)
	case errors.Is(err, datastore.ErrProtected):
		return mockcore.Errorf(http.StatusBadRequest, "cannot remove protected snapshot")
	case errors.As(err, &lockErr):
		return mockcore.Errorf(http.StatusBadRequest, "%s", lockErr.Error())
	}
	var he *mockcore.HTTPError
	if errors.As(err, &he) {
		return he
	}
	return mockcore.Errorf(http.StatusBadRequest, "%s", err.Error())
}

// adminQualified prefixes a group or snapshot name with its namespace
// path as PBS prints it ("ns/a/host/web01"), nothing for the root.
func adminQualified(ns datastore.Namespace, name string) string {
	if ns.IsRoot() {
		return name
	}
	return ns.DirPath() + "/" + name
}

// adminNSParam reads an optional namespace parameter ("" is the root).
func adminNSParam(p *mockcore.Params, name string) datastore.Namespace {
	if !p.Has(name) {
		return datastore.Namespace{}
	}
	s, ok := p.String(name)
	if !ok {
		return datastore.Namespace{}
	}
	ns, err := datastore.ParseNamespace(s)
	if err != nil {
		p.Fail(name, msgRegex)
	}
	return ns
}

// adminTypeParam reads backup-type if given.
func adminTypeParam(p *mockcore.Params) datastore.BackupType {
	s, ok := p.String("backup-type")
	if !ok {
		return ""
	}
	typ, err := datastore.ParseBackupType(s)
	if err != nil {
		p.Fail("backup-type", "value '"+s+"' is not defined in the enumeration.")
	}
	return typ
}

// adminIDParam reads backup-id if given.
func adminIDParam(p *mockcore.Params) string {
	id, ok := p.String("backup-id")
	if !ok {
		return ""
	}
	if !validSafeID(id) {
		p.Fail("backup-id", msgRegex)
		return ""
	}
	return id
}

// adminTimeParam reads backup-time if given (zero time otherwise).
func adminTimeParam(p *mockcore.Params) time.Time {
	if !p.Has("backup-time") {
		return time.Time{}
	}
	epoch, ok := intParam(p, "backup-time", 1, math.MaxInt64)
	if !ok {
		return time.Time{}
	}
	t := time.Unix(epoch, 0).UTC()
	if _, err := datastore.ParseBackupTime(datastore.FormatBackupTime(t)); err != nil {
		p.Fail("backup-time", "backup time out of range")
	}
	return t
}

// adminDepthParam reads max-depth (0 to datastore.MaxNamespaceDepth), def
// when it is absent.
func adminDepthParam(p *mockcore.Params, def int64) int64 {
	if !p.Has("max-depth") {
		return def
	}
	depth, _ := intParam(p, "max-depth", 0, datastore.MaxNamespaceDepth)
	return depth
}

// adminGroupParams reads the required backup-type and backup-id.
func adminGroupParams(p *mockcore.Params) datastore.Group {
	p.Require("backup-type", "backup-id")
	return datastore.Group{Type: adminTypeParam(p), ID: adminIDParam(p)}
}

// adminSnapshotParams reads the required snapshot triple.
func adminSnapshotParams(p *mockcore.Params) datastore.Snapshot {
	p.Require("backup-time")
	g := adminGroupParams(p)
	return datastore.Snapshot{Group: g, Time: adminTimeParam(p)}
}

// adminPrivStore starts a datastore call without parameters that needs
// priv on /datastore/{store}: authenticate, the endpoint's privilege
// check, then the datastore. It writes the failure and returns false.
func (s *Server) adminPrivStore(w http.ResponseWriter, r *http.Request, priv string) (auth.Authid, *datastore.Store, bool) {
	id, ok := s.authenticatedNoParams(w, r)
	if !ok {
		return auth.Authid{}, nil, false
	}
	store := r.PathValue("store")
	if !s.requirePrivs(w, r, id, "/datastore/"+store, priv) {
		return auth.Authid{}, nil, false
	}
	st, ok := s.lookupStore(w, store)
	return id, st, ok
}

// adminHandlerForbidden writes the 403 "permission check failed" that some
// PBS handlers raise themselves (to hide whether an object exists). Unlike
// the endpoint-level 403 it is not delayed: PBS's REST server holds back
// only the answers of its own permission check.
func adminHandlerForbidden(w http.ResponseWriter) {
	mockcore.WritePBSError(w, http.StatusForbidden, mockcore.PBSPermissionFailed)
}
