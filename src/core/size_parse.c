#include "slicefs/size_parse.h"

#include <string.h>

struct suffix {
    const char *name;
    unsigned shift;
};

/* Longest names first is not needed: we compare whole remaining strings. */
static const struct suffix suffixes[] = {
    {"s", 9},    {"K", 10}, {"k", 10}, {"KiB", 10}, {"M", 20}, {"m", 20},
    {"MiB", 20}, {"G", 30}, {"g", 30}, {"GiB", 30}, {"T", 40}, {"t", 40},
    {"TiB", 40}, {"P", 50}, {"p", 50}, {"PiB", 50},
};

static int digit_value(char c, unsigned base)
{
    int v;
    if (c >= '0' && c <= '9')
        v = c - '0';
    else if (c >= 'a' && c <= 'f')
        v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        v = c - 'A' + 10;
    else
        return -1;
    return (unsigned)v < base ? v : -1;
}

int size_parse(const char *text, uint64_t *out, struct sfs_error *err)
{
    const char *p = text;
    unsigned base = 10;

    if (*p == '\0')
        return sfs_error_set(err, "empty number");
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    const char *digits = p;
    uint64_t value = 0;
    for (; digit_value(*p, base) >= 0; p++) {
        uint64_t d = (uint64_t)digit_value(*p, base);
        if (value > (SIZE_PARSE_MAX - d) / base)
            return sfs_error_set(err, "'%s' is too large (the limit is 2^63-1)", text);
        value = value * base + d;
    }
    if (p == digits)
        return sfs_error_set(err, "'%s' is not a number", text);

    if (*p != '\0') {
        unsigned shift = 0;
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
            if (strcmp(p, suffixes[i].name) == 0) {
                shift = suffixes[i].shift;
                break;
            }
        }
        if (shift == 0)
            return sfs_error_set(err,
                                 "'%s' has an unknown suffix '%s' (use K, M, G, T, P, KiB..PiB "
                                 "or s for 512-byte sectors)",
                                 text, p);
        if (value > (SIZE_PARSE_MAX >> shift))
            return sfs_error_set(err, "'%s' is too large (the limit is 2^63-1)", text);
        value <<= shift;
    }
    *out = value;
    return 0;
}
