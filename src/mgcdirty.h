/* mgcdirty.h — the dirty-page tracker (mgcdirty.c); placeholder API. */
#ifndef GORT_MGCDIRTY_H
#define GORT_MGCDIRTY_H
#include "runtime.h"
enum { DIRTY_NONE, DIRTY_UFFD, DIRTY_MPROTECT };
#define dirty_mode gort_dirty_mode
#define dirty_init gort_dirty_init
#define dirty_arm gort_dirty_arm
#define dirty_register gort_dirty_register
#define dirty_collect gort_dirty_collect
#define dirty_disarm gort_dirty_disarm
#define dirty_fault gort_dirty_fault
extern int dirty_mode;
void dirty_init(uintptr_t base, uintptr_t size);
void dirty_register(uintptr_t lo, uintptr_t hi);
void dirty_arm(uintptr_t lo, uintptr_t hi);
size_t dirty_collect(uintptr_t lo, uintptr_t hi, bool rearm,
                     void (*fn)(uintptr_t plo, uintptr_t phi, void *arg), void *arg);
void dirty_disarm(uintptr_t lo, uintptr_t hi);
bool dirty_fault(uintptr_t addr);
#endif
