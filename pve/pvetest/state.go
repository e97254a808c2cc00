package pvetest

import (
	"slices"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// userRecord is a "user:" line of PVE's user.cfg with the user's tokens
// ("token:" lines). Text fields are "" when unset; PVE shows only the
// non-empty ones after it re-reads its configuration.
type userRecord struct {
	enable    bool
	expire    int64 // epoch seconds, 0 = never
	firstname string
	lastname  string
	email     string
	comment   string
	keys      string
	tokens    map[string]*tokenRecord // by token name
}

// tokenRecord is a "token:" line. The secret lives hashed in the
// server's SecretStore, never here.
type tokenRecord struct {
	privsep bool
	expire  int64
	comment string
}

// groupRecord is what user.cfg keeps of a group besides its members,
// which the acl.Policy holds.
type groupRecord struct {
	comment string
}

func newUser() *userRecord {
	return &userRecord{enable: true, tokens: map[string]*tokenRecord{}}
}

// resetState gives the server PVE's empty configuration: root@pam, the
// built-in roles, no ACL.
func (s *Server) resetState() {
	s.users = map[auth.Userid]*userRecord{auth.RootUserid: newUser()}
	s.groups = map[string]*groupRecord{}
	s.policy = acl.NewPolicy(auth.PVE)
	s.secrets = mockcore.NewSecretStore()
	s.passwords = mockcore.NewSecretStore()
}

// accountActive is the Authenticator's Active callback (PVE's
// check_user_enabled and the token checks of verify_token): the user
// exists, is enabled and not expired; for a token also the token exists
// and is not expired. expire == now is still valid on PVE. Caller must not
// hold s.mu.
func (s *Server) accountActive(id auth.Authid, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id.User()]
	if !ok || !u.enable || mockcore.Expired(auth.PVE, u.expire, now) {
		return false
	}
	if !id.IsToken() {
		return true
	}
	t, ok := u.tokens[string(id.TokenName())]
	return ok && !mockcore.Expired(auth.PVE, t.expire, now)
}

// userExistsLocked is the existence test ACL updates make. Caller holds s.mu.
func (s *Server) userExistsLocked(u auth.Userid) bool {
	_, ok := s.users[u]
	return ok
}

// sortedUserIDs returns the user ids in PVE's listing order (sorted).
// Caller holds s.mu.
func (s *Server) sortedUserIDsLocked() []auth.Userid {
	ids := make([]auth.Userid, 0, len(s.users))
	for id := range s.users {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b auth.Userid) int { return strings.Compare(a.String(), b.String()) })
	return ids
}

// sortedTokenNames returns a user's token names, sorted.
func (u *userRecord) sortedTokenNames() []string {
	names := make([]string, 0, len(u.tokens))
	for n := range u.tokens {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
