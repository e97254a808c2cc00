package pbstest

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// Parameter checks of the /access methods, with the schema limits of
// pbs-api-types and proxmox-auth-api and proxmox-schema's messages, so a
// bad value fails as "parameter verification failed - '<name>': <msg>".
// Each reader returns ok=false both when the parameter is absent and when
// it is invalid (then the problem is recorded in p).

const msgPattern = "value does not match the regex pattern"

func msgMinLen(n int) string { return fmt.Sprintf("value must be at least %d characters long", n) }
func msgMaxLen(n int) string { return fmt.Sprintf("value may only be %d characters long", n) }

// Schema limits.
const (
	idMinLen      = 3   // Userid, Authid
	idMaxLen      = 64  // Userid, Authid
	commentMaxLen = 128 // SINGLE_LINE_COMMENT_SCHEMA
	nameMinLen    = 2   // firstname, lastname, email
	nameMaxLen    = 64
	passwordMin   = 5 // PBS_PASSWORD_SCHEMA (3.2; newer servers want 8)
	passwordMax   = 64
	aclPathMaxLen = 128
)

var sha256Hex = regexp.MustCompile(`^[a-f0-9]{64}$`)

// checkedString reads a string parameter and applies length limits
// (characters, as proxmox-schema counts them; max 0 = none) and a
// pattern check.
func checkedString(p *mockcore.Params, name string, minLen, maxLen int, valid func(string) bool) (string, bool) {
	v, ok := p.String(name)
	if !ok {
		return "", false
	}
	n := utf8.RuneCountInString(v)
	switch {
	case n < minLen:
		p.Fail(name, msgMinLen(minLen))
	case maxLen > 0 && n > maxLen:
		p.Fail(name, msgMaxLen(maxLen))
	case valid != nil && !valid(v):
		p.Fail(name, msgPattern)
	default:
		return v, true
	}
	return "", false
}

// singleLine is SINGLE_LINE_COMMENT_REGEX: no control characters.
func singleLine(s string) bool {
	return !strings.ContainsFunc(s, unicode.IsControl)
}

func readUserid(p *mockcore.Params, name string) (auth.Userid, bool) {
	var id auth.Userid
	_, ok := checkedString(p, name, idMinLen, idMaxLen, func(s string) bool {
		u, err := auth.ParseUserid(s)
		if err != nil || u.ValidateFor(auth.PBS) != nil {
			return false
		}
		id = u
		return true
	})
	return id, ok
}

func readAuthid(p *mockcore.Params, name string) (auth.Authid, bool) {
	var id auth.Authid
	_, ok := checkedString(p, name, idMinLen, idMaxLen, func(s string) bool {
		a, err := auth.ParseAuthid(s)
		if err != nil || a.ValidateFor(auth.PBS) != nil {
			return false
		}
		id = a
		return true
	})
	return id, ok
}

// readTokenName reads a Tokenname: the pattern only, no length limit.
func readTokenName(p *mockcore.Params, name string) (auth.TokenName, bool) {
	var tn auth.TokenName
	_, ok := checkedString(p, name, 0, 0, func(s string) bool {
		n, err := auth.ParseTokenName(s)
		tn = n
		return err == nil
	})
	return tn, ok
}

func readComment(p *mockcore.Params, name string) (*string, bool) {
	v, ok := checkedString(p, name, 0, commentMaxLen, singleLine)
	return &v, ok
}

func readNameField(p *mockcore.Params, name string) (*string, bool) {
	v, ok := checkedString(p, name, nameMinLen, nameMaxLen, singleLine)
	return &v, ok
}

func readPassword(p *mockcore.Params, name string) (string, bool) {
	return checkedString(p, name, passwordMin, passwordMax, singleLine)
}

// readExpire reads an expire integer (minimum 0).
func readExpire(p *mockcore.Params, name string) (*int64, bool) {
	v, ok := p.Int(name)
	if !ok {
		return nil, false
	}
	if v < 0 {
		p.Fail(name, fmt.Sprintf("value must have a minimum value of 0 (got %d)", v))
		return nil, false
	}
	return &v, true
}

func readBool(p *mockcore.Params, name string) (*bool, bool) {
	v, ok := p.Bool(name)
	return &v, ok
}

// readDigest reads PROXMOX_CONFIG_DIGEST_SCHEMA (64 lowercase hex).
func readDigest(p *mockcore.Params) (string, bool) {
	return checkedString(p, "digest", 0, 0, sha256Hex.MatchString)
}

// readACLPath reads ACL_PATH_SCHEMA: 1..128 characters, "/" or
// "/component..." of safe ids, never normalized.
func readACLPath(p *mockcore.Params, name string) (string, bool) {
	return checkedString(p, name, 1, aclPathMaxLen, func(s string) bool {
		_, err := acl.NormalizePath(auth.PBS, s)
		return err == nil
	})
}

// readEnum reads a value that must be one of allowed.
func readEnum(p *mockcore.Params, name string, allowed func(string) bool) (string, bool) {
	v, ok := p.String(name)
	if !ok {
		return "", false
	}
	if !allowed(v) {
		p.Fail(name, fmt.Sprintf("value '%s' is not defined in the enumeration.", v))
		return "", false
	}
	return v, true
}

// readDeleteList reads the "delete" array of an update: each item one of
// allowed, reported as "[i]: value '…' is not defined in the enumeration."
// the way proxmox-schema names array items.
func readDeleteList(p *mockcore.Params, allowed ...string) ([]string, bool) {
	items, ok := p.List("delete")
	if !ok {
		return nil, false
	}
	for i, it := range items {
		found := false
		for _, a := range allowed {
			found = found || it == a
		}
		if !found {
			p.Fail(fmt.Sprintf("delete[%d]", i), fmt.Sprintf("value '%s' is not defined in the enumeration.", it))
			return nil, false
		}
	}
	return items, true
}
