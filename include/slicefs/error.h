/* error.h - a message buffer the core fills when it refuses something.
 *
 * Core functions return 0 on success and -1 on failure; on failure they have
 * written one line (no trailing newline) into the caller's struct sfs_error
 * that names what was wrong and the values involved. The front end prints it.
 */
#ifndef SLICEFS_ERROR_H
#define SLICEFS_ERROR_H

#include <stddef.h>

struct sfs_error {
    char msg[1024];
};

/* Replaces err->msg with the formatted text. Returns -1 so callers can write
 * `return sfs_error_set(err, ...);`. err may be NULL. */
int sfs_error_set(struct sfs_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Puts the formatted text followed by ": " in front of err->msg. Returns -1. */
int sfs_error_prefix(struct sfs_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
