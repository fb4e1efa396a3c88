/*
 * os_linux.c — the Linux seam: CPU count, thread ids, yields, the clock.
 */
#include "runtime.h"

#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int32_t ncpu = 1;

void os_init(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        ncpu = CPU_COUNT(&set);
    if (ncpu < 1)
        ncpu = 1;
}

int32_t os_gettid(void)
{
    return (int32_t)syscall(SYS_gettid);
}

void osyield(void)
{
    sched_yield();
}

void usleep_rt(uint32_t us)
{
    struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

int64_t nanotime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t gort_nanotime(void)
{
    return nanotime();
}

int gort_num_cpu(void)
{
    return ncpu;
}
