/* window_source.h - the one interface every way of declaring windows uses.
 *
 * A source turns one user declaration (the value of its option, or NULL for
 * sources that take none) into windows appended to the table. Sources know
 * nothing of each other; the front end runs them in command-line order and
 * the path tree then refuses names that collide. Adding a source means one
 * new file with one `const struct window_source` and one line in the list
 * in window_source.c, which the front end searches by option name.
 */
#ifndef SLICEFS_WINDOW_SOURCE_H
#define SLICEFS_WINDOW_SOURCE_H

#include "slicefs/error.h"
#include "slicefs/window_table.h"

struct source_context {
    const char *default_backing; /* the command line's BACKING, or NULL */
    unsigned sector_size;        /* sectorsize=, or 0: as the partition table says */
    /* Reports an entry a source skips (one line, no newline), or NULL. */
    void (*warn)(const char *message);
    /* Where a source that found nothing to declare says why (layout=
     * partitions on a file without a partition table), or NULL: the front
     * end refuses a mount with no window at all and this message. */
    struct sfs_error *found_nothing;
};

struct window_source {
    const char *name; /* the option that selects it, e.g. "window" */
    /* Appends the windows that arg declares. Returns 0, or -1 with a
     * message that names the option and the field. */
    int (*add_windows)(const char *arg, const struct source_context *ctx,
                       struct window_table *table, struct sfs_error *err);
};

/* Reports through ctx->warn (if any) an entry that source origin skips:
 * "ORIGIN: " and the formatted text. */
void source_warn(const struct source_context *ctx, const char *origin, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The source whose option option ("NAME=VALUE") is, with *value pointing
 * at VALUE; NULL when no source has that name. */
const struct window_source *window_source_for_option(const char *option, const char **value);

/* window=PATH:OFFSET:LENGTH[:MODE] - one window per option. */
extern const struct window_source source_window_option;

/* table=FILE - one window per line of a window table (table_format.h);
 * BACKING fields are relative to the table's folder. */
extern const struct window_source source_table;

/* layout=chunks:SIZE - the default backing file in SIZE-byte chunks named
 * 00000000, 00000001, ... (computed, no memory per chunk);
 * layout=partitions - one window per partition of the default backing file. */
extern const struct window_source source_layout;

/* The partitions of the default backing file as windows p1, p2, ... (numbered
 * as the kernel and partx number them), origin naming the option. */
int source_partitions_add(const char *origin, const struct source_context *ctx,
                          struct window_table *table, struct sfs_error *err);

/* layout=archive: the members of the default backing file, an uncompressed
 * tar archive, a zip archive's stored members or an ISO 9660 image's
 * files, as windows (and symbolic links) at their paths;
 * what cannot be served is warned of through ctx->warn and skipped. */
int source_archive_add(const char *origin, const struct source_context *ctx,
                       struct window_table *table, struct sfs_error *err);

/* No window source given: the whole backing file, named after its base name. */
extern const struct window_source source_whole_file;

#endif
