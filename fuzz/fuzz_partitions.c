/* fuzz_partitions.c - layout=partitions on any disk image: the input is the
 * start of the image, which is padded with zeros to 4 MiB less the input's
 * length modulo 512 (so that images also end mid-sector), or cut to that.
 * Whatever libblkid makes of it, source_partitions_add must only add
 * windows that lie inside the image, are not empty and do not overlap
 * (SPEC section 5: a hostile table gives an error or a skipped entry). */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_tmpdir.h"
#include "slicefs/path_tree.h"
#include "slicefs/window_source.h"

#define IMAGE_MAX (4u * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char image_path[PATH_MAX];
static int image_fd = -1;

/* libblkid is not instrumented, so libFuzzer sees little of what a new table
 * does there. A branch per kind of warning (and libFuzzer's hit counts per
 * branch) turns each outcome into coverage it can steer towards. */
static volatile unsigned warning_kinds;

static void classify_warning(const char *message)
{
    if (strstr(message, "overlaps") != NULL)
        warning_kinds |= 1;
    else if (strstr(message, "runs past the end") != NULL)
        warning_kinds |= 2;
    else if (strstr(message, "is empty") != NULL)
        warning_kinds |= 4;
    else if (strstr(message, "negative") != NULL)
        warning_kinds |= 8;
    else if (strstr(message, "no partition table") != NULL)
        warning_kinds |= 16;
    else
        warning_kinds |= 32;
}

static int compare_offsets(const void *a, const void *b)
{
    const struct window *wa = *(const struct window *const *)a;
    const struct window *wb = *(const struct window *const *)b;
    return wa->offset < wb->offset ? -1 : wa->offset > wb->offset;
}

static void fail(const char *what, const struct window *w, uint64_t image_size)
{
    fprintf(stderr,
            "fuzz_partitions: %s: window '%s' bytes %" PRIu64 "+%" PRIu64 " in an image of %" PRIu64
            " bytes\n",
            what, w->path, w->offset, w->length, image_size);
    abort();
}

static void check_windows(const struct window_table *table, uint64_t image_size)
{
    const struct window **sorted = malloc((table->count + 1) * sizeof *sorted);
    if (sorted == NULL)
        abort();
    for (size_t i = 0; i < table->count; i++) {
        const struct window *w = &table->windows[i];
        if (w->offset > image_size || w->length > image_size - w->offset)
            fail("a window runs past the end of the image", w, image_size);
        if (w->length == 0)
            fail("an empty window", w, image_size);
        if (w->offset % 512 != 0 || w->length % 512 != 0)
            fail("a window that is not whole sectors", w, image_size);
        sorted[i] = w;
    }
    qsort(sorted, table->count, sizeof *sorted, compare_offsets);
    for (size_t i = 1; i < table->count; i++)
        if (sorted[i]->offset < sorted[i - 1]->offset + sorted[i - 1]->length)
            fail("two windows overlap", sorted[i], image_size);
    free(sorted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (image_fd < 0)
        image_fd = fuzz_tmp_file("disk.img", image_path);
    size_t image_size = IMAGE_MAX - size % 512;
    fuzz_tmp_fill(image_fd, data, size, image_size);

    struct window_table table;
    window_table_init(&table, false);
    struct source_context ctx = {.default_backing = image_path, .warn = classify_warning};
    struct sfs_error err = {{0}};
    int res = source_partitions_add("layout=partitions", &ctx, &table, &err);
    check_windows(&table, image_size);
    if (res == 0) {
        struct path_tree tree;
        if (path_tree_build(&tree, &table, &err) == 0)
            path_tree_free(&tree);
    } else if (strncmp(err.msg, "layout=partitions: ", strlen("layout=partitions: ")) != 0) {
        fprintf(stderr, "fuzz_partitions: a refusal that names no option: '%s'\n", err.msg);
        abort();
    }
    window_table_close(&table);
    return 0;
}
