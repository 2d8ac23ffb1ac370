#include "slicefs/window_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "slicefs/table_format.h"

void window_table_init(struct window_table *table, bool read_only)
{
    memset(table, 0, sizeof *table);
    table->read_only = read_only;
}

/* Returns the backing file at path, opening it unless an open one is the
 * same file (same device and inode). */
static struct backing *find_or_open_backing(struct window_table *table, const char *path,
                                            struct sfs_error *err)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        for (size_t i = 0; i < table->backing_count; i++) {
            struct backing *b = table->backings[i];
            if (b->dev == st.st_dev && b->ino == st.st_ino)
                return b;
        }
    }
    struct backing **grown =
        realloc(table->backings, (table->backing_count + 1) * sizeof *table->backings);
    if (grown == NULL) {
        sfs_error_set(err, "out of memory");
        return NULL;
    }
    table->backings = grown;
    struct backing *b = malloc(sizeof *b);
    if (b == NULL) {
        sfs_error_set(err, "out of memory");
        return NULL;
    }
    if (backing_open(b, path, table->read_only, err) < 0) {
        free(b);
        return NULL;
    }
    table->backings[table->backing_count++] = b;
    return b;
}

static enum window_mode resolve_mode(const struct window_table *table, enum window_mode asked,
                                     const struct backing *b)
{
    if (table->read_only)
        return WINDOW_MODE_RO;
    if (asked == WINDOW_MODE_DEFAULT)
        return b->writable ? WINDOW_MODE_RW : WINDOW_MODE_RO;
    return asked;
}

int window_table_add(struct window_table *table, const struct window_spec *spec,
                     const char *default_backing, struct sfs_error *err)
{
    const char *backing_path = spec->backing_path ? spec->backing_path : default_backing;
    if (backing_path == NULL)
        return sfs_error_set(err, "%s: BACKING: no backing file given", spec->origin);

    struct backing *b = find_or_open_backing(table, backing_path, err);
    if (b == NULL)
        return sfs_error_prefix(err, "%s", spec->origin);

    uint64_t length = spec->length;
    if (spec->offset > b->size)
        return sfs_error_set(err, "%s: OFFSET: %llu is past the end of '%s' (%llu bytes)",
                             spec->origin, (unsigned long long)spec->offset, b->path,
                             (unsigned long long)b->size);
    if (spec->to_end)
        length = b->size - spec->offset;
    else if (length > b->size - spec->offset)
        return sfs_error_set(err,
                             "%s: LENGTH: offset %llu + length %llu = %llu is past the end of "
                             "'%s' (%llu bytes)",
                             spec->origin, (unsigned long long)spec->offset,
                             (unsigned long long)length,
                             (unsigned long long)(spec->offset + length), b->path,
                             (unsigned long long)b->size);

    enum window_mode mode = resolve_mode(table, spec->mode, b);
    if (mode == WINDOW_MODE_RW && !b->writable)
        return sfs_error_set(err, "%s: MODE: rw, but '%s' cannot be opened for writing",
                             spec->origin, b->path);

    if (table->count == table->capacity) {
        size_t capacity = table->capacity ? table->capacity * 2 : 16;
        struct window *grown = realloc(table->windows, capacity * sizeof *grown);
        if (grown == NULL)
            return sfs_error_set(err, "%s: out of memory", spec->origin);
        table->windows = grown;
        table->capacity = capacity;
    }
    struct window *w = &table->windows[table->count];
    w->path = strdup(spec->path);
    w->origin = strdup(spec->origin);
    if (w->path == NULL || w->origin == NULL) {
        free(w->path);
        free(w->origin);
        return sfs_error_set(err, "%s: out of memory", spec->origin);
    }
    w->backing = b;
    w->offset = spec->offset;
    w->length = length;
    w->to_end = spec->to_end;
    w->mode = mode;
    table->count++;
    return 0;
}

int window_table_map(struct window_table *table, struct sfs_error *err)
{
    for (size_t i = 0; i < table->count; i++) {
        struct window *w = &table->windows[i];
        if (w->mode == WINDOW_MODE_COW)
            w->backing->want_private = true;
        else
            w->backing->want_shared = true;
        if (w->mode == WINDOW_MODE_RW)
            w->backing->want_shared_write = true;
    }
    for (size_t i = 0; i < table->backing_count; i++)
        if (backing_map(table->backings[i], err) < 0)
            return -1;
    return 0;
}

unsigned char *window_data(const struct window *w)
{
    unsigned char *base =
        w->mode == WINDOW_MODE_COW ? w->backing->private_map : w->backing->shared_map;
    return base ? base + w->offset : NULL;
}

void window_table_list(const struct window_table *table, FILE *out)
{
    for (size_t i = 0; i < table->count; i++) {
        const struct window *w = &table->windows[i];
        table_format_field(out, w->path);
        fprintf(out, " %llu ", (unsigned long long)w->offset);
        if (w->to_end)
            fputs("end", out);
        else
            fprintf(out, "%llu", (unsigned long long)w->length);
        fprintf(out, " %s ", window_mode_name(w->mode));
        table_format_field(out, w->backing->real_path);
        fputc('\n', out);
    }
}

int window_table_close(struct window_table *table)
{
    int res = 0;
    for (size_t i = 0; i < table->count; i++) {
        free(table->windows[i].path);
        free(table->windows[i].origin);
    }
    free(table->windows);
    for (size_t i = 0; i < table->backing_count; i++) {
        int r = backing_close(table->backings[i]);
        if (r < 0 && res == 0)
            res = r;
        free(table->backings[i]);
    }
    free(table->backings);
    memset(table, 0, sizeof *table);
    return res;
}
