/* source_archive.c - layout=archive: one window per member of an
 * uncompressed archive (the default backing file: a tar, a zip's stored
 * members or an ISO 9660 image's files), at the member's path.
 *
 * The parsers (tar_walk.h, zip_walk.h, iso_walk.h) report members as byte ranges of the archive;
 * this file names them: paths normalised (leading "/" and "./" dropped,
 * ".." refused), a later member of one path replaces an earlier one (as
 * tar -x leaves it), a hard link copies its target's extents, a member
 * under a path that is a file is skipped. Then every member becomes a
 * window (its extents, holes for a sparse member) or a symbolic link, with
 * the member's mode bits (never more than the archive's) and mtime.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slicefs/iso_walk.h"
#include "slicefs/tar_walk.h"
#include "slicefs/zip_walk.h"
#include "slicefs/window_path.h"
#include "slicefs/window_source.h"

struct entry {
    char *path;
    char *link; /* a symbolic link's target, or NULL */
    unsigned mode;
    int64_t mtime_ns;
    struct archive_extent *extents;
    size_t extent_count;
    bool gone; /* replaced by a later member of the same path */
};

struct listing {
    const char *origin;
    const struct source_context *ctx;
    struct entry *entries;
    size_t count, capacity;
    uint64_t *slots; /* hash of paths: entry index + 1 (low half) and the
                      * path's hash (high half, to skip most compares); 0
                      * when empty */
    size_t slot_count;
    bool out_of_memory;
};

static uint64_t hash_path(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* The slot of path (len bytes), or the empty one where it goes. */
static uint64_t *find_slot(const struct listing *l, const char *path, size_t len)
{
    uint64_t h = hash_path(path, len), tag = h >> 32 << 32;
    size_t mask = l->slot_count - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint64_t *slot = &l->slots[i];
        if (*slot == 0)
            return slot;
        if ((*slot & ~(uint64_t)UINT32_MAX) != tag)
            continue;
        const char *known = l->entries[(uint32_t)*slot - 1].path;
        if (strncmp(known, path, len) == 0 && known[len] == '\0')
            return slot;
    }
}

/* What a slot holds for entry index with path. */
static uint64_t slot_value(const char *path, size_t index)
{
    return (hash_path(path, strlen(path)) >> 32 << 32) | ((uint64_t)index + 1);
}

static int grow_slots(struct listing *l)
{
    size_t count = l->slot_count ? l->slot_count * 2 : 1024;
    uint64_t *slots = calloc(count, sizeof *slots);
    if (slots == NULL)
        return -1;
    free(l->slots);
    l->slots = slots;
    l->slot_count = count;
    for (size_t i = 0; i < l->count; i++)
        if (!l->entries[i].gone) {
            const char *path = l->entries[i].path;
            *find_slot(l, path, strlen(path)) = slot_value(path, i);
        }
    return 0;
}

static void warn_parser(void *arg, const char *message)
{
    const struct listing *l = arg;
    source_warn(l->ctx, l->origin, "%s", message);
}

/* The member path normalised into a new string: no leading "/" or "./",
 * no empty or "." components, no trailing "/". NULL (and *why) for a path
 * with a ".." component or nothing left. */
static char *normalise(const char *path, const char **why)
{
    char *out = malloc(strlen(path) + 1);
    if (out == NULL) {
        *why = "out of memory";
        return NULL;
    }
    size_t n = 0;
    for (const char *c = path; *c != '\0';) {
        size_t len = strcspn(c, "/");
        if (len == 2 && c[0] == '.' && c[1] == '.') {
            free(out);
            *why = "it has a '..' component";
            return NULL;
        }
        if (len > 0 && !(len == 1 && c[0] == '.')) {
            if (n > 0)
                out[n++] = '/';
            memcpy(out + n, c, len);
            n += len;
        }
        c += len;
        while (*c == '/')
            c++;
    }
    out[n] = '\0';
    if (n == 0) {
        free(out);
        *why = "nothing is left of it";
        return NULL;
    }
    return out;
}

static void entry_free(struct entry *e)
{
    free(e->path);
    free(e->link);
    free(e->extents);
}

/* Keeps member m (path normalised), replacing an earlier one of its path;
 * a hard link (target_slot: its target's entry + 1) copies its target. */
static int keep(struct listing *l, char *path, const struct archive_member *m, uint32_t target_slot)
{
    if (2 * (l->count + 1) > l->slot_count && grow_slots(l) < 0)
        goto oom;
    if (l->count == l->capacity) {
        size_t capacity = l->capacity ? l->capacity * 2 : 64;
        struct entry *grown = realloc(l->entries, capacity * sizeof *grown);
        if (grown == NULL)
            goto oom;
        l->entries = grown;
        l->capacity = capacity;
    }
    /* A hard link's target, looked up after the array moved. */
    const struct entry *target = target_slot ? &l->entries[target_slot - 1] : NULL;
    struct entry e = {.path = path, .mode = m->mode, .mtime_ns = m->mtime_ns};
    const struct archive_extent *extents = target ? target->extents : m->extents;
    e.extent_count = target ? target->extent_count : m->extent_count;
    const char *link = target ? target->link : m->type == MEMBER_SYMLINK ? m->link : NULL;
    if (link != NULL && (e.link = strdup(link)) == NULL)
        goto oom;
    if (e.extent_count > 0) {
        e.extents = malloc(e.extent_count * sizeof *e.extents);
        if (e.extents == NULL) {
            free(e.link);
            goto oom;
        }
        memcpy(e.extents, extents, e.extent_count * sizeof *e.extents);
    }
    uint64_t *slot = find_slot(l, path, strlen(path));
    if (*slot != 0) {
        struct entry *old = &l->entries[(uint32_t)*slot - 1];
        old->gone = true;
        free(old->extents);
        old->extents = NULL;
    }
    l->entries[l->count] = e;
    *slot = slot_value(path, l->count++);
    return 0;
oom:
    free(path);
    l->out_of_memory = true;
    return -1;
}

static int take_member(void *arg, const struct archive_member *m)
{
    struct listing *l = arg;
    const char *why = NULL;
    char *path = normalise(m->path, &why);
    if (path == NULL) {
        source_warn(l->ctx, l->origin, "member '%s': skipped: %s", m->path, why);
        return l->out_of_memory ? -1 : 0;
    }
    uint32_t target = 0;
    if (m->type == MEMBER_HARDLINK) {
        char *to = normalise(m->link, &why);
        uint32_t slot = to && l->slot_count > 0 ? (uint32_t)*find_slot(l, to, strlen(to)) : 0;
        free(to);
        if (slot == 0) {
            source_warn(l->ctx, l->origin,
                        "member '%s': a hard link to '%s', which is not an earlier member; skipped",
                        m->path, m->link);
            free(path);
            return 0;
        }
        target = slot;
    } else if (m->type == MEMBER_SYMLINK && m->link[0] == '\0') {
        source_warn(l->ctx, l->origin, "member '%s': a symbolic link to nothing; skipped", m->path);
        free(path);
        return 0;
    }
    return keep(l, path, m, target);
}

/* Whether a proper prefix of e's path is another kept member (a file
 * cannot be a directory too). */
static const struct entry *file_above(const struct listing *l, const struct entry *e)
{
    for (const char *slash = strchr(e->path, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
        uint32_t slot = (uint32_t)*find_slot(l, e->path, (size_t)(slash - e->path));
        if (slot != 0)
            return &l->entries[slot - 1];
    }
    return NULL;
}

/* Appends entry e (number index) to the table as a window over b. */
static int add_entry(const struct listing *l, const struct entry *e, size_t index,
                     struct backing *b, struct window_table *table, struct sfs_error *err)
{
    char origin[64];
    snprintf(origin, sizeof origin, "%s: member %zu", l->origin, index + 1);
    if (e->link != NULL)
        return window_table_add_link(table, e->path, e->link, b, origin, err);
    struct window_spec spec = {.path = e->path, .origin = origin, .mode = WINDOW_MODE_DEFAULT};
    size_t k = 0;
    do {
        if (e->extent_count > 0) {
            spec.hole = e->extents[k].hole;
            spec.offset = e->extents[k].offset;
            spec.length = e->extents[k].length;
        }
        int res = k == 0 ? window_table_add_on(table, &spec, b, err)
                         : window_table_extend_on(table, &spec, b, err);
        if (res < 0)
            return -1;
    } while (++k < e->extent_count);
    struct window *w = &table->windows[table->count - 1];
    w->masked = true;
    w->mode_mask = e->mode & 07777;
    w->mtime_ns = e->mtime_ns;
    return 0;
}

/* Reads the archive through a small read-ahead buffer: the headers of an
 * archive of small members lie a few hundred bytes apart, and one pread
 * per header would cost a system call each. */
struct archive_file {
    int fd;
    uint64_t start; /* of what buf holds */
    size_t held;
    unsigned char buf[32 * 1024];
};

static int read_archive(void *arg, uint64_t off, void *buf, size_t len)
{
    struct archive_file *f = arg;
    if (off >= f->start && len <= f->held && off - f->start <= f->held - len) {
        memcpy(buf, f->buf + (off - f->start), len);
        return 0;
    }
    bool buffered = len <= sizeof f->buf;
    unsigned char *into = buffered ? f->buf : buf;
    size_t want = buffered ? sizeof f->buf : len, done = 0;
    while (done < want) {
        ssize_t n = pread(f->fd, into + done, want - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    if (buffered) {
        f->start = off;
        f->held = done;
    }
    if (done < len)
        return -1;
    if (buffered)
        memcpy(buf, f->buf, len);
    return 0;
}

int source_archive_add(const char *origin, const struct source_context *ctx,
                       struct window_table *table, struct sfs_error *err)
{
    if (ctx->default_backing == NULL)
        return sfs_error_set(err, "%s: BACKING: no archive given", origin);
    struct backing *b = window_table_backing(table, ctx->default_backing, err);
    if (b == NULL)
        return sfs_error_prefix(err, "%s", origin);
    struct archive_file *file = malloc(sizeof *file);
    if (file == NULL)
        return sfs_error_set(err, "%s: out of memory", origin);
    *file = (struct archive_file){.fd = b->fd};
    struct archive_reader reader = {read_archive, file, b->size};
    unsigned char first[512];
    bool tar = b->size >= sizeof first && read_archive(file, 0, first, sizeof first) == 0 &&
               tar_detect(first);
    bool iso = !tar && iso_detect(&reader);
    if (!tar && !iso && !zip_detect(&reader)) {
        free(file);
        return sfs_error_set(err,
                             "%s: '%s' is neither an uncompressed tar archive (no valid tar "
                             "header at offset 0), an ISO 9660 image nor a zip archive",
                             origin, ctx->default_backing);
    }

    struct listing l = {.origin = origin, .ctx = ctx};
    int res = tar   ? tar_walk(&reader, take_member, warn_parser, &l)
              : iso ? iso_walk(&reader, take_member, warn_parser, &l)
                    : zip_walk(&reader, take_member, warn_parser, &l);
    free(file);
    if (res < 0 || l.out_of_memory)
        res = sfs_error_set(err, "%s: out of memory, or the archive walk failed", origin);
    size_t added = 0;
    for (size_t i = 0; i < l.count && res == 0; i++) {
        const struct entry *e = &l.entries[i], *above;
        if (e->gone)
            continue;
        struct sfs_error why;
        if (window_path_check(e->path, &why) < 0) {
            source_warn(l.ctx, l.origin, "member '%s': skipped: %s", e->path, why.msg);
            continue;
        }
        if ((above = file_above(&l, e)) != NULL) {
            source_warn(l.ctx, l.origin, "member '%s': skipped: '%s' is a file", e->path,
                        above->path);
            continue;
        }
        res = add_entry(&l, e, i, b, table, err);
        added++;
    }
    for (size_t i = 0; i < l.count; i++)
        entry_free(&l.entries[i]);
    free(l.entries);
    free(l.slots);
    if (res == 0 && added == 0 && ctx->found_nothing != NULL)
        sfs_error_set(ctx->found_nothing, "%s: '%s' holds no member to show", origin,
                      ctx->default_backing);
    return res;
}
