/* exerciser - random reads, writes, client-mmap accesses, hole punches and
 * syncs through one or two mounted slicefs windows of one backing file,
 * each checked against an in-memory model.
 *
 *   exerciser [-m MODEL_OUT] BACKING SEED STEPS WINDOW [WINDOW]
 *
 * WINDOW is PATH:OFFSET:LENGTH:MODE: the window's file in the mount, where
 * it starts in BACKING and its length (decimal bytes, as mounted), and its
 * mode, rw or cow (the windows of one run share a mode; they may overlap).
 *
 * The model. model[] holds what the mount must show at each backing offset
 * of the span [lo, hi) that the windows cover; it starts as a copy of the
 * backing file there, and so does orig[], which never changes. Each step
 * makes one call; when it returns, the step checks the call's result
 * (count, errno), applies the call's effect to the model, and then checks
 * that the changed bytes read back, through EVERY window (pread and the
 * window's client mapping), as the model says: overlapping windows are
 * coherent at once. The backing file must equal the model where an rw
 * window wrote (the daemon writes into a shared mapping of it), and must
 * equal orig[] all along for cow windows (they never reach it). Every
 * VERIFY_EVERY steps, and at the end, whole windows and the whole span are
 * compared. Every choice comes from a PRNG seeded with SEED, so a run is
 * reproducible; the first mismatch prints the step and exits 1.
 *
 * -m MODEL_OUT writes the final model (the bytes of [lo, hi)) to a file.
 *
 * -r: the backing file is grown and shrunk outside the mount while the run
 * goes on. Bytes cut off by a shrink are gone (zeros once the file grows
 * back), so the checks relax to what must still hold: no crash; every call
 * succeeds, or fails with EIO where bytes are gone (a read or write may
 * also stop short there); every byte read is the model's or zero (a zero
 * is then learnt; after a failed write its range may hold anything, and
 * the next read learns it); no client mapping is used (a lost page would be
 * SIGBUS in this process) and the backing file is not compared (the test
 * checks what lies outside the windows).
 * Exit status: 0 all steps passed, 1 a mismatch or an unexpected result,
 * 2 bad usage or setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_WINDOWS 2
#define MAX_IO (640u * 1024) /* the longest single read or write */
#define VERIFY_EVERY 250     /* steps between whole-window checks */
#define PAGE 4096u

struct window {
    const char *path;
    uint64_t offset; /* in the backing file */
    uint64_t length;
    int fd;             /* O_RDWR */
    unsigned char *map; /* the client's MAP_SHARED mapping of it all */
};

/* What the current step is doing, for the failure report. */
struct step {
    uint64_t number;
    const char *op;
    const struct window *w;
    uint64_t offset; /* in the window */
    uint64_t length;
};

struct run {
    uint64_t rng;
    uint64_t seed;
    bool cow;
    bool resized;       /* -r: the backing file changes size outside */
    bool *unknown;      /* -r: bytes of [lo, hi) a failed write may have changed */
    uint64_t io_errors; /* -r: calls that failed with EIO */
    int backing_fd;
    uint64_t lo, hi;      /* the span of the backing file the windows cover */
    unsigned char *model; /* what the mount must show in [lo, hi) */
    unsigned char *orig;  /* the backing file's bytes in [lo, hi) at the start */
    unsigned char *buf;   /* scratch: data to write */
    unsigned char *got;   /* scratch: data read back (room for the span) */
    struct window windows[MAX_WINDOWS];
    int nwindows;
    struct step step;
    uint64_t op_counts[6];
};

enum op { OP_PREAD, OP_PWRITE, OP_MMAP_READ, OP_MMAP_WRITE, OP_PUNCH, OP_SYNC };
static const char *const op_names[] = {"pread",      "pwrite",     "mmap-read",
                                       "mmap-write", "punch-hole", "fsync"};

/* ---- PRNG: xorshift64*, seeded through splitmix64 ---- */

static uint64_t next_u64(struct run *r)
{
    uint64_t x = r->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void seed_rng(struct run *r, uint64_t seed)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    r->rng = z ? z : 0x2545F4914F6CDD1DULL;
}

/* A number in [0, n); 0 when n is 0. */
static uint64_t below(struct run *r, uint64_t n)
{
    return n ? next_u64(r) % n : 0;
}

static bool chance(struct run *r, unsigned percent)
{
    return below(r, 100) < percent;
}

static void fill_random(struct run *r, unsigned char *p, size_t n)
{
    while (n > 0) {
        uint64_t v = next_u64(r);
        size_t k = n < sizeof v ? n : sizeof v;
        memcpy(p, &v, k);
        p += k;
        n -= k;
    }
}

/* ---- failure reports ---- */

static void describe_step(const struct run *r)
{
    const struct step *s = &r->step;
    fprintf(stderr, "exerciser: seed %" PRIu64 ", step %" PRIu64 ": %s", r->seed, s->number, s->op);
    if (s->w != NULL)
        fprintf(stderr, " via %s (window at %" PRIu64 ", length %" PRIu64 ")", s->w->path,
                s->w->offset, s->w->length);
    fprintf(stderr, ", offset %" PRIu64 ", length %" PRIu64 "\n", s->offset, s->length);
}

static _Noreturn void fail_result(const struct run *r, const char *call, long got, int err,
                                  long want, int want_err)
{
    describe_step(r);
    fprintf(stderr, "exerciser: MISMATCH: %s returned %ld", call, got);
    if (got < 0)
        fprintf(stderr, " (%s)", strerrorname_np(err));
    fprintf(stderr, ", expected %ld", want);
    if (want < 0)
        fprintf(stderr, " (%s)", strerrorname_np(want_err));
    fprintf(stderr, "\n");
    exit(1);
}

/* Fails unless got[0, n) equals want[0, n); what names the check, and
 * backing_off is the backing offset of got[0] (w, if any, the window read). */
static void expect_bytes(const struct run *r, const char *what, const struct window *w,
                         const unsigned char *got, const unsigned char *want, uint64_t backing_off,
                         size_t n)
{
    if (memcmp(got, want, n) == 0)
        return;
    size_t i = 0;
    while (got[i] == want[i])
        i++;
    describe_step(r);
    fprintf(stderr, "exerciser: MISMATCH: %s", what);
    if (w != NULL)
        fprintf(stderr, " %s", w->path);
    fprintf(stderr, ": byte %zu of the %zu checked, at backing offset %" PRIu64, i, n,
            backing_off + i);
    if (w != NULL)
        fprintf(stderr, " (window offset %" PRIu64 ")", backing_off + i - w->offset);
    fprintf(stderr, ", is 0x%02x, expected 0x%02x\n", got[i], want[i]);
    exit(1);
}

static _Noreturn void die(const char *what, const char *path)
{
    fprintf(stderr, "exerciser: %s %s: %s\n", what, path, strerror(errno));
    exit(2);
}

/* ---- reading ---- */

/* Reads n bytes at off of fd, looping over short reads. Returns the count
 * read (less at the end of the file), or -1. */
static ssize_t read_full(int fd, unsigned char *p, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = pread(fd, p + done, n - done, (off_t)(off + done));
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        done += (size_t)k;
    }
    return (ssize_t)done;
}

/* -r: got[0, n), read at backing offset off through w, holds for each byte
 * the model's value or zero (gone), or anything where a failed write may
 * have reached; learns what it saw. */
static void expect_bytes_resized(struct run *r, const struct window *w, const unsigned char *got,
                                 uint64_t off, size_t n)
{
    unsigned char *model = r->model + (off - r->lo);
    bool *unknown = r->unknown + (off - r->lo);
    for (size_t i = 0; i < n; i++) {
        if (!unknown[i] && got[i] != model[i] && got[i] != 0) {
            describe_step(r);
            fprintf(stderr,
                    "exerciser: MISMATCH: pread through %s: backing offset %" PRIu64
                    " is 0x%02x, expected 0x%02x or 0 (gone)\n",
                    w->path, off + i, got[i], model[i]);
            exit(1);
        }
        model[i] = got[i];
        unknown[i] = false;
    }
}

/* -r: a call failed; only EIO (bytes gone) is allowed. */
static void expect_io_error(struct run *r, const char *call, long got)
{
    if (got >= 0 || errno != EIO)
        fail_result(r, call, got, errno, -1, EIO);
    r->io_errors++;
}

/* -r: reads [off, off + n) through w and checks it loosely. */
static void check_window_range_resized(struct run *r, const struct window *w, uint64_t off,
                                       size_t n)
{
    ssize_t k = read_full(w->fd, r->got, n, off - w->offset);
    if (k < 0) {
        expect_io_error(r, "pread (check)", (long)k);
        return;
    }
    expect_bytes_resized(r, w, r->got, off, (size_t)k);
}

/* Checks backing bytes [off, off + n) read through window w (pread and its
 * mapping) against the model. */
static void check_window_range(struct run *r, const struct window *w, uint64_t off, size_t n)
{
    if (r->resized)
        return check_window_range_resized(r, w, off, n);
    ssize_t k = read_full(w->fd, r->got, n, off - w->offset);
    if (k != (ssize_t)n)
        fail_result(r, "pread (check)", (long)k, errno, (long)n, 0);
    const unsigned char *want = r->model + (off - r->lo);
    expect_bytes(r, "pread through", w, r->got, want, off, n);
    expect_bytes(r, "client mapping of", w, w->map + (off - w->offset), want, off, n);
}

/* Checks backing bytes [off, off + n) of the backing file itself: the model
 * for rw windows, the original for cow windows. */
static void check_backing_range(struct run *r, uint64_t off, size_t n)
{
    if (r->resized)
        return; /* it changes outside: the test checks it */
    ssize_t k = read_full(r->backing_fd, r->got, n, off);
    if (k != (ssize_t)n)
        fail_result(r, "pread of the backing file", (long)k, errno, (long)n, 0);
    const unsigned char *want = (r->cow ? r->orig : r->model) + (off - r->lo);
    expect_bytes(r, r->cow ? "backing file (must be unchanged by cow)" : "backing file", NULL,
                 r->got, want, off, n);
}

/* After backing bytes [off, off + n) changed: every window that shows any
 * of them must show the model, and so must the backing file (rw), or it
 * must still be the original (cow). */
static void check_changed(struct run *r, uint64_t off, size_t n)
{
    if (n == 0)
        return;
    for (int i = 0; i < r->nwindows; i++) {
        const struct window *w = &r->windows[i];
        uint64_t from = off > w->offset ? off : w->offset;
        uint64_t to = off + n < w->offset + w->length ? off + n : w->offset + w->length;
        if (from < to)
            check_window_range(r, w, from, (size_t)(to - from));
    }
    if (r->cow)
        check_backing_range(r, r->lo, (size_t)(r->hi - r->lo));
    else
        check_backing_range(r, off, n);
}

/* Whole windows and the whole span of the backing file. */
static void check_everything(struct run *r)
{
    for (int i = 0; i < r->nwindows; i++)
        check_window_range(r, &r->windows[i], r->windows[i].offset, (size_t)r->windows[i].length);
    check_backing_range(r, r->lo, (size_t)(r->hi - r->lo));
}

/* ---- choosing ranges ---- */

/* A length from 1 to MAX_IO, mostly short; sometimes whole pages. */
static size_t pick_length(struct run *r)
{
    uint64_t n;
    switch (below(r, 10)) {
    case 0:
    case 1:
    case 2:
    case 3:
        n = 1 + below(r, 100);
        break;
    case 4:
    case 5:
    case 6:
        n = 1 + below(r, 3 * PAGE);
        break;
    case 7:
    case 8:
        n = 1 + below(r, 64 * 1024);
        break;
    default:
        n = 1 + below(r, MAX_IO);
    }
    if (chance(r, 15))
        n = (n + PAGE - 1) / PAGE * PAGE;
    return (size_t)(n < MAX_IO ? n : MAX_IO);
}

/* An offset for a read or write: mostly inside w, often near its end (so
 * that the length crosses it), sometimes at or after the end. */
static uint64_t pick_io_offset(struct run *r, const struct window *w, size_t n)
{
    uint64_t off;
    switch (below(r, 10)) {
    case 0:
        off = w->length + (chance(r, 50) ? 0 : below(r, 3 * PAGE));
        break;
    case 1:
    case 2: {
        uint64_t back = 1 + below(r, n + 64);
        off = back < w->length ? w->length - back : 0;
        break;
    }
    default:
        off = below(r, w->length);
    }
    if (chance(r, 15) && off < w->length)
        off -= off % PAGE;
    return off;
}

/* A range inside w: *off below its length, *n at least 1 and within it. */
static void pick_inside(struct run *r, const struct window *w, uint64_t *off, size_t *n)
{
    *n = pick_length(r);
    *off = chance(r, 10) ? w->length - (*n < w->length ? *n : w->length) : below(r, w->length);
    if (chance(r, 15))
        *off -= *off % PAGE;
    if (*n > w->length - *off)
        *n = (size_t)(w->length - *off);
}

/* What a read or write of n bytes at off of w moves: what fits. */
static size_t fitting(const struct window *w, uint64_t off, size_t n)
{
    if (off >= w->length)
        return 0;
    return n < w->length - off ? n : (size_t)(w->length - off);
}

static void begin(struct run *r, const char *op, const struct window *w, uint64_t off, uint64_t n)
{
    r->step.op = op;
    r->step.w = w;
    r->step.offset = off;
    r->step.length = n;
}

/* ---- the operations ---- */

static void do_pread(struct run *r, const struct window *w)
{
    size_t n = pick_length(r);
    uint64_t off = pick_io_offset(r, w, n);
    begin(r, "pread", w, off, n);
    size_t want = fitting(w, off, n);
    ssize_t got = pread(w->fd, r->got, n, (off_t)off);
    if (r->resized) {
        /* Short where the bytes are gone, or EIO. */
        if (got < 0)
            expect_io_error(r, "pread", (long)got);
        else if (got > (ssize_t)want)
            fail_result(r, "pread", (long)got, errno, (long)want, 0);
        else
            expect_bytes_resized(r, w, r->got, w->offset + off, (size_t)got);
        return;
    }
    if (got != (ssize_t)want)
        fail_result(r, "pread", (long)got, errno, (long)want, 0);
    expect_bytes(r, "pread through", w, r->got, r->model + (w->offset + off - r->lo),
                 w->offset + off, want);
}

static void do_pwrite(struct run *r, const struct window *w)
{
    size_t n = pick_length(r);
    uint64_t off = pick_io_offset(r, w, n);
    begin(r, "pwrite", w, off, n);
    fill_random(r, r->buf, n);
    size_t want = fitting(w, off, n);
    ssize_t got = pwrite(w->fd, r->buf, n, (off_t)off);
    if (off >= w->length) {
        if (got != -1 || errno != ENOSPC)
            fail_result(r, "pwrite at or after the end", (long)got, errno, -1, ENOSPC);
        return;
    }
    if (r->resized && (got < 0 || got < (ssize_t)want)) {
        /* EIO where bytes are gone; what it copied before is unknown. */
        if (got < 0)
            expect_io_error(r, "pwrite", (long)got);
        for (size_t i = 0; i < want; i++)
            r->unknown[w->offset + off - r->lo + i] = true;
        return;
    }
    if (got != (ssize_t)want)
        fail_result(r, "pwrite", (long)got, errno, (long)want, 0);
    memcpy(r->model + (w->offset + off - r->lo), r->buf, want);
    check_changed(r, w->offset + off, want);
}

static void do_mmap_read(struct run *r, const struct window *w)
{
    uint64_t off;
    size_t n;
    pick_inside(r, w, &off, &n);
    begin(r, "mmap-read", w, off, n);
    expect_bytes(r, "client mapping of", w, w->map + off, r->model + (w->offset + off - r->lo),
                 w->offset + off, n);
}

static void do_mmap_write(struct run *r, const struct window *w)
{
    uint64_t off;
    size_t n;
    pick_inside(r, w, &off, &n);
    begin(r, "mmap-write", w, off, n);
    fill_random(r, w->map + off, n);
    uint64_t start = off - off % PAGE;
    if (msync(w->map + start, (size_t)(off + n - start), MS_SYNC) != 0)
        fail_result(r, "msync(MS_SYNC)", -1, errno, 0, 0);
    memcpy(r->model + (w->offset + off - r->lo), w->map + off, n);
    check_changed(r, w->offset + off, n);
}

/* Punches a hole inside w (zeros); one in ten crosses the end: EINVAL. */
static void do_punch(struct run *r, const struct window *w)
{
    uint64_t off;
    size_t n;
    pick_inside(r, w, &off, &n);
    bool across = chance(r, 10);
    if (across)
        n = (size_t)(w->length - off) + 1 + (size_t)below(r, 2 * PAGE);
    begin(r, across ? "punch-hole across the end" : "punch-hole", w, off, n);
    int res = fallocate(w->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)n);
    if (across) {
        if (res != -1 || errno != EINVAL)
            fail_result(r, "fallocate(PUNCH_HOLE|KEEP_SIZE)", res, errno, -1, EINVAL);
        n = (size_t)(w->length - off); /* nothing changed: check what it would have hit */
    } else {
        if (res != 0)
            fail_result(r, "fallocate(PUNCH_HOLE|KEEP_SIZE)", res, errno, 0, 0);
        memset(r->model + (w->offset + off - r->lo), 0, n);
        if (r->resized)
            memset(r->unknown + (w->offset + off - r->lo), 0, n);
    }
    check_changed(r, w->offset + off, n);
}

static void do_sync(struct run *r, const struct window *w)
{
    bool data_only = chance(r, 50);
    begin(r, data_only ? "fdatasync" : "fsync", w, 0, w->length);
    int res = data_only ? fdatasync(w->fd) : fsync(w->fd);
    if (res != 0 && r->resized)
        return expect_io_error(r, data_only ? "fdatasync" : "fsync", res);
    if (res != 0)
        fail_result(r, data_only ? "fdatasync" : "fsync", res, errno, 0, 0);
}

static enum op pick_op(struct run *r)
{
    uint64_t x = below(r, 100);
    if (x < 25)
        return OP_PREAD;
    if (x < 50)
        return OP_PWRITE;
    if (x < 65)
        return OP_MMAP_READ;
    if (x < 80)
        return OP_MMAP_WRITE;
    if (x < 93)
        return OP_PUNCH;
    return OP_SYNC;
}

static void do_step(struct run *r)
{
    const struct window *w = &r->windows[below(r, (uint64_t)r->nwindows)];
    enum op op = pick_op(r);
    /* -r: no client mapping (a lost page would be SIGBUS here). */
    if (r->resized && op == OP_MMAP_READ)
        op = OP_PREAD;
    if (r->resized && op == OP_MMAP_WRITE)
        op = OP_PWRITE;
    r->op_counts[op]++;
    switch (op) {
    case OP_PREAD:
        do_pread(r, w);
        break;
    case OP_PWRITE:
        do_pwrite(r, w);
        break;
    case OP_MMAP_READ:
        do_mmap_read(r, w);
        break;
    case OP_MMAP_WRITE:
        do_mmap_write(r, w);
        break;
    case OP_PUNCH:
        do_punch(r, w);
        break;
    case OP_SYNC:
        do_sync(r, w);
        break;
    }
}

/* ---- setup ---- */

static int usage(void)
{
    fprintf(stderr, "usage: exerciser [-r] [-m MODEL_OUT] BACKING SEED STEPS "
                    "PATH:OFFSET:LENGTH:rw|cow [PATH:OFFSET:LENGTH:rw|cow]\n");
    return 2;
}

static bool parse_u64(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
        return false;
    *out = v;
    return true;
}

/* Splits PATH:OFFSET:LENGTH:MODE (in place; PATH may hold colons). Sets
 * *cow; returns false when spec is malformed. */
static bool parse_window(char *spec, struct window *w, bool *cow)
{
    char *fields[3];
    for (int i = 2; i >= 0; i--) {
        char *colon = strrchr(spec, ':');
        if (colon == NULL)
            return false;
        *colon = '\0';
        fields[i] = colon + 1;
    }
    w->path = spec;
    if (!parse_u64(fields[0], &w->offset) || !parse_u64(fields[1], &w->length) || w->length == 0 ||
        w->length > SIZE_MAX / 2)
        return false;
    if (strcmp(fields[2], "rw") != 0 && strcmp(fields[2], "cow") != 0)
        return false;
    *cow = strcmp(fields[2], "cow") == 0;
    return true;
}

static void open_window(struct window *w, bool mapped)
{
    w->fd = open(w->path, O_RDWR);
    if (w->fd < 0)
        die("cannot open", w->path);
    if (!mapped)
        return;
    void *map = mmap(NULL, (size_t)w->length, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);
    if (map == MAP_FAILED)
        die("cannot mmap", w->path);
    w->map = map;
}

static void close_window(struct window *w)
{
    if (w->map != NULL)
        munmap(w->map, (size_t)w->length);
    close(w->fd);
}

/* Opens the backing file and the windows, and reads [lo, hi) into the model. */
static void set_up(struct run *r, const char *backing)
{
    r->lo = UINT64_MAX;
    r->hi = 0;
    for (int i = 0; i < r->nwindows; i++) {
        const struct window *w = &r->windows[i];
        r->lo = w->offset < r->lo ? w->offset : r->lo;
        r->hi = w->offset + w->length > r->hi ? w->offset + w->length : r->hi;
    }
    size_t span = (size_t)(r->hi - r->lo);
    r->model = malloc(span);
    r->orig = malloc(span);
    r->buf = malloc(MAX_IO);
    r->got = malloc(span > MAX_IO ? span : MAX_IO);
    r->unknown = calloc(span, sizeof *r->unknown);
    if (r->unknown == NULL || r->model == NULL || r->orig == NULL || r->buf == NULL ||
        r->got == NULL) {
        fprintf(stderr, "exerciser: out of memory\n");
        exit(2);
    }
    r->backing_fd = open(backing, O_RDONLY);
    if (r->backing_fd < 0)
        die("cannot open", backing);
    if (read_full(r->backing_fd, r->orig, span, r->lo) != (ssize_t)span && !r->resized) {
        fprintf(stderr, "exerciser: %s does not cover the windows\n", backing);
        exit(2);
    }
    memcpy(r->model, r->orig, span);
    for (int i = 0; i < r->nwindows; i++)
        open_window(&r->windows[i], !r->resized);
}

static void write_model(const struct run *r, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        die("cannot create", path);
    size_t span = (size_t)(r->hi - r->lo);
    if (fwrite(r->model, 1, span, f) != span || fclose(f) != 0)
        die("cannot write", path);
}

int main(int argc, char **argv)
{
    static struct run run;
    struct run *r = &run;
    const char *model_out = NULL;
    int a = 1;
    if (argc > a && strcmp(argv[a], "-r") == 0) {
        r->resized = true;
        a++;
    }
    if (argc > a + 1 && strcmp(argv[a], "-m") == 0) {
        model_out = argv[a + 1];
        a += 2;
    }
    int nwindows = argc - a - 3;
    uint64_t steps;
    if (nwindows < 1 || nwindows > MAX_WINDOWS || !parse_u64(argv[a + 1], &r->seed) ||
        !parse_u64(argv[a + 2], &steps))
        return usage();
    r->nwindows = nwindows;
    for (int i = 0; i < nwindows; i++) {
        bool cow;
        if (!parse_window(argv[a + 3 + i], &r->windows[i], &cow))
            return usage();
        if (i > 0 && cow != r->cow) {
            fprintf(stderr, "exerciser: the windows of one run must share a mode\n");
            return 2;
        }
        r->cow = cow;
    }
    seed_rng(r, r->seed);
    set_up(r, argv[a]);

    begin(r, "initial check", NULL, 0, 0);
    check_everything(r);
    for (r->step.number = 1; r->step.number <= steps; r->step.number++) {
        do_step(r);
        if (r->step.number % VERIFY_EVERY == 0) {
            begin(r, "whole-window check", NULL, 0, 0);
            check_everything(r);
        }
    }
    begin(r, "final check", NULL, 0, 0);
    check_everything(r);

    if (model_out != NULL)
        write_model(r, model_out);
    for (int i = 0; i < r->nwindows; i++)
        close_window(&r->windows[i]);
    close(r->backing_fd);
    printf("exerciser: %" PRIu64 " steps, 0 mismatches (", steps);
    for (int op = 0; op <= OP_SYNC; op++)
        printf("%s%s %" PRIu64, op ? ", " : "", op_names[op], r->op_counts[op]);
    printf(")\n");
    if (r->resized)
        printf("exerciser: %" PRIu64 " calls failed with EIO (bytes gone)\n", r->io_errors);
    free(r->model);
    free(r->orig);
    free(r->buf);
    free(r->got);
    free(r->unknown);
    return 0;
}
