package main

import (
	"bytes"
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

func TestMain(m *testing.M) { exampletest.Main(m) }

// The acceptance test: a backup made by the backup-stream binary
// into the mockserver binary is restored byte-identical by the restore
// binary, all three driven like a script drives them.
func TestBinariesBackupStreamIntoMockserverRestoredIdentical(t *testing.T) {
	exampletest.Prebuild(t, "mockserver", "backup-stream", "restore", "backup-image")
	mock := exampletest.StartMock(t, "-product", "pbs", "-listen", "127.0.0.1:0", "-state", t.TempDir())
	env := mock.PBSEnv()
	dir := t.TempDir()
	input := filepath.Join(dir, "dump.sql")
	data := append(exampletest.RandomData(5<<20, 7), bytes.Repeat([]byte("INSERT INTO t VALUES (1);\n"), 100000)...)
	require.NoError(t, os.WriteFile(input, data, 0o644))

	backup := exampletest.Build(t, "backup-stream")
	res := exampletest.Run(t, backup, env, nil, "--backup-id", "db01", "db.sql", input)
	require.Equal(t, 0, res.Code, res.Stderr)
	snap := res.LastLine()
	assert.Regexp(t, `^host/db01/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, snap)
	assert.NotContains(t, res.Stdout+res.Stderr, mock.Secret)

	restore := exampletest.Build(t, "restore")
	out := filepath.Join(dir, "restored.sql")
	res = exampletest.Run(t, restore, env, nil, snap, "db.sql", out)
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.True(t, strings.HasPrefix(res.Stdout, "restored db.sql of "+snap+": "), res.Stdout)
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got), "restored data differs")

	// To stdout, the archive named with its suffix, from stdin's backup.
	res = exampletest.Run(t, restore, env, nil, snap, "db.sql.didx")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.True(t, bytes.Equal(data, []byte(res.Stdout)), "restored data on stdout differs")
	assert.True(t, strings.HasPrefix(res.Stderr, "restored db.sql.didx of "+snap), res.Stderr)

	// A wrong secret: one line, exit 1, no secret shown.
	bad := append(append([]string{}, env...), "PBS_PASSWORD=not-the-secret")
	res = exampletest.Run(t, restore, bad, nil, snap, "db.sql", filepath.Join(dir, "never"))
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)
	assert.NoFileExists(t, filepath.Join(dir, "never"))

	assert.Equal(t, 0, mock.Stop(t))
}

func TestImageRoundTripWithZeros(t *testing.T) {
	mock := exampletest.StartMock(t, "-product", "pbs")
	env := mock.PBSEnv()
	dir := t.TempDir()
	// 4 MiB of zeros, 4 MiB of data, and a short tail: the fixed layout.
	img := append(make([]byte, 4<<20), exampletest.RandomData(4<<20+12345, 3)...)
	input := filepath.Join(dir, "disk.raw")
	require.NoError(t, os.WriteFile(input, img, 0o644))

	res := exampletest.Run(t, exampletest.Build(t, "backup-image"), env, nil, "--backup-type", "vm", "--backup-id", "100", "--backup-time", "2026-11-22T10:00:00Z", "drive-scsi0.img", input)
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "vm/100/2026-11-22T10:00:00Z", res.LastLine())
	assert.Contains(t, res.Stdout, "drive-scsi0.img.fidx: 8.01 MiB in 3 chunks")

	out := filepath.Join(dir, "restored.raw")
	res = exampletest.Run(t, exampletest.Build(t, "restore"), env, nil, "vm/100/2026-11-22T10:00:00Z", "drive-scsi0.img", out)
	require.Equal(t, 0, res.Code, res.Stderr)
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(img, got), "restored image differs")
}

func TestRestoreOfACorruptChunkFailsAndLeavesNoFile(t *testing.T) {
	srv := pbstest.NewServer(t)
	snap, err := datastore.ParseSnapshot("host/db/2026-11-22T10:00:00Z")
	require.NoError(t, err)
	exampletest.SeedStream(t, srv.DatastorePath, datastore.Namespace{}, snap, srv.AdminToken.ID.String(), "dump", exampletest.RandomData(3<<20, 9))
	chunks, err := filepath.Glob(filepath.Join(srv.DatastorePath, ".chunks", "*", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, chunks)
	b, err := os.ReadFile(chunks[0])
	require.NoError(t, err)
	b[len(b)/2] ^= 0x01
	require.NoError(t, os.WriteFile(chunks[0], b, 0o644))

	out := filepath.Join(t.TempDir(), "dump")
	res := exampletest.RunApp(t, "restore", run, exampletest.PBSEnv(t, srv), nil, snap.String(), "dump", out)
	assert.Equal(t, 1, res.Code)
	assert.Empty(t, res.Stdout)
	assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)
	assert.Contains(t, res.Stderr, "dump.didx")
	assert.Contains(t, res.Stderr, filepath.Base(chunks[0]), "the error names the chunk")
	entries, err := os.ReadDir(filepath.Dir(out))
	require.NoError(t, err)
	assert.Empty(t, entries, "neither the file nor a partial one is left")
}

func TestRestoreErrors(t *testing.T) {
	srv := pbstest.NewServer(t)
	env := exampletest.PBSEnv(t, srv)
	res := exampletest.RunApp(t, "restore", run, env, nil, "host/none/2026-11-22T10:00:00Z", "x")
	assert.Equal(t, 1, res.Code)
	assert.Equal(t, 1, strings.Count(res.Stderr, "\n"), res.Stderr)
	for _, args := range [][]string{{"host/x"}, {"host/x", "a"}, {"host/x/2026-11-22T10:00:00Z", "a", "b", "c"}, {"--ns", "/", "host/x/2026-11-22T10:00:00Z", "a"}} {
		res := exampletest.RunApp(t, "restore", run, env, nil, args...)
		assert.Equal(t, 2, res.Code, "%v: %s", args, res.Stderr)
	}
}
