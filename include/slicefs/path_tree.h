/* path_tree.h - the directory tree that the windows' paths make.
 *
 * Inode numbers say what an entry is, never where it stands in the table,
 * so they are the same across remounts and daemon restarts and do not move
 * when other windows come or go: the root is FUSE's root inode 1; a declared
 * window's number is a hash of its backing file's identity (file_identity.h)
 * and its path (and of its incarnation, for a window added again at the
 * path of one removed while mounted), a folder's a hash of its path, both below
 * PATH_TREE_RULE_INO_BIT (collisions move the later entry to the next free
 * number). Lookups by (parent, name) and by inode number go through hash
 * tables; a directory's children are kept sorted by name for readdir.
 * The members of a chunk rule are not nodes: they live in the root after the
 * declared entries, member k with inode number rule_ino_base + k (the base
 * has PATH_TREE_RULE_INO_BIT and a hash of the backing file's identity), and
 * are computed when asked for, so a million of them cost nothing.
 * Built once before mounting; read-only and lock-free afterwards.
 */
#ifndef SLICEFS_PATH_TREE_H
#define SLICEFS_PATH_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slicefs/error.h"
#include "slicefs/window_table.h"

#define PATH_TREE_ROOT_INO 1
#define PATH_TREE_NOT_A_WINDOW UINT32_MAX
#define PATH_TREE_RULE_INO_BIT ((uint64_t)1 << 63)
#define PATH_TREE_RULE_INDEX_BITS 40
#define PATH_TREE_RULE_INDEX_MASK (((uint64_t)1 << PATH_TREE_RULE_INDEX_BITS) - 1)

struct tree_node {
    char *name;         /* one path component; "" for the root */
    uint64_t ino;       /* its inode number */
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
    const struct window_table *table;
    uint64_t *window_inos; /* the inode number of each declared window (table order) */
    uint32_t *ino_slots;   /* hash of inode numbers: node index + 1, 0 when empty */
    size_t ino_slot_count;
    const struct window_rule *root_rule; /* chunks in the root, or NULL */
    uint64_t rule_ino_base;              /* member k is rule_ino_base + k */
};

/* What an inode number stands for: a directory or a window. */
struct tree_entry {
    const struct tree_node *dir; /* a directory, or NULL */
    const struct window *window; /* a window, or NULL; may point into the scratch */
    struct window scratch;       /* a computed window */
    char name[WINDOW_RULE_NAME_MAX];
};

/* Builds the tree of table's windows. Refuses two windows with one path and
 * a path that needs another window to be a directory, naming both origins.
 * Returns 0, or -1 with a message. */
int path_tree_build(struct path_tree *tree, const struct window_table *table,
                    struct sfs_error *err);

/* The node with inode number ino, or NULL if there is none. */
const struct tree_node *path_tree_node(const struct path_tree *tree, uint64_t ino);

/* The inode number of the entry name in directory parent_ino, or 0. The
 * name "." gives parent_ino itself (a file too) and ".." its folder's
 * parent, as the kernel asks when it resolves a file handle. */
uint64_t path_tree_lookup(const struct path_tree *tree, uint64_t parent_ino, const char *name);

/* The inode number of the entry at path ("a/b/c", from the root), or 0. */
uint64_t path_tree_path_ino(const struct path_tree *tree, const char *path);

/* The inode number of the folder that holds ino (the root's is the root),
 * or 0 when there is no such inode. */
uint64_t path_tree_parent_ino(const struct path_tree *tree, uint64_t ino);

/* Fills *entry for inode ino. Returns false when there is no such inode. */
bool path_tree_resolve(const struct path_tree *tree, uint64_t ino, struct tree_entry *entry);

/* The number of entries in directory dir, not counting "." and "..". */
uint64_t path_tree_dir_size(const struct path_tree *tree, const struct tree_node *dir);

/* Entry i (< path_tree_dir_size) of directory dir, in readdir order:
 * returns its name (in name_buf for computed entries), and sets *ino and
 * *is_dir. */
const char *path_tree_dir_entry(const struct path_tree *tree, const struct tree_node *dir,
                                uint64_t i, char name_buf[WINDOW_RULE_NAME_MAX], uint64_t *ino,
                                bool *is_dir);

static inline uint64_t path_tree_ino(const struct path_tree *tree, const struct tree_node *node)
{
    (void)tree;
    return node->ino;
}

/* The inode number of declared window index (of the table). */
static inline uint64_t path_tree_window_ino(const struct path_tree *tree, uint64_t index)
{
    return tree->window_inos[index];
}

/* The inode number of member index of the root's chunk rule. */
static inline uint64_t path_tree_rule_ino(const struct path_tree *tree, uint64_t index)
{
    return tree->rule_ino_base + index;
}

void path_tree_free(struct path_tree *tree);

#endif
