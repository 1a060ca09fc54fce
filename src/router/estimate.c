/*
 * Prompt-token estimates per model (see estimate.h): recursive least squares
 * over x = (text, messages, 1).
 */
#include "router/estimate.h"

#include <math.h>
#include <string.h>

#include "core/gw.h"

/* A Kalman filter on w: each weight may drift between samples by about the
 * square root of its DRIFT (traffic changes; recent reports weigh more), a
 * report is off the line by rounding and content (NOISE plus a share of it
 * squared). */
#define SPREAD_STEP 8.0 /* the spread moves an eighth of the way to each error */

/* The prior's variance per weight: the text ratio is wholly unknown (the
 * first long prompt sets it), the template a few tokens either way, a
 * hidden prompt tens. Also the ceiling of each: a weight no sample moves
 * keeps its variance rather than one growing with every drift step. */
static const double PRIOR_VAR[3] = {1.0, 1.0, 100.0};
static const double DRIFT[3] = {1e-6, 1e-3, 1e-1};
static const double W_MIN[3] = {0.2, 0.0, -256.0};
static const double W_MAX[3] = {5.0, 64.0, 8192.0};
#define NOISE 1.0        /* tokens^2: a token of rounding either way */
#define NOISE_SHARE 1e-3 /* and 0.1 % of the count (content the features miss) */
#define ROUNDING 2.0     /* tokens charged above the mean and its usual error: the
                          * upstream rounds each message's text on its own */

static void features(int64_t raw, int64_t messages, double x[3])
{
    if (messages <= 0) {
        x[0] = (double)GW_MAX(raw, 0);
        x[1] = 0;
        x[2] = 0;
        return;
    }
    x[0] = (double)GW_MAX(raw - messages * GW_EST_MESSAGE_TOKENS - GW_EST_REPLY_TOKENS, 0);
    x[1] = (double)messages;
    x[2] = 1;
}

void gw_estimate_init(gw_estimate_t *e)
{
    memset(e, 0, sizeof(*e));
    e->w[0] = 1;
    e->w[1] = GW_EST_MESSAGE_TOKENS;
    e->w[2] = GW_EST_REPLY_TOKENS;
    for (int i = 0; i < 3; i++)
        e->p[i][i] = PRIOR_VAR[i];
}

int64_t gw_estimate_raw(int64_t text_tokens, int64_t messages)
{
    if (messages <= 0)
        return text_tokens;
    return text_tokens + messages * GW_EST_MESSAGE_TOKENS + GW_EST_REPLY_TOKENS;
}

static double dot(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

double gw_estimate_mean(const gw_estimate_t *e, int64_t raw, int64_t messages)
{
    double x[3];

    features(raw, messages, x);
    return GW_MAX(dot(e->w, x), 0.0);
}

int64_t gw_estimate_charge(const gw_estimate_t *e, int64_t raw, int64_t messages)
{
    double mean = gw_estimate_mean(e, raw, messages);

    return (int64_t)ceil(mean * (1.0 + e->spread) + ROUNDING);
}

/* P = (I - k x^T) P (I - k x^T)^T + r k k^T (Joseph's form: stays a
 * covariance under rounding, where the short form drifts indefinite). */
static void update_covariance(double p[3][3], const double k[3], const double x[3], double r)
{
    double a[3][3], ap[3][3];

    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            a[i][j] = (i == j) - k[i] * x[j];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            ap[i][j] = a[i][0] * p[0][j] + a[i][1] * p[1][j] + a[i][2] * p[2][j];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j <= i; j++) {
            double v = ap[i][0] * a[j][0] + ap[i][1] * a[j][1] + ap[i][2] * a[j][2] +
                       r * k[i] * k[j];
            p[i][j] = v;
            p[j][i] = v;
        }
}

void gw_estimate_learn(gw_estimate_t *e, int64_t raw, int64_t messages, int64_t reported)
{
    double x[3], px[3], k[3];
    double y = (double)reported;
    double r = NOISE + (NOISE_SHARE * y) * (NOISE_SHARE * y);
    double err, s;

    if (reported <= 0 || raw <= 0 || reported > raw * 5 || reported * 5 < raw)
        return;
    features(raw, messages, x);
    err = y - dot(e->w, x);
    if (e->samples > 0)
        e->spread += (fabs(err) / y - e->spread) / SPREAD_STEP;
    for (int i = 0; i < 3; i++)
        e->p[i][i] += DRIFT[i];
    for (int i = 0; i < 3; i++)
        px[i] = dot(e->p[i], x);
    s = dot(x, px) + r;
    for (int i = 0; i < 3; i++) {
        k[i] = px[i] / s;
        e->w[i] = GW_MIN(GW_MAX(e->w[i] + k[i] * err, W_MIN[i]), W_MAX[i]);
    }
    update_covariance(e->p, k, x, r);
    /* A direction the traffic never varies (every prompt one message) gains
     * drift without bound: capped at the prior. Scaling a row and its column
     * by one factor keeps P a covariance. */
    for (int i = 0; i < 3; i++) {
        if (e->p[i][i] <= PRIOR_VAR[i])
            continue;
        double f = sqrt(PRIOR_VAR[i] / e->p[i][i]);
        for (int j = 0; j < 3; j++) {
            e->p[i][j] *= f;
            e->p[j][i] *= f;
        }
    }
    if (e->samples < 1000)
        e->samples++;
}
