package datastore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/proxkit/proxkit/internal/options"
)

// SyncLevel says how hard the store pushes written data to stable storage,
// like the datastore option "sync-level" of PBS.
type SyncLevel int

// The sync levels. The zero value is SyncFilesystem, PBS's default.
const (
	// SyncFilesystem writes files normally and calls syncfs(2) once when a
	// snapshot is committed, so a committed snapshot and every chunk written
	// before it are on disk. PBS's default since 3.1.
	SyncFilesystem SyncLevel = iota
	// SyncNone never syncs: fastest, and what tests and mock servers want.
	// A crash may lose recently written chunks (never half-written ones:
	// writes are still atomic renames).
	SyncNone
	// SyncFile fsyncs every chunk and index file and its directory before
	// and after the rename: slowest, most fine-grained.
	SyncFile
)

// String returns the PBS name of the level: "filesystem", "none" or "file".
func (l SyncLevel) String() string {
	switch l {
	case SyncFilesystem:
		return "filesystem"
	case SyncNone:
		return "none"
	case SyncFile:
		return "file"
	}
	return fmt.Sprintf("SyncLevel(%d)", int(l))
}

// DefaultStaleAge is how old a leftover temporary file or snapshot directory
// must be before CleanupStale and GarbageCollect remove it.
const DefaultStaleAge = time.Hour

// storeChunkPrefixes is the number of .chunks/xxxx prefix directories.
const storeChunkPrefixes = 1 << 16

// Option configures Open and Create. Options report invalid values as
// errors instead of ignoring them.
type Option func(*storeConfig) error

// storeConfig collects the options.
type storeConfig struct {
	sync          SyncLevel
	now           func() time.Time
	name          string
	staleAge      time.Duration
	allPrefixDirs bool
	// clockSet records WithClock: the store then stamps new chunks with
	// the clock's time, so that garbage collection sees one time line.
	clockSet bool
}

// WithSync sets the sync level (default SyncFilesystem).
func WithSync(level SyncLevel) Option {
	return func(c *storeConfig) error {
		if level < SyncFilesystem || level > SyncFile {
			return fmt.Errorf("datastore: unknown sync level %d", int(level))
		}
		c.sync = level
		return nil
	}
}

// WithClock replaces time.Now, for tests of garbage collection and prune:
// chunk access times set by the store and the GC cutoff both follow it.
func WithClock(now func() time.Time) Option {
	return func(c *storeConfig) error {
		if now == nil {
			return errors.New("datastore: nil clock")
		}
		c.now = now
		c.clockSet = true
		return nil
	}
}

// WithName names the datastore in generated task ids (UPIDs) and errors;
// default: the base directory's name.
func WithName(name string) Option {
	return func(c *storeConfig) error {
		if name == "" {
			return errors.New("datastore: empty name")
		}
		c.name = name
		return nil
	}
}

// WithStaleAge sets how old leftover temporary files must be before they
// are cleaned up (default DefaultStaleAge).
func WithStaleAge(d time.Duration) Option {
	return func(c *storeConfig) error {
		if d < 0 {
			return errors.New("datastore: negative stale age")
		}
		c.staleAge = d
		return nil
	}
}

// WithAllPrefixDirs makes Create make all 65536 .chunks/xxxx directories up
// front, as PBS does. Use it for a datastore a real PBS will serve later:
// PBS's chunk insert does not create missing prefix directories (its
// listing, verify and garbage collection skip missing ones, so a store
// without them is readable, but backups into it fail). Without it, Create
// makes none and the store makes each one on its first insert: 65536
// empty directories cost seconds and, on ext4, 256 MiB of directory
// blocks, which tests, mock servers and small stores should not pay.
// MakePrefixDirs adds them later. Open ignores this option.
func WithAllPrefixDirs() Option {
	return func(c *storeConfig) error {
		c.allPrefixDirs = true
		return nil
	}
}

// Store is a datastore in PBS's on-disk layout (spec 7): the chunk store
// below .chunks, namespaces, groups and snapshots, plus verify, garbage
// collection and prune. A Store is safe for concurrent use; open one Store
// per directory per process, or more, locks are per descriptor.
type Store struct {
	base     string
	chunkDir string
	cfg      storeConfig

	// stripes serialise insert and sweep of chunks with the same first
	// digest byte, so that a sweep never unlinks a chunk an insert has just
	// reported as present (PBS holds one mutex for the same reason).
	stripes [256]sync.Mutex

	// writers records the start times of open snapshot writers: garbage
	// collection keeps every chunk touched after the oldest one, like PBS's
	// "oldest writer".
	writersMu  sync.Mutex
	writers    map[uint64]time.Time
	nextWriter uint64

	// chunkLock is the record lock on <base>/.lock.
	chunkLock chunkStoreLock
}

// Open opens the datastore at dir. It needs <dir>/.chunks and nothing else:
// prefix directories, the lock file and .gc-status may all be missing (a
// copied datastore often lacks the empty prefix directories), and a
// read-only copy can be listed, read and verified without writes.
func Open(dir string, opts ...Option) (*Store, error) {
	cfg, err := storeApplyOptions(opts)
	if err != nil {
		return nil, err
	}
	base, err := filepath.Abs(dir)
	if err != nil {
		return nil, storeErr("open", dir, err)
	}
	chunkDir := filepath.Join(base, ".chunks")
	fi, err := os.Stat(chunkDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, storeErr("open", base, ErrNotDatastore)
	case err != nil:
		return nil, storeErr("open", base, err)
	case !fi.IsDir():
		return nil, storeErr("open", base, ErrNotDatastore)
	}
	if cfg.name == "" {
		cfg.name = filepath.Base(base)
	}
	return &Store{base: base, chunkDir: chunkDir, cfg: cfg, writers: map[uint64]time.Time{}}, nil
}

// Create makes a new datastore at dir (creating dir if needed) and opens
// it. It fails with ErrDatastoreExists if dir already has a .chunks
// directory. It writes the empty lock file and, with WithAllPrefixDirs, the
// 65536 prefix directories (which takes a while: ctx can cancel it).
func Create(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	cfg, err := storeApplyOptions(opts)
	if err != nil {
		return nil, err
	}
	base, err := filepath.Abs(dir)
	if err != nil {
		return nil, storeErr("create", dir, err)
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, storeErr("create", base, err)
	}
	chunkDir := filepath.Join(base, ".chunks")
	if err := os.Mkdir(chunkDir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, storeErr("create", base, ErrDatastoreExists)
		}
		return nil, storeErr("create", base, err)
	}
	if err := os.WriteFile(filepath.Join(base, ".lock"), nil, 0o644); err != nil {
		return nil, storeErr("create", base, err)
	}
	if cfg.allPrefixDirs {
		if err := storeMakePrefixDirs(ctx, chunkDir, 0, storeChunkPrefixes); err != nil {
			return nil, storeErr("create", base, err)
		}
	}
	return Open(base, opts...)
}

// MakePrefixDirs creates every missing .chunks/xxxx prefix directory, so
// that a store made without WithAllPrefixDirs can be handed to a real PBS
// (whose chunk insert needs them). Existing directories and chunks stay as
// they are; ctx can cancel it.
func (s *Store) MakePrefixDirs(ctx context.Context) error {
	return storeErr("make prefix directories", ".chunks", storeMakePrefixDirs(ctx, s.chunkDir, 0, storeChunkPrefixes))
}

// storeMakePrefixDirs creates the prefix directories from..to-1 (as four
// hex digits) below chunkDir; existing ones are fine.
func storeMakePrefixDirs(ctx context.Context, chunkDir string, from, to int) error {
	for i := from; i < to; i++ {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := os.Mkdir(filepath.Join(chunkDir, fmt.Sprintf("%04x", i)), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return nil
}

// storeApplyOptions builds the configuration from the defaults and opts.
func storeApplyOptions(opts []Option) (storeConfig, error) {
	cfg := storeConfig{now: time.Now, staleAge: DefaultStaleAge}
	err := options.Apply(&cfg, opts)
	return cfg, err
}

// Path returns the absolute base directory of the datastore.
func (s *Store) Path() string { return s.base }

// Name returns the datastore name (WithName, or the base directory's name).
func (s *Store) Name() string { return s.cfg.name }

// SyncLevel returns the configured sync level.
func (s *Store) SyncLevel() SyncLevel { return s.cfg.sync }

// now returns the current time of the store's clock.
func (s *Store) now() time.Time { return s.cfg.now() }

// NamespacePath returns the directory of ns: the base for the root
// namespace, <base>/ns/a/ns/b for "a/b".
func (s *Store) NamespacePath(ns Namespace) string {
	return filepath.Join(s.base, filepath.FromSlash(ns.DirPath()))
}

// GroupPath returns the directory of group g in namespace ns.
func (s *Store) GroupPath(ns Namespace, g Group) string {
	return filepath.Join(s.NamespacePath(ns), filepath.FromSlash(g.DirPath()))
}

// SnapshotPath returns the directory of snapshot snap in namespace ns.
func (s *Store) SnapshotPath(ns Namespace, snap Snapshot) string {
	return filepath.Join(s.NamespacePath(ns), filepath.FromSlash(snap.DirPath()))
}

// rel returns path relative to the base, for error messages.
func (s *Store) rel(path string) string {
	if r, err := filepath.Rel(s.base, path); err == nil {
		return r
	}
	return path
}

// StoreStatus is the usage of the file system holding the datastore, as
// GET /admin/datastore/{store}/status returns it (JSON names as PBS's).
// GCStatus and Counts are only filled by Status(ctx, true).
type StoreStatus struct {
	Total    uint64    `json:"total"`
	Used     uint64    `json:"used"`
	Avail    uint64    `json:"avail"`
	GCStatus *GCStatus `json:"gc-status,omitempty"`
	Counts   *Counts   `json:"counts,omitempty"`
}

// Counts are the numbers of groups and snapshots per backup type over all
// namespaces, counting only groups that have at least one snapshot.
type Counts struct {
	CT    *TypeCounts `json:"ct,omitempty"`
	Host  *TypeCounts `json:"host,omitempty"`
	VM    *TypeCounts `json:"vm,omitempty"`
	Other *TypeCounts `json:"other,omitempty"`
}

// TypeCounts counts the groups and snapshots of one backup type.
type TypeCounts struct {
	Groups    uint64 `json:"groups"`
	Snapshots uint64 `json:"snapshots"`
}

// Status returns total, used and available bytes of the file system (via
// statfs, computed like PBS). With verbose it also reads the last garbage
// collection status (if any) and counts groups and snapshots in every
// namespace.
func (s *Store) Status(ctx context.Context, verbose bool) (*StoreStatus, error) {
	total, used, avail, err := lockStatfs(s.base)
	if err != nil {
		return nil, storeErr("statfs", s.base, err)
	}
	st := &StoreStatus{Total: total, Used: used, Avail: avail}
	if !verbose {
		return st, nil
	}
	gc, err := s.LastGCStatus()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err == nil {
		st.GCStatus = gc
	} else {
		st.GCStatus = &GCStatus{}
	}
	counts, err := s.storeCount(ctx)
	if err != nil {
		return nil, err
	}
	st.Counts = counts
	return st, nil
}

// storeCount counts groups and snapshots per type below the root namespace.
func (s *Store) storeCount(ctx context.Context) (*Counts, error) {
	namespaces, err := s.ListNamespaces(ctx, Namespace{}, MaxNamespaceDepth)
	if err != nil {
		return nil, err
	}
	c := &Counts{}
	for _, nsItem := range namespaces {
		groups, err := s.storeGroups(ctx, nsItem.NS)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			snaps, err := s.storeSnapshotDirs(s.GroupPath(nsItem.NS, g))
			if err != nil || len(snaps) == 0 {
				continue
			}
			var tc **TypeCounts
			switch g.Type {
			case TypeCT:
				tc = &c.CT
			case TypeHost:
				tc = &c.Host
			case TypeVM:
				tc = &c.VM
			default:
				tc = &c.Other
			}
			if *tc == nil {
				*tc = &TypeCounts{}
			}
			(*tc).Groups++
			(*tc).Snapshots += uint64(len(snaps))
		}
	}
	return c, nil
}

// syncDir fsyncs the directory at path (after a rename into it).
func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncFilesystem flushes the file system of the datastore (SyncFilesystem).
func (s *Store) syncFilesystem() error {
	d, err := os.Open(s.base)
	if err != nil {
		return err
	}
	defer d.Close()
	return lockSyncfs(d)
}
