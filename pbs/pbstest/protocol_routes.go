package pbstest

import "github.com/proxkit/proxkit/internal/mockcore"

// protocolRoutes registers the backup and reader protocol upgrades
// (PBSPaths in front of the router makes the Rust client's
// "//api2/json/backup" arrive as "/api2/json/backup").
func (s *Server) protocolRoutes(rt *mockcore.Router) {
	s.protocol.init(s.cfg.protocol)
	rt.Handle("GET", "/backup", s.handleBackupUpgrade)
	rt.Handle("GET", "/reader", s.handleReaderUpgrade)
}
