/* test_source_table.c - table=FILE and layout=chunks:SIZE as window sources.
 *
 * Each test gets a fresh mkdtemp folder D holding D/disk.img and a folder
 * D/tables; the test may chdir, teardown restores the working directory.
 * Covers source_table.add_windows: comments and blank lines, 3, 4 and 5
 * fields, escaped paths, BACKING relative to the table's folder (not the
 * working directory; relative and absolute table paths, a table path with no
 * folder), an absolute BACKING, the command line's BACKING as the default;
 * refusals with "FILE:LINE: FIELD: ..." messages (a bad number on line 3, too
 * few fields, a bad mode, too many fields, a trailing backslash, a window
 * past the end, no backing file), a missing table file, a NUL byte in a
 * line. And source_layout.add_windows: "chunks:1M" makes one rule; "chunks:0",
 * "chunks:1Q", "chunks:", "bogus" and a missing BACKING are refused with
 * messages naming layout=....
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

#include "slicefs/window_source.h"
#include "slicefs/window_table.h"

#define DISK_SIZE ((uint64_t)65536 + 100)
#define MiB ((uint64_t)1 << 20)

struct fixture {
    char cwd[PATH_MAX];   /* restored by teardown */
    char dir[256];        /* D */
    char disk[512];       /* D/disk.img */
    char tables[512];     /* D/tables */
    char table[PATH_MAX]; /* D/tables/t.tab (written by each test) */
};

static void make_sparse(const char *path, uint64_t size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        fail_msg("cannot create %s", path);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    assert_int_equal(close(fd), 0);
}

static void write_bytes(const char *path, const char *text, size_t len)
{
    FILE *out = fopen(path, "we");
    if (out == NULL)
        fail_msg("cannot create %s", path);
    assert_int_equal(fwrite(text, 1, len, out), len);
    assert_int_equal(fclose(out), 0);
}

static void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    if (getcwd(f->cwd, sizeof f->cwd) == NULL)
        goto fail;
    if (unit_temp_dir(f->dir, sizeof f->dir) != 0)
        goto fail;
    /* Work on the resolved name, so that it compares with real_path. */
    char *real = realpath(f->dir, NULL);
    if (real == NULL || strlen(real) >= sizeof f->dir) {
        free(real);
        goto fail;
    }
    snprintf(f->dir, sizeof f->dir, "%s", real);
    free(real);
    snprintf(f->disk, sizeof f->disk, "%s/disk.img", f->dir);
    snprintf(f->tables, sizeof f->tables, "%s/tables", f->dir);
    snprintf(f->table, sizeof f->table, "%s/t.tab", f->tables);
    if (mkdir(f->tables, 0755) != 0)
        goto fail;
    make_sparse(f->disk, DISK_SIZE);
    *state = f;
    return 0;
fail:
    free(f);
    return -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int res = chdir(f->cwd);
    if (unit_remove_tree(f->dir) != 0)
        res = -1;
    free(f);
    return res;
}

static void assert_contains(const char *msg, const char *part)
{
    if (strstr(msg, part) == NULL)
        fail_msg("message '%s' does not contain '%s'", msg, part);
}

static void assert_starts_with(const char *msg, const char *prefix)
{
    if (strncmp(msg, prefix, strlen(prefix)) != 0)
        fail_msg("message '%s' does not start with '%s'", msg, prefix);
}

static int read_table(const char *table_path, const char *default_backing, struct window_table *t,
                      struct sfs_error *err)
{
    struct source_context ctx = {.default_backing = default_backing};
    memset(err, 0, sizeof *err);
    return source_table.add_windows(table_path, &ctx, t, err);
}

static void read_table_ok(const char *table_path, const char *default_backing,
                          struct window_table *t)
{
    struct sfs_error err;
    if (read_table(table_path, default_backing, t, &err) != 0)
        fail_msg("table %s refused: %s", table_path, err.msg);
}

/* Expects the table text to be refused with a message starting with
 * "<table>:<prefix>" and containing part. */
static void expect_refused(const struct fixture *f, const char *text, const char *prefix,
                           const char *part)
{
    write_text(f->table, text);
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    assert_int_equal(read_table(f->table, f->disk, &t, &err), -1);
    char full[PATH_MAX + 64];
    snprintf(full, sizeof full, "%s:%s", f->table, prefix);
    assert_starts_with(err.msg, full);
    if (part != NULL)
        assert_contains(err.msg, part);
    assert_null(strchr(err.msg, '\n')); /* one line */
    assert_int_equal(window_table_close(&t), 0);
}

/* ---- reading tables ---- */

static void test_comments_blank_lines_and_field_counts(void **state)
{
    struct fixture *f = *state;
    char other[PATH_MAX];
    snprintf(other, sizeof other, "%s/other.img", f->tables);
    make_sparse(other, 8192);
    write_text(f->table, "# slicefs window table\n"
                         "\n"
                         "   \t \n"
                         "\t# an indented comment\n"
                         "three 0 100\n"
                         "four\t100  0x100 ro   # trailing comment\n"
                         "five 4096 end cow other.img\n"
                         "sub\\ dir/na\\#me 1K 1K\n"
                         "# the end");
    struct window_table t;
    window_table_init(&t, false);
    read_table_ok(f->table, f->disk, &t);
    assert_int_equal(t.count, 4);
    assert_int_equal(t.backing_count, 2);

    const struct window *w = &t.windows[0];
    assert_string_equal(w->path, "three");
    assert_int_equal(w->offset, 0);
    assert_int_equal(w->length, 100);
    assert_false(w->to_end);
    assert_int_equal(w->mode, WINDOW_MODE_RW); /* the default on a writable file */
    assert_string_equal(w->backing->real_path, f->disk);
    char origin[PATH_MAX + 16];
    snprintf(origin, sizeof origin, "%s:5", f->table);
    assert_string_equal(w->origin, origin);

    w = &t.windows[1];
    assert_string_equal(w->path, "four");
    assert_int_equal(w->offset, 100);
    assert_int_equal(w->length, 256);
    assert_int_equal(w->mode, WINDOW_MODE_RO);
    assert_string_equal(w->backing->real_path, f->disk);
    snprintf(origin, sizeof origin, "%s:6", f->table);
    assert_string_equal(w->origin, origin);

    w = &t.windows[2];
    assert_string_equal(w->path, "five");
    assert_int_equal(w->offset, 4096);
    assert_true(w->to_end);
    assert_int_equal(w->length, 8192 - 4096);
    assert_int_equal(w->mode, WINDOW_MODE_COW);
    assert_string_equal(w->backing->real_path, other);

    w = &t.windows[3];
    assert_string_equal(w->path, "sub dir/na#me");
    assert_int_equal(w->offset, 1024);
    assert_int_equal(w->length, 1024);
    assert_string_equal(w->backing->real_path, f->disk);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_empty_table(void **state)
{
    struct fixture *f = *state;
    write_text(f->table, "");
    struct window_table t;
    window_table_init(&t, false);
    read_table_ok(f->table, NULL, &t);
    assert_int_equal(t.count, 0);
    write_text(f->table, "# nothing\n\n");
    read_table_ok(f->table, NULL, &t);
    assert_int_equal(t.count, 0);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_crlf_lines(void **state)
{
    struct fixture *f = *state;
    write_text(f->table, "# dos\r\n\r\na 0 10 ro\r\nb 10 20\r\n");
    struct window_table t;
    window_table_init(&t, false);
    read_table_ok(f->table, f->disk, &t);
    assert_int_equal(t.count, 2);
    assert_int_equal(t.windows[0].mode, WINDOW_MODE_RO);
    assert_int_equal(t.windows[1].length, 20);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_backing_relative_to_table_folder(void **state)
{
    struct fixture *f = *state;
    /* D/tables/disk.img is the one the table means; D/disk.img is a decoy
     * of another size in the working directory. */
    char near[PATH_MAX];
    snprintf(near, sizeof near, "%s/disk.img", f->tables);
    make_sparse(near, 12345);
    write_text(f->table, "near 0 end ro disk.img\n"
                         "up 0 end ro ../disk.img\n");
    assert_int_equal(chdir(f->dir), 0);
    struct window_table t;
    window_table_init(&t, false);
    read_table_ok("tables/t.tab", NULL, &t); /* relative table path */
    assert_int_equal(t.count, 2);
    assert_string_equal(t.windows[0].backing->real_path, near);
    assert_int_equal(t.windows[0].length, 12345);
    assert_string_equal(t.windows[1].backing->real_path, f->disk);
    assert_int_equal(t.windows[1].length, DISK_SIZE);
    assert_int_equal(window_table_close(&t), 0);

    /* An absolute table path from an unrelated working directory. */
    assert_int_equal(chdir("/"), 0);
    window_table_init(&t, false);
    read_table_ok(f->table, NULL, &t);
    assert_int_equal(t.count, 2);
    assert_string_equal(t.windows[0].backing->real_path, near);
    assert_string_equal(t.windows[1].backing->real_path, f->disk);
    assert_int_equal(window_table_close(&t), 0);

    /* A table path without a folder: the working directory is its folder. */
    assert_int_equal(chdir(f->tables), 0);
    window_table_init(&t, false);
    read_table_ok("t.tab", NULL, &t);
    assert_int_equal(t.count, 2);
    assert_string_equal(t.windows[0].backing->real_path, near);
    assert_string_equal(t.windows[1].backing->real_path, f->disk);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_default_backing_is_not_relative_to_table(void **state)
{
    struct fixture *f = *state;
    /* The command line's BACKING is used as given (here relative to the
     * working directory D), not joined with the table's folder. */
    char decoy[PATH_MAX];
    snprintf(decoy, sizeof decoy, "%s/disk.img", f->tables);
    make_sparse(decoy, 12345);
    write_text(f->table, "w 0 end ro\n");
    assert_int_equal(chdir(f->dir), 0);
    struct window_table t;
    window_table_init(&t, false);
    read_table_ok("tables/t.tab", "disk.img", &t);
    assert_int_equal(t.count, 1);
    assert_string_equal(t.windows[0].backing->real_path, f->disk);
    assert_int_equal(t.windows[0].length, DISK_SIZE);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_absolute_backing(void **state)
{
    struct fixture *f = *state;
    char text[PATH_MAX + 64];
    snprintf(text, sizeof text, "w 16 32 ro %s\n", f->disk);
    write_text(f->table, text);
    assert_int_equal(chdir("/"), 0);
    struct window_table t;
    window_table_init(&t, false);
    read_table_ok(f->table, NULL, &t);
    assert_int_equal(t.count, 1);
    assert_string_equal(t.windows[0].backing->real_path, f->disk);
    assert_int_equal(t.windows[0].offset, 16);
    assert_int_equal(t.windows[0].length, 32);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_one_backing_named_twice_opened_once(void **state)
{
    struct fixture *f = *state;
    char text[PATH_MAX + 128];
    snprintf(text, sizeof text, "a 0 1 ro ../disk.img\nb 1 1 ro %s\nc 2 1\n", f->disk);
    write_text(f->table, text);
    struct window_table t;
    window_table_init(&t, false);
    read_table_ok(f->table, f->disk, &t);
    assert_int_equal(t.count, 3);
    assert_int_equal(t.backing_count, 1);
    assert_ptr_equal(t.windows[0].backing, t.windows[2].backing);
    assert_int_equal(window_table_close(&t), 0);
}

/* ---- refusals ---- */

static void test_bad_number_names_line_and_field(void **state)
{
    struct fixture *f = *state;
    expect_refused(f, "a 0 10\n# comment\nb x 10\n", "3: OFFSET", "'x' is not a number");
    expect_refused(f, "\n\nb 0 1Q\n", "3: LENGTH", "unknown suffix 'Q'");
    expect_refused(f, "b -1 10\n", "1: OFFSET", "'-1' is not a number");
    expect_refused(f, "b 0 0x\n", "1: LENGTH", NULL);
    expect_refused(f, "b 0 99999999999999999999\n", "1: LENGTH", "too large");
    /* The windows before the bad line are not the caller's problem, but the
     * reading stops at the bad line. */
}

static void test_too_few_fields(void **state)
{
    struct fixture *f = *state;
    expect_refused(f, "only-a-path\n", "1: OFFSET: missing", "PATH OFFSET LENGTH");
    expect_refused(f, "# c\npath 0\n", "2: LENGTH: missing", "PATH OFFSET LENGTH");
}

static void test_bad_mode(void **state)
{
    struct fixture *f = *state;
    expect_refused(f, "a 0 10 rx\n", "1: MODE", "'rx' is not a mode");
    expect_refused(f, "a 0 10 RO disk.img\n", "1: MODE", "'RO'");
}

static void test_bad_path(void **state)
{
    struct fixture *f = *state;
    expect_refused(f, "a/../b 0 10\n", "1: PATH", "'..'");
    expect_refused(f, "a//b 0 10\n", "1: PATH", "empty path component");
}

static void test_too_many_fields(void **state)
{
    struct fixture *f = *state;
    expect_refused(f, "a 0 10 ro disk.img more\n", "1: ", "too many fields");
}

static void test_trailing_backslash(void **state)
{
    struct fixture *f = *state;
    /* On the last line, with no newline after it. */
    expect_refused(f, "a 0 10\\", "1: ", "a backslash ends the line");
    /* On a line that ends with a newline, as table lines do: the newline ends
     * the line, it is not the character the backslash escapes. */
    expect_refused(f, "a 0 10\\\n", "1: ", "a backslash ends the line");
    expect_refused(f, "a 0 10 ro\\\nb 0 10\n", "1: ", "a backslash ends the line");
}

static void test_window_past_the_end(void **state)
{
    struct fixture *f = *state;
    expect_refused(f, "ok 0 10\nbig 65536 101\n", "2: LENGTH", "past the end");
    expect_refused(f, "far 65637 end\n", "1: OFFSET", "past the end");
}

static void test_no_backing(void **state)
{
    struct fixture *f = *state;
    write_text(f->table, "a 0 10\n");
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    assert_int_equal(read_table(f->table, NULL, &t, &err), -1);
    char prefix[PATH_MAX + 32];
    snprintf(prefix, sizeof prefix, "%s:1: BACKING", f->table);
    assert_starts_with(err.msg, prefix);
    assert_int_equal(window_table_close(&t), 0);

    /* A BACKING field naming a file that does not exist. */
    write_text(f->table, "# c\na 0 10 ro missing.img\n");
    window_table_init(&t, false);
    assert_int_equal(read_table(f->table, f->disk, &t, &err), -1);
    snprintf(prefix, sizeof prefix, "%s:2: ", f->table);
    assert_starts_with(err.msg, prefix);
    assert_contains(err.msg, "tables/missing.img");
    assert_contains(err.msg, "No such file or directory");
    assert_int_equal(window_table_close(&t), 0);
}

static void test_missing_table_file(void **state)
{
    struct fixture *f = *state;
    char missing[PATH_MAX];
    snprintf(missing, sizeof missing, "%s/no-such.tab", f->tables);
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    assert_int_equal(read_table(missing, f->disk, &t, &err), -1);
    char expected[PATH_MAX + 64];
    snprintf(expected, sizeof expected, "table=%s: No such file or directory", missing);
    assert_string_equal(err.msg, expected);

    /* A folder is not a table. */
    assert_int_equal(read_table(f->tables, f->disk, &t, &err), -1);
    snprintf(expected, sizeof expected, "table=%s", f->tables);
    assert_starts_with(err.msg, expected);
    assert_int_equal(t.count, 0);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_nul_byte_in_a_line(void **state)
{
    struct fixture *f = *state;
    static const char text[] = "a 0 10\nb\0c 0 10\n";
    write_bytes(f->table, text, sizeof text - 1);
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    assert_int_equal(read_table(f->table, f->disk, &t, &err), -1);
    char expected[PATH_MAX + 64];
    snprintf(expected, sizeof expected, "%s:2: the line holds a NUL byte", f->table);
    assert_string_equal(err.msg, expected);
    assert_int_equal(window_table_close(&t), 0);
}

/* ---- layout= ---- */

static int run_layout(const char *arg, const char *default_backing, struct window_table *t,
                      struct sfs_error *err)
{
    struct source_context ctx = {.default_backing = default_backing};
    memset(err, 0, sizeof *err);
    return source_layout.add_windows(arg, &ctx, t, err);
}

static void test_layout_chunks(void **state)
{
    struct fixture *f = *state;
    char big[PATH_MAX];
    snprintf(big, sizeof big, "%s/big.img", f->dir);
    make_sparse(big, 10 * MiB + 5);
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    if (run_layout("chunks:1M", big, &t, &err) != 0)
        fail_msg("layout=chunks:1M refused: %s", err.msg);
    assert_int_equal(t.count, 0);
    assert_int_equal(t.rule_count, 1);
    const struct window_rule *r = &t.rules[0];
    assert_int_equal(r->count, 11);
    assert_int_equal(r->chunk_size, MiB);
    assert_int_equal(r->offset, 0);
    assert_int_equal(r->total, 10 * MiB + 5);
    assert_int_equal(r->name_width, 8);
    assert_string_equal(r->origin, "layout=chunks:1M");
    assert_string_equal(r->backing->real_path, big);

    /* Other size spellings. */
    assert_int_equal(run_layout("chunks:0x100000", big, &t, &err), 0);
    assert_int_equal(t.rules[1].chunk_size, MiB);
    assert_int_equal(run_layout("chunks:2048s", big, &t, &err), 0);
    assert_int_equal(t.rules[2].chunk_size, MiB);
    assert_int_equal(run_layout("chunks:3", big, &t, &err), 0);
    assert_int_equal(t.rules[3].chunk_size, 3);
    assert_int_equal(t.rules[3].count, (10 * MiB + 5 + 2) / 3);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_layout_errors(void **state)
{
    struct fixture *f = *state;
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;

    assert_int_equal(run_layout("chunks:0", f->disk, &t, &err), -1);
    assert_string_equal(err.msg, "layout=chunks:0: SIZE: chunks must be at least 1 byte");

    assert_int_equal(run_layout("chunks:1Q", f->disk, &t, &err), -1);
    assert_starts_with(err.msg, "layout=chunks:1Q: SIZE: ");
    assert_contains(err.msg, "unknown suffix 'Q'");

    assert_int_equal(run_layout("chunks:", f->disk, &t, &err), -1);
    assert_starts_with(err.msg, "layout=chunks:: SIZE: ");
    assert_contains(err.msg, "empty number");

    assert_int_equal(run_layout("chunks:-1", f->disk, &t, &err), -1);
    assert_starts_with(err.msg, "layout=chunks:-1: SIZE: ");

    assert_int_equal(run_layout("bogus", f->disk, &t, &err), -1);
    assert_starts_with(err.msg, "layout=bogus: ");
    assert_contains(err.msg, "unknown layout 'bogus'");

    assert_int_equal(run_layout("chunks", f->disk, &t, &err), -1);
    assert_starts_with(err.msg, "layout=chunks: ");
    assert_contains(err.msg, "unknown layout");

    assert_int_equal(run_layout("chunks:1M", NULL, &t, &err), -1);
    assert_string_equal(err.msg, "layout=chunks:1M: BACKING: no backing file given");

    assert_int_equal(t.count, 0);
    assert_int_equal(t.rule_count, 0);
    assert_int_equal(window_table_close(&t), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_comments_blank_lines_and_field_counts),
        T(test_empty_table),
        T(test_crlf_lines),
        T(test_backing_relative_to_table_folder),
        T(test_default_backing_is_not_relative_to_table),
        T(test_absolute_backing),
        T(test_one_backing_named_twice_opened_once),
        T(test_bad_number_names_line_and_field),
        T(test_too_few_fields),
        T(test_bad_mode),
        T(test_bad_path),
        T(test_too_many_fields),
        T(test_trailing_backslash),
        T(test_window_past_the_end),
        T(test_no_backing),
        T(test_missing_table_file),
        T(test_nul_byte_in_a_line),
        T(test_layout_chunks),
        T(test_layout_errors),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
