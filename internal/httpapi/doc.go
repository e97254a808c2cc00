// Package httpapi is the HTTP core shared by the Proxmox VE (PVE) and
// Proxmox Backup Server (PBS) clients: one Client per server, holding the
// normalised base URL, a go-cleanhttp transport with the caller's TLS
// configuration, and the credentials applied to every request.
//
// Calls take a context first. Paths are relative to /api2/json and built
// with JoinPath/PathEscape, which keep '@' and '!' of user and token ids
// readable and escape everything that could split a segment:
//
//	c, err := httpapi.New(httpapi.Config{BaseURL: "https://pbs:8007", Product: auth.PBS, Credentials: token})
//	var users []User
//	err = c.Get(ctx, "/access/users", nil, &users)
//	resp, err := c.Do(ctx, httpapi.Request{Method: "PUT", Path: httpapi.JoinPath("access", "users", id),
//		Params: update})
//
// Answers are unwrapped from the {"data": ...} envelope into the caller's
// value; top-level siblings of data (PBS "digest", PVE "total") come back
// in Response.
//
// Parameters are Values (ordered; booleans as 0/1, lists comma-joined for
// PVE and repeated for PBS, secrets redacted when printed) or structs
// encoded by EncodeParams from `api:"name,omitempty"` tags, where nil
// pointer fields are not sent: an update carries only what the caller
// set. GET, HEAD and DELETE put them in the query string, POST and PUT in
// an application/x-www-form-urlencoded body (never JSON, which PBS would
// read instead of the query string), raw uploads in the query string.
//
// Errors: *APIError decodes both products' shapes (PVE's reason phrase and
// JSON {"message","errors"}, PBS's plain-text bodies and its "parameter
// verification failed" lists), matches sentinels with errors.Is
// (ErrUnauthorized, ErrForbidden, ErrNotFound, ErrExists, ErrConflict,
// ErrBadRequest, ErrServer, ErrUnknownPath) and carries a Hint for common mistakes, such as
// a user id where an API token id belongs or a privilege-separated token
// without its own ACL. ErrNotFound and ErrExists also follow the text,
// because PVE answers 500 "no such user ('x')" and PBS 400 "... does not
// exist."; only 400 and 5xx answers are classified that way. *DecodeError
// reports malformed or oversized answers, *TransportError requests that
// got no answer. No error or log record contains a secret, cookie or
// Authorization header.
//
// Retries: GET and HEAD (or requests marked Idempotent) with replayable
// bodies are retried on connection errors and 5xx answers (not 501, not
// "no such ..." handler errors) with jittered exponential backoff that
// honours the context; see RetryPolicy.
package httpapi
