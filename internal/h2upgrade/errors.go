package h2upgrade

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinels matched with errors.Is.
var (
	// ErrMissingUpgrade reports an upgrade request without an Upgrade
	// header. The text is the message PBS answers with status 400.
	ErrMissingUpgrade = errors.New("missing Upgrade header")

	// ErrInvalidProtocol reports an Upgrade header that is not exactly the
	// expected protocol name. The text is PBS's 400 message.
	ErrInvalidProtocol = errors.New("invalid protocol name")

	// ErrHTTPVersion reports an upgrade request that did not come over
	// HTTP/1.x; PBS refuses those with 400.
	ErrHTTPVersion = errors.New("unexpected http version")

	// ErrNotHijackable reports a ResponseWriter that cannot hand over its
	// connection (for example one serving HTTP/2).
	ErrNotHijackable = errors.New("h2upgrade: connection cannot be taken over")

	// ErrProtocolMismatch reports a 101 answer whose Upgrade header names a
	// protocol other than the one requested.
	ErrProtocolMismatch = errors.New("h2upgrade: server switched to another protocol")

	// ErrMalformedResponse reports an answer to the upgrade request that is
	// not a readable HTTP/1.1 response.
	ErrMalformedResponse = errors.New("h2upgrade: malformed upgrade response")

	// ErrClosed reports a request on a session whose connection has ended,
	// whether the caller closed it or the peer or the network did.
	ErrClosed = errors.New("h2upgrade: session connection closed")
)

// UpgradeError is a refused upgrade: the server answered the upgrade
// request with a status other than 101. PBS bodies are plain text, so
// Message is the body with surrounding white space removed (for example
// "authentication failed" with 401, "permission check failed" with 403,
// "namespace not found" with 404, "invalid protocol name" with 400).
type UpgradeError struct {
	// Status is the HTTP status code of the answer.
	Status int
	// Message is the plain-text body, trimmed and cut at maxErrorBody bytes.
	Message string
}

// Error describes the refusal with the status and the server's message.
func (e *UpgradeError) Error() string {
	text := http.StatusText(e.Status)
	if text == "" {
		text = "status"
	}
	if e.Message == "" {
		return fmt.Sprintf("h2upgrade: upgrade refused: %d %s", e.Status, text)
	}
	return fmt.Sprintf("h2upgrade: upgrade refused: %d %s: %s", e.Status, text, e.Message)
}
