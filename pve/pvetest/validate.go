package pvetest

import (
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// Parameter checks with the texts of PVE's JSONSchema validator
// (pve-common): a failing format is "invalid format - <format message>",
// followed by the format's own newline.

// maxUseridLen is PVE's length limit of user ids (3..64).
const maxUseridLen = 64

// maxKeysLen bounds a user's "keys" (pattern [0-9a-zA-Z!=]{0,4096}).
const maxKeysLen = 4096

var (
	// tokenNameRE is PVE's token name rule (the realm rule): a letter,
	// then at least one letter, digit, '.', '-' or '_'.
	tokenNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.\-_]+$`)
	groupIDRE   = regexp.MustCompile(`^[A-Za-z0-9.\-_]+$`)
	keysRE      = regexp.MustCompile(`^[0-9a-zA-Z!=]*$`) // and at most maxKeysLen
	configIDRE  = regexp.MustCompile(`^[a-z][a-z0-9_-]+$`)
	emailRE     = regexp.MustCompile(`^(\w+)([\-+.]\w+)*@(\w[\-\w]*\.){1,5}[A-Za-z]{2,63}$`)
)

// parseUserid is PVE's verify_username: the id, or the server's message
// for a malformed one.
func parseUserid(raw string) (auth.Userid, string) {
	n := utf8.RuneCountInString(raw)
	switch {
	case n < 3:
		return auth.Userid{}, fmt.Sprintf("user name '%s' is too short", raw)
	case n > maxUseridLen:
		return auth.Userid{}, fmt.Sprintf("user name '%s' is too long (%d > %d)", raw, n, maxUseridLen)
	}
	id, err := auth.ParseUserid(raw)
	if err != nil || id.ValidateFor(auth.PVE) != nil {
		return auth.Userid{}, fmt.Sprintf("value '%s' does not look like a valid user name", raw)
	}
	return id, ""
}

// form reads and checks one request's parameters, recording problems in
// the Params (one per parameter) for a single 400 at the end.
type form struct{ p *mockcore.Params }

func formatErr(msg string) string { return "invalid format - " + msg + "\n" }

// str returns an optional string limited to maxLen characters (0: no
// limit).
func (f form) str(name string, maxLen int) (string, bool) {
	v, ok := f.p.String(name)
	if ok && maxLen > 0 && utf8.RuneCountInString(v) > maxLen {
		f.p.Fail(name, fmt.Sprintf("value may only be %d characters long", maxLen))
		return "", false
	}
	return v, ok
}

// password returns an optional password of 8 to 64 characters.
func (f form) password(name string) (string, bool) {
	v, ok := f.str(name, 64)
	if ok && utf8.RuneCountInString(v) < 8 {
		f.p.Fail(name, "value must be at least 8 characters long")
		return "", false
	}
	return v, ok
}

// nonNegative returns an optional integer with minimum 0.
func (f form) nonNegative(name string) (int64, bool) {
	v, ok := f.p.Int(name)
	if ok && v < 0 {
		f.p.Fail(name, "value must have a minimum value of 0")
		return 0, false
	}
	return v, ok
}

// userid returns a user id parameter (format pve-userid, at most 64
// characters).
func (f form) userid(name string) (auth.Userid, bool) {
	raw, ok := f.p.String(name)
	if !ok {
		return auth.Userid{}, false
	}
	id, msg := parseUserid(raw)
	if msg != "" {
		f.p.Fail(name, formatErr(msg))
		return auth.Userid{}, false
	}
	return id, true
}

// checked returns an optional string that must pass valid; otherwise
// the parameter fails with msg(value).
func (f form) checked(name string, valid func(string) bool, msg func(v string) string) (string, bool) {
	v, ok := f.p.String(name)
	if ok && !valid(v) {
		f.p.Fail(name, msg(v))
		return "", false
	}
	return v, ok
}

// tokenName returns the token name (PVE's "tokenid") of the path.
func (f form) tokenName(name string) (string, bool) {
	return f.checked(name, tokenNameRE.MatchString, func(string) string { return "value does not match the regex pattern" })
}

// groupID returns a group id (format pve-groupid).
func (f form) groupID(name string) (string, bool) {
	return f.checked(name, groupIDRE.MatchString, func(v string) string {
		return formatErr(fmt.Sprintf("group name '%s' contains invalid characters", v))
	})
}

// list returns a PVE list parameter ("" is the empty list) whose items
// all pass valid; the first that does not fails the parameter with the
// format message bad(item).
func (f form) list(name string, valid func(string) bool, bad func(item string) string) ([]string, bool) {
	v, ok := f.p.String(name)
	if !ok {
		return nil, false
	}
	items := mockcore.SplitPVEList(v)
	for _, it := range items {
		if !valid(it) {
			f.p.Fail(name, formatErr(bad(it)))
			return nil, false
		}
	}
	return items, true
}

// groupList returns a pve-groupid-list ("" is the empty list).
func (f form) groupList(name string) ([]string, bool) {
	return f.list(name, groupIDRE.MatchString, func(g string) string {
		return fmt.Sprintf("group name '%s' contains invalid characters", g)
	})
}

// roleID returns a role id (format pve-roleid).
func (f form) roleID(name string) (string, bool) {
	return f.checked(name, groupIDRE.MatchString, func(v string) string {
		return formatErr(fmt.Sprintf("role name '%s' contains invalid characters", v))
	})
}

// privList returns a pve-priv-list of valid privilege names.
func (f form) privList(name string) ([]string, bool) {
	return f.list(name, func(priv string) bool { return acl.IsPrivilege(auth.PVE, priv) }, func(priv string) string {
		return fmt.Sprintf("invalid privilege '%s'", priv)
	})
}

// configIDList returns a pve-configid-list (the "delete" parameter).
func (f form) configIDList(name string) ([]string, bool) {
	return f.list(name, configIDRE.MatchString, func(k string) string {
		return fmt.Sprintf("invalid configuration ID '%s'", k)
	})
}

// email returns an optional e-mail address (format email-opt: "" or an
// address, at most 254 characters).
func (f form) email(name string) (string, bool) {
	v, ok := f.p.String(name)
	if ok && v != "" && !emailRE.MatchString(v) {
		f.p.Fail(name, formatErr("value does not look like a valid email address"))
		return "", false
	}
	if ok && utf8.RuneCountInString(v) > 254 {
		f.p.Fail(name, "value may only be 254 characters long")
		return "", false
	}
	return v, ok
}

// keys returns the legacy second-factor key list (a pattern check).
func (f form) keys(name string) (string, bool) {
	v, ok := f.p.String(name)
	if ok && (len(v) > maxKeysLen || !keysRE.MatchString(v)) {
		f.p.Fail(name, "value does not match the regex pattern")
		return "", false
	}
	return v, ok
}

// requires records JSONSchema's "requires" failure: name was given without
// other.
func (f form) requires(name, other string) {
	if f.p.Has(name) && !f.p.Has(other) {
		f.p.Fail(other, fmt.Sprintf("missing property - '%s' requires this property", name))
	}
}
