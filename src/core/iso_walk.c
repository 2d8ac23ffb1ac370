/* iso_walk.c - see iso_walk.h. Every field is read with memcpy and
 * le16toh/le32toh from sector-sized buffers; the image is hostile input. */
#include "slicefs/iso_walk.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum {
    SECTOR = 2048,
    PVD_SECTOR = 16,
    MAX_DESCRIPTORS = 64,
    ROOT_RECORD = 156,
    RECORD_MIN = 34,
    FLAG_DIR = 2,
    FLAG_MORE = 0x80,
    PATH_LIMIT = 4096,
    NAME_LIMIT = 1024,
    MAX_FILE_EXTENTS = 1024,
    MAX_CONTINUATIONS = 16,
};

struct dir {
    uint32_t location, size;
    char *path; /* "" for the root */
    unsigned depth;
};

struct walk {
    const struct archive_reader *r;
    archive_warn_fn *warn;
    void *arg;
    struct dir *queue;
    size_t head, count, capacity;
    uint32_t *seen; /* directory locations read (open addressing, 0 empty) */
    size_t seen_slots, seen_count;
    uint64_t records;
    bool out_of_memory;
    /* The file being gathered (multi-extent records). */
    struct archive_extent extents[MAX_FILE_EXTENTS];
    size_t extent_count;
    uint64_t size;
    bool broken;
};

/* Records that a directory at location is read; false when it was. */
static bool first_visit(struct walk *w, uint32_t location)
{
    if (2 * (w->seen_count + 1) > w->seen_slots) {
        size_t slots = w->seen_slots ? 2 * w->seen_slots : 256;
        uint32_t *grown = calloc(slots, sizeof *grown);
        if (grown == NULL) {
            w->out_of_memory = true;
            return false;
        }
        for (size_t i = 0; i < w->seen_slots; i++) {
            uint32_t v = w->seen[i];
            size_t k = (v * 2654435761u) & (slots - 1);
            while (v != 0 && grown[k] != 0)
                k = (k + 1) & (slots - 1);
            if (v != 0)
                grown[k] = v;
        }
        free(w->seen);
        w->seen = grown;
        w->seen_slots = slots;
    }
    uint32_t v = location + 1; /* 0 marks an empty slot */
    size_t k = (v * 2654435761u) & (w->seen_slots - 1);
    for (; w->seen[k] != 0; k = (k + 1) & (w->seen_slots - 1))
        if (w->seen[k] == v)
            return false;
    w->seen[k] = v;
    w->seen_count++;
    return true;
}

static void enqueue(struct walk *w, uint32_t location, uint32_t size, char *path, unsigned depth)
{
    if (depth > ISO_MAX_DEPTH) {
        archive_warn(w->warn, w->arg, "iso: directory '%s' is deeper than %d; skipped", path,
                     ISO_MAX_DEPTH);
        free(path);
        return;
    }
    if (!first_visit(w, location)) {
        if (!w->out_of_memory)
            archive_warn(w->warn, w->arg,
                         "iso: directory '%s' is one already read (a loop or a shared "
                         "directory); skipped",
                         path);
        free(path);
        return;
    }
    if (w->count == w->capacity) {
        size_t capacity = w->capacity ? 2 * w->capacity : 64;
        struct dir *grown = realloc(w->queue, capacity * sizeof *grown);
        if (grown == NULL) {
            w->out_of_memory = true;
            free(path);
            return;
        }
        w->queue = grown;
        w->capacity = capacity;
    }
    w->queue[w->count++] = (struct dir){location, size, path, depth};
}

bool iso_detect(const struct archive_reader *r)
{
    unsigned char id[5];
    uint64_t at = (uint64_t)PVD_SECTOR * SECTOR + 1;
    return r->size > at + sizeof id && r->read(r->arg, at, id, sizeof id) == 0 &&
           memcmp(id, "CD001", 5) == 0;
}

/* What Rock Ridge says of a record. */
struct rock_ridge {
    char name[NAME_LIMIT];
    bool has_name, has_mode, is_link, has_mtime;
    unsigned mode;
    int64_t mtime_ns;
    char link[PATH_LIMIT];
    size_t link_len;
};

static int64_t record_time(const unsigned char *t)
{
    struct tm tm = {
        .tm_year = t[0],
        .tm_mon = t[1] - 1,
        .tm_mday = t[2],
        .tm_hour = t[3],
        .tm_min = t[4],
        .tm_sec = t[5],
    };
    time_t s = timegm(&tm);
    return s == (time_t)-1 ? 0 : ((int64_t)s - (int64_t)(signed char)t[6] * 15 * 60) * 1000000000;
}

/* Appends text (len bytes) to buf (used bytes of limit); false when full. */
static bool append(char *buf, size_t *used, size_t limit, const void *text, size_t len)
{
    if (len >= limit - *used)
        return false;
    memcpy(buf + *used, text, len);
    *used += len;
    buf[*used] = '\0';
    return true;
}

/* A symbolic link's components (SL), appended to rr->link. */
static void symlink_components(struct rock_ridge *rr, const unsigned char *p, size_t len)
{
    for (size_t at = 0; at + 2 <= len;) {
        unsigned flags = p[at], n = p[at + 1];
        if (n > len - at - 2)
            return;
        const char *text = (const char *)p + at + 2;
        bool root = flags & 8;
        if (rr->link_len > 0 && rr->link[rr->link_len - 1] != '/' && !root)
            append(rr->link, &rr->link_len, sizeof rr->link, "/", 1);
        if (flags & 2)
            append(rr->link, &rr->link_len, sizeof rr->link, ".", 1);
        else if (flags & 4)
            append(rr->link, &rr->link_len, sizeof rr->link, "..", 2);
        else if (root)
            append(rr->link, &rr->link_len, sizeof rr->link, "/", 1);
        else
            append(rr->link, &rr->link_len, sizeof rr->link, text, n);
        at += 2 + n;
    }
}

/* Reads the SUSP entries of a record's system use area, and of the
 * continuation areas (CE) it chains to: at most MAX_CONTINUATIONS, each
 * inside one sector of the image. */
static void rock_ridge(const struct walk *w, const unsigned char *p, size_t len,
                       struct rock_ridge *rr)
{
    size_t name_len = 0;
    unsigned char area[SECTOR];
    unsigned continuations = 0;
    uint64_t next = 0, next_len = 0;
    for (size_t at = 0;;) {
        if (at + 4 > len) {
            if (next_len == 0 || ++continuations > MAX_CONTINUATIONS ||
                w->r->read(w->r->arg, next, area, (size_t)next_len) < 0)
                return;
            p = area;
            len = (size_t)next_len;
            at = 0;
            next_len = 0;
            continue;
        }
        unsigned n = p[at + 2];
        if (n < 4 || n > len - at)
            return;
        const unsigned char *e = p + at;
        if (e[0] == 'N' && e[1] == 'M' && n >= 5 && !(e[4] & 6)) {
            rr->has_name = append(rr->name, &name_len, sizeof rr->name, e + 5, n - 5u);
        } else if (e[0] == 'P' && e[1] == 'X' && n >= 12) {
            rr->has_mode = true;
            rr->mode = archive_le32(e + 4);
        } else if (e[0] == 'S' && e[1] == 'L' && n >= 5) {
            rr->is_link = true;
            symlink_components(rr, e + 5, n - 5u);
        } else if (e[0] == 'T' && e[1] == 'F' && n >= 5) {
            unsigned flags = e[4], size = flags & 0x80 ? 17 : 7;
            size_t off = 5 + ((flags & 1) ? size : 0);
            if ((flags & 2) && size == 7 && off + 7 <= n) {
                rr->has_mtime = true;
                rr->mtime_ns = record_time(e + off);
            }
        } else if (e[0] == 'C' && e[1] == 'E' && n >= 28) {
            uint64_t where = (uint64_t)archive_le32(e + 4) * SECTOR + archive_le32(e + 12);
            uint32_t bytes = archive_le32(e + 20);
            /* Inside the image and inside one sector. */
            if (bytes > 0 && bytes <= SECTOR - archive_le32(e + 12) % SECTOR &&
                archive_le32(e + 12) < SECTOR && where <= w->r->size &&
                bytes <= w->r->size - where) {
                next = where;
                next_len = bytes;
            }
        } else if (e[0] == 'S' && e[1] == 'T') {
            return;
        }
        at += n;
    }
}

/* The name of a record: Rock Ridge's, else the ISO name less ";1" and a
 * trailing '.'. */
static void record_name(const unsigned char *rec, const struct rock_ridge *rr, char *out)
{
    if (rr->has_name) {
        strcpy(out, rr->name);
        return;
    }
    size_t n = rec[32];
    memcpy(out, rec + 33, n);
    out[n] = '\0';
    char *semicolon = strchr(out, ';');
    if (semicolon != NULL)
        *semicolon = '\0';
    n = strlen(out);
    if (n > 1 && out[n - 1] == '.')
        out[n - 1] = '\0';
}

static char *join(const char *dir, const char *name)
{
    char *path = NULL;
    if (strlen(dir) + strlen(name) + 2 > PATH_LIMIT)
        return NULL;
    if (asprintf(&path, "%s%s%s", dir, dir[0] ? "/" : "", name) < 0)
        return NULL;
    return path;
}

/* One record of directory d (a file or subdirectory). Returns -1 when fn
 * asked to stop. */
static int record(struct walk *w, const struct dir *d, const unsigned char *rec, size_t len,
                  archive_member_fn *fn)
{
    unsigned name_len = rec[32], flags = rec[25];
    if (name_len == 1 && (rec[33] == 0 || rec[33] == 1))
        return 0; /* "." and ".." */
    size_t su = 33 + name_len + (name_len % 2 == 0 ? 1 : 0);
    struct rock_ridge rr = {0};
    if (su < len)
        rock_ridge(w, rec + su, len - su, &rr);
    char name[NAME_LIMIT + 256];
    record_name(rec, &rr, name);
    uint32_t location = archive_le32(rec + 2), size = archive_le32(rec + 10);
    uint64_t offset = (uint64_t)location * SECTOR;
    if (flags & FLAG_DIR) {
        char *path = join(d->path, name);
        if (path != NULL)
            enqueue(w, location, size, path, d->depth + 1);
        return 0;
    }
    const char *sep = d->path[0] != '\0' ? "/" : "";
    if (rr.is_link) {
        /* A symbolic link: no bytes of its own. */
    } else if (rec[26] != 0 || rec[27] != 0) {
        archive_warn(w->warn, w->arg, "iso: file '%s%s%s' is interleaved; skipped", d->path, sep,
                     name);
        w->broken = true;
    } else if (offset > w->r->size || size > w->r->size - offset) {
        archive_warn(w->warn, w->arg,
                     "iso: file '%s%s%s': its %" PRIu32 " bytes at offset %" PRIu64
                     " run past the end of the image (%" PRIu64 " bytes); skipped",
                     d->path, sep, name, size, offset, w->r->size);
        w->broken = true;
    } else if (w->extent_count == MAX_FILE_EXTENTS) {
        archive_warn(w->warn, w->arg, "iso: file '%s%s%s' has more than %d extents; skipped",
                     d->path, sep, name, MAX_FILE_EXTENTS);
        w->broken = true;
    } else if (size > 0) {
        w->extents[w->extent_count++] = (struct archive_extent){offset, size, false};
        w->size += size;
    }
    if (flags & FLAG_MORE)
        return 0; /* the next record continues this file */
    int res = 0;
    char *path = join(d->path, name);
    if (path != NULL && !w->broken) {
        struct archive_member m = {
            .path = path,
            .type = rr.is_link ? MEMBER_SYMLINK : MEMBER_FILE,
            .link = rr.link,
            .mode = rr.has_mode ? rr.mode & 07777 : 0444,
            .mtime_ns = rr.has_mtime ? rr.mtime_ns : record_time(rec + 18),
            .size = rr.is_link ? 0 : w->size,
            .extents = w->extents,
            .extent_count = rr.is_link ? 0 : w->extent_count,
        };
        if (!rr.is_link || rr.link_len > 0)
            res = fn(w->arg, &m);
    }
    free(path);
    w->extent_count = 0;
    w->size = 0;
    w->broken = false;
    return res;
}

/* Reads directory d sector by sector (records never cross a sector). */
static int read_dir(struct walk *w, const struct dir *d, archive_member_fn *fn)
{
    unsigned char sector[SECTOR];
    uint64_t start = (uint64_t)d->location * SECTOR;
    if (start > w->r->size || d->size > w->r->size - start) {
        archive_warn(w->warn, w->arg, "iso: directory '%s' lies past the end of the image; skipped",
                     d->path);
        return 0;
    }
    for (uint64_t done = 0; done < d->size; done += SECTOR) {
        size_t n = d->size - done < SECTOR ? (size_t)(d->size - done) : SECTOR;
        if (w->r->read(w->r->arg, start + done, sector, n) < 0)
            return 0;
        for (size_t at = 0; at < n;) {
            size_t len = sector[at];
            if (len == 0)
                break; /* padding to the next sector */
            if (len < RECORD_MIN || len > n - at || 33u + sector[at + 32] > len) {
                archive_warn(w->warn, w->arg,
                             "iso: directory '%s': a damaged record at offset %" PRIu64
                             "; the rest of the directory is skipped",
                             d->path, start + done + at);
                return 0;
            }
            if (++w->records > ISO_MAX_RECORDS) {
                archive_warn(w->warn, w->arg, "iso: more than %u records; the walk stops",
                             ISO_MAX_RECORDS);
                return 0;
            }
            if (record(w, d, sector + at, len, fn) < 0)
                return -1;
            at += len;
        }
    }
    return 0;
}

int iso_walk(const struct archive_reader *r, archive_member_fn *fn, archive_warn_fn *warn,
             void *arg)
{
    struct walk *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    *w = (struct walk){.r = r, .warn = warn, .arg = arg};
    unsigned char pvd[SECTOR];
    int res = 0;
    bool found = false;
    for (unsigned s = PVD_SECTOR; s < PVD_SECTOR + MAX_DESCRIPTORS && !found; s++) {
        uint64_t at = (uint64_t)s * SECTOR;
        if (at > r->size || r->size - at < SECTOR || r->read(r->arg, at, pvd, SECTOR) < 0 ||
            memcmp(pvd + 1, "CD001", 5) != 0 || pvd[0] == 255)
            break;
        found = pvd[0] == 1;
    }
    if (!found || archive_le16(pvd + 128) != SECTOR) {
        archive_warn(warn, arg, "iso: no primary volume descriptor with 2048-byte blocks");
        free(w);
        return 0;
    }
    char *root = strdup("");
    if (root != NULL)
        enqueue(w, archive_le32(pvd + ROOT_RECORD + 2), archive_le32(pvd + ROOT_RECORD + 10), root,
                0);
    while (res == 0 && !w->out_of_memory && w->head < w->count) {
        struct dir d = w->queue[w->head++];
        res = read_dir(w, &d, fn);
        w->extent_count = 0; /* a multi-extent file cut at its directory's end */
        w->size = 0;
        w->broken = false;
        free(d.path);
    }
    if (w->out_of_memory) {
        archive_warn(warn, arg, "iso: out of memory");
        res = -1;
    }
    for (size_t i = w->head; i < w->count; i++)
        free(w->queue[i].path);
    free(w->queue);
    free(w->seen);
    free(w);
    return res;
}
