/* window_table.h - the resolved windows of one mount and their backing files.
 *
 * window_table_add() checks a spec against its backing file (opening and
 * identifying the file the first time it is named) and appends the window;
 * window_table_map() then maps each backing file once, as its windows need.
 * Invariant after window_table_map(): every window lies inside its backing
 * file's mapping (offset <= map_len and length <= map_len - offset), and its
 * mode is ro, rw or cow, never the default. From then on the table is
 * read-only and shared by all request threads without a lock.
 */
#ifndef SLICEFS_WINDOW_TABLE_H
#define SLICEFS_WINDOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "slicefs/backing.h"
#include "slicefs/error.h"
#include "slicefs/window_spec.h"

struct window {
    char *path;
    struct backing *backing;
    uint64_t offset;
    uint64_t length;
    bool to_end;           /* declared with LENGTH "end" */
    enum window_mode mode; /* ro, rw or cow */
    char *origin;          /* where it was declared, for messages */
};

struct window_table {
    struct window *windows;
    size_t count;
    size_t capacity;
    struct backing **backings; /* each backing file once, in order of first use */
    size_t backing_count;
    bool read_only;            /* -o ro: every window is ro */
};

void window_table_init(struct window_table *table, bool read_only);

/* Resolves spec (LENGTH "end", the default mode, its backing file, relative
 * to default_backing when spec->backing_path is NULL) and appends it.
 * Refuses a window that does not fit in its backing file, a rw window on a
 * file that cannot be written. Returns 0, or -1 with a message naming
 * spec->origin. */
int window_table_add(struct window_table *table, const struct window_spec *spec,
                     const char *default_backing, struct sfs_error *err);

/* Maps every backing file once. Returns 0 or -1 with a message. */
int window_table_map(struct window_table *table, struct sfs_error *err);

/* The first byte of the window in the mapping that serves it (NULL for an
 * empty backing file). */
unsigned char *window_data(const struct window *w);

/* Prints the table in the window table format (table_format.h), one line
 * per window with every field, so that table= reads it back unchanged. */
void window_table_list(const struct window_table *table, FILE *out);

/* Writes back every shared mapping, unmaps and closes everything. Returns 0
 * or the first negative errno of the final write-back. */
int window_table_close(struct window_table *table);

#endif
