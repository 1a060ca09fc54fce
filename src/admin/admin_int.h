/*
 * What the admin files share: the access rules, store jobs on the thread
 * pool, JSON helpers and the handlers the router (routes.c) calls.
 */
#ifndef GW_ADMIN_ADMIN_INT_H
#define GW_ADMIN_ADMIN_INT_H

#include <jansson.h>

#include "admin/admin.h"
#include "admin/analytics.h"
#include "store/store.h"

/* ---- access (access.c) ---------------------------------------------------------- */

/* May this client reach the admin API at all? Without a PIN: loopback sockets
 * with no proxy headers only; with one, anyone (sessions decide what more).
 * On refusal the answer has been sent. */
bool gw__admin_allowed(gw_admin_t *ad, gw_req_t *req);
/* A state-changing request must prove it comes from the dashboard itself: the
 * custom header, and an Origin (when sent) that is this gateway's own. On
 * refusal the answer has been sent. */
bool gw__admin_same_origin(gw_admin_t *ad, gw_req_t *req);

/* ---- sessions (sessions.c) ---------------------------------------------------------- */

#define GW_ADMIN_COOKIE "freellmapi_session"

bool gw__admin_pin_set(const gw_admin_t *ad);
/* A new session; its token (64 hex) goes in the cookie. False without randomness. */
bool gw__admin_session_new(gw_admin_t *ad, char token[GW_SESSION_TOKEN_LEN + 1]);
/* Does the request carry a live session cookie? Refreshes its idle time. */
bool gw__admin_session_ok(gw_admin_t *ad, gw_req_t *req);
void gw__admin_session_end(gw_admin_t *ad, gw_req_t *req);
void gw__admin_sessions_clear(gw_admin_t *ad);
/* Set-Cookie for token (NULL clears it): HttpOnly, SameSite=Strict, Secure
 * when the request came over TLS through a proxy. */
void gw__admin_set_cookie(gw_req_t *req, const char *token);

/* ---- a new key's first check (key_check.c) ----------------------------------------- */

/* Parks req until key_id's first check (or a deadline), then answers 201 with
 * key (copied) updated by the result. False when too many wait already. */
bool gw__admin_key_wait(gw_admin_t *ad, gw_req_t *req, int64_t key_id, json_t *key);
void gw__admin_key_waits_free(gw_admin_t *ad);
/* The store's health words in the API's (keys.c). */
const char *gw__admin_status_word(const char *health);

/* ---- store jobs (jobs.c) ------------------------------------------------------------ */

typedef struct gw_admin_job gw_admin_job_t;
/* Runs on a pool thread with the job's own store connection: fills status and
 * answer, or calls gw__admin_fail. Touches nothing of the loop's. */
typedef void (*gw_admin_work_fn)(gw_admin_job_t *j, gw_store_t *st);

struct gw_admin_job {
    uv_work_t work;
    gw_admin_t *ad;
    gw_req_t *req;          /* NULL once the client has gone */
    gw_admin_work_fn fn;
    json_t *in;             /* the request's input (taken) */
    int64_t id;             /* a path id, when the route has one */
    bool changes_config;    /* a success reloads the router at once */
    /* On the loop after a success (and the reload): builds the answer from the
     * live state, replacing what the work left (still in j->answer while it
     * runs). NULL: keep it. It may take the request over (setting req to
     * NULL) to answer it later itself. */
    json_t *(*answer_now)(gw_admin_job_t *j);
    /* On the loop when the job ends, whatever its outcome (may be NULL). */
    void (*finally)(gw_admin_job_t *j);
    /* the outcome */
    int status;             /* 0: 200 */
    json_t *answer;         /* NULL with status 204 */
    const char *code;       /* an error's code and param, static strings */
    const char *param;
    char msg[300];
    int64_t retry_after_s;  /* > 0: sent as Retry-After with an error */
    /* A download instead of JSON: sent when raw_type is set (a success). */
    const char *raw_type;   /* static */
    const char *raw_name;   /* the attachment's file name, static */
    gw_buf_t raw;
    bool raw_truncated;
};

/* Queues fn with in (taken) and id; answers the request when it is done. */
void gw__admin_run(gw_admin_t *ad, gw_req_t *req, gw_admin_work_fn fn, json_t *in, int64_t id,
                   bool changes_config);
/* The same, with the answer built on the loop after the reload (answer_now).
 * Returns the job (its hooks may still be set: it ends on the loop, later),
 * or NULL when it could not be queued (the request has been answered). */
gw_admin_job_t *gw__admin_run_then(gw_admin_t *ad, gw_req_t *req, gw_admin_work_fn fn, json_t *in,
                        int64_t id, bool changes_config, json_t *(*answer_now)(gw_admin_job_t *));
/* Store work no client waits for (req NULL): fn runs on the pool, then the
 * router reloads when changes_config. */
void gw__admin_run_detached(gw_admin_t *ad, gw_admin_work_fn fn, json_t *in, bool changes_config);
/* Sets the job's outcome to an error in OpenAI's shape. */
void gw__admin_fail(gw_admin_job_t *j, int status, const char *code, const char *param,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- answers ------------------------------------------------------------------------ */

/* An error in OpenAI's shape (admin codes, see docs/admin-api.md). */
void gw__admin_error(gw_req_t *req, int status, const char *code, const char *param,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* True when the request uses method; else answers 405 with Allow. */
bool gw__admin_only(gw_req_t *req, const char *method);
/* The request's JSON object body, or NULL after answering 400. */
json_t *gw__admin_body(gw_req_t *req);
/* A key as listed (masked; health from the store). */
json_t *gw__admin_key_json(const gw_key_rec_t *rec, const char *health, const char *detail,
                           int64_t checked_ms);
/* A model's free-tier caps as the API lists them (only those it has). */
json_t *gw__admin_limits_json(const gw_limits_t *l);
/* A model's pacing as the API shows it ({reserve, allowed_now:{requests?, tokens?},
 * next_release_ms}), null when off; *view (if not NULL) gets the figures. */
json_t *gw__admin_pacing_json(gw_router_t *r, const gw_model_t *m, int64_t now_ms,
                              gw_pacing_view_t *view);
/* The catalog's capability words of a model. */
json_t *gw__admin_caps_json(unsigned caps);

/* ---- the request log (logs.c, live.c) ------------------------------------------------ */

/* A log row as the API lists it (id 0: left out, for live events). */
json_t *gw__admin_logrow_json(int64_t id, const gw_reqlog_row_t *r);
/* Pings the live views now and then; INT64_MAX ends them (stopping). */
void gw__admin_live_tick(gw_admin_t *ad, int64_t now_ms);
/* Ends every live view (stopping, or the sessions that opened them ended). */
void gw__admin_live_close_all(gw_admin_t *ad);

/* ---- windows of analytics (analytics.c) --------------------------------------------- */

/* The request's ?window= (24h default); false after answering 400. */
bool gw__admin_window(gw_req_t *req, int64_t now_ms, gw_admin_window_t *w);
/* The window as a job's input, and back (in a job). */
json_t *gw__admin_window_json(const gw_admin_window_t *w);
void gw__admin_window_from_json(const json_t *in, gw_admin_window_t *w);

/* ---- the dashboard's files (web.c) -------------------------------------------------- */

/* Is this a request for the dashboard (a page or one of its files)? */
bool gw__web_wants(gw_admin_t *ad, gw_req_t *req);
void gw__web_serve(gw_admin_t *ad, gw_req_t *req);

/* ---- handlers (status.c, keys.c, models.c); rest is the path after the route ---- */

void gw__admin_status(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_providers(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_keys(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_unified_key(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_models(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_chain(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_session(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_pin(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_settings(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_analytics(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_live(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_logs(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_diagnostics(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_budgets(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_quarantines(gw_admin_t *ad, gw_req_t *req, const char *rest);
void gw__admin_sweeps(gw_admin_t *ad, gw_req_t *req, const char *rest);

/* ---- sweeps (sweep.c) and quarantines (budgets.c) -------------------------------------- */

json_t *gw__admin_sweep_json(const gw_admin_sweep_t *s);
/* Cancels a running sweep (its call in flight is cut); frees one (shutdown). */
void gw__admin_sweep_stop(gw_admin_sweep_t *s);
void gw__admin_sweep_free(gw_admin_sweep_t *s);
/* Ends m's manual quarantine in the background (a sweep found it good). */
void gw__admin_quarantine_clear(gw_admin_t *ad, const gw_model_t *m);

#endif
