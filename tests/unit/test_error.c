/* test_error.c - the message buffer the core fills when it refuses something.
 *
 * Covers sfs_error_set (formats, replaces, returns -1, accepts NULL) and
 * sfs_error_prefix (puts "PREFIX: " in front, nests, and cuts an over-long
 * result to fit the buffer, always NUL-terminated: an over-long prefix loses
 * its middle, never inside a UTF-8 character, so the reason survives).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "slicefs/error.h"

static void test_set(void **state)
{
    (void)state;
    struct sfs_error err = {{0}};
    assert_int_equal(sfs_error_set(&err, "'%s' is %d bytes", "x", 42), -1);
    assert_string_equal(err.msg, "'x' is 42 bytes");
    assert_int_equal(sfs_error_set(&err, "short"), -1);
    assert_string_equal(err.msg, "short");
    assert_int_equal(sfs_error_set(NULL, "ignored %d", 1), -1);
}

static void test_prefix(void **state)
{
    (void)state;
    struct sfs_error err = {{0}};
    sfs_error_set(&err, "'zz' is not a number");
    assert_int_equal(sfs_error_prefix(&err, "%s: %s", "window=a:zz:1", "OFFSET"), -1);
    assert_string_equal(err.msg, "window=a:zz:1: OFFSET: 'zz' is not a number");
    assert_int_equal(sfs_error_prefix(&err, "t.txt:%d", 3), -1);
    assert_string_equal(err.msg, "t.txt:3: window=a:zz:1: OFFSET: 'zz' is not a number");
    assert_int_equal(sfs_error_prefix(NULL, "x"), -1);

    /* On an empty message the prefix stands alone (with its ": "). */
    struct sfs_error empty = {{0}};
    sfs_error_prefix(&empty, "origin");
    assert_string_equal(empty.msg, "origin: ");
}

static void test_long_messages_are_cut(void **state)
{
    (void)state;
    char big[3000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';

    struct sfs_error err;
    memset(&err, 'X', sizeof err);
    sfs_error_set(&err, "%s", big);
    assert_int_equal(strlen(err.msg), sizeof err.msg - 1);

    /* A prefix on a full buffer keeps the prefix and cuts the old text. */
    sfs_error_prefix(&err, "origin");
    assert_int_equal(strlen(err.msg), sizeof err.msg - 1);
    assert_memory_equal(err.msg, "origin: bbb", 11);

    /* A prefix longer than the buffer loses its middle, not the reason. */
    sfs_error_set(&err, "the reason");
    sfs_error_prefix(&err, "head%send", big);
    size_t len = strlen(err.msg);
    assert_true(len <= sizeof err.msg - 1);
    assert_memory_equal(err.msg, "headbbb", 7);
    assert_non_null(strstr(err.msg, "b...b"));
    const char *tail = "bbbend: the reason";
    assert_string_equal(err.msg + len - strlen(tail), tail);
}

static void test_cut_keeps_utf8_whole(void **state)
{
    (void)state;
    /* 1500 two-byte characters: wherever the cut falls, no half of one
     * is left next to the "...". */
    char big[3001];
    for (size_t i = 0; i < 3000; i += 2)
        memcpy(big + i, "\xc3\xa9", 2);
    big[3000] = '\0';
    struct sfs_error err;
    sfs_error_set(&err, "why");
    sfs_error_prefix(&err, "x%s", big);
    const char *dots = strstr(err.msg, "...");
    assert_non_null(dots);
    assert_int_equal((unsigned char)dots[-1], 0xa9);
    assert_int_equal((unsigned char)dots[3], 0xc3);
    assert_string_equal(err.msg + strlen(err.msg) - 5, ": why");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_long_messages_are_cut),
        cmocka_unit_test(test_cut_keeps_utf8_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
