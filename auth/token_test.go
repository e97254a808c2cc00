package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const uuidSecret = "d63e505a-e3ec-449a-9bc7-1da610d4ccde"

func TestTokenHeaders(t *testing.T) {
	tok, err := NewToken(MustParseAuthid("john@pbs!client1"), NewSecret(uuidSecret))
	require.NoError(t, err)
	assert.Equal(t, "PVEAPIToken=john@pbs!client1="+uuidSecret, tok.PVEHeader())
	assert.Equal(t, "PBSAPIToken=john@pbs!client1:"+uuidSecret, tok.PBSHeader())
	h, err := tok.Header(PBS)
	require.NoError(t, err)
	assert.Equal(t, tok.PBSHeader(), h)
	h, err = tok.Header(PVE)
	require.NoError(t, err)
	assert.Equal(t, tok.PVEHeader(), h)
	_, err = tok.Header(Product(0))
	assert.Error(t, err)
}

// TestTokenHeaderEncoding checks that what the servers decode equals the
// secret: PBS percent-decodes the secret only, PVE the whole value.
func TestTokenHeaderEncoding(t *testing.T) {
	for _, secret := range []string{uuidSecret, "a b", "50%off", "x;y", `q"#<>?{}` + "`", "tab\there", "nl\nx", "ü-ß", "plain+/=="} {
		tok := Token{ID: MustParseAuthid("a;b%c@pve!tok"), Secret: NewSecret(secret)}

		pbs := tok.PBSHeader()
		rest, ok := strings.CutPrefix(pbs, "PBSAPIToken=")
		require.True(t, ok)
		id, enc, ok := strings.Cut(rest, ":")
		require.True(t, ok)
		assert.Equal(t, "a;b%c@pve!tok", id, "PBS takes the id literally")
		dec, err := url.PathUnescape(enc)
		require.NoError(t, err)
		assert.Equal(t, secret, dec)
		assert.NotContains(t, pbs, "\n")

		pve := tok.PVEHeader()
		rest, ok = strings.CutPrefix(pve, "PVEAPIToken=")
		require.True(t, ok)
		assert.NotContains(t, rest, ";", "PVE ends the value at ';'")
		decoded, err := url.PathUnescape(rest)
		require.NoError(t, err)
		if secret != "plain+/==" {
			i := strings.LastIndex(decoded, "=")
			assert.Equal(t, "a;b%c@pve!tok", decoded[:i])
			assert.Equal(t, secret, decoded[i+1:])
		}
	}
}

func TestNewTokenErrors(t *testing.T) {
	_, err := NewToken(MustParseAuthid("root@pam"), NewSecret("x"))
	assert.ErrorIs(t, err, ErrInvalidID)
	assert.Contains(t, err.Error(), "not an API token id")
	_, err = NewToken(Authid{}, NewSecret("x"))
	assert.ErrorIs(t, err, ErrInvalidID)
	_, err = NewToken(MustParseAuthid("a@pbs!t"), Secret{})
	assert.ErrorIs(t, err, ErrMissingSecret)
	assert.Contains(t, err.Error(), "API token secret must be provided")
}

func TestTokenApply(t *testing.T) {
	tok := Token{ID: MustParseAuthid("john@pbs!client1"), Secret: NewSecret(uuidSecret)}
	for _, p := range []Product{PVE, PBS} {
		req, err := http.NewRequest(http.MethodPost, "https://h/api2/json/x", nil)
		require.NoError(t, err)
		req.Header.Set("Cookie", "PVEAuthCookie=PVE:x; lang=en; PBSAuthCookie=PBS:y; __Host-PBSAuthCookie=z")
		require.NoError(t, tok.Apply(context.Background(), req, Endpoint{Product: p}))
		want, _ := tok.Header(p)
		assert.Equal(t, want, req.Header.Get("Authorization"))
		assert.Equal(t, "lang=en", req.Header.Get("Cookie"), "ticket cookies removed, others kept")
		assert.Empty(t, req.Header.Get("CSRFPreventionToken"))
	}
	req, _ := http.NewRequest(http.MethodGet, "https://h/", nil)
	req.Header.Set("Cookie", "PBSAuthCookie=x")
	require.NoError(t, tok.Apply(context.Background(), req, Endpoint{Product: PBS}))
	assert.Empty(t, req.Header.Values("Cookie"))

	assert.Error(t, tok.Apply(context.Background(), req, Endpoint{}))
	assert.ErrorIs(t, Token{ID: tok.ID}.Apply(context.Background(), req, Endpoint{Product: PBS}), ErrMissingSecret)
	assert.ErrorIs(t, Token{ID: MustParseAuthid("a@pam"), Secret: tok.Secret}.Apply(context.Background(), req, Endpoint{Product: PBS}), ErrInvalidID)
	var _ Credentials = tok
	var _ Credentials = &tok
	assert.Equal(t, tok.ID, tok.AuthID())
}

func TestTokenNeverShowsSecret(t *testing.T) {
	tok := Token{ID: MustParseAuthid("john@pbs!client1"), Secret: NewSecret(testSecret)}
	for _, v := range []any{tok, &tok, struct{ T Token }{tok}, []Token{tok}} {
		for _, out := range formats(v) {
			assert.NotContains(t, out, testSecret, out)
		}
	}
	assert.Equal(t, "API token john@pbs!client1", tok.String())
	assert.Equal(t, `auth.Token{ID: "john@pbs!client1", Secret: auth.Secret([redacted])}`, fmt.Sprintf("%#v", tok))
	b, err := json.Marshal(tok)
	require.NoError(t, err)
	assert.JSONEq(t, `{"ID":"john@pbs!client1","Secret":"[redacted]"}`, string(b))
}

func TestRemoveTokenHeader(t *testing.T) {
	for v, removed := range map[string]bool{
		"PVEAPIToken=a@pve!t=x": true, "PBSAPIToken a@pbs!t:x": true, "PVEAuthCookie=PVE:x": true,
		"Basic eDp5": false, "": false,
	} {
		h := http.Header{}
		if v != "" {
			h.Set("Authorization", v)
		}
		removeTokenHeader(h)
		assert.Equal(t, removed || v == "", h.Get("Authorization") == "", v)
	}
}
