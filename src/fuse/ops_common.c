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

#include "log.h"
#include "ops.h"
#include "slicefs/guarded_access.h"
#include "slicefs/window_io.h"

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

/* Once the session is ending no request is served any more, so an
 * invalidation that waits for a page a reader holds (its READ unanswered)
 * would never return: none is sent then. */
static void invalidate_range(void *arg, uint64_t ino, uint64_t offset, uint64_t length)
{
    struct slicefs_fs *fs = arg;
    if (!fuse_session_exited(fs->session))
        fuse_lowlevel_notify_inval_inode(fs->session, ino, (off_t)offset, (off_t)length);
}

/* overlap_index_visit for bytes [offset, offset + length) of w, extent by
 * extent (a hole shows no backing bytes). */
static void visit_overlaps(struct slicefs_fs *fs, fuse_ino_t ino, const struct window *w,
                           uint64_t offset, uint64_t length, overlap_fn *fn, void *arg)
{
    bool cow = w->mode == WINDOW_MODE_COW;
    if (w->extents == NULL)
        return overlap_index_visit(&live_set(fs)->overlaps, w->backing, cow, w->offset + offset,
                                   length, ino, fn, arg);
    uint64_t end = window_length(w);
    if (offset >= end)
        return;
    end = length < end - offset ? offset + length : end;
    for (uint64_t at = offset; at < end;) {
        struct wio_piece p;
        wio_piece(w, at, end - at, &p);
        if (!p.hole)
            overlap_index_visit(&live_set(fs)->overlaps, p.backing, cow, p.backing_off, p.count,
                                ino, fn, arg);
        at += p.count;
    }
}

struct change_visit {
    struct slicefs_fs *fs;
    bool invalidate;
};

static void changed_one(void *arg, uint64_t ino, uint64_t offset, uint64_t length)
{
    struct change_visit *v = arg;
    struct tree_entry entry;
    if (window_times_on(&v->fs->times) && path_tree_resolve(&live_set(v->fs)->tree, ino, &entry) &&
        entry.window != NULL)
        window_times_changed(&v->fs->times, entry.window);
    if (v->invalidate)
        invalidate_range(v->fs, ino, offset, length);
}

/* Calls fn on each backing file of w that the mount may change (none for
 * a cow window); an extent's file once per run of extents in it. */
static void each_backing(const struct window *w, void (*fn)(struct backing *b))
{
    if (w->mode == WINDOW_MODE_COW)
        return;
    if (w->backing != NULL)
        fn(w->backing);
    for (uint32_t k = 1; k < w->extent_count; k++)
        if (w->extents[k].backing != NULL && w->extents[k].backing != w->extents[k - 1].backing &&
            w->extents[k].backing != w->backing)
            fn(w->extents[k].backing);
}

void changes_begin(const struct window *w)
{
    each_backing(w, backing_change_begin);
}

void changes_end(const struct window *w)
{
    each_backing(w, backing_change_end);
}

void bytes_changed(struct slicefs_fs *fs, fuse_ino_t ino, const struct window *w, uint64_t offset,
                   uint64_t length)
{
    window_times_changed(&fs->times, w);
    /* The other windows over these bytes drop their cached pages, so that
     * reads and client mappings see the change at once; before the reply,
     * as the kernel holds locks only on the writer's own inode. Not in
     * single-threaded mode (an invalidation could wait for a write-back
     * request only this thread could serve: overlapping windows are left to
     * their attribute timeout), nor with cache=never (no pages). */
    struct change_visit v = {fs, !fs->single_thread && fs->cache != CACHE_NEVER};
    if (v.invalidate || window_times_on(&fs->times))
        visit_overlaps(fs, ino, w, offset, length, changed_one, &v);
}

struct rescan_visit {
    struct slicefs_fs *fs;
    fuse_ino_t self;
    bool self_changed;
};

/* A window a rescan found changed: the kernel forgets its attributes (its
 * times) and, with cache=auto, its pages. Not the requester's own inode
 * (its attributes are in the reply being made) and never in single-thread
 * mode (an invalidation could wait for this very thread). */
static void forget_rescanned(struct rescan_visit *v, uint64_t ino)
{
    struct slicefs_fs *fs = v->fs;
    if (ino == v->self)
        v->self_changed = true;
    else if (!fs->single_thread && !fuse_session_exited(fs->session))
        fuse_lowlevel_notify_inval_inode(fs->session, ino, fs->cache == CACHE_AUTO ? 0 : -1, 0);
}

static void rescanned_one(void *arg, bool rule, uint64_t index)
{
    struct rescan_visit *v = arg;
    /* index counts in the table the mount began with (window_times.h). */
    const struct path_tree *began = &v->fs->tree;
    forget_rescanned(v,
                     rule ? path_tree_rule_ino(began, index) : path_tree_window_ino(began, index));
}

/* The windows added or resized while mounted are not those the rescan
 * digested (window_times.h): each of b's counts as changed. */
static uint64_t reshaped_changed(struct rescan_visit *v, const struct backing *b)
{
    const struct window_set *set = live_set(v->fs);
    uint64_t changed = 0;
    for (size_t i = 0; i < set->table.count; i++) {
        const struct window *w = &set->table.windows[i];
        if (!w->reshaped || w->backing != b)
            continue;
        window_times_changed(&v->fs->times, w);
        forget_rescanned(v, path_tree_window_ino(&set->tree, i));
        changed++;
    }
    return changed;
}

bool outside_change(struct slicefs_fs *fs, fuse_ino_t ino, const struct window *w,
                    const struct stat *st)
{
    if (!backing_changed_outside(w->backing, st)) {
        window_times_wait_rescan(&fs->times, w->backing);
        return false;
    }
    if (window_times_on(&fs->times)) {
        struct rescan_visit v = {fs, ino, false};
        uint64_t changed = window_times_rescan(&fs->times, w->backing, rescanned_one, &v);
        changed += reshaped_changed(&v, w->backing);
        log_msg(LOG_INFO, "backing file %s changed outside the mount: %llu window(s) changed",
                w->backing->real_path, (unsigned long long)changed);
        return v.self_changed;
    }
    if (fs->cache == CACHE_AUTO && !fs->single_thread)
        overlap_index_visit(&live_set(fs)->overlaps, w->backing, false, 0, UINT64_MAX, ino,
                            invalidate_range, fs);
    return true;
}

struct window_set *set_for(struct slicefs_fs *fs, fuse_ino_t ino, const struct fuse_file_info *fi,
                           struct tree_entry *entry)
{
    struct window_set *set = live_set(fs), *opened = handle_set(fi);
    if (path_tree_resolve(&set->tree, ino, entry))
        return set;
    if (opened != NULL && path_tree_resolve(&opened->tree, ino, entry))
        return opened;
    /* An inode only a removed window's handles still show (fstat and
     * fgetxattr come without the handle): the newest set that has it. */
    struct window_set *held = window_set_list_find(&fs->sets, ino, set);
    return held != NULL && path_tree_resolve(&held->tree, ino, entry) ? held : NULL;
}

const struct window *window_in(const struct tree_entry *entry, bool found, int *error)
{
    *error = !found ? ENOENT : entry->window == NULL ? EISDIR : 0;
    return found ? entry->window : NULL;
}

const struct window *window_of(fuse_req_t req, fuse_ino_t ino, const struct fuse_file_info *fi,
                               struct tree_entry *entry, int *error)
{
    return window_in(entry, set_for(fs_of(req), ino, fi, entry) != NULL, error);
}

void handle_new(struct fuse_file_info *fi, struct window_set *set)
{
    window_set_hold(set);
    fi->fh =
        (uint64_t)(uintptr_t)set | (fi->flags & O_DSYNC ? FH_SYNC : 0); /* O_SYNC has O_DSYNC */
}

/* The RCU head of a set lies in its room for one (window_set.h). */
_Static_assert(sizeof(struct rcu_head) <= sizeof(((struct window_set *)NULL)->deferred),
               "a set has room for an RCU head");

static void free_after_grace(struct rcu_head *rcu)
{
    window_set_free((struct window_set *)((char *)rcu - offsetof(struct window_set, deferred)));
}

void drop_set(struct window_set *set)
{
    if (!window_set_release(set))
        return;
    window_set_unlink(set);
    call_rcu((struct rcu_head *)(void *)set->deferred, free_after_grace);
}

void handle_free(struct fuse_file_info *fi)
{
    struct window_set *set = handle_set(fi);
    fi->fh = 0;
    if (set != NULL)
        drop_set(set);
}

int reply_open(fuse_req_t req, struct fuse_file_info *fi)
{
    int res = fuse_reply_open(req, fi);
    if (res != 0)
        handle_free(fi);
    return res;
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

const struct window *window_or_reply(fuse_req_t req, fuse_ino_t ino,
                                     const struct fuse_file_info *fi, struct tree_entry *entry)
{
    int error;
    const struct window *w = window_of(req, ino, fi, entry, &error);
    if (w == NULL)
        fuse_reply_err(req, error);
    return w;
}

void note_mapping_limit(const struct window *w)
{
    struct backing *b = w->backing;
    if (!backing_limit_first_reached(b))
        return;
    log_msg(LOG_WARNING,
            "backing file %s: windows that follow its size stop at the end of its mapping "
            "(%zu bytes, the grow reserve); growth past it is refused with EFBIG "
            "(size now %llu bytes)",
            b->real_path, b->map_len, (unsigned long long)backing_size_now(b));
}

void reply_refused(fuse_req_t req, const struct window *w, int res)
{
    if (res == -EFBIG && window_growable(w))
        note_mapping_limit(w);
    fuse_reply_err(req, -res);
}
