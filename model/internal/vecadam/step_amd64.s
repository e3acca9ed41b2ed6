#include "textflag.h"

// func stepSSE(p, g, m, v []float32, k *[6]float32) int
// Adam on the first len(p) &^ 3 elements, four at a time; see Step in vecadam.go for the
// operations (the scalar loop's, in its order). k = {b1, c1, b2, c2, step, eps}. Returns
// the count done.
TEXT ·stepSSE(SB), NOSPLIT, $0-112
	MOVQ p_base+0(FP), DI
	MOVQ p_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	MOVQ k+96(FP), DX
	SHRQ $2, CX
	MOVQ CX, BX
	SHLQ $2, BX
	MOVQ BX, ret+104(FP)
	MOVSS 0(DX), X2
	SHUFPS $0, X2, X2 // beta1
	MOVSS 4(DX), X3
	SHUFPS $0, X3, X3 // 1-beta1
	MOVSS 8(DX), X4
	SHUFPS $0, X4, X4 // beta2
	MOVSS 12(DX), X5
	SHUFPS $0, X5, X5 // 1-beta2
	MOVSS 16(DX), X0
	SHUFPS $0, X0, X0 // step
	MOVSS 20(DX), X1
	SHUFPS $0, X1, X1 // eps
	XORQ AX, AX

loop:
	TESTQ CX, CX
	JZ    done
	MOVUPS (SI)(AX*1), X6  // g
	MOVUPS (R8)(AX*1), X7  // m
	MULPS  X2, X7          // beta1*m
	MOVAPS X6, X8
	MULPS  X3, X8          // (1-beta1)*g
	ADDPS  X8, X7          // m' = beta1*m + (1-beta1)*g
	MOVUPS X7, (R8)(AX*1)
	MOVUPS (R9)(AX*1), X9  // v
	MULPS  X4, X9          // beta2*v
	MOVAPS X6, X10
	MULPS  X5, X10         // (1-beta2)*g
	MULPS  X6, X10         // ((1-beta2)*g)*g
	ADDPS  X10, X9         // v'
	MOVUPS X9, (R9)(AX*1)
	SQRTPS X9, X11
	ADDPS  X1, X11         // sqrt(v') + eps
	MULPS  X0, X7          // step*m'
	DIVPS  X11, X7         // step*m' / (sqrt(v') + eps)
	MOVUPS (DI)(AX*1), X12
	SUBPS  X7, X12
	MOVUPS X12, (DI)(AX*1)
	ADDQ   $16, AX
	DECQ   CX
	JMP    loop

done:
	RET

// func stepAVX2(p, g, m, v []float32, k *[6]float32) int
// The same on the first len(p) &^ 7 elements, eight lanes at a time.
TEXT ·stepAVX2(SB), NOSPLIT, $0-112
	MOVQ p_base+0(FP), DI
	MOVQ p_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	MOVQ k+96(FP), DX
	SHRQ $3, CX
	MOVQ CX, BX
	SHLQ $3, BX
	MOVQ BX, ret+104(FP)
	TESTQ CX, CX
	JZ    avxdone
	VBROADCASTSS 0(DX), Y2  // beta1
	VBROADCASTSS 4(DX), Y3  // 1-beta1
	VBROADCASTSS 8(DX), Y4  // beta2
	VBROADCASTSS 12(DX), Y5 // 1-beta2
	VBROADCASTSS 16(DX), Y0 // step
	VBROADCASTSS 20(DX), Y1 // eps
	XORQ AX, AX

avxloop:
	VMOVUPS (SI)(AX*1), Y6      // g
	VMOVUPS (R8)(AX*1), Y7      // m
	VMULPS  Y2, Y7, Y7          // beta1*m
	VMULPS  Y3, Y6, Y8          // (1-beta1)*g
	VADDPS  Y8, Y7, Y7          // m'
	VMOVUPS Y7, (R8)(AX*1)
	VMOVUPS (R9)(AX*1), Y9      // v
	VMULPS  Y4, Y9, Y9          // beta2*v
	VMULPS  Y5, Y6, Y10         // (1-beta2)*g
	VMULPS  Y6, Y10, Y10        // ((1-beta2)*g)*g
	VADDPS  Y10, Y9, Y9         // v'
	VMOVUPS Y9, (R9)(AX*1)
	VSQRTPS Y9, Y11
	VADDPS  Y1, Y11, Y11        // sqrt(v') + eps
	VMULPS  Y0, Y7, Y7          // step*m'
	VDIVPS  Y11, Y7, Y7         // step*m' / (sqrt(v') + eps)
	VMOVUPS (DI)(AX*1), Y12
	VSUBPS  Y7, Y12, Y12
	VMOVUPS Y12, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     avxloop
	VZEROUPPER

avxdone:
	RET

// func hasAVX2() bool: CPU support (CPUID) and OS support for the YMM state (XGETBV).
TEXT ·hasAVX2(SB), NOSPLIT, $0-1
	MOVL $1, AX
	XORL CX, CX
	CPUID
	ANDL $0x18000000, CX // OSXSAVE (bit 27) and AVX (bit 28)
	CMPL CX, $0x18000000
	JNE  no
	XORL CX, CX
	XGETBV
	ANDL $6, AX // XMM and YMM state enabled
	CMPL AX, $6
	JNE  no
	MOVL $7, AX
	XORL CX, CX
	CPUID
	ANDL $0x20, BX // AVX2 (leaf 7, EBX bit 5)
	JZ   no
	MOVB $1, ret+0(FP)
	RET

no:
	MOVB $0, ret+0(FP)
	RET
