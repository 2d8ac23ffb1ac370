/* source_layout.c - layout=chunks:SIZE, layout=partitions and
 * layout=archive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/size_parse.h"
#include "slicefs/window_source.h"

/* The whole default backing file, cut into SIZE-byte chunks, computed. */
static int add_chunks(const char *size_text, const char *origin, const struct source_context *ctx,
                      struct window_table *table, struct sfs_error *err)
{
    uint64_t chunk_size;
    if (size_parse(size_text, &chunk_size, err) < 0)
        return sfs_error_prefix(err, "%s: SIZE", origin);
    struct window_spec spec;
    if (window_spec_from_fields("chunks", "0", "end", NULL, NULL, origin, &spec, err) < 0)
        return -1;
    int res = window_table_add_chunks(table, &spec, chunk_size, ctx->default_backing, err);
    window_spec_free(&spec);
    return res;
}

static int add_windows(const char *arg, const struct source_context *ctx,
                       struct window_table *table, struct sfs_error *err)
{
    char *origin;
    if (asprintf(&origin, "layout=%s", arg) < 0)
        return sfs_error_set(err, "out of memory");
    int res;
    if (strncmp(arg, "chunks:", strlen("chunks:")) == 0)
        res = add_chunks(arg + strlen("chunks:"), origin, ctx, table, err);
    else if (strcmp(arg, "partitions") == 0)
        res = source_partitions_add(origin, ctx, table, err);
    else if (strcmp(arg, "archive") == 0)
        res = source_archive_add(origin, ctx, table, err);
    else
        res = sfs_error_set(err, "%s: unknown layout '%s' (use chunks:SIZE, partitions or archive)",
                            origin, arg);
    free(origin);
    return res;
}

const struct window_source source_layout = {
    .name = "layout",
    .add_windows = add_windows,
};
