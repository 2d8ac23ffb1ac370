/* fuzz_table.c - table=FILE on any file contents: source_table reads the
 * input as a window table over a small default backing file, then the path
 * tree is built from what it accepted. Checked on every accepted table:
 * each window lies inside its backing file, its path reads back through
 * table_format_field/table_split_line, the tree finds every window under its
 * path with sorted directories, and `--list` output (window_table_list) read
 * back as a table gives the same windows (SPEC section 2).
 *
 * Sandbox: BACKING fields resolve against the table's folder, a private
 * temporary folder here; inputs that name an absolute BACKING or one with a
 * ".." component are skipped, so the fuzzer opens no file outside it. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fuzz_tmpdir.h"
#include "slicefs/path_tree.h"
#include "slicefs/table_format.h"
#include "slicefs/window_path.h"
#include "slicefs/window_source.h"

#define BACKING_SIZE (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char table_path[PATH_MAX], listing_path[PATH_MAX], backing_path[PATH_MAX];
static int table_fd = -1, listing_fd = -1;

static void setup(void)
{
    if (table_fd >= 0)
        return;
    table_fd = fuzz_tmp_file("table", table_path);
    /* Not in the table's folder, where a BACKING field could name it. */
    listing_fd = memfd_create("slicefs-fuzz-listing", MFD_CLOEXEC);
    if (listing_fd < 0) {
        perror("fuzz_table: memfd_create");
        exit(2);
    }
    snprintf(listing_path, sizeof listing_path, "/proc/self/fd/%d", listing_fd);
    int fd = fuzz_tmp_file("backing", backing_path);
    fuzz_tmp_fill(fd, NULL, 0, BACKING_SIZE);
    close(fd);
}

static void fail(const char *what, const struct window *w)
{
    fprintf(stderr, "fuzz_table: %s (window '%s' at %s)\n", what, w ? w->path : "-",
            w ? w->origin : "-");
    abort();
}

/* Whether a BACKING field keeps to the table's folder. */
static bool backing_stays_inside(const char *field)
{
    if (field[0] == '/')
        return false;
    for (const char *c = field;;) {
        size_t len = strcspn(c, "/");
        if (len == 2 && c[0] == '.' && c[1] == '.')
            return false;
        if (c[len] == '\0')
            return true;
        c += len + 1;
    }
}

/* Splits the input into lines as source_table does and checks every BACKING
 * field (whether or not the reader would get that far). */
static bool input_stays_inside(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (copy == NULL)
        return false;
    memcpy(copy, data, size);
    copy[size] = '\0';
    bool ok = true;
    for (char *line = copy; ok && line < copy + size;) {
        char *end = memchr(line, '\n', (size_t)(copy + size - line));
        char *next = end ? end + 1 : copy + size;
        if (end == NULL)
            end = copy + size;
        *end = '\0';
        if (end > line && end[-1] == '\r')
            end[-1] = '\0';
        char *fields[TABLE_MAX_FIELDS];
        struct sfs_error err;
        if (table_split_line(line, fields, &err) == TABLE_MAX_FIELDS)
            ok = backing_stays_inside(fields[4]);
        line = next;
    }
    free(copy);
    return ok;
}

/* table_format_field then table_split_line gives the field back. */
static void check_escaping(const struct window *w)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (out == NULL)
        abort();
    table_format_field(out, w->path);
    fclose(out);
    char *fields[TABLE_MAX_FIELDS];
    struct sfs_error err;
    if (table_split_line(text, fields, &err) != 1 || strcmp(fields[0], w->path) != 0)
        fail("the escaped path does not read back", w);
    free(text);
}

static void check_windows(const struct window_table *table)
{
    for (size_t i = 0; i < table->count; i++) {
        const struct window *w = &table->windows[i];
        struct sfs_error err;
        if (window_path_check(w->path, &err) < 0)
            fail("an invalid path was accepted", w);
        if (w->mode != WINDOW_MODE_RO && w->mode != WINDOW_MODE_RW && w->mode != WINDOW_MODE_COW)
            fail("the mode was not resolved", w);
        if (table->read_only && w->mode != WINDOW_MODE_RO)
            fail("a window of a read-only table is not ro", w);
        /* Each extent fits in its own backing file (a window of one extent:
         * the window itself). */
        uint32_t extents = w->extent_count > 0 ? w->extent_count : 1;
        for (uint32_t k = 0; k < extents; k++) {
            const struct backing *b = w->extent_count > 0 ? w->extents[k].backing : w->backing;
            uint64_t off = w->extent_count > 0 ? w->extents[k].offset : w->offset;
            uint64_t len = w->extent_count > 0 ? w->extents[k].length : w->length;
            if (w->extent_count > 0 && w->extents[k].hole)
                continue;
            uint64_t size = b->size > b->grow_to ? b->size : b->grow_to;
            if (off > size || len > size - off)
                fail("the window does not fit in its backing file", w);
            if (!table->extend && b->grow_to != 0)
                fail("a backing file would grow without -o extend", w);
        }
        check_escaping(w);
    }
}

/* Every window is found under its path; every directory's children sorted. */
static void check_tree(const struct path_tree *tree, const struct window_table *table)
{
    for (size_t i = 0; i < table->count; i++) {
        const struct window *w = &table->windows[i];
        char *path = strdup(w->path);
        if (path == NULL)
            abort();
        uint64_t ino = PATH_TREE_ROOT_INO;
        char *save = NULL;
        for (char *c = strtok_r(path, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
            ino = path_tree_lookup(tree, ino, c);
            if (ino == 0)
                fail("the tree lost a path component", w);
        }
        free(path);
        struct tree_entry entry;
        if (!path_tree_resolve(tree, ino, &entry) || entry.window != w)
            fail("the tree does not lead to the window", w);
    }
    for (size_t n = 0; n < tree->count; n++) {
        const struct tree_node *dir = &tree->nodes[n];
        for (uint32_t k = 1; k < dir->child_count; k++)
            if (strcmp(tree->nodes[dir->children[k - 1]].name,
                       tree->nodes[dir->children[k]].name) >= 0)
                fail("a directory is not sorted", NULL);
    }
}

/* `slicefs --list` output, read back as a table, gives the same windows. */
static void check_listing(const struct window_table *table, const struct source_context *ctx)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (out == NULL)
        abort();
    window_table_list(table, out);
    fclose(out);
    fuzz_tmp_fill(listing_fd, text, len, len);

    struct window_table again;
    window_table_init(&again, table->read_only);
    struct sfs_error err = {{0}};
    if (source_table.add_windows(listing_path, ctx, &again, &err) < 0) {
        fprintf(stderr, "fuzz_table: the listing does not read back: %s\n--\n%s--\n", err.msg,
                text);
        abort();
    }
    if (again.count != table->count)
        fail("the listing has another number of windows", NULL);
    for (size_t i = 0; i < table->count; i++) {
        const struct window *a = &table->windows[i], *b = &again.windows[i];
        if (strcmp(a->path, b->path) != 0 || a->offset != b->offset || a->length != b->length ||
            a->to_end != b->to_end || a->mode != b->mode || a->truncate != b->truncate ||
            a->backing->dev != b->backing->dev || a->backing->ino != b->backing->ino)
            fail("the listing reads back as another window", a);
    }
    window_table_close(&again);
    free(text);
}

static void run(bool read_only, bool extend)
{
    struct window_table table;
    window_table_init(&table, read_only);
    table.extend = extend;
    struct source_context ctx = {.default_backing = backing_path};
    struct sfs_error err = {{0}};
    if (source_table.add_windows(table_path, &ctx, &table, &err) == 0) {
        check_windows(&table);
        if (!extend)
            check_listing(&table, &ctx);
        struct path_tree tree;
        if (path_tree_build(&tree, &table, &err) == 0) {
            check_tree(&tree, &table);
            path_tree_free(&tree);
        }
    } else if (strncmp(err.msg, table_path, strlen(table_path)) != 0 &&
               strncmp(err.msg, "table=", strlen("table=")) != 0) {
        fprintf(stderr, "fuzz_table: a refusal that names no table line: '%s'\n", err.msg);
        abort();
    }
    window_table_close(&table);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (!input_stays_inside(data, size))
        return -1; /* not added to the corpus */
    fuzz_tmp_fill(table_fd, data, size, size);
    run(false, false);
    run(true, true);
    return 0;
}
