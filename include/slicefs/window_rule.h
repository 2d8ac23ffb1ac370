/* window_rule.h - windows computed from one declaration (layout=chunks).
 *
 * A rule makes count windows: window k starts at offset + k * chunk_size and
 * is chunk_size long, but the last, which ends at offset + total. Window k is
 * named by k in decimal, zero-padded to name_width digits, so the names sort
 * in order. No memory per window: a member is computed when it is needed.
 *
 * Invariant (window_rule_set_total keeps it, members assert it): chunk_size
 * > 0, count = ceil(total / chunk_size), and member indexes are < count.
 */
#ifndef SLICEFS_WINDOW_RULE_H
#define SLICEFS_WINDOW_RULE_H

#include <stdbool.h>
#include <stdint.h>

#include "slicefs/backing.h"
#include "slicefs/window_spec.h"

struct window;

struct window_rule {
    struct backing *backing;
    uint64_t offset;
    uint64_t chunk_size;
    uint64_t total;
    uint64_t count;
    bool to_end; /* declared with LENGTH "end": total follows -o extend */
    unsigned name_width;
    enum window_mode mode;
    enum window_truncate truncate;
    char *origin;
};

#define WINDOW_RULE_NAME_MAX 24 /* 20 digits of a uint64_t, and a NUL */

/* Sets the rule's total length and the count that follows from it; the
 * first time also the name width (8 digits at least), which then stays, as
 * the names were checked with it. chunk_size must be set and non-zero. */
void window_rule_set_total(struct window_rule *rule, uint64_t total);

/* Fills *out with member index (< rule->count) of rule; out->path points
 * at name, which receives the member's name. */
void window_rule_member(const struct window_rule *rule, uint64_t index, struct window *out,
                        char name[WINDOW_RULE_NAME_MAX]);

/* Writes the name of member index of rule into name. */
void window_rule_name(const struct window_rule *rule, uint64_t index,
                      char name[WINDOW_RULE_NAME_MAX]);

/* If name is the name of a member of rule, stores its index and returns
 * true. */
bool window_rule_index(const struct window_rule *rule, const char *name, uint64_t *index);

#endif
