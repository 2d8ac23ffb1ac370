#include "slicefs/window_table.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slicefs/table_format.h"

void window_table_init(struct window_table *table, bool read_only)
{
    memset(table, 0, sizeof *table);
    table->read_only = read_only;
}

/* Opens path as a new backing file: created first (O_EXCL) when -o create
 * asks and it is missing, so that the one descriptor made is the one kept. */
static int open_backing(struct window_table *table, struct backing *b, const char *path,
                        struct sfs_error *err)
{
    if (table->create && !table->read_only) {
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            if (backing_open_fd(b, fd, path, true, err) < 0) {
                unlink(path);
                return -1;
            }
            b->created = true;
            return 0;
        }
        if (errno != EEXIST)
            return sfs_error_set(err, "cannot create backing file '%s': %s", path, strerror(errno));
    }
    return backing_open(b, path, table->read_only, err);
}

struct backing *window_table_backing(struct window_table *table, const char *path,
                                     struct sfs_error *err)
{
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
    if (open_backing(table, b, path, err) < 0) {
        free(b);
        return NULL;
    }
    /* One file named twice (a link, another spelling) is the same file:
     * known by the identity of the descriptor just opened. */
    for (size_t i = 0; i < table->backing_count; i++) {
        struct backing *known = table->backings[i];
        if (known->dev == b->dev && known->ino == b->ino) {
            backing_close(b);
            free(b);
            return known;
        }
    }
    b->index = table->backing_count;
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

/* What a spec resolves to against its backing file. */
struct extent {
    struct backing *backing;
    uint64_t length;
    enum window_mode mode;
    enum window_truncate truncate;
};

/* Checks the spec against its backing file b: OFFSET and LENGTH inside the
 * file, LENGTH "end" resolved, the mode possible, the truncate mode
 * settled. Returns 0 or -1 with a message naming spec->origin. */
static int resolve_extent_on(struct window_table *table, const struct window_spec *spec,
                             struct backing *b, struct extent *out, struct sfs_error *err)
{
    uint64_t length = spec->length;
    if (table->extend && !b->is_block_device) {
        /* Grown at window_table_map(), once everything has been checked. */
        uint64_t need = spec->offset + (spec->to_end ? 0 : length);
        if (need > b->grow_to)
            b->grow_to = need;
    }
    uint64_t size = b->size > b->grow_to ? b->size : b->grow_to;
    if (spec->offset > size)
        return sfs_error_set(err, "%s: OFFSET: %llu is past the end of '%s' (%llu bytes)",
                             spec->origin, (unsigned long long)spec->offset, b->path,
                             (unsigned long long)size);
    if (spec->to_end)
        length = size - spec->offset;
    else if (length > size - spec->offset)
        return sfs_error_set(
            err,
            "%s: LENGTH: offset %llu + length %llu = %llu is past the end of "
            "'%s' (%llu bytes)",
            spec->origin, (unsigned long long)spec->offset, (unsigned long long)length,
            (unsigned long long)(spec->offset + length), b->path, (unsigned long long)size);

    enum window_mode mode = resolve_mode(table, spec->mode, b);
    if (mode == WINDOW_MODE_RW && !b->writable)
        return sfs_error_set(err, "%s: MODE: rw, but '%s' cannot be opened for writing",
                             spec->origin, b->path);
    enum window_truncate truncate = spec->truncate != WINDOW_TRUNCATE_DEFAULT ? spec->truncate
                                    : table->truncate != WINDOW_TRUNCATE_DEFAULT
                                        ? table->truncate
                                        : WINDOW_TRUNCATE_ZERO;
    *out = (struct extent){b, length, mode, truncate};
    return 0;
}

/* The spec's backing file (its own, else default_backing), opened or found. */
static struct backing *backing_of(struct window_table *table, const struct window_spec *spec,
                                  const char *default_backing, struct sfs_error *err)
{
    const char *backing_path = spec->backing_path ? spec->backing_path : default_backing;
    if (backing_path == NULL) {
        sfs_error_set(err, "%s: BACKING: no backing file given", spec->origin);
        return NULL;
    }
    struct backing *b = window_table_backing(table, backing_path, err);
    if (b == NULL)
        sfs_error_prefix(err, "%s", spec->origin);
    return b;
}

/* Opens (or finds) the spec's backing file and resolves the spec on it. */
static int resolve_extent(struct window_table *table, const struct window_spec *spec,
                          const char *default_backing, struct extent *out, struct sfs_error *err)
{
    struct backing *b = backing_of(table, spec, default_backing, err);
    return b == NULL ? -1 : resolve_extent_on(table, spec, b, out, err);
}

int window_table_add(struct window_table *table, const struct window_spec *spec,
                     const char *default_backing, struct sfs_error *err)
{
    struct backing *b = backing_of(table, spec, default_backing, err);
    return b == NULL ? -1 : window_table_add_on(table, spec, b, err);
}

int window_table_take(struct window_table *table, struct window_spec *spec,
                      const char *default_backing, struct sfs_error *err)
{
    int res = window_table_add(table, spec, default_backing, err);
    window_spec_free(spec);
    return res;
}

int window_table_add_on(struct window_table *table, const struct window_spec *spec,
                        struct backing *b, struct sfs_error *err)
{
    struct extent extent;
    if (resolve_extent_on(table, spec, b, &extent, err) < 0)
        return -1;
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
    w->backing = extent.backing;
    w->offset = spec->offset;
    w->length = extent.length;
    w->to_end = spec->to_end;
    w->mode = extent.mode;
    w->truncate = extent.truncate;
    w->follows_size = spec->to_end && extent.mode != WINDOW_MODE_COW;
    table->count++;
    return 0;
}

int window_table_add_chunks(struct window_table *table, const struct window_spec *spec,
                            uint64_t chunk_size, const char *default_backing, struct sfs_error *err)
{
    if (chunk_size == 0)
        return sfs_error_set(err, "%s: SIZE: chunks must be at least 1 byte", spec->origin);
    struct extent extent;
    if (resolve_extent(table, spec, default_backing, &extent, err) < 0)
        return -1;
    struct window_rule *grown =
        realloc(table->rules, (table->rule_count + 1) * sizeof *table->rules);
    if (grown == NULL)
        return sfs_error_set(err, "%s: out of memory", spec->origin);
    table->rules = grown;

    struct window_rule *r = &table->rules[table->rule_count];
    *r = (struct window_rule){
        .backing = extent.backing,
        .offset = spec->offset,
        .chunk_size = chunk_size,
        .to_end = spec->to_end,
        .mode = extent.mode,
        .truncate = extent.truncate,
        .origin = strdup(spec->origin),
    };
    window_rule_set_total(r, extent.length);
    if (r->origin == NULL)
        return sfs_error_set(err, "%s: out of memory", spec->origin);
    table->rule_count++;
    return 0;
}

/* After -o extend grew the files: "end" lengths and chunk counts follow. */
static void settle_lengths(struct window_table *table)
{
    for (size_t i = 0; i < table->count; i++) {
        struct window *w = &table->windows[i];
        if (w->to_end)
            w->length = w->backing->size - w->offset;
    }
    for (size_t i = 0; i < table->rule_count; i++) {
        struct window_rule *r = &table->rules[i];
        if (!r->to_end)
            continue;
        window_rule_set_total(r, r->backing->size - r->offset);
    }
}

int window_table_map(struct window_table *table, struct sfs_error *err)
{
    for (size_t i = 0; i < table->count + table->rule_count; i++) {
        bool is_window = i < table->count;
        struct backing *b =
            is_window ? table->windows[i].backing : table->rules[i - table->count].backing;
        enum window_mode mode =
            is_window ? table->windows[i].mode : table->rules[i - table->count].mode;
        if (mode == WINDOW_MODE_COW)
            b->want_private = true;
        else
            b->want_shared = true;
        if (mode == WINDOW_MODE_RW)
            b->want_shared_write = true;
        if (is_window && table->windows[i].follows_size)
            b->want_reserve = true;
    }
    for (size_t i = 0; i < table->backing_count; i++)
        if (backing_map(table->backings[i], err) < 0)
            return -1;
    settle_lengths(table);
    /* The invariant the header states: every window inside its mapping. */
    for (size_t i = 0; i < table->count; i++) {
        const struct window *w = &table->windows[i];
        uint64_t mapped = w->mode == WINDOW_MODE_COW ? w->backing->size : w->backing->map_len;
        assert(w->offset <= mapped && w->length <= mapped - w->offset);
        assert(w->mode == WINDOW_MODE_RO || w->mode == WINDOW_MODE_RW ||
               w->mode == WINDOW_MODE_COW);
        assert(w->truncate != WINDOW_TRUNCATE_DEFAULT);
    }
    for (size_t i = 0; i < table->rule_count; i++) {
        const struct window_rule *r = &table->rules[i];
        assert(r->offset <= r->backing->size && r->total <= r->backing->size - r->offset);
    }
    return 0;
}

unsigned char *window_data(const struct window *w)
{
    unsigned char *base =
        w->mode == WINDOW_MODE_COW ? w->backing->private_map : w->backing->shared_map;
    return base ? base + w->offset : NULL;
}

static void list_window(const struct window *w, FILE *out)
{
    table_format_field(out, w->path);
    fprintf(out, " %llu ", (unsigned long long)w->offset);
    if (w->to_end)
        fputs("end", out);
    else
        fprintf(out, "%llu", (unsigned long long)w->length);
    fputc(' ', out);
    window_mode_field_format(w->mode, w->truncate, out);
    fputc(' ', out);
    table_format_field(out, w->backing->real_path);
    fputc('\n', out);
}

void window_table_list(const struct window_table *table, FILE *out)
{
    for (size_t i = 0; i < table->count; i++)
        list_window(&table->windows[i], out);
    for (size_t r = 0; r < table->rule_count; r++) {
        for (uint64_t k = 0; k < table->rules[r].count; k++) {
            struct window w;
            char name[WINDOW_RULE_NAME_MAX];
            window_rule_member(&table->rules[r], k, &w, name);
            list_window(&w, out);
        }
    }
}

void window_table_abandon(struct window_table *table)
{
    char **created = calloc(table->backing_count + 1, sizeof *created);
    size_t n = 0;
    for (size_t i = 0; i < table->backing_count; i++) {
        struct backing *b = table->backings[i];
        if (created != NULL && b->created)
            created[n++] = strdup(b->path);
        else if (b->size > b->opened_size && b->fd >= 0 &&
                 ftruncate(b->fd, (off_t)b->opened_size) < 0)
            continue; /* nothing more to undo; the file stays grown */
    }
    window_table_close(table);
    for (size_t i = 0; i < n; i++) {
        if (created[i] != NULL)
            unlink(created[i]);
        free(created[i]);
    }
    free(created);
}

int window_table_close(struct window_table *table)
{
    int res = 0;
    for (size_t i = 0; i < table->count; i++) {
        free(table->windows[i].path);
        free(table->windows[i].origin);
    }
    free(table->windows);
    for (size_t i = 0; i < table->rule_count; i++)
        free(table->rules[i].origin);
    free(table->rules);
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
