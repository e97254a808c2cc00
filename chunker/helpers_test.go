package chunker

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// sharedDir finds ../shared beside the module root (the directory holding
// go.mod), wherever the checkout lives.
func sharedDir(t testing.TB) string {
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
			return shared
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test directory")
		dir = parent
	}
}

// xorshift is the vectors' PRNG (xorshift64*, little-endian output), see
// ../shared/vectors/chunker/README.md.
type xorshift struct{ x uint64 }

func (r *xorshift) next() uint64 {
	r.x ^= r.x >> 12
	r.x ^= r.x << 25
	r.x ^= r.x >> 27
	return r.x * 0x2545F4914F6CDD1D
}

// prngBytes returns the first length bytes of the stream for seed.
func prngBytes(seed uint64, length int) []byte {
	r := xorshift{x: seed}
	out := make([]byte, length+7)
	for i := 0; i < length; i += 8 {
		binary.LittleEndian.PutUint64(out[i:], r.next())
	}
	return out[:length:length]
}

// cutsOf feeds data to scan in pieces whose sizes come from pieceSize and
// returns the offsets at which scan reported boundaries.
func cutsOf(scan func([]byte) int, data []byte, pieceSize func() int) []int {
	var cuts []int
	for off := 0; off < len(data); {
		end := min(off+max(pieceSize(), 1), len(data))
		piece := data[off:end]
		for {
			k := scan(piece)
			if k == 0 {
				break
			}
			cuts = append(cuts, end-len(piece)+k)
			piece = piece[k:]
		}
		off = end
	}
	return cuts
}

// whole feeds the input in one piece.
func whole() int { return math.MaxInt >> 1 } // room to add an offset

// chunkEnds turns boundaries into the end offsets of all chunks, the final
// remainder included.
func chunkEnds(cuts []int, length int) []int {
	ends := append([]int(nil), cuts...)
	if length > 0 && (len(ends) == 0 || ends[len(ends)-1] != length) {
		ends = append(ends, length)
	}
	return ends
}
