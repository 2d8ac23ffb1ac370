/* faultfs - a FUSE file system of one file that fails on purpose: a test
 * helper that plays a disk with bad sectors.
 *
 *   faultfs [--read OFF:LEN]... [--write OFF:LEN]... [--control FILE] FILE MOUNTPOINT
 *
 * MOUNTPOINT then holds one regular file, named like FILE's base name, that
 * passes reads and writes through to FILE (pread/pwrite) and fsync to
 * fsync(FILE), but fails with EIO every read (--read) or write (--write)
 * that touches one of the given byte ranges; nothing of a failed write
 * reaches FILE. The kernel's page cache is kept (no direct_io), so the file
 * can be mapped MAP_SHARED read-write, and readahead is off, so a page fault
 * reads exactly one page: faults stay where the ranges put them.
 *
 * --control FILE replaces the ranges at run time: FILE holds lines
 * "read OFF LEN" or "write OFF LEN" (numbers in C syntax, '#' comments) and
 * is read again whenever its inode, size or mtime change (write a new one
 * and rename it over the old); a missing FILE means no ranges. Every
 * injected failure is logged on stderr as
 *   faultfs: injected EIO: read|write LEN at OFF
 *
 * Runs in the foreground, one thread, until unmounted or SIGTERM/SIGINT/SIGHUP.
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define FILE_INO 2
#define MAX_RANGES 64

struct range {
    bool write; /* fails writes; else reads */
    uint64_t off;
    uint64_t len;
};

struct faultfs {
    int fd;           /* the real file */
    const char *name; /* its name in the mount */
    const char *control;
    struct stat control_seen; /* identity of the control file last read */
    bool control_present;
    struct range ranges[MAX_RANGES];
    int count;
};

static struct faultfs *fs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

/* Parses "OFF:LEN" into r. Returns 0 or -1. */
static int parse_range(const char *text, bool write, struct range *r)
{
    char *end;
    errno = 0;
    r->off = strtoull(text, &end, 0);
    if (errno != 0 || *end != ':')
        return -1;
    r->len = strtoull(end + 1, &end, 0);
    if (errno != 0 || *end != '\0')
        return -1;
    r->write = write;
    return 0;
}

/* Reads the control file again if it changed since the last look. */
static void reload_control(struct faultfs *fs)
{
    if (fs->control == NULL)
        return;
    struct stat st;
    bool present = stat(fs->control, &st) == 0;
    if (present == fs->control_present &&
        (!present ||
         (st.st_ino == fs->control_seen.st_ino && st.st_size == fs->control_seen.st_size &&
          st.st_mtim.tv_sec == fs->control_seen.st_mtim.tv_sec &&
          st.st_mtim.tv_nsec == fs->control_seen.st_mtim.tv_nsec)))
        return;
    fs->control_present = present;
    fs->control_seen = st;
    fs->count = 0;
    FILE *f = present ? fopen(fs->control, "re") : NULL;
    if (f == NULL)
        return;
    char line[256], kind[16];
    unsigned long long off, len;
    while (fgets(line, sizeof line, f) != NULL && fs->count < MAX_RANGES) {
        if (sscanf(line, "%15s %lli %lli", kind, &off, &len) != 3 || kind[0] == '#')
            continue;
        if (strcmp(kind, "read") != 0 && strcmp(kind, "write") != 0)
            continue;
        fs->ranges[fs->count++] = (struct range){strcmp(kind, "write") == 0, off, len};
    }
    fclose(f);
}

/* Does [off, off+len) touch a range that fails this kind of access? */
static bool injected(struct faultfs *fs, bool write, uint64_t off, uint64_t len)
{
    reload_control(fs);
    for (int i = 0; i < fs->count; i++) {
        const struct range *r = &fs->ranges[i];
        if (r->write == write && len > 0 && r->len > 0 && off < r->off + r->len &&
            r->off < off + len) {
            fprintf(stderr, "faultfs: injected EIO: %s %" PRIu64 " at %" PRIu64 "\n",
                    write ? "write" : "read", len, off);
            return true;
        }
    }
    return false;
}

static int fill_attr(struct faultfs *fs, fuse_ino_t ino, struct stat *st)
{
    if (ino == FUSE_ROOT_ID) {
        memset(st, 0, sizeof *st);
        st->st_ino = ino;
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
        return 0;
    }
    if (ino != FILE_INO)
        return ENOENT;
    if (fstat(fs->fd, st) < 0)
        return errno;
    st->st_ino = ino;
    return 0;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
    (void)userdata;
    /* A fault in a mapping reads one page, not a readahead window. */
    conn->max_readahead = 0;
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct fuse_entry_param e;
    memset(&e, 0, sizeof e);
    if (parent != FUSE_ROOT_ID || strcmp(name, fs_of(req)->name) != 0)
        return (void)fuse_reply_err(req, ENOENT);
    e.ino = FILE_INO;
    e.attr_timeout = 1.0;
    e.entry_timeout = 1.0;
    int res = fill_attr(fs_of(req), FILE_INO, &e.attr);
    if (res != 0)
        return (void)fuse_reply_err(req, res);
    fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)fi;
    struct stat st;
    int res = fill_attr(fs_of(req), ino, &st);
    if (res != 0)
        return (void)fuse_reply_err(req, res);
    fuse_reply_attr(req, &st, 1.0);
}

/* Only the times (touch) and a size that does not change are accepted. */
static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
    (void)fi;
    struct faultfs *fs = fs_of(req);
    if (ino != FILE_INO)
        return (void)fuse_reply_err(req, EPERM);
    if ((to_set & FUSE_SET_ATTR_SIZE) && ftruncate(fs->fd, attr->st_size) < 0)
        return (void)fuse_reply_err(req, errno);
    op_getattr(req, ino, NULL);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    (void)fi;
    if (ino != FUSE_ROOT_ID)
        return (void)fuse_reply_err(req, ENOTDIR);
    char buf[1024];
    size_t used = 0;
    const char *names[] = {".", "..", fs_of(req)->name};
    fuse_ino_t inos[] = {FUSE_ROOT_ID, FUSE_ROOT_ID, FILE_INO};
    size_t limit = size < sizeof buf ? size : sizeof buf;
    for (off_t i = off; i < 3; i++) {
        struct stat st = {.st_ino = inos[i], .st_mode = i < 2 ? S_IFDIR : S_IFREG};
        size_t need = fuse_add_direntry(req, buf + used, limit - used, names[i], &st, i + 1);
        if (need > limit - used)
            break;
        used += need;
    }
    fuse_reply_buf(req, buf, used);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    if (ino != FILE_INO)
        return (void)fuse_reply_err(req, EISDIR);
    fi->keep_cache = 1; /* page cache kept: shared writable mmap works */
    fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    struct faultfs *fs = fs_of(req);
    if (injected(fs, false, (uint64_t)off, size))
        return (void)fuse_reply_err(req, EIO);
    char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return (void)fuse_reply_err(req, ENOMEM);
    ssize_t n = pread(fs->fd, buf, size, off);
    if (n < 0)
        fuse_reply_err(req, errno);
    else
        fuse_reply_buf(req, buf, (size_t)n);
    free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    struct faultfs *fs = fs_of(req);
    if (injected(fs, true, (uint64_t)off, size))
        return (void)fuse_reply_err(req, EIO);
    ssize_t n = pwrite(fs->fd, buf, size, off);
    if (n < 0)
        return (void)fuse_reply_err(req, errno);
    fuse_reply_write(req, (size_t)n);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    fuse_reply_err(req, 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    struct faultfs *fs = fs_of(req);
    int res = datasync ? fdatasync(fs->fd) : fsync(fs->fd);
    fuse_reply_err(req, res < 0 ? errno : 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    (void)ino;
    struct statvfs st;
    if (fstatvfs(fs_of(req)->fd, &st) < 0)
        return (void)fuse_reply_err(req, errno);
    fuse_reply_statfs(req, &st);
}

static const struct fuse_lowlevel_ops faultfs_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .readdir = op_readdir,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_release,
    .fsync = op_fsync,
    .statfs = op_statfs,
};

static int usage(void)
{
    fprintf(stderr, "usage: faultfs [--read OFF:LEN]... [--write OFF:LEN]... "
                    "[--control FILE] FILE MOUNTPOINT\n");
    return 2;
}

int main(int argc, char *argv[])
{
    static struct faultfs fs = {.fd = -1};
    const char *file = NULL, *mountpoint = NULL;
    for (int i = 1; i < argc; i++) {
        bool is_read = strcmp(argv[i], "--read") == 0;
        if ((is_read || strcmp(argv[i], "--write") == 0) && i + 1 < argc) {
            if (fs.count == MAX_RANGES ||
                parse_range(argv[++i], !is_read, &fs.ranges[fs.count]) < 0)
                return usage();
            fs.count++;
        } else if (strcmp(argv[i], "--control") == 0 && i + 1 < argc) {
            fs.control = argv[++i];
        } else if (file == NULL) {
            file = argv[i];
        } else if (mountpoint == NULL) {
            mountpoint = argv[i];
        } else {
            return usage();
        }
    }
    if (mountpoint == NULL)
        return usage();

    int status = 1;
    fs.fd = open(file, O_RDWR | O_CLOEXEC);
    if (fs.fd < 0) {
        fprintf(stderr, "faultfs: %s: %s\n", file, strerror(errno));
        return 1;
    }
    char *name_copy = strdup(file);
    fs.name = name_copy ? basename(name_copy) : "file";

    static char opt_flag[] = "-o", opt_names[] = "fsname=faultfs,subtype=faultfs";
    char *fuse_argv[] = {argv[0], opt_flag, opt_names, NULL};
    struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
    struct fuse_session *se = fuse_session_new(&args, &faultfs_ops, sizeof faultfs_ops, &fs);
    if (se == NULL)
        goto out_file;
    if (fuse_set_signal_handlers(se) != 0)
        goto out_session;
    if (fuse_session_mount(se, mountpoint) != 0)
        goto out_signals;
    int loop = fuse_session_loop(se);
    /* A signal that ends the loop is a clean stop. */
    status = (loop == 0 || loop == SIGTERM || loop == SIGINT || loop == SIGHUP) ? 0 : 1;
    fuse_session_unmount(se);
out_signals:
    fuse_remove_signal_handlers(se);
out_session:
    fuse_session_destroy(se);
out_file:
    fuse_opt_free_args(&args); /* fuse_session_new may have added to them */
    close(fs.fd);
    free(name_copy);
    return status;
}
