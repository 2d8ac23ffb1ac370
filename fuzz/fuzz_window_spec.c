/* fuzz_window_spec.c - window_spec_parse() on any window= value; what it
 * accepts must satisfy the spec's own contract (window_spec.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/size_parse.h"
#include "slicefs/window_path.h"
#include "slicefs/window_spec.h"

#define ORIGIN "window=fuzz"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what, const char *text)
{
    if (!ok) {
        fprintf(stderr, "window_spec_parse('%s') accepted it, but %s\n", text, what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    struct window_spec spec;
    struct sfs_error err = {{0}};
    if (window_spec_parse(text, ORIGIN, &spec, &err) == 0) {
        struct sfs_error path_err;
        check(spec.path != NULL && window_path_check(spec.path, &path_err) == 0,
              "its PATH is not a valid window path", text);
        check(strchr(spec.path, ':') == NULL, "its PATH holds a ':'", text);
        check(spec.backing_path == NULL, "it has a BACKING", text);
        check(spec.origin != NULL && strcmp(spec.origin, ORIGIN) == 0, "its origin is wrong", text);
        check(spec.offset <= SIZE_PARSE_MAX, "OFFSET is past 2^63-1", text);
        check(spec.to_end || spec.length <= SIZE_PARSE_MAX - spec.offset,
              "OFFSET + LENGTH is past 2^63-1", text);
        check(spec.mode >= WINDOW_MODE_DEFAULT && spec.mode <= WINDOW_MODE_COW,
              "its mode is out of range", text);
        check(window_mode_name(spec.mode) != NULL, "its mode has no name", text);
        window_spec_free(&spec);
    } else if (err.msg[0] == '\0' || strncmp(err.msg, ORIGIN ": ", strlen(ORIGIN ": ")) != 0) {
        fprintf(stderr, "window_spec_parse('%s') refused it without naming the option: '%.*s'\n",
                text, (int)sizeof err.msg, err.msg);
        abort();
    }
    free(text);
    return 0;
}
