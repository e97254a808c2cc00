package pbstest

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"sync"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// Session error texts of PBS (src/api2/backup/environment.rs, mod.rs).
const (
	msgFinished      = "backup already marked as finished."
	msgNoPrevious    = "no valid previous backup"
	msgOpenWriter    = "found open index writer - unable to finish backup"
	msgNoFiles       = "backup does not contain valid files (file count == 0)"
	msgTooOld        = "backup timestamp is older than last backup."
	msgSnapExists    = "backup directory already exists."
	msgNamespace     = "namespace not found"
	msgBadBlobCRC    = "Data blob has wrong CRC checksum."
	msgChunkDigest   = "detected chunk with wrong digest."
	msgChunkTooLarge = "uploaded chunk is larger than announced."
	msgChunkSize     = "uploaded chunk has unexpected size."
)

// backupSession is the server side of one backup protocol session
// (pbs-protocol.md 3.3): the snapshot being written through a
// datastore.SnapshotWriter, which keeps it invisible until finish, and the
// state the session's endpoints share. It is safe for concurrent use,
// as HTTP/2 serves the session's requests in parallel.
type backupSession struct {
	store     *datastore.Store
	sw        *datastore.SnapshotWriter
	authID    auth.Authid
	benchmark bool
	prev      datastore.Snapshot
	hasPrev   bool
	chunks    *chunkWorkers

	mu        sync.Mutex
	finished  bool
	ended     bool
	lastWID   int
	fixed     map[int]*fixedWriter
	dynamic   map[int]*dynamicWriter
	known     map[datastore.Digest]uint32
	fileCount int
	stats     datastore.UploadStats
}

// startBackup begins a backup of t.snap for authID with PBS's checks from
// the namespace on (pbs-protocol.md 3.1 steps 5 to 11; the parameter,
// privilege and Upgrade header checks come before). Errors carry PBS's
// texts and statuses, ready for mockcore.WritePBSFailure.
func startBackup(store *datastore.Store, t sessionTarget, authID auth.Authid, chunks *chunkWorkers) (*backupSession, error) {
	if !store.NamespaceExists(t.ns) {
		return nil, mockcore.Errorf(http.StatusNotFound, msgNamespace)
	}
	isBench := t.snap.Type == datastore.TypeHost && t.snap.ID == "benchmark"
	switch {
	case isBench && !t.benchmark:
		return nil, errors.New("unable to run benchmark without --benchmark flags")
	case !isBench && t.benchmark:
		return nil, errors.New("benchmark flags is only allowed on 'host/benchmark'")
	}
	check := func(owner string) error {
		if isBench || ownerMatches(owner, authID) {
			return nil
		}
		return fmt.Errorf("backup owner check failed (%s != %s)", authID, owner)
	}
	sw, err := store.BeginSnapshot(t.ns, t.snap, authID.String(), datastore.WithOwnerCheck(check))
	if err != nil {
		return nil, beginError(err)
	}
	if chunks == nil {
		chunks = newChunkWorkers(0)
	}
	s := &backupSession{
		store: store, sw: sw, authID: authID, benchmark: t.benchmark, chunks: chunks,
		fixed:   map[int]*fixedWriter{},
		dynamic: map[int]*dynamicWriter{},
		known:   map[datastore.Digest]uint32{},
	}
	s.prev, s.hasPrev = sw.Previous()
	return s, nil
}

// beginError turns a BeginSnapshot failure into PBS's answer.
func beginError(err error) error {
	switch {
	case errors.Is(err, datastore.ErrNamespaceNotFound):
		return mockcore.Errorf(http.StatusNotFound, msgNamespace)
	case errors.Is(err, datastore.ErrBackupTooOld):
		return errors.New(msgTooOld)
	case errors.Is(err, datastore.ErrSnapshotExists):
		return errors.New(msgSnapExists)
	}
	return err // the owner check's own error, or "unable to acquire lock ... - another backup is already running"
}

// ownerMatches applies PBS's owner rule (pbs-protocol.md 3.1 step 8,
// 7.3): the caller owns the group, or the owner is an API token of the
// calling user. A token never writes into its user's group.
func ownerMatches(owner string, caller auth.Authid) bool {
	o, err := auth.ParseAuthid(owner)
	if err != nil {
		return false
	}
	if o == caller {
		return true
	}
	return o.IsToken() && !caller.IsToken() && o.User() == caller.User()
}

// ensureOpen fails once the session is finished or over. The caller holds
// s.mu.
func (s *backupSession) ensureOpen() error {
	if s.finished || s.ended {
		return errors.New(msgFinished)
	}
	return nil
}

// previousBackupTime answers GET previous_backup_time: the previous
// snapshot's time, or nil (JSON null) when there is none.
func (s *backupSession) previousBackupTime() any {
	if !s.hasPrev {
		return nil
	}
	return s.prev.Time.Unix()
}

// previous answers GET previous?archive-name=: it opens a file of the
// previous snapshot for download and, for an index, registers all its
// chunks as known to this session first (pbs-protocol.md 3.5.2). The
// caller closes the file.
func (s *backupSession) previous(name string) (*os.File, error) {
	if !s.hasPrev {
		return nil, errors.New(msgNoPrevious)
	}
	typ, err := datastore.ParseArchiveName(name)
	if err != nil {
		return nil, fmt.Errorf("unknown archive type: %q", name)
	}
	ns := s.sw.Namespace()
	var sizes map[datastore.Digest]uint32
	switch typ {
	case datastore.ArchiveFixed:
		ix, err := s.store.OpenFixedIndex(ns, s.prev, name)
		if err != nil {
			return nil, fmt.Errorf("unable to open fixed index %q of the previous backup: %w", name, err)
		}
		sizes = make(map[datastore.Digest]uint32, ix.Count())
		for i := range ix.Count() {
			start, end := ix.ChunkRange(i)
			sizes[ix.Digest(i)] = uint32(end - start)
		}
	case datastore.ArchiveDynamic:
		ix, err := s.store.OpenDynamicIndex(ns, s.prev, name)
		if err != nil {
			return nil, fmt.Errorf("unable to open dynamic index %q of the previous backup: %w", name, err)
		}
		sizes = make(map[datastore.Digest]uint32, ix.Count())
		for i := range ix.Count() {
			start, end, d := ix.Entry(i)
			sizes[d] = uint32(end - start)
		}
	}
	if sizes != nil {
		s.mu.Lock()
		err := s.ensureOpen()
		if err == nil {
			for d, n := range sizes {
				s.known[d] = n
			}
		}
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return openForDownload(s.store, ns, s.prev, name)
}

// openForDownload opens a snapshot file as PBS's download helper does:
// a missing file is a 404, any other failure a 400.
func openForDownload(store *datastore.Store, ns datastore.Namespace, snap datastore.Snapshot, name string) (*os.File, error) {
	f, err := store.OpenSnapshotFile(ns, snap, name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, mockcore.Errorf(http.StatusNotFound, "open file %q failed - not found", name)
	case err != nil:
		return nil, fmt.Errorf("open file %q failed: %w", name, err)
	}
	return f, nil
}

// uploadBlob stores an uploaded blob (POST blob, pbs-protocol.md 3.5.3)
// after checking its CRC; the manifest index.json.blob comes this way too.
func (s *backupSession) uploadBlob(b blobUpload, data []byte) error {
	if typ, err := datastore.ParseArchiveName(b.name); err != nil || typ != datastore.ArchiveBlob {
		return fmt.Errorf("wrong blob file extension: '%s'", b.name)
	}
	if len(data) != b.encodedSize {
		return fmt.Errorf("got blob with unexpected length (%d != %d)", b.encodedSize, len(data))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureOpen(); err != nil {
		return err
	}
	if err := s.sw.WriteBlob(b.name, data); err != nil {
		if errors.Is(err, datastore.ErrChecksum) {
			return errors.New(msgBadBlobCRC)
		}
		return err
	}
	s.fileCount++
	s.stats.Size += uint64(len(data))
	return nil
}

// finish completes the backup (POST finish, pbs-protocol.md 3.5.9): no
// writer may be open, some file must exist and the manifest must have
// been uploaded; the server records the upload statistics in it and the
// snapshot becomes visible. A benchmark session checks the same but keeps
// nothing.
func (s *backupSession) finish() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureOpen(); err != nil {
		return err
	}
	if len(s.fixed)+len(s.dynamic) > 0 {
		return errors.New(msgOpenWriter)
	}
	if s.fileCount == 0 {
		return errors.New(msgNoFiles)
	}
	stats := s.stats
	if s.benchmark {
		blob, err := s.sw.ReadFile(datastore.ManifestName)
		if err == nil {
			_, err = datastore.DecodeManifestBlob(blob)
		}
		if err != nil {
			return fmt.Errorf("unable to update manifest blob - %w", err)
		}
	} else if err := s.sw.Finish(func(m *datastore.Manifest) error {
		m.Unprotected.ChunkUploadStats = &stats
		return nil
	}); err != nil {
		switch {
		case errors.Is(err, datastore.ErrSnapshotNotFound):
			return fmt.Errorf("base snapshot %s was removed during backup, cannot finish as chunks might be missing", s.prev)
		case errors.Is(err, datastore.ErrNotFinished), errors.Is(err, datastore.ErrBadManifest),
			errors.Is(err, datastore.ErrChecksum), errors.Is(err, datastore.ErrBadMagic),
			errors.Is(err, datastore.ErrTruncated), errors.Is(err, datastore.ErrCorrupt):
			return fmt.Errorf("unable to update manifest blob - %w", err)
		}
		return err
	}
	s.finished = true
	return nil
}

// end is called once the session's connection is gone and every request
// has returned. Unless finish succeeded, everything the session wrote is
// removed: open index files and the whole snapshot (pbs-protocol.md 3.2).
// Uploaded chunks stay in the chunk store for garbage collection. It
// reports whether the snapshot was kept.
func (s *backupSession) end() (kept bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return s.finished && !s.benchmark, nil
	}
	s.ended = true
	for wid, w := range s.fixed {
		err = errors.Join(err, w.idx.Abort())
		delete(s.fixed, wid)
	}
	for wid, w := range s.dynamic {
		err = errors.Join(err, w.idx.Abort())
		delete(s.dynamic, wid)
	}
	if s.finished && !s.benchmark {
		return true, err
	}
	return false, errors.Join(err, s.sw.Abort())
}
