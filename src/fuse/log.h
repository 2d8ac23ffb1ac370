/* log.h - the daemon's messages.
 *
 * In the foreground they go to stderr as "slicefs: ..."; once the daemon
 * has detached (log_use_syslog), to syslog with facility LOG_DAEMON. Levels
 * are syslog's (LOG_ERR, LOG_WARNING, LOG_INFO). Request tracing is
 * libfuse's own (-d / -o debug).
 */
#ifndef SLICEFS_LOG_H
#define SLICEFS_LOG_H

#include <syslog.h>

void log_use_syslog(void);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
