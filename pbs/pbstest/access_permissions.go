package pbstest

import (
	"net/http"
	"slices"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
)

// roleComments are the descriptions GET /access/roles shows (the doc
// comments of pbs-api-types' Role enum).
var roleComments = map[string]string{
	"Admin":                    "Administrator",
	"Audit":                    "Auditor",
	"NoAccess":                 "Disable Access",
	"DatastoreAdmin":           "Datastore Administrator",
	"DatastoreReader":          "Datastore Reader (inspect datastore content and do restores)",
	"DatastoreBackup":          "Datastore Backup (backup and restore owned backups)",
	"DatastorePowerUser":       "Datastore PowerUser (backup, restore and prune owned backup)",
	"DatastoreAudit":           "Datastore Auditor",
	"RemoteAudit":              "Remote Auditor",
	"RemoteAdmin":              "Remote Administrator",
	"RemoteSyncOperator":       "Synchronization Operator",
	"RemoteSyncPushOperator":   "Synchronisation Operator (push direction)",
	"RemoteDatastorePowerUser": "Remote Datastore Prune",
	"RemoteDatastoreAdmin":     "Remote Datastore Admin",
	"TapeAudit":                "Tape Auditor",
	"TapeAdmin":                "Tape Administrator",
	"TapeOperator":             "Tape Operator",
	"TapeReader":               "Tape Reader",
}

type roleJSON struct {
	Roleid  string   `json:"roleid"`
	Privs   []string `json:"privs"`
	Comment string   `json:"comment"`
}

// handleListRoles is GET /access/roles (any authenticated caller). PBS
// answers in hash order; the mock sorts by name. Privileges are names in
// bit order, never masks (their values changed in PBS 3.3).
func (s *Server) handleListRoles(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.authenticatedNoParams(w, r); !ok {
		return
	}
	roles := acl.BuiltinRoles(auth.PBS)
	names := make([]string, 0, len(roles))
	for n := range roles {
		names = append(names, n)
	}
	slices.Sort(names)
	list := make([]roleJSON, 0, len(names))
	for _, n := range names {
		privs := slices.Clone(roles[n])
		if n == acl.RolePBSAdmin {
			privs = acl.AllPrivileges(auth.PBS)
		}
		acl.SortPrivileges(auth.PBS, privs)
		if privs == nil {
			privs = []string{}
		}
		list = append(list, roleJSON{Roleid: n, Privs: privs, Comment: roleComments[n]})
	}
	s.reply(w, list, nil)
}

// handlePermissions is GET /access/permissions: the caller's own
// privileges, or those of auth-id (its own tokens, or anyone with
// Sys.Audit on /access); with path only that path, otherwise PBS's
// default paths and every node of the ACL tree. Paths without any
// privilege are left out.
func (s *Server) handlePermissions(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "auth-id", "path")
	if !ok {
		return
	}
	target, hasTarget := readAuthid(p, "auth-id")
	path, hasPath := readACLPath(p, "path")
	if !s.paramsOK(w, p) {
		return
	}
	if !hasTarget {
		target = id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.policy.CanQueryPermissions(id, target); err != nil {
		s.writeACLError(w, err)
		return
	}
	out := map[string]acl.PrivSet{}
	if hasPath {
		if privs := s.policy.Privileges(target, path); len(privs) > 0 {
			out[path] = privs
		}
	} else {
		out = s.policy.Permissions(target)
	}
	s.reply(w, out, nil)
}
