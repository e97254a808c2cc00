package pbstest

import "net/http"

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
