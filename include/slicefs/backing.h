/* backing.h - a backing file, opened once and mapped once.
 *
 * The shared mapping (MAP_SHARED) serves ro and rw windows; it is writable
 * only when some rw window needs it. The private overlay (MAP_PRIVATE,
 * writable) serves every cow window of the file, so overlapping cow windows
 * see each other's writes and none reach the file. Both cover the file's
 * size when mapped; when a window follows the file's size (LENGTH "end"),
 * the shared mapping also reaches GROW_RESERVE bytes past it, so that the
 * file can grow under a live mapping without moving it: pages past the end
 * fault (SIGBUS, EFAULT) until the file reaches them.
 *
 * After backing_map() the struct is read-only and shared by all request
 * threads without a lock, but for cur_size (atomic; changed under
 * grow_lock) and the change-detection atomics.
 */
#ifndef SLICEFS_BACKING_H
#define SLICEFS_BACKING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "slicefs/error.h"
#include "slicefs/file_identity.h"

/* How far a file may grow under a live mapping (address space only):
 * 1 TiB, or SLICEFS_GROW_RESERVE bytes from the environment (tools that
 * shadow every mapped byte, such as valgrind, want a small one). */
#define GROW_RESERVE ((uint64_t)1 << 40)
uint64_t backing_grow_reserve(void);

struct backing {
    char *path;      /* as the user gave it; for messages */
    char *real_path; /* absolute, symlinks resolved; for xattrs and --list */
    int fd;
    dev_t dev; /* identity, so one file named twice is opened once */
    ino_t ino;
    struct file_identity identity; /* stable across remounts (file_identity.h) */
    bool writable;                 /* fd is open O_RDWR */
    bool is_block_device;
    uint64_t opened_size; /* size when opened */
    uint64_t size;        /* size when opened, then when mapped (after -o extend) */
    size_t map_len;       /* size, plus GROW_RESERVE if want_reserve; 0: nothing mapped */
    bool want_shared;     /* set before backing_map() by the window table */
    bool want_shared_write;
    bool want_private;
    bool want_reserve;          /* some window follows the file's size */
    uint64_t grow_to;           /* -o extend: the size every declared window needs */
    bool created;               /* -o create made this file */
    size_t index;               /* its place in the window table's list of files */
    _Atomic uint64_t cur_size;  /* the size as last seen or set */
    pthread_mutex_t grow_lock;  /* serialises changes of the file's size */
    unsigned char *shared_map;  /* NULL unless mapped */
    unsigned char *private_map; /* NULL unless mapped */
    /* Change detection for cache=auto; atomics, shared by request threads. */
    _Atomic uint64_t seen_stamp;  /* size and ctime when last checked or changed by us */
    atomic_int changes_under_way; /* backing_change_begin without its end yet */
    atomic_int writeback_error;   /* first failed write-back (errno), sticky */
    atomic_bool limit_reached;    /* backing_limit_first_reached was called */
};

/* Opens path read-write (read-only when read_only, or when the file cannot
 * be opened for writing) and records its identity and size. It must be a
 * regular file or a block device. Returns 0, or -1 with a message. */
int backing_open(struct backing *b, const char *path, bool read_only, struct sfs_error *err);

/* Like backing_open, on fd, already open (O_RDWR when writable) on path;
 * takes fd over, also on failure. */
int backing_open_fd(struct backing *b, int fd, const char *path, bool writable,
                    struct sfs_error *err);

/* Grows the file to grow_to if it is smaller (sparsely), then creates the
 * mappings the want_* flags ask for. Returns 0 or -1. */
int backing_map(struct backing *b, struct sfs_error *err);

/* The file's size as last seen (cheap, no system call). */
static inline uint64_t backing_size_now(const struct backing *b)
{
    return atomic_load_explicit(&b->cur_size, memory_order_acquire);
}

/* fstat of the file into *st, under grow_lock, recording the size it saw
 * as the size now: a size read before a concurrent resize can never be
 * stored after it. Returns 0 or a negative errno. */
int backing_refresh(struct backing *b, struct stat *st);

/* True the first time it is called for b, then false: for saying once that
 * the file reached the end of its mapping (grew past it outside the mount,
 * or a window that follows its size was refused growth with EFBIG). */
bool backing_limit_first_reached(struct backing *b);

/* Sets the file's size to size (truncating or growing it sparsely); when
 * grow_only, leaves a file that is already at least that large alone.
 * Returns 0, -EFBIG past the mapping's reserve, or a negative errno. */
int backing_resize(struct backing *b, uint64_t size, bool grow_only);

/* Writes back the pages of the shared mapping that cover [off, off+len) and
 * waits for them (msync MS_SYNC, which also commits the metadata needed to
 * read them back). Returns 0 or a negative errno. A failed write-back is
 * sticky: the kernel reports it only once and drops the dirty pages, so
 * every later call, for any range of this file, fails with it too. */
int backing_sync(struct backing *b, uint64_t off, uint64_t len);

/* Makes [off, off+len) read back as zeros: in the file (punching a hole
 * where the file system can, else zeroing) or, when private, in the cow
 * overlay only. Returns 0 or a negative errno. */
int backing_zero(const struct backing *b, uint64_t off, uint64_t len, bool private);

/* fallocate(mode, off, len) on the file; mode keeps the size
 * (FALLOC_FL_KEEP_SIZE), and the range lies inside the mapping. Returns 0
 * or a negative errno. */
int backing_fallocate(const struct backing *b, int mode, uint64_t off, uint64_t len);

/* Bytes of [off, off+len) that the backing file has allocated (data, not
 * holes), found with SEEK_DATA/SEEK_HOLE. Where the file system cannot
 * tell, or past SCAN_LIMIT extents, the rest counts as allocated. */
uint64_t backing_allocated(const struct backing *b, uint64_t off, uint64_t len);

/* SEEK_DATA or SEEK_HOLE (whence) from off, limited to [lo, hi): the
 * result, hi for a hole that lasts to hi, or a negative errno (-ENXIO: no
 * data from off to hi). */
int64_t backing_seek(const struct backing *b, uint64_t off, int whence, uint64_t lo, uint64_t hi);

/* Whether the file, at its size now (fstat: a truncation from outside
 * counts at once), holds all of [off, off+len). False if fstat fails. */
bool backing_holds(const struct backing *b, uint64_t off, uint64_t len);

/* The page size the mappings work in. */
uint64_t backing_page_size(void);

/* Change detection: the file's stamp is its size and ctime, which nobody
 * can set back (touch can set the mtime back; the kernel moves the ctime
 * on every change, also on touch). The mount records the stamp the file has
 * after each change it makes itself, so that what it sees later and did
 * not make is a change from outside. (A change from outside between the
 * mount's own change and its fstat right after is taken for the mount's.) */

/* Brackets a change the mount makes to the file (a write, a truncation, a
 * hole punched, times set): between the two, a check of its stamp sees the
 * file mid-change (the kernel moves the ctime at the first store into a
 * clean page) and concludes nothing; backing_change_end records the stamp
 * the file has after it as the mount's own (one fstat). */
void backing_change_begin(struct backing *b);
void backing_change_end(struct backing *b);

/* Whether st, the file's status just read, shows a change the mount did not
 * make since the last call (or the last backing_change_end). While a change
 * of the mount's is under way, false, and nothing is recorded. */
bool backing_changed_outside(struct backing *b, const struct stat *st);

/* Syncs and unmaps everything, closes the file. Returns 0, or the first
 * negative errno that the final write-back reported. */
int backing_close(struct backing *b);

#endif
