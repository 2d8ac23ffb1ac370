#include "options.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuse_compat.h"

enum {
    KEY_HELP,
    KEY_VERSION,
    KEY_RO,
    KEY_LIST,
    KEY_SECTOR_SIZE,
    KEY_CACHE,
    KEY_TRUNCATE,
    KEY_CREATE,
    KEY_EXTEND,
    KEY_FSNAME,
    KEY_UMASK,
    KEY_DIGEST,
    KEY_STATE,
    KEY_NOSTATE,
    KEY_SAVE,
    KEY_IO_URING,
};

/* Non-option arguments, gathered before we know what they are. */
struct positional {
    struct slicefs_options *opts;
    char *args[2];
    int count;
    bool fsname_given;
};

static const struct fuse_opt option_spec[] = {
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_KEY("-V", KEY_VERSION),
    FUSE_OPT_KEY("--version", KEY_VERSION),
    FUSE_OPT_KEY("ro", KEY_RO),
    FUSE_OPT_KEY("--list", KEY_LIST),
    FUSE_OPT_KEY("list", KEY_LIST),
    FUSE_OPT_KEY("sectorsize=", KEY_SECTOR_SIZE),
    FUSE_OPT_KEY("cache=", KEY_CACHE),
    FUSE_OPT_KEY("truncate=", KEY_TRUNCATE),
    FUSE_OPT_KEY("create", KEY_CREATE),
    FUSE_OPT_KEY("extend", KEY_EXTEND),
    FUSE_OPT_KEY("fsname=", KEY_FSNAME),
    FUSE_OPT_KEY("umask=", KEY_UMASK),
    FUSE_OPT_KEY("--digest", KEY_DIGEST),
    FUSE_OPT_KEY("digest", KEY_DIGEST),
    FUSE_OPT_KEY("state=", KEY_STATE),
    FUSE_OPT_KEY("nostate", KEY_NOSTATE),
    FUSE_OPT_KEY("save=", KEY_SAVE),
    FUSE_OPT_KEY("io_uring", KEY_IO_URING),
    FUSE_OPT_END,
};

static int add_source(struct slicefs_options *opts, const struct window_source *source,
                      const char *arg)
{
    struct source_use *grown =
        realloc(opts->sources, (opts->source_count + 1) * sizeof *opts->sources);
    if (grown == NULL)
        return -1;
    opts->sources = grown;
    char *copy = strdup(arg);
    if (copy == NULL)
        return -1;
    opts->sources[opts->source_count++] = (struct source_use){source, copy};
    return 0;
}

/* Unless -o fsname= says otherwise, /proc/mounts, mount and findmnt show
 * the backing file (or the table) as the source, as sshfs shows its host. */
static int name_the_source(struct slicefs_options *opts, bool fsname_given)
{
    const char *source = opts->backing;
    for (size_t i = 0; source == NULL && i < opts->source_count; i++)
        if (opts->sources[i].source == &source_table)
            source = opts->sources[i].arg;
    if (fsname_given || source == NULL || opts->list || opts->digest)
        return 0;
    char *real = realpath(source, NULL);
    const char *name = real ? real : source;
    /* fuse_opt splits -o values at commas; a backslash escapes one. */
    char *arg = malloc(strlen("-ofsname=") + 2 * strlen(name) + 1);
    int res = -1;
    if (arg != NULL) {
        char *out = arg + sprintf(arg, "-ofsname=");
        for (const char *in = name; *in != '\0'; in++) {
            if (*in == ',' || *in == '\\')
                *out++ = '\\';
            *out++ = *in;
        }
        *out = '\0';
        /* With an fsname, libfuse no longer names the type fuse.slicefs. */
        res = fuse_opt_add_arg(&opts->args, arg) < 0
                  ? -1
                  : fuse_opt_add_arg(&opts->args, "-osubtype=slicefs");
    }
    free(arg);
    free(real);
    return res;
}

const char *cache_mode_name(enum cache_mode mode)
{
    static const char *const names[] = {
        [CACHE_AUTO] = "auto", [CACHE_ALWAYS] = "always", [CACHE_NEVER] = "never"};
    return names[mode];
}

/* Options that only set a flag of struct slicefs_options. */
static const struct {
    int key;
    size_t offset;
    int keep; /* 1: libfuse sees it too */
} flags[] = {
    {KEY_HELP, offsetof(struct slicefs_options, show_help), 0},
    {KEY_VERSION, offsetof(struct slicefs_options, show_version), 0},
    {KEY_RO, offsetof(struct slicefs_options, read_only), 1}, /* the kernel mounts ro too */
    {KEY_LIST, offsetof(struct slicefs_options, list), 0},
    {KEY_CREATE, offsetof(struct slicefs_options, create), 0},
    {KEY_EXTEND, offsetof(struct slicefs_options, extend), 0},
    {KEY_DIGEST, offsetof(struct slicefs_options, digest), 0},
    {KEY_NOSTATE, offsetof(struct slicefs_options, no_state), 0},
    /* libfuse 3.18 takes it too; an older one would refuse it (fuse_compat.h) */
    {KEY_IO_URING, offsetof(struct slicefs_options, io_uring), SLICEFS_HAVE_IO_URING},
};

/* fuse_opt callback: 0 drops the argument, 1 keeps it for libfuse. */
static int take_option(void *data, const char *arg, int key, struct fuse_args *outargs)
{
    (void)outargs;
    struct positional *positional = data;
    struct slicefs_options *opts = positional->opts;
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (flags[i].key == key) {
            *(bool *)((char *)opts + flags[i].offset) = true;
            return flags[i].keep;
        }
    }
    switch (key) {
    case KEY_FSNAME:
        positional->fsname_given = true;
        return 1; /* libfuse's */
    case KEY_CACHE: {
        const char *value = arg + strlen("cache=");
        for (int m = CACHE_AUTO; m <= CACHE_NEVER; m++) {
            if (strcmp(value, cache_mode_name((enum cache_mode)m)) == 0) {
                opts->cache = (enum cache_mode)m;
                return 0;
            }
        }
        fprintf(stderr, "slicefs: cache=%s: use auto, always or never\n", value);
        return -1;
    }
    case KEY_TRUNCATE: {
        struct sfs_error err;
        if (window_truncate_parse(arg + strlen("truncate="), &opts->truncate, &err) == 0)
            return 0;
        fprintf(stderr, "slicefs: truncate=: %s\n", err.msg);
        return -1;
    }
    case KEY_STATE:
        free(opts->state);
        opts->state = strdup(arg + strlen("state="));
        if (opts->state == NULL || opts->state[0] == '\0') {
            fprintf(stderr, "slicefs: state=: give a file or a folder (or -o nostate)\n");
            return -1;
        }
        return 0;
    case KEY_SAVE: {
        /* Absolute now: the daemon runs in / once detached. */
        const char *path = arg + strlen("save=");
        char cwd[PATH_MAX];
        free(opts->save);
        opts->save = NULL;
        if (path[0] == '\0') {
            fprintf(stderr, "slicefs: save=: give a file\n");
            return -1;
        }
        if (path[0] == '/')
            opts->save = strdup(path);
        else if (getcwd(cwd, sizeof cwd) == NULL || asprintf(&opts->save, "%s/%s", cwd, path) < 0)
            opts->save = NULL;
        if (opts->save == NULL) {
            fprintf(stderr, "slicefs: save=%s: %s\n", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    case KEY_UMASK: {
        /* Octal, like umask(1) and mount's umask=: only narrows. */
        const char *value = arg + strlen("umask=");
        char *end;
        errno = 0;
        unsigned long mask = strtoul(value, &end, 8);
        if (*value == '\0' || *value == '-' || *end != '\0' || errno != 0 || mask > 0777) {
            fprintf(stderr, "slicefs: umask=%s: use an octal number from 0 to 777 (e.g. 027)\n",
                    value);
            return -1;
        }
        opts->umask = (mode_t)mask;
        return 0;
    }
    case KEY_SECTOR_SIZE: {
        const char *value = arg + strlen("sectorsize=");
        if (strcmp(value, "512") == 0 || strcmp(value, "4096") == 0) {
            opts->sector_size = (unsigned)atoi(value);
            return 0;
        }
        fprintf(stderr, "slicefs: sectorsize=%s: use 512 or 4096\n", value);
        return -1;
    }
    case FUSE_OPT_KEY_NONOPT:
        if (positional->count == 2) {
            fprintf(stderr, "slicefs: unexpected argument '%s' (see slicefs --help)\n", arg);
            return -1;
        }
        positional->args[positional->count] = strdup(arg);
        return positional->args[positional->count++] ? 0 : -1;
    case FUSE_OPT_KEY_OPT: {
        /* A window source, found by the name of its option. */
        const char *value;
        const struct window_source *source = window_source_for_option(arg, &value);
        return source == NULL ? 1 : add_source(opts, source, value);
    }
    default:
        return 1;
    }
}

int options_parse(int argc, char **argv, struct slicefs_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->args = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);
    struct positional positional = {.opts = opts};
    if (fuse_opt_parse(&opts->args, &positional, option_spec, take_option) < 0) {
        fprintf(stderr, "slicefs: cannot parse the command line (see slicefs --help)\n");
        free(positional.args[0]);
        free(positional.args[1]);
        return -1;
    }
    /* --list/--digest [BACKING]; BACKING MOUNTPOINT; or MOUNTPOINT alone. */
    if (opts->list || opts->digest || positional.count == 2) {
        opts->backing = positional.args[0];
        opts->mountpoint = positional.args[1];
    } else {
        opts->mountpoint = positional.args[0];
    }
    bool has_table = false;
    for (size_t i = 0; i < opts->source_count; i++)
        has_table |= opts->sources[i].source == &source_table;
    if (!opts->list && !opts->digest && positional.count == 1 && !has_table) {
        fprintf(stderr, "slicefs: missing MOUNTPOINT (usage: slicefs [options] BACKING "
                        "MOUNTPOINT, or -o table=FILE MOUNTPOINT)\n");
        return -1;
    }
    if ((opts->list || opts->digest) && opts->mountpoint != NULL) {
        fprintf(stderr, "slicefs: --%s takes no MOUNTPOINT (it mounts nothing)\n",
                opts->list ? "list" : "digest");
        return -1;
    }
    if (opts->mountpoint != NULL && fuse_opt_add_arg(&opts->args, opts->mountpoint) < 0)
        return -1;
    /* Permissions are always enforced: the kernel checks every access
     * against the owner, group and mode bits a window shows (SPEC section
     * 4), so allow_other never lets a user past them. There is no option to
     * turn this off. */
    if (fuse_opt_add_arg(&opts->args, "-odefault_permissions") < 0)
        return -1;
    return name_the_source(opts, positional.fsname_given);
}

void options_print_help(const char *program)
{
    printf("usage: %s [options] BACKING MOUNTPOINT\n"
           "       %s [options] -o table=FILE MOUNTPOINT\n"
           "       %s --list [options] [BACKING]\n"
           "       %s --digest [options] [BACKING]\n"
           "\n"
           "Exposes windows (offset, length) of backing files as files under MOUNTPOINT.\n"
           "\n"
           "slicefs options (each also works as -o KEY[=VALUE]; numbers: 4096, 0x1000, 4K,\n"
           "1MiB, 2048s for 512-byte sectors):\n"
           "    -o window=PATH:OFFSET:LENGTH[:MODE]  a window (repeatable); LENGTH may be end\n"
           "    -o table=FILE            a window per line: PATH OFFSET LENGTH [MODE [BACKING]];\n"
           "                             consecutive lines with one PATH: its extents\n"
           "    -o layout=chunks:SIZE    the whole file in SIZE-byte chunks 00000000, ...\n"
           "    -o layout=partitions     a window per MBR/GPT partition: p1, p2, ...\n"
           "    -o layout=archive        a window per member of a tar, stored member of a zip,\n"
           "                             or file of an ISO 9660 image\n"
           "    -o sectorsize=512|4096   the partition table's sector size (default: detect)\n"
           "    -o ro                    every window read-only (MODE ro); mount read-only\n"
           "    -o create                create a missing backing file\n"
           "    -o extend                grow backing files sparsely so every window fits\n"
           "    -o cache=auto|always|never  page cache: auto (default), always, never\n"
           "    -o truncate=zero|ignore  truncating a window below its length: zero the rest\n"
           "                             (default, like a file) or change nothing (like a disk)\n"
           "    -o umask=NNN             octal permission bits no window or folder shows\n"
           "    -o state=FILE|FOLDER     where per-window times and digests are kept (default:\n"
           "                             $XDG_STATE_HOME/slicefs, ~/.local/state/slicefs)\n"
           "    -o nostate               no state: windows show the backing file's times\n"
           "    -o save=FILE             keep the live window table in FILE, rewritten\n"
           "                             atomically after each slicefsctl change\n"
           "    -o io_uring              FUSE over io_uring where libfuse (3.18) and the kernel\n"
           "                             (fuse enable_uring=Y) offer it; else /dev/fuse (logged)\n"
           "    --list                   print the windows as a window table; mount nothing\n"
           "    --digest                 print every window's SHA-256 (sha256sum -c format)\n"
           "    -h   --help              print this help\n"
           "    -V   --version           print the version\n"
           "MODE is ro, rw (the default where the backing file is writable) or cow, and may\n"
           "add ,truncate=zero|ignore for that window (e.g. rw,truncate=ignore).\n"
           "Without a window source there is one window: the whole backing file.\n"
           "Permissions are always checked (default_permissions): with allow_other, other\n"
           "users get exactly what a window's owner, group and mode bits allow.\n"
           "\n"
           "FUSE options:\n",
           program, program, program, program);
    fuse_cmdline_help();
    fuse_lowlevel_help();
}

void options_free(struct slicefs_options *opts)
{
    for (size_t i = 0; i < opts->source_count; i++)
        free(opts->sources[i].arg);
    free(opts->sources);
    free(opts->backing);
    free(opts->mountpoint);
    free(opts->state);
    free(opts->save);
    fuse_opt_free_args(&opts->args);
    memset(opts, 0, sizeof *opts);
}
