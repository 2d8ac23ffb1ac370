#include "fuse_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "slicefs/guarded_access.h"

/* Names never change while mounted; sizes only of growable windows; times
 * come from the backing file and may be as old as the attribute timeout. */
#define ENTRY_TIMEOUT 3600.0
#define ATTR_TIMEOUT_AUTO 1.0
#define ATTR_TIMEOUT_ALWAYS 60.0
#define ATTR_TIMEOUT_NEVER 0.0
/* The largest request the kernel allows (fs.fuse.max_pages_limit = 256). */
#define MAX_REQUEST_BYTES (1u << 20)

static struct slicefs_fs *fs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

static double attr_timeout(const struct slicefs_fs *fs)
{
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
static void invalidate_overlaps(struct slicefs_fs *fs, fuse_ino_t ino, const struct window *w,
                                uint64_t offset, uint64_t length)
{
    if (fs->single_thread || fs->cache == CACHE_NEVER)
        return;
    overlap_index_visit(&fs->overlaps, w->backing, w->mode == WINDOW_MODE_COW,
                        w->offset + offset, length, ino, invalidate_range, fs);
}

/* The window behind ino, computed into *entry if need be; or NULL, and
 * *error says why. */
static const struct window *window_of(fuse_req_t req, fuse_ino_t ino, struct tree_entry *entry,
                                      int *error)
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

static mode_t window_permissions(const struct window *w, mode_t backing_mode)
{
    mode_t perm = backing_mode & 0777;
    return w->mode == WINDOW_MODE_RO ? perm & ~(mode_t)0222 : perm;
}

/* Fills st for inode ino. Returns 0 or a negative errno. */
static int fill_attr(const struct slicefs_fs *fs, fuse_ino_t ino, struct stat *st)
{
    struct tree_entry entry;
    if (!path_tree_resolve(&fs->tree, ino, &entry))
        return -ENOENT;
    memset(st, 0, sizeof *st);
    st->st_ino = ino;
    if (entry.dir != NULL) {
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
        st->st_uid = fs->uid;
        st->st_gid = fs->gid;
        st->st_blksize = 4096;
        st->st_atim = st->st_mtim = st->st_ctim = fs->started;
        return 0;
    }
    const struct window *w = entry.window;
    struct stat backing;
    if (fstat(w->backing->fd, &backing) < 0)
        return -errno;
    /* A window that follows its file's size learns of outside changes here. */
    if (w->follows_size && !w->backing->is_block_device)
        backing_saw_size(w->backing, (uint64_t)backing.st_size);
    uint64_t length = window_length(w);
    st->st_mode = S_IFREG | window_permissions(w, backing.st_mode);
    st->st_nlink = 1;
    st->st_uid = backing.st_uid;
    st->st_gid = backing.st_gid;
    st->st_size = (off_t)length;
    st->st_blksize = backing.st_blksize;
    /* A cow window may have written anywhere: count it all. */
    uint64_t allocated = w->mode == WINDOW_MODE_COW
                             ? length
                             : backing_allocated(w->backing, w->offset, length);
    st->st_blocks = (blkcnt_t)((allocated + 511) / 512);
    st->st_atim = backing.st_atim;
    st->st_mtim = backing.st_mtim;
    st->st_ctim = backing.st_ctim;
    return 0;
}

static void reply_attr(fuse_req_t req, fuse_ino_t ino)
{
    struct stat st;
    int res = fill_attr(fs_of(req), ino, &st);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);
    fuse_reply_attr(req, &st, attr_timeout(fs_of(req)));
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
    (void)userdata;
    conn->max_write = MAX_REQUEST_BYTES;
    /* Write requests arrive in a pipe and are read from it straight into
     * the mapped pages. */
    if (conn->capable & FUSE_CAP_SPLICE_READ)
        conn->want |= FUSE_CAP_SPLICE_READ;
    /* O_TRUNC must arrive as a SETATTR of the size, the one place that
     * zero-fills a window and drops the kernel's stale pages. */
    conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct slicefs_fs *fs = fs_of(req);
    struct fuse_entry_param e;
    memset(&e, 0, sizeof e);
    e.attr_timeout = attr_timeout(fs);
    e.entry_timeout = ENTRY_TIMEOUT;
    e.ino = path_tree_lookup(&fs->tree, parent, name);
    if (e.ino == 0) {
        /* Names never appear while mounted: cache the miss (ino 0). */
        return (void)fuse_reply_entry(req, &e);
    }
    int res = fill_attr(fs, e.ino, &e.attr);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);
    fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)fi;
    reply_attr(req, ino);
}

/* Mode and owner cannot change (they are the backing file's); a request
 * that asks for what they already are succeeds. */
static int check_unchanged_owner(const struct slicefs_fs *fs, fuse_ino_t ino,
                                 const struct stat *attr, int to_set)
{
    struct stat now;
    int res = fill_attr(fs, ino, &now);
    if (res < 0)
        return res;
    if ((to_set & FUSE_SET_ATTR_MODE) && (attr->st_mode & 07777) != (now.st_mode & 07777))
        return -EPERM;
    if ((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != now.st_uid)
        return -EPERM;
    if ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != now.st_gid)
        return -EPERM;
    return 0;
}

/* Sets the backing file's times (a window's times are the backing file's). */
static int set_times(const struct window *w, const struct stat *attr, int to_set)
{
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
    return futimens(w->backing->fd, times) < 0 ? -errno : 0;
}

/* Truncation never changes a fixed window's size (SPEC section 4): the
 * bytes from size to the end read back as zeros; above the length is EFBIG.
 * A growable window truncates (or extends) its backing file instead. */
static int truncate_window(const struct window *w, uint64_t size, uint64_t length)
{
    if (w->mode == WINDOW_MODE_RO)
        return -EACCES;
    if (window_growable(w))
        return size > UINT64_MAX - w->offset ? -EFBIG
                                             : backing_resize(w->backing, w->offset + size, false);
    if (size > length)
        return -EFBIG;
    return backing_zero(w->backing, w->offset + size, length - size, w->mode == WINDOW_MODE_COW);
}

/* Makes a growable window at least end bytes long (growing its backing
 * file); a fixed window is left as it is. Returns 0 or a negative errno. */
static int make_room(const struct window *w, uint64_t end)
{
    if (!window_growable(w) || end <= window_length(w))
        return 0;
    if (end > UINT64_MAX - w->offset)
        return -EFBIG;
    return backing_resize(w->backing, w->offset + end, true);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
    (void)fi;
    struct slicefs_fs *fs = fs_of(req);
    int res = check_unchanged_owner(fs, ino, attr, to_set);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);

    struct tree_entry entry;
    const struct window *w = window_of(req, ino, &entry, &res);
    if (w == NULL) {
        if (to_set & FUSE_SET_ATTR_SIZE)
            return (void)fuse_reply_err(req, res);
        return reply_attr(req, ino); /* directory times: nothing to keep */
    }
    bool truncated = to_set & FUSE_SET_ATTR_SIZE;
    uint64_t size = (uint64_t)attr->st_size;
    uint64_t length = window_length(w);
    if (truncated) {
        if (attr->st_size < 0)
            return (void)fuse_reply_err(req, EINVAL);
        res = truncate_window(w, size, length);
        if (res < 0)
            return (void)fuse_reply_err(req, -res);
        if (size < length)
            invalidate_overlaps(fs, ino, w, size, length - size);
    }
    res = set_times(w, attr, to_set);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);
    reply_attr(req, ino);

    /* The size did not change, so the kernel kept its cached pages of the
     * zeroed range: drop them. Only after the reply, so that nothing the
     * truncating caller holds can make the invalidation wait on us. (A
     * growable window's size did change; the kernel dropped them itself.) */
    if (truncated && size < length && !window_growable(w))
        fuse_lowlevel_notify_inval_inode(fs->session, ino, (off_t)size, (off_t)(length - size));
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    (void)fi;
    struct slicefs_fs *fs = fs_of(req);
    struct tree_entry entry;
    if (!path_tree_resolve(&fs->tree, ino, &entry))
        return (void)fuse_reply_err(req, ENOENT);
    const struct tree_node *dir = entry.dir;
    if (dir == NULL)
        return (void)fuse_reply_err(req, ENOTDIR);

    char buf[16384];
    size_t limit = size < sizeof buf ? size : sizeof buf;
    size_t used = 0;
    /* Entry i: 0 is ".", 1 is "..", 2 + k is entry k; off is the next i. */
    uint64_t end = 2 + path_tree_dir_size(&fs->tree, dir);
    for (uint64_t i = off < 0 ? 0 : (uint64_t)off; i < end; i++) {
        struct stat st;
        memset(&st, 0, sizeof st);
        char name_buf[WINDOW_RULE_NAME_MAX];
        const char *name;
        if (i < 2) {
            name = i == 0 ? "." : "..";
            st.st_ino = i == 0 ? ino : dir->parent + 1;
            st.st_mode = S_IFDIR;
        } else {
            uint64_t child_ino;
            bool is_dir;
            name = path_tree_dir_entry(&fs->tree, dir, i - 2, name_buf, &child_ino, &is_dir);
            st.st_ino = child_ino;
            st.st_mode = is_dir ? S_IFDIR : S_IFREG;
        }
        size_t need = fuse_add_direntry(req, buf + used, limit - used, name, &st, (off_t)i + 1);
        if (need > limit - used)
            break;
        used += need;
    }
    fuse_reply_buf(req, buf, used);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    int res;
    struct tree_entry entry;
    const struct window *w = window_of(req, ino, &entry, &res);
    if (w == NULL)
        return (void)fuse_reply_err(req, res);
    if ((fi->flags & O_ACCMODE) != O_RDONLY && w->mode == WINDOW_MODE_RO)
        return (void)fuse_reply_err(req, EACCES);
    struct slicefs_fs *fs = fs_of(req);
    switch (fs->cache) {
    case CACHE_NEVER:
        fi->direct_io = 1;
        break;
    case CACHE_ALWAYS:
        fi->keep_cache = 1;
        break;
    case CACHE_AUTO:
        /* Writes through the mount keep every window's pages coherent; a
         * change from outside (size or mtime) drops this window's pages
         * now, and the other windows' of the same file. */
        fi->keep_cache = 1;
        if (backing_changed_outside(w->backing) != 0) {
            fi->keep_cache = 0;
            invalidate_overlaps(fs, ino, w, 0, window_length(w));
        }
        break;
    }
    fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)fi;
    int res;
    struct tree_entry entry;
    const struct window *w = window_of(req, ino, &entry, &res);
    if (w == NULL)
        return (void)fuse_reply_err(req, res);
    uint64_t length = window_length(w);
    if (off < 0 || (uint64_t)off >= length)
        return (void)fuse_reply_buf(req, NULL, 0);
    uint64_t left = length - (uint64_t)off;
    size_t count = size < left ? size : (size_t)left;
    /* The reply points into the mapping; the kernel copies from it. A page
     * past the backing file's current end makes that copy fail, and the
     * kernel ends the request with EIO: the daemon itself never touches it. */
    struct fuse_bufvec data = FUSE_BUFVEC_INIT(count);
    data.buf[0].mem = window_data(w) + off;
    fuse_reply_data(req, &data, FUSE_BUF_NO_SPLICE);
}

struct copy_request {
    struct fuse_bufvec *dst;
    struct fuse_bufvec *src;
    ssize_t copied;
};

static int copy_request(void *arg)
{
    struct copy_request *c = arg;
    c->copied = fuse_buf_copy(c->dst, c->src, 0);
    return c->copied < 0 ? (int)c->copied : 0;
}

static void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
                         struct fuse_file_info *fi)
{
    int res;
    struct tree_entry entry;
    const struct window *w = window_of(req, ino, &entry, &res);
    if (w == NULL)
        return (void)fuse_reply_err(req, res);
    if (w->mode == WINDOW_MODE_RO)
        return (void)fuse_reply_err(req, EACCES);
    /* Like a block device: nothing fits at or past the end, and a write
     * across the end is cut short; a growable window grows instead. */
    size_t count = fuse_buf_size(in);
    if (off < 0)
        return (void)fuse_reply_err(req, EINVAL);
    res = make_room(w, (uint64_t)off + count);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);
    uint64_t length = window_length(w);
    if ((uint64_t)off >= length)
        return (void)fuse_reply_err(req, ENOSPC);
    if (count > length - (uint64_t)off)
        count = (size_t)(length - (uint64_t)off);

    struct fuse_bufvec dst = FUSE_BUFVEC_INIT(count);
    dst.buf[0].mem = window_data(w) + off;
    struct copy_request copy = {&dst, in, 0};
    res = guarded_run(copy_request, &copy);
    if (res < 0) /* EFAULT: the kernel met a lost page while reading the pipe into it */
        return (void)fuse_reply_err(req, res == -EFAULT ? EIO : -res);

    if (w->mode == WINDOW_MODE_RW) {
        backing_note_write(w->backing);
        if (fi->flags & O_DSYNC) {
            res = backing_sync(w->backing, w->offset + (uint64_t)off, (uint64_t)copy.copied);
            if (res < 0)
                return (void)fuse_reply_err(req, -res);
        }
    }
    invalidate_overlaps(fs_of(req), ino, w, (uint64_t)off, (uint64_t)copy.copied);
    fuse_reply_write(req, (size_t)copy.copied);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    (void)fi;
    int res;
    struct tree_entry entry;
    const struct window *w = window_of(req, ino, &entry, &res);
    if (w == NULL)
        return (void)fuse_reply_err(req, res);
    res = w->mode == WINDOW_MODE_RW ? backing_sync(w->backing, w->offset, window_length(w)) : 0;
    fuse_reply_err(req, -res);
}

/* SEEK_DATA and SEEK_HOLE report the backing file's holes inside the window
 * (SEEK_SET, SEEK_CUR and SEEK_END never reach us). A cow window may have
 * written into any hole, so it is all data. */
static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
                     struct fuse_file_info *fi)
{
    (void)fi;
    int res;
    struct tree_entry entry;
    const struct window *w = window_of(req, ino, &entry, &res);
    if (w == NULL)
        return (void)fuse_reply_err(req, res);
    if (whence != SEEK_DATA && whence != SEEK_HOLE)
        return (void)fuse_reply_err(req, EINVAL);
    uint64_t length = window_length(w);
    if (off < 0 || (uint64_t)off >= length)
        return (void)fuse_reply_err(req, ENXIO);
    if (w->mode == WINDOW_MODE_COW)
        return (void)fuse_reply_lseek(req, whence == SEEK_DATA ? off : (off_t)length);
    int64_t pos = backing_seek(w->backing, w->offset + (uint64_t)off, whence, w->offset,
                               w->offset + length);
    if (pos < 0)
        return (void)fuse_reply_err(req, (int)-pos);
    fuse_reply_lseek(req, (off_t)((uint64_t)pos - w->offset));
}

/* Allocation, punch-hole and zero-range inside a window; nothing may cross
 * its end (EINVAL, as a block device answers), and the size never changes. */
static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                         struct fuse_file_info *fi)
{
    (void)fi;
    int res;
    struct tree_entry entry;
    const struct window *w = window_of(req, ino, &entry, &res);
    if (w == NULL)
        return (void)fuse_reply_err(req, res);
    if (w->mode == WINDOW_MODE_RO)
        return (void)fuse_reply_err(req, EBADF);
    int known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
    if (mode & ~known)
        return (void)fuse_reply_err(req, EOPNOTSUPP);
    if (offset < 0 || length <= 0)
        return (void)fuse_reply_err(req, EINVAL);
    /* Plain allocation may grow a growable window, like its file. */
    if (!(mode & (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))) {
        res = make_room(w, (uint64_t)offset + (uint64_t)length);
        if (res < 0)
            return (void)fuse_reply_err(req, -res);
    }
    uint64_t window_len = window_length(w);
    if ((uint64_t)offset >= window_len || (uint64_t)length > window_len - (uint64_t)offset)
        return (void)fuse_reply_err(req, EINVAL);
    uint64_t off = (uint64_t)offset, len = (uint64_t)length;
    bool cow = w->mode == WINDOW_MODE_COW;
    if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
        res = 0;
        if ((mode & FALLOC_FL_ZERO_RANGE) && !cow &&
            fallocate(w->backing->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                      (off_t)(w->offset + off), length) == 0)
            res = 1;
        if (res == 0)
            res = backing_zero(w->backing, w->offset + off, len, cow);
        if (res < 0)
            return (void)fuse_reply_err(req, -res);
        invalidate_overlaps(fs_of(req), ino, w, off, len);
    } else if (!cow && fallocate(w->backing->fd, FALLOC_FL_KEEP_SIZE, (off_t)(w->offset + off),
                                 length) < 0) {
        return (void)fuse_reply_err(req, errno);
    }
    fuse_reply_err(req, 0);
}

struct move_args {
    unsigned char *dst;
    const unsigned char *src;
    size_t len;
};

static int move_bytes(void *arg)
{
    struct move_args *m = arg;
    memmove(m->dst, m->src, m->len);
    return 0;
}

/* Copies between windows (or within one): the backing file system's own
 * copy_file_range where both sides are in files (reflinks where it can),
 * a guarded memmove through the mappings otherwise (a cow side, overlapping
 * ranges of one file). */
static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
                               struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
                               struct fuse_file_info *fi_out, size_t len, int flags)
{
    (void)fi_in, (void)fi_out;
    int res;
    struct tree_entry entry_in, entry_out;
    const struct window *in = window_of(req, ino_in, &entry_in, &res);
    if (in == NULL)
        return (void)fuse_reply_err(req, res);
    const struct window *out = window_of(req, ino_out, &entry_out, &res);
    if (out == NULL)
        return (void)fuse_reply_err(req, res);
    if (flags != 0)
        return (void)fuse_reply_err(req, EINVAL);
    if (out->mode == WINDOW_MODE_RO)
        return (void)fuse_reply_err(req, EBADF);
    if (off_in < 0 || off_out < 0)
        return (void)fuse_reply_err(req, EINVAL);
    uint64_t in_length = window_length(in);
    if ((uint64_t)off_in >= in_length || len == 0)
        return (void)fuse_reply_write(req, 0);
    uint64_t count = len;
    if (count > in_length - (uint64_t)off_in)
        count = in_length - (uint64_t)off_in;
    res = make_room(out, (uint64_t)off_out + count);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);
    uint64_t out_length = window_length(out);
    if ((uint64_t)off_out >= out_length)
        return (void)fuse_reply_err(req, ENOSPC);
    if (count > out_length - (uint64_t)off_out)
        count = out_length - (uint64_t)off_out;

    ssize_t copied = -1;
    if (in->mode != WINDOW_MODE_COW && out->mode != WINDOW_MODE_COW) {
        loff_t pos_in = (loff_t)(in->offset + (uint64_t)off_in);
        loff_t pos_out = (loff_t)(out->offset + (uint64_t)off_out);
        copied = copy_file_range(in->backing->fd, &pos_in, out->backing->fd, &pos_out,
                                 (size_t)count, 0);
    }
    if (copied < 0) {
        struct move_args m = {window_data(out) + off_out, window_data(in) + off_in,
                              (size_t)count};
        res = guarded_run(move_bytes, &m);
        if (res < 0)
            return (void)fuse_reply_err(req, -res);
        copied = (ssize_t)count;
    }
    if (out->mode == WINDOW_MODE_RW)
        backing_note_write(out->backing);
    invalidate_overlaps(fs_of(req), ino_out, out, (uint64_t)off_out, (uint64_t)copied);
    fuse_reply_write(req, (size_t)copied);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    (void)ino;
    struct slicefs_fs *fs = fs_of(req);
    struct statvfs st;
    memset(&st, 0, sizeof st);
    if (fs->table.backing_count > 0 && fstatvfs(fs->table.backings[0]->fd, &st) < 0)
        return (void)fuse_reply_err(req, errno);
    fuse_reply_statfs(req, &st);
}

/* Extended attributes that say where a window lies (SPEC section 4). */
#define XATTR_PREFIX "user.slicefs."
static const char xattr_names[] = XATTR_PREFIX "offset\0" XATTR_PREFIX "length\0" XATTR_PREFIX
                                  "backing\0" XATTR_PREFIX "mode";

/* Formats attribute name of w into buf. Returns its length, or -1 when w
 * has no such attribute. */
static int format_xattr(const struct window *w, const char *name, char *buf, size_t size)
{
    if (strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)) != 0)
        return -1;
    const char *key = name + strlen(XATTR_PREFIX);
    if (strcmp(key, "offset") == 0)
        return snprintf(buf, size, "%llu", (unsigned long long)w->offset);
    if (strcmp(key, "length") == 0)
        return snprintf(buf, size, "%llu", (unsigned long long)window_length(w));
    if (strcmp(key, "backing") == 0)
        return snprintf(buf, size, "%s", w->backing->real_path);
    if (strcmp(key, "mode") == 0)
        return snprintf(buf, size, "%s", window_mode_name(w->mode));
    return -1;
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    int res;
    struct tree_entry entry;
    const struct window *w = window_of(req, ino, &entry, &res);
    if (w == NULL)
        return (void)fuse_reply_err(req, res == EISDIR ? ENODATA : res);
    char value[PATH_MAX + 1];
    int len = format_xattr(w, name, value, sizeof value);
    if (len < 0)
        return (void)fuse_reply_err(req, ENODATA);
    if ((size_t)len >= sizeof value)
        return (void)fuse_reply_err(req, E2BIG);
    if (size == 0)
        return (void)fuse_reply_xattr(req, (size_t)len);
    if (size < (size_t)len)
        return (void)fuse_reply_err(req, ERANGE);
    fuse_reply_buf(req, value, (size_t)len);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    int res;
    struct tree_entry entry;
    const struct window *w = window_of(req, ino, &entry, &res);
    size_t len = w == NULL ? 0 : sizeof xattr_names; /* directories have none */
    if (w == NULL && res != EISDIR)
        return (void)fuse_reply_err(req, res);
    if (size == 0)
        return (void)fuse_reply_xattr(req, len);
    if (size < len)
        return (void)fuse_reply_err(req, ERANGE);
    fuse_reply_buf(req, xattr_names, len);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
    (void)ino, (void)value, (void)size, (void)flags;
    bool ours = strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)) == 0;
    fuse_reply_err(req, ours ? EPERM : ENOTSUP);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    op_setxattr(req, ino, name, NULL, 0, 0);
}

/* Names come only from the window sources. */
static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                     dev_t rdev)
{
    (void)parent, (void)name, (void)mode, (void)rdev;
    fuse_reply_err(req, EPERM);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    (void)parent, (void)name, (void)mode;
    fuse_reply_err(req, EPERM);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    (void)parent, (void)name;
    fuse_reply_err(req, EPERM);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
    (void)link, (void)parent, (void)name;
    fuse_reply_err(req, EPERM);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags)
{
    (void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
    fuse_reply_err(req, EPERM);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
    (void)ino, (void)newparent, (void)newname;
    fuse_reply_err(req, EPERM);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
    (void)parent, (void)name, (void)mode, (void)fi;
    fuse_reply_err(req, EPERM);
}

const struct fuse_lowlevel_ops slicefs_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .readdir = op_readdir,
    .open = op_open,
    .read = op_read,
    .write_buf = op_write_buf,
    .fsync = op_fsync,
    .statfs = op_statfs,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_unlink,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .create = op_create,
    .lseek = op_lseek,
    .fallocate = op_fallocate,
    .copy_file_range = op_copy_file_range,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .setxattr = op_setxattr,
    .removexattr = op_removexattr,
};
