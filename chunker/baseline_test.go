package chunker

import "math/bits"

// baseline follows the pseudocode of spec section 6.1 literally, one byte at
// a time: the reference the fast Scan is compared with in tests, and the
// yardstick of BenchmarkScanBaseline. It is the straightforward version a
// careful Go programmer writes first (state in locals while scanning, the
// window index as a mask), not a deliberately slow one, so that the ratio
// BenchmarkScan / BenchmarkScanBaseline measures what the skip-ahead and the
// unrolled loop buy.
type baseline struct {
	min, max        int
	mask, threshold uint32

	h      uint32
	w      [windowSize]byte
	filled int
	n      int
}

func newBaseline(avg int) *baseline {
	mask := uint32(2*avg - 1)
	return &baseline{min: avg / 4, max: avg * 4, mask: mask, threshold: mask - 2}
}

func (c *baseline) reset() { c.h, c.filled, c.n = 0, 0, 0 }

func (c *baseline) scan(p []byte) int {
	h, filled, n := c.h, c.filled, c.n
	w := &c.w
	for i, b := range p {
		if filled < windowSize {
			w[filled] = b
			filled++
			n++
			h = bits.RotateLeft32(h, 1) ^ buzhashTable[b]
			continue
		}
		slot := n & (windowSize - 1) // n mod 64
		h = bits.RotateLeft32(h, 1) ^ buzhashTable[w[slot]] ^ buzhashTable[b]
		w[slot] = b
		n++
		if n >= c.max || (n >= c.min && h&c.mask >= c.threshold) {
			c.reset()
			return i + 1
		}
	}
	c.h, c.filled, c.n = h, filled, n
	return 0
}
