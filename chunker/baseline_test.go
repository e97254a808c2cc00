package chunker

import "math/bits"

// baseline follows the pseudocode of spec section 6.1 literally, one byte at
// a time. It is the reference the fast Scan is compared with in tests and
// the yardstick of BenchmarkScanBaseline.
type baseline struct {
	min, max        int
	mask, threshold uint32

	h      uint32
	w      [64]byte
	filled int
	n      int
}

func newBaseline(avg int) *baseline {
	mask := uint32(2*avg - 1)
	return &baseline{min: avg / 4, max: avg * 4, mask: mask, threshold: mask - 2}
}

func (c *baseline) reset() { c.h, c.filled, c.n = 0, 0, 0 }

func (c *baseline) scan(p []byte) int {
	for i, b := range p {
		if c.filled < 64 {
			c.w[c.filled] = b
			c.filled++
			c.n++
			c.h = bits.RotateLeft32(c.h, 1) ^ buzhashTable[b]
			continue
		}
		slot := c.n % 64
		c.h = bits.RotateLeft32(c.h, 1) ^ buzhashTable[c.w[slot]] ^ buzhashTable[b]
		c.w[slot] = b
		c.n++
		if c.n >= c.max || (c.n >= c.min && c.h&c.mask >= c.threshold) {
			c.reset()
			return i + 1
		}
	}
	return 0
}
