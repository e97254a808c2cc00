package pvetest

import (
	"fmt"
	"strings"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// Users: /access/users (PVE API2/User.pm).

var (
	userFields       = []string{"enable", "expire", "firstname", "lastname", "email", "comment", "keys", "groups"}
	userCreateParams = append([]string{"userid", "password"}, userFields...)
	userUpdateParams = append([]string{"userid", "append"}, userFields...)
	userModify       = []string{"User.Modify"}
)

func (s *Server) userRoutes(rt *mockcore.Router) {
	s.handle(rt, "GET", "/access/users", endpoint{}, listUsers)
	s.handle(rt, "POST", "/access/users", endpoint{perm: requireAll(
		func(c *call) error { return c.useridRealm() },
		func(c *call) error { _, err := c.useridGroup(userModify, groupsCreate, false); return err },
	)}, createUser)
	s.handle(rt, "GET", "/access/users/{userid}", endpoint{perm: func(c *call) error {
		_, err := c.useridGroup([]string{"User.Modify", "Sys.Audit"}, groupsIgnored, false)
		return err
	}}, getUser)
	s.handle(rt, "PUT", "/access/users/{userid}", endpoint{perm: func(c *call) error {
		_, err := c.useridGroup(userModify, groupsUpdate, false)
		return err
	}}, updateUser)
	s.handle(rt, "DELETE", "/access/users/{userid}", endpoint{perm: requireAll(
		func(c *call) error { return c.useridRealm() },
		func(c *call) error { _, err := c.useridGroup(userModify, groupsIgnored, false); return err },
	)}, deleteUser)
}

// userData is a user as the API shows it after PVE re-read user.cfg:
// enable and expire always, the text fields when not empty.
func (s *Server) userData(id auth.Userid, u *userRecord) map[string]any {
	m := map[string]any{"enable": boolInt(u.enable), "expire": u.expire}
	for k, v := range map[string]string{
		"firstname": u.firstname, "lastname": u.lastname, "email": u.email, "comment": u.comment, "keys": u.keys,
	} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// tokenData is a token's settings as read from user.cfg: privsep and
// expire always, the comment when set.
func tokenData(t *tokenRecord) map[string]any {
	m := map[string]any{"privsep": boolInt(t.privsep), "expire": t.expire}
	if t.comment != "" {
		m["comment"] = t.comment
	}
	return m
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// listUsers shows every user to callers with User.Modify or Sys.Audit on
// /access/groups, else the members of groups where they have one of those,
// and always the caller's own user (a token is not its user here).
func listUsers(c *call) (any, error) {
	c.p.RejectUnknown("enabled", "full")
	enabled, filter := c.p.Bool("enabled")
	full := c.p.BoolOr("full", false)
	if err := c.p.Err(); err != nil {
		return nil, err
	}
	privs := []string{"User.Modify", "Sys.Audit"}
	all := c.checkAny("/access/groups", privs...) == nil
	allowed := c.membersOf(c.groupsWithAny(privs...))
	rows := []map[string]any{}
	for _, id := range c.s.sortedUserIDsLocked() {
		if !all && c.caller != id.Authid() && !allowed[id] {
			continue
		}
		u := c.s.users[id]
		if filter && u.enable != enabled {
			continue
		}
		m := c.s.userData(id, u)
		if full {
			m["groups"] = strings.Join(c.s.policy.UserGroups(id), ",")
			m["tokens"] = nil
			if len(u.tokens) > 0 {
				var ts []map[string]any
				for _, name := range u.sortedTokenNames() {
					t := tokenData(u.tokens[name])
					t["tokenid"] = name
					ts = append(ts, t)
				}
				m["tokens"] = ts
			}
		}
		if rt := realmType(id.Realm()); rt != "" {
			m["realm-type"] = rt
		}
		m["userid"] = id.String()
		rows = append(rows, m)
	}
	return rows, nil
}

// realmType is the type of the realms every PVE installation has.
func realmType(r auth.Realm) string {
	switch r {
	case "pam", "pve":
		return string(r)
	}
	return ""
}

// userParams reads the settings shared by create and update.
type userParams struct {
	enable, expire                                    *int64
	firstname, lastname, email, comment, keys, groups *string
	groupList                                         []string
}

func readUserParams(f form) userParams {
	var up userParams
	if b, ok := f.p.Bool("enable"); ok {
		v := int64(boolInt(b))
		up.enable = &v
	}
	if v, ok := f.nonNegative("expire"); ok {
		up.expire = &v
	}
	set := func(dst **string, v string, ok bool) {
		if ok {
			*dst = &v
		}
	}
	v, ok := f.str("firstname", 1024)
	set(&up.firstname, v, ok)
	v, ok = f.str("lastname", 1024)
	set(&up.lastname, v, ok)
	v, ok = f.email("email")
	set(&up.email, v, ok)
	v, ok = f.str("comment", 2048)
	set(&up.comment, v, ok)
	v, ok = f.keys("keys")
	set(&up.keys, v, ok)
	if list, ok := f.groupList("groups"); ok {
		up.groupList = list
		s := strings.Join(list, ",")
		up.groups = &s
	}
	return up
}

// checkGroups is PVE's "no such group" test, done before anything
// changes.
func (c *call) checkGroups(groups []string) error {
	for _, g := range groups {
		if !c.s.policy.HasGroup(g) {
			return fmt.Errorf("no such group '%s'", g)
		}
	}
	return nil
}

func createUser(c *call) (any, error) {
	f := form{c.p}
	c.p.RejectUnknown(userCreateParams...)
	c.p.Require("userid")
	id, _ := f.userid("userid")
	password, hasPassword := f.password("password")
	up := readUserParams(f)
	if err := c.p.Err(); err != nil {
		return nil, err
	}
	const failed = "create user failed: "
	if _, exists := c.s.users[id]; exists {
		return nil, fmt.Errorf("%suser '%s' already exists", failed, id)
	}
	if hasPassword && realmType(id.Realm()) == "" {
		return nil, fmt.Errorf("%sauth domain '%s' does not exist", failed, id.Realm())
	}
	if err := c.checkGroups(up.groupList); err != nil {
		return nil, fmt.Errorf("%s%w", failed, err)
	}
	u := newUser()
	if up.enable != nil {
		u.enable = *up.enable != 0
	}
	applyUserText(u, up)
	if up.expire != nil {
		u.expire = *up.expire
	}
	c.s.users[id] = u
	if len(up.groupList) > 0 {
		_ = c.s.policy.SetUserGroups(id, up.groupList) // checked above
	}
	if hasPassword {
		c.s.passwords.Set(id.Authid(), password)
	}
	return nil, nil
}

// applyUserText stores the text fields that were given ("" clears).
func applyUserText(u *userRecord, up userParams) {
	for dst, v := range map[*string]*string{
		&u.firstname: up.firstname, &u.lastname: up.lastname, &u.email: up.email,
		&u.comment: up.comment, &u.keys: up.keys,
	} {
		if v != nil {
			*dst = *v
		}
	}
}

// onlyUser reads the {userid} of an endpoint without other parameters
// and looks the user up.
func (c *call) onlyUser() (auth.Userid, *userRecord, error) {
	f := form{c.p}
	c.p.RejectUnknown("userid")
	id, _ := f.userid("userid")
	if err := c.p.Err(); err != nil {
		return id, nil, err
	}
	u, ok := c.s.users[id]
	if !ok {
		return id, nil, noSuchUser(id)
	}
	return id, u, nil
}

func getUser(c *call) (any, error) {
	id, u, err := c.onlyUser()
	if err != nil {
		return nil, err
	}
	m := c.s.userData(id, u)
	groups := c.s.policy.UserGroups(id)
	if groups == nil {
		groups = []string{}
	}
	m["groups"] = groups
	m["tokens"] = nil
	if len(u.tokens) > 0 {
		ts := map[string]any{}
		for name, t := range u.tokens {
			ts[name] = tokenData(t)
		}
		m["tokens"] = ts
	}
	return m, nil
}

func updateUser(c *call) (any, error) {
	f := form{c.p}
	c.p.RejectUnknown(userUpdateParams...)
	id, _ := f.userid("userid")
	up := readUserParams(f)
	appendGroups := c.p.BoolOr("append", false)
	f.requires("append", "groups")
	if err := c.p.Err(); err != nil {
		return nil, err
	}
	const failed = "update user failed: "
	u, ok := c.s.users[id]
	if !ok {
		return nil, fmt.Errorf("%s%w", failed, noSuchUser(id))
	}
	if err := c.checkGroups(up.groupList); err != nil {
		return nil, fmt.Errorf("%s%w", failed, err)
	}
	if up.enable != nil {
		u.enable = *up.enable != 0
	}
	if up.expire != nil {
		u.expire = *up.expire
	}
	if up.groups != nil {
		groups := up.groupList
		if appendGroups {
			groups = append(c.s.policy.UserGroups(id), groups...)
		}
		_ = c.s.policy.SetUserGroups(id, groups) // checked above
	}
	applyUserText(u, up)
	return nil, nil
}

// deleteUser removes the user, its tokens and their secrets, its group
// memberships and the ACL entries of the user and its tokens. Like PVE it
// does not complain about a user that does not exist when root@pam asks
// (everybody else fails the permission check first). root@pam itself comes
// back at once with its defaults, as PVE re-adds it on every read.
func deleteUser(c *call) (any, error) {
	f := form{c.p}
	c.p.RejectUnknown("userid")
	id, _ := f.userid("userid")
	if err := c.p.Err(); err != nil {
		return nil, err
	}
	delete(c.s.users, id)
	c.s.policy.RemoveUser(id)
	c.s.secrets.DeleteFunc(func(t auth.Authid) bool { return t.User() == id })
	c.s.passwords.Delete(id.Authid())
	if id == auth.RootUserid {
		c.s.users[id] = newUser()
	}
	return nil, nil
}
