/* minimal_ll.c - the floor for scripts/bench.sh: the smallest libfuse
 * low-level server that serves one window of a file from a mapping.
 *
 *   minimal_ll [-o cache=auto|never] [FUSE options] FILE OFFSET LENGTH MOUNTPOINT
 *
 * One file, "w", of LENGTH bytes: reads reply with an iovec into a shared
 * mapping of FILE at OFFSET, writes copy into it. No table, no guards (a
 * truncated FILE kills it), no prefetch, no times: what is left is the cost
 * of FUSE itself. cache=auto keeps the kernel's pages across opens,
 * cache=never opens with direct I/O. Requests as large as slicefs asks
 * (max_pages_limit where libfuse follows it), no splice, no writeback cache.
 * Not a product: the benchmark compiles it against the libfuse slicefs uses.
 */
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef FUSE_HOTFIX_VERSION
#define LARGE_REQUESTS                                                                             \
    (FUSE_MINOR_VERSION > 17 || (FUSE_MINOR_VERSION == 17 && FUSE_HOTFIX_VERSION >= 2))
#else
#define LARGE_REQUESTS 0
#endif

static char *map;
static size_t len;
static int direct;
static struct stat backing;

struct opts {
    char *cache;
};
static const struct fuse_opt spec[] = {{"cache=%s", offsetof(struct opts, cache), 0}, FUSE_OPT_END};

static void fill(fuse_ino_t ino, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_ino = ino;
    st->st_uid = backing.st_uid;
    st->st_gid = backing.st_gid;
    st->st_mtim = backing.st_mtim;
    if (ino == 1) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
    } else {
        st->st_mode = S_IFREG | 0644;
        st->st_nlink = 1;
        st->st_size = (off_t)len;
    }
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
    (void)userdata;
    unsigned long pages = 256;
#if LARGE_REQUESTS
    FILE *f = fopen("/proc/sys/fs/fuse/max_pages_limit", "re");
    if (f != NULL) {
        if (fscanf(f, "%lu", &pages) != 1 || pages < 1 || pages > 65535)
            pages = 256;
        fclose(f);
    }
#endif
    conn->max_write = (unsigned)(pages * (unsigned long)sysconf(_SC_PAGESIZE));
    conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_MOVE | FUSE_CAP_WRITEBACK_CACHE);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    if (parent != 1 || strcmp(name, "w") != 0)
        return (void)fuse_reply_err(req, ENOENT);
    struct fuse_entry_param e = {.ino = 2, .attr_timeout = direct ? 0 : 1, .entry_timeout = 3600};
    fill(2, &e.attr);
    fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)fi;
    struct stat st;
    fill(ino, &st);
    fuse_reply_attr(req, &st, ino == 1 ? 3600 : (direct ? 0 : 1));
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    if (ino != 2)
        return (void)fuse_reply_err(req, EISDIR);
    fi->direct_io = (unsigned)direct;
    fi->keep_cache = (unsigned)!direct;
    fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    if ((size_t)off >= len)
        return (void)fuse_reply_buf(req, NULL, 0);
    if (size > len - (size_t)off)
        size = len - (size_t)off;
    struct fuse_bufvec data = FUSE_BUFVEC_INIT(size);
    data.buf[0].mem = map + off;
    fuse_reply_data(req, &data, FUSE_BUF_NO_SPLICE);
}

static void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
                         struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    size_t size = fuse_buf_size(in);
    if ((size_t)off >= len)
        return (void)fuse_reply_err(req, ENOSPC);
    if (size > len - (size_t)off)
        size = len - (size_t)off;
    struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
    dst.buf[0].mem = map + off;
    ssize_t res = fuse_buf_copy(&dst, in, 0);
    if (res < 0)
        return (void)fuse_reply_err(req, (int)-res);
    fuse_reply_write(req, (size_t)res);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    char buf[256];
    size_t used = 0;
    static const char *const names[] = {".", "..", "w"};
    for (off_t i = off; i < 3; i++) {
        struct stat st;
        fill(i == 2 ? 2 : 1, &st);
        size_t n = fuse_add_direntry(req, buf + used, sizeof buf - used, names[i], &st, i + 1);
        if (used + n > sizeof buf || used + n > size)
            break;
        used += n;
    }
    fuse_reply_buf(req, buf, used);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    (void)ino, (void)datasync, (void)fi;
    fuse_reply_err(req, msync(map, len, MS_SYNC) < 0 ? errno : 0);
}

static const struct fuse_lowlevel_ops ops = {
    .init = op_init,
    .lookup = op_lookup,
    .getattr = op_getattr,
    .open = op_open,
    .read = op_read,
    .write_buf = op_write_buf,
    .readdir = op_readdir,
    .fsync = op_fsync,
};

int main(int argc, char *argv[])
{
    if (argc < 5) {
        fprintf(stderr, "usage: minimal_ll FILE OFFSET LENGTH MOUNTPOINT [-o cache=auto|never] "
                        "[FUSE options]\n");
        return 1;
    }
    const char *file = argv[1];
    off_t offset = (off_t)strtoull(argv[2], NULL, 0);
    len = (size_t)strtoull(argv[3], NULL, 0);
    argv[3] = argv[0]; /* the rest is libfuse's command line */
    struct fuse_args args = FUSE_ARGS_INIT(argc - 3, argv + 3);
    struct opts o = {0};
    struct fuse_cmdline_opts cmd;
    if (fuse_opt_parse(&args, &o, spec, NULL) < 0 || fuse_parse_cmdline(&args, &cmd) != 0 ||
        cmd.mountpoint == NULL)
        return 1;
    direct = o.cache != NULL && strcmp(o.cache, "never") == 0;
    int fd = open(file, O_RDWR);
    if (fd < 0 || fstat(fd, &backing) < 0) {
        perror(file);
        return 1;
    }
    map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
    if (map == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
    if (se == NULL || fuse_set_signal_handlers(se) != 0 ||
        fuse_session_mount(se, cmd.mountpoint) != 0)
        return 1;
    struct fuse_loop_config *config = fuse_loop_cfg_create();
    int res = cmd.singlethread ? fuse_session_loop(se) : fuse_session_loop_mt(se, config);
    fuse_loop_cfg_destroy(config);
    fuse_session_unmount(se);
    fuse_remove_signal_handlers(se);
    fuse_session_destroy(se);
    msync(map, len, MS_SYNC);
    return res < 0 ? 1 : 0;
}
