package pbstest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/mockcore"
	"github.com/proxkit/proxkit/internal/options"
)

// AdminTokenName is the name of the bootstrap token of root@pam.
const AdminTokenName = "admin"

// Server is a running PBS mock. Its exported fields are set by Start and
// never change.
type Server struct {
	// URL is "https://127.0.0.1:PORT", the base URL for pbs.NewClient.
	URL string
	// Fingerprint is the SHA-256 fingerprint of the server certificate,
	// for pbs.WithFingerprint or PBS_FINGERPRINT.
	Fingerprint auth.Fingerprint
	// AdminToken is root@pam!admin with its secret; it holds the Admin
	// role on "/" through its own ACL entry.
	AdminToken auth.Token
	// Datastore is the name of the datastore that exists from the start,
	// "store1".
	Datastore string
	// DatastorePath is that datastore's directory, in PBS's on-disk
	// layout, for inspection with package datastore.
	DatastorePath string

	cfg     config
	clock   mockcore.Clock
	authn   *mockcore.Authenticator
	tickets *mockcore.TicketSigner
	httpSrv *mockcore.Server
	tempDir string // removed by Close; "" with WithStateDir

	// mu guards everything below. Helpers that take it say so; handlers
	// never hold it while calling them.
	mu        sync.Mutex
	users     map[auth.Userid]*userRecord
	tokens    map[auth.Authid]*tokenRecord
	secrets   *mockcore.SecretStore // token secrets, hashed
	passwords *mockcore.SecretStore // user passwords (keyed by the user's Authid), hashed
	policy    *acl.Policy
	stores    map[string]*datastore.Store

	admin    adminState
	protocol protocolState

	closeOnce sync.Once
	closeErr  error
}

// Start starts a server, for programs that are not tests (use NewServer
// in tests). Close it when done.
func Start(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	if err := options.Apply(&cfg, opts); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		clock:     mockcore.Clock(cfg.Clock),
		tickets:   mockcore.NewTicketSigner(),
		users:     map[auth.Userid]*userRecord{auth.RootUserid: newRootUser()},
		tokens:    map[auth.Authid]*tokenRecord{},
		secrets:   mockcore.NewSecretStore(),
		passwords: mockcore.NewSecretStore(),
		policy:    acl.NewPolicy(auth.PBS),
		stores:    map[string]*datastore.Store{},
		Datastore: DefaultDatastore,
	}
	s.authn = &mockcore.Authenticator{
		Product: auth.PBS, Tickets: s.tickets, Secrets: s.secrets, Clock: s.clock,
		Active: s.accountActive, Delay: mockcore.AuthFailureDelay(cfg.AuthDelay),
	}
	if err := s.loadState(); err != nil {
		return nil, err
	}
	s.cfg.InstallRootPassword(s.passwords)
	if err := s.bootstrapAdmin(); err != nil {
		return nil, err
	}
	if err := s.saveLocked(); err != nil {
		return nil, fmt.Errorf("pbstest: %w", err)
	}
	if err := s.openDatastores(); err != nil {
		s.removeTemp()
		return nil, err
	}
	httpSrv, err := s.cfg.Listen(s.handler())
	if err != nil {
		s.removeTemp()
		return nil, fmt.Errorf("pbstest: %w", err)
	}
	s.httpSrv = httpSrv
	s.URL = httpSrv.URL
	s.Fingerprint = httpSrv.CertFingerprint
	return s, nil
}

// NewServer starts a server for test t and closes it when the test ends.
// It fails the test if the server cannot start.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return mockcore.StartForTest(t, "pbstest", func() (*Server, error) { return Start(opts...) })
}

// sessionCleanupTimeout bounds how long Close waits for cut-off sessions.
const sessionCleanupTimeout = 30 * time.Second

// Close stops the server, closes every connection (upgraded backup and
// reader sessions included), waits until the sessions it cut off have
// removed their unfinished snapshots, and removes the temporary datastore
// directory. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.httpSrv != nil {
			s.closeErr = s.httpSrv.Close()
		}
		// Hijacked session connections are closed above but clean up on
		// their own goroutines; the snapshot directories they remove must be
		// gone before Close returns (and before the temp dir goes).
		ctx, cancel := context.WithTimeout(context.Background(), sessionCleanupTimeout)
		if err := s.protocol.waitIdle(ctx); err != nil && s.closeErr == nil {
			s.closeErr = fmt.Errorf("pbstest: sessions still cleaning up after %v: %w", sessionCleanupTimeout, err)
		}
		cancel()
		if err := s.removeTemp(); err != nil && s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}

// CloseClientConnections drops every open client connection but keeps
// listening, to test how clients recover from a lost connection.
func (s *Server) CloseClientConnections() { s.httpSrv.CloseClientConnections() }

func (s *Server) removeTemp() error {
	if s.tempDir == "" {
		return nil
	}
	err := os.RemoveAll(s.tempDir)
	s.tempDir = ""
	return err
}

// handler builds the request pipeline: arrival stamp (for the 401 delay),
// PBS path normalization ("//api2/json/backup" is "/api2/json/backup"),
// then the router. Nothing wraps the ResponseWriter, so upgrade handlers
// can hijack the connection.
func (s *Server) handler() http.Handler {
	rt := mockcore.NewRouter(mockcore.APIPrefix, http.HandlerFunc(mockcore.WritePBSNotFound))
	s.coreRoutes(rt)
	s.accessRoutes(rt)
	s.adminRoutes(rt)
	s.protocolRoutes(rt)
	return pipeline(rt)
}

// pipeline wraps the router in what every request passes first.
func pipeline(rt *mockcore.Router) http.Handler {
	return mockcore.StampArrival(mockcore.PBSPaths(rt))
}

// coreRoutes registers the endpoints outside /access and /admin.
func (s *Server) coreRoutes(rt *mockcore.Router) {
	rt.Handle("GET", "/ping", s.handlePing)
	rt.Handle("GET", "/version", s.handleVersion)
}

// bootstrapAdmin creates root@pam!admin with the Admin role on "/" (or,
// with a state file, re-enables it there), under a new secret on every
// start: no secret is ever stored in clear.
func (s *Server) bootstrapAdmin() error {
	id, err := auth.NewTokenID(auth.RootUserid, AdminTokenName)
	if err != nil {
		return fmt.Errorf("pbstest: admin token: %w", err)
	}
	if _, ok := s.users[auth.RootUserid]; !ok {
		s.users[auth.RootUserid] = newRootUser()
	}
	s.tokens[id] = &tokenRecord{id: id, account: account{comment: "pbstest bootstrap token"}}
	secret := s.secrets.Issue(id)
	if err := s.policy.Grant(acl.EntryFor("/", id, acl.RolePBSAdmin, true)); err != nil {
		return fmt.Errorf("pbstest: admin token ACL: %w", err)
	}
	s.AdminToken, err = auth.NewToken(id, auth.NewSecret(secret))
	return err
}

// openDatastores creates (or, under a state dir, reopens) the configured
// datastores.
func (s *Server) openDatastores() error {
	base := s.cfg.StateDir
	if base == "" {
		dir, err := os.MkdirTemp("", "pbstest-")
		if err != nil {
			return fmt.Errorf("pbstest: %w", err)
		}
		s.tempDir, base = dir, dir
	}
	for _, name := range s.cfg.datastores {
		dir := filepath.Join(base, name)
		st, err := openOrCreateStore(dir, name, s.clock)
		if err != nil {
			return fmt.Errorf("pbstest: datastore %s: %w", name, err)
		}
		s.stores[name] = st
		if name == DefaultDatastore {
			s.DatastorePath = st.Path()
		}
	}
	return nil
}

func openOrCreateStore(dir, name string, clock mockcore.Clock) (*datastore.Store, error) {
	opts := []datastore.Option{datastore.WithName(name), datastore.WithClock(clock.Now), datastore.WithSync(datastore.SyncNone)}
	if _, err := os.Stat(filepath.Join(dir, ".chunks")); err == nil {
		return datastore.Open(dir, opts...)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return datastore.Create(context.Background(), dir, opts...)
}

// Now returns the server's current time (its clock, see WithClock).
func (s *Server) Now() time.Time { return s.clock.Now() }

// Client returns a new HTTP/1.1 client that trusts exactly the server's
// certificate, for raw requests (curl-like tests). It sends no
// credentials.
func (s *Server) Client() *http.Client { return s.httpSrv.Client() }
