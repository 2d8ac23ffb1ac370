/* overlap_index.h - which windows show the same bytes, for cache coherence.
 *
 * A write through one window changes what every window over the same bytes
 * shows: through the shared mapping, every ro, rw and cow window of that
 * backing file (a cow window shows the file wherever it has not written);
 * through a cow overlay, the other cow windows. The front end drops those
 * windows' cached pages. Entries of one backing file are sorted by offset;
 * a query costs O(log n) plus the windows it finds, and nothing for a
 * backing file with a single window. A window of several extents has an
 * entry per extent that is not a hole. Built once; read-only afterwards.
 */
#ifndef SLICEFS_OVERLAP_INDEX_H
#define SLICEFS_OVERLAP_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slicefs/error.h"
#include "slicefs/path_tree.h"

struct overlap_entry {
    uint64_t offset; /* in the backing file */
    uint64_t length;
    uint64_t start; /* where offset lies in the window (an extent of several) */
    uint64_t ino;
    bool cow;
};

struct overlap_group {
    const struct backing *backing;
    struct overlap_entry *entries; /* declared windows, sorted by offset */
    size_t count;
    uint64_t max_length;            /* of the entries, to bound the search */
    const struct window_rule *rule; /* chunks over this backing file, or NULL */
    uint64_t rule_ino_base;         /* member k has inode number rule_ino_base + k */
};

struct overlap_index {
    struct overlap_group *groups; /* one per backing file */
    size_t count;
};

/* Builds the index of tree's windows. Returns 0, or -1 with a message. */
int overlap_index_build(struct overlap_index *index, const struct path_tree *tree,
                        struct sfs_error *err);

/* Called once per window that shares bytes with a write, with the range in
 * that window's coordinates. */
typedef void overlap_fn(void *arg, uint64_t ino, uint64_t offset, uint64_t length);

/* Visits every window other than self_ino that shows [start, start + length)
 * of backing and is affected by a write through a window of kind cow (true:
 * the cow overlay; false: the shared mapping). */
void overlap_index_visit(const struct overlap_index *index, const struct backing *backing, bool cow,
                         uint64_t start, uint64_t length, uint64_t self_ino, overlap_fn *fn,
                         void *arg);

void overlap_index_free(struct overlap_index *index);

#endif
