package acl

import (
	"maps"
	"slices"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// SubjectType is the kind of subject an ACL entry names.
type SubjectType int

const (
	// User entries name a user id (name@realm).
	User SubjectType = iota + 1
	// Group entries name a group id. PVE applies them to members; PBS stores
	// them but never applies them (it has no group membership).
	Group
	// Token entries name a full API token id (name@realm!token). PBS lists
	// them with ugid_type "user".
	Token
)

// String returns "user", "group" or "token", the names PVE uses in the
// "type" field of GET /access/acl.
func (t SubjectType) String() string {
	switch t {
	case User:
		return "user"
	case Group:
		return "group"
	case Token:
		return "token"
	}
	return "unknown"
}

// ParseSubjectType is the inverse of String: "user", "group" or "token",
// the "type" of an ACL row in PVE's answers and in the mocks' state files.
func ParseSubjectType(s string) (SubjectType, bool) {
	for _, t := range []SubjectType{User, Group, Token} {
		if t.String() == s {
			return t, true
		}
	}
	return 0, false
}

// Entry is one ACL row: on Path, Subject (of Type) holds Role, inherited
// below Path when Propagate is set.
type Entry struct {
	Path      string
	Type      SubjectType
	Subject   string // user id, group id or full token id
	Role      string
	Propagate bool
}

// EntryFor builds the entry for an auth id, choosing User or Token from it
// (PBS's PUT /access/acl takes either in one "auth-id" parameter).
func EntryFor(path string, id auth.Authid, role string, propagate bool) Entry {
	t := User
	if id.IsToken() {
		t = Token
	}
	return Entry{Path: path, Type: t, Subject: id.String(), Role: role, Propagate: propagate}
}

// roleFlags maps role -> propagate flag for one subject on one node.
type roleFlags map[string]bool

// aclNode holds the entries of one path.
type aclNode struct {
	users  map[string]roleFlags
	groups map[string]roleFlags
	tokens map[string]roleFlags
}

func (n *aclNode) table(t SubjectType) map[string]roleFlags {
	switch t {
	case User:
		return n.users
	case Group:
		return n.groups
	}
	return n.tokens
}

func (n *aclNode) empty() bool {
	return len(n.users) == 0 && len(n.groups) == 0 && len(n.tokens) == 0
}

// pool is a PVE resource pool: the VMs and storages whose paths receive the
// roles held on /pool/<name>.
type pool struct {
	vms      []int
	storages []string
}

// Policy is the access-control state of one server: ACL entries, custom
// roles (PVE), group memberships (PVE), API tokens and their privilege
// separation (PVE), and resource pools (PVE). It evaluates effective
// privileges exactly as the product's server does.
//
// The evaluator reads the state; the mock servers mutate it through the
// methods below, which apply each product's storage rules. Evaluation
// only reads, so any number of goroutines may evaluate at once; a change
// needs exclusive access (a server guards the policy with a sync.RWMutex,
// or changes a Clone and swaps it in).
type Policy struct {
	product auth.Product
	custom  map[string][]string        // PVE custom roles -> sorted privileges
	nodes   map[string]*aclNode        // normalized path -> entries
	groups  map[string]map[string]bool // PVE group -> member user ids
	tokens  map[string]bool            // full token id -> privsep
	pools   map[string]*pool           // PVE pool name -> members
	vmPool  map[int]string             // PVE vmid -> its only pool
}

// NewPolicy returns an empty policy for product p (auth.PVE or auth.PBS;
// anything else is treated as PVE). Only the built-in roles exist and
// root@pam is the only subject with privileges.
func NewPolicy(p auth.Product) *Policy {
	if p != auth.PBS {
		p = auth.PVE
	}
	return &Policy{
		product: p,
		custom:  map[string][]string{},
		nodes:   map[string]*aclNode{},
		groups:  map[string]map[string]bool{},
		tokens:  map[string]bool{},
		pools:   map[string]*pool{},
		vmPool:  map[int]string{},
	}
}

// Product returns the product whose rules the policy applies.
func (p *Policy) Product() auth.Product { return p.product }

// Clone returns a deep, independent copy.
func (p *Policy) Clone() *Policy {
	c := NewPolicy(p.product)
	for r, privs := range p.custom {
		c.custom[r] = slices.Clone(privs)
	}
	for path, n := range p.nodes {
		c.nodes[path] = &aclNode{users: cloneTable(n.users), groups: cloneTable(n.groups), tokens: cloneTable(n.tokens)}
	}
	for g, m := range p.groups {
		c.groups[g] = maps.Clone(m)
	}
	maps.Copy(c.tokens, p.tokens)
	for name, pl := range p.pools {
		c.pools[name] = &pool{vms: slices.Clone(pl.vms), storages: slices.Clone(pl.storages)}
	}
	maps.Copy(c.vmPool, p.vmPool)
	return c
}

func cloneTable(t map[string]roleFlags) map[string]roleFlags {
	out := make(map[string]roleFlags, len(t))
	for s, r := range t {
		out[s] = maps.Clone(r)
	}
	return out
}

// node returns the entries of a normalized path, creating them if asked.
func (p *Policy) node(path string, create bool) *aclNode {
	n := p.nodes[path]
	if n == nil && create {
		n = &aclNode{users: map[string]roleFlags{}, groups: map[string]roleFlags{}, tokens: map[string]roleFlags{}}
		p.nodes[path] = n
	}
	return n
}

// removeSubjects deletes every entry whose subject matches, dropping nodes
// left empty (a server forgets empty nodes when it rereads its config).
func (p *Policy) removeSubjects(t SubjectType, match func(subject string) bool) {
	for path, n := range p.nodes {
		tab := n.table(t)
		for s := range tab {
			if match(s) {
				delete(tab, s)
			}
		}
		if n.empty() {
			delete(p.nodes, path)
		}
	}
}

// removeRole deletes every entry naming role.
func (p *Policy) removeRole(role string) {
	for path, n := range p.nodes {
		for _, tab := range []map[string]roleFlags{n.users, n.groups, n.tokens} {
			for s, roles := range tab {
				delete(roles, role)
				if len(roles) == 0 {
					delete(tab, s)
				}
			}
		}
		if n.empty() {
			delete(p.nodes, path)
		}
	}
}

// SetToken registers API token id (or updates it). On PVE privsep is the
// token's privilege-separation flag: with privsep the token is limited to
// its own ACL entries intersected with its owner's privileges, without it
// the token has exactly its owner's privileges and its own entries are
// ignored. PBS tokens are always separated and the flag is ignored. PVE
// accepts ACL entries only for registered tokens; PBS evaluates token
// entries whether or not the token is registered, as its server does.
func (p *Policy) SetToken(id auth.Authid, privsep bool) error {
	if !id.IsToken() {
		return configErr(ErrInvalidSubject, id.String(), "'%s' is not an API token id (name@realm!token)", id)
	}
	if p.product == auth.PBS {
		privsep = true
	}
	p.tokens[id.String()] = privsep
	return nil
}

// Token reports whether token id is registered and its privsep flag.
func (p *Policy) Token(id auth.Authid) (privsep, ok bool) {
	privsep, ok = p.tokens[id.String()]
	return privsep, ok
}

// Tokens returns the registered token ids, sorted.
func (p *Policy) Tokens() []string {
	return slices.Sorted(maps.Keys(p.tokens))
}

// RemoveToken unregisters token id and deletes every ACL entry naming it:
// PVE drops them when it next reads its config, and it is the recommended
// "clean" PBS behaviour (PBS 3.2.4 kept them; a mock reproducing that simply
// does not call RemoveToken).
func (p *Policy) RemoveToken(id auth.Authid) {
	s := id.String()
	delete(p.tokens, s)
	p.removeSubjects(Token, func(sub string) bool { return sub == s })
}

// tokenOwner returns the user id part of a canonical token id (user names
// may contain '!', the token separator is the last one).
func tokenOwner(tokenID string) string {
	if i := strings.LastIndexByte(tokenID, '!'); i >= 0 {
		return tokenID[:i]
	}
	return ""
}

// RemoveUser deletes user u from the policy: its ACL entries, its group
// memberships, its tokens and their ACL entries. This is PVE's user
// deletion and the clean PBS variant (PBS 3.2.4 left all of it in place).
func (p *Policy) RemoveUser(u auth.Userid) {
	s := u.String()
	p.removeSubjects(User, func(sub string) bool { return sub == s })
	p.removeSubjects(Token, func(sub string) bool { return tokenOwner(sub) == s })
	for t := range p.tokens {
		if tokenOwner(t) == s {
			delete(p.tokens, t)
		}
	}
	for _, members := range p.groups {
		delete(members, s)
	}
}
