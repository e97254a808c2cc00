package datastore

import (
	"strconv"
)

// CanonicalJSON rewrites a JSON document in the canonical form PBS signs
// (spec 5.6): object members sorted by key in byte order, no whitespace,
// strings and numbers as serde_json writes them (only '"', '\\' and control
// characters escaped, non-ASCII kept as UTF-8). A null anywhere is an error,
// as upstream's canonicalizer refuses it. Errors match ErrBadManifest.
func CanonicalJSON(raw []byte) ([]byte, error) {
	v, err := cjParse(raw)
	if err != nil {
		return nil, err
	}
	return cjAppendCanonical(nil, v)
}

// cjAppendCanonical appends the canonical form of v.
func cjAppendCanonical(out []byte, v cjValue) ([]byte, error) {
	var err error
	switch v.kind {
	case cjNull:
		return out, formatErr("json", -1, ErrBadManifest, "null is not allowed in canonical JSON")
	case cjBool:
		if v.b {
			return append(out, "true"...), nil
		}
		return append(out, "false"...), nil
	case cjNumber:
		return append(out, v.s...), nil
	case cjString:
		return cjAppendString(out, v.s), nil
	case cjArray:
		out = append(out, '[')
		for i, e := range v.arr {
			if i > 0 {
				out = append(out, ',')
			}
			if out, err = cjAppendCanonical(out, e); err != nil {
				return out, err
			}
		}
		return append(out, ']'), nil
	default:
		out = append(out, '{')
		for i, m := range v.obj {
			if i > 0 {
				out = append(out, ',')
			}
			out = cjAppendString(out, m.key)
			out = append(out, ':')
			if out, err = cjAppendCanonical(out, m.val); err != nil {
				return out, err
			}
		}
		return append(out, '}'), nil
	}
}

// cjAppendPretty appends v as serde_json's to_string_pretty writes it: two
// spaces per level, "key": value, empty containers as {} and [].
func cjAppendPretty(out []byte, v cjValue, indent int) []byte {
	switch v.kind {
	case cjNull:
		return append(out, "null"...)
	case cjBool, cjNumber, cjString:
		out, _ = cjAppendCanonical(out, v)
		return out
	case cjArray:
		if len(v.arr) == 0 {
			return append(out, "[]"...)
		}
		out = append(out, '[')
		for i, e := range v.arr {
			if i > 0 {
				out = append(out, ',')
			}
			out = cjNewline(out, indent+1)
			out = cjAppendPretty(out, e, indent+1)
		}
		out = cjNewline(out, indent)
		return append(out, ']')
	default:
		if len(v.obj) == 0 {
			return append(out, "{}"...)
		}
		out = append(out, '{')
		for i, m := range v.obj {
			if i > 0 {
				out = append(out, ',')
			}
			out = cjNewline(out, indent+1)
			out = cjAppendString(out, m.key)
			out = append(out, ": "...)
			out = cjAppendPretty(out, m.val, indent+1)
		}
		out = cjNewline(out, indent)
		return append(out, '}')
	}
}

func cjNewline(out []byte, indent int) []byte {
	out = append(out, '\n')
	for range indent {
		out = append(out, ' ', ' ')
	}
	return out
}

// cjAppendString writes a JSON string like serde_json: '"' and '\\'
// escaped, control characters as \b \t \n \f \r or \u00xx, all else raw.
func cjAppendString(out []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		out = append(out, s[start:i]...)
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\b':
			out = append(out, '\\', 'b')
		case '\t':
			out = append(out, '\\', 't')
		case '\n':
			out = append(out, '\\', 'n')
		case '\f':
			out = append(out, '\\', 'f')
		case '\r':
			out = append(out, '\\', 'r')
		default:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		start = i + 1
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}

// cjStr, cjUint and cjObj build values for serialization.
func cjStr(s string) cjValue { return cjValue{kind: cjString, s: s} }

func cjUint(u uint64) cjValue { return cjValue{kind: cjNumber, s: strconv.FormatUint(u, 10)} }

func cjObj(members ...cjMember) cjValue {
	v := cjValue{kind: cjObject}
	for _, m := range members {
		v.obj = cjSet(v.obj, m.key, m.val)
	}
	return v
}
