/* options.h - the command line, as mount.fuse3 and people write it.
 *
 *   slicefs [options] BACKING MOUNTPOINT
 *   slicefs [options] -o table=FILE MOUNTPOINT
 *   slicefs --list [options] [BACKING]
 *   slicefs --digest [options] [BACKING]
 *
 * slicefs's own options (window=, table=, ro, --list, --help, --version)
 * are taken out; everything else stays in args for libfuse, which refuses
 * what it does not know. Window sources are kept in command-line order.
 */
#ifndef SLICEFS_OPTIONS_H
#define SLICEFS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include "fuse_ops.h"
#include "slicefs/window_source.h"

struct source_use {
    const struct window_source *source;
    char *arg;
};

struct slicefs_options {
    char *backing;              /* BACKING, or NULL */
    char *mountpoint;           /* MOUNTPOINT, or NULL (also left in args) */
    struct source_use *sources; /* in command-line order */
    size_t source_count;
    bool read_only;                /* -o ro */
    bool create;                   /* -o create */
    bool extend;                   /* -o extend */
    unsigned sector_size;          /* -o sectorsize=N, or 0 */
    enum cache_mode cache;         /* -o cache=auto|always|never */
    enum window_truncate truncate; /* -o truncate=zero|ignore, or the default */
    mode_t umask;                  /* -o umask=NNN: bits no window or folder shows */
    bool list;                     /* --list: print the window table, mount nothing */
    bool digest;                   /* --digest: print every window's SHA-256, mount nothing */
    char *state;                   /* -o state=FILE|FOLDER, or NULL: the default folder */
    bool no_state;                 /* -o nostate */
    char *save;                    /* -o save=FILE (absolute): the live table, or NULL */
    bool io_uring;                 /* -o io_uring: FUSE over io_uring where offered */
    bool show_help;
    bool show_version;
    struct fuse_args args; /* what is left, for libfuse */
};

/* "auto", "always" or "never". */
const char *cache_mode_name(enum cache_mode mode);

/* Parses argv. Returns 0, or -1 after printing why to stderr. */
int options_parse(int argc, char **argv, struct slicefs_options *opts);

void options_print_help(const char *program);

void options_free(struct slicefs_options *opts);

#endif
