/*
 * What a model's tokenizer will count for a prompt, learned from what it
 * reports. Our own count (gw_estimate_raw) is the text at about four bytes a
 * token, a few template tokens per message and one for the reply; models
 * differ in all three (a denser tokenizer, a longer chat template, a hidden
 * system prompt), so one ratio over the whole count is wrong by the share of
 * template in it: a short request teaches a ratio that misjudges the next
 * long one by dozens of tokens. The estimate is instead linear in the parts,
 * w . (text, messages, 1), fitted per model by a small Kalman filter (least
 * squares whose weights may drift, so recent reports weigh more: traffic
 * changes). It starts at w = (1, 4, 1): our count as it is.
 */
#ifndef GW_ROUTER_ESTIMATE_H
#define GW_ROUTER_ESTIMATE_H

#include <stdint.h>

#define GW_EST_MESSAGE_TOKENS 4 /* template tokens around each message (role markers) */
#define GW_EST_REPLY_TOKENS 1   /* the reply's opening */

typedef struct gw_estimate {
    double w[3];    /* tokens per text token, per message, per prompt */
    double p[3][3]; /* the fit's covariance: how far a sample may still move w */
    double spread;  /* running mean of |error| / reported: charged above the estimate */
    int samples;
} gw_estimate_t;

void gw_estimate_init(gw_estimate_t *e);

/* Our count of a prompt of `text_tokens` over `messages` chat messages (0:
 * not chat: the text alone). */
int64_t gw_estimate_raw(int64_t text_tokens, int64_t messages);

/* What the model will likely count for a prompt we counted `raw` over `messages`. */
double gw_estimate_mean(const gw_estimate_t *e, int64_t raw, int64_t messages);

/* The mean plus its usual error and two tokens for rounding: what
 * a call is charged until it is settled at what the upstream reported, so a
 * prompt a little denser than usual does not overrun a nearly full window. */
int64_t gw_estimate_charge(const gw_estimate_t *e, int64_t raw, int64_t messages);

/* The model reported `reported` prompt tokens for that prompt. Reports
 * implausibly far from our count (under a fifth or over five times) are
 * ignored: a provider counting something else (cached tokens, images). */
void gw_estimate_learn(gw_estimate_t *e, int64_t raw, int64_t messages, int64_t reported);

#endif
