package auth

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
)

// Fingerprint is the SHA-256 digest of a certificate's DER encoding, the
// value proxmox-backup-client takes in PBS_FINGERPRINT and PVE and PBS show
// in their certificate views.
type Fingerprint [sha256.Size]byte

// ParseFingerprint parses 32 hex byte pairs, either joined with ':' as the
// servers print them ("ab:CD:…", 95 characters) or without separators (64
// hex digits). Hex digits may be upper or lower case; surrounding
// whitespace is ignored. Errors describe the problem without echoing the
// input.
func ParseFingerprint(s string) (Fingerprint, error) {
	var fp Fingerprint
	s = strings.TrimSpace(s)
	var digits string
	switch {
	case s == "":
		return fp, fpErr("empty")
	case strings.IndexByte(s, ':') >= 0:
		if len(s) != 3*len(fp)-1 {
			return fp, fpErr(fmt.Sprintf("%d characters; expected 32 colon-separated hex byte pairs (95 characters)", len(s)))
		}
		var b strings.Builder
		for i := 0; i < len(s); i += 3 {
			if i+2 < len(s) && s[i+2] != ':' {
				return fp, fpErr(fmt.Sprintf("expected ':' at position %d", i+3))
			}
			b.WriteString(s[i : i+2])
		}
		digits = b.String()
	default:
		if len(s) != 2*len(fp) {
			return fp, fpErr(fmt.Sprintf("%d characters; expected 64 hex digits or 32 colon-separated hex byte pairs", len(s)))
		}
		digits = s
	}
	for i := 0; i < len(digits); i++ {
		if !isHexDigit(digits[i]) {
			return fp, fpErr("contains a character that is not a hex digit")
		}
	}
	if _, err := hex.Decode(fp[:], []byte(digits)); err != nil {
		return Fingerprint{}, fpErr("not hexadecimal")
	}
	return fp, nil
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func fpErr(reason string) error {
	return &ParseError{Kind: "fingerprint", Reason: reason, Err: ErrInvalidFingerprint}
}

// MustParseFingerprint is ParseFingerprint for literals; it panics on
// invalid input.
func MustParseFingerprint(s string) Fingerprint {
	fp, err := ParseFingerprint(s)
	if err != nil {
		panic(err)
	}
	return fp
}

// FingerprintOf returns the SHA-256 fingerprint of cert's DER encoding, or
// the zero Fingerprint for nil.
func FingerprintOf(cert *x509.Certificate) Fingerprint {
	if cert == nil {
		return Fingerprint{}
	}
	return sha256.Sum256(cert.Raw)
}

// IsZero reports whether fp is all zero bytes (no fingerprint).
func (fp Fingerprint) IsZero() bool { return fp == Fingerprint{} }

// String returns the lowercase colon-separated form "ab:cd:…" that
// proxmox-backup-client compares against.
func (fp Fingerprint) String() string {
	const hexdigits = "0123456789abcdef"
	b := make([]byte, 0, 3*len(fp)-1)
	for i, c := range fp {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexdigits[c>>4], hexdigits[c&0x0f])
	}
	return string(b)
}

// MarshalText implements encoding.TextMarshaler with String.
func (fp Fingerprint) MarshalText() ([]byte, error) { return []byte(fp.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseFingerprint.
func (fp *Fingerprint) UnmarshalText(b []byte) error {
	v, err := ParseFingerprint(string(b))
	if err != nil {
		return err
	}
	*fp = v
	return nil
}

// FingerprintMismatchError reports a server certificate other than the
// pinned one. It matches ErrFingerprintMismatch.
type FingerprintMismatchError struct {
	Expected  Fingerprint // the pinned fingerprint
	Presented Fingerprint // the leaf certificate the server sent
}

// Error implements error.
func (e *FingerprintMismatchError) Error() string {
	return fmt.Sprintf("server certificate fingerprint mismatch: expected %s, server presented %s", e.Expected, e.Presented)
}

// Is makes errors.Is(err, ErrFingerprintMismatch) true.
func (e *FingerprintMismatchError) Is(target error) bool { return target == ErrFingerprintMismatch }
