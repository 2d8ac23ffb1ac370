/* source_table.c - table=FILE: one window per line of a window table;
 * consecutive lines with the same PATH are the extents of one window. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/table_format.h"
#include "slicefs/window_source.h"

/* BACKING as written in the table, relative to the table's folder. */
static char *resolve_backing(const char *table_path, const char *backing)
{
    char *joined;
    const char *slash = strrchr(table_path, '/');
    if (backing[0] == '/' || slash == NULL)
        return strdup(backing);
    if (asprintf(&joined, "%.*s/%s", (int)(slash - table_path), table_path, backing) < 0)
        return NULL;
    return joined;
}

/* Adds the window (or, when its PATH is *previous, the extent) that line
 * declares; *previous becomes its PATH. */
static int add_line(const char *table_path, char *line, const char *origin,
                    const struct source_context *ctx, struct window_table *table, char **previous,
                    struct sfs_error *err)
{
    static const char *const names[] = {"PATH", "OFFSET", "LENGTH"};
    char *fields[TABLE_MAX_FIELDS] = {0};
    int count = table_split_line(line, fields, err);
    if (count < 0)
        return sfs_error_prefix(err, "%s", origin);
    if (count == 0)
        return 0;
    if (count < 3)
        return sfs_error_set(err,
                             "%s: %s: missing (the form is PATH OFFSET LENGTH "
                             "[MODE [BACKING]])",
                             origin, names[count]);
    char *backing = NULL;
    if (count == 5 && (backing = resolve_backing(table_path, fields[4])) == NULL)
        return sfs_error_set(err, "%s: out of memory", origin);

    struct window_spec spec;
    int res = window_spec_from_fields(fields[0], fields[1], fields[2], fields[3], backing, origin,
                                      &spec, err);
    free(backing);
    if (res < 0)
        return -1;
    if (*previous != NULL && strcmp(*previous, spec.path) == 0) {
        res = window_table_extend(table, &spec, ctx->default_backing, err);
        window_spec_free(&spec);
        return res;
    }
    free(*previous);
    *previous = strdup(spec.path);
    if (*previous == NULL) {
        window_spec_free(&spec);
        return sfs_error_set(err, "%s: out of memory", origin);
    }
    return window_table_take(table, &spec, ctx->default_backing, err);
}

static int add_windows(const char *arg, const struct source_context *ctx,
                       struct window_table *table, struct sfs_error *err)
{
    FILE *file = fopen(arg, "re");
    if (file == NULL)
        return sfs_error_set(err, "table=%s: %s", arg, strerror(errno));

    int res = 0;
    char *line = NULL, *previous = NULL;
    size_t capacity = 0;
    ssize_t len;
    for (unsigned long number = 1; res == 0 && (len = getline(&line, &capacity, file)) >= 0;
         number++) {
        char origin[PATH_MAX + 32];
        snprintf(origin, sizeof origin, "%s:%lu", arg, number);
        if (strlen(line) != (size_t)len) {
            res = sfs_error_set(err, "%s: the line holds a NUL byte", origin);
            continue;
        }
        /* The line's end is not part of its last field (a final backslash
         * must not escape it). */
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        res = add_line(arg, line, origin, ctx, table, &previous, err);
    }
    if (res == 0 && ferror(file))
        res = sfs_error_set(err, "table=%s: %s", arg, strerror(errno));
    free(line);
    free(previous);
    fclose(file);
    return res;
}

const struct window_source source_table = {
    .name = "table",
    .add_windows = add_windows,
};
