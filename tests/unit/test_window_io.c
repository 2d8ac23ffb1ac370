/* test_window_io.c - window I/O geometry: every SPEC section 4 rule.
 *
 * Each test gets a fresh mkdtemp folder with a 1 MiB backing file of
 * non-zero bytes (sparse where a test asks for a larger one), mapped with a
 * 4 MiB grow reserve (SLICEFS_GROW_RESERVE), and windows built by hand on
 * it. Covers reads at and past the end, short writes across the end,
 * ENOSPC at and past it, growth of growable windows up to the end of the
 * mapping and EFBIG past it (also when the file grew past the mapping
 * outside: the window stops at the mapping), truncation (zero-fill, ignore
 * mode, EFBIG, resize), fallocate ranges (fixed windows as a block device,
 * growable ones as their file), SEEK_DATA/SEEK_HOLE mapping, copy ranges
 * between overlapping windows and the copy cap, sync ranges, and that every
 * span lies inside the mapping; and that a size refresh racing resizes
 * never rolls the size back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slicefs/guarded_access.h"
#include "slicefs/window_io.h"

#define KiB ((uint64_t)1 << 10)
#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)
#define FILE_SIZE MiB
#define RESERVE (4 * MiB)

struct fixture {
    char dir[256];
    char file[PATH_MAX];
    struct backing b;
};

static unsigned char pattern_byte(uint64_t i)
{
    return (unsigned char)((i % 251) + 1);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->b.fd = -1;
    if (unit_temp_dir(f->dir, sizeof f->dir) != 0)
        return -1;
    snprintf(f->file, sizeof f->file, "%s/backing.img", f->dir);
    int fd = open(f->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    unsigned char *buf = malloc(FILE_SIZE);
    if (buf == NULL)
        return -1;
    for (size_t i = 0; i < FILE_SIZE; i++)
        buf[i] = pattern_byte(i);
    ssize_t done = pwrite(fd, buf, FILE_SIZE, 0);
    free(buf);
    close(fd);
    if (done != (ssize_t)FILE_SIZE)
        return -1;
    setenv("SLICEFS_GROW_RESERVE", "4M", 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->b.fd >= 0)
        backing_close(&f->b);
    int res = unit_remove_tree(f->dir);
    free(f);
    return res;
}

/* Opens and maps the backing file: shared and writable, with the grow
 * reserve when reserve, and the cow overlay when cow. */
static void map_backing(struct fixture *f, bool reserve, bool cow)
{
    struct sfs_error err = {{0}};
    if (backing_open(&f->b, f->file, false, &err) != 0)
        fail_msg("backing_open: %s", err.msg);
    f->b.want_shared = f->b.want_shared_write = true;
    f->b.want_reserve = reserve;
    f->b.want_private = cow;
    if (backing_map(&f->b, &err) != 0)
        fail_msg("backing_map: %s", err.msg);
}

static char window_name[] = "w", window_origin[] = "test";

static struct window fixed(struct fixture *f, uint64_t offset, uint64_t length,
                           enum window_mode mode)
{
    return (struct window){.path = window_name,
                           .backing = &f->b,
                           .offset = offset,
                           .length = length,
                           .mode = mode,
                           .truncate = WINDOW_TRUNCATE_ZERO,
                           .origin = window_origin};
}

/* A rw window from offset to the end of the file, following its size. */
static struct window growable(struct fixture *f, uint64_t offset)
{
    struct window w = fixed(f, offset, f->b.size - offset, WINDOW_MODE_RW);
    w.to_end = w.follows_size = true;
    return w;
}

static uint64_t file_size(const struct fixture *f)
{
    struct stat st;
    assert_int_equal(stat(f->file, &st), 0);
    return (uint64_t)st.st_size;
}

static void resize_outside(const struct fixture *f, uint64_t size)
{
    assert_int_equal(truncate(f->file, (off_t)size), 0);
}

/* Byte at off of the file, read with pread. */
static unsigned char file_byte(const struct fixture *f, uint64_t off)
{
    unsigned char c = 0xee;
    int fd = open(f->file, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
    close(fd);
    return c;
}

static void assert_span(const struct wio_span *s, uint64_t off, uint64_t count)
{
    assert_int_equal(s->off, off);
    assert_int_equal(s->count, count);
}

/* Reads: short at the end, nothing at or past it. */
static void test_read(void **state)
{
    struct fixture *f = *state;
    map_backing(f, false, false);
    struct window w = fixed(f, 4096, 10000, WINDOW_MODE_RO);
    struct wio_span s;
    assert_int_equal(wio_read(&w, 0, 4096, &s), 0);
    assert_span(&s, 0, 4096);
    assert_int_equal(wio_data(&w, &s)[0], pattern_byte(4096));
    assert_int_equal(wio_read(&w, 8192, 4096, &s), 0);
    assert_span(&s, 8192, 10000 - 8192);
    assert_int_equal(wio_read(&w, 10000, 4096, &s), 0);
    assert_int_equal(s.count, 0);
    assert_int_equal(wio_read(&w, INT64_MAX, UINT64_MAX, &s), 0);
    assert_span(&s, 10000, 0);
    assert_int_equal(wio_read(&w, 9999, UINT64_MAX, &s), 0);
    assert_span(&s, 9999, 1);
    assert_int_equal(wio_read(&w, -1, 1, &s), -EINVAL);
}

/* Writes to a fixed window: cut short across the end, ENOSPC at or past
 * it, EACCES on ro. */
static void test_write_fixed(void **state)
{
    struct fixture *f = *state;
    map_backing(f, false, false);
    struct window w = fixed(f, 4096, 10000, WINDOW_MODE_RW);
    struct wio_span s;
    assert_int_equal(wio_write(&w, 0, 10000, &s), 0);
    assert_span(&s, 0, 10000);
    assert_int_equal(wio_write(&w, 9000, 4096, &s), 0);
    assert_span(&s, 9000, 1000);
    assert_int_equal(wio_write(&w, 9999, UINT64_MAX, &s), 0);
    assert_span(&s, 9999, 1);
    assert_int_equal(wio_write(&w, 10000, 1, &s), -ENOSPC);
    assert_int_equal(wio_write(&w, INT64_MAX, 1, &s), -ENOSPC);
    assert_int_equal(wio_write(&w, -4096, 1, &s), -EINVAL);
    w.mode = WINDOW_MODE_RO;
    assert_int_equal(wio_write(&w, 0, 1, &s), -EACCES);
    /* A fixed window never changes its file's size. */
    assert_int_equal(file_size(f), FILE_SIZE);
}

/* A growable window grows its file as far as a write reaches, up to the
 * end of the mapping: a write across it is cut short there, one at or
 * past it fails with EFBIG. */
static void test_write_growable(void **state)
{
    struct fixture *f = *state;
    map_backing(f, true, false);
    assert_int_equal(f->b.map_len, FILE_SIZE + RESERVE);
    struct window w = growable(f, 4096);
    uint64_t max = FILE_SIZE + RESERVE - 4096;
    assert_int_equal(wio_max_length(&w), max);
    struct wio_span s;
    assert_int_equal(wio_write(&w, (int64_t)MiB, 8192, &s), 0);
    assert_span(&s, MiB, 8192);
    assert_int_equal(file_size(f), 4096 + MiB + 8192);
    assert_int_equal(window_length(&w), MiB + 8192);
    /* Across the end of the mapping: cut short there. */
    assert_int_equal(wio_write(&w, (int64_t)(max - 100), 4096, &s), 0);
    assert_span(&s, max - 100, 100);
    assert_int_equal(file_size(f), FILE_SIZE + RESERVE);
    assert_int_equal(wio_write(&w, (int64_t)max, 1, &s), -EFBIG);
    assert_int_equal(wio_write(&w, INT64_MAX, 1, &s), -EFBIG);
    assert_int_equal(file_size(f), FILE_SIZE + RESERVE);
}

/* The escape of issue 11: the file grows outside the mount far past the
 * mapping. The window stops at the mapping's end; reads there are empty,
 * writes fail with EFBIG; nothing is handed out past the mapping. */
static void test_grown_past_mapping(void **state)
{
    struct fixture *f = *state;
    map_backing(f, true, false);
    struct window w = growable(f, 0);
    uint64_t huge = ((uint64_t)1 << 40) + 64 * MiB;
    resize_outside(f, huge);
    struct stat st;
    assert_int_equal(backing_refresh(&f->b, &st), 0);
    assert_int_equal(backing_size_now(&f->b), huge);
    assert_int_equal(window_length(&w), FILE_SIZE + RESERVE);
    assert_true(backing_limit_first_reached(&f->b));
    assert_false(backing_limit_first_reached(&f->b));

    struct wio_span s;
    int64_t far = ((int64_t)1 << 40) + 32 * (int64_t)MiB;
    assert_int_equal(wio_read(&w, far, 4096, &s), 0);
    assert_int_equal(s.count, 0);
    assert_int_equal(wio_write(&w, far, 4096, &s), -EFBIG);
    assert_int_equal(file_size(f), huge);
    /* Just below the mapping's end: the bytes are there and in the mapping. */
    assert_int_equal(wio_read(&w, (int64_t)(FILE_SIZE + RESERVE - 10), 4096, &s), 0);
    assert_span(&s, FILE_SIZE + RESERVE - 10, 10);
    assert_int_equal(wio_write(&w, (int64_t)(FILE_SIZE + RESERVE - 10), 4096, &s), 0);
    assert_span(&s, FILE_SIZE + RESERVE - 10, 10);
    struct wio_span changed;
    assert_int_equal(wio_truncate(&w, (int64_t)huge, &changed), -EFBIG);
    assert_int_equal(wio_fallocate(&w, 0, far, 4096, &changed), -EFBIG);

    /* Shrunk back below the mapping: the window follows it again. */
    resize_outside(f, 8192);
    assert_int_equal(backing_refresh(&f->b, &st), 0);
    assert_int_equal(window_length(&w), 8192);
    assert_int_equal(wio_read(&w, 8192, 1, &s), 0);
    assert_int_equal(s.count, 0);
}

/* Truncating a fixed window: the rest reads back as zeros, the size stays;
 * above the length EFBIG; ignore mode changes nothing. */
static void test_truncate_fixed(void **state)
{
    struct fixture *f = *state;
    map_backing(f, false, false);
    struct window w = fixed(f, 4096, 65536, WINDOW_MODE_RW);
    struct wio_span changed;
    assert_int_equal(wio_truncate(&w, 65537, &changed), -EFBIG);
    assert_int_equal(wio_truncate(&w, 65536, &changed), WIO_TRUNCATE_NOTHING);
    assert_int_equal(changed.count, 0);
    assert_int_equal(wio_truncate(&w, -1, &changed), -EINVAL);

    w.truncate = WINDOW_TRUNCATE_IGNORE;
    assert_int_equal(wio_truncate(&w, 7, &changed), WIO_TRUNCATE_NOTHING);
    assert_int_equal(file_byte(f, 4096 + 7), pattern_byte(4096 + 7));
    assert_int_equal(wio_truncate(&w, 65537, &changed), -EFBIG);

    w.truncate = WINDOW_TRUNCATE_ZERO;
    assert_int_equal(wio_truncate(&w, 7, &changed), WIO_TRUNCATE_ZEROED);
    assert_span(&changed, 7, 65536 - 7);
    assert_int_equal(file_byte(f, 4096 + 6), pattern_byte(4096 + 6));
    assert_int_equal(file_byte(f, 4096 + 7), 0);
    assert_int_equal(file_byte(f, 4096 + 65535), 0);
    assert_int_equal(file_byte(f, 4096 + 65536), pattern_byte(4096 + 65536));
    assert_int_equal(file_size(f), FILE_SIZE);

    w.mode = WINDOW_MODE_RO;
    assert_int_equal(wio_truncate(&w, 0, &changed), -EACCES);
}

/* A cow window's truncation zeroes its overlay only. */
static void test_truncate_cow(void **state)
{
    struct fixture *f = *state;
    map_backing(f, false, true);
    struct window w = fixed(f, 0, 3 * 4096, WINDOW_MODE_COW);
    struct wio_span changed;
    assert_int_equal(wio_truncate(&w, 100, &changed), WIO_TRUNCATE_ZEROED);
    struct wio_span s;
    assert_int_equal(wio_read(&w, 0, 3 * 4096, &s), 0);
    const unsigned char *p = wio_data(&w, &s);
    assert_int_equal(p[99], pattern_byte(99));
    assert_int_equal(p[100], 0);
    assert_int_equal(p[3 * 4096 - 1], 0);
    assert_int_equal(file_byte(f, 100), pattern_byte(100));
}

/* A growable window truncates its file, up to the mapping; in ignore mode
 * only growth changes anything. */
static void test_truncate_growable(void **state)
{
    struct fixture *f = *state;
    map_backing(f, true, false);
    struct window w = growable(f, 4096);
    struct wio_span changed;
    assert_int_equal(wio_truncate(&w, 1000, &changed), WIO_TRUNCATE_RESIZED);
    assert_span(&changed, 1000, FILE_SIZE - 4096 - 1000);
    assert_int_equal(file_size(f), 4096 + 1000);
    assert_int_equal(window_length(&w), 1000);
    assert_int_equal(wio_truncate(&w, (int64_t)(2 * MiB), &changed), WIO_TRUNCATE_RESIZED);
    assert_int_equal(changed.count, 0);
    assert_int_equal(file_size(f), 4096 + 2 * MiB);
    assert_int_equal(wio_truncate(&w, (int64_t)wio_max_length(&w) + 1, &changed), -EFBIG);
    assert_int_equal(wio_truncate(&w, (int64_t)wio_max_length(&w), &changed), WIO_TRUNCATE_RESIZED);
    assert_int_equal(file_size(f), FILE_SIZE + RESERVE);

    w.truncate = WINDOW_TRUNCATE_IGNORE;
    assert_int_equal(wio_truncate(&w, 0, &changed), WIO_TRUNCATE_NOTHING);
    assert_int_equal(file_size(f), FILE_SIZE + RESERVE);
}

/* fallocate on a fixed window: only inside it, as on a block device. */
static void test_fallocate_fixed(void **state)
{
    struct fixture *f = *state;
    map_backing(f, false, false);
    struct window w = fixed(f, 4096, 65536, WINDOW_MODE_RW);
    struct wio_span changed;
    int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    assert_int_equal(wio_fallocate(&w, punch, 100, 200, &changed), 0);
    assert_span(&changed, 100, 200);
    assert_int_equal(file_byte(f, 4096 + 99), pattern_byte(4096 + 99));
    assert_int_equal(file_byte(f, 4096 + 100), 0);
    assert_int_equal(file_byte(f, 4096 + 299), 0);
    assert_int_equal(file_byte(f, 4096 + 300), pattern_byte(4096 + 300));
    assert_int_equal(wio_fallocate(&w, FALLOC_FL_ZERO_RANGE, 1000, 10, &changed), 0);
    assert_int_equal(file_byte(f, 4096 + 1009), 0);
    assert_int_equal(wio_fallocate(&w, 0, 0, 65536, &changed), 0);
    assert_int_equal(changed.count, 0);

    assert_int_equal(wio_fallocate(&w, punch, 65000, 1000, &changed), -EINVAL);
    assert_int_equal(wio_fallocate(&w, punch, 65536, 1, &changed), -EINVAL);
    assert_int_equal(wio_fallocate(&w, 0, 0, 65537, &changed), -EINVAL);
    assert_int_equal(wio_fallocate(&w, punch, 0, 0, &changed), -EINVAL);
    assert_int_equal(wio_fallocate(&w, punch, -1, 1, &changed), -EINVAL);
    assert_int_equal(wio_fallocate(&w, punch, INT64_MAX, INT64_MAX, &changed), -EFBIG);
    assert_int_equal(wio_fallocate(&w, FALLOC_FL_PUNCH_HOLE, 0, 1, &changed), -EOPNOTSUPP);
    assert_int_equal(wio_fallocate(&w, punch | FALLOC_FL_ZERO_RANGE, 0, 1, &changed), -EOPNOTSUPP);
    assert_int_equal(wio_fallocate(&w, FALLOC_FL_COLLAPSE_RANGE, 0, 4096, &changed), -EOPNOTSUPP);
    w.mode = WINDOW_MODE_RO;
    assert_int_equal(wio_fallocate(&w, punch, 0, 1, &changed), -EBADF);
    assert_int_equal(file_size(f), FILE_SIZE);
}

/* fallocate on a growable window behaves like its file (the issue's
 * examples, on a 100000-byte window): zero-range past the end grows it,
 * punch-hole and keep-size allocation across the end succeed and keep the
 * size; past the mapping, growth fails with EFBIG. */
static void test_fallocate_growable(void **state)
{
    struct fixture *f = *state;
    resize_outside(f, 4096 + 100000);
    map_backing(f, true, false);
    struct window w = growable(f, 4096);
    assert_int_equal(window_length(&w), 100000);
    struct wio_span changed;
    int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    assert_int_equal(wio_fallocate(&w, punch, 98000, 8192, &changed), 0);
    assert_span(&changed, 98000, 2000);
    assert_int_equal(file_size(f), 4096 + 100000);
    assert_int_equal(file_byte(f, 4096 + 97999), pattern_byte(4096 + 97999));
    assert_int_equal(file_byte(f, 4096 + 98000), 0);
    assert_int_equal(file_byte(f, 4096 + 99999), 0);
    assert_int_equal(wio_fallocate(&w, FALLOC_FL_KEEP_SIZE, 90000, 65536, &changed), 0);
    assert_int_equal(
        wio_fallocate(&w, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 200000, 4096, &changed), 0);
    assert_int_equal(changed.count, 0);
    assert_int_equal(file_size(f), 4096 + 100000);

    assert_int_equal(wio_fallocate(&w, FALLOC_FL_ZERO_RANGE, 200000, 4096, &changed), 0);
    assert_span(&changed, 200000, 4096);
    assert_int_equal(file_size(f), 4096 + 204096);
    assert_int_equal(window_length(&w), 204096);
    assert_int_equal(wio_fallocate(&w, 0, 300000, 4096, &changed), 0);
    assert_int_equal(file_size(f), 4096 + 304096);

    uint64_t max = wio_max_length(&w);
    assert_int_equal(wio_fallocate(&w, 0, (int64_t)max - 10, 20, &changed), -EFBIG);
    assert_int_equal(wio_fallocate(&w, FALLOC_FL_ZERO_RANGE, (int64_t)max, 1, &changed), -EFBIG);
    assert_int_equal(wio_fallocate(&w, punch, (int64_t)max, 1, &changed), 0);
    assert_int_equal(file_size(f), 4096 + 304096);
}

/* SEEK_DATA/SEEK_HOLE: the file's holes, in the window's coordinates. */
static void test_seek(void **state)
{
    struct fixture *f = *state;
    map_backing(f, false, true);
    /* A hole in [256K, 512K) of the file (where the file system punches). */
    int fd = open(f->file, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    bool punched =
        fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 256 * 1024, 256 * 1024) == 0;
    close(fd);
    struct window w = fixed(f, 128 * KiB, 512 * KiB, WINDOW_MODE_RO);
    assert_int_equal(wio_seek(&w, 0, SEEK_DATA), 0);
    if (punched) {
        assert_int_equal(wio_seek(&w, 0, SEEK_HOLE), 128 * KiB);
        assert_int_equal(wio_seek(&w, 128 * KiB, SEEK_DATA), 384 * KiB);
    }
    /* No hole before the end: the window's end is one. */
    assert_int_equal(wio_seek(&w, 400 * KiB, SEEK_HOLE), 512 * KiB);
    assert_int_equal(wio_seek(&w, 512 * KiB, SEEK_DATA), -ENXIO);
    assert_int_equal(wio_seek(&w, -1, SEEK_DATA), -ENXIO);
    assert_int_equal(wio_seek(&w, 0, SEEK_SET), -EINVAL);
    /* A cow window is all data. */
    w.mode = WINDOW_MODE_COW;
    assert_int_equal(wio_seek(&w, 200 * KiB, SEEK_DATA), 200 * KiB);
    assert_int_equal(wio_seek(&w, 200 * KiB, SEEK_HOLE), 512 * KiB);
}

/* Copies between overlapping windows of one file: the read side clipped
 * like a read, the write side like a write. */
static void test_copy(void **state)
{
    struct fixture *f = *state;
    map_backing(f, false, true);
    struct window a = fixed(f, 0, 65536, WINDOW_MODE_RW);
    struct window b = fixed(f, 32768, 65536, WINDOW_MODE_RW);
    uint64_t count;
    assert_int_equal(wio_copy(&a, 0, &b, 0, 4096, &count), 0);
    assert_int_equal(count, 4096);
    assert_int_equal(wio_copy(&a, 60000, &b, 0, 10000, &count), 0);
    assert_int_equal(count, 65536 - 60000);
    assert_int_equal(wio_copy(&a, 0, &b, 60000, 10000, &count), 0);
    assert_int_equal(count, 65536 - 60000);
    assert_int_equal(wio_copy(&a, 65536, &b, 0, 10, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(wio_copy(&a, 0, &b, 65536, 10, &count), -ENOSPC);
    assert_int_equal(wio_copy(&a, -1, &b, 0, 10, &count), -EINVAL);
    assert_int_equal(wio_copy(&a, 0, &b, -1, 10, &count), -EINVAL);
    /* Overlapping ranges of one file go through the mappings. */
    assert_false(wio_copy_by_fd(&a, 32768, &b, 0, 4096));
    assert_false(wio_copy_by_fd(&a, 40000, &b, 0, 10000));
    assert_true(wio_copy_by_fd(&a, 0, &b, 0, 4096));
    b.mode = WINDOW_MODE_COW;
    assert_false(wio_copy_by_fd(&a, 0, &b, 0, 4096));
    b.mode = WINDOW_MODE_RO;
    assert_int_equal(wio_copy(&a, 0, &b, 0, 10, &count), -EBADF);
    assert_int_equal(wio_copy(&b, 0, &a, 0, 10, &count), 0);
    assert_int_equal(count, 10);
}

/* A copy never moves more than the reply's 32-bit size can say. */
static void test_copy_cap(void **state)
{
    struct fixture *f = *state;
    resize_outside(f, 8 * GiB);
    map_backing(f, false, false);
    struct window a = fixed(f, 0, 4 * GiB, WINDOW_MODE_RW);
    struct window b = fixed(f, 4 * GiB, 4 * GiB, WINDOW_MODE_RW);
    uint64_t count;
    assert_int_equal(wio_copy(&a, 0, &b, 0, SIZE_MAX, &count), 0);
    assert_int_equal(count, WIO_COPY_MAX);
    assert_true(count <= UINT32_MAX);
    assert_int_equal(count % 4096, 0);
    assert_int_equal(wio_copy(&a, 0, &b, 0, 4 * GiB, &count), 0);
    assert_int_equal(count, WIO_COPY_MAX);
    assert_int_equal(wio_copy(&a, 0, &b, 0, 12345, &count), 0);
    assert_int_equal(count, 12345);
}

/* Sync: rw windows write back their pages; cow and ro have none. */
static void test_sync(void **state)
{
    struct fixture *f = *state;
    map_backing(f, false, true);
    struct window w = fixed(f, 4096, 65536, WINDOW_MODE_RW);
    struct wio_span s;
    assert_int_equal(wio_write(&w, 0, 10, &s), 0);
    assert_int_equal(guarded_copy(wio_data(&w, &s), "0123456789", 10), 0);
    assert_int_equal(wio_sync(&w, 0, UINT64_MAX), 0);
    assert_int_equal(wio_sync(&w, 65536, 10), 0);
    assert_int_equal(wio_sync(&w, UINT64_MAX, UINT64_MAX), 0);
    assert_int_equal(file_byte(f, 4096 + 9), '9');
    w.mode = WINDOW_MODE_COW;
    assert_int_equal(wio_sync(&w, 0, 10), 0);
    w.mode = WINDOW_MODE_RO;
    assert_int_equal(wio_sync(&w, 0, 10), 0);
}

struct refresher {
    struct backing *b;
    atomic_bool stop;
};

static void *refresh_loop(void *arg)
{
    struct refresher *r = arg;
    struct stat st;
    while (!atomic_load(&r->stop))
        backing_refresh(r->b, &st);
    return NULL;
}

/* A size read by fstat (the attribute path) never undoes a concurrent
 * resize: after the last resize, the size as last seen is the file's. */
static void test_refresh_never_rolls_back(void **state)
{
    struct fixture *f = *state;
    map_backing(f, true, false);
    struct refresher r = {.b = &f->b};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, refresh_loop, &r), 0);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(backing_resize(&f->b, i % 2 ? 2 * MiB : 3 * MiB + (uint64_t)i, false), 0);
    atomic_store(&r.stop, true);
    pthread_join(thread, NULL);
    assert_int_equal(backing_size_now(&f->b), file_size(f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_fixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_growable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grown_past_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate_fixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate_cow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate_growable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fallocate_fixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fallocate_growable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seek, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_never_rolls_back, setup, teardown),
    };
    struct sfs_error err = {{0}};
    if (guarded_access_init(&err) < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
