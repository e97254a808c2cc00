package pvetest

import (
	"errors"
	"net/http"
	"regexp"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// Effective permissions: GET /access/permissions (PVE
// API2/AccessControl.pm), computed by the same acl.Policy evaluator that
// decides every privilege check of the mock.

// useridOrTokenRE is the pattern of the "userid" parameter: a user id, or
// a full token id.
var useridOrTokenRE = regexp.MustCompile(`^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+(?:![A-Za-z][A-Za-z0-9.\-_]+)?$`)

func (s *Server) permissionRoutes(rt *mockcore.Router) {
	s.handle(rt, "GET", "/access/permissions", endpoint{}, getPermissions)
}

func getPermissions(c *call) (any, error) {
	c.p.RejectUnknown("userid", "path")
	raw, hasUser := c.p.String("userid")
	path, _ := c.p.String("path")
	target := c.caller
	if hasUser {
		id, err := auth.ParseAuthid(raw)
		if !useridOrTokenRE.MatchString(raw) || err != nil {
			c.p.Fail("userid", "value does not match the regex pattern")
		} else {
			target = id
		}
	}
	if err := c.p.Err(); err != nil {
		return nil, err
	}
	if err := c.s.policy.CanQueryPermissions(c.caller, target); err != nil {
		var ue *acl.UpdateError
		if errors.As(err, &ue) {
			return nil, mockcore.Errorf(http.StatusForbidden, "Permission check failed (%s)", ue.Message)
		}
		return nil, err
	}
	if path != "" {
		return map[string]any{path: privMap(c.s.policy.Privileges(target, path))}, nil
	}
	out := map[string]any{}
	for p, set := range c.s.policy.Permissions(target) {
		out[p] = privMap(set)
	}
	return out, nil
}

// privMap is a privilege set as PVE shows it: name -> propagate flag 0/1.
func privMap(set acl.PrivSet) map[string]int {
	m := make(map[string]int, len(set))
	for name, prop := range set {
		m[name] = boolInt(prop)
	}
	return m
}
