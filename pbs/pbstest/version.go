package pbstest

import "net/http"

// handlePing is GET /ping: no authentication, {"pong": true}.
func (s *Server) handlePing(w http.ResponseWriter, r *http.Request) {
	s.reply(w, map[string]bool{"pong": true}, nil)
}

// handleVersion is GET /version (any authenticated caller).
func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.authenticate(w, r); !ok {
		return
	}
	p, ok := s.params(w, r)
	if !ok {
		return
	}
	p.RejectUnknown()
	if err := p.Err(); err != nil {
		s.fail(w, err)
		return
	}
	v := s.cfg.version
	s.reply(w, map[string]string{"version": v[0], "release": v[1], "repoid": v[2]}, nil)
}
