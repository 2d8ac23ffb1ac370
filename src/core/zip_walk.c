/* zip_walk.c - see zip_walk.h. Every field is read with memcpy and
 * le16toh/le32toh/le64toh; the archive is hostile input. */
#include "slicefs/zip_walk.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum {
    LOCAL_SIG = 0x04034b50,
    CENTRAL_SIG = 0x02014b50,
    EOCD_SIG = 0x06054b50,
    EOCD64_SIG = 0x06064b50,
    LOCATOR_SIG = 0x07064b50,
    LOCAL_LEN = 30,
    CENTRAL_LEN = 46,
    EOCD_LEN = 22,
    EOCD64_LEN = 56,
    LOCATOR_LEN = 20,
    SEARCH = 65535 + EOCD_LEN,
    MAX_LINK = 4096,
};

struct entry {
    char *name;
    uint64_t local, data, size, usize;
    unsigned mode;
    int64_t mtime_ns;
    uint16_t method, flags;
    bool is_link, is_dir, unix_mode, skip, bad_name;
};

struct walk {
    const struct archive_reader *r;
    archive_warn_fn *warn;
    void *arg;
};

static bool read_at(const struct walk *w, uint64_t off, void *buf, size_t len)
{
    return off <= w->r->size && len <= w->r->size - off &&
           w->r->read(w->r->arg, off, buf, len) == 0;
}

/* Where the end-of-central-directory record is: the last signature in the
 * archive's tail whose comment length reaches the end exactly. */
static bool find_eocd(const struct walk *w, uint64_t *at, unsigned char *eocd)
{
    uint64_t size = w->r->size;
    if (size < EOCD_LEN)
        return false;
    size_t tail_len = size < SEARCH ? (size_t)size : SEARCH;
    unsigned char *tail = malloc(tail_len);
    if (tail == NULL || !read_at(w, size - tail_len, tail, tail_len)) {
        free(tail);
        return false;
    }
    for (size_t i = tail_len - EOCD_LEN + 1; i-- > 0;) {
        if (archive_le32(tail + i) == EOCD_SIG &&
            archive_le16(tail + i + 20) == tail_len - i - EOCD_LEN) {
            memcpy(eocd, tail + i, EOCD_LEN);
            *at = size - tail_len + i;
            free(tail);
            return true;
        }
    }
    free(tail);
    return false;
}

bool zip_detect(const struct archive_reader *r)
{
    struct walk w = {r, NULL, NULL};
    unsigned char head[4], eocd[EOCD_LEN];
    uint64_t at;
    return (read_at(&w, 0, head, 4) && archive_le32(head) == LOCAL_SIG) || find_eocd(&w, &at, eocd);
}

/* The central directory's place and entry count, zip64 where the record
 * says so. */
static bool find_directory(const struct walk *w, uint64_t *dir, uint64_t *dir_size, uint64_t *count)
{
    unsigned char eocd[EOCD_LEN], locator[LOCATOR_LEN], eocd64[EOCD64_LEN];
    uint64_t at;
    if (!find_eocd(w, &at, eocd)) {
        archive_warn(w->warn, w->arg, "zip: no end-of-central-directory record");
        return false;
    }
    *count = archive_le16(eocd + 10);
    *dir_size = archive_le32(eocd + 12);
    *dir = archive_le32(eocd + 16);
    bool zip64 = *count == 0xffff || *dir_size == 0xffffffff || *dir == 0xffffffff;
    if (zip64 && at >= LOCATOR_LEN && read_at(w, at - LOCATOR_LEN, locator, LOCATOR_LEN) &&
        archive_le32(locator) == LOCATOR_SIG &&
        read_at(w, archive_le64(locator + 8), eocd64, EOCD64_LEN) &&
        archive_le32(eocd64) == EOCD64_SIG) {
        *count = archive_le64(eocd64 + 32);
        *dir_size = archive_le64(eocd64 + 40);
        *dir = archive_le64(eocd64 + 48);
    }
    if (*dir > w->r->size || *dir_size > w->r->size - *dir) {
        archive_warn(w->warn, w->arg,
                     "zip: the central directory (%" PRIu64 " bytes at offset %" PRIu64
                     ") lies past the end (%" PRIu64 " bytes)",
                     *dir_size, *dir, w->r->size);
        return false;
    }
    /* Each entry takes at least CENTRAL_LEN bytes: no absurd count. */
    if (*count > *dir_size / CENTRAL_LEN) {
        archive_warn(w->warn, w->arg,
                     "zip: %" PRIu64 " entries cannot fit in a central directory of %" PRIu64
                     " bytes; reading what is there",
                     *count, *dir_size);
        *count = *dir_size / CENTRAL_LEN;
    }
    return true;
}

/* Zip64 sizes and offset (extra field 0x0001) and the extended timestamp
 * (0x5455) of a central entry's extra field. */
static void read_extra(const unsigned char *extra, size_t len, struct entry *e, bool need_usize,
                       bool need_size, bool need_local)
{
    for (size_t at = 0; at + 4 <= len;) {
        uint16_t id = archive_le16(extra + at), n = archive_le16(extra + at + 2);
        const unsigned char *p = extra + at + 4;
        if (n > len - at - 4)
            return;
        if (id == 0x0001) {
            size_t k = 0;
            if (need_usize && k + 8 <= n)
                e->usize = archive_le64(p + k), k += 8;
            if (need_size && k + 8 <= n)
                e->size = archive_le64(p + k), k += 8;
            if (need_local && k + 8 <= n)
                e->local = archive_le64(p + k);
        } else if (id == 0x5455 && n >= 5 && (p[0] & 1)) {
            e->mtime_ns = (int64_t)(int32_t)archive_le32(p + 1) * 1000000000;
        }
        at += 4 + (size_t)n;
    }
}

static int64_t dos_time(uint16_t time, uint16_t date)
{
    struct tm tm = {
        .tm_sec = (time & 31) * 2,
        .tm_min = (time >> 5) & 63,
        .tm_hour = time >> 11,
        .tm_mday = date & 31,
        .tm_mon = ((date >> 5) & 15) - 1,
        .tm_year = (date >> 9) + 80,
        .tm_isdst = -1,
    };
    time_t t = mktime(&tm);
    return t == (time_t)-1 ? 0 : (int64_t)t * 1000000000;
}

/* Reads central entry at *at into e and moves *at past it. */
static bool read_central(const struct walk *w, uint64_t *at, uint64_t end, struct entry *e)
{
    unsigned char h[CENTRAL_LEN];
    if (end - *at < CENTRAL_LEN || !read_at(w, *at, h, CENTRAL_LEN) ||
        archive_le32(h) != CENTRAL_SIG)
        return false;
    uint16_t name_len = archive_le16(h + 28), extra_len = archive_le16(h + 30),
             comment_len = archive_le16(h + 32);
    uint64_t total = (uint64_t)CENTRAL_LEN + name_len + extra_len + comment_len;
    if (total > end - *at)
        return false;
    unsigned char *var = malloc((size_t)name_len + extra_len + 1);
    if (var == NULL || !read_at(w, *at + CENTRAL_LEN, var, (size_t)name_len + extra_len)) {
        free(var);
        return false;
    }
    memset(e, 0, sizeof *e);
    e->name = strndup((const char *)var, name_len);
    e->flags = archive_le16(h + 8);
    e->method = archive_le16(h + 10);
    e->size = archive_le32(h + 20);
    e->usize = archive_le32(h + 24);
    e->local = archive_le32(h + 42);
    e->mtime_ns = dos_time(archive_le16(h + 12), archive_le16(h + 14));
    read_extra(var + name_len, extra_len, e, e->usize == 0xffffffff, e->size == 0xffffffff,
               e->local == 0xffffffff);
    bool ends_in_slash = name_len > 0 && var[name_len - 1] == '/';
    /* A name with a NUL in it is no name (the member is skipped). */
    e->bad_name = memchr(var, '\0', name_len) != NULL;
    free(var);
    unsigned host = h[5];
    uint32_t external = archive_le32(h + 38);
    e->unix_mode = host == 3 && (external >> 16) != 0;
    e->mode = e->unix_mode ? (external >> 16) & 07777 : 0644;
    e->is_link = e->unix_mode && S_ISLNK(external >> 16);
    e->is_dir = ends_in_slash || (e->unix_mode && S_ISDIR(external >> 16));
    *at += total;
    return e->name != NULL;
}

/* Finds where e's data starts, from its local header. */
static bool locate_data(const struct walk *w, struct entry *e)
{
    unsigned char h[LOCAL_LEN];
    if (!read_at(w, e->local, h, LOCAL_LEN) || archive_le32(h) != LOCAL_SIG) {
        archive_warn(w->warn, w->arg,
                     "zip: member '%s': no local header at offset %" PRIu64 "; skipped", e->name,
                     e->local);
        return false;
    }
    uint64_t data = e->local + LOCAL_LEN + archive_le16(h + 26) + archive_le16(h + 28);
    if (data > w->r->size || e->size > w->r->size - data) {
        archive_warn(w->warn, w->arg,
                     "zip: member '%s': its %" PRIu64 " bytes at offset %" PRIu64
                     " run past the end of the archive (%" PRIu64 " bytes); skipped",
                     e->name, e->size, data, w->r->size);
        return false;
    }
    e->data = data;
    return true;
}

static int by_data(const void *a, const void *b)
{
    const struct entry *const *ea = a, *const *eb = b;
    return (*ea)->data < (*eb)->data ? -1 : (*ea)->data > (*eb)->data;
}

/* Marks every member whose data overlaps an earlier (lower) one's. */
static bool skip_overlaps(const struct walk *w, struct entry *entries, size_t count)
{
    struct entry **order = malloc((count ? count : 1) * sizeof *order);
    if (order == NULL)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (!entries[i].skip && entries[i].size > 0)
            order[n++] = &entries[i];
    qsort(order, n, sizeof *order, by_data);
    uint64_t end = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && order[i]->data < end) {
            archive_warn(w->warn, w->arg,
                         "zip: member '%s': its data at offset %" PRIu64
                         " overlaps another member's; "
                         "skipped",
                         order[i]->name, order[i]->data);
            order[i]->skip = true;
            continue;
        }
        end = order[i]->data + order[i]->size;
    }
    free(order);
    return true;
}

static bool check_entry(const struct walk *w, struct entry *e)
{
    if (e->is_dir)
        return false;
    if (e->bad_name) {
        archive_warn(w->warn, w->arg, "zip: member '%s...': a NUL byte in its name; skipped",
                     e->name);
        return false;
    }
    if (e->flags & 1) {
        archive_warn(w->warn, w->arg, "zip: member '%s' is encrypted; skipped", e->name);
        return false;
    }
    if (e->method != 0) {
        archive_warn(
            w->warn, w->arg,
            "zip: member '%s' is compressed (method %u), not stored: it cannot be a window; "
            "skipped",
            e->name, e->method);
        return false;
    }
    if (e->size != e->usize) {
        archive_warn(w->warn, w->arg,
                     "zip: member '%s' is stored, but its sizes differ (%" PRIu64 " and %" PRIu64
                     "); skipped",
                     e->name, e->size, e->usize);
        return false;
    }
    if (e->is_link && e->size > MAX_LINK) {
        archive_warn(w->warn, w->arg, "zip: symbolic link '%s' is %" PRIu64 " bytes long; skipped",
                     e->name, e->size);
        return false;
    }
    return locate_data(w, e);
}

static int report(const struct walk *w, const struct entry *e, archive_member_fn *fn)
{
    struct archive_extent extent = {e->data, e->size, false};
    struct archive_member m = {
        .path = e->name,
        .type = MEMBER_FILE,
        .mode = e->mode,
        .mtime_ns = e->mtime_ns,
        .size = e->size,
        .extents = &extent,
        .extent_count = e->size > 0 ? 1 : 0,
    };
    char link[MAX_LINK + 1];
    if (e->is_link) {
        if (!read_at(w, e->data, link, (size_t)e->size) || memchr(link, '\0', (size_t)e->size)) {
            archive_warn(w->warn, w->arg,
                         "zip: symbolic link '%s': its target cannot be read; skipped", e->name);
            return 0;
        }
        link[e->size] = '\0';
        m.type = MEMBER_SYMLINK;
        m.link = link;
        m.extent_count = 0;
        m.size = 0;
    }
    return fn(w->arg, &m);
}

int zip_walk(const struct archive_reader *r, archive_member_fn *fn, archive_warn_fn *warn_fn,
             void *arg)
{
    struct walk w = {r, warn_fn, arg};
    uint64_t dir, dir_size, count;
    if (!find_directory(&w, &dir, &dir_size, &count))
        return 0;
    struct entry *entries = calloc(count ? count : 1, sizeof *entries);
    if (entries == NULL)
        return -1;
    uint64_t at = dir, end = dir + dir_size;
    size_t n = 0;
    int res = 0;
    for (; n < count; n++) {
        if (!read_central(&w, &at, end, &entries[n])) {
            archive_warn(w.warn, w.arg,
                         "zip: central directory entry %zu at offset %" PRIu64
                         " is damaged; the rest is ignored",
                         n + 1, at);
            free(entries[n].name);
            break;
        }
        entries[n].skip = !check_entry(&w, &entries[n]);
    }
    if (!skip_overlaps(&w, entries, n))
        res = -1;
    for (size_t i = 0; i < n && res == 0; i++)
        if (!entries[i].skip)
            res = report(&w, &entries[i], fn);
    for (size_t i = 0; i < n; i++)
        free(entries[i].name);
    free(entries);
    return res;
}
