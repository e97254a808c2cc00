package datastore

import (
	"strconv"
	"strings"
)

// Namespace limits (pbs-api-types): at most 7 levels below the root, and
// the components joined with "/" at most 256 bytes long.
const (
	MaxNamespaceDepth  = 7
	MaxNamespaceLength = 256
)

// Namespace is a datastore namespace, a path of up to 7 SAFE_ID components
// written "a/b/c"; the zero value is the root namespace (""). Namespaces
// are comparable and can be map keys.
type Namespace struct {
	name string // components joined with "/"
}

// ParseNamespace parses "a/b" ("" is the root). Every component must be a
// SAFE_ID, there may be at most 7, and the joined name at most 256 bytes
// (checked like upstream, which already refuses a first component of 256).
func ParseNamespace(s string) (Namespace, error) {
	var ns Namespace
	if s == "" {
		return ns, nil
	}
	for _, c := range strings.Split(s, "/") {
		var err error
		if ns, err = ns.Child(c); err != nil {
			return Namespace{}, err
		}
	}
	return ns, nil
}

// String returns the components joined with "/" ("" for the root).
func (ns Namespace) String() string { return ns.name }

// IsRoot reports whether ns is the root namespace.
func (ns Namespace) IsRoot() bool { return ns.name == "" }

// Components returns the path components, none for the root.
func (ns Namespace) Components() []string {
	if ns.name == "" {
		return nil
	}
	return strings.Split(ns.name, "/")
}

// Depth returns the number of components (0 for the root).
func (ns Namespace) Depth() int {
	if ns.name == "" {
		return 0
	}
	return strings.Count(ns.name, "/") + 1
}

// Parent returns the namespace one level up; the root's parent is the root.
func (ns Namespace) Parent() Namespace {
	i := strings.LastIndexByte(ns.name, '/')
	if i < 0 {
		return Namespace{}
	}
	return Namespace{name: ns.name[:i]}
}

// Child returns the namespace name below ns. name must be a single SAFE_ID
// component and the result must respect the depth and length limits.
func (ns Namespace) Child(name string) (Namespace, error) {
	if strings.Contains(name, "/") {
		return Namespace{}, nameErr("namespace", "component "+strconv.Quote(name)+" contains a slash")
	}
	if d := ns.Depth(); d >= MaxNamespaceDepth {
		return Namespace{}, nameErr("namespace", "more than "+strconv.Itoa(MaxNamespaceDepth)+" levels")
	}
	// Upstream counts a separator even before the first component.
	if len(ns.name)+len(name)+1 > MaxNamespaceLength {
		return Namespace{}, nameErr("namespace", "longer than "+strconv.Itoa(MaxNamespaceLength)+" bytes")
	}
	if !nameSafeID(name) {
		return Namespace{}, nameErr("namespace", "invalid component "+strconv.Quote(name))
	}
	if ns.name == "" {
		return Namespace{name: name}, nil
	}
	return Namespace{name: ns.name + "/" + name}, nil
}

// Contains reports whether other is ns or lies below it.
func (ns Namespace) Contains(other Namespace) bool {
	return ns.name == "" || other.name == ns.name || strings.HasPrefix(other.name, ns.name+"/")
}

// DirPath returns the namespace's directory relative to the datastore
// base: "ns/a/ns/b" for "a/b", "" for the root.
func (ns Namespace) DirPath() string {
	if ns.name == "" {
		return ""
	}
	return "ns/" + strings.ReplaceAll(ns.name, "/", "/ns/")
}

// ACLPath returns the ACL path of the namespace in datastore store:
// "/datastore/<store>" for the root, "/datastore/<store>/a/b" below it.
func (ns Namespace) ACLPath(store string) string {
	if ns.name == "" {
		return "/datastore/" + store
	}
	return "/datastore/" + store + "/" + ns.name
}
