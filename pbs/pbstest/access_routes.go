package pbstest

import "github.com/proxkit/proxkit/internal/mockcore"

// accessRoutes registers the /access endpoints.
func (s *Server) accessRoutes(rt *mockcore.Router) {
}
