/* window_rule.c - windows computed from one declaration (layout=chunks). */
#include "slicefs/window_rule.h"

#include <assert.h>
#include <stdio.h>

#include "slicefs/window_table.h"

void window_rule_set_total(struct window_rule *rule, uint64_t total)
{
    assert(rule->chunk_size > 0);
    rule->total = total;
    rule->count = total / rule->chunk_size + (total % rule->chunk_size != 0);
    if (rule->name_width != 0)
        return; /* names keep the width the path tree was built with */
    unsigned width = 1;
    for (uint64_t last = rule->count > 0 ? rule->count - 1 : 0; last >= 10; last /= 10)
        width++;
    rule->name_width = width < 8 ? 8 : width;
}

void window_rule_name(const struct window_rule *rule, uint64_t index,
                      char name[WINDOW_RULE_NAME_MAX])
{
    snprintf(name, WINDOW_RULE_NAME_MAX, "%0*llu", (int)rule->name_width,
             (unsigned long long)index);
}

void window_rule_member(const struct window_rule *rule, uint64_t index, struct window *out,
                        char name[WINDOW_RULE_NAME_MAX])
{
    assert(index < rule->count);
    window_rule_name(rule, index, name);
    uint64_t start = index * rule->chunk_size;
    *out = (struct window){
        .path = name,
        .backing = rule->backing,
        .offset = rule->offset + start,
        .length = rule->total - start < rule->chunk_size ? rule->total - start : rule->chunk_size,
        .mode = rule->mode,
        .truncate = rule->truncate,
        .origin = rule->origin,
    };
}

bool window_rule_index(const struct window_rule *rule, const char *name, uint64_t *index)
{
    uint64_t value = 0;
    unsigned digits = 0;
    for (; name[digits] >= '0' && name[digits] <= '9'; digits++) {
        if (digits >= rule->name_width)
            return false;
        value = value * 10 + (uint64_t)(name[digits] - '0');
    }
    if (name[digits] != '\0' || digits != rule->name_width || value >= rule->count)
        return false;
    *index = value;
    return true;
}
