package auth

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFingerprint(t *testing.T) {
	raw := sha256.Sum256([]byte("certificate"))
	lowerHex := hex.EncodeToString(raw[:])
	var pairs []string
	for i := 0; i < len(lowerHex); i += 2 {
		pairs = append(pairs, lowerHex[i:i+2])
	}
	colon := strings.Join(pairs, ":")

	for _, in := range []string{colon, strings.ToUpper(colon), lowerHex, strings.ToUpper(lowerHex), " " + colon + "\n"} {
		fp, err := ParseFingerprint(in)
		require.NoError(t, err, in)
		assert.Equal(t, Fingerprint(raw), fp)
		assert.Equal(t, colon, fp.String())
	}
	for in, want := range map[string]string{
		"":                                       "empty",
		colon[:len(colon)-3]:                     "expected 32 colon-separated",
		lowerHex[:62]:                            "expected 64 hex digits",
		colon + ":00":                            "95 characters",
		strings.Replace(colon, ":", "-", 1):      "expected ':'",
		"zz" + colon[2:]:                         "not a hex digit",
		"g" + lowerHex[1:]:                       "not a hex digit",
		strings.Replace(colon, ":", "", 1) + ":": "expected ':'",
	} {
		_, err := ParseFingerprint(in)
		require.Error(t, err, in)
		assert.ErrorIs(t, err, ErrInvalidFingerprint)
		var pe *ParseError
		require.ErrorAs(t, err, &pe)
		assert.Contains(t, err.Error(), want, in)
	}
	assert.Panics(t, func() { MustParseFingerprint("x") })

	fp := Fingerprint(raw)
	b, err := fp.MarshalText()
	require.NoError(t, err)
	var back Fingerprint
	require.NoError(t, back.UnmarshalText(b))
	assert.Equal(t, fp, back)
	assert.Error(t, back.UnmarshalText([]byte("nope")))
	assert.True(t, Fingerprint{}.IsZero())
	assert.Equal(t, Fingerprint{}, FingerprintOf(nil))
}

func TestFingerprintOf(t *testing.T) {
	cert := selfSignedCert(t)
	assert.Equal(t, Fingerprint(sha256.Sum256(cert.Certificate[0])), FingerprintOf(cert.Leaf))
}

// get fetches url with a client using conf; it returns the error only.
func get(conf *tls.Config, url string) error {
	tr := &http.Transport{TLSClientConfig: conf}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

func TestTLSConfigPinning(t *testing.T) {
	cert := selfSignedCert(t)
	srv := newTLSServer(t, cert, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	right := FingerprintOf(cert.Leaf)

	t.Run("right fingerprint", func(t *testing.T) {
		conf, err := TLSConfig(WithFingerprint(&right))
		require.NoError(t, err)
		assert.NoError(t, get(conf, srv.URL))
	})

	t.Run("wrong fingerprint names both", func(t *testing.T) {
		wrong := right
		wrong[0] ^= 0xff
		conf, err := TLSConfig(WithFingerprint(&wrong))
		require.NoError(t, err)
		err = get(conf, srv.URL)
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrFingerprintMismatch)
		var fme *FingerprintMismatchError
		require.ErrorAs(t, err, &fme)
		assert.Equal(t, wrong, fme.Expected)
		assert.Equal(t, right, fme.Presented)
		assert.Contains(t, err.Error(), wrong.String())
		assert.Contains(t, err.Error(), right.String())
	})

	t.Run("no fingerprint: not in the system pool", func(t *testing.T) {
		conf, err := TLSConfig()
		require.NoError(t, err)
		err = get(conf, srv.URL)
		require.Error(t, err)
		var unknown x509.UnknownAuthorityError
		var verr *tls.CertificateVerificationError
		assert.True(t, errors.As(err, &unknown) || errors.As(err, &verr), "%v", err)
		assert.False(t, conf.InsecureSkipVerify)
	})

	t.Run("private root CA", func(t *testing.T) {
		pool := x509.NewCertPool()
		pool.AddCert(cert.Leaf)
		conf, err := TLSConfig(WithRootCAs(pool))
		require.NoError(t, err)
		assert.NoError(t, get(conf, srv.URL))
	})

	t.Run("insecure option", func(t *testing.T) {
		conf, err := TLSConfig(InsecureSkipVerify())
		require.NoError(t, err)
		assert.NoError(t, get(conf, srv.URL))
	})

	t.Run("next protos settable", func(t *testing.T) {
		conf, err := TLSConfig(WithFingerprint(&right), WithNextProtos("http/1.1"), WithServerName("pbs.test"))
		require.NoError(t, err)
		assert.Equal(t, []string{"http/1.1"}, conf.NextProtos)
		assert.Equal(t, "pbs.test", conf.ServerName)
		conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), conf)
		require.NoError(t, err)
		assert.Equal(t, "http/1.1", conn.ConnectionState().NegotiatedProtocol)
		require.NoError(t, conn.Close())
	})
}

func TestTLSConfigOptions(t *testing.T) {
	fp := MustParseFingerprint(strings.Repeat("ab", 32))
	_, err := TLSConfig(WithFingerprint(&fp), InsecureSkipVerify())
	assert.Error(t, err, "pinning and insecure exclude each other")
	_, err = TLSConfig(WithFingerprint(&Fingerprint{}))
	assert.ErrorIs(t, err, ErrInvalidFingerprint)
	_, err = TLSConfig(WithRootCAs(nil))
	assert.Error(t, err)

	conf, err := TLSConfig(WithFingerprint(nil), nil)
	require.NoError(t, err)
	assert.False(t, conf.InsecureSkipVerify)
	assert.Nil(t, conf.VerifyConnection)
	assert.Equal(t, uint16(tls.VersionTLS12), conf.MinVersion)

	// Each call returns a fresh config.
	a, _ := TLSConfig()
	b, _ := TLSConfig()
	a.NextProtos = []string{"h2"}
	assert.Nil(t, b.NextProtos)

	// The pin is copied: changing the caller's value later has no effect.
	pin := fp
	conf, err = TLSConfig(WithFingerprint(&pin))
	require.NoError(t, err)
	pin[0] = 0
	err = conf.VerifyConnection(tls.ConnectionState{})
	var fme *FingerprintMismatchError
	require.ErrorAs(t, err, &fme)
	assert.Equal(t, fp, fme.Expected)
}
