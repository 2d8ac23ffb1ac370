/* mount_table.h - what the kernel's table of mounts says of a mount point
 * (read from /proc/self/mountinfo, never by a stat: a stat of this very
 * mount would ask this daemon). Paths are absolute and symlink-free. */
#ifndef SLICEFS_MOUNT_TABLE_H
#define SLICEFS_MOUNT_TABLE_H

#include <stdbool.h>
#include <sys/types.h>

/* Whether the mount on top at path is a FUSE file system. */
bool mount_table_is_fuse(const char *path);

/* The device number of the mount on top at path, or 0 when none is. */
dev_t mount_table_device(const char *path);

#endif
