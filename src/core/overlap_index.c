#include "slicefs/overlap_index.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static struct overlap_group *group_of(struct overlap_index *index, const struct backing *b)
{
    for (size_t i = 0; i < index->count; i++)
        if (index->groups[i].backing == b)
            return &index->groups[i];
    return NULL;
}

static int compare_entries(const void *a, const void *b)
{
    const struct overlap_entry *ea = a, *eb = b;
    return ea->offset < eb->offset ? -1 : ea->offset > eb->offset;
}

static void add_entry(struct overlap_group *g, uint64_t offset, uint64_t length, uint64_t start,
                      uint64_t ino, enum window_mode mode)
{
    g->entries[g->count++] = (struct overlap_entry){
        .offset = offset,
        .length = length,
        .start = start,
        .ino = ino,
        .cow = mode == WINDOW_MODE_COW,
    };
    if (length > g->max_length)
        g->max_length = length;
}

/* Counts (fill false) or adds (fill true) the entries of window w: one
 * per extent that is not a hole; none for a symbolic link. */
static void add_window(struct overlap_index *index, const struct window *w, uint64_t ino, bool fill)
{
    if (w->link_target != NULL)
        return;
    if (w->extents == NULL) {
        struct overlap_group *g = group_of(index, w->backing);
        /* A window that follows its file's size may reach any offset. */
        if (fill)
            add_entry(g, w->offset, w->follows_size ? UINT64_MAX - w->offset : w->length, 0, ino,
                      w->mode);
        else
            g->count++;
        return;
    }
    for (uint32_t k = 0; k < w->extent_count; k++) {
        const struct window_extent *e = &w->extents[k];
        struct overlap_group *g = group_of(index, e->backing);
        if (e->hole)
            continue;
        if (fill)
            add_entry(g, e->offset, e->length, e->start, ino, w->mode);
        else
            g->count++;
    }
}

int overlap_index_build(struct overlap_index *index, const struct path_tree *tree,
                        struct sfs_error *err)
{
    const struct window_table *table = tree->table;
    memset(index, 0, sizeof *index);
    index->groups = calloc(table->backing_count ? table->backing_count : 1, sizeof *index->groups);
    if (index->groups == NULL)
        return sfs_error_set(err, "out of memory");
    index->count = table->backing_count;
    for (size_t i = 0; i < table->backing_count; i++)
        index->groups[i].backing = table->backings[i];

    /* Count, then fill, the declared windows (their extents) of each
     * backing file. */
    for (int fill = 0; fill < 2; fill++) {
        for (size_t n = 0; n < tree->count; n++)
            if (tree->nodes[n].window != PATH_TREE_NOT_A_WINDOW)
                add_window(index, &table->windows[tree->nodes[n].window], tree->nodes[n].ino, fill);
        for (size_t i = 0; i < index->count && !fill; i++) {
            struct overlap_group *g = &index->groups[i];
            g->entries = calloc(g->count ? g->count : 1, sizeof *g->entries);
            if (g->entries == NULL) {
                overlap_index_free(index);
                return sfs_error_set(err, "out of memory");
            }
            g->count = 0;
        }
    }
    for (size_t i = 0; i < index->count; i++) {
        struct overlap_group *g = &index->groups[i];
        qsort(g->entries, g->count, sizeof(struct overlap_entry), compare_entries);
        /* The invariant the header states and the search relies on. */
        for (size_t k = 1; k < g->count; k++)
            assert(g->entries[k - 1].offset <= g->entries[k].offset);
    }
    if (tree->root_rule != NULL) {
        struct overlap_group *g = group_of(index, tree->root_rule->backing);
        g->rule = tree->root_rule;
        g->rule_ino_base = tree->rule_ino_base;
    }
    return 0;
}

/* Calls fn for the part of [start, end) that entry (at offset, length)
 * covers, if any and if it is not self. */
static void visit_one(uint64_t offset, uint64_t length, uint64_t ino, uint64_t window_start,
                      uint64_t start, uint64_t end, uint64_t self_ino, overlap_fn *fn, void *arg)
{
    if (ino == self_ino || offset >= end || length <= start - (start < offset ? start : offset))
        return;
    uint64_t lo = start > offset ? start : offset;
    uint64_t hi = end < offset + length ? end : offset + length;
    if (lo < hi)
        fn(arg, ino, window_start + (lo - offset), hi - lo);
}

void overlap_index_visit(const struct overlap_index *index, const struct backing *backing, bool cow,
                         uint64_t start, uint64_t length, uint64_t self_ino, overlap_fn *fn,
                         void *arg)
{
    const struct overlap_group *g = NULL;
    for (size_t i = 0; i < index->count && g == NULL; i++)
        if (index->groups[i].backing == backing)
            g = &index->groups[i];
    if (g == NULL || length == 0)
        return;
    if (g->count + (g->rule ? g->rule->count : 0) <= 1)
        return; /* the writer is the only window of this file */
    uint64_t end = start + length;

    /* Entries that can reach start begin at or after start - max_length. */
    uint64_t from = start > g->max_length ? start - g->max_length : 0;
    size_t lo = 0, hi = g->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->entries[mid].offset < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < g->count && g->entries[i].offset < end; i++) {
        const struct overlap_entry *e = &g->entries[i];
        if (!cow || e->cow)
            visit_one(e->offset, e->length, e->ino, e->start, start, end, self_ino, fn, arg);
    }

    const struct window_rule *r = g->rule;
    if (r == NULL || (cow && r->mode != WINDOW_MODE_COW) || r->count == 0)
        return;
    if (end <= r->offset || start >= r->offset + r->total)
        return;
    uint64_t first = start > r->offset ? (start - r->offset) / r->chunk_size : 0;
    uint64_t last = (end - 1 - r->offset) / r->chunk_size;
    if (last >= r->count)
        last = r->count - 1;
    for (uint64_t k = first; k <= last; k++) {
        uint64_t offset = r->offset + k * r->chunk_size;
        uint64_t chunk = r->total - k * r->chunk_size;
        visit_one(offset, chunk < r->chunk_size ? chunk : r->chunk_size, g->rule_ino_base + k, 0,
                  start, end, self_ino, fn, arg);
    }
}

void overlap_index_free(struct overlap_index *index)
{
    for (size_t i = 0; i < index->count; i++)
        free(index->groups[i].entries);
    free(index->groups);
    memset(index, 0, sizeof *index);
}
