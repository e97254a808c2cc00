package mockcore

import (
	"errors"
	"net/http"
	"strconv"
)

// PBS error texts (access-api.md 2.4, pbs-protocol.md 1.5).
const (
	// PBSAuthFailed is the body of every PBS 401 from request
	// authentication.
	PBSAuthFailed = "authentication failed"
	// PBSPermissionFailed is the body of PBS's endpoint-level 403.
	PBSPermissionFailed = "permission check failed"
	// PBSLoginFailed is the body of a failed POST /access/ticket.
	PBSLoginFailed = "permission check failed."
	// PBSMsgModified is the 400 for a stale "digest" (access-api.md 8.3).
	PBSMsgModified = "detected modified configuration - file changed by other user? Try again."
)

// WritePBSData writes a PBS success: 200 {"data": data} plus extra
// top-level members such as "digest".
func WritePBSData(w http.ResponseWriter, data any, extra map[string]any) {
	if err := writeJSON(w, http.StatusOK, envelope(data, extra)); err != nil {
		WritePBSError(w, http.StatusInternalServerError, "mock could not encode its result: "+err.Error())
	}
}

// WritePBSError writes a PBS error: the plain text as body, although the
// Content-Type says JSON, as the real server does. Status 0 means 400, the
// status of every PBS error without an explicit one.
func WritePBSError(w http.ResponseWriter, status int, text string) {
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", JSONContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}

// WritePBSNotFound writes PBS's 404 "Path '/api2/json/<path>' not found."
// for the request's (normalized) path.
func WritePBSNotFound(w http.ResponseWriter, r *http.Request) {
	WritePBSError(w, http.StatusNotFound, "Path '"+r.URL.EscapedPath()+"' not found.")
}

// WritePBSFailure writes any handler error in PBS's dialect: *HTTPError
// with its status, anything else (parameter errors included) as 400 with
// the error text.
func WritePBSFailure(w http.ResponseWriter, err error) {
	var he *HTTPError
	var pe *ParamError
	switch {
	case errors.As(err, &he):
		WritePBSError(w, he.Status, he.Message)
	case errors.As(err, &pe):
		WritePBSError(w, http.StatusBadRequest, pe.Error())
	default:
		WritePBSError(w, http.StatusBadRequest, err.Error())
	}
}
