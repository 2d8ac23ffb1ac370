/* fuzz_state_file.c - a state file is read back at every mount and may be
 * anything: truncated by a crash, damaged on disk, another file's, another
 * version's, or made by someone to hurt. The input is the state file's
 * bytes; when its first byte is odd, the harness writes the checksum the
 * bytes would need, so that the fuzzer also reaches what lies behind the
 * checksum (the section table, the records). The identity asked for is the
 * one in the input's header (so that the identity check passes too).
 * state_file_open must either use the state (every section's records
 * inside the new file) or not (warn), never crash, read or write outside
 * its files, or leak. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "fuzz_tmpdir.h"
#include "slicefs/state_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { HEADER = 128, CHECKSUM_AT = 80, ID_AT = 24, INPUT_MAX = 1 << 16 };

static char state_path[PATH_MAX];
static int state_fd = -1;
static unsigned warnings;

static void count_warning(const char *message)
{
    (void)message;
    warnings++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        return 0;
    if (state_fd < 0)
        state_fd = fuzz_tmp_file("s.state", state_path);
    uint8_t *bytes = malloc(size ? size : 1);
    memcpy(bytes, data, size);
    if (size >= HEADER && (bytes[0] & 1)) {
        memset(bytes + CHECKSUM_AT, 0, 8);
        uint64_t sum = XXH3_64bits(bytes, size);
        memcpy(bytes + CHECKSUM_AT, &sum, 8);
    }
    fuzz_tmp_fill(state_fd, bytes, size, size);
    struct file_identity id = {0, 0};
    if (size >= ID_AT + 16) {
        memcpy(&id.fs, bytes + ID_AT, 8);
        memcpy(&id.ino, bytes + ID_AT + 8, 8);
    }
    free(bytes);

    struct state_section sections[] = {
        {.key = 1, .count = 1}, {.key = 2, .count = 5}, {.key = 3, .count = 2}};
    struct state_stamp stamp = {0, 0, 0};
    struct state_file sf;
    struct sfs_error err;
    if (state_file_open(&sf, state_path, &id, &stamp, sections, 3, count_warning, &err) == 0) {
        if (sf.record_count != 8 || sections[2].first != 6)
            abort();
        /* Every record readable: a copy past the old records would show. */
        volatile uint64_t sum = 0; /* unsigned: the times are anything */
        for (uint64_t r = 0; r < sf.record_count; r++)
            sum += (uint64_t)atomic_load(&sf.records[r].mtime_ns);
        (void)sum;
        state_file_abandon(&sf);
    }
    return 0;
}
