/* test_window_times.c - per-window times and digests across mounts.
 *
 * A 4 MiB backing file with two declared windows ("a": the first MiB, "c":
 * a cow window over the second) and 1 MiB chunks over all of it. Covers:
 * a first mount gives every window the backing file's times and digests
 * nothing before the baseline thread does; a change outside before those
 * digests exist moves every window's times; a remount of
 * an unchanged file trusts the state; an outside change to one MiB moves
 * the times of exactly the windows over it (at the next mount and by a
 * rescan while mounted, which reports them); a change through the mount
 * moves times at once and is digested at close, so the next mount trusts
 * it; a cow window's times move at close (its overlay is gone); touch sets
 * one window's times; SHA-256 of a window equals the bytes' and is kept;
 * the state off gives no records.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit_fixture.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slicefs/guarded_access.h"
#include "slicefs/window_times.h"

#define MiB (1024 * 1024)

struct fixture {
    char dir[256];
    char disk[300];
    char state[300];
    struct window_table table;
    struct window_times times;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL || unit_temp_dir(f->dir, sizeof f->dir) != 0)
        return -1;
    snprintf(f->disk, sizeof f->disk, "%s/disk.img", f->dir);
    snprintf(f->state, sizeof f->state, "%s/disk.state", f->dir);
    int fd = open(f->disk, O_RDWR | O_CREAT | O_EXCL, 0644);
    unsigned char *bytes = malloc(4 * MiB);
    for (size_t i = 0; i < 4 * MiB; i++)
        bytes[i] = (unsigned char)(i * 7 + (i >> 12));
    if (fd < 0 || write(fd, bytes, 4 * MiB) != 4 * MiB)
        return -1;
    close(fd);
    free(bytes);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int res = unit_remove_tree(f->dir);
    free(f);
    return res;
}

static void add_window(struct fixture *f, const char *path, const char *offset, const char *length,
                       const char *mode)
{
    struct window_spec spec;
    struct sfs_error err = {{0}};
    if (window_spec_from_fields(path, offset, length, mode, NULL, path, &spec, &err) < 0 ||
        window_table_add(&f->table, &spec, f->disk, &err) != 0)
        fail_msg("window %s: %s", path, err.msg);
    window_spec_free(&spec);
}

static volatile int baseline_done;

static void baseline_log(const char *message)
{
    (void)message;
    baseline_done = 1;
}

/* Runs the baseline thread to its end: the digests of new windows. */
static void wait_baseline(struct fixture *f)
{
    baseline_done = 0;
    assert_int_equal(window_times_start_baseline(&f->times, baseline_log), 0);
    if (!window_times_on(&f->times))
        return; /* no state: no thread */
    for (int i = 0; i < 20000 && !baseline_done; i++)
        usleep(1000);
    assert_true(baseline_done);
    window_times_stop_baseline(&f->times);
}

/* Mounts (as far as the core goes): the table, mapped, and its times;
 * the baseline digests not made (a mount unmounted at once). */
static void mount_only(struct fixture *f, bool off)
{
    struct sfs_error err = {{0}};
    window_table_init(&f->table, false);
    add_window(f, "a", "0", "1M", "rw");
    add_window(f, "c", "1M", "1M", "cow");
    struct window_spec spec;
    if (window_spec_from_fields("chunks", "0", "end", NULL, NULL, "chunks", &spec, &err) < 0 ||
        window_table_add_chunks(&f->table, &spec, MiB, f->disk, &err) != 0)
        fail_msg("chunks: %s", err.msg);
    window_spec_free(&spec);
    if (window_table_map(&f->table, &err) != 0)
        fail_msg("map: %s", err.msg);
    struct window_times_options options = {.state = f->state, .off = off};
    if (window_times_open(&f->times, &f->table, &options, &err) != 0)
        fail_msg("window_times_open: %s", err.msg);
}

/* A mount whose baseline digests are all made. */
static void mount(struct fixture *f, bool off)
{
    mount_only(f, off);
    wait_baseline(f);
}

static void unmount(struct fixture *f)
{
    struct sfs_error err = {{0}};
    if (window_times_close(&f->times, &err) != 0)
        fail_msg("window_times_close: %s", err.msg);
    assert_int_equal(window_table_close(&f->table), 0);
}

static struct window chunk(struct fixture *f, uint64_t k, char name[WINDOW_RULE_NAME_MAX])
{
    struct window w;
    window_rule_member(&f->table.rules[0], k, &w, name);
    return w;
}

static int64_t mtime_of(struct fixture *f, const struct window *w)
{
    struct timespec m, c;
    assert_true(window_times_get(&f->times, w, &m, &c));
    assert_true(c.tv_sec > 0);
    return (int64_t)m.tv_sec * 1000000000 + m.tv_nsec;
}

/* mtimes of a, c and chunks 0..3. */
static void all_mtimes(struct fixture *f, int64_t out[6])
{
    char name[WINDOW_RULE_NAME_MAX];
    out[0] = mtime_of(f, &f->table.windows[0]);
    out[1] = mtime_of(f, &f->table.windows[1]);
    for (uint64_t k = 0; k < 4; k++) {
        struct window w = chunk(f, k, name);
        out[2 + k] = mtime_of(f, &w);
    }
}

static void outside_write(struct fixture *f, off_t at)
{
    int fd = open(f->disk, O_WRONLY);
    assert_int_equal(pwrite(fd, "changed!", 8, at), 8);
    close(fd);
}

static void test_first_mount_takes_the_files_times(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    assert_int_equal(stat(f->disk, &st), 0);
    mount(f, false);
    int64_t m[6];
    all_mtimes(f, m);
    int64_t file_mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    for (int i = 0; i < 6; i++)
        assert_int_equal(m[i], file_mtime);
    unmount(f);
    /* Unchanged: the state is trusted, and the times come back as they were. */
    mount(f, false);
    assert_true(f->times.per_backing[0].file.stamp_matches);
    int64_t again[6];
    all_mtimes(f, again);
    assert_memory_equal(m, again, sizeof m);
    unmount(f);
}

/* Unmounted before the baseline digests existed: a change outside then
 * moves every window's times (it cannot be told where it was), once. */
static void test_change_before_digests_exist(void **state)
{
    struct fixture *f = *state;
    mount_only(f, false);
    int64_t before[6];
    all_mtimes(f, before);
    static const unsigned char zero[16];
    assert_memory_equal(window_times_record(&f->times, &f->table.windows[0])->xxh128, zero, 16);
    unmount(f);
    /* Unchanged: trusted, digests or not. */
    mount_only(f, false);
    assert_true(f->times.per_backing[0].file.stamp_matches);
    int64_t same[6];
    all_mtimes(f, same);
    assert_memory_equal(before, same, sizeof before);
    unmount(f);
    outside_write(f, 2 * MiB + 100);
    mount(f, false);
    int64_t after[6];
    all_mtimes(f, after);
    for (int i = 0; i < 6; i++)
        assert_true(after[i] > before[i]);
    unmount(f);
}

static void test_outside_change_between_mounts(void **state)
{
    struct fixture *f = *state;
    mount(f, false);
    int64_t before[6];
    all_mtimes(f, before);
    unmount(f);
    outside_write(f, 2 * MiB + 100); /* chunk 2 only */
    mount(f, false);
    assert_false(f->times.per_backing[0].file.stamp_matches);
    int64_t after[6];
    all_mtimes(f, after);
    for (int i = 0; i < 6; i++) {
        if (i == 4)
            assert_true(after[i] > before[i]);
        else
            assert_int_equal(after[i], before[i]);
    }
    unmount(f);
}

struct seen {
    int count;
    bool rule[8];
    uint64_t index[8];
};

static void record_change(void *arg, bool rule, uint64_t index)
{
    struct seen *s = arg;
    if (s->count < 8) {
        s->rule[s->count] = rule;
        s->index[s->count] = index;
    }
    s->count++;
}

static void test_rescan_while_mounted(void **state)
{
    struct fixture *f = *state;
    mount(f, false);
    int64_t before[6];
    all_mtimes(f, before);
    outside_write(f, 100); /* window a and chunk 0 */
    struct seen seen = {0};
    assert_int_equal(window_times_rescan(&f->times, f->table.backings[0], record_change, &seen), 2);
    assert_int_equal(seen.count, 2);
    bool saw_a = false, saw_chunk0 = false;
    for (int i = 0; i < 2; i++) {
        saw_a |= !seen.rule[i] && seen.index[i] == 0;
        saw_chunk0 |= seen.rule[i] && seen.index[i] == 0;
    }
    assert_true(saw_a && saw_chunk0);
    int64_t after[6];
    all_mtimes(f, after);
    assert_true(after[0] > before[0] && after[2] > before[2]);
    assert_int_equal(after[1], before[1]);
    assert_int_equal(after[3], before[3]);
    /* Nothing changed since: a second rescan finds nothing. */
    seen.count = 0;
    assert_int_equal(window_times_rescan(&f->times, f->table.backings[0], record_change, &seen), 0);
    unmount(f);
}

static void test_change_through_the_mount(void **state)
{
    struct fixture *f = *state;
    mount(f, false);
    int64_t before[6];
    all_mtimes(f, before);
    char name[WINDOW_RULE_NAME_MAX];
    struct window c3 = chunk(f, 3, name);
    /* The bytes change through the mapping, and the ops say so. */
    memcpy(window_data(&c3) + 10, "through", 7);
    window_times_changed(&f->times, &c3);
    struct window_record *r = window_times_record(&f->times, &c3);
    static const unsigned char zero[16];
    assert_memory_equal(r->xxh128, zero, 16);
    int64_t after[6];
    all_mtimes(f, after);
    assert_true(after[5] > before[5]);
    /* Another change in the same nanosecond still moves it. */
    window_times_changed(&f->times, &c3);
    assert_true(mtime_of(f, &c3) > after[5]);
    int64_t moved = mtime_of(f, &c3);
    unmount(f);
    /* Digested at close: the next mount trusts it and keeps its times. */
    mount(f, false);
    assert_true(f->times.per_backing[0].file.stamp_matches);
    struct window c3b = chunk(f, 3, name);
    assert_int_equal(mtime_of(f, &c3b), moved);
    assert_false(memcmp(window_times_record(&f->times, &c3b)->xxh128, zero, 16) == 0);
    unmount(f);
}

static void test_cow_times_move_at_close(void **state)
{
    struct fixture *f = *state;
    mount(f, false);
    const struct window *c = &f->table.windows[1];
    memcpy(window_data(c), "overlay", 7);
    window_times_changed(&f->times, c);
    int64_t during = mtime_of(f, c);
    unmount(f);
    mount(f, false);
    assert_true(mtime_of(f, &f->table.windows[1]) > during);
    unmount(f);
}

static void test_touch(void **state)
{
    struct fixture *f = *state;
    mount(f, false);
    const struct window *a = &f->table.windows[0];
    struct timespec m = {.tv_sec = 1000, .tv_nsec = 5}, mt, ct;
    window_times_touch(&f->times, a, &m);
    assert_true(window_times_get(&f->times, a, &mt, &ct));
    assert_int_equal(mt.tv_sec, 1000);
    assert_int_equal(mt.tv_nsec, 5);
    assert_true(ct.tv_sec > 1000);
    /* Others keep theirs. */
    assert_true(mtime_of(f, &f->table.windows[1]) > 1000000000000LL);
    unmount(f);
    mount(f, false);
    assert_int_equal(mtime_of(f, &f->table.windows[0]), 1000000000005LL);
    unmount(f);
}

static void test_sha256(void **state)
{
    struct fixture *f = *state;
    mount(f, false);
    const struct window *a = &f->table.windows[0];
    unsigned char want[32], got[32];
    unsigned int size;
    EVP_Digest(window_data(a), MiB, want, &size, EVP_sha256(), NULL);
    assert_int_equal(window_times_sha256(&f->times, a, got), 0);
    assert_memory_equal(want, got, 32);
    assert_memory_equal(window_times_record(&f->times, a)->sha256, want, 32);
    assert_int_equal(window_times_sha256(&f->times, a, got), 0);
    assert_memory_equal(want, got, 32);
    /* A change forgets it; the next one is of the new bytes. */
    memcpy(window_data(a), "new", 3);
    window_times_changed(&f->times, a);
    EVP_Digest(window_data(a), MiB, want, &size, EVP_sha256(), NULL);
    assert_int_equal(window_times_sha256(&f->times, a, got), 0);
    assert_memory_equal(want, got, 32);
    /* A cow window's is of what it shows, its overlay. */
    const struct window *c = &f->table.windows[1];
    memcpy(window_data(c), "mine", 4);
    EVP_Digest(window_data(c), MiB, want, &size, EVP_sha256(), NULL);
    assert_int_equal(window_times_sha256(&f->times, c, got), 0);
    assert_memory_equal(want, got, 32);
    unmount(f);
}

static void test_state_off(void **state)
{
    struct fixture *f = *state;
    mount(f, true);
    assert_false(window_times_on(&f->times));
    assert_null(window_times_record(&f->times, &f->table.windows[0]));
    struct timespec m, c;
    assert_false(window_times_get(&f->times, &f->table.windows[0], &m, &c));
    window_times_changed(&f->times, &f->table.windows[0]); /* nothing to do */
    unmount(f);
    assert_int_equal(access(f->state, F_OK), -1);
}

int main(void)
{
    struct sfs_error err;
    if (guarded_access_init(&err) < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_first_mount_takes_the_files_times),
        T(test_outside_change_between_mounts),
        T(test_change_before_digests_exist),
        T(test_rescan_while_mounted),
        T(test_change_through_the_mount),
        T(test_cow_times_move_at_close),
        T(test_touch),
        T(test_sha256),
        T(test_state_off),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
