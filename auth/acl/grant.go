package acl

import (
	"cmp"
	"slices"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// canonical checks an entry's path and subject and returns their canonical
// forms (normalized path, re-rendered id).
func (p *Policy) canonical(e Entry) (path, subject string, err error) {
	path, err = NormalizePath(p.product, e.Path)
	if err != nil {
		return "", "", err
	}
	switch e.Type {
	case User:
		u, err := auth.ParseUserid(e.Subject)
		if err != nil {
			return "", "", &ConfigError{Err: ErrInvalidSubject, Name: e.Subject, Message: "user entry: " + err.Error()}
		}
		return path, u.String(), nil
	case Token:
		id, err := auth.ParseAuthid(e.Subject)
		if err != nil {
			return "", "", &ConfigError{Err: ErrInvalidSubject, Name: e.Subject, Message: "token entry: " + err.Error()}
		}
		if !id.IsToken() {
			return "", "", configErr(ErrInvalidSubject, e.Subject, "token entry: '%s' is a user id, not an API token id (name@realm!token)", id)
		}
		return path, id.String(), nil
	case Group:
		if err := p.checkGroupID(e.Subject); err != nil {
			return "", "", err
		}
		return path, e.Subject, nil
	}
	return "", "", configErr(ErrInvalidSubject, e.Subject, "entry for '%s' has no subject type (User, Group or Token)", e.Subject)
}

// Grant adds an ACL entry with the product's storage rules:
//
//   - granting the same (path, subject, role) again overwrites its
//     propagate flag;
//   - entries for the user root@pam are accepted and not stored (both
//     servers skip them when writing their configuration; root@pam always
//     has every privilege), entries for root@pam's tokens are stored;
//   - PBS keeps NoAccess exclusive per (path, subject): granting NoAccess
//     removes the subject's other roles there, granting any other role
//     removes NoAccess;
//   - PVE entries for groups and tokens need the group (SetGroupMembers) or
//     token (SetToken) to exist; PBS stores group entries (they never grant
//     anything) and entries for tokens it has not been told about.
//
// The path must normalize (NormalizePath); whether it names a known object
// kind (ValidatePath) is the caller's check, because servers apply it only
// to API updates, not to entries read from their configuration.
func (p *Policy) Grant(e Entry) error {
	path, subject, err := p.canonical(e)
	if err != nil {
		return err
	}
	if _, ok := p.rolePrivs(e.Role); !ok {
		return configErr(ErrUnknownRole, e.Role, "role '%s' does not exist", e.Role)
	}
	if e.Type == User && subject == auth.RootUserid.String() {
		return nil
	}
	if p.product == auth.PVE {
		switch e.Type {
		case Group:
			if !p.HasGroup(subject) {
				return configErr(ErrUnknownGroup, subject, "group '%s' does not exist", subject)
			}
		case Token:
			if _, ok := p.tokens[subject]; !ok {
				return configErr(ErrUnknownToken, subject, "no such token '%s' for user '%s'", subject[len(tokenOwner(subject))+1:], tokenOwner(subject))
			}
		}
	}
	tab := p.node(path, true).table(e.Type)
	roles := tab[subject]
	if roles == nil {
		roles = roleFlags{}
		tab[subject] = roles
	}
	if p.product == auth.PBS {
		if e.Role == RoleNoAccess {
			clear(roles)
		} else {
			delete(roles, RoleNoAccess)
		}
	}
	roles[e.Role] = e.Propagate
	return nil
}

// Revoke removes an ACL entry (path, subject, role); removing one that does
// not exist is not an error, as on both servers. The path must normalize
// but need not name a known object kind.
func (p *Policy) Revoke(e Entry) error {
	path, subject, err := p.canonical(e)
	if err != nil {
		return err
	}
	n := p.node(path, false)
	if n == nil {
		return nil
	}
	tab := n.table(e.Type)
	if roles := tab[subject]; roles != nil {
		delete(roles, e.Role)
		if len(roles) == 0 {
			delete(tab, subject)
		}
	}
	if n.empty() {
		delete(p.nodes, path)
	}
	return nil
}

// Entries returns every stored entry in the order PVE's GET /access/acl
// uses: paths in tree order (components compared one by one, parents
// before children), then users, groups and tokens, each sorted by subject
// and role.
func (p *Policy) Entries() []Entry {
	return p.collect(func(string) bool { return true }, func(Entry) bool { return true })
}

// collect lists entries of the paths and rows the filters accept, in
// Entries order.
func (p *Policy) collect(pathOK func(string) bool, rowOK func(Entry) bool) []Entry {
	var out []Entry
	for _, path := range sortedPaths(p.nodes) {
		if !pathOK(path) {
			continue
		}
		n := p.nodes[path]
		for _, t := range []SubjectType{User, Group, Token} {
			tab := n.table(t)
			for _, s := range sortedKeys(tab) {
				for _, r := range sortedKeys(tab[s]) {
					e := Entry{Path: path, Type: t, Subject: s, Role: r, Propagate: tab[s][r]}
					if rowOK(e) {
						out = append(out, e)
					}
				}
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedPaths[V any](m map[string]V) []string {
	paths := sortedKeys(m)
	slices.SortFunc(paths, compareTreeOrder)
	return paths
}

// compareTreeOrder orders paths as a depth-first walk with sorted
// children: "/vms" < "/vms/100" < "/vms-x", unlike plain string order.
func compareTreeOrder(a, b string) int {
	ca, cb := splitPath(a), splitPath(b)
	for i := 0; i < len(ca) && i < len(cb); i++ {
		if c := strings.Compare(ca[i], cb[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(ca), len(cb))
}

// treePaths returns every node of the ACL tree: each entry's path and all
// its ancestors, "/" included, in tree order.
func (p *Policy) treePaths() []string {
	set := map[string]bool{"/": true}
	for path := range p.nodes {
		comps := splitPath(path)
		for i := 1; i <= len(comps); i++ {
			set[joinPath(comps[:i])] = true
		}
	}
	return sortedPaths(set)
}

// isAtOrBelow reports whether normalized path lies at or below base.
func isAtOrBelow(path, base string) bool {
	return base == "/" || path == base || strings.HasPrefix(path, base+"/")
}
