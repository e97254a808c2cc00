package pvetest

import (
	"fmt"
	"strings"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// Roles: /access/roles (PVE API2/Role.pm). Built-in roles are the
// acl package's tables; custom roles live in the acl.Policy.

func (s *Server) roleRoutes(rt *mockcore.Router) {
	modify := endpoint{perm: perm("/access", "Sys.Modify")}
	s.handle(rt, "GET", "/access/roles", endpoint{}, listRoles)
	s.handle(rt, "POST", "/access/roles", modify, createRole)
	s.handle(rt, "GET", "/access/roles/{roleid}", endpoint{}, getRole)
	s.handle(rt, "PUT", "/access/roles/{roleid}", modify, updateRole)
	s.handle(rt, "DELETE", "/access/roles/{roleid}", modify, deleteRole)
}

func listRoles(c *call) (any, error) {
	if err := c.noParams(); err != nil {
		return nil, err
	}
	rows := []map[string]any{}
	for _, r := range c.s.policy.RoleNames() {
		privs, _ := c.s.policy.Role(r)
		rows = append(rows, map[string]any{
			"roleid": r, "privs": strings.Join(privs, ","), "special": boolInt(c.s.policy.IsBuiltinRole(r)),
		})
	}
	return rows, nil
}

func readRole(c *call, allowed ...string) (string, []string, bool, error) {
	f := form{c.p}
	c.p.RejectUnknown(append([]string{"roleid"}, allowed...)...)
	c.p.Require("roleid")
	id, _ := f.roleID("roleid")
	privs, hasPrivs := f.privList("privs")
	return id, privs, hasPrivs, c.p.Err()
}

func noSuchRole(r string) error { return fmt.Errorf("role '%s' does not exist", r) }

func (c *call) roleExists(r string) bool {
	_, ok := c.s.policy.Role(r)
	return ok
}

func createRole(c *call) (any, error) {
	id, privs, _, err := readRole(c, "privs")
	if err != nil {
		return nil, err
	}
	if len(id) >= 3 && strings.EqualFold(id[:3], "PVE") {
		return nil, mockcore.NewParamError(auth.PVE, "roleid", "cannot use role ID starting with the (case-insensitive) 'PVE' namespace")
	}
	if c.roleExists(id) {
		return nil, fmt.Errorf("create role failed: role '%s' already exists", id)
	}
	if err := c.s.policy.SetRole(id, privs); err != nil {
		return nil, fmt.Errorf("create role failed: %w", err)
	}
	return nil, nil
}

// getRole shows {"<privilege>": 1, …}; {} for NoAccess.
func getRole(c *call) (any, error) {
	id, _, _, err := readRole(c)
	if err != nil {
		return nil, err
	}
	privs, ok := c.s.policy.Role(id)
	if !ok {
		return nil, noSuchRole(id)
	}
	m := map[string]int{}
	for _, p := range privs {
		m[p] = 1
	}
	return m, nil
}

func updateRole(c *call) (any, error) {
	id, privs, _, err := readRole(c, "privs", "append")
	appendPrivs := c.p.BoolOr("append", false)
	form{c.p}.requires("append", "privs")
	if err == nil {
		err = c.p.Err()
	}
	if err != nil {
		return nil, err
	}
	if c.s.policy.IsBuiltinRole(id) {
		return nil, fmt.Errorf("auto-generated role '%s' cannot be modified", id)
	}
	old, ok := c.s.policy.Role(id)
	if !ok {
		return nil, fmt.Errorf("update role failed: %w", noSuchRole(id))
	}
	if appendPrivs {
		privs = append(old, privs...)
	}
	if err := c.s.policy.SetRole(id, privs); err != nil {
		return nil, fmt.Errorf("update role failed: %w", err)
	}
	return nil, nil
}

// deleteRole removes a custom role; ACL entries naming it vanish, as PVE
// drops them when it next reads user.cfg.
func deleteRole(c *call) (any, error) {
	id, _, _, err := readRole(c)
	if err != nil {
		return nil, err
	}
	if c.s.policy.IsBuiltinRole(id) {
		return nil, fmt.Errorf("auto-generated role '%s' cannot be deleted", id)
	}
	if err := c.s.policy.DeleteRole(id); err != nil {
		return nil, fmt.Errorf("delete role failed: %w", err)
	}
	return nil, nil
}
