package mockcore

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// Params holds a request's parameters as one product's server received
// them and converts them on access with that product's rules. Accessors
// never fail loudly: a bad, duplicated or missing value is recorded (one
// problem per parameter) and Err returns all of them at the end, so a
// handler reads what it needs and then checks once:
//
//	p.RejectUnknown("comment", "expire", "privsep")
//	comment, _ := p.String("comment")
//	privsep := p.BoolOr("privsep", true)
//	if err := p.Err(); err != nil { mockcore.WritePVEFailure(w, r, err); return }
//
// A Params is not safe for concurrent use.
type Params struct {
	product auth.Product
	// jsonBody: the parameters came from a JSON body (PBS JSON mode),
	// which changes some PBS message texts.
	jsonBody bool
	values   map[string]*paramValue
	order    []string
	errs     []FieldError
	failed   map[string]bool
}

// paramValue is one parameter: strings from a query, form or path, or a
// JSON value from a body.
type paramValue struct {
	strs []string
	raw  json.RawMessage // set when the value came from a JSON body
}

func newParams(p auth.Product) *Params {
	return &Params{product: p, values: map[string]*paramValue{}, failed: map[string]bool{}}
}

// NewParams builds Params of product p from string pairs, e.g. a query
// string parsed elsewhere; repeated keys keep all their values.
func NewParams(p auth.Product, values map[string][]string) *Params {
	ps := newParams(p)
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range values[k] {
			ps.addString(k, v)
		}
	}
	return ps
}

func (p *Params) addString(name, value string) {
	v := p.values[name]
	if v == nil {
		v = &paramValue{}
		p.values[name] = v
		p.order = append(p.order, name)
	}
	v.strs = append(v.strs, value)
}

func (p *Params) setJSON(name string, raw json.RawMessage) {
	if _, ok := p.values[name]; !ok {
		p.order = append(p.order, name)
	}
	p.values[name] = &paramValue{raw: raw}
}

// replace sets name to a single string, dropping earlier values (PVE query
// parameters over body ones).
func (p *Params) replace(name, value string) {
	if _, ok := p.values[name]; !ok {
		p.order = append(p.order, name)
	}
	p.values[name] = &paramValue{strs: []string{value}}
}

// Product returns the dialect of these parameters.
func (p *Params) Product() auth.Product { return p.product }

// Names returns the parameter names in the order first seen.
func (p *Params) Names() []string { return slices.Clone(p.order) }

// Has reports whether the parameter was given.
func (p *Params) Has(name string) bool {
	_, ok := p.values[name]
	return ok
}

// SetPath merges a parameter taken from the URL path (a {userid} segment)
// with the product's rule: PVE accepts the same value in path and body
// but records a conflict for a different one; PBS records "duplicate
// parameter." when a query or form parameter has the same name, and in
// JSON mode lets the path value win.
func (p *Params) SetPath(name, value string) {
	old, exists := p.values[name]
	switch {
	case !exists:
		p.replace(name, value)
	case p.product == auth.PVE:
		if s, ok := old.text(); !ok || s != value {
			p.Fail(name, PVEMsgPathConflict)
			return
		}
		p.replace(name, value)
	case p.jsonBody:
		p.replace(name, value)
	default:
		p.Fail(name, pbsMsgDuplicate)
	}
}

// text returns a single string value or a JSON string/number as text.
func (v *paramValue) text() (string, bool) {
	if v.raw == nil {
		if len(v.strs) != 1 {
			return "", false
		}
		return v.strs[0], true
	}
	switch jsonKind(v.raw) {
	case kindString:
		var s string
		if json.Unmarshal(v.raw, &s) == nil {
			return s, true
		}
	case kindNumber:
		return string(v.raw), true
	}
	return "", false
}

// Fail records a problem with a parameter (the first one per parameter is
// kept), for checks the handler does itself such as id formats.
func (p *Params) Fail(name, msg string) {
	if p.failed[name] {
		return
	}
	p.failed[name] = true
	p.errs = append(p.errs, FieldError{Param: name, Message: msg})
}

// Err returns the recorded problems as a *ParamError, or nil.
func (p *Params) Err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return &ParamError{Product: p.product, Errors: slices.Clone(p.errs)}
}

// Unknown returns the given parameters not in allowed, in the order seen.
func (p *Params) Unknown(allowed ...string) []string {
	var out []string
	for _, n := range p.order {
		if !slices.Contains(allowed, n) {
			out = append(out, n)
		}
	}
	return out
}

// RejectUnknown records an error for every parameter not in allowed, with
// the product's "additional properties" message.
func (p *Params) RejectUnknown(allowed ...string) {
	msg := PVEMsgUnknownParam
	if p.product == auth.PBS {
		msg = pbsMsgUnknown
		if p.jsonBody {
			msg = pbsMsgUnknownJSON
		}
	}
	for _, n := range p.Unknown(allowed...) {
		p.Fail(n, msg)
	}
}

// Require records an error for every missing parameter, with the
// product's "not optional" message.
func (p *Params) Require(names ...string) {
	msg := PVEMsgMissingParam
	if p.product == auth.PBS {
		msg = pbsMsgMissing
		if p.jsonBody {
			msg = pbsMsgMissingJSON
		}
	}
	for _, n := range names {
		if !p.Has(n) {
			p.Fail(n, msg)
		}
	}
}

// PBS message texts (proxmox-schema).
const (
	pbsMsgDuplicate   = "duplicate parameter."
	pbsMsgUnknown     = "schema does not allow additional properties."
	pbsMsgUnknownJSON = "schema does not allow additional properties"
	pbsMsgMissing     = "parameter is missing and it is not optional."
	pbsMsgMissingJSON = "property is missing and it is not optional"
	pbsMsgBool        = "Unable to parse boolean option."
	pbsMsgExpectStr   = "Expected string value."
	pbsMsgExpectBool  = "Expected boolean value."
	pbsMsgExpectInt   = "Expected integer value."
)

// single returns the one string value of a form/query parameter, recording
// a duplicate when it was repeated.
func (p *Params) single(name string, v *paramValue) (string, bool) {
	if len(v.strs) != 1 {
		if p.product == auth.PBS {
			p.Fail(name, pbsMsgDuplicate)
		} else {
			p.Fail(name, pveMsgDuplicateParam)
		}
		return "", false
	}
	return v.strs[0], true
}

// String returns a string parameter; ok is false when it is absent or
// invalid (then a problem is recorded).
func (p *Params) String(name string) (string, bool) {
	v, ok := p.values[name]
	if !ok {
		return "", false
	}
	if v.raw == nil {
		return p.single(name, v)
	}
	if p.product == auth.PBS {
		var s string
		if jsonKind(v.raw) != kindString || json.Unmarshal(v.raw, &s) != nil {
			p.Fail(name, pbsMsgExpectStr)
			return "", false
		}
		return s, true
	}
	switch jsonKind(v.raw) {
	case kindString, kindNumber:
		return v.text()
	case kindBool:
		if string(v.raw) == "true" {
			return "1", true
		}
		return "0", true
	}
	p.Fail(name, "type check ('string') failed - got "+jsonKindName(v.raw))
	return "", false
}

// StringOr returns the parameter or def when it is absent or invalid.
func (p *Params) StringOr(name, def string) string {
	if s, ok := p.String(name); ok {
		return s
	}
	return def
}

// Bool returns a boolean parameter. PVE form values must be 0 or 1 (true
// is rejected), JSON bodies may also use true/false; PBS accepts
// 1/0/true/false/yes/no/on/off in any case, and only JSON booleans in a
// JSON body.
func (p *Params) Bool(name string) (bool, bool) {
	v, ok := p.values[name]
	if !ok {
		return false, false
	}
	if v.raw != nil {
		return p.jsonBool(name, v.raw)
	}
	s, ok := p.single(name, v)
	if !ok {
		return false, false
	}
	if p.product == auth.PBS {
		switch strings.ToLower(s) {
		case "1", "on", "yes", "true":
			return true, true
		case "0", "off", "no", "false":
			return false, true
		}
		p.Fail(name, pbsMsgBool)
		return false, false
	}
	switch s {
	case "1":
		return true, true
	case "0":
		return false, true
	}
	p.Fail(name, "type check ('boolean') failed - got '"+s+"'")
	return false, false
}

func (p *Params) jsonBool(name string, raw json.RawMessage) (bool, bool) {
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	if p.product == auth.PVE {
		switch s, _ := (&paramValue{raw: raw}).text(); s {
		case "1":
			return true, true
		case "0":
			return false, true
		}
		p.Fail(name, "type check ('boolean') failed - got '"+jsonForMessage(raw)+"'")
		return false, false
	}
	p.Fail(name, pbsMsgExpectBool)
	return false, false
}

// BoolOr returns the parameter or def when it is absent or invalid.
func (p *Params) BoolOr(name string, def bool) bool {
	if b, ok := p.Bool(name); ok {
		return b
	}
	return def
}

var pveIntRE = regexp.MustCompile(`^[+-]?\d+$`)

// Int returns an integer parameter (64-bit).
func (p *Params) Int(name string) (int64, bool) {
	v, ok := p.values[name]
	if !ok {
		return 0, false
	}
	var s string
	if v.raw != nil {
		if p.product == auth.PBS {
			n, err := strconv.ParseInt(string(v.raw), 10, 64)
			if jsonKind(v.raw) != kindNumber || err != nil {
				p.Fail(name, pbsMsgExpectInt)
				return 0, false
			}
			return n, true
		}
		t, ok := v.text()
		if !ok {
			p.Fail(name, "type check ('integer') failed - got "+jsonKindName(v.raw))
			return 0, false
		}
		s = t
	} else if s, ok = p.single(name, v); !ok {
		return 0, false
	}
	if p.product == auth.PBS {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			p.Fail(name, rustParseIntMessage(s, err))
			return 0, false
		}
		return n, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if !pveIntRE.MatchString(s) || err != nil {
		p.Fail(name, "type check ('integer') failed - got '"+s+"'")
		return 0, false
	}
	return n, true
}

// rustParseIntMessage is the text of Rust's ParseIntError for s, which PBS
// reports for an unparsable integer.
func rustParseIntMessage(s string, err error) string {
	switch {
	case s == "" || s == "+" || s == "-":
		if s == "" {
			return "cannot parse integer from empty string"
		}
		return "invalid digit found in string"
	case strings.Contains(err.Error(), "out of range"):
		if s[0] == '-' {
			return "number too small to fit in target type"
		}
		return "number too large to fit in target type"
	}
	return "invalid digit found in string"
}

// IntOr returns the parameter or def when it is absent or invalid.
func (p *Params) IntOr(name string, def int64) int64 {
	if n, ok := p.Int(name); ok {
		return n
	}
	return def
}

// List returns a list parameter. PVE: a string split at ',', ';' and
// whitespace (empty items dropped), or the values of a repeated key; PBS:
// the values of a repeated key, or a JSON array of strings.
func (p *Params) List(name string) ([]string, bool) {
	v, ok := p.values[name]
	if !ok {
		return nil, false
	}
	if p.product == auth.PBS {
		if v.raw == nil {
			return slices.Clone(v.strs), true
		}
		switch jsonKind(v.raw) {
		case kindArray:
		case kindObject:
			p.Fail(name, "Expected array - got object.")
			return nil, false
		default:
			p.Fail(name, "Expected array - got scalar value.")
			return nil, false
		}
		var items []json.RawMessage
		if json.Unmarshal(v.raw, &items) != nil {
			p.Fail(name, "Expected array - got scalar value.")
			return nil, false
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			var s string
			if jsonKind(it) != kindString || json.Unmarshal(it, &s) != nil {
				p.Fail(name, pbsMsgExpectStr)
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	if v.raw == nil && len(v.strs) > 1 {
		// PVE joins repeated keys with NUL and splits them apart again.
		return slices.Clone(v.strs), true
	}
	s, ok := p.String(name)
	if !ok {
		return nil, false
	}
	return SplitPVEList(s), true
}

// SplitPVEList splits a PVE list value at ',', ';' and whitespace,
// dropping empty items.
func SplitPVEList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'
	})
}

type jsonValueKind int

const (
	kindNull jsonValueKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// jsonKind classifies a valid JSON value by its first byte.
func jsonKind(raw json.RawMessage) jsonValueKind {
	s := strings.TrimLeft(string(raw), " \t\r\n")
	if s == "" {
		return kindNull
	}
	switch s[0] {
	case '"':
		return kindString
	case 't', 'f':
		return kindBool
	case 'n':
		return kindNull
	case '[':
		return kindArray
	case '{':
		return kindObject
	}
	return kindNumber
}

func jsonKindName(raw json.RawMessage) string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[jsonKind(raw)]
}

// jsonForMessage renders a JSON value for an error message, shortened.
func jsonForMessage(raw json.RawMessage) string {
	s := string(raw)
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return s
}
