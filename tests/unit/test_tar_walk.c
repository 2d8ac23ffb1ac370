/* test_tar_walk.c - the tar parser on archives built by hand in memory:
 * ustar prefix/name, GNU long names, pax records (path, size, mtime with a
 * fraction), old GNU sparse headers with an extension block, pax sparse
 * 1.0 maps, base-256 sizes, links; and hostile ones: a member past the
 * end, a damaged checksum, a sparse map out of order or past the stored
 * bytes, a negative base-256 size, a truncated final block. Every extent
 * reported lies inside the archive.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/tar_walk.h"

#define MAX_ARCHIVE (64 * 1024)
#define MAX_MEMBERS 16

struct archive {
    unsigned char data[MAX_ARCHIVE];
    size_t size;
};

struct seen {
    size_t count, warnings;
    char path[MAX_MEMBERS][512];
    char link[MAX_MEMBERS][256];
    enum member_type type[MAX_MEMBERS];
    uint64_t size[MAX_MEMBERS];
    unsigned mode[MAX_MEMBERS];
    int64_t mtime_ns[MAX_MEMBERS];
    struct archive_extent extents[MAX_MEMBERS][16];
    size_t extent_count[MAX_MEMBERS];
    char last_warning[512];
    size_t archive_size;
};

static void octal(unsigned char *f, size_t len, uint64_t v)
{
    char text[32];
    snprintf(text, sizeof text, "%0*llo", (int)len - 1, (unsigned long long)v);
    memcpy(f, text, len - 1);
    f[len - 1] = '\0';
}

/* Appends a header; returns where it starts. */
static size_t header(struct archive *a, const char *name, char type, uint64_t size,
                     const char *link, bool gnu)
{
    unsigned char *h = a->data + a->size;
    memset(h, 0, 512);
    memcpy(h, name, strnlen(name, 100));
    octal(h + 100, 8, 0644);
    octal(h + 108, 8, 0);
    octal(h + 116, 8, 0);
    octal(h + 124, 12, size);
    octal(h + 136, 12, 1000000000);
    h[156] = (unsigned char)type;
    if (link != NULL)
        memcpy(h + 157, link, strnlen(link, 100));
    memcpy(h + 257,
           gnu ? "ustar  "
               : "ustar\0"
                 "00",
           8);
    size_t at = a->size;
    a->size += 512;
    return at;
}

static void checksum(struct archive *a, size_t at)
{
    unsigned char *h = a->data + at;
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
}

static void data(struct archive *a, const void *bytes, size_t len)
{
    memcpy(a->data + a->size, bytes, len);
    a->size += (len + 511) / 512 * 512;
}

static void member(struct archive *a, const char *name, const char *content)
{
    size_t at = header(a, name, '0', strlen(content), NULL, false);
    checksum(a, at);
    data(a, content, strlen(content));
}

static void pax_raw(struct archive *a, const char *records);

/* Pax records from "key=value\n..." lines, each with its length put in
 * front (the length counts its own digits). */
static void pax(struct archive *a, const char *lines)
{
    char records[4096] = "";
    for (const char *line = lines; *line != '\0';) {
        size_t len = strcspn(line, "\n") + 1, total = len + 2;
        while (total != len + 1 + (size_t)snprintf(NULL, 0, "%zu", total))
            total = len + 1 + (size_t)snprintf(NULL, 0, "%zu", total);
        snprintf(records + strlen(records), sizeof records - strlen(records), "%zu %.*s", total,
                 (int)len, line);
        line += len;
    }
    pax_raw(a, records);
}

static void pax_raw(struct archive *a, const char *records)
{
    size_t at = header(a, "PaxHeaders/x", 'x', strlen(records), NULL, false);
    checksum(a, at);
    data(a, records, strlen(records));
}

static int take(void *arg, const struct archive_member *m)
{
    struct seen *s = arg;
    assert_true(s->count < MAX_MEMBERS);
    size_t i = s->count++;
    snprintf(s->path[i], sizeof s->path[i], "%s", m->path);
    snprintf(s->link[i], sizeof s->link[i], "%s", m->link ? m->link : "");
    s->type[i] = m->type;
    s->size[i] = m->size;
    s->mode[i] = m->mode;
    s->mtime_ns[i] = m->mtime_ns;
    assert_true(m->extent_count <= 16);
    uint64_t total = 0;
    for (size_t k = 0; k < m->extent_count; k++) {
        const struct archive_extent *e = &m->extents[k];
        assert_true(e->hole ||
                    (e->offset <= s->archive_size && e->length <= s->archive_size - e->offset));
        total += e->length;
        s->extents[i][k] = *e;
    }
    s->extent_count[i] = m->extent_count;
    if (m->type == MEMBER_FILE)
        assert_int_equal(total, m->size);
    return 0;
}

static void warned(void *arg, const char *message)
{
    struct seen *s = arg;
    s->warnings++;
    snprintf(s->last_warning, sizeof s->last_warning, "%s", message);
}

static int read_memory(void *arg, uint64_t off, void *buf, size_t len)
{
    const struct archive *a = arg;
    if (off > a->size || len > a->size - off)
        return -1;
    memcpy(buf, a->data + off, len);
    return 0;
}

static void walk(struct archive *a, struct seen *s)
{
    memset(s, 0, sizeof *s);
    s->archive_size = a->size;
    struct archive_reader r = {read_memory, a, a->size};
    assert_int_equal(tar_walk(&r, take, warned, s), 0);
}

static struct archive *fresh(void)
{
    struct archive *a = calloc(1, sizeof *a);
    assert_non_null(a);
    return a;
}

static void test_ustar_and_links(void **state)
{
    (void)state;
    struct archive *a = fresh();
    size_t at = header(a, "name.txt", '0', 5, NULL, false);
    memcpy(a->data + at + 345, "some/prefix", 11);
    checksum(a, at);
    data(a, "hello", 5);
    at = header(a, "hard", '1', 0, "some/prefix/name.txt", false);
    checksum(a, at);
    at = header(a, "sym", '2', 0, "name.txt", false);
    checksum(a, at);
    at = header(a, "dir/", '5', 0, NULL, false);
    checksum(a, at);
    struct seen s;
    walk(a, &s);
    assert_true(tar_detect(a->data));
    assert_int_equal(s.count, 3);
    assert_string_equal(s.path[0], "some/prefix/name.txt");
    assert_int_equal(s.extents[0][0].offset, 512);
    assert_int_equal(s.extents[0][0].length, 5);
    assert_int_equal(s.mode[0], 0644);
    assert_int_equal(s.mtime_ns[0], 1000000000LL * 1000000000LL);
    assert_int_equal(s.type[1], MEMBER_HARDLINK);
    assert_string_equal(s.link[1], "some/prefix/name.txt");
    assert_int_equal(s.type[2], MEMBER_SYMLINK);
    assert_string_equal(s.link[2], "name.txt");
    assert_int_equal(s.warnings, 0);
    free(a);
}

static void test_gnu_long_name_and_pax(void **state)
{
    (void)state;
    struct archive *a = fresh();
    char long_name[300];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    size_t at = header(a, "././@LongLink", 'L', sizeof long_name, NULL, true);
    checksum(a, at);
    data(a, long_name, sizeof long_name);
    member(a, "short", "abc");
    pax(a, "path=pax/\xc3\xa9t\xc3\xa9.txt\nmtime=1234567890.5\n");
    member(a, "ignored", "defg");
    struct seen s;
    walk(a, &s);
    assert_int_equal(s.count, 2);
    assert_string_equal(s.path[0], long_name);
    assert_string_equal(s.path[1], "pax/\xc3\xa9t\xc3\xa9.txt");
    assert_int_equal(s.mtime_ns[1], 1234567890500000000LL);
    assert_int_equal(s.size[1], 4);
    free(a);
}

static void test_old_gnu_sparse(void **state)
{
    (void)state;
    struct archive *a = fresh();
    /* 5 map entries: 4 in the header, 1 in an extension block; 5 x 10
     * stored bytes of a 10000-byte file. */
    size_t at = header(a, "sparse", 'S', 50, NULL, true);
    unsigned char *h = a->data + at;
    for (int i = 0; i < 4; i++) {
        octal(h + 386 + 24 * i, 12, 1000 * (uint64_t)i);
        octal(h + 386 + 24 * i + 12, 12, 10);
    }
    h[482] = 1;
    octal(h + 483, 12, 10000);
    checksum(a, at);
    unsigned char *ext = a->data + a->size;
    memset(ext, 0, 512);
    octal(ext, 12, 9000);
    octal(ext + 12, 12, 10);
    a->size += 512;
    data(a, "0123456789abcdefghijABCDEFGHIJklmnopqrstKLMNOPQRST", 50);
    struct seen s;
    walk(a, &s);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.size[0], 10000);
    assert_int_equal(s.extent_count[0], 10); /* 5 x data, hole */
    assert_false(s.extents[0][0].hole);
    assert_int_equal(s.extents[0][0].offset, 1024);
    assert_true(s.extents[0][1].hole);
    assert_int_equal(s.extents[0][1].length, 990);
    assert_int_equal(s.extents[0][2].offset, 1034);
    assert_int_equal(s.warnings, 0);
    free(a);
}

static void test_pax_sparse_1_0(void **state)
{
    (void)state;
    struct archive *a = fresh();
    pax(a, "GNU.sparse.major=1\nGNU.sparse.minor=0\nGNU.sparse.name=file\n"
           "GNU.sparse.realsize=70000\n");
    const char *map = "2\n0\n5\n65536\n3\n";
    char block[512 + 8] = {0};
    memcpy(block, map, strlen(map));
    memcpy(block + 512, "AAAAABBB", 8);
    size_t at = header(a, "GNUSparseFile.0/file", '0', 520, NULL, false);
    checksum(a, at);
    data(a, block, 520);
    struct seen s;
    walk(a, &s);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.path[0], "file");
    assert_int_equal(s.size[0], 70000);
    assert_int_equal(s.extent_count[0], 4);
    assert_int_equal(s.extents[0][0].offset, 2048);
    assert_int_equal(s.extents[0][0].length, 5);
    assert_true(s.extents[0][1].hole);
    assert_int_equal(s.extents[0][2].offset, 2053);
    assert_int_equal(s.extents[0][3].length, 70000 - 65539);
    free(a);
}

static void test_base256_size(void **state)
{
    (void)state;
    struct archive *a = fresh();
    size_t at = header(a, "big", '0', 0, NULL, false);
    memset(a->data + at + 124, 0, 12);
    a->data[at + 124] = 0x80;
    a->data[at + 135] = 3;
    checksum(a, at);
    data(a, "xyz", 3);
    at = header(a, "negative", '0', 0, NULL, false);
    memset(a->data + at + 124, 0xff, 12);
    checksum(a, at);
    struct seen s;
    walk(a, &s);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.size[0], 3);
    assert_int_equal(s.warnings, 1);
    assert_non_null(strstr(s.last_warning, "damaged header"));
    free(a);
}

static void test_hostile(void **state)
{
    (void)state;
    struct archive *a = fresh();
    member(a, "good", "fine");
    size_t at = header(a, "huge", '0', 1ull << 40, NULL, false);
    checksum(a, at);
    struct seen s;
    walk(a, &s);
    assert_int_equal(s.count, 1);
    assert_non_null(strstr(s.last_warning, "run past the end"));

    /* A damaged checksum stops the walk. */
    a->size = 0;
    member(a, "one", "1");
    at = header(a, "two", '0', 1, NULL, false);
    checksum(a, at);
    a->data[at + 3] ^= 1;
    data(a, "2", 1);
    walk(a, &s);
    assert_int_equal(s.count, 1);
    assert_non_null(strstr(s.last_warning, "damaged header"));

    /* Sparse maps out of order, and needing more than is stored. */
    a->size = 0;
    pax(a, "GNU.sparse.major=0\nGNU.sparse.minor=1\n"
           "GNU.sparse.map=100,5,0,5\nGNU.sparse.realsize=200\n");
    at = header(a, "backwards", '0', 10, NULL, false);
    checksum(a, at);
    data(a, "0123456789", 10);
    pax(a, "GNU.sparse.major=0\nGNU.sparse.minor=1\n"
           "GNU.sparse.map=0,50\nGNU.sparse.realsize=200\n");
    at = header(a, "greedy", '0', 10, NULL, false);
    checksum(a, at);
    data(a, "0123456789", 10);
    member(a, "after", "ok");
    walk(a, &s);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.path[0], "after");
    assert_int_equal(s.warnings, 2);

    /* Stray bytes at the end, a malformed pax record. */
    a->size = 0;
    pax_raw(a, "99999 path=x\n");
    member(a, "kept", "k");
    a->size += 100;
    walk(a, &s);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.path[0], "kept");
    assert_int_equal(s.warnings, 2);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ustar_and_links), cmocka_unit_test(test_gnu_long_name_and_pax),
        cmocka_unit_test(test_old_gnu_sparse),  cmocka_unit_test(test_pax_sparse_1_0),
        cmocka_unit_test(test_base256_size),    cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
