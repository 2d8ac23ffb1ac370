/* test_window_source.c - the window sources that exist so far.
 *
 * Covers source_window_option (window=PATH:OFFSET:LENGTH[:MODE]: the window
 * it adds, its origin "window=...", refusals naming that origin and the
 * field, including a window past the end of the backing file) and
 * source_whole_file (one window named after BACKING's base name, covering
 * all of it; refused without BACKING), over a real temp backing file.
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
#include <unistd.h>

#include "slicefs/window_source.h"

#define DISK_SIZE 1000000

struct fixture {
    char dir[256];
    char disk[PATH_MAX];
    struct window_table table;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    if (unit_temp_dir(f->dir, sizeof f->dir) != 0)
        return -1;
    snprintf(f->disk, sizeof f->disk, "%s/my disk.img", f->dir);
    int fd = open(f->disk, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || ftruncate(fd, DISK_SIZE) != 0)
        return -1;
    close(fd);
    window_table_init(&f->table, false);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int res = window_table_close(&f->table);
    if (unit_remove_tree(f->dir) != 0)
        res = -1;
    free(f);
    return res;
}

static void refused(const struct window_source *src, const char *arg, const char *backing,
                    struct window_table *table, const char *part1, const char *part2)
{
    struct source_context ctx = {.default_backing = backing};
    struct sfs_error err = {{0}};
    size_t before = table->count;
    if (src->add_windows(arg, &ctx, table, &err) != -1)
        fail_msg("%s '%s' was accepted", src->name, arg ? arg : "(null)");
    assert_int_equal(table->count, before);
    if (part1 != NULL && strstr(err.msg, part1) == NULL)
        fail_msg("message lacks '%s': %s", part1, err.msg);
    if (part2 != NULL && strstr(err.msg, part2) == NULL)
        fail_msg("message lacks '%s': %s", part2, err.msg);
}

static void test_window_option(void **state)
{
    struct fixture *f = *state;
    const struct window_source *src = &source_window_option;
    assert_string_equal(src->name, "window");
    struct source_context ctx = {.default_backing = f->disk};
    struct sfs_error err = {{0}};
    assert_int_equal(src->add_windows("p1:1K:2K:ro", &ctx, &f->table, &err), 0);
    assert_int_equal(src->add_windows("d/p2:2048:end", &ctx, &f->table, &err), 0);
    assert_int_equal(f->table.count, 2);
    const struct window *w = &f->table.windows[0];
    assert_string_equal(w->path, "p1");
    assert_string_equal(w->origin, "window=p1:1K:2K:ro");
    assert_int_equal(w->offset, 1024);
    assert_int_equal(w->length, 2048);
    assert_int_equal(w->mode, WINDOW_MODE_RO);
    assert_string_equal(w->backing->path, f->disk);
    w = &f->table.windows[1];
    assert_string_equal(w->path, "d/p2");
    assert_string_equal(w->origin, "window=d/p2:2048:end");
    assert_int_equal(w->length, DISK_SIZE - 2048);
    assert_int_equal(w->mode, WINDOW_MODE_RW);
    assert_int_equal(f->table.backing_count, 1);
}

static void test_window_option_refusals(void **state)
{
    struct fixture *f = *state;
    const struct window_source *src = &source_window_option;
    refused(src, "p1:1K:zz", f->disk, &f->table, "window=p1:1K:zz", "LENGTH");
    refused(src, "p1:-1:1", f->disk, &f->table, "window=p1:-1:1", "OFFSET");
    refused(src, "p1:0:1:rwx", f->disk, &f->table, "window=p1:0:1:rwx", "MODE");
    refused(src, "../p1:0:1", f->disk, &f->table, "window=../p1:0:1", "PATH");
    refused(src, "p1:0", f->disk, &f->table, "window=p1:0", "LENGTH");
    refused(src, "p1:0:1:ro:x", f->disk, &f->table, "window=p1:0:1:ro:x", NULL);
    /* Checked against the backing file: one byte past its end. */
    refused(src, "p1:999000:1001", f->disk, &f->table, "window=p1:999000:1001", "LENGTH");
    refused(src, "p1:1000001:0", f->disk, &f->table, "window=p1:1000001:0", "OFFSET");
    /* No BACKING on the command line and none in the declaration. */
    refused(src, "p1:0:1", NULL, &f->table, "window=p1:0:1", "BACKING");
    assert_int_equal(f->table.count, 0);
}

static void test_whole_file(void **state)
{
    struct fixture *f = *state;
    const struct window_source *src = &source_whole_file;
    struct source_context ctx = {.default_backing = f->disk};
    struct sfs_error err = {{0}};
    assert_int_equal(src->add_windows(NULL, &ctx, &f->table, &err), 0);
    assert_int_equal(f->table.count, 1);
    const struct window *w = &f->table.windows[0];
    assert_string_equal(w->path, "my disk.img");
    assert_int_equal(w->offset, 0);
    assert_int_equal(w->length, DISK_SIZE);
    assert_int_equal(w->mode, WINDOW_MODE_RW);
    assert_non_null(strstr(w->origin, "my disk.img"));
}

static void test_whole_file_relative_and_read_only(void **state)
{
    struct fixture *f = *state;
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    struct window_table t;
    window_table_init(&t, true);
    struct source_context ctx = {.default_backing = "my disk.img"};
    struct sfs_error err = {{0}};
    int res = source_whole_file.add_windows(NULL, &ctx, &t, &err);
    assert_int_equal(chdir(cwd), 0);
    if (res != 0)
        fail_msg("whole file: %s", err.msg);
    assert_string_equal(t.windows[0].path, "my disk.img");
    assert_int_equal(t.windows[0].mode, WINDOW_MODE_RO);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_whole_file_refusals(void **state)
{
    struct fixture *f = *state;
    refused(&source_whole_file, NULL, NULL, &f->table, "BACKING", NULL);
    char missing[PATH_MAX];
    snprintf(missing, sizeof missing, "%s/nope.img", f->dir);
    refused(&source_whole_file, NULL, missing, &f->table, missing, NULL);
    refused(&source_whole_file, NULL, f->dir, &f->table, f->dir, NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_window_option),       T(test_window_option_refusals),
        T(test_whole_file),          T(test_whole_file_relative_and_read_only),
        T(test_whole_file_refusals),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
