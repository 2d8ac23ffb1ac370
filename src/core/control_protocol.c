/* control_protocol.c - see control_protocol.h. */
#include "slicefs/control_protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/file_identity.h"

/* Mixed into the socket name's hash, so that it is no other hash of the
 * path slicefs computes ("slctlsck"). */
#define CONTROL_NAME_TAG 0x6b63736c74636c73ULL

/* The value of the environment variable name when it is an absolute path,
 * else NULL (unset, empty or relative: it would depend on the cwd). */
static const char *absolute_env(const char *name)
{
    const char *value = getenv(name);
    return value != NULL && value[0] == '/' ? value : NULL;
}

char *control_socket_dir(uid_t uid)
{
    const char *runtime = absolute_env("XDG_RUNTIME_DIR");
    const char *tmp = absolute_env("TMPDIR");
    char *dir = NULL;
    int n;
    if (runtime != NULL)
        n = asprintf(&dir, "%s/slicefs", runtime);
    else if (uid == 0)
        n = asprintf(&dir, "/run/slicefs");
    else
        n = asprintf(&dir, "%s/slicefs-%lu", tmp != NULL ? tmp : "/tmp", (unsigned long)uid);
    return n < 0 ? NULL : dir;
}

void control_socket_name(const char *mount_path, char out[CONTROL_SOCKET_NAME_MAX])
{
    uint64_t hash = file_identity_hash(NULL, mount_path, CONTROL_NAME_TAG);
    snprintf(out, CONTROL_SOCKET_NAME_MAX, "%016llx.sock", (unsigned long long)hash);
}

int control_request_split(const char *buf, size_t len, const char *args[CONTROL_MAX_ARGS],
                          struct sfs_error *err)
{
    if (len == 0)
        return sfs_error_set(err, "empty request (no command)");
    if (len > CONTROL_REQUEST_MAX)
        return sfs_error_set(err, "request of %zu bytes (at most %d)", len, CONTROL_REQUEST_MAX);
    if (buf[len - 1] != '\0')
        return sfs_error_set(err, "the request (%zu bytes) does not end with a NUL byte", len);
    int count = 0;
    for (size_t at = 0; at < len; at += strlen(buf + at) + 1) {
        if (buf[at] == '\0')
            return sfs_error_set(err, "argument %d of the request is empty", count + 1);
        if (count == CONTROL_MAX_ARGS)
            return sfs_error_set(err, "more than %d arguments in the request", CONTROL_MAX_ARGS);
        args[count++] = buf + at;
    }
    return count;
}

int control_request_join(const char *const *args, int count, char *buf, size_t capacity,
                         struct sfs_error *err)
{
    if (count < 1 || count > CONTROL_MAX_ARGS)
        return sfs_error_set(err, "a request has 1 to %d arguments, not %d", CONTROL_MAX_ARGS,
                             count);
    size_t limit = capacity < CONTROL_REQUEST_MAX ? capacity : CONTROL_REQUEST_MAX;
    size_t len = 0;
    for (int i = 0; i < count; i++) {
        size_t n = strlen(args[i]);
        if (n == 0)
            return sfs_error_set(err, "argument %d is empty", i + 1);
        if (n >= limit - len)
            return sfs_error_set(err,
                                 "the request does not fit in %zu bytes at argument %d (%zu bytes)",
                                 limit, i + 1, n);
        memcpy(buf + len, args[i], n + 1);
        len += n + 1;
    }
    return (int)len;
}

long control_reply_parse(const char *buf, size_t len, int *status, struct sfs_error *err)
{
    int value = 0;
    size_t i = 0;
    while (i < len && i < 3 && buf[i] >= '0' && buf[i] <= '9')
        value = value * 10 + (buf[i++] - '0');
    if (i == 0 || i == len || buf[i] != '\n' || value > 255 || (buf[0] == '0' && i > 1)) {
        /* Quote the start of it, with what is not printable as '?'. */
        char start[24];
        size_t n = len < sizeof start - 1 ? len : sizeof start - 1;
        for (size_t k = 0; k < n; k++)
            start[k] = buf[k] >= ' ' && buf[k] <= '~' ? buf[k] : '?';
        start[n] = '\0';
        return sfs_error_set(err, "the reply (%zu bytes: '%s%s') does not start with a status line",
                             len, start, len > n ? "..." : "");
    }
    *status = value;
    return (long)i + 1;
}
