/* window_times.c - see window_times.h. */
#include "slicefs/window_times.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slicefs/range_digest.h"
#include "slicefs/window_digest.h"

enum { TAG_STATE_WINDOW = 11, TAG_STATE_CHUNKS = 12, MAX_THREADS = 8 };

static int64_t ns_of(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static struct timespec timespec_of(int64_t ns)
{
    return (struct timespec){.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ns_of(&ts);
}

static struct state_stamp stamp_of(const struct stat *st)
{
    return (struct state_stamp){(uint64_t)st->st_size, ns_of(&st->st_mtim), ns_of(&st->st_ctim)};
}

static bool known(const unsigned char *digest, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (digest[i] != 0)
            return true;
    return false;
}

/* Moves the record's ctime to now, or past its last value: returns it. */
static int64_t advance(struct window_record *r, int64_t now)
{
    int64_t old = atomic_load(&r->ctime_ns), next;
    do
        next = now > old ? now : old + 1;
    while (!atomic_compare_exchange_weak(&r->ctime_ns, &old, next));
    return next;
}

static void forget_digests(struct window_record *r)
{
    memset(r->xxh128, 0, sizeof r->xxh128);
    memset(r->sha256, 0, sizeof r->sha256);
}

/* Keeps digest (of size bytes, at field) if the record did not change
 * since generation: a write that overtook the digest moved ctime first, and
 * then clears the digests itself, or is seen here and cleared. */
static void keep_digest(struct window_record *r, unsigned char *field, const unsigned char *digest,
                        size_t size, int64_t generation)
{
    if (atomic_load(&r->ctime_ns) != generation)
        return;
    memcpy(field, digest, size);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(&r->ctime_ns) != generation)
        memset(field, 0, size);
}

/* Whether b is one of the backing files the mount began with (a file
 * added while mounted has no state: its windows' records are the front
 * end's). */
static bool has_state(const struct window_times *t, const struct backing *b)
{
    return t->per_backing != NULL && b->index < t->table->backing_count &&
           t->table->backings[b->index] == b;
}

struct window_record *window_times_record(const struct window_times *t, const struct window *w)
{
    if (t->per_backing == NULL)
        return NULL;
    if (w->record != NULL)
        return w->record;
    /* A chunk: its record is the rule's, if it is a chunk of the rule the
     * mount began with (a reload may have changed the rule). */
    if (t->table->rule_count == 0 || !has_state(t, w->backing))
        return NULL;
    const struct window_rule *rule = &t->table->rules[0];
    if (w->backing != rule->backing || w->offset < rule->offset ||
        (w->offset - rule->offset) % rule->chunk_size != 0)
        return NULL;
    uint64_t index = (w->offset - rule->offset) / rule->chunk_size;
    if (index >= rule->count ||
        w->length !=
            (index + 1 < rule->count ? rule->chunk_size : rule->total - index * rule->chunk_size))
        return NULL;
    return &t->per_backing[w->backing->index].file.records[t->rule_first_record + index];
}

void window_times_record_init(struct window_record *r, const struct backing *b)
{
    struct stat st;
    memset(r, 0, sizeof *r);
    int64_t now = now_ns();
    bool known_times = fstat(b->fd, &st) == 0;
    atomic_store(&r->mtime_ns, known_times ? ns_of(&st.st_mtim) : now);
    atomic_store(&r->ctime_ns, known_times ? ns_of(&st.st_ctim) : now);
}

void window_times_changed(const struct window_times *t, const struct window *w)
{
    struct window_record *r = window_times_record(t, w);
    if (r == NULL)
        return;
    if (has_state(t, w->backing)) {
        atomic_bool *changed = &t->per_backing[w->backing->index].changed;
        if (!atomic_load_explicit(changed, memory_order_relaxed))
            atomic_store(changed, true);
    }
    int64_t c = advance(r, now_ns());
    atomic_store(&r->mtime_ns, c);
    forget_digests(r);
}

void window_times_touch(const struct window_times *t, const struct window *w,
                        const struct timespec *mtime)
{
    struct window_record *r = window_times_record(t, w);
    if (r == NULL)
        return;
    int64_t c = advance(r, now_ns());
    atomic_store(&r->mtime_ns, mtime != NULL ? ns_of(mtime) : c);
}

bool window_times_get(const struct window_times *t, const struct window *w, struct timespec *mtime,
                      struct timespec *ctime)
{
    const struct window_record *r = window_times_record(t, w);
    if (r == NULL)
        return false;
    *mtime = timespec_of(atomic_load(&r->mtime_ns));
    *ctime = timespec_of(atomic_load(&r->ctime_ns));
    return true;
}

/* ---- Digest passes ------------------------------------------------------ */

enum pass_kind {
    PASS_MOUNT,    /* before the mount: only where the file changed since the state */
    PASS_RESCAN,   /* an outside change while mounted: every window */
    PASS_CLOSE,    /* at the end: what changed through the mount */
    PASS_BASELINE, /* while mounted, slowly: windows never digested */
};

struct pass {
    const struct window_times *t;
    const struct backing *b;
    enum pass_kind kind;
    bool trusted;               /* PASS_MOUNT: the state's stamp is the file's */
    struct state_stamp backing; /* the file's stamp: times for windows new to the state */
    int64_t now;
    uint64_t *listed; /* declared windows of b (table indexes) */
    uint64_t listed_count;
    uint64_t rule_count;   /* chunks of b (0 or the rule's count) */
    _Atomic uint64_t next; /* the next job */
    uint64_t job_count;
    _Atomic uint64_t covered; /* bytes of finished windows */
    uint64_t total;
    _Atomic uint64_t changed;
    window_times_changed_fn *fn;
    void *arg;
    unsigned threads;          /* at most this many workers (1: the caller alone) */
    const atomic_bool *stop;   /* PASS_BASELINE: give up when true */
    _Atomic uint64_t digested; /* windows digested */
    pthread_mutex_t lock;
    pthread_cond_t finished;
    unsigned running;
};

/* Job k of the pass: its window (in scratch for a chunk). */
static const struct window *job_window(const struct pass *p, uint64_t k, struct window *scratch,
                                       char name[WINDOW_RULE_NAME_MAX], bool *rule, uint64_t *index)
{
    if (k < p->listed_count) {
        *rule = false;
        *index = p->listed[k];
        return &p->t->table->windows[*index];
    }
    *rule = true;
    *index = k - p->listed_count;
    window_rule_member(&p->t->table->rules[0], *index, scratch, name);
    return scratch;
}

static void run_job(struct pass *p, uint64_t k)
{
    struct window scratch;
    char name[WINDOW_RULE_NAME_MAX];
    bool rule;
    uint64_t index;
    const struct window *w = job_window(p, k, &scratch, name, &rule, &index);
    struct window_record *r = window_times_record(p->t, w);
    uint64_t length = window_length(w);
    bool had = known(r->xxh128, sizeof r->xxh128);
    int64_t generation = atomic_load(&r->ctime_ns);
    bool skip = false;
    switch (p->kind) {
    case PASS_MOUNT:
        if (generation == 0) {
            /* No earlier mount knew it: the file's times; its digest comes
             * later (PASS_BASELINE), not before the mount goes live. */
            /* (An archive member starts from its own mtime.) */
            atomic_store(&r->mtime_ns, w->mtime_ns != 0 ? w->mtime_ns : p->backing.mtime_ns);
            atomic_store(&r->ctime_ns, p->backing.ctime_ns > 0 ? p->backing.ctime_ns : 1);
            skip = true;
        } else {
            skip = p->trusted; /* the file did not change since the state */
        }
        break;
    case PASS_RESCAN:
        break;
    case PASS_CLOSE: /* only what changed through this mount */
        skip = had || generation < p->t->opened_ns;
        break;
    case PASS_BASELINE:
        skip = had;
        break;
    }
    if (skip) {
        atomic_fetch_add(&p->covered, length);
        return;
    }
    unsigned char digest[16];
    int res = window_digest(w, length, DIGEST_XXH128, digest, NULL, p->stop);
    if (res == -ECANCELED)
        return;
    atomic_fetch_add(&p->digested, 1);
    bool same = res == 0 && had && memcmp(digest, r->xxh128, sizeof digest) == 0;
    bool changed = false;
    if (p->kind == PASS_CLOSE) {
        /* Changed during the mount (times moved then); a cow window's
         * overlay is gone, so its bytes change again now. */
        if (w->mode == WINDOW_MODE_COW)
            atomic_store(&r->mtime_ns, advance(r, p->now));
        generation = atomic_load(&r->ctime_ns);
    } else if (p->kind != PASS_BASELINE && !same) {
        /* Changed outside, or not known before: new times. */
        int64_t c = advance(r, p->now);
        atomic_store(&r->mtime_ns, c);
        memset(r->sha256, 0, sizeof r->sha256);
        generation = c;
        changed = true;
    }
    if (res == 0)
        keep_digest(r, r->xxh128, digest, sizeof digest, generation);
    else if (p->kind != PASS_BASELINE)
        forget_digests(r); /* the bytes are gone: unknown until they are back */
    atomic_fetch_add(&p->covered, length);
    if (changed) {
        atomic_fetch_add(&p->changed, 1);
        if (p->fn != NULL)
            p->fn(p->arg, rule, index);
    }
}

/* Unmaps (the page cache keeps them) the records of chunks before member
 * end, so that a pass over a million chunks does not hold 64 MiB of
 * records in the daemon's memory. A record still being written there is
 * safe: a shared file mapping faults the page back in. */
static void release_records(const struct pass *p, uint64_t end)
{
    struct state_file *file = &p->t->per_backing[p->b->index].file;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uintptr_t from = (uintptr_t)&file->records[p->t->rule_first_record];
    uintptr_t to = (uintptr_t)&file->records[p->t->rule_first_record + end];
    from = (from + page - 1) / page * page;
    to = to / page * page;
    if (to > from)
        madvise((void *)from, to - from, MADV_DONTNEED);
}

enum { RELEASE_EVERY = 1 << 14 }; /* chunks: 1 MiB of records */

static void *worker(void *arg)
{
    struct pass *p = arg;
    for (uint64_t k; (k = atomic_fetch_add(&p->next, 1)) < p->job_count;) {
        run_job(p, k);
        if (k >= p->listed_count && (k - p->listed_count + 1) % RELEASE_EVERY == 0 &&
            k - p->listed_count + 1 >= 2 * RELEASE_EVERY)
            release_records(p, k - p->listed_count + 1 - RELEASE_EVERY);
    }
    pthread_mutex_lock(&p->lock);
    p->running--;
    pthread_cond_signal(&p->finished);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Runs pass p over the windows of backing file p->b on up to t->threads
 * threads, reporting progress each second when asked to. */
static void run_pass(struct pass *p, window_times_progress *progress, void *progress_arg)
{
    const struct window_table *table = p->t->table;
    p->listed = malloc((table->count ? table->count : 1) * sizeof *p->listed);
    for (size_t i = 0; p->listed != NULL && i < table->count; i++)
        if (table->windows[i].backing == p->b)
            p->listed[p->listed_count++] = i;
    if (p->listed == NULL) /* out of memory: no pass; nothing is trusted */
        return;
    p->rule_count =
        table->rule_count > 0 && table->rules[0].backing == p->b ? table->rules[0].count : 0;
    p->job_count = p->listed_count + p->rule_count;
    for (uint64_t i = 0; i < p->listed_count; i++)
        p->total += window_length(&table->windows[p->listed[i]]);
    if (p->rule_count > 0)
        p->total += table->rules[0].total;
    p->now = now_ns();
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->finished, NULL);

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    unsigned most = p->threads > 0 ? p->threads : p->t->threads;
    unsigned want = p->job_count < most ? (unsigned)p->job_count : most;
    pthread_t threads[MAX_THREADS];
    unsigned started = 0;
    pthread_mutex_lock(&p->lock);
    for (; want > 1 && started < want; started++) {
        p->running++;
        if (pthread_create(&threads[started], NULL, worker, p) != 0) {
            p->running--;
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (started == 0) { /* one job, one thread wanted, or none to be had: this one */
        p->running = 1;
        worker(p);
    }
    pthread_mutex_lock(&p->lock);
    while (p->running > 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        if (pthread_cond_timedwait(&p->finished, &p->lock, &until) == ETIMEDOUT && progress)
            progress(progress_arg, atomic_load(&p->covered), p->total, seconds_since(&start));
    }
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    if (p->rule_count > 0)
        release_records(p, p->rule_count);
    if (progress != NULL && p->total > 0)
        progress(progress_arg, p->total, p->total, seconds_since(&start));
    pthread_cond_destroy(&p->finished);
    pthread_mutex_destroy(&p->lock);
    free(p->listed);
}

/* ---- Opening and closing ----------------------------------------------- */

static int make_folder(const char *dir)
{
    char *copy = strdup(dir);
    if (copy == NULL)
        return -ENOMEM;
    int res = 0;
    for (char *p = copy + 1; res == 0; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(copy, 0700) < 0 && errno != EEXIST)
            res = -errno;
        *p = c;
        if (c == '\0')
            break;
    }
    free(copy);
    return res;
}

static bool is_folder(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The state file of backing file i: allocated, or NULL with a message. */
static char *state_path(const struct window_table *table, size_t i, const char *option,
                        struct sfs_error *err)
{
    const struct backing *b = table->backings[i];
    if (option != NULL && !is_folder(option)) {
        if (table->backing_count > 1) {
            sfs_error_set(err,
                          "state=%s: a mount of %zu backing files needs a folder for their "
                          "states",
                          option, table->backing_count);
            return NULL;
        }
        char *path = strdup(option);
        if (path == NULL)
            sfs_error_set(err, "out of memory");
        return path;
    }
    char *dir = option != NULL ? strdup(option) : state_file_default_dir();
    if (dir == NULL) {
        sfs_error_set(err, "no folder for the state (set XDG_STATE_HOME or HOME, or give -o "
                           "state=FILE or -o nostate)");
        return NULL;
    }
    int res = make_folder(dir);
    char *path = res == 0 ? state_file_name(dir, &b->identity) : NULL;
    if (res < 0)
        sfs_error_set(err, "state folder '%s': %s", dir, strerror(-res));
    else if (path == NULL)
        sfs_error_set(err, "out of memory");
    free(dir);
    return path;
}

static uint64_t rule_key(const struct window_rule *rule)
{
    char text[64];
    snprintf(text, sizeof text, "chunks:%llu:%llu", (unsigned long long)rule->offset,
             (unsigned long long)rule->chunk_size);
    return file_identity_hash(NULL, text, TAG_STATE_CHUNKS);
}

/* Opens the state of backing file i, assigning records to its windows. */
static int open_backing(struct window_times *t, struct window_table *table, size_t i,
                        const char *path, const struct window_times_options *options,
                        struct sfs_error *err)
{
    const struct backing *b = table->backings[i];
    struct state_section *sections = malloc((table->count + 1) * sizeof *sections);
    if (sections == NULL)
        return sfs_error_set(err, "out of memory");
    size_t n = 0;
    for (size_t w = 0; w < table->count; w++)
        if (table->windows[w].backing == b)
            sections[n++] = (struct state_section){
                file_identity_hash(NULL, table->windows[w].path, TAG_STATE_WINDOW), 1, 0};
    bool has_rule = table->rule_count > 0 && table->rules[0].backing == b;
    if (has_rule)
        sections[n++] =
            (struct state_section){rule_key(&table->rules[0]), table->rules[0].count, 0};
    struct stat st;
    if (fstat(b->fd, &st) < 0) {
        free(sections);
        return sfs_error_set(err, "backing file '%s': %s", b->path, strerror(errno));
    }
    struct state_stamp stamp = stamp_of(&st);
    struct backing_times *bt = &t->per_backing[i];
    if (state_file_open(&bt->file, path, &b->identity, &stamp, sections, n, options->warn, err) <
        0) {
        free(sections);
        return -1;
    }
    bt->open = true;
    pthread_mutex_init(&bt->scan_lock, NULL);
    size_t k = 0;
    for (size_t w = 0; w < table->count; w++)
        if (table->windows[w].backing == b) {
            t->listed_record[w] = sections[k++].first;
            table->windows[w].record = &bt->file.records[t->listed_record[w]];
        }
    if (has_rule)
        t->rule_first_record = sections[k].first;
    free(sections);

    /* An unchanged file whose every window the state knows: nothing to do
     * (a remount of a million chunks reads no record). */
    if (bt->file.stamp_matches && bt->file.all_copied)
        return 0;
    struct pass p = {
        .t = t, .b = b, .kind = PASS_MOUNT, .trusted = bt->file.stamp_matches, .backing = stamp};
    run_pass(&p, options->progress, options->progress_arg);
    return 0;
}

int window_times_open(struct window_times *t, struct window_table *table,
                      const struct window_times_options *options, struct sfs_error *err)
{
    memset(t, 0, sizeof *t);
    t->table = table;
    t->opened_ns = now_ns();
    if (options->off || table->backing_count == 0)
        return 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    t->threads = cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (unsigned)cores;
    t->per_backing = calloc(table->backing_count, sizeof *t->per_backing);
    t->listed_record = calloc(table->count ? table->count : 1, sizeof *t->listed_record);
    if (t->per_backing == NULL || t->listed_record == NULL) {
        window_times_abandon(t);
        return sfs_error_set(err, "out of memory");
    }
    for (size_t i = 0; i < table->backing_count; i++) {
        char *path = state_path(table, i, options->state, err);
        int res = path == NULL ? -1 : open_backing(t, table, i, path, options, err);
        free(path);
        if (res < 0) {
            window_times_abandon(t);
            if (options->state != NULL)
                return -1; /* asked for: the mount is refused */
            /* The default place cannot be used (a user without a home, a
             * read-only one): the mount goes on without state. */
            if (options->warn != NULL) {
                char message[sizeof err->msg + 96];
                snprintf(message, sizeof message,
                         "%s; windows show their backing files' times (no state)", err->msg);
                options->warn(message);
            }
            return 0;
        }
    }
    return 0;
}

uint64_t window_times_rescan(const struct window_times *t, const struct backing *b,
                             window_times_changed_fn *fn, void *arg)
{
    if (!has_state(t, b))
        return 0;
    struct backing_times *bt = &t->per_backing[b->index];
    pthread_mutex_lock(&bt->scan_lock);
    atomic_store(&bt->scanning, true);
    struct pass p = {.t = t, .b = b, .kind = PASS_RESCAN, .fn = fn, .arg = arg};
    run_pass(&p, NULL, NULL);
    atomic_store(&bt->scanning, false);
    pthread_mutex_unlock(&bt->scan_lock);
    return atomic_load(&p.changed);
}

void window_times_wait_rescan(const struct window_times *t, const struct backing *b)
{
    if (!has_state(t, b))
        return;
    struct backing_times *bt = &t->per_backing[b->index];
    if (!atomic_load(&bt->scanning))
        return;
    pthread_mutex_lock(&bt->scan_lock);
    pthread_mutex_unlock(&bt->scan_lock);
}

int window_times_sha256(const struct window_times *t, const struct window *w, unsigned char *out)
{
    struct window_record *r = window_times_record(t, w);
    bool cow = w->mode == WINDOW_MODE_COW;
    int64_t generation = r != NULL ? atomic_load(&r->ctime_ns) : 0;
    if (r != NULL && !cow && !w->reshaped && known(r->sha256, sizeof r->sha256)) {
        memcpy(out, r->sha256, sizeof r->sha256);
        /* Still the same window's bytes? (A write clears it after moving
         * ctime; a torn copy would show as a moved ctime.) */
        if (atomic_load(&r->ctime_ns) == generation && known(out, 32))
            return 0;
    }
    uint64_t length = window_length(w);
    int res = cow && w->extents == NULL ? memory_digest(window_data(w), length, DIGEST_SHA256, out)
                                        : window_digest(w, length, DIGEST_SHA256, out, NULL, NULL);
    /* A reshaped window's record keeps the digests of the bytes the mount
     * began with (window_table.h), not of these. */
    if (res == 0 && r != NULL && !cow && !w->reshaped)
        keep_digest(r, r->sha256, out, 32, generation);
    return res;
}

/* The baseline thread: windows never digested, one at a time, politely. */
static void *baseline_main(void *arg)
{
    struct window_times *t = arg;
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
    enum { IOPRIO_WHO_PROCESS = 1, IOPRIO_CLASS_IDLE = 3, IOPRIO_CLASS_SHIFT = 13 };
    syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    uint64_t windows = 0, bytes = 0;
    for (size_t i = 0; i < t->table->backing_count; i++) {
        if (!t->per_backing[i].open || atomic_load(&t->baseline_stop))
            continue;
        struct pass p = {.t = t,
                         .b = t->table->backings[i],
                         .kind = PASS_BASELINE,
                         .threads = 1,
                         .stop = &t->baseline_stop};
        run_pass(&p, NULL, NULL);
        windows += atomic_load(&p.digested);
        bytes += atomic_load(&p.covered);
    }
    if (t->log != NULL) {
        char message[160];
        snprintf(message, sizeof message, "window digests %s: %llu window(s), %.1f MiB, in %.1f s",
                 atomic_load(&t->baseline_stop) ? "stopped" : "ready", (unsigned long long)windows,
                 (double)bytes / 1048576, seconds_since(&start));
        t->log(message);
    }
    return NULL;
}

int window_times_start_baseline(struct window_times *t, void (*log)(const char *message))
{
    if (t->per_backing == NULL || t->baseline_started)
        return 0;
    t->log = log;
    atomic_store(&t->baseline_stop, false);
    int res = pthread_create(&t->baseline, NULL, baseline_main, t);
    if (res != 0)
        return -res;
    t->baseline_started = true;
    return 0;
}

void window_times_stop_baseline(struct window_times *t)
{
    if (!t->baseline_started)
        return;
    atomic_store(&t->baseline_stop, true);
    pthread_join(t->baseline, NULL);
    t->baseline_started = false;
}

int window_times_close(struct window_times *t, struct sfs_error *err)
{
    window_times_stop_baseline(t);
    int status = 0;
    for (size_t i = 0; t->per_backing != NULL && i < t->table->backing_count; i++) {
        struct backing_times *bt = &t->per_backing[i];
        if (!bt->open)
            continue;
        const struct backing *b = t->table->backings[i];
        /* Nothing changed through the mount: every digest is still known. */
        if (atomic_load(&bt->changed)) {
            struct pass p = {.t = t, .b = b, .kind = PASS_CLOSE};
            run_pass(&p, NULL, NULL);
        }
        struct stat st;
        struct sfs_error one = {{0}};
        int res = fstat(b->fd, &st) < 0
                      ? sfs_error_set(&one, "backing file '%s': %s", b->path, strerror(errno))
                      : 0;
        if (res == 0) {
            struct state_stamp stamp = stamp_of(&st);
            res = state_file_commit(&bt->file, &stamp, &one);
        } else {
            state_file_abandon(&bt->file);
        }
        bt->open = false;
        pthread_mutex_destroy(&bt->scan_lock);
        if (res < 0 && status == 0) {
            *err = one;
            status = -1;
        }
    }
    window_times_abandon(t);
    return status;
}

void window_times_abandon(struct window_times *t)
{
    window_times_stop_baseline(t);
    for (size_t i = 0; t->per_backing != NULL && i < t->table->backing_count; i++) {
        if (t->per_backing[i].open) {
            state_file_abandon(&t->per_backing[i].file);
            pthread_mutex_destroy(&t->per_backing[i].scan_lock);
        }
    }
    free(t->per_backing);
    free(t->listed_record);
    t->per_backing = NULL;
    t->listed_record = NULL;
}
