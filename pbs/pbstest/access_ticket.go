package pbstest

import (
	"net/http"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

type ticketJSON struct {
	Username string `json:"username"`
	Ticket   string `json:"ticket"`
	CSRF     string `json:"CSRFPreventionToken"`
}

// handleTicket is POST /access/ticket (no authentication): a password
// login, or a renewal when the password is a valid ticket of the same
// user. Users must be enabled and not expired. Every failure is PBS's
// 401 "permission check failed.". Two-factor logins are not modelled.
func (s *Server) handleTicket(w http.ResponseWriter, r *http.Request) {
	p, ok := s.params(w, r)
	if !ok {
		return
	}
	p.RejectUnknown("username", "password", "path", "privs", "port", "tfa-challenge", "new-format")
	p.Require("username", "password")
	user, _ := readUserid(p, "username")
	password, _ := p.String("password")
	if !s.paramsOK(w, p) {
		return
	}
	if !s.login(user, password) {
		s.authn.Delay.Wait(r)
		mockcore.WritePBSError(w, http.StatusUnauthorized, mockcore.PBSLoginFailed)
		return
	}
	now := s.now()
	s.reply(w, ticketJSON{
		Username: user.String(),
		Ticket:   s.tickets.Mint(auth.PBS, user, now),
		CSRF:     s.tickets.CSRFToken(user, now),
	}, nil)
}

// login checks a password or a ticket for renewal.
func (s *Server) login(user auth.Userid, password string) bool {
	now := s.now()
	if !s.accountActive(user.Authid(), now) {
		return false
	}
	if mockcore.LooksLikeTicket(auth.PBS, password) {
		if tu, err := s.tickets.Verify(auth.PBS, password, now); err == nil {
			return tu == user
		}
	}
	return s.passwords.Verify(user.Authid(), password)
}

// handleChangePassword is PUT /access/password: everybody may change
// their own password, root@pam and holders of Permissions.Modify on "/"
// (outside the pam realm) anyone's. Callers other than root@pam confirm
// with their current password; API tokens are refused.
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	id, p, ok := s.authenticatedCall(w, r, "userid", "password", "confirmation-password")
	if !ok {
		return
	}
	p.Require("userid", "password")
	user, _ := readUserid(p, "userid")
	password, _ := checkedString(p, "password", 1, 1024, singleLine)
	confirm, hasConfirm := checkedString(p, "confirmation-password", 1, 1024, singleLine)
	if !s.paramsOK(w, p) {
		return
	}
	if id.User() != auth.RootUserid {
		if !hasConfirm {
			mockcore.WritePBSError(w, http.StatusUnauthorized, "missing password")
			return
		}
		if !s.passwords.Verify(id.User().Authid(), confirm) {
			mockcore.WritePBSError(w, http.StatusUnauthorized, "authentication failed")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, found := s.users[user]; !found && id.User() != user {
		mockcore.WritePBSError(w, http.StatusUnauthorized, "user '"+user.String()+"' does not exists.")
		return
	}
	if id.IsToken() {
		mockcore.WritePBSError(w, http.StatusBadRequest, "API tokens cannot access this API endpoint")
		return
	}
	allowed := id.User() == user || s.isSuperuser(id) ||
		s.policy.Privileges(id, "/").Has("Permissions.Modify") && user.Realm() != "pam"
	if !allowed {
		mockcore.WritePBSError(w, http.StatusBadRequest, "you are not authorized to change the password.")
		return
	}
	s.passwords.Set(user.Authid(), password)
	s.replySavedLocked(w, nil)
}
