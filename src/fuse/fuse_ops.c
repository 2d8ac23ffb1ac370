/* fuse_ops.c - init (what slicefs asks of the kernel and libfuse) and the
 * operation table. */
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <unistd.h>

#include "fuse_compat.h"
#include "log.h"
#include "ops.h"

/* -o io_uring: said once, whichever path the requests take. libfuse starts
 * the rings after this reply and logs it itself if that fails. */
static void log_io_uring(const struct slicefs_fs *fs, struct fuse_conn_info *conn)
{
    if (!fs->io_uring)
        return;
#if SLICEFS_HAVE_IO_URING
    if (compat_want(conn, FUSE_CAP_OVER_IO_URING))
        log_msg(LOG_INFO, "io_uring: requests come over FUSE io_uring rings");
    else
        log_msg(LOG_INFO, "io_uring: the kernel does not offer FUSE over io_uring (as root: echo "
                          "Y > /sys/module/fuse/parameters/enable_uring); requests come "
                          "through /dev/fuse");
#else
    (void)conn;
    log_msg(LOG_INFO,
            "io_uring: libfuse %s has no FUSE over io_uring (3.18 has: "
            "scripts/libfuse-3.18.sh); requests come through /dev/fuse",
            fuse_pkgversion());
#endif
}

/* libfuse's room for a request's header (FUSE_BUFFER_HEADER_SIZE). */
#define REQUEST_HEADER_BYTES 4096

/* Can this process size a pipe to hold bytes? */
static bool pipe_can_hold(size_t bytes)
{
    int fds[2];
    if (bytes > INT_MAX || pipe2(fds, O_CLOEXEC) < 0)
        return false;
    int size = fcntl(fds[0], F_SETPIPE_SZ, (int)bytes);
    close(fds[0]);
    close(fds[1]);
    return size >= (int)bytes;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
    struct slicefs_fs *fs = userdata;
    /* As large as the kernel allows (fs.fuse.max_pages_limit) and libfuse
     * can take: fewer round trips for large reads and writes. */
    conn->max_write = compat_max_request_bytes();
    /* A write's bytes spliced through a pipe go from the kernel's pages
     * (with direct I/O: the writer's own) straight into the mapping, one
     * copy instead of two. libfuse needs a pipe of max_write and a page of
     * header, more than pipe-max-size (1 MiB) allows unless root raised it
     * or the daemon has CAP_SYS_RESOURCE; without that, it would try once
     * per thread and fall back, so requests are then read into libfuse's
     * buffer and copied from there. Replies never splice: they are iovecs
     * into the mapping. */
    compat_unwant(conn, FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_MOVE | FUSE_CAP_SPLICE_WRITE);
    if (pipe_can_hold((size_t)conn->max_write + REQUEST_HEADER_BYTES))
        compat_want(conn, FUSE_CAP_SPLICE_READ);
    /* O_TRUNC must arrive as a SETATTR of the size, the one place that
     * zero-fills a window and drops the kernel's stale pages. */
    compat_unwant(conn, FUSE_CAP_ATOMIC_O_TRUNC);
    /* Writes go straight through: the kernel's cache of a window holds no
     * dirty page but a client's mmap stores, which prefetch.h relies on. */
    compat_unwant(conn, FUSE_CAP_WRITEBACK_CACHE);
    /* Inode numbers depend only on what a window is, and "." and ".." are
     * looked up: file handles stay valid across remounts (NFS export). */
    compat_want(conn, FUSE_CAP_EXPORT_SUPPORT);
#if SLICEFS_HAVE_DIRECT_IO_ALLOW_MMAP
    /* A client's shared mmap of a handle with direct I/O (cache=never):
     * the kernel writes its pages back before, and drops them after, each
     * direct read and write of the same bytes. */
    compat_want(conn, FUSE_CAP_DIRECT_IO_ALLOW_MMAP);
#endif
    log_io_uring(fs, conn);
}

/* Every handler that reads the live set runs in an RCU read-side critical
 * section (urcu-bp: a thread registers itself at its first one), so that
 * the set it sees stays valid until it returns; control.c frees a replaced
 * set only after every such section that may have seen it has ended. */
#define IN_RCU(call)                                                                               \
    do {                                                                                           \
        rcu_read_lock();                                                                           \
        call;                                                                                      \
        rcu_read_unlock();                                                                         \
    } while (0)

static void rcu_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    IN_RCU(op_lookup(req, parent, name));
}

static void rcu_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    IN_RCU(op_getattr(req, ino, fi));
}

static void rcu_readlink(fuse_req_t req, fuse_ino_t ino)
{
    IN_RCU(op_readlink(req, ino));
}

static void rcu_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                        struct fuse_file_info *fi)
{
    IN_RCU(op_setattr(req, ino, attr, to_set, fi));
}

static void rcu_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                        struct fuse_file_info *fi)
{
    IN_RCU(op_readdir(req, ino, size, off, fi));
}

static void rcu_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                            struct fuse_file_info *fi)
{
    IN_RCU(op_readdirplus(req, ino, size, off, fi));
}

static void rcu_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    IN_RCU(op_open(req, ino, fi));
}

static void rcu_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    IN_RCU(op_release(req, ino, fi));
}

static void rcu_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    IN_RCU(op_read(req, ino, size, off, fi));
}

static void rcu_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
                          struct fuse_file_info *fi)
{
    IN_RCU(op_write_buf(req, ino, in, off, fi));
}

static void rcu_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    IN_RCU(op_fsync(req, ino, datasync, fi));
}

static void rcu_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
                      struct fuse_file_info *fi)
{
    IN_RCU(op_lseek(req, ino, off, whence, fi));
}

static void rcu_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                          struct fuse_file_info *fi)
{
    IN_RCU(op_fallocate(req, ino, mode, offset, length, fi));
}

static void rcu_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
                                struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
                                struct fuse_file_info *fi_out, size_t len, int flags)
{
    IN_RCU(op_copy_file_range(req, ino_in, off_in, fi_in, ino_out, off_out, fi_out, len, flags));
}

static void rcu_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    IN_RCU(op_getxattr(req, ino, name, size));
}

static void rcu_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    IN_RCU(op_listxattr(req, ino, size));
}

static void rcu_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                         size_t size, int flags)
{
    IN_RCU(op_setxattr(req, ino, name, value, size, flags));
}

static void rcu_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    IN_RCU(op_removexattr(req, ino, name));
}

const struct fuse_lowlevel_ops slicefs_ops = {
    .init = op_init,
    .lookup = rcu_lookup,
    .getattr = rcu_getattr,
    .readlink = rcu_readlink,
    .setattr = rcu_setattr,
    .readdir = rcu_readdir,
    .readdirplus = rcu_readdirplus,
    .open = rcu_open,
    .release = rcu_release,
    .read = rcu_read,
    .write_buf = rcu_write_buf,
    .fsync = rcu_fsync,
    .statfs = op_statfs,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_unlink,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .create = op_create,
    .lseek = rcu_lseek,
    .fallocate = rcu_fallocate,
    .copy_file_range = rcu_copy_file_range,
    .getxattr = rcu_getxattr,
    .listxattr = rcu_listxattr,
    .setxattr = rcu_setxattr,
    .removexattr = rcu_removexattr,
};
