/* range_digest.c - see range_digest.h. */
#include "slicefs/range_digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "slicefs/guarded_access.h"

enum { BUFFER_BYTES = 1 << 20 };

static const unsigned char zeros[1 << 16];

size_t digest_size(enum digest_kind kind)
{
    return kind == DIGEST_XXH128 ? 16 : 32;
}

/* One running digest of either kind. */
struct hasher {
    enum digest_kind kind;
    XXH3_state_t *xxh;
    EVP_MD_CTX *sha;
};

static int hasher_init(struct hasher *h, enum digest_kind kind)
{
    memset(h, 0, sizeof *h);
    h->kind = kind;
    if (kind == DIGEST_XXH128) {
        h->xxh = XXH3_createState();
        return h->xxh != NULL && XXH3_128bits_reset(h->xxh) == XXH_OK ? 0 : -ENOMEM;
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
    if (h->xxh != NULL)
        XXH3_freeState(h->xxh);
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

int range_digest(int fd, uint64_t off, uint64_t len, enum digest_kind kind, unsigned char *out,
                 uint64_t *bytes_read)
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
    if (data >= end)
        return zero_digest(len, kind, out);

    struct hasher h;
    int res = hasher_init(&h, kind);
    unsigned char *buf = res == 0 ? malloc(BUFFER_BYTES) : NULL;
    if (buf == NULL) {
        hasher_free(&h);
        return -ENOMEM;
    }
    uint64_t pos = off;
    while (pos < end) {
        if (pos >= hole)
            next_data(fd, pos, end, &data, &hole);
        if (data > pos) { /* a hole up to data */
            hasher_zeros(&h, data - pos);
            pos = data;
            continue;
        }
        uint64_t want = hole - pos < BUFFER_BYTES ? hole - pos : BUFFER_BYTES;
        ssize_t got = pread(fd, buf, (size_t)want, (off_t)pos);
        if (got <= 0) {
            res = got == 0 ? -EIO : -errno; /* shrunk under us */
            break;
        }
        hasher_update(&h, buf, (size_t)got);
        if (bytes_read != NULL)
            __atomic_add_fetch(bytes_read, (uint64_t)got, __ATOMIC_RELAXED);
        pos += (uint64_t)got;
    }
    free(buf);
    if (res < 0) {
        hasher_free(&h);
        return res;
    }
    hasher_final(&h, out);
    return 0;
}

struct memory_job {
    struct hasher *h;
    const unsigned char *p;
    uint64_t len;
};

/* Hashes the memory in pieces, so that a fault leaves nothing held. */
static int hash_memory(void *arg)
{
    struct memory_job *job = arg;
    hasher_update(job->h, job->p, (size_t)job->len);
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
        uint64_t n = len - done < BUFFER_BYTES ? len - done : BUFFER_BYTES;
        /* The hash state is updated only as far as a piece got: a fault
         * abandons the digest, so a half-updated state is never used. */
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
