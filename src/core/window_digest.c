/* window_digest.c - see window_digest.h. */
#include "slicefs/window_digest.h"

#include <errno.h>
#include <stdlib.h>

int window_digest(const struct window *w, uint64_t length, enum digest_kind kind,
                  unsigned char *out, uint64_t *bytes_read, const atomic_bool *stop)
{
    if (w->extents == NULL)
        return range_digest_until(w->backing->fd, w->offset, length, kind, out, bytes_read, stop);
    struct digest_piece *pieces = calloc(w->extent_count, sizeof *pieces);
    if (pieces == NULL)
        return -ENOMEM;
    bool cow = w->mode == WINDOW_MODE_COW;
    size_t count = 0;
    for (uint32_t k = 0; k < w->extent_count && length > 0; k++) {
        const struct window_extent *e = &w->extents[k];
        uint64_t len = e->length < length ? e->length : length;
        pieces[count] = (struct digest_piece){.fd = -1, .off = e->offset, .len = len};
        if (!e->hole && cow) {
            pieces[count].mem = window_extent_data(w, e); /* from its first byte */
            if (pieces[count].mem != NULL)
                pieces[count].off = 0;
            else
                pieces[count].fd = e->backing->fd;
        } else if (!e->hole) {
            pieces[count].fd = e->backing->fd;
        }
        count++;
        length -= len;
    }
    int res = pieces_digest(pieces, count, kind, out, bytes_read, stop);
    free(pieces);
    return res;
}
