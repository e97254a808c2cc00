package auth

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const validPBSConfig = `{
  "baseurl": "https://pbs.example.com:8007",
  "authid": "customer1@pbs!backup",
  "secret": "` + testSecret + `",
  "datastore": "customer1",
  "fingerprint": "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
  "namespace": "hosts/web1",
  "comment": "unknown fields are ignored"
}`

func TestParsePBSConfig(t *testing.T) {
	cfg, err := ParsePBSConfig([]byte(validPBSConfig))
	require.NoError(t, err)
	assert.Equal(t, "https://pbs.example.com:8007", cfg.BaseURL)
	assert.Equal(t, "customer1@pbs!backup", cfg.AuthID.String())
	assert.Equal(t, testSecret, cfg.Secret.Reveal())
	assert.Equal(t, "customer1", cfg.Datastore)
	require.NotNil(t, cfg.Fingerprint)
	assert.Equal(t, strings.ToLower("AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"), cfg.Fingerprint.String())
	assert.Equal(t, "hosts/web1", cfg.Namespace)

	minimal, err := ParsePBSConfig([]byte(`{"baseurl":"https://pbs/","authid":"u@pbs","secret":"pw","datastore":"ds1"}`))
	require.NoError(t, err)
	assert.Equal(t, "https://pbs:8007", minimal.BaseURL, "normalised")
	assert.Nil(t, minimal.Fingerprint)
	assert.Empty(t, minimal.Namespace)

	var viaJSON PBSConfig
	require.NoError(t, json.Unmarshal([]byte(validPBSConfig), &viaJSON))
	assert.Equal(t, *cfg, viaJSON)
}

func TestParsePBSConfigErrors(t *testing.T) {
	base := map[string]any{
		"baseurl": "https://pbs.example.com:8007", "authid": "c@pbs!b",
		"secret": testSecret, "datastore": "store1",
	}
	with := func(k string, v any) []byte {
		m := map[string]any{}
		for kk, vv := range base {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return b
	}
	tests := []struct {
		name  string
		data  []byte
		field string
		want  string
	}{
		{"no baseurl", with("baseurl", nil), "baseurl", "missing"},
		{"http", with("baseurl", "http://pbs"), "baseurl", "scheme must be https"},
		{"baseurl with password", with("baseurl", "https://u:"+testSecret+"@pbs"), "baseurl", "user info"},
		{"no authid", with("authid", nil), "authid", "missing"},
		{"empty authid", with("authid", ""), "authid", "empty"},
		{"bad authid", with("authid", "backup"), "authid", "missing realm"},
		{"authid with secret", with("authid", "c@pbs!b:"+testSecret), "authid", "contains ':'"},
		{"long authid", with("authid", strings.Repeat("u", 60)+"@pbs!token"), "authid", "at most 64"},
		{"no secret", with("secret", nil), "secret", "missing"},
		{"empty secret", with("secret", ""), "secret", "empty"},
		{"placeholder", with("secret", "[redacted]"), "secret", "placeholder"},
		{"multi-line secret", with("secret", testSecret+"\nx"), "secret", "line break"},
		{"number secret", with("secret", 12345), "secret", "must be a string"},
		{"no datastore", with("datastore", nil), "datastore", "missing"},
		{"short datastore", with("datastore", "ab"), "datastore", "2 characters long"},
		{"bad datastore", with("datastore", "a/b/c"), "datastore", "may only contain"},
		{"fingerprint", with("fingerprint", "ab:cd"), "fingerprint", "invalid fingerprint"},
		{"namespace slash", with("namespace", "/a"), "namespace", "empty component"},
		{"namespace deep", with("namespace", "a/b/c/d/e/f/g/h"), "namespace", "8 levels"},
		{"namespace chars", with("namespace", "a b"), "namespace", "may only contain"},
		{"array", []byte(`[1,2]`), "", "not an object"},
		{"garbage", []byte(`{"secret": "` + testSecret + `" x}`), "", "syntax error"},
		{"empty", nil, "", "empty document"},
		{"trailing", append(with("x", 1), []byte(` {}`)...), "", "trailing data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePBSConfig(tc.data)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.field, ce.Field)
			assert.Contains(t, err.Error(), tc.want)
			if tc.field != "" {
				assert.Contains(t, err.Error(), fmt.Sprintf("field %q", tc.field))
			}
			assert.NotContains(t, err.Error(), testSecret)
			assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), testSecret)
		})
	}
}

func TestWriteAndReadPBSConfig(t *testing.T) {
	cfg, err := ParsePBSConfig([]byte(validPBSConfig))
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "pbs-config.json")

	// An existing world-readable file is replaced by a 0600 one.
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, os.Chmod(path, 0o644))
	require.NoError(t, WritePBSConfig(path, cfg))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"secret": "`+testSecret+`"`, "the file holds the real secret")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")

	back, err := ReadPBSConfig(path)
	require.NoError(t, err)
	assert.Equal(t, *cfg, *back)

	// Invalid configs are not written, and the error names the file.
	bad := *cfg
	bad.Datastore = ""
	err = WritePBSConfig(path, &bad)
	assert.ErrorIs(t, err, ErrInvalidConfig)
	assert.Contains(t, err.Error(), path)
	assert.ErrorIs(t, WritePBSConfig(path, nil), ErrInvalidConfig)
	again, err := ReadPBSConfig(path)
	require.NoError(t, err)
	assert.Equal(t, *cfg, *again)

	err = WritePBSConfig(filepath.Join(dir, "missing-dir", "x.json"), cfg)
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

func TestReadPBSConfigErrors(t *testing.T) {
	_, err := ReadPBSConfig(filepath.Join(t.TempDir(), "none.json"))
	assert.ErrorIs(t, err, ErrInvalidConfig)
	assert.ErrorIs(t, err, os.ErrNotExist)

	p := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(p, []byte(`{"baseurl":"https://pbs","authid":"nope","secret":"`+testSecret+`","datastore":"ds1"}`), 0o600))
	_, err = ReadPBSConfig(p)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, p, ce.Path)
	assert.Equal(t, "authid", ce.Field)
	assert.NotContains(t, err.Error(), testSecret)

	big := filepath.Join(t.TempDir(), "big.json")
	require.NoError(t, os.WriteFile(big, make([]byte, maxPBSConfigSize+1), 0o600))
	_, err = ReadPBSConfig(big)
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

func TestPBSConfigNeverShowsSecret(t *testing.T) {
	cfg, err := ParsePBSConfig([]byte(validPBSConfig))
	require.NoError(t, err)
	for _, v := range []any{*cfg, cfg, []PBSConfig{*cfg}, struct{ C *PBSConfig }{cfg}} {
		for _, out := range formats(v) {
			assert.NotContains(t, out, testSecret, out)
		}
	}
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.NotContains(t, string(b), testSecret)
	assert.Contains(t, string(b), `"secret":"[redacted]"`)
	var back PBSConfig
	err = json.Unmarshal(b, &back)
	assert.ErrorIs(t, err, ErrInvalidConfig, "a redacted dump is not a usable config")
	assert.Contains(t, cfg.String(), "customer1@pbs!backup")
	assert.Contains(t, fmt.Sprintf("%#v", cfg), "auth.Secret([redacted])")
}

func TestPBSConfigConversions(t *testing.T) {
	cfg, err := ParsePBSConfig([]byte(validPBSConfig))
	require.NoError(t, err)
	repo, err := cfg.Repository()
	require.NoError(t, err)
	assert.Equal(t, "customer1@pbs!backup@pbs.example.com:customer1", repo.String())
	assert.True(t, repo.HasAuthID())

	back, err := NewPBSConfig(repo, cfg.Secret, cfg.Fingerprint, cfg.Namespace)
	require.NoError(t, err)
	assert.Equal(t, *cfg, *back)

	creds, err := cfg.Credentials()
	require.NoError(t, err)
	assert.IsType(t, Token{}, creds)

	r6, err := ParseRepository("u@pbs@[2001:db8::7]:9000:ds1")
	require.NoError(t, err)
	c6, err := NewPBSConfig(r6, NewSecret("pw"), nil, "")
	require.NoError(t, err)
	assert.Equal(t, "https://[2001:db8::7]:9000", c6.BaseURL)
	r6back, err := c6.Repository()
	require.NoError(t, err)
	assert.Equal(t, "u@pbs@[2001:db8::7]:9000:ds1", r6back.String())
	creds, err = c6.Credentials()
	require.NoError(t, err)
	assert.IsType(t, &Ticket{}, creds)

	_, err = NewPBSConfig(r6, Secret{}, nil, "")
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewPBSConfig(Repository{}, NewSecret("pw"), nil, "")
	assert.ErrorIs(t, err, ErrInvalidRepository)
	short, _ := ParseRepository("h:ab")
	_, err = NewPBSConfig(short, NewSecret("pw"), nil, "")
	assert.ErrorIs(t, err, ErrInvalidConfig, "PBS datastore names have at least 3 characters")
}
