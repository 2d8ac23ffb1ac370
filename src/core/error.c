#include "slicefs/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Shortens text (len bytes) to at most room bytes by cutting its middle out
 * for "...", never inside a UTF-8 sequence. Returns the new length. */
static size_t cut_middle(char *text, size_t len, size_t room)
{
    if (len <= room)
        return len;
    if (room < 3)
        return 0;
    size_t head = (room - 3) / 2;
    size_t tail_start = len - (room - 3 - head);
    while (head > 0 && ((unsigned char)text[head] & 0xC0) == 0x80)
        head--;
    while (tail_start < len && ((unsigned char)text[tail_start] & 0xC0) == 0x80)
        tail_start++;
    memcpy(text + head, "...", 3);
    memmove(text + head + 3, text + tail_start, len - tail_start);
    return head + 3 + (len - tail_start);
}

int sfs_error_prefix(struct sfs_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *prefix = n < 0 ? NULL : malloc((size_t)n + 3);
    if (prefix != NULL)
        vsnprintf(prefix, (size_t)n + 1, fmt, again);
    va_end(again);
    if (prefix == NULL)
        return -1;
    /* A long prefix (an option quoting a 4 KiB path) is cut in its middle
     * rather than crowding out the reason that follows it. */
    size_t old = strnlen(err->msg, sizeof err->msg - 1);
    size_t limit = sizeof err->msg - 1 - 2; /* prefix + ": " + old message */
    size_t plen = cut_middle(prefix, (size_t)n, old + 200 <= limit ? limit - old : 200);
    memcpy(prefix + plen, ": ", 2);
    plen += 2;
    if (old > sizeof err->msg - 1 - plen)
        old = sizeof err->msg - 1 - plen;
    memmove(err->msg + plen, err->msg, old);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + old] = '\0';
    free(prefix);
    return -1;
}
