/* fuzz_archive.c - the archive parsers (tar, zip, ISO 9660) on any bytes: the input
 * is the archive. Every member reported must be served from inside the archive:
 * each data extent inside it, the extents adding up to the member's size,
 * a path and (for links) a target that are strings; the walk must end.
 * (SPEC section 5: a hostile archive gives warnings and skipped members.) */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/iso_walk.h"
#include "slicefs/tar_walk.h"
#include "slicefs/zip_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    const uint8_t *data;
    size_t size;
};

static int read_input(void *arg, uint64_t off, void *buf, size_t len)
{
    const struct input *in = arg;
    if (off > in->size || len > in->size - off)
        return -1;
    memcpy(buf, in->data + off, len);
    return 0;
}

static struct input input;

static int check_member(void *arg, const struct archive_member *m)
{
    (void)arg;
    uint64_t total = 0;
    if (strlen(m->path) > 1u << 20 || (m->link != NULL && strlen(m->link) > 1u << 20))
        abort();
    for (size_t i = 0; i < m->extent_count; i++) {
        const struct archive_extent *e = &m->extents[i];
        if (!e->hole && (e->offset > input.size || e->length > input.size - e->offset)) {
            fprintf(stderr,
                    "fuzz_archive: '%s' extent %zu at %" PRIu64 "+%" PRIu64 " outside %zu bytes\n",
                    m->path, i, e->offset, e->length, input.size);
            abort();
        }
        if (e->length > UINT64_MAX - total)
            abort();
        total += e->length;
    }
    if (m->type == MEMBER_FILE && total != m->size) {
        fprintf(stderr, "fuzz_archive: '%s' extents add up to %" PRIu64 ", size %" PRIu64 "\n",
                m->path, total, m->size);
        abort();
    }
    return 0;
}

static void ignore(void *arg, const char *message)
{
    (void)arg, (void)message;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input = (struct input){data, size};
    struct archive_reader r = {read_input, &input, size};
    tar_walk(&r, check_member, ignore, NULL);
    if (zip_detect(&r))
        zip_walk(&r, check_member, ignore, NULL);
    if (iso_detect(&r))
        iso_walk(&r, check_member, ignore, NULL);
    return 0;
}
