/* permission.c - what a window shows and who may do what to it
 * (permission.h). Pure functions: no system call. */
#include "slicefs/permission.h"

#include <assert.h>
#include <sys/stat.h>

struct shown_attr permission_window_attr(enum window_mode window_mode,
                                         const struct shown_attr *backing, uid_t mounter_uid,
                                         mode_t umask)
{
    assert(window_mode != WINDOW_MODE_DEFAULT);
    struct shown_attr shown = {backing->uid, backing->gid, backing->mode & 0777};
    switch (window_mode) {
    case WINDOW_MODE_RO:
        shown.mode &= ~(mode_t)0222;
        break;
    case WINDOW_MODE_COW:
        /* The overlay is the mounting user's: owner bits rw (and the
         * backing file's x); group and other as the backing file says. */
        shown.uid = mounter_uid;
        shown.mode = (shown.mode & 0177) | 0600;
        break;
    default:
        break;
    }
    shown.mode &= ~(umask & 0777);
    return shown;
}

static bool in_group(const struct caller *caller, gid_t gid)
{
    if (caller->gid == gid)
        return true;
    for (size_t i = 0; i < caller->group_count; i++)
        if (caller->groups[i] == gid)
            return true;
    return false;
}

bool permission_allows(const struct caller *caller, const struct shown_attr *attr, int want)
{
    assert((want & ~(PERMISSION_READ | PERMISSION_WRITE | PERMISSION_EXEC)) == 0);
    if (caller->uid == 0) {
        /* Root reads and writes anything; executes where anyone may. */
        return !(want & PERMISSION_EXEC) || (attr->mode & 0111) != 0;
    }
    mode_t bits;
    if (caller->uid == attr->uid)
        bits = (attr->mode >> 6) & 7;
    else if (in_group(caller, attr->gid))
        bits = (attr->mode >> 3) & 7;
    else
        bits = attr->mode & 7;
    return ((mode_t)want & ~bits) == 0;
}

bool permission_owns(const struct caller *caller, const struct shown_attr *attr)
{
    return caller->uid == 0 || caller->uid == attr->uid;
}
