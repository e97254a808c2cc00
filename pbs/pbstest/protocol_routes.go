package pbstest

import "github.com/proxkit/proxkit/internal/mockcore"

// protocolRoutes registers the backup and reader protocol upgrades.
func (s *Server) protocolRoutes(rt *mockcore.Router) {}
