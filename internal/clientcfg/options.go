package clientcfg

import (
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http"

	"github.com/proxkit/proxkit/auth"
)

// The setters below are the bodies of the public With… options of pve and
// pbs; pkg ("pve", "pbs") starts their error messages so that a failing
// option names the package the caller used.

// Setter is the underlying type of the public Option types.
type Setter = func(*Settings) error

// SetCredentials is WithCredentials.
func SetCredentials(pkg string, c auth.Credentials) Setter {
	return func(s *Settings) error {
		if c == nil {
			return errors.New(pkg + ": WithCredentials: nil credentials")
		}
		s.Credentials = c
		return nil
	}
}

// SetToken is WithToken.
func SetToken(id auth.Authid, secret auth.Secret) Setter {
	return func(s *Settings) error {
		tok, err := auth.NewToken(id, secret)
		if err != nil {
			return err
		}
		s.Credentials = tok
		return nil
	}
}

// SetFingerprint is WithFingerprint.
func SetFingerprint(pkg string, fp auth.Fingerprint) Setter {
	return func(s *Settings) error {
		if fp.IsZero() {
			return errors.New(pkg + ": WithFingerprint: zero fingerprint")
		}
		s.Fingerprint = &fp
		return nil
	}
}

// SetRootCAs is WithRootCAs.
func SetRootCAs(pkg string, pool *x509.CertPool) Setter {
	return func(s *Settings) error {
		if pool == nil {
			return errors.New(pkg + ": WithRootCAs: nil pool")
		}
		s.RootCAs = pool
		return nil
	}
}

// SetInsecure is WithInsecureSkipVerify.
func SetInsecure() Setter {
	return func(s *Settings) error {
		s.Insecure = true
		return nil
	}
}

// SetHTTPClient is WithHTTPClient.
func SetHTTPClient(pkg string, hc *http.Client) Setter {
	return func(s *Settings) error {
		if hc == nil {
			return errors.New(pkg + ": WithHTTPClient: nil client")
		}
		s.HTTPClient = hc
		return nil
	}
}

// SetUserAgent is WithUserAgent.
func SetUserAgent(ua string) Setter {
	return func(s *Settings) error {
		s.UserAgent = ua
		return nil
	}
}

// SetRetryPolicy is WithRetryPolicy.
func SetRetryPolicy(p RetryPolicy) Setter {
	return func(s *Settings) error { return s.SetRetry(p) }
}

// SetLogger is WithLogger.
func SetLogger(l *slog.Logger) Setter {
	return func(s *Settings) error {
		s.Logger = l
		return nil
	}
}
