/* archive_member.c - what the archive parsers share (archive_member.h). */
#include "slicefs/archive_member.h"

#include <stdarg.h>
#include <stdio.h>

void archive_warn(archive_warn_fn *warn, void *arg, const char *format, ...)
{
    if (warn == NULL)
        return;
    char message[512];
    va_list ap;
    va_start(ap, format);
    vsnprintf(message, sizeof message, format, ap);
    va_end(ap);
    warn(arg, message);
}
