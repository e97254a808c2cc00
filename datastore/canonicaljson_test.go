package datastore

import (
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCanonicalJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"b": 1, "a": [true, false, "x"], "c": {"z": 0, "y": -1}}`, `{"a":[true,false,"x"],"b":1,"c":{"y":-1,"z":0}}`},
		{` { } `, `{}`},
		{`[]`, `[]`},
		{`"a/b"`, `"a/b"`},                     // '/' not escaped
		{`"\u00e9\u4e2d"`, "\"\u00e9\u4e2d\""}, // non-ASCII raw
		{`"\ud83d\ude00"`, "\"\U0001F600\""},   // surrogate pair joined
		{`"<>&\u2028"`, "\"<>&\u2028\""},       // no HTML escaping
		{`"\b\f\n\r\t\u0001\u001f\"\\"`, `"\b\f\n\r\t\u0001\u001f\"\\"`},
		{`"\u007f"`, "\"\x7f\""},                                   // DEL is not a control character here
		{`{"a":1,"a":2}`, `{"a":2}`},                               // last duplicate wins
		{`{"b":1,"B":2,"_":3,"a":4}`, `{"B":2,"_":3,"a":4,"b":1}`}, // byte order
		{`18446744073709551615`, `18446744073709551615`},
		{`-9223372036854775808`, `-9223372036854775808`},
		// Numbers serde_json turns into doubles, and how it writes them.
		{`18446744073709551616`, `1.8446744073709552e19`},
		{`-9223372036854775809`, `-9.223372036854776e18`},
		{`-0`, `-0.0`},
		{`1.0`, `1.0`},
		{`1.5`, `1.5`},
		{`1e2`, `100.0`},
		{`0.001`, `0.001`},
		{`0.00001`, `0.00001`},
		{`0.000001`, `1e-6`},
		{`1.25e-7`, `1.25e-7`},
		{`1e16`, `1e16`},
		{`1e15`, `1000000000000000.0`},
		{`123456789.125`, `123456789.125`},
		{`1e-400`, `0.0`},
	} {
		got, err := CanonicalJSON([]byte(tc.in))
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, string(got), tc.in)
	}
}

func TestCanonicalJSONErrors(t *testing.T) {
	deep := ""
	for range 128 {
		deep += "["
	}
	for range 128 {
		deep += "]"
	}
	for _, in := range []string{
		``, ` `, `null`, `{"a":null}`, `[1,null]`, // null is refused
		`{`, `{"a"}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{1:2}`, `tru`, `nul`,
		`01`, `1.`, `.5`, `-`, `1e`, `+1`, `0x10`, `NaN`, `1e400`,
		`"abc`, "\"a\x01b\"", `"\x"`, `"\u12"`, `"\ud800"`, `"\udc00x"`, `"\ud800\u0041"`,
		"\"\xff\"", `{} {}`, `[] x`,
		deep,
	} {
		_, err := CanonicalJSON([]byte(in))
		assert.ErrorIs(t, err, ErrBadManifest, "%q", in)
	}
	ok := deep[1 : len(deep)-1] // 127 levels are fine
	_, err := CanonicalJSON([]byte(ok))
	assert.NoError(t, err)
}

func TestCanonicalJSONFloatFormatRoundTrips(t *testing.T) {
	for _, f := range []float64{math.MaxFloat64, math.SmallestNonzeroFloat64, 0.1, 1.0 / 3, 2.5e-5, 9007199254740993, 123e300} {
		s := cjFormatFloat(f)
		back, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err, s)
		assert.Equal(t, f, back, s)
	}
	assert.Equal(t, "1.7976931348623157e308", cjFormatFloat(math.MaxFloat64))
	assert.Equal(t, "5e-324", cjFormatFloat(math.SmallestNonzeroFloat64))
	assert.Equal(t, "0.1", cjFormatFloat(0.1))
	assert.Equal(t, "9007199254740992.0", cjFormatFloat(9007199254740993))
}
