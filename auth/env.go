package auth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"unicode/utf8"
)

// LookupEnv looks up one environment variable, reporting whether it is
// defined. os.LookupEnv is the usual choice; tests pass a map lookup. A nil
// LookupEnv means os.LookupEnv.
type LookupEnv func(key string) (string, bool)

// MapEnv returns a LookupEnv reading from m.
func MapEnv(m map[string]string) LookupEnv {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// maxSecretLine bounds what is read from a secret file, descriptor or
// command.
const maxSecretLine = 1 << 20

// EnvError reports an unusable environment variable. Its message names
// the variable, never the value. It matches ErrInvalidEnv.
type EnvError struct {
	Var    string
	Reason string
	Err    error // underlying error, if any
}

// Error implements error.
func (e *EnvError) Error() string {
	msg := e.Var + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrInvalidEnv) true.
func (e *EnvError) Is(target error) bool { return target == ErrInvalidEnv }

// Unwrap returns the underlying error.
func (e *EnvError) Unwrap() error { return e.Err }

// SecretFromEnv reads a secret the way proxmox-backup-client reads
// PBS_PASSWORD (and PBS_ENCRYPTION_PASSWORD): the first of these variables
// that is defined wins, even when empty:
//
//  1. base: the value itself;
//  2. base_FD: a decimal file descriptor to read from (not closed);
//  3. base_FILE: the path of a file to read;
//  4. base_CMD: a command line, split into words like a shell would but
//     run without one; its standard output is used and it must exit 0.
//
// Only the first line counts (the terminating "\n" or "\r\n" removed). from
// names the variable that was used, "" when none is defined (then the
// secret is empty and err nil). Reading a descriptor cannot be interrupted
// by ctx; the command is killed when ctx ends.
func SecretFromEnv(ctx context.Context, lookup LookupEnv, base string) (secret Secret, from string, err error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	sources := []struct {
		suffix string
		read   func(name, value string) (string, error)
	}{
		{"", func(_, v string) (string, error) { return firstLine(v), nil }},
		{"_FD", readSecretFD},
		{"_FILE", readSecretFile},
		{"_CMD", func(name, v string) (string, error) { return runSecretCommand(ctx, name, v) }},
	}
	for _, src := range sources {
		name := base + src.suffix
		v, ok := lookup(name)
		if !ok {
			continue
		}
		if !utf8.ValidString(v) {
			return Secret{}, name, &EnvError{Var: name, Reason: "contains bad characters (not UTF-8)"}
		}
		line, err := src.read(name, v)
		if err != nil {
			return Secret{}, name, err
		}
		return NewSecret(line), name, nil
	}
	return Secret{}, "", nil
}

func readSecretFD(name, v string) (string, error) {
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 0 {
		return "", &EnvError{Var: name, Reason: "not a file descriptor number"}
	}
	line, err := readFirstLineFD(fd)
	if err != nil {
		return "", &EnvError{Var: name, Reason: "reading the file descriptor failed", Err: err}
	}
	return line, nil
}

func readSecretFile(name, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", &EnvError{Var: name, Reason: "unable to open file", Err: err}
	}
	defer f.Close()
	line, err := readFirstLine(f)
	if err != nil {
		return "", &EnvError{Var: name, Reason: "reading the file failed", Err: err}
	}
	return line, nil
}

// firstLine returns s up to its first "\n", without a "\r" right before it.
func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		s = s[:i]
		if n := len(s); n > 0 && s[n-1] == '\r' {
			s = s[:n-1]
		}
	}
	return s
}

// readFirstLine reads up to the first newline (or EOF) and returns that
// line; it must be UTF-8.
func readFirstLine(r io.Reader) (string, error) {
	br := bufio.NewReader(io.LimitReader(r, maxSecretLine))
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if !utf8.ValidString(line) {
		return "", errors.New("not valid UTF-8")
	}
	return firstLine(line), nil
}

func runSecretCommand(ctx context.Context, name, cmdline string) (string, error) {
	args, err := splitWords(cmdline)
	if err != nil {
		return "", &EnvError{Var: name, Reason: "cannot split the command line", Err: err}
	}
	if len(args) == 0 {
		return "", &EnvError{Var: name, Reason: "empty command"}
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &limitedBuffer{buf: &out, max: maxSecretLine}
	// Stderr stays unread: it could echo the secret into an error.
	prog := filepath.Base(args[0])
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", &EnvError{Var: name, Reason: fmt.Sprintf("command %q failed with %s", prog, exit.ProcessState)}
		}
		if ctx.Err() != nil {
			return "", &EnvError{Var: name, Reason: fmt.Sprintf("command %q interrupted", prog), Err: ctx.Err()}
		}
		return "", &EnvError{Var: name, Reason: fmt.Sprintf("cannot run command %q", prog), Err: errors.Unwrap(err)}
	}
	if !utf8.Valid(out.Bytes()) {
		return "", &EnvError{Var: name, Reason: fmt.Sprintf("output of command %q is not valid UTF-8", prog)}
	}
	return firstLine(out.String()), nil
}

// limitedBuffer stops storing after max bytes (the command keeps running).
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

// Write stores what fits and reports everything written.
func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		if len(p) > room {
			l.buf.Write(p[:room])
		} else {
			l.buf.Write(p)
		}
	}
	return len(p), nil
}
