package auth

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoSecretInFailures runs failing operations that all involve one
// known secret and checks that neither the errors nor anything printed
// from them or from the values involved contains it.
func TestNoSecretInFailures(t *testing.T) {
	const secret = "7f3a9c1e-55d2-4b8e-9a01-c0ffee123456" // shaped like a real token secret
	ctx := context.Background()
	var errs []error
	var values []any
	collect := func(err error) {
		t.Helper()
		require.Error(t, err)
		errs = append(errs, err)
	}

	// A bad login: the server refuses the secret as password.
	for _, p := range []Product{PVE, PBS} {
		rig := newTicketRig(t, p)
		creds, err := NewTicketCredentials(userFor(p), NewSecret(secret), WithClock(rig.clock.Now))
		require.NoError(t, err)
		values = append(values, creds)
		collect(creds.Login(ctx, rig.ep))
		req, _ := http.NewRequest(http.MethodPost, rig.ep.BaseURL+"/x", nil)
		collect(creds.Apply(ctx, req, rig.ep))
	}

	// Ids with the secret pasted into them.
	for _, in := range []string{
		"alice@pbs!backup:" + secret, "alice@pve!backup=" + secret, "alice@pve=" + secret,
		"PVEAPIToken=alice@pve!backup=" + secret, "PBSAPIToken alice@pbs!backup:" + secret,
		"alice@pbs!backup " + secret, secret + "@pve", "alice@pve!" + secret,
	} {
		if _, err := ParseAuthid(in); err != nil {
			collect(err)
		}
		if _, err := ParseUserid(in); err != nil {
			collect(err)
		}
		if _, err := ParseTokenName(in); err != nil {
			collect(err)
		}
		if _, err := ParseRepository(in + "@host:store"); err != nil {
			collect(err)
		}
	}
	_, err := ParseFingerprint(secret)
	collect(err)
	_, err = ParseBaseURL("https://root:"+secret+"@pve:8006", PVE)
	collect(err)
	_, err = ParseBaseURL("https://pve:8006/?password="+secret, PVE)
	collect(err)

	// Bad config files holding the secret.
	dir := t.TempDir()
	for i, doc := range []string{
		`{"baseurl":"https://pbs","authid":"nope","secret":"` + secret + `","datastore":"ds1"}`,
		`{"baseurl":"http://pbs","authid":"a@pbs!t","secret":"` + secret + `","datastore":"ds1"}`,
		`{"baseurl":"https://pbs","authid":"a@pbs!t","secret":"` + secret + `","datastore":"x"}`,
		`{"baseurl":"https://pbs","authid":"a@pbs!t","secret":"` + secret + `","datastore":"ds1","fingerprint":"` + secret + `"}`,
		`{"baseurl":"https://pbs","authid":"a@pbs!t","secret":"` + secret + `" "datastore":"ds1"}`,
		`{"baseurl":"https://pbs","authid":"a@pbs!t","secret":"` + secret + `\nx","datastore":"ds1"}`,
		`{"baseurl":"https://pbs","authid":"` + secret + `","secret":"` + secret + `","datastore":"ds1"}`,
		`{"baseurl":"` + secret + `","authid":"a@pbs!t","secret":"` + secret + `","datastore":"ds1"}`,
		`["` + secret + `"]`,
	} {
		p := filepath.Join(dir, fmt.Sprintf("c%d.json", i))
		require.NoError(t, os.WriteFile(p, []byte(doc), 0o600))
		_, err := ReadPBSConfig(p)
		collect(err)
	}
	cfg, err := ParsePBSConfig([]byte(`{"baseurl":"https://pbs","authid":"a@pbs!tok","secret":"` + secret + `","datastore":"ds1"}`))
	require.NoError(t, err)
	values = append(values, cfg, *cfg)
	bad := *cfg
	bad.Namespace = "/x"
	collect(WritePBSConfig(filepath.Join(dir, "w.json"), &bad))

	// Environment: a secret in the wrong variable, a failing command.
	_, err = LoadPBSEnvironment(ctx, MapEnv(map[string]string{"PBS_FINGERPRINT": secret}))
	collect(err)
	_, err = LoadPBSEnvironment(ctx, MapEnv(map[string]string{"PBS_REPOSITORY": "a@pbs!t:" + secret + "@h:s"}))
	collect(err)
	_, err = LoadPVEEnvironment(ctx, MapEnv(map[string]string{"PVE_AUTHID": "a@pve!t=" + secret}))
	collect(err)
	_, err = LoadPVEEnvironment(ctx, MapEnv(map[string]string{"PVE_URL": "https://u:" + secret + "@pve"}))
	collect(err)
	if _, lerr := os.Stat("/bin/sh"); lerr == nil {
		_, _, err = SecretFromEnv(ctx, MapEnv(map[string]string{"X_CMD": "/bin/sh -c 'echo " + secret + "; echo " + secret + " >&2; exit 1'"}), "X")
		collect(err)
	}

	// A token with the secret, applied to an unknown product.
	tok := Token{ID: MustParseAuthid("a@pbs!t"), Secret: NewSecret(secret)}
	values = append(values, tok, &tok)
	req, _ := http.NewRequest(http.MethodGet, "https://x/", nil)
	collect(tok.Apply(ctx, req, Endpoint{}))

	// A mismatched fingerprint.
	cert := selfSignedCert(t)
	srv := newTLSServer(t, cert, http.NotFoundHandler())
	wrong := FingerprintOf(cert.Leaf)
	wrong[31]++
	conf, err := TLSConfig(WithFingerprint(&wrong))
	require.NoError(t, err)
	collect(get(conf, srv.URL))

	for _, e := range errs {
		outs := append(formats(e), e.Error())
		for _, out := range outs {
			assert.NotContains(t, out, secret, "%T: %s", e, out)
			assert.NotContains(t, out, secret[9:], "%T: %s", e, out)
		}
	}
	for _, v := range values {
		for _, out := range formats(v) {
			assert.NotContains(t, out, secret, "%T: %s", v, out)
		}
	}
	assert.Greater(t, len(errs), 40)
}
