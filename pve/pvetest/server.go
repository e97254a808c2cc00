package pvetest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
	"github.com/proxkit/proxkit/internal/mockcore"
	"github.com/proxkit/proxkit/internal/options"
)

// AdminTokenName is the name of the bootstrap token of root@pam.
const AdminTokenName = "admin"

// serverHeader is what pve-api-daemon names itself in every answer;
// clients use it to tell a PVE server from a PBS one.
const serverHeader = "pve-api-daemon/3.0"

// Server is a running PVE mock. Its exported fields are set by Start and
// never change.
type Server struct {
	// URL is "https://127.0.0.1:PORT", the base URL for pve.NewClient.
	URL string
	// Fingerprint is the SHA-256 fingerprint of the server certificate,
	// for pve.WithFingerprint or PVE_FINGERPRINT.
	Fingerprint auth.Fingerprint
	// AdminToken is root@pam!admin with its secret. It is privilege
	// separated and holds the Administrator role on "/" through its own
	// ACL entry (root@pam's tokens do not inherit the superuser's rights).
	AdminToken auth.Token

	cfg     config
	clock   mockcore.Clock
	authn   *mockcore.Authenticator
	tickets *mockcore.TicketSigner
	httpSrv *mockcore.Server

	// mu guards the access-control state below. Handlers take it after
	// authentication (whose Active callback takes it too).
	mu        sync.Mutex
	users     map[auth.Userid]*userRecord
	groups    map[string]*groupRecord // comments; members live in policy
	policy    *acl.Policy
	secrets   *mockcore.SecretStore // token secrets, hashed
	passwords *mockcore.SecretStore // user passwords (keyed by the user's Authid), hashed

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
		cfg:     cfg,
		clock:   mockcore.Clock(cfg.Clock),
		tickets: mockcore.NewTicketSigner(),
	}
	s.resetState()
	if cfg.StateDir != "" {
		if err := s.loadState(); err != nil {
			return nil, err
		}
	}
	s.authn = &mockcore.Authenticator{
		Product: auth.PVE, Tickets: s.tickets, Secrets: s.secrets, Clock: s.clock,
		Active: s.accountActive, Delay: mockcore.AuthFailureDelay(cfg.AuthDelay),
	}
	s.cfg.InstallRootPassword(s.passwords)
	if err := s.bootstrapAdmin(); err != nil {
		return nil, err
	}
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	httpSrv, err := s.cfg.Listen(s.handler())
	if err != nil {
		return nil, fmt.Errorf("pvetest: %w", err)
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
	return mockcore.StartForTest(t, "pvetest", func() (*Server, error) { return Start(opts...) })
}

// Close stops the server and closes every connection. It is safe to call
// more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.httpSrv != nil {
			s.closeErr = s.httpSrv.Close()
		}
	})
	return s.closeErr
}

// TLSConfig returns a new client TLS configuration that trusts exactly
// the server's certificate (it is its own CA, valid for 127.0.0.1, ::1
// and localhost), for HTTP clients other than pve.NewClient, which takes
// WithFingerprint(s.Fingerprint).
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.httpSrv.CertPool(), MinVersion: tls.VersionTLS12}
}

// CertPool returns a pool holding only the server certificate, for
// clients that verify through roots (pve.WithRootCAs) instead of a pinned
// fingerprint.
func (s *Server) CertPool() *x509.CertPool { return s.httpSrv.CertPool() }

// HTTPClient returns a new plain HTTP client that trusts exactly the
// server certificate, for raw requests in tests.
func (s *Server) HTTPClient() *http.Client { return s.httpSrv.Client() }

// CloseClientConnections drops every open client connection but keeps
// listening, to test how clients recover from a lost connection.
func (s *Server) CloseClientConnections() { s.httpSrv.CloseClientConnections() }

// now returns the server's current time (WithClock).
func (s *Server) now() time.Time { return s.clock.Now() }

// handler builds the request pipeline: arrival stamp (for the 401 delay),
// PVE's Server header, then the router.
func (s *Server) handler() http.Handler {
	rt := mockcore.NewRouter(mockcore.APIPrefix, http.HandlerFunc(mockcore.WritePVENotImplemented))
	s.routes(rt)
	return mockcore.StampArrival(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", serverHeader)
		rt.ServeHTTP(w, r)
	}))
}

// bootstrapAdmin makes sure root@pam!admin exists, privilege separated,
// with Administrator on "/", and gives it its secret for this run.
func (s *Server) bootstrapAdmin() error {
	id, err := auth.NewTokenID(auth.RootUserid, AdminTokenName)
	if err != nil {
		return fmt.Errorf("pvetest: admin token: %w", err)
	}
	root := s.users[auth.RootUserid]
	if _, ok := root.tokens[AdminTokenName]; !ok {
		root.tokens[AdminTokenName] = &tokenRecord{privsep: true, comment: "pvetest bootstrap token"}
	}
	if err := s.policy.SetToken(id, root.tokens[AdminTokenName].privsep); err != nil {
		return fmt.Errorf("pvetest: admin token: %w", err)
	}
	if err := s.policy.Grant(acl.EntryFor("/", id, acl.RolePVEAdministrator, true)); err != nil {
		return fmt.Errorf("pvetest: admin token ACL: %w", err)
	}
	secret := s.cfg.adminSecret.Reveal()
	if secret == "" {
		secret = mockcore.NewTokenSecret()
	}
	s.secrets.Set(id, secret)
	s.AdminToken, err = auth.NewToken(id, auth.NewSecret(secret))
	return err
}
