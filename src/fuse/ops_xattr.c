/* ops_xattr.c - the read-only user.slicefs.* attributes (SPEC section 4). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "control.h"
#include "ops.h"
#include "slicefs/control_protocol.h"
#include "slicefs/guarded_access.h"
#include "slicefs/range_digest.h"

/* Extended attributes that say where a window lies (SPEC section 4). */
#define XATTR_PREFIX "user.slicefs."
static const char xattr_names[] =
    XATTR_PREFIX "offset\0" XATTR_PREFIX "length\0" XATTR_PREFIX "backing\0" XATTR_PREFIX
                 "mode\0" XATTR_PREFIX "sha256";

/* The answer for a name that is not one of ours: user.* is a namespace a
 * window has (-ENODATA: not this one); security.*, system.* (POSIX ACLs)
 * and trusted.* are namespaces no window has (-EOPNOTSUPP). ls -l asks for
 * security.selinux and system.posix_acl_access on every name, and stops
 * asking for the rest of a file system after the first "not supported":
 * two round trips per listing instead of two per name. (ENOSYS would stop
 * the kernel asking, but for every name, user.slicefs.* too.) */
static int no_such_xattr(const char *name)
{
    return strncmp(name, "user.", strlen("user.")) == 0 ? -ENODATA : -EOPNOTSUPP;
}

/* Formats attribute name of w into buf. Returns its length, -ENODATA when
 * w has no such attribute (-EOPNOTSUPP: no_such_xattr), or another
 * negative errno (-EIO: the sha256 of bytes the backing file no longer
 * holds). */
static int format_xattr(const struct slicefs_fs *fs, const struct window *w, const char *name,
                        char *buf, size_t size)
{
    if (strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)) != 0)
        return no_such_xattr(name);
    const char *key = name + strlen(XATTR_PREFIX);
    if (strcmp(key, "offset") == 0)
        return snprintf(buf, size, "%llu", (unsigned long long)w->offset);
    if (strcmp(key, "length") == 0)
        return snprintf(buf, size, "%llu", (unsigned long long)window_length(w));
    if (strcmp(key, "backing") == 0)
        return snprintf(buf, size, "%s", w->backing->real_path);
    if (strcmp(key, "mode") == 0)
        return snprintf(buf, size, "%s", window_mode_name(w->mode));
    if (strcmp(key, "sha256") == 0) {
        /* Kept in the state while the window is unchanged; else a full read. */
        unsigned char digest[32];
        int res = window_times_sha256(&fs->times, w, digest);
        if (res < 0)
            return res;
        char hex[65];
        digest_hex(digest, sizeof digest, hex);
        return snprintf(buf, size, "%s", hex);
    }
    return no_such_xattr(name);
}

/* The root's one attribute: where slicefsctl finds the control socket. */
static const char *control_path(const struct slicefs_fs *fs, fuse_ino_t ino)
{
    return ino == FUSE_ROOT_ID ? control_socket_path(fs->control) : NULL;
}

void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    int res;
    struct tree_entry entry;
    const struct window *w = window_of(req, ino, NULL, &entry, &res);
    const char *control = control_path(fs_of(req), ino);
    if (w == NULL && (control == NULL || strcmp(name, CONTROL_XATTR) != 0))
        return (void)fuse_reply_err(req, res == EISDIR ? -no_such_xattr(name) : res);
    char value[PATH_MAX + 1];
    int len = w == NULL ? snprintf(value, sizeof value, "%s", control)
                        : format_xattr(fs_of(req), w, name, value, sizeof value);
    if (len < 0)
        return (void)fuse_reply_err(req, -len);
    if ((size_t)len >= sizeof value)
        return (void)fuse_reply_err(req, E2BIG);
    if (size == 0)
        return (void)fuse_reply_xattr(req, (size_t)len);
    if (size < (size_t)len)
        return (void)fuse_reply_err(req, ERANGE);
    fuse_reply_buf(req, value, (size_t)len);
}

void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    int res;
    struct tree_entry entry;
    const struct window *w = window_of(req, ino, NULL, &entry, &res);
    /* Folders have none, but the root has the control socket's path. */
    bool control = w == NULL && control_path(fs_of(req), ino) != NULL;
    const char *names = control ? CONTROL_XATTR : xattr_names;
    size_t len = control ? sizeof CONTROL_XATTR : w == NULL ? 0 : sizeof xattr_names;
    if (w == NULL && res != EISDIR)
        return (void)fuse_reply_err(req, res);
    if (size == 0)
        return (void)fuse_reply_xattr(req, len);
    if (size < len)
        return (void)fuse_reply_err(req, ERANGE);
    fuse_reply_buf(req, names, len);
}

void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
                 int flags)
{
    (void)ino, (void)value, (void)size, (void)flags;
    bool ours = strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)) == 0;
    fuse_reply_err(req, ours ? EPERM : ENOTSUP);
}

void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    op_setxattr(req, ino, name, NULL, 0, 0);
}
