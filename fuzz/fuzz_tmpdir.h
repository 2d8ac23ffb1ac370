/* fuzz_tmpdir.h - a private temporary folder for a harness that must hand
 * the core a path: created on first use under $TMPDIR (or /tmp), removed
 * with everything registered in it when the process exits normally. (After
 * a crash libFuzzer exits without atexit handlers; scripts/fuzz.sh points
 * TMPDIR into a folder it removes.) Header-only: each harness is one file. */
#ifndef SLICEFS_FUZZ_TMPDIR_H
#define SLICEFS_FUZZ_TMPDIR_H

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { FUZZ_TMP_MAX_FILES = 4 };

static char fuzz_tmp_dir[PATH_MAX];
static char fuzz_tmp_files[FUZZ_TMP_MAX_FILES][PATH_MAX];
static int fuzz_tmp_file_count;

static inline void fuzz_tmp_cleanup(void)
{
    for (int i = 0; i < fuzz_tmp_file_count; i++)
        unlink(fuzz_tmp_files[i]);
    if (fuzz_tmp_dir[0] != '\0')
        rmdir(fuzz_tmp_dir);
}

/* Creates (or truncates) the file name in the private folder, stores its
 * path in path (PATH_MAX bytes) and returns an fd open for reading and
 * writing. Exits the process on failure: the harness cannot run without. */
static inline int fuzz_tmp_file(const char *name, char *path)
{
    if (fuzz_tmp_dir[0] == '\0') {
        const char *base = getenv("TMPDIR");
        if (base == NULL || base[0] == '\0')
            base = "/tmp";
        snprintf(fuzz_tmp_dir, sizeof fuzz_tmp_dir, "%s/slicefs-fuzz-XXXXXX", base);
        if (mkdtemp(fuzz_tmp_dir) == NULL) {
            perror("fuzz: mkdtemp");
            exit(2);
        }
        atexit(fuzz_tmp_cleanup);
    }
    if (fuzz_tmp_file_count == FUZZ_TMP_MAX_FILES) {
        fputs("fuzz: too many temporary files\n", stderr);
        exit(2);
    }
    snprintf(path, PATH_MAX, "%s/%s", fuzz_tmp_dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror("fuzz: open");
        exit(2);
    }
    memcpy(fuzz_tmp_files[fuzz_tmp_file_count++], path, PATH_MAX);
    return fd;
}

/* Replaces the contents of fd with data[0..size), then sets the file's size
 * to file_size (zeros past the data, or the data cut short). */
static inline void fuzz_tmp_fill(int fd, const void *data, size_t size, size_t file_size)
{
    if (size > file_size)
        size = file_size;
    if (ftruncate(fd, 0) < 0 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size) ||
        ftruncate(fd, (off_t)file_size) < 0) {
        perror("fuzz: writing the temporary file");
        abort();
    }
}

#endif
