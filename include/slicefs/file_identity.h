/* file_identity.h - what names a backing file across remounts, daemon
 * restarts and reboots: the id of its file system (statfs's f_fsid, which
 * file systems with a UUID derive from it; the device number where a file
 * system reports none) and its inode number. Window inode numbers and state
 * files are keyed by it, never by a path or a device number alone.
 */
#ifndef SLICEFS_FILE_IDENTITY_H
#define SLICEFS_FILE_IDENTITY_H

#include <stdint.h>
#include <sys/stat.h>

struct file_identity {
    uint64_t fs;
    uint64_t ino;
};

/* The identity of the open file fd whose status is st. Returns 0, or a
 * negative errno from fstatfs. */
int file_identity_of(int fd, const struct stat *st, struct file_identity *out);

/* A 64-bit hash of (identity, text), stable across builds and machines. */
uint64_t file_identity_hash(const struct file_identity *id, const char *text, uint64_t tag);

#endif
