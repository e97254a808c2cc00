package pvetest

import (
	"fmt"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// The checks below follow PVE's RPCEnvironment (check, check_any,
// exec_api2_perm_check's "perm", "userid-group" and "userid-param"
// tests); every privilege question goes to the acl.Policy, the same
// evaluator callers can run offline. They run with s.mu held.

// check is PVE's check: every priv on path, naming the first missing one.
func (c *call) check(path string, privs ...string) error {
	held := c.s.policy.Privileges(c.caller, path)
	for _, p := range privs {
		if !held.Has(p) {
			return denied(path, p)
		}
	}
	return nil
}

// checkAny is PVE's check_any: one of privs on path.
func (c *call) checkAny(path string, privs ...string) error {
	if c.s.policy.Privileges(c.caller, path).HasAny(privs...) {
		return nil
	}
	return denied(path, privs...)
}

// groupsWithAny is filter_groups: the groups on whose
// /access/groups/<group> path the caller holds one of privs.
func (c *call) groupsWithAny(privs ...string) map[string]bool {
	out := map[string]bool{}
	for _, g := range c.s.policy.Groups() {
		if c.s.policy.Privileges(c.caller, "/access/groups/"+g).HasAny(privs...) {
			out[g] = true
		}
	}
	return out
}

// membersOf is group_member_join.
func (c *call) membersOf(groups map[string]bool) map[auth.Userid]bool {
	out := map[auth.Userid]bool{}
	for g := range groups {
		for _, u := range c.s.policy.GroupMembers(g) {
			out[u] = true
		}
	}
	return out
}

// lookupUser is check_user_exist on a raw user id: a malformed id or a
// missing user is an error (500 with PVE's text) unless noerr, which
// turns both into "no".
func (c *call) lookupUser(raw string, noerr bool) (auth.Userid, bool, error) {
	id, msg := parseUserid(raw)
	if msg != "" {
		if noerr {
			return auth.Userid{}, false, nil
		}
		return auth.Userid{}, false, fmt.Errorf("%s", msg)
	}
	if _, ok := c.s.users[id]; !ok {
		if noerr {
			return id, false, nil
		}
		return id, false, noSuchUser(id)
	}
	return id, true, nil
}

func noSuchUser(id auth.Userid) error { return fmt.Errorf("no such user ('%s')", id) }

// groupsMode is the groups_param option of PVE's userid-group test.
type groupsMode int

const (
	groupsIgnored groupsMode = iota
	groupsCreate             // the user is created: it need not exist
	groupsUpdate             // the "groups" parameter names the groups to check
)

// useridGroup is PVE's "userid-group" test on the userid parameter:
// any of privs on /access/groups passes; otherwise the caller needs them on
// every group named in "groups" (modes create and update) and on some
// group the user is a member of (unless it is being created). With noerr
// a failure of the last part is "false, nil".
func (c *call) useridGroup(privs []string, mode groupsMode, noerr bool) (bool, error) {
	target := c.raw("userid")
	checkExisting := mode != groupsCreate
	var id auth.Userid
	if checkExisting {
		var ok bool
		var err error
		if id, ok, err = c.lookupUser(target, noerr); !ok {
			return false, err
		}
	}
	if c.checkAny("/access/groups", privs...) == nil {
		return true, nil
	}
	groups := c.groupsWithAny(privs...)
	if mode != groupsIgnored {
		named := mockcore.SplitPVEList(c.raw("groups"))
		if len(named) == 0 {
			return false, denied("/access/groups", privs...)
		}
		for _, g := range named {
			if !groups[g] {
				return false, denied("/access/groups/"+g, privs...)
			}
		}
	}
	if checkExisting && !c.membersOf(groups)[id] {
		if noerr {
			return false, nil
		}
		return false, denied("")
	}
	return true, nil
}

// useridSelf is PVE's "userid-param self" test: the caller is the user
// named by the userid parameter (a token never is). A malformed id fails
// even inside an "or".
func (c *call) useridSelf(noerr bool) (bool, error) {
	raw := c.raw("userid")
	if _, msg := parseUserid(raw); msg != "" {
		return false, fmt.Errorf("%s", msg)
	}
	id, ok, err := c.lookupUser(raw, noerr)
	if !ok {
		return false, err
	}
	if c.caller == id.Authid() {
		return true, nil
	}
	if noerr {
		return false, nil
	}
	return false, denied("")
}

// useridRealm is PVE's "userid-param Realm.AllocateUser" test.
func (c *call) useridRealm() error {
	id, msg := parseUserid(c.raw("userid"))
	if msg != "" {
		return fmt.Errorf("%s", msg)
	}
	return c.check("/access/realm/"+string(id.Realm()), "Realm.AllocateUser")
}

// selfOrUserModify is the check of every token endpoint: the user itself,
// or User.Modify on /access/groups or on a group of the user. A caller
// failing both gets a plain "Permission check failed", whether or not the
// user exists.
func (c *call) selfOrUserModify() error {
	if ok, err := c.useridSelf(true); ok || err != nil {
		return err
	}
	if ok, err := c.useridGroup([]string{"User.Modify"}, groupsIgnored, true); ok || err != nil {
		return err
	}
	return denied("")
}

// requireAll chains checks like PVE's "and".
func requireAll(checks ...permCheck) permCheck {
	return func(c *call) error {
		for _, ch := range checks {
			if err := ch(c); err != nil {
				return err
			}
		}
		return nil
	}
}

// perm is PVE's "perm" test with a fixed path: all privs.
func perm(path string, privs ...string) permCheck {
	return func(c *call) error { return c.check(path, privs...) }
}

// permAny is the "perm" test with any => 1.
func permAny(path string, privs ...string) permCheck {
	return func(c *call) error { return c.checkAny(path, privs...) }
}
