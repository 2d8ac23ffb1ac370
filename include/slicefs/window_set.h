/* window_set.h - the windows a live mount shows, changeable while mounted.
 *
 * A set is a snapshot, never changed once made: a table of windows (its
 * own copies; the backing files are the mount's, shared by every set), its
 * path tree and its overlap index. A change (slicefsctl) plans a new table
 * from the current set and the change, checked as the same input would be
 * at mount time, makes a set of it, and the front end publishes it in
 * place of the current one; the old set is freed when nothing holds it any
 * more. Holds: the front end's pointer to the current set, and each open
 * handle (a removed window's handles keep working until closed); a request
 * in flight is covered by the front end's read-side critical section
 * (RCU), not by a hold.
 *
 * A plan's table lists the mount's backing files first, in the current
 * set's order (and index), then any file the change opened: those belong
 * to the plan until its set is published, and are closed by
 * window_set_discard_plan when it is not.
 */
#ifndef SLICEFS_WINDOW_SET_H
#define SLICEFS_WINDOW_SET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "slicefs/error.h"
#include "slicefs/overlap_index.h"
#include "slicefs/path_tree.h"
#include "slicefs/window_spec.h"
#include "slicefs/window_table.h"

/* The sets a mount published and has not freed: the live one and those
 * open handles still hold. A request for an inode the live set no longer
 * has (fstat of a removed window's handle: the kernel sends no handle with
 * it) looks there; the end of the mount frees those that handles the
 * kernel never released still hold. */
struct window_set_list {
    pthread_mutex_t lock;
    struct window_set *first; /* the newest first */
};

struct window_set {
    struct window_table table;
    struct path_tree tree;
    struct overlap_index overlaps;
    atomic_size_t holds;
    struct window_set_list *list;   /* NULL until published, and once unlinked */
    struct window_set *prev, *next; /* in list, under its lock */
    void *deferred[2];              /* room for the front end's deferred free (an RCU head) */
};

void window_set_list_init(struct window_set_list *list);

/* Frees every set still in list, held or not (the end of the mount: no
 * request runs any more). */
void window_set_list_free(struct window_set_list *list);

/* The newest set in list, other than skip, that has inode ino, or NULL.
 * The caller must keep it from being freed while it uses it (the front
 * end: a read-side critical section, and sets freed only after a grace
 * period that began after window_set_unlink). */
struct window_set *window_set_list_find(struct window_set_list *list, uint64_t ino,
                                        const struct window_set *skip);

/* Makes a set of table (taken over; on failure left to the caller), held
 * once, not yet in a list. Refuses what path_tree_build refuses (two
 * windows with one path). Returns 0 or -1 with a message. */
int window_set_make(struct window_set **out, struct window_table *table, struct sfs_error *err);

/* Puts set in list: it is about to be published. */
void window_set_publish(struct window_set_list *list, struct window_set *set);

void window_set_hold(struct window_set *set);

/* Drops a hold. Returns true when it was the last: the caller unlinks the
 * set (window_set_unlink) and frees it (window_set_free), at once or once
 * no reader can still use it. */
bool window_set_release(struct window_set *set);

/* Takes set out of its list (if it is in one). */
void window_set_unlink(struct window_set *set);

/* Frees an unlinked set nothing holds (not the backing files). */
void window_set_free(struct window_set *set);

/* window_set_release, then, when it was the last hold, unlink and free: where
 * no reader can still use the set. */
void window_set_drop(struct window_set *set);

/* Plans: each fills *plan (on success only) with the current set's windows
 * changed as asked, every window checked against the mappings it would
 * use (window_table_map_live); origin names the command in messages.
 * Return 0, or -1 with a message (nothing is left open). */

/* A window of spec, in backing_path (absolute), or default_backing when
 * NULL. */
int window_set_plan_add(const struct window_set *cur, const struct window_spec *spec,
                        const char *default_backing, struct window_table *plan,
                        struct sfs_error *err);

/* Without the declared window (or symbolic link) at path. */
int window_set_plan_remove(const struct window_set *cur, const char *path, const char *origin,
                           struct window_table *plan, struct sfs_error *err);

/* The declared window at path with length_text (a LENGTH field: a size or
 * "end") as its length. */
int window_set_plan_resize(const struct window_set *cur, const char *path, const char *length_text,
                           const char *origin, struct window_table *plan, struct sfs_error *err);

/* fresh, the window sources read again, as the plan (taken over, also on
 * failure): its backing files that the mount holds are replaced by the
 * mount's (window_table_adopt). */
int window_set_plan_reload(const struct window_set *cur, struct window_table *fresh,
                           struct window_table *plan, struct sfs_error *err);

/* Forgets a plan that will not be published: closes the backing files it
 * opened itself and frees it. */
void window_set_discard_plan(const struct window_set *cur, struct window_table *plan);

/* Forgets a set made of a plan that was never published
 * (window_set_discard_plan on its table). */
void window_set_discard(const struct window_set *cur, struct window_set *set);

/* Whether a and b compute the same chunks (the same rule, or none). */
bool window_set_same_rules(const struct window_table *a, const struct window_table *b);

#endif
