package auth

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidID is matched (with errors.Is) by every *IDError.
var ErrInvalidID = errors.New("invalid id")

// IDError reports an identifier that does not parse. Input is the offending
// text with anything that could be a pasted secret (after '=' or ':') cut off,
// so the error is safe to log.
type IDError struct {
	Kind   string // "user id", "auth id", "token name" or "realm"
	Input  string // redacted input
	Reason string // what is wrong, naming the usual mistake when there is one
}

func (e *IDError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.Kind, e.Input, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidID) true.
func (e *IDError) Is(target error) bool { return target == ErrInvalidID }

// redactID keeps what precedes the first '=' or ':' (a header or secret was
// probably pasted after it) and marks the cut.
func redactID(s string) string {
	if i := strings.IndexAny(s, "=:"); i >= 0 {
		return s[:i] + "[…redacted]"
	}
	if len(s) > 128 {
		return s[:128] + "…"
	}
	return s
}

func idErr(kind, input, reason string) *IDError {
	return &IDError{Kind: kind, Input: redactID(input), Reason: reason}
}

// Realm is an authentication realm such as "pam", "pve" or "pbs".
type Realm string

// TokenName is the name part of an API token id: "backup" in
// "alice@pbs!backup". PVE calls it "tokenid", PBS "token-name".
type TokenName string

// Userid is a user id "name@realm". The zero value is not a valid id.
type Userid struct {
	name  string
	realm Realm
}

// Authid is either a user id or a full API token id "name@realm!token".
// The zero value is not a valid id.
type Authid struct {
	user  Userid
	token TokenName
}

// RootUserid is root@pam, the superuser of both products.
var RootUserid = Userid{name: "root", realm: "pam"}

const maxUseridLen = 64

// ParseUserid parses "name@realm" with the rules both products share (the
// union of what PVE and PBS accept; see ValidateFor for one product's
// stricter rules). The split happens at the last '@', as the servers do, so
// "john@example.com@pbs" is user "john@example.com" in realm "pbs".
func ParseUserid(s string) (Userid, error) {
	if err := commonMistakes("user id", s); err != nil {
		return Userid{}, err
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return Userid{}, idErr("user id", s, "missing realm: write name@realm, e.g. root@pam or backup@pbs")
	}
	if bang := strings.LastIndexByte(s, '!'); bang > at {
		return Userid{}, idErr("user id", s, "this is an API token id (name@realm!token); a user id is required here")
	}
	return parseUserParts(s, at)
}

func parseUserParts(s string, at int) (Userid, error) {
	name, realm := s[:at], s[at+1:]
	if name == "" {
		return Userid{}, idErr("user id", s, "empty user name before '@'")
	}
	if len(s) < 3 || len(s) > maxUseridLen {
		return Userid{}, idErr("user id", s, fmt.Sprintf("length %d outside 3..%d", len(s), maxUseridLen))
	}
	for _, r := range name {
		if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) || r == ':' || r == '/' {
			return Userid{}, idErr("user id", s, fmt.Sprintf("user name may not contain %q", r))
		}
	}
	if err := checkSafeID(realm, 2, 32); err != "" {
		return Userid{}, idErr("user id", s, "realm "+err)
	}
	return Userid{name: name, realm: Realm(realm)}, nil
}

// ParseAuthid parses a user id or a full token id as the servers do: the
// string is a token id when its last '!' comes after its last '@'.
func ParseAuthid(s string) (Authid, error) {
	if err := commonMistakes("auth id", s); err != nil {
		return Authid{}, err
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		if strings.IndexByte(s, '!') < 0 {
			return Authid{}, idErr("auth id", s, "missing realm: write name@realm for a user or name@realm!token for an API token (a token name alone is not enough)")
		}
		return Authid{}, idErr("auth id", s, "missing realm: write name@realm!token")
	}
	bang := strings.LastIndexByte(s, '!')
	if bang < at {
		u, err := parseUserParts(s, at)
		if err != nil {
			err.(*IDError).Kind = "auth id"
			return Authid{}, err
		}
		return Authid{user: u}, nil
	}
	u, err := parseUserParts(s[:bang], at)
	if err != nil {
		e := err.(*IDError)
		e.Kind, e.Input = "auth id", redactID(s)
		return Authid{}, e
	}
	tn, err := ParseTokenName(s[bang+1:])
	if err != nil {
		e := err.(*IDError)
		e.Kind, e.Input = "auth id", redactID(s)
		return Authid{}, e
	}
	return Authid{user: u, token: tn}, nil
}

// ParseTokenName parses the name part of a token id: a letter, digit or '_'
// followed by letters, digits, '.', '_' or '-' (PBS rules; PVE additionally
// wants a leading letter and two characters, see ValidateFor).
func ParseTokenName(s string) (TokenName, error) {
	if strings.ContainsAny(s, "=:") {
		return "", idErr("token name", s, "contains '=' or ':': this looks like a secret appended to the token id; pass the secret separately")
	}
	if strings.ContainsAny(s, "@!") {
		return "", idErr("token name", s, "a token name is only the part after '!' (e.g. backup), not the full token id")
	}
	if err := checkSafeID(s, 1, 64); err != "" {
		return "", idErr("token name", s, err)
	}
	return TokenName(s), nil
}

// NewTokenID joins a user id and a token name into a token Authid.
func NewTokenID(u Userid, name TokenName) (Authid, error) {
	if u.IsZero() {
		return Authid{}, idErr("auth id", "", "empty user id")
	}
	if _, err := ParseTokenName(string(name)); err != nil {
		return Authid{}, err
	}
	return Authid{user: u, token: name}, nil
}

// commonMistakes recognises pasted headers and secrets before the grammar
// reports something less helpful.
func commonMistakes(kind, s string) error {
	switch {
	case s == "":
		return idErr(kind, s, "empty")
	case strings.HasPrefix(s, "PVEAPIToken") || strings.HasPrefix(s, "PBSAPIToken") || strings.HasPrefix(s, "Bearer "):
		return &IDError{Kind: kind, Input: "[redacted header]", Reason: "this is a whole Authorization header; pass only the id (name@realm!token) and the secret separately"}
	case strings.TrimSpace(s) != s:
		return idErr(kind, s, "leading or trailing whitespace (a newline read from a file?)")
	case strings.ContainsAny(s, "=:"):
		return idErr(kind, s, "contains '=' or ':': this looks like a token id with its secret or a repository string; pass the id alone")
	}
	return nil
}

// checkSafeID applies PBS's SAFE_ID rule ([A-Za-z0-9_][A-Za-z0-9._-]*)
// with a length range, returning a description of the problem or "".
func checkSafeID(s string, minLen, maxLen int) string {
	if len(s) < minLen || len(s) > maxLen {
		if s == "" {
			return "is empty"
		}
		return fmt.Sprintf("length %d outside %d..%d", len(s), minLen, maxLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
		if i > 0 {
			ok = ok || c == '.' || c == '-'
		}
		if !ok {
			if i == 0 {
				return fmt.Sprintf("must start with a letter, digit or '_', not %q", c)
			}
			return fmt.Sprintf("may only contain letters, digits, '.', '_' and '-', not %q", c)
		}
	}
	return ""
}

// MustParseAuthid is ParseAuthid for literals in tests and examples; it
// panics on invalid input and must not be used on user input.
func MustParseAuthid(s string) Authid {
	a, err := ParseAuthid(s)
	if err != nil {
		panic(err)
	}
	return a
}

// MustParseUserid is ParseUserid for literals; it panics on invalid input.
func MustParseUserid(s string) Userid {
	u, err := ParseUserid(s)
	if err != nil {
		panic(err)
	}
	return u
}

// Name returns the part before the last '@'.
func (u Userid) Name() string { return u.name }

// Realm returns the part after the last '@'.
func (u Userid) Realm() Realm { return u.realm }

// IsZero reports whether u is the zero (invalid) value.
func (u Userid) IsZero() bool { return u.name == "" }

// IsRoot reports whether u is root@pam.
func (u Userid) IsRoot() bool { return u == RootUserid }

// String returns "name@realm", or "" for the zero value.
func (u Userid) String() string {
	if u.IsZero() {
		return ""
	}
	return u.name + "@" + string(u.realm)
}

// Authid returns u as an Authid.
func (u Userid) Authid() Authid { return Authid{user: u} }

// MarshalText implements encoding.TextMarshaler.
func (u Userid) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseUserid.
func (u *Userid) UnmarshalText(b []byte) error {
	v, err := ParseUserid(string(b))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// IsToken reports whether a is an API token id.
func (a Authid) IsToken() bool { return a.token != "" }

// User returns the user id (the owner, for a token).
func (a Authid) User() Userid { return a.user }

// TokenName returns the token name, or "" for a user id.
func (a Authid) TokenName() TokenName { return a.token }

// IsZero reports whether a is the zero (invalid) value.
func (a Authid) IsZero() bool { return a.user.IsZero() }

// IsRoot reports whether a is the user root@pam (not one of its tokens,
// which never have superuser rights).
func (a Authid) IsRoot() bool { return !a.IsToken() && a.user.IsRoot() }

// String returns "name@realm" or "name@realm!token".
func (a Authid) String() string {
	if a.token == "" {
		return a.user.String()
	}
	return a.user.String() + "!" + string(a.token)
}

// MarshalText implements encoding.TextMarshaler.
func (a Authid) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseAuthid.
func (a *Authid) UnmarshalText(b []byte) error {
	v, err := ParseAuthid(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
