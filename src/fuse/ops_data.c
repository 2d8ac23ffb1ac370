/* ops_data.c - the data path: read, write, fsync, lseek, fallocate,
 * copy_file_range. Each asks window_io.h which bytes it may touch and only
 * translates; no lock, no allocation. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fuse_compat.h"
#include "ops.h"
#include "prefetch.h"
#include "slicefs/guarded_access.h"
#include "slicefs/window_io.h"

/* The most pieces a read of a window of several extents replies from the
 * stack; a more fragmented read takes a heap array. */
#define READ_PIECES_ON_STACK 32

/* Replies span of a window of several extents: one iovec entry per piece,
 * holes from wio_zeros(), nothing copied. Returns fuse_reply_iov's result. */
static int reply_pieces(fuse_req_t req, const struct window *w, const struct wio_span *span)
{
    size_t zeros_len;
    const unsigned char *zeros = wio_zeros(&zeros_len);
    struct iovec stack[READ_PIECES_ON_STACK], *iov = stack;
    size_t count = 0, capacity = READ_PIECES_ON_STACK;
    for (uint64_t off = span->off, end = span->off + span->count; off < end;) {
        struct wio_piece p;
        wio_piece(w, off, end - off, &p);
        if (p.hole && zeros == NULL)
            goto fail;
        if (p.hole && p.count > zeros_len)
            p.count = zeros_len; /* the next turn replies the rest */
        if (count == capacity) {
            capacity *= 2;
            struct iovec *grown = malloc(capacity * sizeof *grown);
            if (grown == NULL)
                goto fail;
            memcpy(grown, iov, count * sizeof *iov);
            if (iov != stack)
                free(iov);
            iov = grown;
        }
        iov[count++] = (struct iovec){p.hole ? (void *)zeros : p.data, (size_t)p.count};
        off += p.count;
    }
    int res = fuse_reply_iov(req, iov, (int)count);
    if (iov != stack)
        free(iov);
    return res;
fail:
    if (iov != stack)
        free(iov);
    return fuse_reply_err(req, ENOMEM);
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)fi;
    const struct window *w = window_or_reply(req, ino, fi, &(struct tree_entry){0});
    if (w == NULL)
        return;
    struct wio_span span;
    int res = wio_read(w, off, size, &span);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);
    if (w->extents != NULL && span.count > 0) {
        struct wio_piece first;
        wio_piece(w, span.off, span.count, &first);
        if (first.count < span.count || first.hole)
            return (void)reply_pieces(req, w, &span);
    }
    /* The reply points into the mapping; the kernel copies from it. A page
     * past the backing file's current end makes that copy fail, and the
     * kernel ends the request with EIO: the daemon itself never touches it. */
    struct fuse_bufvec data = FUSE_BUFVEC_INIT((size_t)span.count);
    data.buf[0].mem = wio_data(w, &span);
    /* Over io_uring, libfuse itself would copy the bytes into the ring's
     * buffer, where a lost page is a SIGBUS in the daemon: the copy is made
     * here, guarded, and the reply names the ring's buffer (which libfuse
     * then does not copy again). */
    char *ring;
    size_t ring_size;
    if (compat_req_is_uring(req) && compat_reply_buffer(req, &ring, &ring_size) == 0 &&
        ring_size >= (size_t)span.count) {
        res = guarded_copy(ring, data.buf[0].mem, (size_t)span.count);
        if (res < 0)
            return (void)fuse_reply_err(req, -res);
        data.buf[0].mem = ring;
    }
    struct slicefs_fs *fs = fs_of(req);
    /* A reply that failed (a lost page) would fail as a store too. */
    if (fuse_reply_data(req, &data, FUSE_BUF_NO_SPLICE) == 0)
        prefetch_around(fs, ino, w, span.off, (size_t)span.count);
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
    /* From a spliced request, a read(2) into a lost page: EFAULT. */
    if (c->copied == -EFAULT)
        return -EIO;
    return c->copied < 0 ? (int)c->copied : 0;
}

/* After count bytes at off of w changed through the mount: O_DSYNC and
 * O_SYNC handles wait for them to be durable; every window over them gets
 * new times and the others drop their cached pages (bytes_changed).
 * Returns 0 or a negative errno. */
static int written(fuse_req_t req, fuse_ino_t ino, const struct window *w, bool sync, uint64_t off,
                   uint64_t count)
{
    if (w->mode == WINDOW_MODE_RW && sync) {
        int res = wio_sync(w, off, count);
        if (res < 0)
            return res;
    }
    bytes_changed(fs_of(req), ino, w, off, count);
    return 0;
}

void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
                  struct fuse_file_info *fi)
{
    const struct window *w = window_or_reply(req, ino, fi, &(struct tree_entry){0});
    if (w == NULL)
        return;
    struct wio_span span;
    int res = wio_write(w, off, fuse_buf_size(in), &span);
    if (res < 0)
        return reply_refused(req, w, res);

    /* One copy per extent; each continues where the last left in. */
    ssize_t copied = 0;
    changes_begin(w);
    for (uint64_t at = span.off, end = span.off + span.count; at < end;) {
        struct wio_piece p;
        wio_piece(w, at, end - at, &p);
        assert(!p.hole); /* wio_write stops before a hole */
        struct fuse_bufvec dst = FUSE_BUFVEC_INIT((size_t)p.count);
        dst.buf[0].mem = p.data;
        struct copy_request copy = {&dst, in, 0};
        res = guarded_run(copy_request, &copy);
        if (res < 0) /* EIO: SIGBUS on a lost page */
            break;
        copied += copy.copied;
        if ((uint64_t)copy.copied < p.count)
            break; /* the request held less */
        at += p.count;
    }
    changes_end(w);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);
    res = written(req, ino, w, fi->flags & O_DSYNC, span.off, (uint64_t)copied);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);
    fuse_reply_write(req, (size_t)copied);
}

void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    (void)fi;
    const struct window *w = window_or_reply(req, ino, fi, &(struct tree_entry){0});
    if (w == NULL)
        return;
    fuse_reply_err(req, -wio_sync(w, 0, UINT64_MAX));
}

/* SEEK_DATA and SEEK_HOLE (SEEK_SET, SEEK_CUR and SEEK_END never reach us). */
void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi)
{
    const struct window *w = window_or_reply(req, ino, fi, &(struct tree_entry){0});
    if (w == NULL)
        return;
    (void)fi;
    int64_t pos = wio_seek(w, off, whence);
    if (pos < 0)
        return (void)fuse_reply_err(req, (int)-pos);
    fuse_reply_lseek(req, (off_t)pos);
}

void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                  struct fuse_file_info *fi)
{
    const struct window *w = window_or_reply(req, ino, fi, &(struct tree_entry){0});
    if (w == NULL)
        return;
    (void)fi;
    struct wio_span changed;
    changes_begin(w);
    int res = wio_fallocate(w, mode, offset, length, &changed);
    changes_end(w);
    if (res < 0)
        return reply_refused(req, w, res);
    if (changed.count > 0)
        bytes_changed(fs_of(req), ino, w, changed.off, changed.count);
    fuse_reply_err(req, 0);
}

/* Copies between windows (or within one): the backing file system's own
 * copy_file_range where window_io allows it (reflinks where it can), a
 * guarded memmove through the mappings otherwise. The kernel passes no open
 * flags with this request: the output handle's O_DSYNC was kept in its fh
 * at open. */
void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
                        struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
                        struct fuse_file_info *fi_out, size_t len, int flags)
{
    struct tree_entry entry_in, entry_out;
    const struct window *in = window_or_reply(req, ino_in, fi_in, &entry_in);
    if (in == NULL)
        return;
    const struct window *out = window_or_reply(req, ino_out, fi_out, &entry_out);
    if (out == NULL)
        return;
    if (flags != 0)
        return (void)fuse_reply_err(req, EINVAL);
    uint64_t count;
    int res = wio_copy(in, off_in, out, off_out, len, &count);
    if (res < 0)
        return reply_refused(req, out, res);
    if (count == 0)
        return (void)fuse_reply_write(req, 0);

    ssize_t copied = -1;
    changes_begin(out);
    if (wio_copy_by_fd(in, (uint64_t)off_in, out, (uint64_t)off_out, count)) {
        struct wio_piece pin, pout;
        wio_piece(in, (uint64_t)off_in, count, &pin);
        wio_piece(out, (uint64_t)off_out, count, &pout);
        loff_t pos_in = (loff_t)pin.backing_off, pos_out = (loff_t)pout.backing_off;
        copied =
            copy_file_range(pin.backing->fd, &pos_in, pout.backing->fd, &pos_out, (size_t)count, 0);
    }
    if (copied < 0) {
        /* wio_copy kept count inside one extent of each side. */
        struct wio_piece pin;
        wio_piece(in, (uint64_t)off_in, count, &pin);
        size_t zeros_len;
        const unsigned char *from = pin.hole ? wio_zeros(&zeros_len) : pin.data;
        if (pin.hole && (from == NULL || count > zeros_len))
            count = from == NULL ? 0 : zeros_len;
        struct wio_span dst = {(uint64_t)off_out, count};
        res = count == 0 ? -ENOMEM : guarded_copy(wio_data(out, &dst), from, (size_t)count);
        copied = (ssize_t)count;
    }
    changes_end(out);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);
    res = written(req, ino_out, out, (fi_out->fh & FH_SYNC) != 0, (uint64_t)off_out,
                  (uint64_t)copied);
    if (res < 0)
        return (void)fuse_reply_err(req, -res);
    fuse_reply_write(req, (size_t)copied);
}
