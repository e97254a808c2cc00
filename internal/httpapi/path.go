package httpapi

import (
	"errors"
	"fmt"
	"strings"
)

// APIPrefix is the path under which both products serve their JSON API.
// Request paths are relative to it.
const APIPrefix = "/api2/json"

// ErrInvalidRequest is matched by errors for requests that are refused
// before anything is sent (bad path, unsupported parameters).
var ErrInvalidRequest = errors.New("invalid request")

const upperhex = "0123456789ABCDEF"

// escape percent-encodes every byte except the RFC 3986 unreserved
// characters and those in keep. Encoding more than strictly needed is
// harmless: both servers percent-decode path components, query strings
// and form bodies.
func escape(s, keep string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && strings.IndexByte(keep, s[i]) < 0 {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || strings.IndexByte(keep, c) >= 0 {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upperhex[c>>4], upperhex[c&15])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// PathEscape escapes one path segment, such as a user id, token name or
// datastore name, so that it stays one segment. '@' and '!' (which user
// and token ids contain) stay readable, as the servers' own web UIs send
// them; '/', '?', '#', '%', spaces, controls and non-ASCII bytes are
// percent-encoded, and so are the segments "." and ".." (which a proxy
// could otherwise resolve) as "%2E" and "%2E%2E".
func PathEscape(segment string) string {
	if segment == "." || segment == ".." {
		return strings.Repeat("%2E", len(segment))
	}
	return escape(segment, "@!")
}

// JoinPath builds an API path from raw segments, escaping each with
// PathEscape: JoinPath("access", "users", "alice@pbs", "token", "backup")
// is "/access/users/alice@pbs/token/backup". An empty segment yields an
// empty component ("//" or a trailing "/"), which Do refuses instead of
// silently addressing the parent collection.
func JoinPath(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(PathEscape(s))
	}
	return b.String()
}

// checkPath validates an API path relative to APIPrefix and returns it
// without a redundant APIPrefix.
func checkPath(p string) (string, error) {
	fail := func(reason string) (string, error) {
		return "", fmt.Errorf("httpapi: path %q: %s: %w", p, reason, ErrInvalidRequest)
	}
	if rest, ok := strings.CutPrefix(p, APIPrefix+"/"); ok {
		p = "/" + rest
	}
	switch {
	case p == "" || p[0] != '/':
		return fail("must start with '/' (relative to " + APIPrefix + ")")
	case strings.ContainsAny(p, "?#"):
		return fail("must not contain '?' or '#'; pass parameters separately")
	case p != "/" && strings.HasSuffix(p, "/"):
		return fail("ends with '/' (an empty id?)")
	case strings.Contains(p, "//"):
		return fail("has an empty segment (an empty id?)")
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." {
			return fail("has a '.' or '..' segment; use PathEscape for ids")
		}
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f {
			return fail("has unescaped spaces, controls or non-ASCII bytes; use PathEscape or JoinPath")
		}
		if p[i] == '%' && (i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2])) {
			return fail("has a '%' that is not an escape; use PathEscape or JoinPath")
		}
	}
	return p, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
