/* source_partitions.c - layout=partitions: one window per partition, as
 * util-linux's libblkid reads the table (MBR with extended and logical
 * partitions, GPT, BSD, ...). What the library returns is still checked as
 * untrusted: an entry that is empty, runs past the end of the backing file
 * or overlaps an earlier one gives a warning and is skipped. */
#include <blkid/blkid.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/window_source.h"

struct partition {
    int number;
    uint64_t offset; /* bytes */
    uint64_t length; /* bytes */
};

static int compare_offsets(const void *a, const void *b)
{
    const struct partition *pa = a, *pb = b;
    return pa->offset < pb->offset ? -1 : pa->offset > pb->offset;
}

/* Probes the open backing file b with the given logical sector size (0:
 * the library's default). Returns the number of acceptable partitions
 * stored in *out (malloc'd), or -1 with a message; *entries is the number
 * of entries the table had (0: no partition table found at this sector
 * size). */
static int probe(const struct backing *b, unsigned sector_size, const char *origin,
                 const struct source_context *ctx, struct partition **out, int *entries_out,
                 struct sfs_error *err)
{
    const char *path = b->path;
    uint64_t file_size = b->size;
    *out = NULL;
    *entries_out = 0;
    /* The descriptor every window uses: the file is never opened by name
     * again, so the table read is the one of the file the windows map. */
    blkid_probe pr = blkid_new_probe();
    if (pr == NULL || blkid_probe_set_device(pr, b->fd, 0, 0) != 0) {
        blkid_free_probe(pr);
        return sfs_error_set(err, "%s: cannot read the partition table of '%s'", origin, path);
    }
    if (sector_size != 0 && blkid_probe_set_sectorsize(pr, sector_size) != 0) {
        blkid_free_probe(pr);
        return sfs_error_set(err, "%s: sector size %u refused", origin, sector_size);
    }
    blkid_probe_enable_superblocks(pr, 0);
    blkid_probe_enable_partitions(pr, 1);
    blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
    int count = 0;
    blkid_partlist list = NULL;
    if (blkid_do_fullprobe(pr) == 0)
        list = blkid_probe_get_partitions(pr);
    int entries = list ? blkid_partlist_numof_partitions(list) : 0;
    *entries_out = entries;
    struct partition *parts = entries > 0 ? calloc((size_t)entries, sizeof *parts) : NULL;
    if (entries > 0 && parts == NULL) {
        blkid_free_probe(pr);
        return sfs_error_set(err, "%s: out of memory", origin);
    }
    for (int i = 0; i < entries; i++) {
        blkid_partition par = blkid_partlist_get_partition(list, i);
        if (par == NULL || blkid_partition_is_extended(par))
            continue; /* a container of logical partitions, not a window */
        int number = blkid_partition_get_partno(par);
        blkid_loff_t start = blkid_partition_get_start(par); /* 512-byte sectors */
        blkid_loff_t size = blkid_partition_get_size(par);
        if (number <= 0 || start < 0 || size < 0) {
            source_warn(ctx, origin, "entry %d has a negative start, size or number; skipped", i);
            continue;
        }
        uint64_t s = (uint64_t)start, n = (uint64_t)size;
        if (n == 0) {
            source_warn(ctx, origin, "p%d is empty (start sector %" PRIu64 ", 0 sectors); skipped",
                        number, s);
            continue;
        }
        if (s > file_size / 512 || n > file_size / 512 - s) {
            source_warn(ctx, origin,
                        "p%d (sectors %" PRIu64 "+%" PRIu64 ") runs past the end of '%s' (%" PRIu64
                        " sectors); skipped",
                        number, s, n, path, file_size / 512);
            continue;
        }
        parts[count++] = (struct partition){number, s * 512, n * 512};
    }
    blkid_free_probe(pr);
    *out = parts;
    return count;
}

int source_partitions_add(const char *origin, const struct source_context *ctx,
                          struct window_table *table, struct sfs_error *err)
{
    const char *path = ctx->default_backing;
    if (path == NULL)
        return sfs_error_set(err, "%s: BACKING: no backing file given", origin);
    /* Opened the way every window will use it, for its size and a clear
     * error; the windows below are added on this same backing file. */
    struct backing *b = window_table_backing(table, path, err);
    if (b == NULL)
        return sfs_error_prefix(err, "%s", origin);

    struct partition *parts = NULL;
    int count, entries;
    if (ctx->sector_size != 0) {
        count = probe(b, ctx->sector_size, origin, ctx, &parts, &entries, err);
    } else {
        /* Where the table says: a 512-byte-sector table is found at 512;
         * a 4096-byte-sector GPT only when probed with 4096. */
        count = probe(b, 0, origin, ctx, &parts, &entries, err);
        if (count == 0 && entries == 0) {
            free(parts);
            count = probe(b, 4096, origin, ctx, &parts, &entries, err);
        }
    }
    if (count < 0)
        return -1;
    if (entries == 0) {
        source_warn(ctx, origin, "no partition table found in '%s'", path);
        sfs_error_set(ctx->found_nothing, "%s: no partition table found in '%s'", origin, path);
    }

    int res = 0;
    if (count > 1)
        qsort(parts, (size_t)count, sizeof *parts, compare_offsets);
    uint64_t end_of_previous = 0;
    for (int i = 0; i < count && res == 0; i++) {
        const struct partition *p = &parts[i];
        if (i > 0 && p->offset < end_of_previous) {
            source_warn(ctx, origin,
                        "p%d (bytes %" PRIu64 "+%" PRIu64 ") overlaps another partition; "
                        "skipped",
                        p->number, p->offset, p->length);
            continue;
        }
        end_of_previous = p->offset + p->length;
        char name[16], offset[24], length[24];
        snprintf(name, sizeof name, "p%d", p->number);
        snprintf(offset, sizeof offset, "%" PRIu64, p->offset);
        snprintf(length, sizeof length, "%" PRIu64, p->length);
        struct window_spec spec;
        res = window_spec_from_fields(name, offset, length, NULL, NULL, origin, &spec, err);
        if (res == 0) {
            res = window_table_add_on(table, &spec, b, err);
            window_spec_free(&spec);
        }
    }
    free(parts);
    return res;
}
