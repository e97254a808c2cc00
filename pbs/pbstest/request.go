package pbstest

import (
	"net/http"
	"slices"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// The helpers below are what every handler of the mock uses, whichever
// file registers it. None of them may be called with s.mu held: each
// takes the lock itself.

// now returns the server's current time (WithClock). Use it for every
// time-dependent decision instead of time.Now.
func (s *Server) now() time.Time { return s.clock.Now() }

// authenticate runs PBS's request authentication (token header or ticket
// cookie with CSRF token on non-GET requests; user and token enabled and
// not expired at s.now()). It returns the caller's auth id, or writes
// PBS's 401 "authentication failed" (after the configured delay) and
// returns false. Every endpoint except /ping and POST /access/ticket
// starts with it (PBS's Permission::Anybody means "authenticated").
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (auth.Authid, bool) {
	id, err := s.authn.Authenticate(r)
	if err != nil {
		s.authn.WriteFailure(w, r, err)
		return auth.Authid{}, false
	}
	return id, true
}

// authenticatedCall is the start of most handlers: authenticate, read
// the parameters, and record every one not in allowed as unknown. The
// caller reads the allowed ones, then checks them with paramsOK.
func (s *Server) authenticatedCall(w http.ResponseWriter, r *http.Request, allowed ...string) (auth.Authid, *mockcore.Params, bool) {
	id, ok := s.authenticate(w, r)
	if !ok {
		return auth.Authid{}, nil, false
	}
	p, ok := s.params(w, r)
	if !ok {
		return auth.Authid{}, nil, false
	}
	p.RejectUnknown(allowed...)
	return id, p, true
}

// authenticatedNoParams starts a handler of a method without parameters
// that any authenticated caller may use (Permission::Anybody).
func (s *Server) authenticatedNoParams(w http.ResponseWriter, r *http.Request) (auth.Authid, bool) {
	id, p, ok := s.authenticatedCall(w, r)
	return id, ok && s.paramsOK(w, p)
}

// requirePrivs is PBS's endpoint-level Permission::Privilege(path, privs,
// partial=false): id must hold all privs on the ACL path (and, as on PBS,
// something at all there). Otherwise it writes the 403 "permission check
// failed" and returns false. path is an ACL path such as
// "/datastore/store1/ns1" (datastore.Namespace.ACLPath builds it).
func (s *Server) requirePrivs(w http.ResponseWriter, r *http.Request, id auth.Authid, path string, privs ...string) bool {
	if s.hasPrivs(id, path, privs...) {
		return true
	}
	s.writeForbidden(w, r)
	return false
}

// requireAnyPriv is Permission::Privilege(path, privs, partial=true): one
// of privs on path suffices. Writes the 403 and returns false otherwise.
func (s *Server) requireAnyPriv(w http.ResponseWriter, r *http.Request, id auth.Authid, path string, privs ...string) bool {
	if s.hasAnyPriv(id, path, privs...) {
		return true
	}
	s.writeForbidden(w, r)
	return false
}

// writeForbidden writes PBS's endpoint-level 403, after the configured
// delay (WithRealDelays). Handler-level refusals are usually 400 with a
// text instead; write those with mockcore.WritePBSError.
func (s *Server) writeForbidden(w http.ResponseWriter, r *http.Request) {
	mockcore.AuthFailureDelay(s.cfg.deniedDelay).Wait(r)
	mockcore.WritePBSError(w, http.StatusForbidden, mockcore.PBSPermissionFailed)
}

// hasPrivs reports whether id holds all privs on path, with PBS's rule that
// holding nothing there fails even an empty check. For checks inside a
// handler that answer differently than the 403.
func (s *Server) hasPrivs(id auth.Authid, path string, privs ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policy.Check(id, path, privs...)
}

// hasAnyPriv reports whether id holds at least one of privs on path.
func (s *Server) hasAnyPriv(id auth.Authid, path string, privs ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policy.CheckAny(id, path, privs...)
}

// privileges returns id's effective privileges on path (name -> propagate).
func (s *Server) privileges(id auth.Authid, path string) acl.PrivSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policy.Privileges(id, path)
}

// anyPrivsBelow reports whether id holds one of privs on path or anywhere
// below it, PBS's test for showing a datastore or namespace to a caller
// who may only see parts of it.
func (s *Server) anyPrivsBelow(id auth.Authid, path string, privs ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policy.AnyPrivsBelow(id, path, privs...)
}

// isSuperuser reports whether id is the user root@pam (never a token),
// for PBS's "superuser only" checks.
func (s *Server) isSuperuser(id auth.Authid) bool {
	return id.IsRoot() && !id.IsToken()
}

// lookupStore returns the datastore called name, or writes PBS's answer
// for an unknown one (400 "no such datastore '<name>'", the section-config
// lookup error) and returns false. Check the endpoint's privileges first,
// as PBS does, so a caller without them gets 403 whether the store exists
// or not.
func (s *Server) lookupStore(w http.ResponseWriter, name string) (*datastore.Store, bool) {
	s.mu.Lock()
	st, ok := s.stores[name]
	s.mu.Unlock()
	if !ok {
		mockcore.WritePBSError(w, http.StatusBadRequest, "no such datastore '"+name+"'")
		return nil, false
	}
	return st, true
}

// storeNames returns the datastore names in sorted order.
func (s *Server) storeNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.stores))
	for n := range s.stores {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// params reads an ordinary API method's parameters with PBS's rules
// (mockcore.ParsePBSParams), or writes the 400 and returns false. After
// reading what the method defines, call p.RejectUnknown(...) and check
// p.Err() with s.fail.
func (s *Server) params(w http.ResponseWriter, r *http.Request) (*mockcore.Params, bool) {
	p, err := mockcore.ParsePBSParams(r)
	if err != nil {
		mockcore.WritePBSFailure(w, err)
		return nil, false
	}
	return p, true
}

// paramsOK writes the recorded parameter problems (p.Err) as PBS's 400
// and returns false, or returns true when there are none.
func (s *Server) paramsOK(w http.ResponseWriter, p *mockcore.Params) bool {
	if err := p.Err(); err != nil {
		s.fail(w, err)
		return false
	}
	return true
}

// fail writes any handler error in PBS's dialect: *mockcore.HTTPError with
// its status, everything else (parameter errors included) as 400 text.
func (s *Server) fail(w http.ResponseWriter, err error) { mockcore.WritePBSFailure(w, err) }

// reply writes a PBS success: {"data": data} plus extra top-level members
// ("digest").
func (s *Server) reply(w http.ResponseWriter, data any, extra map[string]any) {
	mockcore.WritePBSData(w, data, extra)
}
