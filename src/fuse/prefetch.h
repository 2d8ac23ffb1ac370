/* prefetch.h - the kernel's page cache filled around small reads.
 *
 * A read smaller than the kernel's readahead is a random read: after its
 * reply, the aligned PREFETCH_BLOCK around it is stored into the kernel's
 * cache of that window (fuse_lowlevel_notify_store), straight from the
 * mapping, so that the next reads nearby need no request.
 *
 * A store overwrites whatever the kernel caches, so it must never meet a
 * client's dirty page: it is done only while no handle that may write is
 * open on any window of the backing file, and an open for writing waits
 * (its reply is deferred, no thread blocks) until the stores under way on
 * that file have ended. Per backing file, a mutex guards the two counts;
 * it is taken only by small reads and by opens and releases for writing.
 */
#ifndef SLICEFS_PREFETCH_H
#define SLICEFS_PREFETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "fuse_ops.h"

#define PREFETCH_BLOCK ((uint64_t)256 << 10)
/* Reads of this size and more are sequential enough for the kernel's own
 * readahead. */
#define PREFETCH_BELOW ((size_t)64 << 10)
/* Stores under way at once, across the mount: a store may wait for pages
 * that a queued request holds locked, so most threads stay free to serve. */
#define PREFETCH_MAX_AT_ONCE 2

/* Per-file state, one for each backing file of the table. Returns 0 or -1. */
int prefetch_init(struct slicefs_fs *fs);
void prefetch_free(struct slicefs_fs *fs);

/* After the reply to a read of [off, off+count) of window w (inode ino). */
void prefetch_around(struct slicefs_fs *fs, fuse_ino_t ino, const struct window *w,
                     uint64_t off, size_t count);

/* An open of w that may write: counts it, and replies now (false) or takes
 * the reply over, to send it once the stores under way have ended (true). */
bool prefetch_open_for_write(struct slicefs_fs *fs, fuse_req_t req, const struct window *w,
                             const struct fuse_file_info *fi);

/* The release of such a handle. */
void prefetch_release_writer(struct slicefs_fs *fs, const struct window *w);

#endif
