package mockcore

import (
	"errors"
	"log"
	"net/http"
	"testing"
	"time"

	"github.com/proxkit/proxkit/auth"
)

// MockConfig is what the options both mock servers (pvetest, pbstest)
// share set. Each mock embeds it in its own option target, so that the
// public With… options of both packages have one body and the same checks.
type MockConfig struct {
	// Addr is where the server listens ("" is DefaultAddr).
	Addr string
	// StateDir keeps the mock's state across restarts ("" keeps it in
	// memory only).
	StateDir string
	// Clock is the mock's notion of now (nil is time.Now).
	Clock func() time.Time
	// RootPassword lets root@pam log in with a ticket (zero: no password).
	RootPassword auth.Secret
	// AuthDelay holds back 401 replies (AuthFailureDelay).
	AuthDelay time.Duration
	// Version is what GET /version reports: version, release, repoid.
	Version [3]string
	// ErrorLog receives the HTTP server's own messages (nil discards them).
	ErrorLog *log.Logger
}

// MockSetter is the body of a shared mock option. The pkg argument of the
// constructors below ("pvetest", "pbstest") starts their error messages,
// so a failing option names the package the caller used.
type MockSetter = func(*MockConfig) error

// SetListenAddr is WithListenAddr.
func SetListenAddr(pkg, addr string) MockSetter {
	return func(c *MockConfig) error {
		if addr == "" {
			return errors.New(pkg + ": WithListenAddr: empty address")
		}
		c.Addr = addr
		return nil
	}
}

// SetStateDir is WithStateDir.
func SetStateDir(pkg, dir string) MockSetter {
	return func(c *MockConfig) error {
		if dir == "" {
			return errors.New(pkg + ": WithStateDir: empty directory")
		}
		c.StateDir = dir
		return nil
	}
}

// SetClock is WithClock.
func SetClock(pkg string, now func() time.Time) MockSetter {
	return func(c *MockConfig) error {
		if now == nil {
			return errors.New(pkg + ": WithClock: nil clock")
		}
		c.Clock = now
		return nil
	}
}

// SetRootPassword is WithRootPassword.
func SetRootPassword(pkg string, password auth.Secret) MockSetter {
	return func(c *MockConfig) error {
		if password.IsZero() {
			return errors.New(pkg + ": WithRootPassword: empty password")
		}
		c.RootPassword = password
		return nil
	}
}

// SetVersion is WithVersion.
func SetVersion(pkg, version, release, repoid string) MockSetter {
	return func(c *MockConfig) error {
		if version == "" {
			return errors.New(pkg + ": WithVersion: empty version")
		}
		c.Version = [3]string{version, release, repoid}
		return nil
	}
}

// SetErrorLog is WithErrorLog.
func SetErrorLog(l *log.Logger) MockSetter {
	return func(c *MockConfig) error {
		c.ErrorLog = l
		return nil
	}
}

// InstallRootPassword stores RootPassword, if set, as root@pam's password.
func (c *MockConfig) InstallRootPassword(passwords *SecretStore) {
	if !c.RootPassword.IsZero() {
		passwords.Set(auth.RootUserid.Authid(), c.RootPassword.Reveal())
	}
}

// Listen starts serving h on Addr (StartServer), with ErrorLog if set.
func (c *MockConfig) Listen(h http.Handler) (*Server, error) {
	var opts []ServerOption
	if c.ErrorLog != nil {
		opts = append(opts, WithErrorLog(c.ErrorLog))
	}
	return StartServer(c.Addr, h, opts...)
}

// VersionData is the answer of GET /version.
func (c *MockConfig) VersionData() map[string]string {
	return map[string]string{"version": c.Version[0], "release": c.Version[1], "repoid": c.Version[2]}
}

// StartForTest is both mocks' NewServer: it starts a server with start,
// fails t if that fails, and closes the server when the test ends,
// reporting a failed close. pkg starts the failure messages.
func StartForTest[S interface{ Close() error }](t testing.TB, pkg string, start func() (S, error)) S {
	t.Helper()
	s, err := start()
	if err != nil {
		t.Fatalf("%s: %v", pkg, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("%s: close: %v", pkg, err)
		}
	})
	return s
}
