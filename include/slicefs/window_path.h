/* window_path.h - what a window's path inside the mount may look like.
 *
 * A path is one or more '/'-separated components, each non-empty, neither
 * "." nor "..", at most NAME_MAX bytes, with no NUL (so no leading, trailing
 * or doubled '/'). The whole path is at most WINDOW_PATH_MAX bytes.
 */
#ifndef SLICEFS_WINDOW_PATH_H
#define SLICEFS_WINDOW_PATH_H

#include "slicefs/error.h"

#define WINDOW_PATH_MAX 4095

/* Returns 0 when path is acceptable, else -1 with the reason in err. */
int window_path_check(const char *path, struct sfs_error *err);

#endif
