/* write_handles.h - handles that may write, counted per backing file, and
 * opens for writing deferred while a prefetch store runs on that file.
 *
 * A prefetch store (prefetch.h) overwrites whatever the kernel caches, so
 * it must never meet a client's dirty page: it runs only while no handle
 * that may write is open on any window of the backing file, and an open for
 * writing waits (its reply is deferred, no thread blocks) until a store
 * under way on that file has ended. Per backing file, a mutex guards those
 * counts; request threads take it only to open and release a handle that
 * may write, and the store thread around each store.
 */
#ifndef SLICEFS_WRITE_HANDLES_H
#define SLICEFS_WRITE_HANDLES_H

#include <stdbool.h>

#include "fuse_ops.h"

/* Per-file state for every backing file of fs->table, and room for
 * LIVE_BACKINGS_ADDED_MAX more (fs->backing_capacity). Returns 0 or -1. */
int write_handles_init(struct slicefs_fs *fs);
void write_handles_free(struct slicefs_fs *fs);

/* An open of w that may write, whose handle (handle_new) is in fi:
 * counts it on w's backing file, and replies now or
 * takes the reply over, to send it once a store under way on that file has
 * ended. */
void write_handles_open(struct slicefs_fs *fs, fuse_req_t req, const struct window *w,
                        struct fuse_file_info *fi);

/* The release of such a handle, counted on b. */
void write_handles_release(struct slicefs_fs *fs, const struct backing *b);

/* Before a store into the kernel's cache of a window of b: true (and the
 * store may run) when no handle that may write is open on b; then
 * write_handles_store_end() must follow. */
bool write_handles_store_begin(struct slicefs_fs *fs, const struct backing *b);

/* After that store: replies to the opens that waited for it. */
void write_handles_store_end(struct slicefs_fs *fs, const struct backing *b);

#endif
