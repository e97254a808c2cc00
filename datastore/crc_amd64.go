//go:build amd64 && !purego

package datastore

import "github.com/proxkit/proxkit/internal/cpuid"

// crcHasFold says whether the CPU and the OS support the vector loop: AVX-512
// Foundation and VPCLMULQDQ, with the OS saving the ZMM and opmask state
// (elsewhere, macOS included, hash/crc32 does the work).
var crcHasFold = crcCanFold(cpuid.DetectAVX512())

func crcCanFold(f cpuid.AVX512) bool { return f.F && f.VPCLMULQDQ }

// crcFold folds p (len a positive multiple of crcFoldBlock) into acc, with
// state, the CRC register before p, mixed into its first four bytes.
//
//go:noescape
func crcFold(state uint32, p []byte, acc *[64]byte)

// crcFoldCopy is crcFold that also stores p into dst (as long as p).
//
//go:noescape
func crcFoldCopy(state uint32, dst, p []byte, acc *[64]byte)
