package auth

import (
	"fmt"
	"strings"
)

// ValidateFor applies the stricter identifier rules of one product on top
// of what ParseUserid accepts:
//
//   - PVE: the realm starts with an ASCII letter (so "1x" or "_r" fail);
//   - PBS: nothing beyond ParseUserid. (PBS 3.2.4 itself still required
//     realms of at least 3 characters; 2-character realms work since the
//     2025 fix, so they are not rejected here.)
//
// It returns an *IDError, or an error for an unknown product.
func (u Userid) ValidateFor(p Product) error {
	if u.IsZero() {
		return idErr("user id", "", "empty")
	}
	switch p {
	case PVE:
		if c := u.realm[0]; !isASCIILetter(c) {
			return idErr("user id", u.String(), fmt.Sprintf("PVE realms must start with a letter, not %q", rune(c)))
		}
		return nil
	case PBS:
		return nil
	default:
		return fmt.Errorf("auth: unknown product %d", int(p))
	}
}

// ValidateFor applies one product's stricter rules on top of ParseAuthid:
//
//   - PVE: the realm starts with a letter (see Userid.ValidateFor), and a
//     token name starts with an ASCII letter and has at least 2 characters;
//   - PBS: the whole auth id is at most 64 bytes (the limit of every API
//     parameter holding an auth id, e.g. ACL subjects).
func (a Authid) ValidateFor(p Product) error {
	if a.IsZero() {
		return idErr("auth id", "", "empty")
	}
	switch p {
	case PVE:
		if err := a.user.ValidateFor(PVE); err != nil {
			e := err.(*IDError)
			e.Kind, e.Input = "auth id", redactID(a.String())
			return e
		}
		if a.IsToken() && (len(a.token) < 2 || !isASCIILetter(a.token[0])) {
			return idErr("auth id", a.String(), "PVE token names start with a letter and have at least 2 characters (e.g. backup)")
		}
		return nil
	case PBS:
		if s := a.String(); len(s) > maxUseridLen {
			return idErr("auth id", s, fmt.Sprintf("%d bytes long; PBS accepts auth ids of at most %d bytes", len(s), maxUseridLen))
		}
		return nil
	default:
		return fmt.Errorf("auth: unknown product %d", int(p))
	}
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Hint returns "" or a sentence describing why an id that parses is
// probably not what was meant. The servers accept '@' and '!' inside user
// names, so mistakes such as a repository string or a reordered token id
// parse as odd user names and fail only later with a bare 401. The text
// names the id, how it was read and the likely fix, so it can be appended
// to an authentication error as is.
func (a Authid) Hint() string {
	if a.IsZero() {
		return ""
	}
	name, realm := a.user.name, string(a.user.realm)
	at := strings.LastIndexByte(name, '@')
	bang := strings.LastIndexByte(name, '!')
	read := fmt.Sprintf("auth id %q is read by the server as user %q in realm %q", a.String(), name, realm)
	switch {
	case at >= 0 && bang > at:
		// alice@pbs!backup@store1: a token id followed by a host or datastore.
		return fmt.Sprintf("%s: it looks like the token id %q followed by %q (a host or datastore of a repository string); use the token id alone", read, name, realm)
	case at >= 0 && bang >= 0:
		// bob!tok@pbs@host: token name written before the realm, then a host.
		return fmt.Sprintf("%s: it looks like a user id with a misplaced token name followed by a host; a token id has the form user@realm!token", read)
	case at >= 0:
		// pve@pbs@pbs-store: user@realm@host with the token name missing.
		return fmt.Sprintf("%s: it looks like a repository string (user@realm@host:store) with the token name missing; an API token id has the form user@realm!token, e.g. %s!backup", read, name)
	case a.IsToken() && len(a.token) == 36 && isUUIDAt(string(a.token), 0):
		return fmt.Sprintf("the token name of auth id %s@%s![…] looks like an API token secret (a UUID): the token id is user@realm!name, the secret is passed separately", name, realm)
	case bang >= 0 && !a.IsToken():
		// bob!tok@pve: token name written before the realm.
		user, tok := name[:bang], name[bang+1:]
		return fmt.Sprintf("%s: the token name goes last; did you mean %s@%s!%s?", read, user, realm, tok)
	}
	return ""
}

// Hint is Authid.Hint for a user id.
func (u Userid) Hint() string { return u.Authid().Hint() }
