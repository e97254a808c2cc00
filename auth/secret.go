package auth

import (
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
)

const redacted = "[redacted]"

// Secret holds a password or API token secret. Its value never appears in
// String, GoString, any fmt verb, JSON or text marshalling; reading it needs
// an explicit call to Reveal.
//
// The value sits behind a pointer so that even fmt's reflection-based
// printing of a struct with an unexported Secret field (which cannot call
// Format) shows only an address. Copies share the immutable value. The zero
// value is the empty secret.
type Secret struct {
	value *string
}

// NewSecret wraps s.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{value: &s}
}

// Reveal returns the secret value. Call it only where the value is sent to
// the server or written to a file meant to hold it.
func (s Secret) Reveal() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == nil || *s.value == "" }

// Equal reports whether s and t hold the same value, in constant time for
// values of equal length.
func (s Secret) Equal(t Secret) bool {
	return subtle.ConstantTimeCompare([]byte(s.Reveal()), []byte(t.Reveal())) == 1
}

// String returns a placeholder, never the value: "" for the empty secret,
// "[redacted]" otherwise.
func (s Secret) String() string {
	if s.IsZero() {
		return ""
	}
	return redacted
}

// GoString returns a placeholder, never the value.
func (s Secret) GoString() string { return "auth.Secret(" + redacted + ")" }

// Format implements fmt.Formatter so that every verb, %x and %q included,
// prints the placeholder.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = io.WriteString(f, s.String())
}

// MarshalText implements encoding.TextMarshaler with the placeholder.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON implements json.Marshaler with the placeholder.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// LogValue implements slog.LogValuer with the placeholder.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
