#include "slicefs/window_spec.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/size_parse.h"
#include "slicefs/window_path.h"

static const char *const mode_names[] = {
    [WINDOW_MODE_DEFAULT] = "rw",
    [WINDOW_MODE_RO] = "ro",
    [WINDOW_MODE_RW] = "rw",
    [WINDOW_MODE_COW] = "cow",
};

const char *window_mode_name(enum window_mode mode)
{
    return mode_names[mode];
}

/* The index in [first, last] of text in names, or -1. */
static int find_name(const char *const names[], int first, int last, const char *text)
{
    for (int i = first; i <= last; i++)
        if (strcmp(text, names[i]) == 0)
            return i;
    return -1;
}

int window_mode_parse(const char *text, enum window_mode *out, struct sfs_error *err)
{
    int m = find_name(mode_names, WINDOW_MODE_RO, WINDOW_MODE_COW, text);
    if (m < 0)
        return sfs_error_set(err, "'%s' is not a mode (use ro, rw or cow)", text);
    *out = (enum window_mode)m;
    return 0;
}

static const char *const truncate_names[] = {
    [WINDOW_TRUNCATE_DEFAULT] = "zero",
    [WINDOW_TRUNCATE_ZERO] = "zero",
    [WINDOW_TRUNCATE_IGNORE] = "ignore",
};

const char *window_truncate_name(enum window_truncate truncate)
{
    return truncate_names[truncate];
}

int window_truncate_parse(const char *text, enum window_truncate *out, struct sfs_error *err)
{
    int t = find_name(truncate_names, WINDOW_TRUNCATE_ZERO, WINDOW_TRUNCATE_IGNORE, text);
    if (t < 0)
        return sfs_error_set(err, "'%s' is not a truncate mode (use zero or ignore)", text);
    *out = (enum window_truncate)t;
    return 0;
}

#define TRUNCATE_KEY "truncate="

int window_mode_field_parse(const char *text, enum window_mode *mode,
                            enum window_truncate *truncate, struct sfs_error *err)
{
    *mode = WINDOW_MODE_DEFAULT;
    *truncate = WINDOW_TRUNCATE_DEFAULT;
    bool mode_seen = false, truncate_seen = false;
    const char *word = text;
    for (;;) {
        size_t len = strcspn(word, ",");
        char buf[32];
        if (len >= sizeof buf)
            return sfs_error_set(err,
                                 "'%.*s' is not a mode (use ro, rw or cow, and "
                                 "truncate=zero or truncate=ignore)",
                                 (int)(len < 64 ? len : 64), word);
        memcpy(buf, word, len);
        buf[len] = '\0';
        if (strncmp(buf, TRUNCATE_KEY, strlen(TRUNCATE_KEY)) == 0) {
            if (truncate_seen)
                return sfs_error_set(err, "'%s': truncate= given twice", text);
            truncate_seen = true;
            if (window_truncate_parse(buf + strlen(TRUNCATE_KEY), truncate, err) < 0)
                return -1;
        } else {
            if (mode_seen)
                return sfs_error_set(err, "'%s': two modes", text);
            mode_seen = true;
            if (window_mode_parse(buf, mode, err) < 0)
                return -1;
        }
        if (word[len] == '\0')
            return 0;
        word += len + 1;
    }
}

void window_mode_field_format(enum window_mode mode, enum window_truncate truncate, FILE *out)
{
    fputs(window_mode_name(mode), out);
    if (truncate == WINDOW_TRUNCATE_IGNORE)
        fprintf(out, "," TRUNCATE_KEY "%s", window_truncate_name(truncate));
}

void window_spec_free(struct window_spec *spec)
{
    free(spec->path);
    free(spec->backing_path);
    free(spec->origin);
    memset(spec, 0, sizeof *spec);
}

int window_spec_from_fields(const char *path, const char *offset_text, const char *length_text,
                            const char *mode_text, const char *backing_path, const char *origin,
                            struct window_spec *out, struct sfs_error *err)
{
    struct window_spec spec = {.mode = WINDOW_MODE_DEFAULT};

    if (window_path_check(path, err) < 0)
        return sfs_error_prefix(err, "%s: PATH", origin);
    if (strcmp(offset_text, "hole") == 0)
        spec.hole = true;
    else if (size_parse(offset_text, &spec.offset, err) < 0)
        return sfs_error_prefix(err, "%s: OFFSET", origin);
    if (strcmp(length_text, "end") == 0 && spec.hole)
        return sfs_error_set(err, "%s: LENGTH: a hole cannot be \"end\" long", origin);
    if (strcmp(length_text, "end") == 0)
        spec.to_end = true;
    else if (size_parse(length_text, &spec.length, err) < 0)
        return sfs_error_prefix(err, "%s: LENGTH", origin);
    if (!spec.to_end && spec.length > SIZE_PARSE_MAX - spec.offset)
        return sfs_error_set(err, "%s: LENGTH: offset %llu + length %llu overflows 2^63-1", origin,
                             (unsigned long long)spec.offset, (unsigned long long)spec.length);
    if (mode_text != NULL &&
        window_mode_field_parse(mode_text, &spec.mode, &spec.truncate, err) < 0)
        return sfs_error_prefix(err, "%s: MODE", origin);

    spec.path = strdup(path);
    spec.origin = strdup(origin);
    spec.backing_path = backing_path ? strdup(backing_path) : NULL;
    if (spec.path == NULL || spec.origin == NULL || (backing_path && !spec.backing_path)) {
        window_spec_free(&spec);
        return sfs_error_set(err, "%s: out of memory", origin);
    }
    *out = spec;
    return 0;
}

int window_spec_parse(const char *text, const char *origin, struct window_spec *out,
                      struct sfs_error *err)
{
    enum { MAX_FIELDS = 4 };
    const char *names[MAX_FIELDS] = {"PATH", "OFFSET", "LENGTH", "MODE"};
    char *copy = strdup(text);
    if (copy == NULL)
        return sfs_error_set(err, "%s: out of memory", origin);

    char *fields[MAX_FIELDS] = {0};
    int count = 0;
    char *rest = copy;
    while (rest != NULL) {
        if (count == MAX_FIELDS) {
            free(copy);
            return sfs_error_set(
                err, "%s: too many ':' fields (the form is PATH:OFFSET:LENGTH[:MODE])", origin);
        }
        fields[count++] = rest;
        char *colon = strchr(rest, ':');
        if (colon != NULL)
            *colon++ = '\0';
        rest = colon;
    }
    if (count < 3) {
        free(copy);
        return sfs_error_set(err, "%s: %s: missing (the form is PATH:OFFSET:LENGTH[:MODE])", origin,
                             names[count]);
    }
    int res =
        window_spec_from_fields(fields[0], fields[1], fields[2], fields[3], NULL, origin, out, err);
    free(copy);
    return res;
}
