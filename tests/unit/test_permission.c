/* test_permission.c - what a window shows and who may do what to it.
 *
 * Covers permission_window_attr (ro drops write bits, cow windows belong to
 * the mounting user and never widen group or other, umask only narrows) and
 * permission_allows / permission_owns (owner, then group, supplementary
 * groups included, then other, the class bits apply even when narrower than
 * the next; root reads and writes anything, executes only what anyone may).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "slicefs/permission.h"

enum { R = PERMISSION_READ, W = PERMISSION_WRITE, X = PERMISSION_EXEC };

static void test_rw_window_shows_backing_file(void **state)
{
    (void)state;
    struct shown_attr backing = {0, 0, 0100644};
    struct shown_attr s = permission_window_attr(WINDOW_MODE_RW, &backing, 1000, 0);
    assert_int_equal(s.uid, 0);
    assert_int_equal(s.gid, 0);
    assert_int_equal(s.mode, 0644); /* permission bits only, no file type */
}

static void test_ro_window_drops_write_bits(void **state)
{
    (void)state;
    struct shown_attr backing = {5, 6, 0666};
    struct shown_attr s = permission_window_attr(WINDOW_MODE_RO, &backing, 1000, 0);
    assert_int_equal(s.uid, 5);
    assert_int_equal(s.gid, 6);
    assert_int_equal(s.mode, 0444);
}

static void test_cow_window_is_the_mounting_users(void **state)
{
    (void)state;
    /* A root-owned image a user can only read: that user's overlay. */
    struct shown_attr backing = {0, 0, 0444};
    struct shown_attr s = permission_window_attr(WINDOW_MODE_COW, &backing, 1000, 0);
    assert_int_equal(s.uid, 1000);
    assert_int_equal(s.gid, 0); /* the backing file's group keeps its bits */
    assert_int_equal(s.mode, 0644);
    /* Group and other never gain a bit; the owner's x is kept. */
    backing = (struct shown_attr){0, 7, 0750};
    s = permission_window_attr(WINDOW_MODE_COW, &backing, 1000, 0);
    assert_int_equal(s.mode, 0750);
    backing = (struct shown_attr){0, 7, 0000};
    s = permission_window_attr(WINDOW_MODE_COW, &backing, 1000, 0);
    assert_int_equal(s.mode, 0600);
}

static void test_umask_only_narrows(void **state)
{
    (void)state;
    struct shown_attr backing = {0, 0, 0664};
    assert_int_equal(permission_window_attr(WINDOW_MODE_RW, &backing, 0, 027).mode, 0640);
    assert_int_equal(permission_window_attr(WINDOW_MODE_RW, &backing, 0, 0777).mode, 0);
    assert_int_equal(permission_window_attr(WINDOW_MODE_RO, &backing, 0, 0002).mode, 0444);
    assert_int_equal(permission_window_attr(WINDOW_MODE_COW, &backing, 0, 0077).mode, 0600);
    /* Special bits never show. */
    backing.mode = 06755;
    assert_int_equal(permission_window_attr(WINDOW_MODE_RW, &backing, 0, 0).mode, 0755);
}

static void test_owner_group_other(void **state)
{
    (void)state;
    struct shown_attr a = {100, 200, 0640};
    struct caller owner = {100, 1, NULL, 0};
    struct caller member = {300, 200, NULL, 0};
    struct caller stranger = {300, 300, NULL, 0};
    assert_true(permission_allows(&owner, &a, R | W));
    assert_false(permission_allows(&owner, &a, X));
    assert_true(permission_allows(&member, &a, R));
    assert_false(permission_allows(&member, &a, W));
    assert_false(permission_allows(&member, &a, R | W));
    assert_false(permission_allows(&stranger, &a, R));
    assert_true(permission_allows(&stranger, &a, 0));
}

static void test_supplementary_groups(void **state)
{
    (void)state;
    struct shown_attr a = {100, 200, 0660};
    gid_t groups[] = {5, 200, 9};
    struct caller member = {300, 300, groups, 3};
    struct caller not_member = {300, 300, groups, 1};
    assert_true(permission_allows(&member, &a, R | W));
    assert_false(permission_allows(&not_member, &a, R));
}

static void test_class_bits_apply_even_when_narrower(void **state)
{
    (void)state;
    /* POSIX: the owner gets the owner bits, not the wider other bits. */
    struct shown_attr a = {100, 200, 0046};
    struct caller owner = {100, 100, NULL, 0};
    struct caller member = {300, 200, NULL, 0};
    struct caller stranger = {300, 300, NULL, 0};
    assert_false(permission_allows(&owner, &a, R));
    assert_true(permission_allows(&member, &a, R));
    assert_false(permission_allows(&member, &a, W));
    assert_true(permission_allows(&stranger, &a, R | W));
}

static void test_root(void **state)
{
    (void)state;
    struct shown_attr a = {100, 200, 0000};
    struct caller root = {0, 0, NULL, 0};
    assert_true(permission_allows(&root, &a, R | W));
    assert_false(permission_allows(&root, &a, X));
    a.mode = 0001;
    assert_true(permission_allows(&root, &a, R | W | X));
}

static void test_owns(void **state)
{
    (void)state;
    struct shown_attr a = {100, 200, 0666};
    struct caller owner = {100, 1, NULL, 0};
    struct caller root = {0, 0, NULL, 0};
    struct caller writer = {300, 200, NULL, 0};
    assert_true(permission_owns(&owner, &a));
    assert_true(permission_owns(&root, &a));
    assert_false(permission_owns(&writer, &a)); /* may write, may not set times */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rw_window_shows_backing_file),
        cmocka_unit_test(test_ro_window_drops_write_bits),
        cmocka_unit_test(test_cow_window_is_the_mounting_users),
        cmocka_unit_test(test_umask_only_narrows),
        cmocka_unit_test(test_owner_group_other),
        cmocka_unit_test(test_supplementary_groups),
        cmocka_unit_test(test_class_bits_apply_even_when_narrower),
        cmocka_unit_test(test_root),
        cmocka_unit_test(test_owns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
