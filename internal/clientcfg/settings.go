package clientcfg

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/httpapi"
)

// Settings collects what the options of a public client set. The zero
// value verifies TLS against the system roots, sends no credentials and
// retries with httpapi's defaults.
type Settings struct {
	Credentials     auth.Credentials
	Fingerprint     *auth.Fingerprint
	RootCAs         *x509.CertPool
	Insecure        bool
	HTTPClient      *http.Client
	UserAgent       string
	Retry           httpapi.RetryPolicy
	Logger          *slog.Logger
	MaxResponseSize int64
}

// RetryPolicy mirrors the public clients' RetryPolicy, which have the same
// fields as httpapi.RetryPolicy.
type RetryPolicy struct {
	MaxAttempts int
	MinBackoff  time.Duration
	MaxBackoff  time.Duration
}

// SetRetry copies a public retry policy.
func (s *Settings) SetRetry(p RetryPolicy) error {
	if p.MaxAttempts < 0 || p.MinBackoff < 0 || p.MaxBackoff < 0 {
		return errors.New("retry policy: negative values are not allowed")
	}
	s.Retry = httpapi.RetryPolicy{MaxAttempts: p.MaxAttempts, MinBackoff: p.MinBackoff, MaxBackoff: p.MaxBackoff}
	return nil
}

// Build checks the settings and returns the HTTP core for baseURL. Errors
// never contain secrets.
func (s *Settings) Build(p auth.Product, baseURL string) (*httpapi.Client, error) {
	tlsConf, err := s.TLSConfig()
	if err != nil {
		return nil, err
	}
	if s.HTTPClient != nil {
		if s.Fingerprint != nil || s.RootCAs != nil || s.Insecure {
			return nil, errors.New("WithHTTPClient cannot be combined with TLS options: configure that client's transport instead")
		}
		tlsConf = nil
	}
	return httpapi.New(httpapi.Config{
		BaseURL:         baseURL,
		Product:         p,
		Credentials:     s.Credentials,
		TLSConfig:       tlsConf,
		HTTPClient:      s.HTTPClient,
		UserAgent:       s.UserAgent,
		Retry:           s.Retry,
		Logger:          s.Logger,
		MaxResponseSize: s.MaxResponseSize,
	})
}

// TLSConfig is the verification the options ask for: the pinned
// fingerprint, the given roots, none (only when asked for by name), or the
// system roots.
func (s *Settings) TLSConfig() (*tls.Config, error) {
	var opts []auth.TLSOption
	if s.Fingerprint != nil {
		opts = append(opts, auth.WithFingerprint(s.Fingerprint))
	}
	if s.RootCAs != nil {
		opts = append(opts, auth.WithRootCAs(s.RootCAs))
	}
	if s.Insecure {
		if s.Fingerprint != nil {
			return nil, errors.New("WithInsecureSkipVerify and WithFingerprint exclude each other")
		}
		opts = append(opts, auth.InsecureSkipVerify())
	}
	conf, err := auth.TLSConfig(opts...)
	if err != nil {
		return nil, fmt.Errorf("TLS settings: %w", err)
	}
	return conf, nil
}
