package mockcore

import "strings"

// percentDecodeLenient decodes every %XX with two hex digits and keeps
// anything else (a lone '%', "%zz") literally, which is what both servers'
// decoders do (Perl's uri_unescape, Rust's percent_decode). '+' stays '+'.
func percentDecodeLenient(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// isHeaderText reports whether s is what the Rust http crate's
// HeaderValue::to_str accepts: tab and visible ASCII. PBS ignores header
// values that fail this (an unreadable Authorization header counts as
// absent).
func isHeaderText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\t' && (c < 0x20 || c >= 0x7f) {
			return false
		}
	}
	return true
}
