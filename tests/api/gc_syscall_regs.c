// A heap pointer held only in a callee-saved register (r15) by a goroutine
// blocked between gort_syscall_enter and gort_syscall_exit survives
// collections: gort_syscall_enter stores the caller's callee-saved
// registers where the collector scans them.
//
// The pointer never exists unmasked in C: it is made by another goroutine,
// passed xor-masked through a global, unmasked into r15 by hand-written
// assembly, which then wipes the stack below it (the stub's own spill), and
// blocks in a raw read(2) that touches no register but the syscall's.
// Being freed shows as a run finalizer and as lost contents (the slot is
// reused and zeroed by the allocations that follow the collections).
// gort-test: timeout=60
#include <gort.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OBJ_SIZE 3000 /* a size class nothing else here uses */
#define MAGIC 0x5eed5eed5eed5eedull

uintptr_t gcregs_mask = 0x0123456789abcdefull;
uintptr_t gcregs_masked;
int gcregs_pipe_rd;
char gcregs_buf;
volatile int gcregs_entered;
static _Atomic int finalized;

uintptr_t gcregs_hold(uintptr_t masked);
__asm__(".text\n"
        ".globl gcregs_hold\n"
        ".type gcregs_hold, @function\n"
        "gcregs_hold:\n"
        "    push %rbp\n"
        "    mov %rsp, %rbp\n"
        "    push %r15\n"
        "    push %rbx\n"
        "    mov %rdi, %r15\n"
        "    xor gcregs_mask(%rip), %r15\n"
        "    xor %edi, %edi\n"
        "    call gort_syscall_enter\n"
        "    lea -4096(%rsp), %rdi\n"
        "    mov $512, %ecx\n"
        "    xor %eax, %eax\n"
        "    rep stosq\n"
        "    movl $1, gcregs_entered(%rip)\n"
        "    mov $0, %eax\n" /* SYS_read */
        "    movl gcregs_pipe_rd(%rip), %edi\n"
        "    lea gcregs_buf(%rip), %rsi\n"
        "    mov $1, %edx\n"
        "    syscall\n"
        "    call gort_syscall_exit\n"
        "    mov %r15, %rax\n"
        "    pop %rbx\n"
        "    pop %r15\n"
        "    pop %rbp\n"
        "    ret\n"
        ".size gcregs_hold, .-gcregs_hold\n");

static void fin(void *p)
{
    (void)p;
    atomic_store(&finalized, 1);
}

static void fail(const char *why)
{
    fprintf(stderr, "FAIL: %s\n", why);
    exit(1);
}

static __attribute__((noinline)) void make_object(void *arg)
{
    (void)arg;
    uint64_t *o = gort_malloc(OBJ_SIZE);
    o[0] = MAGIC;
    gort_set_finalizer(o, fin);
    __atomic_store_n(&gcregs_masked, (uintptr_t)o ^ gcregs_mask, __ATOMIC_RELEASE);
    o = NULL;
}

static gort_chan *done;

static void holder(void *arg)
{
    (void)arg;
    uintptr_t masked = __atomic_load_n(&gcregs_masked, __ATOMIC_ACQUIRE);
    uintptr_t p = gcregs_hold(masked);
    if (p != (masked ^ gcregs_mask))
        fail("r15 changed");
    if (((uint64_t *)p)[0] != MAGIC)
        fail("object held in r15 was freed and reused");
    gort_chan_send(done, NULL);
}

static int main_fn(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int fds[2];
    if (pipe(fds) != 0)
        fail("pipe");
    gcregs_pipe_rd = fds[0];
    done = gort_chan_make(0, 0);
    gort_go(make_object, NULL, 0);
    while (__atomic_load_n(&gcregs_masked, __ATOMIC_ACQUIRE) == 0)
        gort_gosched();
    gort_go(holder, NULL, 0);
    while (!gcregs_entered)
        gort_gosched();
    for (int i = 0; i < 3; i++) {
        gort_gc();
        gort_sleep(1000000);
    }
    for (int i = 0; i < 200; i++)
        memset(gort_malloc(OBJ_SIZE), 0x77, OBJ_SIZE);
    if (atomic_load(&finalized))
        fail("finalizer ran for an object held in a register");
    if (write(fds[1], "x", 1) != 1)
        fail("write");
    gort_chan_recv(done, NULL);
    return 0;
}

int main(int argc, char **argv) { return gort_main(main_fn, argc, argv); }
