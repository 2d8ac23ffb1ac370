/* range_digest.c - see range_digest.h. */
#include "slicefs/range_digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "slicefs/guarded_access.h"

enum { BUFFER_BYTES = 1 << 20, BLOCK_BYTES = 1 << 20 };

static const unsigned char zeros[1 << 16];

/* block_hash of n zero bytes (n <= BLOCK_BYTES), without a buffer: the
 * last length asked for is kept per thread (the chunks of a sparse image
 * all have one length). */
static void zero_block_hash(uint64_t n, unsigned char le[8])
{
    static _Thread_local uint64_t kept_len;
    static _Thread_local unsigned char kept[8];
    if (n != kept_len || n == 0) {
        XXH3_state_t state;
        XXH3_64bits_reset(&state);
        for (uint64_t done = 0; done < n; done += sizeof zeros)
            XXH3_64bits_update(&state, zeros,
                               n - done < sizeof zeros ? (size_t)(n - done) : sizeof zeros);
        uint64_t h = XXH3_64bits_digest(&state);
        for (int i = 0; i < 8; i++)
            kept[i] = (unsigned char)(h >> (8 * i));
        kept_len = n;
    }
    memcpy(le, kept, 8);
}

size_t digest_size(enum digest_kind kind)
{
    return kind == DIGEST_XXH128 ? 16 : 32;
}

/* One running digest of either kind. */
struct hasher {
    enum digest_kind kind;
    XXH3_state_t *xxh; /* points at state: no allocation per digest */
    EVP_MD_CTX *sha;
    XXH3_state_t state;
};

static int hasher_init(struct hasher *h, enum digest_kind kind)
{
    memset(h, 0, sizeof *h);
    h->kind = kind;
    if (kind == DIGEST_XXH128) {
        h->xxh = &h->state;
        return XXH3_128bits_reset(h->xxh) == XXH_OK ? 0 : -ENOMEM;
    }
    h->sha = EVP_MD_CTX_new();
    return h->sha != NULL && EVP_DigestInit_ex(h->sha, EVP_sha256(), NULL) == 1 ? 0 : -ENOMEM;
}

static void hasher_update(struct hasher *h, const void *p, size_t len)
{
    if (h->kind == DIGEST_XXH128)
        XXH3_128bits_update(h->xxh, p, len);
    else
        EVP_DigestUpdate(h->sha, p, len);
}

static void hasher_zeros(struct hasher *h, uint64_t len)
{
    while (len > 0) {
        size_t n = len < sizeof zeros ? (size_t)len : sizeof zeros;
        hasher_update(h, zeros, n);
        len -= n;
    }
}

static void hasher_free(struct hasher *h)
{
    if (h->sha != NULL)
        EVP_MD_CTX_free(h->sha);
    h->xxh = NULL;
    h->sha = NULL;
}

/* Finishes into out (big-endian, as xxhsum prints it) and frees. */
static void hasher_final(struct hasher *h, unsigned char *out)
{
    if (h->kind == DIGEST_XXH128) {
        XXH128_canonical_t canonical;
        XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(h->xxh));
        memcpy(out, canonical.digest, sizeof canonical.digest);
    } else {
        unsigned int size = 0;
        EVP_DigestFinal_ex(h->sha, out, &size);
    }
    hasher_free(h);
}

/* The digest of len zero bytes, from a small cache: chunks of a sparse
 * image all have one length. */
static int zero_digest(uint64_t len, enum digest_kind kind, unsigned char *out)
{
    enum { SLOTS = 8 };
    static struct {
        uint64_t len;
        enum digest_kind kind;
        bool used;
        unsigned char digest[DIGEST_MAX_SIZE];
    } cache[SLOTS];
    static unsigned next;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

    pthread_mutex_lock(&lock);
    for (int i = 0; i < SLOTS; i++) {
        if (cache[i].used && cache[i].len == len && cache[i].kind == kind) {
            memcpy(out, cache[i].digest, digest_size(kind));
            pthread_mutex_unlock(&lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&lock);

    struct hasher h;
    int res = hasher_init(&h, kind);
    if (res < 0) {
        hasher_free(&h);
        return res;
    }
    hasher_zeros(&h, len);
    hasher_final(&h, out);

    pthread_mutex_lock(&lock);
    unsigned slot = next++ % SLOTS;
    cache[slot].len = len;
    cache[slot].kind = kind;
    cache[slot].used = true;
    memcpy(cache[slot].digest, out, digest_size(kind));
    pthread_mutex_unlock(&lock);
    return 0;
}

/* The next data at or after pos, limited to end: *data is where it starts
 * (end: none), *hole where it stops. Where the file system cannot tell,
 * everything is data. */
static void next_data(int fd, uint64_t pos, uint64_t end, uint64_t *data, uint64_t *hole)
{
    off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
    if (d < 0) {
        *data = errno == ENXIO ? end : pos; /* ENXIO: only a hole to the end of the file */
        *hole = end;
        return;
    }
    *data = (uint64_t)d < end ? (uint64_t)d : end;
    off_t h = lseek(fd, d, SEEK_HOLE);
    *hole = h < 0 || (uint64_t)h > end ? end : (uint64_t)h;
}

/* Reads [pos, pos + n) of fd into buf, holes as zeros (not read). *data and
 * *hole carry next_data's answer from call to call. Returns 0 or a negative
 * errno (-EIO: the file ends early). */
static int read_block(int fd, unsigned char *buf, uint64_t pos, uint64_t n, uint64_t end,
                      uint64_t *data, uint64_t *hole, uint64_t *bytes_read)
{
    uint64_t done = 0;
    while (done < n) {
        uint64_t at = pos + done;
        if (at >= *hole)
            next_data(fd, at, end, data, hole);
        if (*data > at) { /* a hole up to *data */
            uint64_t z = *data - at < n - done ? *data - at : n - done;
            memset(buf + done, 0, (size_t)z);
            done += z;
            continue;
        }
        uint64_t want = *hole - at < n - done ? *hole - at : n - done;
        ssize_t got = pread(fd, buf + done, (size_t)want, (off_t)at);
        if (got <= 0)
            return got == 0 ? -EIO : -errno; /* shrunk under us */
        if (bytes_read != NULL)
            __atomic_add_fetch(bytes_read, (uint64_t)got, __ATOMIC_RELAXED);
        done += (uint64_t)got;
    }
    return 0;
}

/* The XXH3-64 of a block, little-endian, as the block digest feeds it. */
static void block_hash(const unsigned char *p, size_t n, unsigned char le[8])
{
    uint64_t h = XXH3_64bits(p, n);
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(h >> (8 * i));
}

int range_digest(int fd, uint64_t off, uint64_t len, enum digest_kind kind, unsigned char *out,
                 uint64_t *bytes_read)
{
    return range_digest_until(fd, off, len, kind, out, bytes_read, NULL);
}

/* Adds n bytes just read (one block) to h: their XXH3-64 for XXH128, the
 * bytes themselves for SHA-256. */
static void hash_block_read(struct hasher *h, const unsigned char *buf, uint64_t n)
{
    if (h->kind == DIGEST_XXH128) {
        unsigned char le[8];
        block_hash(buf, (size_t)n, le);
        hasher_update(h, le, sizeof le);
    } else {
        hasher_update(h, buf, (size_t)n);
    }
}

/* Ends a digest: into out when res is 0, else only frees. Returns res. */
static int hasher_finish(struct hasher *h, int res, unsigned char *out)
{
    if (res < 0)
        hasher_free(h);
    else
        hasher_final(h, out);
    return res;
}

int range_digest_until(int fd, uint64_t off, uint64_t len, enum digest_kind kind,
                       unsigned char *out, uint64_t *bytes_read, const atomic_bool *stop)
{
    if (off > UINT64_MAX - len)
        return -EINVAL;
    uint64_t end = off + len;
    /* The file must hold the whole range: a lost range is not zeros. */
    off_t file_end = lseek(fd, 0, SEEK_END);
    if (file_end < 0)
        return -errno;
    if ((uint64_t)file_end < end)
        return -EIO;
    uint64_t data, hole;
    next_data(fd, off, end, &data, &hole);
    if (data >= end && kind == DIGEST_SHA256)
        return zero_digest(len, kind, out);

    struct hasher h;
    int res = hasher_init(&h, kind);
    if (res < 0) {
        hasher_free(&h);
        return res;
    }
    unsigned char *buf = NULL; /* only when there is data to read */
    for (uint64_t pos = off; pos < end && res == 0;) {
        uint64_t n = end - pos < BLOCK_BYTES ? end - pos : BLOCK_BYTES;
        if (stop != NULL && atomic_load_explicit(stop, memory_order_relaxed)) {
            res = -ECANCELED;
            break;
        }
        if (pos >= hole)
            next_data(fd, pos, end, &data, &hole);
        bool is_hole = data >= pos + n;
        if (!is_hole && buf == NULL && (buf = malloc(BLOCK_BYTES)) == NULL) {
            res = -ENOMEM;
            break;
        }
        if (is_hole && kind == DIGEST_XXH128) {
            unsigned char le[8];
            zero_block_hash(n, le);
            hasher_update(&h, le, sizeof le);
        } else if (is_hole) {
            hasher_zeros(&h, n);
        } else if ((res = read_block(fd, buf, pos, n, end, &data, &hole, bytes_read)) == 0) {
            hash_block_read(&h, buf, n);
        }
        pos += n;
    }
    free(buf);
    return hasher_finish(&h, res, out);
}

struct memory_job {
    struct hasher *h;
    const unsigned char *p;
    uint64_t len;
};

/* Hashes one block of memory (under guarded_run: a fault abandons the
 * whole digest, so a half-updated state is never used). */
static int hash_memory(void *arg)
{
    struct memory_job *job = arg;
    if (job->h->kind == DIGEST_XXH128) {
        unsigned char le[8];
        block_hash(job->p, (size_t)job->len, le);
        hasher_update(job->h, le, sizeof le);
    } else {
        hasher_update(job->h, job->p, (size_t)job->len);
    }
    return 0;
}

int memory_digest(const unsigned char *p, uint64_t len, enum digest_kind kind, unsigned char *out)
{
    struct hasher h;
    int res = hasher_init(&h, kind);
    if (res < 0) {
        hasher_free(&h);
        return res;
    }
    for (uint64_t done = 0; done < len && res == 0;) {
        uint64_t n = len - done < BLOCK_BYTES ? len - done : BLOCK_BYTES;
        struct memory_job job = {&h, p + done, n};
        res = guarded_run(hash_memory, &job);
        done += n;
    }
    if (res < 0) {
        hasher_free(&h);
        return res;
    }
    hasher_final(&h, out);
    return 0;
}

void digest_hex(const unsigned char *digest, size_t size, char *text)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        text[2 * i] = hex[digest[i] >> 4];
        text[2 * i + 1] = hex[digest[i] & 15];
    }
    text[2 * size] = '\0';
}

/* Fills buf with n bytes of the concatenation from piece *k, *in bytes into
 * it, and advances both. Returns 0 or a negative errno. */
static int fill_from_pieces(const struct digest_piece *pieces, size_t count, size_t *k,
                            uint64_t *in, unsigned char *buf, uint64_t n, uint64_t *bytes_read)
{
    for (uint64_t done = 0; done < n;) {
        if (*k >= count)
            return -EIO;
        const struct digest_piece *p = &pieces[*k];
        uint64_t take = p->len - *in < n - done ? p->len - *in : n - done;
        if (take > 0 && p->mem != NULL) {
            int res = guarded_copy(buf + done, p->mem + p->off + *in, (size_t)take);
            if (res < 0)
                return res;
        } else if (take > 0 && p->fd >= 0) {
            ssize_t got = pread(p->fd, buf + done, (size_t)take, (off_t)(p->off + *in));
            if (got < 0)
                return -errno;
            if (got == 0)
                return -EIO; /* the file ends before the piece */
            take = (uint64_t)got;
            if (bytes_read != NULL)
                __atomic_fetch_add(bytes_read, take, __ATOMIC_RELAXED);
        } else if (take > 0) {
            memset(buf + done, 0, (size_t)take);
        }
        done += take;
        *in += take;
        if (*in == p->len) {
            (*k)++;
            *in = 0;
        }
    }
    return 0;
}

int pieces_digest(const struct digest_piece *pieces, size_t count, enum digest_kind kind,
                  unsigned char *out, uint64_t *bytes_read, const atomic_bool *stop)
{
    uint64_t total = 0;
    for (size_t i = 0; i < count; i++) {
        if (pieces[i].len > UINT64_MAX - total)
            return -EINVAL;
        total += pieces[i].len;
    }
    struct hasher h;
    int res = hasher_init(&h, kind);
    unsigned char *buf = res == 0 ? malloc(BLOCK_BYTES) : NULL;
    if (res == 0 && buf == NULL)
        res = -ENOMEM;
    size_t k = 0;
    uint64_t in = 0;
    for (uint64_t pos = 0; pos < total && res == 0;) {
        uint64_t n = total - pos < BLOCK_BYTES ? total - pos : BLOCK_BYTES;
        if (stop != NULL && atomic_load(stop)) {
            res = -ECANCELED;
            break;
        }
        res = fill_from_pieces(pieces, count, &k, &in, buf, n, bytes_read);
        if (res == 0)
            hash_block_read(&h, buf, n);
        pos += n;
    }
    free(buf);
    return hasher_finish(&h, res, out);
}
