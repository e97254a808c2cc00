package pvetest

import (
	"fmt"
	"strings"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// Groups: /access/groups (PVE API2/Group.pm). Members are managed through
// the users' "groups" setting.

func (s *Server) groupRoutes(rt *mockcore.Router) {
	alloc := endpoint{perm: perm("/access/groups", "Group.Allocate")}
	s.handle(rt, "GET", "/access/groups", endpoint{}, listGroups)
	s.handle(rt, "POST", "/access/groups", alloc, createGroup)
	s.handle(rt, "GET", "/access/groups/{groupid}", endpoint{perm: permAny("/access/groups", "Sys.Audit", "Group.Allocate")}, getGroup)
	s.handle(rt, "PUT", "/access/groups/{groupid}", alloc, updateGroup)
	s.handle(rt, "DELETE", "/access/groups/{groupid}", alloc, deleteGroup)
}

func joinUserids(ids []auth.Userid) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, ",")
}

// listGroups shows the groups where the caller has User.Modify, Sys.Audit
// or Group.Allocate on /access/groups/<group>. "users" is always there,
// "" for a group without members.
func listGroups(c *call) (any, error) {
	if err := c.noParams(); err != nil {
		return nil, err
	}
	rows := []map[string]any{}
	for _, g := range c.s.policy.Groups() {
		if c.checkAny("/access/groups/"+g, "User.Modify", "Sys.Audit", "Group.Allocate") != nil {
			continue
		}
		m := map[string]any{"groupid": g, "users": joinUserids(c.s.policy.GroupMembers(g))}
		if rec := c.s.groups[g]; rec != nil && rec.comment != "" {
			m["comment"] = rec.comment
		}
		rows = append(rows, m)
	}
	return rows, nil
}

func readGroupID(c *call, allowed ...string) (string, error) {
	f := form{c.p}
	c.p.RejectUnknown(append([]string{"groupid"}, allowed...)...)
	c.p.Require("groupid")
	g, _ := f.groupID("groupid")
	if c.p.Has("comment") {
		_, _ = c.p.String("comment") // type check only
	}
	return g, c.p.Err()
}

func noSuchGroup(g string) error { return fmt.Errorf("group '%s' does not exist", g) }

func createGroup(c *call) (any, error) {
	g, err := readGroupID(c, "comment")
	if err != nil {
		return nil, err
	}
	if c.s.policy.HasGroup(g) {
		return nil, fmt.Errorf("create group failed: group '%s' already exists", g)
	}
	if err := c.s.policy.SetGroupMembers(g, nil); err != nil {
		return nil, fmt.Errorf("create group failed: %w", err)
	}
	comment, _ := c.p.String("comment")
	c.s.groups[g] = &groupRecord{comment: comment}
	return nil, nil
}

func getGroup(c *call) (any, error) {
	g, err := readGroupID(c)
	if err != nil {
		return nil, err
	}
	if !c.s.policy.HasGroup(g) {
		return nil, noSuchGroup(g)
	}
	members := []string{}
	for _, u := range c.s.policy.GroupMembers(g) {
		members = append(members, u.String())
	}
	m := map[string]any{"members": members}
	if rec := c.s.groups[g]; rec != nil && rec.comment != "" {
		m["comment"] = rec.comment
	}
	return m, nil
}

func updateGroup(c *call) (any, error) {
	g, err := readGroupID(c, "comment")
	if err != nil {
		return nil, err
	}
	if !c.s.policy.HasGroup(g) {
		return nil, fmt.Errorf("update group failed: %w", noSuchGroup(g))
	}
	if comment, ok := c.p.String("comment"); ok {
		c.s.groups[g] = &groupRecord{comment: comment}
	}
	return nil, nil
}

// deleteGroup removes the group and the ACL entries naming it; members
// keep their accounts.
func deleteGroup(c *call) (any, error) {
	g, err := readGroupID(c)
	if err != nil {
		return nil, err
	}
	if err := c.s.policy.DeleteGroup(g); err != nil {
		return nil, fmt.Errorf("delete group failed: %w", err)
	}
	delete(c.s.groups, g)
	return nil, nil
}
