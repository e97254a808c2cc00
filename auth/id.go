package auth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidID is matched (with errors.Is) by every *IDError.
var ErrInvalidID = errors.New("invalid id")

// IDError reports an identifier that does not parse or does not suit one
// product. Input is the offending text with anything that could be a pasted
// secret (after '=', ':' or whitespace) cut off, so the error is safe to log.
type IDError struct {
	Kind   string // "user id", "auth id", "token name" or "realm"
	Input  string // redacted input
	Reason string // what is wrong, naming the usual mistake when there is one
}

// Error implements error.
func (e *IDError) Error() string {
	return fmt.Sprintf("invalid %s %s: %s", e.Kind, quoteRedacted(e.Input), e.Reason)
}

// Is makes errors.Is(err, ErrInvalidID) true.
func (e *IDError) Is(target error) bool { return target == ErrInvalidID }

// redactID keeps what precedes the first '=', ':' or whitespace (a header
// or secret was probably pasted after it), hides anything shaped like a
// token secret (a UUID) and long strings without '@' (a secret passed
// where the id belongs), and marks the cuts.
func redactID(s string) string {
	cut := false
	if i := strings.IndexAny(s, "=: \t\r\n"); i >= 0 {
		s, cut = s[:i], true
	}
	s = redactUUIDs(s)
	if len(s) > 24 && strings.IndexByte(s, '@') < 0 {
		return redactedMark
	}
	if len(s) > 128 {
		s = strings.ToValidUTF8(s[:128], "") + "…"
	}
	if cut {
		s += redactedMark
	}
	return s
}

const redactedMark = "[…redacted]"

// quoteRedacted quotes an already redacted input for an error message.
// Quoting can make a UUID out of what was not one (the escape \x00 ends
// in a hex digit, next to 35 characters of a secret), so the quoted form
// is redacted again.
func quoteRedacted(s string) string { return redactUUIDs(strconv.Quote(s)) }

// redactUUIDs replaces every UUID-shaped run (8-4-4-4-12 hex digits), the
// shape of PVE and PBS token secrets, with redactedMark.
func redactUUIDs(s string) string {
	for i := 0; i+36 <= len(s); i++ {
		if isUUIDAt(s, i) {
			s = s[:i] + redactedMark + s[i+36:]
			i += len(redactedMark) - 1
		}
	}
	return s
}

// isUUIDAt reports whether s[i:i+36] has the 8-4-4-4-12 hex shape.
func isUUIDAt(s string, i int) bool {
	if i+36 > len(s) {
		return false
	}
	for j := 0; j < 36; j++ {
		c := s[i+j]
		switch j {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHexDigit(c) {
				return false
			}
		}
	}
	return true
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

// Limits shared by both products (access-api.md 1.1).
const (
	minUseridLen = 3
	maxUseridLen = 64
	minRealmLen  = 2
	maxRealmLen  = 32
)

// ParseUserid parses "name@realm" with the rules both products share (the
// union of what PVE and PBS accept; see ValidateFor for one product's
// stricter rules). The split happens at the last '@', as the servers do, so
// "john@example.com@pbs" is user "john@example.com" in realm "pbs".
//
// The user name may contain any character except whitespace, control
// characters, ':' and '/'; the realm is a "safe id" of 2 to 32 characters;
// the whole id is 3 to 64 bytes long.
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
	return parseUserParts("user id", s, s, at)
}

// parseUserParts validates s (a user id split at index at); errors name
// kind and show whole (the full input) redacted.
func parseUserParts(kind, whole, s string, at int) (Userid, error) {
	name, realm := s[:at], s[at+1:]
	if name == "" {
		return Userid{}, idErr(kind, whole, "empty user name before '@'")
	}
	for _, r := range name {
		if unicode.IsSpace(r) || r < 0x20 || r == 0x7f || r == ':' || r == '/' {
			return Userid{}, idErr(kind, whole, fmt.Sprintf("user name may not contain %q", r))
		}
	}
	if strings.IndexByte(realm, '=') >= 0 {
		return Userid{}, idErr(kind, whole, "realm contains '=': this looks like a password or secret appended to the id; pass the id alone")
	}
	if err := checkSafeID(realm, minRealmLen, maxRealmLen); err != "" {
		return Userid{}, idErr(kind, whole, "realm "+err)
	}
	if len(s) < minUseridLen || len(s) > maxUseridLen {
		return Userid{}, idErr(kind, whole, fmt.Sprintf("user id %d bytes long, must be %d..%d", len(s), minUseridLen, maxUseridLen))
	}
	return Userid{name: name, realm: Realm(realm)}, nil
}

// ParseAuthid parses a user id or a full token id as the servers do: the
// string is a token id when its last '!' comes after its last '@'. Strings
// the servers accept but a human probably did not mean (a user name
// containing '@' or '!') parse; Hint describes the likely mistake.
func ParseAuthid(s string) (Authid, error) {
	if err := commonMistakes("auth id", s); err != nil {
		return Authid{}, err
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		if len(s) == 36 && isUUIDAt(s, 0) {
			return Authid{}, idErr("auth id", s, "this looks like an API token secret (a UUID), not an id; were id and secret swapped? Pass the token id (name@realm!token) and the secret separately")
		}
		if strings.IndexByte(s, '!') < 0 {
			return Authid{}, idErr("auth id", s, "missing realm: write name@realm for a user or name@realm!token for an API token (a token name alone is not enough)")
		}
		return Authid{}, idErr("auth id", s, "missing realm: write name@realm!token")
	}
	bang := strings.LastIndexByte(s, '!')
	if bang < at {
		u, err := parseUserParts("auth id", s, s, at)
		if err != nil {
			return Authid{}, err
		}
		return Authid{user: u}, nil
	}
	if bang == len(s)-1 {
		return Authid{}, idErr("auth id", s, "empty token name after '!'")
	}
	u, err := parseUserParts("auth id", s, s[:bang], at)
	if err != nil {
		return Authid{}, err
	}
	tn, err := parseTokenName("auth id", s, s[bang+1:])
	if err != nil {
		return Authid{}, err
	}
	return Authid{user: u, token: tn}, nil
}

// ParseTokenName parses the name part of a token id: a letter, digit or '_'
// followed by letters, digits, '.', '_' or '-' (PBS rules; PVE additionally
// wants a leading letter and two characters, see Authid.ValidateFor).
func ParseTokenName(s string) (TokenName, error) {
	if s == "" {
		return "", idErr("token name", s, "empty")
	}
	if strings.ContainsAny(s, "@!") {
		return "", idErr("token name", s, "a token name is only the part after '!' (e.g. backup), not the full token id")
	}
	return parseTokenName("token name", s, s)
}

func parseTokenName(kind, whole, s string) (TokenName, error) {
	if strings.ContainsAny(s, "=:") {
		return "", idErr(kind, whole, "token name contains '=' or ':': this looks like a secret appended to the token id; pass the secret separately")
	}
	if err := checkSafeID(s, 1, -1); err != "" {
		return "", idErr(kind, whole, "token name "+err)
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
	case looksLikeHeader(s):
		return &IDError{Kind: kind, Input: "[redacted header]", Reason: "this is a whole Authorization header or cookie; pass only the id (name@realm!token) and the secret separately"}
	case !utf8.ValidString(s):
		return idErr(kind, s, "not valid UTF-8")
	case strings.TrimSpace(s) != s:
		return idErr(kind, s, "leading or trailing whitespace (a newline read from a file?)")
	case strings.IndexByte(s, ':') >= 0:
		return idErr(kind, s, "contains ':': this looks like a token id with its secret (id:secret) or a repository string (user@realm@host:store); pass the id alone")
	}
	return nil
}

func looksLikeHeader(s string) bool {
	for _, p := range []string{"PVEAPIToken", "PBSAPIToken", "PVEAuthCookie", "PBSAuthCookie", "Authorization", "Bearer ", "Cookie:"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return true
		}
	}
	return false
}

// checkSafeID applies the servers' "safe id" rule
// ([A-Za-z0-9_][A-Za-z0-9._-]*) with a length range (maxLen < 0: no upper
// limit), returning a description of the problem or "".
func checkSafeID(s string, minLen, maxLen int) string {
	if len(s) < minLen || maxLen >= 0 && len(s) > maxLen {
		if s == "" {
			return "is empty"
		}
		return fmt.Sprintf("is %d characters long, must be %d..%d", len(s), minLen, maxLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
		if i > 0 {
			ok = ok || c == '.' || c == '-'
		}
		if !ok {
			if i == 0 {
				return fmt.Sprintf("must start with a letter, digit or '_', not %q", rune(c))
			}
			if c >= utf8.RuneSelf {
				return "may only contain ASCII letters, digits, '.', '_' and '-'"
			}
			return fmt.Sprintf("may only contain letters, digits, '.', '_' and '-', not %q", rune(c))
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
