#include "slicefs/table_format.h"

#include <stdbool.h>
#include <string.h>

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int table_split_line(char *line, char *fields[TABLE_MAX_FIELDS], struct sfs_error *err)
{
    int count = 0;
    char *in = line;
    for (;;) {
        while (is_blank(*in))
            in++;
        if (*in == '\0' || *in == '#')
            return count;
        if (count == TABLE_MAX_FIELDS)
            return sfs_error_set(err, "too many fields (the form is PATH OFFSET LENGTH "
                                      "[MODE [BACKING]])");
        /* Unescape in place: out never passes in. */
        char *out = in;
        fields[count++] = out;
        while (*in != '\0' && !is_blank(*in)) {
            if (*in == '\\') {
                in++;
                if (*in == '\0')
                    return sfs_error_set(err, "a backslash ends the line");
                *out++ = *in == 'n' ? '\n' : *in == 't' ? '\t' : *in == 'r' ? '\r' : *in;
                in++;
            } else {
                *out++ = *in++;
            }
        }
        bool more = *in != '\0'; /* *in is the blank that ended the field */
        *out = '\0';
        if (more)
            in++;
    }
}

void table_format_field(FILE *out, const char *field)
{
    for (const char *p = field; *p != '\0'; p++) {
        if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p == ' ' || *p == '\\' || *p == '#')
            fprintf(out, "\\%c", *p);
        else
            fputc(*p, out);
    }
}
