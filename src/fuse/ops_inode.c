/* ops_inode.c - lookup, attributes, directories, open, statfs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fuse_compat.h"
#include "ops.h"
#include "write_handles.h"
#include "slicefs/guarded_access.h"
#include "slicefs/window_io.h"

/* The owner, group and permission bits window w shows, for a backing file
 * whose status is backing (permission.h says the rule). */
static struct shown_attr window_shown(const struct slicefs_fs *fs, const struct window *w,
                                      const struct stat *backing)
{
    struct shown_attr b = {backing->st_uid, backing->st_gid, backing->st_mode};
    struct shown_attr shown = permission_window_attr(w->mode, &b, fs->uid, fs->umask);
    /* An archive member shows its own bits, never more than the file's. */
    if (w->masked)
        shown.mode &= w->mode_mask;
    return shown;
}

/* Bytes of w that its backing files hold (not holes). */
static uint64_t window_allocated(const struct window *w, uint64_t length)
{
    if (w->mode == WINDOW_MODE_COW) /* it may have written anywhere: all */
        return length;
    if (w->extents == NULL)
        return backing_allocated(w->backing, w->offset, length);
    uint64_t allocated = 0;
    for (uint32_t k = 0; k < w->extent_count; k++)
        if (!w->extents[k].hole)
            allocated += backing_allocated(w->extents[k].backing, w->extents[k].offset,
                                           w->extents[k].length);
    return allocated;
}

/* Fills st for inode ino, resolved in entry (found: false when no set has
 * it), after taking note of a change of its backing file from outside
 * (outside_change). Returns 0 or a negative errno. */
static int fill_attr(struct slicefs_fs *fs, fuse_ino_t ino, const struct tree_entry *found,
                     struct stat *st)
{
    if (found == NULL)
        return -ENOENT;
    const struct tree_entry entry = *found;
    memset(st, 0, sizeof *st);
    st->st_ino = ino;
    if (entry.dir != NULL) {
        st->st_mode = S_IFDIR | (0555 & ~fs->umask);
        st->st_nlink = 2;
        st->st_uid = fs->uid;
        st->st_gid = fs->gid;
        st->st_blksize = 4096;
        st->st_atim = st->st_mtim = st->st_ctim = fs->started;
        return 0;
    }
    const struct window *w = entry.window;
    struct stat backing;
    /* A window that follows its file's size learns of outside changes here
     * (under the file's grow lock, so an older size never undoes a resize);
     * its length stops at the end of the mapping, however far it grew. */
    if (w->follows_size) {
        int res = backing_refresh(w->backing, &backing);
        if (res < 0)
            return res;
        if (backing_size_now(w->backing) > w->backing->map_len)
            note_mapping_limit(w);
    } else if (fstat(w->backing->fd, &backing) < 0) {
        return -errno;
    }
    outside_change(fs, ino, w, &backing);
    uint64_t length = window_length(w);
    struct shown_attr shown = window_shown(fs, w, &backing);
    st->st_mode = S_IFREG | shown.mode;
    if (w->link_target != NULL) {
        st->st_mode = S_IFLNK | 0777;
        length = strlen(w->link_target);
    }
    st->st_nlink = 1;
    st->st_uid = shown.uid;
    st->st_gid = shown.gid;
    st->st_size = (off_t)length;
    st->st_blksize = backing.st_blksize;
    uint64_t allocated = w->link_target != NULL ? 0 : window_allocated(w, length);
    st->st_blocks = (blkcnt_t)((allocated + 511) / 512);
    st->st_atim = backing.st_atim;
    if (!window_times_get(&fs->times, w, &st->st_mtim, &st->st_ctim)) {
        st->st_mtim = backing.st_mtim; /* -o nostate: the backing file's */
        st->st_ctim = backing.st_ctim;
        if (w->mtime_ns != 0) /* or an archive member's own */
            st->st_mtim = (struct timespec){w->mtime_ns / 1000000000, w->mtime_ns % 1000000000};
    }
    return 0;
}

static void reply_attr(fuse_req_t req, fuse_ino_t ino, const struct fuse_file_info *fi)
{
    struct stat st;
    struct slicefs_fs *fs = fs_of(req);
    struct tree_entry entry;
    int res = fill_attr(fs, ino, set_for(fs, ino, fi, &entry) ? &entry : NULL, &st);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);
    fuse_reply_attr(req, &st, attr_timeout(fs_of(req), &st));
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct slicefs_fs *fs = fs_of(req);
    struct fuse_entry_param e;
    memset(&e, 0, sizeof e);
    e.entry_timeout = ENTRY_TIMEOUT;
    const struct window_set *set = live_set(fs);
    e.ino = path_tree_lookup(&set->tree, parent, name);
    if (e.ino == 0) {
        /* Cache the miss (ino 0): a name that appears later (slicefsctl)
         * is announced to the kernel then (control.c). */
        return (void)fuse_reply_entry(req, &e);
    }
    struct tree_entry entry;
    bool found = path_tree_resolve(&set->tree, e.ino, &entry);
    int res = fill_attr(fs, e.ino, found ? &entry : NULL, &e.attr);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);
    e.attr_timeout = attr_timeout(fs, &e.attr);
    fuse_reply_entry(req, &e);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    reply_attr(req, ino, fi);
}

/* The rules of a regular file for a SETATTR, on what ino shows now: mode
 * and owner cannot change (they are the backing file's), and only the owner
 * (or root) may even ask for what they already are; only the owner may set
 * times to a given value, and the owner or a writer to now; only a writer
 * may change the size, or a handle the kernel opened for writing (fi). The
 * kernel checks the same (default_permissions); this keeps the daemon from
 * depending on it. Returns 0 or a negative errno. */
static int check_setattr(fuse_req_t req, fuse_ino_t ino, const struct stat *attr, int to_set,
                         const struct fuse_file_info *fi)
{
    struct stat now;
    struct slicefs_fs *fs = fs_of(req);
    struct tree_entry entry;
    int res = fill_attr(fs, ino, set_for(fs, ino, fi, &entry) ? &entry : NULL, &now);
    if (res < 0)
        return res;
    struct shown_attr shown = {now.st_uid, now.st_gid, now.st_mode & 07777};
    bool owner = caller_owns(req, &shown);
    if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
        if (!owner)
            return -EPERM;
        if ((to_set & FUSE_SET_ATTR_MODE) && (attr->st_mode & 07777) != shown.mode)
            return -EPERM;
        if ((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != now.st_uid)
            return -EPERM;
        if ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != now.st_gid)
            return -EPERM;
    }
    bool atime_given = (to_set & FUSE_SET_ATTR_ATIME) && !(to_set & FUSE_SET_ATTR_ATIME_NOW);
    bool mtime_given = (to_set & FUSE_SET_ATTR_MTIME) && !(to_set & FUSE_SET_ATTR_MTIME_NOW);
    bool times_now = to_set & (FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW);
    if ((atime_given || mtime_given) && !owner)
        return -EPERM;
    if (times_now && !owner && !caller_may(req, &shown, PERMISSION_WRITE))
        return -EACCES;
    if ((to_set & FUSE_SET_ATTR_SIZE) && fi == NULL && !caller_may(req, &shown, PERMISSION_WRITE))
        return -EACCES;
    return 0;
}

/* Sets a window's times: its own (kept in the state), or with -o nostate
 * the backing file's. */
static int set_times(struct slicefs_fs *fs, const struct window *w, const struct stat *attr,
                     int to_set)
{
    if (window_times_on(&fs->times)) {
        if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW))
            window_times_touch(&fs->times, w,
                               to_set & FUSE_SET_ATTR_MTIME_NOW ? NULL : &attr->st_mtim);
        return 0; /* the atime stays the backing file's */
    }
    struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};
    if (to_set & FUSE_SET_ATTR_ATIME_NOW)
        times[0].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_ATIME)
        times[0] = attr->st_atim;
    if (to_set & FUSE_SET_ATTR_MTIME_NOW)
        times[1].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_MTIME)
        times[1] = attr->st_mtim;
    if (times[0].tv_nsec == UTIME_OMIT && times[1].tv_nsec == UTIME_OMIT)
        return 0;
    /* Writes to a cow window never reach the backing file; nor do its times. */
    if (w->mode == WINDOW_MODE_COW)
        return 0;
    if (w->mode == WINDOW_MODE_RO)
        return -EPERM;
    changes_begin(w); /* its ctime moves: ours */
    int res = futimens(w->backing->fd, times) < 0 ? -errno : 0;
    changes_end(w);
    return res;
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                struct fuse_file_info *fi)
{
    struct slicefs_fs *fs = fs_of(req);
    int res = check_setattr(req, ino, attr, to_set, fi);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);

    struct tree_entry entry;
    const struct window *w = window_of(req, ino, fi, &entry, &res);
    if (w == NULL) {
        if (to_set & FUSE_SET_ATTR_SIZE)
            return (void)fuse_reply_err(req, res);
        return reply_attr(req, ino, fi); /* directory times: nothing to keep */
    }
    /* Truncation follows window_io's rules (SPEC section 4). */
    struct wio_span changed = {0, 0};
    int truncated = WIO_TRUNCATE_NOTHING;
    if (to_set & FUSE_SET_ATTR_SIZE) {
        changes_begin(w);
        truncated = wio_truncate(w, attr->st_size, &changed);
        changes_end(w);
        if (truncated < 0)
            return reply_refused(req, w, truncated);
        if (changed.count > 0)
            bytes_changed(fs, ino, w, changed.off, changed.count);
    }
    res = set_times(fs, w, attr, to_set);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);
    reply_attr(req, ino, fi);

    /* The size did not change, so the kernel kept its cached pages of the
     * zeroed range: drop them. Only after the reply, so that nothing the
     * truncating caller holds can make the invalidation wait on us. (A
     * resized file's window changed size; the kernel dropped them itself.) */
    if (truncated == WIO_TRUNCATE_ZEROED)
        fuse_lowlevel_notify_inval_inode(fs->session, ino, (off_t)changed.off,
                                         (off_t)changed.count);
}

/* Lists directory ino from entry off on, as plain entries or, for
 * readdirplus, with each window's attributes too, so that `ls -l`, `find
 * -ls` or rsync need no LOOKUP per name. */
static void list_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
    struct slicefs_fs *fs = fs_of(req);
    const struct window_set *set = live_set(fs);
    struct tree_entry entry;
    if (!path_tree_resolve(&set->tree, ino, &entry))
        return (void)fuse_reply_err(req, ENOENT);
    const struct tree_node *dir = entry.dir;
    if (dir == NULL)
        return (void)fuse_reply_err(req, ENOTDIR);

    char buf[16384];
    size_t limit = size < sizeof buf ? size : sizeof buf;
    size_t used = 0;
    /* Entry i: 0 is ".", 1 is "..", 2 + k is entry k; off is the next i. */
    uint64_t end = 2 + path_tree_dir_size(&set->tree, dir);
    for (uint64_t i = off < 0 ? 0 : (uint64_t)off; i < end; i++) {
        struct fuse_entry_param e;
        memset(&e, 0, sizeof e);
        char name_buf[WINDOW_RULE_NAME_MAX];
        const char *name;
        if (i < 2) {
            /* The kernel takes no attributes for these: ino 0 says so. */
            name = i == 0 ? "." : "..";
            e.attr.st_ino = i == 0 ? ino : set->tree.nodes[dir->parent].ino;
            e.attr.st_mode = S_IFDIR;
        } else {
            uint64_t child_ino;
            bool is_dir;
            name = path_tree_dir_entry(&set->tree, dir, i - 2, name_buf, &child_ino, &is_dir);
            e.attr.st_ino = child_ino;
            e.attr.st_mode = is_dir ? S_IFDIR : S_IFREG;
            const struct tree_node *node = is_dir ? NULL : path_tree_node(&set->tree, child_ino);
            if (node != NULL && node->window != PATH_TREE_NOT_A_WINDOW &&
                set->table.windows[node->window].link_target != NULL)
                e.attr.st_mode = S_IFLNK;
            struct tree_entry child;
            if (plus && path_tree_resolve(&set->tree, child_ino, &child) &&
                fill_attr(fs, child_ino, &child, &e.attr) == 0) {
                e.ino = child_ino;
                e.attr_timeout = attr_timeout(fs, &e.attr);
                e.entry_timeout = ENTRY_TIMEOUT;
            }
        }
        off_t next = (off_t)i + 1;
        size_t need = plus ? fuse_add_direntry_plus(req, buf + used, limit - used, name, &e, next)
                           : fuse_add_direntry(req, buf + used, limit - used, name, &e.attr, next);
        if (need > limit - used)
            break;
        used += need;
    }
    fuse_reply_buf(req, buf, used);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)fi;
    list_dir(req, ino, size, off, false);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)fi;
    list_dir(req, ino, size, off, true);
}

void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    /* One read of the live set for the window and the handle: a set
     * published meanwhile may not have the window any more. */
    struct slicefs_fs *fs = fs_of(req);
    struct window_set *set = live_set(fs);
    struct tree_entry entry;
    int res;
    const struct window *w = window_in(&entry, path_tree_resolve(&set->tree, ino, &entry), &res);
    if (w == NULL)
        return (void)fuse_reply_err(req, res);
    bool for_write = (fi->flags & O_ACCMODE) != O_RDONLY;
    if (for_write && w->mode == WINDOW_MODE_RO)
        return (void)fuse_reply_err(req, EACCES);
    /* What the kernel checked (default_permissions), on fresh attributes. */
    struct stat backing;
    if (fstat(w->backing->fd, &backing) < 0)
        return (void)fuse_reply_err(req, errno);
    struct shown_attr shown = window_shown(fs, w, &backing);
    int want = (fi->flags & O_ACCMODE) == O_WRONLY ? PERMISSION_WRITE
               : for_write                         ? PERMISSION_READ | PERMISSION_WRITE
                                                   : PERMISSION_READ;
    if (!caller_may(req, &shown, want))
        return (void)fuse_reply_err(req, EACCES);
    bool changed = outside_change(fs, ino, w, &backing);
    switch (fs->cache) {
    case CACHE_NEVER:
        fi->direct_io = 1;
        break;
    case CACHE_ALWAYS:
        fi->keep_cache = 1;
        break;
    case CACHE_AUTO:
        /* Writes through the mount keep every window's pages coherent; a
         * change from outside (size or ctime) drops the changed windows'
         * pages (outside_change), this one's now. */
        fi->keep_cache = !changed;
        break;
    }
    /* A handle that only writes (cp, dd of=, cat >): its writes go from the
     * writer's buffer straight to the daemon, not through the kernel's
     * cache, one copy less. Coherence holds: the kernel writes back and
     * drops its cached pages of those bytes before each direct write, and a
     * client's shared mmap needs a handle that also reads. */
    if ((fi->flags & O_ACCMODE) == O_WRONLY)
        fi->direct_io = 1;
    /* Direct writes that stay inside the file run in parallel. */
    if (fi->direct_io)
        compat_parallel_direct_writes(fi);
    handle_new(fi, set);
    /* A handle that may write waits for a store under way (write_handles.h). */
    if (for_write)
        return write_handles_open(fs, req, w, fi);
    reply_open(req, fi);
}

void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    /* Counted on the backing file of the window as it was opened. */
    struct window_set *opened = handle_set(fi);
    struct tree_entry entry;
    if ((fi->flags & O_ACCMODE) != O_RDONLY && opened != NULL &&
        path_tree_resolve(&opened->tree, ino, &entry) && entry.window != NULL)
        write_handles_release(fs_of(req), entry.window->backing);
    handle_free(fi);
    fuse_reply_err(req, 0);
}

void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    (void)ino;
    struct slicefs_fs *fs = fs_of(req);
    struct statvfs st;
    memset(&st, 0, sizeof st);
    if (fs->table.backing_count > 0 && fstatvfs(fs->table.backings[0]->fd, &st) < 0)
        return (void)fuse_reply_err(req, errno);
    fuse_reply_statfs(req, &st);
}

void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
    struct tree_entry entry;
    if (!path_tree_resolve(&live_set(fs_of(req))->tree, ino, &entry))
        return (void)fuse_reply_err(req, ENOENT);
    if (entry.window == NULL || entry.window->link_target == NULL)
        return (void)fuse_reply_err(req, EINVAL);
    fuse_reply_readlink(req, entry.window->link_target);
}
