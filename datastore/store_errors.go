package datastore

import (
	"errors"
	"strconv"
)

// Sentinel errors of the store (chunk store, snapshots, verify, GC, prune).
// Errors returned by Store methods match them with errors.Is; most arrive
// wrapped in a *StoreError, *LockError, *ChunkError or *VerifyError that
// names the object concerned.
var (
	// ErrNotDatastore: the directory has no .chunks directory, so it is not
	// a datastore.
	ErrNotDatastore = errors.New("not a datastore")
	// ErrDatastoreExists: Create found a datastore (or a non-empty
	// directory) already in place.
	ErrDatastoreExists = errors.New("datastore already exists")
	// ErrChunkNotFound: no chunk file exists for the digest.
	ErrChunkNotFound = errors.New("chunk not found")
	// ErrChunkConflict: an insert was refused because the existing chunk
	// and the new one cannot both be valid (spec 7.1).
	ErrChunkConflict = errors.New("conflicting chunk")
	// ErrNamespaceNotFound: the namespace directory does not exist.
	ErrNamespaceNotFound = errors.New("namespace not found")
	// ErrGroupNotFound: the backup group directory does not exist.
	ErrGroupNotFound = errors.New("backup group not found")
	// ErrSnapshotNotFound: the snapshot directory does not exist.
	ErrSnapshotNotFound = errors.New("snapshot not found")
	// ErrSnapshotExists: the snapshot to create exists already ("backup
	// directory already exists.").
	ErrSnapshotExists = errors.New("backup directory already exists")
	// ErrBackupTooOld: the new snapshot is not newer than the group's last
	// finished one ("backup timestamp is older than last backup.").
	ErrBackupTooOld = errors.New("backup timestamp is older than last backup")
	// ErrNotFinished: the snapshot has no manifest (index.json.blob) yet.
	ErrNotFinished = errors.New("snapshot not finished")
	// ErrProtected: the snapshot carries the .protected marker.
	ErrProtected = errors.New("cannot remove protected snapshot")
	// ErrLocked: a lock is held by someone else (a running backup, a reader,
	// garbage collection).
	ErrLocked = errors.New("locked")
	// ErrBadOwner: the owner file is empty or not one line of text.
	ErrBadOwner = errors.New("invalid owner file")
	// ErrBadGCStatus: the .gc-status file is not the JSON PBS writes.
	ErrBadGCStatus = errors.New("invalid gc status")
	// ErrLogExists: the snapshot already has a client log ("backup already
	// contains a log.").
	ErrLogExists = errors.New("backup already contains a log")
	// ErrClosed: the snapshot writer or index writer was already committed,
	// closed or aborted.
	ErrClosed = errors.New("writer already closed")
)

// StoreError reports a failed store operation: what was done (Op, e.g.
// "remove snapshot"), on which object (Path, relative to the datastore base
// where possible) and why (Err, usually one of the sentinels above or an
// *os.PathError).
type StoreError struct {
	Op   string
	Path string
	Err  error
}

// Error formats the error as "datastore: <op> <path>: <err>".
func (e *StoreError) Error() string {
	msg := "datastore: " + e.Op
	if e.Path != "" {
		msg += " " + strconv.Quote(e.Path)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *StoreError) Unwrap() error { return e.Err }

// storeErr wraps err into a *StoreError, keeping nil as nil.
func storeErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &StoreError{Op: op, Path: path, Err: err}
}

// LockError reports a lock that could not be taken because someone else
// holds it. It matches ErrLocked. What names the lock ("backup group",
// "snapshot", "chunk store", "manifest"), Reason is PBS's explanation, e.g.
// "another backup is already running".
type LockError struct {
	What   string
	Path   string
	Reason string
}

// Error formats the error like PBS: "unable to acquire lock on <what>
// directory <path> - <reason>".
func (e *LockError) Error() string {
	return "datastore: unable to acquire lock on " + e.What + " " + strconv.Quote(e.Path) + " - " + e.Reason
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockError) Is(target error) bool { return target == ErrLocked }

// ChunkError reports a problem with one chunk of the chunk store: which
// digest, what was done (Op: "insert", "read", "touch", ...) and why.
type ChunkError struct {
	Op     string
	Digest Digest
	Err    error
}

// Error formats the error as "datastore: <op> chunk <hex>: <err>".
func (e *ChunkError) Error() string {
	return "datastore: " + e.Op + " chunk " + e.Digest.String() + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ChunkError) Unwrap() error { return e.Err }
