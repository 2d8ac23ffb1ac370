/* main.c - slicefs: check everything, then mount, serve, write back, exit.
 *
 * Nothing is mounted until every window has been parsed, checked against its
 * backing file and mapped; any refusal before that exits 1 with one message.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <urcu-bp.h>

#include "control.h"
#include "fuse_ops.h"
#include "log.h"
#include "mount_table.h"
#include "options.h"
#include "prefetch.h"
#include "slicefs/guarded_access.h"
#include "slicefs/range_digest.h"
#include "slicefs/window_digest.h"

static void print_warning(const char *message)
{
    log_msg(LOG_WARNING, "warning: %s", message);
}

static void print_info(const char *message)
{
    log_msg(LOG_INFO, "%s", message);
}

/* One line for the mount, one per backing file: what a user or an admin
 * reading syslog wants to know first. */
static void log_summary(const struct slicefs_fs *fs, const char *mountpoint)
{
    const struct window_table *t = &fs->table;
    uint64_t computed = 0;
    for (size_t i = 0; i < t->rule_count; i++)
        computed += t->rules[i].count;
    log_msg(LOG_INFO, "mounted %zu window(s)%s of %zu backing file(s) on %s (cache=%s%s)",
            t->count + (size_t)computed, computed ? ", some computed (chunks)," : "",
            t->backing_count, mountpoint, cache_mode_name(fs->cache), t->read_only ? ", ro" : "");
    for (size_t i = 0; i < t->backing_count; i++) {
        const struct backing *b = t->backings[i];
        log_msg(LOG_INFO, "backing file %s: %llu bytes, opened %s", b->real_path,
                (unsigned long long)b->size, b->writable ? "read-write" : "read-only");
    }
}

/* Runs every window source the command line named (or the whole-file
 * default) into table; live: for a mount that runs already (reload), which
 * never creates or grows a file. */
static int run_sources(const struct slicefs_options *opts, struct window_table *table, bool live,
                       struct sfs_error *err)
{
    struct sfs_error nothing = {{0}};
    struct source_context ctx = {
        .default_backing = opts->backing,
        .sector_size = opts->sector_size,
        .warn = print_warning,
        .found_nothing = &nothing,
    };
    window_table_init(table, opts->read_only);
    table->create = opts->create && !opts->list && !live; /* --list writes nothing */
    table->extend = opts->extend && !live;
    table->truncate = opts->truncate;
    if (opts->source_count == 0)
        return source_whole_file.add_windows(NULL, &ctx, table, err);
    for (size_t i = 0; i < opts->source_count; i++) {
        const struct source_use *use = &opts->sources[i];
        if (use->source->add_windows(use->arg, &ctx, table, err) < 0)
            return -1;
    }
    /* A source that found nothing, and no other gave a window: an empty
     * mount would only hide the mistake. */
    if (table->count == 0 && table->rule_count == 0 && nothing.msg[0] != '\0')
        return sfs_error_set(err, "%s, and no other window source gives a window: nothing to mount",
                             nothing.msg);
    return 0;
}

/* reload: the window sources read again (control.h). */
static int read_sources_again(const void *opts, struct window_table *table, struct sfs_error *err)
{
    return run_sources(opts, table, true, err);
}

/* The first live set: copies of the windows the mount begins with (after
 * window_times_open gave them their records). Returns 0 or -1. */
static int make_live_set(struct slicefs_fs *fs, struct sfs_error *err)
{
    struct window_table copy;
    window_set_list_init(&fs->sets);
    if (window_table_copy(&copy, &fs->table, err) < 0)
        return -1;
    if (window_set_make(&fs->live, &copy, err) == 0) {
        window_set_publish(&fs->sets, fs->live);
        return 0;
    }
    window_table_release(&copy);
    return -1;
}

/* The control socket, for the mount at mountpoint; -o save=FILE written
 * with the table the mount begins with. Returns 0, or -1 with a message
 * (save= cannot be written: the mount is refused). */
static int open_control(struct slicefs_fs *fs, const struct slicefs_options *opts,
                        const char *mountpoint, struct sfs_error *err)
{
    char *real_mountpoint = realpath(mountpoint, NULL);
    char *backing = opts->backing != NULL ? realpath(opts->backing, NULL) : NULL;
    char *start_dir = getcwd(NULL, 0);
    int res = 0;
    if (real_mountpoint == NULL || start_dir == NULL) {
        res = sfs_error_set(err, "mount point '%s': %s", mountpoint, strerror(errno));
    } else if (opts->save != NULL &&
               control_save_table(opts->save, real_mountpoint, &fs->live->table, err) < 0) {
        res = -1;
    } else {
        struct control_config config = {
            .mountpoint = real_mountpoint,
            .save = opts->save,
            .default_backing = backing,
            .start_dir = start_dir,
            .read_sources = read_sources_again,
            .read_sources_arg = opts,
        };
        fs->control = control_open(fs, &config);
    }
    free(real_mountpoint);
    free(backing);
    free(start_dir);
    return res;
}

/* After the request loop: the backing files opened while mounted are
 * written back and closed, and every set is freed. Returns 0 or the first
 * negative errno of a write-back. */
static int close_live(struct slicefs_fs *fs)
{
    int res = 0;
    if (fs->live == NULL)
        return 0;
    struct window_table *now = &fs->live->table;
    rcu_barrier(); /* the sets handles released, freed after their grace period */
    for (size_t i = fs->table.backing_count; i < now->backing_count; i++) {
        int r = backing_close(now->backings[i]);
        if (r < 0 && res == 0)
            res = r;
        free(now->backings[i]);
    }
    window_set_list_free(&fs->sets);
    fs->live = NULL;
    return res;
}

/* A mount point must be a directory we can reach, not already a FUSE mount
 * (mounting twice on one folder hides the first mount and is almost always
 * a mistake); checked before anything is written. */
static int check_mountpoint(const char *path, struct sfs_error *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return sfs_error_set(err, "mount point '%s': %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return sfs_error_set(err, "mount point '%s' is not a directory", path);
    char *real_path = realpath(path, NULL);
    bool mounted = real_path != NULL && mount_table_is_fuse(real_path);
    free(real_path);
    if (mounted)
        return sfs_error_set(err,
                             "mount point '%s' is already a FUSE mount (unmount it first: "
                             "fusermount3 -u %s)",
                             path, path);
    return 0;
}

/* --list: every check a mount makes (but mapping), then the table on
 * stdout. Returns the exit status. */
static int list_windows(const struct slicefs_options *opts)
{
    struct window_table table;
    struct path_tree tree;
    struct sfs_error err = {{0}};
    int status = 1;
    if (run_sources(opts, &table, false, &err) < 0 || path_tree_build(&tree, &table, &err) < 0) {
        log_msg(LOG_ERR, "%s", err.msg);
    } else {
        window_table_list(&table, stdout);
        path_tree_free(&tree);
        status = fflush(stdout) == 0 ? 0 : 1;
    }
    window_table_close(&table);
    return status;
}

/* Shows a digest pass that takes more than a second: one line rewritten in
 * place on a terminal, else a line each second; and the total at the end. */
static void print_progress(void *arg, uint64_t done, uint64_t total, double seconds)
{
    bool *shown = arg;
    if (seconds < 1.0 && !*shown)
        return;
    *shown = true;
    double gib = 1024.0 * 1024 * 1024, rate = seconds > 0 ? (double)done / seconds : 0;
    bool tty = isatty(STDERR_FILENO);
    if (done < total)
        fprintf(stderr,
                "%sslicefs: digesting windows: %.2f of %.2f GiB, %.0f MB/s, about %.0f s left%s",
                tty ? "\r\033[K" : "", (double)done / gib, (double)total / gib, rate / 1e6,
                rate > 0 ? (double)(total - done) / rate : 0.0, tty ? "" : "\n");
    else
        fprintf(stderr, "%sslicefs: digested %.2f GiB of windows in %.1f s (%.0f MB/s)\n",
                tty ? "\r\033[K" : "", (double)total / gib, seconds, rate / 1e6);
}

static double elapsed(const struct timespec *from, const struct timespec *to)
{
    return (double)(to->tv_sec - from->tv_sec) + (double)(to->tv_nsec - from->tv_nsec) / 1e9;
}

/* --digest: every check a mount makes (but mapping), then "HASH  PATH" for
 * every window, as sha256sum prints it (a path with a backslash or a
 * newline escaped, the line starting with a backslash). Returns the exit
 * status: 1 when a window's bytes could not be read. */
static int digest_windows(const struct slicefs_options *opts)
{
    struct window_table table;
    struct path_tree tree;
    struct sfs_error err = {{0}};
    if (run_sources(opts, &table, false, &err) < 0 || path_tree_build(&tree, &table, &err) < 0) {
        log_msg(LOG_ERR, "%s", err.msg);
        window_table_close(&table);
        return 1;
    }
    int status = 0;
    uint64_t rule_count = table.rule_count > 0 ? table.rules[0].count : 0;
    /* Long runs show progress on stderr (print_progress: after a second). */
    uint64_t total = rule_count > 0 ? table.rules[0].total : 0, done = 0;
    for (size_t i = 0; i < table.count; i++)
        total += window_length(&table.windows[i]);
    struct timespec start, last = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &start);
    bool shown = false;
    for (uint64_t i = 0; i < table.count + rule_count; i++) {
        struct window scratch;
        char name[WINDOW_RULE_NAME_MAX];
        const struct window *w = &scratch;
        if (i < table.count)
            w = &table.windows[i];
        else
            window_rule_member(&table.rules[0], i - table.count, &scratch, name);
        if (w->link_target != NULL)
            continue; /* a symbolic link has no bytes */
        unsigned char digest[32];
        char hex[65];
        int res = window_digest(w, window_length(w), DIGEST_SHA256, digest, NULL, NULL);
        done += window_length(w);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec != last.tv_sec) {
            last = now;
            print_progress(&shown, done, total, elapsed(&start, &now));
        }
        if (res < 0) {
            log_msg(LOG_ERR, "%s: %s", w->path, strerror(-res));
            status = 1;
            continue;
        }
        digest_hex(digest, sizeof digest, hex);
        bool escape = strpbrk(w->path, "\\\n") != NULL;
        printf("%s%s  ", escape ? "\\" : "", hex);
        for (const char *c = w->path; *c != '\0'; c++) {
            if (escape && (*c == '\\' || *c == '\n'))
                printf("\\%c", *c == '\n' ? 'n' : '\\');
            else
                putchar(*c);
        }
        putchar('\n');
    }
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    print_progress(&shown, total, total, elapsed(&start, &end));
    path_tree_free(&tree);
    window_table_close(&table);
    return fflush(stdout) == 0 ? status : 1;
}

/* The loop's result: 0, or the number of the signal that ended it. */
static int serve(struct fuse_session *se, const struct fuse_cmdline_opts *cmdline)
{
    if (cmdline->singlethread)
        return fuse_session_loop(se);
    struct fuse_loop_config *config = fuse_loop_cfg_create();
    if (config == NULL)
        return -1;
    fuse_loop_cfg_set_clone_fd(config, (unsigned)cmdline->clone_fd);
    /* UINT_MAX means "not given": keep libfuse's defaults. */
    if (cmdline->max_idle_threads != UINT_MAX)
        fuse_loop_cfg_set_idle_threads(config, cmdline->max_idle_threads);
    if (cmdline->max_threads != UINT_MAX)
        fuse_loop_cfg_set_max_threads(config, cmdline->max_threads);
    int res = fuse_session_loop_mt(se, config);
    fuse_loop_cfg_destroy(config);
    return res;
}

int main(int argc, char *argv[])
{
    int status = 1;
    struct slicefs_options opts;
    struct fuse_cmdline_opts cmdline;
    struct slicefs_fs fs;
    struct sfs_error err = {{0}};
    memset(&cmdline, 0, sizeof cmdline);
    memset(&fs, 0, sizeof fs);

    if (options_parse(argc, argv, &opts) < 0)
        goto out_options;
    if (opts.show_help) {
        options_print_help(argv[0]);
        status = 0;
        goto out_options;
    }
    if (opts.show_version) {
        printf("slicefs %s (libfuse %s)\n", SLICEFS_VERSION, fuse_pkgversion());
        status = 0;
        goto out_options;
    }
    if (opts.list) {
        status = list_windows(&opts);
        goto out_options;
    }
    if (opts.digest) {
        status = digest_windows(&opts);
        goto out_options;
    }
    if (fuse_parse_cmdline(&opts.args, &cmdline) != 0)
        goto out_options;
    if (cmdline.mountpoint == NULL) {
        log_msg(LOG_ERR, "usage: slicefs [options] BACKING MOUNTPOINT (see --help)");
        goto out_cmdline;
    }

    bool mounted = false;
    struct fuse_session *se = NULL;
    /* Everything is checked before anything is written: the windows, the
     * mount point, libfuse's options; then -o extend grows files. */
    if (guarded_access_init(&err) < 0 || run_sources(&opts, &fs.table, false, &err) < 0 ||
        path_tree_build(&fs.tree, &fs.table, &err) < 0 ||
        check_mountpoint(cmdline.mountpoint, &err) < 0) {
        log_msg(LOG_ERR, "%s", err.msg);
        goto out_windows;
    }
    se = fuse_session_new(&opts.args, &slicefs_ops, sizeof slicefs_ops, &fs);
    if (se == NULL)
        goto out_windows;
    if (window_table_map(&fs.table, &err) < 0) {
        log_msg(LOG_ERR, "%s", err.msg);
        goto out_session;
    }
    /* Per-window times: the state is read, and what changed outside since
     * the last mount is digested, before the mount goes live. */
    bool progress_shown = false;
    struct window_times_options times_options = {
        .state = opts.state,
        .off = opts.no_state,
        .warn = print_warning,
        .progress = print_progress,
        .progress_arg = &progress_shown,
    };
    if (window_times_open(&fs.times, &fs.table, &times_options, &err) < 0 ||
        make_live_set(&fs, &err) < 0 || open_control(&fs, &opts, cmdline.mountpoint, &err) < 0) {
        log_msg(LOG_ERR, "%s", err.msg);
        goto out_session;
    }
    for (size_t i = 0; i < fs.table.backing_count; i++) { /* the stamp the mount starts from */
        struct stat st;
        if (fstat(fs.table.backings[i]->fd, &st) == 0)
            backing_changed_outside(fs.table.backings[i], &st);
    }
    if (prefetch_init(&fs) < 0) {
        log_msg(LOG_ERR, "out of memory");
        goto out_session;
    }
    fs.cache = opts.cache;
    fs.single_thread = cmdline.singlethread;
    fs.prefetch = opts.cache != CACHE_NEVER;
    fs.io_uring = opts.io_uring;
    fs.uid = getuid();
    fs.gid = getgid();
    fs.umask = opts.umask;
    clock_gettime(CLOCK_REALTIME, &fs.started);

    fs.session = se;
    if (fuse_set_signal_handlers(se) != 0)
        goto out_session;
    if (fuse_session_mount(se, cmdline.mountpoint) != 0)
        goto out_signals;
    mounted = true;
    /* Detached, the daemon has no stderr: from here on, syslog. */
    if (!cmdline.foreground)
        log_use_syslog();
    log_summary(&fs, cmdline.mountpoint);
    if (fuse_daemonize(cmdline.foreground) != 0)
        goto out_unmount;
    /* After the fork of fuse_daemonize: threads do not survive it. */
    if (prefetch_start(&fs) < 0)
        goto out_unmount;
    if (control_start(fs.control) < 0)
        log_msg(LOG_WARNING, "warning: no thread for the control socket: slicefsctl will not "
                             "reach this mount");
    /* Windows no mount has digested yet get their digests, slowly. */
    if (window_times_start_baseline(&fs.times, print_info) < 0)
        log_msg(LOG_WARNING, "warning: no thread for the window digests: a change outside the "
                             "mount will count as a change of every window not yet digested");

    int loop = serve(se, &cmdline);
    control_unlink(fs.control);
    prefetch_stop(&fs);
    /* SIGTERM, SIGINT and SIGHUP end the loop on purpose: a clean exit. So
     * does the kernel's end of the connection: ENODEV after an unmount, and
     * ECONNABORTED when it tears the connection down with requests still
     * queued (a lazy unmount whose last files close all at once). */
    status = (loop == 0 || loop == SIGTERM || loop == SIGINT || loop == SIGHUP || loop == -ENODEV ||
              loop == -ECONNABORTED)
                 ? 0
                 : 1;
    if (status != 0)
        log_msg(LOG_ERR, "the request loop failed: %s", loop < 0 ? strerror(-loop) : "?");

out_unmount:
    fuse_session_unmount(se);
out_signals:
    fuse_remove_signal_handlers(se);
out_session:
    /* After the unmount: a command under way may wait in the kernel for a
     * page that a request no thread serves any more holds; the unmount ends
     * that wait. Before the session is gone: the command may still use it. */
    control_stop(fs.control);
    fs.control = NULL;
    fuse_session_destroy(se);
out_windows:
    prefetch_free(&fs);
    path_tree_free(&fs.tree);
    if (!mounted) {
        /* Refused: undo -o create and -o extend; nothing else was written. */
        close_live(&fs);
        window_times_abandon(&fs.times);
        window_table_abandon(&fs.table);
    } else {
        /* What changed is digested and the state written back (atomically:
         * a failure leaves the old state, which the next mount checks). */
        if (window_times_close(&fs.times, &err) < 0)
            log_msg(LOG_WARNING, "warning: %s", err.msg);
        /* Every dirty page is written back before the process ends. */
        int res = close_live(&fs);
        int res_table = window_table_close(&fs.table);
        res = res < 0 ? res : res_table;
        if (res < 0) {
            log_msg(LOG_ERR, "writing back the backing files failed: %s", strerror(-res));
            status = 1;
        }
    }
out_cmdline:
    free(cmdline.mountpoint);
out_options:
    options_free(&opts);
    return status;
}
