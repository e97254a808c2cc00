package mockcore

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

const testSecret = "d63e505a-e3ec-449a-9bc7-1da610d4ccde"

func TestParseTokenHeader(t *testing.T) {
	type result int
	const (
		ok result = iota
		none
		failed
	)
	tests := []struct {
		name    string
		product auth.Product
		header  string
		want    result
		id      string
		secret  string
	}{
		// PVE (access-api.md 2.1)
		{"pve equals", auth.PVE, "PVEAPIToken=root@pam!monitoring=" + testSecret, ok, "root@pam!monitoring", testSecret},
		{"pve space", auth.PVE, "PVEAPIToken root@pam!monitoring=" + testSecret, ok, "root@pam!monitoring", testSecret},
		{"pve after other words", auth.PVE, "Foo bar PVEAPIToken=alice@pve!ci=s3", ok, "alice@pve!ci", "s3"},
		{"pve after tab", auth.PVE, "x\tPVEAPIToken=alice@pve!ci=s3", ok, "alice@pve!ci", "s3"},
		{"pve value ends at semicolon", auth.PVE, "PVEAPIToken=alice@pve!ci=s3; other=1", ok, "alice@pve!ci", "s3"},
		// The split at the last '=' moves an earlier '=' into the token
		// name, so a secret containing '=' (even as %3D) never works.
		{"pve split at last equals", auth.PVE, "PVEAPIToken=alice@pve!ci=a=b", failed, "", ""},
		{"pve encoded equals in secret", auth.PVE, "PVEAPIToken=alice@pve!ci=a%3Db", failed, "", ""},
		{"pve whole value percent-decoded", auth.PVE, "PVEAPIToken=alice%40pve%21ci%3Ds%20x", ok, "alice@pve!ci", "s x"},
		{"pve lone percent kept", auth.PVE, "PVEAPIToken=alice@pve!ci=50%", ok, "alice@pve!ci", "50%"},
		{"pve user name with at", auth.PVE, "PVEAPIToken=john@example.com@pve!ci=x", ok, "john@example.com@pve!ci", "x"},
		{"pve trailing newline tolerated", auth.PVE, "PVEAPIToken=alice@pve!ci=s3%0A", ok, "alice@pve!ci", "s3"},
		{"pve inner newline", auth.PVE, "PVEAPIToken=alice@pve!ci=s%0A3", failed, "", ""},
		{"pve PBS separator (1.3)", auth.PVE, "PVEAPIToken=u@pve!t:" + testSecret, failed, "", ""},
		{"pve prefix not at word start", auth.PVE, "xPVEAPIToken=alice@pve!ci=s3", none, "", ""},
		{"pve prefix without separator", auth.PVE, "PVEAPITokenalice@pve!ci=s3", none, "", ""},
		{"pve lower-case prefix", auth.PVE, "pveapitoken=alice@pve!ci=s3", none, "", ""},
		{"pve wrong product prefix", auth.PVE, "PBSAPIToken alice@pve!ci:s3", none, "", ""},
		{"pve bearer", auth.PVE, "Bearer abc", none, "", ""},
		{"pve empty header", auth.PVE, "", none, "", ""},
		{"pve empty value", auth.PVE, "PVEAPIToken=", none, "", ""},
		{"pve empty value before semicolon", auth.PVE, "PVEAPIToken=;x", none, "", ""},
		{"pve user id instead of token", auth.PVE, "PVEAPIToken=alice@pve=s3", failed, "", ""},
		{"pve token name alone", auth.PVE, "PVEAPIToken=backup=s3", failed, "", ""},
		{"pve numeric token name invalid on PVE", auth.PVE, "PVEAPIToken=alice@pve!1st=s3", failed, "", ""},
		{"pve one-char token name invalid on PVE", auth.PVE, "PVEAPIToken=alice@pve!t=s3", failed, "", ""},
		{"pve realm starting with digit", auth.PVE, "PVEAPIToken=alice@1x!ci=s3", failed, "", ""},
		{"pve empty secret", auth.PVE, "PVEAPIToken=alice@pve!ci=", failed, "", ""},
		{"pve second prefix wins only if first fails", auth.PVE, "xPVEAPIToken=a PVEAPIToken=alice@pve!ci=s3", ok, "alice@pve!ci", "s3"},

		// PBS (access-api.md 2.1, pbs-protocol.md 1.3)
		{"pbs space", auth.PBS, "PBSAPIToken john@pbs!client1:" + testSecret, ok, "john@pbs!client1", testSecret},
		{"pbs equals", auth.PBS, "PBSAPIToken=john@pbs!client1:" + testSecret, ok, "john@pbs!client1", testSecret},
		{"pbs split at first colon", auth.PBS, "PBSAPIToken john@pbs!c:a:b", ok, "john@pbs!c", "a:b"},
		{"pbs only secret decoded", auth.PBS, "PBSAPIToken john@pbs!c:a%20b%3A", ok, "john@pbs!c", "a b:"},
		{"pbs id not decoded", auth.PBS, "PBSAPIToken john%40pbs!c:x", failed, "", ""},
		{"pbs numeric and short token names valid", auth.PBS, "PBSAPIToken john@pbs!1:x", ok, "john@pbs!1", "x"},
		{"pbs realm starting with digit valid", auth.PBS, "PBSAPIToken john@1x!t:x", ok, "john@1x!t", "x"},
		{"pbs PVE separator (1.3)", auth.PBS, "PBSAPIToken=u@pbs!t=" + testSecret, failed, "", ""},
		{"pbs no secret", auth.PBS, "PBSAPIToken u@pbs!t", failed, "", ""},
		{"pbs empty secret", auth.PBS, "PBSAPIToken u@pbs!t:", failed, "", ""},
		{"pbs user id instead of token", auth.PBS, "PBSAPIToken root@pam:secret", failed, "", ""},
		{"pbs secret not utf-8 after decoding", auth.PBS, "PBSAPIToken u@pbs!t:%ff", failed, "", ""},
		{"pbs prefix not at start", auth.PBS, " PBSAPIToken u@pbs!t:x", none, "", ""},
		{"pbs prefix in the middle", auth.PBS, "Foo PBSAPIToken u@pbs!t:x", none, "", ""},
		{"pbs prefix without separator", auth.PBS, "PBSAPITokenu@pbs!t:x", none, "", ""},
		{"pbs PVE prefix", auth.PBS, "PVEAPIToken=u@pbs!t=x", none, "", ""},
		{"pbs bearer", auth.PBS, "Bearer x", none, "", ""},
		{"pbs prefix only", auth.PBS, "PBSAPIToken", none, "", ""},
		{"pbs not header text", auth.PBS, "PBSAPIToken u@pbs!t:\x01", none, "", ""},
		{"pbs empty", auth.PBS, "", none, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, secret, err := ParseTokenHeader(tc.product, tc.header)
			switch tc.want {
			case ok:
				require.NoError(t, err)
				assert.Equal(t, tc.id, id.String())
				assert.Equal(t, tc.secret, secret.Reveal())
			case none:
				assert.Same(t, ErrNoCredentials, err)
			case failed:
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrAuthFailed)
				var ae *AuthError
				require.ErrorAs(t, err, &ae)
				assert.NotContains(t, err.Error(), testSecret, "secret leaked into the error")
			}
		})
	}
}

func TestParseTokenHeaderUnknownProduct(t *testing.T) {
	_, _, err := ParseTokenHeader(auth.Product(0), "PVEAPIToken=a@pve!ci=x")
	assert.ErrorIs(t, err, ErrAuthFailed)
}

func TestParseTokenHeaderSecretNeverInError(t *testing.T) {
	for _, h := range []string{
		"PVEAPIToken=u@pve!t:" + testSecret,       // PBS separator: id part carries the secret
		"PVEAPIToken=" + testSecret + "@pve!tt=x", // secret pasted as user
		"PBSAPIToken=u@pbs!t=" + testSecret,       // PVE separator
		"PBSAPIToken " + testSecret + "=@pbs!t:x",
	} {
		for _, p := range []auth.Product{auth.PVE, auth.PBS} {
			_, _, err := ParseTokenHeader(p, h)
			if err != nil && err != ErrNoCredentials {
				assert.NotContains(t, err.Error(), testSecret[9:], "header %q", h)
			}
		}
	}
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestExtractCredentials(t *testing.T) {
	const pveTok = "PVEAPIToken=alice@pve!ci=s3"
	const pbsTok = "PBSAPIToken alice@pbs!ci:s3"
	tests := []struct {
		name    string
		product auth.Product
		h       http.Header
		kind    CredentialKind
		ticket  string
		csrf    string
		wantErr bool
	}{
		{"pve nothing", auth.PVE, header(), NoCredential, "", "", false},
		{"pve cookie", auth.PVE, header("Cookie", "PVEAuthCookie=PVE:a@pve:1::sig"), TicketCredential, "PVE:a@pve:1::sig", "", false},
		{"pve cookie percent-encoded", auth.PVE, header("Cookie", "PVEAuthCookie=PVE%3Aa%40pve%3A1%3A%3Asig%3D%3D"), TicketCredential, "PVE:a@pve:1::sig==", "", false},
		{"pve cookie among others", auth.PVE, header("Cookie", "a=b; PVEAuthCookie=T1; c=d"), TicketCredential, "T1", "", false},
		{"pve cookie without space after semicolon is not at a word start", auth.PVE, header("Cookie", "a=b;PVEAuthCookie=T1"), NoCredential, "", "", false},
		{"pve cookie in a second Cookie line", auth.PVE, header("Cookie", "a=b", "Cookie", "PVEAuthCookie=T2"), TicketCredential, "T2", "", false},
		{"pve cookie in Authorization", auth.PVE, header("Authorization", "PVEAuthCookie=T3"), TicketCredential, "T3", "", false},
		{"pve csrf header", auth.PVE, header("Cookie", "PVEAuthCookie=T1", "CSRFPreventionToken", "ABC:def"), TicketCredential, "T1", "ABC:def", false},
		{"pve cookie wins over token", auth.PVE, header("Cookie", "PVEAuthCookie=T1", "Authorization", pveTok), TicketCredential, "T1", "", false},
		{"pve empty cookie falls back to token", auth.PVE, header("Cookie", "PVEAuthCookie=", "Authorization", pveTok), TokenCredential, "", "", false},
		{"pve PBS cookie ignored", auth.PVE, header("Cookie", "PBSAuthCookie=T1"), NoCredential, "", "", false},
		{"pve token", auth.PVE, header("Authorization", pveTok), TokenCredential, "", "", false},
		{"pve malformed token", auth.PVE, header("Authorization", "PVEAPIToken=alice@pve!ci:s3"), TokenCredential, "", "", true},

		{"pbs nothing", auth.PBS, header(), NoCredential, "", "", false},
		{"pbs cookie", auth.PBS, header("Cookie", "PBSAuthCookie=PBS:a@pbs:1::sig"), TicketCredential, "PBS:a@pbs:1::sig", "", false},
		{"pbs cookie trimmed and decoded", auth.PBS, header("Cookie", "x=1;PBSAuthCookie = PBS%3Aa ;y=2"), TicketCredential, "PBS:a", "", false},
		{"pbs host cookie preferred", auth.PBS, header("Cookie", "PBSAuthCookie=old; __Host-PBSAuthCookie=new"), TicketCredential, "new", "", false},
		{"pbs host cookie in a later line preferred", auth.PBS, header("Cookie", "PBSAuthCookie=old", "Cookie", "__Host-PBSAuthCookie=new"), TicketCredential, "new", "", false},
		{"pbs pair without equals ends the line", auth.PBS, header("Cookie", "junk; PBSAuthCookie=T"), NoCredential, "", "", false},
		{"pbs cookie not utf-8", auth.PBS, header("Cookie", "PBSAuthCookie=%ff"), NoCredential, "", "", false},
		{"pbs empty cookie is still a (bad) ticket", auth.PBS, header("Cookie", "PBSAuthCookie=", "Authorization", pbsTok), TicketCredential, "", "", false},
		{"pbs cookie wins over token", auth.PBS, header("Cookie", "PBSAuthCookie=T1", "Authorization", pbsTok), TicketCredential, "T1", "", false},
		{"pbs PVE cookie ignored", auth.PBS, header("Cookie", "PVEAuthCookie=T1"), NoCredential, "", "", false},
		{"pbs cookie not taken from Authorization", auth.PBS, header("Authorization", "PBSAuthCookie=T1"), NoCredential, "", "", false},
		{"pbs token", auth.PBS, header("Authorization", pbsTok), TokenCredential, "", "", false},
		{"pbs malformed token", auth.PBS, header("Authorization", "PBSAPIToken=alice@pbs!ci=s3"), TokenCredential, "", "", true},
		{"pbs PVE token header", auth.PBS, header("Authorization", pveTok), NoCredential, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ExtractCredentials(tc.product, tc.h)
			if tc.wantErr {
				assert.ErrorIs(t, err, ErrAuthFailed)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.kind, c.Kind)
			assert.Equal(t, tc.ticket, c.Ticket.Reveal())
			assert.Equal(t, tc.csrf, c.CSRFToken)
			if c.Kind == TokenCredential && !tc.wantErr {
				assert.Equal(t, "s3", c.Secret.Reveal())
				assert.Equal(t, "alice@"+map[auth.Product]string{auth.PVE: "pve", auth.PBS: "pbs"}[tc.product]+"!ci", c.TokenID.String())
			}
		})
	}
}

func TestCredentialsDoNotPrintSecrets(t *testing.T) {
	c, err := ExtractCredentials(auth.PBS, header("Authorization", "PBSAPIToken alice@pbs!ci:"+testSecret))
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		assert.NotContains(t, s, testSecret)
	}
	c, err = ExtractCredentials(auth.PVE, header("Cookie", "PVEAuthCookie=PVE:"+testSecret))
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprintf("%+v", c), testSecret)
}

func TestAuthErrorIs(t *testing.T) {
	err := error(&AuthError{Kind: ErrInvalidCSRF, Reason: "x"})
	assert.ErrorIs(t, err, ErrInvalidCSRF)
	assert.False(t, errors.Is(err, ErrAuthFailed))
	assert.Equal(t, "mockcore: invalid csrf token: x", err.Error())
	assert.Equal(t, "mockcore: no authentication credentials provided", (&AuthError{Kind: ErrNoCredentials}).Error())
}
