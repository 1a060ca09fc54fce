/* The only list of wire formats: dialect name -> ops table. */
#include <string.h>

#include "providers/dialect.h"

extern const gw_dialect_t gw_dialect_openai;
extern const gw_dialect_t gw_dialect_gemini;

static const struct {
    const char *name;
    const gw_dialect_t *ops;
} dialects[] = {
    {"openai", &gw_dialect_openai},
    {"gemini", &gw_dialect_gemini},
    /* Same wire format; the account id in the URL comes from the key. */
    {"cloudflare", &gw_dialect_openai},
};

const gw_dialect_t *gw_dialect_for(const gw_provider_t *p)
{
    for (size_t i = 0; i < GW_ARRAY_LEN(dialects); i++)
        if (strcmp(dialects[i].name, p->dialect) == 0)
            return dialects[i].ops;
    return NULL;
}
