/* Channel semantics through the public API: the rows of Go's table
 * (GO-FACTS 3.1) that do not panic or block forever, plus the corners
 * that belong to a C API — NULL receive targets, element sizes from 1 byte
 * to the 64 KiB limit, buffer alignment.  Panics and eternal blocking are
 * tests/crash/chan_misuse. */
#include <gort.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "FAIL: %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

static void test_nil(void)
{
    CHECK(gort_chan_len(NULL) == 0);
    CHECK(gort_chan_cap(NULL) == 0);
    long v = 1;
    gort_case s = {.chan = NULL, .dir = GORT_SEND, .elem = &v};
    gort_case r = {.chan = NULL, .dir = GORT_RECV, .elem = &v};
    CHECK(gort_select(&s, 1, false) == -1);
    CHECK(gort_select(&r, 1, false) == -1);
    gort_case both[2] = {s, r};
    CHECK(gort_select(both, 2, false) == -1);
}

static void test_buffered_len_cap_close(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 3);
    CHECK(gort_chan_cap(c) == 3 && gort_chan_len(c) == 0);
    for (int i = 1; i <= 2; i++)
        gort_chan_send(c, &i);
    CHECK(gort_chan_len(c) == 2);
    gort_chan_close(c);
    /* Closed: len and cap stay; the values still come out, in order. */
    CHECK(gort_chan_len(c) == 2 && gort_chan_cap(c) == 3);
    int v = 0;
    CHECK(gort_chan_recv(c, &v) && v == 1);
    CHECK(gort_chan_recv(c, &v) && v == 2);
    v = 42;
    CHECK(!gort_chan_recv(c, &v) && v == 0);
    CHECK(gort_chan_len(c) == 0);
    /* Non-blocking receive on a closed, drained channel succeeds. */
    v = 42;
    gort_case r = {.chan = c, .dir = GORT_RECV, .elem = &v, .ok = true};
    CHECK(gort_select(&r, 1, false) == 0 && !r.ok && v == 0);
}

static void test_fifo_buffered(void)
{
    gort_chan *c = gort_chan_make(sizeof(long), 100);
    for (long i = 0; i < 100; i++)
        gort_chan_send(c, &i);
    long v = 0;
    gort_case s = {.chan = c, .dir = GORT_SEND, .elem = &v};
    CHECK(gort_select(&s, 1, false) == -1); /* full */
    for (long i = 0; i < 100; i++)
        CHECK(gort_chan_recv(c, &v) && v == i);
    gort_case r = {.chan = c, .dir = GORT_RECV, .elem = &v};
    CHECK(gort_select(&r, 1, false) == -1); /* empty */
    /* Partial fills: the ring wraps around several times. */
    for (long round = 0; round < 10; round++) {
        for (long i = 0; i < 70; i++) {
            long w = round * 1000 + i;
            gort_chan_send(c, &w);
        }
        for (long i = 0; i < 70; i++)
            CHECK(gort_chan_recv(c, &v) && v == round * 1000 + i);
    }
}

struct seq {
    gort_chan *c;
    long from, n;
    size_t size;
};

static void send_seq(void *arg)
{
    struct seq *a = arg;
    unsigned char buf[4096];
    for (long i = 0; i < a->n; i++) {
        memset(buf, (int)((a->from + i) & 0xff), a->size);
        memcpy(buf, &(long){a->from + i}, a->size < sizeof(long) ? a->size : sizeof(long));
        gort_chan_send(a->c, buf);
    }
}

/* Unbuffered, and buffered with senders parked on a full buffer: values
 * arrive in the order they were sent, for several element sizes. */
static void test_fifo_sizes(void)
{
    static const size_t sizes[] = {8, 3, 16, 100, 4096};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        for (size_t cap = 0; cap <= 4; cap += 2) {
            size_t size = sizes[k];
            gort_chan *c = gort_chan_make(size, cap);
            struct seq a = {c, 0, 1000, size};
            gort_go(send_seq, &a, sizeof a);
            unsigned char buf[4096];
            for (long i = 0; i < 1000; i++) {
                CHECK(gort_chan_recv(c, buf));
                long v = 0;
                memcpy(&v, buf, size < sizeof(long) ? size : sizeof(long));
                long want = i;
                if (size < sizeof(long))
                    want &= (long)((1ul << (8 * size)) - 1);
                CHECK(v == want);
                for (size_t j = sizeof(long); j < size; j++)
                    CHECK(buf[j] == (unsigned char)(i & 0xff));
            }
        }
    }
}

/* A receive into NULL discards the value but still takes it. */
static void test_recv_null(void)
{
    gort_chan *c = gort_chan_make(sizeof(long), 2);
    long one = 1, two = 2, v;
    gort_chan_send(c, &one);
    gort_chan_send(c, &two);
    CHECK(gort_chan_recv(c, NULL));
    CHECK(gort_chan_recv(c, &v) && v == 2);

    gort_chan *u = gort_chan_make(sizeof(long), 0);
    struct seq a = {u, 10, 2, sizeof(long)};
    gort_go(send_seq, &a, sizeof a);
    CHECK(gort_chan_recv(u, NULL));
    CHECK(gort_chan_recv(u, &v) && v == 11);
    gort_chan_close(u);
    CHECK(!gort_chan_recv(u, NULL));
}

struct waiter {
    gort_chan *c, *result;
};

static void recv_report(void *arg)
{
    struct waiter *w = arg;
    long v = 77;
    bool ok = gort_chan_recv(w->c, &v);
    long r = ok ? -1 : v; /* 0 expected */
    gort_chan_send(w->result, &r);
}

/* Close wakes every blocked receiver with (zero, false). */
static void test_close_wakes_all(void)
{
    for (size_t cap = 0; cap < 3; cap++) {
        gort_chan *c = gort_chan_make(sizeof(long), cap);
        gort_chan *result = gort_chan_make(sizeof(long), 0);
        struct waiter w = {c, result};
        for (int i = 0; i < 50; i++)
            gort_go(recv_report, &w, sizeof w);
        for (int i = 0; i < 100; i++)
            gort_gosched();
        gort_chan_close(c);
        for (int i = 0; i < 50; i++) {
            long r;
            gort_chan_recv(result, &r);
            CHECK(r == 0);
        }
    }
}

/* The largest allowed element, and a buffer of odd-sized ones. */
static void test_big_elements(void)
{
    size_t size = 65535;
    gort_chan *c = gort_chan_make(size, 2);
    unsigned char *a = malloc(size), *b = malloc(size);
    for (size_t i = 0; i < size; i++)
        a[i] = (unsigned char)(i * 31 + 7);
    gort_chan_send(c, a);
    gort_chan_send(c, a);
    memset(b, 0, size);
    CHECK(gort_chan_recv(c, b) && memcmp(a, b, size) == 0);
    CHECK(gort_chan_recv(c, b) && memcmp(a, b, size) == 0);
    free(a);
    free(b);
}

/* Each channel's buffer is aligned like malloc's memory. */
static void test_alignment(void)
{
    typedef struct {
        alignas(16) long double x;
    } wide;
    gort_chan *c = gort_chan_make(sizeof(wide), 4);
    wide w = {1.5L}, r;
    for (int i = 0; i < 4; i++)
        gort_chan_send(c, &w);
    for (int i = 0; i < 4; i++)
        CHECK(gort_chan_recv(c, &r) && r.x == 1.5L);
}

static void test_zero_size_chan_nonblocking(void)
{
    gort_chan *c = gort_chan_make(0, 0);
    gort_case s = {.chan = c, .dir = GORT_SEND};
    gort_case r = {.chan = c, .dir = GORT_RECV};
    CHECK(gort_select(&s, 1, false) == -1);
    CHECK(gort_select(&r, 1, false) == -1);
    gort_chan_close(c);
    CHECK(gort_select(&r, 1, false) == 0 && !r.ok);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    test_nil();
    test_buffered_len_cap_close();
    test_fifo_buffered();
    test_fifo_sizes();
    test_recv_null();
    test_close_wakes_all();
    test_big_elements();
    test_alignment();
    test_zero_size_chan_nonblocking();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
