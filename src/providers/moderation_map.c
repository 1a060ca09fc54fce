/*
 * Content-policy categories mapped to OpenAI's (see moderation_map.h).
 */
#include <string.h>

#include "core/gw.h"
#include "providers/moderation_map.h"

const char *const gw_moderation_categories[] = {
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions", "sexual",
    "sexual/minors", "violence", "violence/graphic",
};
const size_t gw_moderation_ncategories = GW_ARRAY_LEN(gw_moderation_categories);

/* Mistral's categories (docs.mistral.ai, moderation 2411 and 2603) and the
 * OpenAI ones each one's score stands for. */
static const struct {
    const char *mistral;
    const char *openai[4];
} mistral_map[] = {
    {"sexual", {"sexual"}},
    {"hate_and_discrimination", {"hate", "harassment"}},
    {"violence_and_threats", {"violence", "harassment/threatening", "hate/threatening"}},
    {"dangerous_and_criminal_content", {"illicit", "illicit/violent"}},
    {"dangerous", {"illicit/violent"}},
    {"criminal", {"illicit"}},
    {"selfharm", {"self-harm", "self-harm/intent", "self-harm/instructions"}},
};

json_t *gw_moderation_from_mistral(json_t *scores)
{
    json_t *out = json_object();

    for (size_t i = 0; i < gw_moderation_ncategories; i++)
        json_object_set_new(out, gw_moderation_categories[i], json_real(0.0));
    for (size_t i = 0; i < GW_ARRAY_LEN(mistral_map); i++) {
        json_t *v = json_object_get(scores, mistral_map[i].mistral);
        double score;

        if (!json_is_number(v))
            continue;
        score = json_number_value(v);
        score = score < 0 ? 0 : score > 1 ? 1 : score;
        for (size_t k = 0; k < 4 && mistral_map[i].openai[k] != NULL; k++) {
            const char *cat = mistral_map[i].openai[k];

            if (score > json_number_value(json_object_get(out, cat)))
                json_object_set_new(out, cat, json_real(score));
        }
    }
    return out;
}
