/*
 * Recommendations for the logs page: rules over facts the dashboard gathered
 * (key health, daily caps reached, providers' failure rates), each naming the
 * one thing to do. Pure: no store, no clock, so the rules are unit-tested.
 */
#ifndef GW_ADMIN_RECOMMEND_H
#define GW_ADMIN_RECOMMEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gw_rec_key {
    int64_t id;
    const char *provider, *label;
    bool invalid;
    int64_t invalid_since_ms; /* the first check or failure that found it invalid */
} gw_rec_key_t;

typedef struct gw_rec_model {
    const char *provider, *model;
    int days_observed; /* days of the last week with traffic on it */
    int days_capped;   /* days its daily cap was reached */
    int cap_hour_sum;  /* sum over capped days of the UTC hour it happened */
    int keys;          /* keys that serve it */
} gw_rec_model_t;

typedef struct gw_rec_provider {
    const char *provider;
    int64_t attempts, failures;
    bool enabled;
} gw_rec_provider_t;

typedef struct gw_rec_input {
    const gw_rec_key_t *keys;
    size_t nkeys;
    const gw_rec_model_t *models;
    size_t nmodels;
    const gw_rec_provider_t *providers;
    size_t nproviders;
    const char *window; /* "24h" ..., for the wording */
} gw_rec_input_t;

typedef struct gw_recommendation {
    char id[96];          /* stable for the same finding */
    const char *severity; /* "high", "medium", "low" */
    char title[240];
    char action[320];
    const char *provider, *model; /* borrowed from the input; NULL when not about one */
    int64_t key_id;               /* 0 when not about a key */
} gw_recommendation_t;

/* A provider failing this share of at least this many attempts. */
#define GW_REC_FAILING_SHARE 0.5
#define GW_REC_FAILING_MIN_ATTEMPTS 20
/* A cap reached before this UTC hour on most observed days is "early". */
#define GW_REC_EARLY_HOUR 18

/* Fills out (at most max), most severe first; returns how many. */
size_t gw_recommend(const gw_rec_input_t *in, int64_t now_ms, gw_recommendation_t *out, size_t max);

#endif
