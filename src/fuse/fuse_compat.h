/* fuse_compat.h - what the libfuse slicefs is built against offers.
 *
 * slicefs builds on libfuse 3.14 (Debian 12) through 3.18 (Debian sid,
 * scripts/libfuse-3.18.sh). Each newer capability is checked here, at
 * compile time, by the version or the capability's own macro; where it is
 * absent, the helper below does what the older libfuse allows, so the rest
 * of the front end never tests a version itself:
 *
 *   FUSE over io_uring (-o io_uring)       FUSE_CAP_OVER_IO_URING  (3.18)
 *   direct I/O with a client's shared mmap FUSE_CAP_DIRECT_IO_ALLOW_MMAP
 *   parallel direct writes on one inode    fuse_file_info (3.15)
 *   requests above 1 MiB (max_pages_limit) a growable buffer (3.17.2)
 */
#ifndef SLICEFS_FUSE_COMPAT_H
#define SLICEFS_FUSE_COMPAT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "fuse_ops.h"

#define SLICEFS_LIBFUSE_AT_LEAST(major, minor, micro)                                              \
    (FUSE_MAJOR_VERSION > (major) ||                                                               \
     (FUSE_MAJOR_VERSION == (major) &&                                                             \
      (FUSE_MINOR_VERSION > (minor) ||                                                             \
       (FUSE_MINOR_VERSION == (minor) && SLICEFS_FUSE_MICRO >= (micro)))))

/* Only 3.17+ name their micro version in a macro. */
#ifdef FUSE_HOTFIX_VERSION
#define SLICEFS_FUSE_MICRO FUSE_HOTFIX_VERSION
#else
#define SLICEFS_FUSE_MICRO 0
#endif

#ifdef FUSE_CAP_OVER_IO_URING
#define SLICEFS_HAVE_IO_URING 1
#else
#define SLICEFS_HAVE_IO_URING 0
#endif

#ifdef FUSE_CAP_DIRECT_IO_ALLOW_MMAP
#define SLICEFS_HAVE_DIRECT_IO_ALLOW_MMAP 1
#else
#define SLICEFS_HAVE_DIRECT_IO_ALLOW_MMAP 0
#endif

#define SLICEFS_HAVE_PARALLEL_DIRECT_WRITES SLICEFS_LIBFUSE_AT_LEAST(3, 15, 0)

/* From 3.17.2 libfuse grows its receive buffer to what FUSE_INIT agrees,
 * so max_write may follow fs.fuse.max_pages_limit; before, the buffer is
 * fixed at 1 MiB and a header. */
#define SLICEFS_HAVE_LARGE_REQUESTS SLICEFS_LIBFUSE_AT_LEAST(3, 17, 2)

/* The largest request (bytes) the kernel allows this mount and libfuse can
 * take: fs.fuse.max_pages_limit pages (256 unless root raised it; 1 MiB
 * when it cannot be read), 1 MiB before libfuse 3.17.2. */
static inline unsigned compat_max_request_bytes(void)
{
    unsigned long pages = 256;
#if SLICEFS_HAVE_LARGE_REQUESTS
    FILE *f = fopen("/proc/sys/fs/fuse/max_pages_limit", "re");
    if (f != NULL) {
        unsigned long limit;
        /* The kernel caps it at 65535 pages. */
        if (fscanf(f, "%lu", &limit) == 1 && limit >= 1 && limit <= 65535)
            pages = limit;
        fclose(f);
    }
#endif
    return (unsigned)(pages * (unsigned long)sysconf(_SC_PAGESIZE));
}

/* Asks for (or drops) a capability the kernel offers; false when it does
 * not offer it. */
static inline bool compat_want(struct fuse_conn_info *conn, unsigned long flag)
{
    if (!(conn->capable & flag))
        return false;
    conn->want |= (unsigned)flag;
    return true;
}

static inline void compat_unwant(struct fuse_conn_info *conn, unsigned long flag)
{
    conn->want &= ~(unsigned)flag;
}

/* A handle whose writes may run in parallel on one inode (direct I/O);
 * nothing before libfuse 3.15, where the kernel serialises them. */
static inline void compat_parallel_direct_writes(struct fuse_file_info *fi)
{
#if SLICEFS_HAVE_PARALLEL_DIRECT_WRITES
    fi->parallel_direct_writes = 1;
#else
    (void)fi;
#endif
}

/* A request that came over io_uring: its reply is copied by libfuse, in
 * the daemon, into the ring's buffer (compat_reply_buffer). */
static inline bool compat_req_is_uring(fuse_req_t req)
{
#if SLICEFS_HAVE_IO_URING
    return fuse_req_is_uring(req);
#else
    (void)req;
    return false;
#endif
}

/* The ring buffer a reply to an io_uring request is built in (*size bytes
 * at most): 0, or a negative errno. */
static inline int compat_reply_buffer(fuse_req_t req, char **buf, size_t *size)
{
#if SLICEFS_HAVE_IO_URING
    return fuse_req_get_payload(req, buf, size, NULL);
#else
    (void)req, (void)buf, (void)size;
    return -EOPNOTSUPP;
#endif
}

#endif
