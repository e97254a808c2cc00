package pbstest

import (
	"errors"
	"net/http"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// aclItemJSON is PBS's AclListItem. Tokens are listed with ugid_type
// "user"; there is no token type on PBS.
type aclItemJSON struct {
	Path      string `json:"path"`
	Ugid      string `json:"ugid"`
	UgidType  string `json:"ugid_type"`
	Propagate bool   `json:"propagate"`
	Roleid    string `json:"roleid"`
}

// handleReadACL is GET /access/acl: every entry with Sys.Audit on
// /access/acl, otherwise only those of the caller's own tokens.
func (s *Server) handleReadACL(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "path", "exact")
	if !ok {
		return
	}
	path, _ := readACLPath(p, "path")
	exact := p.BoolOr("exact", false)
	if !s.paramsOK(w, p) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []aclItemJSON{}
	for _, e := range s.policy.ListACL(id, path, exact) {
		typ := "user"
		if e.Type == acl.Group {
			typ = "group"
		}
		list = append(list, aclItemJSON{Path: e.Path, Ugid: e.Subject, UgidType: typ, Propagate: e.Propagate, Roleid: e.Role})
	}
	s.reply(w, list, map[string]any{"digest": s.aclDigestLocked()})
}

// handleUpdateACL is PUT /access/acl with PBS's checks in PBS's order:
// parameters, the caller's right to change the entry, the digest, then
// the entry itself (package acl).
func (s *Server) handleUpdateACL(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "path", "role", "propagate", "auth-id", "group", "delete", "digest")
	if !ok {
		return
	}
	p.Require("path", "role")
	req := acl.PBSACLUpdate{Propagate: true}
	req.Path, _ = readACLPath(p, "path")
	req.Role, _ = readEnum(p, "role", func(r string) bool { return acl.IsBuiltinRole(auth.PBS, r) })
	req.Propagate = p.BoolOr("propagate", true)
	req.AuthID, _ = readAuthid(p, "auth-id")
	req.Group, _ = checkedString(p, "group", idMinLen, idMaxLen, groupID)
	req.Delete = p.BoolOr("delete", false)
	digest, _ := readDigest(p)
	if !s.paramsOK(w, p) {
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.policy.AuthorizePBSACLUpdate(id, req); err != nil {
		s.writeACLError(w, err)
		return
	}
	if !s.checkDigest(w, digest, s.aclDigestLocked()) {
		return
	}
	if err := s.policy.UpdatePBSACL(id, req, s.authidExistsLocked); err != nil {
		s.writeACLError(w, err)
		return
	}
	s.replySavedLocked(w, nil)
}

// writeACLError writes a refused ACL change or permission query: PBS
// answers every one with 400 and the text.
func (s *Server) writeACLError(w http.ResponseWriter, err error) {
	var ue *acl.UpdateError
	if errors.As(err, &ue) {
		mockcore.WritePBSError(w, http.StatusBadRequest, ue.Message)
		return
	}
	mockcore.WritePBSError(w, http.StatusBadRequest, err.Error())
}

// groupID is PROXMOX_GROUP_ID_REGEX: letters, digits, '.', '-', '_'.
func groupID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}
