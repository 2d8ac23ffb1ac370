/* test_control_protocol.c - the slicefsctl protocol (control_protocol.h).
 *
 * Covers control_request_join and control_request_split: a round trip of
 * every command's shape, arguments that hold any byte but NUL (newlines,
 * blanks, UTF-8, 0xff) passed unchanged; hostile requests refused with a
 * message: empty, no trailing NUL, an empty argument (first, middle, a
 * doubled NUL at the end), more than CONTROL_MAX_ARGS arguments, longer
 * than CONTROL_REQUEST_MAX; join refusing an empty argument, 0 or too many
 * arguments, a buffer one byte too small. control_reply_parse: statuses 0,
 * 1, 2 and 255, an empty body, and replies that do not start with a status
 * line. control_socket_name: 16 lowercase hex digits and ".sock", the same
 * for the same path (a known value: it must not change between builds),
 * different for different paths. control_socket_dir: XDG_RUNTIME_DIR when
 * set and absolute, ignored when relative or empty; /run/slicefs for root;
 * TMPDIR (when absolute) or /tmp with the uid for others.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/control_protocol.h"

static void assert_contains(const char *msg, const char *part)
{
    if (strstr(msg, part) == NULL)
        fail_msg("message '%s' does not contain '%s'", msg, part);
}

/* Joins args, splits the result and checks that the same arguments come
 * back. */
static void round_trip(const char *const *args, int count)
{
    char buf[CONTROL_REQUEST_MAX];
    struct sfs_error err = {{0}};
    int len = control_request_join(args, count, buf, sizeof buf, &err);
    if (len < 0)
        fail_msg("join refused: %s", err.msg);
    size_t want = 0;
    for (int i = 0; i < count; i++)
        want += strlen(args[i]) + 1;
    assert_int_equal(len, want);

    const char *got[CONTROL_MAX_ARGS];
    int n = control_request_split(buf, (size_t)len, got, &err);
    if (n < 0)
        fail_msg("split refused: %s", err.msg);
    assert_int_equal(n, count);
    for (int i = 0; i < count; i++)
        assert_string_equal(got[i], args[i]);
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *list[] = {"list"};
    round_trip(list, 1);
    const char *add[] = {"add", "p1:0:4096", "/abs/backing"};
    round_trip(add, 3);
    const char *resize[] = {"resize", "dir/w", "1M"};
    round_trip(resize, 3);
    const char *odd[] = {"add", "a b\nc\t\\#:0:1", "/x/\xc3\xa9t\xc3\xa9 \xff\n"};
    round_trip(odd, 3);
    const char *full[CONTROL_MAX_ARGS] = {"1", "2", "3", "4", "5", "6", "7", "8"};
    round_trip(full, CONTROL_MAX_ARGS);

    /* The exact bytes: each argument followed by a NUL. */
    char buf[64];
    assert_int_equal(control_request_join(add, 3, buf, sizeof buf, NULL), 27);
    assert_memory_equal(buf, "add\0p1:0:4096\0/abs/backing\0", 27);
}

/* A string literal as bytes: its text and its length (NULs inside it
 * counted, the one the compiler adds not). */
struct bytes {
    const char *text;
    size_t len;
};
#define BYTES(literal)                                                                             \
    {                                                                                              \
        (literal), sizeof(literal) - 1                                                             \
    }

/* Splits the len bytes of text; it must be refused with a message that
 * contains part. */
static void refused(const char *text, size_t len, const char *part)
{
    const char *args[CONTROL_MAX_ARGS];
    struct sfs_error err = {{0}};
    assert_int_equal(control_request_split(text, len, args, &err), -1);
    assert_contains(err.msg, part);
}

static void test_hostile_requests(void **state)
{
    (void)state;
    static const struct {
        struct bytes request;
        const char *why;
    } hostile[] = {
        {BYTES(""), "empty request"},
        {BYTES("list"), "does not end with a NUL"},
        {BYTES("add\0x:0:1"), "does not end with a NUL"},
        {BYTES("\0"), "argument 1 of the request is empty"},
        {BYTES("\0list\0"), "argument 1 of the request is empty"},
        {BYTES("remove\0\0p\0"), "argument 2 of the request is empty"},
        {BYTES("list\0\0"), "argument 2 of the request is empty"},
        {BYTES("1\0002\0003\0004\0005\0006\0007\0008\0009\0"), "more than 8 arguments"},
    };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++)
        refused(hostile[i].request.text, hostile[i].request.len, hostile[i].why);

    char *big = malloc(CONTROL_REQUEST_MAX + 1);
    assert_non_null(big);
    memset(big, 'a', CONTROL_REQUEST_MAX);
    big[CONTROL_REQUEST_MAX] = '\0';
    refused(big, CONTROL_REQUEST_MAX + 1, "at most 65536");
    /* One of exactly CONTROL_REQUEST_MAX bytes is taken. */
    const char *args[CONTROL_MAX_ARGS];
    assert_int_equal(control_request_split(big + 1, CONTROL_REQUEST_MAX, args, NULL), 1);
    assert_int_equal(strlen(args[0]), CONTROL_REQUEST_MAX - 1);
    free(big);

    /* Whatever an argument holds but NUL, it is passed as it is. */
    const char data[] = "add\0\n\r\t \x01\x7f\xff:0:1\0";
    assert_int_equal(control_request_split(data, sizeof data - 1, args, NULL), 2);
    assert_string_equal(args[1], "\n\r\t \x01\x7f\xff:0:1");
}

static void test_join_refuses(void **state)
{
    (void)state;
    char buf[64];
    struct sfs_error err = {{0}};
    const char *empty[] = {"remove", ""};
    assert_int_equal(control_request_join(empty, 2, buf, sizeof buf, &err), -1);
    assert_contains(err.msg, "argument 2 is empty");

    const char *list[] = {"list"};
    assert_int_equal(control_request_join(list, 0, buf, sizeof buf, &err), -1);
    assert_contains(err.msg, "1 to 8 arguments, not 0");
    const char *nine[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9"};
    assert_int_equal(control_request_join(nine, 9, buf, sizeof buf, &err), -1);
    assert_contains(err.msg, "not 9");

    /* "resize\0w\0" is 9 bytes: it fits in 9, not in 8. */
    const char *resize[] = {"resize", "w"};
    assert_int_equal(control_request_join(resize, 2, buf, 9, NULL), 9);
    assert_int_equal(control_request_join(resize, 2, buf, 8, &err), -1);
    assert_contains(err.msg, "does not fit in 8 bytes at argument 2");
    assert_int_equal(control_request_join(resize, 2, buf, 0, &err), -1);

    /* Never more than CONTROL_REQUEST_MAX, whatever the buffer. */
    size_t n = CONTROL_REQUEST_MAX;
    char *long_arg = malloc(n);
    char *out = malloc(2 * n);
    assert_non_null(long_arg);
    assert_non_null(out);
    memset(long_arg, 'a', n - 1);
    long_arg[n - 1] = '\0';
    const char *one[] = {long_arg};
    assert_int_equal(control_request_join(one, 1, out, 2 * n, NULL), (int)n);
    long_arg[n - 2] = '\0';
    const char *two[] = {"x", long_arg};
    assert_int_equal(control_request_join(two, 2, out, 2 * n, &err), -1);
    assert_contains(err.msg, "does not fit in 65536 bytes");
    free(long_arg);
    free(out);
}

static void test_reply_parse(void **state)
{
    (void)state;
    static const struct {
        const char *reply;
        int status;
        const char *body;
    } good[] = {
        {"0\n", 0, ""},
        {"0\np1 0 4096 rw /b\n", 0, "p1 0 4096 rw /b\n"},
        {"1\nwindow x: bad\n", 1, "window x: bad\n"},
        {"2\nno memory", 2, "no memory"},
        {"255\n", 255, ""},
        {"1\n\n7\n", 1, "\n7\n"},
    };
    struct sfs_error err = {{0}};
    int status;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        status = -1;
        long body = control_reply_parse(good[i].reply, strlen(good[i].reply), &status, &err);
        if (body < 0)
            fail_msg("'%s' refused: %s", good[i].reply, err.msg);
        assert_int_equal(status, good[i].status);
        assert_string_equal(good[i].reply + body, good[i].body);
    }

    static const struct bytes bad[] = {
        BYTES(""),      BYTES("0"),      BYTES("\n"),    BYTES("x\n"),
        BYTES("-1\n"),  BYTES(" 0\n"),   BYTES("0 \n"),  BYTES("01\n"),
        BYTES("256\n"), BYTES("1000\n"), BYTES("0\0\n"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        status = -1;
        assert_int_equal(control_reply_parse(bad[i].text, bad[i].len, &status, &err), -1);
        assert_contains(err.msg, "does not start with a status line");
        assert_int_equal(status, -1);
    }

    /* The message quotes the start of the reply, unprintable bytes as '?'. */
    assert_int_equal(control_reply_parse("OK\r\nmore than twenty-three bytes", 32, &status, &err),
                     -1);
    assert_contains(err.msg, "32 bytes: 'OK??more than twenty-th...'");
}

static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static void test_socket_name(void **state)
{
    (void)state;
    char a[CONTROL_SOCKET_NAME_MAX], b[CONTROL_SOCKET_NAME_MAX], c[CONTROL_SOCKET_NAME_MAX];
    control_socket_name("/mnt/s", a);
    assert_int_equal(strlen(a), 16 + strlen(".sock"));
    assert_true(is_lower_hex(a, 16));
    assert_string_equal(a + 16, ".sock");

    control_socket_name("/mnt/s", b);
    assert_string_equal(a, b);
    control_socket_name("/mnt/t", c);
    assert_string_not_equal(a, c);
    control_socket_name("/mnt/s/", c);
    assert_string_not_equal(a, c);
    control_socket_name("/", c);
    assert_true(is_lower_hex(c, 16));

    /* Stable across builds, hosts and versions: a daemon and a client of
     * different builds must agree. */
    control_socket_name("/mnt/s", a);
    assert_string_equal(a, "fcd831cc41d44099.sock");
}

/* Sets (value non-NULL) or unsets the environment variable name. */
static void set_env(const char *name, const char *value)
{
    if (value != NULL)
        assert_int_equal(setenv(name, value, 1), 0);
    else
        assert_int_equal(unsetenv(name), 0);
}

/* With XDG_RUNTIME_DIR and TMPDIR as given, the folder for uid must be
 * want. */
static void dir_is(const char *runtime, const char *tmp, uid_t uid, const char *want)
{
    set_env("XDG_RUNTIME_DIR", runtime);
    set_env("TMPDIR", tmp);
    char *dir = control_socket_dir(uid);
    assert_non_null(dir);
    assert_string_equal(dir, want);
    free(dir);
}

static void test_socket_dir(void **state)
{
    (void)state;
    dir_is("/run/user/1000", NULL, 1000, "/run/user/1000/slicefs");
    dir_is("/run/user/0", "/var/tmp", 0, "/run/user/0/slicefs");
    /* Unset, empty or relative: not used. */
    dir_is(NULL, NULL, 1000, "/tmp/slicefs-1000");
    dir_is("", NULL, 1000, "/tmp/slicefs-1000");
    dir_is("run/user/1000", NULL, 1000, "/tmp/slicefs-1000");
    dir_is(NULL, NULL, 0, "/run/slicefs");
    dir_is("relative", "/var/tmp", 0, "/run/slicefs");
    /* TMPDIR, when absolute, for users other than root. */
    dir_is(NULL, "/var/tmp", 1000, "/var/tmp/slicefs-1000");
    dir_is(NULL, "var/tmp", 1000, "/tmp/slicefs-1000");
    dir_is(NULL, "", 4294967294u, "/tmp/slicefs-4294967294");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_hostile_requests),
        cmocka_unit_test(test_join_refuses), cmocka_unit_test(test_reply_parse),
        cmocka_unit_test(test_socket_name),  cmocka_unit_test(test_socket_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
