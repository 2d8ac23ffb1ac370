/* window_times.h - per-window times and digests, kept across mounts.
 *
 * A window's mtime and ctime change when, and only when, its bytes change:
 * - through the mount: window_times_changed() for every window over the
 *   changed bytes, at once (the I/O path: a few atomic stores, no lock);
 * - outside the mount: found by content. Each window's XXH3-128 is kept in
 *   the backing file's state (state_file.h). When the backing file's stamp
 *   (size, mtime, ctime) is not the one the state was written with, every
 *   window is digested again before the mount goes live, in parallel, and
 *   only those whose digest changed get new times; while mounted, a change
 *   of the file's size or ctime that the mount did not make does the same
 *   (window_times_rescan) before the request that noticed it is answered.
 * A window no earlier mount knew takes the backing file's times, and its
 * digest is made after the mount went live, slowly, on a thread of its own
 * (window_times_start_baseline): a first mount reads nothing before it
 * answers, and if the file then changes before that digest exists, the
 * window counts as changed. touch on a
 * window sets that window's times only. The times never go backwards for a
 * change: ctime only grows, and is the record's generation (a digest that a
 * write overtook is not kept).
 *
 * With the state off (-o nostate) nothing here is used: windows show the
 * backing file's times, as before.
 */
#ifndef SLICEFS_WINDOW_TIMES_H
#define SLICEFS_WINDOW_TIMES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "slicefs/error.h"
#include "slicefs/state_file.h"
#include "slicefs/window_table.h"

struct backing_times {
    struct state_file file;
    bool open;
    pthread_mutex_t scan_lock; /* one rescan at a time */
    atomic_bool changed;       /* a window's bytes changed since the mount began */
    atomic_bool scanning;      /* a rescan is under way */
};

struct window_times {
    const struct window_table *table;
    struct backing_times *per_backing; /* one per backing file; NULL: state off */
    uint64_t *listed_record;           /* record of each declared window */
    uint64_t rule_first_record;        /* record of chunk 0 */
    unsigned threads;                  /* digest workers */
    int64_t opened_ns;                 /* when the mount began */
    pthread_t baseline;                /* the thread of window_times_start_baseline */
    bool baseline_started;
    atomic_bool baseline_stop;
    void (*log)(const char *message);
};

/* Reports a digest pass: bytes read of total (holes are not read), every
 * second or so, and once at the end (done == total). May be NULL. */
typedef void window_times_progress(void *arg, uint64_t done, uint64_t total, double seconds);

struct window_times_options {
    const char *state; /* -o state=: a file (one backing file) or a folder; NULL: default */
    bool off;          /* -o nostate */
    void (*warn)(const char *message);
    window_times_progress *progress;
    void *progress_arg;
};

/* Opens the state of every backing file of table (mapped, before the
 * mount goes live), points each window's record into it (struct window),
 * digests the windows that need it and settles their times. Returns 0, or -1 with a message when
 * the state asked for (-o state=) cannot be made. Where the default place cannot be used, warns and
 * goes on without state; an old state that cannot be used is only warned
 * of and made anew. */
int window_times_open(struct window_times *t, struct window_table *table,
                      const struct window_times_options *options, struct sfs_error *err);

static inline bool window_times_on(const struct window_times *t)
{
    return t->per_backing != NULL;
}

/* The record of w: its own (a declared window), or for a chunk the rule's
 * record of it; NULL when the state is off, and for a chunk of a rule the
 * mount did not begin with. Windows added while mounted get records from
 * the front end (not kept in the state: the next mount takes them as new). */
struct window_record *window_times_record(const struct window_times *t, const struct window *w);

/* Makes r the record of a window new to the mount (added while mounted):
 * digests unknown, the times of backing file b now. */
void window_times_record_init(struct window_record *r, const struct backing *b);

/* Bytes of w changed now (through the mount): new mtime and ctime, digests
 * unknown. No lock, no system call but the clock. */
void window_times_changed(const struct window_times *t, const struct window *w);

/* Sets w's mtime (NULL: now), and its ctime to now, as utimensat does. */
void window_times_touch(const struct window_times *t, const struct window *w,
                        const struct timespec *mtime);

/* w's mtime and ctime. Returns false (nothing set) when the state is off. */
bool window_times_get(const struct window_times *t, const struct window *w, struct timespec *mtime,
                      struct timespec *ctime);

/* Called for each window whose bytes a rescan found changed: declared
 * window number index of the table, or (rule true) chunk number index. */
typedef void window_times_changed_fn(void *arg, bool rule, uint64_t index);

/* The backing file changed outside the mount: digests all its windows,
 * gives new times to those whose digest changed (or was unknown), and calls
 * fn for each. One rescan at a time per backing file; a caller that comes
 * while one runs waits for it. Returns the number of changed windows. */
uint64_t window_times_rescan(const struct window_times *t, const struct backing *b,
                             window_times_changed_fn *fn, void *arg);

/* Waits for a rescan of b's windows under way, if any (a request that
 * sees no change must not answer with the times a rescan is changing). */
void window_times_wait_rescan(const struct window_times *t, const struct backing *b);

/* The SHA-256 of w's bytes into out (32 bytes): from the state when it is
 * known and w unchanged since, else computed (and kept). Returns 0 or a
 * negative errno (-EIO: bytes the backing file no longer holds). */
int window_times_sha256(const struct window_times *t, const struct window *w, unsigned char *out);

/* Starts a thread, at the lowest CPU and I/O priority, that digests the
 * windows no mount has digested yet (a first mount's), so that a later
 * outside change is found window by window; it tells log (may be NULL) when
 * it is done ("window digests ready: ..."). Call after the mount is live
 * (and after any fork). Returns 0 or a negative errno. */
int window_times_start_baseline(struct window_times *t, void (*log)(const char *message));

/* Stops that thread (within 1 MiB of digesting) and waits for it. */
void window_times_stop_baseline(struct window_times *t);

/* Digests what changed during the mount and writes every state file back
 * (atomically). Windows a cow overlay changed get new times: the overlay
 * is gone. Returns 0, or -1 with a message (the old state stays). */
int window_times_close(struct window_times *t, struct sfs_error *err);

/* Frees everything and leaves the old states as they were. */
void window_times_abandon(struct window_times *t);

#endif
