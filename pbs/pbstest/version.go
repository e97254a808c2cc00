package pbstest

import (
	"net/http"

	"github.com/proxkit/proxkit/auth"
)

// handlePing is GET /ping: no authentication, {"pong": true}.
func (s *Server) handlePing(w http.ResponseWriter, r *http.Request) {
	s.reply(w, map[string]bool{"pong": true}, nil)
}

// handleVersion is GET /version (any authenticated caller).
func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.authenticatedNoParams(w, r); !ok {
		return
	}
	s.reply(w, s.cfg.VersionData(), nil)
}

// authenticatedNoParams starts a handler of a method without parameters
// that any authenticated caller may use (Permission::Anybody).
func (s *Server) authenticatedNoParams(w http.ResponseWriter, r *http.Request) (auth.Authid, bool) {
	id, ok := s.authenticate(w, r)
	if !ok {
		return auth.Authid{}, false
	}
	p, ok := s.params(w, r)
	if !ok {
		return auth.Authid{}, false
	}
	p.RejectUnknown()
	return id, s.paramsOK(w, p)
}
