/* write_handles.c - handles that may write, and opens deferred for stores. */
#include "write_handles.h"

#include "ops.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

/* An open for writing whose reply waits for a store under way. */
struct deferred_open {
    fuse_req_t req;
    struct fuse_file_info fi;
    struct deferred_open *next;
};

/* One per backing file; every field is guarded by lock. */
struct write_handles {
    pthread_mutex_t lock;
    unsigned write_opens;           /* handles that may write */
    bool storing;                   /* the store thread is storing into it */
    struct deferred_open *deferred; /* opens waiting for storing to end */
};

int write_handles_init(struct slicefs_fs *fs)
{
    size_t count = fs->table.backing_count + LIVE_BACKINGS_ADDED_MAX;
    fs->writers = calloc(count, sizeof *fs->writers);
    if (fs->writers == NULL)
        return -1;
    for (size_t i = 0; i < count; i++)
        pthread_mutex_init(&fs->writers[i].lock, NULL);
    fs->backing_capacity = count;
    return 0;
}

void write_handles_free(struct slicefs_fs *fs)
{
    if (fs->writers == NULL)
        return;
    for (size_t i = 0; i < fs->backing_capacity; i++)
        pthread_mutex_destroy(&fs->writers[i].lock);
    free(fs->writers);
    fs->writers = NULL;
}

static struct write_handles *handles_of(struct slicefs_fs *fs, const struct backing *b)
{
    assert(b->index < fs->backing_capacity);
    return &fs->writers[b->index];
}

/* Replies to an open counted as one that may write; if it was interrupted,
 * no release will come for it, so it is uncounted here. */
static void reply_counted_open(fuse_req_t req, struct fuse_file_info *fi, struct write_handles *h)
{
    if (reply_open(req, fi) != 0) {
        pthread_mutex_lock(&h->lock);
        assert(h->write_opens > 0);
        h->write_opens--;
        pthread_mutex_unlock(&h->lock);
    }
}

void write_handles_open(struct slicefs_fs *fs, fuse_req_t req, const struct window *w,
                        struct fuse_file_info *fi)
{
    struct write_handles *h = handles_of(fs, w->backing);
    pthread_mutex_lock(&h->lock);
    if (h->storing) {
        /* Its reply is sent by the store thread when the store ends. */
        struct deferred_open *d = malloc(sizeof *d);
        if (d != NULL) {
            h->write_opens++;
            *d = (struct deferred_open){req, *fi, h->deferred};
            h->deferred = d;
        }
        pthread_mutex_unlock(&h->lock);
        if (d == NULL) {
            handle_free(fi);
            fuse_reply_err(req, ENOMEM);
        }
        return;
    }
    h->write_opens++;
    pthread_mutex_unlock(&h->lock);
    reply_counted_open(req, fi, h);
}

void write_handles_release(struct slicefs_fs *fs, const struct backing *b)
{
    struct write_handles *h = handles_of(fs, b);
    pthread_mutex_lock(&h->lock);
    assert(h->write_opens > 0);
    h->write_opens--;
    pthread_mutex_unlock(&h->lock);
}

bool write_handles_store_begin(struct slicefs_fs *fs, const struct backing *b)
{
    struct write_handles *h = handles_of(fs, b);
    pthread_mutex_lock(&h->lock);
    assert(!h->storing);
    h->storing = h->write_opens == 0;
    bool may_store = h->storing;
    pthread_mutex_unlock(&h->lock);
    return may_store;
}

void write_handles_store_end(struct slicefs_fs *fs, const struct backing *b)
{
    struct write_handles *h = handles_of(fs, b);
    pthread_mutex_lock(&h->lock);
    assert(h->storing);
    h->storing = false;
    struct deferred_open *ready = h->deferred;
    h->deferred = NULL;
    pthread_mutex_unlock(&h->lock);
    while (ready != NULL) {
        struct deferred_open *next = ready->next;
        reply_counted_open(ready->req, &ready->fi, h);
        free(ready);
        ready = next;
    }
}
