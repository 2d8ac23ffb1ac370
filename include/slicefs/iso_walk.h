/* iso_walk.h - the files of an ISO 9660 image as byte ranges.
 *
 * The primary volume descriptor (sector 16 on) gives the root directory;
 * directories are read breadth-first, each directory extent at most once
 * (a loop or a shared directory is read once), at most ISO_MAX_DEPTH deep
 * and ISO_MAX_RECORDS records in all. A file's bytes are its extent:
 * location * 2048 and its data length; a file of several extents (the
 * multi-extent flag, as files of 4 GiB and more are written) is a member
 * of several extents. Rock Ridge (SUSP in the system use area: NM for the
 * name, PX for the mode, SL for a symbolic link, TF for the mtime; CE
 * continuation areas are not followed) gives names and modes; without it
 * the ISO name is used, less its ";1" version. Interleaved files, extents
 * past the end of the image: a warning and a skipped file.
 */
#ifndef SLICEFS_ISO_WALK_H
#define SLICEFS_ISO_WALK_H

#include "slicefs/archive_member.h"

#define ISO_MAX_DEPTH 64
#define ISO_MAX_RECORDS (1u << 22)

/* Whether r reads an ISO 9660 image: "CD001" at byte 32769. */
bool iso_detect(const struct archive_reader *r);

/* Reports every file and symbolic link to fn, with paths relative to the
 * root. Returns 0 (damage is warned of), -1 when fn asked to stop or memory
 * ran out. */
int iso_walk(const struct archive_reader *r, archive_member_fn *fn, archive_warn_fn *warn,
             void *arg);

#endif
