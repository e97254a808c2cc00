package datastore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CleanupStale removes what interrupted writes leave behind once it is
// older than the stale age (WithStaleAge, default one hour):
//
//   - temporary chunk files (<digest>.tmp_<random>) in the chunk store;
//   - hidden temporary snapshot directories of snapshot writers that never
//     committed or aborted (a crash), and temporary files of atomic writes
//     (<name>.tmp_<random>, PBS's <archive>.tmp_fidx/.tmp_didx) in group
//     and snapshot directories.
//
// The files of a running backup (ours or PBS's) are never touched: each
// candidate is checked with the lock its writer holds (see gcCleanGroup),
// and no group lock is taken, so cleaning never makes a backup fail to
// start. It returns how many files and directories it removed. Nothing it removes is visible to
// listings or garbage collection in the first place; this only reclaims
// space. GarbageCollect calls it.
func (s *Store) CleanupStale(ctx context.Context) (int, error) {
	limit := s.now().Add(-s.cfg.staleAge)
	removed := 0
	err := s.chunkWalk(ctx, func(path string) error {
		if strings.Contains(filepath.Base(path), chunkTempInfix) && isStale(path, limit) && os.Remove(path) == nil {
			removed++
		}
		return nil
	}, func(string, Digest, bool) error { return nil })
	if err != nil {
		return removed, err
	}
	n, err := s.cleanupStaleGroups(ctx)
	return removed + n, err
}

// cleanupStaleGroups is the part of CleanupStale outside the chunk store.
func (s *Store) cleanupStaleGroups(ctx context.Context) (int, error) {
	limit := s.now().Add(-s.cfg.staleAge)
	stale := func(path string) bool { return isStale(path, limit) }
	removed := 0
	namespaces, err := s.ListNamespaces(ctx, Namespace{}, MaxNamespaceDepth)
	if err != nil {
		return removed, err
	}
	for _, it := range namespaces {
		groups, err := s.storeGroups(ctx, it.NS)
		if err != nil {
			return removed, err
		}
		for _, g := range groups {
			n, err := s.gcCleanGroup(ctx, s.GroupPath(it.NS, g), stale)
			removed += n
			if err != nil {
				return removed, err
			}
		}
	}
	return removed, nil
}

// isStale reports whether path exists and was last modified before limit.
func isStale(path string, limit time.Time) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.ModTime().Before(limit)
}

// gcCleanGroup removes stale temporary entries of one group directory
// without taking the group lock, so that a backup starting meanwhile is
// never refused because of it. What could still be in use is checked with
// a lock of its own, and only once it looks stale:
//
//   - a writer's hidden temporary snapshot directory: every live
//     SnapshotWriter holds an exclusive lock on it, so it is removed only
//     when that lock can be taken;
//   - temporary files inside a snapshot directory: a running PBS backup
//     holds the snapshot's exclusive lock, so they are removed only under a
//     shared one, which readers do not mind;
//   - temporary files of the group itself (owner, notes): atomic writes
//     that live for milliseconds, stale only after a crash.
func (s *Store) gcCleanGroup(ctx context.Context, dir string, stale func(string) bool) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, nil // removed meanwhile, or unreadable: nothing to clean
	}
	removed := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		name, path := e.Name(), filepath.Join(dir, e.Name())
		switch {
		case strings.Contains(name, chunkTempInfix) && e.IsDir():
			if stale(path) && removeUnlockedDir(path) {
				removed++
			}
		case strings.Contains(name, chunkTempInfix):
			if stale(path) && os.Remove(path) == nil {
				removed++
			}
		case e.IsDir():
			if _, err := ParseBackupTime(name); err == nil {
				removed += cleanSnapshotDir(path, stale)
			}
		}
	}
	return removed, nil
}

// removeUnlockedDir removes the directory tree at path if an exclusive lock
// on it can be taken, i.e. no live writer holds it.
func removeUnlockedDir(path string) bool {
	lock, err := lockDir(path, "temporary snapshot", "in use", true)
	if err != nil {
		return false
	}
	defer lock.Unlock()
	return os.RemoveAll(path) == nil
}

// cleanSnapshotDir removes the stale temporary files of one snapshot
// directory under a shared snapshot lock and returns how many it removed.
func cleanSnapshotDir(dir string, stale func(string) bool) int {
	files, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var candidates []string
	for _, f := range files {
		fp := filepath.Join(dir, f.Name())
		if !f.IsDir() && strings.Contains(f.Name(), chunkTempInfix) && stale(fp) {
			candidates = append(candidates, fp)
		}
	}
	if len(candidates) == 0 {
		return 0
	}
	lock, err := lockDir(dir, "snapshot", "in use", false)
	if err != nil {
		return 0 // a backup is writing it, or it is gone
	}
	defer lock.Unlock()
	removed := 0
	for _, fp := range candidates {
		if os.Remove(fp) == nil {
			removed++
		}
	}
	return removed
}
