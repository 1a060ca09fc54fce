/*
 * The rate-limit ledger (see ledger.h). One entry per (provider, model, key)
 * and one per (provider, key) for account-wide caps, in a pairmap (pairmap.h)
 * keyed by the catalog ids (copied, so entries survive a catalog reload).
 *
 * Minute window: a ring of quarter-second buckets. A call is stamped LEAD_MS
 * after we send it (the upstream counts it when it arrives there, a little
 * later: the network, its own queue), and a bucket counts until a full 60 s
 * after its quarter ends, so no call leaves our window before it leaves the
 * upstream's sliding minute, and none is held more than half a second longer.
 * (Whole-second buckets held a call sent late in a second only until the same
 * millisecond a minute on, and the upstream, which saw it a few ms later,
 * refused the next.)
 *
 * Period counters (RPD/TPD) start over at gw_reset_period_start() of the
 * provider's reset kind; they roll forward lazily on access.
 *
 * Token caps and big requests: a call whose floor (what the upstream counts at
 * admission: prompt plus an explicit max_tokens) is above a token cap never
 * fits that pair (Groq answers 413 without counting it). The rest of the
 * charge (the answer we expect) is clipped to the cap, so a call whose
 * expected answer alone would pass the cap still runs on an empty window.
 *
 * The upstream's word: a stated cap (x-ratelimit-limit-*, a 413's "Limit N")
 * replaces the catalog's; a stated room replaces our count of that window
 * until the stated reset, less what we charged after the call that carried
 * it (minute windows: the later seconds' buckets; periods: the counter's
 * growth since), so a catalog that is wrong, or a key also used elsewhere,
 * is corrected by the first answer.
 *
 * Pacing (cost->reserve r): a daily cap C allows C * ((1 - r) + r * f) by
 * the fraction f of the period gone, so a reserve is kept for later hours.
 *
 * After an entry exists nothing allocates: charge/allows/adjust are a hash
 * lookup plus a scan of 256 buckets.
 */
#include "router/ledger.h"

#include <stdlib.h>
#include <string.h>

#include "router/pairmap.h"
#include "router/reset.h"

#define TICK_MS 250 /* a bucket's width */
#define LEAD_MS 250 /* how much later than our send the upstream may count a call */
#define SPAN 241    /* a bucket counts for this many distinct ticks: 60 s after it ends */
#define SLOTS 256   /* ring size, a power of two above SPAN plus the lead */
#define EMPTY_TICK INT64_MIN
#define TOO_LARGE_MS (3600 * (int64_t)1000) /* how long a 413's size is remembered */

/*
 * What the upstream last said of one window. With a cap known (stated or the
 * catalog's), the statement is kept as the difference between the upstream's
 * count (cap less the room) and ours at that moment: outside use of the key,
 * or our estimates' error. It holds until the stated reset (the upstream's
 * whole window has turned over by then) while our own calls keep ageing out
 * of our count, so the room grows as the upstream's does. With no cap known
 * the stated room itself holds, less what we charged since.
 */
typedef struct said {
    int64_t limit;     /* stated cap, 0 if never stated */
    int64_t remaining; /* stated room, -1 if none in force */
    int64_t at_ms;     /* when the call that carried it was charged */
    int64_t reset_ms;  /* the statement holds until then */
    int64_t base;      /* periods: the counter at at_ms (growth since comes off the room) */
    bool capped;       /* a cap was known: extra holds, not remaining */
    bool held;         /* extra stays whole until the reset instead of fading */
    bool done;         /* said with its call's whole answer (gw_rl_seen_t.done) */
    int64_t extra;     /* the upstream's count less ours (may be < 0) */
} said_t;

typedef struct entry {
    gw_pairmap_node_t node; /* first: the map frees the entry through it */
    gw_reset_t reset;
    int64_t tick[SLOTS]; /* tick each slot holds, EMPTY_TICK if none */
    int32_t req[SLOTS];
    int32_t tok[SLOTS];
    int64_t period_start_ms;
    int64_t period_req;
    int64_t period_tok;
    said_t said[GW_WIN__COUNT];
    int inflight;            /* calls charged and not yet ended */
    bool answered;           /* the upstream has answered here (or stated its windows) */
    int64_t too_large;       /* floor a 413 refused (0: none) */
    int64_t too_large_until; /* remembered until */
} entry_t;

_Static_assert(offsetof(entry_t, node) == 0, "the pairmap node comes first");

struct gw_ledger {
    gw_pairmap_t map; /* model_id "" for the provider-wide entry */
};

static entry_t *entry_of(gw_pairmap_node_t *n)
{
    return n != NULL ? gw_container_of(n, entry_t, node) : NULL;
}

static entry_t *lookup(gw_ledger_t *l, const char *pid, const char *mid, int64_t key_id)
{
    return entry_of(gw_pairmap_find(&l->map, pid, mid, key_id));
}

static entry_t *get_or_add(gw_ledger_t *l, const char *pid, const char *mid, int64_t key_id,
                           gw_reset_t reset, int64_t now_ms)
{
    bool created;
    entry_t *e = entry_of(gw_pairmap_get_or_add(&l->map, pid, mid, key_id, &created));

    if (created) {
        e->reset = reset;
        for (int i = 0; i < SLOTS; i++)
            e->tick[i] = EMPTY_TICK;
        for (int w = 0; w < GW_WIN__COUNT; w++)
            e->said[w].remaining = -1;
        e->period_start_ms = gw_reset_period_start(reset, now_ms);
    }
    return e;
}

gw_ledger_t *gw_ledger_new(void)
{
    gw_ledger_t *l = gw_xcalloc(1, sizeof(*l));

    gw_pairmap_init(&l->map, sizeof(entry_t));
    return l;
}

void gw_ledger_free(gw_ledger_t *l)
{
    if (l == NULL)
        return;
    gw_pairmap_dispose(&l->map);
    free(l);
}

/* ---- windows --------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The tick a time falls in (now), and the tick a call sent then is stamped with. */
static int64_t tick_of(int64_t ms)
{
    return floor_div(ms, TICK_MS);
}

static int64_t stamp_of(int64_t sent_ms)
{
    return tick_of(sent_ms + LEAD_MS);
}

/* When a bucket of tick t stops counting (epoch ms). */
static int64_t expiry_of(int64_t t)
{
    return (t + SPAN) * TICK_MS;
}

/* Starts a new period when the provider's boundary has passed. Only forward:
 * a clock stepping back keeps today's counts (the safe side). */
static void roll(entry_t *e, int64_t now_ms)
{
    int64_t start = gw_reset_period_start(e->reset, now_ms);

    if (start > e->period_start_ms) {
        e->period_start_ms = start;
        e->period_req = 0;
        e->period_tok = 0;
    }
}

static bool in_window(int64_t t, int64_t now_t)
{
    return t != EMPTY_TICK && t > now_t - SPAN;
}

static void window_sum(const entry_t *e, int64_t now_t, int64_t *req, int64_t *tok)
{
    *req = 0;
    *tok = 0;
    for (int i = 0; i < SLOTS; i++) {
        if (!in_window(e->tick[i], now_t))
            continue;
        *req += e->req[i];
        *tok += e->tok[i];
    }
}

/* The bucket of tick t, emptied first if it still holds an older tick. */
static int bucket(entry_t *e, int64_t t)
{
    int i = (int)(t & (SLOTS - 1));

    if (e->tick[i] != t) {
        e->tick[i] = t;
        e->req[i] = 0;
        e->tok[i] = 0;
    }
    return i;
}

/* Adds to a bucket, saturating (a bucket holds a quarter second's calls). */
static void bucket_add(entry_t *e, int i, int64_t req, int64_t tok)
{
    e->req[i] = (int32_t)GW_MIN(GW_MAX((int64_t)e->req[i] + req, 0), INT32_MAX);
    e->tok[i] = (int32_t)GW_MIN(GW_MAX((int64_t)e->tok[i] + tok, 0), INT32_MAX);
}

/*
 * When enough of the window has aged out: buckets leave oldest first; stop
 * when freeing them lets one more request of `est` fit (tokens=true: the
 * remaining tokens are 0 or remaining + est <= cap; tokens=false: remaining
 * requests + 1 <= cap). Returns epoch ms.
 */
static int64_t free_at(const entry_t *e, int64_t now_t, bool tokens, int64_t used, int64_t est,
                       int64_t cap)
{
    int64_t freed = 0;
    int64_t last = now_t;

    /* Every slot once: the window, then the ticks ahead of now the lead stamps. */
    for (int64_t t = now_t - SPAN + 1; t <= now_t + (SLOTS - SPAN); t++) {
        int i = (int)(t & (SLOTS - 1));
        int64_t left;

        if (e->tick[i] != t)
            continue;
        freed += tokens ? e->tok[i] : e->req[i];
        left = used - freed;
        if (tokens ? (left <= 0 || left + est <= cap) : (left + 1 <= cap))
            return expiry_of(t);
        last = t;
    }
    /* Only buckets stamped further ahead (clock stepped back) are left. */
    for (int i = 0; i < SLOTS; i++)
        if (e->tick[i] != EMPTY_TICK && e->tick[i] > last)
            last = e->tick[i];
    return expiry_of(last);
}

/* ---- what the upstream said ------------------------------------------------------- */

static bool minute_window(gw_win_t w)
{
    return w == GW_WIN_RPM || w == GW_WIN_TPM;
}

/* Requests or tokens counted in the buckets of seconds after `after_s`. */
static int64_t counted_after(const entry_t *e, int64_t after_t, int64_t now_t, bool tokens)
{
    int64_t n = 0;

    for (int i = 0; i < SLOTS; i++)
        if (in_window(e->tick[i], now_t) && e->tick[i] > after_t)
            n += tokens ? e->tok[i] : e->req[i];
    return n;
}

static int64_t period_count(const entry_t *e, gw_win_t w)
{
    return w == GW_WIN_RPD ? e->period_req : e->period_tok;
}

/* Whether the statement on window w is still in force (clears it if not). A
 * minute window's lapses at its reset or when every second it spoke of has
 * aged out; a period's at its reset or when our period turns. */
static bool said_in_force(entry_t *e, gw_win_t w, int64_t now_ms)
{
    said_t *s = &e->said[w];

    if (s->remaining < 0)
        return false;
    if (now_ms >= s->reset_ms ||
        (minute_window(w) ? now_ms >= expiry_of(stamp_of(s->at_ms))
                          : s->at_ms < e->period_start_ms)) {
        s->remaining = -1;
        return false;
    }
    return true;
}

/* What we charged after the call that carried the statement. */
static int64_t said_since(const entry_t *e, gw_win_t w, int64_t now_ms)
{
    const said_t *s = &e->said[w];

    if (minute_window(w))
        return counted_after(e, stamp_of(s->at_ms), tick_of(now_ms), w == GW_WIN_TPM);
    return GW_MAX(period_count(e, w) - s->base, 0);
}

/* The upstream's count beyond ours, never below 0 (an upstream counting less
 * than we charged says so again, and ours ages out with our calls). It fades
 * evenly to nothing at the stated reset: the window the upstream spoke of
 * turns over in between (a token bucket refills at that pace). */
static int64_t said_extra(const entry_t *e, gw_win_t w, int64_t now_ms)
{
    const said_t *s = &e->said[w];
    int64_t span = s->reset_ms - s->at_ms;

    if (s->extra <= 0)
        return 0;
    if (s->held || span <= 0 || now_ms <= s->at_ms)
        return s->extra;
    return (int64_t)((double)s->extra * (double)(s->reset_ms - now_ms) / (double)span + 0.999);
}

/* No cap known: the stated room less what was charged since; -1 when none. */
static int64_t said_room(entry_t *e, gw_win_t w, int64_t now_ms)
{
    if (!said_in_force(e, w, now_ms) || e->said[w].capped)
        return -1;
    return GW_MAX(e->said[w].remaining - said_since(e, w, now_ms), 0);
}

static int64_t cap_of(const entry_t *e, const gw_limits_t *lim, gw_win_t w)
{
    static const size_t off[GW_WIN__COUNT] = {
        offsetof(gw_limits_t, rpm), offsetof(gw_limits_t, tpm), offsetof(gw_limits_t, rpd),
        offsetof(gw_limits_t, tpd)};

    if (e != NULL && e->said[w].limit > 0)
        return e->said[w].limit;
    return *(const int64_t *)((const char *)lim + off[w]);
}

/* ---- pacing ----------------------------------------------------------------------- */

/* The fraction of [start, next) gone at now, 0..1. */
static double period_gone(int64_t start_ms, int64_t next_ms, int64_t now_ms)
{
    if (next_ms <= start_ms || now_ms >= next_ms)
        return 1.0;
    return now_ms <= start_ms ? 0.0 : (double)(now_ms - start_ms) / (double)(next_ms - start_ms);
}

int64_t gw_ledger_paced_allowance(int64_t cap, double reserve, int64_t start_ms, int64_t next_ms,
                                  int64_t now_ms)
{
    double f = period_gone(start_ms, next_ms, now_ms);
    double r = GW_MIN(reserve, 0.95);

    if (cap <= 0 || r <= 0 || f >= 1.0)
        return GW_MAX(cap, 0);
    /* The epsilon keeps a figure the formula hits exactly (62.0) from
     * rounding down to 61.999... */
    return GW_MIN((int64_t)((double)cap * ((1.0 - r) + r * f) + 1e-9), cap);
}

int64_t gw_ledger_paced_release_at(int64_t cap, double reserve, int64_t start_ms, int64_t next_ms,
                                   int64_t amount)
{
    double r = GW_MIN(reserve, 0.95);
    double f;
    int64_t t;

    if (cap <= 0 || r <= 0 ||
        amount <= gw_ledger_paced_allowance(cap, r, start_ms, next_ms, start_ms))
        return start_ms;
    if (amount >= cap)
        return next_ms; /* the last bit of the cap is whole only as the period ends */
    f = ((double)amount / (double)cap - (1.0 - r)) / r;
    t = start_ms + (int64_t)(f * (double)(next_ms - start_ms));
    /* The division rounds: step to the first millisecond that holds (a few at most). */
    while (t > start_ms && gw_ledger_paced_allowance(cap, r, start_ms, next_ms, t - 1) >= amount)
        t--;
    while (t < next_ms && gw_ledger_paced_allowance(cap, r, start_ms, next_ms, t) < amount)
        t++;
    return t;
}

/* A daily cap under pacing: what may be spent by now, and when `need` may. */
static int64_t paced_cap(int64_t start, gw_reset_t reset, int64_t cap, double reserve, int64_t need,
                         int64_t now_ms, int64_t *when)
{
    int64_t next = gw_reset_next(reset, now_ms);

    *when = gw_ledger_paced_release_at(cap, reserve, start, next, need);
    return gw_ledger_paced_allowance(cap, reserve, start, next, now_ms);
}

/* ---- checks -------------------------------------------------------------------------- */

/* A pair nothing was charged to yet: only pacing can hold its first call back
 * (early in the period a large reserve releases less than one request). */
static bool fresh_fits(const gw_limits_t *lim, gw_reset_t reset, const gw_cost_t *cost,
                       int64_t now_ms, int64_t *retry)
{
    int64_t start = gw_reset_period_start(reset, now_ms);
    int64_t caps[2] = {lim->rpd, lim->tpd};
    int64_t cost_of[2] = {1, GW_MAX(cost->floor, 0)};
    bool ok = true;
    int64_t when;

    if (cost->reserve <= 0)
        return true;
    for (int i = 0; i < 2; i++) {
        int64_t x = GW_MIN(cost_of[i], caps[i]);
        if (caps[i] <= 0 || x <= 0)
            continue;
        if (x <= paced_cap(start, reset, caps[i], cost->reserve, x, now_ms, &when))
            continue;
        *retry = GW_MAX(*retry, when);
        ok = false;
    }
    return ok;
}

/* When a window counting `used` (ours) plus `extra` (the upstream's more,
 * fading to 0 at `extra_until`, or whole until then if held) has room for x. */
static int64_t window_free_at(const entry_t *e, gw_win_t w, int64_t used, int64_t extra,
                              int64_t extra_until, bool held, int64_t x, int64_t cap,
                              int64_t now_ms)
{
    int64_t now_t = tick_of(now_ms);
    bool tok = w == GW_WIN_TPM;
    int64_t own, with_extra, faded;

    if (!minute_window(w))
        return used + x <= cap && extra > 0 ? extra_until : gw_reset_next(e->reset, now_ms);
    with_extra = free_at(e, now_t, tok, used, GW_MIN(x + extra, cap), cap);
    if (extra <= 0 || used + x > cap || held)
        return held && used + x <= cap ? GW_MIN(with_extra, extra_until) : with_extra;
    /* Ours fits now: when enough of the extra has faded. */
    own = cap - used - x;
    faded = extra_until - (int64_t)((double)own * (double)(extra_until - now_ms) / (double)extra);
    return GW_MIN(with_extra, GW_MAX(faded, now_ms + 1));
}

/* One window: used (our count), the cap, the call's cost x. */
static bool window_fits(entry_t *e, gw_win_t w, int64_t used, int64_t cap, int64_t x,
                        const gw_cost_t *cost, int64_t now_ms, int64_t *retry)
{
    int64_t room = said_room(e, w, now_ms);
    int64_t extra = 0;
    int64_t when;

    if (room >= 0) {
        if (x > room) {
            *retry = GW_MAX(*retry, e->said[w].reset_ms);
            return false;
        }
    } else if (said_in_force(e, w, now_ms)) {
        /* The upstream's count, never below what it surely holds of ours. */
        int64_t since = said_since(e, w, now_ms); /* a scan of the minute's buckets */

        extra = said_extra(e, w, now_ms);
        if (used + extra < since)
            extra = since - used;
    }
    if (cap > 0 && used + extra + x > cap) {
        *retry = GW_MAX(*retry, window_free_at(e, w, used, extra, e->said[w].reset_ms,
                                               e->said[w].held, x, cap, now_ms));
        return false;
    }
    if (minute_window(w) || cost->reserve <= 0 || cap <= 0)
        return true;
    /* Pacing counts what the upstream counts when it said more. */
    used += GW_MAX(extra, 0);
    if (room >= 0)
        used = GW_MAX(used, cap - room);
    if (used + x <=
        paced_cap(e->period_start_ms, e->reset, cap, cost->reserve, used + x, now_ms, &when))
        return true;
    *retry = GW_MAX(*retry, when);
    return false;
}

/* Checks one entry against its caps; on LATER raises *retry to when it fits. */
static gw_fit_t fit_entry(entry_t *e, const gw_limits_t *lim, gw_reset_t reset,
                          const gw_cost_t *cost, int64_t now_ms, int64_t *retry)
{
    int64_t floor = GW_MAX(cost->floor, 0);
    int64_t rq, tk;
    bool ok = true;

    for (gw_win_t w = GW_WIN_TPM; w <= GW_WIN_TPD; w += 2) {
        int64_t cap = cap_of(e, lim, w);
        if (cap > 0 && floor > cap)
            return GW_FIT_NEVER;
    }
    if (e == NULL) /* nothing counted */
        return fresh_fits(lim, reset, cost, now_ms, retry) ? GW_FIT_OK : GW_FIT_LATER;
    if (e->too_large > 0 && now_ms < e->too_large_until && floor >= e->too_large)
        return GW_FIT_NEVER;
    roll(e, now_ms);
    window_sum(e, tick_of(now_ms), &rq, &tk);
    ok = window_fits(e, GW_WIN_RPM, rq, cap_of(e, lim, GW_WIN_RPM), 1, cost, now_ms, retry) && ok;
    /* Token windows admit a call by what the upstream counts at admission (its
     * floor); the answer's tokens land after it, and our count holds the
     * expected answer of every call still in flight. */
    ok = window_fits(e, GW_WIN_TPM, tk, cap_of(e, lim, GW_WIN_TPM), floor, cost, now_ms,
                     retry) && ok;
    ok = window_fits(e, GW_WIN_RPD, e->period_req, cap_of(e, lim, GW_WIN_RPD), 1, cost, now_ms,
                     retry) && ok;
    ok = window_fits(e, GW_WIN_TPD, e->period_tok, cap_of(e, lim, GW_WIN_TPD), floor, cost,
                     now_ms, retry) && ok;
    return ok ? GW_FIT_OK : GW_FIT_LATER;
}

/* ---- API ------------------------------------------------------------------------- */

gw_fit_t gw_ledger_fit(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, const gw_cost_t *cost,
                       int64_t now_ms, int64_t *retry_at_ms)
{
    const gw_provider_t *p = m->provider;
    gw_cost_t c = *cost;
    int64_t retry = 0;
    gw_fit_t a, b;

    gw_assert(p != NULL);
    c.tokens = GW_MAX(c.tokens, 0);
    c.reserve = GW_MIN(GW_MAX(c.reserve, 0.0), 0.95);
    a = fit_entry(lookup(l, p->id, m->id, key_id), &m->limits, p->reset, &c, now_ms, &retry);
    /* Both, so retry_at covers every cap in the way. */
    b = fit_entry(lookup(l, p->id, "", key_id), &p->limits, p->reset, &c, now_ms, &retry);
    if (retry_at_ms != NULL)
        *retry_at_ms = (a == GW_FIT_LATER || b == GW_FIT_LATER) ? GW_MAX(retry, now_ms + 1) : 0;
    if (a == GW_FIT_NEVER || b == GW_FIT_NEVER)
        return GW_FIT_NEVER;
    return a == GW_FIT_OK && b == GW_FIT_OK ? GW_FIT_OK : GW_FIT_LATER;
}

bool gw_ledger_allows(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t est_tokens,
                      int64_t now_ms, int64_t *retry_at_ms)
{
    gw_cost_t c = {.tokens = est_tokens, .floor = est_tokens};

    return gw_ledger_fit(l, m, key_id, &c, now_ms, retry_at_ms) == GW_FIT_OK;
}

static void charge_entry(entry_t *e, int64_t est, int64_t now_ms)
{
    int i;

    roll(e, now_ms);
    i = bucket(e, stamp_of(now_ms));
    bucket_add(e, i, 1, est);
    e->period_req += 1;
    e->period_tok += est;
}

void gw_ledger_charge(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t est_tokens,
                      int64_t now_ms)
{
    const gw_provider_t *p = m->provider;

    gw_assert(p != NULL);
    if (est_tokens < 0)
        est_tokens = 0;
    charge_entry(get_or_add(l, p->id, m->id, key_id, p->reset, now_ms), est_tokens, now_ms);
    charge_entry(get_or_add(l, p->id, "", key_id, p->reset, now_ms), est_tokens, now_ms);
}

/* Moves a correction of `dreq` requests and `dtok` tokens into the bucket the
 * request was charged to while it is still in the window. A positive token
 * correction whose bucket has aged out goes to the current second instead
 * (the upstream may still count those tokens); anything else is dropped (the
 * window already forgot it). Same for the period: only corrections to this
 * period's charges count. A period statement made after the charge already
 * holds it: its base moves with the correction. */
static void correct_entry(entry_t *e, int64_t dreq, int64_t dtok, int64_t charged_at_ms,
                          int64_t now_ms)
{
    int64_t now_t = tick_of(now_ms);
    int64_t ct = stamp_of(charged_at_ms);
    int i = (int)(ct & (SLOTS - 1));

    roll(e, now_ms);
    if (e->tick[i] == ct && in_window(ct, now_t))
        bucket_add(e, i, dreq, dtok);
    else if (dtok > 0)
        bucket_add(e, bucket(e, stamp_of(now_ms)), 0, dtok);
    /* A statement made after the charge counted the call. A refund (dreq < 0)
     * takes off our count what was never in the upstream's: its count beyond
     * ours grows by as much; so does a settle of the call whose whole answer
     * carried the statement (the upstream had it as used already). A call
     * still in flight when the upstream spoke was held there at what it
     * reserves at admission (the prompt and max_tokens, as we charge it):
     * its settle moves both counts alike. */
    for (gw_win_t w = 0; w < GW_WIN__COUNT; w++) {
        said_t *st = &e->said[w];
        int64_t d = w == GW_WIN_RPM || w == GW_WIN_RPD ? dreq : dtok;

        if (st->remaining < 0 || charged_at_ms > st->at_ms)
            continue;
        if (st->capped && (dreq < 0 || (st->done && charged_at_ms == st->at_ms)))
            st->extra -= d;
        if (!minute_window(w) && charged_at_ms >= e->period_start_ms)
            st->base += d;
    }
    if (charged_at_ms < e->period_start_ms)
        return;
    e->period_req = GW_MAX(e->period_req + dreq, 0);
    e->period_tok = GW_MAX(e->period_tok + dtok, 0);
}

static void correct(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t dreq,
                    int64_t dtok, int64_t charged_at_ms, int64_t now_ms)
{
    const gw_provider_t *p = m->provider;
    entry_t *e;

    gw_assert(p != NULL);
    if (dreq == 0 && dtok == 0)
        return;
    e = lookup(l, p->id, m->id, key_id);
    if (e != NULL)
        correct_entry(e, dreq, dtok, charged_at_ms, now_ms);
    e = lookup(l, p->id, "", key_id);
    if (e != NULL)
        correct_entry(e, dreq, dtok, charged_at_ms, now_ms);
}

void gw_ledger_adjust(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t delta_tokens,
                      int64_t charged_at_ms, int64_t now_ms)
{
    correct(l, m, key_id, 0, delta_tokens, charged_at_ms, now_ms);
}

void gw_ledger_refund(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t tokens,
                      int64_t charged_at_ms, int64_t now_ms)
{
    correct(l, m, key_id, -1, -GW_MAX(tokens, 0), charged_at_ms, now_ms);
}

void gw_rl_seen_init(gw_rl_seen_t *s)
{
    memset(s, 0, sizeof(*s));
    for (int w = 0; w < GW_WIN__COUNT; w++)
        s->remaining[w] = -1;
}

void gw_ledger_observe(gw_ledger_t *l, const gw_model_t *m, int64_t key_id,
                       const gw_rl_seen_t *seen, int64_t charged_at_ms, int64_t now_ms)
{
    const gw_provider_t *p = m->provider;
    int64_t now_t = tick_of(now_ms);
    int64_t rq, tk;
    entry_t *e;

    gw_assert(p != NULL);
    e = get_or_add(l, p->id, m->id, key_id, p->reset, now_ms);
    e->answered = true;
    roll(e, now_ms);
    window_sum(e, now_t, &rq, &tk);
    for (gw_win_t w = 0; w < GW_WIN__COUNT; w++) {
        said_t *s = &e->said[w];
        int64_t reset = seen->reset_ms[w];
        bool tokens = w == GW_WIN_TPM || w == GW_WIN_TPD;
        int64_t later = counted_after(e, stamp_of(charged_at_ms), now_t, tokens);
        int64_t ours, cap;

        if (seen->limit[w] > 0)
            s->limit = seen->limit[w];
        if (seen->remaining[w] < 0)
            continue;
        /* No stated reset: a minute window may still hold all it spoke of for
         * a minute; a period until it turns. */
        if (reset <= now_ms)
            reset = minute_window(w) ? expiry_of(stamp_of(charged_at_ms))
                                     : gw_reset_next(e->reset, now_ms);
        s->remaining = seen->remaining[w];
        s->at_ms = charged_at_ms;
        s->reset_ms = reset;
        s->held = seen->held;
        s->done = seen->done;
        /* Calls charged after this one are not in the upstream's count yet. */
        s->base = period_count(e, w) - later;
        cap = cap_of(e, &m->limits, w);
        /* The extra is measured against all we have charged: an upstream that
         * states its count when it answers has seen the calls sent meanwhile,
         * and one that has not yet is short of ours (no extra). */
        ours = w == GW_WIN_RPM ? rq : w == GW_WIN_TPM ? tk : period_count(e, w);
        /* More room than the catalog's cap leaves: the upstream's cap is higher.
         * Requests are counted exactly; tokens only estimated, so not there. */
        if (cap > 0 && seen->limit[w] <= 0 && (w == GW_WIN_RPM || w == GW_WIN_RPD) &&
            GW_MAX(ours, 0) + s->remaining > cap) {
            s->limit = GW_MAX(ours, 0) + s->remaining;
            cap = s->limit;
        }
        s->capped = cap > 0;
        s->extra = cap > 0 ? (cap - GW_MIN(s->remaining, cap)) - GW_MAX(ours, 0) : 0;
    }
}

void gw_ledger_too_large(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t floor,
                         int64_t now_ms)
{
    const gw_provider_t *p = m->provider;
    entry_t *e;

    gw_assert(p != NULL);
    if (floor <= 0)
        return;
    e = get_or_add(l, p->id, m->id, key_id, p->reset, now_ms);
    if (e->too_large == 0 || now_ms >= e->too_large_until || floor < e->too_large)
        e->too_large = floor;
    e->too_large_until = now_ms + TOO_LARGE_MS;
}

void gw_ledger_begin(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t now_ms)
{
    const gw_provider_t *p = m->provider;

    gw_assert(p != NULL);
    get_or_add(l, p->id, m->id, key_id, p->reset, now_ms)->inflight++;
}

void gw_ledger_end(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, bool answered)
{
    entry_t *e = lookup(l, m->provider->id, m->id, key_id);

    if (e == NULL)
        return;
    if (e->inflight > 0)
        e->inflight--;
    e->answered = e->answered || answered;
}

bool gw_ledger_first_busy(gw_ledger_t *l, const gw_model_t *m, int64_t key_id)
{
    const gw_limits_t *ml = &m->limits, *pl = &m->provider->limits;
    const entry_t *e;

    /* Only token caps depend on what is unknown (request counts are exact). */
    if (ml->tpm <= 0 && ml->tpd <= 0 && pl->tpm <= 0 && pl->tpd <= 0)
        return false;
    e = lookup(l, m->provider->id, m->id, key_id);
    return e != NULL && !e->answered && e->inflight > 0;
}

void gw_ledger_forget_room(gw_ledger_t *l, const char *provider_id, const char *model_id,
                           const int64_t *key_id)
{
    for (gw_pairmap_node_t *n = gw_pairmap_next(&l->map, NULL); n != NULL;
         n = gw_pairmap_next(&l->map, n)) {
        entry_t *e = entry_of(n);

        if (strcmp(n->provider_id, provider_id) != 0 ||
            (model_id != NULL && strcmp(n->model_id, model_id) != 0) ||
            (key_id != NULL && n->key_id != *key_id))
            continue;
        for (int w = 0; w < GW_WIN__COUNT; w++)
            e->said[w].remaining = -1;
    }
}

int64_t gw_ledger_cap(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, gw_win_t w)
{
    gw_assert(m->provider != NULL && w < GW_WIN__COUNT);
    return cap_of(lookup(l, m->provider->id, m->id, key_id), &m->limits, w);
}

static void usage_of(entry_t *e, gw_reset_t reset, int64_t now_ms, gw_usage_t *out)
{
    memset(out, 0, sizeof(*out));
    out->period_start_ms = gw_reset_period_start(reset, now_ms);
    if (e == NULL)
        return;
    roll(e, now_ms);
    window_sum(e, tick_of(now_ms), &out->rpm, &out->tpm);
    if (e->period_start_ms == out->period_start_ms) {
        out->rpd = e->period_req;
        out->tpd = e->period_tok;
    }
}

void gw_ledger_usage(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t now_ms,
                     gw_usage_t *out)
{
    const gw_provider_t *p = m->provider;

    gw_assert(p != NULL);
    usage_of(lookup(l, p->id, m->id, key_id), p->reset, now_ms, out);
}

void gw_ledger_usage_provider(gw_ledger_t *l, const gw_provider_t *p, int64_t key_id,
                              int64_t now_ms, gw_usage_t *out)
{
    usage_of(lookup(l, p->id, "", key_id), p->reset, now_ms, out);
}

void gw_ledger_foreach(gw_ledger_t *l, int64_t now_ms, gw_ledger_row_cb cb, void *ctx)
{
    for (gw_pairmap_node_t *n = gw_pairmap_next(&l->map, NULL); n != NULL;
         n = gw_pairmap_next(&l->map, n)) {
        entry_t *e = entry_of(n);

        roll(e, now_ms);
        if (e->period_req == 0 && e->period_tok == 0)
            continue;
        cb(ctx, n->provider_id, n->model_id, n->key_id, e->period_start_ms, e->period_req,
           e->period_tok);
    }
}

/* Looked up by scanning rather than through catalog.c's helpers: restore runs
 * once at start, and this keeps the ledger testable on a hand-built catalog. */
static const gw_provider_t *find_provider(const gw_catalog_t *cat, const char *id)
{
    for (size_t i = 0; i < cat->nproviders; i++)
        if (cat->providers[i].id != NULL && strcmp(cat->providers[i].id, id) == 0)
            return &cat->providers[i];
    return NULL;
}

static bool has_model(const gw_catalog_t *cat, const gw_provider_t *p, const char *id)
{
    for (size_t i = 0; i < cat->nmodels; i++)
        if (cat->models[i].provider == p && strcmp(cat->models[i].id, id) == 0)
            return true;
    return false;
}

void gw_ledger_restore(gw_ledger_t *l, const gw_catalog_t *cat, const char *provider_id,
                       const char *model_id, int64_t key_id, int64_t period_start_ms,
                       int64_t requests, int64_t tokens, int64_t now_ms)
{
    const gw_provider_t *p;
    entry_t *e;

    if (provider_id == NULL)
        return;
    if (model_id == NULL)
        model_id = "";
    p = find_provider(cat, provider_id);
    if (p == NULL)
        return; /* provider left the catalog */
    if (model_id[0] != '\0' && !has_model(cat, p, model_id))
        return;
    if (period_start_ms != gw_reset_period_start(p->reset, now_ms))
        return; /* an earlier period: already reset upstream */
    e = get_or_add(l, p->id, model_id, key_id, p->reset, now_ms);
    roll(e, now_ms);
    /* max, not sum: restoring the same row twice must not double it. */
    e->period_req = GW_MAX(e->period_req, requests);
    e->period_tok = GW_MAX(e->period_tok, tokens);
}
