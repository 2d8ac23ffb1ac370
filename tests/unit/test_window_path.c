/* test_window_path.c - what a window's path inside the mount may look like.
 *
 * Covers window_path_check: plain, nested, spaced, UTF-8 and dotted names,
 * a 255-byte component and a 4095-byte path are accepted; an empty path,
 * leading, trailing and doubled '/', "." and ".." components (alone or
 * inside a path), a 256-byte component and a 4096-byte path are refused
 * with a message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "slicefs/window_path.h"

static void expect_ok(const char *path)
{
    struct sfs_error err = {{0}};
    if (window_path_check(path, &err) != 0)
        fail_msg("'%.80s' was refused: %s", path, err.msg);
}

static void expect_refused(const char *path)
{
    struct sfs_error err = {{0}};
    if (window_path_check(path, &err) != -1)
        fail_msg("'%.80s' was accepted", path);
    if (err.msg[0] == '\0')
        fail_msg("'%.80s' was refused without a message", path);
}

/* A string of n copies of c (the caller frees it). */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void test_accepts_ordinary_paths(void **state)
{
    (void)state;
    expect_ok("a");
    expect_ok("a/b/c");
    expect_ok("p1");
    expect_ok("disk image.raw");
    expect_ok("my dir/sub dir/file name");
    expect_ok("\xc3\xa9t\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80"); /* été/日本/😀 */
    expect_ok("...");
    expect_ok(".hidden");
    expect_ok("a.");
    expect_ok("..a");
    expect_ok("a/.b/c..");
    expect_ok("a:b");
    expect_ok("-");
}

static void test_refuses_bad_shapes(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",     "/",   "/a",   "a/",    "a//b",   "//", "a/b/",   ".",    "..", "./a",
        "../a", "a/.", "a/..", "a/./b", "a/../b", "/.", "a/b//c", "/a/b", "./",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused(bad[i]);
}

static void test_component_length(void **state)
{
    (void)state;
    assert_int_equal(NAME_MAX, 255);
    char *name255 = repeat('n', 255);
    char *name256 = repeat('n', 256);
    expect_ok(name255);
    expect_refused(name256);

    /* The same limit applies to every component, not only the first. */
    char buf[600];
    strcpy(buf, "dir/");
    strcat(buf, name255);
    strcat(buf, "/x");
    expect_ok(buf);
    strcpy(buf, "dir/");
    strcat(buf, name256);
    strcat(buf, "/x");
    expect_refused(buf);
    strcpy(buf, "dir/");
    strcat(buf, name256);
    expect_refused(buf);

    /* A long path is quoted as "..." and the bad component, so the reason
     * fits in the message. */
    char deep[2400] = "";
    for (int i = 0; i < 1000; i++)
        strcat(deep, "d/");
    strcat(deep, name256);
    struct sfs_error err = {{0}};
    assert_int_equal(window_path_check(deep, &err), -1);
    char want[400];
    snprintf(want, sizeof want, "'...%s' has a component of 256 bytes (the limit is 255)", name256);
    assert_string_equal(err.msg, want);
    free(name255);
    free(name256);
}

/* Builds a path of exactly len bytes made of components of up to 200 bytes. */
static char *long_path(size_t len)
{
    char *s = repeat('x', len);
    for (size_t i = 200; i < len - 1; i += 201)
        s[i] = '/';
    return s;
}

static void test_total_length(void **state)
{
    (void)state;
    assert_int_equal(WINDOW_PATH_MAX, 4095);
    char *ok = long_path(4095);
    char *too_long = long_path(4096);
    char *far_too_long = long_path(100000);
    assert_int_equal(strlen(ok), 4095);
    assert_int_equal(strlen(too_long), 4096);
    expect_ok(ok);
    expect_refused(too_long);
    expect_refused(far_too_long);
    free(ok);
    free(too_long);
    free(far_too_long);
}

static void test_messages_name_the_problem(void **state)
{
    (void)state;
    struct sfs_error err = {{0}};
    assert_int_equal(window_path_check("a/../b", &err), -1);
    assert_non_null(strstr(err.msg, "a/../b"));
    assert_non_null(strstr(err.msg, ".."));

    memset(&err, 0, sizeof err);
    assert_int_equal(window_path_check("a//b", &err), -1);
    assert_non_null(strstr(err.msg, "a//b"));
    assert_non_null(strstr(err.msg, "empty"));

    memset(&err, 0, sizeof err);
    assert_int_equal(window_path_check("", &err), -1);
    assert_non_null(strstr(err.msg, "empty"));

    char *big = repeat('y', 256);
    memset(&err, 0, sizeof err);
    assert_int_equal(window_path_check(big, &err), -1);
    assert_non_null(strstr(err.msg, "256"));
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_ordinary_paths),    cmocka_unit_test(test_refuses_bad_shapes),
        cmocka_unit_test(test_component_length),          cmocka_unit_test(test_total_length),
        cmocka_unit_test(test_messages_name_the_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
