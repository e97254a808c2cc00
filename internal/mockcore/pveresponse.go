package mockcore

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// APIPrefix is the path prefix of both products' JSON API.
const APIPrefix = "/api2/json"

// JSONContentType is the Content-Type of both servers' API responses,
// errors included.
const JSONContentType = "application/json;charset=UTF-8"

// PVE reason phrases (access-api.md 2.4, 8.1).
const (
	// PVEReasonNoTicket: the request carries no credentials.
	PVEReasonNoTicket = "No ticket"
	// PVEReasonAuthFailed: bad token or ticket, or an inactive account.
	PVEReasonAuthFailed = "Authentication failed!"
	// PVEReasonInvalidCSRF: a ticket session's non-GET request without a
	// valid CSRF prevention token.
	PVEReasonInvalidCSRF = "Permission denied - invalid csrf token"
	// PVEReasonParamFailed: the reason of every parameter error.
	PVEReasonParamFailed = "Parameter verification failed."
	// PVELoginFailed is reason and message of a failed POST /access/ticket.
	PVELoginFailed = "authentication failure"
)

// PVE parameter error messages (access-api.md 8.1; JSONSchema.pm).
const (
	// PVEMsgUnknownParam: a parameter the method does not define.
	PVEMsgUnknownParam = "property is not defined in schema and the schema does not allow additional properties"
	// PVEMsgMissingParam: a required parameter is absent.
	PVEMsgMissingParam = "property is missing and it is not optional"
	// PVEMsgPathConflict: a path parameter repeated with another value in
	// the query or body.
	PVEMsgPathConflict = "duplicate parameter (already defined in URI) with conflicting values!"

	pveMsgDuplicateParam = "duplicate parameter"
)

// marshalJSON encodes v like the servers: no HTML escaping, no trailing
// newline.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// envelope returns {"data": data, extra...}; extra cannot replace data.
func envelope(data any, extra map[string]any) map[string]any {
	m := make(map[string]any, len(extra)+1)
	for k, v := range extra {
		m[k] = v
	}
	m["data"] = data
	return m
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := marshalJSON(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", JSONContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}

// WritePVEData writes a PVE success: 200 {"data": data}. A value that
// cannot be encoded as JSON is a bug in the mock and yields a 500.
func WritePVEData(w http.ResponseWriter, r *http.Request, data any) {
	WritePVEResult(w, r, data, nil)
}

// WritePVEResult is WritePVEData with extra top-level members next to data
// (some PVE list calls add "total" or "changes").
func WritePVEResult(w http.ResponseWriter, r *http.Request, data any, extra map[string]any) {
	if err := writeJSON(w, http.StatusOK, envelope(data, extra)); err != nil {
		WritePVEMessage(w, r, http.StatusInternalServerError, "mock could not encode its result: "+err.Error())
	}
}

// WritePVEError writes a PVE error with reason on the status line (see
// writeWithReason for how) and body as JSON, or an empty body when body is
// nil.
func WritePVEError(w http.ResponseWriter, r *http.Request, status int, reason string, body any) {
	if body == nil {
		writeWithReason(w, r, status, reason, "", nil)
		return
	}
	b, err := marshalJSON(body)
	if err != nil {
		b = []byte(`{"data":null}`)
	}
	writeWithReason(w, r, status, reason, JSONContentType, b)
}

// WritePVEAuthError writes a PVE 401 with reason (PVEReasonNoTicket,
// PVEReasonAuthFailed, PVEReasonInvalidCSRF) and an empty body. It does not
// delay; see Authenticator.WriteFailure.
func WritePVEAuthError(w http.ResponseWriter, r *http.Request, reason string) {
	WritePVEError(w, r, http.StatusUnauthorized, reason, nil)
}

// PVEAuthReason maps an Authenticate error to its PVE reason phrase.
func PVEAuthReason(err error) string {
	switch {
	case errors.Is(err, ErrNoCredentials):
		return PVEReasonNoTicket
	case errors.Is(err, ErrInvalidCSRF):
		return PVEReasonInvalidCSRF
	default:
		return PVEReasonAuthFailed
	}
}

// WritePVEMessage writes a PVE error whose reason is the first line of msg
// and whose body is {"data":null,"message":msg} with msg ending in a
// newline, as PVE formats exceptions (500 for handler failures, 501 for
// unknown methods, 403 for permission errors, 401 for a failed login).
func WritePVEMessage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	reason, _, _ := strings.Cut(msg, "\n")
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	WritePVEError(w, r, status, reason, map[string]any{"data": nil, "message": msg})
}

// PVEPermissionText is PVE's text for a failed privilege check:
// "Permission check failed (<path>, <priv>)", privileges of an "any of"
// check joined with '|', or just "Permission check failed" without a path.
func PVEPermissionText(path string, privs ...string) string {
	if path == "" {
		return "Permission check failed"
	}
	return "Permission check failed (" + path + ", " + strings.Join(privs, "|") + ")"
}

// WritePVEPermissionDenied writes PVE's 403 for a failed privilege check
// (see PVEPermissionText).
func WritePVEPermissionDenied(w http.ResponseWriter, r *http.Request, path string, privs ...string) {
	WritePVEMessage(w, r, http.StatusForbidden, PVEPermissionText(path, privs...))
}

// WritePVETokenRefused writes PVE's 403 for an API token on an endpoint
// marked allowtoken=0 (POST /access/ticket, PUT /access/password, TFA
// changes); relPath is the path below /api2/json.
func WritePVETokenRefused(w http.ResponseWriter, r *http.Request, relPath string) {
	// PVE wraps a message that already ends in a newline in parentheses,
	// so the reason (first line) lacks the closing one.
	WritePVEMessage(w, r, http.StatusForbidden,
		"Permission check failed (URI '"+relPath+"' not available with API token, need proper ticket.\n)")
}

// WritePVEParamError writes PVE's 400: reason "Parameter verification
// failed.", body {"data":null,"errors":{...},"message":"Parameter
// verification failed.\n"}.
func WritePVEParamError(w http.ResponseWriter, r *http.Request, err *ParamError) {
	WritePVEError(w, r, http.StatusBadRequest, PVEReasonParamFailed, map[string]any{
		"data":    nil,
		"errors":  err.Map(),
		"message": PVEReasonParamFailed + "\n",
	})
}

// WritePVENotImplemented writes PVE's 501 for an unknown path or method:
// "Method 'GET /access/x' not implemented", the path taken below
// /api2/json.
func WritePVENotImplemented(w http.ResponseWriter, r *http.Request) {
	rel := strings.TrimPrefix(r.URL.Path, APIPrefix)
	WritePVEMessage(w, r, http.StatusNotImplemented, "Method '"+r.Method+" "+rel+"' not implemented")
}

// WritePVEFailure writes any handler error in PVE's dialect: *ParamError
// as a parameter error, *HTTPError with its status and message, anything
// else as 500 with the error text.
func WritePVEFailure(w http.ResponseWriter, r *http.Request, err error) {
	var pe *ParamError
	var he *HTTPError
	switch {
	case errors.As(err, &pe):
		WritePVEParamError(w, r, pe)
	case errors.As(err, &he):
		WritePVEMessage(w, r, he.Status, he.Message)
	default:
		WritePVEMessage(w, r, http.StatusInternalServerError, err.Error())
	}
}
