package datastore

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Every error returned by the format code of this package
// matches exactly one of them with errors.Is; most arrive wrapped in a
// *FormatError that says where the problem was found.
var (
	// ErrBadMagic: the first bytes are not one of the known magic numbers.
	ErrBadMagic = errors.New("unknown magic number")
	// ErrChecksum: a stored CRC-32 or index checksum does not match the data.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrTruncated: the input ends before a header or a body is complete.
	ErrTruncated = errors.New("truncated data")
	// ErrEncrypted: the blob is encrypted and no key is available to decode it.
	ErrEncrypted = errors.New("encrypted blob, no key")
	// ErrTooLarge: a size exceeds a format limit or the limit a caller set.
	ErrTooLarge = errors.New("too large")
	// ErrDigestMismatch: decoded chunk data does not hash to the expected digest.
	ErrDigestMismatch = errors.New("chunk digest mismatch")
	// ErrSizeMismatch: decoded chunk data does not have the expected length.
	ErrSizeMismatch = errors.New("chunk size mismatch")
	// ErrCorrupt: a payload with a valid CRC cannot be decoded (a broken zstd
	// frame, trailing garbage).
	ErrCorrupt = errors.New("corrupt payload")
	// ErrBadIndex: a fixed or dynamic index is malformed (length, header
	// fields, entry order) or a writer was used wrongly.
	ErrBadIndex = errors.New("malformed index")
	// ErrBadManifest: the manifest JSON is malformed or misses required members.
	ErrBadManifest = errors.New("malformed manifest")
	// ErrBadName: a namespace, group, snapshot, time or archive name is invalid.
	ErrBadName = errors.New("invalid name")
)

// FormatError describes a malformed or mismatching piece of data: which kind
// of data (What: "blob", "fixed index", "manifest", a file name, ...), where
// (Offset in bytes, or -1 when no position applies), which sentinel error it
// is (Err) and a human-readable Detail.
type FormatError struct {
	What   string
	Offset int64
	Err    error
	Detail string
}

// Error formats the error as "datastore: <what>: <sentinel>: <detail> (offset n)".
func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("datastore: ")
	if e.What != "" {
		b.WriteString(e.What)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("invalid data")
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Offset >= 0 {
		b.WriteString(" (offset ")
		b.WriteString(strconv.FormatInt(e.Offset, 10))
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the sentinel error, so errors.Is(err, ErrChecksum) works.
func (e *FormatError) Unwrap() error { return e.Err }

// formatErr builds a *FormatError; an offset below zero means "no position".
func formatErr(what string, offset int64, sentinel error, detail string) error {
	return &FormatError{What: what, Offset: offset, Err: sentinel, Detail: detail}
}
