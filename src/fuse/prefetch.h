/* prefetch.h - the kernel's page cache filled around small reads.
 *
 * A read smaller than the kernel's readahead is a random read: after its
 * reply, the aligned PREFETCH_BLOCK around it is stored into the kernel's
 * cache of that window (fuse_lowlevel_notify_store), straight from the
 * mapping, so that the next reads nearby need no request.
 *
 * Stores run on one thread of their own ("sfs-prefetch"; none with
 * cache=never), fed by a small FIFO queue (full: the block is not
 * prefetched). A store waits for pages that a queued request
 * holds locked; request threads never do, so they are always there to
 * serve that request. When the loop ends, prefetch_stop() serves requests
 * itself until the store under way has ended, then stops the thread.
 *
 * A store overwrites whatever the kernel caches, so it must never meet a
 * client's dirty page: it runs only while no handle that may write is open
 * on the backing file (write_handles.h counts them and defers opens).
 *
 * If a store does not end within 10 s of the loop's end, the thread is
 * left (detached, its state never freed) for the unmount to end it.
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
/* Blocks waiting for the store thread; more are dropped. */
#define PREFETCH_QUEUE 64

/* The store thread (not started) and the write-handle state it consults
 * (write_handles_init). Returns 0 or -1. */
int prefetch_init(struct slicefs_fs *fs);
/* Starts the store thread once fs->session is set. Returns 0 or -1. */
int prefetch_start(struct slicefs_fs *fs);
/* After the request loop has ended: serves requests until the store under
 * way has ended, then stops the thread. */
void prefetch_stop(struct slicefs_fs *fs);
void prefetch_free(struct slicefs_fs *fs);

/* After the reply to a read of [off, off+count) of window w (inode ino). */
/* Drops the stores queued and waits for the one under way: after a change
 * of the windows (control.c), a queued store may hold bytes of a window as
 * it was, which the kernel must not cache after it was told of the change. */
void prefetch_settle(struct slicefs_fs *fs);

void prefetch_around(struct slicefs_fs *fs, fuse_ino_t ino, const struct window *w, uint64_t off,
                     size_t count);

#endif
