#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static bool use_syslog;

void log_use_syslog(void)
{
    openlog("slicefs", LOG_PID, LOG_DAEMON);
    use_syslog = true;
}

void log_msg(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (use_syslog) {
        vsyslog(level, fmt, ap);
    } else {
        fputs("slicefs: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
}
