/* path_tree.h - the directory tree that the windows' paths make.
 *
 * Node i has inode number i + 1, so the root is FUSE's root inode 1 and the
 * numbers never change while mounted. Lookups by (parent, name) go through a
 * hash table; a directory's children are kept sorted by name for readdir.
 * Built once before mounting; read-only and lock-free afterwards.
 */
#ifndef SLICEFS_PATH_TREE_H
#define SLICEFS_PATH_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "slicefs/error.h"
#include "slicefs/window_table.h"

#define PATH_TREE_ROOT_INO 1
#define PATH_TREE_NOT_A_WINDOW UINT32_MAX

struct tree_node {
    char *name;         /* one path component; "" for the root */
    uint32_t parent;    /* node index; the root is its own parent */
    uint32_t window;    /* index into the window table, or PATH_TREE_NOT_A_WINDOW */
    uint32_t *children; /* directories: node indices sorted by name */
    uint32_t child_count;
    uint32_t child_capacity;
};

struct path_tree {
    struct tree_node *nodes;
    size_t count;
    size_t capacity;
    uint32_t *slots;   /* hash of (parent, name): node index + 1, 0 when empty */
    size_t slot_count; /* a power of two, at least twice count */
};

/* Builds the tree of table's windows. Refuses two windows with one path and
 * a path that needs another window to be a directory, naming both origins.
 * Returns 0, or -1 with a message. */
int path_tree_build(struct path_tree *tree, const struct window_table *table,
                    struct sfs_error *err);

/* The node with inode number ino, or NULL if there is none. */
const struct tree_node *path_tree_node(const struct path_tree *tree, uint64_t ino);

/* The inode number of the entry name in directory parent_ino, or 0. */
uint64_t path_tree_lookup(const struct path_tree *tree, uint64_t parent_ino, const char *name);

static inline uint64_t path_tree_ino(const struct path_tree *tree, const struct tree_node *node)
{
    return (uint64_t)(node - tree->nodes) + 1;
}

void path_tree_free(struct path_tree *tree);

#endif
