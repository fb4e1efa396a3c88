/*
 * switch.S — the goroutine context switch for x86-64 (System V).
 *
 * void *gort_gogo_switch(uintptr_t *save_sp, uintptr_t new_sp, void *arg)
 *
 * Saves what the ABI says a callee must preserve — rbp, rbx, r12-r15, the
 * MXCSR control bits and the x87 control word — on the current stack, stores
 * the stack pointer in *save_sp, switches to new_sp, restores the same set
 * from there and returns `arg` on the new stack.  Vector registers are
 * caller-saved, so nothing else needs keeping (the async preemption path,
 * which interrupts code between calls, saves the full XSAVE state itself).
 *
 * The frame a switched-out g leaves at its saved sp (traceback.c reads it):
 *     sp+0   MXCSR (4 bytes), x87 control word (2 bytes), 2 bytes pad
 *     sp+8   r15      sp+16  r14      sp+24  r13      sp+32  r12
 *     sp+40  rbx      sp+48  rbp      sp+56  return pc
 * A new g's stack is laid out the same way with the return pc pointing at
 * gort_gostart_trampoline and rbp = 0, which ends frame-pointer walks.
 */
	.section gort_text,"ax",@progbits
	.globl	gort_gogo_switch
	.hidden	gort_gogo_switch
	.type	gort_gogo_switch,@function
	.p2align 4
gort_gogo_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	movq	%rdx, %rax
	ret
	.cfi_endproc
	.size	gort_gogo_switch, .-gort_gogo_switch

/*
 * First code a new g runs: entered by gort_gogo_switch's `ret` with the
 * stack pointer just above the initial frame.  Clears rbp (the outermost
 * frame), aligns the stack and calls gort_goentry(), which never returns.
 */
	.globl	gort_gostart_trampoline
	.hidden	gort_gostart_trampoline
	.type	gort_gostart_trampoline,@function
	.p2align 4
gort_gostart_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	xorl	%ebp, %ebp
	andq	$-16, %rsp
	call	gort_goentry
	ud2
	.cfi_endproc
	.size	gort_gostart_trampoline, .-gort_gostart_trampoline

	.section .note.GNU-stack,"",@progbits
