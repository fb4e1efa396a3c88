/*
 * preempt.S — the asynchronous preemption trampoline for x86-64.
 *
 * The SIGURG handler (preempt.c) rewrites the interrupted context so that,
 * after sigreturn, the goroutine "calls" gort_asyncpreempt from the exact
 * instruction where it was stopped: it moved rsp down past the 128-byte red
 * zone (the interrupted function may keep live data there) and pushed the
 * interrupted pc as a return address.  Here everything the interrupted code
 * could have live is saved — flags, all fifteen general registers and the
 * full XSAVE state (vector, x87 and AVX-512 registers) — then
 * gort_asyncpreempt2 yields the processor; when the goroutine is scheduled
 * again (on any thread) it all comes back and `ret $128` returns to the
 * interrupted pc and pops the red-zone gap, leaving rsp exactly as it was.
 *
 * Frame (from high to low): pc, rbp (chained, so tracebacks walk through),
 * flags, 14 GPRs, padding to 64 bytes, the XSAVE area (its size,
 * gort_xsave_size, comes from CPUID at start-up).
 */
	.section gort_text,"ax",@progbits
	.globl	gort_asyncpreempt
	.hidden	gort_asyncpreempt
	.type	gort_asyncpreempt,@function
	.p2align 4
gort_asyncpreempt:
	pushq	%rbp
	movq	%rsp, %rbp
	pushfq
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rbx			/* rbx: callee-saved, keeps the GPR frame */
	movl	gort_xsave_size(%rip), %eax
	subq	%rax, %rsp
	andq	$-64, %rsp
	/* XRSTOR faults unless the header's reserved bytes are zero. */
	xorl	%eax, %eax
	movq	%rax, 512(%rsp)
	movq	%rax, 520(%rsp)
	movq	%rax, 528(%rsp)
	movq	%rax, 536(%rsp)
	movq	%rax, 544(%rsp)
	movq	%rax, 552(%rsp)
	movq	%rax, 560(%rsp)
	movq	%rax, 568(%rsp)
	movl	$-1, %eax
	movl	$-1, %edx
	xsave64	(%rsp)
	call	gort_asyncpreempt2
	movl	$-1, %eax
	movl	$-1, %edx
	xrstor64 (%rsp)
	movq	%rbx, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	popfq
	popq	%rbp
	ret	$128
	.size	gort_asyncpreempt, .-gort_asyncpreempt

	.section .note.GNU-stack,"",@progbits
