package pvetest

import (
	"errors"
	"net/http"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// ACL: /access/acl (PVE API2/ACL.pm). The acl.Policy performs the update
// with PVE's checks and storage rules (root@pam entries accepted and not
// stored, delegation without Permissions.Modify, existence of every
// subject) and decides which rows a caller sees.

func (s *Server) aclRoutes(rt *mockcore.Router) {
	s.handle(rt, "GET", "/access/acl", endpoint{}, listACL)
	s.handle(rt, "PUT", "/access/acl", endpoint{}, updateACL)
}

func listACL(c *call) (any, error) {
	if err := c.noParams(); err != nil {
		return nil, err
	}
	rows := []map[string]any{}
	for _, e := range c.s.policy.ListACL(c.caller, "", false) {
		rows = append(rows, map[string]any{
			"path": e.Path, "type": e.Type.String(), "ugid": e.Subject, "roleid": e.Role, "propagate": boolInt(e.Propagate),
		})
	}
	return rows, nil
}

func updateACL(c *call) (any, error) {
	c.p.RejectUnknown("path", "roles", "users", "groups", "tokens", "propagate", "delete")
	c.p.Require("path", "roles")
	path, _ := c.p.String("path")
	req := acl.PVEACLUpdate{Path: path, Propagate: c.p.BoolOr("propagate", true), Delete: c.p.BoolOr("delete", false)}
	req.Roles, _ = c.p.List("roles")
	req.Users, _ = c.p.List("users")
	req.Groups, _ = c.p.List("groups")
	req.Tokens, _ = c.p.List("tokens")
	if err := c.p.Err(); err != nil {
		return nil, err
	}
	err := c.s.policy.UpdatePVEACL(c.caller, req, c.s.userExistsLocked)
	var ue *acl.UpdateError
	if err == nil || !errors.As(err, &ue) {
		return nil, err
	}
	return nil, aclUpdateError(ue)
}

// aclUpdateError renders a refused update as PVE reports it: parameter
// errors as 400 under their parameters, failed permission checks as 403,
// and errors raised inside the config lock as 500 "ACL update failed: …"
// (parameter errors there stringified with their code, as PVE's lock
// wrapper does).
func aclUpdateError(ue *acl.UpdateError) error {
	switch ue.Kind {
	case acl.UpdateInvalid:
		pe := &mockcore.ParamError{Product: auth.PVE}
		for _, name := range ue.Params {
			pe.Errors = append(pe.Errors, mockcore.FieldError{Param: name, Message: ue.Message})
		}
		return pe
	case acl.UpdateForbidden:
		return mockcore.Errorf(http.StatusForbidden, "Permission check failed (%s)", ue.Message)
	}
	if len(ue.Params) > 0 {
		return lockedParamError("ACL update failed", ue.Params[0], ue.Message)
	}
	return mockcore.Errorf(http.StatusInternalServerError, "ACL update failed: %s", ue.Message)
}
