package acl

import (
	"maps"
	"strconv"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// levels returns the node paths consulted for path, outermost first; the
// last one is the "final" level. Empty components are skipped as both
// servers do. PVE walks the components as given, so a path without a
// leading '/' never consults "/"; PBS always starts at the root.
func (p *Policy) levels(path string) []string {
	rooted := strings.HasPrefix(path, "/") || p.product == auth.PBS
	var out []string
	if rooted {
		out = append(out, "/")
	}
	var b strings.Builder
	for _, c := range strings.Split(path, "/") {
		if c == "" {
			continue
		}
		b.WriteByte('/')
		b.WriteString(c)
		out = append(out, b.String())
	}
	return out
}

// resolve is role resolution along a path (spec 6.2) for one subject,
// without pools and without owner intersection.
func (p *Policy) resolve(subject string, isToken bool, path string) roleFlags {
	result := roleFlags{}
	lv := p.levels(path)
	for i, l := range lv {
		n := p.nodes[l]
		if n == nil {
			continue
		}
		if cand := p.applicable(n, subject, isToken, i == len(lv)-1); len(cand) > 0 {
			result = cand // a deeper level replaces, it never adds
		}
	}
	if f, ok := result[RoleNoAccess]; ok {
		return roleFlags{RoleNoAccess: f}
	}
	return result
}

// applicable returns the subject's roles at one node: its own entries
// (non-propagating ones only at the final level); for a PVE user without
// any, the union of its groups' entries. PBS never applies group entries,
// and a NoAccess among PBS candidates leaves exactly {NoAccess: false}.
func (p *Policy) applicable(n *aclNode, subject string, isToken, final bool) roleFlags {
	own := n.users[subject]
	if isToken {
		own = n.tokens[subject]
	}
	cand := filterRoles(nil, own, final)
	if p.product == auth.PBS {
		if _, ok := cand[RoleNoAccess]; ok {
			return roleFlags{RoleNoAccess: false}
		}
		return cand
	}
	if len(cand) > 0 || isToken {
		return cand
	}
	for g, roles := range n.groups {
		if p.groups[g][subject] {
			cand = filterRoles(cand, roles, final)
		}
	}
	return cand
}

// filterRoles adds the roles that apply at this level to dst. When two
// groups give the same role different flags, PVE's result depends on hash
// order; the propagating flag wins here so the outcome is deterministic.
func filterRoles(dst, roles roleFlags, final bool) roleFlags {
	for r, prop := range roles {
		if prop || final {
			if dst == nil {
				dst = roleFlags{}
			}
			dst[r] = dst[r] || prop
		}
	}
	return dst
}

// EffectiveRoles returns the roles that apply to id at path with their
// propagate flags, after replacement along the path and the NoAccess rule
// (spec 6.2), like PVE's roles() and PBS's AclTree::roles. Pool roles and
// the owner intersection of privilege-separated tokens are not part of it;
// use Privileges for what a caller may do. root@pam gets the product's
// administrator role; a PVE token that is not registered gets nothing and
// one without privilege separation gets its owner's roles.
func (p *Policy) EffectiveRoles(id auth.Authid, path string) map[string]bool {
	if id.IsZero() {
		return map[string]bool{}
	}
	if id.IsRoot() {
		return map[string]bool{p.adminRole(): true}
	}
	if id.IsToken() && p.product == auth.PVE {
		privsep, ok := p.tokens[id.String()]
		if !ok {
			return map[string]bool{}
		}
		if !privsep {
			return p.EffectiveRoles(id.User().Authid(), path)
		}
	}
	return p.resolve(id.String(), id.IsToken(), path)
}

func (p *Policy) adminRole() string {
	if p.product == auth.PBS {
		return RolePBSAdmin
	}
	return RolePVEAdministrator
}

// IsSuperuser reports whether id bypasses every check: only the user
// root@pam, never one of its tokens.
func (p *Policy) IsSuperuser(id auth.Authid) bool { return id.IsRoot() }

// Privileges returns id's effective privileges on path with their
// propagate flags, computed as the product's server does (spec 6.3):
//
//   - root@pam holds every privilege, propagated;
//   - PVE: a token that is not registered holds nothing; a token without
//     privilege separation holds exactly its owner's privileges; roles are
//     resolved along the path, pool roles added on member /vms/<id> and
//     /storage/<id> paths (never lifting a NoAccess, but a pool NoAccess
//     wins), privileges take the flag of any propagating role, and a
//     privilege-separated token keeps only privileges its owner also holds
//     there, with both flags ANDed (root@pam's tokens are not capped);
//   - PBS: every token is separated and capped by its owner the same way;
//     group entries never apply; there are no pools.
//
// Paths are used as given apart from empty components (normalize them with
// NormalizePath first where the server would). The result is a fresh set
// the caller may modify.
func (p *Policy) Privileges(id auth.Authid, path string) PrivSet {
	switch {
	case id.IsZero():
		return PrivSet{}
	case id.IsRoot():
		return p.allPrivileges()
	case p.product == auth.PBS:
		return p.pbsPrivileges(id, path)
	}
	return p.pvePrivileges(id, path)
}

func (p *Policy) allPrivileges() PrivSet {
	all := tablesFor(p.product).privileges
	out := make(PrivSet, len(all))
	for _, priv := range all {
		out[priv] = true
	}
	return out
}

func (p *Policy) pvePrivileges(id auth.Authid, path string) PrivSet {
	owner := id.User().Authid()
	if id.IsToken() {
		privsep, ok := p.tokens[id.String()]
		if !ok {
			return PrivSet{}
		}
		if !privsep {
			return p.Privileges(owner, path)
		}
	}
	roles := p.resolve(id.String(), id.IsToken(), path)
	p.addPoolRoles(id, path, roles)
	privs := p.privsOf(roles)
	if id.IsToken() && !owner.IsRoot() {
		privs = intersect(privs, p.pvePrivileges(owner, path))
	}
	return privs
}

func (p *Policy) pbsPrivileges(id auth.Authid, path string) PrivSet {
	privs := p.privsOf(p.resolve(id.String(), id.IsToken(), path))
	if id.IsToken() {
		privs = intersect(privs, p.Privileges(id.User().Authid(), path))
	}
	return privs
}

// addPoolRoles merges into roles the roles id holds on the pools that
// contain path (PVE): pool roles never lift a NoAccess, a pool NoAccess
// replaces everything, other pool roles are added unpropagated.
func (p *Policy) addPoolRoles(id auth.Authid, path string, roles roleFlags) {
	pools := p.poolsContaining(path)
	if len(pools) == 0 {
		return
	}
	poolRoles := map[string]bool{}
	for _, name := range pools {
		for r := range p.resolve(id.String(), id.IsToken(), "/pool/"+name) {
			poolRoles[r] = true
		}
	}
	if len(poolRoles) == 0 {
		return
	}
	if _, ok := roles[RoleNoAccess]; ok {
		return
	}
	if poolRoles[RoleNoAccess] {
		clear(roles)
		roles[RoleNoAccess] = false
		return
	}
	for r := range poolRoles {
		if _, ok := roles[r]; !ok {
			roles[r] = false
		}
	}
}

// poolsContaining returns the pools whose members make path a pool path:
// exactly "/vms/<vmid>" (decimal as PVE prints it) or "/storage/<id>".
func (p *Policy) poolsContaining(path string) []string {
	if len(p.pools) == 0 {
		return nil
	}
	if rest, ok := strings.CutPrefix(path, "/vms/"); ok {
		vmid, err := strconv.Atoi(rest)
		if err != nil || strconv.Itoa(vmid) != rest {
			return nil
		}
		if name, ok := p.vmPool[vmid]; ok {
			return []string{name}
		}
		return nil
	}
	if store, ok := strings.CutPrefix(path, "/storage/"); ok {
		var out []string
		for name, pl := range p.pools {
			for _, s := range pl.storages {
				if s == store {
					out = append(out, name)
				}
			}
		}
		return out
	}
	return nil
}

// privsOf unions the privileges of roles; a privilege is propagated if any
// role granting it is.
func (p *Policy) privsOf(roles roleFlags) PrivSet {
	out := PrivSet{}
	for r, prop := range roles {
		privs, _ := p.rolePrivs(r)
		for _, priv := range privs {
			out[priv] = out[priv] || prop
		}
	}
	return out
}

// intersect keeps the token privileges the owner also holds, flags ANDed.
func intersect(token, owner PrivSet) PrivSet {
	out := make(PrivSet, len(token))
	for priv, f := range token {
		if g, ok := owner[priv]; ok {
			out[priv] = f && g
		}
	}
	return out
}

// Check reports whether id holds all privs on path. On PBS a check also
// fails when id holds nothing at all there, as PBS's endpoint checks do;
// Check with no privileges is then "holds anything".
func (p *Policy) Check(id auth.Authid, path string, privs ...string) bool {
	set := p.Privileges(id, path)
	if p.product == auth.PBS && len(set) == 0 {
		return false
	}
	return set.Has(privs...)
}

// CheckAny reports whether id holds at least one of privs on path.
func (p *Policy) CheckAny(id auth.Authid, path string, privs ...string) bool {
	return p.Privileges(id, path).HasAny(privs...)
}

// AnyPrivsBelow reports whether id holds one of privs on path or on some
// path below it, the way PBS decides whether to show a datastore or
// namespace to a caller who may only see parts of it: a propagated
// privilege on path itself suffices, otherwise every ACL node below path
// where id has entries of its own (or, on PVE, through a group) is checked.
func (p *Policy) AnyPrivsBelow(id auth.Authid, path string, privs ...string) bool {
	set := p.Privileges(id, path)
	for _, priv := range privs {
		if set[priv] {
			return true
		}
	}
	if id.IsRoot() {
		return false
	}
	base := joinPath(splitPath(path))
	subject := id.String()
	for _, child := range p.treePaths() {
		if child == base || !isAtOrBelow(child, base) {
			continue
		}
		n := p.nodes[child]
		if n == nil || len(p.applicable(n, subject, id.IsToken(), true)) == 0 {
			continue
		}
		if p.Privileges(id, child).HasAny(privs...) {
			return true
		}
	}
	return false
}

// Permissions returns what GET /access/permissions without a path shows
// for id: path -> privileges, over the paths the product reports (spec
// 6.4), leaving out paths where id holds nothing.
//
//   - PVE: /, /access, /access/groups, /nodes, /pool, /sdn, /storage, /vms,
//     every node of the ACL tree (every prefix of every entry's path, for
//     all subjects), and /vms/<vmid> and /storage/<id> of every pool member;
//   - PBS: /, /access, /datastore, /remote, /system and every node of the
//     ACL tree.
func (p *Policy) Permissions(id auth.Authid) map[string]PrivSet {
	paths := map[string]bool{}
	for _, path := range p.treePaths() {
		paths[path] = true
	}
	if p.product == auth.PBS {
		for _, path := range []string{"/", "/access", "/datastore", "/remote", "/system"} {
			paths[path] = true
		}
	} else {
		for _, path := range []string{"/", "/access", "/access/groups", "/nodes", "/pool", "/sdn", "/storage", "/vms"} {
			paths[path] = true
		}
		for _, pl := range p.pools {
			for _, vmid := range pl.vms {
				paths["/vms/"+strconv.Itoa(vmid)] = true
			}
			for _, s := range pl.storages {
				paths["/storage/"+s] = true
			}
		}
	}
	out := map[string]PrivSet{}
	for path := range maps.Keys(paths) {
		if set := p.Privileges(id, path); len(set) > 0 {
			out[path] = set
		}
	}
	return out
}
