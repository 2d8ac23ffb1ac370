/* fuse_ops.h - the FUSE low-level operations: translation only.
 *
 * Every operation looks the inode up in the path tree, calls into the core,
 * and replies exactly once. The read and write paths take no lock and
 * allocate nothing: reads reply with an iovec into the mapping, writes copy
 * the request from libfuse's receive buffer straight into the mapping.
 */
#ifndef SLICEFS_FUSE_OPS_H
#define SLICEFS_FUSE_OPS_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include "slicefs/path_tree.h"
#include "slicefs/window_set.h"
#include "slicefs/window_table.h"
#include "slicefs/window_times.h"

struct control;

/* -o cache=: how long the kernel may keep a window's pages and attributes. */
enum cache_mode {
    CACHE_AUTO,   /* keep pages across opens until the backing file changes outside */
    CACHE_ALWAYS, /* keep pages across opens; attributes for a long time */
    CACHE_NEVER,  /* every read and write is a request (direct I/O) */
};

/* Backing files a live mount may open beyond those it began with
 * (slicefsctl add): the front end's per-file structures are sized once. */
#define LIVE_BACKINGS_ADDED_MAX 256

struct slicefs_fs {
    /* The windows the mount began with, and the backing files they opened
     * (which stay open until the end): window_times' table. */
    struct window_table table;
    struct path_tree tree; /* of table: the numbers of the windows it began with */
    /* The windows shown now (RCU: read with live_set() inside a request,
     * replaced by control.c; window_set.h). */
    struct window_set *live;
    struct window_set_list sets; /* every set not yet freed */
    struct window_times times;   /* per-window times and digests (state) */
    enum cache_mode cache;
    bool single_thread;            /* -s: no handler may wait on another request */
    bool prefetch;                 /* fill the kernel's cache around small reads */
    bool io_uring;                 /* -o io_uring asked (said in the log at init) */
    struct write_handles *writers; /* per backing file: handles that may write */
    struct prefetcher *prefetcher; /* the store thread and its queue */
    struct fuse_session *session;  /* set before the loop starts; for notifications */
    uid_t uid;                     /* the mounting user: owns the folders, cow windows */
    gid_t gid;
    mode_t umask;            /* -o umask: bits nothing shows */
    struct timespec started; /* times of the directories */
    size_t backing_capacity; /* backing files the per-file structures have room for */
    struct control *control; /* the control socket (control.h), or NULL */
};

extern const struct fuse_lowlevel_ops slicefs_ops;

#endif
