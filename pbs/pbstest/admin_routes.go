package pbstest

import "github.com/proxkit/proxkit/internal/mockcore"

// adminRoutes registers the datastore administration endpoints.
func (s *Server) adminRoutes(rt *mockcore.Router) {}
