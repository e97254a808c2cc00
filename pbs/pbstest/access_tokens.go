package pbstest

import (
	"net/http"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// tokenCall is userCall for a /access/users/{userid}/token/{token-name}
// method; it returns the full token id.
func (s *Server) tokenCall(w http.ResponseWriter, r *http.Request, rule accessRule, allowed ...string) (*mockcore.Params, auth.Authid, bool) {
	p, user, ok := s.userCall(w, r, rule, allowed...)
	if !ok {
		return nil, auth.Authid{}, false
	}
	name, nameOK := readTokenName(p, "token-name")
	var id auth.Authid
	if !user.IsZero() && nameOK {
		var err error
		if id, err = auth.NewTokenID(user, name); err != nil {
			p.Fail("token-name", msgPattern)
		}
	}
	return p, id, true
}

// tokenLocked returns the token, or writes PBS's 400 "no such token" and
// returns false. Caller holds s.mu.
func (s *Server) tokenLocked(w http.ResponseWriter, tid auth.Authid) (*tokenRecord, bool) {
	t, found := s.tokens[tid]
	if !found {
		mockcore.WritePBSError(w, http.StatusBadRequest, "no such token '"+tid.String()+"'")
	}
	return t, found
}

// handleListTokens is GET /access/users/{userid}/token.
func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request) {
	p, user, ok := s.userCall(w, r, s.requireAuditOrSelf)
	if !ok || !s.paramsOK(w, p) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []tokenJSON{}
	for _, t := range s.sortedTokensLocked(user) {
		j := t.json()
		j.TokenName = string(t.id.TokenName())
		list = append(list, j)
	}
	s.replyUserCfgLocked(w, list)
}

// handleReadToken is GET /access/users/{userid}/token/{token-name}.
func (s *Server) handleReadToken(w http.ResponseWriter, r *http.Request) {
	p, tid, ok := s.tokenCall(w, r, s.requireAuditOrSelf)
	if !ok || !s.paramsOK(w, p) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokenLocked(w, tid); ok {
		s.replyUserCfgLocked(w, t.json())
	}
}

// tokenSecretJSON is the answer of token creation and regeneration.
type tokenSecretJSON struct {
	Tokenid string `json:"tokenid"`
	Value   string `json:"value"`
}

// handleCreateToken is POST /access/users/{userid}/token/{token-name}:
// the secret is generated as PBS does (a random UUID), stored hashed and
// returned in this answer only. enable and expire are stored exactly as
// given, as PBS does on creation.
func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	p, tid, ok := s.tokenCall(w, r, s.requireModifyOrSelf, "comment", "enable", "expire", "digest")
	if !ok {
		return
	}
	t := &tokenRecord{id: tid, account: readAccountParams(p).created()}
	unlock, ok := s.lockUserCfg(w, p)
	if !ok {
		return
	}
	defer unlock()
	if _, exists := s.tokens[tid]; exists {
		mockcore.WritePBSError(w, http.StatusBadRequest,
			"token '"+string(tid.TokenName())+"' for user '"+tid.User().String()+"' already exists.")
		return
	}
	s.tokens[tid] = t
	s.replySavedLocked(w, tokenSecretJSON{Tokenid: tid.String(), Value: s.secrets.Issue(tid)})
}

// handleUpdateToken is PUT /access/users/{userid}/token/{token-name},
// with the newer servers' "regenerate" (answering {tokenid, value}) and
// "delete" (only "comment").
func (s *Server) handleUpdateToken(w http.ResponseWriter, r *http.Request) {
	p, tid, ok := s.tokenCall(w, r, s.requireModifyOrSelf, "comment", "enable", "expire", "regenerate", "delete", "digest")
	if !ok {
		return
	}
	update := readAccountParams(p)
	regenerate := p.BoolOr("regenerate", false)
	del, _ := readDeleteList(p, "comment")
	unlock, ok := s.lockUserCfg(w, p)
	if !ok {
		return
	}
	defer unlock()
	t, ok := s.tokenLocked(w, tid)
	if !ok {
		return
	}
	if len(del) > 0 {
		t.comment = ""
	}
	update.apply(&t.account)
	if !regenerate {
		s.replySavedLocked(w, nil)
		return
	}
	s.replySavedLocked(w, tokenSecretJSON{Tokenid: tid.String(), Value: s.secrets.Issue(tid)})
}

// handleDeleteToken is DELETE /access/users/{userid}/token/{token-name}.
// It removes the token's ACL entries too, unless WithLegacyDeletion.
func (s *Server) handleDeleteToken(w http.ResponseWriter, r *http.Request) {
	p, tid, ok := s.tokenCall(w, r, s.requireModifyOrSelf, "digest")
	if !ok {
		return
	}
	unlock, ok := s.lockUserCfg(w, p)
	if !ok {
		return
	}
	defer unlock()
	if _, found := s.tokens[tid]; !found {
		mockcore.WritePBSError(w, http.StatusBadRequest,
			"token '"+string(tid.TokenName())+"' of user '"+tid.User().String()+"' does not exist.")
		return
	}
	delete(s.tokens, tid)
	s.secrets.Delete(tid)
	if !s.cfg.legacyDelete {
		s.policy.RemoveToken(tid)
	}
	s.replySavedLocked(w, nil)
}
