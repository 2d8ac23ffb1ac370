/* ops.h - what the FUSE operation files share (not a public interface).
 *
 * The operations are split by concern: ops_inode.c (lookup, attributes,
 * directories, open, statfs), ops_data.c (read, write, fsync, lseek,
 * fallocate, copy_file_range), ops_xattr.c, ops_names.c (what only window
 * sources may do); fuse_ops.c holds init and the operation table. Every
 * operation replies exactly once.
 */
#ifndef SLICEFS_OPS_H
#define SLICEFS_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <urcu-bp.h>

#include "fuse_ops.h"
#include "slicefs/permission.h"

/* Names change only through the control socket, which tells the kernel
 * (control.c); sizes only of growable windows (and by the control socket); times
 * may be as old as the attribute timeout (the kernel forgets a window's
 * after a write through it, and the daemon tells it of other windows'). */
#define ENTRY_TIMEOUT 3600.0
#define ATTR_TIMEOUT_AUTO 1.0
#define ATTR_TIMEOUT_ALWAYS 60.0
#define ATTR_TIMEOUT_NEVER 0.0

static inline struct slicefs_fs *fs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

/* The windows the mount shows now. Only inside a request handler (the
 * operation table runs each in an RCU read-side critical section, so the
 * set stays valid until the handler returns) or on the control thread. */
static inline struct window_set *live_set(struct slicefs_fs *fs)
{
    return rcu_dereference(fs->live);
}

/* A window's open handle, fi->fh: the set the window was opened in (held:
 * a window removed while the handle is open keeps working until it is
 * closed), and FH_SYNC when opened with O_DSYNC or O_SYNC (which the
 * kernel does not send with copy_file_range). No allocation per open. */
#define FH_SYNC ((uint64_t)1)

/* Makes fi->fh, holding set. */
void handle_new(struct fuse_file_info *fi, struct window_set *set);

/* The set of handle fi, or NULL (no handle: a folder's, or fi NULL). */
static inline struct window_set *handle_set(const struct fuse_file_info *fi)
{
    return fi != NULL ? (struct window_set *)(uintptr_t)(fi->fh & ~FH_SYNC) : NULL;
}

/* Drops fi's handle (at release, or when the open's reply failed). */
void handle_free(struct fuse_file_info *fi);

/* Drops a hold of set; the last one frees it once no request can still use
 * it: after a grace period that begins when it leaves the mount's list of
 * sets, since requests find sets there too (set_for) and through handles,
 * and another request of the handle whose release drops it may still be
 * finishing (prefetch_around after a read's reply). */
void drop_set(struct window_set *set);

/* fuse_reply_open; when the reply fails (the open was interrupted), no
 * release will come: the handle is dropped here. Returns fuse_reply_open's
 * result. */
int reply_open(fuse_req_t req, struct fuse_file_info *fi);

/* The set that has ino for a request, with ino resolved into *entry: the
 * live one, or, for an inode it no longer has, the set of the handle fi (a
 * window removed while this handle was open keeps working until it is
 * closed), else the newest set of the mount that has it (handles of a
 * removed window keep it); NULL when none has it. fi may be NULL. */
struct window_set *set_for(struct slicefs_fs *fs, fuse_ino_t ino, const struct fuse_file_info *fi,
                           struct tree_entry *entry);

/* The window of an entry resolved (found) or not: NULL, and *error says
 * why (ENOENT: not found, EISDIR: a folder). */
const struct window *window_in(const struct tree_entry *entry, bool found, int *error);

/* How long the kernel may keep the attributes st: a window's, as its cache
 * mode says; a folder's never change (ENTRY_TIMEOUT). The kernel checks
 * permissions on cached attributes (default_permissions), so a folder's
 * long timeout spares a GETATTR per path walk under cache=never. */
double attr_timeout(const struct slicefs_fs *fs, const struct stat *st);

/* The window behind ino (in set_for's set), computed into *entry if need
 * be; or NULL, and *error says why (ENOENT, EISDIR). fi may be NULL. */
const struct window *window_of(fuse_req_t req, fuse_ino_t ino, const struct fuse_file_info *fi,
                               struct tree_entry *entry, int *error);

/* Bracket every change a request makes to w's backing files (nothing for
 * a cow window, whose changes stay in its overlay): a check for outside
 * changes meanwhile concludes nothing, and the stamp after it is the
 * mount's own (backing_change_begin). Every begin has its end, on every
 * path. */
void changes_begin(const struct window *w);
void changes_end(const struct window *w);

/* Bytes [offset, offset + length) of w (in w's coordinates) were just
 * changed through the mount by a request on ino: every window over them
 * gets new times (window_times.h) and the other windows drop their cached
 * pages. Call before replying. */
void bytes_changed(struct slicefs_fs *fs, fuse_ino_t ino, const struct window *w, uint64_t offset,
                   uint64_t length);

/* st was just read from w's backing file by a request on ino. If it shows
 * a change the mount did not make: with the state on, the windows whose
 * bytes changed are found by content and get new times, and the kernel
 * forgets what it cached of them (pages only with cache=auto); with the
 * state off, cache=auto drops every window of that file. Returns whether
 * ino's own bytes may have changed (the caller drops its pages: keep_cache
 * at open). */
bool outside_change(struct slicefs_fs *fs, fuse_ino_t ino, const struct window *w,
                    const struct stat *st);

/* Whether the process behind req may have the access want (PERMISSION_*
 * bits) to a file that shows attr; permission_allows() with the caller's
 * supplementary groups, read (from /proc) only when they can matter. */
bool caller_may(fuse_req_t req, const struct shown_attr *attr, int want);

/* Whether the process behind req owns a file that shows attr, or is root. */
bool caller_owns(fuse_req_t req, const struct shown_attr *attr);

/* window_of, but replies with the error when there is no window (NULL). */
const struct window *window_or_reply(fuse_req_t req, fuse_ino_t ino,
                                     const struct fuse_file_info *fi, struct tree_entry *entry);

/* Says once per backing file (in the log) that windows following its size
 * reached the end of its mapping. */
void note_mapping_limit(const struct window *w);

/* Replies with the negative errno res from window_io; an EFBIG of a
 * growable window is logged once (note_mapping_limit). */
void reply_refused(fuse_req_t req, const struct window *w, int res);

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_readlink(fuse_req_t req, fuse_ino_t ino);
void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                struct fuse_file_info *fi);
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi);
void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
                  struct fuse_file_info *fi);
void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi);
void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                  struct fuse_file_info *fi);
void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
                        struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
                        struct fuse_file_info *fi_out, size_t len, int flags);
void op_statfs(fuse_req_t req, fuse_ino_t ino);
void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
                 int flags);
void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);
void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
               const char *newname, unsigned int flags);
void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
               struct fuse_file_info *fi);

#endif
