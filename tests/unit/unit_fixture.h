/* unit_fixture.h - what the cmocka unit tests share: a fresh temporary
 * folder per test (under $TMPDIR, else /tmp), its removal with everything
 * in it, and the one way to skip a test.
 *
 * Include it after <cmocka.h>. A skip is honest only outside CI: under
 * CI=true, unit_skip() fails the test instead (a skipped test must not turn
 * a CI run green), as lib.sh's skip does for the integration tests.
 */
#ifndef SLICEFS_UNIT_FIXTURE_H
#define SLICEFS_UNIT_FIXTURE_H

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes a new, empty folder $TMPDIR/slicefs-unit-XXXXXX (or under /tmp)
 * and writes its name to dir. Returns 0, or -1 with errno set. */
static inline int unit_temp_dir(char *dir, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(dir, size, "%s/slicefs-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static inline int unit_remove_entry(const char *path, const struct stat *st, int flag,
                                    struct FTW *ftw)
{
    (void)ftw;
    /* A test may leave a read-only folder behind. */
    if (flag == FTW_DP || (st != NULL && S_ISDIR(st->st_mode)))
        (void)chmod(path, 0700);
    return remove(path);
}

/* Removes dir and everything in it (symbolic links are not followed).
 * Returns 0, or -1 if something could not be removed. */
static inline int unit_remove_tree(const char *dir)
{
    return nftw(dir, unit_remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

static inline bool unit_under_ci(void)
{
    const char *ci = getenv("CI");
    return ci != NULL && strcmp(ci, "true") == 0;
}

/* Skips the running test, saying why; under CI=true fails it instead. */
#define unit_skip(why)                                                                             \
    do {                                                                                           \
        if (unit_under_ci())                                                                       \
            fail_msg("would skip under CI=true: %s", (why));                                       \
        print_message("skipped: %s\n", (why));                                                     \
        skip();                                                                                    \
    } while (0)

#endif
