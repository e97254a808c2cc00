package pvetest

import (
	"github.com/proxkit/proxkit/internal/mockcore"
)

func (s *Server) routes(rt *mockcore.Router) {
	s.handle(rt, "GET", "/version", endpoint{}, s.version)
	s.handle(rt, "GET", "/access", endpoint{}, accessIndex)
	s.userRoutes(rt)
	s.tokenRoutes(rt)
	s.groupRoutes(rt)
	s.roleRoutes(rt)
	s.aclRoutes(rt)
	s.permissionRoutes(rt)
	s.ticketRoutes(rt)
}

// version is GET /version (any authenticated caller).
func (s *Server) version(c *call) (any, error) {
	if err := c.noParams(); err != nil {
		return nil, err
	}
	return s.cfg.VersionData(), nil
}

// accessIndex is GET /access: the subdirectories this mock implements.
func accessIndex(c *call) (any, error) {
	if err := c.noParams(); err != nil {
		return nil, err
	}
	var rows []map[string]string
	for _, d := range []string{"users", "groups", "roles", "acl", "permissions", "ticket"} {
		rows = append(rows, map[string]string{"subdir": d})
	}
	return rows, nil
}
