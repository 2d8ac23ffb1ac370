/* range_digest.h - digests of a byte range of a backing file.
 *
 * Two kinds. SHA-256, for verification (the user.slicefs.sha256 attribute,
 * slicefs --digest): the plain digest of the bytes, as sha256sum prints it.
 * DIGEST_XXH128, fast, for noticing which windows changed (the state keeps
 * one per window): XXH3-128 over the XXH3-64 (little-endian) of each 1 MiB
 * block of the range, the last one shorter, so that a block that is a hole
 * costs nothing to hash (a 1 TiB sparse window digests in milliseconds).
 *
 * The bytes are read with pread(2), never through a mapping: a range the
 * file no longer holds is an error (-EIO), not a SIGBUS. Holes, found with
 * SEEK_DATA/SEEK_HOLE, are hashed as zeros without being read (for
 * SHA-256, a range that is one hole costs one lookup of a small cache). Thread-safe; allocates a
 * buffer per call (never on the I/O path).
 */
#ifndef SLICEFS_RANGE_DIGEST_H
#define SLICEFS_RANGE_DIGEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum digest_kind {
    DIGEST_XXH128, /* 16 bytes: XXH3-128 of the 1 MiB blocks' XXH3-64 */
    DIGEST_SHA256, /* 32 bytes */
};

#define DIGEST_MAX_SIZE 32

/* The digest size of kind, in bytes. */
size_t digest_size(enum digest_kind kind);

/* Digests [off, off + len) of the file fd into out (digest_size bytes).
 * Returns 0, -EIO when the file ends before off + len, or a negative errno
 * of pread. Adds the bytes it read (not the holes) to *bytes_read when
 * bytes_read is not NULL (progress; atomic add). */
int range_digest(int fd, uint64_t off, uint64_t len, enum digest_kind kind, unsigned char *out,
                 uint64_t *bytes_read);

/* range_digest, given up (-ECANCELED) as soon as *stop is true (checked
 * every 1 MiB). */
int range_digest_until(int fd, uint64_t off, uint64_t len, enum digest_kind kind,
                       unsigned char *out, uint64_t *bytes_read, const atomic_bool *stop);

/* Digests len bytes of memory at p (a cow overlay, through guarded_run: a
 * lost page is -EIO). Returns 0 or -EIO. */
int memory_digest(const unsigned char *p, uint64_t len, enum digest_kind kind, unsigned char *out);

/* One piece of a concatenation: len bytes at off of the file fd, or of
 * memory mem (read through guarded_copy), or zeros (fd < 0, mem NULL). */
struct digest_piece {
    int fd;
    const unsigned char *mem;
    uint64_t off;
    uint64_t len;
};

/* The digest of the concatenation of count pieces, as range_digest would
 * give for those bytes in one file (the 1 MiB blocks run across pieces).
 * Returns 0, -EIO (a file ends before its piece does, a lost page),
 * -ECANCELED (*stop became true; stop may be NULL), or a negative errno. */
int pieces_digest(const struct digest_piece *pieces, size_t count, enum digest_kind kind,
                  unsigned char *out, uint64_t *bytes_read, const atomic_bool *stop);

/* Lowercase hex of a digest of size bytes into text (2 * size + 1). */
void digest_hex(const unsigned char *digest, size_t size, char *text);

#endif
