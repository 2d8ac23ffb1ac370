/* fuzz_control_request.c - a control request from a hostile client:
 * control_request_split() on any bytes either refuses them or gives
 * arguments that are non-empty, NUL-free, inside the buffer, at most
 * CONTROL_MAX_ARGS, and that control_request_join() writes back as exactly
 * the bytes received. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slicefs/control_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    const char *args[CONTROL_MAX_ARGS];
    struct sfs_error err = {{0}};
    int count = control_request_split(buf, size, args, &err);
    if (count < 0) {
        if (err.msg[0] == '\0')
            abort(); /* a refusal says why */
        return 0;
    }
    if (count == 0 || count > CONTROL_MAX_ARGS || size > CONTROL_REQUEST_MAX)
        abort();
    for (int i = 0; i < count; i++) {
        size_t len = strlen(args[i]);
        if (len == 0 || args[i] < buf || args[i] + len >= buf + size)
            abort();
    }
    char *again = malloc(size + 1);
    if (again == NULL)
        return 0;
    int len = control_request_join(args, count, again, size + 1, &err);
    if (len < 0 || (size_t)len != size || memcmp(again, buf, size) != 0)
        abort();
    free(again);
    return 0;
}
