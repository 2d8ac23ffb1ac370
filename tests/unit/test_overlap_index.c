/* test_overlap_index.c - which windows show the bytes a write changed.
 *
 * Windows are declared over sparse temp backing files, the path tree is
 * built and the index built from it. Covers overlap_index_build +
 * overlap_index_visit: a worked example (shared writes reach ro, rw and cow
 * windows, cow writes reach only the other cow windows, the writer itself is
 * never visited, ranges are in the visited window's coordinates), a backing
 * file with a single window visits nothing, another backing file's windows
 * are never visited, chunk members (layout=chunks) are visited with their
 * computed inode numbers, and thousands of random writes over random
 * windows (with one very long window, so the search bound matters) give
 * exactly what a brute-force scan gives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit_fixture.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slicefs/overlap_index.h"

#define FILE_SIZE ((uint64_t)1 << 20)

struct fixture {
    char dir[256];
    char disk_a[512];
    char disk_b[512];
    struct window_table table;
    struct path_tree tree;
    struct overlap_index index;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    if (unit_temp_dir(f->dir, sizeof f->dir) != 0)
        return -1;
    snprintf(f->disk_a, sizeof f->disk_a, "%s/a.img", f->dir);
    snprintf(f->disk_b, sizeof f->disk_b, "%s/b.img", f->dir);
    const char *paths[] = {f->disk_a, f->disk_b};
    for (int i = 0; i < 2; i++) {
        int fd = open(paths[i], O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t)FILE_SIZE) != 0)
            return -1;
        close(fd);
    }
    window_table_init(&f->table, false);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    overlap_index_free(&f->index);
    path_tree_free(&f->tree);
    int res = window_table_close(&f->table);
    if (unit_remove_tree(f->dir) != 0)
        res = -1;
    free(f);
    return res;
}

static void add(struct fixture *f, const char *name, uint64_t offset, uint64_t length,
                enum window_mode mode, const char *backing)
{
    struct window_spec spec = {
        .path = (char *)name,
        .offset = offset,
        .length = length,
        .mode = mode,
        .origin = (char *)name,
    };
    struct sfs_error err = {{0}};
    if (window_table_add(&f->table, &spec, backing, &err) != 0)
        fail_msg("window %s: %s", name, err.msg);
}

static void build(struct fixture *f)
{
    struct sfs_error err = {{0}};
    if (path_tree_build(&f->tree, &f->table, &err) != 0)
        fail_msg("path_tree_build: %s", err.msg);
    if (overlap_index_build(&f->index, &f->tree, &err) != 0)
        fail_msg("overlap_index_build: %s", err.msg);
}

static uint64_t ino_of(const struct fixture *f, const char *name)
{
    uint64_t ino = path_tree_lookup(&f->tree, PATH_TREE_ROOT_INO, name);
    if (ino == 0)
        fail_msg("no window '%s'", name);
    return ino;
}

struct visit {
    uint64_t ino, offset, length;
};

struct visits {
    struct visit *v;
    size_t count, capacity;
};

static void record(void *arg, uint64_t ino, uint64_t offset, uint64_t length)
{
    struct visits *vs = arg;
    if (vs->count == vs->capacity) {
        vs->capacity = vs->capacity ? 2 * vs->capacity : 16;
        vs->v = realloc(vs->v, vs->capacity * sizeof *vs->v);
        assert_non_null(vs->v);
    }
    vs->v[vs->count++] = (struct visit){ino, offset, length};
}

static int compare_visits(const void *a, const void *b)
{
    const struct visit *x = a, *y = b;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return x->length < y->length ? -1 : x->length > y->length;
}

/* Runs one visit and returns what it reported, sorted by inode. */
static struct visits run(const struct fixture *f, const struct backing *b, bool cow, uint64_t start,
                         uint64_t length, uint64_t self)
{
    struct visits vs = {0};
    overlap_index_visit(&f->index, b, cow, start, length, self, record, &vs);
    if (vs.count > 1)
        qsort(vs.v, vs.count, sizeof *vs.v, compare_visits);
    return vs;
}

static void expect_visits(struct visits vs, const struct visit *want, size_t n)
{
    if (vs.count != n)
        fail_msg("%zu windows visited, expected %zu", vs.count, n);
    for (size_t i = 0; i < n; i++)
        if (compare_visits(&vs.v[i], &want[i]) != 0)
            fail_msg("visit %zu: ino %llu [%llu, +%llu), expected ino %llu [%llu, +%llu)", i,
                     (unsigned long long)vs.v[i].ino, (unsigned long long)vs.v[i].offset,
                     (unsigned long long)vs.v[i].length, (unsigned long long)want[i].ino,
                     (unsigned long long)want[i].offset, (unsigned long long)want[i].length);
    free(vs.v);
}

static void test_worked_example(void **state)
{
    struct fixture *f = *state;
    add(f, "a", 0, 100, WINDOW_MODE_RW, f->disk_a);
    add(f, "b", 50, 100, WINDOW_MODE_RO, f->disk_a);
    add(f, "c", 120, 80, WINDOW_MODE_COW, f->disk_a);
    add(f, "d", 500, 100, WINDOW_MODE_COW, f->disk_a);
    add(f, "e", 130, 20, WINDOW_MODE_COW, f->disk_a);
    build(f);
    const struct backing *ba = f->table.backings[0];
    uint64_t a = ino_of(f, "a"), b = ino_of(f, "b"), c = ino_of(f, "c"), e = ino_of(f, "e");

    /* Through a (shared) at [60, 70): b sees it at 10. */
    expect_visits(run(f, ba, false, 60, 10, a), (struct visit[]){{b, 10, 10}}, 1);

    /* Through a at [90, 100): b at 40; c starts at 120, untouched. */
    expect_visits(run(f, ba, false, 90, 10, a), (struct visit[]){{b, 40, 10}}, 1);

    /* Through b (as if writable) at [90, 140): a, c and e, clipped to each. */
    struct visit want[3] = {{a, 90, 10}, {c, 0, 20}, {e, 0, 10}};
    qsort(want, 3, sizeof want[0], compare_visits);
    expect_visits(run(f, ba, false, 90, 50, b), want, 3);

    /* Through c's overlay at [125, 145): only the other cow window e. */
    expect_visits(run(f, ba, true, 125, 20, c), (struct visit[]){{e, 0, 15}}, 1);

    /* Nothing in range, an empty range, bytes past every window. */
    expect_visits(run(f, ba, false, 300, 100, a), NULL, 0);
    expect_visits(run(f, ba, false, 60, 0, a), NULL, 0);
    expect_visits(run(f, ba, true, 600, 1000, c), NULL, 0);
    /* Exactly adjacent ranges do not overlap. */
    expect_visits(run(f, ba, false, 150, 50, a), (struct visit[]){{c, 30, 50}}, 1);
    expect_visits(run(f, ba, false, 200, 300, a), NULL, 0);
}

static void test_single_window_and_other_backing(void **state)
{
    struct fixture *f = *state;
    add(f, "only", 0, 1000, WINDOW_MODE_RW, f->disk_a);
    add(f, "x", 0, 1000, WINDOW_MODE_RW, f->disk_b);
    add(f, "y", 500, 1000, WINDOW_MODE_RO, f->disk_b);
    build(f);
    const struct backing *ba = f->table.backings[0], *bb = f->table.backings[1];
    assert_true(ba != bb);
    uint64_t only = ino_of(f, "only"), x = ino_of(f, "x"), y = ino_of(f, "y");

    /* a.img has one window: nothing else can show its bytes. */
    expect_visits(run(f, ba, false, 0, 1000, only), NULL, 0);
    /* b.img's windows never answer for a.img, nor a.img's for b.img. */
    expect_visits(run(f, bb, false, 0, 600, x), (struct visit[]){{y, 0, 100}}, 1);
    /* A backing file the index does not know. */
    struct backing stranger;
    memset(&stranger, 0, sizeof stranger);
    expect_visits(run(f, &stranger, false, 0, 1000, 0), NULL, 0);
}

static void test_chunk_members(void **state)
{
    struct fixture *f = *state;
    add(f, "whole", 0, FILE_SIZE, WINDOW_MODE_RW, f->disk_a);
    add(f, "cw", 4096, 8192, WINDOW_MODE_COW, f->disk_a);
    /* Chunks of 64 KiB over [128 KiB, 128 KiB + 200000). */
    struct window_spec spec = {
        .path = (char *)"chunks",
        .offset = 128 * 1024,
        .length = 200000,
        .mode = WINDOW_MODE_RO,
        .origin = (char *)"layout=chunks:64K",
    };
    struct sfs_error err = {{0}};
    if (window_table_add_chunks(&f->table, &spec, 65536, f->disk_a, &err) != 0)
        fail_msg("chunks: %s", err.msg);
    build(f);
    const struct backing *ba = f->table.backings[0];
    uint64_t whole = ino_of(f, "whole"), cw = ino_of(f, "cw");
    uint64_t first = f->tree.rule_ino_base;
    assert_true(f->tree.root_rule != NULL);
    assert_int_equal(f->tree.root_rule->count, 4); /* 3 full chunks and 3392 bytes */

    /* A shared write across the end of chunk 0 and into chunk 1. */
    uint64_t start = 128 * 1024 + 65536 - 10;
    struct visit want[] = {{whole, start, 20}, {first + 0, 65526, 10}, {first + 1, 0, 10}};
    qsort(want, 3, sizeof want[0], compare_visits);
    struct visits vs = run(f, ba, false, start, 20, cw);
    expect_visits(vs, want, 3);

    /* Into the short last chunk, and past the rule's end. */
    uint64_t last_start = 128 * 1024 + 3 * 65536;
    struct visit want2[] = {{whole, last_start + 3000, 1000}, {first + 3, 3000, 392}};
    qsort(want2, 2, sizeof want2[0], compare_visits);
    expect_visits(run(f, ba, false, last_start + 3000, 1000, cw), want2, 2);

    /* Through a chunk itself: it is skipped, the whole window is not. */
    expect_visits(run(f, ba, false, 128 * 1024 + 5, 5, first + 0),
                  (struct visit[]){{whole, 128 * 1024 + 5, 5}}, 1);

    /* A cow write reaches neither the ro chunks nor the rw window. */
    expect_visits(run(f, ba, true, 4096, 8192, cw), NULL, 0);
}

/* A small deterministic generator, so failures repeat. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#define RANDOM_WINDOWS 300
#define RANDOM_WRITES 5000

struct declared {
    uint64_t ino, offset, length;
    bool cow;
    const struct backing *backing;
};

static void test_matches_brute_force(void **state)
{
    struct fixture *f = *state;
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    static const enum window_mode modes[] = {WINDOW_MODE_RO, WINDOW_MODE_RW, WINDOW_MODE_COW};
    char name[32];
    for (int i = 0; i < RANDOM_WINDOWS; i++) {
        /* Mostly short windows, a few long ones; one spans the whole file. */
        uint64_t offset = next_random(&seed) % FILE_SIZE;
        uint64_t room = FILE_SIZE - offset, length;
        if (i == 7) {
            offset = 0;
            length = FILE_SIZE;
        } else if (next_random(&seed) % 8 == 0) {
            length = next_random(&seed) % (room + 1);
        } else {
            length = next_random(&seed) % (room < 5000 ? room + 1 : 5000);
        }
        snprintf(name, sizeof name, "w%d", i);
        add(f, name, offset, length, modes[next_random(&seed) % 3],
            next_random(&seed) % 4 == 0 ? f->disk_b : f->disk_a);
    }
    build(f);

    struct declared *d = calloc(RANDOM_WINDOWS, sizeof *d);
    assert_non_null(d);
    for (int i = 0; i < RANDOM_WINDOWS; i++) {
        snprintf(name, sizeof name, "w%d", i);
        const struct window *w = &f->table.windows[i];
        d[i] = (struct declared){ino_of(f, name), w->offset, w->length, w->mode == WINDOW_MODE_COW,
                                 w->backing};
    }

    struct visit *want = calloc(RANDOM_WINDOWS, sizeof *want);
    assert_non_null(want);
    for (int n = 0; n < RANDOM_WRITES; n++) {
        const struct declared *self = &d[next_random(&seed) % RANDOM_WINDOWS];
        if (self->length == 0)
            continue;
        uint64_t start = self->offset + next_random(&seed) % self->length;
        uint64_t length = 1 + next_random(&seed) % (self->offset + self->length - start);
        uint64_t end = start + length;
        size_t count = 0;
        for (int i = 0; i < RANDOM_WINDOWS; i++) {
            const struct declared *o = &d[i];
            if (o == self || o->backing != self->backing || (self->cow && !o->cow))
                continue;
            uint64_t lo = start > o->offset ? start : o->offset;
            uint64_t hi = end < o->offset + o->length ? end : o->offset + o->length;
            if (lo < hi)
                want[count++] = (struct visit){o->ino, lo - o->offset, hi - lo};
        }
        qsort(want, count, sizeof *want, compare_visits);
        expect_visits(run(f, self->backing, self->cow, start, length, self->ino), want, count);
    }
    free(want);
    free(d);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_worked_example),
        T(test_single_window_and_other_backing),
        T(test_chunk_members),
        T(test_matches_brute_force),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
