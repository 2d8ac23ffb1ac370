/* size_parse.h - the number syntax of offsets and lengths (SPEC section 2).
 *
 * Accepted: decimal ("4096"), hex ("0x1000"), a binary suffix K M G T P
 * (also k m g t p and KiB MiB GiB TiB PiB), or "s" for 512-byte sectors
 * ("2048s"). Nothing else: no sign, no white space, no trailing junk, and the
 * value must not exceed SIZE_PARSE_MAX (2^63 - 1, the largest off_t).
 */
#ifndef SLICEFS_SIZE_PARSE_H
#define SLICEFS_SIZE_PARSE_H

#include <stdint.h>

#include "slicefs/error.h"

#define SIZE_PARSE_MAX ((uint64_t)INT64_MAX)

/* Parses text into *out. On failure returns -1 and says why in err (the
 * message quotes the text; callers prefix it with the option and field). */
int size_parse(const char *text, uint64_t *out, struct sfs_error *err);

#endif
