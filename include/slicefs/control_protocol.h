/* control_protocol.h - how slicefsctl talks to a live mount's daemon.
 *
 * The channel: a Unix stream socket the daemon creates when it mounts, in
 * a folder only its user can enter (0700): $XDG_RUNTIME_DIR/slicefs, else
 * /run/slicefs for root, else /tmp/slicefs-UID. Its name is a hash of the
 * mount point's absolute path (control_socket_name), so that a client finds
 * it from the mount point alone, and a daemon that finds a socket of that
 * name nobody answers on (a killed daemon's) replaces it. The daemon also
 * shows the socket's path in the extended attribute user.slicefs.control of
 * the mount's root folder.
 *
 * One command per connection. The request is the command's arguments, each
 * followed by a NUL byte ("add\0p1:0:4096\0/abs/backing\0"), at most
 * CONTROL_REQUEST_MAX bytes, ended by the client shutting down its sending
 * side. The reply is a decimal exit status and a newline ("0\n"), then the
 * body: the output (list) when the status is 0, else a message (one or
 * more lines) saying what was refused; the daemon then closes the
 * connection. Statuses: 0 done; 1 refused (bad input, not allowed: nothing
 * changed); 2 failed (the daemon could not do it: nothing changed).
 *
 * Commands (paths of backing files are absolute; the client makes them so):
 *   list                      the live windows in window-table format
 *   add SPEC [BACKING]        PATH:OFFSET:LENGTH[:MODE], as -o window=
 *   remove PATH
 *   resize PATH LENGTH
 *   reload                    re-read the window sources given at mount
 */
#ifndef SLICEFS_CONTROL_PROTOCOL_H
#define SLICEFS_CONTROL_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "slicefs/error.h"

#define CONTROL_REQUEST_MAX 65536
#define CONTROL_MAX_ARGS 8
#define CONTROL_XATTR "user.slicefs.control"

enum control_status {
    CONTROL_DONE = 0,
    CONTROL_REFUSED = 1,
    CONTROL_FAILED = 2,
};

/* The folder the sockets of user uid's mounts go in: $XDG_RUNTIME_DIR/slicefs
 * when XDG_RUNTIME_DIR is set and absolute, else /run/slicefs for root, else
 * ${TMPDIR:-/tmp}/slicefs-UID (TMPDIR, too, only when absolute). Allocated;
 * NULL when out of memory. */
char *control_socket_dir(uid_t uid);

/* The socket's file name (no folder) for the mount point whose absolute,
 * symlink-free path is mount_path: 16 hex digits of a hash of the path,
 * then ".sock". Fits in out (CONTROL_SOCKET_NAME_MAX bytes). */
#define CONTROL_SOCKET_NAME_MAX 32
void control_socket_name(const char *mount_path, char out[CONTROL_SOCKET_NAME_MAX]);

/* Splits a request of len bytes (each argument followed by a NUL) into at
 * most CONTROL_MAX_ARGS arguments pointing into buf. Refuses (-1, with a
 * message) an empty request, one that does not end with a NUL, an empty
 * argument, too many arguments. Returns the number of arguments. */
int control_request_split(const char *buf, size_t len, const char *args[CONTROL_MAX_ARGS],
                          struct sfs_error *err);

/* Writes args[0 .. count) as a request into buf (of size capacity). Returns
 * its length, or -1 with a message when it does not fit or an argument
 * is empty. */
int control_request_join(const char *const *args, int count, char *buf, size_t capacity,
                         struct sfs_error *err);

/* Reads the status line at the start of a reply of len bytes: a decimal
 * number from 0 to 255 and a newline. Returns the offset of the body (what
 * follows the newline) and sets *status, or -1 with a message when the
 * reply does not start that way. */
long control_reply_parse(const char *buf, size_t len, int *status, struct sfs_error *err);

#endif
