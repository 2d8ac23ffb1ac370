/* window_io.h - window I/O geometry: which bytes of which mapping (or of
 * which backing file) a request on a window may touch.
 *
 * Every rule of SPEC section 4 that turns a request on a window (offset and
 * count in the window's coordinates, as the kernel sends them) into a span
 * lives here, in the manner of nbdkit's offset filter, so the FUSE
 * operations only look the window up, ask, and reply:
 *
 *   read        bytes past the end read as nothing (a short or empty read);
 *   write       a write across the end is cut short, one at or past the end
 *               fails with ENOSPC; a growable window (rw, LENGTH "end")
 *               grows its backing file first;
 *   truncate    below the length the rest reads back as zeros (zero mode)
 *               or nothing changes (ignore mode); above it EFBIG; a growable
 *               window resizes its file;
 *   fallocate   inside a fixed window only (EINVAL across its end, as a
 *               block device answers); a growable window behaves like its
 *               backing file;
 *   seek        SEEK_DATA/SEEK_HOLE of the backing file, inside the window;
 *   copy        copy_file_range: read side clipped like a read, write side
 *               like a write, count capped so the reply's 32-bit size holds;
 *   sync        the backing range the window covers.
 *
 * A window of several extents (window_table.h) has a fixed length; every
 * rule above holds for it as a whole, and the front end walks a span
 * extent by extent with wio_piece() (an O(log extents) look-up, then the
 * next extents in order). A hole extent reads zeros (wio_zeros); a write
 * that starts in one fails with ENOSPC (no bytes stand behind it) and one
 * that reaches one is cut short there; truncation and punching leave it a
 * hole; SEEK_HOLE finds it. copy_file_range moves at most one extent's
 * worth per call (a short count, which callers repeat).
 *
 * Invariant (asserted): every span returned lies inside the mapping that
 * serves the window: w->offset + off + count <= map_len. A window that
 * follows its file's size never reaches past its file's mapping, however
 * large the file grows outside the mount: its length stops at the mapping's
 * end, and growth beyond it (a write, truncate or fallocate) fails with
 * EFBIG.
 *
 * Offsets come in as the kernel's signed values; a negative one is EINVAL.
 * Results are 0 (or a count) or a negative errno.
 */
#ifndef SLICEFS_WINDOW_IO_H
#define SLICEFS_WINDOW_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "slicefs/window_table.h"

/* The most one copy_file_range moves: the kernel's own MAX_RW_COUNT
 * (INT_MAX rounded down to a 4 KiB page), so the count always fits the
 * reply's 32-bit size field. */
#define WIO_COPY_MAX ((uint64_t)INT32_MAX & ~(uint64_t)4095)

/* A span of a window: [off, off + count) in the window's coordinates. */
struct wio_span {
    uint64_t off;
    uint64_t count;
};

/* The most bytes the window can ever show: up to the end of its mapping
 * (a growable window), or its fixed length. */
uint64_t wio_max_length(const struct window *w);

/* A read of size bytes at off: *span is what to reply (count 0: end of
 * file). Returns 0 or -EINVAL. */
int wio_read(const struct window *w, int64_t off, uint64_t size, struct wio_span *span);

/* A write of size bytes at off: grows a growable window's file as far as
 * the write reaches (never past its mapping), then clips. Returns 0 and a
 * non-empty *span, or -EACCES (ro), -EINVAL, -ENOSPC (at or past the end),
 * -EFBIG (a growable window past its mapping), or the resize's error. */
int wio_write(const struct window *w, int64_t off, uint64_t size, struct wio_span *span);

/* What to do on truncation of a fixed window below its length. */
enum wio_truncate_result {
    WIO_TRUNCATE_NOTHING, /* nothing changed */
    WIO_TRUNCATE_ZEROED,  /* *changed read back as zeros now */
    WIO_TRUNCATE_RESIZED, /* the backing file (a growable window) was resized */
};

/* Truncates w to size (SPEC section 4): zeroes [size, length) of a fixed
 * window in zero mode, changes nothing in ignore mode, resizes the file of
 * a growable window (in ignore mode only upwards). Returns a
 * wio_truncate_result (>= 0) with *changed the bytes whose content changed,
 * or -EACCES (ro), -EINVAL, -EFBIG, or the backing's error. */
int wio_truncate(const struct window *w, int64_t size, struct wio_span *changed);

/* fallocate(mode, off, len) on w, done in the backing file (or the cow
 * overlay). Modes: 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE |
 * FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE [| FALLOC_FL_KEEP_SIZE]. A
 * fixed window takes only ranges inside it (EINVAL otherwise); a growable
 * one takes what its file would, up to the end of its mapping (EFBIG past
 * it). *changed is the span whose content changed (count 0: none). Returns
 * 0, or -EBADF (ro), -EOPNOTSUPP, -EINVAL, -EFBIG, or the file system's
 * error. */
int wio_fallocate(const struct window *w, int mode, int64_t off, int64_t len,
                  struct wio_span *changed);

/* lseek(off, whence) with SEEK_DATA or SEEK_HOLE: the position in the
 * window, or -ENXIO (off negative, at or past the end, or no data after
 * it), -EINVAL (another whence). A cow window is all data. */
int64_t wio_seek(const struct window *w, int64_t off, int whence);

/* copy_file_range of len bytes from off_in of in to off_out of out:
 * clipped at in's end (count 0: nothing to copy), grown or clipped at
 * out's like a write, capped at WIO_COPY_MAX. Returns 0 with *count, or
 * -EBADF (out is ro), -EINVAL, -ENOSPC, -EFBIG. */
int wio_copy(const struct window *in, int64_t off_in, const struct window *out, int64_t off_out,
             uint64_t len, uint64_t *count);

/* Whether a copy of count bytes between these spans can go through the
 * backing files' own copy_file_range: both in files (no cow side), both
 * ranges inside their files now (a range past a file's end would copy
 * short or grow the file), and not overlapping in one file. */
bool wio_copy_by_fd(const struct window *in, uint64_t off_in, const struct window *out,
                    uint64_t off_out, uint64_t count);

/* Writes back [off, off + count) of w (clipped to the window) and waits for
 * it; a cow or ro window has nothing to write back. Returns 0 or a negative
 * errno. */
int wio_sync(const struct window *w, uint64_t off, uint64_t count);

/* The mapped bytes of span of w: for a span that wio_read, wio_write or
 * wio_copy returned, of a window of one extent (or inside one extent). */
unsigned char *wio_data(const struct window *w, const struct wio_span *span);

/* The part of a span that lies in one extent. */
struct wio_piece {
    uint64_t off;            /* in the window */
    uint64_t count;          /* > 0 */
    struct backing *backing; /* the extent's backing file */
    uint64_t backing_off;    /* where off lies in it (0 for a hole) */
    unsigned char *data;     /* off's byte in the mapping; NULL for a hole */
    bool hole;
};

/* The piece of [off, off + count) of w that starts at off: all of it for a
 * window of one extent, else up to the end of the extent that holds off.
 * off < window_length(w), count > 0 and off + count <= window_length(w):
 * a span that wio_read, wio_write, wio_copy or wio_sync clipped. */
void wio_piece(const struct window *w, uint64_t off, uint64_t count, struct wio_piece *piece);

/* At least WIO_ZEROS_MIN bytes of zeros to reply a hole from (read-only,
 * mapped once, never written); *len says how many. NULL if they cannot be
 * mapped. */
#define WIO_ZEROS_MIN ((size_t)1 << 20)
const unsigned char *wio_zeros(size_t *len);

#endif
