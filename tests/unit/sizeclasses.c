// Go's size-class table: the lookup tables agree with class_to_size, waste
// stays under Go's 12.5% bound, and divmagic divides exactly for every
// object offset of every span.
#include "malloc.h"

#include <stdio.h>
#include <stdlib.h>

static void fail(const char *what, long a, long b)
{
    fprintf(stderr, "FAIL: %s (%ld, %ld)\n", what, a, b);
    exit(1);
}

int main(void)
{
    if (class_to_size[NUM_SIZE_CLASSES - 1] != MAX_SMALL_SIZE)
        fail("largest class", class_to_size[NUM_SIZE_CLASSES - 1], MAX_SMALL_SIZE);
    for (uintptr_t size = 1; size <= MAX_SMALL_SIZE; size++) {
        uint32_t c = size_to_class(size);
        if (c == 0 || c >= NUM_SIZE_CLASSES || class_to_size[c] < size)
            fail("class too small", (long)size, c);
        if (class_to_size[c - 1] >= size && c > 1)
            fail("class not the smallest", (long)size, c);
    }
    for (uint32_t c = 1; c < NUM_SIZE_CLASSES; c++) {
        uintptr_t size = class_to_size[c], span = class_to_allocnpages[c] * PAGE_SIZE;
        if (size % 8 != 0 || (c > 1 && size <= class_to_size[c - 1]))
            fail("sizes not increasing multiples of 8", c, (long)size);
        uintptr_t n = span / size;
        if (n > MAX_OBJS_PER_SPAN || n == 0)
            fail("objects per span", c, (long)n);
        if ((span - n * size) * 8 > span)
            fail("tail waste over 12.5%", c, (long)(span - n * size));
        for (uintptr_t off = 0; off < n * size; off++) {
            uintptr_t q = (uintptr_t)(((uint64_t)off * class_to_divmagic[c]) >> 32);
            if (q != off / size)
                fail("divmagic", c, (long)off);
        }
    }
    /* Span classes: scan and noscan of each size. */
    if (make_spanclass(5, true) != 11 || spanclass_size(11) != 5 || !spanclass_noscan(11))
        fail("spanclass", 5, 11);
    printf("ok\n");
    return 0;
}
