/* test_error.c - the message buffer the core fills when it refuses something.
 *
 * Covers sfs_error_set (formats, replaces, returns -1, accepts NULL) and
 * sfs_error_prefix (puts "PREFIX: " in front, nests, and cuts an over-long
 * result to fit the buffer, always NUL-terminated).
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

    /* A prefix longer than the buffer. */
    sfs_error_set(&err, "tail");
    sfs_error_prefix(&err, "%s", big);
    assert_true(strlen(err.msg) <= sizeof err.msg - 1);
    assert_int_equal(err.msg[0], 'b');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_long_messages_are_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
