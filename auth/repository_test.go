package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRepository(t *testing.T) {
	tests := []struct {
		in        string
		authID    string
		explicit  bool
		host      string
		port      int
		store     string
		baseURL   string
		canonical string // String(); "" means same as in
	}{
		// The examples of pbs-protocol.md 2.1 (upstream documentation).
		{in: "mydatastore", authID: "root@pam", host: "localhost", port: 8007, store: "mydatastore", baseURL: "https://localhost:8007", canonical: "localhost:mydatastore"},
		{in: "myhostname:mydatastore", authID: "root@pam", host: "myhostname", port: 8007, store: "mydatastore", baseURL: "https://myhostname:8007"},
		{in: "user@pbs@myhostname:mydatastore", authID: "user@pbs", explicit: true, host: "myhostname", port: 8007, store: "mydatastore", baseURL: "https://myhostname:8007"},
		{in: "user@pbs!token@host:store", authID: "user@pbs!token", explicit: true, host: "host", port: 8007, store: "store", baseURL: "https://host:8007"},
		{in: "192.168.55.55:1234:mydatastore", authID: "root@pam", host: "192.168.55.55", port: 1234, store: "mydatastore", baseURL: "https://192.168.55.55:1234"},
		{in: "[ff80::51]:mydatastore", authID: "root@pam", host: "ff80::51", port: 8007, store: "mydatastore", baseURL: "https://[ff80::51]:8007"},
		{in: "[ff80::51]:1234:mydatastore", authID: "root@pam", host: "ff80::51", port: 1234, store: "mydatastore", baseURL: "https://[ff80::51]:1234"},
		// Notes of 2.1.
		{in: "8007:store", authID: "root@pam", host: "8007", port: 8007, store: "store", baseURL: "https://8007:8007"},
		{in: "john@example.com@pbs@host:store", authID: "john@example.com@pbs", explicit: true, host: "host", port: 8007, store: "store", baseURL: "https://host:8007"},
		// More.
		{in: "backup@pbs!client@pbs.example.com:8007:store1", authID: "backup@pbs!client", explicit: true, host: "pbs.example.com", port: 8007, store: "store1", baseURL: "https://pbs.example.com:8007", canonical: "backup@pbs!client@pbs.example.com:store1"},
		{in: "root@pam@localhost:65535:s", authID: "root@pam", explicit: true, host: "localhost", port: 65535, store: "s", baseURL: "https://localhost:65535"},
		{in: "alice@pbs!backup@store1@host:ds", authID: "alice@pbs!backup@store1", explicit: true, host: "host", port: 8007, store: "ds", baseURL: "https://host:8007"},
		{in: "[::1]:1:s", authID: "root@pam", host: "::1", port: 1, store: "s", baseURL: "https://[::1]:1"},
		{in: "[::ffff:1.2.3.4]:s", authID: "root@pam", host: "::ffff:1.2.3.4", port: 8007, store: "s", baseURL: "https://[::ffff:1.2.3.4]:8007"},
		{in: "h:_store.x-1", authID: "root@pam", host: "h", port: 8007, store: "_store.x-1", baseURL: "https://h:8007"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			r, err := ParseRepository(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.authID, r.AuthID.String())
			assert.Equal(t, tc.explicit, r.HasAuthID())
			assert.Equal(t, tc.host, r.Host)
			assert.Equal(t, tc.port, r.Port)
			assert.Equal(t, tc.store, r.Datastore)
			assert.Equal(t, tc.baseURL, r.BaseURL())
			want := tc.canonical
			if want == "" {
				want = tc.in
			}
			assert.Equal(t, want, r.String())
			back, err := ParseRepository(r.String())
			require.NoError(t, err)
			assert.Equal(t, r, back, "String re-parses to the same repository")
			assert.NoError(t, r.Validate())
		})
	}
}

func TestParseRepositoryErrors(t *testing.T) {
	const secret = "9f8e7d6c-aaaa-bbbb"
	for in, want := range map[string]string{
		"":                                   "empty",
		"host:65536:store":                   "port 65536 outside 1..65535",
		"host:0:store":                       "port 0 outside",
		"host:123456:store":                  "expected [[auth-id@]host[:port]:]datastore",
		"https://pbs.example.com:8007/store": "not a URL",
		"root@host:store":                    "expected",
		"user@pbs@host":                      "expected",
		"host:store/ns":                      "expected",
		"host:-store":                        "expected",
		"[ff80::51:store":                    "expected",
		"ff80::51:store":                     "expected",
		"a@pbs!t:" + secret + "@host:store":  "expected",
		strings.Repeat("a", 257):             "longer than 256",
		"u@x@host:store":                     "auth id: realm is 1 characters long",
		"-host:store":                        "expected",
		"host.:store":                        "expected",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseRepository(in)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidRepository)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Contains(t, err.Error(), want)
			assert.NotContains(t, err.Error(), secret)
		})
	}
	for in, want := range map[string]string{
		"a@pbs!t:" + secret + "@host:store": `"a@pbs!t[…redacted]@host:store"`,
		"h:" + uuidSecret + "/x":            `"h:[…redacted]/x"`,
		"h:store x":                         `"h:store[…redacted]"`,
		"h:99999:s":                         `"h:99999:s"`,
	} {
		_, err := ParseRepository(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want)
	}
	_, err := ParseRepository(strings.Repeat("a", 256))
	assert.NoError(t, err, "256 characters are allowed")
}

func TestRepositoryBuiltInCode(t *testing.T) {
	r := Repository{AuthID: MustParseAuthid("backup@pbs!c"), Host: "2001:db8::1", Datastore: "store1"}
	assert.True(t, r.HasAuthID(), "an id set in code counts as explicit")
	assert.Equal(t, "backup@pbs!c@[2001:db8::1]:store1", r.String())
	assert.Equal(t, "https://[2001:db8::1]:8007", r.BaseURL())
	require.NoError(t, r.Validate())

	var zero Repository
	assert.False(t, zero.HasAuthID())
	assert.Equal(t, RootUserid.Authid(), zero.EffectiveAuthID())
	assert.ErrorIs(t, zero.Validate(), ErrInvalidRepository)
	assert.ErrorIs(t, Repository{Host: "bad host", Datastore: "s"}.Validate(), ErrInvalidRepository)
	assert.ErrorIs(t, Repository{Host: "h", Port: 70000, Datastore: "s"}.Validate(), ErrInvalidRepository)
}

func TestParseBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://pve.example.com":              "https://pve.example.com:8006",
		"https://pve.example.com:8443/":        "https://pve.example.com:8443",
		"https://pve:8006/api2/json":           "https://pve:8006",
		"https://pve:8006/api2/json/":          "https://pve:8006",
		"https://10.0.0.1":                     "https://10.0.0.1:8006",
		"https://[2001:db8::1]":                "https://[2001:db8::1]:8006",
		"https://[2001:db8::1]:9000/api2/json": "https://[2001:db8::1]:9000",
	} {
		got, err := ParseBaseURL(in, PVE)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	got, err := ParseBaseURL("https://pbs", PBS)
	require.NoError(t, err)
	assert.Equal(t, "https://pbs:8007", got)

	for in, want := range map[string]string{
		"":                                "empty",
		"http://pve:8006":                 "scheme must be https",
		"pve:8006":                        "scheme must be https",
		"https://root:hunter2@pve:8006":   "user info",
		"https://pve:8006/other":          "unexpected path",
		"https://pve:8006/?x=1":           "query",
		"https://pve:8006/#f":             "fragment",
		"https://pve:0":                   "port outside",
		"https://pve:99999":               "port outside",
		"https://pve:":                    "empty port",
		"https://":                        "missing host",
		"https://bad_host":                "DNS name",
		" https://pve":                    "whitespace",
		"https://pve:8006/api2/json?x=pw": "query",
	} {
		_, err := ParseBaseURL(in, PVE)
		require.Error(t, err, in)
		assert.ErrorIs(t, err, ErrInvalidURL, in)
		assert.Contains(t, err.Error(), want, in)
		assert.NotContains(t, err.Error(), "hunter2")
	}
}
