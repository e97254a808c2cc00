//go:build amd64 && !purego

#include "textflag.h"

// CRC-32/IEEE by carry-less multiplication (bit-reflected). Each 128-bit lane
// L holding data d bits before the end of what is folded stands for
// L·x^d mod P; moving it forward by D bits multiplies its two 64-bit halves
// by x^(D+32) mod P and x^(D-32) mod P (reflected, shifted left by one, as
// reflected carry-less products come out one bit short). The constants are
// computed by TestCRCFoldConstants, which checks them against these tables.
//
// Four accumulators Z1..Z4 cover 256 consecutive bytes; each step folds
// every lane forward by D = 2048 bits onto the next 256 bytes. At the end
// Z1 folds onto Z2, the sum onto Z3 and that onto Z4 with D = 512, and the
// result (64 bytes that leave the CRC register as the whole input would)
// goes back to crcFinish. The loop counts the length down to zero: the
// caller passes a positive multiple of 256.

// One 128-bit lane of constants each, broadcast to the four lanes of Z0
// where used.
// crcK2048: D = 2048: x^2080 and x^2016 mod P.
DATA crcK2048<>+0(SB)/8, $0x11542778a
DATA crcK2048<>+8(SB)/8, $0x1322d1430
GLOBL crcK2048<>(SB), RODATA, $16

// crcK512: D = 512: x^544 and x^480 mod P.
DATA crcK512<>+0(SB)/8, $0x154442bd4
DATA crcK512<>+8(SB)/8, $0x1c6e41596
GLOBL crcK512<>(SB), RODATA, $16

// Z = Z·K (both halves of every lane) xor X, through scratch T.
#define FOLD(K, Z, T, X) \
	VPCLMULQDQ $0x00, K, Z, T \
	VPCLMULQDQ $0x11, K, Z, Z \
	VPTERNLOGD $0x96, X, T, Z

// Z1 onto Z2, that onto Z3, that onto Z4 (D = 512 each), stored at (R).
#define REDUCE(R) \
	VBROADCASTI32X4 crcK512<>+0(SB), Z0 \
	FOLD(Z0, Z1, Z5, Z2)          \
	FOLD(Z0, Z1, Z5, Z3)          \
	FOLD(Z0, Z1, Z5, Z4)          \
	VMOVDQU64 Z1, (R)             \
	VZEROUPPER

// FIRST loads the first 256 bytes at (SI) into Z1..Z4 and the state in AX
// into Z10 (the rest of it zero). The caller mixes Z10 into Z1 right away
// (crcFold) or after storing the plain bytes (crcFoldCopy).
#define FIRST \
	VPXORQ    Z10, Z10, Z10 \
	VMOVD     AX, X10       \
	VMOVDQU64 (SI), Z1      \
	VMOVDQU64 64(SI), Z2    \
	VMOVDQU64 128(SI), Z3   \
	VMOVDQU64 192(SI), Z4

// STORE4 stores four registers at (R), 256 bytes.
#define STORE4(A, B, C, D, R) \
	VMOVDQU64 A, (R)          \
	VMOVDQU64 B, 64(R)        \
	VMOVDQU64 C, 128(R)       \
	VMOVDQU64 D, 192(R)

// func crcFold(state uint32, p []byte, acc *[64]byte)
TEXT ·crcFold(SB), NOSPLIT, $0-40
	MOVQ p_len+16(FP), CX
	MOVQ p_base+8(FP), SI
	MOVQ acc+32(FP), DI
	MOVL state+0(FP), AX

	FIRST
	VPXORQ    Z10, Z1, Z1
	ADDQ      $256, SI
	SUBQ      $256, CX
	VBROADCASTI32X4 crcK2048<>+0(SB), Z0
	JZ        foldDone

foldLoop:
	FOLD(Z0, Z1, Z5, (SI))
	FOLD(Z0, Z2, Z6, 64(SI))
	FOLD(Z0, Z3, Z7, 128(SI))
	FOLD(Z0, Z4, Z8, 192(SI))
	ADDQ $256, SI
	SUBQ $256, CX
	JNZ  foldLoop

foldDone:
	REDUCE(DI)
	RET

// func crcFoldCopy(state uint32, dst, p []byte, acc *[64]byte)
TEXT ·crcFoldCopy(SB), NOSPLIT, $0-64
	MOVQ dst_base+8(FP), DI
	MOVQ p_base+32(FP), SI
	MOVQ p_len+40(FP), CX
	MOVQ acc+56(FP), DX
	MOVL state+0(FP), AX

	FIRST
	STORE4(Z1, Z2, Z3, Z4, DI)
	VPXORQ    Z10, Z1, Z1
	ADDQ      $256, SI
	ADDQ      $256, DI
	SUBQ      $256, CX
	VBROADCASTI32X4 crcK2048<>+0(SB), Z0
	JZ        copyDone

copyLoop:
	VMOVDQU64 (SI), Z11
	VMOVDQU64 64(SI), Z12
	VMOVDQU64 128(SI), Z13
	VMOVDQU64 192(SI), Z14
	STORE4(Z11, Z12, Z13, Z14, DI)
	FOLD(Z0, Z1, Z5, Z11)
	FOLD(Z0, Z2, Z6, Z12)
	FOLD(Z0, Z3, Z7, Z13)
	FOLD(Z0, Z4, Z8, Z14)
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $256, CX
	JNZ  copyLoop

copyDone:
	REDUCE(DX)
	RET
