package pbs

import (
	"errors"

	"github.com/proxkit/proxkit/internal/httpapi"
)

// Sentinels for errors.Is. An *Error matches the one its status and
// message mean; ErrNotFound, ErrExists and ErrConflict also follow the
// server's text, since PBS reports them as 400 with a message.
var (
	ErrBadRequest   = httpapi.ErrBadRequest   // HTTP 400
	ErrUnauthorized = httpapi.ErrUnauthorized // HTTP 401: bad, expired or disabled credentials
	ErrForbidden    = httpapi.ErrForbidden    // HTTP 403: authenticated, but missing a privilege
	ErrNotFound     = httpapi.ErrNotFound     // the object named does not exist
	ErrUnknownPath  = httpapi.ErrUnknownPath  // the server has no such API endpoint
	ErrExists       = httpapi.ErrExists       // the object to create exists already
	ErrConflict     = httpapi.ErrConflict     // stale digest: re-read and retry
	ErrServer       = httpapi.ErrServer       // HTTP 5xx

	// ErrMalformedResponse: the server's answer is not what the API sends.
	ErrMalformedResponse = httpapi.ErrMalformedResponse
	// ErrResponseTooLarge: an answer exceeded the size limit.
	ErrResponseTooLarge = httpapi.ErrResponseTooLarge
	// ErrInvalidRequest: a call refused before anything was sent, such as
	// a user id where a token method needs an API token id.
	ErrInvalidRequest = httpapi.ErrInvalidRequest
)

// Error is an error answer of the server. It never contains secrets.
type Error struct {
	Method  string            // HTTP method of the call
	Path    string            // API path, relative to /api2/json, without query
	Status  int               // HTTP status code
	Message string            // the server's message
	Errors  map[string]string // per-parameter problems, if the server named any
	// Hint is "" or a likely cause of the failure, such as a
	// privilege-separated token without its own ACL entry.
	Hint string

	api *httpapi.APIError
}

// Error implements error: "PBS GET /access/users: HTTP 403 Forbidden: … (hint: …)".
func (e *Error) Error() string { return e.api.Error() }

// Is matches the package's sentinels (ErrForbidden, ErrNotFound …).
func (e *Error) Is(target error) bool { return e.api.Is(target) }

// wrapError turns the HTTP core's *httpapi.APIError into an *Error and
// leaves every other error (transport, decoding, context) as it is.
func wrapError(err error) error {
	var api *httpapi.APIError
	if !errors.As(err, &api) {
		return err
	}
	return &Error{
		Method: api.Method, Path: api.Path, Status: api.Status, Message: api.Message,
		Errors: api.Errors, Hint: api.Hint, api: api,
	}
}
