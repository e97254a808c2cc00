package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/examples/internal/exampletest"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

var summaryRE = regexp.MustCompile(`^db\.sql\.didx: \d+\.\d\d MiB in (\d+) chunks \((\d+) new, (\d+) reused\), .* uploaded in .*$`)

func TestBacksUpStdinAndReusesChunks(t *testing.T) {
	srv := pbstest.NewServer(t)
	env := exampletest.PBSEnv(t, srv)
	data := exampletest.RandomData(6<<20, 1)

	res := exampletest.RunApp(t, "backup-stream", run, env, bytes.NewReader(data), "--backup-id", "web01", "--backup-time", "2026-11-22T10:00:00Z", "db.sql")
	require.Equal(t, 0, res.Code, res.Stderr)
	lines := strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n")
	require.Len(t, lines, 2, res.Stdout)
	assert.Equal(t, "host/web01/2026-11-22T10:00:00Z", res.LastLine())
	m := summaryRE.FindStringSubmatch(lines[0])
	require.NotNil(t, m, lines[0])
	assert.Equal(t, "0", m[3], "nothing to reuse on the first run")

	st, err := datastore.Open(srv.DatastorePath)
	require.NoError(t, err)
	snap, err := datastore.ParseSnapshot(res.LastLine())
	require.NoError(t, err)
	man, _, err := st.ReadManifest(datastore.Namespace{}, snap)
	require.NoError(t, err)
	f, ok := man.File("db.sql.didx")
	require.True(t, ok)
	assert.Equal(t, uint64(len(data)), f.Size)

	// Same data again, "-" for stdin, the archive named with its suffix:
	// every chunk is reused.
	res = exampletest.RunApp(t, "backup-stream", run, env, bytes.NewReader(data), "--backup-id", "web01", "--backup-time", "1795860000", "db.sql.didx", "-")
	require.Equal(t, 0, res.Code, res.Stderr)
	m = summaryRE.FindStringSubmatch(strings.Split(res.Stdout, "\n")[0])
	require.NotNil(t, m, res.Stdout)
	assert.Equal(t, "0", m[2], "no new chunks")
	assert.Equal(t, m[1], m[3])
	assert.Equal(t, "host/web01/2026-11-28T10:00:00Z", res.LastLine())
}

func TestBackupFailuresLeaveNothing(t *testing.T) {
	srv := pbstest.NewServer(t)
	env := exampletest.PBSEnv(t, srv)

	res := exampletest.RunApp(t, "backup-stream", run, env, strings.NewReader(""), "--backup-id", "web01", "empty")
	assert.Equal(t, 1, res.Code)
	assert.Empty(t, res.Stdout)
	assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)

	res = exampletest.RunApp(t, "backup-stream", run, env, nil, "--backup-id", "web01", "x", "/does/not/exist")
	assert.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, "no such file")

	res = exampletest.RunApp(t, "backup-stream", run, env, strings.NewReader("x"), "--ns", "missing", "--backup-id", "web01", "x")
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)

	st, err := datastore.Open(srv.DatastorePath)
	require.NoError(t, err)
	snaps, err := st.ListSnapshots(t.Context(), datastore.Namespace{}, "", "")
	require.NoError(t, err)
	assert.Empty(t, snaps)

	for _, args := range [][]string{{}, {"a", "b", "c"}, {"--backup-type", "pc", "x"}, {"--backup-id", "a/b", "x"}, {"--backup-time", "noon", "x"}} {
		res := exampletest.RunApp(t, "backup-stream", run, env, nil, args...)
		assert.Equal(t, 2, res.Code, "%v: %s", args, res.Stderr)
	}
}

func TestBackupSurvivesFaultsByRetrying(t *testing.T) {
	data := exampletest.RandomData(12<<20, 5)
	for _, fault := range []pbstest.Fault{
		pbstest.DropAfterChunks(2),
		pbstest.FailPath("/dynamic_chunk", 3, 500),
		pbstest.FailPath("/dynamic_close", 1, 400),
		pbstest.FailPath("/finish", 1, 500),
	} {
		t.Run(fault.String(), func(t *testing.T) {
			srv := pbstest.NewServer(t, pbstest.WithFaults(fault))
			env := exampletest.PBSEnv(t, srv)
			args := []string{"--backup-id", "web01", "--backup-time", "2026-11-22T10:00:00Z", "db.sql"}

			res := exampletest.RunApp(t, "backup-stream", run, env, bytes.NewReader(data), args...)
			assert.Equal(t, 1, res.Code, res.Stdout)
			assert.Empty(t, res.Stdout, "no snapshot line for a failed backup")
			assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)

			st, err := datastore.Open(srv.DatastorePath)
			require.NoError(t, err)
			snaps, err := st.ListSnapshots(t.Context(), datastore.Namespace{}, "", "")
			require.NoError(t, err)
			assert.Empty(t, snaps, "nothing partial is visible")

			// The same command again (the fault has fired) succeeds. The
			// server notices the broken session only when its connection
			// ends, and until it has cleaned up it still holds the group's
			// lock, as a real PBS does: a script retries after a moment.
			for attempt := 1; ; attempt++ {
				res = exampletest.RunApp(t, "backup-stream", run, env, bytes.NewReader(data), args...)
				if res.Code == 0 || attempt == 50 || !strings.Contains(res.Stderr, "another backup is already running") {
					t.Logf("retry succeeded at attempt %d", attempt)
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			require.Equal(t, 0, res.Code, res.Stderr)
			assert.Equal(t, "host/web01/2026-11-22T10:00:00Z", res.LastLine())
		})
	}
}
