package chunker

import (
	"bytes"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testAvgs are the averages the properties are checked with: small ones
// (allowed only inside the package) give many chunks from little data.
var testAvgs = []int{512, 4096, MinAvgSize, 2, 64, 256}

// cutWindow returns windowSize bytes whose hash is a boundary for avg:
// repeated back to back, they make every chunk exactly min bytes long, the
// case where the first hash tested already cuts.
func cutWindow(avg int) []byte {
	c := newChunker(avg)
	r := xorshift{x: uint64(avg)}
	w := make([]byte, windowSize)
	for {
		g := ^uint32(0)
		for i := range w {
			w[i] = byte(r.next())
			g = bits.RotateLeft32(g, 1) ^ buzhashTable[w[i]]
		}
		if c.cutAt(g) {
			return w
		}
	}
}

// adversarialInputs are the inputs whose boundaries must match the
// reference: random data and the degenerate shapes a fast path could get
// wrong (constant bytes, short periods, periods around the window size,
// long constant runs inside random data, a cut at every min).
func adversarialInputs(avg, length int) map[string][]byte {
	random := prngBytes(uint64(avg)+1, length)
	runs := bytes.Clone(random)
	for off := length / 7; off+3*avg < length; off += length / 3 {
		clear(runs[off : off+3*avg])
	}
	repeat := func(block []byte) []byte {
		return bytes.Repeat(block, length/len(block)+1)[:length]
	}
	return map[string][]byte{
		"random":           random,
		"zeros":            make([]byte, length),
		"ones":             bytes.Repeat([]byte{0xff}, length),
		"period 3":         repeat(random[:3]),
		"period 64":        repeat(random[:64]),
		"period 65":        repeat(random[:65]),
		"period 1000":      repeat(random[:1000]),
		"zero runs":        runs,
		"cut at each min":  repeat(cutWindow(avg)),
		"shorter than min": random[:newChunker(avg).min-1],
	}
}

// feedPatterns split the input into buffers of these sizes.
func feedPatterns(seed uint64) map[string]func() int {
	rng := rand.New(rand.NewPCG(seed, 1))
	around := []int{windowSize - 1, windowSize, windowSize + 1}
	k := 0
	return map[string]func() int{
		"whole":              whole,
		"single bytes":       func() int { return 1 },
		"random up to 300":   func() int { return 1 + rng.IntN(300) },
		"random up to 200K":  func() int { return 1 + rng.IntN(200_000) },
		"around window size": func() int { k++; return around[k%3] },
	}
}

func inputLength(avg int) int { return min(max(128*avg, 64<<10), 2<<20) }

func TestScanMatchesReference(t *testing.T) {
	for _, avg := range testAvgs {
		for name, data := range adversarialInputs(avg, inputLength(avg)) {
			ref := newBaseline(avg)
			want := cutsOf(ref.scan, data, whole)
			for feed, size := range feedPatterns(uint64(avg)) {
				t.Run(fmt.Sprintf("avg %d/%s/%s", avg, name, feed), func(t *testing.T) {
					c := newChunker(avg)
					assert.Equal(t, want, cutsOf(c.Scan, data, size))
				})
			}
		}
	}
}

func TestChunkSizesWithinBounds(t *testing.T) {
	for _, avg := range testAvgs {
		for name, data := range adversarialInputs(avg, inputLength(avg)) {
			t.Run(fmt.Sprintf("avg %d/%s", avg, name), func(t *testing.T) {
				c := newChunker(avg)
				ends := chunkEnds(cutsOf(c.Scan, data, whole), len(data))
				require.NotEmpty(t, ends)
				start := 0
				for i, end := range ends {
					size := end - start
					if i < len(ends)-1 {
						assert.GreaterOrEqual(t, size, c.min, "chunk %d", i)
						assert.LessOrEqual(t, size, c.max, "chunk %d", i)
					} else {
						assert.Positive(t, size)
						assert.LessOrEqual(t, size, c.max)
					}
					start = end
				}
				assert.Equal(t, len(data), start, "chunks cover the input")
			})
		}
	}
}

// The edge cases the skip-ahead must get right really occur: chunks cut at
// the first byte tested (exactly min) and forced at max.
func TestEdgeCasesAreExercised(t *testing.T) {
	const avg = 512
	sizes := map[int]int{}
	for _, name := range []string{"random", "zeros", "cut at each min"} {
		data := adversarialInputs(avg, inputLength(avg))[name]
		ends := chunkEnds(cutsOf(newChunker(avg).Scan, data, whole), len(data))
		start := 0
		for _, end := range ends[:len(ends)-1] {
			sizes[end-start]++
			start = end
		}
	}
	assert.Positive(t, sizes[avg/4], "chunks of exactly min")
	assert.Positive(t, sizes[avg*4], "chunks of exactly max")
}

func TestResetStartsAfresh(t *testing.T) {
	data := prngBytes(9, 1<<20)
	c := newChunker(4096)
	want := cutsOf(c.Scan, data, whole)
	c.Scan(data[:12345]) // leave state mid-chunk
	c.Reset()
	assert.Equal(t, want, cutsOf(c.Scan, data, whole))
}

func TestScanEmpty(t *testing.T) {
	c, err := New(MinAvgSize)
	require.NoError(t, err)
	assert.Zero(t, c.Scan(nil))
	assert.Zero(t, c.Scan([]byte{}))
}
