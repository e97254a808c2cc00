package pvetest

import (
	"errors"
	"log"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// Version, release and repository id GET /version reports by default. The
// mock follows PVE 9.x (libpve-access-control 9.1) in its roles,
// privileges and token API.
const (
	DefaultVersion = "9.1.1"
	DefaultRelease = "9.1"
	DefaultRepoID  = "00000000"
)

// Option configures Start and NewServer. Options can fail: a bad value
// makes Start return an error instead of a half-configured server.
type Option func(*config) error

type config struct {
	mockcore.MockConfig
	adminSecret auth.Secret
}

func defaultConfig() config {
	return config{MockConfig: mockcore.MockConfig{Version: [3]string{DefaultVersion, DefaultRelease, DefaultRepoID}}}
}

// shared turns the body of an option both mock servers have into an
// Option of this package.
func shared(set mockcore.MockSetter) Option {
	return func(c *config) error { return set(&c.MockConfig) }
}

// WithListenAddr makes the server listen on addr ("127.0.0.1:8006";
// default "127.0.0.1:0", a free loopback port). Server.URL has the port
// actually bound.
func WithListenAddr(addr string) Option { return shared(mockcore.SetListenAddr("pvetest", addr)) }

// WithStateDir keeps the access-control state (users, their tokens with
// hashed secrets and hashed passwords, groups, custom roles, ACL entries)
// in dir/StateFile, written with mode 0600 after every change and read
// at start, so that a mock server survives restarts. The admin token's
// secret is never stored: every start issues a new one (see
// WithAdminSecret for a fixed one). Without this option the state lives
// in memory only.
func WithStateDir(dir string) Option { return shared(mockcore.SetStateDir("pvetest", dir)) }

// WithClock makes now the server's notion of the current time: ticket
// ages, token and user expiry. The default is time.Now. Pass a
// controllable clock to test expiry without sleeping.
func WithClock(now func() time.Time) Option { return shared(mockcore.SetClock("pvetest", now)) }

// WithRootPassword lets root@pam log in with a ticket (POST
// /access/ticket) using this password. Without it root@pam has no password
// and only the admin token works for it.
func WithRootPassword(password auth.Secret) Option {
	return shared(mockcore.SetRootPassword("pvetest", password))
}

// WithAdminSecret gives the admin token root@pam!admin this secret instead
// of a fresh random one, so that scripts keep working across restarts of
// a server with WithStateDir.
func WithAdminSecret(secret auth.Secret) Option {
	return func(c *config) error {
		if secret.IsZero() {
			return errors.New("pvetest: WithAdminSecret: empty secret")
		}
		c.adminSecret = secret
		return nil
	}
}

// WithRealDelays makes the server hold back 401 replies until about 3
// seconds after the request arrived, as PVE does. Off by default, so tests
// stay fast.
func WithRealDelays() Option {
	return func(c *config) error {
		c.AuthDelay = mockcore.RealAuthFailureDelay
		return nil
	}
}

// WithVersion sets what GET /version reports.
func WithVersion(version, release, repoid string) Option {
	return shared(mockcore.SetVersion("pvetest", version, release, repoid))
}

// WithErrorLog receives the HTTP server's own messages (TLS handshake
// failures of clients that reject the certificate, handler panics) and
// failures to write the state file. They are discarded by default,
// because tests provoke the former on purpose.
func WithErrorLog(l *log.Logger) Option { return shared(mockcore.SetErrorLog(l)) }
