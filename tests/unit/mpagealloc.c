// The page allocator, after Go's mpagealloc_test.go / mpallocbits_test.go
// cases that apply to a first-fit bitmap: single pages, runs inside a chunk,
// runs across chunk boundaries, exhaustion, frees that reopen holes, the
// searchpage hint, dirty (needzero) and scavenged accounting, and a random
// workload checked against a reference bitmap.
#include "malloc.h"

#include <stdio.h>
#include <stdlib.h>

#define MAXPAGES (CHUNK_PAGES * 8)

static void fail(const char *what, long a, long b)
{
    fprintf(stderr, "FAIL: %s (%ld, %ld)\n", what, a, b);
    exit(1);
}

static struct pagealloc *newpa(uintptr_t grow)
{
    struct pagealloc *pa = calloc(1, sizeof *pa);
    pagealloc_init(pa, MAXPAGES, calloc(1, pagealloc_metasize(MAXPAGES)));
    if (grow)
        pagealloc_grow(pa, grow);
    return pa;
}

static uintptr_t alloc(struct pagealloc *pa, uintptr_t n)
{
    uintptr_t scav;
    bool nz;
    return pagealloc_alloc(pa, n, &scav, &nz);
}

static bool ref[MAXPAGES];

int main(void)
{
    struct pagealloc *pa = newpa(CHUNK_PAGES * 2);
    /* Single pages in order, then a run that must skip a hole too small. */
    for (uintptr_t i = 0; i < 10; i++)
        if (alloc(pa, 1) != i)
            fail("single page order", (long)i, 0);
    pagealloc_free(pa, 3, 2);
    if (alloc(pa, 3) != 10)
        fail("run skips small hole", 0, 0);
    if (alloc(pa, 2) != 3)
        fail("hole reused", 0, 0);
    /* A run across the chunk boundary. */
    uintptr_t a = alloc(pa, CHUNK_PAGES - 13 - 5);
    if (a != 13)
        fail("fill chunk 0", (long)a, 13);
    uintptr_t b = alloc(pa, 64);
    if (b != CHUNK_PAGES - 5)
        fail("run across chunks", (long)b, CHUNK_PAGES - 5);
    /* Exhaustion, then growth makes room. */
    if (alloc(pa, CHUNK_PAGES * 2) != PA_FAIL)
        fail("should not fit", 0, 0);
    pagealloc_grow(pa, CHUNK_PAGES * 2);
    uintptr_t c = alloc(pa, CHUNK_PAGES * 2);
    if (c == PA_FAIL || c + CHUNK_PAGES * 2 > pa->npages)
        fail("fits after grow", (long)c, 0);
    /* Dirty pages need zeroing; fresh ones do not. */
    struct pagealloc *pz = newpa(CHUNK_PAGES);
    uintptr_t scav;
    bool nz;
    uintptr_t z = pagealloc_alloc(pz, 4, &scav, &nz);
    if (nz)
        fail("fresh pages marked dirty", 0, 0);
    pagealloc_free(pz, z, 4);
    pagealloc_alloc(pz, 2, &scav, &nz);
    if (!nz)
        fail("reused pages not dirty", 0, 0);
    /* Scavenging takes from the top and is undone by allocation. */
    uintptr_t sn, si = pagealloc_scav_take(pz, 16, &sn);
    if (si == PA_FAIL || si + sn != CHUNK_PAGES || sn != 16)
        fail("scav_take from the top", (long)si, (long)sn);
    pagealloc_scav_done(pz, si, sn);
    if (pz->nscav != 16)
        fail("nscav", (long)pz->nscav, 16);
    uintptr_t big = pagealloc_alloc(pz, CHUNK_PAGES - 2, &scav, &nz);
    if (big != 2 || scav != 16 || pz->nscav != 0)
        fail("allocating scavenged pages", (long)big, (long)scav);

    /* Random workload against a reference. */
    struct pagealloc *pr = newpa(MAXPAGES);
    srand(1);
    struct {
        uintptr_t i, n;
    } live[2048];
    int nlive = 0;
    for (int step = 0; step < 200000; step++) {
        if (nlive < 2048 && (rand() % 3 != 0 || nlive == 0)) {
            uintptr_t n = rand() % 8 == 0 ? 1 + (uintptr_t)rand() % 700 : 1 + (uintptr_t)rand() % 4;
            uintptr_t i = alloc(pr, n);
            /* Reference first fit. */
            uintptr_t want = PA_FAIL, run = 0;
            for (uintptr_t k = 0; k < MAXPAGES; k++) {
                run = ref[k] ? 0 : run + 1;
                if (run == n) {
                    want = k + 1 - n;
                    break;
                }
            }
            if (i != want)
                fail("first fit differs from reference", (long)i, (long)want);
            if (i == PA_FAIL)
                continue;
            for (uintptr_t k = i; k < i + n; k++)
                ref[k] = true;
            live[nlive].i = i;
            live[nlive++].n = n;
        } else {
            int j = rand() % nlive;
            pagealloc_free(pr, live[j].i, live[j].n);
            for (uintptr_t k = live[j].i; k < live[j].i + live[j].n; k++)
                ref[k] = false;
            live[j] = live[--nlive];
        }
    }
    printf("ok\n");
    return 0;
}
