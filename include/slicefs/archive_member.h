/* archive_member.h - what an archive parser reports, and how it reads.
 *
 * The parsers (tar_walk.h, zip_walk.h) know nothing of windows: they read
 * the archive through a reader (pread on the backing file, or memory in
 * the tests and fuzzers), treat every byte as hostile, and report each
 * member they can serve as byte ranges of the archive. What they cannot
 * serve (compressed data, a member past the end, a broken sparse map) is a
 * warning and a skipped member; a structure they cannot follow further (a
 * bad header) ends the walk with a warning. Every extent reported lies
 * inside the archive (offset <= size and length <= size - offset); the
 * extents of a member are in order and add up to its size.
 */
#ifndef SLICEFS_ARCHIVE_MEMBER_H
#define SLICEFS_ARCHIVE_MEMBER_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct archive_reader {
    /* Reads exactly len bytes at off. Returns 0, or -1 (short or failed). */
    int (*read)(void *arg, uint64_t off, void *buf, size_t len);
    void *arg;
    uint64_t size; /* of the archive */
};

enum member_type {
    MEMBER_FILE,     /* bytes: extents */
    MEMBER_HARDLINK, /* another name for the earlier member link */
    MEMBER_SYMLINK,  /* a symbolic link to link */
};

/* One run of a member's bytes: length bytes at offset of the archive, or
 * length zeros (hole). */
struct archive_extent {
    uint64_t offset;
    uint64_t length;
    bool hole;
};

struct archive_member {
    const char *path; /* as the archive spells it (the caller normalises) */
    const char *link; /* MEMBER_HARDLINK, MEMBER_SYMLINK: the target */
    enum member_type type;
    unsigned mode;    /* permission bits, 07777 */
    int64_t mtime_ns; /* since the epoch */
    uint64_t size;    /* MEMBER_FILE: the sum of the extents' lengths */
    const struct archive_extent *extents;
    size_t extent_count;
};

/* Called once per member; returns 0 to go on, -1 to stop the walk. */
typedef int archive_member_fn(void *arg, const struct archive_member *m);

/* Called with one line (no newline) per skipped member or structure. */
typedef void archive_warn_fn(void *arg, const char *message);

/* Little-endian fields of on-disk structures, read from bytes (no cast of
 * a struct onto them). */
static inline uint16_t archive_le16(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return le16toh(v);
}

static inline uint32_t archive_le32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return le32toh(v);
}

static inline uint64_t archive_le64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return le64toh(v);
}

/* Formats one warning line and passes it to warn (which may be NULL). */
void archive_warn(archive_warn_fn *warn, void *arg, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Parsers' limits: no hostile archive makes them allocate more. */
#define ARCHIVE_MAX_NAME (64u * 1024)       /* long name, pax header */
#define ARCHIVE_MAX_EXTENTS (1u << 20)      /* sparse map entries of a member */
#define ARCHIVE_MAX_META ((size_t)16 << 20) /* pax header, sparse map bytes */

#endif
