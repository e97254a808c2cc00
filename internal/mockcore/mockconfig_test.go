package mockcore

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/auth/acl"
)

func TestMockSettersRefuseEmptyValuesNamingThePackage(t *testing.T) {
	var c MockConfig
	for _, tc := range []struct {
		set  MockSetter
		want string
	}{
		{SetListenAddr("pvetest", ""), "pvetest: WithListenAddr: empty address"},
		{SetStateDir("pbstest", ""), "pbstest: WithStateDir: empty directory"},
		{SetClock("pvetest", nil), "pvetest: WithClock: nil clock"},
		{SetRootPassword("pbstest", auth.Secret{}), "pbstest: WithRootPassword: empty password"},
		{SetVersion("pvetest", "", "1", "x"), "pvetest: WithVersion: empty version"},
	} {
		assert.EqualError(t, tc.set(&c), tc.want)
	}
	assert.Equal(t, MockConfig{}, c, "a refused value changes nothing")
}

func TestMockSettersSetTheirField(t *testing.T) {
	var c MockConfig
	now := func() time.Time { return time.Unix(7, 0) }
	l := log.New(io.Discard, "", 0)
	for _, set := range []MockSetter{
		SetListenAddr("p", "127.0.0.1:8007"), SetStateDir("p", "/tmp/x"), SetClock("p", now),
		SetRootPassword("p", auth.NewSecret("pw")), SetVersion("p", "1.2", "1", "abc"), SetErrorLog(l),
	} {
		require.NoError(t, set(&c))
	}
	assert.Equal(t, "127.0.0.1:8007", c.Addr)
	assert.Equal(t, "/tmp/x", c.StateDir)
	assert.Equal(t, time.Unix(7, 0), c.Clock())
	assert.Equal(t, "pw", c.RootPassword.Reveal())
	assert.Equal(t, map[string]string{"version": "1.2", "release": "1", "repoid": "abc"}, c.VersionData())
	assert.Same(t, l, c.ErrorLog)

	passwords := NewSecretStore()
	c.InstallRootPassword(passwords)
	assert.True(t, passwords.Verify(auth.RootUserid.Authid(), "pw"))
	passwords = NewSecretStore()
	(&MockConfig{}).InstallRootPassword(passwords)
	assert.Zero(t, passwords.Len(), "no password, nothing stored")
}

// logLines hands each line logged through it to the test, dropping lines
// nobody waits for.
type logLines chan string

func (l logLines) Write(p []byte) (int, error) {
	select {
	case l <- string(p):
	default:
	}
	return len(p), nil
}

func TestMockConfigListenUsesTheErrorLog(t *testing.T) {
	lines := make(logLines, 8)
	c := MockConfig{ErrorLog: log.New(lines, "", 0)}
	srv, err := c.Listen(http.NotFoundHandler())
	require.NoError(t, err)
	defer srv.Close()
	// A plain-HTTP request to the TLS port is a handshake error the server
	// logs, possibly after the client has its answer: wait for the line.
	resp, err := http.Get("http://" + srv.Addr)
	if err == nil {
		resp.Body.Close()
	}
	select {
	case line := <-lines:
		assert.Contains(t, line, "TLS handshake error")
	case <-time.After(5 * time.Second):
		t.Fatal("the server logged nothing")
	}
	require.NoError(t, srv.Close())

	_, err = (&MockConfig{Addr: "not an address"}).Listen(http.NotFoundHandler())
	assert.ErrorContains(t, err, "mockcore: listen")
}

// fakeTB records what StartForTest reports, standing in for a test.
type fakeTB struct {
	testing.TB
	fatal, errs []string
	cleanups    []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = append(f.fatal, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

type closer struct {
	closed int
	err    error
}

func (c *closer) Close() error { c.closed++; return c.err }

func TestStartForTestClosesAtCleanupAndReportsFailures(t *testing.T) {
	tb := &fakeTB{TB: t}
	c := &closer{err: errors.New("still busy")}
	got := StartForTest(tb, "pbstest", func() (*closer, error) { return c, nil })
	assert.Same(t, c, got)
	assert.Empty(t, tb.fatal)
	require.Len(t, tb.cleanups, 1)
	assert.Zero(t, c.closed, "open until the test ends")
	tb.cleanups[0]()
	assert.Equal(t, 1, c.closed)
	assert.Equal(t, []string{"pbstest: close: still busy"}, tb.errs)

	tb = &fakeTB{TB: t}
	StartForTest(tb, "pvetest", func() (*closer, error) { return nil, errors.New("no port") })
	assert.Equal(t, []string{"pvetest: no port"}, tb.fatal)
}

func TestStateACLRoundTrip(t *testing.T) {
	assert.Nil(t, StateACLs(nil), "no entries: null in the file, as before")
	entries := []acl.Entry{
		{Path: "/", Type: acl.User, Subject: "alice@pbs", Role: "Audit", Propagate: true},
		{Path: "/datastore", Type: acl.Group, Subject: "ops", Role: "DatastoreAdmin"},
		{Path: "/datastore/s1", Type: acl.Token, Subject: "alice@pbs!ci", Role: "DatastoreBackup", Propagate: true},
	}
	rows := StateACLs(entries)
	require.Len(t, rows, 3)
	assert.Equal(t, StateACL{Path: "/datastore", Type: "group", Subject: "ops", Role: "DatastoreAdmin"}, rows[1])
	for i, row := range rows {
		e, ok := row.Entry()
		require.True(t, ok)
		assert.Equal(t, entries[i], e)
	}
	_, ok := StateACL{Path: "/", Type: "pool", Subject: "x", Role: "Audit"}.Entry()
	assert.False(t, ok)
}
