/* fuse_ops.h - the FUSE low-level operations: translation only.
 *
 * Every operation looks the inode up in the path tree, calls into the core,
 * and replies exactly once. The read and write paths take no lock and
 * allocate nothing: reads reply with an iovec into the mapping, writes copy
 * the request (or splice it from the pipe) straight into the mapping.
 */
#ifndef SLICEFS_FUSE_OPS_H
#define SLICEFS_FUSE_OPS_H

#include <sys/types.h>
#include <time.h>

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include "slicefs/path_tree.h"
#include "slicefs/window_table.h"

struct slicefs_fs {
    struct window_table table;
    struct path_tree tree;
    struct fuse_session *session; /* set before the loop starts; for notifications */
    uid_t uid;                    /* owner of the directories */
    gid_t gid;
    struct timespec started;      /* times of the directories */
};

extern const struct fuse_lowlevel_ops slicefs_ops;

#endif
