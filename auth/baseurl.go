package auth

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ParseBaseURL checks and normalises the base URL of a server to
// "https://host:port" (the form Endpoint.BaseURL wants): the scheme must be
// https, user info, query and fragment are refused, a path of "/" or
// "/api2/json" is dropped, and a missing port becomes p.DefaultPort().
// Errors are *ParseError matching ErrInvalidURL and never show user info.
func ParseBaseURL(s string, p Product) (string, error) {
	fail := func(reason string) (string, error) {
		return "", &ParseError{Kind: "base URL", Input: redactURL(s), Reason: reason, Err: ErrInvalidURL}
	}
	if s == "" {
		return fail("empty; expected https://host[:port]")
	}
	if strings.TrimSpace(s) != s {
		return fail("leading or trailing whitespace")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fail("not a URL; expected https://host[:port]")
	}
	switch {
	case u.Scheme != "https":
		return fail("scheme must be https (e.g. https://pve.example.com:8006)")
	case u.User != nil:
		return fail("user info in the URL is not allowed; pass the auth id and secret separately")
	case u.Host == "" || u.Hostname() == "":
		return fail("missing host")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fail("query or fragment not allowed")
	}
	switch strings.TrimRight(u.EscapedPath(), "/") {
	case "", "/api2/json":
	default:
		return fail("unexpected path; expected https://host[:port]")
	}
	host := u.Hostname()
	if !hostRegexp.MatchString(host) {
		return fail("host must be a DNS name or an IP address")
	}
	port := p.DefaultPort()
	if ps := u.Port(); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return fail("port outside 1..65535")
		}
		port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return fail("empty port")
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// redactURL shows scheme and host of a URL that parses, nothing otherwise,
// so that passwords in user info or query never reach an error.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	v := redactUUIDs(u.Scheme + "://" + u.Host)
	if len(v) > 128 {
		v = strings.ToValidUTF8(v[:128], "") + "…"
	}
	return v
}

// splitBaseURL returns host and port of a normalised base URL.
func splitBaseURL(base string) (string, int, error) {
	host, ps, err := net.SplitHostPort(strings.TrimPrefix(base, "https://"))
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(ps)
	return host, port, err
}
