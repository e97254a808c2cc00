package httpapi

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
)

// TagName is the struct tag EncodeParams reads: `api:"name"` or
// `api:"name,omitempty"`; `api:"-"` skips a field.
const TagName = "api"

var (
	secretType    = reflect.TypeFor[auth.Secret]()
	timeType      = reflect.TypeFor[time.Time]()
	valuesType    = reflect.TypeFor[Values]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	stringer      = reflect.TypeFor[fmt.Stringer]()
)

// EncodeParams turns a parameter struct (or a pointer to one; nil gives
// no parameters) into Values for product p, driven by `api` tags.
//
// Rules, chosen so that "updates send only the fields the caller set":
//   - A nil pointer field is not sent. A non-nil pointer is always sent,
//     even when it points to a zero value: *bool false is "0", *time.Time
//     zero is "0", *string "" is "" (PVE: clear the field).
//   - A non-pointer field with omitempty is not sent when it is the zero
//     value; without omitempty it is always sent.
//   - bool is "1"/"0"; integers and floats are decimal; time.Time is epoch
//     seconds (the zero time is 0).
//   - auth.Secret is sent revealed and marked secret (redacted by
//     Values.String); this is the only way a secret enters a request.
//   - Types implementing encoding.TextMarshaler or fmt.Stringer (auth.Authid,
//     auth.Userid, auth.Realm ...) are sent as their text.
//   - Slices and arrays are lists (Values.SetList): comma-joined for PVE,
//     repeated keys for PBS. Items follow the scalar rules.
//   - Anonymous struct fields without a tag are flattened.
//   - A field named like an earlier one replaces it; an exported field
//     without a tag, maps, channels, funcs and nested structs are errors, so
//     that a mistyped parameter struct fails loudly instead of sending less.
//
// Errors match ErrInvalidRequest and never contain values.
func EncodeParams(p auth.Product, v any) (Values, error) {
	var out Values
	if p != auth.PVE && p != auth.PBS {
		return out, fmt.Errorf("httpapi: EncodeParams: unknown product %d: %w", int(p), ErrInvalidRequest)
	}
	if v == nil {
		return out, nil
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return out, nil
		}
		rv = rv.Elem()
	}
	if rv.Type() == valuesType {
		out.Merge(rv.Interface().(Values))
		return out, nil
	}
	if rv.Kind() != reflect.Struct {
		return out, fmt.Errorf("httpapi: EncodeParams: %s is not a struct: %w", rv.Type(), ErrInvalidRequest)
	}
	if err := encodeStruct(&out, rv); err != nil {
		return Values{}, err
	}
	return out, nil
}

func encodeStruct(out *Values, rv reflect.Value) error {
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, tagged := sf.Tag.Lookup(TagName)
		if tag == "-" {
			continue
		}
		fv := rv.Field(i)
		if sf.Anonymous && !tagged {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv, ft = fv.Elem(), ft.Elem()
			}
			if ft.Kind() == reflect.Struct && !isScalarType(ft) {
				if err := encodeStruct(out, fv); err != nil {
					return err
				}
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if !tagged {
			return fieldErr(t, sf, "has no `"+TagName+"` tag")
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			return fieldErr(t, sf, "has an empty parameter name")
		}
		omitempty := false
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "":
			case "omitempty":
				omitempty = true
			default:
				return fieldErr(t, sf, "has unknown tag option "+strconv.Quote(o))
			}
		}
		if err := encodeField(out, name, fv, omitempty); err != nil {
			return fieldErr(t, sf, err.Error())
		}
	}
	return nil
}

func fieldErr(t reflect.Type, sf reflect.StructField, reason string) error {
	return fmt.Errorf("httpapi: EncodeParams: field %s.%s %s: %w", t.Name(), sf.Name, reason, ErrInvalidRequest)
}

// encodeField sets name from fv. Pointers and interfaces mark an explicit
// choice of the caller: nil is "not set", anything else is sent.
func encodeField(out *Values, name string, fv reflect.Value, omitempty bool) error {
	if fv.Kind() == reflect.Interface {
		if fv.IsNil() {
			return nil
		}
		fv, omitempty = fv.Elem(), false
	}
	if fv.Kind() == reflect.Pointer {
		if fv.IsNil() {
			return nil
		}
		fv, omitempty = fv.Elem(), false
	}
	if omitempty && isEmpty(fv) {
		return nil
	}
	if fv.Type() == secretType {
		out.SetSecret(name, fv.Interface().(auth.Secret))
		return nil
	}
	if (fv.Kind() == reflect.Slice || fv.Kind() == reflect.Array) && !isScalarType(fv.Type()) {
		items := make([]string, fv.Len())
		for i := range items {
			s, err := scalar(fv.Index(i))
			if err != nil {
				return err
			}
			items[i] = s
		}
		out.SetList(name, items)
		return nil
	}
	s, err := scalar(fv)
	if err != nil {
		return err
	}
	out.Set(name, s)
	return nil
}

// isEmpty is the omitempty test: the zero value, the zero time in any
// location, an empty secret, an empty list.
func isEmpty(v reflect.Value) bool {
	switch {
	case v.Type() == timeType:
		return v.Interface().(time.Time).IsZero()
	case v.Type() == secretType:
		return v.Interface().(auth.Secret).IsZero()
	case v.Kind() == reflect.Slice:
		return v.Len() == 0
	}
	return v.IsZero()
}

// isScalarType reports whether t encodes as one text value although its
// kind is a struct, slice or array (time.Time, net.IP, auth.Authid ...).
func isScalarType(t reflect.Type) bool {
	return t == timeType || t == secretType || t.Implements(textMarshaler) || t.Implements(stringer) ||
		reflect.PointerTo(t).Implements(textMarshaler)
}

func scalar(v reflect.Value) (string, error) {
	if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "", fmt.Errorf("has a nil list item")
		}
		v = v.Elem()
	}
	switch t := v.Type(); {
	case t == secretType:
		return "", fmt.Errorf("holds a secret inside a list, which is not supported")
	case t == timeType:
		tm := v.Interface().(time.Time)
		if tm.IsZero() {
			return "0", nil
		}
		return strconv.FormatInt(tm.Unix(), 10), nil
	case t.Implements(textMarshaler):
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return "", fmt.Errorf("cannot be marshalled as text")
		}
		return string(b), nil
	case reflect.PointerTo(t).Implements(textMarshaler):
		if !v.CanAddr() {
			c := reflect.New(t)
			c.Elem().Set(v)
			v = c.Elem()
		}
		b, err := v.Addr().Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return "", fmt.Errorf("cannot be marshalled as text")
		}
		return string(b), nil
	case t.Implements(stringer):
		return v.Interface().(fmt.Stringer).String(), nil
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), nil
	case reflect.Bool:
		if v.Bool() {
			return "1", nil
		}
		return "0", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(v.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, v.Type().Bits()), nil
	}
	return "", fmt.Errorf("has unsupported type %s", v.Type())
}
