//go:build amd64 && !purego

#include "textflag.h"

// func prefetch(p []byte)
//
// One PREFETCHT0 per 64-byte line of p (SSE, in every amd64 CPU). A
// prefetch never faults, so p may be empty.
TEXT ·prefetch(SB), NOSPLIT, $0-24
	MOVQ p_base+0(FP), SI
	MOVQ p_len+8(FP), CX
	ADDQ SI, CX

loop:
	CMPQ SI, CX
	JAE  done
	PREFETCHT0 (SI)
	ADDQ $64, SI
	JMP  loop

done:
	RET
