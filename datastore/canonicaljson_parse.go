package datastore

import (
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// cjKind is the type of a parsed JSON value.
type cjKind uint8

const (
	cjNull cjKind = iota
	cjBool
	cjNumber
	cjString
	cjArray
	cjObject
)

// cjValue is a JSON value as serde_json's Value holds it: objects keep one
// member per key (the last one wins) sorted by key in byte order, numbers
// are kept in the text form serde_json would write them in.
type cjValue struct {
	kind cjKind
	b    bool
	s    string // string content, or number text
	arr  []cjValue
	obj  []cjMember
	raw  []byte // the value's source text, for preserving unknown members
}

type cjMember struct {
	key string
	val cjValue
}

// cjMaxDepth is serde_json's nesting limit: 128 levels minus one.
const cjMaxDepth = 127

// cjParser is a strict RFC 8259 parser with serde_json's rules: the input
// must be valid UTF-8, escapes must not leave lone surrogates, numbers that
// overflow a double are errors.
type cjParser struct {
	in    []byte
	pos   int
	depth int
}

// cjError is a parse error at the current position.
func (p *cjParser) cjError(detail string) error {
	return formatErr("json", int64(p.pos), ErrBadManifest, detail)
}

// cjParse parses exactly one JSON value (with surrounding whitespace).
func cjParse(in []byte) (cjValue, error) {
	if !utf8.Valid(in) {
		return cjValue{}, formatErr("json", -1, ErrBadManifest, "not valid UTF-8")
	}
	p := &cjParser{in: in}
	v, err := p.cjValue()
	if err != nil {
		return cjValue{}, err
	}
	p.cjSkipSpace()
	if p.pos != len(p.in) {
		return cjValue{}, p.cjError("trailing data after the JSON value")
	}
	return v, nil
}

func (p *cjParser) cjSkipSpace() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *cjParser) cjValue() (cjValue, error) {
	p.cjSkipSpace()
	if p.pos >= len(p.in) {
		return cjValue{}, p.cjError("unexpected end of input")
	}
	start := p.pos
	var v cjValue
	var err error
	switch c := p.in[p.pos]; {
	case c == '{':
		v, err = p.cjObject()
	case c == '[':
		v, err = p.cjArray()
	case c == '"':
		var s string
		s, err = p.cjString()
		v = cjValue{kind: cjString, s: s}
	case c == '-' || c >= '0' && c <= '9':
		v, err = p.cjNumber()
	default:
		v, err = p.cjLiteral()
	}
	if err != nil {
		return cjValue{}, err
	}
	v.raw = p.in[start:p.pos]
	return v, nil
}

func (p *cjParser) cjLiteral() (cjValue, error) {
	for _, lit := range []struct {
		text string
		val  cjValue
	}{
		{"true", cjValue{kind: cjBool, b: true}},
		{"false", cjValue{kind: cjBool}},
		{"null", cjValue{kind: cjNull}},
	} {
		if len(p.in)-p.pos >= len(lit.text) && string(p.in[p.pos:p.pos+len(lit.text)]) == lit.text {
			p.pos += len(lit.text)
			return lit.val, nil
		}
	}
	return cjValue{}, p.cjError("unexpected character " + strconv.QuoteRune(rune(p.in[p.pos])))
}

func (p *cjParser) cjEnter() error {
	p.depth++
	if p.depth > cjMaxDepth {
		return p.cjError("nested too deeply")
	}
	return nil
}

func (p *cjParser) cjObject() (cjValue, error) {
	if err := p.cjEnter(); err != nil {
		return cjValue{}, err
	}
	p.pos++ // {
	v := cjValue{kind: cjObject}
	p.cjSkipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		p.depth--
		return v, nil
	}
	for {
		p.cjSkipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return cjValue{}, p.cjError("expected an object key")
		}
		key, err := p.cjString()
		if err != nil {
			return cjValue{}, err
		}
		p.cjSkipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return cjValue{}, p.cjError("expected ':'")
		}
		p.pos++
		val, err := p.cjValue()
		if err != nil {
			return cjValue{}, err
		}
		v.obj = cjSet(v.obj, key, val)
		p.cjSkipSpace()
		if p.pos >= len(p.in) {
			return cjValue{}, p.cjError("unexpected end of input in an object")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.depth--
			return v, nil
		default:
			return cjValue{}, p.cjError("expected ',' or '}'")
		}
	}
}

// cjSet inserts or replaces key in a key-sorted member list.
func cjSet(members []cjMember, key string, val cjValue) []cjMember {
	lo, hi := 0, len(members)
	for lo < hi {
		mid := (lo + hi) / 2
		if members[mid].key < key {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(members) && members[lo].key == key {
		members[lo].val = val
		return members
	}
	members = append(members, cjMember{})
	copy(members[lo+1:], members[lo:])
	members[lo] = cjMember{key: key, val: val}
	return members
}

// cjGet returns the member key of an object value.
func (v cjValue) cjGet(key string) (cjValue, bool) {
	for _, m := range v.obj {
		if m.key == key {
			return m.val, true
		}
	}
	return cjValue{}, false
}

func (p *cjParser) cjArray() (cjValue, error) {
	if err := p.cjEnter(); err != nil {
		return cjValue{}, err
	}
	p.pos++ // [
	v := cjValue{kind: cjArray}
	p.cjSkipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		p.depth--
		return v, nil
	}
	for {
		elem, err := p.cjValue()
		if err != nil {
			return cjValue{}, err
		}
		v.arr = append(v.arr, elem)
		p.cjSkipSpace()
		if p.pos >= len(p.in) {
			return cjValue{}, p.cjError("unexpected end of input in an array")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.depth--
			return v, nil
		default:
			return cjValue{}, p.cjError("expected ',' or ']'")
		}
	}
}

// cjString parses a string literal starting at the opening quote.
func (p *cjParser) cjString() (string, error) {
	p.pos++ // "
	start := p.pos
	// Fast path: no escapes.
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		if c == '"' {
			s := string(p.in[start:p.pos])
			p.pos++
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.cjError("control character in a string")
		}
		p.pos++
	}
	out := append([]byte(nil), p.in[start:p.pos]...)
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(out), nil
		case c < 0x20:
			return "", p.cjError("control character in a string")
		case c != '\\':
			out = append(out, c)
			p.pos++
			continue
		}
		p.pos++ // backslash
		if p.pos >= len(p.in) {
			break
		}
		e := p.in[p.pos]
		p.pos++
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, err := p.cjUnicodeEscape()
			if err != nil {
				return "", err
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", p.cjError("invalid escape \\" + string(rune(e)))
		}
	}
	return "", p.cjError("unterminated string")
}

// cjUnicodeEscape decodes the hex digits after \u, joining surrogate pairs.
func (p *cjParser) cjUnicodeEscape() (rune, error) {
	r1, err := p.cjHex4()
	if err != nil {
		return 0, err
	}
	if !utf16.IsSurrogate(r1) {
		return r1, nil
	}
	if r1 >= 0xdc00 || p.pos+2 > len(p.in) || p.in[p.pos] != '\\' || p.in[p.pos+1] != 'u' {
		return 0, p.cjError("lone surrogate in a \\u escape")
	}
	p.pos += 2
	r2, err := p.cjHex4()
	if err != nil {
		return 0, err
	}
	r := utf16.DecodeRune(r1, r2)
	if r == utf8.RuneError {
		return 0, p.cjError("lone surrogate in a \\u escape")
	}
	return r, nil
}

func (p *cjParser) cjHex4() (rune, error) {
	if p.pos+4 > len(p.in) {
		return 0, p.cjError("truncated \\u escape")
	}
	var r rune
	for _, c := range p.in[p.pos : p.pos+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, p.cjError("invalid \\u escape")
		}
		r = r<<4 | rune(d)
	}
	p.pos += 4
	return r, nil
}

// cjNumber parses a number and keeps it in serde_json's output form.
func (p *cjParser) cjNumber() (cjValue, error) {
	start := p.pos
	if p.in[p.pos] == '-' {
		p.pos++
	}
	digits := p.pos
	switch {
	case p.pos < len(p.in) && p.in[p.pos] == '0':
		p.pos++
	case p.pos < len(p.in) && p.in[p.pos] >= '1' && p.in[p.pos] <= '9':
		p.cjDigits()
	default:
		return cjValue{}, p.cjError("invalid number")
	}
	if p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
		return cjValue{}, p.cjError("leading zero in a number")
	}
	integer := true
	if p.pos < len(p.in) && p.in[p.pos] == '.' {
		integer = false
		p.pos++
		if p.cjDigits() == 0 {
			return cjValue{}, p.cjError("invalid number")
		}
	}
	if p.pos < len(p.in) && (p.in[p.pos] == 'e' || p.in[p.pos] == 'E') {
		integer = false
		p.pos++
		if p.pos < len(p.in) && (p.in[p.pos] == '+' || p.in[p.pos] == '-') {
			p.pos++
		}
		if p.cjDigits() == 0 {
			return cjValue{}, p.cjError("invalid number")
		}
	}
	text := string(p.in[start:p.pos])
	negative := digits > start
	if integer {
		if s, ok := cjInteger(text[digits-start:], negative); ok {
			return cjValue{kind: cjNumber, s: s}, nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && (math.IsInf(f, 0) || math.IsNaN(f)) {
		return cjValue{}, p.cjError("number out of range")
	}
	return cjValue{kind: cjNumber, s: cjFormatFloat(f)}, nil
}

func (p *cjParser) cjDigits() int {
	n := 0
	for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
		p.pos++
		n++
	}
	return n
}

// cjInteger returns the serde_json form of an integer literal when it stays
// an integer there: non-negative values up to 2^64-1 and negative values
// down to -2^63. "-0" and wider values become doubles (ok == false).
func cjInteger(digits string, negative bool) (string, bool) {
	u, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return "", false
	}
	if !negative {
		return digits, true
	}
	if u == 0 || u > 1<<63 {
		return "", false
	}
	return "-" + digits, true
}
