package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/proxkit/proxkit/auth"
)

// FuzzDecodeEnvelope: any success body either decodes or gives a
// *DecodeError matching ErrMalformedResponse; it never panics.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"data":null}`, `{"data":[{"userid":"root@pam"}],"digest":"` + string(bytes.Repeat([]byte("a"), 64)) + `"}`,
		`{"data":[],"total":3}`, `{"data":{"a":1},"changes":{}}`, `{"total":"x","data":1,"digest":5}`,
		``, ` `, `null`, `[]`, `{"success":1}`, `<html>`, `{"data":`, `{"data":1} x`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var anyOut any
		var typed []struct {
			Userid string `json:"userid"`
			Enable *bool  `json:"enable"`
		}
		for _, out := range []any{nil, &anyOut, &typed} {
			env, reason, err := decodeEnvelope(body, out)
			if reason == "" {
				if _, ok := env.attrs["data"]; ok {
					t.Fatal("data listed as attribute")
				}
				continue
			}
			de := &DecodeError{Method: "GET", Path: "/x", Status: 200, Reason: reason, Err: err}
			var target *DecodeError
			if !errors.Is(de, ErrMalformedResponse) || !errors.As(error(de), &target) || de.Error() == "" {
				t.Fatalf("bad error for %q: %v", body, de)
			}
		}
	})
}

// fuzzCheckResponse runs a synthetic answer through the client's whole
// error path: reason phrase, body decoding, classification, hints, scrub.
func fuzzCheckResponse(t *testing.T, c *Client, status int, reason string, body []byte) {
	if status < 100 || status > 999 {
		status = 100 + (status%900+900)%900
	}
	if status >= 200 && status <= 299 {
		status += 200
	}
	req, _ := http.NewRequest(http.MethodGet, "https://h:8006/api2/json/access/users/x", nil)
	req.Header.Set("Authorization", "PVEAPIToken=alice@pve!automation="+testSecret)
	resp := &http.Response{StatusCode: status, Status: strconv.Itoa(status) + reason, Header: http.Header{},
		Body: io.NopCloser(bytes.NewReader(body)), Request: req}
	err := c.checkResponse(resp, http.MethodGet, "/access/users/x", []string{paramSecret})
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an *APIError: %v", err)
	}
	msg := ae.Error()
	if bytes.Contains([]byte(msg), []byte(testSecret)) || bytes.Contains([]byte(msg), []byte(paramSecret)) {
		t.Fatalf("secret in %q", msg)
	}
	if !utf8.ValidString(ae.Message) || len(ae.Message) > maxMessageLen+len("…") {
		t.Fatalf("message not cleaned: %q", ae.Message)
	}
	if len(ae.Errors) > maxParamErrors {
		t.Fatalf("%d parameter errors kept", len(ae.Errors))
	}
	for k, v := range ae.Errors {
		if k == "" || !utf8.ValidString(k) || !utf8.ValidString(v) {
			t.Fatalf("bad parameter error %q: %q", k, v)
		}
	}
	for _, s := range allSentinels {
		_ = errors.Is(err, s)
	}
	if errors.Is(err, ErrNotFound) && errors.Is(err, ErrExists) {
		t.Fatalf("both not found and exists: %v", err)
	}
}

func fuzzClient(f *testing.F, p auth.Product) *Client {
	c, err := New(Config{BaseURL: "https://h", Product: p, Credentials: pveTestToken})
	if err != nil {
		f.Fatal(err)
	}
	return c
}

// FuzzDecodePVEError feeds PVE-shaped error answers (reason phrase, JSON
// body with message and errors, or nothing).
func FuzzDecodePVEError(f *testing.F) {
	c := fuzzClient(f, auth.PVE)
	f.Add(401, " Authentication failed!", []byte(""))
	f.Add(401, " No ticket", []byte(nil))
	f.Add(403, " Permission check failed (/access, Sys.Audit)", []byte(`{"data":null,"message":"Permission check failed (/access, Sys.Audit)\n"}`))
	f.Add(400, " Parameter verification failed.", []byte(`{"data":null,"errors":{"tokens":"invalid format"},"message":"Parameter verification failed.\n"}`))
	f.Add(400, " Parameter verification failed.", []byte(`{"errors":{"a":1,"b":[1],"c":null,"":""}}`))
	f.Add(500, " no such user ('bob@pve')", []byte(`{"data":null,"message":"no such user ('bob@pve')\n"}`))
	f.Add(501, " Method 'GET /x' not implemented", []byte(`{"data":null}`))
	f.Add(596, " Connection timed out", []byte(`{`))
	f.Fuzz(func(t *testing.T, status int, reason string, body []byte) {
		fuzzCheckResponse(t, c, status, reason, body)
	})
}

// FuzzDecodePBSError feeds PBS-shaped error answers (plain text bodies,
// parameter error lists).
func FuzzDecodePBSError(f *testing.F) {
	c := fuzzClient(f, auth.PBS)
	f.Add(401, " Unauthorized", []byte("authentication failed"))
	f.Add(403, " Forbidden", []byte("permission check failed"))
	f.Add(400, " Bad Request", []byte("parameter verification failed - 'userid': value must be at least 3 characters long"))
	f.Add(400, " Bad Request", []byte("parameter verification failed:\n- 'a': x\n- 'b': y\n  more\n- '': z\n- 'c':"))
	f.Add(400, " Bad Request", []byte("token 'x' of user 'alice@pbs' does not exist."))
	f.Add(400, " Bad Request", []byte("detected modified configuration - file changed by other user? Try again."))
	f.Add(404, " Not Found", []byte("Path '/api2/json/nope' not found."))
	f.Add(502, " Bad Gateway", []byte("<html>\xff</html>"))
	f.Fuzz(func(t *testing.T, status int, reason string, body []byte) {
		fuzzCheckResponse(t, c, status, reason, body)
		errs := parseParamErrors(string(body))
		for k := range errs {
			if k == "" {
				t.Fatal("empty parameter name")
			}
		}
	})
}
