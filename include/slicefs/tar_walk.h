/* tar_walk.h - the members of an uncompressed tar archive as byte ranges.
 *
 * Formats: ustar (name and prefix), GNU (long names and links 'L'/'K',
 * old sparse members 'S' with extension blocks: sparse format 0.0 of GNU
 * tar's --sparse with --format=gnu), pax ('x' records: path, linkpath,
 * size, mtime; GNU sparse 0.0 and 0.1 in records, 1.0 with its map at the
 * start of the data). Headers are 512-byte blocks; a member's data starts
 * at the block after its header and the next header after the data,
 * rounded up to 512: the walk only ever moves forward, so it ends. Numbers
 * are octal or base-256; a header whose checksum does not match ends the
 * walk (as tar stops), with a warning unless it is the end-of-archive zero
 * block.
 */
#ifndef SLICEFS_TAR_WALK_H
#define SLICEFS_TAR_WALK_H

#include "slicefs/archive_member.h"

/* Whether block (512 bytes, the archive's first) is a tar header: its
 * checksum matches. */
bool tar_detect(const unsigned char *block);

/* Reports every member of the tar archive r reads to fn (regular files,
 * hard links, symbolic links; directories, devices and the like are
 * skipped, the latter with a warning). Returns 0 when the walk reached the
 * end or stopped on a damaged header (warned), -1 when fn asked to stop or
 * memory ran out (warned). */
int tar_walk(const struct archive_reader *r, archive_member_fn *fn, archive_warn_fn *warn,
             void *arg);

#endif
