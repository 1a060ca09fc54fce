/*
 * The provider catalog: which providers exist, where they live, how they
 * authenticate, which models they serve with which capabilities and free-tier
 * limits. Loaded from a JSON data file at start (catalog/catalog.json, built
 * by catalog/build.py from catalog/facts.json and catalog/gateway.json), so a
 * change in a free tier needs an edit, never a rebuild. Base URLs can be
 * overridden per provider with FREELLMAPI_<ID>_BASE_URL.
 *
 * The catalog is immutable once loaded; runtime state (enabled flags the user
 * changed, chain order, key health, usage) lives in the router.
 */
#ifndef GW_PROVIDERS_CATALOG_H
#define GW_PROVIDERS_CATALOG_H

#include <jansson.h>

#include "core/gw.h"

enum {
    GW_CAP_CHAT = 1 << 0,
    GW_CAP_TOOLS = 1 << 1,
    GW_CAP_VISION = 1 << 2,
    GW_CAP_EMBED = 1 << 3,
    GW_CAP_IMAGE = 1 << 4,
    GW_CAP_IMAGE_EDIT = 1 << 5,
    GW_CAP_TTS = 1 << 6,
    GW_CAP_STT = 1 << 7,
    GW_CAP_REALTIME = 1 << 8,
    GW_CAP_MODERATION = 1 << 9,
    GW_CAP_FIM = 1 << 10      /* fill-in-the-middle: a prefix and a suffix */
};

/* The catalog's word for each capability bit ("chat", "embeddings", ...). */
typedef struct gw_cap_name {
    const char *name;
    unsigned bit;
} gw_cap_name_t;
extern const gw_cap_name_t gw_cap_names[];
extern const size_t gw_ncap_names;

/* When a provider's daily (period) counters start over. */
typedef enum {
    GW_RESET_UTC,     /* 00:00 UTC */
    GW_RESET_PACIFIC, /* 00:00 America/Los_Angeles */
    GW_RESET_HOURLY,  /* top of each hour */
    GW_RESET_MONTHLY  /* 1st of the month, 00:00 UTC */
} gw_reset_t;

/* Free-tier caps; 0 means unknown or unlimited. rpd/tpd count over the
 * provider's reset period (a day for most, an hour or a month for some). */
typedef struct gw_limits {
    int64_t rpm, rpd, tpm, tpd;
    int64_t concurrent; /* provider only: calls in flight per key */
} gw_limits_t;

/* The window an upstream's unsuffixed x-ratelimit-*-requests / -tokens headers
 * count (Groq: requests per day, tokens per minute; OpenAI: both per minute). */
typedef enum { GW_RL_NONE = 0, GW_RL_MINUTE, GW_RL_DAY } gw_rl_window_t;

typedef struct gw_provider gw_provider_t;

/* A tier of the chain, for names that ask for a kind of model rather than a
 * model (OpenAI's, Claude's; model_names.c). */
typedef enum {
    GW_TIER_NONE = 0,
    GW_TIER_SMALL,
    GW_TIER_LARGE,
    GW_TIER_REASONING,
} gw_tier_t;

typedef struct gw_model {
    char *id;   /* as sent upstream and as listed by /v1/models */
    char *name;
    char *kind; /* chat | embedding | image | tts | stt | realtime */
    unsigned caps;
    int64_t context_window; /* 0 = unknown */
    int64_t max_output;     /* 0 = unknown */
    gw_limits_t limits;     /* per (provider, model, key) */
    int priority;           /* lower is tried first */
    bool enabled;           /* catalog default; the user may override */
    /* Media models: which upstream API serves them, NULL for the dialect's
     * default (e.g. "cloudflare-run", "pollinations-image"). */
    char *api;
    /* Embedding models: vectors are interchangeable only within one space
     * (same model weights) at one size, so fallover never mixes them. */
    char *space;            /* defaults to the model id */
    int64_t dimensions;     /* native vector size, 0 = unknown */
    bool flexible_dims;     /* takes a requested size (Matryoshka truncation) */
    /* What the tokens would cost on a paid tier, USD per million (input,
     * output); negative when unknown. For savings shown to the user. */
    double price_in_per_mtok, price_out_per_mtok;
    int64_t monthly_tokens; /* the free tier's monthly token budget (estimate), 0 = unknown */
    gw_tier_t tier;         /* chat models: GW_TIER_SMALL or GW_TIER_LARGE */
    bool reasoning;         /* chat models that think before answering */
    gw_provider_t *provider;
    int index;              /* position in gw_catalog_t.models */
} gw_model_t;

typedef struct gw_policy {
    char **drop;            /* request params never sent to this provider */
    size_t ndrop;
    json_t *rename;         /* object: our name -> theirs */
    bool strip_message_name;
    bool flatten_content;   /* array content -> string */
    bool null_content_empty;
    bool serial_tools;      /* force parallel_tool_calls:false with tools */
    bool short_tool_ids;    /* tool-call ids must be 9 alphanumerics (Mistral) */
    int64_t default_max_tokens;
    int64_t max_tokens_cap;
    char **strip_schema_keys;
    size_t nstrip_schema_keys;
    json_t *headers;        /* object: extra request headers (name -> value) */
    json_t *embedding_fields; /* object: fields every embeddings request carries */
    char **declined_answers; /* whole answers that are a filter verdict, not a reply */
    size_t ndeclined_answers;
    char **reasoning_effort; /* the reasoning_effort values accepted (none: any) */
    size_t nreasoning_effort;
    gw_rl_window_t rl_requests; /* what x-ratelimit-*-requests counts (NONE: not read) */
    gw_rl_window_t rl_tokens;   /* what x-ratelimit-*-tokens counts */
} gw_policy_t;

struct gw_provider {
    char *id;
    char *name;
    char *base_url;         /* after any FREELLMAPI_<ID>_BASE_URL override */
    char *dialect;          /* openai | gemini | cloudflare */
    char *auth_header;      /* e.g. "Authorization" */
    char *auth_prefix;      /* e.g. "Bearer " */
    char *key_url;          /* where a user gets a key; NULL if unknown */
    char *docs_url;
    bool needs_account_id;
    bool keyless;
    bool enabled;
    gw_reset_t reset;
    gw_limits_t limits;     /* account-wide, shared by all models of one key */
    gw_policy_t policy;
    char *probe;            /* models | chat | none */
    int64_t timeout_ms;     /* first-byte timeout */
    gw_model_t **models;    /* borrowed pointers into gw_catalog_t.models */
    size_t nmodels;
    int index;
};

typedef struct gw_model_name {
    char *name;             /* "gpt-4o-mini"; ending in '*': a prefix */
    gw_tier_t tier;
} gw_model_name_t;

typedef struct gw_catalog {
    gw_provider_t *providers;
    size_t nproviders;
    gw_model_t *models;     /* every model of every provider */
    size_t nmodels;
    gw_model_name_t *names; /* client model names routed to a tier */
    size_t nnames;
} gw_catalog_t;

/* Loads and validates the catalog file; path NULL loads the copy compiled into
 * the binary. An unknown key anywhere is an error (a misspelt setting must not
 * be dead data). On failure err says what and where. */
int gw_catalog_load(gw_catalog_t *cat, const char *path, gw_err_t *err);
int gw_catalog_load_json(gw_catalog_t *cat, json_t *root, gw_err_t *err);
void gw_catalog_dispose(gw_catalog_t *cat);

/* The tier a client's model name asks for (model_names.c): exact names, then
 * prefixes, then the name without a date suffix (gpt-4o-2024-08-06,
 * gpt-3.5-turbo-0125). GW_TIER_NONE for any other name. */
gw_tier_t gw_catalog_name_tier(const gw_catalog_t *cat, const char *name);
/* "small", "large", "reasoning" (parse: GW_TIER_NONE for anything else). */
const char *gw_tier_name(gw_tier_t t);
gw_tier_t gw_tier_parse(const char *s);

gw_provider_t *gw_catalog_provider(const gw_catalog_t *cat, const char *id);
gw_model_t *gw_catalog_model(const gw_catalog_t *cat, const char *provider_id,
                             const char *model_id);
bool gw_policy_drops(const gw_policy_t *pol, const char *param);
/* Whether an embedding model answers vectors of `size` numbers: its own size,
 * or a smaller one when it truncates (Matryoshka models cut, never grow); a
 * model of unknown size is given the benefit of the doubt. */
bool gw_model_makes_size(const gw_model_t *m, int64_t size);
/* Whether s is one of the n strings of v. */
bool gw_strv_has(char *const *v, size_t n, const char *s);

/* $FREELLMAPI_CATALOG when set, else NULL (the built-in copy). */
const char *gw_catalog_default_path(void);

#endif
