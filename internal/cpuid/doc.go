// Package cpuid tells which AVX-512 extensions the vector loops of
// datastore (the blob CRC-32) and chunker (the rolling hash) may use: the
// CPU's feature bits, and whether the OS saves the vector state they need.
// It is our own CPUID/XGETBV, twenty lines of assembly, rather than a
// dependency on golang.org/x/sys/cpu.
package cpuid

// AVX512 is what an AVX-512 loop needs to know. Every field is false
// unless the OS saves the ZMM and opmask state (XCR0), and on macOS, which
// enables that state lazily and does not report it.
type AVX512 struct {
	F          bool // Foundation
	BW         bool // byte and word instructions
	VBMI       bool // byte permutes (VPERMB, VPERMI2B)
	VPCLMULQDQ bool // carry-less multiplication on 512-bit registers
}
