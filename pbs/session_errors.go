package pbs

import (
	"errors"
	"fmt"

	"github.com/proxkit/proxkit/datastore"
)

// Sentinels of the backup and reader sessions, for errors.Is. Answers the
// server refused are *Error values (matching ErrBadRequest and the other
// status sentinels); these name what happened on the client's side.
var (
	// ErrSessionClosed: the session's connection ended (dropped by the
	// server or the network, or closed by Abort) before the call got an
	// answer.
	ErrSessionClosed = errors.New("pbs: session connection closed")

	// ErrSessionFailed: an earlier call of the backup session failed, so
	// the session was aborted and takes no more calls. The error also
	// wraps that first failure.
	ErrSessionFailed = errors.New("pbs: backup session failed earlier")

	// ErrAborted: the backup session was aborted (Abort, or the context
	// given to StartBackup ended); nothing of it is kept on the server.
	ErrAborted = errors.New("pbs: backup session aborted")

	// ErrFinished: the backup session has finished; it takes no more
	// uploads.
	ErrFinished = errors.New("pbs: backup session already finished")

	// ErrUnknownChunk: a digest to append is not known to the server in
	// this session (neither uploaded in it nor listed by a previous index
	// downloaded in it), so PBS would answer "no such chunk".
	ErrUnknownChunk = errors.New("pbs: chunk not known to the server in this session")

	// ErrIntegrity: data read back from the server does not match what
	// the snapshot says it holds (a chunk's digest, CRC or size, an
	// index's or blob's checksum or size in the manifest). The error is an
	// *IntegrityError naming the archive and, for chunks, the chunk.
	ErrIntegrity = errors.New("pbs: backup data failed verification")

	// ErrNotInManifest: the archive or blob is not listed in the
	// snapshot's manifest.
	ErrNotInManifest = errors.New("pbs: file not in the snapshot's manifest")
)

// SessionError reports a call of a backup or reader session that got no
// answer: the connection ended (errors.Is(err, ErrSessionClosed)), the
// context ended (errors.Is(err, context.Canceled) and the like), or the
// answer could not be read or decoded (ErrMalformedResponse). Refusals by
// the server are *Error values instead.
type SessionError struct {
	Method string // HTTP method of the call
	Path   string // session path, e.g. "/dynamic_chunk"
	Err    error  // the cause
}

// Error reads "PBS session POST /dynamic_chunk: <cause>".
func (e *SessionError) Error() string {
	return "PBS session " + e.Method + " " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *SessionError) Unwrap() error { return e.Err }

// IntegrityError reports data read back from the server that does not
// match the snapshot: a chunk that fails its CRC, does not decode, does
// not hash to its index digest or has the wrong size (Chunk >= 0), or an
// index or blob whose checksum or size disagrees with the manifest
// (Chunk == -1). It matches ErrIntegrity and unwraps to the datastore
// sentinel saying what is wrong (datastore.ErrDigestMismatch,
// datastore.ErrChecksum, datastore.ErrSizeMismatch, ...).
type IntegrityError struct {
	Archive string           // the archive or blob, e.g. "disk.img.fidx"
	Chunk   int              // index of the chunk in the archive's index, -1 for the file itself
	Offset  uint64           // offset of the chunk's first byte in the archive
	Digest  datastore.Digest // the digest the index lists for the chunk
	Err     error            // what is wrong
}

// Error names the archive and, for a chunk, its number, offset and digest.
func (e *IntegrityError) Error() string {
	if e.Chunk < 0 {
		return "pbs: " + e.Archive + ": " + e.Err.Error()
	}
	return fmt.Sprintf("pbs: %s: chunk %d at offset %d (digest %s): %v", e.Archive, e.Chunk, e.Offset, e.Digest, e.Err)
}

// Unwrap returns what is wrong.
func (e *IntegrityError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrIntegrity) true.
func (e *IntegrityError) Is(target error) bool { return target == ErrIntegrity }
