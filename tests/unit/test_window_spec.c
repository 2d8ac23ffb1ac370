/* test_window_spec.c - parsing one declared window (window=PATH:OFFSET:LENGTH[:MODE]).
 *
 * Covers window_spec_parse on good specs (sizes with suffixes, "end", each
 * mode, the default mode), its refusals (missing and extra fields, bad mode,
 * bad numbers, OFFSET+LENGTH past 2^63-1, bad paths), each naming the origin
 * and the field; window_mode_parse / window_mode_name; and
 * window_spec_from_fields with and without a backing path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "slicefs/size_parse.h"
#include "slicefs/window_spec.h"

#define MIB ((uint64_t)1 << 20)

/* Parses text with origin "window=TEXT"; it must be accepted. */
static void parse_ok(const char *text, struct window_spec *spec)
{
    char origin[512];
    snprintf(origin, sizeof origin, "window=%s", text);
    struct sfs_error err = {{0}};
    if (window_spec_parse(text, origin, spec, &err) != 0)
        fail_msg("'%s' was refused: %s", text, err.msg);
    assert_string_equal(spec->origin, origin);
}

/* Parses text; it must be refused with a message naming the origin, field
 * and (when not NULL) also containing detail. */
static void parse_refused(const char *text, const char *field, const char *detail)
{
    char origin[512];
    snprintf(origin, sizeof origin, "window=%s", text);
    struct sfs_error err = {{0}};
    struct window_spec spec;
    memset(&spec, 0, sizeof spec);
    if (window_spec_parse(text, origin, &spec, &err) != -1)
        fail_msg("'%s' was accepted", text);
    if (strstr(err.msg, origin) == NULL)
        fail_msg("the message for '%s' does not name its origin: %s", text, err.msg);
    if (field != NULL && strstr(err.msg, field) == NULL)
        fail_msg("the message for '%s' does not name %s: %s", text, field, err.msg);
    if (detail != NULL && strstr(err.msg, detail) == NULL)
        fail_msg("the message for '%s' does not say '%s': %s", text, detail, err.msg);
}

static void test_parse_boot(void **state)
{
    (void)state;
    struct window_spec spec;
    parse_ok("boot:1M:512M", &spec);
    assert_string_equal(spec.path, "boot");
    assert_true(spec.backing_path == NULL);
    assert_int_equal(spec.offset, MIB);
    assert_int_equal(spec.length, 512 * MIB);
    assert_false(spec.to_end);
    assert_int_equal(spec.mode, WINDOW_MODE_DEFAULT);
    window_spec_free(&spec);
}

static void test_parse_to_end_rw(void **state)
{
    (void)state;
    struct window_spec spec;
    parse_ok("data/root:513M:end:rw", &spec);
    assert_string_equal(spec.path, "data/root");
    assert_int_equal(spec.offset, 513 * MIB);
    assert_true(spec.to_end);
    assert_int_equal(spec.mode, WINDOW_MODE_RW);
    window_spec_free(&spec);
}

static void test_parse_ro_and_cow(void **state)
{
    (void)state;
    struct window_spec spec;
    parse_ok("hdr:0:4K:ro", &spec);
    assert_string_equal(spec.path, "hdr");
    assert_int_equal(spec.offset, 0);
    assert_int_equal(spec.length, 4096);
    assert_false(spec.to_end);
    assert_int_equal(spec.mode, WINDOW_MODE_RO);
    window_spec_free(&spec);

    parse_ok("x:0:1:cow", &spec);
    assert_string_equal(spec.path, "x");
    assert_int_equal(spec.offset, 0);
    assert_int_equal(spec.length, 1);
    assert_int_equal(spec.mode, WINDOW_MODE_COW);
    window_spec_free(&spec);
}

static void test_parse_number_forms(void **state)
{
    (void)state;
    struct window_spec spec;
    parse_ok("p1:2048s:0x100000", &spec);
    assert_int_equal(spec.offset, 1048576);
    assert_int_equal(spec.length, 0x100000);
    window_spec_free(&spec);

    parse_ok("sp ace/\xc3\xa9:5G:1TiB", &spec);
    assert_string_equal(spec.path, "sp ace/\xc3\xa9");
    assert_int_equal(spec.offset, (uint64_t)5 << 30);
    assert_int_equal(spec.length, (uint64_t)1 << 40);
    window_spec_free(&spec);

    /* The sum may reach 2^63-1 exactly. */
    parse_ok("a:0x7fffffffffffffff:0", &spec);
    assert_int_equal(spec.offset, SIZE_PARSE_MAX);
    assert_int_equal(spec.length, 0);
    window_spec_free(&spec);
    parse_ok("a:0:0x7fffffffffffffff", &spec);
    assert_int_equal(spec.length, SIZE_PARSE_MAX);
    window_spec_free(&spec);
    parse_ok("a:0x3fffffffffffffff:0x4000000000000000", &spec);
    window_spec_free(&spec);
    /* "end" has no number to overflow with. */
    parse_ok("a:0x7fffffffffffffff:end", &spec);
    assert_true(spec.to_end);
    window_spec_free(&spec);
}

static void test_missing_and_extra_fields(void **state)
{
    (void)state;
    parse_refused("boot", "OFFSET", "missing");
    parse_refused("boot:1M", "LENGTH", "missing");
    parse_refused("boot:1M:", "LENGTH", NULL);
    parse_refused("boot::1M", "OFFSET", NULL);
    parse_refused("boot:1M:2M:", "MODE", NULL);
    parse_refused("boot:1M:2M:ro:x", NULL, "too many");
    parse_refused("boot:1M:2M:ro:", NULL, "too many");
    parse_refused("a:b:c:d:e:f", NULL, "too many");
}

static void test_bad_mode(void **state)
{
    (void)state;
    parse_refused("boot:1M:2M:rx", "MODE", "rx");
    parse_refused("boot:1M:2M:RW", "MODE", "RW");
    parse_refused("boot:1M:2M:default", "MODE", NULL);
    parse_refused("boot:1M:2M:r", "MODE", NULL);
    parse_refused("boot:1M:2M: ro", "MODE", NULL);
}

static void test_bad_numbers(void **state)
{
    (void)state;
    parse_refused("boot:-1:2M", "OFFSET", "'-1'");
    parse_refused("boot:1x:2M", "OFFSET", "'1x'");
    parse_refused("boot:0x:2M", "OFFSET", NULL);
    parse_refused("boot: 1:2M", "OFFSET", NULL);
    parse_refused("boot:9223372036854775808:0", "OFFSET", NULL);
    parse_refused("boot:1M:-2M", "LENGTH", "'-2M'");
    parse_refused("boot:1M:2MB", "LENGTH", "'2MB'");
    parse_refused("boot:1M:END", "LENGTH", NULL);
    parse_refused("boot:1M:ends", "LENGTH", NULL);
    parse_refused("boot:1M:8192P", "LENGTH", NULL);
}

static void test_sum_overflow(void **state)
{
    (void)state;
    parse_refused("a:0x7fffffffffffffff:1", "LENGTH", NULL);
    parse_refused("a:1:0x7fffffffffffffff", "LENGTH", NULL);
    parse_refused("a:4P:8188P", "LENGTH", NULL);
    parse_refused("a:0x4000000000000000:0x4000000000000000", "LENGTH", NULL);

    /* The message gives both numbers. */
    struct sfs_error err = {{0}};
    struct window_spec spec;
    assert_int_equal(window_spec_parse("a:0x7fffffffffffffff:1", "window=a", &spec, &err), -1);
    assert_non_null(strstr(err.msg, "9223372036854775807"));
}

static void test_bad_path(void **state)
{
    (void)state;
    parse_refused(":0:1", "PATH", NULL);
    parse_refused("/a:0:1", "PATH", NULL);
    parse_refused("a/:0:1", "PATH", NULL);
    parse_refused("a//b:0:1", "PATH", NULL);
    parse_refused(".:0:1", "PATH", NULL);
    parse_refused("..:0:1", "PATH", NULL);
    parse_refused("a/../b:0:1", "PATH", NULL);
    parse_refused("a/./b:0:1", "PATH", NULL);
}

/* The MODE field: a mode and/or truncate=zero|ignore, comma-separated;
 * what window_mode_field_format writes reads back the same. */
static void test_mode_field(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum window_mode mode;
        enum window_truncate truncate;
    } good[] = {
        {"rw", WINDOW_MODE_RW, WINDOW_TRUNCATE_DEFAULT},
        {"ro,truncate=zero", WINDOW_MODE_RO, WINDOW_TRUNCATE_ZERO},
        {"rw,truncate=ignore", WINDOW_MODE_RW, WINDOW_TRUNCATE_IGNORE},
        {"truncate=ignore,cow", WINDOW_MODE_COW, WINDOW_TRUNCATE_IGNORE},
        {"truncate=ignore", WINDOW_MODE_DEFAULT, WINDOW_TRUNCATE_IGNORE},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        enum window_mode m;
        enum window_truncate t;
        struct sfs_error err = {{0}};
        if (window_mode_field_parse(good[i].text, &m, &t, &err) != 0)
            fail_msg("'%s' refused: %s", good[i].text, err.msg);
        assert_int_equal(m, good[i].mode);
        assert_int_equal(t, good[i].truncate);
        char buf[64] = {0};
        FILE *out = fmemopen(buf, sizeof buf, "w");
        assert_non_null(out);
        window_mode_field_format(m == WINDOW_MODE_DEFAULT ? WINDOW_MODE_RW : m, t, out);
        fclose(out);
        enum window_mode m2;
        enum window_truncate t2;
        assert_int_equal(window_mode_field_parse(buf, &m2, &t2, &err), 0);
        assert_int_equal(m2, m == WINDOW_MODE_DEFAULT ? WINDOW_MODE_RW : m);
        assert_int_equal(t2 == WINDOW_TRUNCATE_IGNORE, t == WINDOW_TRUNCATE_IGNORE);
    }
    static const char *const bad[] = {"",
                                      "rw,",
                                      ",rw",
                                      "rw,ro",
                                      "truncate=",
                                      "truncate=yes",
                                      "rw,truncate=zero,truncate=ignore",
                                      "rw,,ro",
                                      "truncate=ignorex",
                                      "rw truncate=ignore",
                                      "averyveryveryverylongmodenamethatgoeson"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum window_mode m;
        enum window_truncate t;
        struct sfs_error err = {{0}};
        if (window_mode_field_parse(bad[i], &m, &t, &err) != -1)
            fail_msg("MODE field '%s' was accepted", bad[i]);
        assert_true(err.msg[0] != '\0');
    }
    /* Through window_spec_parse: the window= option takes it too. */
    struct window_spec spec;
    struct sfs_error err = {{0}};
    assert_int_equal(window_spec_parse("p:0:1M:cow,truncate=ignore", "window=p", &spec, &err), 0);
    assert_int_equal(spec.mode, WINDOW_MODE_COW);
    assert_int_equal(spec.truncate, WINDOW_TRUNCATE_IGNORE);
    window_spec_free(&spec);
    assert_int_equal(window_spec_parse("p:0:1M:rw,truncate=no", "window=p", &spec, &err), -1);
    assert_non_null(strstr(err.msg, "window=p: MODE: 'no' is not a truncate mode"));
}

static void test_mode_round_trip(void **state)
{
    (void)state;
    static const enum window_mode modes[] = {WINDOW_MODE_RO, WINDOW_MODE_RW, WINDOW_MODE_COW};
    static const char *const names[] = {"ro", "rw", "cow"};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(window_mode_name(modes[i]), names[i]);
        enum window_mode m = WINDOW_MODE_DEFAULT;
        struct sfs_error err = {{0}};
        assert_int_equal(window_mode_parse(names[i], &m, &err), 0);
        assert_int_equal(m, modes[i]);
        assert_int_equal(window_mode_parse(window_mode_name(m), &m, &err), 0);
        assert_int_equal(m, modes[i]);
    }
    /* The default mode is reported as rw. */
    assert_string_equal(window_mode_name(WINDOW_MODE_DEFAULT), "rw");

    static const char *const bad[] = {"", "RO", "Rw", "rx", "r", "w", "cow ", "copy", "default"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum window_mode m = WINDOW_MODE_COW;
        struct sfs_error err = {{0}};
        if (window_mode_parse(bad[i], &m, &err) != -1)
            fail_msg("mode '%s' was accepted", bad[i]);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        if (strstr(err.msg, quoted) == NULL)
            fail_msg("the message for mode '%s' does not quote it: %s", bad[i], err.msg);
    }
}

static void test_from_fields(void **state)
{
    (void)state;
    struct window_spec spec;
    struct sfs_error err = {{0}};
    assert_int_equal(window_spec_from_fields("dir/part", "0x200", "end", NULL, "other.img",
                                             "table.txt:7", &spec, &err),
                     0);
    assert_string_equal(spec.path, "dir/part");
    assert_non_null(spec.backing_path);
    assert_string_equal(spec.backing_path, "other.img");
    assert_string_equal(spec.origin, "table.txt:7");
    assert_int_equal(spec.offset, 0x200);
    assert_true(spec.to_end);
    assert_int_equal(spec.mode, WINDOW_MODE_DEFAULT);
    window_spec_free(&spec);

    assert_int_equal(
        window_spec_from_fields("q", "1K", "2K", "cow", NULL, "table.txt:8", &spec, &err), 0);
    assert_true(spec.backing_path == NULL);
    assert_int_equal(spec.offset, 1024);
    assert_int_equal(spec.length, 2048);
    assert_false(spec.to_end);
    assert_int_equal(spec.mode, WINDOW_MODE_COW);
    window_spec_free(&spec);

    /* A path may contain ':' when it comes as a separate field. */
    assert_int_equal(window_spec_from_fields("a:b", "0", "1", "ro", "x", "t:1", &spec, &err), 0);
    assert_string_equal(spec.path, "a:b");
    window_spec_free(&spec);

    /* Refusals name the origin and the field. */
    static const struct {
        const char *path, *offset, *length, *mode, *field;
    } bad[] = {
        {"../p", "0", "1", NULL, "PATH"},
        {"p", "x", "1", NULL, "OFFSET"},
        {"p", "0", "1y", NULL, "LENGTH"},
        {"p", "0", "1", "rwx", "MODE"},
        {"p", "1", "0x7fffffffffffffff", NULL, "LENGTH"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        if (window_spec_from_fields(bad[i].path, bad[i].offset, bad[i].length, bad[i].mode, "b.img",
                                    "table.txt:9", &spec, &err) != -1)
            fail_msg("case %zu was accepted", i);
        if (strstr(err.msg, "table.txt:9") == NULL || strstr(err.msg, bad[i].field) == NULL)
            fail_msg("case %zu: the message does not name the origin and %s: %s", i, bad[i].field,
                     err.msg);
    }
}

/* The spec owns its strings: freeing the input text does not disturb it. */
static void test_owns_its_strings(void **state)
{
    (void)state;
    char text[] = "owned/path:1K:2K:ro";
    char origin[] = "window=owned";
    struct window_spec spec;
    struct sfs_error err = {{0}};
    assert_int_equal(window_spec_parse(text, origin, &spec, &err), 0);
    memset(text, 'Z', sizeof text - 1);
    memset(origin, 'Z', sizeof origin - 1);
    assert_string_equal(spec.path, "owned/path");
    assert_string_equal(spec.origin, "window=owned");
    window_spec_free(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_boot),
        cmocka_unit_test(test_parse_to_end_rw),
        cmocka_unit_test(test_parse_ro_and_cow),
        cmocka_unit_test(test_parse_number_forms),
        cmocka_unit_test(test_missing_and_extra_fields),
        cmocka_unit_test(test_bad_mode),
        cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_sum_overflow),
        cmocka_unit_test(test_bad_path),
        cmocka_unit_test(test_mode_round_trip),
        cmocka_unit_test(test_mode_field),
        cmocka_unit_test(test_from_fields),
        cmocka_unit_test(test_owns_its_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
