//go:build !linux

package datastore

import (
	"errors"
	"os"
	"time"
)

// The store relies on Linux file locking and timestamps, as PBS does. On
// other systems the helpers below fail with errors.ErrUnsupported, so the
// package still builds there (formats, listings of read-only copies).

func lockFlock(*os.File, bool) (bool, error)  { return false, errors.ErrUnsupported }
func lockRecord(*os.File, bool) (bool, error) { return false, errors.ErrUnsupported }
func lockSetAtime(string, time.Time) error    { return errors.ErrUnsupported }
func lockAtime(fi os.FileInfo) time.Time      { return fi.ModTime() }
func lockSyncfs(*os.File) error               { return errors.ErrUnsupported }

func lockStatfs(string) (total, used, avail uint64, err error) {
	return 0, 0, 0, errors.ErrUnsupported
}
