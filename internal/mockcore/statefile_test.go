package mockcore

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStateFileRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	type st struct{ A int }
	var got st
	found, err := ReadStateFile(filepath.Join(dir, "s.json"), &got)
	require.NoError(t, err)
	assert.False(t, found, "a missing file is a fresh start")

	require.NoError(t, WriteStateFile(dir, "s.json", st{A: 7}))
	info, err := os.Stat(filepath.Join(dir, "s.json"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "state files hold secret hashes")
	found, err = ReadStateFile(filepath.Join(dir, "s.json"), &got)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, st{A: 7}, got)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{"), 0o600))
	_, err = ReadStateFile(filepath.Join(dir, "bad.json"), &got)
	assert.Error(t, err)
	assert.Error(t, WriteStateFile(dir, "x.json", func() {}), "unencodable values fail")
}
