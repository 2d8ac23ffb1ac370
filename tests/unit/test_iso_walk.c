/* test_iso_walk.c - the ISO 9660 parser on an image built by hand in
 * memory: a file at its extent, a multi-extent file as two extents, Rock
 * Ridge names, modes and symbolic links; and hostile records: a directory
 * that points to itself (read once, warned), a file past the end of the
 * image, a damaged record length.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/iso_walk.h"

#define SECTOR 2048
#define SECTORS 24

struct image {
    unsigned char data[SECTORS * SECTOR];
    size_t size;
};

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
        p[7 - i] = (unsigned char)(v >> (8 * i)); /* the big-endian copy */
    }
}

/* Writes a directory record at p; returns its length. */
static size_t dir_record(unsigned char *p, uint32_t sector, uint32_t size, unsigned flags,
                         const char *name, size_t name_len, const unsigned char *su, size_t su_len)
{
    size_t len = 33 + name_len + (name_len % 2 == 0 ? 1 : 0) + su_len;
    memset(p, 0, len);
    p[0] = (unsigned char)len;
    put32(p + 2, sector);
    put32(p + 10, size);
    p[18] = 120; /* 2020 */
    p[19] = 1;
    p[20] = 2;
    p[25] = (unsigned char)flags;
    p[32] = (unsigned char)name_len;
    memcpy(p + 33, name, name_len);
    if (su_len > 0)
        memcpy(p + len - su_len, su, su_len);
    return len;
}

static struct image *build(void)
{
    struct image *im = calloc(1, sizeof *im);
    im->size = sizeof im->data;
    unsigned char *pvd = im->data + 16 * SECTOR;
    pvd[0] = 1;
    memcpy(pvd + 1, "CD001", 5);
    pvd[128] = SECTOR & 0xff;
    pvd[129] = SECTOR >> 8;
    dir_record(pvd + 156, 18, SECTOR, 2, "\0", 1, NULL, 0);
    unsigned char *term = im->data + 17 * SECTOR;
    term[0] = 255;
    memcpy(term + 1, "CD001", 5);

    unsigned char *root = im->data + 18 * SECTOR;
    size_t at = 0;
    at += dir_record(root + at, 18, SECTOR, 2, "\0", 1, NULL, 0);
    at += dir_record(root + at, 18, SECTOR, 2, "\1", 1, NULL, 0);
    unsigned char nm[] = {'N', 'M', 13, 1, 0, 'l', 'o', 'n', 'g', '.', 't', 'x', 't'};
    unsigned char px[] = {'P', 'X', 44, 1, 0xa0, 0x81, 0, 0, 0, 0, 0x81, 0xa0};
    unsigned char su[64];
    memcpy(su, nm, sizeof nm);
    memcpy(su + sizeof nm, px, sizeof px);
    su[sizeof nm + 2] = 12; /* PX, short form for the test */
    at += dir_record(root + at, 19, 5, 0, "A.TXT;1", 7, su, sizeof nm + sizeof px);
    at += dir_record(root + at, 19, 5, 0x80, "MULTI;1", 7, NULL, 0);
    at += dir_record(root + at, 20, 3, 0, "MULTI;1", 7, NULL, 0);
    at += dir_record(root + at, 18, SECTOR, 2, "LOOP", 4, NULL, 0);
    at += dir_record(root + at, 1000, 10, 0, "FAR;1", 5, NULL, 0);
    unsigned char sl[] = {'S', 'L', 13, 1, 0, 0, 3, 'A', '.', 'T', 0, 1, 'x'};
    at += dir_record(root + at, 0, 0, 0, "LINK;1", 6, sl, sizeof sl);
    memcpy(im->data + 19 * SECTOR, "hello", 5);
    memcpy(im->data + 20 * SECTOR, "abc", 3);
    return im;
}

static int read_memory(void *arg, uint64_t off, void *buf, size_t len)
{
    const struct image *im = arg;
    if (off > im->size || len > im->size - off)
        return -1;
    memcpy(buf, im->data + off, len);
    return 0;
}

struct seen {
    size_t count, warnings;
    char path[8][64], link[8][64];
    uint64_t size[8];
    size_t extent_count[8];
    struct archive_extent first[8];
    unsigned mode[8];
    enum member_type type[8];
};

static int take(void *arg, const struct archive_member *m)
{
    struct seen *s = arg;
    size_t i = s->count++;
    assert_true(i < 8);
    snprintf(s->path[i], sizeof s->path[i], "%s", m->path);
    snprintf(s->link[i], sizeof s->link[i], "%s", m->link ? m->link : "");
    s->size[i] = m->size;
    s->extent_count[i] = m->extent_count;
    if (m->extent_count > 0)
        s->first[i] = m->extents[0];
    s->mode[i] = m->mode;
    s->type[i] = m->type;
    return 0;
}

static void warned(void *arg, const char *message)
{
    (void)message;
    ((struct seen *)arg)->warnings++;
}

static void walk(struct image *im, struct seen *s)
{
    memset(s, 0, sizeof *s);
    struct archive_reader r = {read_memory, im, im->size};
    assert_true(iso_detect(&r));
    assert_int_equal(iso_walk(&r, take, warned, s), 0);
}

static void test_files(void **state)
{
    (void)state;
    struct image *im = build();
    struct seen s;
    walk(im, &s);
    assert_int_equal(s.count, 3);
    assert_string_equal(s.path[0], "long.txt");
    assert_int_equal(s.first[0].offset, 19 * SECTOR);
    assert_int_equal(s.size[0], 5);
    assert_int_equal(s.mode[0], 0640);
    assert_string_equal(s.path[1], "MULTI");
    assert_int_equal(s.extent_count[1], 2);
    assert_int_equal(s.size[1], 8);
    assert_int_equal(s.type[2], MEMBER_SYMLINK);
    assert_string_equal(s.link[2], "A.T/x");
    assert_int_equal(s.warnings, 2); /* the loop, the file past the end */
    free(im);
}

static void test_damaged(void **state)
{
    (void)state;
    struct image *im = build();
    unsigned char *root = im->data + 18 * SECTOR;
    root[root[0] + root[root[0]]] = 3; /* the third record: too short */
    struct seen s;
    walk(im, &s);
    assert_int_equal(s.count, 0);
    assert_int_equal(s.warnings, 1);
    /* No primary descriptor. */
    im->data[16 * SECTOR] = 2;
    struct archive_reader r = {read_memory, im, im->size};
    memset(&s, 0, sizeof s);
    assert_int_equal(iso_walk(&r, take, warned, &s), 0);
    assert_int_equal(s.warnings, 1);
    free(im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
