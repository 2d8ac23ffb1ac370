#include "slicefs/path_tree.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_entry(uint32_t parent, const char *name, size_t len)
{
    uint64_t h = 14695981039346656037ULL ^ parent;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)name[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

/* Returns the slot holding (parent, name), or the empty slot where it goes. */
static uint32_t *find_slot(const struct path_tree *tree, uint32_t parent, const char *name,
                           size_t len)
{
    size_t mask = tree->slot_count - 1;
    for (size_t i = hash_entry(parent, name, len) & mask;; i = (i + 1) & mask) {
        uint32_t *slot = &tree->slots[i];
        if (*slot == 0)
            return slot;
        const struct tree_node *n = &tree->nodes[*slot - 1];
        if (n->parent == parent && strncmp(n->name, name, len) == 0 && n->name[len] == '\0')
            return slot;
    }
}

static int grow_slots(struct path_tree *tree)
{
    size_t count = tree->slot_count ? tree->slot_count * 2 : 64;
    uint32_t *slots = calloc(count, sizeof *slots);
    if (slots == NULL)
        return -1;
    free(tree->slots);
    tree->slots = slots;
    tree->slot_count = count;
    for (size_t i = 1; i < tree->count; i++) {
        const struct tree_node *n = &tree->nodes[i];
        *find_slot(tree, n->parent, n->name, strlen(n->name)) = (uint32_t)i + 1;
    }
    return 0;
}

static int add_child(struct tree_node *dir, uint32_t child)
{
    if (dir->child_count == dir->child_capacity) {
        uint32_t capacity = dir->child_capacity ? dir->child_capacity * 2 : 4;
        uint32_t *grown = realloc(dir->children, capacity * sizeof *grown);
        if (grown == NULL)
            return -1;
        dir->children = grown;
        dir->child_capacity = capacity;
    }
    dir->children[dir->child_count++] = child;
    return 0;
}

enum { TAG_FOLDER = 1, TAG_WINDOW = 2, TAG_CHUNKS = 3 };

/* The inode number of a declared window or a folder: a hash of what it is,
 * below PATH_TREE_RULE_INO_BIT and above the root's. */
static uint64_t listed_ino(const struct file_identity *id, const char *path, uint64_t tag)
{
    uint64_t ino = file_identity_hash(id, path, tag) & (PATH_TREE_RULE_INO_BIT - 1);
    return ino <= PATH_TREE_ROOT_INO ? ino + 2 : ino;
}

/* Appends a node named name[0..len) under parent; returns its index or -1. */
static int64_t add_node(struct path_tree *tree, uint32_t parent, const char *name, size_t len,
                        uint32_t window, uint64_t ino)
{
    if (tree->count == tree->capacity) {
        size_t capacity = tree->capacity ? tree->capacity * 2 : 16;
        struct tree_node *grown = realloc(tree->nodes, capacity * sizeof *grown);
        if (grown == NULL)
            return -1;
        tree->nodes = grown;
        tree->capacity = capacity;
    }
    if (tree->count >= UINT32_MAX - 1)
        return -1;
    struct tree_node *n = &tree->nodes[tree->count];
    memset(n, 0, sizeof *n);
    n->name = strndup(name, len);
    if (n->name == NULL)
        return -1;
    n->parent = parent;
    n->window = window;
    n->ino = ino;
    uint32_t index = (uint32_t)tree->count++;
    if (index > 0 && add_child(&tree->nodes[parent], index) < 0)
        return -1;
    if (2 * tree->count > tree->slot_count && grow_slots(tree) < 0)
        return -1;
    if (index > 0)
        *find_slot(tree, parent, n->name, len) = index + 1;
    return index;
}

/* Names the window that made node a file, or a window below directory node. */
static const char *origin_below(const struct path_tree *tree, const struct window_table *table,
                                uint32_t node)
{
    while (tree->nodes[node].window == PATH_TREE_NOT_A_WINDOW)
        node = tree->nodes[node].children[0];
    return table->windows[tree->nodes[node].window].origin;
}

static int insert_window(struct path_tree *tree, const struct window_table *table, uint32_t window,
                         struct sfs_error *err)
{
    const struct window *w = &table->windows[window];
    uint32_t dir = 0;
    const char *component = w->path;
    for (;;) {
        size_t len = strcspn(component, "/");
        bool last = component[len] == '\0';
        uint32_t slot = *find_slot(tree, dir, component, len);
        if (slot != 0) {
            uint32_t existing = slot - 1;
            bool existing_is_dir = tree->nodes[existing].window == PATH_TREE_NOT_A_WINDOW;
            if (last && !existing_is_dir)
                return sfs_error_set(err, "%s: PATH: '%s' is declared twice (also by %s)",
                                     w->origin, w->path, origin_below(tree, table, existing));
            if (last || !existing_is_dir)
                return sfs_error_set(err,
                                     "%s: PATH: '%.*s' cannot be both a file and a directory "
                                     "(see %s)",
                                     w->origin, (int)(component - w->path + len), w->path,
                                     origin_below(tree, table, existing));
            dir = existing;
        } else {
            /* The path so far names a folder; the whole path, with its
             * backing file's identity, a window. */
            char *prefix = strndup(w->path, (size_t)(component - w->path) + len);
            if (prefix == NULL)
                return sfs_error_set(err, "%s: out of memory", w->origin);
            uint64_t ino = last ? listed_ino(&w->backing->identity, prefix,
                                             TAG_WINDOW | (uint64_t)w->incarnation << 8)
                                : listed_ino(NULL, prefix, TAG_FOLDER);
            free(prefix);
            int64_t index =
                add_node(tree, dir, component, len, last ? window : PATH_TREE_NOT_A_WINDOW, ino);
            if (index < 0)
                return sfs_error_set(err, "%s: out of memory", w->origin);
            dir = (uint32_t)index;
        }
        if (last)
            return 0;
        component += len + 1;
    }
}

/* Returns the slot of ino_slots holding ino, or the empty one where it goes. */
static uint32_t *find_ino_slot(const struct path_tree *tree, uint64_t ino)
{
    size_t mask = tree->ino_slot_count - 1;
    for (size_t i = (size_t)(ino ^ (ino >> 31)) & mask;; i = (i + 1) & mask) {
        uint32_t *slot = &tree->ino_slots[i];
        if (*slot == 0 || tree->nodes[*slot - 1].ino == ino)
            return slot;
    }
}

/* Indexes the nodes by inode number. Two nodes whose hashes collide (about
 * once in 2^63 / n^2 mounts) are told apart by moving the later one (in
 * table order) to the next free number. Returns 0 or -1 (out of memory). */
static int index_inos(struct path_tree *tree)
{
    size_t count = 64;
    while (count < 2 * tree->count)
        count *= 2;
    tree->ino_slots = calloc(count, sizeof *tree->ino_slots);
    if (tree->ino_slots == NULL)
        return -1;
    tree->ino_slot_count = count;
    const struct window_table *table = tree->table;
    tree->window_inos = calloc(table->count ? table->count : 1, sizeof *tree->window_inos);
    if (tree->window_inos == NULL)
        return -1;
    for (size_t i = 0; i < tree->count; i++) {
        struct tree_node *n = &tree->nodes[i];
        uint32_t *slot;
        while (*(slot = find_ino_slot(tree, n->ino)) != 0) {
            assert(i > 0); /* the root comes first and keeps 1 */
            n->ino = n->ino + 1 < PATH_TREE_RULE_INO_BIT ? n->ino + 1 : PATH_TREE_ROOT_INO + 1;
        }
        *slot = (uint32_t)i + 1;
        if (n->window != PATH_TREE_NOT_A_WINDOW)
            tree->window_inos[n->window] = n->ino;
    }
    return 0;
}

/* For qsort_r: trees are built by more than one thread (a live mount's
 * control thread), so the tree comes as an argument, not in a global. */
static int compare_children(const void *a, const void *b, void *tree)
{
    const struct tree_node *nodes = ((const struct path_tree *)tree)->nodes;
    return strcmp(nodes[*(const uint32_t *)a].name, nodes[*(const uint32_t *)b].name);
}

/* Attaches the chunk rules (at most one, in the root) and refuses declared
 * root entries whose names are also chunk names. */
static int attach_rules(struct path_tree *tree, const struct window_table *table,
                        struct sfs_error *err)
{
    if (table->rule_count == 0)
        return 0;
    if (table->rule_count > 1)
        return sfs_error_set(err, "%s: only one layout=chunks per mount (see %s)",
                             table->rules[1].origin, table->rules[0].origin);
    const struct window_rule *rule = &table->rules[0];
    const struct tree_node *root = &tree->nodes[0];
    for (uint32_t i = 0; i < root->child_count; i++) {
        uint64_t index;
        const struct tree_node *child = &tree->nodes[root->children[i]];
        if (window_rule_index(rule, child->name, &index))
            return sfs_error_set(err, "%s: PATH: '%s' is also chunk %llu of %s",
                                 origin_below(tree, table, root->children[i]), child->name,
                                 (unsigned long long)index, rule->origin);
    }
    if (rule->count > PATH_TREE_RULE_INDEX_MASK)
        return sfs_error_set(err, "%s: too many chunks (%llu; at most %llu)", rule->origin,
                             (unsigned long long)rule->count,
                             (unsigned long long)PATH_TREE_RULE_INDEX_MASK);
    uint64_t h = file_identity_hash(&rule->backing->identity, "", TAG_CHUNKS);
    tree->rule_ino_base = PATH_TREE_RULE_INO_BIT | (h << PATH_TREE_RULE_INDEX_BITS);
    tree->root_rule = rule;
    return 0;
}

int path_tree_build(struct path_tree *tree, const struct window_table *table, struct sfs_error *err)
{
    memset(tree, 0, sizeof *tree);
    tree->table = table;
    if (table->count >= PATH_TREE_NOT_A_WINDOW)
        return sfs_error_set(err, "too many windows (%zu)", table->count);
    if (add_node(tree, 0, "", 0, PATH_TREE_NOT_A_WINDOW, PATH_TREE_ROOT_INO) < 0)
        goto oom;
    for (size_t i = 0; i < table->count; i++) {
        if (insert_window(tree, table, (uint32_t)i, err) < 0) {
            path_tree_free(tree);
            return -1;
        }
    }
    for (size_t i = 0; i < tree->count; i++)
        if (tree->nodes[i].child_count > 1) /* qsort(NULL, 0, ...) is undefined */
            qsort_r(tree->nodes[i].children, tree->nodes[i].child_count, sizeof(uint32_t),
                    compare_children, tree);
    /* Children sorted by name (the header's invariant; readdir and lookup
     * rely on it). */
    for (size_t i = 0; i < tree->count; i++)
        for (uint32_t k = 1; k < tree->nodes[i].child_count; k++)
            assert(compare_children(&tree->nodes[i].children[k - 1], &tree->nodes[i].children[k],
                                    tree) < 0);
    if (index_inos(tree) < 0)
        goto oom;
    if (attach_rules(tree, table, err) < 0) {
        path_tree_free(tree);
        return -1;
    }
    return 0;
oom:
    path_tree_free(tree);
    return sfs_error_set(err, "out of memory");
}

const struct tree_node *path_tree_node(const struct path_tree *tree, uint64_t ino)
{
    if (tree->ino_slot_count == 0)
        return NULL;
    uint32_t slot = *find_ino_slot(tree, ino);
    return slot == 0 ? NULL : &tree->nodes[slot - 1];
}

/* Member index of the chunk rule that ino names, or false. */
static bool rule_member(const struct path_tree *tree, uint64_t ino, uint64_t *index)
{
    const struct window_rule *rule = tree->root_rule;
    if (rule == NULL || (ino & ~PATH_TREE_RULE_INDEX_MASK) != tree->rule_ino_base)
        return false;
    *index = ino & PATH_TREE_RULE_INDEX_MASK;
    return *index < rule->count;
}

uint64_t path_tree_parent_ino(const struct path_tree *tree, uint64_t ino)
{
    uint64_t index;
    const struct tree_node *node = path_tree_node(tree, ino);
    if (node != NULL)
        return tree->nodes[node->parent].ino;
    return rule_member(tree, ino, &index) ? PATH_TREE_ROOT_INO : 0;
}

uint64_t path_tree_lookup(const struct path_tree *tree, uint64_t parent_ino, const char *name)
{
    uint64_t index;
    /* "." and ".." come only from the kernel's export operations (a file
     * handle to resolve): "." names any inode itself. */
    if (strcmp(name, ".") == 0)
        return path_tree_node(tree, parent_ino) != NULL || rule_member(tree, parent_ino, &index)
                   ? parent_ino
                   : 0;
    const struct tree_node *parent = path_tree_node(tree, parent_ino);
    if (parent == NULL || parent->window != PATH_TREE_NOT_A_WINDOW)
        return 0;
    if (strcmp(name, "..") == 0)
        return path_tree_parent_ino(tree, parent_ino);
    uint32_t parent_index = (uint32_t)(parent - tree->nodes);
    uint32_t slot = *find_slot(tree, parent_index, name, strlen(name));
    if (slot != 0)
        return tree->nodes[slot - 1].ino;
    if (parent_ino == PATH_TREE_ROOT_INO && tree->root_rule != NULL &&
        window_rule_index(tree->root_rule, name, &index))
        return tree->rule_ino_base + index;
    return 0;
}

uint64_t path_tree_path_ino(const struct path_tree *tree, const char *path)
{
    uint64_t ino = PATH_TREE_ROOT_INO;
    char name[NAME_MAX + 1];
    for (const char *at = path; *at != '\0' && ino != 0;) {
        size_t len = strcspn(at, "/");
        if (len == 0 || len > NAME_MAX || (len <= 2 && strncmp(at, "..", len) == 0))
            return 0; /* never a component of a window's path */
        memcpy(name, at, len);
        name[len] = '\0';
        ino = path_tree_lookup(tree, ino, name);
        at += len;
        at += *at == '/';
    }
    return ino;
}

bool path_tree_resolve(const struct path_tree *tree, uint64_t ino, struct tree_entry *entry)
{
    entry->dir = NULL;
    entry->window = NULL;
    const struct tree_node *node = path_tree_node(tree, ino);
    if (node != NULL) {
        if (node->window == PATH_TREE_NOT_A_WINDOW)
            entry->dir = node;
        else
            entry->window = &tree->table->windows[node->window];
        return true;
    }
    uint64_t index;
    if (!rule_member(tree, ino, &index))
        return false;
    window_rule_member(tree->root_rule, index, &entry->scratch, entry->name);
    entry->window = &entry->scratch;
    return true;
}

uint64_t path_tree_dir_size(const struct path_tree *tree, const struct tree_node *dir)
{
    uint64_t size = dir->child_count;
    if (dir == tree->nodes && tree->root_rule != NULL)
        size += tree->root_rule->count;
    return size;
}

const char *path_tree_dir_entry(const struct path_tree *tree, const struct tree_node *dir,
                                uint64_t i, char name_buf[WINDOW_RULE_NAME_MAX], uint64_t *ino,
                                bool *is_dir)
{
    if (i < dir->child_count) {
        const struct tree_node *child = &tree->nodes[dir->children[i]];
        *ino = child->ino;
        *is_dir = child->window == PATH_TREE_NOT_A_WINDOW;
        return child->name;
    }
    uint64_t index = i - dir->child_count;
    window_rule_name(tree->root_rule, index, name_buf);
    *ino = tree->rule_ino_base + index;
    *is_dir = false;
    return name_buf;
}

void path_tree_free(struct path_tree *tree)
{
    for (size_t i = 0; i < tree->count; i++) {
        free(tree->nodes[i].name);
        free(tree->nodes[i].children);
    }
    free(tree->nodes);
    free(tree->slots);
    free(tree->ino_slots);
    free(tree->window_inos);
    memset(tree, 0, sizeof *tree);
}
