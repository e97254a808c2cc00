package acl

import (
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// The role tables are data taken from the servers, not code: they live in
// roles/*.json exactly as the shared specification ships them.
//
//go:embed roles/pve.json roles/pbs.json
var roleFiles embed.FS

// RoleNoAccess is the built-in role of both products that grants nothing
// and, when it applies at a path, removes every other role there.
const RoleNoAccess = "NoAccess"

// Built-in administrator roles: every privilege of the product.
const (
	RolePVEAdministrator = "Administrator"
	RolePBSAdmin         = "Admin"
)

// Privilege names the evaluator and the ACL rules need by name.
const (
	PrivPermissionsModify = "Permissions.Modify"
	PrivSysAudit          = "Sys.Audit"
	PrivSysModify         = "Sys.Modify"
	PrivVMAllocate        = "VM.Allocate"
	PrivDatastoreAllocate = "Datastore.Allocate"
	PrivPoolAllocate      = "Pool.Allocate"
)

// productTables is one product's immutable role and privilege data.
type productTables struct {
	roles      map[string][]string // role -> sorted privilege names
	privileges []string            // canonical order (PVE sorted, PBS bit order)
	privSet    map[string]bool
	bits       map[string]uint64 // PBS >= 3.3
	bits32     map[string]uint64 // PBS <= 3.2
}

// tables is built once from embedded data and never modified afterwards.
var tables = loadTables()

func loadTables() map[auth.Product]*productTables {
	pve, err := loadPVE()
	if err != nil {
		panic(err) // embedded data is part of the build; tests cover it
	}
	pbs, err := loadPBS()
	if err != nil {
		panic(err)
	}
	return map[auth.Product]*productTables{auth.PVE: pve, auth.PBS: pbs}
}

func loadPVE() (*productTables, error) {
	raw, err := roleFiles.ReadFile("roles/pve.json")
	if err != nil {
		return nil, err
	}
	var roles map[string][]string
	if err := json.Unmarshal(raw, &roles); err != nil {
		return nil, fmt.Errorf("acl: roles/pve.json: %w", err)
	}
	admin, ok := roles[RolePVEAdministrator]
	if !ok {
		return nil, fmt.Errorf("acl: roles/pve.json lacks %s", RolePVEAdministrator)
	}
	t := &productTables{roles: roles, privileges: slices.Sorted(slices.Values(admin))}
	t.privSet = setOf(t.privileges)
	return t, t.check()
}

func loadPBS() (*productTables, error) {
	raw, err := roleFiles.ReadFile("roles/pbs.json")
	if err != nil {
		return nil, err
	}
	var data struct {
		Roles  map[string][]string `json:"roles"`
		Bits   map[string]uint64   `json:"privileges"`
		Bits32 map[string]uint64   `json:"privileges_pbs_3_2"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, fmt.Errorf("acl: roles/pbs.json: %w", err)
	}
	names := slices.Collect(maps.Keys(data.Bits))
	sort.Slice(names, func(i, j int) bool { return data.Bits[names[i]] < data.Bits[names[j]] })
	t := &productTables{roles: data.Roles, privileges: names, bits: data.Bits, bits32: data.Bits32}
	t.privSet = setOf(names)
	return t, t.check()
}

// check keeps a broken data file from turning into silent wrong answers.
func (t *productTables) check() error {
	if _, ok := t.roles[RoleNoAccess]; !ok {
		return fmt.Errorf("acl: role table lacks %s", RoleNoAccess)
	}
	for role, privs := range t.roles {
		for _, p := range privs {
			if !t.privSet[p] {
				return fmt.Errorf("acl: role %s names unknown privilege %s", role, p)
			}
		}
		slices.Sort(privs)
	}
	return nil
}

func setOf(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func tablesFor(p auth.Product) *productTables {
	if t, ok := tables[p]; ok {
		return t
	}
	return tables[auth.PVE]
}

// BuiltinRoles returns the built-in roles of product p (PVE 9.x, PBS 3.3+):
// role name -> sorted privilege names. The result is a fresh copy.
// An unknown product is treated as PVE.
func BuiltinRoles(p auth.Product) map[string][]string {
	t := tablesFor(p)
	out := make(map[string][]string, len(t.roles))
	for r, privs := range t.roles {
		out[r] = slices.Clone(privs)
	}
	return out
}

// IsBuiltinRole reports whether role is one of product p's built-in
// ("special") roles, which cannot be modified or deleted.
func IsBuiltinRole(p auth.Product, role string) bool {
	_, ok := tablesFor(p).roles[role]
	return ok
}

// AllPrivileges lists every privilege of product p: PVE's 47 in sorted
// order, PBS's in bit order (the order PBS lists them in).
func AllPrivileges(p auth.Product) []string {
	return slices.Clone(tablesFor(p).privileges)
}

// SortPrivileges sorts names in place in product p's canonical order (the
// order AllPrivileges uses: alphabetical on PVE, bit order on PBS, which is
// how PBS lists a role's privileges); unknown names go last, alphabetically.
func SortPrivileges(p auth.Product, names []string) {
	t := tablesFor(p)
	rank := func(n string) int {
		if i := slices.Index(t.privileges, n); i >= 0 {
			return i
		}
		return len(t.privileges)
	}
	slices.SortStableFunc(names, func(a, b string) int {
		if c := rank(a) - rank(b); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}

// IsPrivilege reports whether name is a privilege of product p.
func IsPrivilege(p auth.Product, name string) bool {
	return tablesFor(p).privSet[name]
}

// PBSPrivilegeBit returns the bit value of a PBS privilege in the servers'
// 64-bit masks: the PBS >= 3.3 value, or with v3_2 the value PBS <= 3.2 used.
// PBS 3.3 inserted three privileges in the middle and shifted everything
// after them, so raw masks must never be stored or exchanged; this package
// works with names only and offers the bits for documentation and for
// converting masks seen in logs or old tooling. ok is false for names that
// do not exist in that version.
func PBSPrivilegeBit(name string, v3_2 bool) (bit uint64, ok bool) {
	t := tables[auth.PBS]
	if v3_2 {
		bit, ok = t.bits32[name]
	} else {
		bit, ok = t.bits[name]
	}
	return bit, ok
}

// PBSPrivilegeNames decodes a PBS privilege mask into names in bit order,
// using the >= 3.3 bit values or, with v3_2, those of PBS <= 3.2. Bits that
// name no privilege (Admin's mask has all 64 set) are ignored.
func PBSPrivilegeNames(mask uint64, v3_2 bool) []string {
	t := tables[auth.PBS]
	bits := t.bits
	if v3_2 {
		bits = t.bits32
	}
	var out []string
	for _, name := range t.privileges {
		if b, ok := bits[name]; ok && mask&b != 0 {
			out = append(out, name)
		}
	}
	return out
}
