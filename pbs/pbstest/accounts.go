package pbstest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// account is what user and token sections share: the comment and the
// settings of PBS's is_active rule. Optional fields are nil or "" when
// unset, as PBS omits them from its answers.
type account struct {
	comment string
	enable  *bool
	expire  *int64
}

// userRecord is a "user:" section of PBS's user.cfg.
type userRecord struct {
	id auth.Userid
	account
	firstname string
	lastname  string
	email     string
}

// tokenRecord is a "token:" section of user.cfg. The secret lives hashed
// in the server's SecretStore, never here.
type tokenRecord struct {
	id auth.Authid
	account
}

// rootComment is the comment PBS gives root@pam when it adds the user on
// reading a user.cfg that lacks it.
const rootComment = "Superuser"

func newRootUser() *userRecord {
	return &userRecord{id: auth.RootUserid, account: account{comment: rootComment}}
}

// active applies PBS's is_active rule: enable not false and not expired
// (expired at the expire second, mockcore.Expired).
func (a account) active(now time.Time) bool {
	if a.enable != nil && !*a.enable {
		return false
	}
	return a.expire == nil || !mockcore.Expired(auth.PBS, *a.expire, now)
}

// accountActive is the Authenticator's Active callback: the user exists
// and is active; for a token also the token. Caller must not hold s.mu.
func (s *Server) accountActive(id auth.Authid, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.activeLocked(id, now)
}

func (s *Server) activeLocked(id auth.Authid, now time.Time) bool {
	u, ok := s.users[id.User()]
	if !ok || !u.active(now) {
		return false
	}
	if !id.IsToken() {
		return true
	}
	t, ok := s.tokens[id]
	return ok && t.active(now)
}

// authidExists reports whether a user or token section exists, the check
// PUT /access/acl makes before adding an entry. Caller holds s.mu.
func (s *Server) authidExistsLocked(id auth.Authid) bool {
	if id.IsToken() {
		_, ok := s.tokens[id]
		return ok
	}
	_, ok := s.users[id.User()]
	return ok
}

// sortedUsers returns the user records ordered by id. Caller holds s.mu.
func (s *Server) sortedUsersLocked() []*userRecord {
	out := make([]*userRecord, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *userRecord) int { return strings.Compare(a.id.String(), b.id.String()) })
	return out
}

// sortedTokens returns the token records ordered by id, only those of
// owner unless owner is the zero Userid. Caller holds s.mu.
func (s *Server) sortedTokensLocked(owner auth.Userid) []*tokenRecord {
	out := make([]*tokenRecord, 0)
	for _, t := range s.tokens {
		if owner.IsZero() || t.id.User() == owner {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *tokenRecord) int { return strings.Compare(a.id.String(), b.id.String()) })
	return out
}

// userDigestLocked is the "digest" of user.cfg: the SHA-256 of the
// users and tokens serialized as PBS's section config would write them.
// Any change alters it. Caller holds s.mu.
func (s *Server) userDigestLocked() string {
	var b strings.Builder
	section := func(kind, id string, a account, extra ...[2]string) {
		fmt.Fprintf(&b, "%s: %s\n", kind, id)
		if a.comment != "" {
			fmt.Fprintf(&b, "\tcomment %s\n", a.comment)
		}
		if a.enable != nil {
			fmt.Fprintf(&b, "\tenable %t\n", *a.enable)
		}
		if a.expire != nil {
			fmt.Fprintf(&b, "\texpire %d\n", *a.expire)
		}
		for _, kv := range extra {
			if kv[1] != "" {
				fmt.Fprintf(&b, "\t%s %s\n", kv[0], kv[1])
			}
		}
		b.WriteByte('\n')
	}
	for _, u := range s.sortedUsersLocked() {
		section("user", u.id.String(), u.account,
			[2]string{"email", u.email}, [2]string{"firstname", u.firstname}, [2]string{"lastname", u.lastname})
	}
	for _, t := range s.sortedTokensLocked(auth.Userid{}) {
		section("token", t.id.String(), t.account)
	}
	return digestOf(b.String())
}

// aclDigestLocked is the "digest" of acl.cfg, hashed over the entries in
// the order PBS writes them. Caller holds s.mu.
func (s *Server) aclDigestLocked() string {
	var b strings.Builder
	for _, e := range s.policy.Entries() {
		prop := 0
		if e.Propagate {
			prop = 1
		}
		subject := e.Subject
		if e.Type == acl.Group {
			subject = "@" + subject
		}
		fmt.Fprintf(&b, "acl:%d:%s:%s:%s\n", prop, e.Path, subject, e.Role)
	}
	return digestOf(b.String())
}

func digestOf(config string) string {
	sum := sha256.Sum256([]byte(config))
	return hex.EncodeToString(sum[:])
}
