/* test_range_digest.c - digests of a byte range of a backing file.
 *
 * Covers range_digest for both kinds against the same bytes hashed in
 * memory (SHA-256; XXH3-128 of the 1 MiB blocks' XXH3-64, in xxhsum's byte
 * order): plain data, a range
 * with holes in its middle and at both ends, a range that is one hole (the
 * cached zero digest, twice, and for two lengths), an empty range; a range
 * past the end of the file is -EIO, not zeros; memory_digest agrees; and
 * digest_hex.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "slicefs/guarded_access.h"
#include "slicefs/range_digest.h"

#define MiB (1024 * 1024)
#define FILE_BYTES (8 * MiB)

struct fixture {
    char dir[256];
    char path[300];
    int fd;
    unsigned char *bytes; /* what the file holds, holes as zeros */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL || unit_temp_dir(f->dir, sizeof f->dir) != 0)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/digest.img", f->dir);
    f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    f->bytes = calloc(1, FILE_BYTES);
    if (f->fd < 0 || f->bytes == NULL || ftruncate(f->fd, FILE_BYTES) != 0)
        return -1;
    /* Data at [1 MiB, 2 MiB + 5) and [5 MiB - 3, 6 MiB); holes elsewhere. */
    srand(7);
    for (size_t i = MiB; i < 2 * MiB + 5; i++)
        f->bytes[i] = (unsigned char)rand();
    for (size_t i = 5 * MiB - 3; i < 6 * MiB; i++)
        f->bytes[i] = (unsigned char)(rand() | 1);
    if (pwrite(f->fd, f->bytes + MiB, MiB + 5, MiB) != MiB + 5 ||
        pwrite(f->fd, f->bytes + 5 * MiB - 3, MiB + 3, 5 * MiB - 3) != MiB + 3)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close(f->fd);
    int res = unit_remove_tree(f->dir);
    free(f->bytes);
    free(f);
    return res;
}

static void expected(const unsigned char *p, size_t len, enum digest_kind kind, unsigned char *out)
{
    if (kind == DIGEST_XXH128) {
        /* XXH3-128 of the 1 MiB blocks' XXH3-64, little-endian. */
        size_t blocks = (len + MiB - 1) / MiB;
        unsigned char *le = calloc(blocks ? blocks : 1, 8);
        for (size_t b = 0; b < blocks; b++) {
            size_t n = len - b * MiB < MiB ? len - b * MiB : MiB;
            uint64_t h = XXH3_64bits(p + b * MiB, n);
            for (int i = 0; i < 8; i++)
                le[b * 8 + i] = (unsigned char)(h >> (8 * i));
        }
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits(le, blocks * 8));
        memcpy(out, c.digest, 16);
        free(le);
    } else {
        unsigned int size;
        EVP_Digest(p, len, out, &size, EVP_sha256(), NULL);
    }
}

static void check_range(struct fixture *f, uint64_t off, uint64_t len)
{
    for (int k = DIGEST_XXH128; k <= DIGEST_SHA256; k++) {
        unsigned char want[DIGEST_MAX_SIZE], got[DIGEST_MAX_SIZE];
        expected(f->bytes + off, (size_t)len, (enum digest_kind)k, want);
        uint64_t read = 0;
        assert_int_equal(range_digest(f->fd, off, len, (enum digest_kind)k, got, &read), 0);
        if (memcmp(want, got, digest_size((enum digest_kind)k)) != 0)
            fail_msg("kind %d of [%llu, +%llu) differs", k, (unsigned long long)off,
                     (unsigned long long)len);
        assert_true(read <= len);
        assert_int_equal(memory_digest(f->bytes + off, len, (enum digest_kind)k, got), 0);
        assert_memory_equal(want, got, digest_size((enum digest_kind)k));
    }
}

static void test_data_and_holes(void **state)
{
    struct fixture *f = *state;
    check_range(f, MiB, MiB);             /* data only */
    check_range(f, 0, FILE_BYTES);        /* everything */
    check_range(f, MiB / 2, 5 * MiB);     /* hole, data, hole, data */
    check_range(f, 2 * MiB + 1, 3 * MiB); /* data edge, hole, data edge */
    check_range(f, 5 * MiB - 7, 10);      /* a few bytes across an edge */
    check_range(f, 3 * MiB, MiB);         /* one hole */
    check_range(f, 3 * MiB, MiB);         /* again: from the cache */
    check_range(f, 3 * MiB + 1, MiB - 1); /* another length */
    check_range(f, 7 * MiB, MiB);         /* the hole at the end */
    check_range(f, 4 * MiB, 0);           /* nothing */
}

static void test_holes_are_not_read(void **state)
{
    struct fixture *f = *state;
    unsigned char got[DIGEST_MAX_SIZE];
    uint64_t read = 0;
    assert_int_equal(range_digest(f->fd, 0, FILE_BYTES, DIGEST_XXH128, got, &read), 0);
    /* Only the two data runs (rounded to the file system's blocks). */
    assert_true(read >= 2 * MiB + 8 && read <= 2 * MiB + 8 + 2 * 65536);
}

static void test_past_the_end_is_an_error(void **state)
{
    struct fixture *f = *state;
    unsigned char got[DIGEST_MAX_SIZE];
    assert_int_equal(range_digest(f->fd, FILE_BYTES - 10, 11, DIGEST_XXH128, got, NULL), -EIO);
    assert_int_equal(range_digest(f->fd, FILE_BYTES + 1, 0, DIGEST_SHA256, got, NULL), -EIO);
    assert_int_equal(range_digest(f->fd, UINT64_MAX, 2, DIGEST_SHA256, got, NULL), -EINVAL);
}

static void test_hex(void **state)
{
    (void)state;
    unsigned char d[3] = {0x00, 0xab, 0x7f};
    char text[7];
    digest_hex(d, 3, text);
    assert_string_equal(text, "00ab7f");
    /* SHA-256 of nothing, as sha256sum prints it. */
    unsigned char sha[32];
    char hex[65];
    assert_int_equal(memory_digest(NULL, 0, DIGEST_SHA256, sha), 0);
    digest_hex(sha, 32, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* Nothing: no blocks, the XXH3-128 of nothing, as xxhsum -H2 prints it. */
    assert_int_equal(memory_digest(NULL, 0, DIGEST_XXH128, sha), 0);
    digest_hex(sha, 16, hex);
    assert_string_equal(hex, "99aa06d3014798d86001c324468d497f");
}

int main(void)
{
    struct sfs_error err;
    if (guarded_access_init(&err) < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_data_and_holes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_holes_are_not_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_past_the_end_is_an_error, setup, teardown),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
