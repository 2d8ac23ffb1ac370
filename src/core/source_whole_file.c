#include <stdlib.h>
#include <string.h>

#include "slicefs/window_source.h"

static int add_windows(const char *arg, const struct source_context *ctx,
                       struct window_table *table, struct sfs_error *err)
{
    (void)arg;
    if (ctx->default_backing == NULL)
        return sfs_error_set(err, "no BACKING file and no window source given");

    /* The base name of BACKING, ignoring trailing slashes. */
    char *copy = strdup(ctx->default_backing);
    if (copy == NULL)
        return sfs_error_set(err, "out of memory");
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    const char *slash = strrchr(copy, '/');
    const char *name = slash ? slash + 1 : copy;

    struct window_spec spec;
    int res =
        window_spec_from_fields(name, "0", "end", NULL, NULL, ctx->default_backing, &spec, err);
    if (res == 0)
        res = window_table_take(table, &spec, ctx->default_backing, err);
    free(copy);
    return res;
}

const struct window_source source_whole_file = {
    .name = "(whole file)",
    .add_windows = add_windows,
};
