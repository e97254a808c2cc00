package datastore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// GC timing rules of PBS (spec 7.5): a chunk survives when its access time
// is within GCGracePeriod + GCSafetyGap before the start of the mark phase,
// because relatime file systems update access times only once a day.
const (
	GCGracePeriod = 24 * time.Hour
	GCSafetyGap   = 5 * time.Minute
)

// GCStatusName is the file holding the status of the last garbage
// collection.
const GCStatusName = ".gc-status"

// GCStatus is the result of a garbage collection, with the member names of
// the .gc-status file and the API (PBS's GarbageCollectionStatus).
type GCStatus struct {
	// UPID is the task id of the collection (null when unknown).
	UPID *string `json:"upid"`
	// IndexFileCount counts the index files read in the mark phase.
	IndexFileCount uint64 `json:"index-file-count"`
	// IndexDataBytes sums the data size those indexes describe.
	IndexDataBytes uint64 `json:"index-data-bytes"`
	// DiskBytes and DiskChunks are what remains in the chunk store.
	DiskBytes  uint64 `json:"disk-bytes"`
	DiskChunks uint64 `json:"disk-chunks"`
	// RemovedBytes and RemovedChunks are what the sweep deleted.
	RemovedBytes  uint64 `json:"removed-bytes"`
	RemovedChunks uint64 `json:"removed-chunks"`
	// PendingBytes and PendingChunks are unreferenced chunks kept for
	// safety (touched after the cutoff but before the oldest writer began,
	// or the mark phase began when no writer runs).
	PendingBytes  uint64 `json:"pending-bytes"`
	PendingChunks uint64 `json:"pending-chunks"`
	// RemovedBad and StillBad count <digest>.<n>.bad files removed and kept.
	RemovedBad uint64 `json:"removed-bad"`
	StillBad   uint64 `json:"still-bad"`
}

// ParseGCStatus decodes the content of a .gc-status file. Unknown members
// are ignored; a value that is not a JSON object with the right member
// types is ErrBadGCStatus.
func ParseGCStatus(data []byte) (*GCStatus, error) {
	var st GCStatus
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, &StoreError{Op: "parse gc status", Err: errors.Join(ErrBadGCStatus, err)}
	}
	return &st, nil
}

// LastGCStatus reads <base>/.gc-status. A store that never ran garbage
// collection has none (an error matching fs.ErrNotExist).
func (s *Store) LastGCStatus() (*GCStatus, error) {
	data, err := os.ReadFile(filepath.Join(s.base, GCStatusName))
	if err != nil {
		return nil, storeErr("read gc status", GCStatusName, err)
	}
	return ParseGCStatus(data)
}

// GCOptions tunes GarbageCollect.
type GCOptions struct {
	// UPID is recorded in the status; empty means a generated task id.
	UPID string
	// Cutoff, when set, replaces "mark start - GCGracePeriod -
	// GCSafetyGap" as the access time below which unreferenced chunks are
	// deleted. Tests use it to collect without waiting a day; the start of
	// a running writer still moves it back, as it does for PBS.
	Cutoff time.Time
	// NoStatusFile skips writing .gc-status (read-only experiments).
	NoStatusFile bool
	// Log, if set, receives progress and warnings (missing chunks).
	Log func(msg string)
}

// GCReport is GCStatus plus what this implementation adds.
type GCReport struct {
	GCStatus
	// Cutoff is the access time below which chunks were deleted.
	Cutoff time.Time
	// MissingChunks lists chunks indexes reference that do not exist.
	MissingChunks []Digest
	// RemovedTemp counts stale temporary chunk files, index files and
	// snapshot directories removed (see CleanupStale).
	RemovedTemp int
}

// GarbageCollect removes chunks no index references any more, as PBS does
// (spec 7.5):
//
//  1. It takes the chunk store's exclusive lock (ErrLocked while another
//     process, e.g. PBS, writes a backup or collects garbage; this Store's
//     own snapshot writers may go on, as in PBS) and notes start = now.
//  2. Mark: it walks the datastore, skipping every name that starts with a
//     dot (.chunks, hidden temporary snapshot directories), reads every
//     .fidx and .didx file and sets the access time of each chunk they
//     reference to start. An index that cannot be parsed aborts the
//     collection (better than deleting what it references).
//  3. Sweep: cutoff = start - 24h - 5min (or GCOptions.Cutoff), moved back
//     to the start of the oldest running snapshot writer of this Store if
//     that is older (so chunks a running backup uploaded or reuses, which
//     no finished index references yet, survive); chunk files (and .bad
//     files) with an older access time are deleted; the others are counted
//     as kept or pending.
//
// Referenced chunks therefore always survive. Stale temporary files are
// cleaned on the way (CleanupStale). The status is written to .gc-status
// like PBS writes it.
func (s *Store) GarbageCollect(ctx context.Context, opts GCOptions) (*GCReport, error) {
	unlock, err := s.chunkLock.acquire(s.base, true)
	if err != nil {
		return nil, err
	}
	defer unlock()

	start := s.now()
	// Like PBS, look at the running writers when the collection starts: a
	// writer that finishes during the mark phase still protects what it
	// uploaded, and one that starts later touches its chunks after start.
	oldestWriter, hasWriter := s.oldestWriter()
	upid := opts.UPID
	if upid == "" {
		upid = makeUPID("garbage_collection", s.cfg.name, start)
	}
	rep := &GCReport{}
	rep.UPID = &upid
	logf := func(format string, args ...any) {
		if opts.Log != nil {
			opts.Log(fmt.Sprintf(format, args...))
		}
	}

	logf("start GC phase1 (mark used chunks)")
	if err := s.gcMark(ctx, start, rep, logf); err != nil {
		return nil, err
	}

	removed, err := s.cleanupStaleGroups(ctx)
	rep.RemovedTemp = removed
	if err != nil {
		return nil, err
	}

	cutoff := start.Add(-GCGracePeriod)
	if !opts.Cutoff.IsZero() {
		cutoff = opts.Cutoff.Add(GCSafetyGap)
	}
	if hasWriter && oldestWriter.Before(cutoff) {
		cutoff = oldestWriter
	}
	cutoff = cutoff.Add(-GCSafetyGap)
	pendingBefore := start
	if hasWriter {
		pendingBefore = oldestWriter
	}
	rep.Cutoff = cutoff

	logf("start GC phase2 (sweep unused chunks)")
	if err := s.gcSweep(ctx, cutoff, pendingBefore, rep); err != nil {
		return nil, err
	}
	logf("removed %d chunks (%d bytes), pending %d chunks (%d bytes)",
		rep.RemovedChunks, rep.RemovedBytes, rep.PendingChunks, rep.PendingBytes)

	if !opts.NoStatusFile {
		data, err := json.Marshal(&rep.GCStatus)
		if err == nil {
			// PBS ignores errors here too: the collection itself succeeded.
			_ = s.writeFileAtomic(filepath.Join(s.base, GCStatusName), data, false)
		}
	}
	return rep, nil
}

// gcMark touches every chunk referenced by an index below the base.
func (s *Store) gcMark(ctx context.Context, start time.Time, rep *GCReport, logf func(string, ...any)) error {
	return s.walkIndexes(ctx, func(path string, digests func(yield func(Digest) bool), dataSize uint64) error {
		rep.IndexFileCount++
		rep.IndexDataBytes += dataSize
		var touchErr error
		n := 0
		digests(func(d Digest) bool {
			if n++; n&1023 == 0 && ctx.Err() != nil {
				touchErr = ctx.Err()
				return false
			}
			err := lockSetAtime(s.ChunkPath(d), start)
			if err == nil {
				return true
			}
			if !errors.Is(err, fs.ErrNotExist) {
				touchErr = &ChunkError{Op: "touch", Digest: d, Err: err}
				return false
			}
			logf("warning: unable to access non-existent chunk %s, required by %s", d, s.rel(path))
			rep.MissingChunks = append(rep.MissingChunks, d)
			// Keep .bad copies around while an index still wants the chunk.
			for i := range 10 {
				_ = lockSetAtime(s.badChunkPath(d, i), start)
			}
			return true
		})
		return touchErr
	})
}

// walkIndexes calls fn for every .fidx and .didx file below the base,
// skipping names that start with a dot, with an iterator over its digests
// and the data size it describes. Files that vanish meanwhile are skipped;
// unreadable directories (permission denied) and unparsable indexes are
// errors, since skipping them could delete chunks still in use.
func (s *Store) walkIndexes(ctx context.Context, fn func(path string, digests func(func(Digest) bool), dataSize uint64) error) error {
	return filepath.WalkDir(s.base, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if path != s.base && e != nil && e.IsDir() && strings.HasPrefix(e.Name(), ".") {
				return fs.SkipDir
			}
			// Like PBS, tolerate only the root-owned fsck directory of ext4;
			// any other unreadable directory might hold indexes.
			if errors.Is(err, fs.ErrPermission) && filepath.Dir(path) == s.base && filepath.Base(path) == "lost+found" {
				return fs.SkipDir
			}
			return storeErr("walk datastore", s.rel(path), err)
		}
		if path == s.base {
			return nil
		}
		if strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			return ctx.Err()
		}
		var kind ArchiveType
		switch {
		case strings.HasSuffix(e.Name(), ".fidx"):
			kind = ArchiveFixed
		case strings.HasSuffix(e.Name(), ".didx"):
			kind = ArchiveDynamic
		default:
			return nil
		}
		return s.withIndex(path, kind, fn)
	})
}

// withIndex opens the index at path and hands its digests to fn. The
// digests are read on demand in bounded pieces, so memory does not grow
// with the index; a read error ends the iteration and is returned once fn
// is done.
func (s *Store) withIndex(path string, kind ArchiveType, fn func(string, func(func(Digest) bool), uint64) error) error {
	var (
		size    uint64
		each    func(yield func(Digest) bool) error
		closeIx func() error
		err     error
	)
	if kind == ArchiveFixed {
		var ix *FixedIndexReader
		if ix, err = OpenFixedIndexReader(path); err == nil {
			size, closeIx = ix.Size(), ix.Close
			each = func(yield func(Digest) bool) error {
				return ix.EachDigest(func(_ int, d Digest) bool { return yield(d) })
			}
		}
	} else {
		var ix *DynamicIndexReader
		if ix, err = OpenDynamicIndexReader(path); err == nil {
			size, closeIx = ix.Size(), ix.Close
			each = func(yield func(Digest) bool) error {
				return ix.EachEntry(func(_ int, _, _ uint64, d Digest) bool { return yield(d) })
			}
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil // vanished meanwhile
	}
	if err != nil {
		return storeErr("read index", s.rel(path), err)
	}
	defer closeIx()
	var readErr error
	err = fn(path, func(yield func(Digest) bool) {
		if readErr == nil {
			readErr = each(yield)
		}
	}, size)
	if err == nil && readErr != nil {
		err = storeErr("read index", s.rel(path), readErr)
	}
	return err
}

// gcSweep deletes chunk files whose access time is before cutoff and
// counts the rest, per PBS's sweep.
func (s *Store) gcSweep(ctx context.Context, cutoff, pendingBefore time.Time, rep *GCReport) error {
	// Stale temporary chunk files are cleaned in the same directory scan.
	staleLimit := s.now().Add(-s.cfg.staleAge)
	other := func(path string) error {
		if strings.Contains(filepath.Base(path), chunkTempInfix) && isStale(path, staleLimit) && os.Remove(path) == nil {
			rep.RemovedTemp++
		}
		return nil
	}
	return s.chunkWalk(ctx, other, func(path string, d Digest, bad bool) error {
		mu := s.chunkStripe(d)
		defer mu.Unlock()
		// Stat under the stripe lock: an insert may have touched the
		// chunk since the directory was listed.
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return storeErr("stat chunk", s.rel(path), err)
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		atime, size := lockAtime(fi), uint64(fi.Size())
		switch {
		case atime.Before(cutoff):
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				if bad {
					rep.StillBad++
				}
				return storeErr("remove chunk", s.rel(path), err)
			}
			if bad {
				rep.RemovedBad++
			} else {
				rep.RemovedChunks++
			}
			rep.RemovedBytes += size
		case atime.Before(pendingBefore):
			if bad {
				rep.StillBad++
			} else {
				rep.PendingChunks++
			}
			rep.PendingBytes += size
		default:
			if !bad {
				rep.DiskChunks++
			}
			rep.DiskBytes += size
		}
		return nil
	})
}

// registerWriter records that a snapshot writer started at t and returns
// the function that forgets it again.
func (s *Store) registerWriter(t time.Time) func() {
	s.writersMu.Lock()
	defer s.writersMu.Unlock()
	s.nextWriter++
	id := s.nextWriter
	s.writers[id] = t
	return func() {
		s.writersMu.Lock()
		defer s.writersMu.Unlock()
		delete(s.writers, id)
	}
}

// oldestWriter returns the start time of the oldest running writer.
func (s *Store) oldestWriter() (time.Time, bool) {
	s.writersMu.Lock()
	defer s.writersMu.Unlock()
	var oldest time.Time
	for _, t := range s.writers {
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	return oldest, !oldest.IsZero()
}

// makeUPID returns a task id in PBS's UPID syntax for work this package
// does without a task system: node "localhost", this process's pid, the
// start time, the worker type and an id naming the object.
func makeUPID(workerType, workerID string, start time.Time) string {
	return fmt.Sprintf("UPID:localhost:%08X:%08X:%08X:%08X:%s:%s:root@pam:",
		uint32(os.Getpid()), uint32(0), uint32(0), uint32(start.Unix()), workerType, upidEscape(workerID))
}

// upidEscape replaces the characters a UPID field may not contain (colon,
// white space, slash) with \xNN escapes, as PBS's systemd-style escaping
// does.
func upidEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ':' || c == '/' || c == '\\' || c <= ' ' || c >= 0x7f {
			fmt.Fprintf(&b, "\\x%02x", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
