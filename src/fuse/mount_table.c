/* mount_table.c - the mount at a path, from /proc/self/mountinfo. */
#include "mount_table.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

/* Undoes the octal escapes (\040 for a space) of a path in mountinfo. */
static void unescape(char *path)
{
    char *out = path;
    for (char *in = path; *in != '\0'; in++) {
        if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
            in[3] >= '0' && in[3] <= '7') {
            *out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
            in += 3;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
}

/* Finds the last (topmost) mount at path: its device and file system type
 * into *dev and type. Returns whether there is one. */
static bool find_mount(const char *path, dev_t *dev, char type[64])
{
    FILE *info = fopen("/proc/self/mountinfo", "re");
    if (info == NULL)
        return false;
    bool found = false;
    char *line = NULL;
    size_t capacity = 0;
    while (getline(&line, &capacity, info) >= 0) {
        unsigned major, minor;
        char point[PATH_MAX];
        if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &major, &minor, point) != 3)
            continue;
        unescape(point);
        /* The file system type follows the " - " separator. */
        const char *dash = strstr(line, " - ");
        if (strcmp(point, path) != 0 || dash == NULL || sscanf(dash + 3, "%63s", type) != 1)
            continue;
        *dev = makedev(major, minor);
        found = true;
    }
    free(line);
    fclose(info);
    return found;
}

bool mount_table_is_fuse(const char *path)
{
    dev_t dev;
    char type[64];
    return find_mount(path, &dev, type) && strncmp(type, "fuse", 4) == 0;
}

dev_t mount_table_device(const char *path)
{
    dev_t dev;
    char type[64];
    return find_mount(path, &dev, type) ? dev : 0;
}
