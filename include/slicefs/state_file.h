/* state_file.h - what slicefs remembers of a backing file's windows between
 * mounts: per window, a digest of its bytes and its times.
 *
 * One state file per backing file, named after its identity. It holds a
 * header (what file, and its size, mtime and ctime when the state was
 * written), a table of sections (one per declaration: a window, or a chunk
 * rule with one record per chunk), each keyed by what it declares, and the
 * records, 64 bytes a window. It is mapped, never parsed: a million chunks
 * are a 64 MiB file whose records are copied by the kernel
 * (copy_file_range) and checked by one XXH3 pass.
 *
 * A mount works on a new file beside the old one (PATH.tmp.PID), with the
 * records it can take from the old state copied in; at the end it writes
 * the header and checksum, syncs, and renames it over PATH. A crash or
 * SIGKILL at any point leaves the old state or the new one, never a mix,
 * and the next mount removes the leftover of a process that is gone. A
 * missing, truncated, corrupt (checksum), foreign (another file, another
 * version or byte order) state is reported and not used.
 */
#ifndef SLICEFS_STATE_FILE_H
#define SLICEFS_STATE_FILE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slicefs/error.h"
#include "slicefs/file_identity.h"

/* One window's record, as it lies in the mapped file. A digest of all
 * zeros is unknown (the window changed since it was last digested); times
 * of 0 mean no earlier mount knew the window. ctime only ever grows: it is
 * the record's generation, so a digest computed while a write came in is
 * never kept (window_times.h). */
struct window_record {
    unsigned char xxh128[16];
    unsigned char sha256[32];
    _Atomic int64_t mtime_ns;
    _Atomic int64_t ctime_ns;
};
_Static_assert(sizeof(struct window_record) == 64, "a record is 64 bytes");

/* A backing file's size and times: what says "changed since". */
struct state_stamp {
    uint64_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
};

/* One declaration's records: key names it (the same declaration has the
 * same key in every mount), count is how many windows it has; first is set
 * by state_file_open to the index of its first record. */
struct state_section {
    uint64_t key;
    uint64_t count;
    uint64_t first;
};

struct state_file {
    char *path;      /* the state */
    char *temp_path; /* the new state, until state_file_commit */
    int fd;          /* of temp_path */
    struct file_identity id;
    unsigned char *map;
    size_t map_len;
    struct window_record *records;
    uint64_t record_count;
    uint64_t section_count;
    /* An earlier state of this file was valid and its stamp is the file's
     * stamp now: its records can be trusted as they are. */
    bool stamp_matches;
    /* Every section's records all came from that earlier state. */
    bool all_copied;
};

/* Opens the state at path for the backing file id, whose stamp is now
 * stamp_now, for the given sections (their first fields are set): creates
 * the new file, copies each section's records from a valid old state (by
 * key; a section that grew gets fresh records past the old count), and maps
 * them. warn (may be NULL) is told why an old state is not used. Returns 0,
 * or -1 with a message (the new file cannot be made). */
int state_file_open(struct state_file *sf, const char *path, const struct file_identity *id,
                    const struct state_stamp *stamp_now, struct state_section *sections,
                    size_t section_count, void (*warn)(const char *message), struct sfs_error *err);

/* Writes the header (identity, stamp, checksum), syncs, and renames the new file
 * over the old state; unmaps and closes either way. Returns 0, or -1 with a
 * message (then the new file is removed and the old state stays). */
int state_file_commit(struct state_file *sf, const struct state_stamp *stamp,
                      struct sfs_error *err);

/* Unmaps, closes and removes the new file: the old state stays. */
void state_file_abandon(struct state_file *sf);

/* The folder state files go in by default: $XDG_STATE_HOME/slicefs, else
 * $HOME/.local/state/slicefs, else /var/lib/slicefs for root; NULL when
 * none can be named. Allocated. */
char *state_file_default_dir(void);

/* The state file of backing file id in folder dir. Allocated. */
char *state_file_name(const char *dir, const struct file_identity *id);

#endif
