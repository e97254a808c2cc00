package acl

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// Role returns the privileges of a built-in or custom role, sorted.
func (p *Policy) Role(name string) (privs []string, ok bool) {
	if r, ok := tablesFor(p.product).roles[name]; ok {
		return slices.Clone(r), true
	}
	r, ok := p.custom[name]
	return slices.Clone(r), ok
}

// rolePrivs is Role without the copy, for the evaluator.
func (p *Policy) rolePrivs(name string) ([]string, bool) {
	if r, ok := tablesFor(p.product).roles[name]; ok {
		return r, true
	}
	r, ok := p.custom[name]
	return r, ok
}

// RoleNames returns every role (built-in and custom), sorted.
func (p *Policy) RoleNames() []string {
	names := slices.Collect(maps.Keys(tablesFor(p.product).roles))
	for r := range p.custom {
		names = append(names, r)
	}
	slices.Sort(names)
	return names
}

// IsBuiltinRole reports whether name is a built-in role of the policy's
// product (PVE lists those with "special": 1).
func (p *Policy) IsBuiltinRole(name string) bool { return IsBuiltinRole(p.product, name) }

// SetRole creates custom role name with privs, or replaces the privileges
// of an existing custom role (PVE only; PBS has a fixed set of roles).
// New role ids must consist of letters, digits, '.', '-' and '_' and may not
// start with "PVE" in any case; built-in roles cannot be changed; every
// privilege must be one of the product's.
func (p *Policy) SetRole(name string, privs []string) error {
	if p.product == auth.PBS {
		return configErr(ErrUnsupported, name, "PBS has no custom roles")
	}
	if p.IsBuiltinRole(name) {
		return configErr(ErrBuiltinRole, name, "auto-generated role '%s' cannot be modified", name)
	}
	if _, exists := p.custom[name]; !exists {
		if err := checkNewRoleID(name); err != nil {
			return err
		}
	}
	set := map[string]bool{}
	for _, priv := range privs {
		if !IsPrivilege(p.product, priv) {
			return configErr(ErrUnknownPrivilege, priv, "invalid privilege '%s'", priv)
		}
		set[priv] = true
	}
	p.custom[name] = slices.Sorted(maps.Keys(set))
	return nil
}

func checkNewRoleID(name string) error {
	if name == "" || !allBytes(name, isPVEPathChar) {
		return configErr(ErrInvalidRoleID, name, "role name '%s' contains invalid characters", name)
	}
	if len(name) >= 3 && strings.EqualFold(name[:3], "PVE") {
		return configErr(ErrInvalidRoleID, name, "cannot use role ID starting with the (case-insensitive) 'PVE' namespace")
	}
	return nil
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// DeleteRole deletes custom role name and every ACL entry naming it (PVE
// drops such rows when it next reads its configuration).
func (p *Policy) DeleteRole(name string) error {
	if p.IsBuiltinRole(name) {
		return configErr(ErrBuiltinRole, name, "auto-generated role '%s' cannot be deleted", name)
	}
	if _, ok := p.custom[name]; !ok {
		return configErr(ErrUnknownRole, name, "role '%s' does not exist", name)
	}
	delete(p.custom, name)
	p.removeRole(name)
	return nil
}

// checkGroupID applies PVE's group id rule (letters, digits, '.', '-', '_')
// or, on PBS, the safe-id rule of its group parameter.
func (p *Policy) checkGroupID(g string) error {
	ok := g != "" && allBytes(g, isPVEPathChar)
	if p.product == auth.PBS {
		ok = g != "" && safeIDProblem(g) == ""
	}
	if !ok {
		return configErr(ErrInvalidSubject, g, "group name '%s' contains invalid characters", g)
	}
	return nil
}

// SetGroupMembers creates group (PVE only) or replaces its members.
func (p *Policy) SetGroupMembers(group string, users []auth.Userid) error {
	if p.product == auth.PBS {
		return configErr(ErrUnsupported, group, "groups are currently not supported.")
	}
	if err := p.checkGroupID(group); err != nil {
		return err
	}
	m := make(map[string]bool, len(users))
	for _, u := range users {
		if !u.IsZero() {
			m[u.String()] = true
		}
	}
	p.groups[group] = m
	return nil
}

// SetUserGroups replaces the group memberships of user u (PVE's user
// update with "groups"); every group must exist.
func (p *Policy) SetUserGroups(u auth.Userid, groups []string) error {
	for _, g := range groups {
		if _, ok := p.groups[g]; !ok {
			return configErr(ErrUnknownGroup, g, "group '%s' does not exist", g)
		}
	}
	s := u.String()
	for _, members := range p.groups {
		delete(members, s)
	}
	for _, g := range groups {
		p.groups[g][s] = true
	}
	return nil
}

// HasGroup reports whether group exists.
func (p *Policy) HasGroup(group string) bool {
	_, ok := p.groups[group]
	return ok
}

// Groups returns the group ids, sorted.
func (p *Policy) Groups() []string { return slices.Sorted(maps.Keys(p.groups)) }

// GroupMembers returns the members of group, sorted by id.
func (p *Policy) GroupMembers(group string) []auth.Userid {
	ids := slices.Sorted(maps.Keys(p.groups[group]))
	out := make([]auth.Userid, 0, len(ids))
	for _, s := range ids {
		if u, err := auth.ParseUserid(s); err == nil {
			out = append(out, u)
		}
	}
	return out
}

// UserGroups returns the groups user u is a member of, sorted.
func (p *Policy) UserGroups(u auth.Userid) []string {
	s := u.String()
	var out []string
	for g, members := range p.groups {
		if members[s] {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out
}

// DeleteGroup deletes group and every ACL entry naming it. On PVE the group
// must exist; on PBS, where group rows can only come from a configuration
// file, it just removes those rows.
func (p *Policy) DeleteGroup(group string) error {
	if _, ok := p.groups[group]; !ok && p.product == auth.PVE {
		return configErr(ErrUnknownGroup, group, "group '%s' does not exist", group)
	}
	delete(p.groups, group)
	p.removeSubjects(Group, func(s string) bool { return s == group })
	return nil
}

// maxPoolLevels is PVE's nesting limit for pool names ("a/b/c").
const maxPoolLevels = 3

// SetPool creates or replaces PVE resource pool name ("dev" or nested
// "dev/team"): the roles a subject holds on /pool/<name> then also apply
// to /vms/<vmid> of each member VM and /storage/<id> of each member
// storage (exactly those paths, never below them). A VM can be in one pool
// only.
func (p *Policy) SetPool(name string, vms []int, storages []string) error {
	if p.product == auth.PBS {
		return configErr(ErrUnsupported, name, "PBS has no resource pools")
	}
	if err := checkPoolName(name); err != nil {
		return err
	}
	for _, vmid := range vms {
		if vmid <= 0 {
			return configErr(ErrInvalidPoolMember, fmt.Sprint(vmid), "invalid vmid '%d' in pool '%s'", vmid, name)
		}
		if other, ok := p.vmPool[vmid]; ok && other != name {
			return configErr(ErrInvalidPoolMember, fmt.Sprint(vmid), "VM %d is already a member of pool '%s'", vmid, other)
		}
	}
	for _, s := range storages {
		if !isStorageID(s) {
			return configErr(ErrInvalidPoolMember, s, "invalid storage '%s' in pool '%s'", s, name)
		}
	}
	p.dropPoolMembers(name)
	pl := &pool{vms: slices.Compact(slices.Sorted(slices.Values(vms))), storages: slices.Compact(slices.Sorted(slices.Values(storages)))}
	for _, vmid := range pl.vms {
		p.vmPool[vmid] = name
	}
	p.pools[name] = pl
	return nil
}

func checkPoolName(name string) error {
	parts := strings.Split(name, "/")
	if len(parts) > maxPoolLevels {
		return configErr(ErrInvalidPoolMember, name, "pool name '%s' nested too deeply (max levels = %d)", name, maxPoolLevels)
	}
	for _, part := range parts {
		if part == "" || !allBytes(part, isPVEPathChar) {
			return configErr(ErrInvalidPoolMember, name, "pool name '%s' contains invalid characters", name)
		}
	}
	return nil
}

// isStorageID applies PVE's storage id rule: a letter, then letters,
// digits, '-', '_' or '.', ending in a letter or digit.
func isStorageID(s string) bool {
	if len(s) < 2 {
		return false
	}
	first, last := s[0]|0x20, s[len(s)-1]
	if first < 'a' || first > 'z' || !isAlnum(last) {
		return false
	}
	return allBytes(s, func(c byte) bool { return isAlnum(c) || c == '-' || c == '_' || c == '.' })
}

func (p *Policy) dropPoolMembers(name string) {
	if old, ok := p.pools[name]; ok {
		for _, vmid := range old.vms {
			delete(p.vmPool, vmid)
		}
	}
}

// Pool returns the members of PVE pool name.
func (p *Policy) Pool(name string) (vms []int, storages []string, ok bool) {
	pl, ok := p.pools[name]
	if !ok {
		return nil, nil, false
	}
	return slices.Clone(pl.vms), slices.Clone(pl.storages), true
}

// Pools returns the pool names, sorted.
func (p *Policy) Pools() []string { return slices.Sorted(maps.Keys(p.pools)) }

// DeletePool deletes pool name and the ACL entries on /pool/<name> and
// below it.
func (p *Policy) DeletePool(name string) {
	p.dropPoolMembers(name)
	delete(p.pools, name)
	p.RemovePath("/pool/" + name)
}

// RemovePath deletes every ACL entry on path and below it, as PBS does for
// /datastore/<name> when a datastore is removed without keeping its jobs.
// Removing "/" is a no-op, as on PBS (the root cannot be deleted).
func (p *Policy) RemovePath(path string) {
	base := joinPath(splitPath(path))
	if base == "/" {
		return
	}
	for q := range p.nodes {
		if isAtOrBelow(q, base) {
			delete(p.nodes, q)
		}
	}
}

// RemoveVM forgets a destroyed PVE guest: the entries on /vms/<vmid> and
// below and its pool membership.
func (p *Policy) RemoveVM(vmid int) {
	p.RemovePath(fmt.Sprintf("/vms/%d", vmid))
	if name, ok := p.vmPool[vmid]; ok {
		pl := p.pools[name]
		pl.vms = slices.DeleteFunc(pl.vms, func(v int) bool { return v == vmid })
		delete(p.vmPool, vmid)
	}
}

// RemoveStorage forgets a removed PVE storage: the entries on
// /storage/<id> and below and its membership in every pool.
func (p *Policy) RemoveStorage(id string) {
	p.RemovePath("/storage/" + id)
	for _, pl := range p.pools {
		pl.storages = slices.DeleteFunc(pl.storages, func(s string) bool { return s == id })
	}
}
