/* file_identity.c - see file_identity.h. */
#include "slicefs/file_identity.h"

#include <errno.h>
#include <string.h>
#include <sys/statfs.h>
#include <xxhash.h>

int file_identity_of(int fd, const struct stat *st, struct file_identity *out)
{
    struct statfs sfs;
    if (fstatfs(fd, &sfs) < 0)
        return -errno;
    uint32_t words[2];
    memcpy(words, &sfs.f_fsid, sizeof words);
    out->fs = (uint64_t)words[0] << 32 | words[1];
    if (out->fs == 0) /* tmpfs and others report none */
        out->fs = (uint64_t)st->st_dev;
    out->ino = (uint64_t)st->st_ino;
    return 0;
}

uint64_t file_identity_hash(const struct file_identity *id, const char *text, uint64_t tag)
{
    /* Little-endian bytes, so that the value does not depend on the host. */
    unsigned char seed[24];
    uint64_t parts[3] = {id ? id->fs : 0, id ? id->ino : 0, tag};
    for (int p = 0; p < 3; p++)
        for (int i = 0; i < 8; i++)
            seed[p * 8 + i] = (unsigned char)(parts[p] >> (8 * i));
    return XXH3_64bits_withSeed(text, strlen(text), XXH3_64bits(seed, sizeof seed));
}
