package pbs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/h2upgrade"
)

// DefaultMaxChunksInFlight is the default bound on chunks a backup session
// holds in memory at once. With 4 MiB chunks it keeps a backup's buffers
// well under 100 MiB and is enough to keep two cores and a loopback
// connection busy; raise it for links with a large bandwidth-delay
// product.
const DefaultMaxChunksInFlight = 8

// BackupOptions describe the snapshot a backup session writes and how it
// runs. Datastore, Type and ID are required.
type BackupOptions struct {
	// Datastore is the datastore to write to.
	Datastore string
	// Namespace is the namespace of the group; the zero value is the root.
	// It must exist.
	Namespace datastore.Namespace
	// Type is the group's backup type, e.g. datastore.TypeHost.
	Type datastore.BackupType
	// ID is the group's id, e.g. "web01".
	ID string
	// Time is the snapshot time (whole seconds are used); the zero value
	// means now. It must be later than the group's last finished snapshot.
	Time time.Time

	// Workers is the number of goroutines hashing and compressing chunks
	// of each archive; 0 means GOMAXPROCS.
	Workers int
	// MaxChunksInFlight bounds the chunks the session holds in memory:
	// read but not yet uploaded and answered. 0 means
	// DefaultMaxChunksInFlight. Memory is about twice this many chunks
	// (plain and encoded), plus the chunker's buffer per stream.
	MaxChunksInFlight int
	// Progress, if set, is called after every chunk appended and every
	// blob uploaded, never concurrently, with counts for the whole
	// session. It must return quickly.
	Progress func(Progress)
	// NoReuse ignores the group's previous snapshot: every chunk is
	// uploaded (the server still stores each one once). By default the
	// previous snapshot's manifest is downloaded at start and the index of
	// an archive of the same name before that archive is uploaded, and
	// their chunks are not sent again.
	NoReuse bool
	// Debug asks the server for a verbose task log ("debug" parameter).
	Debug bool
	// Benchmark opens a benchmark session ("benchmark" parameter): PBS
	// allows it only for the group host/benchmark, which in turn requires
	// it, skips the owner check and never keeps the snapshot, not even
	// after Finish. Client.UploadSpeedTest opens one.
	Benchmark bool
}

// BackupSession is one running backup: a snapshot being written over its
// own connection. Uploads may run concurrently (several archives at once);
// the snapshot becomes visible only when Finish succeeds. Any failed call
// aborts the session, and so does cancelling the context given to
// StartBackup: the server then removes everything of the snapshot, and
// the backup can be retried as a new session, which reuses the chunks
// already stored.
type BackupSession struct {
	c     *Client
	sess  *session
	store string
	ns    datastore.Namespace
	snap  datastore.Snapshot
	begin time.Time
	opts  BackupOptions
	env   *pipelineEnv

	parent    context.Context // StartBackup's: its end aborts the session
	ctx       context.Context // ends when the session fails, aborts or finishes
	cancel    context.CancelCauseFunc
	stopWatch func() bool

	prevTime     time.Time
	prevManifest *datastore.Manifest

	mu      sync.Mutex
	state   sessionState
	failure error
	files   []datastore.ManifestFile
	names   map[string]bool                    // archive names used or being uploaded
	open    map[string]bool                    // archives whose writer is not closed yet
	prevIdx map[string]*datastore.DynamicIndex // previous dynamic indexes downloaded, by archive name
}

type sessionState int

const (
	stateActive sessionState = iota
	stateFinishing
	stateFinished
	stateFailed
	stateAborted
)

// StartBackup opens a backup session for a new snapshot (PBS: GET
// /api2/json/backup with the protocol upgrade; needs Datastore.Backup on
// the datastore or namespace, and for an existing group, ownership).
//
// As with sql.DB.BeginTx, ctx governs the whole session: when it ends
// before Finish, the session is aborted. Unless opts.NoReuse is set, the
// previous snapshot's manifest is downloaded right away.
func (c *Client) StartBackup(ctx context.Context, opts BackupOptions) (*BackupSession, error) {
	snap, q, err := backupQuery(opts)
	if err != nil {
		return nil, err
	}
	sess, err := c.dialSession(ctx, "backup", h2upgrade.BackupProtocol, q)
	if err != nil {
		return nil, err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	inFlight := opts.MaxChunksInFlight
	if inFlight <= 0 {
		inFlight = DefaultMaxChunksInFlight
	}
	s := &BackupSession{
		c: c, sess: sess, store: opts.Datastore, ns: opts.Namespace, snap: snap,
		begin: time.Now(), opts: opts,
		env:   newPipelineEnv(workers, inFlight, opts.Progress),
		names: map[string]bool{}, open: map[string]bool{},
	}
	s.parent = ctx
	s.ctx, s.cancel = context.WithCancelCause(context.WithoutCancel(ctx))
	s.stopWatch = context.AfterFunc(ctx, s.abortByContext)
	if !opts.NoReuse {
		if err := s.loadPreviousManifest(ctx); err != nil {
			s.abort(err)
			return nil, err
		}
	}
	return s, nil
}

// backupQuery checks opts and builds the upgrade parameters
// (pbs-protocol.md 3.1).
func backupQuery(opts BackupOptions) (datastore.Snapshot, url.Values, error) {
	if opts.Datastore == "" {
		return datastore.Snapshot{}, nil, errors.New("pbs: BackupOptions.Datastore is required")
	}
	t := opts.Time
	if t.IsZero() {
		t = time.Now()
	}
	t = t.Truncate(time.Second).UTC()
	if t.Unix() < 1 {
		return datastore.Snapshot{}, nil, fmt.Errorf("pbs: backup time %v is before 1970", t)
	}
	snap := datastore.Snapshot{Group: datastore.Group{Type: opts.Type, ID: opts.ID}, Time: t}
	if err := snap.Group.Validate(); err != nil {
		return snap, nil, fmt.Errorf("pbs: backup group: %w", err)
	}
	q := url.Values{
		"store":       {opts.Datastore},
		"backup-type": {string(opts.Type)},
		"backup-id":   {opts.ID},
		"backup-time": {strconv.FormatInt(t.Unix(), 10)},
		"debug":       {strconv.FormatBool(opts.Debug)},
		"benchmark":   {strconv.FormatBool(opts.Benchmark)},
	}
	if !opts.Namespace.IsRoot() {
		q.Set("ns", opts.Namespace.String())
	}
	return snap, q, nil
}

// Snapshot returns the snapshot being written.
func (s *BackupSession) Snapshot() datastore.Snapshot { return s.snap }

// Namespace returns the namespace of the snapshot.
func (s *BackupSession) Namespace() datastore.Namespace { return s.ns }

// Previous returns the time of the group's previous snapshot, the one
// whose chunks this backup reuses, and whether there is one (false also
// with BackupOptions.NoReuse).
func (s *BackupSession) Previous() (time.Time, bool) {
	return s.prevTime, !s.prevTime.IsZero()
}

// PreviousManifest returns the manifest of the previous snapshot, or nil
// when there is none (or it could not be read, which only disables reuse).
// The caller must not modify it.
func (s *BackupSession) PreviousManifest() *datastore.Manifest { return s.prevManifest }

// Abort ends the session without finishing it: the server removes the
// snapshot and everything uploaded into it (chunks stay in the chunk
// store until garbage collection). It is a no-op after Finish succeeded
// or an earlier Abort, and safe to call at any time, also concurrently
// with uploads, which then fail with ErrAborted.
func (s *BackupSession) Abort() error {
	s.abort(ErrAborted)
	return nil
}

// abortByContext aborts the session because StartBackup's context ended.
func (s *BackupSession) abortByContext() {
	s.abort(fmt.Errorf("%w: %w", ErrAborted, context.Cause(s.parent)))
}

// abort closes the session unless it finished, recording why.
func (s *BackupSession) abort(cause error) {
	s.mu.Lock()
	switch s.state {
	case stateFinished, stateAborted, stateFailed:
		s.mu.Unlock()
		return
	}
	s.state, s.failure = stateAborted, cause
	s.mu.Unlock()
	s.shutdown(cause)
}

// fail records the first failure of a call and aborts the session: a
// session with a failed call cannot be finished correctly. If the session
// had ended already, the error says so first.
func (s *BackupSession) fail(err error) error {
	s.mu.Lock()
	switch s.state {
	case stateFinished, stateAborted, stateFailed:
		failure, ended := s.failure, s.usableLocked()
		s.mu.Unlock()
		if errors.Is(err, failure) {
			return err
		}
		return fmt.Errorf("%w (%w)", ended, err)
	}
	s.state, s.failure = stateFailed, err
	s.mu.Unlock()
	s.shutdown(err)
	return err
}

// shutdown closes the connection, so that the server discards the
// snapshot, and ends the session's context.
func (s *BackupSession) shutdown(cause error) {
	s.cancel(cause)
	if s.stopWatch != nil {
		s.stopWatch()
	}
	_ = s.sess.conn.Close()
}

// usable returns nil if the session takes calls, else why not.
func (s *BackupSession) usable() error {
	if s.parent.Err() != nil {
		s.abortByContext() // the watcher may not have run yet
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usableLocked()
}

func (s *BackupSession) usableLocked() error {
	switch s.state {
	case stateActive:
		return nil
	case stateFinishing, stateFinished:
		return ErrFinished
	case stateAborted:
		if errors.Is(s.failure, ErrAborted) {
			return s.failure
		}
		return fmt.Errorf("%w: %w", ErrAborted, s.failure)
	default:
		return fmt.Errorf("%w: %w", ErrSessionFailed, s.failure)
	}
}

// reserve claims an archive or blob name for this snapshot.
func (s *BackupSession) reserve(name string, archive bool) error {
	if s.parent.Err() != nil {
		s.abortByContext()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return err
	}
	if name == datastore.ManifestName {
		return fmt.Errorf("pbs: %s is written by Finish", name)
	}
	if s.names[name] {
		return fmt.Errorf("pbs: %s is already part of this backup", name)
	}
	s.names[name] = true
	if archive {
		s.open[name] = true
	}
	return nil
}

// unreserve gives back a name whose upload never reached the server.
func (s *BackupSession) unreserve(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.names, name)
	delete(s.open, name)
}

// addFile records a closed archive or uploaded blob for the manifest.
func (s *BackupSession) addFile(f datastore.ManifestFile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, f.Filename)
	s.files = append(s.files, f)
}

// Files returns the manifest entries of the archives and blobs completed
// so far, in the order they completed.
func (s *BackupSession) Files() []datastore.ManifestFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]datastore.ManifestFile(nil), s.files...)
}
