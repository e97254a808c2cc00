//go:build !unix

package auth

import "errors"

func readFirstLineFD(int) (string, error) {
	return "", errors.New("reading a secret from a file descriptor is only supported on Unix")
}
