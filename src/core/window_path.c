#include "slicefs/window_path.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

/* Paths longer than this are quoted in messages as "..." and the bad
 * component alone, so that the reason fits in the message. */
enum { QUOTE_WHOLE_MAX = 300 };

int window_path_check(const char *path, struct sfs_error *err)
{
    size_t total = strlen(path);
    if (total == 0)
        return sfs_error_set(err, "empty path");
    if (total > WINDOW_PATH_MAX)
        return sfs_error_set(err, "path is %zu bytes long (the limit is %d)", total,
                             WINDOW_PATH_MAX);

    bool whole = total <= QUOTE_WHOLE_MAX;
    const char *component = path;
    for (;;) {
        size_t len = strcspn(component, "/");
        /* What the message quotes: the path, or "..." and this component. */
        const char *lead = whole ? "" : "...";
        const char *quoted = whole ? path : component;
        int quoted_len = (int)(whole ? total : len);
        if (len == 0)
            return sfs_error_set(err, "'%s%.*s' has an empty path component", lead, quoted_len,
                                 quoted);
        if ((len == 1 && component[0] == '.') ||
            (len == 2 && component[0] == '.' && component[1] == '.'))
            return sfs_error_set(err, "'%s%.*s' has a '%.*s' path component", lead, quoted_len,
                                 quoted, (int)len, component);
        if (len > NAME_MAX)
            return sfs_error_set(err, "'%s%.*s' has a component of %zu bytes (the limit is %d)",
                                 lead, quoted_len, quoted, len, NAME_MAX);
        if (component[len] == '\0')
            return 0;
        component += len + 1;
    }
}
