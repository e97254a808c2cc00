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
// For the averages the client offers it runs rollVec where the CPU has it
// and rollFiltered; rollSteps is the byte-at-a-time loop behind them and
// for tiny test averages.
func roll(g, hi uint32, p []byte) (uint32, int, bool) {
	return rollWith(g, hi, p, haveVec)
}

// vecBlock is the number of steps rollVec takes per block.
const vecBlock = 64

// rollWith is roll with the vector path on or off, so that tests can check
// one against the other; vec needs haveVec. rollVec skips blocks without a
// prefilter hit, and rollFiltered takes the block that stopped it exactly,
// after which rollVec goes on.
func rollWith(g, hi uint32, p []byte, vec bool) (uint32, int, bool) {
	i := 0
	if hi&cutFilter == cutFilter {
		for {
			end, k, cut := len(p), 0, false
			if vec {
				g, k = rollVec(g, p[i:])
				i += k
				end = min(end, i+windowSize+vecBlock)
			}
			g, k, cut = rollFiltered(g, hi, p[i:end])
			if i += k; cut {
				return g, i, true
			}
			if end == len(p) {
				break
			}
		}
	}
	g, k, cut := rollSteps(g, hi, p[i:])
	return g, i + k, cut
}

// rollSteps is roll one byte at a time.
func rollSteps(g, hi uint32, p []byte) (uint32, int, bool) {
	t := &buzhashTable
	i := 0
	for ; i+windowSize < len(p); i++ {
		g = bits.RotateLeft32(g, 1) ^ (t[p[i]] ^ t[p[i+windowSize]])
		if g&hi == 0 && g&3 != 3 {
			return g, i + 1, true
		}
	}
	return g, i, false
}

// cutFilter is hi for the smallest average the client offers (64 KiB):
// bits 2..16. Every cut of an average of at least 64 KiB has these bits
// clear in g, so testing them alone lets through every boundary and, on
// random data, one position in 2^15 that is not.
const cutFilter = 0x1fffc

// rollBlock is the number of steps rollFiltered takes per round: a full
// turn of the 32-bit rotation.
const rollBlock = 32

// rollFiltered is roll for hi ⊇ cutFilter, 32 bytes per round, stopping at
// the end of a round or at the first boundary.
//
// The recurrence g' = rotl(g, 1) ^ x, x = T[out] ^ T[in], costs a rotation
// of g per byte and makes one long chain of dependent instructions. Within a
// round, it keeps f = rotr(g, j) after step j instead: then
// f' = f ^ rotr(x, j+1), the rotation by a constant applies to x, off the
// chain, and after 32 steps f equals g again. The cut test on g, g&hi == 0,
// is on f a test against rotr(hi, j). hi is not a constant, so
// rollFiltered tests f against rotr(cutFilter, j) instead, a constant
// (written out in hex), and when that passes, which is rare, replays the
// round one byte at a time with the exact test.
func rollFiltered(g, hi uint32, p []byte) (uint32, int, bool) {
	t := &buzhashTable
	i := 0
	for ; i+windowSize+rollBlock <= len(p); i += rollBlock {
		w := p[i : i+windowSize+rollBlock : i+windowSize+rollBlock]
		o, n := w[:rollBlock:rollBlock], w[windowSize:windowSize+rollBlock:windowSize+rollBlock]
		f := g
		if f ^= ror(t[o[0]]^t[n[0]], 1); f&0x0000fffe == 0 {
			goto exact
		}
		if f ^= ror(t[o[1]]^t[n[1]], 2); f&0x00007fff == 0 {
			goto exact
		}
		if f ^= ror(t[o[2]]^t[n[2]], 3); f&0x80003fff == 0 {
			goto exact
		}
		if f ^= ror(t[o[3]]^t[n[3]], 4); f&0xc0001fff == 0 {
			goto exact
		}
		if f ^= ror(t[o[4]]^t[n[4]], 5); f&0xe0000fff == 0 {
			goto exact
		}
		if f ^= ror(t[o[5]]^t[n[5]], 6); f&0xf00007ff == 0 {
			goto exact
		}
		if f ^= ror(t[o[6]]^t[n[6]], 7); f&0xf80003ff == 0 {
			goto exact
		}
		if f ^= ror(t[o[7]]^t[n[7]], 8); f&0xfc0001ff == 0 {
			goto exact
		}
		if f ^= ror(t[o[8]]^t[n[8]], 9); f&0xfe0000ff == 0 {
			goto exact
		}
		if f ^= ror(t[o[9]]^t[n[9]], 10); f&0xff00007f == 0 {
			goto exact
		}
		if f ^= ror(t[o[10]]^t[n[10]], 11); f&0xff80003f == 0 {
			goto exact
		}
		if f ^= ror(t[o[11]]^t[n[11]], 12); f&0xffc0001f == 0 {
			goto exact
		}
		if f ^= ror(t[o[12]]^t[n[12]], 13); f&0xffe0000f == 0 {
			goto exact
		}
		if f ^= ror(t[o[13]]^t[n[13]], 14); f&0xfff00007 == 0 {
			goto exact
		}
		if f ^= ror(t[o[14]]^t[n[14]], 15); f&0xfff80003 == 0 {
			goto exact
		}
		if f ^= ror(t[o[15]]^t[n[15]], 16); f&0xfffc0001 == 0 {
			goto exact
		}
		if f ^= ror(t[o[16]]^t[n[16]], 17); f&0xfffe0000 == 0 {
			goto exact
		}
		if f ^= ror(t[o[17]]^t[n[17]], 18); f&0x7fff0000 == 0 {
			goto exact
		}
		if f ^= ror(t[o[18]]^t[n[18]], 19); f&0x3fff8000 == 0 {
			goto exact
		}
		if f ^= ror(t[o[19]]^t[n[19]], 20); f&0x1fffc000 == 0 {
			goto exact
		}
		if f ^= ror(t[o[20]]^t[n[20]], 21); f&0x0fffe000 == 0 {
			goto exact
		}
		if f ^= ror(t[o[21]]^t[n[21]], 22); f&0x07fff000 == 0 {
			goto exact
		}
		if f ^= ror(t[o[22]]^t[n[22]], 23); f&0x03fff800 == 0 {
			goto exact
		}
		if f ^= ror(t[o[23]]^t[n[23]], 24); f&0x01fffc00 == 0 {
			goto exact
		}
		if f ^= ror(t[o[24]]^t[n[24]], 25); f&0x00fffe00 == 0 {
			goto exact
		}
		if f ^= ror(t[o[25]]^t[n[25]], 26); f&0x007fff00 == 0 {
			goto exact
		}
		if f ^= ror(t[o[26]]^t[n[26]], 27); f&0x003fff80 == 0 {
			goto exact
		}
		if f ^= ror(t[o[27]]^t[n[27]], 28); f&0x001fffc0 == 0 {
			goto exact
		}
		if f ^= ror(t[o[28]]^t[n[28]], 29); f&0x000fffe0 == 0 {
			goto exact
		}
		if f ^= ror(t[o[29]]^t[n[29]], 30); f&0x0007fff0 == 0 {
			goto exact
		}
		if f ^= ror(t[o[30]]^t[n[30]], 31); f&0x0003fff8 == 0 {
			goto exact
		}
		if f ^= ror(t[o[31]]^t[n[31]], 32); f&0x0001fffc == 0 {
			goto exact
		}
		g = f
		continue
	exact:
		// f stopped part way: the replay's hash is the round's.
		gj, k, cut := rollSteps(g, hi, w)
		if cut {
			return gj, i + k, true
		}
		g = gj
	}
	return g, i, false
}

// ror rotates x right by k bits; with a constant k it is one instruction.
func ror(x uint32, k int) uint32 { return bits.RotateLeft32(x, -k) }
