package cpuid

import "runtime"

// DetectAVX512 reads the CPU's AVX-512 features. It costs a few CPUID
// instructions: callers keep the result.
func DetectAVX512() AVX512 {
	if runtime.GOOS == "darwin" {
		return AVX512{}
	}
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return AVX512{}
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return AVX512{}
	}
	// XMM, YMM, opmask, upper ZMM0-15 and ZMM16-31 state enabled by the OS.
	const zmmState = 0xe6
	if xcr0, _ := xgetbv(); xcr0&zmmState != zmmState {
		return AVX512{}
	}
	_, ebx7, ecx7, _ := cpuid(7, 0)
	return AVX512{
		F:          ebx7&(1<<16) != 0,
		BW:         ebx7&(1<<30) != 0,
		VBMI:       ecx7&(1<<1) != 0,
		VPCLMULQDQ: ecx7&(1<<10) != 0,
	}
}

// cpuid is the CPUID instruction, which Go has no intrinsic for.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads XCR0, the state components the OS saves on context switches.
func xgetbv() (eax, edx uint32)
