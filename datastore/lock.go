package datastore

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Locks as PBS takes them (spec 7.4):
//
//   - group and snapshot directories: flock(2) on the directory itself,
//     exclusive and non-blocking for a running backup, group removal and
//     snapshot removal or protection changes; shared for readers, verify
//     and the previous snapshot of a running backup;
//   - the chunk store: a POSIX record lock over <base>/.lock, shared while
//     snapshots are being written, exclusive for garbage collection (see
//     chunkStoreLock). We use open-file-description locks, which conflict
//     with PBS's process locks but belong to a descriptor, not to the
//     process, so that closing some other descriptor of the file cannot
//     drop them;
//   - manifest updates: PBS locks a file below /run/proxmox-backup; we lock
//     the hidden file .index.json.lck inside the snapshot directory instead
//     (PBS lists and collects neither), waiting up to manifestLockTimeout.

// manifestLockTimeout is how long a manifest update waits for the lock,
// as PBS does.
const manifestLockTimeout = 5 * time.Second

// manifestLockName is the manifest lock file inside a snapshot directory.
const manifestLockName = ".index.json.lck"

// DirLock is a held lock on a group or snapshot directory, or on the chunk
// store. Unlock releases it; the zero value and a nil *DirLock are not
// locked.
type DirLock struct {
	mu sync.Mutex
	f  *os.File
}

// Unlock releases the lock. Calling it again is a no-op.
func (l *DirLock) Unlock() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// lockDir takes a non-blocking flock on the directory at path. what and
// reason make up the *LockError returned when the lock is held elsewhere.
func lockDir(path, what, reason string, exclusive bool) (*DirLock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	ok, err := lockFlock(f, exclusive)
	if err != nil {
		f.Close()
		return nil, &StoreError{Op: "lock " + what, Path: path, Err: err}
	}
	if !ok {
		f.Close()
		return nil, &LockError{What: what, Path: path, Reason: reason}
	}
	return &DirLock{f: f}, nil
}

// chunkStoreLock is a Store's record lock on <base>/.lock, shared by all
// of its snapshot writers and taken exclusively by its garbage collection,
// through one open file description. Towards other processes (PBS) and
// other Store values it behaves like PBS's process lock: writers exclude a
// foreign garbage collection and the other way round. Within the Store,
// as within one PBS daemon, garbage collection and writers coexist: the
// exclusive lock converts the shared one, and garbage collection protects
// the writers' chunks through their start times instead.
type chunkStoreLock struct {
	mu     sync.Mutex
	f      *os.File
	shared int
	gc     bool
}

// acquire takes the lock shared (writers) or exclusive (garbage
// collection) and returns the function that releases it again.
func (l *chunkStoreLock) acquire(base string, exclusive bool) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	path := filepath.Join(base, ".lock")
	if exclusive && l.gc {
		return nil, &LockError{What: "chunk store", Path: path, Reason: "garbage collection already running"}
	}
	need := exclusive || (l.shared == 0 && !l.gc)
	if need {
		if l.f == nil {
			f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil && !exclusive {
				// A read lock only needs read access.
				f, err = os.Open(path)
			}
			if err != nil {
				return nil, &StoreError{Op: "open chunk store lock", Path: path, Err: err}
			}
			l.f = f
		}
		ok, err := lockRecord(l.f, exclusive)
		if err != nil || !ok {
			l.closeIfUnused()
			if err != nil {
				return nil, &StoreError{Op: "lock chunk store", Path: path, Err: err}
			}
			reason := "a backup is writing indexes"
			if !exclusive {
				reason = "garbage collection is running"
			}
			return nil, &LockError{What: "chunk store", Path: path, Reason: reason}
		}
	}
	if exclusive {
		l.gc = true
	} else {
		l.shared++
	}
	var once sync.Once
	return func() { once.Do(func() { l.release(exclusive) }) }, nil
}

// release gives up one shared hold or the exclusive one, downgrading to a
// shared lock while writers remain.
func (l *chunkStoreLock) release(exclusive bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if exclusive {
		l.gc = false
		if l.shared > 0 {
			// Downgrading cannot conflict with anyone.
			_, _ = lockRecord(l.f, false)
			return
		}
	} else {
		l.shared--
		if l.shared > 0 || l.gc {
			return
		}
	}
	l.closeIfUnused()
}

// closeIfUnused closes the descriptor (dropping its lock) when nobody
// holds the lock.
func (l *chunkStoreLock) closeIfUnused() {
	if l.f != nil && l.shared == 0 && !l.gc {
		l.f.Close()
		l.f = nil
	}
}

// lockManifest takes the exclusive manifest-update lock of the snapshot
// directory snapDir, retrying until manifestLockTimeout passes or ctx ends.
func lockManifest(ctx context.Context, snapDir string) (*DirLock, error) {
	path := filepath.Join(snapDir, manifestLockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, &StoreError{Op: "open manifest lock", Path: path, Err: err}
	}
	deadline := time.Now().Add(manifestLockTimeout)
	delay := time.Millisecond
	for {
		ok, err := lockFlock(f, true)
		if err != nil {
			f.Close()
			return nil, &StoreError{Op: "lock manifest", Path: path, Err: err}
		}
		if ok {
			return &DirLock{f: f}, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, &LockError{What: "manifest", Path: path, Reason: "timed out"}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}
