package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Limits on what is kept of error answers, so that a broken server cannot
// make errors huge.
const (
	maxErrorBody    = 64 << 10 // bytes of an error body that are read
	maxMessageLen   = 4 << 10  // bytes kept of a message
	maxParamErrors  = 64       // per-parameter errors kept
	maxParamNameLen = 128
)

var errTooLarge = errors.New("body exceeds the size limit")

// readLimited reads all of r, failing with errTooLarge when it holds more
// than limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return b, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// envelope is what a 2xx JSON answer held besides data.
type envelope struct {
	digest string
	total  int64
	attrs  map[string]json.RawMessage
}

// decodeEnvelope parses a success body {"data": ..., "digest": ...} and
// decodes data into out (unless out is nil). An empty body (204, HEAD) is
// accepted as "no data". Errors are plain; the caller wraps them into a
// *DecodeError that names the request.
func decodeEnvelope(body []byte, out any) (envelope, string, error) {
	var env envelope
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return env, "", nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return env, "not a JSON object", err
	}
	data, ok := top["data"]
	if !ok || top == nil {
		return env, `no "data" member`, nil
	}
	for k, v := range top {
		switch k {
		case "data":
			continue
		case "digest":
			_ = json.Unmarshal(v, &env.digest)
		case "total":
			_ = json.Unmarshal(v, &env.total)
		}
		if env.attrs == nil {
			env.attrs = make(map[string]json.RawMessage, len(top)-1)
		}
		env.attrs[k] = v
	}
	// null (void methods, or nothing found) leaves out untouched.
	if out != nil && string(bytes.TrimSpace(data)) != "null" {
		if err := json.Unmarshal(data, out); err != nil {
			return env, `"data" does not fit the result type`, err
		}
	}
	return env, "", nil
}

// decodeErrorBody reads what both products put into a non-2xx answer:
// a JSON object with "message" and "errors" (PVE), or plain text (PBS,
// whatever the Content-Type says), or nothing (PVE 401: the message is the
// reason phrase). It never fails; odd bodies give a shortened message.
func decodeErrorBody(status int, reason string, body []byte) *APIError {
	e := &APIError{Status: status, Reason: clean(reason, maxMessageLen)}
	body = bytes.TrimSpace(body)
	switch {
	case len(body) == 0:
	case body[0] == '{' && decodeJSONError(e, body):
	case body[0] == '<':
		// An HTML page from a proxy in front of the server: the reason
		// phrase says more than the markup.
	default:
		e.Message = clean(string(body), maxMessageLen)
	}
	if e.Message == "" {
		e.Message = e.Reason
	}
	if e.Errors == nil {
		e.Errors = parseParamErrors(e.Message)
	}
	return e
}

// decodeJSONError fills e from a JSON error object; false when body is
// not one.
func decodeJSONError(e *APIError, body []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil || top == nil {
		return false
	}
	if raw, ok := top["message"]; ok {
		e.Message = clean(jsonText(raw), maxMessageLen)
	}
	var errs map[string]json.RawMessage
	if raw, ok := top["errors"]; ok && json.Unmarshal(raw, &errs) == nil {
		for k, v := range errs {
			addParamError(e, k, jsonText(v))
		}
	}
	return true
}

// jsonText returns a JSON string's value, or the raw JSON of anything else.
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

func addParamError(e *APIError, name, msg string) {
	name = clean(name, maxParamNameLen)
	if name == "" || len(e.Errors) >= maxParamErrors {
		return
	}
	if e.Errors == nil {
		e.Errors = make(map[string]string)
	}
	if _, dup := e.Errors[name]; !dup {
		e.Errors[name] = clean(msg, maxMessageLen)
	}
}

// clean makes server text safe to show: valid UTF-8, trimmed, bounded.
func clean(s string, max int) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// PBS parameter errors (proxmox-schema's ParameterError display):
//
//	parameter verification failed - 'name': message
//	parameter verification failed:
//	- 'name': message
//	- 'other': message
const (
	pbsParamPrefix = "parameter verification failed"
)

// parseParamErrors extracts per-parameter errors from a PBS message; nil
// when it is not a parameter error. Lines that do not start a new
// parameter continue the previous message.
func parseParamErrors(msg string) map[string]string {
	rest, ok := strings.CutPrefix(msg, pbsParamPrefix)
	if !ok {
		return nil
	}
	e := &APIError{}
	if one, ok := strings.CutPrefix(rest, " - "); ok {
		if name, text, ok := splitParam(one); ok {
			addParamError(e, name, text)
		}
		return e.Errors
	}
	rest, ok = strings.CutPrefix(rest, ":")
	if !ok {
		return nil
	}
	var name string
	var text strings.Builder
	flush := func() {
		if name != "" {
			addParamError(e, name, text.String())
		}
		name = ""
		text.Reset()
	}
	for _, line := range strings.Split(rest, "\n") {
		line = strings.TrimRight(line, "\r")
		if item, ok := strings.CutPrefix(line, "- "); ok {
			if n, t, ok := splitParam(item); ok {
				flush()
				name = n
				text.WriteString(t)
				continue
			}
		}
		if name != "" && strings.TrimSpace(line) != "" {
			text.WriteString("\n" + line)
		}
	}
	flush()
	return e.Errors
}

// splitParam splits "'name': message".
func splitParam(s string) (name, msg string, ok bool) {
	if !strings.HasPrefix(s, "'") {
		return "", "", false
	}
	end := strings.Index(s[1:], "': ")
	if end < 0 {
		if n, found := strings.CutSuffix(s[1:], "':"); found && n != "" {
			return n, "", true
		}
		return "", "", false
	}
	name = s[1 : 1+end]
	if name == "" {
		return "", "", false
	}
	return name, s[1+end+3:], true
}

// Texts by which both products report missing or duplicate objects
// without a dedicated status (PVE: 500 "no such user ('x')", "role 'x'
// does not exist"; PBS: 400 "token 'x' of user 'y' does not exist.",
// "user 'x' already exists."), and PBS's (and PVE's, for realms) stale
// digest refusal.
var (
	notFoundTexts = []string{"no such ", "does not exist", "' not found"}
	existsTexts   = []string{"already exist"}
	conflictTexts = []string{"detected modified configuration"}
)

// unknownPath reports the servers' answers for a path or method they do
// not route: PBS 404 "Path '/api2/json/x' not found.", PVE 501 "Method
// 'GET /x' not implemented".
func (e *APIError) unknownPath() bool {
	switch e.Status {
	case http.StatusNotFound:
		return strings.HasPrefix(e.Message, "Path '") && strings.HasSuffix(e.Message, "' not found.")
	case http.StatusNotImplemented:
		m := strings.ToLower(e.Message)
		return strings.HasPrefix(m, "method '") && strings.HasSuffix(m, "' not implemented")
	}
	return false
}

// lowerText is reason, message and parameter errors in lower case, for
// matching the servers' texts.
func (e *APIError) lowerText() string {
	var all strings.Builder
	all.WriteString(strings.ToLower(e.Reason + "\n" + e.Message))
	for _, v := range e.Errors {
		all.WriteString("\n" + strings.ToLower(v))
	}
	return all.String()
}

// meaning classifies the message of a 400 or 5xx answer as ErrNotFound,
// ErrExists or ErrConflict, or returns nil. 401 and 403 keep their own
// meaning whatever the text says.
func (e *APIError) meaning() error {
	if e.Status != 400 && (e.Status < 500 || e.Status > 599) {
		return nil
	}
	text := e.lowerText()
	has := func(list []string) bool {
		for _, s := range list {
			if strings.Contains(text, s) {
				return true
			}
		}
		return false
	}
	notFound, exists := has(notFoundTexts), has(existsTexts)
	switch {
	case has(conflictTexts):
		return ErrConflict
	case notFound && !exists:
		return ErrNotFound
	case exists && !notFound:
		return ErrExists
	}
	return nil
}
