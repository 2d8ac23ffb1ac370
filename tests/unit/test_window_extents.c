/* test_window_extents.c - windows of several extents: built from table
 * lines (window_table_extend), the binary search for the extent of an
 * offset, pieces of spans, writes stopping at a hole and refused in one,
 * SEEK_DATA/SEEK_HOLE across extents, truncation that zeroes data extents
 * only, copies kept inside one extent, and --list printing one line per
 * extent. Two 64 KiB backing files of known bytes in a mkdtemp folder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slicefs/window_io.h"

#define SIZE 65536

struct fixture {
    char dir[256];
    char a[PATH_MAX], b[PATH_MAX];
    struct window_table table;
};

static void write_file(const char *path, unsigned char base)
{
    unsigned char buf[SIZE];
    for (size_t i = 0; i < SIZE; i++)
        buf[i] = (unsigned char)(base + i % 200 + 1);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, SIZE), SIZE);
    close(fd);
}

static void extent(struct fixture *f, const char *offset, const char *length, const char *file,
                   bool first)
{
    struct window_spec spec;
    struct sfs_error err = {{0}};
    assert_int_equal(window_spec_from_fields("w", offset, length, "rw", file, "test", &spec, &err),
                     0);
    int res = first ? window_table_add(&f->table, &spec, NULL, &err)
                    : window_table_extend(&f->table, &spec, NULL, &err);
    if (res != 0)
        fail_msg("%s", err.msg);
    window_spec_free(&spec);
}

/* w: a[100, 1100) | hole 2000 | b[0, 500) | a[4096, end) */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/extents.XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->a, sizeof f->a, "%s/a", f->dir);
    snprintf(f->b, sizeof f->b, "%s/b", f->dir);
    write_file(f->a, 0);
    write_file(f->b, 100);
    window_table_init(&f->table, false);
    extent(f, "100", "1000", f->a, true);
    extent(f, "hole", "2000", f->a, false);
    extent(f, "0", "500", f->b, false);
    extent(f, "4096", "end", f->a, false);
    struct sfs_error err;
    assert_int_equal(window_table_map(&f->table, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    window_table_close(&f->table);
    unlink(f->a);
    unlink(f->b);
    rmdir(f->dir);
    free(f);
    return 0;
}

static const struct window *the_window(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->table.count, 1);
    return &f->table.windows[0];
}

static void test_shape(void **state)
{
    const struct window *w = the_window(state);
    assert_int_equal(w->extent_count, 4);
    assert_false(w->follows_size);
    assert_int_equal(window_length(w), 1000 + 2000 + 500 + (SIZE - 4096));
    uint64_t starts[] = {0, 1000, 3000, 3500};
    for (uint32_t k = 0; k < 4; k++) {
        assert_int_equal(w->extents[k].start, starts[k]);
        assert_ptr_equal(window_extent_at(w, starts[k]), &w->extents[k]);
        if (k > 0)
            assert_ptr_equal(window_extent_at(w, starts[k] - 1), &w->extents[k - 1]);
    }
    assert_ptr_equal(window_extent_at(w, window_length(w) - 1), &w->extents[3]);
}

static void test_pieces(void **state)
{
    const struct window *w = the_window(state);
    struct wio_span span;
    assert_int_equal(wio_read(w, 900, 3000, &span), 0);
    assert_int_equal(span.count, 3000);
    struct wio_piece p;
    wio_piece(w, 900, 3000, &p);
    assert_int_equal(p.count, 100);
    assert_false(p.hole);
    assert_int_equal(p.backing_off, 1000);
    assert_int_equal(p.data[0], (unsigned char)(1000 % 200 + 1));
    wio_piece(w, 1000, 2900, &p);
    assert_true(p.hole);
    assert_int_equal(p.count, 2000);
    wio_piece(w, 3000, 900, &p);
    assert_int_equal(p.count, 500);
    assert_int_equal(p.data[0], 101);
    wio_piece(w, 3500, 400, &p);
    assert_int_equal(p.backing_off, 4096);
    size_t len;
    const unsigned char *z = wio_zeros(&len);
    assert_non_null(z);
    assert_true(len >= WIO_ZEROS_MIN);
    assert_int_equal(z[len - 1], 0);
}

static void test_write_and_holes(void **state)
{
    const struct window *w = the_window(state);
    struct wio_span span;
    /* Starts in data, stops at the hole. */
    assert_int_equal(wio_write(w, 500, 5000, &span), 0);
    assert_int_equal(span.off, 500);
    assert_int_equal(span.count, 500);
    /* Starts in the hole. */
    assert_int_equal(wio_write(w, 1000, 10, &span), -ENOSPC);
    assert_int_equal(wio_write(w, 2999, 10, &span), -ENOSPC);
    /* Across two data extents (b, then a). */
    assert_int_equal(wio_write(w, 3400, 200, &span), 0);
    assert_int_equal(span.count, 200);
    /* Past the end. */
    assert_int_equal(wio_write(w, (int64_t)window_length(w), 1, &span), -ENOSPC);
}

static void test_seek(void **state)
{
    const struct window *w = the_window(state);
    assert_int_equal(wio_seek(w, 0, SEEK_DATA), 0);
    assert_int_equal(wio_seek(w, 0, SEEK_HOLE), 1000);
    assert_int_equal(wio_seek(w, 1500, SEEK_DATA), 3000);
    assert_int_equal(wio_seek(w, 1500, SEEK_HOLE), 1500);
    assert_int_equal(wio_seek(w, 3000, SEEK_HOLE), (int64_t)window_length(w));
    assert_int_equal(wio_seek(w, (int64_t)window_length(w), SEEK_DATA), -ENXIO);
}

static void test_truncate_zeroes_data(void **state)
{
    const struct window *w = the_window(state);
    struct wio_span changed;
    assert_int_equal(wio_truncate(w, 3200, &changed), WIO_TRUNCATE_ZEROED);
    assert_int_equal(changed.off, 3200);
    struct wio_piece p;
    wio_piece(w, 3200, 300, &p);
    for (uint64_t i = 0; i < p.count; i++)
        assert_int_equal(p.data[i], 0);
    wio_piece(w, 3199, 1, &p);
    assert_int_not_equal(p.data[0], 0);
    assert_int_equal(window_length(w), 3500 + SIZE - 4096); /* the size stays */
}

static void test_copy_one_extent(void **state)
{
    const struct window *w = the_window(state);
    uint64_t count;
    assert_int_equal(wio_copy(w, 900, w, 3000, 5000, &count), 0);
    assert_int_equal(count, 100); /* the rest of the first extent */
    assert_int_equal(wio_copy(w, 0, w, 1500, 10, &count), -ENOSPC);
}

static void test_list(void **state)
{
    struct fixture *f = *state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    window_table_list(&f->table, out);
    fclose(out);
    char expect[5 * PATH_MAX];
    snprintf(expect, sizeof expect,
             "w 100 1000 rw %s\nw hole 2000 rw %s\nw 0 500 rw %s\nw 4096 end rw %s\n", f->a, f->a,
             f->b, f->a);
    assert_string_equal(text, expect);
    free(text);
}

static void test_refusals(void **state)
{
    struct fixture *f = *state;
    struct window_spec spec;
    struct sfs_error err = {{0}};
    assert_int_equal(window_spec_from_fields("w", "0", "10", "ro", f->a, "line 9", &spec, &err), 0);
    assert_int_equal(window_table_extend(&f->table, &spec, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "line 9: MODE"));
    window_spec_free(&spec);
    assert_int_equal(window_spec_from_fields("w", "hole", "end", NULL, NULL, "x", &spec, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_and_holes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seek, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate_zeroes_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_one_extent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
