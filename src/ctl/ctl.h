/* ctl.h - the parts of slicefsctl (the runtime control client): finding a
 * mount's control socket (find_socket.c) and one exchange over it
 * (exchange.c). The protocol itself is include/slicefs/control_protocol.h.
 *
 * Both say what went wrong on stderr, as "slicefsctl: ..." lines naming the
 * path and the errno text; the caller only chooses the exit status.
 */
#ifndef SLICEFS_CTL_H
#define SLICEFS_CTL_H

#include <stddef.h>

/* ctl_warn(fmt, ...) prints "slicefsctl: " and the formatted line. */
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The path of the control socket of the mount at mountpoint: the one its
 * daemon shows in the attribute CONTROL_XATTR; where that cannot be read
 * (a plain folder, or root asking about another user's mount), the first
 * socket named control_socket_name(the mount point's absolute path) in
 * control_socket_dir(getuid()), /run/slicefs, /run/user/UID/slicefs and
 * ${TMPDIR:-/tmp}/slicefs-UID (every UID) that is owned by its folder's
 * owner, in a folder nobody else may write to.
 * Allocated; NULL (said) when there is none. */
char *ctl_find_socket(const char *mountpoint);

struct ctl_reply {
    int status;  /* the reply's status line */
    char *data;  /* the whole reply (allocated) */
    size_t body; /* where the body starts in data */
    size_t len;  /* bytes in data */
};

/* Connects to the socket at path, sends the len bytes of request, shuts
 * down the sending side and reads the whole reply, all within timeout_ms
 * milliseconds. Returns 0 with *reply filled (free its data), or -1 (said):
 * no connection, a timeout, a reply without a status line. */
int ctl_exchange(const char *path, const char *request, size_t len, long timeout_ms,
                 struct ctl_reply *reply);

#endif
