package datastore

import (
	"encoding/binary"
	"hash/crc32"
)

// The blob CRC is CRC-32/IEEE (crc32.ChecksumIEEE). On amd64 with AVX-512
// and VPCLMULQDQ, crc_amd64.s folds four 64-byte registers at a time:
// hash/crc32 folds one, so every step waits for the carry-less multiply
// before it; four independent chains keep the multiplier busy (about 2x
// on data in the core's cache). The copying variant stores what it loads,
// so an uncompressed blob's decode reads its data from memory once instead
// of twice. Elsewhere both fall back to hash/crc32.

// crcFoldBlock is what one step of the vector loop consumes; crcFoldMin is
// the shortest input worth it (below, set-up and the tail dominate).
const (
	crcFoldBlock = 256
	crcFoldMin   = 1024
)

// crcUpdate returns crc32.Update(crc, crc32.IEEETable, p).
func crcUpdate(crc uint32, p []byte) uint32 {
	if !crcHasFold || len(p) < crcFoldMin {
		return crc32.Update(crc, crc32.IEEETable, p)
	}
	n := len(p) &^ (crcFoldBlock - 1)
	var acc [64]byte
	crcFold(^crc, p[:n], &acc)
	return crcFinish(&acc, p[n:])
}

// crcCopy copies src into dst, which must be at least as long and must not
// overlap src, and returns crcUpdate(crc, src).
func crcCopy(crc uint32, dst, src []byte) uint32 {
	dst = dst[:len(src)]
	if !crcHasFold || len(src) < crcFoldMin {
		for len(src) > 0 { // a fused pass: the copy reads what the CRC just read
			n := min(blobSumPiece, len(src))
			crc = crc32.Update(crc, crc32.IEEETable, src[:n])
			copy(dst, src[:n])
			dst, src = dst[n:], src[n:]
		}
		return crc
	}
	n := len(src) &^ (crcFoldBlock - 1)
	var acc [64]byte
	crcFoldCopy(^crc, dst[:n], src[:n], &acc)
	copy(dst[n:], src[n:])
	return crcFinish(&acc, src[n:])
}

// crcFinish completes a CRC whose bulk the vector loop folded into acc. The
// fold keeps the invariant that acc, run through the CRC register starting
// from zero, leaves the register as the folded data did (the starting
// register was mixed into the first bytes); so the result is the CRC of
// acc followed by the rest, with the register starting at zero. acc goes
// through a slicing-by-8 table loop here rather than through hash/crc32,
// which would need acc and rest in one buffer and so a heap allocation
// per call; crc32.Update takes the rest (it inverts on entry and exit,
// hence ^r).
func crcFinish(acc *[64]byte, rest []byte) uint32 {
	t := &crcSlicing8
	var r uint32
	for i := 0; i < len(acc); i += 8 {
		r ^= binary.LittleEndian.Uint32(acc[i:])
		r = t[7][byte(r)] ^ t[6][byte(r>>8)] ^ t[5][byte(r>>16)] ^ t[4][r>>24] ^
			t[3][acc[i+4]] ^ t[2][acc[i+5]] ^ t[1][acc[i+6]] ^ t[0][acc[i+7]]
	}
	return crc32.Update(^r, crc32.IEEETable, rest)
}

// crcSlicing8 holds the tables of a slicing-by-8 CRC-32/IEEE: row k maps
// a byte to the register after that byte and k zero bytes. Read-only
// after package initialisation, and left zero where there is no vector
// loop, as only crcFinish reads it.
var crcSlicing8 = func() (t [8][256]uint32) {
	if !crcHasFold {
		return t
	}
	t[0] = *crc32.IEEETable
	for i := range 256 {
		c := t[0][i]
		for k := 1; k < 8; k++ {
			c = t[0][byte(c)] ^ c>>8
			t[k][i] = c
		}
	}
	return t
}()
