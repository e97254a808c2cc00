package mockcore

import (
	"errors"
	"fmt"
)

// Sentinels for errors.Is. Authentication failures are *AuthError values
// whose Kind is one of the first three.
var (
	// ErrNoCredentials: the request carries neither a ticket cookie nor a
	// token header of the product (PVE answers 401 "No ticket").
	ErrNoCredentials = errors.New("no authentication credentials provided")
	// ErrAuthFailed: credentials are present but malformed, unknown,
	// disabled, expired or wrong (PVE 401 "Authentication failed!").
	ErrAuthFailed = errors.New("authentication failed")
	// ErrInvalidCSRF: a ticket-authenticated non-GET request lacks a valid
	// CSRF prevention token (PVE 401 "Permission denied - invalid csrf token").
	ErrInvalidCSRF = errors.New("invalid csrf token")

	// ErrInvalidTicket is matched by every *TicketError.
	ErrInvalidTicket = errors.New("invalid ticket")
	// ErrTicketExpired: the ticket or CSRF token is older than TicketLifetime.
	ErrTicketExpired = errors.New("ticket expired")
	// ErrTicketFromFuture: the timestamp lies more than TicketFutureSkew ahead.
	ErrTicketFromFuture = errors.New("ticket timestamp newer than expected")

	// ErrParameter is matched by every *ParamError.
	ErrParameter = errors.New("parameter verification failed")
)

// AuthError describes why a request is not authenticated. Reason is meant
// for logs and test failures; it never contains a secret, ticket or CSRF
// token.
type AuthError struct {
	Kind   error // ErrNoCredentials, ErrAuthFailed or ErrInvalidCSRF
	Reason string
}

// Error returns "mockcore: <kind>: <reason>".
func (e *AuthError) Error() string {
	if e.Reason == "" {
		return "mockcore: " + e.Kind.Error()
	}
	return "mockcore: " + e.Kind.Error() + ": " + e.Reason
}

// Is matches e.Kind.
func (e *AuthError) Is(target error) bool { return target == e.Kind }

func authFailed(reason string) *AuthError { return &AuthError{Kind: ErrAuthFailed, Reason: reason} }

// HTTPError is a handler failure with an explicit status, written in the
// product's dialect by WritePVEFailure or WritePBSFailure.
type HTTPError struct {
	Status  int
	Message string
}

// Errorf returns an *HTTPError with a formatted message.
func Errorf(status int, format string, args ...any) *HTTPError {
	return &HTTPError{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Error returns "<status>: <message>".
func (e *HTTPError) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }
