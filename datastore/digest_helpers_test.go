package datastore

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// formatTestShared finds ../shared beside the module root (the directory
// holding go.mod), wherever the checkout lives, and joins elem to it.
func formatTestShared(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(dir, "..", "shared")
			// Stat, not Lstat (as require.DirExists does): ../shared may be a symlink.
			fi, err := os.Stat(shared)
			require.NoError(t, err, "the shared specification must sit beside the module root")
			require.True(t, fi.IsDir(), "%s is not a directory", shared)
			return filepath.Join(append([]string{shared}, elem...)...)
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test directory")
		dir = parent
	}
}

// formatTestPRNG returns the first length bytes of the xorshift64* stream
// for seed (../shared/vectors/chunker/README.md), which generated the
// inputs of the real datastore.
func formatTestPRNG(seed uint64, length int) []byte {
	x := seed
	out := make([]byte, length+7)
	for i := 0; i < length; i += 8 {
		x ^= x >> 12
		x ^= x << 25
		x ^= x >> 27
		binary.LittleEndian.PutUint64(out[i:], x*0x2545F4914F6CDD1D)
	}
	return out[:length:length]
}

func TestFormatTestPRNGCheckValues(t *testing.T) {
	// Check values from the vectors README.
	require.Equal(t, []byte{0x1d, 0xdd, 0x6c, 0x89, 0x4b, 0xce, 0xe4, 0x47, 0x1d, 0x65, 0x79, 0xe0, 0xa8, 0xa6, 0xcf, 0xab},
		formatTestPRNG(1, 16))
	require.Equal(t, []byte{0x3a, 0xba, 0xd9, 0x12, 0x97, 0x9c, 0xc9, 0x8f}, formatTestPRNG(2, 8))
}

// formatTestHex decodes a hex digest in tests.
func formatTestDigest(t testing.TB, s string) Digest {
	t.Helper()
	d, err := ParseDigest(s)
	require.NoError(t, err)
	return d
}
