package datastore

import (
	"context"
	"errors"
	"io/fs"
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
// Groups are only cleaned when their lock can be taken, so the files of a
// running backup (ours or PBS's) are never touched. It returns how many
// files and directories it removed. Nothing it removes is visible to
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

// gcCleanGroup removes stale temporary entries of one group directory while
// holding the group lock; a locked group is skipped.
func (s *Store) gcCleanGroup(ctx context.Context, dir string, stale func(string) bool) (int, error) {
	lock, err := lockDir(dir, "backup group", "in use", true)
	if err != nil {
		if isLocked(err) || errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	defer lock.Unlock()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, nil
	}
	removed := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		name, path := e.Name(), filepath.Join(dir, e.Name())
		switch {
		case strings.Contains(name, chunkTempInfix):
			// A writer's hidden snapshot directory or a temporary file.
			if stale(path) && os.RemoveAll(path) == nil {
				removed++
			}
		case e.IsDir():
			if _, err := ParseBackupTime(name); err != nil {
				continue
			}
			files, err := os.ReadDir(path)
			if err != nil {
				continue
			}
			for _, f := range files {
				fp := filepath.Join(path, f.Name())
				if !f.IsDir() && strings.Contains(f.Name(), chunkTempInfix) && stale(fp) && os.Remove(fp) == nil {
					removed++
				}
			}
		}
	}
	return removed, nil
}
