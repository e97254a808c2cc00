// Package exampletest runs the example programs as built binaries in
// tests, the way scripts use them: go build into a temporary directory,
// start with arguments and environment, read stdout, signal, check the
// exit status.
package exampletest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/examples/internal/cli"
)

// Module is the import path prefix of the examples.
const Module = "github.com/proxkit/proxkit/examples/"

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{}
)

// Build compiles the example (its directory name under examples/, e.g.
// "mockserver") once per test binary and returns the executable's path.
func Build(t testing.TB, example string) string {
	t.Helper()
	return Prebuild(t, example)[0]
}

// Prebuild compiles the examples not built yet in one go build (which
// shares the work between them) and returns their paths in order.
func Prebuild(t testing.TB, examples ...string) []string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "proxkit-examples-")
		require.NoError(t, err)
		buildDir = dir
	}
	var missing []string
	for _, e := range examples {
		if _, ok := built[e]; !ok {
			missing = append(missing, Module+e)
		}
	}
	if len(missing) > 0 {
		args := append([]string{"build", "-o", buildDir + string(filepath.Separator)}, missing...)
		out, err := exec.Command(goTool(), args...).CombinedOutput()
		require.NoError(t, err, "go build %v: %s", missing, out)
		for _, e := range examples {
			built[e] = filepath.Join(buildDir, e)
		}
	}
	paths := make([]string, len(examples))
	for i, e := range examples {
		paths[i] = built[e]
	}
	return paths
}

// Main is the TestMain of a package whose tests build example programs:
// it runs the tests, removes the binaries (Cleanup) and exits with the
// tests' status.
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// Cleanup removes the built binaries; call it from TestMain after m.Run
// (Main does).
func Cleanup() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
		buildDir = ""
		built = map[string]string{}
	}
}

// goTool is the go command on PATH, as go test itself was found.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// Result is what a finished program did.
type Result struct {
	Code   int
	Stdout string
	Stderr string
}

// LastLine is the last non-empty line of stdout.
func (r Result) LastLine() string {
	lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
	return lines[len(lines)-1]
}

// Run runs bin to completion with args, env (added to a minimal
// environment: PATH and HOME only, so the caller's PBS_* or PVE_* never
// leak in) and stdin, and returns its exit status and output.
func Run(t testing.TB, bin string, env []string, stdin io.Reader, args ...string) Result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(baseEnv(), env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	default:
		require.NoError(t, err)
	}
	return res
}

func baseEnv() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	if tmp := os.Getenv("TMPDIR"); tmp != "" {
		env = append(env, "TMPDIR="+tmp)
	}
	return env
}

// Mock is a running examples/mockserver process.
type Mock struct {
	cli.MockInfo
	cmd      *exec.Cmd
	stderrMu sync.Mutex
	stderr   bytes.Buffer
	done     chan error
	stopOnce sync.Once
	code     int
}

// lockedWriter serialises writes to the mock's stderr buffer.
type lockedWriter struct{ m *Mock }

// Write implements io.Writer.
func (w lockedWriter) Write(p []byte) (int, error) {
	w.m.stderrMu.Lock()
	defer w.m.stderrMu.Unlock()
	return w.m.stderr.Write(p)
}

// StartMock builds and starts examples/mockserver with args, reads its
// JSON line and stops it (SIGINT) when the test ends.
func StartMock(t testing.TB, args ...string) *Mock {
	t.Helper()
	bin := Build(t, "mockserver")
	cmd := exec.Command(bin, args...)
	cmd.Env = baseEnv()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	m := &Mock{cmd: cmd, done: make(chan error, 1)}
	cmd.Stderr = lockedWriter{m}
	require.NoError(t, cmd.Start())

	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
		io.Copy(io.Discard, stdout)
		m.done <- cmd.Wait()
	}()
	select {
	case line := <-lines:
		require.NoError(t, json.Unmarshal([]byte(line), &m.MockInfo), "mockserver printed %q; stderr: %s", line, m.Stderr())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("mockserver printed nothing in 30s; stderr: %s", m.Stderr())
	}
	t.Cleanup(func() { m.Stop(t) })
	return m
}

// Stop interrupts the server (SIGINT) and returns its exit status (-1 if
// a signal killed it); later calls return the first status.
func (m *Mock) Stop(t testing.TB) int {
	t.Helper()
	m.stopOnce.Do(func() {
		m.cmd.Process.Signal(syscall.SIGINT)
		var err error
		select {
		case err = <-m.done:
		case <-time.After(30 * time.Second):
			m.cmd.Process.Kill()
			err = <-m.done
			t.Errorf("mockserver did not stop within 30s of SIGINT")
		}
		var exit *exec.ExitError
		switch {
		case err == nil:
			m.code = 0
		case errors.As(err, &exit):
			m.code = exit.ExitCode()
		default:
			m.code = -1
		}
	})
	return m.code
}

// Stderr is what the server wrote to stderr so far.
func (m *Mock) Stderr() string {
	m.stderrMu.Lock()
	defer m.stderrMu.Unlock()
	return m.stderr.String()
}

// PBSEnv is the environment that points proxmox-backup-client (and the
// examples) at a PBS mock: PBS_REPOSITORY, PBS_PASSWORD, PBS_FINGERPRINT.
func (m *Mock) PBSEnv() []string {
	return []string{
		"PBS_REPOSITORY=" + m.Repository,
		"PBS_PASSWORD=" + m.Secret,
		"PBS_FINGERPRINT=" + m.Fingerprint,
	}
}

// PVEEnv is the environment for a PVE mock: PVE_URL, PVE_AUTHID,
// PVE_PASSWORD, PVE_FINGERPRINT.
func (m *Mock) PVEEnv() []string {
	return []string{
		"PVE_URL=" + m.URL,
		"PVE_AUTHID=" + m.AuthID,
		"PVE_PASSWORD=" + m.Secret,
		"PVE_FINGERPRINT=" + m.Fingerprint,
	}
}
