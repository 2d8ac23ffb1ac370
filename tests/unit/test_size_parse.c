/* test_size_parse.c - the number syntax of OFFSET and LENGTH (SPEC section 2).
 *
 * Covers: decimal, 0x hex, the binary suffixes K M G T P (k m g t p, KiB ..
 * PiB), "s" for 512-byte sectors, the limits 2^63-1 (accepted) and 2^63
 * (refused, with and without a suffix), and refusals of signs, white space,
 * trailing junk, unknown suffixes, empty text and a bare "0x"; every refusal
 * quotes the text it refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "slicefs/size_parse.h"

#define KIB ((uint64_t)1 << 10)
#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)
#define TIB ((uint64_t)1 << 40)
#define PIB ((uint64_t)1 << 50)

struct good_case {
    const char *text;
    uint64_t value;
};

/* Parses text, which must be accepted, and checks the value. */
static void accepts(const char *text, uint64_t want)
{
    struct sfs_error err = {{0}};
    uint64_t got = 12345;
    int res = size_parse(text, &got, &err);
    if (res != 0)
        fail_msg("'%s' was refused: %s", text, err.msg);
    if (got != want)
        fail_msg("'%s' parsed as %llu, expected %llu", text, (unsigned long long)got,
                 (unsigned long long)want);
}

/* Parses text, which must be refused with a message that quotes it. */
static void refuses(const char *text)
{
    struct sfs_error err = {{0}};
    uint64_t got = 0;
    int res = size_parse(text, &got, &err);
    if (res != -1)
        fail_msg("'%s' was accepted as %llu (returned %d)", text, (unsigned long long)got, res);
    if (err.msg[0] == '\0')
        fail_msg("'%s' was refused without a message", text);
    if (text[0] != '\0') {
        char quoted[256];
        snprintf(quoted, sizeof quoted, "'%s'", text);
        if (strstr(err.msg, quoted) == NULL)
            fail_msg("the message for '%s' does not quote it: %s", text, err.msg);
    }
}

static void test_decimal(void **state)
{
    (void)state;
    accepts("0", 0);
    accepts("1", 1);
    accepts("4096", 4096);
    accepts("123456789", 123456789);
    /* Leading zeros are decimal, not octal. */
    accepts("010", 10);
    accepts("000", 0);
    accepts("4294967296", (uint64_t)1 << 32);
}

static void test_hex(void **state)
{
    (void)state;
    accepts("0x0", 0);
    accepts("0x1000", 4096);
    accepts("0xff", 255);
    accepts("0xABCDEF", 0xabcdef);
    accepts("0xabcdef", 0xabcdef);
    accepts("0X10", 16);
    accepts("0x100000000", (uint64_t)1 << 32);
    /* A hex number takes the suffixes too. */
    accepts("0x10K", 16 * KIB);
}

static void test_suffixes(void **state)
{
    (void)state;
    static const struct good_case cases[] = {
        {"1K", KIB},       {"1k", KIB},       {"1KiB", KIB},      {"3M", 3 * MIB},
        {"3m", 3 * MIB},   {"3MiB", 3 * MIB}, {"5G", 5 * GIB},    {"5g", 5 * GIB},
        {"5GiB", 5 * GIB}, {"7T", 7 * TIB},   {"7t", 7 * TIB},    {"7TiB", 7 * TIB},
        {"2P", 2 * PIB},   {"2p", 2 * PIB},   {"2PiB", 2 * PIB},  {"512M", 512 * MIB},
        {"0K", 0},         {"0P", 0},         {"1024K", 1 * MIB}, {"0x20M", 32 * MIB},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        accepts(cases[i].text, cases[i].value);
}

static void test_sectors(void **state)
{
    (void)state;
    accepts("1s", 512);
    accepts("2048s", 1048576);
    accepts("0s", 0);
    accepts("0x800s", 1048576);
    /* The largest whole number of sectors below 2^63. */
    accepts("18014398509481983s", ((uint64_t)1 << 63) - 512);
}

static void test_limits(void **state)
{
    (void)state;
    /* 2^63 - 1, the largest off_t, is accepted in every notation. */
    accepts("9223372036854775807", SIZE_PARSE_MAX);
    accepts("0x7fffffffffffffff", SIZE_PARSE_MAX);
    accepts("0x7FFFFFFFFFFFFFFF", SIZE_PARSE_MAX);
    accepts("8P", (uint64_t)1 << 53);
    accepts("8191P", (uint64_t)8191 << 50);
    accepts("8388607T", (((uint64_t)1 << 23) - 1) << 40);

    /* 2^63 and above are refused. */
    refuses("9223372036854775808");
    refuses("9223372036854775809");
    refuses("18446744073709551615");
    refuses("18446744073709551616");
    refuses("99999999999999999999999999999");
    refuses("0x8000000000000000");
    refuses("0xffffffffffffffff");
    refuses("0x10000000000000000");

    /* Overflow caused by the suffix alone. */
    refuses("8192P");
    refuses("8192p");
    refuses("8192PiB");
    refuses("8388608T");
    refuses("8589934592G");
    refuses("8796093022208M");
    refuses("9007199254740992K");
    refuses("18014398509481984s");
    refuses("9223372036854775807K");
}

static void test_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",     "0x",   "0X",   "-1",  "-0",   "+1",    " 1",    "1 ",  "\t1",
        "1\n",  "12x",  "1KB",  "1Ki", "1Kib", "1KIB",  "1kB",   "1Mb", "1B",
        "1S",   "1.5M", "1e3",  "1,5", "K",    "s",     "x",     "1KK", "1s2",
        "0x1h", "0xg",  "0x-1", "end", "1 K",  "1_000", "0b101", "1Q",  "1KiBs",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refuses(bad[i]);
}

static void test_empty_has_a_message(void **state)
{
    (void)state;
    struct sfs_error err = {{0}};
    uint64_t got = 0;
    assert_int_equal(size_parse("", &got, &err), -1);
    assert_true(strlen(err.msg) > 0);
}

static void test_null_error_buffer(void **state)
{
    (void)state;
    uint64_t got = 0;
    /* err may be NULL: the result alone tells. */
    assert_int_equal(size_parse("12x", &got, NULL), -1);
    assert_int_equal(size_parse("12K", &got, NULL), 0);
    assert_int_equal(got, 12 * KIB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_suffixes),
        cmocka_unit_test(test_sectors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_empty_has_a_message),
        cmocka_unit_test(test_null_error_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
