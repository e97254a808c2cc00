package mockcore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/proxkit/proxkit/auth"
)

// certValidity is long enough that no test run or saved fixture outlives
// the certificate.
const certValidity = 50 * 365 * 24 * time.Hour

// defaultCertHosts are always in the certificate, so clients can dial the
// mock by any loopback name.
var defaultCertHosts = []string{"127.0.0.1", "::1", "localhost"}

// NewSelfSignedCert creates an ECDSA P-256 certificate for 127.0.0.1, ::1,
// localhost and the given extra hosts (IP addresses or DNS names), valid
// from an hour ago for fifty years. It returns the certificate (with Leaf
// set) and its fingerprint, the SHA-256 of the DER encoding, which is what
// PBS_FINGERPRINT and auth.WithFingerprint expect.
//
// The certificate is its own CA (basic constraints CA, key usage cert
// sign), so a client may also trust it through a root pool instead of
// pinning the fingerprint.
func NewSelfSignedCert(hosts ...string) (tls.Certificate, auth.Fingerprint, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, auth.Fingerprint{}, fmt.Errorf("mockcore: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, auth.Fingerprint{}, fmt.Errorf("mockcore: serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "proxkit mock server", Organization: []string{"proxkit"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	seen := map[string]bool{}
	for _, h := range append(append([]string(nil), defaultCertHosts...), hosts...) {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, auth.Fingerprint{}, fmt.Errorf("mockcore: create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, auth.Fingerprint{}, fmt.Errorf("mockcore: parse certificate: %w", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	return cert, auth.FingerprintOf(leaf), nil
}
