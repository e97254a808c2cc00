package httpapi

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
)

const redacted = "[redacted]"

// minSecretLen: shorter values are not scrubbed, since replacing them
// would mangle ordinary words of a message without protecting anything
// worth protecting (real secrets are UUIDs, tickets and long passwords).
const minSecretLen = 4

// credentialValues extracts the secret parts of the credential headers of
// a sent request: the token secret (after the last '=' for PVE, after the
// first ':' for PBS), ticket cookies, the CSRF token. Both the sent and
// the percent-decoded forms are returned.
func credentialValues(h http.Header) []string {
	if h == nil {
		return nil
	}
	var out []string
	add := func(s string) {
		out = append(out, s)
		if d, err := url.PathUnescape(s); err == nil && d != s {
			out = append(out, d)
		}
	}
	for _, authz := range h.Values("Authorization") {
		switch {
		case strings.HasPrefix(authz, "PVEAPIToken"):
			if i := strings.LastIndexByte(authz, '='); i >= 0 {
				add(authz[i+1:])
			}
		case strings.HasPrefix(authz, "PBSAPIToken"):
			rest := authz[len("PBSAPIToken"):]
			if _, secret, ok := strings.Cut(rest, ":"); ok {
				add(secret)
			}
		default:
			// Unknown scheme: everything after the scheme name.
			if _, v, ok := strings.Cut(authz, "="); ok {
				add(v)
			} else if _, v, ok := strings.Cut(authz, " "); ok {
				add(v)
			}
		}
	}
	for _, cookie := range h.Values("Cookie") {
		for _, part := range strings.Split(cookie, ";") {
			if _, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
				add(v)
			}
		}
	}
	if v := h.Get("CSRFPreventionToken"); v != "" {
		add(v)
	}
	return out
}

// scrub replaces secret values in everything an *APIError shows.
func scrub(e *APIError, secrets []string) {
	// Longest first, so that a secret containing another is replaced whole.
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	var pairs []string
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			pairs = append(pairs, s, redacted)
		}
	}
	if len(pairs) == 0 {
		return
	}
	r := strings.NewReplacer(pairs...)
	e.Reason = r.Replace(e.Reason)
	e.Message = r.Replace(e.Message)
	e.Hint = r.Replace(e.Hint)
	if len(e.Errors) > 0 {
		errs := make(map[string]string, len(e.Errors))
		for k, v := range e.Errors {
			errs[r.Replace(k)] = r.Replace(v)
		}
		e.Errors = errs
	}
}
