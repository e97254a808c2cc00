package clientcfg

import (
	"crypto/x509"
	"net/http"
	"testing"

	"github.com/proxkit/proxkit/auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func apply(t *testing.T, setters ...Setter) (*Settings, error) {
	t.Helper()
	var s Settings
	for _, set := range setters {
		if err := set(&s); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

func TestSettersRefuseNilsAndZeroes(t *testing.T) {
	for name, set := range map[string]Setter{
		"credentials": SetCredentials("pbs", nil),
		"fingerprint": SetFingerprint("pbs", auth.Fingerprint{}),
		"roots":       SetRootCAs("pbs", nil),
		"http client": SetHTTPClient("pbs", nil),
	} {
		_, err := apply(t, set)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "pbs: With", name)
	}
	_, err := apply(t, SetRetryPolicy(RetryPolicy{MaxAttempts: -1}))
	assert.Error(t, err)
}

func TestBuildChecksCombinations(t *testing.T) {
	fp := auth.MustParseFingerprint("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")
	s, err := apply(t, SetFingerprint("pve", fp), SetInsecure())
	require.NoError(t, err)
	_, err = s.Build(auth.PVE, "https://pve.example.com")
	assert.ErrorContains(t, err, "exclude each other")

	s, err = apply(t, SetHTTPClient("pve", &http.Client{}), SetRootCAs("pve", x509.NewCertPool()))
	require.NoError(t, err)
	_, err = s.Build(auth.PVE, "https://pve.example.com")
	assert.ErrorContains(t, err, "cannot be combined with TLS options")

	s, err = apply(t, SetFingerprint("pbs", fp), SetUserAgent("proxkit-test"))
	require.NoError(t, err)
	c, err := s.Build(auth.PBS, "https://pbs.example.com")
	require.NoError(t, err)
	assert.Equal(t, "https://pbs.example.com:8007", c.BaseURL())
	assert.Equal(t, "proxkit-test", c.UserAgent())
	require.NotNil(t, c.TLSConfig())
	assert.NotNil(t, c.TLSConfig().VerifyConnection, "a pinned fingerprint is checked on every handshake")
}

func TestTokenSetterBuildsCredentials(t *testing.T) {
	id := auth.MustParseAuthid("backup@pbs!client")
	s, err := apply(t, SetToken(id, auth.NewSecret("s3cr3t")))
	require.NoError(t, err)
	require.NotNil(t, s.Credentials)
	assert.Equal(t, id, s.Credentials.AuthID())

	_, err = apply(t, SetToken(auth.MustParseAuthid("backup@pbs"), auth.NewSecret("s3cr3t")))
	assert.Error(t, err, "a user id is not a token id")
}
