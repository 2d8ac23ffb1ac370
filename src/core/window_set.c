/* window_set.c - snapshots of a live mount's windows, and planned changes. */
#include "slicefs/window_set.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void window_set_list_init(struct window_set_list *list)
{
    pthread_mutex_init(&list->lock, NULL);
    list->first = NULL;
}

void window_set_free(struct window_set *set)
{
    assert(set->list == NULL);
    overlap_index_free(&set->overlaps);
    path_tree_free(&set->tree);
    window_table_release(&set->table);
    free(set);
}

void window_set_list_free(struct window_set_list *list)
{
    while (list->first != NULL) {
        struct window_set *set = list->first;
        list->first = set->next;
        set->list = NULL;
        window_set_free(set);
    }
    pthread_mutex_destroy(&list->lock);
}

struct window_set *window_set_list_find(struct window_set_list *list, uint64_t ino,
                                        const struct window_set *skip)
{
    struct window_set *found = NULL;
    pthread_mutex_lock(&list->lock);
    for (struct window_set *set = list->first; set != NULL && found == NULL; set = set->next) {
        struct tree_entry entry;
        if (set != skip && path_tree_resolve(&set->tree, ino, &entry))
            found = set;
    }
    pthread_mutex_unlock(&list->lock);
    return found;
}

int window_set_make(struct window_set **out, struct window_table *table, struct sfs_error *err)
{
    struct window_set *set = calloc(1, sizeof *set);
    if (set == NULL)
        return sfs_error_set(err, "out of memory");
    set->table = *table;
    if (path_tree_build(&set->tree, &set->table, err) < 0) {
        free(set);
        return -1;
    }
    if (overlap_index_build(&set->overlaps, &set->tree, err) < 0) {
        path_tree_free(&set->tree);
        free(set);
        return -1;
    }
    memset(table, 0, sizeof *table);
    atomic_init(&set->holds, 1);
    *out = set;
    return 0;
}

void window_set_publish(struct window_set_list *list, struct window_set *set)
{
    assert(set->list == NULL);
    pthread_mutex_lock(&list->lock);
    set->list = list;
    set->prev = NULL;
    set->next = list->first;
    if (list->first != NULL)
        list->first->prev = set;
    list->first = set;
    pthread_mutex_unlock(&list->lock);
}

void window_set_unlink(struct window_set *set)
{
    struct window_set_list *list = set->list;
    if (list == NULL)
        return;
    pthread_mutex_lock(&list->lock);
    if (set->prev != NULL)
        set->prev->next = set->next;
    else
        list->first = set->next;
    if (set->next != NULL)
        set->next->prev = set->prev;
    set->list = NULL;
    pthread_mutex_unlock(&list->lock);
}

void window_set_hold(struct window_set *set)
{
    atomic_fetch_add_explicit(&set->holds, 1, memory_order_relaxed);
}

bool window_set_release(struct window_set *set)
{
    return atomic_fetch_sub_explicit(&set->holds, 1, memory_order_acq_rel) == 1;
}

void window_set_drop(struct window_set *set)
{
    if (!window_set_release(set))
        return;
    window_set_unlink(set);
    window_set_free(set);
}

void window_set_discard(const struct window_set *cur, struct window_set *set)
{
    struct window_table plan = set->table;
    memset(&set->table, 0, sizeof set->table);
    window_set_free(set);
    window_set_discard_plan(cur, &plan);
}

void window_set_discard_plan(const struct window_set *cur, struct window_table *plan)
{
    for (size_t i = cur->table.backing_count; i < plan->backing_count; i++) {
        backing_close(plan->backings[i]);
        free(plan->backings[i]);
    }
    window_table_release(plan);
}

/* Checks the plan against the mappings, or discards it. */
static int settle_plan(const struct window_set *cur, struct window_table *plan,
                       struct sfs_error *err)
{
    if (window_table_map_live(plan, cur->table.backing_count, err) == 0)
        return 0;
    window_set_discard_plan(cur, plan);
    return -1;
}

/* A window at the end of plan must lie inside its file as it is now, not
 * only as it was when the mount began (it may have shrunk since). */
static int check_size_now(const struct window *w, struct sfs_error *err)
{
    struct stat st;
    if (w->extents != NULL || w->link_target != NULL || w->follows_size)
        return 0;
    if (fstat(w->backing->fd, &st) < 0 || w->offset + w->length <= (uint64_t)st.st_size)
        return 0;
    return sfs_error_set(err,
                         "%s: LENGTH: offset %llu + length %llu = %llu is past the end of '%s' "
                         "(%llu bytes)",
                         w->origin, (unsigned long long)w->offset, (unsigned long long)w->length,
                         (unsigned long long)(w->offset + w->length), w->backing->path,
                         (unsigned long long)st.st_size);
}

int window_set_plan_add(const struct window_set *cur, const struct window_spec *spec,
                        const char *default_backing, struct window_table *plan,
                        struct sfs_error *err)
{
    if (spec->hole)
        return sfs_error_set(err, "%s: OFFSET: a window of only a hole cannot be added",
                             spec->origin);
    if (window_table_copy(plan, &cur->table, err) < 0)
        return -1;
    if (window_table_add(plan, spec, default_backing, err) < 0 ||
        check_size_now(&plan->windows[plan->count - 1], err) < 0) {
        window_set_discard_plan(cur, plan);
        return -1;
    }
    return settle_plan(cur, plan, err);
}

/* The index of the declared window at path in table, or -1 with a message
 * saying what path is instead. */
static ssize_t find_declared(const struct window_set *cur, const char *path, const char *origin,
                             struct sfs_error *err)
{
    uint64_t ino = path_tree_path_ino(&cur->tree, path);
    const struct tree_node *node = ino != 0 ? path_tree_node(&cur->tree, ino) : NULL;
    if (node != NULL && node->window != PATH_TREE_NOT_A_WINDOW)
        return node->window;
    struct tree_entry entry;
    if (ino == 0 || !path_tree_resolve(&cur->tree, ino, &entry))
        return sfs_error_set(err, "%s: PATH: no window '%s'", origin, path);
    if (entry.window == NULL)
        return sfs_error_set(err, "%s: PATH: '%s' is a folder, not a window", origin, path);
    return sfs_error_set(err,
                         "%s: PATH: '%s' is a chunk of %s, computed by a rule: change the "
                         "rule and reload",
                         origin, path, cur->table.rules[0].origin);
}

int window_set_plan_remove(const struct window_set *cur, const char *path, const char *origin,
                           struct window_table *plan, struct sfs_error *err)
{
    ssize_t index = find_declared(cur, path, origin, err);
    if (index < 0)
        return -1;
    if (window_table_copy(plan, &cur->table, err) < 0)
        return -1;
    window_table_remove(plan, (size_t)index);
    return 0;
}

int window_set_plan_resize(const struct window_set *cur, const char *path, const char *length_text,
                           const char *origin, struct window_table *plan, struct sfs_error *err)
{
    ssize_t index = find_declared(cur, path, origin, err);
    if (index < 0)
        return -1;
    const struct window *w = &cur->table.windows[index];
    if (w->link_target != NULL)
        return sfs_error_set(err, "%s: PATH: '%s' is a symbolic link, not a window", origin, path);
    if (w->extents != NULL)
        return sfs_error_set(err,
                             "%s: PATH: '%s' is made of %u extents: only a window of one "
                             "extent can be resized",
                             origin, path, w->extent_count);
    char offset_text[24], mode_text[48];
    snprintf(offset_text, sizeof offset_text, "%llu", (unsigned long long)w->offset);
    snprintf(mode_text, sizeof mode_text, "%s,truncate=%s", window_mode_name(w->mode),
             window_truncate_name(w->truncate));
    struct window_spec spec;
    if (window_spec_from_fields(path, offset_text, length_text, mode_text, NULL, origin, &spec,
                                err) < 0)
        return -1;
    int res = window_table_copy(plan, &cur->table, err);
    if (res == 0) {
        window_table_remove(plan, (size_t)index);
        res = window_table_add_on(plan, &spec, cur->table.windows[index].backing, err);
        if (res == 0)
            res = check_size_now(&plan->windows[plan->count - 1], err);
        if (res < 0)
            window_set_discard_plan(cur, plan);
    }
    window_spec_free(&spec);
    if (res < 0)
        return -1;
    /* Back in its place: the table's order is the order windows were declared in. */
    struct window resized = plan->windows[plan->count - 1];
    memmove(&plan->windows[index + 1], &plan->windows[index],
            (plan->count - 1 - (size_t)index) * sizeof *plan->windows);
    plan->windows[index] = resized;
    return settle_plan(cur, plan, err);
}

int window_set_plan_reload(const struct window_set *cur, struct window_table *fresh,
                           struct window_table *plan, struct sfs_error *err)
{
    *plan = *fresh;
    memset(fresh, 0, sizeof *fresh);
    if (window_table_adopt(plan, &cur->table, err) < 0) {
        window_table_close(plan);
        return -1;
    }
    return settle_plan(cur, plan, err);
}

bool window_set_same_rules(const struct window_table *a, const struct window_table *b)
{
    if (a->rule_count != b->rule_count)
        return false;
    for (size_t i = 0; i < a->rule_count; i++) {
        const struct window_rule *x = &a->rules[i], *y = &b->rules[i];
        if (x->backing != y->backing || x->offset != y->offset || x->chunk_size != y->chunk_size ||
            x->total != y->total || x->mode != y->mode || x->truncate != y->truncate)
            return false;
    }
    return true;
}
