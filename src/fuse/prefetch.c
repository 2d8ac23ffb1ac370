/* prefetch.c - the kernel's page cache filled around small reads. */
#include "prefetch.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* An open for writing whose reply waits for the stores under way. */
struct deferred_open {
    fuse_req_t req;
    struct fuse_file_info fi;
    struct deferred_open *next;
};

struct backing_use {
    pthread_mutex_t lock;
    unsigned write_opens;           /* handles that may write */
    unsigned storing;               /* prefetches under way */
    struct deferred_open *deferred; /* opens waiting for storing == 0 */
};

int prefetch_init(struct slicefs_fs *fs)
{
    size_t count = fs->table.backing_count;
    fs->uses = calloc(count ? count : 1, sizeof *fs->uses);
    if (fs->uses == NULL)
        return -1;
    for (size_t i = 0; i < count; i++)
        pthread_mutex_init(&fs->uses[i].lock, NULL);
    return 0;
}

void prefetch_free(struct slicefs_fs *fs)
{
    if (fs->uses == NULL)
        return;
    for (size_t i = 0; i < fs->table.backing_count; i++)
        pthread_mutex_destroy(&fs->uses[i].lock);
    free(fs->uses);
    fs->uses = NULL;
}

/* Stores [from, to) of window w into the kernel's cache of inode ino. The
 * kernel copies each page from the mapping while it holds that page
 * locked, so a concurrent write through another handle of an overlapping
 * window (stored before its pages are unlocked) or an invalidation (sent
 * after the mapping changed) is never undone by an older copy. */
static void store_range(struct slicefs_fs *fs, fuse_ino_t ino, const struct window *w,
                        uint64_t from, uint64_t to)
{
    if (to <= from)
        return;
    struct fuse_bufvec data = FUSE_BUFVEC_INIT((size_t)(to - from));
    data.buf[0].mem = window_data(w) + from;
    /* An error (EFAULT: a lost page) only means less was stored. */
    (void)fuse_lowlevel_notify_store(fs->session, ino, (off_t)from, &data, FUSE_BUF_NO_SPLICE);
}

void prefetch_around(struct slicefs_fs *fs, fuse_ino_t ino, const struct window *w,
                     uint64_t off, size_t count)
{
    /* The size of a window that follows its file's may have moved: a store
     * past the kernel's idea of it would set the size there. */
    if (!fs->prefetch || count >= PREFETCH_BELOW || w->follows_size)
        return;
    if (atomic_fetch_add(&fs->prefetching, 1) >= PREFETCH_MAX_AT_ONCE) {
        atomic_fetch_sub(&fs->prefetching, 1);
        return;
    }
    struct backing_use *use = &fs->uses[w->backing->index];
    pthread_mutex_lock(&use->lock);
    bool may_store = use->write_opens == 0;
    if (may_store)
        use->storing++;
    pthread_mutex_unlock(&use->lock);

    if (may_store) {
        uint64_t length = window_length(w);
        uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
        uint64_t start = off / PREFETCH_BLOCK * PREFETCH_BLOCK;
        uint64_t end = length - start > PREFETCH_BLOCK ? start + PREFETCH_BLOCK : length;
        uint64_t read_from = off / page * page;
        uint64_t read_to = (off + count + page - 1) / page * page;
        /* The pages just read are in the cache already. */
        store_range(fs, ino, w, start, read_from < end ? read_from : end);
        store_range(fs, ino, w, read_to < end ? read_to : end, end);

        pthread_mutex_lock(&use->lock);
        struct deferred_open *ready = NULL;
        if (--use->storing == 0) {
            ready = use->deferred;
            use->deferred = NULL;
        }
        pthread_mutex_unlock(&use->lock);
        while (ready != NULL) {
            struct deferred_open *next = ready->next;
            fuse_reply_open(ready->req, &ready->fi);
            free(ready);
            ready = next;
        }
    }
    atomic_fetch_sub(&fs->prefetching, 1);
}

bool prefetch_open_for_write(struct slicefs_fs *fs, fuse_req_t req, const struct window *w,
                             const struct fuse_file_info *fi)
{
    struct backing_use *use = &fs->uses[w->backing->index];
    pthread_mutex_lock(&use->lock);
    use->write_opens++;
    bool defer = false;
    if (use->storing > 0) {
        struct deferred_open *d = malloc(sizeof *d);
        if (d != NULL) {
            *d = (struct deferred_open){req, *fi, use->deferred};
            use->deferred = d;
            defer = true;
        }
    }
    /* Out of memory: the stores under way are waited for here instead. */
    while (!defer && use->storing > 0) {
        pthread_mutex_unlock(&use->lock);
        usleep(100);
        pthread_mutex_lock(&use->lock);
    }
    pthread_mutex_unlock(&use->lock);
    return defer;
}

void prefetch_release_writer(struct slicefs_fs *fs, const struct window *w)
{
    struct backing_use *use = &fs->uses[w->backing->index];
    pthread_mutex_lock(&use->lock);
    use->write_opens--;
    pthread_mutex_unlock(&use->lock);
}
