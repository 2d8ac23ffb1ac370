/* fileop - one system call on a file, its result printed in a form a shell
 * test can compare exactly: "ok", "wrote N", "read N" or "error ENAME".
 *
 *   fileop pwrite FILE OFFSET COUNT [BYTE]   write COUNT copies of BYTE ('x')
 *   fileop pread FILE OFFSET COUNT
 *   fileop open FILE r|w|rw|trunc|sync
 *   fileop truncate FILE SIZE
 *   fileop fsync|fdatasync FILE [r|w|rw]   on an fd opened that way (rw)
 *   fileop create|mkdir|unlink|rmdir FILE
 *   fileop rename|link|symlink FILE FILE2
 *   fileop seek FILE OFFSET data|hole        prints "at N" (lseek SEEK_DATA/SEEK_HOLE)
 *   fileop copy FILE OFFSET FILE2 OFFSET2 COUNT   copy_file_range, prints "copied N"
 *   fileop fallocate FILE MODE OFFSET COUNT  MODE: alloc, keep, punch or zero
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
#include <sys/stat.h>
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

static int transfer(const char *cmd, const char *file, const char *off_text,
                    const char *count_text, const char *byte_text)
{
    long long off = strtoll(off_text, NULL, 0);
    size_t count = strtoull(count_text, NULL, 0);
    bool writing = strcmp(cmd, "pwrite") == 0;
    char *buf = malloc(count ? count : 1);
    if (buf == NULL)
        return 2;
    memset(buf, byte_text ? byte_text[0] : 'x', count);
    int fd = open(file, writing ? O_WRONLY : O_RDONLY);
    if (fd < 0) {
        free(buf);
        return report(-1);
    }
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
    off_t pos = lseek(fd, strtoll(off_text, NULL, 0),
                      strcmp(what, "data") == 0 ? SEEK_DATA : SEEK_HOLE);
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
    if (argc == 4 && strcmp(cmd, "rename") == 0)
        return report(rename(file, argv[3]));
    if (argc == 4 && strcmp(cmd, "link") == 0)
        return report(link(file, argv[3]));
    if (argc == 4 && strcmp(cmd, "symlink") == 0)
        return report(symlink(argv[3], file));
    return usage();
}
