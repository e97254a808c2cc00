package pve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The decoders below read the loosely typed values PVE's Perl server
// sends: booleans as 0/1 (sometimes as strings), epoch seconds, and id
// lists that are comma-joined strings in some answers and arrays in
// others. Each rejects what does not fit with an error, which the HTTP
// core reports as ErrMalformedResponse.

// flag is a PVE boolean: 0/1 (number or string), true/false or null.
type flag bool

// UnmarshalJSON accepts the shapes listed on flag.
func (f *flag) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "1", `"1"`, "true", `"true"`:
		*f = true
		return nil
	case "0", `"0"`, "false", `"false"`, "null", `""`:
		*f = false
		return nil
	}
	return fmt.Errorf("pve: boolean expected, got %.40s", b)
}

// optFlag is a PVE boolean that may be absent; absent means def.
type optFlag struct {
	set bool
	val flag
}

// UnmarshalJSON records that the field was present.
func (o *optFlag) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*o = optFlag{}
		return nil
	}
	o.set = true
	return o.val.UnmarshalJSON(b)
}

// or returns the value, or def when the field was absent or null.
func (o optFlag) or(def bool) bool {
	if !o.set {
		return def
	}
	return bool(o.val)
}

// epoch is a Unix time in seconds; 0 and null are the zero time.
type epoch int64

// UnmarshalJSON accepts what decodeInt does.
func (e *epoch) UnmarshalJSON(b []byte) error {
	n, err := decodeInt(b)
	if err != nil {
		return fmt.Errorf("pve: epoch seconds expected, got %.40s", bytes.TrimSpace(b))
	}
	*e = epoch(n)
	return nil
}

// time returns the zero time for 0, else the instant in UTC.
func (e epoch) time() time.Time {
	if e == 0 {
		return time.Time{}
	}
	return time.Unix(int64(e), 0).UTC()
}

// decodeInt reads an integer sent as a JSON number (also in exponent
// form, as Perl may print large numbers), as a decimal string, or null (0).
func decodeInt(b []byte) (int64, error) {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return 0, nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return 0, err
	}
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := n.Float64()
	if err != nil || f != float64(int64(f)) {
		return 0, fmt.Errorf("not an integer")
	}
	return int64(f), nil
}

// idList is a list of ids sent either as an array of strings or as one
// string joined with ',' (PVE's "-list" formats, which also allow ';' and
// spaces).
type idList []string

// UnmarshalJSON accepts an array or a joined string.
func (l *idList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*l = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = splitList(s)
		return nil
	}
	var items []string
	if err := json.Unmarshal(b, &items); err != nil {
		return fmt.Errorf("pve: list of ids expected, got %.40s", b)
	}
	*l = items
	return nil
}

// splitList splits a PVE list value at ',', ';' and whitespace, dropping
// empty items; "" is the empty list.
func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	if len(f) == 0 {
		return nil
	}
	return f
}

// Ptr returns a pointer to v, for the optional fields of update and
// create parameters: pve.Ptr(false), pve.Ptr("new comment").
func Ptr[T any](v T) *T { return &v }

// firstByte returns the first non-space byte of a JSON value, 0 if none.
func firstByte(b []byte) byte {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
