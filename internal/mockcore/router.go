package mockcore

import (
	"net/http"
	"path"
	"strings"
)

// Router dispatches "METHOD /path/{param}" routes below a prefix with Go's
// http.ServeMux patterns and sends everything else (unknown path, wrong
// method, unclean path) to one not-found handler, so each mock answers in
// its dialect (PVE 501 "Method '…' not implemented", PBS 404 "Path '…' not
// found.") instead of ServeMux's own 404, 405 and redirects.
//
// Wildcards match one percent-decoded path segment: a user id such as
// "alice@pve" or a token name arrives decoded through r.PathValue, and an
// encoded "%2F" stays inside its segment. "{name...}" matches the rest of
// the path (ACL paths).
type Router struct {
	prefix   string
	mux      *http.ServeMux
	notFound http.Handler
}

// NewRouter returns a router for paths below prefix (e.g. APIPrefix;
// "" for none). notFound answers requests no route matches.
func NewRouter(prefix string, notFound http.Handler) *Router {
	return &Router{prefix: strings.TrimSuffix(prefix, "/"), mux: http.NewServeMux(), notFound: notFound}
}

// Handle registers h for method and path (relative to the prefix, with
// ServeMux wildcards). Like http.ServeMux it panics on a malformed or
// conflicting pattern, a programming error in the mock.
func (rt *Router) Handle(method, path string, h http.HandlerFunc) {
	rt.mux.Handle(method+" "+rt.prefix+path, h)
}

// ServeHTTP dispatches r.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !isCleanPath(r.URL.Path) || r.Method == http.MethodConnect {
		rt.notFound.ServeHTTP(w, r)
		return
	}
	if _, pattern := rt.mux.Handler(r); pattern == "" {
		rt.notFound.ServeHTTP(w, r)
		return
	}
	rt.mux.ServeHTTP(w, r)
}

// isCleanPath reports whether ServeMux would serve p without redirecting.
func isCleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}
