package pbs

import (
	"crypto/x509"
	"log/slog"
	"net/http"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/clientcfg"
)

// Option configures NewClient. Options can fail: a bad value makes
// NewClient return an error instead of a half-configured client.
type Option func(*settings) error

// settings is what the options set, shared with package pve's options.
type settings = clientcfg.Settings

// RetryPolicy says how often idempotent requests (GET, HEAD) are tried on
// connection errors and 5xx answers, with jittered exponential backoff
// between MinBackoff and MaxBackoff. 4xx answers are never retried. Zero
// fields mean the defaults (3 attempts, 250ms, 5s).
type RetryPolicy struct {
	MaxAttempts int           // total attempts including the first
	MinBackoff  time.Duration // first backoff
	MaxBackoff  time.Duration // cap on any backoff
}

// WithCredentials authenticates every request: an auth.Token (API token,
// sent as "PBSAPIToken=ID:SECRET") or the *auth.Ticket of
// auth.NewTicketCredentials (password login with CSRF token).
func WithCredentials(c auth.Credentials) Option { return clientcfg.SetCredentials("pbs", c) }

// WithToken is WithCredentials for an API token given as id and secret.
func WithToken(id auth.Authid, secret auth.Secret) Option { return clientcfg.SetToken(id, secret) }

// WithFingerprint accepts exactly the server certificate with this SHA-256
// fingerprint (as PBS_FINGERPRINT does), whoever signed it.
func WithFingerprint(fp auth.Fingerprint) Option { return clientcfg.SetFingerprint("pbs", fp) }

// WithRootCAs verifies the server certificate against pool instead of the
// system roots.
func WithRootCAs(pool *x509.CertPool) Option { return clientcfg.SetRootCAs("pbs", pool) }

// WithInsecureSkipVerify turns off certificate verification altogether.
// Anyone on the network path can then read the secrets sent; prefer
// WithFingerprint.
func WithInsecureSkipVerify() Option { return clientcfg.SetInsecure() }

// WithHTTPClient sends requests through hc, used as is. It excludes the TLS
// options, which belong to hc's transport then. Backup and reader sessions
// dial their own connections and need the TLS options instead.
func WithHTTPClient(hc *http.Client) Option { return clientcfg.SetHTTPClient("pbs", hc) }

// WithUserAgent sets the User-Agent header (default "proxkit").
func WithUserAgent(ua string) Option { return clientcfg.SetUserAgent(ua) }

// WithRetryPolicy replaces the default retry policy.
func WithRetryPolicy(p RetryPolicy) Option { return clientcfg.SetRetryPolicy(clientcfg.RetryPolicy(p)) }

// WithLogger receives a debug record per request and a warning per retry.
// Secrets, headers and bodies are never logged.
func WithLogger(l *slog.Logger) Option { return clientcfg.SetLogger(l) }
