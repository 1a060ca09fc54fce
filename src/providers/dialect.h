/*
 * Wire dialects: how a chat request is encoded for a provider and how its
 * answers (whole or streamed) are decoded back into OpenAI shapes. One const
 * ops table per wire format; the catalog names each provider's dialect.
 *
 * Adding an OpenAI-compatible provider is a catalog entry (its quirks are
 * policy data); a new wire format is one file here and one line in
 * dialects.c.
 */
#ifndef GW_PROVIDERS_DIALECT_H
#define GW_PROVIDERS_DIALECT_H

#include <jansson.h>

#include "providers/catalog.h"
#include "providers/media.h"
#include "upstream/client.h"

/* Thought signatures (Gemini) remembered across turns, by tool-call id. The
 * gateway keeps them durably (encrypted, with expiry) so a multi-turn tool
 * call works even after a restart; dialects only see this interface. */
typedef struct gw_sig_store {
    /* The signature recorded for call_id, or NULL. Caller frees. */
    char *(*get)(void *ctx, const char *call_id);
    /* Records (or replaces) the signature of a tool call. */
    void (*put)(void *ctx, const char *call_id, const char *signature);
    void *ctx;
} gw_sig_store_t;

/* One upstream call: which model, which credential, which request. */
typedef struct gw_call {
    const gw_model_t *model;
    const char *secret;      /* NULL: anonymous */
    const char *account_id;  /* providers whose URLs hold an account id */
    json_t *req;             /* the validated client request (borrowed) */
    bool stream;
    const gw_sig_store_t *sigs; /* may be NULL (then nothing is remembered) */
    bool defer_body;         /* leave the JSON body in out->json: the caller
                                writes it (the proxy does, off the loop, for
                                long conversations) */
} gw_call_t;

typedef struct gw_tokens {
    int64_t prompt;
    int64_t completion;
    bool known;              /* reported by the provider, not estimated */
} gw_tokens_t;

/* Per-stream decoding state, owned by the caller, opaque to it. */
typedef struct gw_stream_state {
    json_t *tool_ids;        /* per tool-call index: id seen (array) */
    bool saw_tool_calls;
    bool saw_finish;
    bool saw_done;
    bool sent_role;
    int64_t chunks;
    gw_tokens_t usage;
    void *dialect_state;               /* owned by the dialect */
    void (*dialect_free)(void *state); /* called by gw_stream_state_dispose */
} gw_stream_state_t;

typedef enum {
    GW_EV_CHUNKS = 0,  /* zero or more chunks appended to the out array */
    GW_EV_DONE,        /* the upstream said the stream is complete */
    GW_EV_ERROR,       /* an in-band error object (*err_body set, caller frees) */
    GW_EV_SKIP         /* nothing to forward (keep-alive, malformed frame) */
} gw_ev_t;

typedef struct gw_dialect {
    const char *name;
    /* Image parts must be sent inline (base64): http(s) image URLs are fetched
     * by the gateway first (under the safe-fetch rules) and become data: URLs. */
    bool inline_images;
    /* Streams have no [DONE]: a clean end of the body completes the answer. */
    bool eof_ends_stream;
    /* One call can make several choices (the request's "n"), all in one
     * answer. Otherwise the gateway makes one call per choice. */
    bool several_choices;
    /* Builds the upstream HTTP request into out (URL, headers, body). */
    int (*chat_request)(const gw_call_t *c, gw_http_out_t *out, gw_err_t *err);
    /* Fill-in-the-middle on a model with GW_CAP_FIM: the last user message is
     * the prefix; the answer and its stream are read as chat's. NULL: none. */
    int (*fim_request)(const gw_call_t *c, const char *suffix, gw_http_out_t *out,
                       gw_err_t *err);
    /* Decodes a 2xx body into an OpenAI chat.completion (new reference in
     * *out). Returns GW_DECLINED when the body is an in-band error or unusable
     * (err says why), so the caller fails over. */
    int (*chat_response)(const gw_call_t *c, json_t *body, json_t **out, gw_tokens_t *usage,
                         gw_err_t *err);
    /* Decodes one SSE event's data into chat.completion.chunk objects. */
    gw_ev_t (*chat_event)(const gw_call_t *c, gw_stream_state_t *st, gw_str_t data,
                          json_t *out_chunks, json_t **err_body);
    /* Builds a cheap key check (GET of the model list) or returns GW_DECLINED. */
    int (*probe_request)(const gw_provider_t *p, const char *secret, const char *account_id,
                         gw_http_out_t *out);
    /* Media (media.h); NULL when the wire carries none. media_request returns
     * GW_DECLINED when this model cannot do c->op here (the candidate is
     * skipped), or another error with err->http_status 400 when the request
     * itself cannot be expressed (the client is told). */
    int (*media_request)(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err);
    /* Decodes a 2xx answer (its content type and raw body). GW_DECLINED with
     * err set when the answer is unusable (the caller fails over). */
    int (*media_response)(const gw_media_call_t *c, const char *content_type, gw_str_t body,
                          gw_media_result_t *res, gw_err_t *err);
} gw_dialect_t;

const gw_dialect_t *gw_dialect_for(const gw_provider_t *p);

void gw_stream_state_init(gw_stream_state_t *st);
void gw_stream_state_dispose(gw_stream_state_t *st);

/* Shared helpers for dialects. gw_dialect_frame handles [DONE], malformed
 * frames (skipped) and in-band errors; GW_EV_CHUNKS means *frame (a new
 * reference) is a JSON object to translate. */
gw_ev_t gw_dialect_frame(gw_stream_state_t *st, gw_str_t data, json_t **frame,
                         json_t **err_body);
char *gw_dialect_url(const gw_provider_t *p, const char *account_id, const char *path);
void gw_dialect_auth(const gw_provider_t *p, const char *secret, gw_http_out_t *out);
/* The extra headers the provider's policy asks for (catalog policy.headers). */
void gw_dialect_policy_headers(const gw_provider_t *p, gw_http_out_t *out);
/* A request's JSON body (taken): written into out->body now, or kept in
 * out->json when the caller asked to write it later (defer_body). */
int gw_dialect_body(gw_http_out_t *out, json_t *body, bool defer, gw_err_t *err);
/* Writes out->json into out->body as compact JSON and drops it: 0, or err
 * with 400 (not encodable) or 413 (past the body's ceiling). Touches nothing
 * but out, so it may run on a pool thread while the tree is left alone. */
int gw_dialect_write_body(gw_http_out_t *out, gw_err_t *err);
/* A token count a provider reported: the integer if it is one in [0, 10^9]
 * (no call comes near), 0 if absent or null, else 0 with *ok cleared. Sums of
 * such counts cannot overflow; a negative or absurd one never reaches the
 * ledger. */
int64_t gw_dialect_tokens(json_t *v, bool *ok);
/* The vector size an embeddings call must come back with: the one requested
 * (params "dimensions"), else the model's native size; 0 when unknown. A
 * vector of another size belongs to another space and is not usable. */
int64_t gw_dialect_embedding_size(const gw_model_t *m, json_t *params);

#endif
