package mockcore

import (
	"net/http"
	"net/url"
	"strings"
)

// PBSMsgIllegalPath is PBS's 400 text for a path component starting with '.'.
const PBSMsgIllegalPath = "path contains illegal components"

// NormalizePBSPath normalizes an escaped URL path as the PBS REST server
// does (pbs-protocol.md 1.1): it splits at '/', drops empty components (so
// "//api2/json/x" is "/api2/json/x") and rejects any component starting
// with '.' with a 400 *HTTPError. The check runs on the escaped form, like
// upstream, so "%2e" is not a dot here. The root is "/".
func NormalizePBSPath(escaped string) (string, error) {
	var b strings.Builder
	for _, c := range strings.Split(escaped, "/") {
		if c == "" {
			continue
		}
		if c[0] == '.' {
			return "", &HTTPError{Status: http.StatusBadRequest, Message: PBSMsgIllegalPath}
		}
		b.WriteByte('/')
		b.WriteString(c)
	}
	if b.Len() == 0 {
		return "/", nil
	}
	return b.String(), nil
}

// PBSPaths wraps a PBS mock handler so that it sees normalized paths
// (NormalizePBSPath) and illegal ones get PBS's 400.
func PBSPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		norm, err := NormalizePBSPath(r.URL.EscapedPath())
		if err != nil {
			WritePBSFailure(w, err)
			return
		}
		if norm != r.URL.EscapedPath() {
			decoded, err := url.PathUnescape(norm)
			if err != nil {
				WritePBSNotFound(w, r)
				return
			}
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = decoded, norm
			if r2.URL.EscapedPath() != norm {
				r2.URL.RawPath = ""
			}
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}
