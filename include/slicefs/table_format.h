/* table_format.h - the window table text format (SPEC section 2).
 *
 * One window per line: PATH OFFSET LENGTH [MODE [BACKING]], fields separated
 * by blanks (spaces or tabs); '#' starts a comment where a field could
 * start; blank lines are ignored. In a field, a backslash takes the next
 * character literally, and "\n", "\t" and "\r" stand for newline, tab and
 * carriage return, so any
 * path can be written. `slicefs --list` prints this format
 * (table_format_field escapes a field), and table= reads it.
 */
#ifndef SLICEFS_TABLE_FORMAT_H
#define SLICEFS_TABLE_FORMAT_H

#include <stddef.h>
#include <stdio.h>

#include "slicefs/error.h"

#define TABLE_MAX_FIELDS 5

/* Splits line (modified in place, unescaped) into at most TABLE_MAX_FIELDS
 * fields. Returns the number of fields (0 for a blank or comment line), or
 * -1 with a message (too many fields, a trailing backslash). */
int table_split_line(char *line, char *fields[TABLE_MAX_FIELDS], struct sfs_error *err);

/* Writes field to out, escaped so that table_split_line reads it back. */
void table_format_field(FILE *out, const char *field);

#endif
