package httpapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/proxkit/proxkit/auth"
)

// Retry defaults, used for the zero fields of a RetryPolicy.
const (
	DefaultMaxAttempts = 3
	DefaultMinBackoff  = 250 * time.Millisecond
	DefaultMaxBackoff  = 5 * time.Second
)

// RetryPolicy says how often an idempotent request (GET, HEAD, or one
// marked Request.Idempotent) is tried when the connection fails or the
// server answers 5xx (except 501 Not Implemented and 500s that say an
// object does not or already exists, which would only repeat). A request
// whose body cannot be replayed, and any 4xx answer, is never retried.
// Between attempts it waits a jittered exponential backoff (between half
// and all of MinBackoff·2^n, capped at MaxBackoff; a 503's Retry-After is
// honoured up to MaxBackoff), and stops as soon as the context ends.
//
// The zero value means the defaults (3 attempts, 250ms, 5s); NoRetry
// disables retries.
type RetryPolicy struct {
	MaxAttempts int           // total attempts including the first; 0 = DefaultMaxAttempts
	MinBackoff  time.Duration // first backoff; 0 = DefaultMinBackoff
	MaxBackoff  time.Duration // cap on any backoff; 0 = DefaultMaxBackoff
}

// NoRetry is a RetryPolicy that sends every request exactly once.
var NoRetry = RetryPolicy{MaxAttempts: 1}

// withDefaults fills zero fields and validates the rest.
func (p RetryPolicy) withDefaults() (RetryPolicy, error) {
	if p.MaxAttempts < 0 || p.MinBackoff < 0 || p.MaxBackoff < 0 {
		return p, fmt.Errorf("httpapi: RetryPolicy %+v: negative values are not allowed", p)
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MinBackoff == 0 {
		p.MinBackoff = DefaultMinBackoff
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxBackoff < p.MinBackoff {
		return p, fmt.Errorf("httpapi: RetryPolicy: MaxBackoff %v is below MinBackoff %v", p.MaxBackoff, p.MinBackoff)
	}
	return p, nil
}

// Backoff returns the wait before retry number retry+1 (Backoff(0) is the
// wait after the first attempt): a random duration in [d/2, d] with
// d = min(MaxBackoff, MinBackoff·2^retry). Zero fields use the defaults.
func (p RetryPolicy) Backoff(retry int) time.Duration {
	if q, err := p.withDefaults(); err == nil {
		p = q
	} else {
		p = RetryPolicy{MaxAttempts: DefaultMaxAttempts, MinBackoff: DefaultMinBackoff, MaxBackoff: DefaultMaxBackoff}
	}
	d := p.MaxBackoff
	if retry < 62 {
		if e := p.MinBackoff << uint(retry); e > 0 && e < d && e>>uint(retry) == p.MinBackoff {
			d = e
		}
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryableStatus reports whether an answer may be retried: 5xx other
// than 501, unless the message shows a deterministic handler error.
func retryableStatus(e *APIError) bool {
	if e.Status < 500 || e.Status > 599 || e.Status == http.StatusNotImplemented {
		return false
	}
	m := e.meaning()
	return m != ErrNotFound && m != ErrExists
}

// retryableTransportError reports whether a failure without an answer may
// be retried: not when the caller's context ended and not for
// certificate problems, which a second attempt would only repeat.
func retryableTransportError(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		verr  *tls.CertificateVerificationError
		uaerr x509.UnknownAuthorityError
		hnerr x509.HostnameError
		cierr x509.CertificateInvalidError
		rherr tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, auth.ErrFingerprintMismatch), errors.As(err, &verr), errors.As(err, &uaerr),
		errors.As(err, &hnerr), errors.As(err, &cierr), errors.As(err, &rherr):
		return false
	}
	return true
}

// retryAfter reads a 503's Retry-After in seconds (dates are ignored).
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		return 0
	}
	n, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
