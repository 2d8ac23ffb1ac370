/* test_window_set.c - a live mount's windows, changed by plans.
 *
 * A 4 MiB backing file, mapped, with windows "a" (rw, first MiB), "d/b"
 * (ro, second MiB) and "c" (cow, third MiB), and a second 1 MiB file.
 * Covers: a set copies the windows and shares the backing files; a plan to
 * add checks the spec as at mount (past the end, a duplicate path, a path
 * under a window) and against the mappings the mount made (a rw window of a
 * file mapped read-only, a cow window of a file mapped without a private
 * copy), opens and maps a new backing file and closes it again when the
 * plan is discarded; remove and resize name what a path is instead of a
 * window (missing, folder, chunk, several extents) and keep the table's
 * order; reload adopts the files the mount holds and settles "end" against
 * them; holds keep a set until the last is dropped; the list frees sets
 * that handles still hold; the inode number of a window added again
 * differs from the removed one's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit_fixture.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slicefs/window_set.h"

#define MiB (1024 * 1024)

struct fixture {
    char dir[256];
    char disk[300];
    char other[300];
    struct window_table table; /* the mount's: owns the backing files */
    struct window_set_list list;
    struct window_set *live;
};

static int make_file(const char *path, size_t size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
        return -1;
    return close(fd);
}

static void add(struct window_table *table, const char *path, const char *offset,
                const char *length, const char *mode, const char *backing)
{
    struct window_spec spec;
    struct sfs_error err = {{0}};
    if (window_spec_from_fields(path, offset, length, mode, NULL, path, &spec, &err) < 0 ||
        window_table_add(table, &spec, backing, &err) != 0)
        fail_msg("window %s: %s", path, err.msg);
    window_spec_free(&spec);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL || unit_temp_dir(f->dir, sizeof f->dir) != 0)
        return -1;
    snprintf(f->disk, sizeof f->disk, "%s/disk.img", f->dir);
    snprintf(f->other, sizeof f->other, "%s/other.img", f->dir);
    if (make_file(f->disk, 4 * MiB) < 0 || make_file(f->other, MiB) < 0)
        return -1;
    struct sfs_error err = {{0}};
    window_table_init(&f->table, false);
    add(&f->table, "a", "0", "1M", "rw", f->disk);
    add(&f->table, "d/b", "1M", "1M", "ro", f->disk);
    add(&f->table, "c", "2M", "1M", "cow", f->disk);
    if (window_table_map(&f->table, &err) < 0)
        fail_msg("map: %s", err.msg);
    struct window_table copy;
    window_set_list_init(&f->list);
    if (window_table_copy(&copy, &f->table, &err) < 0 || window_set_make(&f->live, &copy, &err) < 0)
        fail_msg("set: %s", err.msg);
    window_set_publish(&f->list, f->live);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    /* Backing files a plan opened and a published set kept: the mount's. */
    for (size_t i = f->table.backing_count; i < f->live->table.backing_count; i++) {
        backing_close(f->live->table.backings[i]);
        free(f->live->table.backings[i]);
    }
    window_set_list_free(&f->list);
    window_table_close(&f->table);
    int res = unit_remove_tree(f->dir);
    free(f);
    return res;
}

/* Publishes plan as the live set (what control.c does, without RCU). */
static void publish(struct fixture *f, struct window_table *plan)
{
    struct window_set *next;
    struct sfs_error err = {{0}};
    if (window_set_make(&next, plan, &err) < 0)
        fail_msg("make: %s", err.msg);
    window_set_publish(&f->list, next);
    window_set_drop(f->live);
    f->live = next;
}

static struct window_spec spec_of(const char *text)
{
    struct window_spec spec;
    struct sfs_error err = {{0}};
    if (window_spec_parse(text, "test", &spec, &err) < 0)
        fail_msg("%s: %s", text, err.msg);
    return spec;
}

/* plan_add of text (in backing, NULL: the disk) must be refused with a
 * message containing want; the live set stays as it was. */
static void add_refused(struct fixture *f, const char *text, const char *backing, const char *want)
{
    struct window_spec spec = spec_of(text);
    if (backing != NULL)
        spec.backing_path = strdup(backing);
    struct window_table plan;
    struct sfs_error err = {{0}};
    size_t count = f->live->table.count;
    int res = window_set_plan_add(f->live, &spec, f->disk, &plan, &err);
    if (res == 0) { /* a duplicate path is found when the set is made */
        struct window_set *next;
        res = window_set_make(&next, &plan, &err);
        if (res == 0)
            fail_msg("%s was not refused", text);
        window_set_discard_plan(f->live, &plan);
    }
    window_spec_free(&spec);
    if (strstr(err.msg, want) == NULL)
        fail_msg("%s: '%s' does not say '%s'", text, err.msg, want);
    assert_int_equal(f->live->table.count, count);
}

static void copies_share_backing_files(void **state)
{
    struct fixture *f = *state;
    const struct window_table *t = &f->live->table;
    assert_int_equal(t->count, 3);
    assert_int_equal(t->backing_count, 1);
    assert_ptr_equal(t->backings[0], f->table.backings[0]);
    assert_ptr_not_equal(t->windows[0].path, f->table.windows[0].path);
    assert_string_equal(t->windows[1].path, "d/b");
    assert_true(window_same_geometry(&t->windows[2], &f->table.windows[2]));
    assert_false(window_same_geometry(&t->windows[1], &f->table.windows[2]));
}

static void add_checks_like_a_mount(void **state)
{
    struct fixture *f = *state;
    add_refused(f, "x:3M:2M", NULL, "LENGTH");
    add_refused(f, "x:5M:1", NULL, "OFFSET");
    add_refused(f, "a:0:1", NULL, "declared twice");
    add_refused(f, "a/x:0:1", NULL, "a");
    /* The disk has a writable mapping ("a" is rw) and a private copy ("c"
     * is cow): a cow window of it is fine too. */
    struct window_spec spec = spec_of("e:3M:4096:cow");
    struct window_table plan;
    struct sfs_error err = {{0}};
    assert_int_equal(window_set_plan_add(f->live, &spec, f->disk, &plan, &err), 0);
    window_spec_free(&spec);
    publish(f, &plan);
    assert_int_equal(f->live->table.count, 4);
}

static void a_read_only_mapping_refuses_rw(void **state)
{
    struct fixture *f = *state;
    struct sfs_error err = {{0}};
    /* A new file, mapped by the plan as its windows need: ro. */
    struct window_spec spec = spec_of("o1:0:4096:ro");
    spec.backing_path = strdup(f->other);
    struct window_table plan;
    assert_int_equal(window_set_plan_add(f->live, &spec, f->disk, &plan, &err), 0);
    window_spec_free(&spec);
    assert_int_equal(plan.backing_count, 2);
    publish(f, &plan);
    /* Now a rw window of it would need a writable mapping: refused. */
    add_refused(f, "o2:0:4096:rw", f->other, "MODE");
    add_refused(f, "o2:0:4096:cow", f->other, "MODE");
    assert_int_equal(f->live->table.backing_count, 2);
}

static void a_discarded_plan_closes_its_files(void **state)
{
    struct fixture *f = *state;
    struct sfs_error err = {{0}};
    struct window_spec spec = spec_of("o1:0:4096");
    spec.backing_path = strdup(f->other);
    struct window_table plan;
    assert_int_equal(window_set_plan_add(f->live, &spec, f->disk, &plan, &err), 0);
    window_spec_free(&spec);
    struct backing *opened = plan.backings[1];
    assert_true(opened->fd >= 0);
    assert_non_null(opened->shared_map);
    window_set_discard_plan(f->live, &plan);
    assert_int_equal(f->live->table.backing_count, 1); /* never seen live */
}

static void remove_and_resize_say_what_a_path_is(void **state)
{
    struct fixture *f = *state;
    struct window_table plan;
    struct sfs_error err = {{0}};
    assert_int_equal(window_set_plan_remove(f->live, "nope", "remove", &plan, &err), -1);
    assert_non_null(strstr(err.msg, "no window 'nope'"));
    assert_int_equal(window_set_plan_remove(f->live, "d", "remove", &plan, &err), -1);
    assert_non_null(strstr(err.msg, "folder"));
    assert_int_equal(window_set_plan_resize(f->live, "d", "1", "resize", &plan, &err), -1);
    assert_non_null(strstr(err.msg, "folder"));
    assert_int_equal(window_set_plan_resize(f->live, "a", "5M", "resize", &plan, &err), -1);
    assert_non_null(strstr(err.msg, "LENGTH"));
    assert_int_equal(window_set_plan_resize(f->live, "a", "x", "resize", &plan, &err), -1);
    assert_non_null(strstr(err.msg, "LENGTH"));

    /* Resized in its place, with its mode; removed, the others keep order. */
    assert_int_equal(window_set_plan_resize(f->live, "d/b", "8192", "resize", &plan, &err), 0);
    publish(f, &plan);
    const struct window_table *t = &f->live->table;
    assert_string_equal(t->windows[1].path, "d/b");
    assert_int_equal(t->windows[1].length, 8192);
    assert_int_equal(t->windows[1].offset, MiB);
    assert_int_equal(t->windows[1].mode, WINDOW_MODE_RO);
    assert_int_equal(window_set_plan_remove(f->live, "a", "remove", &plan, &err), 0);
    publish(f, &plan);
    t = &f->live->table;
    assert_int_equal(t->count, 2);
    assert_string_equal(t->windows[0].path, "d/b");
    assert_string_equal(t->windows[1].path, "c");
    assert_int_equal(path_tree_path_ino(&f->live->tree, "a"), 0);
    assert_int_not_equal(path_tree_path_ino(&f->live->tree, "d/b"), 0);
}

static void chunks_and_extents_cannot_be_changed_alone(void **state)
{
    struct fixture *f = *state;
    struct sfs_error err = {{0}};
    struct window_table fresh, plan;
    window_table_init(&fresh, false);
    add(&fresh, "x", "0", "4096", NULL, f->disk);
    struct window_spec spec = spec_of("x:8192:4096");
    if (window_table_extend(&fresh, &spec, f->disk, &err) < 0)
        fail_msg("extend: %s", err.msg);
    window_spec_free(&spec);
    spec = spec_of("ignored:3M:end");
    if (window_table_add_chunks(&fresh, &spec, 256 * 1024, f->disk, &err) < 0)
        fail_msg("chunks: %s", err.msg);
    window_spec_free(&spec);
    assert_int_equal(window_set_plan_reload(f->live, &fresh, &plan, &err), 0);
    assert_int_equal(plan.backing_count, 1); /* the mount's file, adopted */
    assert_ptr_equal(plan.windows[0].backing, f->table.backings[0]);
    assert_int_equal(plan.rules[0].count, 4);
    publish(f, &plan);
    assert_int_equal(window_set_plan_resize(f->live, "x", "1", "resize", &plan, &err), -1);
    assert_non_null(strstr(err.msg, "extents"));
    assert_int_equal(window_set_plan_remove(f->live, "00000001", "remove", &plan, &err), -1);
    assert_non_null(strstr(err.msg, "rule"));
    assert_false(window_set_same_rules(&f->live->table, &f->table));
}

static void holds_keep_a_set(void **state)
{
    struct fixture *f = *state;
    struct window_set *old = f->live;
    window_set_hold(old); /* an open handle */
    struct window_table plan;
    struct sfs_error err = {{0}};
    assert_int_equal(window_set_plan_remove(f->live, "a", "remove", &plan, &err), 0);
    publish(f, &plan);                                    /* drops the live hold of old */
    assert_string_equal(old->table.windows[0].path, "a"); /* still there */
    window_set_hold(f->live); /* a handle never released: the list frees it */
}

static void a_window_added_again_has_its_own_number(void **state)
{
    struct fixture *f = *state;
    uint64_t first = path_tree_path_ino(&f->live->tree, "a");
    struct window_table plan;
    struct sfs_error err = {{0}};
    assert_int_equal(window_set_plan_remove(f->live, "a", "remove", &plan, &err), 0);
    publish(f, &plan);
    struct window_spec spec = spec_of("a:0:1M");
    assert_int_equal(window_set_plan_add(f->live, &spec, f->disk, &plan, &err), 0);
    window_spec_free(&spec);
    plan.windows[plan.count - 1].incarnation = 1; /* what control.c counts */
    publish(f, &plan);
    uint64_t again = path_tree_path_ino(&f->live->tree, "a");
    assert_int_not_equal(again, 0);
    assert_int_not_equal(again, first);
    /* Incarnation 0 at the next mount: the number it always had. */
    f->live->table.windows[f->live->table.count - 1].incarnation = 0;
    struct window_table copy;
    struct window_set *fresh;
    assert_int_equal(window_table_copy(&copy, &f->live->table, &err), 0);
    assert_int_equal(window_set_make(&fresh, &copy, &err), 0);
    assert_int_equal(path_tree_path_ino(&fresh->tree, "a"), first);
    window_set_drop(fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(copies_share_backing_files, setup, teardown),
        cmocka_unit_test_setup_teardown(add_checks_like_a_mount, setup, teardown),
        cmocka_unit_test_setup_teardown(a_read_only_mapping_refuses_rw, setup, teardown),
        cmocka_unit_test_setup_teardown(a_discarded_plan_closes_its_files, setup, teardown),
        cmocka_unit_test_setup_teardown(remove_and_resize_say_what_a_path_is, setup, teardown),
        cmocka_unit_test_setup_teardown(chunks_and_extents_cannot_be_changed_alone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(holds_keep_a_set, setup, teardown),
        cmocka_unit_test_setup_teardown(a_window_added_again_has_its_own_number, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
