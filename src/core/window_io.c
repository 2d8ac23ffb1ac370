/* window_io.c - window I/O geometry (see window_io.h for the rules).
 *
 * Bounds checks are written so that they cannot overflow: off > size - len,
 * never off + len > size. Every span handed out is checked against the
 * mapping by mapped_extent() before anyone touches it. */
#include "slicefs/window_io.h"

#include <assert.h>
#include <errno.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <sys/mman.h>
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

/* The invariant every result keeps. A window of several extents is fixed
 * (window_table_map checked each extent inside its mapping): its spans
 * need only lie inside its length. */
static void assert_mapped(const struct window *w, uint64_t off, uint64_t count)
{
    uint64_t extent = w->extents != NULL ? w->length : mapped_extent(w);
    (void)extent;
    assert(off <= extent && count <= extent - off);
}

void wio_piece(const struct window *w, uint64_t off, uint64_t count, struct wio_piece *piece)
{
    assert(count > 0);
    assert_mapped(w, off, count);
    if (w->extents == NULL) {
        unsigned char *base = window_data(w);
        *piece = (struct wio_piece){
            off, count, w->backing, w->offset + off, base ? base + off : NULL, false};
        return;
    }
    const struct window_extent *e = window_extent_at(w, off);
    uint64_t in = off - e->start;
    assert(in < e->length);
    unsigned char *base = window_extent_data(w, e);
    *piece = (struct wio_piece){
        .off = off,
        .count = min_u64(count, e->length - in),
        .backing = e->backing,
        .backing_off = e->hole ? 0 : e->offset + in,
        .data = base ? base + in : NULL,
        .hole = e->hole,
    };
}

static const unsigned char *zeros;
static pthread_once_t zeros_once = PTHREAD_ONCE_INIT;

static void map_zeros(void)
{
    void *p = mmap(NULL, WIO_ZEROS_MIN, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    zeros = p == MAP_FAILED ? NULL : p;
}

const unsigned char *wio_zeros(size_t *len)
{
    pthread_once(&zeros_once, map_zeros);
    *len = WIO_ZEROS_MIN;
    return zeros;
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
    if (w->extents != NULL && span->count > 0) {
        /* No bytes stand behind a hole: a write starts in data and stops
         * where the next hole begins. */
        const struct window_extent *e = window_extent_at(w, start);
        if (e->hole)
            return -ENOSPC;
        const struct window_extent *last = &w->extents[w->extent_count - 1];
        while (e < last && !e[1].hole)
            e++;
        uint64_t data_end = e == last ? length : e[1].start;
        span->count = min_u64(span->count, data_end - start);
    }
    assert_mapped(w, span->off, span->count);
    return 0;
}

/* Zeroes [off, off + count) of a window of several extents, extent by
 * extent (a hole is zeros already). Returns 0 or a negative errno. */
static int zero_pieces(const struct window *w, uint64_t off, uint64_t count, bool allocate)
{
    bool cow = w->mode == WINDOW_MODE_COW;
    for (uint64_t end = off + count; off < end;) {
        struct wio_piece p;
        wio_piece(w, off, end - off, &p);
        int res = 0;
        if (!p.hole && allocate)
            res =
                cow ? 0 : backing_fallocate(p.backing, FALLOC_FL_KEEP_SIZE, p.backing_off, p.count);
        else if (!p.hole)
            res = backing_zero(p.backing, p.backing_off, p.count, cow);
        if (res < 0)
            return res;
        off += p.count;
    }
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
    int res = w->extents != NULL ? zero_pieces(w, to, length - to, false)
                                 : backing_zero(w->backing, w->offset + to, length - to,
                                                w->mode == WINDOW_MODE_COW);
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
    if (w->extents != NULL) {
        bool zero = mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE);
        res = zero_pieces(w, start, count, !zero);
        if (res == 0 && zero)
            *changed = (struct wio_span){start, count};
        return res;
    }
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

/* SEEK_DATA or SEEK_HOLE from off in a window of several extents: a hole
 * extent is a hole, a data extent is its backing file's range. */
static int64_t seek_pieces(const struct window *w, uint64_t off, int whence)
{
    uint64_t length = w->length;
    bool cow = w->mode == WINDOW_MODE_COW;
    const struct window_extent *e = window_extent_at(w, off);
    const struct window_extent *last = &w->extents[w->extent_count - 1];
    for (;; e++) {
        uint64_t from = off > e->start ? off - e->start : 0;
        if (e->hole) {
            if (whence == SEEK_HOLE)
                return (int64_t)(e->start + from);
        } else if (e->length > 0 && cow) {
            if (whence == SEEK_DATA)
                return (int64_t)(e->start + from);
        } else if (e->length > 0) {
            uint64_t lo = e->offset, hi = e->offset + e->length;
            int64_t pos = backing_seek(e->backing, lo + from, whence, lo, hi);
            if (pos >= 0 && (uint64_t)pos < hi)
                return (int64_t)(e->start + ((uint64_t)pos - lo));
            if (pos < 0 && pos != -ENXIO)
                return pos;
        }
        if (e == last)
            return whence == SEEK_HOLE ? (int64_t)length : -ENXIO;
    }
}

int64_t wio_seek(const struct window *w, int64_t off, int whence)
{
    if (whence != SEEK_DATA && whence != SEEK_HOLE)
        return -EINVAL;
    uint64_t length = window_length(w);
    if (off < 0 || (uint64_t)off >= length)
        return -ENXIO;
    if (w->extents != NULL)
        return seek_pieces(w, (uint64_t)off, whence);
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
    if (in->extents != NULL) {
        struct wio_piece p; /* one extent's worth at a time */
        wio_piece(in, src.off, src.count, &p);
        src.count = p.count;
    }
    res = wio_write(out, off_out, src.count, &dst);
    if (res < 0)
        return res;
    if (out->extents != NULL) {
        struct wio_piece p;
        wio_piece(out, dst.off, dst.count, &p);
        dst.count = p.count;
    }
    *count = dst.count;
    assert(*count <= WIO_COPY_MAX);
    return 0;
}

bool wio_copy_by_fd(const struct window *in, uint64_t off_in, const struct window *out,
                    uint64_t off_out, uint64_t count)
{
    if (in->mode == WINDOW_MODE_COW || out->mode == WINDOW_MODE_COW)
        return false;
    struct wio_piece pin, pout; /* wio_copy kept the count inside one extent of each */
    wio_piece(in, off_in, count, &pin);
    wio_piece(out, off_out, count, &pout);
    assert(pin.count == count && pout.count == count);
    if (pin.hole || pout.hole)
        return false;
    uint64_t from = pin.backing_off, to = pout.backing_off;
    /* The kernel refuses overlapping ranges of one file. */
    if (pin.backing == pout.backing && from < to + count && to < from + count)
        return false;
    return backing_holds(pin.backing, from, count) && backing_holds(pout.backing, to, count);
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
    if (w->extents == NULL)
        return backing_sync(w->backing, w->offset + off, count);
    for (uint64_t end = off + count; off < end;) {
        struct wio_piece p;
        wio_piece(w, off, end - off, &p);
        int res = p.hole ? 0 : backing_sync(p.backing, p.backing_off, p.count);
        if (res < 0)
            return res;
        off += p.count;
    }
    return 0;
}

unsigned char *wio_data(const struct window *w, const struct wio_span *span)
{
    assert_mapped(w, span->off, span->count);
    if (w->extents != NULL) {
        struct wio_piece p;
        if (span->count == 0)
            return NULL;
        wio_piece(w, span->off, span->count, &p);
        assert(p.count == span->count);
        return p.data;
    }
    unsigned char *base = window_data(w);
    return base == NULL ? NULL : base + span->off; /* NULL: nothing mapped */
}
