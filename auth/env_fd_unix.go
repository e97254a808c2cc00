//go:build unix

package auth

import (
	"os"
	"syscall"
)

// readFirstLineFD reads the first line from descriptor fd without closing
// it (a duplicate is read and closed).
func readFirstLineFD(fd int) (string, error) {
	dup, err := syscall.Dup(fd)
	if err != nil {
		return "", err
	}
	f := os.NewFile(uintptr(dup), "fd")
	defer f.Close()
	return readFirstLine(f)
}
