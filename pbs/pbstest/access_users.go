package pbstest

import (
	"net/http"
	"strings"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// ACL path of the user and token endpoints' privilege checks.
const usersACLPath = "/access/users"

// userParamOK is PBS's Permission::UserParam("userid"): the caller's auth
// id is the user named in the path. A token never is, so tokens manage
// nothing through this rule.
func userParamOK(id auth.Authid, r *http.Request) bool {
	return !id.IsToken() && id.String() == r.PathValue("userid")
}

// requireModifyOrSelf is Or(Privilege(/access/users, Permissions.Modify),
// UserParam("userid")).
func (s *Server) requireModifyOrSelf(w http.ResponseWriter, r *http.Request, id auth.Authid) bool {
	if userParamOK(id, r) {
		return true
	}
	return s.requirePrivs(w, r, id, usersACLPath, acl.PrivPermissionsModify)
}

// requireAuditOrSelf is Or(Privilege(/access/users, Sys.Audit),
// UserParam("userid")).
func (s *Server) requireAuditOrSelf(w http.ResponseWriter, r *http.Request, id auth.Authid) bool {
	if userParamOK(id, r) {
		return true
	}
	return s.requirePrivs(w, r, id, usersACLPath, acl.PrivSysAudit)
}

// accessRule is a permission check of the user and token endpoints
// (requireModifyOrSelf, requireAuditOrSelf); it writes the 403.
type accessRule func(w http.ResponseWriter, r *http.Request, id auth.Authid) bool

// userCall starts a handler of a /access/users/{userid}... method:
// authenticate, apply rule, then read the parameters with the path's
// userid (and token-name) merged in as PBS does, checked by their schemas.
func (s *Server) userCall(w http.ResponseWriter, r *http.Request, rule accessRule, allowed ...string) (*mockcore.Params, auth.Userid, bool) {
	id, ok := s.authenticate(w, r)
	if !ok || !rule(w, r, id) {
		return nil, auth.Userid{}, false
	}
	p, ok := s.params(w, r)
	if !ok {
		return nil, auth.Userid{}, false
	}
	p.SetPath("userid", r.PathValue("userid"))
	allowed = append(allowed, "userid")
	if tn := r.PathValue("tokenname"); tn != "" {
		p.SetPath("token-name", tn)
		allowed = append(allowed, "token-name")
	}
	p.RejectUnknown(allowed...)
	user, _ := readUserid(p, "userid")
	return p, user, true
}

// checkDigest compares a given "digest" parameter with the current one
// and writes PBS's 400 when they differ. An absent digest passes.
func (s *Server) checkDigest(w http.ResponseWriter, given, current string) bool {
	if given != "" && given != current {
		mockcore.WritePBSError(w, http.StatusBadRequest, mockcore.PBSMsgModified)
		return false
	}
	return true
}

// lockUserCfg ends the parameter reading of a user.cfg change: it reads
// "digest" (always the last parameter read), writes the parameter
// problems, takes s.mu and compares the digest with the current one. On
// success the caller holds s.mu and must call unlock; otherwise the answer
// is written and s.mu is not held.
func (s *Server) lockUserCfg(w http.ResponseWriter, p *mockcore.Params) (unlock func(), ok bool) {
	digest, _ := readDigest(p)
	if !s.paramsOK(w, p) {
		return nil, false
	}
	s.mu.Lock()
	if !s.checkDigest(w, digest, s.userDigestLocked()) {
		s.mu.Unlock()
		return nil, false
	}
	return s.mu.Unlock, true
}

// userLocked returns the user, or writes PBS's 400 "no such user" and
// returns false. Caller holds s.mu.
func (s *Server) userLocked(w http.ResponseWriter, user auth.Userid) (*userRecord, bool) {
	u, found := s.users[user]
	if !found {
		mockcore.WritePBSError(w, http.StatusBadRequest, "no such user '"+user.String()+"'")
	}
	return u, found
}

// replyUserCfgLocked answers a read of user.cfg: data with the file's
// digest. Caller holds s.mu.
func (s *Server) replyUserCfgLocked(w http.ResponseWriter, data any) {
	s.reply(w, data, map[string]any{"digest": s.userDigestLocked()})
}

// handleListUsers is GET /access/users: everybody, or with Sys.Audit on
// /access/users only the caller's own user (a token's owner).
func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "include_tokens")
	if !ok {
		return
	}
	withTokens := p.BoolOr("include_tokens", false)
	if !s.paramsOK(w, p) {
		return
	}
	all := s.privileges(id, usersACLPath).Has(acl.PrivSysAudit)

	s.mu.Lock()
	defer s.mu.Unlock()
	list := []userJSON{}
	for _, u := range s.sortedUsersLocked() {
		if !all && u.id != id.User() {
			continue
		}
		j := u.json()
		if withTokens {
			for _, t := range s.sortedTokensLocked(u.id) {
				j.Tokens = append(j.Tokens, t.json())
			}
		}
		list = append(list, j)
	}
	s.replyUserCfgLocked(w, list)
}

// handleReadUser is GET /access/users/{userid}.
func (s *Server) handleReadUser(w http.ResponseWriter, r *http.Request) {
	p, user, ok := s.userCall(w, r, s.requireAuditOrSelf)
	if !ok || !s.paramsOK(w, p) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.userLocked(w, user); ok {
		s.replyUserCfgLocked(w, u.json())
	}
}

// handleCreateUser is POST /access/users (needs Permissions.Modify on
// /access/users).
func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	id, ok := s.authenticate(w, r)
	if !ok || !s.requirePrivs(w, r, id, usersACLPath, acl.PrivPermissionsModify) {
		return
	}
	p, ok := s.params(w, r)
	if !ok {
		return
	}
	p.RejectUnknown("userid", "comment", "enable", "expire", "firstname", "lastname", "email", "password")
	p.Require("userid")
	u := &userRecord{}
	u.id, _ = readUserid(p, "userid")
	u.account = readAccountParams(p).created()
	for name, dst := range map[string]*string{"firstname": &u.firstname, "lastname": &u.lastname, "email": &u.email} {
		if v, ok := readNameField(p, name); ok {
			*dst = *v
		}
	}
	password, hasPassword := readPassword(p, "password")
	if !s.paramsOK(w, p) {
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.users[u.id]; exists {
		mockcore.WritePBSError(w, http.StatusBadRequest, "user '"+u.id.String()+"' already exists.")
		return
	}
	realm := string(u.id.Realm())
	if realm != "pam" && realm != "pbs" {
		mockcore.WritePBSError(w, http.StatusBadRequest, "unknown realm '"+realm+"'")
		return
	}
	s.users[u.id] = u
	// PBS saves the user before it looks at the password, so a refused
	// password leaves the user created.
	if hasPassword {
		if realm == "pam" && !s.isSuperuser(id) {
			_ = s.saveLocked() // the user stays created
			mockcore.WritePBSError(w, http.StatusBadRequest, "only superuser can edit pam credentials!")
			return
		}
		s.passwords.Set(u.id.Authid(), password)
	}
	s.replySavedLocked(w, nil)
}

// userDeletable are the properties PUT /access/users/{userid} can delete.
var userDeletable = []string{"comment", "firstname", "lastname", "email"}

// handleUpdateUser is PUT /access/users/{userid}. The password parameter
// is accepted and ignored, as newer servers do (they want PUT
// /access/password).
func (s *Server) handleUpdateUser(w http.ResponseWriter, r *http.Request) {
	p, user, ok := s.userCall(w, r, s.requireModifyOrSelf, "comment", "enable", "expire", "firstname", "lastname", "email", "password", "delete", "digest")
	if !ok {
		return
	}
	update := readAccountParams(p)
	names := map[string]*string{}
	for _, n := range []string{"firstname", "lastname", "email"} {
		// The schema's 2-character minimum applies here too, so these
		// fields are removed with "delete", never with "".
		if v, ok := readNameField(p, n); ok {
			names[n] = v
		}
	}
	_, _ = readPassword(p, "password")
	del, _ := readDeleteList(p, userDeletable...)
	unlock, ok := s.lockUserCfg(w, p)
	if !ok {
		return
	}
	defer unlock()
	u, ok := s.userLocked(w, user)
	if !ok {
		return
	}
	for _, d := range del {
		switch d {
		case "comment":
			u.comment = ""
		case "firstname":
			u.firstname = ""
		case "lastname":
			u.lastname = ""
		case "email":
			u.email = ""
		}
	}
	update.apply(&u.account)
	if v, ok := names["firstname"]; ok {
		u.firstname = *v
	}
	if v, ok := names["lastname"]; ok {
		u.lastname = *v
	}
	if v, ok := names["email"]; ok {
		u.email = *v
	}
	s.replySavedLocked(w, nil)
}

// accountParams are the comment, enable and expire a create or update
// call gives (nil: not given).
type accountParams struct {
	comment *string
	enable  *bool
	expire  *int64
}

// readAccountParams reads comment, enable and expire, in this order.
func readAccountParams(p *mockcore.Params) accountParams {
	var a accountParams
	if v, ok := readComment(p, "comment"); ok {
		a.comment = v
	}
	if v, ok := readBool(p, "enable"); ok {
		a.enable = v
	}
	if v, ok := readExpire(p, "expire"); ok {
		a.expire = v
	}
	return a
}

// created is the account a create call stores: the values exactly as
// given.
func (a accountParams) created() account {
	acc := account{enable: a.enable, expire: a.expire}
	if a.comment != nil {
		acc.comment = *a.comment
	}
	return acc
}

// apply stores the values of an update call as PBS's updates do: the
// comment trimmed, enable true and expire 0 as unset.
func (a accountParams) apply(acc *account) {
	if a.comment != nil {
		acc.comment = strings.TrimSpace(*a.comment)
	}
	if a.enable != nil {
		acc.enable = storedEnable(*a.enable)
	}
	if a.expire != nil {
		acc.expire = storedExpire(*a.expire)
	}
}

// storedEnable is how PBS's updates store "enable": true as unset.
func storedEnable(enable bool) *bool {
	if enable {
		return nil
	}
	return &enable
}

// storedExpire is how PBS's updates store "expire": 0 as unset.
func storedExpire(expire int64) *int64 {
	if expire > 0 {
		return &expire
	}
	return nil
}

// handleDeleteUser is DELETE /access/users/{userid}. By default it also
// removes the user's tokens, their secrets and every ACL entry of the user
// and its tokens (the clean variant); WithLegacyDeletion keeps them, as
// PBS 3.2.4 does. root@pam comes back at once: PBS adds it whenever it
// reads a user.cfg that lacks it.
func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	p, user, ok := s.userCall(w, r, s.requireModifyOrSelf, "digest")
	if !ok {
		return
	}
	unlock, ok := s.lockUserCfg(w, p)
	if !ok {
		return
	}
	defer unlock()
	if _, found := s.users[user]; !found {
		mockcore.WritePBSError(w, http.StatusBadRequest, "user '"+user.String()+"' does not exist.")
		return
	}
	delete(s.users, user)
	s.passwords.Delete(user.Authid())
	if !s.cfg.legacyDelete {
		for tid := range s.tokens {
			if tid.User() == user {
				delete(s.tokens, tid)
			}
		}
		s.secrets.DeleteFunc(func(a auth.Authid) bool { return a.User() == user })
		s.policy.RemoveUser(user)
	}
	if user == auth.RootUserid {
		s.users[user] = newRootUser()
	}
	s.replySavedLocked(w, nil)
}
