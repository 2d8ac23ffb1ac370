/* test_state_file.c - the per-backing-file state kept between mounts.
 *
 * Covers state_file_open/commit/abandon: a first open has no trusted
 * records; after a commit the records come back by section key (reordered,
 * grown, shrunk, new and dropped sections) and stamp_matches says whether
 * the backing file's stamp is the one committed; an abandoned mount leaves
 * the old state; a leftover of a dead process is removed; and a state that
 * is corrupt, truncated, padded, another file's, or not a state at all is
 * reported (with the reason) and not used.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slicefs/state_file.h"

struct fixture {
    char dir[256];
    char path[300];
};

static char last_warning[1024];
static int warnings;

static void warn(const char *message)
{
    snprintf(last_warning, sizeof last_warning, "%s", message);
    warnings++;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL || unit_temp_dir(f->dir, sizeof f->dir) != 0)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/s.state", f->dir);
    warnings = 0;
    last_warning[0] = '\0';
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

static const struct file_identity id = {0x1234, 42};
static const struct state_stamp stamp1 = {4096, 1000, 2000};
static const struct state_stamp stamp2 = {4096, 1000, 2001};

static void open_ok(struct fixture *f, struct state_file *sf, const struct file_identity *ident,
                    const struct state_stamp *stamp, struct state_section *s, size_t n)
{
    struct sfs_error err = {{0}};
    if (state_file_open(sf, f->path, ident, stamp, s, n, warn, &err) != 0)
        fail_msg("state_file_open: %s", err.msg);
}

static void commit_ok(struct state_file *sf, const struct state_stamp *stamp)
{
    struct sfs_error err = {{0}};
    if (state_file_commit(sf, stamp, &err) != 0)
        fail_msg("state_file_commit: %s", err.msg);
}

/* Record r gets a recognisable content: digest bytes and times from r. */
static void mark(struct window_record *rec, int r)
{
    memset(rec->xxh128, r, sizeof rec->xxh128);
    memset(rec->sha256, r + 1, sizeof rec->sha256);
    atomic_store(&rec->mtime_ns, 1000 + r);
    atomic_store(&rec->ctime_ns, 2000 + r);
}

static void expect_mark(const struct window_record *rec, int r)
{
    assert_int_equal(rec->xxh128[0], (unsigned char)r);
    assert_int_equal(rec->xxh128[15], (unsigned char)r);
    assert_int_equal(rec->sha256[31], (unsigned char)(r + 1));
    assert_int_equal(atomic_load(&rec->mtime_ns), 1000 + r);
    assert_int_equal(atomic_load(&rec->ctime_ns), 2000 + r);
}

static void expect_fresh(const struct window_record *rec)
{
    static const unsigned char zero[32];
    assert_memory_equal(rec->xxh128, zero, 16);
    assert_memory_equal(rec->sha256, zero, 32);
    assert_int_equal(atomic_load(&rec->mtime_ns), 0);
    assert_int_equal(atomic_load(&rec->ctime_ns), 0);
}

/* Writes the first state: sections A (1 record), B (3 records). */
static void first_mount(struct fixture *f)
{
    struct state_section s[] = {{.key = 0xA, .count = 1}, {.key = 0xB, .count = 3}};
    struct state_file sf;
    unlink(f->path);
    open_ok(f, &sf, &id, &stamp1, s, 2);
    assert_false(sf.stamp_matches);
    assert_false(sf.all_copied);
    assert_int_equal(sf.record_count, 4);
    assert_int_equal(s[0].first, 0);
    assert_int_equal(s[1].first, 1);
    for (int r = 0; r < 4; r++) {
        expect_fresh(&sf.records[r]);
        mark(&sf.records[r], r);
    }
    commit_ok(&sf, &stamp1);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_size, 128 + 2 * 32 + 4 * 64);
    assert_int_equal(warnings, 0);
}

static void test_round_trip_by_key(void **state)
{
    struct fixture *f = *state;
    first_mount(f);
    /* C is new, B grew to 5 and comes first, A is gone. */
    struct state_section s[] = {{.key = 0xB, .count = 5}, {.key = 0xC, .count = 2}};
    struct state_file sf;
    open_ok(f, &sf, &id, &stamp1, s, 2);
    assert_true(sf.stamp_matches);
    assert_false(sf.all_copied); /* B grew, C is new */
    assert_int_equal(warnings, 0);
    for (int r = 0; r < 3; r++)
        expect_mark(&sf.records[s[0].first + (uint64_t)r], r + 1);
    expect_fresh(&sf.records[3]);
    expect_fresh(&sf.records[4]);
    expect_fresh(&sf.records[s[1].first]);
    mark(&sf.records[6], 9);
    commit_ok(&sf, &stamp2);

    /* B shrank to 1; the stamp now differs from the committed one. */
    struct state_section s2[] = {{.key = 0xC, .count = 2}, {.key = 0xB, .count = 1}};
    open_ok(f, &sf, &id, &stamp1, s2, 2);
    assert_false(sf.stamp_matches);
    assert_true(sf.all_copied);
    expect_mark(&sf.records[1], 9);
    expect_mark(&sf.records[2], 1);
    state_file_abandon(&sf);
}

static void test_abandon_keeps_old_state(void **state)
{
    struct fixture *f = *state;
    first_mount(f);
    struct state_section s[] = {{.key = 0xA, .count = 1}};
    struct state_file sf;
    open_ok(f, &sf, &id, &stamp1, s, 1);
    char temp[400];
    snprintf(temp, sizeof temp, "%s", sf.temp_path);
    assert_int_equal(access(temp, F_OK), 0);
    mark(&sf.records[0], 50);
    state_file_abandon(&sf);
    assert_int_equal(access(temp, F_OK), -1);
    open_ok(f, &sf, &id, &stamp1, s, 1);
    assert_true(sf.stamp_matches);
    expect_mark(&sf.records[0], 0);
    state_file_abandon(&sf);
}

static void test_leftover_of_dead_process_removed(void **state)
{
    struct fixture *f = *state;
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    char dead[400], alive[400];
    snprintf(dead, sizeof dead, "%s.tmp.%ld", f->path, (long)child);
    snprintf(alive, sizeof alive, "%s.tmp.1", f->path); /* init lives */
    close(open(dead, O_CREAT | O_WRONLY, 0600));
    close(open(alive, O_CREAT | O_WRONLY, 0600));
    first_mount(f);
    assert_int_equal(access(dead, F_OK), -1);
    assert_int_equal(access(alive, F_OK), 0);
}

/* Expects the (damaged) state to be reported with why, and fresh records. */
static void expect_refused(struct fixture *f, const char *why)
{
    struct state_section s[] = {{.key = 0xA, .count = 1}, {.key = 0xB, .count = 3}};
    struct state_file sf;
    open_ok(f, &sf, &id, &stamp1, s, 2);
    assert_false(sf.stamp_matches);
    for (int r = 0; r < 4; r++)
        expect_fresh(&sf.records[r]);
    assert_int_equal(warnings, 1);
    if (strstr(last_warning, why) == NULL || strstr(last_warning, f->path) == NULL)
        fail_msg("warning '%s' does not say '%s' and the path", last_warning, why);
    state_file_abandon(&sf);
    warnings = 0;
}

static void poke(struct fixture *f, off_t at, unsigned char byte)
{
    int fd = open(f->path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &byte, 1, at), 1);
    close(fd);
}

static void test_damaged_states_are_not_trusted(void **state)
{
    struct fixture *f = *state;
    first_mount(f);
    poke(f, 128 + 64 + 64 + 70, 0x55); /* a record byte */
    expect_refused(f, "is corrupt");

    first_mount(f);
    assert_int_equal(truncate(f->path, 128 + 64 + 100), 0);
    expect_refused(f, "truncated");

    first_mount(f);
    int fd = open(f->path, O_WRONLY | O_APPEND);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
    expect_refused(f, "junk at its end");

    first_mount(f);
    poke(f, 0, 'X');
    expect_refused(f, "not a slicefs state file");

    first_mount(f);
    poke(f, 8, 9); /* version */
    expect_refused(f, "another version");

    first_mount(f);
    assert_int_equal(truncate(f->path, 10), 0);
    expect_refused(f, "too short");

    /* Another backing file's state. */
    first_mount(f);
    const struct file_identity other = {0x1234, 43};
    struct state_section s[] = {{.key = 0xA, .count = 1}};
    struct state_file sf;
    open_ok(f, &sf, &other, &stamp1, s, 1);
    assert_false(sf.stamp_matches);
    expect_fresh(&sf.records[0]);
    assert_non_null(strstr(last_warning, "another backing file"));
    state_file_abandon(&sf);
}

static void test_names(void **state)
{
    (void)state;
    char *name = state_file_name("/s", &id);
    assert_string_equal(name, "/s/0000000000001234-42.state");
    free(name);
    setenv("XDG_STATE_HOME", "/x", 1);
    char *dir = state_file_default_dir();
    assert_string_equal(dir, "/x/slicefs");
    free(dir);
    unsetenv("XDG_STATE_HOME");
    setenv("HOME", "/h", 1);
    dir = state_file_default_dir();
    assert_string_equal(dir, "/h/.local/state/slicefs");
    free(dir);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_round_trip_by_key),
        T(test_abandon_keeps_old_state),
        T(test_leftover_of_dead_process_removed),
        T(test_damaged_states_are_not_trusted),
        cmocka_unit_test(test_names),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
