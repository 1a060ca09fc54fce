/*
 * JSON Schema -> Gemini Schema (see gemini_schema.h). An allow-list, not a
 * deny-list: Gemini's Schema message has a fixed set of fields and answers
 * 400 "Unknown name ... Cannot find field" on any other, so keywords not
 * listed in `keep` are dropped wherever they appear (this covers every key
 * in docs/reference/providers.md section 1, x-* vendor keys included).
 * Rewrites, in order, for one schema node:
 *   1. the node's own keywords: type arrays collapse to the first non-null
 *      type plus nullable, const becomes a one-value enum;
 *   2. allOf branches are merged in (properties and required united);
 *   3. anyOf/oneOf: null branches become nullable, a single remaining branch
 *      is merged in, several stay as anyOf, which is then the node's only
 *      field (nullable and description move into the branches);
 *   4. a local $ref is replaced by its (sanitized) target, the node's own
 *      keywords winning; a ref already being expanded (recursion) and
 *      unresolvable or remote refs add nothing;
 *   5. cleanup: enums are strings only, formats only those Gemini documents,
 *      every node gets a type (inferred from items/enum, else "object"),
 *      required names only existing properties, an object without
 *      properties is {"type":"object"} alone, an array whose items say
 *      nothing gets string items.
 * Bounded: nesting depth and the number of nodes visited are capped, so a
 * hostile schema (deep nesting, a $ref fan-out) costs little.
 */
#include "providers/gemini_schema.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

#define MAX_DEPTH 48
#define MAX_NODES 20000

typedef struct sctx {
    json_t *root;
    const char *chain[MAX_DEPTH]; /* $refs being expanded, innermost last */
    int nchain;
    int budget;
} sctx_t;

/* Schema fields Gemini accepts beside the structural ones handled apart
 * (type, properties, items, anyOf, enum, required, nullable). */
static const struct {
    const char *name;
    int kind; /* 's' string, 'n' number, 'b' bool, 'a' array of strings, '*' any */
} keep[] = {
    {"description", 's'}, {"title", 's'},     {"format", 's'},        {"pattern", 's'},
    {"minimum", 'n'},     {"maximum", 'n'},   {"minItems", 'n'},      {"maxItems", 'n'},
    {"minLength", 'n'},   {"maxLength", 'n'}, {"minProperties", 'n'}, {"maxProperties", 'n'},
    {"nullable", 'b'},    {"default", '*'},   {"example", '*'},       {"propertyOrdering", 'a'},
};

static const char *const types[] = {"string", "number", "integer", "boolean", "array", "object"};

static json_t *clean(sctx_t *x, json_t *node, int depth);

/* ---- helpers ----------------------------------------------------------------- */

static bool is_string_array(json_t *a)
{
    json_t *v;
    size_t i;

    if (!json_is_array(a))
        return false;
    json_array_foreach(a, i, v)
        if (!json_is_string(v))
            return false;
    return true;
}

/* One of `types` (case-insensitive), as a static lower-case string; "null"
 * gives "null"; anything else NULL. */
static const char *type_name(json_t *v)
{
    const char *s = json_string_value(v);

    if (s == NULL)
        return NULL;
    if (strcasecmp(s, "null") == 0)
        return "null";
    for (size_t i = 0; i < GW_ARRAY_LEN(types); i++)
        if (strcasecmp(s, types[i]) == 0)
            return types[i];
    return NULL;
}

static bool is_null_schema(json_t *s)
{
    json_t *t = json_object_get(s, "type");
    const char *n = type_name(t);

    if (n != NULL)
        return strcmp(n, "null") == 0;
    if (json_is_array(t) && json_array_size(t) == 1)
        return type_name(json_array_get(t, 0)) != NULL &&
               strcmp(type_name(json_array_get(t, 0)), "null") == 0;
    return false;
}

/* JSON pointer inside the root document ("#", "#/$defs/A", with ~0 ~1). */
static json_t *resolve(json_t *root, const char *ref)
{
    json_t *cur = root;
    const char *p;

    if (ref[0] != '#')
        return NULL; /* remote documents are never fetched */
    p = ref + 1;
    while (*p == '/' && cur != NULL) {
        char tok[256];
        size_t n = 0;
        p++;
        while (*p != '\0' && *p != '/') {
            char c = *p++;
            if (c == '~' && (*p == '0' || *p == '1'))
                c = *p++ == '0' ? '~' : '/';
            if (n + 1 >= sizeof(tok))
                return NULL;
            tok[n++] = c;
        }
        tok[n] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok);
        } else if (json_is_array(cur)) {
            char *end;
            long idx = strtol(tok, &end, 10);
            cur = (n > 0 && *end == '\0' && idx >= 0) ? json_array_get(cur, (size_t)idx) : NULL;
        } else {
            cur = NULL;
        }
    }
    return *p == '\0' ? cur : NULL;
}

static bool in_chain(const sctx_t *x, const char *ref)
{
    for (int i = 0; i < x->nchain; i++)
        if (strcmp(x->chain[i], ref) == 0)
            return true;
    return false;
}

/* Adds src's keywords to dst where dst has none; properties and required are
 * united (allOf and single-branch anyOf). */
static void merge_into(json_t *dst, json_t *src)
{
    const char *k;
    json_t *v;

    json_object_foreach(src, k, v) {
        json_t *have = json_object_get(dst, k);
        if (have == NULL) {
            json_object_set(dst, k, v);
        } else if (strcmp(k, "properties") == 0 && json_is_object(have) && json_is_object(v)) {
            json_object_update_missing(have, v);
        } else if (strcmp(k, "required") == 0 && json_is_array(have) && json_is_array(v)) {
            size_t i;
            json_t *name;
            json_array_foreach(v, i, name) {
                size_t j;
                json_t *h;
                bool dup = false;
                json_array_foreach(have, j, h)
                    dup = dup || json_equal(h, name);
                if (!dup)
                    json_array_append(have, name);
            }
        }
    }
}

static json_t *enum_string(json_t *v)
{
    char *s;
    json_t *out;

    if (json_is_string(v))
        return json_incref(v);
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    out = json_string(s != NULL ? s : "");
    free(s);
    return out;
}

/* Gemini enums are strings (Schema.enum, "format: enum" of STRING). Null
 * members become nullable; a non-string enum on a non-string type is dropped
 * and its values moved into the description, so the model still sees them. */
static void fix_enum(json_t *out)
{
    json_t *e = json_object_get(out, "enum");
    const char *t = json_string_value(json_object_get(out, "type"));
    json_t *vals = json_array();
    json_t *v;
    size_t i;
    bool strings = true;

    if (!json_is_array(e)) {
        json_object_del(out, "enum");
        json_decref(vals);
        return;
    }
    json_array_foreach(e, i, v) {
        if (json_is_null(v)) {
            json_object_set_new(out, "nullable", json_true());
            continue;
        }
        strings = strings && json_is_string(v);
        json_array_append_new(vals, enum_string(v));
    }
    if (json_array_size(vals) == 0) {
        json_object_del(out, "enum");
    } else if (strings || t == NULL || strcmp(t, "string") == 0) {
        json_object_set(out, "enum", vals);
        if (t == NULL)
            json_object_set_new(out, "type", json_string("string"));
    } else {
        gw_buf_t b;
        const char *d = json_string_value(json_object_get(out, "description"));
        gw_buf_init(&b, 1u << 20);
        if (d != NULL && d[0] != '\0')
            gw_buf_printf(&b, "%s ", d);
        gw_buf_appends(&b, "Allowed values:");
        json_array_foreach(vals, i, v)
            gw_buf_printf(&b, "%s %s", i ? "," : "", json_string_value(v));
        gw_buf_appends(&b, ".");
        json_object_set_new(out, "description", json_stringn(b.ptr, b.len));
        gw_buf_dispose(&b);
        json_object_del(out, "enum");
    }
    json_decref(vals);
}

/* Formats Gemini's Schema documents per type; others are dropped (400s such
 * as "only 'enum' and 'date-time' are supported for STRING type"). */
static void fix_format(json_t *out)
{
    const char *t = json_string_value(json_object_get(out, "type"));
    const char *f = json_string_value(json_object_get(out, "format"));
    bool ok = false;

    if (f == NULL || t == NULL) {
        json_object_del(out, "format");
        return;
    }
    if (strcmp(t, "string") == 0)
        ok = strcmp(f, "enum") == 0 || strcmp(f, "date-time") == 0;
    else if (strcmp(t, "integer") == 0)
        ok = strcmp(f, "int32") == 0 || strcmp(f, "int64") == 0;
    else if (strcmp(t, "number") == 0)
        ok = strcmp(f, "float") == 0 || strcmp(f, "double") == 0;
    if (!ok)
        json_object_del(out, "format");
}

/* Vertex says "when using any_of, it must be the only field set" (the
 * Gemini API is not documented either way): siblings move into the branches
 * (nullable, description) or go. */
static void anyof_alone(json_t *out)
{
    json_t *branches = json_incref(json_object_get(out, "anyOf"));
    json_t *desc = json_incref(json_object_get(out, "description"));
    bool nullable = json_is_true(json_object_get(out, "nullable"));
    json_t *b;
    size_t i;

    json_array_foreach(branches, i, b) {
        if (nullable)
            json_object_set_new(b, "nullable", json_true());
        if (desc != NULL && json_object_get(b, "description") == NULL)
            json_object_set(b, "description", desc);
    }
    json_object_clear(out);
    json_object_set_new(out, "anyOf", branches);
    json_decref(desc);
}

static void finish_node(json_t *out)
{
    json_t *props;
    json_t *req;
    const char *t;

    if (json_object_get(out, "enum") != NULL)
        fix_enum(out);
    /* Gemini: "type must be specified when not using one_of, any_of or
     * all_of". Inferred from the shape; a schema saying nothing (JSON
     * Schema's "anything") becomes an object, as LiteLLM does. */
    if (json_object_get(out, "type") == NULL && json_object_get(out, "anyOf") == NULL) {
        if (json_object_get(out, "items") != NULL)
            json_object_set_new(out, "type", json_string("array"));
        else
            json_object_set_new(out, "type", json_string("object"));
    }
    t = json_string_value(json_object_get(out, "type"));
    props = json_object_get(out, "properties");
    req = json_object_get(out, "required");
    if (t == NULL || strcmp(t, "object") != 0 || json_object_size(props) == 0) {
        /* "properties: only allowed for OBJECT type"; an OBJECT with an empty
         * properties map is "should be non-empty for OBJECT type": a free-form
         * object is {"type":"object"} alone (LiteLLM, Vercel). */
        json_object_del(out, "properties");
        json_object_del(out, "required");
        json_object_del(out, "propertyOrdering");
        if (t == NULL || strcmp(t, "object") != 0) {
            json_object_del(out, "minProperties");
            json_object_del(out, "maxProperties");
        }
    } else if (req != NULL) {
        json_t *kept = json_array();
        json_t *name;
        size_t i;
        json_array_foreach(req, i, name) {
            bool dup = false;
            size_t j;
            json_t *k;
            json_array_foreach(kept, j, k)
                dup = dup || json_equal(k, name);
            if (json_is_string(name) && json_object_get(props, json_string_value(name)) && !dup)
                json_array_append(kept, name);
        }
        if (json_array_size(kept) > 0)
            json_object_set(out, "required", kept);
        else
            json_object_del(out, "required");
        json_decref(kept);
    }
    if (t != NULL && strcmp(t, "array") == 0 && json_object_get(out, "items") == NULL)
        json_object_set_new(out, "items", json_pack("{s:s}", "type", "string"));
    if (t == NULL || strcmp(t, "array") != 0) {
        json_object_del(out, "items");
        json_object_del(out, "minItems");
        json_object_del(out, "maxItems");
    }
    fix_format(out);
    if (json_object_get(out, "anyOf") != NULL)
        anyof_alone(out);
}

/* An items schema that says nothing about its values ({} or only notes). */
static bool says_nothing(json_t *s)
{
    static const char *const structural[] = {"type",       "anyOf", "oneOf", "allOf", "$ref",
                                             "properties", "items", "enum",  "const"};

    for (size_t i = 0; i < GW_ARRAY_LEN(structural); i++)
        if (json_object_get(s, structural[i]) != NULL)
            return false;
    return true;
}

/* ---- the walk ---------------------------------------------------------------- */

static void own_type(json_t *out, json_t *v)
{
    const char *t = type_name(v);
    json_t *m;
    size_t i;

    if (json_is_array(v)) {
        json_array_foreach(v, i, m) {
            const char *n = type_name(m);
            if (n == NULL)
                continue;
            if (strcmp(n, "null") == 0)
                json_object_set_new(out, "nullable", json_true());
            else if (t == NULL)
                t = n; /* first non-null member wins */
        }
    }
    if (t == NULL)
        return;
    if (strcmp(t, "null") == 0)
        json_object_set_new(out, "nullable", json_true());
    else
        json_object_set_new(out, "type", json_string(t));
}

static void own_keyword(sctx_t *x, json_t *out, json_t *node, const char *k, json_t *v, int depth)
{
    if (strcmp(k, "type") == 0) {
        own_type(out, v);
    } else if (strcmp(k, "properties") == 0 && json_is_object(v)) {
        /* Keys here are property names, never keywords: "type", "const" and
         * "x-id" are legitimate names and stay. */
        json_t *props = json_object();
        const char *name;
        json_t *sub;
        json_object_foreach(v, name, sub)
            json_object_set_new(props, name, clean(x, sub, depth + 1));
        json_object_set_new(out, "properties", props);
    } else if (strcmp(k, "items") == 0 && (json_is_object(v) || json_is_array(v))) {
        /* Tuple form (draft 4 items array): the first item's schema. */
        json_t *it = json_is_array(v) ? json_array_get(v, 0) : v;
        if (it != NULL && !says_nothing(it))
            json_object_set_new(out, "items", clean(x, it, depth + 1));
        /* else "array of anything": string items, set in finish_node */
    } else if (strcmp(k, "required") == 0 && is_string_array(v)) {
        json_object_set_new(out, "required", json_deep_copy(v));
    } else if (strcmp(k, "enum") == 0 && json_is_array(v)) {
        json_object_set_new(out, "enum", json_deep_copy(v));
    } else if (strcmp(k, "const") == 0 && json_object_get(node, "enum") == NULL) {
        json_object_set_new(out, "enum", json_pack("[O]", v));
    } else {
        for (size_t i = 0; i < GW_ARRAY_LEN(keep); i++) {
            bool ok;
            if (strcmp(k, keep[i].name) != 0)
                continue;
            switch (keep[i].kind) {
            case 's':
                ok = json_is_string(v);
                break;
            case 'n':
                ok = json_is_number(v);
                break;
            case 'b':
                ok = json_is_boolean(v);
                break;
            case 'a':
                ok = is_string_array(v);
                break;
            default:
                ok = true;
                break;
            }
            if (ok)
                json_object_set_new(out, k, json_deep_copy(v));
        }
    }
}

/* anyOf and oneOf (a relaxation of oneOf, fine for generation). */
static void unions(sctx_t *x, json_t *out, json_t *node, int depth)
{
    static const char *const keys[] = {"anyOf", "oneOf"};
    json_t *branches = json_array();
    json_t *b;
    size_t i;

    for (size_t k = 0; k < GW_ARRAY_LEN(keys); k++) {
        json_array_foreach(json_object_get(node, keys[k]), i, b) {
            if (is_null_schema(b))
                json_object_set_new(out, "nullable", json_true());
            else if (json_is_object(b))
                json_array_append_new(branches, clean(x, b, depth + 1));
        }
    }
    if (json_array_size(branches) == 1)
        merge_into(out, json_array_get(branches, 0));
    else if (json_array_size(branches) > 1)
        json_object_set(out, "anyOf", branches);
    json_decref(branches);
}

static json_t *clean(sctx_t *x, json_t *node, int depth)
{
    json_t *own = json_object();
    json_t *comb;
    const char *ref = json_string_value(json_object_get(node, "$ref"));
    const char *k;
    json_t *v;
    size_t i;

    if (--x->budget < 0 || depth > MAX_DEPTH || !json_is_object(node)) {
        finish_node(own);
        return own;
    }
    json_object_foreach(node, k, v)
        own_keyword(x, own, node, k, v, depth);
    /* Then what allOf branches and a single union branch add, then the $ref
     * target: the node's own keywords win, properties and required unite. */
    comb = json_object();
    json_array_foreach(json_object_get(node, "allOf"), i, v) {
        json_t *b = clean(x, v, depth + 1);
        merge_into(comb, b);
        json_decref(b);
    }
    unions(x, comb, node, depth);
    merge_into(own, comb);
    json_decref(comb);
    if (ref != NULL && !in_chain(x, ref) && x->nchain < MAX_DEPTH) {
        json_t *target = resolve(x->root, ref);
        if (json_is_object(target)) {
            json_t *base;
            x->chain[x->nchain++] = ref;
            base = clean(x, target, depth + 1);
            x->nchain--;
            merge_into(own, base);
            json_decref(base);
        }
    }
    finish_node(own);
    return own;
}

json_t *gw_gemini_schema_sanitize(json_t *schema)
{
    sctx_t x = {.root = schema, .budget = MAX_NODES};

    return clean(&x, schema, 0);
}

/* ---- light cleaning for responseJsonSchema -------------------------------------- */

static bool is_name_map(const char *k)
{
    return strcmp(k, "properties") == 0 || strcmp(k, "$defs") == 0 ||
           strcmp(k, "definitions") == 0 || strcmp(k, "patternProperties") == 0 ||
           strcmp(k, "dependentSchemas") == 0;
}

static bool is_data(const char *k)
{
    return strcmp(k, "enum") == 0 || strcmp(k, "const") == 0 || strcmp(k, "default") == 0 ||
           strcmp(k, "examples") == 0 || strcmp(k, "example") == 0 || strcmp(k, "required") == 0;
}

static void light(json_t *s, int depth)
{
    const char *k;
    json_t *v;
    void *tmp;
    size_t i;

    if (depth > MAX_DEPTH * 4)
        return;
    if (json_is_array(s)) {
        json_array_foreach(s, i, v)
            light(v, depth + 1);
        return;
    }
    if (!json_is_object(s))
        return;
    json_object_foreach_safe(s, tmp, k, v) {
        if (strcmp(k, "$schema") == 0 || strcmp(k, "$id") == 0 || strcmp(k, "$comment") == 0 ||
            strncmp(k, "x-", 2) == 0) {
            json_object_del(s, k);
        } else if (is_name_map(k) && json_is_object(v)) {
            const char *name;
            json_t *sub;
            json_object_foreach(v, name, sub)
                light(sub, depth + 1);
        } else if (!is_data(k)) {
            light(v, depth + 1);
        }
    }
}

json_t *gw_gemini_schema_light(json_t *schema)
{
    json_t *s = json_is_object(schema) ? json_deep_copy(schema) : json_object();

    light(s, 0);
    return s;
}

bool gw_gemini_schema_is_empty(json_t *sanitized)
{
    return json_object_size(json_object_get(sanitized, "properties")) == 0;
}

json_t *gw_gemini_function_decl(const char *name, json_t *description, json_t *parameters)
{
    json_t *d = json_pack("{s:s}", "name", name);

    if (json_is_string(description))
        json_object_set(d, "description", description);
    if (json_is_object(parameters)) {
        json_t *s = gw_gemini_schema_sanitize(parameters);
        if (gw_gemini_schema_is_empty(s)) {
            json_decref(s);
        } else {
            json_object_del(s, "nullable");
            json_object_set_new(d, "parameters", s);
        }
    }
    return d;
}
