/*
 * mpagealloc.c — the page allocator: which 8 KiB pages of the heap
 * reservation are in use, which were returned to the OS, which may be dirty.
 *
 * Go's allocator (mpagealloc.go) keeps a bitmap per 4 MiB chunk plus a radix
 * tree of summaries.  Ours keeps the same bitmap and the same per-chunk
 * summary {free run at the start, longest free run, free run at the end},
 * but searches the summaries linearly instead of through a radix tree: a
 * 1 GiB heap has 256 chunks, a 512 GiB heap 128 Ki, and a search stops at
 * the first chunk (or chunk boundary) that fits.  One page, the common
 * request (a small span), skips the summaries altogether: a word scan from
 * searchpage, the lowest page that may be free.
 *
 * Invariants:
 *   - every page below searchpage is in use;
 *   - no search looks at pages at or above npages (a multiple of
 *     CHUNK_PAGES), so what the bitmap says there does not matter;
 *   - sums[c] describes inuse[c*8 .. c*8+7] exactly;
 *   - scav[i] implies !inuse[i]; it is cleared when the page is handed out.
 *   - dirty[i] is set when page i is handed out and never cleared: memory
 *     fresh from the OS is known zero, and that is the only case where an
 *     allocation may skip zeroing (MADV_FREE'd pages may keep their bytes).
 * Locking: none here; mheap.lock covers every call.
 */
#include "malloc.h"

#define WORDS_PER_CHUNK (CHUNK_PAGES / 64)

size_t pagealloc_metasize(uintptr_t maxpages)
{
    uintptr_t words = maxpages / 64;
    return 3 * words * sizeof(uint64_t) + maxpages / CHUNK_PAGES * sizeof(struct pasum);
}

void pagealloc_init(struct pagealloc *pa, uintptr_t maxpages, void *mem)
{
    if (maxpages % CHUNK_PAGES != 0)
        throw("pagealloc_init: bad size");
    uintptr_t words = maxpages / 64;
    memset(pa, 0, sizeof *pa);
    pa->maxpages = maxpages;
    pa->inuse = mem;
    pa->scav = pa->inuse + words;
    pa->dirty = pa->scav + words;
    pa->sums = (struct pasum *)(pa->dirty + words);
    /* Only the grown part is ever read, so the rest of the bitmaps stays
     * untouched (and uncommitted). */
}

/* Longest run of zero bits in w (0..64). */
static unsigned maxzerorun(uint64_t w)
{
    uint64_t x = ~w;
    unsigned n = 0;
    while (x != 0) {
        x &= x << 1;
        n++;
    }
    return n;
}

static void summarize(struct pagealloc *pa, uintptr_t c)
{
    const uint64_t *w = &pa->inuse[c * WORDS_PER_CHUNK];
    unsigned start = 0, end = 0, max = 0, run = 0;
    int i;
    for (i = 0; i < WORDS_PER_CHUNK && w[i] == 0; i++)
        start += 64;
    if (i < WORDS_PER_CHUNK)
        start += (unsigned)__builtin_ctzll(w[i]);
    for (i = WORDS_PER_CHUNK - 1; i >= 0 && w[i] == 0; i--)
        end += 64;
    if (i >= 0)
        end += (unsigned)__builtin_clzll(w[i]);
    for (i = 0; i < WORDS_PER_CHUNK; i++) {
        uint64_t x = w[i];
        if (x == 0) {
            run += 64;
            continue;
        }
        /* The run entering this word ends at its lowest set bit. */
        run += (unsigned)__builtin_ctzll(x);
        if (run > max)
            max = run;
        unsigned inner = maxzerorun(x);
        if (inner > max)
            max = inner;
        run = (unsigned)__builtin_clzll(x);
    }
    if (run > max)
        max = run;
    pa->sums[c] = (struct pasum){(uint16_t)start, (uint16_t)max, (uint16_t)end};
}

/* Sets (v = true) or clears bits [i, i+n) of b; returns how many were set
 * before. */
static uintptr_t setrange(uint64_t *b, uintptr_t i, uintptr_t n, bool v)
{
    uintptr_t was = 0;
    while (n > 0) {
        uintptr_t bit = i % 64, k = 64 - bit < n ? 64 - bit : n;
        uint64_t mask = (k == 64 ? ~0ull : ((1ull << k) - 1)) << bit;
        uint64_t *w = &b[i / 64];
        was += (uintptr_t)popcount64(*w & mask);
        *w = v ? *w | mask : *w & ~mask;
        i += k;
        n -= k;
    }
    return was;
}

static void resummarize(struct pagealloc *pa, uintptr_t i, uintptr_t n)
{
    for (uintptr_t c = i / CHUNK_PAGES; c <= (i + n - 1) / CHUNK_PAGES; c++)
        summarize(pa, c);
}

void pagealloc_grow(struct pagealloc *pa, uintptr_t n)
{
    if (n % CHUNK_PAGES != 0 || pa->npages + n > pa->maxpages)
        throw("pagealloc_grow: bad size");
    setrange(pa->inuse, pa->npages, n, false);
    uintptr_t old = pa->npages;
    pa->npages += n;
    pa->nfree += n;
    resummarize(pa, old, n);
    if (pa->searchpage > old)
        pa->searchpage = old;
}

/* First index >= from of a run of n zero bits inside chunk c, or PA_FAIL. */
static uintptr_t findinchunk(struct pagealloc *pa, uintptr_t c, uintptr_t n)
{
    uintptr_t base = c * CHUNK_PAGES, run = 0;
    for (uintptr_t i = 0; i < CHUNK_PAGES;) {
        uint64_t w = pa->inuse[(base + i) / 64];
        if (i % 64 == 0 && w == 0) {
            run += 64;
            i += 64;
        } else if (i % 64 == 0 && w == ~0ull) {
            run = 0;
            i += 64;
            continue;
        } else {
            if (w >> (i % 64) & 1)
                run = 0;
            else
                run++;
            i++;
        }
        if (run >= n)
            return base + i - run;
    }
    return PA_FAIL;
}

static uintptr_t take(struct pagealloc *pa, uintptr_t i, uintptr_t n, uintptr_t *scav,
                      bool *needzero)
{
    setrange(pa->inuse, i, n, true);
    uintptr_t s = setrange(pa->scav, i, n, false);
    *needzero = setrange(pa->dirty, i, n, true) != 0;
    *scav = s;
    pa->nscav -= s;
    pa->nfree -= n;
    resummarize(pa, i, n);
    return i;
}

uintptr_t pagealloc_alloc(struct pagealloc *pa, uintptr_t n, uintptr_t *scav, bool *needzero)
{
    if (n == 0 || pa->searchpage >= pa->npages)
        return PA_FAIL;
    if (n == 1) {
        for (uintptr_t wi = pa->searchpage / 64; wi < pa->npages / 64; wi++) {
            uint64_t free = ~pa->inuse[wi];
            if (wi == pa->searchpage / 64)
                free &= ~0ull << (pa->searchpage % 64);
            if (free != 0) {
                uintptr_t i = wi * 64 + (uintptr_t)__builtin_ctzll(free);
                pa->searchpage = i + 1;
                return take(pa, i, 1, scav, needzero);
            }
        }
        pa->searchpage = pa->npages;
        return PA_FAIL;
    }
    uintptr_t run = 0, nchunks = pa->npages / CHUNK_PAGES;
    for (uintptr_t c = pa->searchpage / CHUNK_PAGES; c < nchunks; c++) {
        struct pasum s = pa->sums[c];
        if (run + s.start >= n) {
            uintptr_t i = c * CHUNK_PAGES - run;
            if (i == pa->searchpage)
                pa->searchpage = i + n;
            return take(pa, i, n, scav, needzero);
        }
        if (s.max >= n) {
            uintptr_t i = findinchunk(pa, c, n);
            if (i == PA_FAIL)
                throw("pagealloc: summary out of date");
            if (i == pa->searchpage)
                pa->searchpage = i + n;
            return take(pa, i, n, scav, needzero);
        }
        run = s.start == CHUNK_PAGES ? run + CHUNK_PAGES : s.end;
    }
    return PA_FAIL;
}

void pagealloc_free(struct pagealloc *pa, uintptr_t i, uintptr_t n)
{
    if (setrange(pa->inuse, i, n, false) != n)
        throw("pagealloc_free: page not in use");
    pa->nfree += n;
    if (i < pa->searchpage)
        pa->searchpage = i;
    resummarize(pa, i, n);
}

uintptr_t pagealloc_scav_take(struct pagealloc *pa, uintptr_t max, uintptr_t *n)
{
    /* From the top, like Go: low addresses are the ones allocation reuses
     * first, so releasing the high ones is the least likely to be undone. */
    for (uintptr_t wi = pa->npages / 64; wi-- > 0;) {
        uint64_t cand = ~(pa->inuse[wi] | pa->scav[wi]);
        if (cand == 0)
            continue;
        uintptr_t hi = wi * 64 + 63 - (uintptr_t)__builtin_clzll(cand);
        uintptr_t lo = hi;
        while (lo > 0 && hi - lo + 1 < max &&
               !((pa->inuse[(lo - 1) / 64] | pa->scav[(lo - 1) / 64]) >> ((lo - 1) % 64) & 1))
            lo--;
        uintptr_t k = hi - lo + 1;
        setrange(pa->inuse, lo, k, true);
        pa->nfree -= k;
        resummarize(pa, lo, k);
        *n = k;
        return lo;
    }
    return PA_FAIL;
}

void pagealloc_scav_done(struct pagealloc *pa, uintptr_t i, uintptr_t n)
{
    setrange(pa->scav, i, n, true);
    pa->nscav += n;
    pagealloc_free(pa, i, n);
}
