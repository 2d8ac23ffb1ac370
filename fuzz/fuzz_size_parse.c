/* fuzz_size_parse.c - size_parse() on any text, checked against a plain
 * reference reading of SPEC section 2: digits (decimal, or hex after 0x),
 * then nothing or exactly one known suffix, at most 2^63-1. */
#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/size_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference: returns true and the value when text is a valid number. */
static bool reference_parse(const char *text, uint64_t *out)
{
    static const struct {
        const char *name;
        unsigned shift;
    } suffixes[] = {
        {"", 0},   {"s", 9},    {"K", 10}, {"k", 10}, {"KiB", 10}, {"M", 20},
        {"m", 20}, {"MiB", 20}, {"G", 30}, {"g", 30}, {"GiB", 30}, {"T", 40},
        {"t", 40}, {"TiB", 40}, {"P", 50}, {"p", 50}, {"PiB", 50},
    };
    const char *p = text;
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    /* strtoull also takes blanks and signs; refuse them first. */
    if (base == 10 ? !isdigit((unsigned char)*p) : !isxdigit((unsigned char)*p))
        return false;
    unsigned __int128 value = 0;
    for (; base == 10 ? isdigit((unsigned char)*p) : isxdigit((unsigned char)*p); p++) {
        unsigned digit = isdigit((unsigned char)*p)
                             ? (unsigned)(*p - '0')
                             : (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
        value = value * (unsigned)base + digit;
        if (value > SIZE_PARSE_MAX)
            return false;
    }
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (strcmp(p, suffixes[i].name) == 0) {
            value <<= suffixes[i].shift;
            if (value > SIZE_PARSE_MAX)
                return false;
            *out = (uint64_t)value;
            return true;
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    uint64_t value = 0, expected = 0;
    struct sfs_error err = {{0}};
    bool accepted = size_parse(text, &value, &err) == 0;
    bool valid = reference_parse(text, &expected);
    if (accepted != valid || (accepted && value != expected)) {
        fprintf(stderr, "size_parse('%s'): %s %" PRIu64 ", the reference: %s %" PRIu64 "\n", text,
                accepted ? "accepted" : "refused", value, valid ? "valid" : "invalid", expected);
        abort();
    }
    if (!accepted && (err.msg[0] == '\0' || memchr(err.msg, '\0', sizeof err.msg) == NULL)) {
        fprintf(stderr, "size_parse('%s') refused it without a message\n", text);
        abort();
    }
    free(text);
    return 0;
}
