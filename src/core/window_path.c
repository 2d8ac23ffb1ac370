#include "slicefs/window_path.h"

#include <limits.h>
#include <string.h>

int window_path_check(const char *path, struct sfs_error *err)
{
    size_t total = strlen(path);
    if (total == 0)
        return sfs_error_set(err, "empty path");
    if (total > WINDOW_PATH_MAX)
        return sfs_error_set(err, "path is %zu bytes long (the limit is %d)", total,
                             WINDOW_PATH_MAX);

    const char *component = path;
    for (;;) {
        size_t len = strcspn(component, "/");
        if (len == 0)
            return sfs_error_set(err, "'%s' has an empty path component", path);
        if ((len == 1 && component[0] == '.') ||
            (len == 2 && component[0] == '.' && component[1] == '.'))
            return sfs_error_set(err, "'%s' has a '%.*s' path component", path, (int)len,
                                 component);
        if (len > NAME_MAX)
            return sfs_error_set(err, "'%s' has a component of %zu bytes (the limit is %d)",
                                 path, len, NAME_MAX);
        if (component[len] == '\0')
            return 0;
        component += len + 1;
    }
}
