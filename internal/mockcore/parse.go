package mockcore

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/proxkit/proxkit/auth"
)

// MaxParamBody is the largest request body the parameter parsers read
// (the newer PBS REST server's limit; PVE's is not documented).
const MaxParamBody = 512 * 1024

// dcParam is ExtJS's "disable cache" query parameter, dropped by both
// servers.
const dcParam = "_dc"

// ParsePVEParams reads a request's parameters as PVE does (access-api.md
// 8.1): GET, HEAD and DELETE take the query string; POST and PUT take a
// form (application/x-www-form-urlencoded, also when no Content-Type is
// given) or JSON body, and query parameters are merged in and win. A body
// that cannot be read or decoded yields an *HTTPError with status 400.
func ParsePVEParams(r *http.Request) (*Params, error) {
	p := newParams(auth.PVE)
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		body, err := readParamBody(r)
		if err != nil {
			return nil, err
		}
		media, ok := mediaType(r.Header.Get("Content-Type"))
		switch {
		case !ok || media == "application/x-www-form-urlencoded":
			if !utf8.Valid(body) {
				return nil, Errorf(http.StatusBadRequest, "request body is not UTF-8")
			}
			for _, kv := range parseForm(string(body)) {
				p.addString(kv[0], kv[1])
			}
		case media == "application/json":
			obj, err := decodeJSONObject(body)
			if err != nil {
				return nil, err
			}
			for _, k := range obj.keys {
				if jsonKind(obj.values[k]) != kindNull { // JSON null reads as absent in Perl
					p.setJSON(k, obj.values[k])
				}
			}
		default:
			return nil, Errorf(http.StatusBadRequest, "unsupported content type '%s'", media)
		}
	}
	query := parseForm(r.URL.RawQuery)
	seen := map[string]bool{}
	for _, kv := range query {
		if kv[0] == dcParam {
			continue
		}
		if !seen[kv[0]] {
			seen[kv[0]] = true
			p.replace(kv[0], kv[1])
		} else {
			p.addString(kv[0], kv[1])
		}
	}
	delete(p.values, dcParam)
	p.order = removeName(p.order, dcParam)
	return p, nil
}

// ParsePBSParams reads a request's parameters as PBS does for ordinary API
// methods of any HTTP method (pbs-protocol.md 1.5): with Content-Type
// application/json only the JSON body object counts (an empty body is {});
// with application/x-www-form-urlencoded or no Content-Type the form body
// and the query string; any other type is a 400. Errors are *HTTPError
// with PBS's texts.
func ParsePBSParams(r *http.Request) (*Params, error) {
	p := newParams(auth.PBS)
	isJSON := false
	if ct := r.Header.Values("Content-Type"); len(ct) > 0 {
		v := ct[0]
		media, _, _ := strings.Cut(v, ";")
		switch {
		case !isHeaderText(v):
			return nil, Errorf(http.StatusBadRequest, "unsupported content type Err(ToStrError { _priv: () })")
		case media == "application/x-www-form-urlencoded":
		case media == "application/json":
			isJSON = true
		default:
			return nil, Errorf(http.StatusBadRequest, "unsupported content type Ok(%q)", v)
		}
	}
	body, err := readParamBody(r)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(body) {
		return nil, Errorf(http.StatusBadRequest, "Request body not uft8: invalid utf-8 sequence")
	}
	if isJSON {
		p.jsonBody = true
		obj, err := decodeJSONObject(body)
		if err != nil {
			return nil, err
		}
		for _, k := range obj.keys {
			p.setJSON(k, obj.values[k])
		}
		return p, nil
	}
	for _, kv := range parseForm(string(body)) {
		p.addString(kv[0], kv[1])
	}
	for _, kv := range parseForm(r.URL.RawQuery) {
		if kv[0] != dcParam {
			p.addString(kv[0], kv[1])
		}
	}
	return p, nil
}

// ParseQueryParams reads only the query string, for methods whose body is
// raw data (PBS chunk and blob uploads, downloads) and for calls inside
// backup and reader sessions.
func ParseQueryParams(p auth.Product, r *http.Request) *Params {
	ps := newParams(p)
	for _, kv := range parseForm(r.URL.RawQuery) {
		if kv[0] != dcParam {
			ps.addString(kv[0], kv[1])
		}
	}
	return ps
}

func readParamBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxParamBody+1))
	if err != nil {
		return nil, Errorf(http.StatusBadRequest, "Problems reading request body: %v", err)
	}
	if len(body) > MaxParamBody {
		return nil, Errorf(http.StatusBadRequest, "Request body too large")
	}
	return body, nil
}

// mediaType returns the lower-cased media type of a Content-Type value.
func mediaType(ct string) (string, bool) {
	if strings.TrimSpace(ct) == "" {
		return "", false
	}
	media, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(media)), true
}

// parseForm splits application/x-www-form-urlencoded text leniently, like
// the servers: pairs at '&', empty pairs skipped, name and value split at
// the first '=', '+' as space, valid %XX decoded and anything else kept,
// invalid UTF-8 replaced.
func parseForm(s string) [][2]string {
	var out [][2]string
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		out = append(out, [2]string{formDecode(k), formDecode(v)})
	}
	return out
}

func formDecode(s string) string {
	return strings.ToValidUTF8(percentDecodeLenient(strings.ReplaceAll(s, "+", " ")), "\uFFFD")
}

// jsonObject is a decoded JSON object with its keys in document order.
type jsonObject struct {
	keys   []string
	values map[string]json.RawMessage
}

// decodeJSONObject decodes a parameter body; empty means {}. Errors are
// 400 *HTTPError with PBS's texts for non-objects.
func decodeJSONObject(body []byte) (jsonObject, error) {
	obj := jsonObject{values: map[string]json.RawMessage{}}
	if len(bytes.TrimSpace(body)) == 0 {
		return obj, nil
	}
	var whole json.RawMessage
	if err := json.Unmarshal(body, &whole); err != nil {
		return obj, Errorf(http.StatusBadRequest, "invalid JSON body: %v", err)
	}
	switch jsonKind(whole) {
	case kindObject:
	case kindArray:
		return obj, Errorf(http.StatusBadRequest, "Expected object - got array.")
	default:
		return obj, Errorf(http.StatusBadRequest, "Expected object - got scalar value.")
	}
	dec := json.NewDecoder(bytes.NewReader(whole))
	if _, err := dec.Token(); err != nil { // '{'
		return obj, Errorf(http.StatusBadRequest, "invalid JSON body: %v", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return obj, Errorf(http.StatusBadRequest, "invalid JSON body: %v", err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return obj, Errorf(http.StatusBadRequest, "invalid JSON body: %v", err)
		}
		if _, dup := obj.values[key]; !dup {
			obj.keys = append(obj.keys, key)
		}
		obj.values[key] = v // the last duplicate wins, as in serde_json and Perl
	}
	return obj, nil
}

func removeName(names []string, name string) []string {
	out := names[:0]
	for _, n := range names {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}
