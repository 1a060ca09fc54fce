/*
 * Catalog loader: reads the JSON data file (format written by
 * catalog/build.py) into immutable structs, validating what the router
 * relies on and refusing keys it does not know, and applies
 * FREELLMAPI_<ID>_BASE_URL overrides.
 */
#include "providers/catalog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

extern const char gw_catalog_builtin[];
extern const unsigned long gw_catalog_builtin_len;

const gw_cap_name_t gw_cap_names[] = {
    {"chat", GW_CAP_CHAT},           {"tools", GW_CAP_TOOLS}, {"vision", GW_CAP_VISION},
    {"embeddings", GW_CAP_EMBED},    {"image", GW_CAP_IMAGE}, {"image_edit", GW_CAP_IMAGE_EDIT},
    {"tts", GW_CAP_TTS},             {"stt", GW_CAP_STT},     {"realtime", GW_CAP_REALTIME},
    {"moderation", GW_CAP_MODERATION}, {"fim", GW_CAP_FIM},
};
const size_t gw_ncap_names = GW_ARRAY_LEN(gw_cap_names);

/* The keys each object may have; anything else is a mistake in the file. */
static const char *const root_keys[] = {"version", "source", "model_names", "providers", NULL};
static const char *const provider_keys[] = {
    "id", "name", "base_url", "dialect", "auth", "needs_account_id", "keyless", "enabled",
    "key_url", "docs_url", "daily_reset", "limits", "policy", "probe", "timeout_ms", "models",
    NULL};
static const char *const auth_keys[] = {"header", "prefix", NULL};
static const char *const limit_keys[] = {"rpm", "rpd", "tpm", "tpd", NULL};
/* A provider's caps are per key (account-wide); it may also cap calls in flight. */
static const char *const provider_limit_keys[] = {"rpm", "rpd", "tpm", "tpd", "concurrent", NULL};
static const char *const ratelimit_header_keys[] = {"requests", "tokens", NULL};
static const char *const policy_keys[] = {
    "drop", "rename", "strip_message_name", "flatten_content", "null_content_empty",
    "serial_tools", "short_tool_ids", "default_max_tokens", "max_tokens_cap",
    "strip_schema_keys", "headers", "embedding_fields", "declined_answers", "reasoning_effort",
    "ratelimit_headers", NULL};
static const char *const model_keys[] = {
    "id", "name", "kind", "capabilities", "context_window", "max_output_tokens", "limits",
    "priority", "enabled", "api", "embedding", "price_per_mtok", "monthly_tokens", "tier",
    "reasoning", NULL};
static const char *const embedding_keys[] = {"space", "dimensions", "flexible", NULL};
static const char *const price_keys[] = {"input", "output", NULL};

/* 0 when every key of obj (if an object) is allowed; else err names the first stray one. */
static int check_keys(json_t *obj, const char *const *allowed, const char *where,
                      gw_err_t *err)
{
    const char *key;
    json_t *v;

    if (obj == NULL || json_is_null(obj))
        return 0;
    if (!json_is_object(obj)) {
        gw_err_set(err, GW_EINVAL, 500, "catalog: %s is not an object", where);
        return GW_EINVAL;
    }
    json_object_foreach(obj, key, v) {
        size_t i = 0;

        while (allowed[i] != NULL && strcmp(allowed[i], key) != 0)
            i++;
        if (allowed[i] == NULL) {
            gw_err_set(err, GW_EINVAL, 500, "catalog: %s has an unknown key \"%s\"", where, key);
            return GW_EINVAL;
        }
    }
    return 0;
}

const char *gw_catalog_default_path(void)
{
    const char *p = getenv("FREELLMAPI_CATALOG");
    return (p != NULL && p[0] != '\0') ? p : NULL;
}

static const char *str_field(json_t *obj, const char *key, const char *dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

static int64_t int_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v) && json_integer_value(v) > 0)
        return json_integer_value(v);
    return 0;
}

static bool bool_field(json_t *obj, const char *key, bool dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_boolean_value(v) : dflt;
}

/* A JSON object member (reference taken), or NULL. */
static json_t *object_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_object(v) ? json_incref(v) : NULL;
}

static double price_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) && json_number_value(v) >= 0 ? json_number_value(v) : -1;
}

static void read_limits(json_t *obj, gw_limits_t *l)
{
    l->rpm = int_field(obj, "rpm");
    l->rpd = int_field(obj, "rpd");
    l->tpm = int_field(obj, "tpm");
    l->tpd = int_field(obj, "tpd");
    l->concurrent = int_field(obj, "concurrent");
}

/* "minute" | "day" (absent: not read). -1 for anything else. */
static int read_window(json_t *obj, const char *key, gw_rl_window_t *w)
{
    const char *v = str_field(obj, key, NULL);

    *w = GW_RL_NONE;
    if (v == NULL)
        return json_object_get(obj, key) == NULL ? 0 : -1;
    if (strcmp(v, "minute") == 0)
        *w = GW_RL_MINUTE;
    else if (strcmp(v, "day") == 0)
        *w = GW_RL_DAY;
    else
        return -1;
    return 0;
}

static char **read_strv(json_t *arr, size_t *n)
{
    char **v;
    size_t i;
    size_t k = 0;

    *n = 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return NULL;
    v = gw_xcalloc(json_array_size(arr), sizeof(*v));
    for (i = 0; i < json_array_size(arr); i++) {
        json_t *s = json_array_get(arr, i);
        if (json_is_string(s))
            v[k++] = gw_xstrdup(json_string_value(s));
    }
    *n = k;
    return v;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int parse_reset(const char *s, gw_reset_t *out)
{
    if (strcmp(s, "utc") == 0)
        *out = GW_RESET_UTC;
    else if (strcmp(s, "pacific") == 0)
        *out = GW_RESET_PACIFIC;
    else if (strcmp(s, "hourly") == 0)
        *out = GW_RESET_HOURLY;
    else if (strcmp(s, "monthly") == 0)
        *out = GW_RESET_MONTHLY;
    else
        return GW_EINVAL;
    return 0;
}

static void read_policy(json_t *obj, gw_policy_t *pol)
{
    json_t *rename = json_object_get(obj, "rename");

    pol->drop = read_strv(json_object_get(obj, "drop"), &pol->ndrop);
    pol->rename = json_is_object(rename) ? json_incref(rename) : NULL;
    pol->strip_message_name = bool_field(obj, "strip_message_name", false);
    pol->flatten_content = bool_field(obj, "flatten_content", false);
    pol->null_content_empty = bool_field(obj, "null_content_empty", false);
    pol->serial_tools = bool_field(obj, "serial_tools", false);
    pol->short_tool_ids = bool_field(obj, "short_tool_ids", false);
    pol->default_max_tokens = int_field(obj, "default_max_tokens");
    pol->max_tokens_cap = int_field(obj, "max_tokens_cap");
    pol->strip_schema_keys =
        read_strv(json_object_get(obj, "strip_schema_keys"), &pol->nstrip_schema_keys);
    pol->headers = object_field(obj, "headers");
    pol->embedding_fields = object_field(obj, "embedding_fields");
    pol->declined_answers =
        read_strv(json_object_get(obj, "declined_answers"), &pol->ndeclined_answers);
    pol->reasoning_effort =
        read_strv(json_object_get(obj, "reasoning_effort"), &pol->nreasoning_effort);
}

/* FREELLMAPI_<ID>_BASE_URL, id upper-cased, non-alphanumerics as '_'. */
static const char *base_url_override(const char *id)
{
    char name[96];
    size_t n = 0;
    const char *prefix = "FREELLMAPI_";

    memcpy(name, prefix, strlen(prefix));
    n = strlen(prefix);
    for (const char *c = id; *c != '\0' && n < sizeof(name) - 16; c++)
        name[n++] = isalnum((unsigned char)*c) ? (char)toupper((unsigned char)*c) : '_';
    memcpy(name + n, "_BASE_URL", sizeof("_BASE_URL"));
    const char *v = getenv(name);
    return (v != NULL && v[0] != '\0') ? v : NULL;
}

static int read_model(json_t *mj, gw_provider_t *p, gw_model_t *m, gw_err_t *err)
{
    const char *id = str_field(mj, "id", NULL);
    json_t *caps = json_object_get(mj, "capabilities");
    size_t i;

    char where[160];

    if (id == NULL || id[0] == '\0') {
        gw_err_set(err, GW_EINVAL, 500, "catalog: provider %s has a model without an id", p->id);
        return GW_EINVAL;
    }
    snprintf(where, sizeof(where), "model %s/%.100s", p->id, id);
    if (check_keys(mj, model_keys, where, err) != 0 ||
        check_keys(json_object_get(mj, "limits"), limit_keys, where, err) != 0 ||
        check_keys(json_object_get(mj, "embedding"), embedding_keys, where, err) != 0 ||
        check_keys(json_object_get(mj, "price_per_mtok"), price_keys, where, err) != 0)
        return GW_EINVAL;
    m->id = gw_xstrdup(id);
    m->name = gw_xstrdup(str_field(mj, "name", id));
    m->kind = gw_xstrdup(str_field(mj, "kind", "chat"));
    for (i = 0; i < json_array_size(caps); i++) {
        const char *c = json_string_value(json_array_get(caps, i));
        size_t k = 0;

        while (c != NULL && k < gw_ncap_names && strcmp(c, gw_cap_names[k].name) != 0)
            k++;
        if (c == NULL || k == gw_ncap_names) {
            gw_err_set(err, GW_EINVAL, 500, "catalog: %s has an unknown capability", where);
            return GW_EINVAL;
        }
        m->caps |= gw_cap_names[k].bit;
    }
    m->context_window = int_field(mj, "context_window");
    m->max_output = int_field(mj, "max_output_tokens");
    read_limits(json_object_get(mj, "limits"), &m->limits);
    m->priority = (int)int_field(mj, "priority");
    m->enabled = bool_field(mj, "enabled", true);
    if (str_field(mj, "api", NULL) != NULL)
        m->api = gw_xstrdup(str_field(mj, "api", NULL));
    json_t *emb = json_object_get(mj, "embedding");
    m->space = gw_xstrdup(str_field(emb, "space", id));
    m->dimensions = int_field(emb, "dimensions");
    m->flexible_dims = bool_field(emb, "flexible", false);
    m->price_in_per_mtok = price_field(json_object_get(mj, "price_per_mtok"), "input");
    m->price_out_per_mtok = price_field(json_object_get(mj, "price_per_mtok"), "output");
    m->monthly_tokens = int_field(mj, "monthly_tokens");
    m->tier = gw_tier_parse(str_field(mj, "tier", NULL));
    if (str_field(mj, "tier", NULL) != NULL && (m->tier == GW_TIER_NONE || m->tier == GW_TIER_REASONING)) {
        gw_err_set(err, GW_EINVAL, 500, "catalog: %s has a tier other than small or large", where);
        return GW_EINVAL;
    }
    m->reasoning = bool_field(mj, "reasoning", false);
    m->provider = p;
    return 0;
}

static int read_provider(json_t *pj, gw_provider_t *p, gw_err_t *err)
{
    const char *id = str_field(pj, "id", NULL);
    const char *base = str_field(pj, "base_url", NULL);
    const char *dialect = str_field(pj, "dialect", NULL);
    const char *over;
    json_t *auth = json_object_get(pj, "auth");
    json_t *rl_headers = json_object_get(json_object_get(pj, "policy"), "ratelimit_headers");
    char where[120];

    if (id == NULL || base == NULL || dialect == NULL) {
        gw_err_set(err, GW_EINVAL, 500, "catalog: a provider lacks id, base_url or dialect");
        return GW_EINVAL;
    }
    snprintf(where, sizeof(where), "provider %.100s", id);
    if (check_keys(pj, provider_keys, where, err) != 0 ||
        check_keys(auth, auth_keys, where, err) != 0 ||
        check_keys(json_object_get(pj, "limits"), provider_limit_keys, where, err) != 0 ||
        check_keys(json_object_get(pj, "policy"), policy_keys, where, err) != 0 ||
        check_keys(rl_headers, ratelimit_header_keys, where, err) != 0)
        return GW_EINVAL;
    if (read_window(rl_headers, "requests", &p->policy.rl_requests) != 0 ||
        read_window(rl_headers, "tokens", &p->policy.rl_tokens) != 0) {
        gw_err_set(err, GW_EINVAL, 500,
                   "catalog: provider %s: ratelimit_headers values are \"minute\" or \"day\"", id);
        return GW_EINVAL;
    }
    p->id = gw_xstrdup(id);
    p->name = gw_xstrdup(str_field(pj, "name", id));
    over = base_url_override(id);
    p->base_url = gw_xstrdup(over != NULL ? over : base);
    /* Paths are appended to the base: a trailing slash would double up. */
    while (strlen(p->base_url) > 1 && p->base_url[strlen(p->base_url) - 1] == '/')
        p->base_url[strlen(p->base_url) - 1] = '\0';
    p->dialect = gw_xstrdup(dialect);
    p->auth_header = gw_xstrdup(str_field(auth, "header", "Authorization"));
    p->auth_prefix = gw_xstrdup(str_field(auth, "prefix", "Bearer "));
    if (str_field(pj, "key_url", NULL) != NULL)
        p->key_url = gw_xstrdup(str_field(pj, "key_url", NULL));
    if (str_field(pj, "docs_url", NULL) != NULL)
        p->docs_url = gw_xstrdup(str_field(pj, "docs_url", NULL));
    p->needs_account_id = bool_field(pj, "needs_account_id", false);
    p->keyless = bool_field(pj, "keyless", false);
    p->enabled = bool_field(pj, "enabled", true);
    if (parse_reset(str_field(pj, "daily_reset", "utc"), &p->reset) != 0) {
        gw_err_set(err, GW_EINVAL, 500, "catalog: provider %s has an unknown daily_reset", id);
        return GW_EINVAL;
    }
    read_limits(json_object_get(pj, "limits"), &p->limits);
    read_policy(json_object_get(pj, "policy"), &p->policy);
    p->probe = gw_xstrdup(str_field(pj, "probe", "models"));
    p->timeout_ms = int_field(pj, "timeout_ms");
    if (p->timeout_ms == 0)
        p->timeout_ms = 45000;
    return 0;
}

/* model_names: {name: tier}. */
static int read_names(gw_catalog_t *cat, json_t *names, gw_err_t *err)
{
    const char *name;
    json_t *v;

    if (names == NULL)
        return 0;
    if (!json_is_object(names)) {
        gw_err_set(err, GW_EINVAL, 500, "catalog: model_names is not an object");
        return GW_EINVAL;
    }
    cat->names = gw_xcalloc(json_object_size(names) + 1, sizeof(*cat->names));
    json_object_foreach(names, name, v) {
        gw_tier_t t = gw_tier_parse(json_string_value(v));

        if (t == GW_TIER_NONE) {
            gw_err_set(err, GW_EINVAL, 500, "catalog: model name %.80s: tier is not small, "
                                            "large or reasoning", name);
            return GW_EINVAL;
        }
        cat->names[cat->nnames].name = gw_xstrdup(name);
        cat->names[cat->nnames++].tier = t;
    }
    return 0;
}

int gw_catalog_load_json(gw_catalog_t *cat, json_t *root, gw_err_t *err)
{
    json_t *provs = json_object_get(root, "providers");
    size_t total = 0;
    size_t i;
    size_t mi = 0;

    memset(cat, 0, sizeof(*cat));
    if (check_keys(root, root_keys, "the top level", err) != 0)
        return GW_EINVAL;
    if (!json_is_array(provs) || json_array_size(provs) == 0) {
        gw_err_set(err, GW_EINVAL, 500, "catalog: no providers array");
        return GW_EINVAL;
    }
    if (read_names(cat, json_object_get(root, "model_names"), err) != 0)
        goto fail;
    for (i = 0; i < json_array_size(provs); i++)
        total += json_array_size(json_object_get(json_array_get(provs, i), "models"));
    cat->providers = gw_xcalloc(json_array_size(provs), sizeof(gw_provider_t));
    cat->models = gw_xcalloc(total, sizeof(gw_model_t));
    for (i = 0; i < json_array_size(provs); i++) {
        json_t *pj = json_array_get(provs, i);
        json_t *models = json_object_get(pj, "models");
        gw_provider_t *p = &cat->providers[i];

        cat->nproviders = i + 1;
        p->index = (int)i;
        if (read_provider(pj, p, err) != 0)
            goto fail;
        if (gw_catalog_provider(cat, p->id) != p) {
            gw_err_set(err, GW_EINVAL, 500, "catalog: provider %s appears twice", p->id);
            goto fail;
        }
        p->models = gw_xcalloc(json_array_size(models), sizeof(gw_model_t *));
        for (size_t k = 0; k < json_array_size(models); k++) {
            gw_model_t *m = &cat->models[mi];
            cat->nmodels = ++mi;
            m->index = (int)(mi - 1);
            if (read_model(json_array_get(models, k), p, m, err) != 0)
                goto fail;
            p->models[p->nmodels++] = m;
        }
    }
    return 0;
fail:
    gw_catalog_dispose(cat);
    return GW_EINVAL;
}

int gw_catalog_load(gw_catalog_t *cat, const char *path, gw_err_t *err)
{
    json_error_t jerr;
    json_t *root;
    int rc;

    if (path != NULL)
        root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    else
        root = json_loadb(gw_catalog_builtin, gw_catalog_builtin_len, JSON_REJECT_DUPLICATES,
                          &jerr);
    if (root == NULL) {
        gw_err_set(err, GW_EINVAL, 500, "catalog %s: %s (line %d)", path ? path : "(built-in)",
                   jerr.text, jerr.line);
        return GW_EINVAL;
    }
    rc = gw_catalog_load_json(cat, root, err);
    json_decref(root);
    return rc;
}

void gw_catalog_dispose(gw_catalog_t *cat)
{
    for (size_t i = 0; i < cat->nnames; i++)
        free(cat->names[i].name);
    free(cat->names);
    for (size_t i = 0; i < cat->nmodels; i++) {
        free(cat->models[i].id);
        free(cat->models[i].name);
        free(cat->models[i].kind);
        free(cat->models[i].api);
        free(cat->models[i].space);
    }
    for (size_t i = 0; i < cat->nproviders; i++) {
        gw_provider_t *p = &cat->providers[i];
        free(p->id);
        free(p->name);
        free(p->base_url);
        free(p->dialect);
        free(p->auth_header);
        free(p->auth_prefix);
        free(p->key_url);
        free(p->docs_url);
        free(p->probe);
        free(p->models);
        free_strv(p->policy.drop, p->policy.ndrop);
        free_strv(p->policy.strip_schema_keys, p->policy.nstrip_schema_keys);
        json_decref(p->policy.rename);
        json_decref(p->policy.headers);
        json_decref(p->policy.embedding_fields);
        free_strv(p->policy.declined_answers, p->policy.ndeclined_answers);
        free_strv(p->policy.reasoning_effort, p->policy.nreasoning_effort);
    }
    free(cat->models);
    free(cat->providers);
    memset(cat, 0, sizeof(*cat));
}

gw_provider_t *gw_catalog_provider(const gw_catalog_t *cat, const char *id)
{
    for (size_t i = 0; i < cat->nproviders; i++)
        if (cat->providers[i].id != NULL && strcmp(cat->providers[i].id, id) == 0)
            return &cat->providers[i];
    return NULL;
}

gw_model_t *gw_catalog_model(const gw_catalog_t *cat, const char *provider_id,
                             const char *model_id)
{
    gw_provider_t *p = gw_catalog_provider(cat, provider_id);

    for (size_t i = 0; p != NULL && i < p->nmodels; i++)
        if (strcmp(p->models[i]->id, model_id) == 0)
            return p->models[i];
    return NULL;
}

bool gw_strv_has(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

bool gw_policy_drops(const gw_policy_t *pol, const char *param)
{
    return gw_strv_has(pol->drop, pol->ndrop, param);
}

bool gw_model_makes_size(const gw_model_t *m, int64_t size)
{
    if (m->dimensions <= 0)
        return true;
    return m->flexible_dims ? size >= 1 && size <= m->dimensions : size == m->dimensions;
}
