package pvetest

import (
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// call is one API request on its way through a handler.
type call struct {
	s      *Server
	r      *http.Request
	caller auth.Authid // zero for unauthenticated ("world") endpoints
	p      *mockcore.Params
	now    time.Time
}

// raw returns a parameter as the permission checks see it: before
// validation, "" when absent.
func (c *call) raw(name string) string {
	v, _ := c.p.String(name)
	return v
}

// noParams is the parameter check of a method without parameters: every
// parameter given is unknown.
func (c *call) noParams() error {
	c.p.RejectUnknown()
	return c.p.Err()
}

// handlerFunc is an endpoint's code: it runs with s.mu held and returns
// the "data" of the answer or an error (see writeError).
type handlerFunc func(c *call) (any, error)

// permCheck is an endpoint's permission check, run before the handler
// and before parameter validation, as PVE's HTTP server runs
// check_api2_permissions before the method validates its parameters.
// root@pam skips it. nil means "any authenticated caller".
type permCheck func(c *call) error

// endpoint describes how a route authenticates.
type endpoint struct {
	perm permCheck
	// world: no credentials needed (POST /access/ticket).
	world bool
	// noToken: PVE's allowtoken => 0, API tokens get a 403.
	noToken bool
}

var wildcard = regexp.MustCompile(`\{([a-z]+)\}`)

// handle registers an endpoint: authenticate, read parameters (path
// parameters merged in), lock, check permissions, run, answer, and after
// a successful change save the state.
func (s *Server) handle(rt *mockcore.Router, method, pattern string, ep endpoint, h handlerFunc) {
	var pathParams []string
	for _, m := range wildcard.FindAllStringSubmatch(pattern, -1) {
		pathParams = append(pathParams, m[1])
	}
	rt.Handle(method, pattern, func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, r: r, now: s.now()}
		if !s.authorize(w, r, ep, c) {
			return
		}
		p, err := mockcore.ParsePVEParams(r)
		if err != nil {
			mockcore.WritePVEFailure(w, r, err)
			return
		}
		for _, name := range pathParams {
			p.SetPath(name, r.PathValue(name))
		}
		if err := p.Err(); err != nil {
			mockcore.WritePVEFailure(w, r, err)
			return
		}
		c.p = p
		s.mu.Lock()
		defer s.mu.Unlock()
		if ep.perm != nil && !s.policy.IsSuperuser(c.caller) {
			if err := ep.perm(c); err != nil {
				writeError(w, r, err)
				return
			}
		}
		data, err := h(c)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if method != http.MethodGet {
			if err := s.saveLocked(); err != nil {
				if s.cfg.ErrorLog != nil {
					s.cfg.ErrorLog.Print(err)
				}
				mockcore.WritePVEMessage(w, r, http.StatusInternalServerError, err.Error())
				return
			}
		}
		mockcore.WritePVEData(w, r, data)
	})
}

// authorize authenticates the request as the endpoint needs and writes
// the refusal if it fails.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, ep endpoint, c *call) bool {
	if ep.world {
		creds, err := mockcore.ExtractCredentials(auth.PVE, r.Header)
		if ep.noToken && (err != nil || creds.Kind == mockcore.TokenCredential) {
			mockcore.WritePVETokenRefused(w, r, relPath(r))
			return false
		}
		return true
	}
	id, err := s.authn.Authenticate(r)
	if err != nil {
		s.authn.WriteFailure(w, r, err)
		return false
	}
	if ep.noToken && id.IsToken() {
		mockcore.WritePVETokenRefused(w, r, relPath(r))
		return false
	}
	c.caller = id
	return true
}

func relPath(r *http.Request) string {
	p := r.URL.Path
	if len(p) >= len(mockcore.APIPrefix) && p[:len(mockcore.APIPrefix)] == mockcore.APIPrefix {
		p = p[len(mockcore.APIPrefix):]
	}
	return p
}

// permError is a failed privilege check, PVE's raise_perm_exc: 403
// "Permission check failed (<path>, <privs>)", or without a path just
// "Permission check failed".
type permError struct {
	path  string
	privs []string
}

// Error returns PVE's text for the failed check.
func (e *permError) Error() string { return mockcore.PVEPermissionText(e.path, e.privs...) }

func denied(path string, privs ...string) error { return &permError{path: path, privs: privs} }

// writeError answers a failed call: permission errors as 403, parameter
// errors as 400, *mockcore.HTTPError with its status, and anything else as
// PVE answers an exception without a code: 500 with the text as reason.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *permError
	if errors.As(err, &pe) {
		mockcore.WritePVEPermissionDenied(w, r, pe.path, pe.privs...)
		return
	}
	mockcore.WritePVEFailure(w, r, err)
}
