/* test_source_partitions.c - layout=partitions over real partition tables.
 *
 * The images are made with sfdisk (util-linux) in a fresh mkdtemp folder;
 * a test that needs sfdisk is skipped when it is not installed. Covers
 * source_partitions_add: an MBR with a primary, an extended and a logical
 * partition gives p1 and p5 (the extended one is a container, not a window)
 * at the right byte offsets and lengths, without warnings; a GPT gives p1,
 * p2; an image with no table gives no windows and a warning through
 * ctx.warn (and none is needed: warn may be NULL); a partition that runs
 * past the end of a truncated image is skipped with a warning; a missing
 * backing file and no backing file are errors naming the origin; and
 * source_layout's "partitions" reaches the same code.
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

#define MiB ((uint64_t)1 << 20)

struct fixture {
    char dir[256];
    char image[PATH_MAX];
};

/* Every warning of the current test, one per line. */
static char warnings[8192];
static size_t warning_count;

static void capture_warning(const char *message)
{
    size_t used = strlen(warnings);
    snprintf(warnings + used, sizeof warnings - used, "%s\n", message);
    warning_count++;
}

static const char *sfdisk_path(void)
{
    static const char *const candidates[] = {"/usr/sbin/sfdisk", "/sbin/sfdisk", "/usr/bin/sfdisk",
                                             "/bin/sfdisk"};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (access(candidates[i], X_OK) == 0)
            return candidates[i];
    return NULL;
}

static void make_sparse(const char *path, uint64_t size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        fail_msg("cannot create %s", path);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    assert_int_equal(close(fd), 0);
}

/* Makes f->image size bytes long and writes script to it with sfdisk;
 * skips the test when sfdisk is missing. */
static void make_image(const struct fixture *f, uint64_t size, const char *script)
{
    const char *sfdisk = sfdisk_path();
    if (sfdisk == NULL) {
        unit_skip("sfdisk not found");
    }
    make_sparse(f->image, size);
    char *command = NULL;
    assert_true(asprintf(&command, "printf '%s' | %s -q '%s' >/dev/null 2>&1", script, sfdisk,
                         f->image) > 0);
    int status = system(command);
    if (status != 0)
        fail_msg("'%s' failed (status %d)", command, status);
    free(command);
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
    snprintf(f->image, sizeof f->image, "%s/disk.img", f->dir);
    warnings[0] = '\0';
    warning_count = 0;
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

static int add_partitions(const char *backing, struct window_table *t, struct sfs_error *err)
{
    struct source_context ctx = {.default_backing = backing, .warn = capture_warning};
    memset(err, 0, sizeof *err);
    return source_partitions_add("layout=partitions", &ctx, t, err);
}

static void check_window(const struct window *w, const char *path, uint64_t offset, uint64_t length)
{
    assert_string_equal(w->path, path);
    assert_int_equal(w->offset, offset);
    assert_int_equal(w->length, length);
    assert_false(w->to_end);
    assert_string_equal(w->origin, "layout=partitions");
}

static void test_mbr_primary_extended_logical(void **state)
{
    struct fixture *f = *state;
    /* p1: sectors 2048+8192; p2: extended 10240+40960; p5: logical 12288+8192. */
    make_image(f, 25 * MiB, "label: dos\\n2048,8192,83\\n10240,40960,5\\n12288,8192,83\\n");
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    if (add_partitions(f->image, &t, &err) != 0)
        fail_msg("source_partitions_add: %s", err.msg);
    if (warning_count != 0)
        fail_msg("unexpected warnings: %s", warnings);
    assert_int_equal(t.count, 2);
    check_window(&t.windows[0], "p1", 2048 * 512, 8192 * 512);
    check_window(&t.windows[1], "p5", 12288 * 512, 8192 * 512);
    assert_int_equal(t.windows[0].mode, WINDOW_MODE_RW);
    assert_int_equal(t.backing_count, 1);
    char *real = realpath(f->image, NULL);
    assert_non_null(real);
    assert_string_equal(t.backings[0]->real_path, real);
    free(real);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_mbr_three_primaries(void **state)
{
    struct fixture *f = *state;
    make_image(f, 8 * MiB, "label: dos\\n2048,2048,83\\n4096,1024,83\\n6144,2048,c\\n");
    struct window_table t;
    window_table_init(&t, true);
    struct sfs_error err;
    if (add_partitions(f->image, &t, &err) != 0)
        fail_msg("source_partitions_add: %s", err.msg);
    assert_int_equal(warning_count, 0);
    assert_int_equal(t.count, 3);
    check_window(&t.windows[0], "p1", 1 * MiB, 1 * MiB);
    check_window(&t.windows[1], "p2", 2 * MiB, 512 * 1024);
    check_window(&t.windows[2], "p3", 3 * MiB, 1 * MiB);
    assert_int_equal(t.windows[2].mode, WINDOW_MODE_RO); /* a read-only table */
    assert_int_equal(window_table_close(&t), 0);
}

static void test_gpt(void **state)
{
    struct fixture *f = *state;
    make_image(f, 8 * MiB, "label: gpt\\n2048,4096\\n8192,4096\\n");
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    if (add_partitions(f->image, &t, &err) != 0)
        fail_msg("source_partitions_add: %s", err.msg);
    if (warning_count != 0)
        fail_msg("unexpected warnings: %s", warnings);
    assert_int_equal(t.count, 2);
    check_window(&t.windows[0], "p1", 1 * MiB, 2 * MiB);
    check_window(&t.windows[1], "p2", 4 * MiB, 2 * MiB);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_no_partition_table(void **state)
{
    struct fixture *f = *state;
    make_sparse(f->image, 1 * MiB);
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    assert_int_equal(add_partitions(f->image, &t, &err), 0);
    assert_int_equal(t.count, 0);
    assert_int_equal(warning_count, 1);
    char expected[PATH_MAX + 128];
    snprintf(expected, sizeof expected, "layout=partitions: no partition table found in '%s'\n",
             f->image);
    assert_string_equal(warnings, expected);

    /* Without a warn callback it is quiet and still succeeds; it says why
     * it found nothing where the caller asks. */
    struct sfs_error nothing = {{0}};
    struct source_context quiet = {.default_backing = f->image, .found_nothing = &nothing};
    assert_int_equal(source_partitions_add("layout=partitions", &quiet, &t, &err), 0);
    assert_int_equal(t.count, 0);
    assert_int_equal(warning_count, 1);
    assert_non_null(strstr(nothing.msg, "no partition table found in"));
    assert_int_equal(window_table_close(&t), 0);
}

static void test_empty_image(void **state)
{
    struct fixture *f = *state;
    make_sparse(f->image, 0);
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    assert_int_equal(add_partitions(f->image, &t, &err), 0);
    assert_int_equal(t.count, 0);
    assert_contains(warnings, "no partition table found");
    assert_int_equal(window_table_close(&t), 0);
}

static void test_partition_past_the_end_skipped(void **state)
{
    struct fixture *f = *state;
    make_image(f, 8 * MiB, "label: dos\\n2048,2048,83\\n4096,8192,83\\n");
    /* Cut the image to 3 MiB: p1 (1..2 MiB) fits, p2 (2..6 MiB) does not. */
    assert_int_equal(truncate(f->image, 3 * MiB), 0);
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    if (add_partitions(f->image, &t, &err) != 0)
        fail_msg("source_partitions_add: %s", err.msg);
    assert_int_equal(t.count, 1);
    check_window(&t.windows[0], "p1", 1 * MiB, 1 * MiB);
    assert_int_equal(warning_count, 1);
    assert_contains(warnings, "layout=partitions: p2 (sectors 4096+8192) runs past the end");
    assert_contains(warnings, "(6144 sectors); skipped");
    assert_int_equal(window_table_close(&t), 0);
}

static void test_every_entry_skipped_warns_once(void **state)
{
    struct fixture *f = *state;
    make_image(f, 8 * MiB, "label: dos\\n2048,8192,83\\n");
    /* Cut the image to 2 MiB: the only partition (1..5 MiB) does not fit.
     * There is a table, and its one entry is skipped: one warning, about
     * p1 as the table describes it. */
    assert_int_equal(truncate(f->image, 2 * MiB), 0);
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    if (add_partitions(f->image, &t, &err) != 0)
        fail_msg("source_partitions_add: %s", err.msg);
    assert_int_equal(t.count, 0);
    assert_contains(warnings, "layout=partitions: p1 (sectors 2048+8192) runs past the end");
    if (warning_count != 1)
        fail_msg("%zu warnings, expected 1:\n%s", warning_count, warnings);
    assert_null(strstr(warnings, "no partition table found"));
    assert_int_equal(window_table_close(&t), 0);
}

/* ---- a GPT with 4096-byte sectors, written by hand ---- */

static uint32_t crc32_ieee(const unsigned char *data, size_t len)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put_le(unsigned char *p, uint64_t value, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(value >> (8 * i));
}

#define GPT4K_SECTOR 4096
#define GPT4K_SECTORS 4096 /* a 16 MiB image */

/* Writes a protective MBR, a primary GPT header at LBA 1 and 128 entries at
 * LBA 2..5, all in 4096-byte sectors: p1 at LBA 256+512, p2 at 1024+256. */
static void write_gpt_4k(const char *path)
{
    const uint64_t last_lba = GPT4K_SECTORS - 1;
    size_t size = 6 * GPT4K_SECTOR;
    unsigned char *img = calloc(1, size);
    assert_non_null(img);

    unsigned char *mbr = img;
    unsigned char *pe = mbr + 446;
    pe[1] = 0x00, pe[2] = 0x02, pe[3] = 0x00; /* CHS 0/0/2 */
    pe[4] = 0xEE;
    pe[5] = 0xFF, pe[6] = 0xFF, pe[7] = 0xFF;
    put_le(pe + 8, 1, 4);
    put_le(pe + 12, last_lba, 4);
    mbr[510] = 0x55;
    mbr[511] = 0xAA;

    unsigned char *entries = img + 2 * GPT4K_SECTOR;
    static const uint64_t ranges[2][2] = {{256, 256 + 512 - 1}, {1024, 1024 + 256 - 1}};
    for (int i = 0; i < 2; i++) {
        unsigned char *e = entries + 128 * i;
        for (int k = 0; k < 16; k++) {
            e[k] = (unsigned char)(0x11 + k);               /* type GUID: any non-zero */
            e[16 + k] = (unsigned char)(0x40 + 16 * i + k); /* unique GUID */
        }
        put_le(e + 32, ranges[i][0], 8);
        put_le(e + 40, ranges[i][1], 8);
        e[56] = (unsigned char)('a' + i); /* name, UTF-16LE */
    }

    unsigned char *h = img + GPT4K_SECTOR;
    memcpy(h, "EFI PART", 8);
    put_le(h + 8, 0x00010000, 4);
    put_le(h + 12, 92, 4);
    put_le(h + 24, 1, 8);            /* my LBA */
    put_le(h + 32, last_lba, 8);     /* alternate LBA */
    put_le(h + 40, 6, 8);            /* first usable */
    put_le(h + 48, last_lba - 5, 8); /* last usable */
    for (int k = 0; k < 16; k++)
        h[56 + k] = (unsigned char)(0xA0 + k);
    put_le(h + 72, 2, 8);   /* entries LBA */
    put_le(h + 80, 128, 4); /* entry count */
    put_le(h + 84, 128, 4); /* entry size */
    put_le(h + 88, crc32_ieee(entries, 128 * 128), 4);
    put_le(h + 16, crc32_ieee(h, 92), 4);

    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)GPT4K_SECTORS * GPT4K_SECTOR), 0);
    assert_int_equal(pwrite(fd, img, size, 0), (ssize_t)size);
    assert_int_equal(close(fd), 0);
    free(img);
}

static void test_gpt_with_4096_byte_sectors(void **state)
{
    struct fixture *f = *state;
    write_gpt_4k(f->image);
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    /* Found without being told the sector size. */
    if (add_partitions(f->image, &t, &err) != 0)
        fail_msg("source_partitions_add: %s", err.msg);
    if (warning_count != 0)
        fail_msg("unexpected warnings: %s", warnings);
    assert_int_equal(t.count, 2);
    check_window(&t.windows[0], "p1", 256 * 4096, 512 * 4096);
    check_window(&t.windows[1], "p2", 1024 * 4096, 256 * 4096);
    assert_int_equal(window_table_close(&t), 0);

    /* sectorsize=4096 finds it too; sectorsize=512 does not. */
    struct source_context ctx = {
        .default_backing = f->image, .sector_size = 4096, .warn = capture_warning};
    window_table_init(&t, false);
    assert_int_equal(source_partitions_add("layout=partitions", &ctx, &t, &err), 0);
    assert_int_equal(t.count, 2);
    check_window(&t.windows[1], "p2", 1024 * 4096, 256 * 4096);
    assert_int_equal(window_table_close(&t), 0);

    ctx.sector_size = 512;
    window_table_init(&t, false);
    assert_int_equal(source_partitions_add("layout=partitions", &ctx, &t, &err), 0);
    assert_int_equal(t.count, 0);
    assert_contains(warnings, "no partition table found");
    assert_int_equal(window_table_close(&t), 0);
}

static void test_missing_file(void **state)
{
    struct fixture *f = *state;
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err;
    assert_int_equal(add_partitions(f->image, &t, &err), -1);
    char expected[PATH_MAX + 128];
    snprintf(expected, sizeof expected,
             "layout=partitions: backing file '%s': No such file or directory", f->image);
    assert_string_equal(err.msg, expected);
    assert_int_equal(t.count, 0);

    assert_int_equal(add_partitions(NULL, &t, &err), -1);
    assert_string_equal(err.msg, "layout=partitions: BACKING: no backing file given");

    /* A folder is not a backing file. */
    assert_int_equal(add_partitions(f->dir, &t, &err), -1);
    assert_contains(err.msg, "layout=partitions: ");
    assert_contains(err.msg, "not a regular file or a block device");
    assert_int_equal(warning_count, 0);
    assert_int_equal(window_table_close(&t), 0);
}

static void test_through_layout_source(void **state)
{
    struct fixture *f = *state;
    make_image(f, 25 * MiB, "label: dos\\n2048,8192,83\\n10240,40960,5\\n12288,8192,83\\n");
    struct window_table t;
    window_table_init(&t, false);
    struct sfs_error err = {{0}};
    struct source_context ctx = {.default_backing = f->image, .warn = capture_warning};
    if (source_layout.add_windows("partitions", &ctx, &t, &err) != 0)
        fail_msg("layout=partitions: %s", err.msg);
    assert_int_equal(t.count, 2);
    check_window(&t.windows[0], "p1", 2048 * 512, 8192 * 512);
    check_window(&t.windows[1], "p5", 12288 * 512, 8192 * 512);
    assert_int_equal(window_table_close(&t), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_mbr_primary_extended_logical),
        T(test_mbr_three_primaries),
        T(test_gpt),
        T(test_no_partition_table),
        T(test_empty_image),
        T(test_partition_past_the_end_skipped),
        T(test_every_entry_skipped_warns_once),
        T(test_gpt_with_4096_byte_sectors),
        T(test_missing_file),
        T(test_through_layout_source),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
