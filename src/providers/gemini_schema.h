/*
 * JSON Schema -> Gemini's Schema (an OpenAPI 3.0 subset), for function
 * declarations and, on models that only take `responseSchema`, structured
 * output. Gemini answers 400 on any keyword its Schema message lacks, on a
 * `type` array and on an OBJECT without properties, so the sanitizer keeps an
 * allow-list of keywords and rewrites the common JSON Schema idioms (local
 * $refs, nullable unions, const) into the subset. Rules and sources:
 * docs/gemini.md, docs/reference/wire-gemini.md 2.3, docs/reference/providers.md 1.
 *
 * Used by providers/gemini.c only; pure functions on jansson values.
 */
#ifndef GW_PROVIDERS_GEMINI_SCHEMA_H
#define GW_PROVIDERS_GEMINI_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>

/* Returns a new schema (caller owns the reference) holding only keywords
 * Gemini's Schema accepts; schema is borrowed and never modified. Anything
 * that is not a schema object gives {}. */
json_t *gw_gemini_schema_sanitize(json_t *schema);

/* For `responseJsonSchema`, which takes real JSON Schema: a copy (caller owns
 * it) without $schema, $id, $comment and vendor x-* keys. Keys inside
 * `properties` and `$defs` maps are names, never removed. */
json_t *gw_gemini_schema_light(json_t *schema);

/* True when a sanitized schema has no properties (a free-form object, or
 * not an object at all): Gemini rejects such function parameters ("should be
 * non-empty for OBJECT type"), so the declaration omits them. */
bool gw_gemini_schema_is_empty(json_t *sanitized);

/* One functionDeclarations entry: name, the description when it is a
 * string, and the sanitised parameters. A parameterless tool omits them (an
 * empty OBJECT is a 400) and the top level cannot be nullable. */
json_t *gw_gemini_function_decl(const char *name, json_t *description, json_t *parameters);

#endif
