package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
)

// Sentinels matched by *APIError with errors.Is. The status sentinels
// (ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrServer) follow the
// HTTP status alone. ErrNotFound, ErrExists and ErrConflict also follow
// the server's message, because both products report most of these cases
// without a dedicated status (see APIError.Is).
var (
	// ErrBadRequest: HTTP 400 (PBS uses it for every error without an own
	// status, parameter errors included).
	ErrBadRequest = errors.New("bad request")
	// ErrUnauthorized: HTTP 401, authentication failed.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: HTTP 403, authenticated but not permitted.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: HTTP 404, or a message saying that an object the call
	// names (addressed or referenced) does not exist. An unknown API path
	// is ErrUnknownPath instead, so that a missing endpoint is never
	// mistaken for a missing object.
	ErrNotFound = errors.New("not found")
	// ErrUnknownPath: the server has no such API endpoint or method (PBS:
	// 404 "Path '...' not found."; PVE: 501 "Method '...' not
	// implemented"), for example a call newer than the server.
	ErrUnknownPath = errors.New("unknown API path")
	// ErrExists: the server said the object to create already exists.
	ErrExists = errors.New("already exists")
	// ErrConflict: HTTP 409, or PBS's stale-digest refusal ("detected
	// modified configuration"): re-read and try again.
	ErrConflict = errors.New("conflict")
	// ErrServer: any HTTP 5xx status (PVE answers 500 for most handler
	// errors, so it can be combined with ErrNotFound or ErrExists).
	ErrServer = errors.New("server error")

	// ErrMalformedResponse is matched by *DecodeError: the answer is not
	// what the API sends (not JSON, no "data", wrong type).
	ErrMalformedResponse = errors.New("malformed response")
	// ErrResponseTooLarge is matched by *DecodeError when a JSON answer
	// exceeds Config.MaxResponseSize.
	ErrResponseTooLarge = errors.New("response too large")
)

// APIError is a non-2xx answer of a PVE or PBS server, decoded from either
// product's error shape: PVE puts the message in the status line's reason
// phrase (401 has an empty body) and in a JSON body {"data":null,
// "message":..., "errors":{...}}; PBS sends the plain message text as the
// body (with a JSON content type). It never contains credentials: request
// parameters are not kept and secret values echoed by a server are
// replaced with "[redacted]".
type APIError struct {
	Product auth.Product
	Method  string
	Path    string // API path relative to /api2/json, without the query
	Status  int    // HTTP status code
	// Reason is the status line's text after the code; PVE puts its
	// message there ("Authentication failed!", "no such user ('x')").
	Reason string
	// Message is the server's message: PVE's JSON "message" (or the
	// reason when the body has none), PBS's body text.
	Message string
	// Errors holds per-parameter problems: PVE's JSON "errors", or PBS's
	// "parameter verification failed - 'x': msg" text parsed.
	Errors map[string]string
	// Hint is "" or a short, actionable guess at the cause (for example a
	// user id used where an API token id is needed); Error includes it.
	Hint string

	retryAfter time.Duration // a 503's Retry-After
}

// Error implements error: "PBS GET /access/users: HTTP 401 Unauthorized:
// authentication failed (hint: ...)".
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s: HTTP %d", e.Product, e.Method, e.Path, e.Status)
	std := http.StatusText(e.Status)
	reason, msg := strings.TrimSpace(e.Reason), strings.TrimSpace(e.Message)
	switch {
	case msg == "" && reason == "":
		b.WriteString(" " + std)
	case msg == "" || msg == reason:
		b.WriteString(" " + oneLine(reason))
	case reason == "" || reason == std:
		b.WriteString(" " + std + ": " + oneLine(msg))
	case strings.Contains(msg, reason):
		// PVE repeats the message (or its first line) as the reason.
		b.WriteString(": " + oneLine(msg))
	default:
		b.WriteString(" " + reason + ": " + oneLine(msg))
	}
	if missing := e.unmentionedErrors(msg); len(missing) > 0 {
		b.WriteString(" (")
		for i, k := range missing {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(k + ": " + oneLine(e.Errors[k]))
		}
		b.WriteString(")")
	}
	if e.Hint != "" {
		b.WriteString(" (hint: " + e.Hint + ")")
	}
	return b.String()
}

// unmentionedErrors returns the sorted parameter names whose message the
// main message does not already contain (PBS lists them there).
func (e *APIError) unmentionedErrors(msg string) []string {
	var keys []string
	for k, v := range e.Errors {
		if !strings.Contains(msg, strings.TrimSpace(v)) || !strings.Contains(msg, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// oneLine joins the lines of a multi-line message with "; ", or with a
// space after a line ending in ':', and drops list dashes: PBS's
// "failed:\n- 'a': x\n- 'b': y" becomes "failed: 'a': x; 'b': y".
func oneLine(s string) string {
	var b strings.Builder
	sep := ""
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.TrimSpace(line)
		if item, ok := strings.CutPrefix(line, "- "); ok {
			line = item
		}
		if line == "" {
			continue
		}
		b.WriteString(sep + line)
		sep = "; "
		if strings.HasSuffix(line, ":") {
			sep = " "
		}
	}
	return b.String()
}

// Is matches the sentinels: the status ones by status code, ErrUnknownPath
// by the servers' texts for unknown endpoints, ErrNotFound for other 404s
// and for 400/5xx answers whose text says an object does not exist ("no
// such user ('x')", "token 'x' of user 'y' does not exist."), ErrExists
// for 400/500 answers saying it already exists, ErrConflict also for
// PBS's "detected modified configuration" (stale digest). Texts matching
// both "exists" and "does not exist" match neither.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.Status == http.StatusBadRequest
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrServer:
		return e.Status >= 500 && e.Status <= 599
	case ErrNotFound:
		return e.Status == http.StatusNotFound && !e.unknownPath() || e.meaning() == ErrNotFound
	case ErrUnknownPath:
		return e.unknownPath()
	case ErrExists:
		return e.meaning() == ErrExists
	case ErrConflict:
		return e.Status == http.StatusConflict || e.meaning() == ErrConflict
	}
	return false
}

// DecodeError reports a response that could not be decoded: a 2xx answer
// that is not a JSON object with "data", whose "data" does not fit the
// caller's type, or that exceeds the size limit. It matches
// ErrMalformedResponse or ErrResponseTooLarge and unwraps to the
// underlying JSON or I/O error.
type DecodeError struct {
	Product auth.Product
	Method  string
	Path    string
	Status  int
	Reason  string // what was wrong
	Err     error
}

// Error implements error.
func (e *DecodeError) Error() string {
	msg := fmt.Sprintf("%s %s %s: unusable HTTP %d answer: %s", e.Product, e.Method, e.Path, e.Status, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is matches ErrMalformedResponse, or ErrResponseTooLarge for oversized
// answers.
func (e *DecodeError) Is(target error) bool {
	if errors.Is(e.Err, errTooLarge) {
		return target == ErrResponseTooLarge
	}
	return target == ErrMalformedResponse
}

// TransportError reports a request that got no HTTP answer (connection
// refused, TLS failure, reset) after Attempts tries. It names the method
// and path but not the URL's query. Err is the cause, reachable with
// errors.Is/As (for example *auth.FingerprintMismatchError or
// *tls.CertificateVerificationError).
type TransportError struct {
	Product  auth.Product
	Method   string
	Path     string
	Attempts int
	Err      error
}

// Error implements error.
func (e *TransportError) Error() string {
	s := fmt.Sprintf("%s %s %s", e.Product, e.Method, e.Path)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (%d attempts)", e.Attempts)
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }
