package auth

import (
	"errors"
	"fmt"
)

// Sentinels matched with errors.Is by the typed errors of this package.
var (
	// ErrInvalidRepository: a repository string does not parse.
	ErrInvalidRepository = errors.New("invalid repository")
	// ErrInvalidFingerprint: a certificate fingerprint does not parse.
	ErrInvalidFingerprint = errors.New("invalid fingerprint")
	// ErrInvalidURL: a base URL is not https://host[:port].
	ErrInvalidURL = errors.New("invalid base URL")
	// ErrInvalidConfig: a pbs-config.json file or value is invalid.
	ErrInvalidConfig = errors.New("invalid configuration")
	// ErrMissingSecret: credentials need a secret that was not provided.
	ErrMissingSecret = errors.New("secret not provided")
	// ErrInvalidEnv: an environment variable holds an unusable value.
	ErrInvalidEnv = errors.New("invalid environment")
	// ErrLoginFailed: a ticket login or renewal failed.
	ErrLoginFailed = errors.New("login failed")
	// ErrFingerprintMismatch: the server presented another certificate
	// than the pinned one.
	ErrFingerprintMismatch = errors.New("certificate fingerprint mismatch")
)

// ParseError reports text that does not parse. Input is redacted like
// IDError.Input (cut at the first '=' or ':' where a secret could follow,
// or left empty where the text itself may be secret) so that the error is
// safe to log. Err is the sentinel (ErrInvalidRepository, ...) it unwraps to.
type ParseError struct {
	Kind   string // "repository", "fingerprint", "base URL", ...
	Input  string // redacted input; may be empty
	Reason string
	Err    error
}

// Error implements error.
func (e *ParseError) Error() string {
	if e.Input == "" {
		return fmt.Sprintf("invalid %s: %s", e.Kind, e.Reason)
	}
	return fmt.Sprintf("invalid %s %s: %s", e.Kind, quoteRedacted(e.Input), e.Reason)
}

// Unwrap returns the sentinel.
func (e *ParseError) Unwrap() error { return e.Err }

// MissingSecretError reports credentials that need a secret nobody
// provided. It matches ErrMissingSecret.
type MissingSecretError struct {
	AuthID Authid
	Token  bool // an API token secret (else a password) is missing
	Where  string
}

// Error implements error.
func (e *MissingSecretError) Error() string {
	what := "password"
	if e.Token {
		what = "API token secret"
	}
	msg := fmt.Sprintf("%s must be provided for %s", what, e.AuthID)
	if e.Where != "" {
		msg += " (" + e.Where + ")"
	}
	return msg
}

// Is makes errors.Is(err, ErrMissingSecret) true.
func (e *MissingSecretError) Is(target error) bool { return target == ErrMissingSecret }
