#include "slicefs/backing.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slicefs/guarded_access.h"
#include "slicefs/size_parse.h"

uint64_t backing_page_size(void)
{
    static uint64_t cached;
    if (cached == 0)
        cached = (uint64_t)sysconf(_SC_PAGESIZE);
    return cached;
}

int backing_open(struct backing *b, const char *path, bool read_only, struct sfs_error *err)
{
    int fd = -1;
    bool writable = false;
    if (!read_only) {
        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0)
            writable = true;
        else if (errno != EACCES && errno != EROFS && errno != EPERM && errno != ETXTBSY &&
                 errno != EISDIR) /* a folder: refused below, by its type */
            return sfs_error_set(err, "backing file '%s': %s", path, strerror(errno));
    }
    /* Not blocking: a FIFO named as a backing file is refused by its type
     * below, not waited on for a writer. */
    if (fd < 0)
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return sfs_error_set(err, "backing file '%s': %s", path, strerror(errno));
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK))
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return backing_open_fd(b, fd, path, writable, err);
}

int backing_open_fd(struct backing *b, int fd, const char *path, bool writable,
                    struct sfs_error *err)
{
    memset(b, 0, sizeof *b);
    b->fd = -1;
    b->writable = writable;
    /* Everything from the one open file, never the name again. */
    struct stat st;
    if (fstat(fd, &st) < 0) {
        sfs_error_set(err, "backing file '%s': %s", path, strerror(errno));
        goto fail;
    }
    if (S_ISREG(st.st_mode)) {
        b->size = (uint64_t)st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, &b->size) < 0) {
            sfs_error_set(err, "backing device '%s': cannot read its size: %s", path,
                          strerror(errno));
            goto fail;
        }
        b->is_block_device = true;
    } else {
        sfs_error_set(err, "backing file '%s' is %snot a regular file or a block device", path,
                      S_ISDIR(st.st_mode) ? "a directory, " : "");
        goto fail;
    }
    if (b->size > SIZE_MAX) {
        sfs_error_set(err, "backing file '%s' (%llu bytes) is too large to map", path,
                      (unsigned long long)b->size);
        goto fail;
    }
    int res = file_identity_of(fd, &st, &b->identity);
    if (res < 0) {
        sfs_error_set(err, "backing file '%s': %s", path, strerror(-res));
        goto fail;
    }
    b->path = strdup(path);
    /* A path that no longer resolves (a deleted file held open) stays as given. */
    b->real_path = realpath(path, NULL);
    if (b->real_path == NULL)
        b->real_path = strdup(path);
    if (b->path == NULL || b->real_path == NULL) {
        free(b->path);
        free(b->real_path);
        sfs_error_set(err, "out of memory");
        goto fail;
    }
    b->fd = fd;
    b->dev = st.st_dev;
    b->ino = st.st_ino;
    b->map_len = (size_t)b->size;
    b->opened_size = b->size;
    atomic_init(&b->cur_size, b->size);
    pthread_mutex_init(&b->grow_lock, NULL);
    return 0;

fail:
    close(fd);
    b->writable = false;
    return -1;
}

/* Records a size just read with fstat or set (single-threaded, or under
 * grow_lock). */
static void saw_size(struct backing *b, uint64_t size)
{
    atomic_store_explicit(&b->cur_size, size, memory_order_release);
}

int backing_refresh(struct backing *b, struct stat *st)
{
    pthread_mutex_lock(&b->grow_lock);
    int res = fstat(b->fd, st) < 0 ? -errno : 0;
    if (res == 0 && !b->is_block_device)
        saw_size(b, (uint64_t)st->st_size);
    pthread_mutex_unlock(&b->grow_lock);
    return res;
}

bool backing_limit_first_reached(struct backing *b)
{
    return !atomic_load(&b->limit_reached) && !atomic_exchange(&b->limit_reached, true);
}

uint64_t backing_grow_reserve(void)
{
    const char *text = getenv("SLICEFS_GROW_RESERVE");
    uint64_t value;
    if (text == NULL || size_parse(text, &value, NULL) < 0)
        return GROW_RESERVE;
    return value;
}

int backing_map(struct backing *b, struct sfs_error *err)
{
    if (b->grow_to > b->size) {
        if (!b->writable)
            return sfs_error_set(err,
                                 "backing file '%s': cannot extend it to %llu bytes: it is "
                                 "open read-only",
                                 b->path, (unsigned long long)b->grow_to);
        if (ftruncate(b->fd, (off_t)b->grow_to) < 0)
            return sfs_error_set(err, "backing file '%s': cannot extend it to %llu bytes: %s",
                                 b->path, (unsigned long long)b->grow_to, strerror(errno));
        b->size = b->grow_to;
        saw_size(b, b->size);
    }
    b->map_len = (size_t)b->size;
    if (b->want_shared || b->want_shared_write) {
        int prot = PROT_READ | (b->want_shared_write ? PROT_WRITE : 0);
        uint64_t reserve = b->want_reserve && !b->is_block_device ? backing_grow_reserve() : 0;
        void *map = MAP_FAILED;
        for (;;) {
            b->map_len = (size_t)(b->size + reserve);
            if (b->map_len == 0)
                break;
            map = mmap(NULL, b->map_len, prot, MAP_SHARED, b->fd, 0);
            if (map != MAP_FAILED || reserve == 0)
                break;
            /* Less address space than we hoped (ulimit -v, valgrind): a
             * smaller reserve, down to none. */
            reserve = reserve >= ((uint64_t)2 << 20) ? reserve / 2 : 0;
        }
        if (map == MAP_FAILED && b->map_len > 0)
            return sfs_error_set(err, "backing file '%s': cannot map %zu bytes: %s", b->path,
                                 b->map_len, strerror(errno));
        if (map != MAP_FAILED)
            b->shared_map = map;
    }
    if (b->size == 0 && !b->want_private)
        return 0;
    if (b->want_private && b->size > 0) {
        void *map =
            mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, b->fd, 0);
        if (map == MAP_FAILED)
            return sfs_error_set(err, "backing file '%s': cannot map a private overlay: %s",
                                 b->path, strerror(errno));
        b->private_map = map;
    }
    return 0;
}

/* Rounds [off, off+len) out to whole pages, clipped to the mapping. */
static void page_span(const struct backing *b, uint64_t off, uint64_t len, uint64_t *start,
                      uint64_t *span)
{
    uint64_t lo = off < b->map_len ? off : b->map_len;
    uint64_t hi = lo + (len < b->map_len - lo ? len : b->map_len - lo);
    lo -= lo % backing_page_size();
    *start = lo;
    *span = hi - lo;
}

int backing_sync(struct backing *b, uint64_t off, uint64_t len)
{
    if (b->shared_map == NULL || !b->want_shared_write)
        return 0;
    uint64_t start, span;
    page_span(b, off, len, &start, &span);
    if (span > 0 && msync(b->shared_map + start, span, MS_SYNC) < 0) {
        int expected = 0;
        atomic_compare_exchange_strong(&b->writeback_error, &expected, errno);
    }
    return -atomic_load(&b->writeback_error);
}

/* Zeroes the page-aligned interior of a cow range by mapping fresh anonymous
 * pages over it (no memory is used until written); memsets the edges. */
static int zero_private(const struct backing *b, uint64_t off, uint64_t len)
{
    uint64_t pg = backing_page_size();
    uint64_t first = (off + pg - 1) / pg * pg;
    uint64_t last = (off + len) / pg * pg;
    if (first >= last)
        return guarded_zero(b->private_map + off, len);

    int res = guarded_zero(b->private_map + off, first - off);
    if (res == 0)
        res = guarded_zero(b->private_map + last, off + len - last);
    if (res < 0)
        return res;
    void *map = mmap(b->private_map + first, last - first, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    return map == MAP_FAILED ? -errno : 0;
}

int backing_zero(const struct backing *b, uint64_t off, uint64_t len, bool private)
{
    if (len == 0)
        return 0;
    /* The cow overlay covers the file's size; the shared mapping may reach
     * further (the reserve for growth). */
    uint64_t limit = private ? b->size : b->map_len;
    if (off > limit || len > limit - off)
        return -EINVAL;
    if (private)
        return zero_private(b, off, len);
    if (!b->writable)
        return -EACCES;
    /* Punching a hole drops the page-cache pages too, so the shared mapping
     * reads zeros at once. Where the file system (or device) cannot punch
     * or zero this range, the zeros are written through the mapping. */
    if (fallocate(b->fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, (off_t)off, (off_t)len) == 0)
        return 0;
    if (fallocate(b->fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len) == 0)
        return 0;
    if (b->shared_map == NULL || !b->want_shared_write)
        return -EACCES;
    return guarded_zero(b->shared_map + off, len);
}

int backing_fallocate(const struct backing *b, int mode, uint64_t off, uint64_t len)
{
    assert(mode & FALLOC_FL_KEEP_SIZE);
    assert(off <= b->map_len && len <= b->map_len - off);
    if (!b->writable)
        return -EBADF;
    return fallocate(b->fd, mode, (off_t)off, (off_t)len) < 0 ? -errno : 0;
}

uint64_t backing_allocated(const struct backing *b, uint64_t off, uint64_t len)
{
    enum { SCAN_LIMIT = 1024 };
    uint64_t end = off + len, allocated = 0, pos = off;
    for (int i = 0; i < SCAN_LIMIT && pos < end; i++) {
        off_t data = lseek(b->fd, (off_t)pos, SEEK_DATA);
        if (data < 0)
            return errno == ENXIO ? allocated : allocated + (end - pos);
        if ((uint64_t)data >= end)
            return allocated;
        off_t hole = lseek(b->fd, data, SEEK_HOLE);
        if (hole < 0)
            return allocated + (end - (uint64_t)data);
        uint64_t stop = (uint64_t)hole < end ? (uint64_t)hole : end;
        allocated += stop - (uint64_t)data;
        pos = stop;
    }
    return allocated + (end - pos);
}

int64_t backing_seek(const struct backing *b, uint64_t off, int whence, uint64_t lo, uint64_t hi)
{
    if (off < lo || off >= hi)
        return -ENXIO;
    off_t pos = lseek(b->fd, (off_t)off, whence);
    if (pos < 0) {
        if (errno != ENXIO)
            return -errno;
        /* No data from off to the end of the file. */
        return whence == SEEK_HOLE ? (int64_t)hi : -ENXIO;
    }
    if ((uint64_t)pos >= hi)
        return whence == SEEK_HOLE ? (int64_t)hi : -ENXIO;
    return pos;
}

int backing_resize(struct backing *b, uint64_t size, bool grow_only)
{
    if (size > b->map_len || size > (uint64_t)INT64_MAX)
        return -EFBIG;
    int res = 0;
    pthread_mutex_lock(&b->grow_lock);
    struct stat st;
    if (fstat(b->fd, &st) < 0) {
        res = -errno;
    } else if (grow_only && (uint64_t)st.st_size >= size) {
        saw_size(b, (uint64_t)st.st_size);
    } else if (ftruncate(b->fd, (off_t)size) < 0) {
        res = -errno;
    } else {
        saw_size(b, size);
    }
    pthread_mutex_unlock(&b->grow_lock);
    return res;
}

/* splitmix64's finaliser: a bijection on 64-bit values. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

bool backing_holds(const struct backing *b, uint64_t off, uint64_t len)
{
    struct stat st;
    if (fstat(b->fd, &st) < 0)
        return false;
    uint64_t size = (uint64_t)st.st_size;
    return off <= size && len <= size - off;
}

static uint64_t stamp_of(const struct stat *st)
{
    /* Each step of mix() is a bijection, so a change of any one of size,
     * seconds or nanoseconds always changes the stamp. */
    uint64_t stamp = mix(mix(mix((uint64_t)st->st_size) ^ (uint64_t)st->st_ctim.tv_sec) ^
                         (uint64_t)st->st_ctim.tv_nsec);
    return stamp == 0 ? 1 : stamp; /* 0 is the value before the first check */
}

/* Records the file's stamp now as the mount's own (one fstat). */
static void note_own_change(struct backing *b)
{
    struct stat st;
    if (fstat(b->fd, &st) == 0)
        atomic_store(&b->seen_stamp, stamp_of(&st));
}

void backing_change_begin(struct backing *b)
{
    atomic_fetch_add(&b->changes_under_way, 1);
}

void backing_change_end(struct backing *b)
{
    note_own_change(b);
    atomic_fetch_sub(&b->changes_under_way, 1);
}

bool backing_changed_outside(struct backing *b, const struct stat *st)
{
    if (atomic_load(&b->changes_under_way) > 0)
        return false;
    uint64_t stamp = stamp_of(st);
    return atomic_exchange(&b->seen_stamp, stamp) != stamp;
}

int backing_close(struct backing *b)
{
    int res = 0;
    if (b->shared_map != NULL) {
        res = backing_sync(b, 0, b->map_len);
        munmap(b->shared_map, b->map_len);
    }
    if (b->private_map != NULL)
        munmap(b->private_map, b->size);
    if (b->fd >= 0) {
        close(b->fd);
        pthread_mutex_destroy(&b->grow_lock);
    }
    free(b->path);
    free(b->real_path);
    memset(b, 0, sizeof *b);
    b->fd = -1;
    return res;
}
