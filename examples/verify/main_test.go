package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/examples/internal/exampletest"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

func seed(t *testing.T, srv *pbstest.Server, snap, archive string, data []byte) {
	t.Helper()
	s, err := datastore.ParseSnapshot(snap)
	require.NoError(t, err)
	exampletest.SeedStream(t, srv.DatastorePath, datastore.Namespace{}, s, srv.AdminToken.ID.String(), archive, data)
}

func TestVerifiesSnapshotsGroupsAndAll(t *testing.T) {
	srv := pbstest.NewServer(t)
	seed(t, srv, "host/web01/2026-11-22T10:00:00Z", "db.sql", []byte(strings.Repeat("a line of text\n", 10000)))
	seed(t, srv, "host/web01/2026-11-23T10:00:00Z", "db.sql", []byte(strings.Repeat("another line\n", 10000)))
	seed(t, srv, "ct/100/2026-11-22T11:00:00Z", "root", []byte("tiny"))
	env := exampletest.PBSEnv(t, srv)

	res := exampletest.RunApp(t, "verify", run, env, nil, "host/web01/2026-11-22T10:00:00Z")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "host/web01/2026-11-22T10:00:00Z ok\nverify OK: 1 ok, 0 failed\n", res.Stdout)

	res = exampletest.RunApp(t, "verify", run, env, nil, "host/web01")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "host/web01/2026-11-22T10:00:00Z ok (before)\nhost/web01/2026-11-23T10:00:00Z ok\nverify OK: 2 ok, 0 failed\n", res.Stdout)

	res = exampletest.RunApp(t, "verify", run, env, nil, "--reverify")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Contains(t, res.Stdout, "ct/100/2026-11-22T11:00:00Z ok\n")
	assert.NotContains(t, res.Stdout, "(before)", "--reverify checks everything again")
	assert.True(t, strings.HasSuffix(res.Stdout, "verify OK: 3 ok, 0 failed\n"), res.Stdout)
}

func TestVerifyFailsOnACorruptChunk(t *testing.T) {
	srv := pbstest.NewServer(t)
	seed(t, srv, "host/db/2026-11-22T10:00:00Z", "dump", []byte(strings.Repeat("some data ", 5000)))
	// Flip one byte of the only chunk, as a bad disk would.
	chunks, err := filepath.Glob(filepath.Join(srv.DatastorePath, ".chunks", "*", "*"))
	require.NoError(t, err)
	require.Len(t, chunks, 1)
	b, err := os.ReadFile(chunks[0])
	require.NoError(t, err)
	b[len(b)-1] ^= 0xff
	require.NoError(t, os.WriteFile(chunks[0], b, 0o644))

	res := exampletest.RunApp(t, "verify", run, exampletest.PBSEnv(t, srv), nil)
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, "host/db/2026-11-22T10:00:00Z failed\n", res.Stdout)
	assert.True(t, strings.HasPrefix(res.Stderr, "verify: verification failed: 0 ok, 1 failed (task UPID:"), res.Stderr)
	assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)
}

func TestVerifyUsage(t *testing.T) {
	for _, args := range [][]string{{"host"}, {"host/x/yesterday"}, {"--ns", "a//b"}, {"a/b", "c/d"}} {
		res := exampletest.RunApp(t, "verify", run, nil, nil, args...)
		assert.Equal(t, 2, res.Code, "%v: %s", args, res.Stderr)
	}
}
