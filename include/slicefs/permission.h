/* permission.h - what a window shows (owner, group, mode bits) and who may
 * do what to it: the rules of a regular file.
 *
 * The kernel enforces what a window shows for open, read, write, truncate
 * through a path and xattr writes (the mount always has default_permissions);
 * the daemon applies the same rules where it decides itself (setattr of
 * times and sizes, opens), so the two can never disagree.
 *
 * What a window shows (permission_window_attr):
 * - ro and rw windows: the backing file's owner and group; its permission
 *   bits, less the write bits for ro;
 * - cow windows: writes stay in the mounting user's private overlay, so the
 *   mounting user owns them (and may read and write them: that user can read
 *   the backing file, or it would not be mapped); group and other keep the
 *   backing file's group and bits, so nobody gains read access;
 * - every window, and the directories: less the bits of -o umask.
 * Nothing here ever widens what the backing file allows anyone but the
 * mounting user's own cow overlay.
 */
#ifndef SLICEFS_PERMISSION_H
#define SLICEFS_PERMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "slicefs/window_spec.h"

/* Who asks: the uid, gid and supplementary groups of the calling process. */
struct caller {
    uid_t uid;
    gid_t gid;
    const gid_t *groups; /* may be NULL when group_count is 0 */
    size_t group_count;
};

/* What a file shows: owner, group and the permission bits (07777). */
struct shown_attr {
    uid_t uid;
    gid_t gid;
    mode_t mode;
};

/* Access bits asked for, as access(2)'s R_OK, W_OK, X_OK. */
enum { PERMISSION_READ = 4, PERMISSION_WRITE = 2, PERMISSION_EXEC = 1 };

/* What a window of mode window_mode shows, for a backing file that shows
 * backing (owner, group, bits), in a mount made by mounter_uid with umask. */
struct shown_attr permission_window_attr(enum window_mode window_mode,
                                         const struct shown_attr *backing, uid_t mounter_uid,
                                         mode_t umask);

/* Whether caller may have every access in want (PERMISSION_* bits) to a
 * file that shows attr, by the owner, then the group, then the other bits;
 * root may read and write anything, and execute what anyone may. */
bool permission_allows(const struct caller *caller, const struct shown_attr *attr, int want);

/* Whether caller owns a file that shows attr, or is root: who may set its
 * times to a given value, or its mode. */
bool permission_owns(const struct caller *caller, const struct shown_attr *attr);

#endif
