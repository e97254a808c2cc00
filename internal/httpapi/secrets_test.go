package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

// assertNoSecrets fails if any of the test secrets, in plain or
// percent-encoded form, appears in s.
func assertNoSecrets(t *testing.T, s string, extra ...string) {
	t.Helper()
	for _, secret := range append([]string{testSecret, paramSecret}, extra...) {
		assert.NotContains(t, s, secret)
		assert.NotContains(t, s, escape(secret, ""))
	}
}

// echoingServer is a misbehaving server that echoes the credentials and
// the request body into its error messages, in the product's error shape.
func echoingServer(t *testing.T, p auth.Product) *product {
	return newServer(t, p, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		echo := fmt.Sprintf("rejected %s with %s (cookie %s, csrf %s) params %s password %s",
			r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Cookie"),
			r.Header.Get("CSRFPreventionToken"), r.Form.Encode(), r.Form.Get("password"))
		status := http.StatusBadRequest
		if r.URL.Path == "/api2/json/busy" {
			status = http.StatusServiceUnavailable
		}
		if p == auth.PBS {
			writePBSError(w, status, "parameter verification failed - 'password': "+echo)
			return
		}
		writePVEError(t, w, status, "Parameter verification failed.", echo,
			map[string]string{"password": echo, echo: "key echo"})
	})
}

func TestNoSecretInErrorsOrLogs(t *testing.T) {
	for _, p := range []auth.Product{auth.PVE, auth.PBS} {
		t.Run(p.String(), func(t *testing.T) {
			srv := echoingServer(t, p)
			logger, logs := logBuffer()
			token := pveTestToken
			if p == auth.PBS {
				token = pbsTestToken
			}
			c := srv.client(token, func(c *Config) { c.Logger = logger })
			params := Values{}
			params.Set("userid", "bob@pbs")
			params.SetSecret("password", auth.NewSecret(paramSecret))

			var texts []string
			for _, req := range []Request{
				{Method: http.MethodPost, Path: "/access/users", Params: params},
				{Method: http.MethodGet, Path: "/busy", Params: params},
				{Method: http.MethodPut, Path: "/access/password", Params: struct {
					Password auth.Secret `api:"password"`
				}{auth.NewSecret(paramSecret)}},
			} {
				_, err := c.Do(context.Background(), req)
				var ae *APIError
				require.ErrorAs(t, err, &ae)
				require.Contains(t, ae.Message, "rejected", "the server's message is kept")
				texts = append(texts, err.Error(), fmt.Sprintf("%v %+v %#v", err, ae, *ae), ae.Hint)
				for k, v := range ae.Errors {
					texts = append(texts, k, v)
				}
			}
			all := strings.Join(texts, "\n")
			assertNoSecrets(t, all)
			assert.Contains(t, all, "[redacted]")
			assert.Contains(t, all, token.ID.String(), "ids are not secret")

			log := logs.String()
			require.NotEmpty(t, log)
			assertNoSecrets(t, log)
			assert.NotContains(t, log, "Authorization")
		})
	}
}

func TestNoTicketInErrors(t *testing.T) {
	srv := echoingServer(t, auth.PVE)
	d := &ticketDouble{}
	err := srv.client(d).Post(context.Background(), "/access/users", nil, nil)
	require.Error(t, err)
	assertNoSecrets(t, err.Error(), "c2lnbmF0dXJl", "Y3NyZg")
}

func TestCredentialValues(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "PVEAPIToken=a@pve!t="+testSecret)
	h.Add("Cookie", "other=1; PBSAuthCookie=PBS%3Aroot%40pam%3A1::sig")
	h.Set("CSRFPreventionToken", "6660A1B2:abc")
	got := credentialValues(h)
	assert.Contains(t, got, testSecret)
	assert.Contains(t, got, "PBS%3Aroot%40pam%3A1::sig")
	assert.Contains(t, got, "PBS:root@pam:1::sig")
	assert.Contains(t, got, "6660A1B2:abc")

	h = http.Header{}
	h.Set("Authorization", "PBSAPIToken a@pbs!t:"+testSecret)
	assert.Equal(t, []string{testSecret}, credentialValues(h))
	h.Set("Authorization", "Bearer xyz123")
	assert.Equal(t, []string{"xyz123"}, credentialValues(h))
	assert.Nil(t, credentialValues(nil))

	e := &APIError{Message: "a " + testSecret + " b", Errors: map[string]string{"k": "x" + testSecret}, Reason: testSecret}
	scrub(e, []string{"abc", testSecret, testSecret[:8]})
	assertNoSecrets(t, fmt.Sprintf("%#v", *e))
	assert.Equal(t, "a [redacted] b", e.Message, "the longest secret wins")
}
