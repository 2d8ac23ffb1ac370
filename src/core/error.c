#include "slicefs/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sfs_error_set(struct sfs_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int sfs_error_prefix(struct sfs_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    char prefix[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    /* prefix + ": " + old message, cut to fit. */
    size_t plen = strlen(prefix);
    memcpy(prefix + plen, ": ", 3);
    plen += 2;
    size_t room = sizeof err->msg - 1 - plen;
    size_t old = strnlen(err->msg, sizeof err->msg - 1);
    if (old > room)
        old = room;
    memmove(err->msg + plen, err->msg, old);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + old] = '\0';
    return -1;
}
