/* fileop - one system call on a file, its result printed in a form a shell
 * test can compare exactly: "ok", "wrote N", "read N" or "error ENAME".
 *
 *   fileop pwrite FILE OFFSET COUNT [BYTE]   write COUNT copies of BYTE ('x')
 *   fileop pread FILE OFFSET COUNT [random]  random: POSIX_FADV_RANDOM first
 *   fileop open FILE r|w|rw|trunc|sync
 *   fileop truncate FILE SIZE
 *   fileop fsync|fdatasync FILE [r|w|rw]   on an fd opened that way (rw)
 *   fileop create|mkdir|unlink|rmdir FILE
 *   fileop rename|link|symlink FILE FILE2
 *   fileop seek FILE OFFSET data|hole        prints "at N" (lseek SEEK_DATA/SEEK_HOLE)
 *   fileop copy FILE OFFSET FILE2 OFFSET2 COUNT   copy_file_range, prints "copied N"
 *   fileop fallocate FILE MODE OFFSET COUNT  MODE: alloc, keep, punch or zero
 *   fileop utimens FILE now|SECONDS   both times to now, or to SECONDS since 1970
 *   fileop setxattr FILE NAME VALUE   setxattr(2), flags 0
 *   fileop chmod FILE MODE            MODE in octal
 *   fileop handle FILE                name_to_handle_at: "handle TYPE HEX"
 *   fileop byhandle MOUNTDIR TYPE HEX  open_by_handle_at (needs root), then
 *                                     fstat: "ino N size N"
 *   fileop dropcache FILE       posix_fadvise DONTNEED of the whole file: "ok"
 *   fileop cachestat FILE       cachestat(2) of the whole file, in pages:
 *                               "cached N dirty N writeback N"
 *   fileop mmapwrite FILE OFFSET COUNT [BYTE]   stores COUNT BYTEs at OFFSET
 *                               through a MAP_SHARED mapping of FILE, then
 *                               msync(MS_SYNC): "ok"; the range may run past
 *                               the end of the file within its last page
 *                               ("error ENXIO" beyond it: no SIGBUS)
 *
 * Loops for the fault tests (several calls; each ends at the first error,
 * printed with where it happened):
 *
 *   fileop loop read|write FILE OFFSET LENGTH CHUNK SECONDS [direct]
 *       reads (or writes 'L' bytes over) [OFFSET, OFFSET+LENGTH) in CHUNK-byte
 *       calls, pass after pass, for SECONDS (O_DIRECT with "direct"):
 *       "passes N" or "error ENAME at OFF after N passes"
 *   fileop records FILE RECSIZE SLOTS LOG SECONDS
 *       writes record 0, 1, 2, ... (RECSIZE bytes each, distinct contents)
 *       at slot i % SLOTS (byte (i % SLOTS) * RECSIZE of FILE), each with one
 *       pwrite, and appends "i\n" to LOG only after the pwrite returned the
 *       whole record; for SECONDS: "wrote N" or "error ENAME after N"
 *   fileop checkrecords FILE OFFSET RECSIZE SLOTS LOG
 *       every record that LOG lists (the last one of each slot) must be at
 *       byte OFFSET + slot * RECSIZE of FILE; the slot of the record after
 *       the last logged one, which may have been in flight, is checked only
 *       if that record would be its first: "checked N" or
 *       "mismatch record I at OFF"
 *
 * Exit status 0 whenever the call was made (whatever it returned), 2 on
 * bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static int report(long res)
{
    if (res < 0)
        printf("error %s\n", strerrorname_np(errno));
    else
        printf("ok\n");
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: fileop COMMAND FILE [ARGS] (see the source)\n");
    return 2;
}

/* The open(2) flags for a mode word, or -1. */
static int mode_flags(const char *mode)
{
    if (strcmp(mode, "r") == 0)
        return O_RDONLY;
    if (strcmp(mode, "w") == 0)
        return O_WRONLY;
    if (strcmp(mode, "rw") == 0)
        return O_RDWR;
    if (strcmp(mode, "trunc") == 0)
        return O_WRONLY | O_TRUNC;
    if (strcmp(mode, "sync") == 0)
        return O_WRONLY | O_SYNC;
    return -1;
}

static int open_mode(const char *file, const char *mode)
{
    int flags = mode_flags(mode);
    if (flags < 0)
        return usage();
    int fd = open(file, flags);
    report(fd);
    if (fd >= 0)
        close(fd);
    return 0;
}

static int transfer(const char *cmd, const char *file, const char *off_text, const char *count_text,
                    const char *byte_text)
{
    long long off = strtoll(off_text, NULL, 0);
    size_t count = strtoull(count_text, NULL, 0);
    bool writing = strcmp(cmd, "pwrite") == 0;
    /* Page-aligned, as dd's: a direct-I/O request then spans exactly the
     * pages of its bytes (test_write_only counts them). */
    void *buf = NULL;
    if (posix_memalign(&buf, 4096, count ? count : 1) != 0)
        return 2;
    memset(buf, byte_text ? byte_text[0] : 'x', count);
    int fd = open(file, writing ? O_WRONLY : O_RDONLY);
    if (fd < 0) {
        free(buf);
        return report(-1);
    }
    /* "random": no readahead, the kernel asks for exactly these pages. */
    if (!writing && byte_text != NULL && strcmp(byte_text, "random") == 0)
        posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
    ssize_t n = writing ? pwrite(fd, buf, count, off) : pread(fd, buf, count, off);
    if (n < 0)
        report(-1);
    else
        printf("%s %zd\n", writing ? "wrote" : "read", n);
    close(fd);
    free(buf);
    return 0;
}

static int seek(const char *file, const char *off_text, const char *what)
{
    int fd = open(file, O_RDONLY);
    if (fd < 0)
        return report(-1);
    off_t pos =
        lseek(fd, strtoll(off_text, NULL, 0), strcmp(what, "data") == 0 ? SEEK_DATA : SEEK_HOLE);
    if (pos < 0)
        report(-1);
    else
        printf("at %lld\n", (long long)pos);
    close(fd);
    return 0;
}

static int copy(char **argv)
{
    int in = open(argv[2], O_RDONLY);
    int out = open(argv[4], O_WRONLY);
    if (in < 0 || out < 0)
        return report(-1);
    loff_t off_in = strtoll(argv[3], NULL, 0), off_out = strtoll(argv[5], NULL, 0);
    ssize_t n = copy_file_range(in, &off_in, out, &off_out, strtoull(argv[6], NULL, 0), 0);
    if (n < 0)
        report(-1);
    else
        printf("copied %zd\n", n);
    close(in);
    close(out);
    return 0;
}

static int allocate(char **argv)
{
    int mode;
    if (strcmp(argv[3], "alloc") == 0)
        mode = 0;
    else if (strcmp(argv[3], "keep") == 0)
        mode = FALLOC_FL_KEEP_SIZE;
    else if (strcmp(argv[3], "punch") == 0)
        mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    else if (strcmp(argv[3], "zero") == 0)
        mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
    else
        return usage();
    int fd = open(argv[2], O_WRONLY);
    if (fd < 0)
        return report(-1);
    report(fallocate(fd, mode, strtoll(argv[4], NULL, 0), strtoll(argv[5], NULL, 0)));
    close(fd);
    return 0;
}

static int drop_cache(const char *file)
{
    int fd = open(file, O_RDONLY);
    if (fd < 0)
        return report(-1);
    int res = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (res != 0)
        errno = res;
    report(res != 0 ? -1 : 0);
    close(fd);
    return 0;
}

/* cachestat(2) (Linux 6.5), which older C libraries do not declare. */
struct cachestat_range_arg {
    uint64_t off;
    uint64_t len;
};
struct cachestat_result {
    uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};
#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif

static int cache_stat(const char *file)
{
    int fd = open(file, O_RDONLY);
    if (fd < 0)
        return report(-1);
    struct cachestat_range_arg range = {0, 0}; /* len 0: to the end */
    struct cachestat_result cs;
    memset(&cs, 0, sizeof cs);
    if (syscall(SYS_cachestat, fd, &range, &cs, 0) < 0)
        report(-1);
    else
        printf("cached %llu dirty %llu writeback %llu\n", (unsigned long long)cs.nr_cache,
               (unsigned long long)cs.nr_dirty, (unsigned long long)cs.nr_writeback);
    close(fd);
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int loop(char **argv, int argc)
{
    bool writing = strcmp(argv[2], "write") == 0;
    if (!writing && strcmp(argv[2], "read") != 0)
        return usage();
    const char *file = argv[3];
    long long start = strtoll(argv[4], NULL, 0), length = strtoll(argv[5], NULL, 0);
    size_t chunk = strtoull(argv[6], NULL, 0);
    double until = now_seconds() + strtod(argv[7], NULL);
    bool direct = argc > 8 && strcmp(argv[8], "direct") == 0;
    if (chunk == 0 || length <= 0)
        return usage();
    void *buf;
    if (posix_memalign(&buf, 4096, chunk) != 0)
        return 2;
    memset(buf, 'L', chunk);
    int fd = open(file, (writing ? O_WRONLY : O_RDONLY) | (direct ? O_DIRECT : 0));
    if (fd < 0) {
        free(buf);
        return report(-1);
    }
    long passes = 0;
    while (now_seconds() < until) {
        for (long long off = start; off < start + length; off += (long long)chunk) {
            size_t count = chunk;
            if ((long long)count > start + length - off)
                count = (size_t)(start + length - off);
            ssize_t n = writing ? pwrite(fd, buf, count, off) : pread(fd, buf, count, off);
            if (n < 0) {
                printf("error %s at %lld after %ld passes\n", strerrorname_np(errno), off, passes);
                goto out;
            }
            if ((size_t)n != count) {
                printf("short %zd of %zu at %lld after %ld passes\n", n, count, off, passes);
                goto out;
            }
        }
        passes++;
    }
    printf("passes %ld\n", passes);
out:
    close(fd);
    free(buf);
    return 0;
}

/* Byte k of record i: a header naming the record, then a mix of i and k. */
static void fill_record(unsigned char *buf, size_t size, uint64_t i)
{
    int head = snprintf((char *)buf, size, "record %llu;", (unsigned long long)i);
    for (size_t k = head < 0 ? 0 : (size_t)head; k < size; k++) {
        uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL + k * 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 31;
        buf[k] = (unsigned char)(x * 0x94d049bb133111ebULL >> 56);
    }
}

static int records(char **argv)
{
    const char *file = argv[2];
    size_t size = strtoull(argv[3], NULL, 0);
    uint64_t slots = strtoull(argv[4], NULL, 0);
    double until = now_seconds() + strtod(argv[6], NULL);
    if (size == 0 || slots == 0)
        return usage();
    unsigned char *buf = malloc(size);
    int log = open(argv[5], O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0644);
    int fd = open(file, O_WRONLY);
    if (buf == NULL || log < 0 || fd < 0) {
        free(buf);
        return report(-1);
    }
    uint64_t i = 0;
    for (; now_seconds() < until; i++) {
        fill_record(buf, size, i);
        ssize_t n = pwrite(fd, buf, size, (off_t)((i % slots) * size));
        if (n < 0 || (size_t)n != size) {
            printf("error %s after %llu\n", n < 0 ? strerrorname_np(errno) : "short",
                   (unsigned long long)i);
            goto out;
        }
        char line[32];
        int len = snprintf(line, sizeof line, "%llu\n", (unsigned long long)i);
        if (write(log, line, (size_t)len) != len) {
            printf("error %s writing the log\n", strerrorname_np(errno));
            goto out;
        }
    }
    printf("wrote %llu\n", (unsigned long long)i);
out:
    close(fd);
    close(log);
    free(buf);
    return 0;
}

static int check_records(char **argv)
{
    const char *file = argv[2];
    long long base = strtoll(argv[3], NULL, 0);
    size_t size = strtoull(argv[4], NULL, 0);
    uint64_t slots = strtoull(argv[5], NULL, 0);
    FILE *log = fopen(argv[6], "r");
    int fd = open(file, O_RDONLY);
    if (size == 0 || slots == 0 || log == NULL || fd < 0)
        return report(-1);
    /* The last logged record of each slot, plus one (0: none). */
    uint64_t *last = calloc(slots, sizeof *last);
    unsigned char *want = malloc(size), *got = malloc(size);
    if (last == NULL || want == NULL || got == NULL)
        return 2;
    unsigned long long i, top = 0, count = 0;
    bool any = false;
    while (fscanf(log, "%llu", &i) == 1) {
        last[i % slots] = i + 1;
        if (!any || i > top)
            top = i;
        any = true;
    }
    /* The record after the last logged one may have been in flight: its
     * slot may hold it, whole or in part, over an older logged record. */
    uint64_t in_flight_slot = any ? (top + 1) % slots : 0;
    bool skip_in_flight = any && top + 1 >= slots;
    for (uint64_t slot = 0; slot < slots; slot++) {
        if (last[slot] == 0 || (skip_in_flight && slot == in_flight_slot))
            continue;
        uint64_t rec = last[slot] - 1;
        off_t off = (off_t)(base + (long long)(slot * size));
        fill_record(want, size, rec);
        if (pread(fd, got, size, off) != (ssize_t)size || memcmp(want, got, size) != 0) {
            printf("mismatch record %llu at %lld\n", (unsigned long long)rec, (long long)off);
            goto out;
        }
        count++;
    }
    printf("checked %llu\n", count);
out:
    free(last);
    free(want);
    free(got);
    fclose(log);
    close(fd);
    return 0;
}

static int mmap_write(char **argv, int argc)
{
    long long off = strtoll(argv[3], NULL, 0);
    long long count = strtoll(argv[4], NULL, 0);
    int byte = argc > 5 ? argv[5][0] : 'x';
    int fd = open(argv[2], O_RDWR);
    if (fd < 0)
        return report(-1);
    struct stat st;
    long page = sysconf(_SC_PAGESIZE);
    if (fstat(fd, &st) < 0) {
        close(fd);
        return report(-1);
    }
    long long mapped = (st.st_size + page - 1) / page * page;
    if (off < 0 || count <= 0 || off + count > mapped) {
        close(fd);
        errno = ENXIO;
        return report(-1);
    }
    unsigned char *map = mmap(NULL, (size_t)mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        close(fd);
        return report(-1);
    }
    memset(map + off, byte, (size_t)count);
    report(msync(map, (size_t)mapped, MS_SYNC));
    munmap(map, (size_t)mapped);
    close(fd);
    return 0;
}

static int print_handle(const char *file)
{
    struct file_handle *h = malloc(sizeof *h + MAX_HANDLE_SZ);
    h->handle_bytes = MAX_HANDLE_SZ;
    int mount_id;
    if (name_to_handle_at(AT_FDCWD, file, h, &mount_id, 0) < 0) {
        free(h);
        return report(-1);
    }
    printf("handle %d ", h->handle_type);
    for (unsigned i = 0; i < h->handle_bytes; i++)
        printf("%02x", h->f_handle[i]);
    printf("\n");
    free(h);
    return 0;
}

static int open_handle(const char *mountdir, const char *type, const char *hex)
{
    size_t bytes = strlen(hex) / 2;
    struct file_handle *h = malloc(sizeof *h + bytes + 1);
    h->handle_bytes = (unsigned)bytes;
    h->handle_type = atoi(type);
    for (size_t i = 0; i < bytes; i++)
        sscanf(hex + 2 * i, "%2hhx", &h->f_handle[i]);
    int mount_fd = open(mountdir, O_RDONLY | O_DIRECTORY);
    int fd = mount_fd < 0 ? -1 : open_by_handle_at(mount_fd, h, O_RDONLY);
    free(h);
    if (fd < 0)
        return report(-1);
    struct stat st;
    fstat(fd, &st);
    printf("ino %llu size %lld\n", (unsigned long long)st.st_ino, (long long)st.st_size);
    close(fd);
    close(mount_fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *cmd = argv[1], *file = argv[2];
    if ((strcmp(cmd, "pwrite") == 0 || strcmp(cmd, "pread") == 0) && argc >= 5)
        return transfer(cmd, file, argv[3], argv[4], argc > 5 ? argv[5] : NULL);
    if (strcmp(cmd, "open") == 0 && argc == 4)
        return open_mode(file, argv[3]);
    if (strcmp(cmd, "truncate") == 0 && argc == 4)
        return report(truncate(file, strtoll(argv[3], NULL, 0)));
    if ((strcmp(cmd, "fsync") == 0 || strcmp(cmd, "fdatasync") == 0) && argc <= 4) {
        int flags = argc == 4 ? mode_flags(argv[3]) : O_RDWR;
        if (flags < 0)
            return usage();
        int fd = open(file, flags);
        if (fd < 0)
            return report(-1);
        report(strcmp(cmd, "fsync") == 0 ? fsync(fd) : fdatasync(fd));
        close(fd);
        return 0;
    }
    if (strcmp(cmd, "create") == 0) {
        int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0644);
        report(fd);
        if (fd >= 0)
            close(fd);
        return 0;
    }
    if (strcmp(cmd, "mkdir") == 0)
        return report(mkdir(file, 0755));
    if (strcmp(cmd, "unlink") == 0)
        return report(unlink(file));
    if (strcmp(cmd, "rmdir") == 0)
        return report(rmdir(file));
    if (argc == 5 && strcmp(cmd, "seek") == 0)
        return seek(file, argv[3], argv[4]);
    if (argc == 7 && strcmp(cmd, "copy") == 0)
        return copy(argv);
    if (argc == 6 && strcmp(cmd, "fallocate") == 0)
        return allocate(argv);
    if (argc == 3 && strcmp(cmd, "handle") == 0)
        return print_handle(file);
    if (argc == 5 && strcmp(cmd, "byhandle") == 0)
        return open_handle(file, argv[3], argv[4]);
    if (argc == 4 && strcmp(cmd, "utimens") == 0) {
        bool now = strcmp(argv[3], "now") == 0;
        struct timespec t = {now ? 0 : strtoll(argv[3], NULL, 0), now ? UTIME_NOW : 0};
        struct timespec times[2] = {t, t};
        return report(utimensat(AT_FDCWD, file, times, 0));
    }
    if (argc == 5 && strcmp(cmd, "setxattr") == 0)
        return report(setxattr(file, argv[3], argv[4], strlen(argv[4]), 0));
    if (argc == 4 && strcmp(cmd, "chmod") == 0)
        return report(chmod(file, (mode_t)strtoul(argv[3], NULL, 8)));
    if (argc == 4 && strcmp(cmd, "rename") == 0)
        return report(rename(file, argv[3]));
    if (argc == 4 && strcmp(cmd, "link") == 0)
        return report(link(file, argv[3]));
    if (argc == 4 && strcmp(cmd, "symlink") == 0)
        return report(symlink(argv[3], file));
    if (argc == 3 && strcmp(cmd, "dropcache") == 0)
        return drop_cache(file);
    if (argc == 3 && strcmp(cmd, "cachestat") == 0)
        return cache_stat(file);
    if ((argc == 5 || argc == 6) && strcmp(cmd, "mmapwrite") == 0)
        return mmap_write(argv, argc);
    if ((argc == 8 || argc == 9) && strcmp(cmd, "loop") == 0)
        return loop(argv, argc);
    if (argc == 7 && strcmp(cmd, "records") == 0)
        return records(argv);
    if (argc == 7 && strcmp(cmd, "checkrecords") == 0)
        return check_records(argv);
    return usage();
}
