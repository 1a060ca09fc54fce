/*
 * Content-policy categories as OpenAI's moderation endpoint names them, from
 * the classifiers the free tiers offer. Each provider category feeds the
 * OpenAI categories it covers; an OpenAI category's score is the highest of
 * those feeding it. Provider categories OpenAI has no name for (health,
 * financial, law, pii, jailbreaking) are left out of the answer.
 */
#ifndef GW_PROVIDERS_MODERATION_MAP_H
#define GW_PROVIDERS_MODERATION_MAP_H

#include <jansson.h>

/* OpenAI's categories, in the order its answers list them. */
extern const char *const gw_moderation_categories[];
extern const size_t gw_moderation_ncategories;

/* Scores by OpenAI category (every one present, 0 when nothing fed it) from
 * Mistral's category_scores object (any of its model generations). */
json_t *gw_moderation_from_mistral(json_t *scores);

#endif
