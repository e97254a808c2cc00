//go:build linux

package datastore

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// Linux system calls the store needs and package syscall does not name.
const (
	// lockOFDSetLK is F_OFD_SETLK: a POSIX record lock owned by the open file
	// description rather than the process. It conflicts with PBS's classic
	// fcntl locks on the same file, but closing one descriptor does not drop
	// the locks other goroutines hold through their own descriptors, and two
	// descriptors of one process conflict with each other.
	lockOFDSetLK = 37

	// lockUtimeNow and lockUtimeOmit are the special nanosecond values of
	// utimensat(2).
	lockUtimeNow  = (1 << 30) - 1
	lockUtimeOmit = (1 << 30) - 2
)

// lockFlock takes a flock(2) lock on f without blocking. It reports
// (false, nil) when someone else holds a conflicting lock.
func lockFlock(f *os.File, exclusive bool) (bool, error) {
	how := syscall.LOCK_SH | syscall.LOCK_NB
	if exclusive {
		how = syscall.LOCK_EX | syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		default:
			return false, err
		}
	}
}

// lockRecord takes an open-file-description record lock over the whole of
// f without blocking: a read (shared) or write (exclusive) lock. It reports
// (false, nil) when a conflicting lock is held.
func lockRecord(f *os.File, exclusive bool) (bool, error) {
	lk := syscall.Flock_t{Type: syscall.F_RDLCK, Whence: 0, Start: 0, Len: 0}
	if exclusive {
		lk.Type = syscall.F_WRLCK
	}
	for {
		err := syscall.FcntlFlock(f.Fd(), lockOFDSetLK, &lk)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EACCES):
			return false, nil
		default:
			return false, err
		}
	}
}

// lockSetAtime sets the access time of path to t (or to the kernel's "now"
// when t is zero) and leaves the modification time alone, following
// symlinks no further than PBS does (it never meets any in .chunks).
func lockSetAtime(path string, t time.Time) error {
	atime := syscall.Timespec{Nsec: lockUtimeNow}
	if !t.IsZero() {
		atime = syscall.NsecToTimespec(t.UnixNano())
	}
	ts := []syscall.Timespec{atime, {Nsec: lockUtimeOmit}}
	for {
		err := syscall.UtimesNano(path, ts)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// lockAtime returns the access time recorded in fi.
func lockAtime(fi os.FileInfo) time.Time {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi.ModTime()
	}
	return time.Unix(st.Atim.Unix()) // Unix: the fields are 32-bit on 386 and arm
}

// lockStatfs returns total, used and available bytes of the file system
// holding path, computed like PBS: used = total - free (free including the
// blocks reserved for root), avail = blocks available to unprivileged users.
func lockStatfs(path string) (total, used, avail uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, 0, err
	}
	bsize := uint64(st.Bsize)
	if st.Frsize > 0 {
		bsize = uint64(st.Frsize)
	}
	total = st.Blocks * bsize
	used = total - st.Bfree*bsize
	avail = st.Bavail * bsize
	return total, used, avail, nil
}

// lockSyncfs flushes the whole file system holding f (syncfs(2)).
func lockSyncfs(f *os.File) error {
	if lockSysSyncfs == 0 {
		syscall.Sync()
		return nil
	}
	_, _, errno := syscall.Syscall(lockSysSyncfs, f.Fd(), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
