/* test_path_tree.c - the directory tree that window paths make.
 *
 * Windows are declared over a small real backing file. Covers
 * path_tree_build + path_tree_lookup/path_tree_node: the root is inode 1,
 * every other inode number says what the entry is (backing file identity
 * and path), the same when the tree is built again in another order or with
 * other windows beside it, and "." and ".." resolve as file handles need;
 * every component of "a", "d/b", "d/e/c" looks up to
 * the right node (name, parent, window), missing names and lookups under a
 * file give 0, equal names in different directories are distinct, children
 * are sorted by name; refusals of a duplicate path and of a path that is
 * both a file and a directory (either order), naming both origins; and a
 * 100,000-window directory builds quickly and every name looks up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit_fixture.h"

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slicefs/path_tree.h"

struct fixture {
    char dir[256];
    char disk[PATH_MAX];
    struct window_table table;
    struct path_tree tree;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    if (unit_temp_dir(f->dir, sizeof f->dir) != 0)
        return -1;
    snprintf(f->disk, sizeof f->disk, "%s/disk.img", f->dir);
    int fd = open(f->disk, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || ftruncate(fd, 4096) != 0)
        return -1;
    close(fd);
    window_table_init(&f->table, false);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    path_tree_free(&f->tree);
    int res = window_table_close(&f->table);
    if (unit_remove_tree(f->dir) != 0)
        res = -1;
    free(f);
    return res;
}

/* Adds a zero-length window at path, declared by origin. */
static void add(struct fixture *f, const char *path, const char *origin)
{
    struct window_spec spec = {
        .path = (char *)path,
        .offset = 0,
        .length = 0,
        .mode = WINDOW_MODE_RO,
        .origin = (char *)origin,
    };
    struct sfs_error err = {{0}};
    if (window_table_add(&f->table, &spec, f->disk, &err) != 0)
        fail_msg("window %s: %s", path, err.msg);
}

static void build_ok(struct fixture *f)
{
    struct sfs_error err = {{0}};
    if (path_tree_build(&f->tree, &f->table, &err) != 0)
        fail_msg("path_tree_build: %s", err.msg);
}

/* Builds, expecting a refusal whose message contains both origins. */
static void build_refused(struct fixture *f, const char *origin1, const char *origin2)
{
    struct sfs_error err = {{0}};
    if (path_tree_build(&f->tree, &f->table, &err) != -1)
        fail_msg("the tree was built");
    if (strstr(err.msg, origin1) == NULL || strstr(err.msg, origin2) == NULL)
        fail_msg("the message does not name '%s' and '%s': %s", origin1, origin2, err.msg);
    if (strstr(err.msg, "PATH") == NULL)
        fail_msg("the message does not name the field PATH: %s", err.msg);
}

/* Looks up name under parent and checks the node it names. */
static uint64_t expect_node(const struct path_tree *tree, uint64_t parent, const char *name,
                            uint32_t window)
{
    uint64_t ino = path_tree_lookup(tree, parent, name);
    if (ino == 0)
        fail_msg("'%s' not found under inode %llu", name, (unsigned long long)parent);
    const struct tree_node *n = path_tree_node(tree, ino);
    assert_non_null(n);
    assert_string_equal(n->name, name);
    assert_int_equal(tree->nodes[n->parent].ino, parent);
    assert_int_equal(n->window, window);
    assert_int_equal(path_tree_ino(tree, n), ino);
    return ino;
}

static void test_basic_tree(void **state)
{
    struct fixture *f = *state;
    add(f, "a", "w0");
    add(f, "d/b", "w1");
    add(f, "d/e/c", "w2");
    build_ok(f);
    const struct path_tree *t = &f->tree;

    /* root, a, d, b, e, c */
    assert_int_equal(t->count, 6);
    const struct tree_node *root = path_tree_node(t, PATH_TREE_ROOT_INO);
    assert_non_null(root);
    assert_ptr_equal(root, &t->nodes[0]);
    assert_string_equal(root->name, "");
    assert_int_equal(root->parent, 0);
    assert_int_equal(root->window, PATH_TREE_NOT_A_WINDOW);
    assert_int_equal(path_tree_ino(t, root), 1);

    uint64_t a = expect_node(t, 1, "a", 0);
    uint64_t d = expect_node(t, 1, "d", PATH_TREE_NOT_A_WINDOW);
    uint64_t b = expect_node(t, d, "b", 1);
    uint64_t e = expect_node(t, d, "e", PATH_TREE_NOT_A_WINDOW);
    uint64_t c = expect_node(t, e, "c", 2);

    /* Inode numbers: all distinct, above the root's, below the chunks'. */
    uint64_t inos[] = {a, d, b, e, c};
    for (size_t i = 0; i < 5; i++) {
        assert_true(inos[i] > PATH_TREE_ROOT_INO && inos[i] < PATH_TREE_RULE_INO_BIT);
        for (size_t j = 0; j < i; j++)
            assert_true(inos[i] != inos[j]);
        assert_int_equal(path_tree_node(t, inos[i])->ino, inos[i]);
    }
    assert_true(path_tree_node(t, 0) == NULL);
    assert_true(path_tree_node(t, 7) == NULL);
    assert_true(path_tree_node(t, UINT64_MAX) == NULL);

    /* Directory contents. */
    assert_int_equal(root->child_count, 2);
    assert_int_equal(path_tree_node(t, d)->child_count, 2);
    assert_int_equal(path_tree_node(t, e)->child_count, 1);
    assert_int_equal(t->nodes[path_tree_node(t, e)->children[0]].ino, c);
    assert_int_equal(path_tree_node(t, a)->child_count, 0);

    /* File handles: "." is the inode itself (files too), ".." its folder. */
    assert_int_equal(path_tree_lookup(t, c, "."), c);
    assert_int_equal(path_tree_lookup(t, e, "."), e);
    assert_int_equal(path_tree_lookup(t, e, ".."), d);
    assert_int_equal(path_tree_lookup(t, d, ".."), PATH_TREE_ROOT_INO);
    assert_int_equal(path_tree_lookup(t, PATH_TREE_ROOT_INO, ".."), PATH_TREE_ROOT_INO);
    assert_int_equal(path_tree_lookup(t, c, ".."), 0); /* a file has no entries */
    assert_int_equal(path_tree_parent_ino(t, c), e);
    assert_int_equal(path_tree_lookup(t, 7, "."), 0);
}

/* Inode numbers depend only on what an entry is: rebuilt in another order,
 * with other windows beside them, every entry keeps its number; the same
 * path over another backing file is another window, another number. */
static void test_inode_numbers_are_stable(void **state)
{
    struct fixture *f = *state;
    add(f, "a", "w0");
    add(f, "d/b", "w1");
    add(f, "d/e/c", "w2");
    build_ok(f);
    uint64_t a = path_tree_lookup(&f->tree, 1, "a");
    uint64_t d = path_tree_lookup(&f->tree, 1, "d");
    uint64_t b = path_tree_lookup(&f->tree, d, "b");
    path_tree_free(&f->tree);
    window_table_close(&f->table);

    window_table_init(&f->table, false);
    add(f, "new/x", "w3");
    add(f, "d/b", "w1");
    add(f, "zz", "w4");
    add(f, "a", "w0");
    build_ok(f);
    assert_int_equal(path_tree_lookup(&f->tree, 1, "a"), a);
    assert_int_equal(path_tree_lookup(&f->tree, 1, "d"), d);
    assert_int_equal(path_tree_lookup(&f->tree, d, "b"), b);
    path_tree_free(&f->tree);
    window_table_close(&f->table);

    /* "a" over another file (a copy: another inode) is another window. */
    char other[PATH_MAX + 8];
    snprintf(other, sizeof other, "%s.2", f->disk);
    int fd = open(other, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);
    window_table_init(&f->table, false);
    struct window_spec spec = {.path = (char *)"a", .mode = WINDOW_MODE_RO, .origin = (char *)"o"};
    struct sfs_error err = {{0}};
    if (window_table_add(&f->table, &spec, other, &err) != 0)
        fail_msg("%s", err.msg);
    build_ok(f);
    assert_true(path_tree_lookup(&f->tree, 1, "a") != a);
    unlink(other);
}

static void test_missing_names(void **state)
{
    struct fixture *f = *state;
    add(f, "a", "w0");
    add(f, "d/b", "w1");
    add(f, "d/e/c", "w2");
    build_ok(f);
    const struct path_tree *t = &f->tree;
    uint64_t a = path_tree_lookup(t, 1, "a");
    uint64_t d = path_tree_lookup(t, 1, "d");
    uint64_t e = path_tree_lookup(t, d, "e");
    assert_true(a && d && e);

    /* ("." and ".." are the kernel's, for file handles: see test_basic_tree.) */
    static const char *const absent_in_root[] = {"b",  "c",   "e",   "x",  "",   "",    "A",  "aa",
                                                 "dd", "d/b", "d/e", "/a", "a/", "...", ". ", ".a"};
    for (size_t i = 0; i < sizeof absent_in_root / sizeof absent_in_root[0]; i++)
        if (path_tree_lookup(t, 1, absent_in_root[i]) != 0)
            fail_msg("'%s' found in the root", absent_in_root[i]);
    assert_int_equal(path_tree_lookup(t, d, "a"), 0);
    assert_int_equal(path_tree_lookup(t, d, "c"), 0); /* c is in d/e, not d */
    assert_int_equal(path_tree_lookup(t, d, "d"), 0);
    assert_int_equal(path_tree_lookup(t, e, "b"), 0);

    /* Under a file, nothing; not even names that exist elsewhere. */
    assert_int_equal(path_tree_lookup(t, a, "a"), 0);
    assert_int_equal(path_tree_lookup(t, a, "b"), 0);
    assert_int_equal(path_tree_lookup(t, a, "x"), 0);
    uint64_t c = path_tree_lookup(t, e, "c");
    assert_true(c != 0);
    assert_int_equal(path_tree_lookup(t, c, "c"), 0);

    /* Under inodes that do not exist. */
    assert_int_equal(path_tree_lookup(t, 0, "a"), 0);
    assert_int_equal(path_tree_lookup(t, 7, "a"), 0);
    assert_int_equal(path_tree_lookup(t, 1000, "a"), 0);
}

static void test_same_name_in_different_dirs(void **state)
{
    struct fixture *f = *state;
    add(f, "x", "w0");
    add(f, "d/x", "w1");
    add(f, "d/e/x", "w2");
    add(f, "e/x", "w3");
    build_ok(f);
    const struct path_tree *t = &f->tree;
    uint64_t d = expect_node(t, 1, "d", PATH_TREE_NOT_A_WINDOW);
    uint64_t de = expect_node(t, d, "e", PATH_TREE_NOT_A_WINDOW);
    uint64_t e = expect_node(t, 1, "e", PATH_TREE_NOT_A_WINDOW);
    assert_true(de != e);
    uint64_t x0 = expect_node(t, 1, "x", 0);
    uint64_t x1 = expect_node(t, d, "x", 1);
    uint64_t x2 = expect_node(t, de, "x", 2);
    uint64_t x3 = expect_node(t, e, "x", 3);
    assert_true(x0 != x1 && x1 != x2 && x2 != x3 && x0 != x3);
}

static void check_sorted(const struct path_tree *t, const struct tree_node *dir)
{
    for (uint32_t i = 1; i < dir->child_count; i++) {
        const char *prev = t->nodes[dir->children[i - 1]].name;
        const char *next = t->nodes[dir->children[i]].name;
        if (strcmp(prev, next) >= 0)
            fail_msg("children of '%s' out of order: '%s' before '%s'", dir->name, prev, next);
    }
}

static void test_children_sorted(void **state)
{
    struct fixture *f = *state;
    static const char *const paths[] = {
        "zeta",   "alpha", "Mid", "beta/x",   "0num", "\xc3\xa9t\xc3\xa9", "alpha2", "beta/a",
        "beta/Z", "b",     "_u",  "beta/m/q", "~",
    };
    char origin[32];
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        snprintf(origin, sizeof origin, "w%zu", i);
        add(f, paths[i], origin);
    }
    build_ok(f);
    const struct path_tree *t = &f->tree;
    static const char *const root_order[] = {"0num", "Mid",  "_u",   "alpha", "alpha2",
                                             "b",    "beta", "zeta", "~",     "\xc3\xa9t\xc3\xa9"};
    const struct tree_node *root = path_tree_node(t, 1);
    assert_int_equal(root->child_count, 10);
    for (uint32_t i = 0; i < root->child_count; i++)
        assert_string_equal(t->nodes[root->children[i]].name, root_order[i]);
    uint64_t beta = path_tree_lookup(t, 1, "beta");
    const struct tree_node *bn = path_tree_node(t, beta);
    assert_int_equal(bn->child_count, 4);
    static const char *const beta_order[] = {"Z", "a", "m", "x"};
    for (uint32_t i = 0; i < 4; i++)
        assert_string_equal(t->nodes[bn->children[i]].name, beta_order[i]);
    for (size_t i = 0; i < t->count; i++)
        check_sorted(t, &t->nodes[i]);
}

static void test_duplicate_path(void **state)
{
    struct fixture *f = *state;
    add(f, "a", "first-origin");
    add(f, "b", "other");
    add(f, "a", "second-origin");
    build_refused(f, "first-origin", "second-origin");
}

static void test_duplicate_nested_path(void **state)
{
    struct fixture *f = *state;
    add(f, "d/e/c", "table.txt:1");
    add(f, "d/x", "table.txt:2");
    add(f, "d/e/c", "table.txt:3");
    build_refused(f, "table.txt:1", "table.txt:3");
}

static void test_file_then_directory(void **state)
{
    struct fixture *f = *state;
    add(f, "a", "file-origin");
    add(f, "a/b", "dir-origin");
    build_refused(f, "file-origin", "dir-origin");
}

static void test_directory_then_file(void **state)
{
    struct fixture *f = *state;
    add(f, "a/b", "dir-origin");
    add(f, "a", "file-origin");
    build_refused(f, "file-origin", "dir-origin");
}

static void test_deep_file_directory_clash(void **state)
{
    struct fixture *f = *state;
    add(f, "x/y/z/w", "deep-origin");
    add(f, "x/y", "shallow-origin");
    build_refused(f, "deep-origin", "shallow-origin");
}

static void test_deep_file_directory_clash_reversed(void **state)
{
    struct fixture *f = *state;
    add(f, "x/y", "shallow-origin");
    add(f, "x/y/z/w", "deep-origin");
    build_refused(f, "deep-origin", "shallow-origin");
}

static void test_empty_table(void **state)
{
    struct fixture *f = *state;
    build_ok(f);
    assert_int_equal(f->tree.count, 1);
    assert_int_equal(path_tree_node(&f->tree, 1)->child_count, 0);
    assert_int_equal(path_tree_lookup(&f->tree, 1, "a"), 0);
    assert_true(path_tree_node(&f->tree, 2) == NULL);
}

#define SCALE_COUNT 100000

/* A distinct name for each i, in an order that is not sorted; lengths vary,
 * so many names are prefixes of others ("n12" and "n123456"). */
static uint32_t scale_value(uint32_t i)
{
    return (uint32_t)((uint64_t)i * 7919 % 1000003);
}

static void scale_name(char *buf, size_t size, uint32_t i)
{
    snprintf(buf, size, "n%u", (unsigned)scale_value(i));
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_scale_one_directory(void **state)
{
    struct fixture *f = *state;
    char name[32];
    for (uint32_t i = 0; i < SCALE_COUNT; i++) {
        scale_name(name, sizeof name, i);
        add(f, name, "scale");
    }
    assert_int_equal(f->table.count, SCALE_COUNT);
    assert_int_equal(f->table.backing_count, 1);

    double start = now_seconds();
    build_ok(f);
    double took = now_seconds() - start;
    print_message("path_tree_build of %d windows: %.3f s\n", SCALE_COUNT, took);
    print_message("building %d windows took %.3f s\n", SCALE_COUNT,
                  took); /* a figure, not a pass mark */

    const struct path_tree *t = &f->tree;
    assert_int_equal(t->count, SCALE_COUNT + 1);
    const struct tree_node *root = path_tree_node(t, 1);
    assert_int_equal(root->child_count, SCALE_COUNT);
    check_sorted(t, root);

    start = now_seconds();
    for (uint32_t i = 0; i < SCALE_COUNT; i++) {
        scale_name(name, sizeof name, i);
        uint64_t ino = path_tree_lookup(t, 1, name);
        if (ino == 0)
            fail_msg("'%s' not found", name);
        const struct tree_node *n = path_tree_node(t, ino);
        if (n->window != i || strcmp(n->name, name) != 0)
            fail_msg("'%s' found as '%s' (window %u)", name, n->name, n->window);
    }
    /* Names that are not there, among them prefixes and extensions of
     * names that are. */
    bool *present = calloc(1000003, sizeof *present);
    assert_non_null(present);
    for (uint32_t i = 0; i < SCALE_COUNT; i++)
        present[scale_value(i)] = true;
    unsigned absent = 0;
    for (uint32_t v = 0; v < 1000003; v++) {
        if (present[v])
            continue;
        snprintf(name, sizeof name, "n%u", (unsigned)v);
        if (path_tree_lookup(t, 1, name) != 0)
            fail_msg("'%s' found but never declared", name);
        absent++;
    }
    free(present);
    assert_int_equal(absent, 1000003 - SCALE_COUNT);
    assert_int_equal(path_tree_lookup(t, 1, "n"), 0);
    assert_int_equal(path_tree_lookup(t, 1, "n10000030"), 0);
    took = now_seconds() - start;
    /* A figure to read, not a pass mark: no test fails because the machine
     * was slow. */
    print_message("%d lookups took %.3f s\n", 1000003 + SCALE_COUNT, took);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_basic_tree),
        T(test_inode_numbers_are_stable),
        T(test_missing_names),
        T(test_same_name_in_different_dirs),
        T(test_children_sorted),
        T(test_duplicate_path),
        T(test_duplicate_nested_path),
        T(test_file_then_directory),
        T(test_directory_then_file),
        T(test_deep_file_directory_clash),
        T(test_deep_file_directory_clash_reversed),
        T(test_empty_table),
        T(test_scale_one_directory),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
