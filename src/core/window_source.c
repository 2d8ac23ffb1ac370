/* window_source.c - the window sources, found by the name of their option. */
#include "slicefs/window_source.h"

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
