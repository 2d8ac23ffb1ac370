/* test_window_rule.c - chunk rules (layout=chunks) and what uses them.
 *
 * Each test gets a fresh mkdtemp folder; backing files are sparse
 * (ftruncate), so a 1 TiB file costs nothing. Covers
 * window_table_add_chunks: the count, the name width (8 digits at least,
 * wider when the last index needs it), the member offsets and lengths (the
 * last may be short; exact multiples have no short chunk), an offset and a
 * length on the rule, chunk size 0 and a rule past the end refused;
 * window_rule_name / window_rule_member / window_rule_index (exactly the
 * zero-padded names of existing members). The path tree with a rule in the
 * root: distinct inode numbers, resolve, dir size, readdir order, a declared
 * name colliding with a chunk name refused (naming both origins), two rules
 * refused. window_table_list prints chunks too, in the table format, and
 * source_table reads its output back to the same windows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit_fixture.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slicefs/path_tree.h"
#include "slicefs/table_format.h"
#include "slicefs/window_source.h"
#include "slicefs/window_table.h"

#define MiB ((uint64_t)1 << 20)
#define TiB ((uint64_t)1 << 40)

struct fixture {
    char dir[256];
    char disk[PATH_MAX]; /* 10 MiB + 5 bytes */
};

static void make_sparse(const char *path, uint64_t size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        fail_msg("cannot create %s", path);
    if (ftruncate(fd, (off_t)size) != 0)
        fail_msg("cannot make %s %llu bytes long", path, (unsigned long long)size);
    assert_int_equal(close(fd), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    if (unit_temp_dir(f->dir, sizeof f->dir) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->disk, sizeof f->disk, "%s/disk.img", f->dir);
    make_sparse(f->disk, 10 * MiB + 5);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int res = unit_remove_tree(f->dir);
    free(f);
    return res;
}

static void assert_contains(const char *msg, const char *part)
{
    if (strstr(msg, part) == NULL)
        fail_msg("message '%s' does not contain '%s'", msg, part);
}

/* A sparse file name in the fixture's folder, size bytes long. */
static void sparse_in(const struct fixture *f, const char *name, uint64_t size, char *path,
                      size_t path_size)
{
    snprintf(path, path_size, "%s/%s", f->dir, name);
    make_sparse(path, size);
}

static int add_chunks(struct window_table *t, const char *backing, const char *offset,
                      const char *length, const char *mode, uint64_t chunk_size, const char *origin,
                      struct sfs_error *err)
{
    struct window_spec spec;
    memset(err, 0, sizeof *err);
    if (window_spec_from_fields("chunks", offset, length, mode, NULL, origin, &spec, err) < 0)
        fail_msg("spec %s refused: %s", origin, err->msg);
    int res = window_table_add_chunks(t, &spec, chunk_size, backing, err);
    window_spec_free(&spec);
    return res;
}

static void add_chunks_ok(struct window_table *t, const char *backing, uint64_t chunk_size,
                          const char *origin)
{
    struct sfs_error err;
    if (add_chunks(t, backing, "0", "end", NULL, chunk_size, origin, &err) != 0)
        fail_msg("chunk rule %s refused: %s", origin, err.msg);
}

static void add_window_ok(struct window_table *t, const char *path, const char *offset,
                          const char *length, const char *mode, const char *backing,
                          const char *origin)
{
    struct window_spec spec;
    struct sfs_error err = {{0}};
    if (window_spec_from_fields(path, offset, length, mode, NULL, origin, &spec, &err) < 0)
        fail_msg("spec %s refused: %s", origin, err.msg);
    if (window_table_add(t, &spec, backing, &err) != 0)
        fail_msg("window %s refused: %s", origin, err.msg);
    window_spec_free(&spec);
}

/* ---- window_table_add_chunks ---- */

static void test_chunks_with_short_last(void **state)
{
    struct fixture *f = *state;
    struct window_table t;
    window_table_init(&t, false);
    add_chunks_ok(&t, f->disk, MiB, "layout=chunks:1M");
    assert_int_equal(t.count, 0);
    assert_int_equal(t.rule_count, 1);
    const struct window_rule *r = &t.rules[0];
    assert_int_equal(r->count, 11);
    assert_int_equal(r->name_width, 8);
    assert_int_equal(r->offset, 0);
    assert_int_equal(r->chunk_size, MiB);
    assert_int_equal(r->total, 10 * MiB + 5);
    assert_int_equal(r->mode, WINDOW_MODE_RW);
    assert_string_equal(r->origin, "layout=chunks:1M");
    assert_ptr_equal(r->backing, t.backings[0]);

    for (uint64_t k = 0; k < r->count; k++) {
        struct window w;
        char name[WINDOW_RULE_NAME_MAX];
        char expected[32];
        window_rule_member(r, k, &w, name);
        snprintf(expected, sizeof expected, "%08llu", (unsigned long long)k);
        assert_string_equal(name, expected);
        assert_ptr_equal(w.path, name);
        assert_int_equal(w.offset, k * MiB);
        assert_int_equal(w.length, k < 10 ? MiB : 5);
        assert_false(w.to_end);
        assert_ptr_equal(w.backing, r->backing);
        assert_int_equal(w.mode, WINDOW_MODE_RW);
        assert_string_equal(w.origin, "layout=chunks:1M");
    }
    assert_int_equal(window_table_close(&t), 0);
}

static void test_chunks_exact_multiple(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX];
    sparse_in(f, "exact.img", 10 * MiB, path, sizeof path);
    struct window_table t;
    window_table_init(&t, false);
    add_chunks_ok(&t, path, MiB, "layout=chunks:1M");
    const struct window_rule *r = &t.rules[0];
    assert_int_equal(r->count, 10);
    struct window w;
    char name[WINDOW_RULE_NAME_MAX];
    window_rule_member(r, 9, &w, name);
    assert_string_equal(name, "00000009");
    assert_int_equal(w.offset, 9 * MiB);
    assert_int_equal(w.length, MiB);

    /* One chunk as large as the file; a chunk larger than the file. */
    add_chunks_ok(&t, path, 10 * MiB, "layout=chunks:10M");
    assert_int_equal(t.rules[1].count, 1);
    window_rule_member(&t.rules[1], 0, &w, name);
    assert_int_equal(w.length, 10 * MiB);
    add_chunks_ok(&t, path, 64 * MiB, "layout=chunks:64M");
    assert_int_equal(t.rules[2].count, 1);
    window_rule_member(&t.rules[2], 0, &w, name);
    assert_int_equal(w.offset, 0);
    assert_int_equal(w.length, 10 * MiB);
    /* All three rules share the one backing file. */
    assert_int_equal(t.backing_count, 1);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_chunks_of_a_range(void **state)
{
    struct fixture *f = *state;
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    /* From 100 to the end: 10 MiB - 95 bytes, so 10 chunks, the last short. */
    assert_int_equal(add_chunks(&t, f->disk, "100", "end", "ro", MiB, "r1", &err), 0);
    const struct window_rule *r = &t.rules[0];
    assert_int_equal(r->offset, 100);
    assert_int_equal(r->total, 10 * MiB + 5 - 100);
    assert_int_equal(r->count, 10);
    assert_int_equal(r->mode, WINDOW_MODE_RO);
    struct window w;
    char name[WINDOW_RULE_NAME_MAX];
    window_rule_member(r, 0, &w, name);
    assert_int_equal(w.offset, 100);
    assert_int_equal(w.length, MiB);
    window_rule_member(r, 9, &w, name);
    assert_int_equal(w.offset, 100 + 9 * MiB);
    assert_int_equal(w.length, MiB - 95);
    assert_int_equal(w.mode, WINDOW_MODE_RO);

    /* An explicit length: 4096 bytes from 1 MiB in 1000-byte chunks. */
    assert_int_equal(add_chunks(&t, f->disk, "1M", "4096", "cow", 1000, "r2", &err), 0);
    r = &t.rules[1];
    assert_int_equal(r->count, 5);
    window_rule_member(r, 4, &w, name);
    assert_int_equal(w.offset, MiB + 4000);
    assert_int_equal(w.length, 96);
    assert_int_equal(w.mode, WINDOW_MODE_COW);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_chunk_size_zero_refused(void **state)
{
    struct fixture *f = *state;
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    assert_int_equal(add_chunks(&t, f->disk, "0", "end", NULL, 0, "layout=chunks:0", &err), -1);
    assert_contains(err.msg, "layout=chunks:0: SIZE: chunks must be at least 1 byte");
    assert_int_equal(t.rule_count, 0);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_chunks_past_the_end_refused(void **state)
{
    struct fixture *f = *state;
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    assert_int_equal(add_chunks(&t, f->disk, "10M", "6", NULL, MiB, "rx", &err), -1);
    assert_contains(err.msg, "rx: LENGTH:");
    assert_contains(err.msg, "past the end");
    assert_int_equal(add_chunks(&t, f->disk, "11M", "end", NULL, MiB, "ry", &err), -1);
    assert_contains(err.msg, "ry: OFFSET:");
    assert_int_equal(t.rule_count, 0);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_chunks_of_an_empty_file(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX];
    sparse_in(f, "empty.img", 0, path, sizeof path);
    struct window_table t;
    window_table_init(&t, false);
    add_chunks_ok(&t, path, MiB, "empty");
    assert_int_equal(t.rules[0].count, 0);
    assert_int_equal(t.rules[0].name_width, 8);
    uint64_t index = 99;
    assert_false(window_rule_index(&t.rules[0], "00000000", &index));
    assert_int_equal(index, 99);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_million_chunks_of_a_tebibyte(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX];
    sparse_in(f, "huge.img", TiB, path, sizeof path);
    struct window_table t;
    window_table_init(&t, false);
    add_chunks_ok(&t, path, MiB, "layout=chunks:1M");
    const struct window_rule *r = &t.rules[0];
    assert_int_equal(r->count, 1048576);
    assert_int_equal(r->name_width, 8);
    struct window w;
    char name[WINDOW_RULE_NAME_MAX];
    window_rule_member(r, 1048575, &w, name);
    assert_string_equal(name, "01048575");
    assert_int_equal(w.offset, TiB - MiB);
    assert_int_equal(w.length, MiB);
    window_rule_member(r, 4097, &w, name);
    assert_int_equal(w.offset, (uint64_t)4097 * MiB); /* past 4 GiB */
    uint64_t index;
    assert_true(window_rule_index(r, "01048575", &index));
    assert_int_equal(index, 1048575);
    assert_false(window_rule_index(r, "01048576", &index));
    assert_int_equal(window_table_close(&t), 0);
}

/* The width of 1-byte chunks over a file of size bytes. */
static unsigned width_for(const struct fixture *f, uint64_t size, uint64_t *count)
{
    char path[PATH_MAX];
    sparse_in(f, "width.img", size, path, sizeof path);
    struct window_table t;
    window_table_init(&t, true);
    add_chunks_ok(&t, path, 1, "layout=chunks:1");
    unsigned width = t.rules[0].name_width;
    *count = t.rules[0].count;
    assert_int_equal(window_table_close(&t), 0);
    unlink(path);
    return width;
}

static void test_name_width_grows(void **state)
{
    struct fixture *f = *state;
    uint64_t count;
    assert_int_equal(width_for(f, 1, &count), 8);
    assert_int_equal(count, 1);
    assert_int_equal(width_for(f, 100000000, &count), 8); /* last is 99999999 */
    assert_int_equal(count, 100000000);
    assert_int_equal(width_for(f, 100000001, &count), 9); /* last is 100000000 */
    assert_int_equal(count, 100000001);
    assert_int_equal(width_for(f, 1000000000, &count), 9); /* last is 999999999 */
    assert_int_equal(count, 1000000000);
    assert_int_equal(width_for(f, 1000000001, &count), 10);
    assert_int_equal(width_for(f, (uint64_t)1 << 30, &count), 10); /* 1 GiB */
    assert_int_equal(count, (uint64_t)1 << 30);
    assert_int_equal(width_for(f, 2 * TiB, &count), 13); /* last is 2199023255551 */

    /* Names of a 9-digit rule. */
    char path[PATH_MAX];
    sparse_in(f, "nine.img", 100000001, path, sizeof path);
    struct window_table t;
    window_table_init(&t, true);
    add_chunks_ok(&t, path, 1, "nine");
    const struct window_rule *r = &t.rules[0];
    char name[WINDOW_RULE_NAME_MAX];
    window_rule_name(r, 0, name);
    assert_string_equal(name, "000000000");
    window_rule_name(r, 100000000, name);
    assert_string_equal(name, "100000000");
    uint64_t index;
    assert_true(window_rule_index(r, "100000000", &index));
    assert_int_equal(index, 100000000);
    assert_true(window_rule_index(r, "000000007", &index));
    assert_int_equal(index, 7);
    assert_false(window_rule_index(r, "00000007", &index)); /* 8 digits: too short */
    assert_false(window_rule_index(r, "100000001", &index));
    struct window w;
    window_rule_member(r, 100000000, &w, name);
    assert_int_equal(w.offset, 100000000);
    assert_int_equal(w.length, 1);
    assert_int_equal(window_table_close(&t), 0);
}

/* ---- names ---- */

static void test_rule_index_accepts_exactly_member_names(void **state)
{
    struct fixture *f = *state;
    struct window_table t;
    window_table_init(&t, false);
    add_chunks_ok(&t, f->disk, MiB, "layout=chunks:1M"); /* 11 members */
    const struct window_rule *r = &t.rules[0];
    uint64_t index = 12345;
    assert_true(window_rule_index(r, "00000000", &index));
    assert_int_equal(index, 0);
    assert_true(window_rule_index(r, "00000007", &index));
    assert_int_equal(index, 7);
    assert_true(window_rule_index(r, "00000010", &index));
    assert_int_equal(index, 10);

    static const char *const refused[] = {
        "0",        "00",       "0000000",  "000000001", "0000000000", "0000000a",
        "a0000000", "00000011", "00000012", "99999999",  "",           "+0000001",
        "-0000001", " 0000001", "0000001 ", "00000001/", "0x000001",   "00000001\n",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        index = 12345;
        if (window_rule_index(r, refused[i], &index))
            fail_msg("'%s' taken as member %llu", refused[i], (unsigned long long)index);
        assert_int_equal(index, 12345);
    }
    assert_int_equal(window_table_close(&t), 0);
}

static void test_rule_member_names_match_rule_name(void **state)
{
    struct fixture *f = *state;
    struct window_table t;
    window_table_init(&t, false);
    add_chunks_ok(&t, f->disk, 4096, "layout=chunks:4K"); /* 2561 members */
    const struct window_rule *r = &t.rules[0];
    assert_int_equal(r->count, 2561);
    for (uint64_t k = 0; k < r->count; k++) {
        char name[WINDOW_RULE_NAME_MAX], member_name[WINDOW_RULE_NAME_MAX];
        struct window w;
        window_rule_name(r, k, name);
        window_rule_member(r, k, &w, member_name);
        assert_string_equal(name, member_name);
        assert_int_equal(strlen(name), 8);
        uint64_t index;
        assert_true(window_rule_index(r, name, &index));
        assert_int_equal(index, k);
    }
    char name[WINDOW_RULE_NAME_MAX];
    window_rule_name(r, 2560, name);
    assert_string_equal(name, "00002560");
    assert_int_equal(window_table_close(&t), 0);
}

/* ---- the path tree with a rule ---- */

static void test_tree_with_rule(void **state)
{
    struct fixture *f = *state;
    struct window_table t;
    window_table_init(&t, false);
    add_window_ok(&t, "hdr", "0", "512", "ro", f->disk, "window=hdr");
    add_window_ok(&t, "dir/x", "512", "100", NULL, f->disk, "window=dir/x");
    add_chunks_ok(&t, f->disk, MiB, "layout=chunks:1M");
    struct path_tree tree;
    struct sfs_error err = {{0}};
    if (path_tree_build(&tree, &t, &err) != 0)
        fail_msg("path_tree_build: %s", err.msg);
    assert_ptr_equal(tree.root_rule, &t.rules[0]);
    assert_int_equal(tree.count, 4); /* root, hdr, dir, dir/x */
    /* Chunks: the rule's base (a hash of the backing file) plus the index. */
    assert_true(tree.rule_ino_base & PATH_TREE_RULE_INO_BIT);
    assert_int_equal(tree.rule_ino_base & PATH_TREE_RULE_INDEX_MASK, 0);

    uint64_t hdr = path_tree_lookup(&tree, PATH_TREE_ROOT_INO, "hdr");
    uint64_t dir = path_tree_lookup(&tree, PATH_TREE_ROOT_INO, "dir");
    uint64_t c3 = path_tree_lookup(&tree, PATH_TREE_ROOT_INO, "00000003");
    uint64_t c10 = path_tree_lookup(&tree, PATH_TREE_ROOT_INO, "00000010");
    assert_true(hdr != 0 && dir != 0 && c3 != 0 && c10 != 0);
    assert_true(hdr != c3 && dir != c3 && c3 != c10);
    assert_true(hdr < PATH_TREE_RULE_INO_BIT && dir < PATH_TREE_RULE_INO_BIT);
    assert_int_equal(c3, tree.rule_ino_base + 3);
    assert_int_equal(c10, tree.rule_ino_base + 10);
    /* No such chunk; chunks live only in the root. */
    assert_int_equal(path_tree_lookup(&tree, PATH_TREE_ROOT_INO, "00000011"), 0);
    assert_int_equal(path_tree_lookup(&tree, PATH_TREE_ROOT_INO, "3"), 0);
    assert_int_equal(path_tree_lookup(&tree, dir, "00000003"), 0);
    assert_int_equal(path_tree_lookup(&tree, hdr, "00000003"), 0);
    assert_int_equal(path_tree_lookup(&tree, c3, "00000003"), 0);

    struct tree_entry e;
    assert_true(path_tree_resolve(&tree, c3, &e));
    assert_null(e.dir);
    assert_non_null(e.window);
    assert_string_equal(e.window->path, "00000003");
    assert_int_equal(e.window->offset, 3 * MiB);
    assert_int_equal(e.window->length, MiB);
    assert_int_equal(e.window->mode, WINDOW_MODE_RW);
    assert_ptr_equal(e.window->backing, t.backings[0]);
    assert_true(path_tree_resolve(&tree, c10, &e));
    assert_string_equal(e.window->path, "00000010");
    assert_int_equal(e.window->offset, 10 * MiB);
    assert_int_equal(e.window->length, 5);
    assert_true(path_tree_resolve(&tree, hdr, &e));
    assert_ptr_equal(e.window, &t.windows[0]);
    assert_int_equal(e.window->mode, WINDOW_MODE_RO);
    assert_true(path_tree_resolve(&tree, dir, &e));
    assert_non_null(e.dir);
    assert_null(e.window);
    assert_false(path_tree_resolve(&tree, tree.rule_ino_base + 11, &e));
    assert_false(path_tree_resolve(&tree, 0, &e));

    const struct tree_node *root = path_tree_node(&tree, PATH_TREE_ROOT_INO);
    assert_int_equal(path_tree_dir_size(&tree, root), 2 + 11);
    assert_int_equal(path_tree_dir_size(&tree, path_tree_node(&tree, dir)), 1);

    /* Declared entries first (sorted), then the chunks in order. */
    static const char *const order[] = {"dir", "hdr"};
    for (uint64_t i = 0; i < 13; i++) {
        char buf[WINDOW_RULE_NAME_MAX];
        uint64_t ino = 0;
        bool is_dir = true;
        const char *name = path_tree_dir_entry(&tree, root, i, buf, &ino, &is_dir);
        if (i < 2) {
            assert_string_equal(name, order[i]);
            assert_int_equal(is_dir, i == 0);
        } else {
            char expected[32];
            snprintf(expected, sizeof expected, "%08llu", (unsigned long long)(i - 2));
            assert_string_equal(name, expected);
            assert_int_equal(ino, tree.rule_ino_base + i - 2);
            assert_false(is_dir);
        }
        assert_int_equal(path_tree_lookup(&tree, PATH_TREE_ROOT_INO, name), ino);
    }
    path_tree_free(&tree);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_tree_declared_names_beside_chunks(void **state)
{
    struct fixture *f = *state;
    struct window_table t;
    window_table_init(&t, false);
    /* Names that look like chunks but are not members: allowed. */
    add_window_ok(&t, "00000011", "0", "1", NULL, f->disk, "w1");
    add_window_ok(&t, "0000002", "0", "1", NULL, f->disk, "w2");
    add_window_ok(&t, "d/00000002", "0", "1", NULL, f->disk, "w3");
    add_chunks_ok(&t, f->disk, MiB, "layout=chunks:1M");
    struct path_tree tree;
    struct sfs_error err = {{0}};
    if (path_tree_build(&tree, &t, &err) != 0)
        fail_msg("path_tree_build: %s", err.msg);
    uint64_t ino = path_tree_lookup(&tree, PATH_TREE_ROOT_INO, "00000011");
    assert_true(ino != 0 && ino < PATH_TREE_RULE_INO_BIT); /* the declared window */
    assert_int_equal(path_tree_dir_size(&tree, path_tree_node(&tree, PATH_TREE_ROOT_INO)), 3 + 11);
    path_tree_free(&tree);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_tree_chunk_name_collision_refused(void **state)
{
    struct fixture *f = *state;
    struct window_table t;
    window_table_init(&t, false);
    add_window_ok(&t, "hdr", "0", "512", NULL, f->disk, "window=hdr:0:512");
    add_window_ok(&t, "00000002", "0", "512", NULL, f->disk, "t.tab:7");
    add_chunks_ok(&t, f->disk, MiB, "layout=chunks:1M");
    struct path_tree tree;
    struct sfs_error err = {{0}};
    assert_int_equal(path_tree_build(&tree, &t, &err), -1);
    assert_contains(err.msg, "t.tab:7: PATH: '00000002' is also chunk 2 of layout=chunks:1M");
    assert_int_equal(window_table_close(&t), 0);

    /* A directory whose name is a chunk name. */
    window_table_init(&t, false);
    add_window_ok(&t, "00000010/inner", "0", "512", NULL, f->disk, "t.tab:9");
    add_chunks_ok(&t, f->disk, MiB, "layout=chunks:1M");
    memset(&err, 0, sizeof err);
    assert_int_equal(path_tree_build(&tree, &t, &err), -1);
    assert_contains(err.msg, "t.tab:9");
    assert_contains(err.msg, "'00000010'");
    assert_contains(err.msg, "layout=chunks:1M");
    assert_int_equal(window_table_close(&t), 0);
}

static void test_tree_two_rules_refused(void **state)
{
    struct fixture *f = *state;
    struct window_table t;
    window_table_init(&t, false);
    add_chunks_ok(&t, f->disk, MiB, "layout=chunks:1M");
    add_chunks_ok(&t, f->disk, 4 * MiB, "layout=chunks:4M");
    struct path_tree tree;
    struct sfs_error err = {{0}};
    assert_int_equal(path_tree_build(&tree, &t, &err), -1);
    assert_contains(err.msg, "only one layout=chunks");
    assert_contains(err.msg, "layout=chunks:4M");
    assert_contains(err.msg, "layout=chunks:1M");
    assert_int_equal(window_table_close(&t), 0);
}

/* ---- window_table_list ---- */

static char *read_all(const char *path)
{
    FILE *in = fopen(path, "re");
    assert_non_null(in);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    return text;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p != '\0'; p++)
        n += *p == '\n';
    return n;
}

static void test_list_round_trip(void **state)
{
    struct fixture *f = *state;
    /* A backing file whose name needs escaping. */
    char nasty[PATH_MAX];
    sparse_in(f, "disk image #1\\x.img", 10 * MiB + 5, nasty, sizeof nasty);
    char *real = realpath(nasty, NULL);
    assert_non_null(real);

    struct window_table t;
    window_table_init(&t, false);
    add_window_ok(&t, "hdr", "0", "512", "ro", nasty, "w1");
    add_window_ok(&t, "sub dir/na#me\tx", "4096", "end", "cow", nasty, "w2");
    add_window_ok(&t, "big", "0x100000", "1M", NULL, nasty, "w3");
    add_chunks_ok(&t, nasty, MiB, "layout=chunks:1M");

    char list_path[PATH_MAX];
    snprintf(list_path, sizeof list_path, "%s/list.tab", f->dir);
    FILE *out = fopen(list_path, "we");
    assert_non_null(out);
    window_table_list(&t, out);
    assert_int_equal(fclose(out), 0);

    char *text = read_all(list_path);
    assert_int_equal(count_lines(text), 3 + 11);
    /* The exact lines of a declared window and of the short last chunk. */
    char *escaped = NULL;
    size_t escaped_size = 0;
    FILE *esc = open_memstream(&escaped, &escaped_size);
    assert_non_null(esc);
    table_format_field(esc, real);
    assert_int_equal(fclose(esc), 0);
    char *line = NULL;
    assert_true(asprintf(&line, "hdr 0 512 ro %s\n", escaped) > 0);
    if (strncmp(text, line, strlen(line)) != 0)
        fail_msg("list starts with '%s', expected '%s'", text, line);
    free(line);
    assert_true(asprintf(&line, "sub\\ dir/na\\#me\\tx 4096 end cow %s\n", escaped) > 0);
    assert_non_null(strstr(text, line));
    free(line);
    assert_true(asprintf(&line, "\n00000000 0 1048576 rw %s\n", escaped) > 0);
    assert_non_null(strstr(text, line));
    free(line);
    assert_true(asprintf(&line, "\n00000010 10485760 5 rw %s\n", escaped) > 0);
    size_t len = strlen(line);
    assert_true(strlen(text) + 1 >= len);
    assert_string_equal(text + strlen(text) - (len - 1), line + 1); /* the last line */
    free(line);
    free(text);

    /* Read back with table=: the same windows, chunks as plain windows. */
    struct window_table back;
    window_table_init(&back, false);
    struct source_context ctx = {.default_backing = NULL};
    struct sfs_error err = {{0}};
    if (source_table.add_windows(list_path, &ctx, &back, &err) != 0)
        fail_msg("reading the list back: %s", err.msg);
    assert_int_equal(back.count, 3 + 11);
    assert_int_equal(back.rule_count, 0);
    assert_int_equal(back.backing_count, 1);
    for (size_t i = 0; i < back.count; i++) {
        struct window expected;
        char name[WINDOW_RULE_NAME_MAX];
        if (i < t.count)
            expected = t.windows[i];
        else
            window_rule_member(&t.rules[0], i - t.count, &expected, name);
        const struct window *got = &back.windows[i];
        assert_string_equal(got->path, expected.path);
        assert_int_equal(got->offset, expected.offset);
        assert_int_equal(got->length, expected.length);
        assert_int_equal(got->to_end, expected.to_end);
        assert_int_equal(got->mode, expected.mode);
        assert_string_equal(got->backing->real_path, real);
    }
    assert_int_equal(window_table_close(&back), 0);
    assert_int_equal(window_table_close(&t), 0);
    free(escaped);
    free(real);
}

static void test_list_of_read_only_table(void **state)
{
    struct fixture *f = *state;
    struct window_table t;
    window_table_init(&t, true);
    add_chunks_ok(&t, f->disk, 4 * MiB, "layout=chunks:4M");
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    window_table_list(&t, out);
    assert_int_equal(fclose(out), 0);
    char *real = realpath(f->disk, NULL);
    assert_non_null(real);
    char *expected = NULL;
    assert_true(asprintf(&expected,
                         "00000000 0 4194304 ro %s\n"
                         "00000001 4194304 4194304 ro %s\n"
                         "00000002 8388608 2097157 ro %s\n",
                         real, real, real) > 0);
    assert_string_equal(text, expected);
    free(expected);
    free(real);
    free(text);
    assert_int_equal(window_table_close(&t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chunks_with_short_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunks_exact_multiple, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunks_of_a_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_size_zero_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunks_past_the_end_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunks_of_an_empty_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_million_chunks_of_a_tebibyte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_width_grows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_index_accepts_exactly_member_names, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rule_member_names_match_rule_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree_with_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree_declared_names_beside_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree_chunk_name_collision_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree_two_rules_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_of_read_only_table, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
