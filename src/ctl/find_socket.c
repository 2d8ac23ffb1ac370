/* find_socket.c - where a mount's control socket is (see ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "slicefs/control_protocol.h"

/* The socket path the daemon shows on the mount's root folder, or NULL
 * with errno set (ENODATA, ENOTSUP: not a slicefs mount; EACCES: another
 * user's mount). */
static char *shown_socket(const char *mountpoint)
{
    char value[PATH_MAX + 1];
    ssize_t n = getxattr(mountpoint, CONTROL_XATTR, value, sizeof value - 1);
    if (n < 0)
        return NULL;
    value[n] = '\0';
    if (value[0] != '/') {
        errno = EINVAL;
        return NULL;
    }
    return strdup(value);
}

/* The absolute, symlink-free path of mountpoint; where the mount point
 * itself cannot be resolved (EACCES on another user's mount), its folder's
 * path and its last component. Allocated; NULL with errno set. */
static char *absolute_mount_path(const char *mountpoint)
{
    char *path = realpath(mountpoint, NULL);
    if (path != NULL)
        return path;
    int saved = errno;
    char *copy = strdup(mountpoint);
    if (copy == NULL)
        return NULL;
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    char *slash = strrchr(copy, '/');
    const char *last = slash != NULL ? slash + 1 : copy;
    const char *parent = slash == NULL ? "." : slash == copy ? "/" : copy;
    if (slash != NULL)
        *slash = '\0';
    char *folder = NULL;
    if (*last == '\0' || strcmp(last, ".") == 0 || strcmp(last, "..") == 0)
        errno = saved; /* nothing to add to the folder: the first error stands */
    else
        folder = realpath(parent, NULL);
    if (folder != NULL &&
        asprintf(&path, "%s/%s", strcmp(folder, "/") == 0 ? "" : folder, last) < 0)
        path = NULL;
    free(folder);
    free(copy);
    return path;
}

/* dir/name when it is a socket owned by the owner of dir, which nobody
 * else may write to (a socket another user planted is never taken).
 * Allocated; NULL when not. */
static char *usable_socket(const char *dir, const char *name)
{
    struct stat d, s;
    char *path = NULL;
    if (lstat(dir, &d) < 0 || !S_ISDIR(d.st_mode) || (d.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return NULL;
    if (asprintf(&path, "%s/%s", dir, name) < 0)
        return NULL;
    if (lstat(path, &s) == 0 && S_ISSOCK(s.st_mode) && s.st_uid == d.st_uid)
        return path;
    free(path);
    return NULL;
}

/* The first usable socket name in the folders pattern matches. */
static char *socket_in_glob(const char *pattern, const char *name)
{
    glob_t g;
    char *found = NULL;
    if (glob(pattern, 0, NULL, &g) != 0)
        return NULL;
    for (size_t i = 0; i < g.gl_pathc && found == NULL; i++)
        found = usable_socket(g.gl_pathv[i], name);
    globfree(&g);
    return found;
}

/* The socket called name in the folders a daemon may use, first
 * found first; NULL when none has it. */
static char *socket_by_name(const char *name, const char *tmp)
{
    char *own = control_socket_dir(getuid());
    char *found = own != NULL ? usable_socket(own, name) : NULL;
    free(own);
    if (found == NULL)
        found = usable_socket("/run/slicefs", name);
    if (found == NULL)
        found = socket_in_glob("/run/user/*/slicefs", name);
    if (found == NULL) {
        char pattern[PATH_MAX];
        snprintf(pattern, sizeof pattern, "%s/slicefs-*", tmp);
        found = socket_in_glob(pattern, name);
    }
    return found;
}

char *ctl_find_socket(const char *mountpoint)
{
    struct stat st;
    if (stat(mountpoint, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            ctl_warn("%s: not a folder, so not a mount point", mountpoint);
            return NULL;
        }
    } else if (errno != EACCES) {
        ctl_warn("%s: %s", mountpoint, strerror(errno));
        return NULL;
    }
    char *path = shown_socket(mountpoint);
    int shown_errno = errno;
    char *mount_path = absolute_mount_path(mountpoint);
    if (mount_path == NULL) {
        free(path);
        ctl_warn("%s: %s", mountpoint, strerror(errno));
        return NULL;
    }
    char name[CONTROL_SOCKET_NAME_MAX];
    control_socket_name(mount_path, name);
    /* The attribute is taken only when it names this mount point's socket:
     * anyone can put it on a folder of theirs, pointing at another mount's
     * socket (root, asked to act on that folder, would act on that mount). */
    if (path != NULL) {
        const char *slash = strrchr(path, '/');
        if (slash != NULL && strcmp(slash + 1, name) == 0) {
            free(mount_path);
            return path;
        }
        free(path);
        shown_errno = EINVAL;
    }
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] != '/')
        tmp = "/tmp";
    path = socket_by_name(name, tmp);
    if (path == NULL) {
        char *own = control_socket_dir(getuid());
        bool run = own != NULL && strcmp(own, "/run/slicefs") == 0;
        ctl_warn("%s: not a slicefs mount, or its daemon offers no control (%s: %s; no "
                 "socket %s in %s%s, /run/user/*/slicefs or %s/slicefs-*)",
                 mount_path, CONTROL_XATTR, strerror(shown_errno), name, own != NULL ? own : "?",
                 run ? "" : ", /run/slicefs", tmp);
        free(own);
    }
    free(mount_path);
    return path;
}
