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
    if (spec->hole)
        goto mode; /* no bytes of b: nothing to check against its size */
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

mode:;
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

/* Makes room for one more window. Returns it (zeroed) or NULL. */
static struct window *new_window(struct window_table *table)
{
    if (table->count == table->capacity) {
        size_t capacity = table->capacity ? table->capacity * 2 : 16;
        struct window *grown = realloc(table->windows, capacity * sizeof *grown);
        if (grown == NULL)
            return NULL;
        table->windows = grown;
        table->capacity = capacity;
    }
    struct window *w = &table->windows[table->count];
    memset(w, 0, sizeof *w);
    return w;
}

/* Appends extent e to w's extents (making the array of a window of one
 * extent first). Returns 0 or -1 (out of memory). */
static int append_extent(struct window *w, const struct window_extent *e)
{
    if (w->extents == NULL) {
        w->extents = malloc(sizeof *w->extents);
        if (w->extents == NULL)
            return -1;
        w->extents[0] =
            (struct window_extent){w->backing, w->offset, w->length, 0, false, w->to_end};
        w->extent_count = 1;
    }
    /* Grown in powers of two. */
    uint32_t n = w->extent_count;
    if ((n & (n - 1)) == 0) {
        struct window_extent *grown = realloc(w->extents, 2 * (size_t)n * sizeof *grown);
        if (grown == NULL)
            return -1;
        w->extents = grown;
    }
    w->extents[n] = *e;
    w->extents[n].start = w->length;
    w->extent_count = n + 1;
    w->length += e->length;
    w->to_end = false; /* the extents say which were "end" */
    w->follows_size = false;
    return 0;
}

int window_table_add_on(struct window_table *table, const struct window_spec *spec,
                        struct backing *b, struct sfs_error *err)
{
    struct extent extent;
    if (resolve_extent_on(table, spec, b, &extent, err) < 0)
        return -1;
    struct window *w = new_window(table);
    if (w == NULL)
        return sfs_error_set(err, "%s: out of memory", spec->origin);
    w->path = strdup(spec->path);
    w->origin = strdup(spec->origin);
    if (w->path == NULL || w->origin == NULL) {
        free(w->path);
        free(w->origin);
        return sfs_error_set(err, "%s: out of memory", spec->origin);
    }
    w->backing = extent.backing;
    w->offset = spec->offset;
    w->length = spec->hole ? 0 : extent.length;
    w->to_end = spec->to_end;
    w->mode = extent.mode;
    w->truncate = extent.truncate;
    w->follows_size = spec->to_end && extent.mode != WINDOW_MODE_COW;
    if (spec->hole) {
        /* A window that is one hole is a window of one hole extent. */
        struct window_extent hole = {b, 0, extent.length, 0, true, false};
        w->extents = malloc(sizeof *w->extents);
        if (w->extents == NULL) {
            free(w->path);
            free(w->origin);
            return sfs_error_set(err, "%s: out of memory", spec->origin);
        }
        w->extents[0] = hole;
        w->extent_count = 1;
        w->length = extent.length;
    }
    table->count++;
    return 0;
}

int window_table_extend(struct window_table *table, const struct window_spec *spec,
                        const char *default_backing, struct sfs_error *err)
{
    assert(table->count > 0 && strcmp(table->windows[table->count - 1].path, spec->path) == 0);
    struct window *w = &table->windows[table->count - 1];
    struct backing *b = spec->hole && spec->backing_path == NULL && default_backing == NULL
                            ? w->backing
                            : backing_of(table, spec, default_backing, err);
    return b == NULL ? -1 : window_table_extend_on(table, spec, b, err);
}

int window_table_extend_on(struct window_table *table, const struct window_spec *spec,
                           struct backing *b, struct sfs_error *err)
{
    assert(table->count > 0 && strcmp(table->windows[table->count - 1].path, spec->path) == 0);
    struct window *w = &table->windows[table->count - 1];
    if (w->extent_count >= WINDOW_MAX_EXTENTS)
        return sfs_error_set(err, "%s: PATH: '%s' has too many extents (at most %u)", spec->origin,
                             spec->path, WINDOW_MAX_EXTENTS);
    struct extent extent;
    if (resolve_extent_on(table, spec, b, &extent, err) < 0)
        return -1;
    if (extent.mode != w->mode)
        return sfs_error_set(err, "%s: MODE: %s, but the window's first extent (%s) is %s",
                             spec->origin, window_mode_name(extent.mode), w->origin,
                             window_mode_name(w->mode));
    if (extent.length > (uint64_t)INT64_MAX - w->length)
        return sfs_error_set(err, "%s: LENGTH: the extents of '%s' add up past 2^63-1 bytes",
                             spec->origin, spec->path);
    struct window_extent e = {
        b, spec->hole ? 0 : spec->offset, extent.length, 0, spec->hole, spec->to_end};
    if (append_extent(w, &e) < 0)
        return sfs_error_set(err, "%s: out of memory", spec->origin);
    return 0;
}

int window_table_add_link(struct window_table *table, const char *path, const char *target,
                          struct backing *b, const char *origin, struct sfs_error *err)
{
    struct window *w = new_window(table);
    if (w == NULL)
        return sfs_error_set(err, "%s: out of memory", origin);
    w->path = strdup(path);
    w->origin = strdup(origin);
    w->link_target = strdup(target);
    if (w->path == NULL || w->origin == NULL || w->link_target == NULL) {
        free(w->path);
        free(w->origin);
        free(w->link_target);
        return sfs_error_set(err, "%s: out of memory", origin);
    }
    w->backing = b;
    w->mode = table->read_only || !b->writable ? WINDOW_MODE_RO : WINDOW_MODE_RW;
    w->truncate = WINDOW_TRUNCATE_IGNORE;
    table->count++;
    return 0;
}

const struct window_extent *window_extent_at(const struct window *w, uint64_t off)
{
    assert(w->extents != NULL && w->extent_count > 0);
    uint32_t lo = 0, hi = w->extent_count;
    /* The last extent that starts at or before off. */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (w->extents[mid].start <= off)
            lo = mid;
        else
            hi = mid;
    }
    return &w->extents[lo];
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

/* After -o extend grew the files (or backing files were adopted): "end"
 * lengths and chunk counts follow. */
static void settle_lengths(struct window_table *table)
{
    for (size_t i = 0; i < table->count; i++) {
        struct window *w = &table->windows[i];
        if (w->extents != NULL) {
            /* An "end" extent runs to the end of its file as it is now; the
             * window keeps that length. */
            w->length = 0;
            for (uint32_t k = 0; k < w->extent_count; k++) {
                struct window_extent *e = &w->extents[k];
                if (e->to_end)
                    e->length = e->backing->size - e->offset;
                e->start = w->length;
                w->length += e->length;
            }
        } else if (w->to_end) {
            w->length = w->backing->size - w->offset;
        }
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
    for (size_t i = 0; i < table->count; i++) {
        const struct window *w = &table->windows[i];
        for (uint32_t k = 0; k < w->extent_count; k++) {
            struct backing *b = w->extents[k].backing;
            if (w->extents[k].hole)
                continue;
            if (w->mode == WINDOW_MODE_COW)
                b->want_private = true;
            else
                b->want_shared = true;
            if (w->mode == WINDOW_MODE_RW)
                b->want_shared_write = true;
        }
    }
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
        assert(w->extents != NULL || (w->offset <= mapped && w->length <= mapped - w->offset));
        for (uint32_t k = 0; k < w->extent_count; k++) {
            const struct window_extent *e = &w->extents[k];
            mapped = w->mode == WINDOW_MODE_COW ? e->backing->size : e->backing->map_len;
            assert(e->hole || (e->offset <= mapped && e->length <= mapped - e->offset));
            assert(e->start == (k == 0 ? 0 : w->extents[k - 1].start + w->extents[k - 1].length));
        }
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

unsigned char *window_extent_data(const struct window *w, const struct window_extent *e)
{
    if (e->hole)
        return NULL;
    unsigned char *base =
        w->mode == WINDOW_MODE_COW ? e->backing->private_map : e->backing->shared_map;
    return base ? base + e->offset : NULL;
}

unsigned char *window_data(const struct window *w)
{
    unsigned char *base =
        w->mode == WINDOW_MODE_COW ? w->backing->private_map : w->backing->shared_map;
    return base ? base + w->offset : NULL;
}

static void list_extent(const struct window *w, struct backing *b, const char *offset,
                        uint64_t length, bool to_end, FILE *out)
{
    table_format_field(out, w->path);
    fprintf(out, " %s ", offset);
    if (to_end)
        fputs("end", out);
    else
        fprintf(out, "%llu", (unsigned long long)length);
    fputc(' ', out);
    window_mode_field_format(w->mode, w->truncate, out);
    fputc(' ', out);
    table_format_field(out, b->real_path);
    fputc('\n', out);
}

/* One line per extent (consecutive lines with one PATH); a symbolic link
 * is not a window and is shown as a comment. */
static void list_window(const struct window *w, FILE *out)
{
    char offset[24];
    if (w->link_target != NULL) {
        fputs("# ", out);
        table_format_field(out, w->path);
        fputs(" -> ", out);
        table_format_field(out, w->link_target);
        fputs(" (symbolic link)\n", out);
        return;
    }
    if (w->extents == NULL) {
        snprintf(offset, sizeof offset, "%llu", (unsigned long long)w->offset);
        list_extent(w, w->backing, offset, w->length, w->to_end, out);
        return;
    }
    for (uint32_t k = 0; k < w->extent_count; k++) {
        const struct window_extent *e = &w->extents[k];
        snprintf(offset, sizeof offset, "%llu", (unsigned long long)e->offset);
        list_extent(w, e->backing, e->hole ? "hole" : offset, e->length, e->to_end, out);
    }
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

static char *copy_text(const char *text, bool *failed)
{
    if (text == NULL)
        return NULL;
    char *copy = strdup(text);
    if (copy == NULL)
        *failed = true;
    return copy;
}

int window_table_copy(struct window_table *dst, const struct window_table *src,
                      struct sfs_error *err)
{
    window_table_init(dst, src->read_only);
    dst->truncate = src->truncate;
    bool failed = false;
    dst->windows = calloc(src->count ? src->count : 1, sizeof *dst->windows);
    dst->rules = calloc(src->rule_count ? src->rule_count : 1, sizeof *dst->rules);
    dst->backings = calloc(src->backing_count ? src->backing_count : 1, sizeof *dst->backings);
    if (dst->windows == NULL || dst->rules == NULL || dst->backings == NULL)
        goto fail;
    dst->capacity = src->count ? src->count : 1;
    for (size_t i = 0; i < src->count && !failed; i++) {
        const struct window *from = &src->windows[i];
        struct window *to = &dst->windows[i];
        *to = *from;
        to->path = copy_text(from->path, &failed);
        to->origin = copy_text(from->origin, &failed);
        to->link_target = copy_text(from->link_target, &failed);
        to->extents = NULL;
        dst->count = i + 1;
        if (from->extents != NULL) {
            to->extents = malloc(from->extent_count * sizeof *to->extents);
            if (to->extents == NULL)
                failed = true;
            else
                memcpy(to->extents, from->extents, from->extent_count * sizeof *to->extents);
        }
    }
    for (size_t i = 0; i < src->rule_count && !failed; i++) {
        dst->rules[i] = src->rules[i];
        dst->rules[i].origin = copy_text(src->rules[i].origin, &failed);
        dst->rule_count = i + 1;
    }
    memcpy(dst->backings, src->backings, src->backing_count * sizeof *dst->backings);
    dst->backing_count = src->backing_count;
    if (!failed)
        return 0;
fail:
    window_table_release(dst);
    return sfs_error_set(err, "out of memory");
}

static void free_window(struct window *w)
{
    free(w->path);
    free(w->origin);
    free(w->extents);
    free(w->link_target);
}

void window_table_release(struct window_table *table)
{
    for (size_t i = 0; i < table->count; i++)
        free_window(&table->windows[i]);
    free(table->windows);
    for (size_t i = 0; i < table->rule_count; i++)
        free(table->rules[i].origin);
    free(table->rules);
    free(table->backings);
    memset(table, 0, sizeof *table);
}

void window_table_remove(struct window_table *table, size_t index)
{
    assert(index < table->count);
    free_window(&table->windows[index]);
    memmove(&table->windows[index], &table->windows[index + 1],
            (table->count - index - 1) * sizeof *table->windows);
    table->count--;
}

ssize_t window_table_find(const struct window_table *table, const char *path)
{
    for (size_t i = 0; i < table->count; i++)
        if (strcmp(table->windows[i].path, path) == 0)
            return (ssize_t)i;
    return -1;
}

bool window_same_geometry(const struct window *a, const struct window *b)
{
    if (a->backing != b->backing || a->offset != b->offset || a->length != b->length ||
        a->follows_size != b->follows_size || a->mode != b->mode || a->truncate != b->truncate ||
        a->extent_count != b->extent_count || (a->link_target == NULL) != (b->link_target == NULL))
        return false;
    for (uint32_t k = 0; k < a->extent_count; k++) {
        const struct window_extent *x = &a->extents[k], *y = &b->extents[k];
        if (x->backing != y->backing || x->offset != y->offset || x->length != y->length ||
            x->hole != y->hole)
            return false;
    }
    return true;
}

/* Whether bytes [offset, offset + length) of b can be served to a window of
 * mode by the mappings b has; else a message naming origin. */
static int check_mapped(const struct backing *b, uint64_t offset, uint64_t length,
                        enum window_mode mode, const char *origin, struct sfs_error *err)
{
    bool cow = mode == WINDOW_MODE_COW;
    uint64_t mapped =
        cow ? (b->private_map != NULL ? b->size : 0) : (b->shared_map != NULL ? b->map_len : 0);
    if (offset <= mapped && length <= mapped - offset &&
        (mode != WINDOW_MODE_RW || length == 0 || b->want_shared_write))
        return 0;
    if (offset + length > (cow ? b->size : b->map_len))
        return sfs_error_set(err,
                             "%s: LENGTH: offset %llu + length %llu is past the end of '%s' as "
                             "it was mapped when the mount began (%llu bytes): remount to "
                             "reach the rest",
                             origin, (unsigned long long)offset, (unsigned long long)length,
                             b->path, (unsigned long long)(cow ? b->size : b->map_len));
    return sfs_error_set(err,
                         "%s: MODE: %s, but '%s' was mapped %s when the mount began (as its "
                         "windows then needed): remount to add a %s window of it",
                         origin, window_mode_name(mode), b->path,
                         cow                      ? "without a private copy"
                         : mode == WINDOW_MODE_RW ? "read-only"
                                                  : "privately only",
                         window_mode_name(mode));
}

int window_table_map_live(struct window_table *table, size_t first_new, struct sfs_error *err)
{
    for (size_t i = 0; i < table->count; i++) {
        const struct window *w = &table->windows[i];
        for (uint32_t k = 0; k < w->extent_count; k++) {
            struct backing *b = w->extents[k].backing;
            if (w->extents[k].hole || b->index < first_new)
                continue;
            b->want_private |= w->mode == WINDOW_MODE_COW;
            b->want_shared |= w->mode != WINDOW_MODE_COW;
            b->want_shared_write |= w->mode == WINDOW_MODE_RW;
        }
        if (w->extents == NULL && w->backing->index >= first_new) {
            struct backing *b = w->backing;
            b->want_private |= w->mode == WINDOW_MODE_COW;
            b->want_shared |= w->mode != WINDOW_MODE_COW;
            b->want_shared_write |= w->mode == WINDOW_MODE_RW;
            b->want_reserve |= w->follows_size;
        }
    }
    for (size_t i = first_new; i < table->backing_count; i++)
        if (backing_map(table->backings[i], err) < 0)
            return -1;
    for (size_t i = 0; i < table->count; i++) {
        const struct window *w = &table->windows[i];
        if (w->link_target != NULL)
            continue;
        if (w->extents == NULL &&
            check_mapped(w->backing, w->offset, w->length, w->mode, w->origin, err) < 0)
            return -1;
        for (uint32_t k = 0; k < w->extent_count; k++) {
            const struct window_extent *e = &w->extents[k];
            if (!e->hole &&
                check_mapped(e->backing, e->offset, e->length, w->mode, w->origin, err) < 0)
                return -1;
        }
    }
    for (size_t i = 0; i < table->rule_count; i++) {
        const struct window_rule *r = &table->rules[i];
        if (check_mapped(r->backing, r->offset, r->total, r->mode, r->origin, err) < 0)
            return -1;
    }
    return 0;
}

/* Points every use of from in table at to. */
static void repoint(struct window_table *table, const struct backing *from, struct backing *to)
{
    for (size_t i = 0; i < table->count; i++) {
        struct window *w = &table->windows[i];
        if (w->backing == from)
            w->backing = to;
        for (uint32_t k = 0; k < w->extent_count; k++)
            if (w->extents[k].backing == from)
                w->extents[k].backing = to;
    }
    for (size_t i = 0; i < table->rule_count; i++)
        if (table->rules[i].backing == from)
            table->rules[i].backing = to;
}

int window_table_adopt(struct window_table *fresh, const struct window_table *base,
                       struct sfs_error *err)
{
    size_t total = base->backing_count + fresh->backing_count;
    struct backing **list = calloc(total ? total : 1, sizeof *list);
    if (list == NULL)
        return sfs_error_set(err, "out of memory");
    memcpy(list, base->backings, base->backing_count * sizeof *list);
    size_t count = base->backing_count;
    for (size_t i = 0; i < fresh->backing_count; i++) {
        struct backing *b = fresh->backings[i], *known = NULL;
        for (size_t j = 0; j < base->backing_count && known == NULL; j++)
            if (base->backings[j]->dev == b->dev && base->backings[j]->ino == b->ino)
                known = base->backings[j];
        if (known != NULL) {
            repoint(fresh, b, known);
            backing_close(b);
            free(b);
        } else {
            b->index = count;
            list[count++] = b;
        }
    }
    free(fresh->backings);
    fresh->backings = list;
    fresh->backing_count = count;
    settle_lengths(fresh);
    return 0;
}

int window_table_close(struct window_table *table)
{
    int res = 0;
    for (size_t i = 0; i < table->backing_count; i++) {
        int r = backing_close(table->backings[i]);
        if (r < 0 && res == 0)
            res = r;
        free(table->backings[i]);
    }
    window_table_release(table);
    return res;
}
