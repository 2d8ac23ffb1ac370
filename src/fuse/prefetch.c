/* prefetch.c - the kernel's page cache filled around small reads. */
#include "prefetch.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "slicefs/window_io.h"
#include "write_handles.h"

/* A block to store: [start, end) of the window whose first byte is data
 * in the mapping of backing, but the pages [skip_from, skip_to) that the
 * read itself brought in. Nothing of the request's own struct window is
 * kept: a computed one (a chunk) and its name live only as long as the
 * request. */
struct prefetch_job {
    fuse_ino_t ino;
    const struct backing *backing;
    const unsigned char *data;
    uint64_t start, skip_from, skip_to, end;
};

struct prefetcher {
    pthread_t thread;
    bool started;         /* main thread only */
    pthread_mutex_t lock; /* guards queue, head, count and stopping */
    pthread_cond_t wake;  /* signalled when a job is queued or on stopping */
    struct prefetch_job queue[PREFETCH_QUEUE];
    unsigned head, count;
    bool stopping;
    atomic_bool busy; /* a store is under way (set and cleared under lock) */
    bool abandoned;   /* main thread only: stopped without a join; never freed */
};

int prefetch_init(struct slicefs_fs *fs)
{
    if (write_handles_init(fs) < 0)
        return -1;
    fs->prefetcher = calloc(1, sizeof *fs->prefetcher);
    if (fs->prefetcher == NULL) {
        write_handles_free(fs);
        return -1;
    }
    pthread_mutex_init(&fs->prefetcher->lock, NULL);
    pthread_cond_init(&fs->prefetcher->wake, NULL);
    return 0;
}

void prefetch_free(struct slicefs_fs *fs)
{
    struct prefetcher *p = fs->prefetcher;
    /* A thread that never ended may still use them: left to the exit. */
    if (p != NULL && p->abandoned)
        return;
    write_handles_free(fs);
    if (p != NULL) {
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->wake);
        free(p);
        fs->prefetcher = NULL;
    }
}

/* Stores [from, to) of the job's window into the kernel's cache of its
 * inode. The kernel copies each page from the mapping while it holds that
 * page locked, so a concurrent write through another handle of an
 * overlapping window (stored before its pages are unlocked) or an
 * invalidation (sent after the mapping changed) is never undone by an older
 * copy. */
static void store_range(struct slicefs_fs *fs, const struct prefetch_job *job, uint64_t from,
                        uint64_t to)
{
    if (to <= from)
        return;
    struct fuse_bufvec data = FUSE_BUFVEC_INIT((size_t)(to - from));
    data.buf[0].mem = (void *)(job->data + from);
    /* An error (EFAULT: a lost page) only means less was stored. */
    (void)fuse_lowlevel_notify_store(fs->session, job->ino, (off_t)from, &data, FUSE_BUF_NO_SPLICE);
}

static void run_job(struct slicefs_fs *fs, const struct prefetch_job *job)
{
    if (!write_handles_store_begin(fs, job->backing))
        return;
    store_range(fs, job, job->start, job->skip_from);
    store_range(fs, job, job->skip_to, job->end);
    write_handles_store_end(fs, job->backing);
}

static void *store_thread(void *arg)
{
    struct slicefs_fs *fs = arg;
    struct prefetcher *p = fs->prefetcher;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->count == 0 && !p->stopping)
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->stopping)
            break;
        struct prefetch_job job = p->queue[p->head];
        p->head = (p->head + 1) % PREFETCH_QUEUE;
        p->count--;
        atomic_store(&p->busy, true);
        pthread_mutex_unlock(&p->lock);
        run_job(fs, &job);
        pthread_mutex_lock(&p->lock);
        atomic_store(&p->busy, false);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int prefetch_start(struct slicefs_fs *fs)
{
    if (!fs->prefetch)
        return 0;
    int res = pthread_create(&fs->prefetcher->thread, NULL, store_thread, fs);
    if (res != 0) {
        log_msg(LOG_ERR, "cannot start the prefetch thread: %s", strerror(res));
        return -1;
    }
    /* Named, so that ps -L, top -H and the tests can tell it is there. */
    (void)pthread_setname_np(fs->prefetcher->thread, "sfs-prefetch");
    fs->prefetcher->started = true;
    return 0;
}

void prefetch_stop(struct slicefs_fs *fs)
{
    struct prefetcher *p = fs->prefetcher;
    if (p == NULL || !p->started)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    p->count = 0;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    /* A store under way may wait for pages that a request the loop left
     * unread holds locked: serve requests until it has ended (the kernel
     * ends them all at unmount; after a signal it may not have). */
    struct fuse_buf buf = {0};
    int fd = fuse_session_fd(fs->session);
    struct timespec started, now;
    clock_gettime(CLOCK_MONOTONIC, &started);
    while (atomic_load(&p->busy)) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - started.tv_sec > 10) {
            log_msg(LOG_ERR, "a prefetch store did not end within 10 s; leaving it");
            break;
        }
        struct pollfd ready = {fd, POLLIN, 0};
        if (poll(&ready, 1, 10) <= 0)
            continue;
        if (fuse_session_receive_buf(fs->session, &buf) <= 0)
            break;
        fuse_session_process_buf(fs->session, &buf);
    }
    free(buf.mem);
    if (atomic_load(&p->busy)) {
        /* Never joined: the unmount that follows ends the connection, and
         * with it the store. Its state stays allocated for it. */
        pthread_detach(p->thread);
        p->abandoned = true;
    } else {
        pthread_join(p->thread, NULL);
    }
    p->started = false;
}

void prefetch_settle(struct slicefs_fs *fs)
{
    struct prefetcher *p = fs->prefetcher;
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->count = 0;
    while (atomic_load(&p->busy)) {
        pthread_mutex_unlock(&p->lock);
        usleep(1000);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
}

void prefetch_around(struct slicefs_fs *fs, fuse_ino_t ino, const struct window *w, uint64_t off,
                     size_t count)
{
    /* The size of a window that follows its file's may have moved: a store
     * past the kernel's idea of it would set the size there. */
    if (!fs->prefetch || count >= PREFETCH_BELOW || w->follows_size || w->extents != NULL)
        return;
    uint64_t length = window_length(w);
    uint64_t page = backing_page_size();
    struct prefetch_job job = {.ino = ino, .backing = w->backing};
    job.start = off / PREFETCH_BLOCK * PREFETCH_BLOCK;
    job.end = length - job.start > PREFETCH_BLOCK ? job.start + PREFETCH_BLOCK : length;
    /* A partial last page is left to the kernel's own read, which zeroes
     * the rest of the page. */
    if (job.end == length)
        job.end = job.end / page * page;
    job.skip_from = off / page * page;
    job.skip_to = (off + count + page - 1) / page * page;
    if (job.skip_from > job.end)
        job.skip_from = job.end;
    if (job.skip_to > job.end)
        job.skip_to = job.end;
    if (job.skip_from == job.start && job.skip_to == job.end)
        return;
    job.data = wio_data(w, &(struct wio_span){0, job.end});

    struct prefetcher *p = fs->prefetcher;
    pthread_mutex_lock(&p->lock);
    if (p->count < PREFETCH_QUEUE && !p->stopping) {
        p->queue[(p->head + p->count) % PREFETCH_QUEUE] = job;
        p->count++;
        pthread_cond_signal(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
}
