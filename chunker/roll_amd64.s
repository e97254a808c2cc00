//go:build amd64 && !purego

#include "go_asm.h"
#include "textflag.h"

// rollVecAsm advances the complemented hash over blocks of 64 steps (see
// rollFiltered for f = rotr(g, j) and the prefilter). Step m+1 of a block at
// offset o has the term x = T[p[o+m]] ^ T[p[o+m+64]], so the 64 bytes read
// as entering bytes of one block are the leaving bytes of the next: each
// byte is looked up once, and a block's terms are its new lookups XOR the
// previous block's.
//
// Registers:
//   Z0-Z15   byte planes of T: plane k in Z4k..Z4k+3, 64 entries each
//   Z16-Z19, Z20-Z23
//            lookups of the previous and of the current 64 bytes, one byte
//            plane each; the two sets swap roles from block to block (the
//            loop is unrolled twice), the previous set is overwritten with
//            the terms and then with the transposed dwords
//   Z24      the position permutation (vecTables.perm)
//   Z25      zero
//   Z26      g at the start of the block, in every dword
//   Z27      dword index 15 in every lane (vecTables.last)
//   Z28-Z31  scratch
//   K1, K2   lanes whose byte has bit 7 clear, set
//   K3       lanes passing the prefilter
//   AX tables, SI p, BX steps done, CX last offset that fits a block
//
// Each block prefetches the input 2 KiB ahead: without it the loop waits
// on memory for inputs beyond the caches and runs at a third of its speed.
// A prefetch never faults, so it may point past the end of p.

// LOOKUP looks up 64 bytes at SRC, permuted by Z24, in the four planes:
// two masked 128-entry permutes per plane, indexed by the low seven bits
// and merged by bit 7. L3 holds the indexes until the last plane.
#define LOOKUP(SRC, L0, L1, L2, L3) \
	VPERMB    SRC, Z24, L3        \
	VPMOVB2M  L3, K2              \
	KNOTQ     K2, K1              \
	VMOVDQA64 L3, L0              \
	VMOVDQA64 L3, L1              \
	VMOVDQA64 L3, L2              \
	VPERMI2B  Z1, Z0, K1, L0      \
	VPERMI2B  Z3, Z2, K2, L0      \
	VPERMI2B  Z5, Z4, K1, L1      \
	VPERMI2B  Z7, Z6, K2, L1      \
	VPERMI2B  Z9, Z8, K1, L2      \
	VPERMI2B  Z11, Z10, K2, L2    \
	VPERMI2B  Z13, Z12, K1, L3    \
	VPERMI2B  Z15, Z14, K2, L3

// BLOCK tests the block whose leaving bytes' lookups are in P0..P3 and
// entering bytes' in L0..L3; it jumps to found if a position passes the
// prefilter, and otherwise leaves the block's total (f after 64 steps,
// without g) in every dword of Z30. P0..P3 are consumed.
//
// After the byte transpose, dword d of Pq is the term of position 4d+q;
// it is rotated right by its step, then Pq ^= P(q-1) makes Pq[d] the XOR
// of positions 4d..4d+q. Z28 = the inclusive prefix of P3 over d, Z29 =
// the exclusive one with g: f at position 4d+q is Pq[d] ^ Z29[d].
#define BLOCK(P0, P1, P2, P3, L0, L1, L2, L3) \
	VPXORD     L0, P0, P0                              \
	VPXORD     L1, P1, P1                              \
	VPXORD     L2, P2, P2                              \
	VPXORD     L3, P3, P3                              \
	VPUNPCKLBW P1, P0, Z28                             \
	VPUNPCKHBW P1, P0, Z29                             \
	VPUNPCKLBW P3, P2, Z30                             \
	VPUNPCKHBW P3, P2, Z31                             \
	VPUNPCKLWD Z30, Z28, P0                            \
	VPUNPCKHWD Z30, Z28, P1                            \
	VPUNPCKLWD Z31, Z29, P2                            \
	VPUNPCKHWD Z31, Z29, P3                            \
	VPRORVD    vecTables_counts(AX), P0, P0     \
	VPRORVD    vecTables_counts+64(AX), P1, P1     \
	VPRORVD    vecTables_counts+128(AX), P2, P2     \
	VPRORVD    vecTables_counts+192(AX), P3, P3     \
	VPXORD     P0, P1, P1                              \
	VPXORD     P1, P2, P2                              \
	VPXORD     P2, P3, P3                              \
	VALIGND    $15, Z25, P3, Z28                       \
	VPXORD     P3, Z28, Z28                            \
	VALIGND    $14, Z25, Z28, Z29                      \
	VPXORD     Z29, Z28, Z28                           \
	VALIGND    $12, Z25, Z28, Z29                      \
	VPXORD     Z29, Z28, Z28                           \
	VALIGND    $8, Z25, Z28, Z29                       \
	VPXORD     Z29, Z28, Z28                           \
	VPERMD     Z28, Z27, Z30                           \
	VALIGND    $15, Z25, Z28, Z29                      \
	VPXORD     Z26, Z29, Z29                           \
	VPTERNLOGD $0x28, vecTables_masks(AX), Z29, P0 \
	VPTERNLOGD $0x28, vecTables_masks+64(AX), Z29, P1 \
	VPTERNLOGD $0x28, vecTables_masks+128(AX), Z29, P2 \
	VPTERNLOGD $0x28, vecTables_masks+192(AX), Z29, P3 \
	VPMINUD    P1, P0, P0                              \
	VPMINUD    P3, P2, P2                              \
	VPMINUD    P2, P0, P0                              \
	VPTESTNMD  P0, P0, K3                              \
	KORTESTW   K3, K3                                  \
	JNZ        found

// STEP does the block at BX, whose leaving bytes' lookups are in P0..P3:
// it looks up its entering bytes into L0..L3 (the next block's leaving
// ones), tests it, adds its total to g and compares the next offset with
// the last that fits. The loop runs it twice with P and L swapped.
#define STEP(P0, P1, P2, P3, L0, L1, L2, L3) \
	PREFETCHT0 2048(SI)(BX*1)                     \
	LOOKUP(64(SI)(BX*1), L0, L1, L2, L3)          \
	BLOCK(P0, P1, P2, P3, L0, L1, L2, L3)         \
	VPXORD     Z30, Z26, Z26                      \
	ADDQ       $64, BX                            \
	CMPQ       BX, CX

// func rollVecAsm(gIn uint32, t *vecTables, p []byte) (gOut uint32, steps int)
TEXT ·rollVecAsm(SB), NOSPLIT, $0-56
	MOVQ t+8(FP), AX
	MOVQ p_base+16(FP), SI
	MOVQ p_len+24(FP), CX
	XORQ BX, BX
	MOVL gIn+0(FP), DX
	VPBROADCASTD DX, Z26
	SUBQ $128, CX
	JLT  done

	VMOVDQU64 vecTables_planes(AX), Z0
	VMOVDQU64 vecTables_planes+64(AX), Z1
	VMOVDQU64 vecTables_planes+128(AX), Z2
	VMOVDQU64 vecTables_planes+192(AX), Z3
	VMOVDQU64 vecTables_planes+256(AX), Z4
	VMOVDQU64 vecTables_planes+320(AX), Z5
	VMOVDQU64 vecTables_planes+384(AX), Z6
	VMOVDQU64 vecTables_planes+448(AX), Z7
	VMOVDQU64 vecTables_planes+512(AX), Z8
	VMOVDQU64 vecTables_planes+576(AX), Z9
	VMOVDQU64 vecTables_planes+640(AX), Z10
	VMOVDQU64 vecTables_planes+704(AX), Z11
	VMOVDQU64 vecTables_planes+768(AX), Z12
	VMOVDQU64 vecTables_planes+832(AX), Z13
	VMOVDQU64 vecTables_planes+896(AX), Z14
	VMOVDQU64 vecTables_planes+960(AX), Z15
	VMOVDQU64 vecTables_perm(AX), Z24
	VMOVDQU64 vecTables_last(AX), Z27
	VPXORD    Z25, Z25, Z25

	// The first block's leaving bytes.
	LOOKUP((SI), Z16, Z17, Z18, Z19)

loop:
	STEP(Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	JGT  done
	STEP(Z20, Z21, Z22, Z23, Z16, Z17, Z18, Z19)
	JLE  loop

done:
found:
	VMOVD X26, AX
	MOVL  AX, gOut+40(FP)
	MOVQ  BX, steps+48(FP)
	VZEROUPPER
	RET
