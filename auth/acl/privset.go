package acl

import (
	"slices"
	"strings"
)

// PrivSet is an effective privilege set: privilege name -> propagate flag.
// A privilege is held when its key is present; the flag says whether it
// was granted by a propagating entry (PVE shows it as 1/0 and PBS as
// true/false in GET /access/permissions, and PVE's ACL delegation rule
// looks at it). A nil PrivSet is the empty set.
type PrivSet map[string]bool

// Has reports whether every named privilege is held (true for none).
func (s PrivSet) Has(privs ...string) bool {
	for _, p := range privs {
		if _, ok := s[p]; !ok {
			return false
		}
	}
	return true
}

// HasAny reports whether at least one named privilege is held.
func (s PrivSet) HasAny(privs ...string) bool {
	for _, p := range privs {
		if _, ok := s[p]; ok {
			return true
		}
	}
	return false
}

// Names returns the held privileges in sorted order.
func (s PrivSet) Names() []string {
	out := make([]string, 0, len(s))
	for p := range s {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Propagated returns the held privileges whose flag is set, sorted.
func (s PrivSet) Propagated() []string {
	var out []string
	for p, f := range s {
		if f {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Equal reports whether s and o hold the same privileges with the same flags.
func (s PrivSet) Equal(o PrivSet) bool {
	if len(s) != len(o) {
		return false
	}
	for p, f := range s {
		if g, ok := o[p]; !ok || f != g {
			return false
		}
	}
	return true
}

// String renders the set as "A[1],B[0]" in sorted order, for messages and
// test failures.
func (s PrivSet) String() string {
	var b strings.Builder
	for i, p := range s.Names() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p)
		if s[p] {
			b.WriteString("[1]")
		} else {
			b.WriteString("[0]")
		}
	}
	return b.String()
}

// Clone returns an independent copy (nil stays nil).
func (s PrivSet) Clone() PrivSet {
	if s == nil {
		return nil
	}
	out := make(PrivSet, len(s))
	for p, f := range s {
		out[p] = f
	}
	return out
}
