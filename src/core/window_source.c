/* window_source.c - the window sources, found by the name of their option. */
#include "slicefs/window_source.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Every source an option selects: a new source is one file and one line. */
static const struct window_source *const sources[] = {
    &source_window_option,
    &source_table,
    &source_layout,
};

const struct window_source *window_source_for_option(const char *option, const char **value)
{
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        size_t len = strlen(sources[i]->name);
        if (strncmp(option, sources[i]->name, len) == 0 && option[len] == '=') {
            *value = option + len + 1;
            return sources[i];
        }
    }
    return NULL;
}

void source_warn(const struct source_context *ctx, const char *origin, const char *fmt, ...)
{
    if (ctx->warn == NULL)
        return;
    char text[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char message[1024];
    snprintf(message, sizeof message, "%s: %s", origin, text);
    ctx->warn(message);
}
