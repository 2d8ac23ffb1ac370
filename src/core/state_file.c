/* state_file.c - see state_file.h. */
#include "slicefs/state_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* The file: header, sections, records. Fields in host byte order; the
 * byte-order mark tells another order apart. */
#define STATE_MAGIC "SLCFSST\0"
#define STATE_VERSION 1
#define BYTE_ORDER_MARK 0x01020304u

struct state_header {
    char magic[8];
    uint32_t version;
    uint32_t byte_order;
    uint32_t header_size;
    uint32_t record_size;
    uint64_t fs, ino;
    uint64_t size;
    int64_t mtime_ns, ctime_ns;
    uint64_t section_count;
    uint64_t record_count;
    uint64_t checksum; /* XXH3-64 of the file with this field 0 */
    uint64_t reserved[5];
};
_Static_assert(sizeof(struct state_header) == 128, "the header is 128 bytes");

struct state_section_entry {
    uint64_t key;
    uint64_t first;
    uint64_t count;
    uint64_t reserved;
};

enum { IO_CHUNK = 1 << 20 };

static size_t records_offset(uint64_t section_count)
{
    return sizeof(struct state_header) + section_count * sizeof(struct state_section_entry);
}

/* XXH3-64 of the open file of length len, its checksum field read as 0.
 * Returns 0 and *out, or a negative errno. */
static int checksum_of(int fd, uint64_t len, uint64_t *out)
{
    XXH3_state_t *state = XXH3_createState();
    unsigned char *buf = malloc(IO_CHUNK);
    int res = state != NULL && buf != NULL ? 0 : -ENOMEM;
    if (res == 0)
        XXH3_64bits_reset(state);
    for (uint64_t pos = 0; res == 0 && pos < len;) {
        size_t want = len - pos < IO_CHUNK ? (size_t)(len - pos) : IO_CHUNK;
        ssize_t got = pread(fd, buf, want, (off_t)pos);
        if (got <= 0) {
            res = got == 0 ? -EIO : -errno;
            break;
        }
        size_t field = offsetof(struct state_header, checksum);
        if (pos <= field && field + 8 <= pos + (uint64_t)got)
            memset(buf + (field - pos), 0, 8);
        XXH3_64bits_update(state, buf, (size_t)got);
        pos += (uint64_t)got;
    }
    if (res == 0)
        *out = XXH3_64bits_digest(state);
    XXH3_freeState(state);
    free(buf);
    return res;
}

/* An old state, checked; fd is -1 when there is none worth using. */
struct old_state {
    int fd;
    struct state_header header;
    struct state_section_entry *sections;
};

static void warn_of(void (*warn)(const char *), const char *path, const char *why)
{
    if (warn == NULL)
        return;
    char message[1024];
    snprintf(message, sizeof message, "state file '%s' %s: not used, it is made anew", path, why);
    warn(message);
}

/* Opens and checks the old state at path. A missing one is no warning. */
static int compare_sections(const void *a, const void *b)
{
    const struct state_section_entry *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* The old section with key (the first of them), or NULL. */
static const struct state_section_entry *find_old_section(const struct old_state *old, uint64_t key)
{
    size_t lo = 0, hi = old->fd >= 0 ? (size_t)old->header.section_count : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (old->sections[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return old->fd >= 0 && lo < old->header.section_count && old->sections[lo].key == key
               ? &old->sections[lo]
               : NULL;
}

static void load_old(struct old_state *old, const char *path, const struct file_identity *id,
                     void (*warn)(const char *))
{
    memset(old, 0, sizeof *old);
    old->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (old->fd < 0) {
        if (errno != ENOENT)
            warn_of(warn, path, strerror(errno));
        return;
    }
    struct stat st;
    char why[256] = "";
    struct state_header *h = &old->header;
    if (fstat(old->fd, &st) < 0 || pread(old->fd, h, sizeof *h, 0) != (ssize_t)sizeof *h) {
        snprintf(why, sizeof why, "is too short to be a state file (%lld bytes)",
                 (long long)st.st_size);
    } else if (memcmp(h->magic, STATE_MAGIC, sizeof h->magic) != 0) {
        snprintf(why, sizeof why, "is not a slicefs state file");
    } else if (h->byte_order != BYTE_ORDER_MARK || h->version != STATE_VERSION ||
               h->header_size != sizeof *h || h->record_size != sizeof(struct window_record)) {
        snprintf(why, sizeof why, "has another version (%u) or byte order", h->version);
    } else if (h->fs != id->fs || h->ino != id->ino) {
        snprintf(why, sizeof why, "belongs to another backing file (fs %llx, inode %llu)",
                 (unsigned long long)h->fs, (unsigned long long)h->ino);
    } else if (h->section_count > (uint64_t)st.st_size / sizeof(struct state_section_entry) ||
               h->record_count > (uint64_t)st.st_size / sizeof(struct window_record) ||
               (uint64_t)st.st_size != records_offset(h->section_count) +
                                           h->record_count * sizeof(struct window_record)) {
        snprintf(why, sizeof why, "is truncated or has junk at its end (%lld bytes)",
                 (long long)st.st_size);
    } else {
        uint64_t sum;
        int res = checksum_of(old->fd, (uint64_t)st.st_size, &sum);
        if (res < 0)
            snprintf(why, sizeof why, "cannot be read: %s", strerror(-res));
        else if (sum != h->checksum)
            snprintf(why, sizeof why, "is corrupt (checksum %016llx, expected %016llx)",
                     (unsigned long long)sum, (unsigned long long)h->checksum);
    }
    if (why[0] == '\0') {
        size_t bytes = (size_t)h->section_count * sizeof *old->sections;
        old->sections = malloc(bytes ? bytes : 1);
        if (old->sections == NULL ||
            pread(old->fd, old->sections, bytes, sizeof *h) != (ssize_t)bytes)
            snprintf(why, sizeof why, "cannot be read");
    }
    /* Every section must lie inside the records. */
    for (uint64_t i = 0; why[0] == '\0' && i < h->section_count; i++) {
        const struct state_section_entry *e = &old->sections[i];
        if (e->first > h->record_count || e->count > h->record_count - e->first)
            snprintf(why, sizeof why, "has a section past its records");
    }
    /* Sorted by key, for the look-up of each new section (a mount of
     * 100,000 windows would otherwise compare every pair). */
    if (why[0] == '\0' && h->section_count > 1)
        qsort(old->sections, (size_t)h->section_count, sizeof *old->sections, compare_sections);
    if (why[0] != '\0') {
        warn_of(warn, path, why);
        close(old->fd);
        free(old->sections);
        old->sections = NULL;
        old->fd = -1;
    }
}

/* Copies count records from record first of the old state into record
 * first_new of the new file (by the kernel: nothing is mapped or read into
 * memory). Returns 0 or a negative errno. */
static int copy_records(const struct old_state *old, int fd, uint64_t first, uint64_t first_new,
                        uint64_t count, uint64_t new_section_count)
{
    loff_t in =
        (loff_t)(records_offset(old->header.section_count) + first * sizeof(struct window_record));
    loff_t out =
        (loff_t)(records_offset(new_section_count) + first_new * sizeof(struct window_record));
    uint64_t left = count * sizeof(struct window_record);
    while (left > 0) {
        ssize_t n = copy_file_range(old->fd, &in, fd, &out, left < (1u << 30) ? left : 1u << 30, 0);
        if (n <= 0)
            return n == 0 ? -EIO : -errno;
        left -= (uint64_t)n;
    }
    return 0;
}

/* Removes PATH.tmp.PID files of processes that are gone. */
static void remove_leftovers(const char *path)
{
    char *copy = strdup(path), *copy2 = strdup(path);
    if (copy == NULL || copy2 == NULL)
        goto out;
    const char *dir = dirname(copy), *base = basename(copy2);
    DIR *d = opendir(dir);
    if (d == NULL)
        goto out;
    size_t base_len = strlen(base);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, base, base_len) != 0 || strncmp(e->d_name + base_len, ".tmp.", 5))
            continue;
        char *end;
        long pid = strtol(e->d_name + base_len + 5, &end, 10);
        if (*end != '\0' || pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue;
        unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
out:
    free(copy);
    free(copy2);
}

static void fill_header(struct state_header *h, const struct file_identity *id,
                        const struct state_stamp *stamp, uint64_t section_count,
                        uint64_t record_count)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, STATE_MAGIC, sizeof h->magic);
    h->version = STATE_VERSION;
    h->byte_order = BYTE_ORDER_MARK;
    h->header_size = sizeof *h;
    h->record_size = sizeof(struct window_record);
    h->fs = id->fs;
    h->ino = id->ino;
    if (stamp != NULL) {
        h->size = stamp->size;
        h->mtime_ns = stamp->mtime_ns;
        h->ctime_ns = stamp->ctime_ns;
    }
    h->section_count = section_count;
    h->record_count = record_count;
}

int state_file_open(struct state_file *sf, const char *path, const struct file_identity *id,
                    const struct state_stamp *stamp_now, struct state_section *sections,
                    size_t section_count, void (*warn)(const char *message), struct sfs_error *err)
{
    memset(sf, 0, sizeof *sf);
    sf->fd = -1;
    sf->id = *id;
    uint64_t records = 0;
    for (size_t i = 0; i < section_count; i++) {
        sections[i].first = records;
        if (sections[i].count > UINT64_MAX / 128 - records)
            return sfs_error_set(err, "state file '%s': too many windows", path);
        records += sections[i].count;
    }
    remove_leftovers(path);
    struct old_state old;
    load_old(&old, path, id, warn);

    sf->path = strdup(path);
    if (sf->path == NULL || asprintf(&sf->temp_path, "%s.tmp.%ld", path, (long)getpid()) < 0) {
        sf->temp_path = NULL;
        sfs_error_set(err, "out of memory");
        goto fail;
    }
    unlink(sf->temp_path); /* our own pid's: a leftover of a reused pid */
    sf->fd = open(sf->temp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    size_t offset = records_offset(section_count);
    uint64_t bytes = offset + records * sizeof(struct window_record);
    if (sf->fd < 0 || ftruncate(sf->fd, (off_t)bytes) < 0) {
        sfs_error_set(err, "state file '%s': %s", sf->temp_path, strerror(errno));
        goto fail;
    }
    /* The header stays zero (not a state) until state_file_commit. The
     * section entries go in one write; the records of the sections an old
     * state knew are copied in runs (consecutive sections of one mount
     * are consecutive in both files). */
    struct state_section_entry *entries =
        calloc(section_count ? section_count : 1, sizeof *entries);
    if (entries == NULL) {
        sfs_error_set(err, "out of memory");
        goto fail;
    }
    uint64_t run_old = 0, run_new = 0, run_count = 0;
    int res = 0;
    sf->all_copied = old.fd >= 0;
    for (size_t i = 0; i < section_count && res == 0; i++) {
        entries[i] =
            (struct state_section_entry){sections[i].key, sections[i].first, sections[i].count, 0};
        const struct state_section_entry *o = find_old_section(&old, sections[i].key);
        sf->all_copied &= o != NULL && o->count >= sections[i].count;
        if (o == NULL)
            continue;
        uint64_t n = o->count < sections[i].count ? o->count : sections[i].count;
        if (run_count > 0 && o->first == run_old + run_count &&
            sections[i].first == run_new + run_count) {
            run_count += n;
            continue;
        }
        if (run_count > 0)
            res = copy_records(&old, sf->fd, run_old, run_new, run_count, section_count);
        run_old = o->first;
        run_new = sections[i].first;
        run_count = n;
    }
    if (res == 0 && run_count > 0)
        res = copy_records(&old, sf->fd, run_old, run_new, run_count, section_count);
    if (res < 0) {
        free(entries);
        sfs_error_set(err, "state file '%s': copying records: %s", sf->temp_path, strerror(-res));
        goto fail;
    }
    size_t entry_bytes = section_count * sizeof *entries, written = 0;
    while (written < entry_bytes) {
        ssize_t n = pwrite(sf->fd, (const char *)entries + written, entry_bytes - written,
                           (off_t)(sizeof(struct state_header) + written));
        if (n <= 0)
            break;
        written += (size_t)n;
    }
    free(entries);
    if (written < entry_bytes) {
        sfs_error_set(err, "state file '%s': %s", sf->temp_path, strerror(errno ? errno : EIO));
        goto fail;
    }
    sf->stamp_matches = old.fd >= 0 && old.header.size == stamp_now->size &&
                        old.header.mtime_ns == stamp_now->mtime_ns &&
                        old.header.ctime_ns == stamp_now->ctime_ns;
    sf->record_count = records;
    sf->section_count = section_count;
    sf->map_len = (size_t)bytes;
    sf->map = mmap(NULL, sf->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, sf->fd, 0);
    if (sf->map == MAP_FAILED) {
        sf->map = NULL;
        sfs_error_set(err, "state file '%s': cannot map %zu bytes: %s", sf->temp_path, sf->map_len,
                      strerror(errno));
        goto fail;
    }
    sf->records = (struct window_record *)(sf->map + offset);
    if (old.fd >= 0)
        close(old.fd);
    free(old.sections);
    return 0;

fail:
    if (old.fd >= 0)
        close(old.fd);
    free(old.sections);
    state_file_abandon(sf);
    return -1;
}

static void release(struct state_file *sf)
{
    if (sf->map != NULL)
        munmap(sf->map, sf->map_len);
    if (sf->fd >= 0)
        close(sf->fd);
    free(sf->path);
    free(sf->temp_path);
    memset(sf, 0, sizeof *sf);
    sf->fd = -1;
}

void state_file_abandon(struct state_file *sf)
{
    if (sf->temp_path != NULL && sf->fd >= 0)
        unlink(sf->temp_path);
    release(sf);
}

int state_file_commit(struct state_file *sf, const struct state_stamp *stamp, struct sfs_error *err)
{
    struct state_header h;
    fill_header(&h, &sf->id, stamp, sf->section_count, sf->record_count);
    int res = 0;
    if (sf->map == NULL)
        res = -EBADF;
    else if (msync(sf->map, sf->map_len, MS_SYNC) < 0)
        res = -errno;
    if (res == 0 && pwrite(sf->fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
        res = -errno;
    if (res == 0)
        res = checksum_of(sf->fd, sf->map_len, &h.checksum);
    if (res == 0 && pwrite(sf->fd, &h.checksum, sizeof h.checksum,
                           (off_t)offsetof(struct state_header, checksum)) != sizeof h.checksum)
        res = -errno;
    if (res == 0 && fsync(sf->fd) < 0)
        res = -errno;
    if (res == 0 && rename(sf->temp_path, sf->path) < 0)
        res = -errno;
    if (res < 0) {
        sfs_error_set(err, "state file '%s': %s", sf->temp_path, strerror(-res));
        state_file_abandon(sf);
        return -1;
    }
    /* The rename is durable once the folder is. */
    char *copy = strdup(sf->path);
    int dir = copy != NULL ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dir >= 0) {
        fsync(dir);
        close(dir);
    }
    free(copy);
    release(sf);
    return 0;
}

char *state_file_default_dir(void)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char *dir = NULL;
    if (xdg != NULL && xdg[0] == '/')
        return asprintf(&dir, "%s/slicefs", xdg) < 0 ? NULL : dir;
    if (home != NULL && home[0] == '/')
        return asprintf(&dir, "%s/.local/state/slicefs", home) < 0 ? NULL : dir;
    return getuid() == 0 ? strdup("/var/lib/slicefs") : NULL;
}

char *state_file_name(const char *dir, const struct file_identity *id)
{
    char *name = NULL;
    if (asprintf(&name, "%s/%016llx-%llu.state", dir, (unsigned long long)id->fs,
                 (unsigned long long)id->ino) < 0)
        return NULL;
    return name;
}
