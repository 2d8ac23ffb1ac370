/* window_spec.h - one declared window, parsed but not yet checked against
 * its backing file.
 *
 * Sources (the window= option, the whole-file default, later tables, chunks
 * and partitions) produce specs; window_table_add() resolves them.
 */
#ifndef SLICEFS_WINDOW_SPEC_H
#define SLICEFS_WINDOW_SPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "slicefs/error.h"

enum window_mode {
    WINDOW_MODE_DEFAULT, /* rw where the backing file is writable, else ro */
    WINDOW_MODE_RO,
    WINDOW_MODE_RW,
    WINDOW_MODE_COW,
};

/* What truncating a fixed window below its length does (SPEC section 4). */
enum window_truncate {
    WINDOW_TRUNCATE_DEFAULT, /* the mount's -o truncate=, else zero */
    WINDOW_TRUNCATE_ZERO,    /* the bytes past the new size read back as zeros */
    WINDOW_TRUNCATE_IGNORE,  /* accepted, changes nothing (a block device) */
};

struct window_spec {
    char *path;         /* path inside the mount, checked by window_path_check */
    char *backing_path; /* NULL: the command line's BACKING */
    uint64_t offset;
    uint64_t length; /* meaningless when to_end */
    bool to_end;     /* LENGTH was "end" */
    bool hole;       /* OFFSET was "hole": LENGTH bytes of zeros, no backing bytes */
    enum window_mode mode;
    enum window_truncate truncate;
    char *origin; /* where it was declared, for messages: "window=...", "FILE:LINE" */
};

/* "ro", "rw", "cow" for a mode; "rw" for the default. */
const char *window_mode_name(enum window_mode mode);

/* Parses a mode name. Returns 0, or -1 with a message in err. */
int window_mode_parse(const char *text, enum window_mode *out, struct sfs_error *err);

/* "zero" or "ignore" ("zero" for the default). */
const char *window_truncate_name(enum window_truncate truncate);

/* Parses "zero" or "ignore". Returns 0, or -1 with a message in err. */
int window_truncate_parse(const char *text, enum window_truncate *out, struct sfs_error *err);

/* Parses a MODE field: comma-separated words, at most one mode name (ro,
 * rw, cow) and at most one truncate=zero|ignore, e.g. "rw,truncate=ignore"
 * or "truncate=ignore" (the default mode). What is not given is left as
 * the default. Returns 0, or -1 with a message in err. */
int window_mode_field_parse(const char *text, enum window_mode *mode,
                            enum window_truncate *truncate, struct sfs_error *err);

/* Writes the MODE field that window_mode_field_parse reads back: the mode,
 * and ",truncate=ignore" when truncate is ignore. */
void window_mode_field_format(enum window_mode mode, enum window_truncate truncate, FILE *out);

/* Parses the value of a window= option, "PATH:OFFSET:LENGTH[:MODE]", into
 * *out (owned strings; free with window_spec_free). PATH ends at the first
 * ':'; a path containing ':' must come from a window table. origin is stored
 * for later messages. On failure returns -1; err names the field. */
int window_spec_parse(const char *text, const char *origin, struct window_spec *out,
                      struct sfs_error *err);

/* Fills *out from already separated fields (shared by every source).
 * offset_text may be "hole" (then length_text may not be "end"),
 * length_text "end"; mode_text may be NULL. Returns 0 or -1. */
int window_spec_from_fields(const char *path, const char *offset_text, const char *length_text,
                            const char *mode_text, const char *backing_path, const char *origin,
                            struct window_spec *out, struct sfs_error *err);

void window_spec_free(struct window_spec *spec);

#endif
