/* window_table.h - the resolved windows of one mount and their backing files.
 *
 * window_table_add() checks a spec against its backing file (opening and
 * identifying the file the first time it is named) and appends the window;
 * window_table_map() then maps each backing file once, as its windows need.
 * Invariant after window_table_map(): every window lies inside its backing
 * file's mapping (offset <= map_len and length <= map_len - offset), and its
 * mode is ro, rw or cow, never the default. From then on the table is
 * read-only and shared by all request threads without a lock.
 */
#ifndef SLICEFS_WINDOW_TABLE_H
#define SLICEFS_WINDOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "slicefs/backing.h"
#include "slicefs/error.h"
#include "slicefs/window_rule.h"
#include "slicefs/window_spec.h"

/* One extent of a window made of several (consecutive table lines with one
 * PATH, a sparse archive member): bytes [start, start + length) of the
 * window are bytes [offset, offset + length) of backing, or zeros when hole
 * (then offset is 0 and backing only names the file the line declared).
 * The extents of a window are in order and adjoin: extent k + 1 starts at
 * start + length of extent k, the first at 0. */
struct window_extent {
    struct backing *backing;
    uint64_t offset; /* in the backing file */
    uint64_t length;
    uint64_t start; /* in the window */
    bool hole;      /* reads zeros; a write there fails with ENOSPC */
    bool to_end;    /* declared with LENGTH "end": to the end of its file at mount */
};

struct window {
    char *path;
    struct backing *backing;
    uint64_t offset;
    uint64_t length;               /* at mount; see window_length() */
    bool to_end;                   /* declared with LENGTH "end" */
    bool follows_size;             /* to_end and not cow: the length follows the file */
    enum window_mode mode;         /* ro, rw or cow */
    enum window_truncate truncate; /* zero or ignore, never the default */
    char *origin;                  /* where it was declared, for messages */
    /* A window of several extents (or of one hole): extents[0 ..
     * extent_count); backing, offset and length are then those of the
     * first extent, the whole length and a fixed size (follows_size is
     * false: an "end" extent is measured when the table is mapped). NULL
     * for a window of one extent (backing, offset, length). */
    struct window_extent *extents;
    uint32_t extent_count;
    bool masked;       /* an archive member: shows at most mode_mask of the backing file's bits */
    mode_t mode_mask;  /* the member's own bits (07777) */
    int64_t mtime_ns;  /* 0, or the time a new window record starts from (an archive member) */
    char *link_target; /* a symbolic link (an archive member) to this, or NULL: a file */
    /* Its times and digests (window_times.h): set by window_times_open for
     * the windows a mount starts with, by the front end for those added
     * while mounted; NULL with the state off, and for chunks (computed). */
    struct window_record *record;
    /* Added or resized while mounted: its bytes are not those its record's
     * digests were made of (window_times.h). */
    bool reshaped;
    /* How many windows at this path were removed while mounted before this
     * one was added (0 for the windows a mount begins with): a window added
     * again gets an inode number of its own (path_tree.h), so that the
     * kernel never mixes it with the removed one that open handles use. */
    uint32_t incarnation;
};

/* The window's length now: a window that follows its backing file's size
 * ends where the file ends (as last seen), but never past the end of the
 * file's shared mapping, however far the file grew outside the mount;
 * every other window keeps its length. */
static inline uint64_t window_length(const struct window *w)
{
    if (!w->follows_size)
        return w->length;
    uint64_t size = backing_size_now(w->backing);
    if (size > w->backing->map_len)
        size = w->backing->map_len;
    return size > w->offset ? size - w->offset : 0;
}

/* A rw window that follows its file's size behaves like the file itself:
 * writes past its end and truncation change the file's size. */
static inline bool window_growable(const struct window *w)
{
    return w->follows_size && w->mode == WINDOW_MODE_RW;
}

struct window_record;

struct window_table {
    struct window *windows;
    size_t count;
    size_t capacity;
    struct window_rule *rules;
    size_t rule_count;
    struct backing **backings; /* each backing file once, in order of first use */
    size_t backing_count;
    bool read_only;                /* -o ro: every window is ro */
    enum window_truncate truncate; /* -o truncate=: for windows that do not say */
    bool create;                   /* -o create: create a missing backing file */
    bool extend;                   /* -o extend: grow backing files so windows fit */
};

void window_table_init(struct window_table *table, bool read_only);

/* Resolves spec (LENGTH "end", the default mode, its backing file, relative
 * to default_backing when spec->backing_path is NULL) and appends it.
 * Refuses a window that does not fit in its backing file, a rw window on a
 * file that cannot be written. Returns 0, or -1 with a message naming
 * spec->origin. */
int window_table_add(struct window_table *table, const struct window_spec *spec,
                     const char *default_backing, struct sfs_error *err);

/* Appends spec as the next extent of the table's last window, which has
 * the same path (consecutive lines of a window table): in its own backing
 * file (or default_backing), or a hole when spec->hole. An extent whose
 * LENGTH is "end" runs to the end of its file as mapped (a split image:
 * every part "end"); the window's length is then fixed. Refuses a mode
 * other than the window's, more than WINDOW_MAX_EXTENTS extents, a total
 * past 2^63-1. Returns 0, or -1 with a message naming
 * spec->origin. */
int window_table_extend(struct window_table *table, const struct window_spec *spec,
                        const char *default_backing, struct sfs_error *err);

/* window_table_extend on a backing file the table already holds. */
int window_table_extend_on(struct window_table *table, const struct window_spec *spec,
                           struct backing *b, struct sfs_error *err);

/* The most extents one window may have. */
#define WINDOW_MAX_EXTENTS (1u << 20)

/* Appends a symbolic link at path to target (an archive member), shown
 * with backing b's identity and owner. Returns 0 or -1 with a message. */
int window_table_add_link(struct window_table *table, const char *path, const char *target,
                          struct backing *b, const char *origin, struct sfs_error *err);

/* The extent of w that holds byte off (< window_length(w)) of a window of
 * several extents: a binary search, O(log extents). */
const struct window_extent *window_extent_at(const struct window *w, uint64_t off);

/* The first byte of extent e of w in the mapping that serves it (NULL for
 * a hole or an empty backing file). */
unsigned char *window_extent_data(const struct window *w, const struct window_extent *e);

/* window_table_add, then window_spec_free(spec), whatever the result: for
 * sources that parse a spec only to add it. */
int window_table_take(struct window_table *table, struct window_spec *spec,
                      const char *default_backing, struct sfs_error *err);

/* window_table_add on a backing file the table already holds
 * (window_table_backing); spec->backing_path is ignored. */
int window_table_add_on(struct window_table *table, const struct window_spec *spec,
                        struct backing *b, struct sfs_error *err);

/* The backing file at path: one already in the table when it is the same
 * file (same device and inode, found from the descriptor just opened), or
 * newly opened (created first for -o create). Returns NULL with a
 * message. */
struct backing *window_table_backing(struct window_table *table, const char *path,
                                     struct sfs_error *err);

/* Resolves a chunk rule over [spec->offset, spec->offset + length) of its
 * backing file (LENGTH may be "end"), chunk_size bytes a window, and appends
 * it. spec->path is ignored. Returns 0 or -1 with a message. */
int window_table_add_chunks(struct window_table *table, const struct window_spec *spec,
                            uint64_t chunk_size, const char *default_backing,
                            struct sfs_error *err);

/* Grows backing files as -o extend asks, settles the lengths that depend on
 * the final sizes, and maps every backing file once. Returns 0 or -1 with a
 * message. */
int window_table_map(struct window_table *table, struct sfs_error *err);

/* The first byte of the window in the mapping that serves it (NULL for an
 * empty backing file). */
unsigned char *window_data(const struct window *w);

/* Prints the table in the window table format (table_format.h), one line
 * per window with every field, so that table= reads it back unchanged. */
void window_table_list(const struct window_table *table, FILE *out);

/* Copies src into dst (initialised by this call): every window with its
 * strings and extents, the rules, and the list of backing files, which are
 * shared, not copied: dst does not own them (window_table_release). The
 * flags (read_only, truncate) are src's; create and extend are off, as a
 * live mount never grows a file. Returns 0 or -1 with a message. */
int window_table_copy(struct window_table *dst, const struct window_table *src,
                      struct sfs_error *err);

/* Frees what window_table_copy made (or a table whose backing files are
 * owned elsewhere); the backing files stay open. */
void window_table_release(struct window_table *table);

/* Removes window index; the others keep their order. */
void window_table_remove(struct window_table *table, size_t index);

/* The declared window at path, or -1. O(windows). */
ssize_t window_table_find(const struct window_table *table, const char *path);

/* Whether a and b show the same bytes the same way: one backing file,
 * offset, length, extents, mode and truncation. */
bool window_same_geometry(const struct window *a, const struct window *b);

/* For a table whose backing files [0, first_new) are mapped already (a live
 * mount's): checks that window w lies inside mappings that exist and allow
 * its mode (a mount maps each file once, as the windows it starts with need;
 * one added later cannot ask for more), and maps the backing files from
 * first_new on, as the table's windows need. Returns 0 or -1 with a
 * message naming w->origin. */
int window_table_map_live(struct window_table *table, size_t first_new, struct sfs_error *err);

/* Replaces each backing file of fresh that base holds too (the same file)
 * by base's, closing fresh's own; the others are appended after base's, so
 * that fresh's list starts with base's list. LENGTH "end" is then the end
 * of the file as base mapped it. For a table read again while mounted
 * (reload). Returns 0 or -1 with a message. */
int window_table_adopt(struct window_table *fresh, const struct window_table *base,
                       struct sfs_error *err);

/* Writes back every shared mapping, unmaps and closes everything. Returns 0
 * or the first negative errno of the final write-back. */
int window_table_close(struct window_table *table);

/* Like window_table_close, after a refusal: also removes the backing files
 * that -o create made, so that a refused mount leaves nothing behind. */
void window_table_abandon(struct window_table *table);

#endif
