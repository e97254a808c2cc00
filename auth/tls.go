package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// TLSOption configures TLSConfig. Options may fail; TLSConfig returns the
// first error.
type TLSOption func(*tlsSettings) error

type tlsSettings struct {
	pin        *Fingerprint
	insecure   bool
	roots      *x509.CertPool
	nextProtos []string
	serverName string
}

// WithFingerprint pins the server certificate: the connection is accepted
// exactly when the leaf certificate's SHA-256 fingerprint equals fp,
// whoever signed it (the usual case for Proxmox servers with their
// self-signed certificates). A nil fp leaves normal verification on, so
// the *Fingerprint of PBSEnvironment can be passed as is.
func WithFingerprint(fp *Fingerprint) TLSOption {
	return func(s *tlsSettings) error {
		if fp == nil {
			return nil
		}
		if fp.IsZero() {
			return &ParseError{Kind: "fingerprint", Reason: "all zero; pass nil for no pinning", Err: ErrInvalidFingerprint}
		}
		v := *fp
		s.pin = &v
		return nil
	}
}

// InsecureSkipVerify turns certificate verification off completely: any
// server, including an attacker in the middle, is accepted and sees the
// credentials. DANGEROUS; use only against throw-away test servers. Pin the
// server's fingerprint with WithFingerprint instead.
func InsecureSkipVerify() TLSOption {
	return func(s *tlsSettings) error {
		s.insecure = true
		return nil
	}
}

// WithRootCAs verifies server certificates against pool instead of the
// system roots (for servers with certificates of a private CA). It has no
// effect together with WithFingerprint.
func WithRootCAs(pool *x509.CertPool) TLSOption {
	return func(s *tlsSettings) error {
		if pool == nil {
			return errors.New("auth: WithRootCAs: nil pool")
		}
		s.roots = pool
		return nil
	}
}

// WithNextProtos sets the ALPN protocols offered (the PBS backup and reader
// sessions need exactly "http/1.1"). Callers may also set NextProtos on
// the returned config.
func WithNextProtos(protos ...string) TLSOption {
	return func(s *tlsSettings) error {
		s.nextProtos = append([]string(nil), protos...)
		return nil
	}
}

// WithServerName sets the name sent in SNI and verified against the
// certificate when not pinning (default: the host dialled).
func WithServerName(name string) TLSOption {
	return func(s *tlsSettings) error {
		s.serverName = name
		return nil
	}
}

// TLSConfig builds a client *tls.Config (TLS 1.2 or newer) that verifies
// the server:
//
//   - with WithFingerprint: only the pinned leaf certificate is accepted, by
//     its SHA-256 fingerprint; a different one fails the handshake with a
//     *FingerprintMismatchError naming both fingerprints. This differs from
//     proxmox-backup-client, which first tries the system CAs and accepts
//     any CA-valid certificate even when a fingerprint is configured; a pin
//     here means exactly that certificate (renewing the server certificate
//     therefore needs the new fingerprint);
//   - without it: normal chain and host name verification against the
//     system roots (or WithRootCAs);
//   - with InsecureSkipVerify: no verification at all.
//
// Pinning and InsecureSkipVerify exclude each other. The result is a fresh
// config owned by the caller.
func TLSConfig(opts ...TLSOption) (*tls.Config, error) {
	var s tlsSettings
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&s); err != nil {
			return nil, err
		}
	}
	if s.pin != nil && s.insecure {
		return nil, errors.New("auth: TLSConfig: WithFingerprint and InsecureSkipVerify exclude each other")
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    s.roots,
		NextProtos: s.nextProtos,
		ServerName: s.serverName,
	}
	switch {
	case s.pin != nil:
		want := *s.pin
		// Chain verification is replaced, not skipped: VerifyConnection
		// runs on every full and resumed handshake.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return &FingerprintMismatchError{Expected: want}
			}
			if got := FingerprintOf(cs.PeerCertificates[0]); got != want {
				return &FingerprintMismatchError{Expected: want, Presented: got}
			}
			return nil
		}
	case s.insecure:
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}
