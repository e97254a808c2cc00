package datastore

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Digest is a 32-byte chunk digest (spec 5.2): the SHA-256 of the plain chunk
// data for unencrypted backups, a keyed SHA-256 for encrypted ones. It names
// the chunk file in the chunk store and is what indexes list.
type Digest [32]byte

// ComputeDigest returns the digest of an unencrypted chunk: SHA-256 over its
// plain (uncompressed) data. It prefetches as PayloadSum does, which makes
// it faster than sha256.Sum256 on data that is no longer in the cache.
func ComputeDigest(data []byte) Digest {
	h := sha256.New() // stays on the stack
	for len(data) > 0 {
		var piece []byte
		piece, data = nextPiece(data)
		h.Write(piece)
	}
	var d Digest
	h.Sum(d[:0])
	return d
}

// ParseDigest parses 64 lowercase hex characters. Uppercase hex is rejected,
// as the PBS API schema rejects it.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if len(s) != 2*len(d) {
		return d, formatErr("digest", -1, ErrBadName, "want 64 hex characters, got "+strconv.Itoa(len(s)))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return d, formatErr("digest", int64(i), ErrBadName, "not lowercase hex: "+strconv.QuoteRune(rune(c)))
		}
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, formatErr("digest", -1, ErrBadName, err.Error())
	}
	return d, nil
}

// String returns the digest as 64 lowercase hex characters.
func (d Digest) String() string {
	return hex.EncodeToString(d[:])
}

// IsZero reports whether all 32 bytes are zero (an unset fixed index slot).
func (d Digest) IsZero() bool {
	return d == Digest{}
}

// MarshalText encodes the digest as lowercase hex (JSON strings, map keys).
func (d Digest) MarshalText() ([]byte, error) {
	out := make([]byte, 2*len(d))
	hex.Encode(out, d[:])
	return out, nil
}

// UnmarshalText parses lowercase hex, like ParseDigest.
func (d *Digest) UnmarshalText(text []byte) error {
	parsed, err := ParseDigest(string(text))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}
