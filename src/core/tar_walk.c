/* tar_walk.c - see tar_walk.h. Every header field is read with bounds
 * checks; the archive is hostile input. */
#include "slicefs/tar_walk.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK = 512 };

/* Header fields: offset and length in the 512-byte block. */
enum {
    F_NAME = 0,
    F_NAME_LEN = 100,
    F_MODE = 100,
    F_NUM8 = 8,
    F_SIZE = 124,
    F_NUM12 = 12,
    F_MTIME = 136,
    F_CHKSUM = 148,
    F_TYPE = 156,
    F_LINK = 157,
    F_LINK_LEN = 100,
    F_MAGIC = 257,
    F_PREFIX = 345,
    F_PREFIX_LEN = 155,
    F_GNU_SPARSE = 386,
    GNU_SPARSE_IN_HEADER = 4,
    SPARSE_ENTRY = 24,
    F_GNU_EXTENDED = 482,
    F_GNU_REALSIZE = 483,
    EXT_ENTRIES = 21,
    F_EXT_EXTENDED = 504,
};

/* A sparse map: count pairs (offset in the member, bytes stored). */
struct sparse_map {
    uint64_t *pairs; /* 2 * count values */
    size_t count;
    size_t values; /* how many values are in pairs (an odd one waits for its pair) */
    size_t capacity;
};

/* What extended headers ('x', 'L', 'K') say about the next member. */
struct pending {
    char *path, *link, *sparse_name;
    bool has_size, has_mtime, has_realsize;
    uint64_t size, realsize;
    int64_t mtime_ns;
    int sparse_major, sparse_minor; /* -1: not a pax sparse member */
    struct sparse_map map;
};

struct walk {
    const struct archive_reader *r;
    archive_warn_fn *warn;
    void *arg;
    struct pending p;
    struct archive_extent *extents;
    size_t extent_count, extent_capacity;
    bool out_of_memory;
};

/* An octal field (leading spaces, digits, then spaces or NULs) or a
 * base-256 one (first byte 0x80, big-endian). False for anything else or a
 * value past INT64_MAX. */
static bool parse_number(const unsigned char *f, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len > 0 && (f[0] & 0x80)) {
        if (f[0] != 0x80)
            return false; /* negative, or a form we do not know */
        for (size_t i = 1; i < len; i++) {
            if (v > (UINT64_MAX >> 8))
                return false;
            v = v << 8 | f[i];
        }
    } else {
        size_t i = 0;
        while (i < len && f[i] == ' ')
            i++;
        for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
            if (v > (UINT64_MAX >> 3))
                return false;
            v = v * 8 + (uint64_t)(f[i] - '0');
        }
        for (; i < len; i++)
            if (f[i] != ' ' && f[i] != '\0')
                return false;
    }
    if (v > (uint64_t)INT64_MAX)
        return false;
    *out = v;
    return true;
}

bool tar_detect(const unsigned char *block)
{
    uint64_t stored;
    if (!parse_number(block + F_CHKSUM, F_NUM8, &stored))
        return false;
    /* The sum of the bytes with the checksum field as spaces, unsigned (as
     * POSIX says) or signed (as old tars computed it). */
    uint64_t unsigned_sum = 8 * ' ';
    int64_t signed_sum = 8 * ' ';
    for (int i = 0; i < BLOCK; i++) {
        unsigned_sum += block[i];
        signed_sum += (signed char)block[i];
    }
    for (int i = F_CHKSUM; i < F_CHKSUM + F_NUM8; i++) {
        unsigned_sum -= block[i];
        signed_sum -= (signed char)block[i];
    }
    return stored == unsigned_sum || (signed_sum >= 0 && stored == (uint64_t)signed_sum);
}

static bool all_zero(const unsigned char *block)
{
    for (int i = 0; i < BLOCK; i++)
        if (block[i] != 0)
            return false;
    return true;
}

/* n rounded up to whole blocks, or UINT64_MAX when that overflows. */
static uint64_t padded(uint64_t n)
{
    return n > UINT64_MAX - (BLOCK - 1) ? UINT64_MAX : (n + BLOCK - 1) / BLOCK * BLOCK;
}

static char *field_string(const unsigned char *f, size_t len)
{
    return strndup((const char *)f, len);
}

static void pending_clear(struct pending *p)
{
    free(p->path);
    free(p->link);
    free(p->sparse_name);
    free(p->map.pairs);
    memset(p, 0, sizeof *p);
    p->sparse_major = p->sparse_minor = -1;
}

static bool map_push(struct sparse_map *m, uint64_t value)
{
    if (m->values / 2 >= ARCHIVE_MAX_EXTENTS)
        return false;
    if (m->values == m->capacity) {
        size_t capacity = m->capacity ? m->capacity * 2 : 16;
        uint64_t *grown = realloc(m->pairs, capacity * sizeof *grown);
        if (grown == NULL)
            return false;
        m->pairs = grown;
        m->capacity = capacity;
    }
    m->pairs[m->values++] = value;
    m->count = m->values / 2;
    return true;
}

/* A decimal number that is all of text (len bytes), at most INT64_MAX. */
static bool parse_decimal(const char *text, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9' || v > ((uint64_t)INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(text[i] - '0');
    }
    *out = v;
    return true;
}

/* A pax time: [-]seconds[.fraction]. */
static bool parse_time(const char *text, size_t len, int64_t *out)
{
    bool negative = len > 0 && text[0] == '-';
    size_t i = negative ? 1 : 0, dot = i;
    while (dot < len && text[dot] != '.')
        dot++;
    uint64_t seconds, ns = 0;
    if (!parse_decimal(text + i, dot - i, &seconds) || seconds > (uint64_t)INT64_MAX / 1000000000)
        return false;
    for (size_t k = 0; k < 9; k++) {
        size_t at = dot + 1 + k;
        char c = at < len ? text[at] : '0';
        if (c < '0' || c > '9')
            return false;
        ns = ns * 10 + (uint64_t)(c - '0');
    }
    int64_t v = (int64_t)(seconds * 1000000000 + ns);
    *out = negative ? -v : v;
    return true;
}

static bool key_is(const char *key, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(key, name, len) == 0;
}

/* Takes one pax record's key and value into the pending member. */
static void pax_record(struct walk *w, const char *key, size_t key_len, const char *value,
                       size_t len, uint64_t where)
{
    struct pending *p = &w->p;
    uint64_t n;
    bool ok = true;
    if (key_is(key, key_len, "path") || key_is(key, key_len, "linkpath") ||
        key_is(key, key_len, "GNU.sparse.name")) {
        char **into = key[0] == 'p' ? &p->path : key[0] == 'l' ? &p->link : &p->sparse_name;
        ok = memchr(value, '\0', len) == NULL;
        if (ok) {
            free(*into);
            *into = strndup(value, len);
            w->out_of_memory |= *into == NULL;
        }
    } else if (key_is(key, key_len, "size")) {
        ok = p->has_size = parse_decimal(value, len, &p->size);
    } else if (key_is(key, key_len, "mtime")) {
        ok = p->has_mtime = parse_time(value, len, &p->mtime_ns);
    } else if (key_is(key, key_len, "GNU.sparse.size") ||
               key_is(key, key_len, "GNU.sparse.realsize")) {
        ok = p->has_realsize = parse_decimal(value, len, &p->realsize);
    } else if (key_is(key, key_len, "GNU.sparse.major") ||
               key_is(key, key_len, "GNU.sparse.minor")) {
        ok = parse_decimal(value, len, &n) && n < 16;
        if (ok && key[12] == 'a')
            p->sparse_major = (int)n;
        else if (ok)
            p->sparse_minor = (int)n;
    } else if (key_is(key, key_len, "GNU.sparse.numblocks")) {
        ok = parse_decimal(value, len, &n) && n <= ARCHIVE_MAX_EXTENTS;
        if (ok && p->sparse_major < 0)
            p->sparse_major = p->sparse_minor = 0; /* 0.0 or 0.1: a map in records */
    } else if (key_is(key, key_len, "GNU.sparse.offset") ||
               key_is(key, key_len, "GNU.sparse.numbytes")) {
        /* 0.0: offset and numbytes records alternate, in that order. */
        bool is_offset = key[11] == 'o';
        ok = parse_decimal(value, len, &n) && (p->map.values % 2 == 0) == is_offset &&
             map_push(&p->map, n);
        p->sparse_major = p->sparse_minor = 0;
    } else if (key_is(key, key_len, "GNU.sparse.map")) {
        /* 0.1: "offset,size,offset,size,...". */
        p->map.values = p->map.count = 0;
        for (size_t i = 0; ok && i < len;) {
            size_t j = i;
            while (j < len && value[j] != ',')
                j++;
            ok = parse_decimal(value + i, j - i, &n) && map_push(&p->map, n);
            i = j + 1;
        }
        ok = ok && p->map.values % 2 == 0;
        p->sparse_major = 0;
        p->sparse_minor = 1;
    }
    if (!ok)
        archive_warn(w->warn, w->arg,
                     "tar: pax header at offset %" PRIu64 ": bad value for '%.*s'; ignored", where,
                     (int)key_len, key);
}

/* Parses pax records "LENGTH KEY=VALUE\n" in data (len bytes). */
static void pax_records(struct walk *w, const char *data, size_t len, uint64_t where)
{
    for (size_t at = 0; at < len && data[at] != '\0';) {
        size_t i = at;
        uint64_t record = 0;
        while (i < len && data[i] >= '0' && data[i] <= '9' && record < len)
            record = record * 10 + (uint64_t)(data[i++] - '0');
        if (i == at || i >= len || data[i] != ' ' || record <= i - at + 1 || record > len - at ||
            data[at + record - 1] != '\n') {
            archive_warn(w->warn, w->arg,
                         "tar: pax header at offset %" PRIu64 ": malformed record at byte %zu; "
                         "the rest is ignored",
                         where, at);
            return;
        }
        const char *key = data + i + 1, *end = data + at + record - 1;
        const char *eq = memchr(key, '=', (size_t)(end - key));
        if (eq != NULL)
            pax_record(w, key, (size_t)(eq - key), eq + 1, (size_t)(end - eq - 1), where);
        at += record;
    }
}

/* Reads len bytes of metadata at off into a NUL-terminated buffer. */
static char *read_meta(struct walk *w, uint64_t off, uint64_t len)
{
    char *buf = malloc((size_t)len + 1);
    if (buf == NULL) {
        w->out_of_memory = true;
        return NULL;
    }
    if (w->r->read(w->r->arg, off, buf, (size_t)len) < 0) {
        free(buf);
        archive_warn(w->warn, w->arg, "tar: cannot read %" PRIu64 " bytes at offset %" PRIu64, len,
                     off);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

static bool add_extent(struct walk *w, uint64_t offset, uint64_t length, bool hole)
{
    if (length == 0)
        return true;
    if (w->extent_count > 0) {
        struct archive_extent *last = &w->extents[w->extent_count - 1];
        if (last->hole && hole) {
            last->length += length;
            return true;
        }
        if (!last->hole && !hole && last->offset + last->length == offset) {
            last->length += length;
            return true;
        }
    }
    if (w->extent_count == w->extent_capacity) {
        size_t capacity = w->extent_capacity ? w->extent_capacity * 2 : 8;
        struct archive_extent *grown = realloc(w->extents, capacity * sizeof *grown);
        if (grown == NULL) {
            w->out_of_memory = true;
            return false;
        }
        w->extents = grown;
        w->extent_capacity = capacity;
    }
    w->extents[w->extent_count++] = (struct archive_extent){offset, length, hole};
    return true;
}

/* Turns a sparse map over data_len stored bytes at data into extents of a
 * member realsize long. Returns false (warned) for a map that is out of
 * order, overlaps, reaches past realsize or needs more bytes than stored. */
static bool sparse_extents(struct walk *w, const char *name, const struct sparse_map *m,
                           uint64_t realsize, uint64_t data, uint64_t data_len)
{
    uint64_t at = 0, used = 0;
    for (size_t i = 0; i < m->count; i++) {
        uint64_t off = m->pairs[2 * i], n = m->pairs[2 * i + 1];
        if (off < at || off > realsize || n > realsize - off || n > data_len - used) {
            archive_warn(w->warn, w->arg,
                         "tar: sparse member '%s': map entry %zu (offset %" PRIu64 ", %" PRIu64
                         " bytes) is out of order, past its size %" PRIu64 " or past its %" PRIu64
                         " stored bytes; skipped",
                         name, i, off, n, realsize, data_len);
            return false;
        }
        if (!add_extent(w, 0, off - at, true) || !add_extent(w, data + used, n, false))
            return false;
        used += n;
        at = off + n;
    }
    return add_extent(w, 0, realsize - at, true);
}

/* Sparse 1.0: the map is text at the start of the data ("count\n" then
 * "offset\nsize\n" pairs), padded to a block. Sets *map_len. */
static bool read_map_1_0(struct walk *w, const char *name, uint64_t data, uint64_t stored,
                         uint64_t *map_len)
{
    uint64_t limit = stored < ARCHIVE_MAX_META ? stored : ARCHIVE_MAX_META;
    for (uint64_t have = limit < 4096 ? limit : 4096;; have = have * 2 < limit ? have * 2 : limit) {
        char *text = read_meta(w, data, have);
        if (text == NULL)
            return false;
        struct sparse_map *m = &w->p.map;
        m->values = m->count = 0;
        uint64_t count = 0, n;
        size_t at = 0;
        bool complete = false, bad = false;
        for (uint64_t line = 0; !bad; line++) {
            char *nl = memchr(text + at, '\n', (size_t)have - at);
            if (nl == NULL)
                break;
            if (!parse_decimal(text + at, (size_t)(nl - (text + at)), &n) ||
                (line == 0 && n > ARCHIVE_MAX_EXTENTS)) {
                bad = true;
                break;
            }
            at = (size_t)(nl - text) + 1;
            if (line == 0)
                count = n;
            else if (!map_push(m, n))
                bad = true;
            if (line == 2 * count) {
                complete = true;
                break;
            }
        }
        free(text);
        if (complete) {
            *map_len = padded(at);
            if (*map_len <= stored)
                return true;
            bad = true;
        }
        if (bad || have == limit) {
            archive_warn(
                w->warn, w->arg,
                "tar: sparse member '%s': its sparse map (format 1.0) cannot be read; skipped",
                name);
            return false;
        }
    }
}

/* Old GNU sparse ('S'): up to 4 map entries in the header, more in
 * extension blocks that follow it. Sets *ext_blocks. */
static bool read_map_old(struct walk *w, const unsigned char *h, uint64_t pos, const char *name,
                         uint64_t *ext_blocks)
{
    struct sparse_map *m = &w->p.map;
    m->values = m->count = 0;
    *ext_blocks = 0;
    const unsigned char *entries = h + F_GNU_SPARSE;
    size_t n = GNU_SPARSE_IN_HEADER;
    bool extended = h[F_GNU_EXTENDED] != 0;
    unsigned char block[BLOCK];
    for (;;) {
        for (size_t i = 0; i < n; i++) {
            uint64_t off, len;
            const unsigned char *e = entries + i * SPARSE_ENTRY;
            if (e[0] == '\0')
                break;
            if (!parse_number(e, F_NUM12, &off) || !parse_number(e + F_NUM12, F_NUM12, &len) ||
                !map_push(m, off) || !map_push(m, len)) {
                archive_warn(w->warn, w->arg, "tar: sparse member '%s': bad map entry; skipped",
                             name);
                return false;
            }
        }
        if (!extended)
            return true;
        uint64_t at = pos + BLOCK * (1 + *ext_blocks);
        if (at > w->r->size || w->r->size - at < BLOCK ||
            w->r->read(w->r->arg, at, block, BLOCK) < 0) {
            archive_warn(w->warn, w->arg,
                         "tar: sparse member '%s': its map runs past the end of the archive", name);
            return false;
        }
        (*ext_blocks)++;
        entries = block;
        n = EXT_ENTRIES;
        extended = block[F_EXT_EXTENDED] != 0;
    }
}

/* The member's name: pax path, else GNU long name, else ustar prefix/name. */
static char *header_name(const unsigned char *h)
{
    char *name = field_string(h + F_NAME, F_NAME_LEN);
    bool ustar = memcmp(h + F_MAGIC, "ustar\0", 6) == 0;
    if (name == NULL || !ustar || h[F_PREFIX] == '\0')
        return name;
    char *full = NULL;
    if (asprintf(&full, "%.*s/%s", (int)strnlen((const char *)h + F_PREFIX, F_PREFIX_LEN),
                 (const char *)h + F_PREFIX, name) < 0)
        full = NULL;
    free(name);
    return full;
}

/* Reports one member header at pos (its data at data, stored bytes).
 * Returns 0, or -1 when fn asked to stop. *next is where the next header
 * starts (or the archive's size: stop). */
static int member(struct walk *w, const unsigned char *h, uint64_t pos, uint64_t stored,
                  archive_member_fn *fn, uint64_t *next)
{
    struct pending *p = &w->p;
    char type = (char)h[F_TYPE];
    char *own_name = p->path ? NULL : header_name(h);
    char *own_link = p->link ? NULL : field_string(h + F_LINK, F_LINK_LEN);
    const char *name = p->path ? p->path : own_name;
    const char *link = p->link ? p->link : own_link;
    int res = 0;
    w->extent_count = 0;
    uint64_t data = pos + BLOCK, mode = 0, mtime = 0;
    *next = w->r->size;
    if (name == NULL || link == NULL) {
        w->out_of_memory = true;
        goto done;
    }
    if (p->sparse_name != NULL)
        name = p->sparse_name;
    parse_number(h + F_MODE, F_NUM8, &mode);
    parse_number(h + F_MTIME, F_NUM12, &mtime);
    uint64_t ext_blocks = 0;
    if (type == 'S' && !read_map_old(w, h, pos, name, &ext_blocks))
        goto done;
    data += BLOCK * ext_blocks;
    if (data > w->r->size || stored > w->r->size - data) {
        archive_warn(w->warn, w->arg,
                     "tar: member '%s' at offset %" PRIu64 ": its %" PRIu64
                     " bytes run past the end of the archive (%" PRIu64 " bytes); the walk stops",
                     name, pos, stored, w->r->size);
        goto done;
    }
    uint64_t after = padded(stored);
    *next = after > w->r->size - data ? w->r->size : data + after;

    struct archive_member m = {
        .path = name,
        .link = link,
        .mode = (unsigned)(mode & 07777),
        .mtime_ns = p->has_mtime ? p->mtime_ns : (int64_t)mtime * 1000000000,
    };
    switch (type) {
    case '1':
        m.type = MEMBER_HARDLINK;
        break;
    case '2':
        m.type = MEMBER_SYMLINK;
        break;
    case '5':
    case 'V':
        goto done; /* directories come from the paths; a volume label is no member */
    case '0':
    case '\0':
    case '7':
    case 'S':
        if (type == '\0' && name[0] != '\0' && name[strlen(name) - 1] == '/')
            goto done; /* an old tar's directory */
        m.type = MEMBER_FILE;
        if (type == 'S' || p->sparse_major >= 0) {
            uint64_t realsize = 0, map_len = 0;
            if (type == 'S')
                parse_number(h + F_GNU_REALSIZE, F_NUM12, &realsize);
            else if (p->has_realsize)
                realsize = p->realsize;
            else
                realsize = stored;
            if (p->sparse_major == 1 && !read_map_1_0(w, name, data, stored, &map_len))
                goto done;
            if (!sparse_extents(w, name, &p->map, realsize, data + map_len, stored - map_len))
                goto done;
            m.size = realsize;
        } else {
            add_extent(w, data, stored, false);
            m.size = stored;
        }
        if (w->out_of_memory)
            goto done;
        m.extents = w->extents;
        m.extent_count = w->extent_count;
        break;
    default:
        archive_warn(
            w->warn, w->arg,
            "tar: member '%s': type '%c' (a device, fifo or unknown) is not a file; skipped", name,
            type >= ' ' && type < 127 ? type : '?');
        goto done;
    }
    res = fn(w->arg, &m);
done:
    free(own_name);
    free(own_link);
    pending_clear(p);
    return res;
}

int tar_walk(const struct archive_reader *r, archive_member_fn *fn, archive_warn_fn *warn_fn,
             void *arg)
{
    struct walk w = {.r = r, .warn = warn_fn, .arg = arg};
    pending_clear(&w.p);
    unsigned char h[BLOCK];
    uint64_t pos = 0;
    int res = 0;
    while (res == 0 && !w.out_of_memory) {
        if (pos >= r->size)
            break;
        if (r->size - pos < BLOCK) {
            archive_warn(w.warn, w.arg,
                         "tar: %" PRIu64 " stray bytes at the end (offset %" PRIu64 "); ignored",
                         r->size - pos, pos);
            break;
        }
        if (r->read(r->arg, pos, h, BLOCK) < 0) {
            archive_warn(w.warn, w.arg,
                         "tar: cannot read the header at offset %" PRIu64 "; the walk stops", pos);
            break;
        }
        if (all_zero(h))
            break; /* the end of the archive */
        uint64_t size;
        if (!tar_detect(h) || !parse_number(h + F_SIZE, F_NUM12, &size)) {
            archive_warn(w.warn, w.arg,
                         "tar: damaged header at offset %" PRIu64
                         " (checksum or size); the walk stops",
                         pos);
            break;
        }
        char type = (char)h[F_TYPE];
        uint64_t data = pos + BLOCK;
        if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
            if (size > r->size - data) {
                archive_warn(w.warn, w.arg,
                             "tar: extended header at offset %" PRIu64
                             " runs past the end; the walk "
                             "stops",
                             pos);
                break;
            }
            uint64_t limit = type == 'L' || type == 'K' ? ARCHIVE_MAX_NAME : ARCHIVE_MAX_META;
            char *text = size <= limit && type != 'g' ? read_meta(&w, data, size) : NULL;
            if (size > limit)
                archive_warn(w.warn, w.arg,
                             "tar: extended header at offset %" PRIu64 " is %" PRIu64
                             " bytes long (at most %" PRIu64 "); ignored",
                             pos, size, limit);
            if (text != NULL && type == 'x') {
                pax_records(&w, text, (size_t)size, pos);
                free(text);
            } else if (text != NULL) {
                char **into = type == 'L' ? &w.p.path : &w.p.link;
                free(*into);
                *into = text; /* NUL-terminated at its first NUL */
            }
            uint64_t after = padded(size);
            pos = after > r->size - data ? r->size : data + after;
            continue;
        }
        uint64_t stored = w.p.has_size && type != 'S' ? w.p.size : size;
        uint64_t next;
        if (member(&w, h, pos, stored, fn, &next) < 0)
            res = -1;
        pos = next;
    }
    if (w.out_of_memory) {
        archive_warn(w.warn, w.arg, "tar: out of memory at offset %" PRIu64, pos);
        res = -1;
    }
    pending_clear(&w.p);
    free(w.extents);
    return res;
}
