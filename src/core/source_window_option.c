#include <stdio.h>
#include <stdlib.h>

#include "slicefs/window_source.h"

static int add_windows(const char *arg, const struct source_context *ctx,
                       struct window_table *table, struct sfs_error *err)
{
    char *origin;
    if (asprintf(&origin, "window=%s", arg) < 0)
        return sfs_error_set(err, "out of memory");
    struct window_spec spec;
    int res = window_spec_parse(arg, origin, &spec, err);
    free(origin);
    return res < 0 ? -1 : window_table_take(table, &spec, ctx->default_backing, err);
}

const struct window_source source_window_option = {
    .name = "window",
    .add_windows = add_windows,
};
