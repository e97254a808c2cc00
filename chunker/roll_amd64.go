//go:build amd64 && !purego

package chunker

import (
	"math/bits"

	"github.com/proxkit/proxkit/internal/cpuid"
)

// haveVec says whether roll may use rollVecAsm: AVX-512 Foundation, Byte
// and Word, and VBMI (the byte permutes that do the table lookups), with
// the OS saving the ZMM and opmask state. It is set once, before any
// goroutine of the package runs.
var haveVec = hasVecFeatures(cpuid.DetectAVX512())

func hasVecFeatures(f cpuid.AVX512) bool { return f.F && f.BW && f.VBMI }

// vecTab holds rollVecAsm's constants; nil unless haveVec.
var vecTab = newVecTables()

// vecTables is what rollVecAsm reads besides the input. The assembly finds
// the fields through go_asm.h, so their order is free.
type vecTables struct {
	// planes[k][b] is byte k of buzhashTable[b]: with the table cut into
	// four byte planes, 64 lookups of one plane are two byte permutes over
	// 128-entry halves, instead of 64 scalar loads.
	planes [4][256]byte
	// perm reorders the 64 positions of a block before the lookups so that
	// the byte-plane transpose (which works within 128-bit lanes) leaves
	// position 4d+q in dword d of register q. Then XORing the four
	// registers in turn gives prefixes within groups of four positions, and
	// a single 16-lane prefix over the groups finishes the job.
	perm [vecBlock]byte
	// counts[q][d] rotates the term of position m = 4d+q, which is step
	// m+1 of the block, right by (m+1) mod 32 (see rollFiltered).
	counts [4][16]uint32
	// masks[q][d] is cutFilter rotated the same way: the prefilter on the
	// rotated hash f.
	masks [4][16]uint32
	// last selects dword 15 in every lane: the block's total.
	last [16]uint32
}

// newVecTables builds the tables from buzhashTable, so that the table is
// written down once; it returns nil when the vector path is off.
func newVecTables() *vecTables {
	if !haveVec {
		return nil
	}
	t := new(vecTables)
	for b, v := range buzhashTable {
		for k := range t.planes {
			t.planes[k][b] = byte(v >> (8 * k))
		}
	}
	// The transpose puts plane byte 16L+4q+e into dword 4L+e of register q;
	// position 16L+4e+q belongs there.
	for b := range t.perm {
		l, q, e := b/16, b/4%4, b%4
		t.perm[b] = byte(16*l + 4*e + q)
	}
	for q := range 4 {
		for d := range 16 {
			step := (4*d + q + 1) % 32
			t.counts[q][d] = uint32(step)
			t.masks[q][d] = bits.RotateLeft32(cutFilter, -step)
		}
	}
	for d := range t.last {
		t.last[d] = 15
	}
	return t
}

// rollVec advances g over whole blocks of vecBlock steps that hold no
// position passing the prefilter g&cutFilter == 0, stopping before the
// first block that holds one or when fewer than windowSize+vecBlock bytes
// are left. It returns the hash and the number of steps taken, a multiple
// of vecBlock; the blocks it skips cannot hold a boundary for any hi with
// hi&cutFilter == cutFilter.
func rollVec(g uint32, p []byte) (uint32, int) {
	return rollVecAsm(g, vecTab, p)
}

// rollVecAsm is rollVec with the tables passed in.
//
//go:noescape
func rollVecAsm(gIn uint32, t *vecTables, p []byte) (gOut uint32, steps int)
