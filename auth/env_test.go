package auth

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func needCommand(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not available", name)
	}
}

func TestSecretFromEnvOrder(t *testing.T) {
	ctx := context.Background()
	file := writeFile(t, "file-secret\r\nsecond line\n")

	tests := []struct {
		name string
		env  map[string]string
		want string
		from string
	}{
		{"none", map[string]string{}, "", ""},
		{"value", map[string]string{"X": "val\nrest", "X_FILE": file}, "val", "X"},
		{"empty value wins", map[string]string{"X": "", "X_FILE": file}, "", "X"},
		{"crlf value", map[string]string{"X": "val\r\nrest"}, "val", "X"},
		{"lone cr kept", map[string]string{"X": "val\r"}, "val\r", "X"},
		{"file", map[string]string{"X_FILE": file, "X_CMD": "false"}, "file-secret", "X_FILE"},
		{"empty file", map[string]string{"X_FILE": writeFile(t, "")}, "", "X_FILE"},
		{"file without newline", map[string]string{"X_FILE": writeFile(t, "abc")}, "abc", "X_FILE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, from, err := SecretFromEnv(ctx, MapEnv(tc.env), "X")
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.Reveal())
			assert.Equal(t, tc.from, from)
		})
	}
}

func TestSecretFromEnvFD(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	_, err = w.WriteString("fd-secret\r\nnext\n")
	require.NoError(t, err)
	require.NoError(t, w.Close())
	env := MapEnv(map[string]string{"X_FD": strconv.Itoa(int(r.Fd())), "X_FILE": "/nonexistent"})
	s, from, err := SecretFromEnv(context.Background(), env, "X")
	require.NoError(t, err)
	assert.Equal(t, "fd-secret", s.Reveal())
	assert.Equal(t, "X_FD", from)
	assert.NoError(t, r.Close(), "the caller's descriptor stays open")

	for _, bad := range []string{"abc", "-1", "99999"} {
		_, from, err := SecretFromEnv(context.Background(), MapEnv(map[string]string{"X_FD": bad, "X_FILE": "/dev/null"}), "X")
		assert.ErrorIs(t, err, ErrInvalidEnv, bad)
		assert.Equal(t, "X_FD", from)
		assert.Contains(t, err.Error(), "X_FD")
	}
}

func TestSecretFromEnvCmd(t *testing.T) {
	needCommand(t, "printf")
	ctx := context.Background()
	s, from, err := SecretFromEnv(ctx, MapEnv(map[string]string{"X_CMD": `printf 'cmd-secret\r\nline2\n'`}), "X")
	require.NoError(t, err)
	assert.Equal(t, "cmd-secret", s.Reveal())
	assert.Equal(t, "X_CMD", from)

	s, _, err = SecretFromEnv(ctx, MapEnv(map[string]string{"X_CMD": `printf "%s" "two words"`}), "X")
	require.NoError(t, err)
	assert.Equal(t, "two words", s.Reveal(), "no shell: quotes group words, nothing is expanded")

	s, _, err = SecretFromEnv(ctx, MapEnv(map[string]string{"X_CMD": `printf '$HOME'`}), "X")
	require.NoError(t, err)
	assert.Equal(t, "$HOME", s.Reveal())
}

func TestSecretFromEnvCmdErrors(t *testing.T) {
	needCommand(t, "sh")
	ctx := context.Background()
	for cmd, want := range map[string]string{
		"":                             "empty command",
		"   ":                          "empty command",
		`printf 'unclosed`:             "cannot split",
		"/nonexistent/pw-helper --get": `cannot run command "pw-helper"`,
		`sh -c 'echo ` + testSecret + ` >&2; exit 3'`: "failed with exit status 3",
		`sh -c 'printf "\377\376"'`:                   "not valid UTF-8",
	} {
		_, from, err := SecretFromEnv(ctx, MapEnv(map[string]string{"X_CMD": cmd}), "X")
		require.Error(t, err, cmd)
		assert.ErrorIs(t, err, ErrInvalidEnv)
		assert.Equal(t, "X_CMD", from)
		assert.Contains(t, err.Error(), want, cmd)
		assert.NotContains(t, err.Error(), testSecret)
	}

	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, _, err := SecretFromEnv(cctx, MapEnv(map[string]string{"X_CMD": "sleep 30"}), "X")
	require.Error(t, err)
}

func TestSecretFromEnvBadValues(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"X":      {"X": "a\xffb"},
		"X_FILE": {"X_FILE": "/nonexistent/file"},
		"X_CMD":  {"X_CMD": "\xff"},
	} {
		_, from, err := SecretFromEnv(context.Background(), MapEnv(env), "X")
		require.Error(t, err, name)
		assert.ErrorIs(t, err, ErrInvalidEnv)
		assert.Equal(t, name, from)
		assert.True(t, strings.HasPrefix(err.Error(), name+":"), err.Error())
	}
	_, _, err := SecretFromEnv(context.Background(), MapEnv(map[string]string{"X_FILE": writeFile(t, "a\xffb\n")}), "X")
	assert.ErrorIs(t, err, ErrInvalidEnv)
}

func TestSecretFromEnvDefaultsToOS(t *testing.T) {
	t.Setenv("PROXKIT_TEST_SECRET", "from-os")
	s, from, err := SecretFromEnv(context.Background(), nil, "PROXKIT_TEST_SECRET")
	require.NoError(t, err)
	assert.Equal(t, "from-os", s.Reveal())
	assert.Equal(t, "PROXKIT_TEST_SECRET", from)
}

func TestLoadPBSEnvironment(t *testing.T) {
	ctx := context.Background()
	fp := strings.Repeat("ab:", 31) + "ab"

	env, err := LoadPBSEnvironment(ctx, MapEnv(map[string]string{
		"PBS_REPOSITORY":  "backup@pbs!client@pbs.example.com:store1",
		"PBS_PASSWORD":    uuidSecret,
		"PBS_FINGERPRINT": strings.ToUpper(fp),
	}))
	require.NoError(t, err)
	require.NotNil(t, env.Repository)
	assert.Equal(t, "backup@pbs!client", env.Repository.AuthID.String())
	assert.Equal(t, "PBS_PASSWORD", env.SecretFrom)
	require.NotNil(t, env.Fingerprint)
	assert.Equal(t, fp, env.Fingerprint.String())
	creds, err := env.Credentials()
	require.NoError(t, err)
	tok, ok := creds.(Token)
	require.True(t, ok, "a token id gives a Token")
	assert.Equal(t, "PBSAPIToken=backup@pbs!client:"+uuidSecret, tok.PBSHeader())
	ep, err := env.Endpoint(nil)
	require.NoError(t, err)
	assert.Equal(t, Endpoint{Product: PBS, BaseURL: "https://pbs.example.com:8007"}, ep)

	env, err = LoadPBSEnvironment(ctx, MapEnv(map[string]string{"PBS_REPOSITORY": "alice@pbs@host:store", "PBS_PASSWORD_FILE": writeFile(t, "pw\n")}))
	require.NoError(t, err)
	assert.Nil(t, env.Fingerprint)
	creds, err = env.Credentials()
	require.NoError(t, err)
	_, ok = creds.(*Ticket)
	assert.True(t, ok, "a user id gives ticket credentials")
	assert.Equal(t, "alice@pbs", creds.AuthID().String())

	env, err = LoadPBSEnvironment(ctx, MapEnv(map[string]string{"PBS_REPOSITORY": "backup@pbs!client@host:store"}))
	require.NoError(t, err)
	_, err = env.Credentials()
	assert.ErrorIs(t, err, ErrMissingSecret)
	assert.Contains(t, err.Error(), "API token secret must be provided")
	assert.Contains(t, err.Error(), "PBS_PASSWORD")

	env, err = LoadPBSEnvironment(ctx, MapEnv(map[string]string{"PBS_PASSWORD": "pw"}))
	require.NoError(t, err)
	assert.Nil(t, env.Repository)
	_, err = env.Credentials()
	assert.ErrorIs(t, err, ErrInvalidEnv)
	_, err = env.Endpoint(nil)
	assert.ErrorIs(t, err, ErrInvalidEnv)

	_, err = LoadPBSEnvironment(ctx, MapEnv(map[string]string{"PBS_REPOSITORY": "https://bad"}))
	assert.ErrorIs(t, err, ErrInvalidEnv)
	assert.ErrorIs(t, err, ErrInvalidRepository)
	assert.Contains(t, err.Error(), "PBS_REPOSITORY")
	_, err = LoadPBSEnvironment(ctx, MapEnv(map[string]string{"PBS_FINGERPRINT": "ab:cd"}))
	assert.ErrorIs(t, err, ErrInvalidFingerprint)
	assert.Contains(t, err.Error(), "PBS_FINGERPRINT")
	_, err = LoadPBSEnvironment(ctx, MapEnv(map[string]string{"PBS_PASSWORD_FD": "x"}))
	assert.ErrorIs(t, err, ErrInvalidEnv)
}

func TestLoadPVEEnvironment(t *testing.T) {
	ctx := context.Background()
	env, err := LoadPVEEnvironment(ctx, MapEnv(map[string]string{
		"PVE_URL":         "https://pve.example.com",
		"PVE_AUTHID":      "automation@pve!ci",
		"PVE_PASSWORD":    uuidSecret,
		"PVE_FINGERPRINT": strings.Repeat("01", 32),
	}))
	require.NoError(t, err)
	assert.Equal(t, "https://pve.example.com:8006", env.BaseURL)
	assert.Equal(t, "automation@pve!ci", env.AuthID.String())
	require.NotNil(t, env.Fingerprint)
	creds, err := env.Credentials()
	require.NoError(t, err)
	assert.Equal(t, "PVEAPIToken=automation@pve!ci="+uuidSecret, creds.(Token).PVEHeader())
	ep, err := env.Endpoint(nil)
	require.NoError(t, err)
	assert.Equal(t, PVE, ep.Product)
	assert.Equal(t, "https://pve.example.com:8006", ep.BaseURL)

	env, err = LoadPVEEnvironment(ctx, MapEnv(map[string]string{"PVE_AUTHID": "root@pam", "PVE_PASSWORD_FILE": writeFile(t, "pw")}))
	require.NoError(t, err)
	creds, err = env.Credentials()
	require.NoError(t, err)
	assert.IsType(t, &Ticket{}, creds)
	_, err = env.Endpoint(nil)
	assert.ErrorIs(t, err, ErrInvalidEnv)

	env, err = LoadPVEEnvironment(ctx, MapEnv(nil))
	require.NoError(t, err)
	_, err = env.Credentials()
	assert.ErrorIs(t, err, ErrInvalidEnv)

	env, err = LoadPVEEnvironment(ctx, MapEnv(map[string]string{"PVE_AUTHID": "root@pam"}))
	require.NoError(t, err)
	_, err = env.Credentials()
	assert.ErrorIs(t, err, ErrMissingSecret)
	assert.Contains(t, err.Error(), "password must be provided")

	for k, v := range map[string]string{"PVE_URL": "http://pve", "PVE_AUTHID": "root", "PVE_FINGERPRINT": "zz", "PVE_PASSWORD": "\xff"} {
		_, err := LoadPVEEnvironment(ctx, MapEnv(map[string]string{k: v}))
		require.Error(t, err, k)
		assert.Contains(t, err.Error(), k)
	}
}
