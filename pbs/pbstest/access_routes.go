package pbstest

import "github.com/proxkit/proxkit/internal/mockcore"

// accessRoutes registers the /access endpoints.
func (s *Server) accessRoutes(rt *mockcore.Router) {
	rt.Handle("POST", "/access/ticket", s.handleTicket)

	rt.Handle("GET", "/access/users", s.handleListUsers)
	rt.Handle("POST", "/access/users", s.handleCreateUser)
	rt.Handle("GET", "/access/users/{userid}", s.handleReadUser)
	rt.Handle("PUT", "/access/users/{userid}", s.handleUpdateUser)
	rt.Handle("DELETE", "/access/users/{userid}", s.handleDeleteUser)

	rt.Handle("GET", "/access/users/{userid}/token", s.handleListTokens)
	rt.Handle("GET", "/access/users/{userid}/token/{tokenname}", s.handleReadToken)
	rt.Handle("POST", "/access/users/{userid}/token/{tokenname}", s.handleCreateToken)
	rt.Handle("PUT", "/access/users/{userid}/token/{tokenname}", s.handleUpdateToken)
	rt.Handle("DELETE", "/access/users/{userid}/token/{tokenname}", s.handleDeleteToken)

	rt.Handle("GET", "/access/acl", s.handleReadACL)
	rt.Handle("PUT", "/access/acl", s.handleUpdateACL)
	rt.Handle("GET", "/access/roles", s.handleListRoles)
	rt.Handle("GET", "/access/permissions", s.handlePermissions)
	rt.Handle("PUT", "/access/password", s.handleChangePassword)
}
