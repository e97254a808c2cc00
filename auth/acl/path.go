package acl

import (
	"fmt"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// pbsMaxPathLen is the length limit of PBS's ACL path parameter.
const pbsMaxPathLen = 128

// pbsMaxNamespaceDepth is how many namespace levels PBS allows below a
// datastore (and therefore in /datastore/{store}/{ns}... ACL paths).
const pbsMaxNamespaceDepth = 7

// NormalizePath returns the canonical form of an ACL path, or a *PathError.
//
// PVE normalizes as its server does on every ACL update and permission
// check: runs of '/' collapse, one trailing '/' is dropped, a leading '/'
// is added, and the result may only contain ASCII letters, digits, '.',
// '-', '_' and '/'. "" is invalid, and so is "0" (PVE's Perl code treats
// that string as false).
//
// PBS does not normalize: the path must already be "/" or a sequence of
// "/component" where each component is a safe id (first character a letter,
// digit or '_', then letters, digits, '.', '_' or '-'), at most 128
// characters, without trailing or doubled slashes. It is returned unchanged.
func NormalizePath(p auth.Product, path string) (string, error) {
	if p == auth.PBS {
		return path, checkPBSSyntax(path)
	}
	return normalizePVE(path)
}

func normalizePVE(path string) (string, error) {
	if path == "" || path == "0" {
		return "", pathErr(auth.PVE, path, "empty path")
	}
	var b strings.Builder
	b.Grow(len(path) + 1)
	if path[0] != '/' {
		b.WriteByte('/')
	}
	prevSlash := false
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '/' {
			if prevSlash {
				continue
			}
			prevSlash = true
		} else {
			if !isPVEPathChar(c) {
				return "", pathErr(auth.PVE, path, fmt.Sprintf("character %q not allowed (only letters, digits, '.', '-', '_' and '/')", c))
			}
			prevSlash = false
		}
		b.WriteByte(c)
	}
	out := b.String()
	if len(out) > 1 && out[len(out)-1] == '/' {
		out = out[:len(out)-1]
	}
	return out, nil
}

func isPVEPathChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '-' || c == '_'
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func checkPBSSyntax(path string) error {
	switch {
	case path == "":
		return pathErr(auth.PBS, path, "empty path")
	case len(path) > pbsMaxPathLen:
		return pathErr(auth.PBS, path, fmt.Sprintf("longer than %d characters", pbsMaxPathLen))
	case path == "/":
		return nil
	case path[0] != '/':
		return pathErr(auth.PBS, path, "must start with '/' (PBS does not normalize ACL paths)")
	case path[len(path)-1] == '/':
		return pathErr(auth.PBS, path, "trailing '/' (PBS does not normalize ACL paths)")
	}
	for _, comp := range strings.Split(path[1:], "/") {
		if reason := safeIDProblem(comp); reason != "" {
			return pathErr(auth.PBS, path, reason)
		}
	}
	return nil
}

// safeIDProblem describes why comp is not a PBS safe id, or returns "".
func safeIDProblem(comp string) string {
	if comp == "" {
		return "empty component ('//'; PBS does not normalize ACL paths)"
	}
	for i := 0; i < len(comp); i++ {
		c := comp[i]
		if isAlnum(c) || c == '_' || i > 0 && (c == '.' || c == '-') {
			continue
		}
		if i == 0 {
			return fmt.Sprintf("component %q must start with a letter, digit or '_'", comp)
		}
		return fmt.Sprintf("component %q may only contain letters, digits, '.', '_' and '-', not %q", comp, c)
	}
	return ""
}

// ValidatePath applies the rules a server applies when an ACL entry is
// added (not when one is deleted): the path must normalize (see
// NormalizePath) and name an object kind the product knows, such as
// /vms/{vmid} or /datastore/{store}/{namespace...}. The *PathError says
// which part is wrong and what was expected.
func ValidatePath(p auth.Product, path string) error {
	norm, err := NormalizePath(p, path)
	if err != nil {
		return err
	}
	comps := splitPath(norm)
	var reason string
	if p == auth.PBS {
		reason = pbsStructure(comps)
	} else {
		reason = pveStructure(comps)
	}
	if reason != "" {
		return pathErr(p, path, reason)
	}
	return nil
}

// splitPath returns the components of a normalized path ("/" has none).
func splitPath(norm string) []string {
	if norm == "/" || norm == "" {
		return nil
	}
	return strings.Split(strings.Trim(norm, "/"), "/")
}

// joinPath is the inverse of splitPath.
func joinPath(comps []string) string {
	return "/" + strings.Join(comps, "/")
}

func tooDeep(prefix string, max int, form string) string {
	return fmt.Sprintf("too deep: %s takes at most %d more component(s) (%s)", prefix, max, form)
}

func unknownChild(prefix, got string, want ...string) string {
	return fmt.Sprintf("unknown component %q below %s; expected one of %s", got, prefix, strings.Join(want, ", "))
}

var pveTopLevel = []string{"access", "mapping", "nodes", "pool", "sdn", "storage", "vms"}

func pveStructure(c []string) string {
	if len(c) == 0 {
		return ""
	}
	switch c[0] {
	case "access":
		if len(c) == 1 {
			return ""
		}
		if c[1] != "groups" && c[1] != "realm" {
			return unknownChild("/access", c[1], "groups", "realm")
		}
		if len(c) > 3 {
			return tooDeep("/access/"+c[1], 1, "/access/"+c[1]+"/{id}")
		}
		return ""
	case "nodes", "storage":
		if len(c) > 2 {
			return tooDeep("/"+c[0], 1, "/"+c[0]+"/{id}")
		}
		return ""
	case "pool":
		if len(c) > 4 {
			return tooDeep("/pool", 3, "nested pools /pool/{pool}[/{sub}[/{sub2}]], max 3 levels")
		}
		return ""
	case "vms":
		if len(c) > 2 {
			return tooDeep("/vms", 1, "/vms/{vmid}")
		}
		if len(c) == 2 && !isVMID(c[1]) {
			return fmt.Sprintf("%q is not a VM id (decimal, no leading zero, >= 100)", c[1])
		}
		return ""
	case "mapping":
		if len(c) > 3 {
			return tooDeep("/mapping", 2, "/mapping/{type}/{id}")
		}
		return ""
	case "sdn":
		return pveSDN(c)
	}
	return unknownChild("/", c[0], pveTopLevel...)
}

// pveSDNIDChars says which characters each SDN object id may use.
var pveSDNIDChars = map[string]func(byte) bool{
	"controllers":  func(c byte) bool { return isAlnum(c) || c == '_' || c == '-' },
	"dns":          isAlnum,
	"fabrics":      isAlnum,
	"ipams":        isAlnum,
	"prefix-lists": isAlnum,
	"route-maps":   isAlnum,
}

func pveSDN(c []string) string {
	if len(c) == 1 {
		return ""
	}
	kind := c[1]
	if kind == "zones" {
		switch {
		case len(c) > 5:
			return tooDeep("/sdn/zones", 3, "/sdn/zones/{zone}/{vnet}/{vlan}")
		case len(c) == 5 && !isVLAN(c[4]):
			return fmt.Sprintf("%q is not a VLAN tag (1..9999, no leading zero)", c[4])
		}
		return ""
	}
	ok, known := pveSDNIDChars[kind]
	if !known {
		return unknownChild("/sdn", kind, "controllers", "dns", "fabrics", "ipams", "prefix-lists", "route-maps", "zones")
	}
	if len(c) > 3 {
		return tooDeep("/sdn/"+kind, 1, "/sdn/"+kind+"/{id}")
	}
	if len(c) == 3 {
		for i := 0; i < len(c[2]); i++ {
			if !ok(c[2][i]) {
				if kind == "controllers" {
					return fmt.Sprintf("SDN controller id %q may only contain letters, digits, '_' and '-'", c[2])
				}
				return fmt.Sprintf("SDN %s id %q may only contain letters and digits", kind, c[2])
			}
		}
	}
	return ""
}

// isVMID matches PVE's [1-9][0-9]{2,}.
func isVMID(s string) bool {
	return len(s) >= 3 && isDecimalNoLeadingZero(s)
}

// isVLAN matches PVE's [1-9][0-9]{0,3}.
func isVLAN(s string) bool {
	return len(s) <= 4 && isDecimalNoLeadingZero(s)
}

func isDecimalNoLeadingZero(s string) bool {
	if s == "" || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var pbsTopLevel = []string{"access", "datastore", "remote", "system", "tape"}

func pbsStructure(c []string) string {
	if len(c) == 0 {
		return ""
	}
	switch c[0] {
	case "access":
		return pbsAccess(c)
	case "datastore":
		if len(c) > 2+pbsMaxNamespaceDepth {
			return tooDeep("/datastore", 1+pbsMaxNamespaceDepth, fmt.Sprintf("/datastore/{store}/{ns}..., at most %d namespace levels", pbsMaxNamespaceDepth))
		}
		return ""
	case "remote":
		if len(c) > 3 {
			return tooDeep("/remote", 2, "/remote/{remote}/{store}")
		}
		return ""
	case "system":
		return pbsSystem(c)
	case "tape":
		if len(c) == 1 {
			return ""
		}
		switch c[1] {
		case "device", "pool", "job":
			if len(c) > 3 {
				return tooDeep("/tape/"+c[1], 1, "/tape/"+c[1]+"/{name}")
			}
			return ""
		}
		return unknownChild("/tape", c[1], "device", "job", "pool")
	}
	return unknownChild("/", c[0], pbsTopLevel...)
}

func pbsAccess(c []string) string {
	if len(c) == 1 {
		return ""
	}
	switch c[1] {
	case "acl", "users", "domains":
		if len(c) > 2 {
			return tooDeep("/access/"+c[1], 0, "no components below it")
		}
		return ""
	case "openid":
		if len(c) > 3 {
			return tooDeep("/access/openid", 1, "/access/openid/{endpoint}")
		}
		return ""
	}
	return unknownChild("/access", c[1], "acl", "domains", "openid", "users")
}

func pbsSystem(c []string) string {
	if len(c) == 1 {
		return ""
	}
	switch c[1] {
	case "certificates", "disks", "log", "notifications", "status", "tasks", "time":
		if len(c) > 2 {
			return tooDeep("/system/"+c[1], 0, "no components below it")
		}
		return ""
	case "services":
		if len(c) > 3 {
			return tooDeep("/system/services", 1, "/system/services/{service}")
		}
		return ""
	case "network":
		switch {
		case len(c) == 2:
			return ""
		case c[2] == "dns":
			if len(c) > 3 {
				return tooDeep("/system/network/dns", 0, "no components below it")
			}
			return ""
		case c[2] == "interfaces":
			if len(c) > 4 {
				return tooDeep("/system/network/interfaces", 1, "/system/network/interfaces/{iface}")
			}
			return ""
		}
		return unknownChild("/system/network", c[2], "dns", "interfaces")
	}
	return unknownChild("/system", c[1], "certificates", "disks", "log", "network", "notifications", "services", "status", "tasks", "time")
}
