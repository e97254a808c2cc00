//go:build amd64 && !purego

package datastore

import "runtime"

// crcHasFold says whether the CPU and the OS support the vector loop: AVX-512
// Foundation and VPCLMULQDQ, with the OS saving the ZMM and opmask state.
// macOS enables AVX-512 state lazily and does not report it here, so it
// keeps hash/crc32.
var crcHasFold = runtime.GOOS != "darwin" && crcCPUHasFold()

func crcCPUHasFold() bool {
	maxLeaf, _, _, _ := crcCPUID(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := crcCPUID(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	// XMM, YMM, opmask, upper ZMM0-15 and ZMM16-31 state enabled by the OS.
	const zmmState = 0xe6
	if xcr0, _ := crcXGETBV(); xcr0&zmmState != zmmState {
		return false
	}
	_, ebx7, ecx7, _ := crcCPUID(7, 0)
	const avx512f, vpclmulqdq = 1 << 16, 1 << 10
	return ebx7&avx512f != 0 && ecx7&vpclmulqdq != 0
}

// crcFold folds p (len a positive multiple of crcFoldBlock) into acc, with
// state, the CRC register before p, mixed into its first four bytes.
//
//go:noescape
func crcFold(state uint32, p []byte, acc *[64]byte)

// crcFoldCopy is crcFold that also stores p into dst (as long as p).
//
//go:noescape
func crcFoldCopy(state uint32, dst, p []byte, acc *[64]byte)

func crcCPUID(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func crcXGETBV() (eax, edx uint32)
