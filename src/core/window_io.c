/* window_io.c - window I/O geometry (see window_io.h for the rules).
 *
 * Bounds checks are written so that they cannot overflow: off > size - len,
 * never off + len > size. Every span handed out is checked against the
 * mapping by mapped_extent() before anyone touches it. */
#include "slicefs/window_io.h"

#include <assert.h>
#include <errno.h>
#include <linux/falloc.h>
#include <unistd.h>

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* How many bytes from the window's start the mapping that serves it holds:
 * the cow overlay covers the file's size at mount, the shared mapping
 * map_len bytes. */
static uint64_t mapped_extent(const struct window *w)
{
    const struct backing *b = w->backing;
    uint64_t end = w->mode == WINDOW_MODE_COW ? b->size : b->map_len;
    return end > w->offset ? end - w->offset : 0;
}

/* The invariant every result keeps. */
static void assert_mapped(const struct window *w, uint64_t off, uint64_t count)
{
    uint64_t extent = mapped_extent(w);
    (void)extent;
    assert(off <= extent && count <= extent - off);
}

uint64_t wio_max_length(const struct window *w)
{
    return w->follows_size ? mapped_extent(w) : w->length;
}

int wio_read(const struct window *w, int64_t off, uint64_t size, struct wio_span *span)
{
    if (off < 0)
        return -EINVAL;
    uint64_t length = window_length(w);
    /* At or past the end: an empty span at the end. */
    span->off = min_u64((uint64_t)off, length);
    span->count = min_u64(size, length - span->off);
    assert_mapped(w, span->off, span->count);
    return 0;
}

/* Grows a growable window's file so that the window is at least end bytes
 * long (end <= wio_max_length(w)); leaves a longer one alone. */
static int make_room(const struct window *w, uint64_t end)
{
    assert(end <= wio_max_length(w));
    if (!window_growable(w) || end <= window_length(w))
        return 0;
    return backing_resize(w->backing, w->offset + end, true);
}

int wio_write(const struct window *w, int64_t off, uint64_t size, struct wio_span *span)
{
    if (w->mode == WINDOW_MODE_RO)
        return -EACCES;
    if (off < 0)
        return -EINVAL;
    uint64_t start = (uint64_t)off;
    if (window_growable(w)) {
        /* Like a regular file at its largest size: a write that starts at
         * the limit fails with EFBIG, one across it is cut short there. */
        uint64_t max = wio_max_length(w);
        if (start >= max)
            return -EFBIG;
        int res = make_room(w, start + min_u64(size, max - start));
        if (res < 0)
            return res;
    }
    uint64_t length = window_length(w);
    if (start >= length)
        return -ENOSPC;
    span->off = start;
    span->count = min_u64(size, length - start);
    assert_mapped(w, span->off, span->count);
    return 0;
}

int wio_truncate(const struct window *w, int64_t size, struct wio_span *changed)
{
    *changed = (struct wio_span){0, 0};
    if (w->mode == WINDOW_MODE_RO)
        return -EACCES;
    if (size < 0)
        return -EINVAL;
    uint64_t to = (uint64_t)size;
    uint64_t length = window_length(w);
    bool ignore = w->truncate == WINDOW_TRUNCATE_IGNORE;
    if (window_growable(w)) {
        if (ignore && to <= length)
            return WIO_TRUNCATE_NOTHING;
        if (to > wio_max_length(w))
            return -EFBIG;
        int res = backing_resize(w->backing, w->offset + to, false);
        if (res < 0)
            return res;
        if (to < length)
            *changed = (struct wio_span){to, length - to};
        return WIO_TRUNCATE_RESIZED;
    }
    if (to > length)
        return -EFBIG;
    if (ignore || to == length)
        return WIO_TRUNCATE_NOTHING;
    assert_mapped(w, to, length - to);
    int res = backing_zero(w->backing, w->offset + to, length - to, w->mode == WINDOW_MODE_COW);
    if (res < 0)
        return res;
    *changed = (struct wio_span){to, length - to};
    return WIO_TRUNCATE_ZEROED;
}

/* Checks a fallocate mode as the kernel's vfs_fallocate does. */
static int check_fallocate_mode(int mode)
{
    int known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
    if (mode & ~known)
        return -EOPNOTSUPP;
    if ((mode & FALLOC_FL_PUNCH_HOLE) && (mode & FALLOC_FL_ZERO_RANGE))
        return -EOPNOTSUPP;
    if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))
        return -EOPNOTSUPP;
    return 0;
}

/* Clips [start, start + *len) of a growable window: an operation that may
 * change the size grows the file first (EFBIG past the mapping), one that
 * keeps it acts only on what the window shows now, as past its file's end
 * there is nothing to zero. Returns 0 (*len 0: nothing left to do) or a
 * negative errno. */
static int clip_growable(const struct window *w, int mode, uint64_t start, uint64_t *len)
{
    if (!(mode & FALLOC_FL_KEEP_SIZE)) {
        uint64_t max = wio_max_length(w);
        if (start >= max || *len > max - start)
            return -EFBIG;
        int res = make_room(w, start + *len);
        if (res < 0)
            return res;
    }
    uint64_t length = window_length(w);
    *len = start < length ? min_u64(*len, length - start) : 0;
    return 0;
}

int wio_fallocate(const struct window *w, int mode, int64_t off, int64_t len,
                  struct wio_span *changed)
{
    *changed = (struct wio_span){0, 0};
    if (w->mode == WINDOW_MODE_RO)
        return -EBADF;
    int res = check_fallocate_mode(mode);
    if (res < 0)
        return res;
    if (off < 0 || len <= 0)
        return -EINVAL;
    uint64_t start = (uint64_t)off, count = (uint64_t)len;
    if (count > (uint64_t)INT64_MAX - start)
        return -EFBIG;
    if (window_growable(w)) {
        res = clip_growable(w, mode, start, &count);
        if (res < 0 || count == 0)
            return res;
    } else {
        /* Nothing may cross a fixed window's end, as on a block device. */
        uint64_t length = window_length(w);
        if (start >= length || count > length - start)
            return -EINVAL;
    }
    assert_mapped(w, start, count);
    const struct backing *b = w->backing;
    bool cow = w->mode == WINDOW_MODE_COW;
    if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
        /* Zero-range keeps the blocks allocated where the file system can. */
        res = -EOPNOTSUPP;
        if ((mode & FALLOC_FL_ZERO_RANGE) && !cow)
            res = backing_fallocate(b, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                                    w->offset + start, count);
        if (res < 0)
            res = backing_zero(b, w->offset + start, count, cow);
        if (res < 0)
            return res;
        *changed = (struct wio_span){start, count};
        return 0;
    }
    /* Plain allocation: a cow overlay has nothing to allocate. */
    return cow ? 0 : backing_fallocate(b, FALLOC_FL_KEEP_SIZE, w->offset + start, count);
}

int64_t wio_seek(const struct window *w, int64_t off, int whence)
{
    if (whence != SEEK_DATA && whence != SEEK_HOLE)
        return -EINVAL;
    uint64_t length = window_length(w);
    if (off < 0 || (uint64_t)off >= length)
        return -ENXIO;
    /* A cow window may have written into any hole: all data. */
    if (w->mode == WINDOW_MODE_COW)
        return whence == SEEK_DATA ? off : (int64_t)length;
    int64_t pos =
        backing_seek(w->backing, w->offset + (uint64_t)off, whence, w->offset, w->offset + length);
    if (pos < 0)
        return pos;
    assert((uint64_t)pos >= w->offset && (uint64_t)pos - w->offset <= length);
    return pos - (int64_t)w->offset;
}

int wio_copy(const struct window *in, int64_t off_in, const struct window *out, int64_t off_out,
             uint64_t len, uint64_t *count)
{
    *count = 0;
    if (out->mode == WINDOW_MODE_RO)
        return -EBADF;
    if (off_in < 0 || off_out < 0)
        return -EINVAL;
    struct wio_span src, dst;
    int res = wio_read(in, off_in, min_u64(len, WIO_COPY_MAX), &src);
    if (res < 0 || src.count == 0)
        return res;
    res = wio_write(out, off_out, src.count, &dst);
    if (res < 0)
        return res;
    *count = dst.count;
    assert(*count <= WIO_COPY_MAX);
    return 0;
}

bool wio_copy_by_fd(const struct window *in, uint64_t off_in, const struct window *out,
                    uint64_t off_out, uint64_t count)
{
    if (in->mode == WINDOW_MODE_COW || out->mode == WINDOW_MODE_COW)
        return false;
    uint64_t from = in->offset + off_in, to = out->offset + off_out;
    /* The kernel refuses overlapping ranges of one file. */
    if (in->backing == out->backing && from < to + count && to < from + count)
        return false;
    return backing_holds(in->backing, from, count) && backing_holds(out->backing, to, count);
}

int wio_sync(const struct window *w, uint64_t off, uint64_t count)
{
    if (w->mode != WINDOW_MODE_RW)
        return 0;
    uint64_t length = window_length(w);
    if (off >= length)
        off = length;
    count = min_u64(count, length - off);
    assert_mapped(w, off, count);
    return backing_sync(w->backing, w->offset + off, count);
}

unsigned char *wio_data(const struct window *w, const struct wio_span *span)
{
    assert_mapped(w, span->off, span->count);
    unsigned char *base = window_data(w);
    return base == NULL ? NULL : base + span->off; /* NULL: nothing mapped */
}
