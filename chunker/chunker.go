package chunker

import "math/bits"

// windowSize is the length of the rolling hash window in bytes.
const windowSize = 64

// Chunker finds chunk boundaries exactly where proxmox-backup-client finds
// them. It holds the state of one input stream between calls to Scan; it is
// not safe for concurrent use.
type Chunker struct {
	min, max int
	// hi is the cut mask without its two lowest bits: a cut needs every bit
	// of hi set in the hash (see cutAt).
	hi uint32

	// n counts the bytes of the current chunk consumed so far.
	n int
	// g is the bitwise complement of the rolling hash. The complement obeys
	// the same recurrence as the hash and turns the cut test into
	// "g&hi == 0", which needs no comparison against a constant.
	g uint32
	// window holds the chunk's most recent bytes, byte at chunk offset o in
	// window[o%windowSize]. It is read only for the first windowSize bytes of
	// a Scan call, whose leaving bytes came in an earlier call.
	window [windowSize]byte
}

// New returns a chunker for an average chunk size of avgSize bytes. avgSize
// must be a power of two from MinAvgSize (64 KiB) to MaxAvgSize (4 MiB),
// the range proxmox-backup-client accepts; otherwise the error is a
// *SizeError. Chunks are at least avgSize/4 and at most avgSize*4 bytes long,
// except that the last chunk of a stream may be shorter.
func New(avgSize int) (*Chunker, error) {
	if err := checkAvgSize(avgSize); err != nil {
		return nil, err
	}
	return newChunker(avgSize), nil
}

// newChunker skips the range check, for tests and for vectors made with
// averages the client does not offer. avg must be a power of two of at
// least 2. The reference tests no byte while its window fills, so with tiny
// averages the first possible boundary is after windowSize+1 bytes.
func newChunker(avg int) *Chunker {
	c := &Chunker{
		min: max(avg/4, windowSize+1),
		max: max(avg*4, windowSize+1),
		hi:  uint32(2*avg-1) &^ 3,
	}
	c.Reset()
	return c
}

// Reset forgets the current chunk, so that the next Scan starts a new stream.
func (c *Chunker) Reset() {
	c.n = 0
	c.g = ^uint32(0)
}

// cutAt reports whether the (complemented) hash g marks a boundary. The
// reference test (h & mask) >= mask-2 holds for mask-2, mask-1 and mask:
// bits 2..log2(2*avg)-1 all set and the two lowest bits not both clear.
func (c *Chunker) cutAt(g uint32) bool {
	return g&c.hi == 0 && g&3 != 3
}

// Scan consumes p and returns the length of the prefix of p that ends the
// current chunk, or 0 if the chunk goes on past p. After a boundary the
// chunker starts a new chunk: feed it p[k:] (k being the returned value)
// before any further input. The boundaries do not depend on how the input is
// split into calls.
func (c *Chunker) Scan(p []byte) int {
	n, i := c.n, 0

	// No boundary can fall before min, and the hash at min depends only on
	// the window of bytes [min-windowSize, min): skip everything before it.
	if skipTo := c.min - windowSize; n < skipTo {
		if skipTo-n >= len(p) {
			c.n = n + len(p)
			return 0
		}
		i, n = skipTo-n, skipTo
	}

	g := c.g
	if n < c.min {
		// Fill the window; g started as ^0, the complement of an empty hash.
		for ; n < c.min; n, i = n+1, i+1 {
			if i == len(p) {
				c.n, c.g = n, g
				return 0
			}
			b := p[i]
			g = bits.RotateLeft32(g, 1) ^ buzhashTable[b]
			c.window[n&(windowSize-1)] = b
		}
		if c.cutAt(g) {
			c.Reset()
			return i
		}
	}

	// Roll: from here on every consumed byte is tested. The byte making the
	// chunk max long is a boundary whatever the hash says.
	end := len(p)
	if left := c.max - n; left < end-i {
		end = i + left
	}

	// While the leaving byte lies before p, it is in the window.
	for ; i < windowSize && i < end; n, i = n+1, i+1 {
		b := p[i]
		slot := n & (windowSize - 1)
		g = bits.RotateLeft32(g, 1) ^ buzhashTable[c.window[slot]] ^ buzhashTable[b]
		c.window[slot] = b
		if c.cutAt(g) {
			c.Reset()
			return i + 1
		}
	}

	if i < end {
		var k int
		var cut bool
		g, k, cut = roll(g, c.hi, p[i-windowSize:end])
		n, i = n+k, i+k
		if cut {
			c.Reset()
			return i
		}
		// The fast loop did not update the window: keep it for the next call.
		base := n - i
		for j := i - windowSize; j < i; j++ {
			c.window[(base+j)&(windowSize-1)] = p[j]
		}
	}

	if n == c.max {
		c.Reset()
		return i
	}
	c.n, c.g = n, g
	return 0
}

// roll advances the complemented hash g by one step per byte of
// p[windowSize:], the byte leaving the window being the one windowSize
// earlier, up to and including the first boundary. It returns the hash, the
// number of steps taken and whether the last of them ends a chunk.
//
// The plain recurrence g' = rotl(g) ^ T[out] ^ T[in] is one long chain of
// dependent instructions. Unrolled over four bytes, the terms that do not
// involve g are combined first (e1..e4), so each step of the chain is only
// g4 = rotl(g, 4) ^ e4 and the processor overlaps the rest.
func roll(g, hi uint32, p []byte) (uint32, int, bool) {
	t := &buzhashTable
	i := 0
	for ; i+windowSize+4 <= len(p); i += 4 {
		w := p[i : i+windowSize+4 : i+windowSize+4]
		e1 := t[w[0]] ^ t[w[windowSize]]
		e2 := bits.RotateLeft32(e1, 1) ^ (t[w[1]] ^ t[w[windowSize+1]])
		e3 := bits.RotateLeft32(e2, 1) ^ (t[w[2]] ^ t[w[windowSize+2]])
		e4 := bits.RotateLeft32(e3, 1) ^ (t[w[3]] ^ t[w[windowSize+3]])
		g1 := bits.RotateLeft32(g, 1) ^ e1
		g2 := bits.RotateLeft32(g, 2) ^ e2
		g3 := bits.RotateLeft32(g, 3) ^ e3
		g4 := bits.RotateLeft32(g, 4) ^ e4
		if g1&hi == 0 || g2&hi == 0 || g3&hi == 0 || g4&hi == 0 {
			// Rare: a boundary unless the two lowest bits say otherwise.
			for j, gj := range [4]uint32{g1, g2, g3, g4} {
				if gj&hi == 0 && gj&3 != 3 {
					return gj, i + j + 1, true
				}
			}
		}
		g = g4
	}
	for ; i+windowSize < len(p); i++ {
		g = bits.RotateLeft32(g, 1) ^ (t[p[i]] ^ t[p[i+windowSize]])
		if g&hi == 0 && g&3 != 3 {
			return g, i + 1, true
		}
	}
	return g, i, false
}
