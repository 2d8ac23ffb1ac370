/* ops_common.c - helpers every operation file uses. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ops.h"
#include "slicefs/guarded_access.h"

double attr_timeout(const struct slicefs_fs *fs, const struct stat *st)
{
    if (S_ISDIR(st->st_mode))
        return ENTRY_TIMEOUT;
    switch (fs->cache) {
    case CACHE_ALWAYS:
        return ATTR_TIMEOUT_ALWAYS;
    case CACHE_NEVER:
        return ATTR_TIMEOUT_NEVER;
    default:
        return ATTR_TIMEOUT_AUTO;
    }
}

static void invalidate_range(void *arg, uint64_t ino, uint64_t offset, uint64_t length)
{
    struct slicefs_fs *fs = arg;
    fuse_lowlevel_notify_inval_inode(fs->session, ino, (off_t)offset, (off_t)length);
}

/* Drops the kernel's cached pages of every other window that shows bytes
 * [offset, offset + length) of w, which a request just changed, so that
 * reads and client mappings of overlapping windows see the change at once.
 * Called before the reply: the kernel holds locks only on the writer's own
 * inode, never on another window's. In single-threaded mode an
 * invalidation could wait for a write-back request that only this thread
 * could serve, so overlapping windows are left to their attribute timeout. */
void invalidate_overlaps(struct slicefs_fs *fs, fuse_ino_t ino, const struct window *w,
                         uint64_t offset, uint64_t length)
{
    if (fs->single_thread || fs->cache == CACHE_NEVER)
        return;
    overlap_index_visit(&fs->overlaps, w->backing, w->mode == WINDOW_MODE_COW, w->offset + offset,
                        length, ino, invalidate_range, fs);
}

/* The window behind ino, computed into *entry if need be; or NULL, and
 * *error says why. */
const struct window *window_of(fuse_req_t req, fuse_ino_t ino, struct tree_entry *entry, int *error)
{
    *error = 0;
    if (!path_tree_resolve(&fs_of(req)->tree, ino, entry)) {
        *error = ENOENT;
        return NULL;
    }
    if (entry->window == NULL)
        *error = EISDIR;
    return entry->window;
}

bool caller_may(fuse_req_t req, const struct shown_attr *attr, int want)
{
    const struct fuse_ctx *ctx = fuse_req_ctx(req);
    struct caller caller = {ctx->uid, ctx->gid, NULL, 0};
    bool groups_matter = ctx->uid != 0 && ctx->uid != attr->uid && ctx->gid != attr->gid &&
                         ((attr->mode >> 3) & 7) != (attr->mode & 7);
    if (!groups_matter)
        return permission_allows(&caller, attr, want);
    /* A caller that is gone has no groups: the other bits decide. One with
     * more groups than the stack holds gets them all from the heap. */
    gid_t stack_groups[64], *groups = stack_groups;
    int count = fuse_req_getgroups(req, 64, groups);
    if (count > 64) {
        groups = malloc((size_t)count * sizeof *groups);
        if (groups == NULL)
            return false;
        int again = fuse_req_getgroups(req, count, groups);
        count = again < count ? again : count;
    }
    caller.groups = groups;
    caller.group_count = count < 0 ? 0 : (size_t)count;
    bool allowed = permission_allows(&caller, attr, want);
    if (groups != stack_groups)
        free(groups);
    return allowed;
}

bool caller_owns(fuse_req_t req, const struct shown_attr *attr)
{
    const struct fuse_ctx *ctx = fuse_req_ctx(req);
    struct caller caller = {ctx->uid, ctx->gid, NULL, 0};
    return permission_owns(&caller, attr);
}

/* Makes a growable window at least end bytes long (growing its backing
 * file); a fixed window is left as it is. Returns 0 or a negative errno. */
int make_room(const struct window *w, uint64_t end)
{
    if (!window_growable(w) || end <= window_length(w))
        return 0;
    if (end > UINT64_MAX - w->offset)
        return -EFBIG;
    return backing_resize(w->backing, w->offset + end, true);
}
