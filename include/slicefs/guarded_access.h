/* guarded_access.h - the one way the daemon touches mapped memory.
 *
 * A load or store into a file mapping raises SIGBUS when the page lies past
 * the file's current end (someone truncated it) or the storage failed to
 * read it. Every access the daemon itself makes to a mapping runs inside
 * guarded_run(), which turns such a SIGBUS into -EIO for that call alone;
 * the process and every other request carry on.
 *
 * guarded_access_init() must run once, before any thread starts. A SIGBUS
 * outside a guarded call is a real bug and still kills the process.
 */
#ifndef SLICEFS_GUARDED_ACCESS_H
#define SLICEFS_GUARDED_ACCESS_H

#include <stddef.h>

#include "slicefs/error.h"

int guarded_access_init(struct sfs_error *err);

/* Runs fn(arg) and returns its result, or -EIO if it faulted with SIGBUS.
 * fn is abandoned at the fault: it must not take locks or allocate memory.
 * Calls may nest. */
int guarded_run(int (*fn)(void *arg), void *arg);

/* memmove (the ranges may overlap) and memset under guarded_run: 0 or
 * -EIO. */
int guarded_copy(void *dst, const void *src, size_t len);
int guarded_zero(void *dst, size_t len);

#endif
