package pbstest

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// DefaultDatastore is the name of the datastore every server starts with.
const DefaultDatastore = "store1"

// Version, release and repository id GET /version reports by default. The
// mock follows PBS 3.3+ in its role and privilege tables (spec 5.2, 5.3).
const (
	DefaultVersion = "3.4.1"
	DefaultRelease = "1"
	DefaultRepoID  = "0000000000000000000000000000000000000000"
)

// Option configures Start and NewServer. Options can fail: a bad value
// makes Start return an error instead of a half-configured server.
type Option func(*config) error

type config struct {
	mockcore.MockConfig
	datastores   []string
	deniedDelay  time.Duration
	legacyDelete bool

	admin    adminOptions
	protocol protocolOptions
}

func defaultConfig() config {
	return config{
		MockConfig: mockcore.MockConfig{Version: [3]string{DefaultVersion, DefaultRelease, DefaultRepoID}},
		datastores: []string{DefaultDatastore},
	}
}

// shared turns the body of an option both mock servers have into an
// Option of this package.
func shared(set mockcore.MockSetter) Option {
	return func(c *config) error { return set(&c.MockConfig) }
}

// WithListenAddr makes the server listen on addr ("127.0.0.1:8007";
// default "127.0.0.1:0", a free loopback port). Server.URL has the port
// actually bound.
func WithListenAddr(addr string) Option { return shared(mockcore.SetListenAddr("pbstest", addr)) }

// WithStateDir keeps the datastores in dir/<name> instead of a temporary
// directory that Close removes, and the access-control state (users,
// tokens with hashed secrets, hashed passwords, ACL entries) in
// dir/StateFile, written with mode 0600 after every change. An existing
// datastore or state file is opened, not recreated, so a mock server
// survives restarts. The admin token gets a new secret on every start.
func WithStateDir(dir string) Option { return shared(mockcore.SetStateDir("pbstest", dir)) }

// WithClock makes now the server's notion of the current time: ticket
// ages, token and user expiry, backup times. The default is time.Now.
// Pass a controllable clock to test expiry without sleeping.
func WithClock(now func() time.Time) Option { return shared(mockcore.SetClock("pbstest", now)) }

// WithDatastore adds another datastore (besides "store1"). Names follow
// PBS's rules for datastore names (a safe id of 3 to 32 characters).
func WithDatastore(name string) Option {
	return func(c *config) error {
		if err := validStoreName(name); err != nil {
			return err
		}
		for _, have := range c.datastores {
			if have == name {
				return fmt.Errorf("pbstest: WithDatastore: datastore %q given twice", name)
			}
		}
		c.datastores = append(c.datastores, name)
		return nil
	}
}

// WithRootPassword lets root@pam log in with a ticket (POST
// /access/ticket) using this password. Without it root@pam has no password
// and only the admin token works.
func WithRootPassword(password auth.Secret) Option {
	return shared(mockcore.SetRootPassword("pbstest", password))
}

// WithRealDelays makes the server hold back answers as the real one does:
// 401 replies until about 3 seconds after the request arrived, endpoint
// 403 replies for 500 ms. Off by default, so tests stay fast.
func WithRealDelays() Option {
	return func(c *config) error {
		c.AuthDelay = mockcore.RealAuthFailureDelay
		c.deniedDelay = mockcore.RealPBSForbiddenDelay
		return nil
	}
}

// WithDelays holds back 401 replies until unauthorized after the request
// arrived and endpoint 403 replies for forbidden (WithRealDelays uses the
// real servers' values). Negative values are errors.
func WithDelays(unauthorized, forbidden time.Duration) Option {
	return func(c *config) error {
		if unauthorized < 0 || forbidden < 0 {
			return errors.New("pbstest: WithDelays: negative delay")
		}
		c.AuthDelay, c.deniedDelay = unauthorized, forbidden
		return nil
	}
}

// WithLegacyDeletion reproduces PBS 3.2.4's deletion semantics (spec 7):
// deleting a user removes only the user, leaving its tokens, their secrets
// and all ACL entries dormant (they work again if the user is re-created);
// deleting a token keeps its ACL entries. The default is the clean variant
// of newer servers, which removes all of it.
func WithLegacyDeletion() Option {
	return func(c *config) error {
		c.legacyDelete = true
		return nil
	}
}

// WithVersion sets what GET /version reports.
func WithVersion(version, release, repoid string) Option {
	return shared(mockcore.SetVersion("pbstest", version, release, repoid))
}

// WithErrorLog receives the HTTP server's own messages (TLS handshake
// failures of clients that reject the certificate, handler panics). They
// are discarded by default, because tests provoke them on purpose.
func WithErrorLog(l *log.Logger) Option { return shared(mockcore.SetErrorLog(l)) }

// validStoreName applies PBS's datastore name schema: a safe id
// ([A-Za-z0-9_][A-Za-z0-9._-]*) of 3 to 32 characters.
func validStoreName(name string) error {
	// A token name is exactly a safe id, so its parser checks the syntax.
	if _, err := auth.ParseTokenName(name); err != nil || len(name) < 3 || len(name) > 32 {
		return fmt.Errorf("pbstest: invalid datastore name %q (3 to 32 letters, digits, '_', '.', '-', not starting with '.' or '-')", name)
	}
	return nil
}
