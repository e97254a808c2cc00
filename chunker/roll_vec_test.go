package chunker

import (
	"fmt"
	"math/bits"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vecTestHis are cut masks that take the vector path: those of the smallest,
// a middle and the largest average, and one with far bits set that no
// average has, since rollVec must be exact for any hi ⊇ cutFilter.
var vecTestHis = []uint32{
	newChunker(MinAvgSize).hi,
	newChunker(1 << 20).hi,
	newChunker(DefaultAvgSize).hi,
	cutFilter | 0xf0000000,
}

// vecTestLengths are the input lengths tried: every length up to a few
// blocks (so below, at and past the 128 bytes a block needs), lengths
// around block multiples further on, and inputs holding a few prefilter hits.
func vecTestLengths() []int {
	var ls []int
	for n := 0; n <= windowSize+4*vecBlock+2; n++ {
		ls = append(ls, n)
	}
	for b := 6; b <= 40; b += 3 {
		n := windowSize + b*vecBlock
		ls = append(ls, n-1, n, n+1, n+rollBlock, n+vecBlock-1)
	}
	return append(ls, 5000, 70000, 1<<18+37)
}

// checkRollVector compares roll with and without the vector path against
// the byte-at-a-time loop: hash, steps and cut must all agree. Where the
// vector path exists it also checks rollVec against its model: roll would
// stay exact if rollVec stopped too early, only slower, so comparing roll
// alone would not notice.
func checkRollVector(t *testing.T, g, hi uint32, p []byte, what string) bool {
	t.Helper()
	wantG, wantK, wantCut := rollSteps(g, hi, p)
	want := [3]any{wantG, wantK, wantCut}
	goG, goK, goCut := rollWith(g, hi, p, false)
	vecG, vecK, vecCut := rollWith(g, hi, p, haveVec)
	ok := assert.Equal(t, want, [3]any{goG, goK, goCut}, "Go path, %s", what)
	ok = assert.Equal(t, want, [3]any{vecG, vecK, vecCut}, "vector path, %s", what) && ok
	if haveVec {
		modelG, modelK := rollVecModel(g, p)
		gotG, gotK := rollVec(g, p)
		ok = assert.Equal(t, [2]any{modelG, modelK}, [2]any{gotG, gotK}, "rollVec, %s", what) && ok
	}
	return ok
}

// rollVecModel is what rollVec must do, in plain Go: whole blocks, each
// taken only if none of its steps passes the prefilter.
func rollVecModel(g uint32, p []byte) (uint32, int) {
	i := 0
	for ; i+windowSize+vecBlock <= len(p); i += vecBlock {
		h, hit := g, false
		for j := i; j < i+vecBlock; j++ {
			h = bits.RotateLeft32(h, 1) ^ buzhashTable[p[j]] ^ buzhashTable[p[j+windowSize]]
			hit = hit || h&cutFilter == 0
		}
		if hit {
			break
		}
		g = h
	}
	return g, i
}

// gReaching returns the starting hash that makes the hash after step j
// (1-based) of rolling p equal want. The recurrence is linear: from g0 the
// hash after j steps is rotl(g0, j) ^ (the hash after j steps from 0).
func gReaching(p []byte, j int, want uint32) uint32 {
	var h uint32
	for i := range j {
		h = bits.RotateLeft32(h, 1) ^ buzhashTable[p[i]] ^ buzhashTable[p[i+windowSize]]
	}
	return bits.RotateLeft32(want^h, -j)
}

// candidateKinds are hashes to plant at a step, derived from a random r: a
// boundary for hi, a prefilter hit that is no boundary because of the two
// low bits, and (for hi wider than cutFilter) one that fails only hi's top
// bit.
func candidateKinds(hi, r uint32) map[string]uint32 {
	kinds := map[string]uint32{
		"boundary":       r &^ hi &^ 1,
		"prefilter only": r&^cutFilter | 3,
	}
	if hi != cutFilter {
		top := uint32(1) << (31 - bits.LeadingZeros32(hi))
		kinds["fails top bit of hi"] = r&^cutFilter&^1 | top
	}
	return kinds
}

// TestRollVectorRandom: on random data and random starting hashes, for all
// the lengths, roll gives the same hash, steps and cut with the vector path
// as without.
func TestRollVectorRandom(t *testing.T) {
	t.Logf("vector path available: %v", haveVec)
	r := xorshift{x: 99}
	for _, hi := range vecTestHis {
		require.Equal(t, uint32(cutFilter), hi&cutFilter, "hi %#x must take the filtered path", hi)
		for _, n := range vecTestLengths() {
			p := prngBytes(uint64(n)+uint64(hi), n)
			for _, g := range []uint32{0, ^uint32(0), uint32(r.next()), uint32(r.next())} {
				if !checkRollVector(t, g, hi, p, fmt.Sprintf("hi %#x, length %d, g %#x", hi, n, g)) {
					return
				}
			}
		}
	}
}

// TestRollVectorEveryPosition plants a boundary or a prefilter hit at every
// step of inputs of a few blocks, the first and last step of each block
// included, by choosing the starting hash that leads there.
func TestRollVectorEveryPosition(t *testing.T) {
	r := xorshift{x: 7}
	for _, hi := range vecTestHis {
		for _, n := range []int{windowSize + 4*vecBlock, windowSize + 4*vecBlock + 1, windowSize + 5*vecBlock - 1} {
			p := prngBytes(uint64(n)^uint64(hi), n)
			for j := 1; j <= n-windowSize; j++ {
				for kind, want := range candidateKinds(hi, uint32(r.next())) {
					g := gReaching(p, j, want)
					what := fmt.Sprintf("hi %#x, length %d, %s at step %d", hi, n, kind, j)
					if !checkRollVector(t, g, hi, p, what) {
						return
					}
				}
			}
		}
	}
}

// FuzzRollVector: for any bytes and starting hash, and with a boundary or
// prefilter hit planted at any step, roll with the vector path matches the
// Go path and the byte-at-a-time loop (see checkRollVector).
func FuzzRollVector(f *testing.F) {
	for i, n := range []int{0, 1, 127, 128, 129, 191, 192, 193, 320, 1000, 5000} {
		f.Add(prngBytes(uint64(n), n), uint32(i)*0x9e3779b9, uint16(n/2), uint8(i))
	}
	f.Add(make([]byte, 300), uint32(0), uint16(0), uint8(0))
	f.Add(make([]byte, 300), ^uint32(0), uint16(64), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, g uint32, at uint16, sel uint8) {
		hi := vecTestHis[int(sel)%len(vecTestHis)]
		mode := int(sel) / len(vecTestHis) % 3
		if mode > 0 && len(data) > windowSize {
			want := g&^cutFilter | 3 // a prefilter hit, no boundary
			if mode == 2 {
				want = g &^ hi &^ 1 // a boundary
			}
			g = gReaching(data, 1+int(at)%(len(data)-windowSize), want)
		}
		checkRollVector(t, g, hi, data, fmt.Sprintf("hi %#x, mode %d", hi, mode))
	})
}
