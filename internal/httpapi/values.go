package httpapi

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// DeleteParam is the parameter both products use to remove optional
// settings in update calls ("delete": a list of property names).
const DeleteParam = "delete"

// field is one parameter. Lists keep their items so that the product
// decides how they travel (comma-joined for PVE, repeated keys for PBS).
type field struct {
	key    string
	vals   []string
	list   bool
	secret bool
}

// Values holds request parameters in the order they were set. Scalars are
// sent as key=value; lists (SetList, AddDelete) are comma-joined for PVE
// and sent as repeated keys for PBS. Values set with SetSecret are sent as
// is but shown as "[redacted]" by String and every fmt verb. The zero value
// is an empty, ready-to-use set.
type Values struct {
	fields []field
}

func (v *Values) index(key string) int {
	for i := range v.fields {
		if v.fields[i].key == key {
			return i
		}
	}
	return -1
}

// put replaces the parameter key, keeping its position, or appends it.
func (v *Values) put(f field) {
	if i := v.index(f.key); i >= 0 {
		v.fields[i] = f
		return
	}
	v.fields = append(v.fields, f)
}

// Set sets key to value, replacing an earlier value.
func (v *Values) Set(key, value string) { v.put(field{key: key, vals: []string{value}}) }

// SetInt sets key to the decimal form of n.
func (v *Values) SetInt(key string, n int64) { v.Set(key, strconv.FormatInt(n, 10)) }

// SetBool sets key to "1" or "0", the boolean form both products accept
// (PVE refuses "true" in form data).
func (v *Values) SetBool(key string, b bool) {
	if b {
		v.Set(key, "1")
	} else {
		v.Set(key, "0")
	}
}

// SetSecret sets key to the revealed value of s. The value is sent to the
// server but never shown by String, fmt or error messages of this package.
func (v *Values) SetSecret(key string, s auth.Secret) {
	v.put(field{key: key, vals: []string{s.Reveal()}, secret: true})
}

// SetList sets key to a list. PVE receives one comma-joined value (an
// empty list is sent as key="", which PVE reads as "clear", e.g. a user's
// groups); PBS receives the key once per item (an empty list sends
// nothing, as form encoding cannot express an empty array).
func (v *Values) SetList(key string, items []string) {
	v.put(field{key: key, vals: append([]string(nil), items...), list: true})
}

// AddDelete adds property names to the "delete" list of an update call,
// skipping names already listed.
func (v *Values) AddDelete(names ...string) {
	i := v.index(DeleteParam)
	if i < 0 {
		v.fields = append(v.fields, field{key: DeleteParam, list: true})
		i = len(v.fields) - 1
	}
	f := &v.fields[i]
	f.list = true
	for _, n := range names {
		if !contains(f.vals, n) {
			f.vals = append(f.vals, n)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Del removes key.
func (v *Values) Del(key string) {
	if i := v.index(key); i >= 0 {
		v.fields = append(v.fields[:i], v.fields[i+1:]...)
	}
}

// Has reports whether key is set.
func (v Values) Has(key string) bool { return v.index(key) >= 0 }

// Get returns the value of key as PVE would receive it (list items
// comma-joined) and whether it is set. Secrets are returned revealed, as
// this is what goes on the wire; do not log the result.
func (v Values) Get(key string) (string, bool) {
	i := v.index(key)
	if i < 0 {
		return "", false
	}
	return strings.Join(v.fields[i].vals, ","), true
}

// List returns the items of key (one item for a scalar).
func (v Values) List(key string) []string {
	if i := v.index(key); i >= 0 {
		return append([]string(nil), v.fields[i].vals...)
	}
	return nil
}

// Keys returns the parameter names in order.
func (v Values) Keys() []string {
	keys := make([]string, len(v.fields))
	for i, f := range v.fields {
		keys[i] = f.key
	}
	return keys
}

// Len returns the number of parameters.
func (v Values) Len() int { return len(v.fields) }

// Merge sets every parameter of o in v, replacing parameters of the same
// name.
func (v *Values) Merge(o Values) {
	for _, f := range o.fields {
		f.vals = append([]string(nil), f.vals...)
		v.put(f)
	}
}

// Encode returns the parameters in application/x-www-form-urlencoded form
// for product p, in the order they were set. This is the only place where
// secret values leave the set.
func (v Values) Encode(p auth.Product) string {
	var b strings.Builder
	add := func(k, val string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escape(k, ""))
		b.WriteByte('=')
		b.WriteString(escape(val, ""))
	}
	for _, f := range v.fields {
		switch {
		case !f.list:
			add(f.key, f.vals[0])
		case p == auth.PBS:
			for _, item := range f.vals {
				add(f.key, item)
			}
		default:
			add(f.key, strings.Join(f.vals, ","))
		}
	}
	return b.String()
}

// String shows the parameters like a query string with secret values
// replaced by "[redacted]", for debugging.
func (v Values) String() string {
	var b strings.Builder
	for i, f := range v.fields {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(f.key)
		b.WriteByte('=')
		if f.secret {
			b.WriteString("[redacted]")
		} else {
			b.WriteString(strings.Join(f.vals, ","))
		}
	}
	return b.String()
}

// GoString is String, so that %#v does not print secret values either.
func (v Values) GoString() string { return "httpapi.Values{" + v.String() + "}" }

// Format implements fmt.Formatter so that every verb prints String.
func (v Values) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(v.String())) }

// secrets returns the secret values, so that error texts echoing them can
// be scrubbed.
func (v Values) secrets() []string {
	var s []string
	for _, f := range v.fields {
		if f.secret && f.vals[0] != "" {
			s = append(s, f.vals[0])
		}
	}
	return s
}
