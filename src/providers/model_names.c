/*
 * Client model names that ask for a tier of the chain (see catalog.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "providers/catalog.h"

static const char *const tier_names[] = {
    [GW_TIER_NONE] = "",
    [GW_TIER_SMALL] = "small",
    [GW_TIER_LARGE] = "large",
    [GW_TIER_REASONING] = "reasoning",
};

const char *gw_tier_name(gw_tier_t t)
{
    return (unsigned)t < GW_ARRAY_LEN(tier_names) ? tier_names[t] : "";
}

gw_tier_t gw_tier_parse(const char *s)
{
    for (size_t i = 1; s != NULL && i < GW_ARRAY_LEN(tier_names); i++)
        if (strcmp(s, tier_names[i]) == 0)
            return (gw_tier_t)i;
    return GW_TIER_NONE;
}

static gw_tier_t lookup(const gw_catalog_t *cat, const char *name)
{
    gw_tier_t prefix = GW_TIER_NONE;
    size_t longest = 0;

    for (size_t i = 0; i < cat->nnames; i++) {
        const char *n = cat->names[i].name;
        size_t len = strlen(n);

        if (len > 0 && n[len - 1] == '*') {
            /* The longest matching prefix wins (claude-3-5-haiku* over claude-3*). */
            if (strncmp(name, n, len - 1) == 0 && len - 1 > longest) {
                longest = len - 1;
                prefix = cat->names[i].tier;
            }
        } else if (strcmp(name, n) == 0) {
            return cat->names[i].tier;
        }
    }
    return prefix;
}

/* Length of name without a trailing date: -YYYY-MM-DD, or -MMDD as in
 * gpt-3.5-turbo-0125 and gpt-4-0613 (with an optional -preview after it). */
static size_t undated_length(const char *name)
{
    size_t n = strlen(name);
    size_t digits = 0;

    if (n > 8 && strcmp(name + n - 8, "-preview") == 0)
        n -= 8;
    if (n > 11 && name[n - 11] == '-' && isdigit((unsigned char)name[n - 10]) &&
        name[n - 6] == '-' && name[n - 3] == '-')
        return n - 11;
    while (digits < n && isdigit((unsigned char)name[n - 1 - digits]))
        digits++;
    if (digits == 4 && n > 5 && name[n - 5] == '-')
        return n - 5;
    return strlen(name);
}

gw_tier_t gw_catalog_name_tier(const gw_catalog_t *cat, const char *name)
{
    gw_tier_t t;
    size_t n;
    char undated[128];

    if (name == NULL || (t = lookup(cat, name)) != GW_TIER_NONE)
        return name == NULL ? GW_TIER_NONE : t;
    n = undated_length(name);
    if (n == strlen(name) || n == 0 || n >= sizeof(undated))
        return GW_TIER_NONE;
    memcpy(undated, name, n);
    undated[n] = '\0';
    return lookup(cat, undated);
}
