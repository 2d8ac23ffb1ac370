/* window_digest.h - the digest of a window's bytes, whatever its shape.
 *
 * A window of one extent is a range of its backing file (range_digest); a
 * window of several is the concatenation of its extents, holes as zeros
 * (pieces_digest). cow windows are read through their overlay.
 */
#ifndef SLICEFS_WINDOW_DIGEST_H
#define SLICEFS_WINDOW_DIGEST_H

#include <stdatomic.h>
#include <stdint.h>

#include "slicefs/range_digest.h"
#include "slicefs/window_table.h"

/* Digests the first length bytes of w (stopping with -ECANCELED when
 * *stop becomes true; stop may be NULL) (its window_length now, as the caller
 * measured it) into out. A window of one extent is read from its file with
 * pread (its cow overlay is the caller's business: memory_digest); one of
 * several from each extent's file, or its overlay for a cow window.
 * Returns 0 or a negative errno (-EIO: bytes a file no longer holds). */
int window_digest(const struct window *w, uint64_t length, enum digest_kind kind,
                  unsigned char *out, uint64_t *bytes_read, const atomic_bool *stop);

#endif
