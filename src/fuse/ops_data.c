/* ops_data.c - the data path: read, write, fsync, lseek, fallocate,
 * copy_file_range. No lock, no allocation. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ops.h"
#include "prefetch.h"
#include "slicefs/guarded_access.h"

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
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
    struct slicefs_fs *fs = fs_of(req);
    /* A reply that failed (a lost page) would fail as a store too. */
    if (fuse_reply_data(req, &data, FUSE_BUF_NO_SPLICE) == 0)
        prefetch_around(fs, ino, w, (uint64_t)off, count);
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

void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
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
    if (res < 0) /* EIO: SIGBUS on a lost page */
        return (void)fuse_reply_err(req, -res);

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

void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
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
void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi)
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
    int64_t pos =
        backing_seek(w->backing, w->offset + (uint64_t)off, whence, w->offset, w->offset + length);
    if (pos < 0)
        return (void)fuse_reply_err(req, (int)-pos);
    fuse_reply_lseek(req, (off_t)((uint64_t)pos - w->offset));
}

/* Allocation, punch-hole and zero-range inside a window; nothing may cross
 * its end (EINVAL, as a block device answers), and the size never changes. */
void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
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
void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
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
        /* The kernel's copy would read a lost range as a short copy and grow
         * the file when writing into one: both are EIO, as through the
         * mappings. (A growable window's file was grown by make_room.) */
        if (!backing_holds(in->backing, in->offset + (uint64_t)off_in, count) ||
            !backing_holds(out->backing, out->offset + (uint64_t)off_out, count))
            return (void)fuse_reply_err(req, EIO);
        loff_t pos_in = (loff_t)(in->offset + (uint64_t)off_in);
        loff_t pos_out = (loff_t)(out->offset + (uint64_t)off_out);
        copied =
            copy_file_range(in->backing->fd, &pos_in, out->backing->fd, &pos_out, (size_t)count, 0);
    }
    if (copied < 0) {
        struct move_args m = {window_data(out) + off_out, window_data(in) + off_in, (size_t)count};
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
