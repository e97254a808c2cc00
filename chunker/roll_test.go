package chunker

import (
	"fmt"
	"math/bits"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// windowHash returns the complemented hash of a full window, the g that
// roll keeps.
func windowHash(w []byte) uint32 {
	g := ^uint32(0)
	for _, b := range w[:windowSize] {
		g = bits.RotateLeft32(g, 1) ^ buzhashTable[b]
	}
	return g
}

// findWindow returns windowSize bytes whose complemented hash satisfies ok.
func findWindow(t *testing.T, seed uint64, ok func(g uint32) bool) []byte {
	t.Helper()
	r := xorshift{x: seed}
	w := make([]byte, windowSize)
	for range 1 << 24 {
		for i := range w {
			w[i] = byte(r.next())
		}
		if ok(windowHash(w)) {
			return w
		}
	}
	require.FailNow(t, "no window found")
	return nil
}

// TestRollFilteredEveryPosition places windows that end a chunk, that pass
// only the constant prefilter, and that pass all of hi but fail the low
// bits, at every position of several rounds of rollFiltered, and checks
// roll against the byte-at-a-time loop.
func TestRollFilteredEveryPosition(t *testing.T) {
	for _, avg := range []int{MinAvgSize, DefaultAvgSize} {
		c := newChunker(avg)
		require.Equal(t, uint32(cutFilter), c.hi&cutFilter, "avg %d must take the filtered path", avg)
		windows := map[string][]byte{
			"boundary": findWindow(t, uint64(avg), c.cutAt),
			"prefilter only": findWindow(t, uint64(avg)+1, func(g uint32) bool {
				return g&cutFilter == 0 && (g&c.hi != 0 || g&3 == 3)
			}),
		}
		if avg == MinAvgSize {
			windows["low bits"] = findWindow(t, 3, func(g uint32) bool { return g&c.hi == 0 && g&3 == 3 })
		}
		for name, w := range windows {
			t.Run(fmt.Sprintf("avg %d/%s", avg, name), func(t *testing.T) {
				const rounds = 4
				for end := windowSize + 1; end <= windowSize+rounds*rollBlock+3; end++ {
					data := prngBytes(uint64(end), windowSize+rounds*rollBlock+5)
					copy(data[end-windowSize:end], w)
					g0 := windowHash(data)
					wantG, wantK, wantCut := rollSteps(g0, c.hi, data)
					g, k, cut := roll(g0, c.hi, data)
					assert.Equal(t, [3]any{wantG, wantK, wantCut}, [3]any{g, k, cut}, "window ending at %d", end)
					if name == "boundary" {
						assert.True(t, cut, "window ending at %d", end)
						assert.LessOrEqual(t, k, end-windowSize, "window ending at %d", end)
					}
				}
			})
		}
	}
}
