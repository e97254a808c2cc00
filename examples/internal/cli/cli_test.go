package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

const (
	testSecret = "5f0c8a12-3b4d-4e5f-9a0b-1c2d3e4f5a6b"
	testFP     = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89"
)

// runApp runs body as program "prog" with args and env, returning the
// exit status and both outputs.
func runApp(t *testing.T, args []string, env map[string]string, body func(ctx context.Context, app *App) error) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := &App{Name: "prog", Args: args, Stdout: &stdout, Stderr: &stderr, Lookup: auth.MapEnv(env)}
	code := app.Run(context.Background(), body)
	return code, stdout.String(), stderr.String()
}

func TestRunExitStatusAndOneLine(t *testing.T) {
	code, out, errOut := runApp(t, nil, nil, func(ctx context.Context, app *App) error {
		fmt.Fprintln(app.Stdout, "done")
		return nil
	})
	assert.Equal(t, ExitOK, code)
	assert.Equal(t, "done\n", out)
	assert.Empty(t, errOut)

	code, _, errOut = runApp(t, nil, nil, func(ctx context.Context, app *App) error {
		return errors.New("PBS GET /access/users: HTTP 403 Forbidden\n  hint: the token has no ACL entry\n")
	})
	assert.Equal(t, ExitFailure, code)
	assert.Equal(t, "prog: PBS GET /access/users: HTTP 403 Forbidden; hint: the token has no ACL entry\n", errOut)
	assert.Equal(t, 1, strings.Count(errOut, "\n"))
}

func TestRunUsageAndHelp(t *testing.T) {
	body := func(ctx context.Context, app *App) error {
		fs := app.FlagSet("[--x N] ARG")
		fs.Int("x", 0, "a number")
		if err := app.Parse(fs); err != nil {
			return err
		}
		_, err := Args(fs, 1, 1)
		return err
	}
	code, _, errOut := runApp(t, []string{"--nope"}, nil, body)
	assert.Equal(t, ExitUsage, code)
	assert.Equal(t, "prog: flag provided but not defined: -nope (see -h)\n", errOut)

	code, _, errOut = runApp(t, []string{"a", "b"}, nil, body)
	assert.Equal(t, ExitUsage, code)
	assert.Equal(t, "prog: want 1 arguments, got 2 (see -h)\n", errOut)

	code, _, errOut = runApp(t, []string{"-h"}, nil, body)
	assert.Equal(t, ExitOK, code)
	assert.True(t, strings.HasPrefix(errOut, "usage: prog [--x N] ARG\n"), errOut)
	assert.Contains(t, errOut, "a number")

	code, _, _ = runApp(t, []string{"--x", "3", "a"}, nil, body)
	assert.Equal(t, ExitOK, code)
}

func TestArgsRanges(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	require.NoError(t, fs.Parse([]string{"a"}))
	_, err := Args(fs, 2, -1)
	assert.EqualError(t, err, "want at least 2 arguments, got 1 (see -h)")
	_, err = Args(fs, 2, 3)
	assert.EqualError(t, err, "want 2 to 3 arguments, got 1 (see -h)")
	got, err := Args(fs, 0, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, got)
}

func TestErrorLineNeverShowsLoadedSecret(t *testing.T) {
	env := map[string]string{
		auth.EnvPBSRepository: "backup@pbs!client@pbs.example.com:store1",
		auth.EnvPBSPassword:   testSecret,
	}
	code, out, errOut := runApp(t, nil, env, func(ctx context.Context, app *App) error {
		fs := app.FlagSet("")
		f := AddPBSFlags(fs)
		if err := app.Parse(fs); err != nil {
			return err
		}
		p, err := f.Load(ctx, app)
		if err != nil {
			return err
		}
		// A server echoing the secret back must not leak it.
		return fmt.Errorf("server said: bad token %s", p.Secret.Reveal())
	})
	assert.Equal(t, ExitFailure, code)
	assert.Empty(t, out)
	assert.NotContains(t, errOut, testSecret)
	assert.Equal(t, "prog: server said: bad token [redacted]\n", errOut)
}

func loadPBS(t *testing.T, args []string, env map[string]string) (*PBS, error) {
	t.Helper()
	app := &App{Name: "prog", Args: args, Lookup: auth.MapEnv(env)}
	fs := app.FlagSet("")
	f := AddPBSFlags(fs)
	require.NoError(t, app.Parse(fs))
	return f.Load(context.Background(), app)
}

func TestPBSFromEnvironment(t *testing.T) {
	p, err := loadPBS(t, nil, map[string]string{
		auth.EnvPBSRepository:  "backup@pbs!client@pbs.example.com:8008:store1",
		auth.EnvPBSPassword:    testSecret,
		auth.EnvPBSFingerprint: testFP,
	})
	require.NoError(t, err)
	assert.Equal(t, "backup@pbs!client", p.Repository.AuthID.String())
	assert.Equal(t, "https://pbs.example.com:8008", p.Repository.BaseURL())
	assert.Equal(t, "store1", p.Datastore())
	assert.Equal(t, auth.EnvPBSPassword, p.SecretFrom)
	require.NotNil(t, p.Fingerprint)
	assert.Equal(t, testFP, p.Fingerprint.String())

	c, err := p.Client()
	require.NoError(t, err)
	assert.Equal(t, "https://pbs.example.com:8008", c.BaseURL())
	assert.Equal(t, "backup@pbs!client", c.AuthID().String())
}

func TestPBSFlagsWinOverEnvironment(t *testing.T) {
	// The variables are broken: flags replace them, so they are not read.
	p, err := loadPBS(t, []string{"--repository", "root@pam@10.0.0.1:tank", "--fingerprint", strings.ReplaceAll(testFP, ":", "")}, map[string]string{
		auth.EnvPBSRepository:  "::bad::",
		auth.EnvPBSFingerprint: "zz",
		auth.EnvPBSPassword:    "pw",
	})
	require.NoError(t, err)
	assert.Equal(t, "root@pam", p.Repository.AuthID.String())
	assert.Equal(t, "tank", p.Datastore())
	assert.Equal(t, testFP, p.Fingerprint.String())
	creds, err := p.Credentials()
	require.NoError(t, err)
	_, isTicket := creds.(*auth.Ticket)
	assert.True(t, isTicket, "a user id logs in with a password")
}

func TestPBSSecretSources(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(file, []byte(testSecret+"\nsecond line\n"), 0o600))
	p, err := loadPBS(t, nil, map[string]string{
		auth.EnvPBSRepository:         "backup@pbs!client@host:store1",
		auth.EnvPBSPassword + "_FILE": file,
	})
	require.NoError(t, err)
	assert.Equal(t, testSecret, p.Secret.Reveal())
	assert.Equal(t, auth.EnvPBSPassword+"_FILE", p.SecretFrom)

	p, err = loadPBS(t, nil, map[string]string{
		auth.EnvPBSRepository:        "backup@pbs!client@host:store1",
		auth.EnvPBSPassword + "_CMD": "echo " + testSecret,
	})
	require.NoError(t, err)
	assert.Equal(t, testSecret, p.Secret.Reveal())
	tok, err := p.Credentials()
	require.NoError(t, err)
	assert.IsType(t, auth.Token{}, tok)
}

func TestPBSErrors(t *testing.T) {
	_, err := loadPBS(t, nil, map[string]string{})
	assert.EqualError(t, err, "no repository: give --repository or set PBS_REPOSITORY")

	_, err = loadPBS(t, []string{"--repository", "a b"}, nil)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "--repository: "), err.Error())
	assert.ErrorIs(t, err, auth.ErrInvalidRepository)

	_, err = loadPBS(t, []string{"--repository", "host:store1", "--fingerprint", "12:34"}, nil)
	assert.ErrorIs(t, err, auth.ErrInvalidFingerprint)
	assert.True(t, strings.HasPrefix(err.Error(), "--fingerprint: "), err.Error())

	_, err = loadPBS(t, nil, map[string]string{auth.EnvPBSRepository: "host:store1", auth.EnvPBSFingerprint: "nope"})
	var envErr *auth.EnvError
	require.ErrorAs(t, err, &envErr)
	assert.Equal(t, auth.EnvPBSFingerprint, envErr.Var)

	p, err := loadPBS(t, nil, map[string]string{auth.EnvPBSRepository: "backup@pbs!client@host:store1"})
	require.NoError(t, err)
	_, err = p.Client()
	assert.ErrorIs(t, err, auth.ErrMissingSecret)
	assert.Contains(t, err.Error(), "PBS_PASSWORD")
}

func loadPVE(t *testing.T, args []string, env map[string]string) (*PVE, error) {
	t.Helper()
	app := &App{Name: "prog", Args: args, Lookup: auth.MapEnv(env)}
	fs := app.FlagSet("")
	f := AddPVEFlags(fs)
	require.NoError(t, app.Parse(fs))
	return f.Load(context.Background(), app)
}

func TestPVEFromEnvironmentAndFlags(t *testing.T) {
	env := map[string]string{
		auth.EnvPVEURL:         "https://pve.example.com",
		auth.EnvPVEAuthID:      "automation@pve!ci",
		auth.EnvPVEPassword:    testSecret,
		auth.EnvPVEFingerprint: testFP,
	}
	p, err := loadPVE(t, nil, env)
	require.NoError(t, err)
	assert.Equal(t, "https://pve.example.com:8006", p.BaseURL)
	assert.Equal(t, "automation@pve!ci", p.AuthID.String())
	assert.Equal(t, testFP, p.Fingerprint.String())
	tok, err := p.Credentials()
	require.NoError(t, err)
	assert.IsType(t, auth.Token{}, tok)
	c, err := p.Client()
	require.NoError(t, err)
	assert.Equal(t, "https://pve.example.com:8006", c.BaseURL())
	assert.Equal(t, "automation@pve!ci", c.AuthID().String())

	p, err = loadPVE(t, []string{"--url", "https://10.1.1.1:8443", "--authid", "root@pam"}, env)
	require.NoError(t, err)
	assert.Equal(t, "https://10.1.1.1:8443", p.BaseURL)
	assert.Equal(t, "root@pam", p.AuthID.String())

	_, err = loadPVE(t, nil, map[string]string{auth.EnvPVEAuthID: "root@pam"})
	assert.EqualError(t, err, "no PVE server: give --url or set PVE_URL")
	_, err = loadPVE(t, nil, map[string]string{auth.EnvPVEURL: "https://h"})
	assert.EqualError(t, err, "no PVE auth id: give --authid or set PVE_AUTHID")
	_, err = loadPVE(t, []string{"--url", "http://h"}, nil)
	assert.ErrorIs(t, err, auth.ErrInvalidURL)
	_, err = loadPVE(t, []string{"--authid", "noreal"}, map[string]string{auth.EnvPVEURL: "https://h"})
	assert.ErrorIs(t, err, auth.ErrInvalidID)

	p, err = loadPVE(t, nil, map[string]string{auth.EnvPVEURL: "https://h", auth.EnvPVEAuthID: "a@pve!tok"})
	require.NoError(t, err)
	_, err = p.Credentials()
	assert.ErrorIs(t, err, auth.ErrMissingSecret)
	assert.Contains(t, err.Error(), "PVE_PASSWORD")
}

func TestTargetProductSelection(t *testing.T) {
	pbsEnv := map[string]string{auth.EnvPBSRepository: "a@pbs!t@pbs.local:store1", auth.EnvPBSPassword: "s3cret-pbs"}
	pveEnv := map[string]string{auth.EnvPVEURL: "https://pve.local", auth.EnvPVEAuthID: "a@pve!tok", auth.EnvPVEPassword: "s3cret-pve"}
	both := map[string]string{}
	for k, v := range pbsEnv {
		both[k] = v
	}
	for k, v := range pveEnv {
		both[k] = v
	}
	load := func(args []string, env map[string]string) (*Target, error) {
		app := &App{Name: "prog", Args: args, Lookup: auth.MapEnv(env)}
		fs := app.FlagSet("")
		f := AddTargetFlags(fs)
		require.NoError(t, app.Parse(fs))
		return f.Load(context.Background(), app)
	}
	tg, err := load(nil, pbsEnv)
	require.NoError(t, err)
	assert.Equal(t, auth.PBS, tg.Product)
	require.NotNil(t, tg.PBS)
	assert.Nil(t, tg.PVE)

	tg, err = load(nil, pveEnv)
	require.NoError(t, err)
	assert.Equal(t, auth.PVE, tg.Product)
	assert.Equal(t, "https://pve.local:8006", tg.PVE.BaseURL)

	_, err = load(nil, both)
	assert.ErrorContains(t, err, "choose the server with -product")
	tg, err = load([]string{"-product", "pve"}, both)
	require.NoError(t, err)
	assert.Equal(t, auth.PVE, tg.Product)
	tg, err = load([]string{"--url", "https://other"}, both)
	require.NoError(t, err, "a PVE flag picks PVE")
	assert.Equal(t, "https://other:8006", tg.PVE.BaseURL)
	tg, err = load([]string{"--repository", "a@pbs!t@x:store2", "--fingerprint", testFP}, both)
	require.NoError(t, err)
	assert.Equal(t, auth.PBS, tg.Product)
	assert.Equal(t, testFP, tg.PBS.Fingerprint.String(), "the shared --fingerprint reaches PBS")
	tg, err = load([]string{"-product", "pve", "--fingerprint", testFP}, pveEnv)
	require.NoError(t, err)
	assert.Equal(t, testFP, tg.PVE.Fingerprint.String(), "and PVE")

	_, err = load(nil, nil)
	assert.ErrorContains(t, err, "no server")
	_, err = load([]string{"-product", "esx"}, pveEnv)
	var usage *UsageError
	assert.ErrorAs(t, err, &usage)
}

func TestProgressOnlyWhenOn(t *testing.T) {
	var buf bytes.Buffer
	off := NewProgress(&buf, false)
	off.Printf("%d%%", 50)
	off.Done()
	assert.Empty(t, buf.String())

	var nilProgress *Progress
	nilProgress.Printf("x")
	nilProgress.Done()

	clock := time.Unix(1000, 0)
	on := NewProgress(&buf, true)
	on.now = func() time.Time { return clock }
	on.Printf("reading %s", "1.00 MiB")
	on.Printf("dropped: too soon")
	clock = clock.Add(progressEvery)
	on.Printf("read 2")
	on.Done()
	assert.Equal(t, "\rreading 1.00 MiB\rread 2          \r      \r", buf.String())
}

func TestIsTerminal(t *testing.T) {
	assert.False(t, IsTerminal(&bytes.Buffer{}))
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, IsTerminal(f))
	app := &App{Stderr: f}
	app.Progress().Printf("never")
	st, err := f.Stat()
	require.NoError(t, err)
	assert.Zero(t, st.Size())
}

func TestBytesAndRate(t *testing.T) {
	for n, want := range map[int64]string{
		0:       "0 B",
		1023:    "1023 B",
		1024:    "1.00 KiB",
		3 << 19: "1.50 MiB",
		5 << 30: "5.00 GiB",
		1 << 40: "1.00 TiB",
		3 << 50: "3.00 PiB",
	} {
		assert.Equal(t, want, Bytes(n), "%d", n)
	}
	assert.Equal(t, "2.00 MiB/s", Rate(4<<20, 2*time.Second))
	assert.Equal(t, "-", Rate(1, 0))
}

func TestParseTime(t *testing.T) {
	got, err := ParseTime("1795860000")
	require.NoError(t, err)
	assert.Equal(t, time.Unix(1795860000, 0).UTC(), got)
	got, err = ParseTime("2026-11-22T10:00:00Z")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), got)
	for _, bad := range []string{"0", "-5", "yesterday", "2026-11-22 10:00:00", "1970-01-01T00:00:00Z", "0000-01-01T00:00:00Z"} {
		_, err := ParseTime(bad)
		assert.Error(t, err, bad)
	}
}
