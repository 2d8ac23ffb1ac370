#include "ops.h"

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
    (void)userdata;
    conn->max_write = MAX_REQUEST_BYTES;
    /* Requests are read into libfuse's buffer and copied from there into
     * the mapped pages. Splicing them through a pipe would need a pipe of
     * max_write plus a header, more than pipe-max-size (1 MiB) allows
     * without CAP_SYS_RESOURCE: libfuse would try it once per thread and
     * fall back, so it is not asked for. */
    conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_MOVE);
    /* O_TRUNC must arrive as a SETATTR of the size, the one place that
     * zero-fills a window and drops the kernel's stale pages. */
    conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
    /* Writes go straight through: the kernel's cache of a window holds no
     * dirty page but a client's mmap stores, which prefetch.h relies on. */
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
    /* Inode numbers depend only on what a window is, and "." and ".." are
     * looked up: file handles stay valid across remounts (NFS export). */
    if (conn->capable & FUSE_CAP_EXPORT_SUPPORT)
        conn->want |= FUSE_CAP_EXPORT_SUPPORT;
}

const struct fuse_lowlevel_ops slicefs_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .getattr = op_getattr,
    .readlink = op_readlink,
    .setattr = op_setattr,
    .readdir = op_readdir,
    .readdirplus = op_readdirplus,
    .open = op_open,
    .release = op_release,
    .read = op_read,
    .write_buf = op_write_buf,
    .fsync = op_fsync,
    .statfs = op_statfs,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_unlink,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .create = op_create,
    .lseek = op_lseek,
    .fallocate = op_fallocate,
    .copy_file_range = op_copy_file_range,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .setxattr = op_setxattr,
    .removexattr = op_removexattr,
};
