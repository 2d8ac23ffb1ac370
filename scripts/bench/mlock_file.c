/* mlock_file - page-cache control for scripts/bench.sh (compiled on the fly).
 *
 *   mlock_file lock FILE      map FILE, mlock it (reading every page in),
 *                             print "locked BYTES" and sleep until a signal
 *                             or until its parent ends
 *   mlock_file drop FILE      fdatasync, then posix_fadvise(DONTNEED) on the
 *                             whole file; print the percentage still resident
 *   mlock_file resident FILE [OFFSET LENGTH]
 *                             print the percentage of the range in memory
 *
 * Pages that a process maps or locks are not dropped by DONTNEED, so "drop"
 * needs the locker and every daemon that maps FILE gone first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_file(const char *path, off_t *size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "mlock_file: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        fprintf(stderr, "mlock_file: stat %s: %s\n", path, strerror(errno));
        exit(1);
    }
    *size = st.st_size;
    return fd;
}

/* Percentage of pages of [offset, offset + length) in the page cache. */
static double resident(int fd, off_t offset, off_t length)
{
    long page = sysconf(_SC_PAGESIZE);
    off_t start = offset / page * page;
    size_t span = (size_t)(offset + length - start);
    size_t pages = (span + (size_t)page - 1) / (size_t)page;
    if (pages == 0)
        return 100.0;
    void *map = mmap(NULL, span, PROT_READ, MAP_SHARED, fd, start);
    if (map == MAP_FAILED) {
        perror("mlock_file: mmap");
        exit(1);
    }
    unsigned char *vec = malloc(pages);
    if (vec == NULL || mincore(map, span, vec) < 0) {
        perror("mlock_file: mincore");
        exit(1);
    }
    size_t in = 0;
    for (size_t i = 0; i < pages; i++)
        in += vec[i] & 1;
    free(vec);
    munmap(map, span);
    return 100.0 * (double)in / (double)pages;
}

static void on_signal(int sig)
{
    (void)sig;
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: mlock_file lock|drop|resident FILE [OFFSET LENGTH]\n");
        return 2;
    }
    off_t size;
    int fd = open_file(argv[2], &size);
    if (strcmp(argv[1], "lock") == 0) {
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        /* Never outlive the script, even one killed with SIGKILL. */
        pid_t parent = getppid();
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
            return 1;
        void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
            perror("mlock_file: mmap");
            return 1;
        }
        if (mlock(map, (size_t)size) < 0) {
            /* Not fatal: the pages are still read in and mapped. */
            fprintf(stderr, "mlock_file: mlock: %s (pages read in, not locked)\n", strerror(errno));
            madvise(map, (size_t)size, MADV_WILLNEED);
            volatile unsigned char sink = 0;
            for (off_t i = 0; i < size; i += 4096)
                sink ^= ((const unsigned char *)map)[i];
            (void)sink;
        }
        printf("locked %lld\n", (long long)size);
        fflush(stdout);
        for (;;)
            pause();
    }
    if (strcmp(argv[1], "drop") == 0) {
        if (fdatasync(fd) < 0)
            perror("mlock_file: fdatasync");
        int err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        if (err != 0)
            fprintf(stderr, "mlock_file: posix_fadvise: %s\n", strerror(err));
        printf("%.1f\n", resident(fd, 0, size));
        return 0;
    }
    if (strcmp(argv[1], "resident") == 0) {
        off_t offset = argc > 3 ? strtoll(argv[3], NULL, 0) : 0;
        off_t length = argc > 4 ? strtoll(argv[4], NULL, 0) : size - offset;
        printf("%.1f\n", resident(fd, offset, length));
        return 0;
    }
    fprintf(stderr, "mlock_file: unknown command %s\n", argv[1]);
    return 2;
}
