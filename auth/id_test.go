package auth

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAuthid(t *testing.T) {
	long := strings.Repeat("u", 60)
	tests := []struct {
		in    string
		user  string
		realm Realm
		token TokenName
		err   string // substring of the error, "" for success
	}{
		{in: "root@pam", user: "root", realm: "pam"},
		{in: "backup@pbs!client1", user: "backup", realm: "pbs", token: "client1"},
		{in: "john@example.com@pbs", user: "john@example.com", realm: "pbs"},
		{in: "alice@pbs!backup@store1", user: "alice@pbs!backup", realm: "store1"},
		{in: "pve@pbs@pbs-store", user: "pve@pbs", realm: "pbs-store"},
		{in: "bob!tok@pve", user: "bob!tok", realm: "pve"},
		{in: "a@pbs!1", user: "a", realm: "pbs", token: "1"},
		{in: "a@1x", user: "a", realm: "1x"},
		{in: "a=b@pve", user: "a=b", realm: "pve"},
		{in: "müller@pve", user: "müller", realm: "pve"},
		{in: long + "@pve", user: long, realm: "pve"},
		{in: "x@pve!" + strings.Repeat("t", 100), user: "x", realm: "pve", token: TokenName(strings.Repeat("t", 100))},
		{in: "", err: "empty"},
		{in: "root", err: "missing realm"},
		{in: "backup", err: "a token name alone is not enough"},
		{in: "tok!x", err: "missing realm: write name@realm!token"},
		{in: "@pam", err: "empty user name"},
		{in: "root@", err: "realm is empty"},
		{in: "root@p", err: "realm is 1 characters long"},
		{in: "root@" + strings.Repeat("r", 33), err: "realm is 33 characters long"},
		{in: "root@pa m", err: "realm may only contain"},
		{in: "ro ot@pam", err: `user name may not contain ' '`},
		{in: "a/b@pam", err: `user name may not contain '/'`},
		{in: "a\x01b@pam", err: `user name may not contain '\x01'`},
		{in: "a@-pam", err: "must start with a letter, digit or '_'"},
		{in: "a@pa+m", err: "may only contain letters, digits"},
		{in: " root@pam", err: "leading or trailing whitespace"},
		{in: "root@pam\n", err: "leading or trailing whitespace"},
		{in: "u@pbs!", err: "empty token name"},
		{in: "u@pbs!t-x.y_", user: "u", realm: "pbs", token: "t-x.y_"},
		{in: "u@pbs!-t", err: "token name must start with"},
		{in: "u@pbs!t:9f8e7d6c-aaaa", err: "contains ':'"},
		{in: "u@pve!t=9f8e7d6c-aaaa", err: "secret appended"},
		{in: "u@pve=9f8e7d6c-aaaa", err: "realm contains '='"},
		{in: "PVEAPIToken=u@pve!t=9f8e7d6c", err: "whole Authorization header"},
		{in: "PBSAPIToken u@pbs!t:9f8e7d6c", err: "whole Authorization header"},
		{in: "user@pbs@host:store", err: "repository string"},
		{in: "a\xffb@pam", err: "not valid UTF-8"},
		{in: long + "xxxxx@pve", err: "must be 3..64"},
		{in: "a@b", err: "realm is 1 characters long"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			a, err := ParseAuthid(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrInvalidID)
				var ie *IDError
				require.ErrorAs(t, err, &ie)
				assert.Equal(t, "auth id", ie.Kind)
				assert.Contains(t, err.Error(), tc.err)
				assert.True(t, a.IsZero())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.user, a.User().Name())
			assert.Equal(t, tc.realm, a.User().Realm())
			assert.Equal(t, tc.token, a.TokenName())
			assert.Equal(t, tc.token != "", a.IsToken())
			assert.Equal(t, tc.in, a.String())
		})
	}
}

func TestParseUserid(t *testing.T) {
	tests := []struct {
		in  string
		err string
	}{
		{in: "root@pam"},
		{in: "john@example.com@pbs"},
		{in: "alice@pbs!backup@store1"},
		{in: "alice@pbs!backup", err: "this is an API token id"},
		{in: "alice", err: "missing realm"},
		{in: "alice@pbs:secret", err: "contains ':'"},
		{in: "", err: "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			u, err := ParseUserid(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrInvalidID)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.in, u.String())
			assert.Equal(t, u, u.Authid().User())
		})
	}
}

func TestParseTokenName(t *testing.T) {
	for _, ok := range []string{"t", "1st", "_x", "backup", "a.b-c_d"} {
		tn, err := ParseTokenName(ok)
		require.NoError(t, err, ok)
		assert.Equal(t, TokenName(ok), tn)
	}
	for in, want := range map[string]string{
		"":                 "empty",
		"alice@pbs!backup": "only the part after '!'",
		"-x":               "must start with",
		"a b":              "may only contain",
		"tok=abc":          "secret appended",
		"tok:abc":          "secret appended",
		"tök":              "ASCII",
	} {
		_, err := ParseTokenName(in)
		require.Error(t, err, in)
		assert.ErrorIs(t, err, ErrInvalidID)
		assert.Contains(t, err.Error(), want, in)
	}
}

func TestNewTokenID(t *testing.T) {
	a, err := NewTokenID(MustParseUserid("backup@pbs"), "client")
	require.NoError(t, err)
	assert.Equal(t, "backup@pbs!client", a.String())
	_, err = NewTokenID(Userid{}, "client")
	assert.ErrorIs(t, err, ErrInvalidID)
	_, err = NewTokenID(MustParseUserid("backup@pbs"), "bad name")
	assert.ErrorIs(t, err, ErrInvalidID)
}

func TestIDErrorRedactsSecrets(t *testing.T) {
	const secret = "9f8e7d6c-1234-4abc-8def-0123456789ab"
	for _, in := range []string{
		"u@pbs!t:" + secret,
		"u@pve!t=" + secret,
		"u@pve=" + secret,
		"PVEAPIToken=u@pve!t=" + secret,
		"PBSAPIToken u@pbs!t:" + secret,
		"Authorization: PBSAPIToken=u@pbs!t:" + secret,
		"u@pbs!t " + secret,
	} {
		_, err := ParseAuthid(in)
		require.Error(t, err, in)
		assert.NotContains(t, err.Error(), secret[:8], in)
		_, err = ParseUserid(in)
		require.Error(t, err, in)
		assert.NotContains(t, err.Error(), secret[:8], in)
	}
}

func TestValidateFor(t *testing.T) {
	tests := []struct {
		id       string
		pve, pbs string // "" valid, else error substring
	}{
		{id: "root@pam"},
		{id: "backup@pbs!client"},
		{id: "a@1x", pve: "must start with a letter"},
		{id: "a@_x", pve: "must start with a letter"},
		{id: "a@pve!1st", pve: "token names start with a letter"},
		{id: "a@pve!t", pve: "at least 2 characters"},
		{id: "a@pve!tk"},
		{id: strings.Repeat("u", 50) + "@pbs!" + strings.Repeat("t", 20), pbs: "at most 64 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			a := MustParseAuthid(tc.id)
			for _, c := range []struct {
				p    Product
				want string
			}{{PVE, tc.pve}, {PBS, tc.pbs}} {
				err := a.ValidateFor(c.p)
				if c.want == "" {
					assert.NoError(t, err, c.p)
					continue
				}
				require.Error(t, err, c.p)
				assert.ErrorIs(t, err, ErrInvalidID)
				assert.Contains(t, err.Error(), c.want)
			}
		})
	}
	assert.NoError(t, MustParseUserid("root@pam").ValidateFor(PVE))
	assert.ErrorIs(t, MustParseUserid("a@1x").ValidateFor(PVE), ErrInvalidID)
	assert.Error(t, MustParseUserid("a@pve").ValidateFor(Product(9)))
	assert.Error(t, MustParseAuthid("a@pve").ValidateFor(0))
	assert.Error(t, Authid{}.ValidateFor(PVE))
	assert.Error(t, Userid{}.ValidateFor(PBS))
}

func TestHint(t *testing.T) {
	tests := []struct {
		id   string
		want []string
	}{
		{id: "root@pam"},
		{id: "backup@pbs!client"},
		{id: "john@example.com@pbs", want: []string{`user "john@example.com" in realm "pbs"`, "repository string"}},
		{id: "pve@pbs@pbs-store", want: []string{`user "pve@pbs" in realm "pbs-store"`, "repository string (user@realm@host:store) with the token name missing", "pve@pbs!backup"}},
		{id: "alice@pbs!backup@store1", want: []string{`user "alice@pbs!backup" in realm "store1"`, `token id "alice@pbs!backup"`}},
		{id: "bob!tok@pve", want: []string{"did you mean bob@pve!tok?"}},
		{id: "bob!tok@pbs@host", want: []string{"misplaced token name"}},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			h := MustParseAuthid(tc.id).Hint()
			if tc.want == nil {
				assert.Empty(t, h)
				return
			}
			assert.Contains(t, h, tc.id, "self-contained: names the id")
			for _, w := range tc.want {
				assert.Contains(t, h, w)
			}
		})
	}
	h := MustParseAuthid("alice@pve!" + uuidSecret).Hint()
	assert.Contains(t, h, "looks like an API token secret")
	assert.NotContains(t, h, uuidSecret[9:])
	assert.Empty(t, Authid{}.Hint())
	assert.NotEmpty(t, MustParseUserid("pve@pbs@pbs-store").Hint())
}

func TestIDTextMarshalling(t *testing.T) {
	type doc struct {
		User Userid `json:"user"`
		Auth Authid `json:"auth"`
	}
	in := doc{User: MustParseUserid("root@pam"), Auth: MustParseAuthid("backup@pbs!client")}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	assert.JSONEq(t, `{"user":"root@pam","auth":"backup@pbs!client"}`, string(b))
	var out doc
	require.NoError(t, json.Unmarshal(b, &out))
	assert.Equal(t, in, out)
	err = json.Unmarshal([]byte(`{"user":"backup@pbs!client"}`), &out)
	assert.True(t, errors.Is(err, ErrInvalidID))
	err = json.Unmarshal([]byte(`{"auth":"nope"}`), &out)
	assert.ErrorIs(t, err, ErrInvalidID)
}

func TestIDPredicates(t *testing.T) {
	assert.True(t, RootUserid.IsRoot())
	assert.True(t, MustParseAuthid("root@pam").IsRoot())
	assert.False(t, MustParseAuthid("root@pam!t").IsRoot(), "root's tokens are not superuser")
	assert.Equal(t, RootUserid, MustParseAuthid("root@pam!t").User())
	assert.Equal(t, "", Userid{}.String())
	assert.Equal(t, "", Authid{}.String())
	assert.Panics(t, func() { MustParseAuthid("nope") })
	assert.Panics(t, func() { MustParseUserid("nope") })
}

// TestErrorQuotingRevealsNoSecret: quoting an input can turn 35 characters
// of a secret and an escape ending in a hex digit ("\x00") into the secret
// as text; the error messages redact after quoting.
func TestErrorQuotingRevealsNoSecret(t *testing.T) {
	near := "\x00" + uuidSecret[1:] // quoted: \x0063e505a-…, a UUID again
	for _, in := range []string{near + "@pam", near + "@pam!t", near, near + "=" + uuidSecret} {
		_, err := ParseUserid(in)
		require.Error(t, err, "%q", in)
		assert.NotContains(t, err.Error(), uuidSecret[1:], "%q", in)
		_, err = ParseAuthid(in)
		require.Error(t, err, "%q", in)
		assert.NotContains(t, err.Error(), uuidSecret[1:], "%q", in)
	}
	_, err := ParseRepository(near + "@pam@host:store")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), uuidSecret[1:])
}

func TestRedactID(t *testing.T) {
	for in, want := range map[string]string{
		"root":                            "root",
		"u@pbs!t:secret":                  "u@pbs!t[…redacted]",
		"u@pve!t=secret":                  "u@pve!t[…redacted]",
		"u@pbs!t secret":                  "u@pbs!t[…redacted]",
		uuidSecret:                        "[…redacted]",
		"x" + uuidSecret + "@pve":         "x[…redacted]@pve",
		"averylongstringwithoutanyat1":    "[…redacted]",
		strings.Repeat("a", 200) + "@pve": strings.Repeat("a", 128) + "…",
	} {
		assert.Equal(t, want, redactID(in), in)
	}
	assert.Equal(t, "[…redacted]", redactID("\x00"+uuidSecret[1:]+"=x"), "a near-secret before a cut is judged without the mark")
	_, err := ParseAuthid(uuidSecret)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), uuidSecret[9:], "a secret passed as the id is not echoed")
	assert.Contains(t, err.Error(), "were id and secret swapped?")
}
