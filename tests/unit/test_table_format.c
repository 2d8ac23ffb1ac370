/* test_table_format.c - the window table text format (table_format.h).
 *
 * Covers table_split_line: plain fields, tabs and runs of blanks, CRLF line
 * ends, comment lines, '#' after the fields (and '#' inside a field, which
 * is not a comment), blank lines (0 fields), 5 fields, 6 fields refused with
 * a message, backslash escapes ("\ ", "\n", "\t", "\\", "\#", any other
 * character taken literally), a trailing backslash refused. And
 * table_format_field: its output is one blank-free token that
 * table_split_line reads back unchanged, for names full of spaces, tabs,
 * newlines, '#', backslashes, carriage returns and UTF-8.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/table_format.h"

static void assert_contains(const char *msg, const char *part)
{
    if (strstr(msg, part) == NULL)
        fail_msg("message '%s' does not contain '%s'", msg, part);
}

/* Splits a copy of text (kept in buf) and returns the field count. */
static int split(const char *text, char *buf, size_t buf_size, char *fields[TABLE_MAX_FIELDS],
                 struct sfs_error *err)
{
    size_t len = strlen(text);
    assert_true(len < buf_size);
    memcpy(buf, text, len + 1);
    for (int i = 0; i < TABLE_MAX_FIELDS; i++)
        fields[i] = NULL;
    memset(err, 0, sizeof *err);
    return table_split_line(buf, fields, err);
}

static void test_plain_fields(void **state)
{
    (void)state;
    char buf[256];
    char *f[TABLE_MAX_FIELDS];
    struct sfs_error err;
    assert_int_equal(split("p1 0 100", buf, sizeof buf, f, &err), 3);
    assert_string_equal(f[0], "p1");
    assert_string_equal(f[1], "0");
    assert_string_equal(f[2], "100");
    assert_null(f[3]);

    assert_int_equal(split("p1 0 100\n", buf, sizeof buf, f, &err), 3);
    assert_string_equal(f[2], "100");

    assert_int_equal(split("dir/a 0x10 1M ro\n", buf, sizeof buf, f, &err), 4);
    assert_string_equal(f[0], "dir/a");
    assert_string_equal(f[1], "0x10");
    assert_string_equal(f[2], "1M");
    assert_string_equal(f[3], "ro");
}

static void test_tabs_and_runs_of_blanks(void **state)
{
    (void)state;
    char buf[256];
    char *f[TABLE_MAX_FIELDS];
    struct sfs_error err;
    assert_int_equal(split("  \t p1\t\t0   \t 100 \t ro\t  \n", buf, sizeof buf, f, &err), 4);
    assert_string_equal(f[0], "p1");
    assert_string_equal(f[1], "0");
    assert_string_equal(f[2], "100");
    assert_string_equal(f[3], "ro");

    /* A CRLF line end is not part of the last field. */
    assert_int_equal(split("p1 0 100\r\n", buf, sizeof buf, f, &err), 3);
    assert_string_equal(f[2], "100");
}

static void test_comments(void **state)
{
    (void)state;
    char buf[256];
    char *f[TABLE_MAX_FIELDS];
    struct sfs_error err;
    assert_int_equal(split("# p1 0 100", buf, sizeof buf, f, &err), 0);
    assert_int_equal(split("#p1 0 100\n", buf, sizeof buf, f, &err), 0);
    assert_int_equal(split(" \t # indented comment\n", buf, sizeof buf, f, &err), 0);

    assert_int_equal(split("p1 0 100 # the first partition", buf, sizeof buf, f, &err), 3);
    assert_string_equal(f[0], "p1");
    assert_string_equal(f[2], "100");
    assert_null(f[3]);

    assert_int_equal(split("p1 0 100 ro #rw /x", buf, sizeof buf, f, &err), 4);
    assert_string_equal(f[3], "ro");
    assert_null(f[4]);

    /* '#' starts a comment only where a field could start. */
    assert_int_equal(split("a#b 0 1#2", buf, sizeof buf, f, &err), 3);
    assert_string_equal(f[0], "a#b");
    assert_string_equal(f[2], "1#2");
}

static void test_blank_lines(void **state)
{
    (void)state;
    char buf[256];
    char *f[TABLE_MAX_FIELDS];
    struct sfs_error err;
    assert_int_equal(split("", buf, sizeof buf, f, &err), 0);
    assert_int_equal(split("\n", buf, sizeof buf, f, &err), 0);
    assert_int_equal(split("   \t  \n", buf, sizeof buf, f, &err), 0);
    assert_int_equal(split("\r\n", buf, sizeof buf, f, &err), 0);
}

static void test_five_fields(void **state)
{
    (void)state;
    char buf[256];
    char *f[TABLE_MAX_FIELDS];
    struct sfs_error err;
    assert_int_equal(split("p1 512 end cow ../disk.img\n", buf, sizeof buf, f, &err), 5);
    assert_string_equal(f[0], "p1");
    assert_string_equal(f[1], "512");
    assert_string_equal(f[2], "end");
    assert_string_equal(f[3], "cow");
    assert_string_equal(f[4], "../disk.img");

    /* A comment after five fields is still a comment. */
    assert_int_equal(split("p1 512 end cow disk.img # sixth?\n", buf, sizeof buf, f, &err), 5);
    assert_string_equal(f[4], "disk.img");
}

static void test_six_fields_refused(void **state)
{
    (void)state;
    char buf[256];
    char *f[TABLE_MAX_FIELDS];
    struct sfs_error err;
    assert_int_equal(split("p1 0 100 ro disk.img extra\n", buf, sizeof buf, f, &err), -1);
    assert_contains(err.msg, "too many fields");
    assert_contains(err.msg, "PATH OFFSET LENGTH [MODE [BACKING]]");

    /* Trailing blanks after five fields are not a sixth. */
    assert_int_equal(split("p1 0 100 ro disk.img \t \n", buf, sizeof buf, f, &err), 5);
}

static void test_escapes(void **state)
{
    (void)state;
    char buf[256];
    char *f[TABLE_MAX_FIELDS];
    struct sfs_error err;
    assert_int_equal(split("a\\ b 0 1", buf, sizeof buf, f, &err), 3);
    assert_string_equal(f[0], "a b");
    assert_string_equal(f[1], "0");

    assert_int_equal(split("line\\none 0 1", buf, sizeof buf, f, &err), 3);
    assert_string_equal(f[0], "line\none");

    assert_int_equal(split("tab\\there 0 1", buf, sizeof buf, f, &err), 3);
    assert_string_equal(f[0], "tab\there");

    assert_int_equal(split("back\\\\slash 0 1", buf, sizeof buf, f, &err), 3);
    assert_string_equal(f[0], "back\\slash");

    assert_int_equal(split("\\#not-a-comment 0 1", buf, sizeof buf, f, &err), 3);
    assert_string_equal(f[0], "#not-a-comment");

    /* Any other escaped character stands for itself. */
    assert_int_equal(split("\\a\\b\\/c 0 1", buf, sizeof buf, f, &err), 3);
    assert_string_equal(f[0], "ab/c");

    /* "\\n" is a backslash and an n, not a newline. */
    assert_int_equal(split("x\\\\n 0 1", buf, sizeof buf, f, &err), 3);
    assert_string_equal(f[0], "x\\n");

    /* Escapes in every field, an escaped blank at a field's end. */
    assert_int_equal(split("a\\  b\\\t c\\# d e\\\\", buf, sizeof buf, f, &err), 5);
    assert_string_equal(f[0], "a ");
    assert_string_equal(f[1], "b\t");
    assert_string_equal(f[2], "c#");
    assert_string_equal(f[3], "d");
    assert_string_equal(f[4], "e\\");
}

static void test_trailing_backslash_refused(void **state)
{
    (void)state;
    char buf[256];
    char *f[TABLE_MAX_FIELDS];
    struct sfs_error err;
    assert_int_equal(split("p1 0 100\\", buf, sizeof buf, f, &err), -1);
    assert_contains(err.msg, "a backslash ends the line");
    assert_int_equal(split("\\", buf, sizeof buf, f, &err), -1);
    assert_contains(err.msg, "a backslash ends the line");
    /* An escaped backslash at the end is fine. */
    assert_int_equal(split("p1 0 100\\\\", buf, sizeof buf, f, &err), 3);
    assert_string_equal(f[2], "100\\");
}

/* table_format_field's output for field, as a malloc'd string. */
static char *format(const char *field)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    table_format_field(out, field);
    assert_int_equal(fclose(out), 0);
    assert_non_null(text);
    return text;
}

static const char *const nasty_names[] = {
    "plain",
    "two words",
    " leading and trailing ",
    "tab\there",
    "new\nline\n",
    "#hash-first",
    "mid#dle#",
    "back\\slash\\",
    "\\n is not a newline",
    "\\",
    "\\\\ \\t",
    "carriage\rreturn\r",
    "dir/sub dir/f\xc3\xbc\xc3\x9f"
    "e \xe2\x9c\x93 \xf0\x9f\x98\x80",
    "all \t\n#\\\r mixed",
};

/* text is one field: no raw tab or newline at all, and every space, '#',
 * backslash and carriage return escaped by a backslash. */
static void assert_one_token(const char *text)
{
    assert_null(strpbrk(text, "\t\n\r"));
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\\') {
            p++;
            if (*p == '\0')
                fail_msg("'%s' ends with a lone backslash", text);
        } else if (*p == ' ' || *p == '#' || *p == '\r') {
            fail_msg("'%s' has an unescaped '%c'", text, *p);
        }
    }
}

static void test_format_field_escapes(void **state)
{
    (void)state;
    char *t = format("a b\tc\nd#e\\f");
    assert_string_equal(t, "a\\ b\\tc\\nd\\#e\\\\f");
    free(t);
    /* A carriage return is written as "\r", so that a line's own CR LF end
     * can be stripped without touching it. */
    t = format("a\rb");
    assert_string_equal(t, "a\\rb");
    free(t);
    t = format("plain/path.img");
    assert_string_equal(t, "plain/path.img");
    free(t);
    t = format("\xc3\xbc");
    assert_string_equal(t, "\xc3\xbc");
    free(t);
}

static void test_format_then_split_round_trips(void **state)
{
    (void)state;
    size_t n = sizeof nasty_names / sizeof nasty_names[0];
    for (size_t i = 0; i < n; i++) {
        const char *name = nasty_names[i];
        char *text = format(name);
        assert_one_token(text);

        /* As the PATH field of a full line, and as the BACKING field. */
        char *line = NULL;
        assert_true(asprintf(&line, "%s 0 end ro %s\n", text, text) > 0);
        char *f[TABLE_MAX_FIELDS] = {0};
        struct sfs_error err = {{0}};
        int count = table_split_line(line, f, &err);
        if (count != 5)
            fail_msg("name %zu ('%s' written as '%s') split into %d fields: %s", i, name, text,
                     count, err.msg);
        assert_string_equal(f[0], name);
        assert_string_equal(f[1], "0");
        assert_string_equal(f[2], "end");
        assert_string_equal(f[3], "ro");
        assert_string_equal(f[4], name);
        free(line);
        free(text);
    }
}

static void test_format_then_split_through_a_file(void **state)
{
    (void)state;
    /* Several formatted names, one per line, read back with fgets from a
     * fmemopen stream as a table reader would. */
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    size_t n = sizeof nasty_names / sizeof nasty_names[0];
    for (size_t i = 0; i < n; i++) {
        table_format_field(out, nasty_names[i]);
        fprintf(out, " %zu 1\n", i);
    }
    assert_int_equal(fclose(out), 0);

    FILE *in = fmemopen(text, size, "r");
    assert_non_null(in);
    char line[512];
    size_t lines = 0;
    while (fgets(line, sizeof line, in) != NULL) {
        char *f[TABLE_MAX_FIELDS] = {0};
        struct sfs_error err = {{0}};
        assert_int_equal(table_split_line(line, f, &err), 3);
        char number[32];
        snprintf(number, sizeof number, "%zu", lines);
        assert_string_equal(f[0], nasty_names[lines]);
        assert_string_equal(f[1], number);
        lines++;
    }
    assert_int_equal(lines, n);
    fclose(in);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_fields),
        cmocka_unit_test(test_tabs_and_runs_of_blanks),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_blank_lines),
        cmocka_unit_test(test_five_fields),
        cmocka_unit_test(test_six_fields_refused),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_trailing_backslash_refused),
        cmocka_unit_test(test_format_field_escapes),
        cmocka_unit_test(test_format_then_split_round_trips),
        cmocka_unit_test(test_format_then_split_through_a_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
