/* control.h - the control socket: slicefsctl's commands on a live mount.
 *
 * One thread accepts connections on a Unix socket (control_protocol.h says
 * where and what is said), checks who is asking (SO_PEERCRED: the user who
 * mounted, or root), and runs one command at a time: it plans the change
 * (window_set.h), checks it exactly as the same input would be checked at
 * mount time, writes the table to -o save=FILE if asked, publishes the new
 * set (RCU), waits until no request still uses the old one, and only then
 * tells the kernel what changed (names gone, names new, sizes and pages),
 * so that no reply made from the old set can be cached after it. Requests
 * never wait for a command: they read whichever set is current.
 */
#ifndef SLICEFS_CONTROL_H
#define SLICEFS_CONTROL_H

#include "fuse_ops.h"

struct control_config {
    const char *mountpoint;      /* absolute, as mounted */
    const char *save;            /* -o save=FILE (absolute), or NULL */
    const char *default_backing; /* BACKING (absolute), or NULL */
    const char *start_dir;       /* the folder slicefs was started in: relative paths of reload */
    /* Reads the window sources given at mount into table (for reload):
     * opens files, never creates or grows them. Returns 0 or -1. */
    int (*read_sources)(const void *arg, struct window_table *table, struct sfs_error *err);
    const void *read_sources_arg;
};

/* Creates the socket for fs (before the mount goes live and before
 * fuse_daemonize: the descriptor survives the fork). Returns NULL, after a
 * warning in the log, where it cannot: the mount goes on without runtime
 * control. */
struct control *control_open(struct slicefs_fs *fs, const struct control_config *config);

/* Writes table to path atomically (-o save=FILE): a new file beside it,
 * synced, renamed over it, and the folder synced; a comment names
 * mountpoint. Returns 0 or -1 with a message. */
int control_save_table(const char *path, const char *mountpoint, const struct window_table *table,
                       struct sfs_error *err);

/* Starts the thread (after fuse_daemonize). Returns 0 or a negative errno. */
int control_start(struct control *c);

/* Removes the socket's name (when the request loop has ended): a new
 * mount on the same mount point may take it while this daemon ends. */
void control_unlink(struct control *c);

/* Stops the thread, removes the socket and frees c (NULL: nothing), with
 * the records of windows added while mounted: after the request loop has
 * ended. */
void control_stop(struct control *c);

/* The socket's path, or NULL (c NULL). */
const char *control_socket_path(const struct control *c);

#endif
