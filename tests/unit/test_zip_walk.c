/* test_zip_walk.c - the zip parser on archives built by hand in memory:
 * stored members at the offset after their local header (whose extra field
 * differs from the central one), Unix modes and symbolic links, the
 * extended timestamp; deflated and encrypted members skipped with a
 * warning; hostile directories: a local header offset past the end, two
 * members over the same bytes, an entry count that cannot fit, a damaged
 * entry, no end record at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/zip_walk.h"

struct zip {
    unsigned char data[16384];
    size_t size;
    unsigned char central[8192];
    size_t central_size;
    unsigned entries;
};

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

/* Appends a member: local header (with local_extra bytes of extra field),
 * data, and its central entry. Returns the data's offset. */
static size_t add(struct zip *z, const char *name, const char *content, unsigned method,
                  uint32_t unix_mode, size_t local_extra, uint32_t mtime)
{
    size_t local = z->size, name_len = strlen(name), len = strlen(content);
    unsigned char *h = z->data + local;
    memset(h, 0, 30);
    put32(h, 0x04034b50);
    put16(h + 8, method);
    put32(h + 18, (uint32_t)len);
    put32(h + 22, (uint32_t)len);
    put16(h + 26, (unsigned)name_len);
    put16(h + 28, (unsigned)local_extra);
    memcpy(h + 30, name, name_len);
    memset(h + 30 + name_len, 0, local_extra);
    size_t data = local + 30 + name_len + local_extra;
    memcpy(z->data + data, content, len);
    z->size = data + len;

    unsigned char *c = z->central + z->central_size;
    memset(c, 0, 46);
    put32(c, 0x02014b50);
    c[5] = 3; /* made on Unix */
    put16(c + 10, method);
    put32(c + 20, (uint32_t)len);
    put32(c + 24, (uint32_t)len);
    put16(c + 28, (unsigned)name_len);
    put16(c + 30, mtime ? 9 : 0);
    put32(c + 38, unix_mode << 16);
    put32(c + 42, (uint32_t)local);
    memcpy(c + 46, name, name_len);
    if (mtime) {
        unsigned char *x = c + 46 + name_len;
        put16(x, 0x5455);
        put16(x + 2, 5);
        x[4] = 1;
        put32(x + 5, mtime);
    }
    z->central_size += 46 + name_len + (mtime ? 9 : 0);
    z->entries++;
    return data;
}

static void finish(struct zip *z, unsigned claimed_entries)
{
    size_t dir = z->size;
    memcpy(z->data + dir, z->central, z->central_size);
    unsigned char *e = z->data + dir + z->central_size;
    memset(e, 0, 22);
    put32(e, 0x06054b50);
    put16(e + 8, claimed_entries);
    put16(e + 10, claimed_entries);
    put32(e + 12, (uint32_t)z->central_size);
    put32(e + 16, (uint32_t)dir);
    z->size = dir + z->central_size + 22;
}

static int read_memory(void *arg, uint64_t off, void *buf, size_t len)
{
    const struct zip *z = arg;
    if (off > z->size || len > z->size - off)
        return -1;
    memcpy(buf, z->data + off, len);
    return 0;
}

struct seen {
    size_t count, warnings;
    char path[8][64], link[8][64];
    uint64_t offset[8], size[8];
    unsigned mode[8];
    int64_t mtime_ns[8];
    enum member_type type[8];
};

static int take(void *arg, const struct archive_member *m)
{
    struct seen *s = arg;
    size_t i = s->count++;
    snprintf(s->path[i], sizeof s->path[i], "%s", m->path);
    snprintf(s->link[i], sizeof s->link[i], "%s", m->link ? m->link : "");
    s->offset[i] = m->extent_count ? m->extents[0].offset : 0;
    s->size[i] = m->size;
    s->mode[i] = m->mode;
    s->mtime_ns[i] = m->mtime_ns;
    s->type[i] = m->type;
    return 0;
}

static void warned(void *arg, const char *message)
{
    (void)message;
    ((struct seen *)arg)->warnings++;
}

static void walk(struct zip *z, struct seen *s)
{
    memset(s, 0, sizeof *s);
    struct archive_reader r = {read_memory, z, z->size};
    assert_true(zip_detect(&r));
    assert_int_equal(zip_walk(&r, take, warned, s), 0);
}

static void test_stored_members(void **state)
{
    (void)state;
    struct zip *z = calloc(1, sizeof *z);
    size_t a = add(z, "a.txt", "alpha", 0, 0100640, 7, 1600000000);
    add(z, "deflated", "xxxxxxxx", 8, 0100644, 0, 0);
    add(z, "dir/", "", 0, 040755, 0, 0);
    add(z, "link", "a.txt", 0, 0120777, 0, 0);
    size_t e = add(z, "dir/empty", "", 0, 0100600, 0, 0);
    (void)e;
    finish(z, z->entries);
    struct seen s;
    walk(z, &s);
    assert_int_equal(s.count, 3);
    assert_string_equal(s.path[0], "a.txt");
    assert_int_equal(s.offset[0], a);
    assert_int_equal(s.size[0], 5);
    assert_int_equal(s.mode[0], 0640);
    assert_int_equal(s.mtime_ns[0], 1600000000LL * 1000000000);
    assert_int_equal(s.type[1], MEMBER_SYMLINK);
    assert_string_equal(s.link[1], "a.txt");
    assert_string_equal(s.path[2], "dir/empty");
    assert_int_equal(s.size[2], 0);
    assert_int_equal(s.warnings, 1); /* the deflated one */
    free(z);
}

static void test_hostile(void **state)
{
    (void)state;
    struct zip *z = calloc(1, sizeof *z);
    add(z, "good", "data", 0, 0100644, 0, 0);
    add(z, "far", "data", 0, 0100644, 0, 0);
    put32(z->central + z->central_size - 46 - 3 + 42, 1u << 30); /* its local header: far away */
    /* A second entry over the first one's bytes. */
    memcpy(z->central + z->central_size, z->central, 46 + 4);
    memcpy(z->central + z->central_size + 46, "twin", 4);
    z->central_size += 50;
    z->entries++;
    finish(z, 1000); /* a count that cannot fit */
    struct seen s;
    walk(z, &s);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.path[0], "good");
    assert_true(s.warnings >= 3);

    /* No end record: nothing, a warning. */
    struct archive_reader r = {read_memory, z, 100};
    memset(&s, 0, sizeof s);
    assert_int_equal(zip_walk(&r, take, warned, &s), 0);
    assert_int_equal(s.count, 0);
    assert_int_equal(s.warnings, 1);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stored_members),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
