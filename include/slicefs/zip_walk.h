/* zip_walk.h - the stored members of a zip archive as byte ranges.
 *
 * The central directory (found from the end-of-central-directory record,
 * searched for in the last 64 KiB + 22 bytes; zip64 records where the
 * sizes need them) names the members and where each local header is; a
 * member's data starts after its local header (30 bytes, its name and its
 * extra field, which may differ from the central ones). Only stored
 * (method 0), unencrypted members can be served as windows; deflated and
 * other ones are warned of and skipped, as are members whose data lies
 * past the end, overlaps another member's, or whose local header does not
 * match. Unix mode bits and symbolic links come from the external
 * attributes of entries made on Unix; the mtime from the extended
 * timestamp field (UTC) where there is one, else the DOS time (local).
 */
#ifndef SLICEFS_ZIP_WALK_H
#define SLICEFS_ZIP_WALK_H

#include "slicefs/archive_member.h"

/* Whether the archive r reads looks like a zip: a local header at offset 0
 * or an end-of-central-directory record at its end. */
bool zip_detect(const struct archive_reader *r);

/* Reports every stored member to fn. Returns 0 (also when the directory
 * cannot be read: warned, nothing reported), -1 when fn asked to stop or
 * memory ran out. */
int zip_walk(const struct archive_reader *r, archive_member_fn *fn, archive_warn_fn *warn,
             void *arg);

#endif
