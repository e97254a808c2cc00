package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/examples/internal/exampletest"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

func seeded(t *testing.T) (*pbstest.Server, map[string]string) {
	t.Helper()
	srv := pbstest.NewServer(t)
	owner := srv.AdminToken.ID.String()
	at := func(s string) datastore.Snapshot {
		snap, err := datastore.ParseSnapshot(s)
		require.NoError(t, err)
		return snap
	}
	root := datastore.Namespace{}
	exampletest.SeedStream(t, srv.DatastorePath, root, at("host/web01/2026-11-22T10:00:00Z"), owner, "db.sql", []byte(strings.Repeat("row\n", 5000)))
	exampletest.SeedStream(t, srv.DatastorePath, root, at("host/web01/2026-11-23T10:00:00Z"), owner, "db.sql", []byte(strings.Repeat("row\n", 6000)))
	exampletest.SeedStream(t, srv.DatastorePath, root, at("ct/100/2026-11-22T11:00:00Z"), owner, "root", []byte("x"))
	return srv, exampletest.PBSEnv(t, srv)
}

func TestListsSnapshots(t *testing.T) {
	_, env := seeded(t)
	res := exampletest.RunApp(t, "snapshots", run, env, nil)
	require.Equal(t, 0, res.Code, res.Stderr)
	lines := strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n")
	require.Len(t, lines, 4, res.Stdout)
	assert.Equal(t, "3 snapshots", lines[3])
	all := strings.Join(lines, "\n")
	for _, s := range []string{"host/web01/2026-11-22T10:00:00Z", "host/web01/2026-11-23T10:00:00Z", "ct/100/2026-11-22T11:00:00Z"} {
		assert.Contains(t, all, s)
	}
	assert.Regexp(t, `host/web01/2026-11-22T10:00:00Z\s+\d+\.\d\d KiB\s+unverified\s+db\.sql\.didx index\.json\.blob`, all)

	res = exampletest.RunApp(t, "snapshots", run, env, nil, "host/web01")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.NotContains(t, res.Stdout, "ct/100")
	assert.True(t, strings.HasSuffix(res.Stdout, "\n2 snapshots\n"), res.Stdout)
}

func TestListsSnapshotsAsJSON(t *testing.T) {
	_, env := seeded(t)
	res := exampletest.RunApp(t, "snapshots", run, env, nil, "--output-format", "json", "host/web01")
	require.Equal(t, 0, res.Code, res.Stderr)
	var got []snapshotJSON
	require.NoError(t, json.Unmarshal([]byte(res.Stdout), &got))
	require.Len(t, got, 2)
	assert.Equal(t, "host/web01/2026-11-22T10:00:00Z", got[0].Snapshot, "oldest first")
	require.NotNil(t, got[0].Size)
	assert.GreaterOrEqual(t, *got[0].Size, uint64(20000))
	assert.Equal(t, "root@pam!admin", got[0].Owner)
	assert.Equal(t, []string{"db.sql.didx", "index.json.blob"}, got[0].Files)
}

func TestSnapshotsFromFlagsAndErrors(t *testing.T) {
	srv, env := seeded(t)
	// Flags instead of variables; the secret still from the environment.
	res := exampletest.RunApp(t, "snapshots", run, map[string]string{auth.EnvPBSPassword: env[auth.EnvPBSPassword]}, nil,
		"--repository", env[auth.EnvPBSRepository], "--fingerprint", env[auth.EnvPBSFingerprint], "ct/100")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.True(t, strings.HasSuffix(res.Stdout, "\n1 snapshot\n"), res.Stdout)

	bad := map[string]string{}
	for k, v := range env {
		bad[k] = v
	}
	bad[auth.EnvPBSFingerprint] = strings.Repeat("11:", 31) + "11"
	res = exampletest.RunApp(t, "snapshots", run, bad, nil)
	assert.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, "fingerprint mismatch")
	assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)

	bad[auth.EnvPBSFingerprint] = env[auth.EnvPBSFingerprint]
	bad[auth.EnvPBSPassword] = "wrong-secret"
	res = exampletest.RunApp(t, "snapshots", run, bad, nil)
	assert.Equal(t, 1, res.Code)
	assert.Contains(t, res.Stderr, "401")
	assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)
	assert.NotContains(t, res.Stderr, srv.AdminToken.Secret.Reveal())

	res = exampletest.RunApp(t, "snapshots", run, env, nil, "not-a-group")
	assert.Equal(t, 2, res.Code)
	res = exampletest.RunApp(t, "snapshots", run, env, nil, "--ns", "missing")
	assert.Equal(t, 1, res.Code, res.Stdout)
}
