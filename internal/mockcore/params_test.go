package mockcore

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

func request(method, target, contentType, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

const (
	form    = "application/x-www-form-urlencoded"
	jsonCT  = "application/json"
	pveUser = "alice@pve"
)

func mustPVE(t *testing.T, r *http.Request) *Params {
	t.Helper()
	p, err := ParsePVEParams(r)
	require.NoError(t, err)
	return p
}

func mustPBS(t *testing.T, r *http.Request) *Params {
	t.Helper()
	p, err := ParsePBSParams(r)
	require.NoError(t, err)
	return p
}

// paramErrs returns the recorded problems as a map.
func paramErrs(t *testing.T, p *Params) map[string]string {
	t.Helper()
	err := p.Err()
	if err == nil {
		return nil
	}
	var pe *ParamError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, ErrParameter)
	return pe.Map()
}

func TestPVEParamSources(t *testing.T) {
	p := mustPVE(t, request("GET", "/x?comment=hi+there%21&privsep=1&_dc=123", "", ""))
	assert.Equal(t, []string{"comment", "privsep"}, p.Names())
	assert.Equal(t, "hi there!", p.StringOr("comment", ""))
	assert.True(t, p.BoolOr("privsep", false))
	assert.False(t, p.Has("_dc"))

	// GET and DELETE ignore the body.
	p = mustPVE(t, request("DELETE", "/x?a=1", form, "b=2"))
	assert.Equal(t, []string{"a"}, p.Names())

	// POST: form body, query merged in and winning.
	p = mustPVE(t, request("POST", "/x?privsep=0", form, "privsep=1&comment=c&_dc=1"))
	assert.Equal(t, false, p.BoolOr("privsep", true))
	assert.Equal(t, "c", p.StringOr("comment", ""))
	assert.False(t, p.Has("_dc"))
	assert.Nil(t, p.Err())

	// No Content-Type counts as a form.
	p = mustPVE(t, request("PUT", "/x", "", "comment=x"))
	assert.Equal(t, "x", p.StringOr("comment", ""))

	// JSON body with typed values; Content-Type is case-insensitive.
	p = mustPVE(t, request("POST", "/x?expire=9", "Application/JSON; charset=utf-8",
		`{"privsep":true,"expire":5,"comment":"x","n":null,"enable":"1","num":7}`))
	assert.True(t, p.BoolOr("privsep", false))
	assert.Equal(t, int64(9), p.IntOr("expire", 0), "query wins over JSON")
	assert.False(t, p.Has("n"), "JSON null is absent")
	assert.True(t, p.BoolOr("enable", false))
	assert.Equal(t, "7", p.StringOr("num", ""), "numbers read as strings like Perl scalars")
	assert.Nil(t, p.Err())
}

func TestPVEParamConversions(t *testing.T) {
	tests := []struct {
		name  string
		req   *http.Request
		read  func(p *Params) any
		want  any
		param string // parameter with a recorded problem, "" for none
		msg   string
	}{
		{"bool 1", request("GET", "/?b=1", "", ""), func(p *Params) any { return p.BoolOr("b", false) }, true, "", ""},
		{"bool 0", request("GET", "/?b=0", "", ""), func(p *Params) any { return p.BoolOr("b", true) }, false, "", ""},
		{"bool true rejected in form", request("POST", "/", form, "b=true"), func(p *Params) any { return p.BoolOr("b", false) }, false, "b", "type check ('boolean') failed - got 'true'"},
		{"bool yes rejected", request("GET", "/?b=yes", "", ""), func(p *Params) any { return p.BoolOr("b", false) }, false, "b", "type check ('boolean') failed - got 'yes'"},
		{"bool empty rejected", request("GET", "/?b=", "", ""), func(p *Params) any { return p.BoolOr("b", true) }, true, "b", "type check ('boolean') failed - got ''"},
		{"json bool false", request("POST", "/", jsonCT, `{"b":false}`), func(p *Params) any { return p.BoolOr("b", true) }, false, "", ""},
		{"json bool number", request("POST", "/", jsonCT, `{"b":1}`), func(p *Params) any { return p.BoolOr("b", false) }, true, "", ""},
		{"json bool string true rejected", request("POST", "/", jsonCT, `{"b":"true"}`), func(p *Params) any { return p.BoolOr("b", false) }, false, "b", `type check ('boolean') failed - got '"true"'`},
		{"int", request("GET", "/?n=-12", "", ""), func(p *Params) any { return p.IntOr("n", 0) }, int64(-12), "", ""},
		{"int junk", request("GET", "/?n=12a", "", ""), func(p *Params) any { return p.IntOr("n", 3) }, int64(3), "n", "type check ('integer') failed - got '12a'"},
		{"int overflow", request("GET", "/?n=99999999999999999999", "", ""), func(p *Params) any { return p.IntOr("n", 3) }, int64(3), "n", "type check ('integer') failed - got '99999999999999999999'"},
		{"json int", request("POST", "/", jsonCT, `{"n":42}`), func(p *Params) any { return p.IntOr("n", 0) }, int64(42), "", ""},
		{"json int as string", request("POST", "/", jsonCT, `{"n":"42"}`), func(p *Params) any { return p.IntOr("n", 0) }, int64(42), "", ""},
		{"json int fraction", request("POST", "/", jsonCT, `{"n":4.5}`), func(p *Params) any { return p.IntOr("n", 0) }, int64(0), "n", "type check ('integer') failed - got '4.5'"},
		{"json int object", request("POST", "/", jsonCT, `{"n":{}}`), func(p *Params) any { return p.IntOr("n", 0) }, int64(0), "n", "type check ('integer') failed - got object"},
		{"string from json bool", request("POST", "/", jsonCT, `{"s":true}`), func(p *Params) any { return p.StringOr("s", "") }, "1", "", ""},
		{"string from json array", request("POST", "/", jsonCT, `{"s":["a"]}`), func(p *Params) any { return p.StringOr("s", "-") }, "-", "s", "type check ('string') failed - got array"},
		{"repeated scalar", request("GET", "/?s=a&s=b", "", ""), func(p *Params) any { return p.StringOr("s", "-") }, "-", "s", "duplicate parameter"},
		{"list commas", request("GET", "/?l=a,b;c%20d,,", "", ""), func(p *Params) any { v, _ := p.List("l"); return v }, []string{"a", "b", "c", "d"}, "", ""},
		{"list repeated keys", request("GET", "/?l=a,b&l=c", "", ""), func(p *Params) any { v, _ := p.List("l"); return v }, []string{"a,b", "c"}, "", ""},
		{"list empty", request("GET", "/?l=", "", ""), func(p *Params) any { v, _ := p.List("l"); return v }, []string{}, "", ""},
		{"list json string", request("POST", "/", jsonCT, `{"l":"x y"}`), func(p *Params) any { v, _ := p.List("l"); return v }, []string{"x", "y"}, "", ""},
		{"list json array rejected", request("POST", "/", jsonCT, `{"l":["x"]}`), func(p *Params) any { v, _ := p.List("l"); return v }, []string(nil), "l", "type check ('string') failed - got array"},
		{"absent", request("GET", "/", "", ""), func(p *Params) any { v, ok := p.String("s"); return []any{v, ok} }, []any{"", false}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPVE(t, tc.req)
			got := tc.read(p)
			if want, ok := tc.want.([]string); ok && len(want) == 0 {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, tc.want, got)
			}
			errs := paramErrs(t, p)
			if tc.param == "" {
				assert.Nil(t, errs)
			} else {
				assert.Equal(t, map[string]string{tc.param: tc.msg}, errs)
			}
		})
	}
}

func TestPVEParamChecks(t *testing.T) {
	p := mustPVE(t, request("POST", "/?userid=alice@pve", form, "comment=x&bogus=1&other=2"))
	p.RejectUnknown("userid", "comment")
	p.Require("userid", "password")
	p.SetPath("userid", pveUser)
	assert.Equal(t, map[string]string{
		"bogus":    PVEMsgUnknownParam,
		"other":    PVEMsgUnknownParam,
		"password": PVEMsgMissingParam,
	}, paramErrs(t, p))
	assert.Equal(t, []string{"bogus", "other"}, p.Unknown("userid", "comment"))

	p = mustPVE(t, request("PUT", "/?userid=bob@pve", "", ""))
	p.SetPath("userid", pveUser)
	assert.Equal(t, map[string]string{"userid": PVEMsgPathConflict}, paramErrs(t, p))

	p = mustPVE(t, request("PUT", "/", "", ""))
	p.SetPath("userid", pveUser)
	assert.Equal(t, pveUser, p.StringOr("userid", ""))
	assert.Nil(t, p.Err())

	// Only the first problem per parameter is kept.
	p = mustPVE(t, request("GET", "/?b=x", "", ""))
	p.Bool("b")
	p.Fail("b", "second")
	assert.Equal(t, map[string]string{"b": "type check ('boolean') failed - got 'x'"}, paramErrs(t, p))
}

func TestPVEParamRequestErrors(t *testing.T) {
	for name, r := range map[string]*http.Request{
		"invalid json":     request("POST", "/", jsonCT, `{"a":`),
		"json array":       request("POST", "/", jsonCT, `[1]`),
		"json scalar":      request("POST", "/", jsonCT, `"x"`),
		"unsupported type": request("POST", "/", "text/plain", "a=1"),
		"too large":        request("POST", "/", form, strings.Repeat("a", MaxParamBody+1)),
		"form not utf-8":   request("POST", "/", form, "a=\xff"),
	} {
		_, err := ParsePVEParams(r)
		var he *HTTPError
		require.ErrorAs(t, err, &he, name)
		assert.Equal(t, http.StatusBadRequest, he.Status, name)
	}
	p := mustPVE(t, request("POST", "/", jsonCT, ""))
	assert.Empty(t, p.Names(), "empty JSON body is {}")
}

func TestPBSParamSources(t *testing.T) {
	// No Content-Type: query (and body) parameters, any method.
	p := mustPBS(t, request("GET", "/x?userid=root@pam&enable=yes&_dc=1", "", ""))
	assert.Equal(t, []string{"userid", "enable"}, p.Names())
	assert.True(t, p.BoolOr("enable", false))

	// JSON: only the body; the query string is ignored.
	p = mustPBS(t, request("POST", "/x?comment=fromquery", "application/json;charset=UTF-8", `{"comment":"x","enable":false}`))
	assert.Equal(t, "x", p.StringOr("comment", ""))
	assert.False(t, p.BoolOr("enable", true))
	assert.Equal(t, []string{"comment", "enable"}, p.Names())

	// JSON with an empty body is {} (a GET with the JSON type loses its query).
	p = mustPBS(t, request("GET", "/x?store=a", jsonCT, ""))
	assert.Empty(t, p.Names())

	// Form body and query merge; the same key in both is a duplicate.
	p = mustPBS(t, request("PUT", "/x?b=2&c=3", form+"; charset=utf-8", "a=1&b=1"))
	assert.Equal(t, "1", p.StringOr("a", ""))
	assert.Equal(t, "3", p.StringOr("c", ""))
	_, ok := p.String("b")
	assert.False(t, ok)
	assert.Equal(t, map[string]string{"b": "duplicate parameter."}, paramErrs(t, p))

	// ParseQueryParams ignores the body whatever its type.
	r := request("POST", "/x?digest=abc&encoded-size=12", "application/octet-stream", "\x00\x01raw")
	q := ParseQueryParams(auth.PBS, r)
	assert.Equal(t, []string{"digest", "encoded-size"}, q.Names())
	assert.Equal(t, int64(12), q.IntOr("encoded-size", 0))
}

func TestPBSParamConversions(t *testing.T) {
	type c = struct {
		name  string
		req   *http.Request
		read  func(p *Params) any
		want  any
		param string
		msg   string
	}
	b := func(p *Params) any { v, _ := p.Bool("b"); return v }
	n := func(p *Params) any { v, _ := p.Int("n"); return v }
	l := func(p *Params) any { v, _ := p.List("l"); return v }
	s := func(p *Params) any { v, _ := p.String("s"); return v }
	var tests []c
	for _, v := range []string{"1", "on", "YES", "True", "oN"} {
		tests = append(tests, c{"bool " + v, request("GET", "/?b="+v, "", ""), b, true, "", ""})
	}
	for _, v := range []string{"0", "off", "No", "FALSE"} {
		tests = append(tests, c{"bool " + v, request("GET", "/?b="+v, "", ""), b, false, "", ""})
	}
	tests = append(tests,
		c{"bool junk", request("GET", "/?b=maybe", "", ""), b, false, "b", "Unable to parse boolean option."},
		c{"bool repeated", request("GET", "/?b=1&b=1", "", ""), b, false, "b", "duplicate parameter."},
		c{"json bool", request("POST", "/", jsonCT, `{"b":true}`), b, true, "", ""},
		c{"json bool as string", request("POST", "/", jsonCT, `{"b":"true"}`), b, false, "b", "Expected boolean value."},
		c{"json bool as number", request("POST", "/", jsonCT, `{"b":1}`), b, false, "b", "Expected boolean value."},
		c{"json null", request("POST", "/", jsonCT, `{"b":null}`), b, false, "b", "Expected boolean value."},
		c{"int", request("GET", "/?n=%2B12", "", ""), n, int64(12), "", ""},
		c{"int negative", request("GET", "/?n=-3", "", ""), n, int64(-3), "", ""},
		c{"int empty", request("GET", "/?n=", "", ""), n, int64(0), "n", "cannot parse integer from empty string"},
		c{"int junk", request("GET", "/?n=1x", "", ""), n, int64(0), "n", "invalid digit found in string"},
		c{"int sign only", request("GET", "/?n=-", "", ""), n, int64(0), "n", "invalid digit found in string"},
		c{"int too large", request("GET", "/?n=99999999999999999999", "", ""), n, int64(0), "n", "number too large to fit in target type"},
		c{"int too small", request("GET", "/?n=-99999999999999999999", "", ""), n, int64(0), "n", "number too small to fit in target type"},
		c{"json int", request("POST", "/", jsonCT, `{"n":7}`), n, int64(7), "", ""},
		c{"json int float", request("POST", "/", jsonCT, `{"n":7.0}`), n, int64(0), "n", "Expected integer value."},
		c{"json int string", request("POST", "/", jsonCT, `{"n":"7"}`), n, int64(0), "n", "Expected integer value."},
		c{"list repeated keys", request("GET", "/?l=a,b&l=c", "", ""), l, []string{"a,b", "c"}, "", ""},
		c{"list single", request("GET", "/?l=a", "", ""), l, []string{"a"}, "", ""},
		c{"list json", request("POST", "/", jsonCT, `{"l":["a","b"]}`), l, []string{"a", "b"}, "", ""},
		c{"list json scalar", request("POST", "/", jsonCT, `{"l":"a"}`), l, []string(nil), "l", "Expected array - got scalar value."},
		c{"list json object", request("POST", "/", jsonCT, `{"l":{}}`), l, []string(nil), "l", "Expected array - got object."},
		c{"list json number item", request("POST", "/", jsonCT, `{"l":["a",1]}`), l, []string(nil), "l", "Expected string value."},
		c{"string json number", request("POST", "/", jsonCT, `{"s":1}`), s, "", "s", "Expected string value."},
		c{"string form", request("POST", "/", form, "s=a%2Bb+c"), s, "a+b c", "", ""},
		c{"string lenient escapes", request("GET", "/?s=50%25%zz", "", ""), s, "50%%zz", "", ""},
	)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPBS(t, tc.req)
			assert.Equal(t, tc.want, tc.read(p))
			errs := paramErrs(t, p)
			if tc.param == "" {
				assert.Nil(t, errs)
			} else {
				assert.Equal(t, map[string]string{tc.param: tc.msg}, errs)
			}
		})
	}
}

func TestPBSParamChecks(t *testing.T) {
	p := mustPBS(t, request("GET", "/?store=a&bogus=1", "", ""))
	p.RejectUnknown("store", "ns")
	p.Require("store", "backup-type")
	err := p.Err()
	require.Error(t, err)
	assert.Equal(t, "parameter verification failed:\n- 'bogus': schema does not allow additional properties.\n- 'backup-type': parameter is missing and it is not optional.", err.Error())

	p = mustPBS(t, request("POST", "/", jsonCT, `{"bogus":1}`))
	p.RejectUnknown()
	p.Require("store")
	assert.Equal(t, map[string]string{
		"bogus": "schema does not allow additional properties",
		"store": "property is missing and it is not optional",
	}, paramErrs(t, p))

	// Path parameters: duplicates with form/query, overridden in JSON.
	p = mustPBS(t, request("PUT", "/?userid=x@pbs", "", ""))
	p.SetPath("userid", "alice@pbs")
	assert.Equal(t, map[string]string{"userid": "duplicate parameter."}, paramErrs(t, p))
	p = mustPBS(t, request("PUT", "/", jsonCT, `{"userid":"x@pbs"}`))
	p.SetPath("userid", "alice@pbs")
	assert.Equal(t, "alice@pbs", p.StringOr("userid", ""))
	assert.Nil(t, p.Err())

	one := mustPBS(t, request("GET", "/?b=x", "", ""))
	one.Bool("b")
	assert.Equal(t, "parameter verification failed - 'b': Unable to parse boolean option.", one.Err().Error())
}

func TestPBSParamRequestErrors(t *testing.T) {
	tests := map[string]struct {
		req *http.Request
		msg string
	}{
		"text/plain":         {request("POST", "/", "text/plain", "a"), `unsupported content type Ok("text/plain")`},
		"case-sensitive":     {request("POST", "/", "Application/JSON", "{}"), `unsupported content type Ok("Application/JSON")`},
		"space before semi":  {request("POST", "/", "application/json ;charset=utf-8", "{}"), `unsupported content type Ok("application/json ;charset=utf-8")`},
		"multipart":          {request("POST", "/", "multipart/form-data; boundary=x", ""), `unsupported content type Ok("multipart/form-data; boundary=x")`},
		"invalid json":       {request("POST", "/", jsonCT, `{`), ""},
		"json array":         {request("POST", "/", jsonCT, `[]`), "Expected object - got array."},
		"json scalar":        {request("POST", "/", jsonCT, `3`), "Expected object - got scalar value."},
		"too large":          {request("POST", "/", form, strings.Repeat("a", MaxParamBody+1)), "Request body too large"},
		"body not utf-8":     {request("POST", "/", form, "a=\xff"), "Request body not uft8: invalid utf-8 sequence"},
		"json trailing data": {request("POST", "/", jsonCT, `{} {}`), ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParsePBSParams(tc.req)
			var he *HTTPError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, http.StatusBadRequest, he.Status)
			if tc.msg != "" {
				assert.Equal(t, tc.msg, he.Message)
			}
		})
	}
	r := request("POST", "/", "", "")
	r.Header.Set("Content-Type", "application/json\x01")
	_, err := ParsePBSParams(r)
	assert.Error(t, err)
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestParamBodyReadError(t *testing.T) {
	r := httptest.NewRequest("POST", "/", failingReader{})
	_, err := ParsePBSParams(r)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Contains(t, he.Message, "Problems reading request body")
	r = httptest.NewRequest("POST", "/", failingReader{})
	_, err = ParsePVEParams(r)
	assert.Error(t, err)
}

func TestNewParams(t *testing.T) {
	p := NewParams(auth.PBS, map[string][]string{"b": {"1"}, "a": {"x", "y"}})
	assert.Equal(t, []string{"a", "b"}, p.Names())
	assert.Equal(t, auth.PBS, p.Product())
	l, _ := p.List("a")
	assert.Equal(t, []string{"x", "y"}, l)
}

func TestSplitPVEList(t *testing.T) {
	assert.Equal(t, []string{"a", "b", "c"}, SplitPVEList(" a ,b;\tc\n"))
	assert.Empty(t, SplitPVEList(",;  "))
}

func TestParamErrorFormats(t *testing.T) {
	e := &ParamError{Product: auth.PVE}
	assert.Equal(t, "parameter verification failed", e.Error())
	e.Errors = []FieldError{{"a", "x"}, {"a", "y"}}
	assert.Equal(t, map[string]string{"a": "x"}, e.Map())
	assert.ErrorIs(t, error(NewParamError(auth.PBS, "p", "m")), ErrParameter)
}
