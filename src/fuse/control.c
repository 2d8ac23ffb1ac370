/* control.c - the control socket and the commands it runs (control.h). */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mount_table.h"
#include "ops.h"
#include "prefetch.h"
#include "slicefs/control_protocol.h"
#include "slicefs/file_identity.h"
#include "slicefs/state_file.h"
#include "slicefs/window_set.h"

/* What the control remembers of a path: how many windows at it were
 * removed (window.incarnation), and the record of windows added at it
 * while mounted (times that keep moving forward when it is added again).
 * Freed at control_stop. */
struct path_note {
    char *path;
    uint32_t removals;
    bool has_record;
    struct window_record record;
    struct path_note *next; /* in its hash chain */
};

/* How long a client has to send its request. */
#define REQUEST_SECONDS 10

/* How long after the first notifications the names are told again. */
#define NAMES_AGAIN_US 10000

struct control {
    struct slicefs_fs *fs;
    struct control_config config;
    char *socket_path;
    ino_t socket_ino; /* of the socket made, so that only it is removed */
    int listen_fd;
    int stop_pipe[2];
    pthread_t thread;
    bool started;
    struct path_note **note_buckets; /* note_bucket_count (a power of two) chains */
    size_t note_bucket_count, note_count;
    atomic_bool closing; /* the request loop ended: no more commands */
};

const char *control_socket_path(const struct control *c)
{
    return c != NULL ? c->socket_path : NULL;
}

static void free_control(struct control *c)
{
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    for (int i = 0; i < 2; i++)
        if (c->stop_pipe[i] >= 0)
            close(c->stop_pipe[i]);
    for (size_t i = 0; i < c->note_bucket_count; i++)
        for (struct path_note *n = c->note_buckets[i], *next; n != NULL; n = next) {
            next = n->next;
            free(n->path);
            free(n);
        }
    free(c->note_buckets);
    free(c->socket_path);
    free((char *)c->config.mountpoint);
    free((char *)c->config.save);
    free((char *)c->config.default_backing);
    free((char *)c->config.start_dir);
    free(c);
}

/* ---- Kernel notifications ------------------------------------------------ */

/* Once the request loop has ended (libfuse resets the session's exited flag
 * after its loop), a notification could wait for a page that a request no
 * thread serves any more holds: none is sent. */
static bool control_closing(const struct slicefs_fs *fs)
{
    return fs->control == NULL || atomic_load(&fs->control->closing) ||
           fuse_session_exited(fs->session);
}

/* The folder part of path ("" for the root) and its last component. */
static uint64_t parent_of(const struct path_tree *tree, const char *path, const char **name)
{
    const char *slash = strrchr(path, '/');
    *name = slash != NULL ? slash + 1 : path;
    if (slash == NULL)
        return PATH_TREE_ROOT_INO;
    char *folder = strndup(path, (size_t)(slash - path));
    uint64_t ino = folder != NULL ? path_tree_path_ino(tree, folder) : 0;
    free(folder);
    return ino;
}

/* Names told to the kernel by the current command (control thread only). */
static unsigned names_told;

static void notify_delete(struct slicefs_fs *fs, uint64_t parent, uint64_t ino, const char *name)
{
    names_told++;
    if (parent != 0 && !control_closing(fs))
        fuse_lowlevel_notify_delete(fs->session, parent, ino, name, strlen(name));
}

static void notify_entry(struct slicefs_fs *fs, uint64_t parent, const char *name)
{
    names_told++;
    if (parent != 0 && !control_closing(fs))
        fuse_lowlevel_notify_inval_entry(fs->session, parent, name, strlen(name));
}

/* From the first component of path that old does not have (or has with
 * another inode number), every component of it: the kernel may hold a cached miss for the first (a
 * lookup of a name not there yet), and below it, for a folder that comes
 * back with the inode number it had, the entries it cached in it before
 * it went away (a process still in that folder keeps them, and the kernel
 * revives them with the folder). */
static void announce_path(struct slicefs_fs *fs, const struct path_tree *old,
                          const struct path_tree *now, const char *path)
{
    uint64_t parent = PATH_TREE_ROOT_INO;
    bool missing = false;
    char *copy = strdup(path);
    if (copy == NULL)
        return;
    char *save = NULL;
    for (char *name = strtok_r(copy, "/", &save); name != NULL && parent != 0;
         name = strtok_r(NULL, "/", &save)) {
        uint64_t ino = path_tree_lookup(now, parent, name);
        /* Missing, or something else there (a folder that became a window). */
        missing = missing || path_tree_lookup(old, parent, name) != ino;
        if (missing)
            notify_entry(fs, parent, name);
        parent = ino;
    }
    free(copy);
}

/* The first component of path that now does not have (a folder that only
 * the window at path made): the kernel forgets it and what is below it. */
static void retire_folders(struct slicefs_fs *fs, const struct path_tree *old,
                           const struct path_tree *now, const char *path)
{
    char *prefix = strdup(path);
    if (prefix == NULL)
        return;
    for (char *slash = strchr(prefix, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        /* Gone, or something else there now (a window where a folder was). */
        if (path_tree_path_ino(now, prefix) != path_tree_path_ino(old, prefix)) {
            const char *name;
            uint64_t parent = parent_of(old, prefix, &name);
            notify_entry(fs, parent, name);
            break;
        }
        *slash = '/';
    }
    free(prefix);
}

/* The window of tree at ino, or NULL. */
static const struct window *declared_at(const struct path_tree *tree, uint64_t ino)
{
    const struct tree_node *node = ino != 0 ? path_tree_node(tree, ino) : NULL;
    return node != NULL && node->window != PATH_TREE_NOT_A_WINDOW
               ? &tree->table->windows[node->window]
               : NULL;
}

/* What the kernel may cache of a window that changed shape: attributes,
 * and its pages from where the two shapes differ. */
static void reshape_pages(struct slicefs_fs *fs, uint64_t ino, const struct window *was,
                          const struct window *now)
{
    if (control_closing(fs))
        return;
    off_t from = 0;
    if (was->backing == now->backing && was->offset == now->offset && was->mode == now->mode &&
        was->extents == NULL && now->extents == NULL) {
        uint64_t same = was->length < now->length ? was->length : now->length;
        from = (off_t)(same / backing_page_size() * backing_page_size());
    }
    fuse_lowlevel_notify_inval_inode(fs->session, ino, from, 0);
}

/* The chunks of old's rule that now does not compute the same way. */
static void tell_rules(struct slicefs_fs *fs, const struct window_set *old,
                       const struct window_set *now)
{
    if (window_set_same_rules(&old->table, &now->table))
        return;
    char name[WINDOW_RULE_NAME_MAX];
    for (uint64_t k = 0; old->table.rule_count > 0 && k < old->table.rules[0].count; k++) {
        window_rule_name(&old->table.rules[0], k, name);
        uint64_t was = path_tree_rule_ino(&old->tree, k);
        if (path_tree_lookup(&now->tree, PATH_TREE_ROOT_INO, name) == was && !control_closing(fs))
            fuse_lowlevel_notify_inval_inode(fs->session, was, 0, 0);
        else
            notify_delete(fs, PATH_TREE_ROOT_INO, was, name);
    }
    for (uint64_t k = 0; now->table.rule_count > 0 && k < now->table.rules[0].count; k++) {
        window_rule_name(&now->table.rules[0], k, name);
        if (path_tree_lookup(&old->tree, PATH_TREE_ROOT_INO, name) == 0)
            notify_entry(fs, PATH_TREE_ROOT_INO, name);
    }
}

/* After now replaced old and no request still uses old: tells the kernel
 * every name gone, every name new, every window whose shape changed; and
 * (first pass) gives new times to every window whose bytes are not the
 * ones it showed (also a removed one's record: it may come back at the
 * next mount). A second pass tells the names only (names_only). */
static void tell_kernel(struct slicefs_fs *fs, const struct window_set *old,
                        const struct window_set *now, bool names_only)
{
    for (size_t i = 0; i < old->table.count; i++) {
        const struct window *was = &old->table.windows[i];
        uint64_t was_ino = path_tree_window_ino(&old->tree, i);
        uint64_t ino = path_tree_path_ino(&now->tree, was->path);
        const struct window *w = declared_at(&now->tree, ino);
        if (w != NULL && ino == was_ino) {
            if (!names_only && !window_same_geometry(was, w)) {
                window_times_changed(&fs->times, w);
                reshape_pages(fs, ino, was, w);
            }
            continue;
        }
        if (!names_only)
            window_times_changed(&fs->times, was);
        const char *name;
        uint64_t parent = parent_of(&old->tree, was->path, &name);
        notify_delete(fs, parent, was_ino, name);
        retire_folders(fs, &old->tree, &now->tree, was->path);
    }
    for (size_t i = 0; i < now->table.count; i++) {
        const struct window *w = &now->table.windows[i];
        uint64_t ino = path_tree_window_ino(&now->tree, i);
        if (path_tree_path_ino(&old->tree, w->path) == ino)
            continue;
        if (!names_only)
            window_times_changed(&fs->times, w);
        announce_path(fs, &old->tree, &now->tree, w->path);
    }
    if (!names_only)
        tell_rules(fs, old, now);
}

/* ---- Records -------------------------------------------------------------- */

/* The note of path, made if need be; NULL when out of memory. Notes are
 * kept in a hash table by path (a reload of a large table looks up every
 * path). */
static struct path_note *note_of(struct control *c, const char *path)
{
    uint64_t hash = file_identity_hash(NULL, path, 0);
    if (c->note_buckets != NULL) {
        for (struct path_note *n = c->note_buckets[hash & (c->note_bucket_count - 1)]; n != NULL;
             n = n->next)
            if (strcmp(n->path, path) == 0)
                return n;
    }
    if (c->note_count >= c->note_bucket_count) { /* grow: at most one note a bucket on average */
        size_t count = c->note_bucket_count ? 2 * c->note_bucket_count : 64;
        struct path_note **buckets = calloc(count, sizeof *buckets);
        if (buckets == NULL)
            return NULL;
        for (size_t i = 0; i < c->note_bucket_count; i++)
            for (struct path_note *n = c->note_buckets[i], *next; n != NULL; n = next) {
                next = n->next;
                size_t b = file_identity_hash(NULL, n->path, 0) & (count - 1);
                n->next = buckets[b];
                buckets[b] = n;
            }
        free(c->note_buckets);
        c->note_buckets = buckets;
        c->note_bucket_count = count;
    }
    struct path_note *n = calloc(1, sizeof *n);
    if (n == NULL || (n->path = strdup(path)) == NULL) {
        free(n);
        return NULL;
    }
    size_t b = hash & (c->note_bucket_count - 1);
    n->next = c->note_buckets[b];
    c->note_buckets[b] = n;
    c->note_count++;
    return n;
}

/* The record, shape flag and incarnation of each window of plan: a window
 * the current set has at its path (the same window, perhaps reshaped)
 * keeps its incarnation, and its record if it shows the same bytes; a
 * window new at its path comes after the removals there. Then the record:
 * the one the mount began with for the path (reshaped unless it is that
 * window again), or one of its own (path_note). */
static int assign_records(struct control *c, const struct window_set *cur,
                          struct window_table *plan, struct sfs_error *err)
{
    struct slicefs_fs *fs = c->fs;
    for (size_t i = 0; i < plan->count; i++) {
        struct window *w = &plan->windows[i];
        const struct window *was = declared_at(&cur->tree, path_tree_path_ino(&cur->tree, w->path));
        struct path_note *note = NULL;
        if (was != NULL && was->backing == w->backing) {
            w->incarnation = was->incarnation;
        } else {
            /* New at its path, or in place of a window of another file
             * (which counts as removed: its number must not come back). */
            if ((note = note_of(c, w->path)) == NULL)
                return sfs_error_set(err, "out of memory");
            if (was != NULL)
                note->removals++;
            w->incarnation = note->removals;
        }
        if (was != NULL && window_same_geometry(was, w)) {
            w->record = was->record;
            w->reshaped = was->reshaped;
            continue;
        }
        const struct window *began = declared_at(&fs->tree, path_tree_path_ino(&fs->tree, w->path));
        w->reshaped = began == NULL || !window_same_geometry(began, w);
        w->record = NULL;
        if (!window_times_on(&fs->times))
            continue;
        if (began != NULL && began->record != NULL) {
            w->record = began->record;
            continue;
        }
        if (note == NULL && (note = note_of(c, w->path)) == NULL)
            return sfs_error_set(err, "out of memory");
        if (!note->has_record) {
            window_times_record_init(&note->record, w->backing);
            note->has_record = true;
        }
        w->record = &note->record;
    }
    return 0;
}

/* The windows of cur that next no longer has at their paths: removed. */
static int count_removals(struct control *c, const struct window_set *cur,
                          const struct window_set *next, struct sfs_error *err)
{
    for (size_t i = 0; i < cur->table.count; i++) {
        const struct window *was = &cur->table.windows[i];
        if (declared_at(&next->tree, path_tree_path_ino(&next->tree, was->path)) != NULL)
            continue;
        struct path_note *note = note_of(c, was->path);
        if (note == NULL)
            return sfs_error_set(err, "out of memory");
        note->removals++;
    }
    return 0;
}

/* ---- Saving ---------------------------------------------------------------- */

int control_save_table(const char *path, const char *mountpoint, const struct window_table *table,
                       struct sfs_error *err)
{
    char *temp;
    if (asprintf(&temp, "%s.tmp.%ld", path, (long)getpid()) < 0)
        return sfs_error_set(err, "out of memory");
    unlink(temp); /* a leftover of a daemon killed while it saved */
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (out == NULL) {
        sfs_error_set(err, "save=%s: cannot write '%s': %s", path, temp, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto fail;
    }
    fprintf(out, "# slicefs: the live windows of %s (-o save); PATH OFFSET LENGTH MODE BACKING\n",
            mountpoint);
    window_table_list(table, out);
    int res = fflush(out) == 0 && fsync(fileno(out)) == 0 ? 0 : -errno;
    if (fclose(out) != 0 && res == 0)
        res = -errno;
    if (res == 0 && rename(temp, path) < 0)
        res = -errno;
    if (res < 0) {
        sfs_error_set(err, "save=%s: %s", path, strerror(-res));
        goto fail;
    }
    free(temp);
    char *folder = strdup(path);
    char *slash = folder != NULL ? strrchr(folder, '/') : NULL;
    if (slash != NULL) {
        *(slash == folder ? slash + 1 : slash) = '\0';
        int dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0) {
            fsync(dir);
            close(dir);
        }
    }
    free(folder);
    return 0;
fail:
    unlink(temp);
    free(temp);
    return -1;
}

/* ---- Commands -------------------------------------------------------------- */

/* A backing file the plan opened must not lie inside this mount: its
 * requests would wait on this very daemon. */
static int check_outside(struct control *c, const struct window_set *cur,
                         const struct window_table *plan, struct sfs_error *err)
{
    if (plan->backing_count <= cur->table.backing_count)
        return 0;
    dev_t mine = mount_table_device(c->config.mountpoint);
    for (size_t i = cur->table.backing_count; i < plan->backing_count; i++)
        if (mine != 0 && plan->backings[i]->dev == mine)
            return sfs_error_set(err, "backing file '%s' lies inside this mount (%s)",
                                 plan->backings[i]->path, c->config.mountpoint);
    return 0;
}

/* Publishes plan (checked against the mappings already) in place of the
 * current set. Returns a control_status; err says why when not done. */
static int apply(struct control *c, struct window_table *plan, struct sfs_error *err)
{
    struct slicefs_fs *fs = c->fs;
    struct window_set *cur = fs->live, *next;
    if (plan->backing_count > fs->backing_capacity) {
        window_set_discard_plan(cur, plan);
        sfs_error_set(err,
                      "a live mount opens at most %d backing files beyond those it began "
                      "with: remount to use more",
                      LIVE_BACKINGS_ADDED_MAX);
        return CONTROL_REFUSED;
    }
    if (check_outside(c, cur, plan, err) < 0) {
        window_set_discard_plan(cur, plan);
        return CONTROL_REFUSED;
    }
    if (assign_records(c, cur, plan, err) < 0) {
        window_set_discard_plan(cur, plan);
        return CONTROL_FAILED;
    }
    if (window_set_make(&next, plan, err) < 0) {
        window_set_discard_plan(cur, plan);
        return CONTROL_REFUSED;
    }
    if (count_removals(c, cur, next, err) < 0) {
        window_set_discard(cur, next);
        return CONTROL_FAILED;
    }
    /* Saved before it is live: a crash in between leaves the old table or
     * the new one in FILE, and a failed save changes nothing. */
    if (c->config.save != NULL &&
        control_save_table(c->config.save, c->config.mountpoint, &next->table, err) < 0) {
        window_set_discard(cur, next);
        return CONTROL_FAILED;
    }
    window_set_publish(&fs->sets, next);
    rcu_assign_pointer(fs->live, next);
    synchronize_rcu();
    prefetch_settle(fs);
    names_told = 0;
    tell_kernel(fs, cur, next, false);
    /* Once more for the names, a moment later: since Linux 6.x the kernel
     * no longer orders an entry's invalidation after a lookup under way, so
     * a lookup answered from the old set just before could put its answer
     * in the cache after the first pass. (A resize changes no name.) */
    if (names_told > 0) {
        usleep(NAMES_AGAIN_US);
        tell_kernel(fs, cur, next, true);
    }
    drop_set(cur);
    return CONTROL_DONE;
}

static int refuse_usage(struct sfs_error *err, const char *usage)
{
    sfs_error_set(err, "usage: slicefsctl MOUNTPOINT %s", usage);
    return CONTROL_REFUSED;
}

static int command_add(struct control *c, int argc, const char **args, struct sfs_error *err)
{
    if (argc < 2 || argc > 3)
        return refuse_usage(err, "add SPEC [BACKING]");
    if (argc == 3 && args[2][0] != '/') {
        sfs_error_set(err, "add: BACKING '%s' is not an absolute path", args[2]);
        return CONTROL_REFUSED;
    }
    /* Not even opened when its name says it is inside this mount (with -s
     * the open would wait on this very thread); a link that leads inside
     * is refused once open (check_outside). */
    size_t mount_len = strlen(c->config.mountpoint);
    if (argc == 3 && strncmp(args[2], c->config.mountpoint, mount_len) == 0 &&
        (args[2][mount_len] == '/' || args[2][mount_len] == '\0')) {
        sfs_error_set(err, "add: BACKING '%s' lies inside this mount", args[2]);
        return CONTROL_REFUSED;
    }
    char *origin;
    if (asprintf(&origin, "add %s", args[1]) < 0) {
        sfs_error_set(err, "out of memory");
        return CONTROL_FAILED;
    }
    struct window_spec spec;
    int res = window_spec_parse(args[1], origin, &spec, err);
    free(origin);
    if (res < 0)
        return CONTROL_REFUSED;
    if (argc == 3) {
        free(spec.backing_path);
        spec.backing_path = strdup(args[2]);
    }
    if (spec.backing_path == NULL && c->config.default_backing == NULL) {
        sfs_error_set(err, "%s: no BACKING given, and the mount has none by default", spec.origin);
        window_spec_free(&spec);
        return CONTROL_REFUSED;
    }
    struct window_table plan;
    res = window_set_plan_add(c->fs->live, &spec, c->config.default_backing, &plan, err);
    window_spec_free(&spec);
    return res < 0 ? CONTROL_REFUSED : apply(c, &plan, err);
}

static int command_remove(struct control *c, int argc, const char **args, struct sfs_error *err)
{
    if (argc != 2)
        return refuse_usage(err, "remove PATH");
    struct window_table plan;
    if (window_set_plan_remove(c->fs->live, args[1], "remove", &plan, err) < 0)
        return CONTROL_REFUSED;
    return apply(c, &plan, err);
}

static int command_resize(struct control *c, int argc, const char **args, struct sfs_error *err)
{
    if (argc != 3)
        return refuse_usage(err, "resize PATH LENGTH");
    struct window_table plan;
    if (window_set_plan_resize(c->fs->live, args[1], args[2], "resize", &plan, err) < 0)
        return CONTROL_REFUSED;
    return apply(c, &plan, err);
}

/* The window sources read again, from the folder slicefs was started in
 * (relative paths in them mean what they meant at mount). */
static int command_reload(struct control *c, int argc, struct sfs_error *err)
{
    if (argc != 1)
        return refuse_usage(err, "reload");
    struct window_table fresh, plan;
    if (chdir(c->config.start_dir) < 0) {
        sfs_error_set(err, "reload: the folder slicefs was started in ('%s'): %s",
                      c->config.start_dir, strerror(errno));
        return CONTROL_FAILED;
    }
    int res = c->config.read_sources(c->config.read_sources_arg, &fresh, err);
    if (chdir("/") < 0) /* as fuse_daemonize left it: no folder kept busy */
        log_msg(LOG_WARNING, "control: cannot go back to /: %s", strerror(errno));
    if (res < 0) {
        window_table_close(&fresh);
        return CONTROL_REFUSED;
    }
    if (window_set_plan_reload(c->fs->live, &fresh, &plan, err) < 0)
        return CONTROL_REFUSED;
    return apply(c, &plan, err);
}

/* Runs the command args[0 .. argc); output goes to out. Returns a
 * control_status; err says why when not done. */
static int run_command(struct control *c, int argc, const char **args, FILE *out,
                       struct sfs_error *err)
{
    const char *name = args[0];
    if (atomic_load(&c->closing)) {
        sfs_error_set(err, "the mount is ending: no more changes");
        return CONTROL_FAILED;
    }
    if (strcmp(name, "list") == 0) {
        if (argc != 1)
            return refuse_usage(err, "list");
        window_table_list(&c->fs->live->table, out);
        return CONTROL_DONE;
    }
    if (strcmp(name, "add") == 0)
        return command_add(c, argc, args, err);
    if (strcmp(name, "remove") == 0)
        return command_remove(c, argc, args, err);
    if (strcmp(name, "resize") == 0)
        return command_resize(c, argc, args, err);
    if (strcmp(name, "reload") == 0)
        return command_reload(c, argc, err);
    sfs_error_set(err, "unknown command '%s' (list, add, remove, resize, reload)", name);
    return CONTROL_REFUSED;
}

/* ---- The socket ------------------------------------------------------------ */

static int send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads a request until the client's end, at most CONTROL_REQUEST_MAX
 * bytes (more is refused), within REQUEST_SECONDS in all (a client that
 * trickles does not hold the channel). Returns its length, or -1. */
static ssize_t read_request(int fd, char *buf, size_t capacity)
{
    size_t len = 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left_ms = REQUEST_SECONDS * 1000L - ((now.tv_sec - start.tv_sec) * 1000L +
                                                  (now.tv_nsec - start.tv_nsec) / 1000000L);
        struct pollfd in = {fd, POLLIN, 0};
        if (left_ms <= 0 || poll(&in, 1, (int)left_ms) <= 0)
            return -1;
        ssize_t n = recv(fd, buf + len, capacity - len, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return (ssize_t)len;
        len += (size_t)n;
        if (len == capacity)
            return -1;
    }
}

static void serve(struct control *c, int fd)
{
    struct timeval limit = {10, 0}; /* a client that stalls does not stall the next */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    struct sfs_error err = {{0}};
    char *body = NULL;
    size_t body_len = 0;
    FILE *out = open_memstream(&body, &body_len);
    int status = CONTROL_FAILED;
    struct ucred peer;
    socklen_t peer_len = sizeof peer;
    char request[CONTROL_REQUEST_MAX + 1];
    ssize_t len;
    const char *args[CONTROL_MAX_ARGS];
    int argc;
    /* The request is read whole first, also one that will be refused: a
     * reply to a client whose request is left unread would reach it as a
     * connection reset. */
    if ((len = read_request(fd, request, sizeof request)) < 0) {
        status = CONTROL_REFUSED;
        sfs_error_set(&err, "the request was not read whole (at most %d bytes, then the end)",
                      CONTROL_REQUEST_MAX);
    } else if (out == NULL) {
        sfs_error_set(&err, "out of memory");
    } else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) < 0) {
        sfs_error_set(&err, "who is asking? (SO_PEERCRED: %s)", strerror(errno));
    } else if (peer.uid != c->fs->uid && peer.uid != 0) {
        status = CONTROL_REFUSED;
        sfs_error_set(&err,
                      "not allowed: this mount belongs to uid %u; only that user or root may "
                      "change it",
                      (unsigned)c->fs->uid);
        log_msg(LOG_WARNING, "control: refused a command from uid %u (pid %d)", (unsigned)peer.uid,
                (int)peer.pid);
    } else if ((argc = control_request_split(request, (size_t)len, args, &err)) < 0) {
        status = CONTROL_REFUSED;
    } else {
        status = run_command(c, argc, args, out, &err);
        if (status == CONTROL_DONE && strcmp(args[0], "list") != 0)
            log_msg(LOG_INFO, "control: %s%s%s%s%s by uid %u", args[0], argc > 1 ? " " : "",
                    argc > 1 ? args[1] : "", argc > 2 ? " " : "", argc > 2 ? args[2] : "",
                    (unsigned)peer.uid);
    }
    if (out != NULL && fclose(out) != 0) {
        status = CONTROL_FAILED;
        sfs_error_set(&err, "out of memory");
    }
    char head[16];
    int head_len = snprintf(head, sizeof head, "%d\n", status);
    if (send_all(fd, head, (size_t)head_len) == 0) {
        if (status == CONTROL_DONE)
            send_all(fd, body != NULL ? body : "", body != NULL ? body_len : 0);
        else if (send_all(fd, err.msg, strlen(err.msg)) == 0)
            send_all(fd, "\n", 1);
    }
    free(body);
}

static void *control_thread(void *arg)
{
    struct control *c = arg;
    for (;;) {
        struct pollfd fds[2] = {{c->listen_fd, POLLIN, 0}, {c->stop_pipe[0], POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[1].revents != 0)
            break;
        int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        serve(c, fd);
        close(fd);
    }
    return NULL;
}

/* The socket's folder, made if missing; it must be the user's own and
 * closed to others. Returns 0 or -1 with a message. */
static int make_folder(const char *dir, struct sfs_error *err)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return sfs_error_set(err, "cannot make '%s': %s", dir, strerror(errno));
    struct stat st;
    if (lstat(dir, &st) < 0)
        return sfs_error_set(err, "'%s': %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077) != 0)
        return sfs_error_set(err, "'%s' is not a folder of uid %u closed to others (mode 0700)",
                             dir, (unsigned)getuid());
    return 0;
}

/* Binds fd to path; a socket left there by a daemon that is gone (nobody
 * answers) is replaced, a live one is not. Returns 0 or -1 with a message. */
static int bind_socket(int fd, const char *path, struct sfs_error *err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path)
        return sfs_error_set(err, "'%s' is too long for a socket's path", path);
    strcpy(addr.sun_path, path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0)
        return 0;
    if (errno != EADDRINUSE)
        return sfs_error_set(err, "cannot bind '%s': %s", path, strerror(errno));
    /* A daemon of this mount point that is ending removes its socket when
     * its request loop ends: a remount right after an unmount may find it
     * still there for a moment. */
    bool alive = true;
    for (int tries = 0; alive && tries < 20; tries++) {
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        alive = probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof addr) == 0;
        if (probe >= 0)
            close(probe);
        if (alive)
            usleep(50000);
        else if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0)
            return 0; /* it went away meanwhile */
    }
    /* Still answered: a daemon whose mount was detached (a lazy unmount)
     * and still ends; the mount point is this mount's now (it was no FUSE
     * mount when this daemon began), and so is the name. */
    if (alive)
        log_msg(LOG_INFO, "control: %s was a detached mount's socket; now this mount's", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return sfs_error_set(err, "cannot replace the stale socket '%s': %s", path,
                             strerror(errno));
    if (!alive)
        log_msg(LOG_INFO, "control: replaced a stale socket at %s (its daemon is gone)", path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        return sfs_error_set(err, "cannot bind '%s': %s", path, strerror(errno));
    return 0;
}

static char *copy_or_null(const char *text, bool *failed)
{
    if (text == NULL)
        return NULL;
    char *copy = strdup(text);
    *failed |= copy == NULL;
    return copy;
}

struct control *control_open(struct slicefs_fs *fs, const struct control_config *config)
{
    struct sfs_error err = {{0}};
    struct control *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->fs = fs;
    c->listen_fd = -1;
    c->stop_pipe[0] = c->stop_pipe[1] = -1;
    c->config = *config;
    bool failed = false;
    c->config.mountpoint = copy_or_null(config->mountpoint, &failed);
    c->config.save = copy_or_null(config->save, &failed);
    c->config.default_backing = copy_or_null(config->default_backing, &failed);
    c->config.start_dir = copy_or_null(config->start_dir, &failed);
    char *dir = control_socket_dir(getuid());
    char name[CONTROL_SOCKET_NAME_MAX];
    control_socket_name(config->mountpoint, name);
    if (failed || dir == NULL || asprintf(&c->socket_path, "%s/%s", dir, name) < 0) {
        c->socket_path = NULL;
        sfs_error_set(&err, "out of memory");
        goto fail;
    }
    struct stat st;
    if (make_folder(dir, &err) < 0 ||
        (c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        bind_socket(c->listen_fd, c->socket_path, &err) < 0)
        goto fail;
    if (chmod(c->socket_path, 0600) < 0 || lstat(c->socket_path, &st) < 0 ||
        listen(c->listen_fd, 16) < 0 || pipe2(c->stop_pipe, O_CLOEXEC) < 0) {
        sfs_error_set(&err, "'%s': %s", c->socket_path, strerror(errno));
        unlink(c->socket_path);
        goto fail;
    }
    c->socket_ino = st.st_ino;
    free(dir);
    return c;
fail:
    log_msg(LOG_WARNING, "warning: no control socket (slicefsctl will not reach this mount): %s",
            err.msg[0] != '\0' ? err.msg : strerror(errno));
    free(dir);
    free_control(c);
    return NULL;
}

int control_start(struct control *c)
{
    if (c == NULL)
        return 0;
    int res = pthread_create(&c->thread, NULL, control_thread, c);
    c->started = res == 0;
    return -res;
}

/* The socket's name, if it is still this daemon's. */
static void remove_socket(const struct control *c)
{
    struct stat st;
    if (lstat(c->socket_path, &st) == 0 && st.st_ino == c->socket_ino)
        unlink(c->socket_path);
}

void control_unlink(struct control *c)
{
    if (c == NULL)
        return;
    atomic_store(&c->closing, true);
    remove_socket(c);
}

void control_stop(struct control *c)
{
    if (c == NULL)
        return;
    if (c->started) {
        ssize_t sent = write(c->stop_pipe[1], "", 1);
        (void)sent; /* a full pipe already says stop */
        pthread_join(c->thread, NULL);
    }
    remove_socket(c);
    free_control(c);
}
