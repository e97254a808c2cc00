package pbstest

import "github.com/proxkit/proxkit/internal/mockcore"

// adminRoutes registers the datastore administration endpoints: datastore
// list, usage and status, namespaces, groups, snapshots with their files,
// notes and protection, verify, garbage collection and prune, and the task
// status and log of the jobs they start. Everything works on the real
// datastore.Store directories with package datastore's listing, verify, GC
// and prune, and applies PBS 3.2.4's privilege rules (upstream
// src/api2/admin/datastore.rs, namespace.rs, status.rs, node/tasks.rs).
func (s *Server) adminRoutes(rt *mockcore.Router) {
	s.adminStoreRoutes(rt)
	s.adminNamespaceRoutes(rt)
	s.adminGroupRoutes(rt)
	s.adminSnapshotRoutes(rt)
	s.adminJobRoutes(rt)
	s.adminTaskRoutes(rt)
}
