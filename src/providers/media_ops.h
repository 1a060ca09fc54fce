/*
 * Each dialect's media entry points (see media.h and dialect.h), wired into
 * its ops table.
 */
#ifndef GW_PROVIDERS_MEDIA_OPS_H
#define GW_PROVIDERS_MEDIA_OPS_H

#include "providers/dialect.h"

int gw_gemini_media_request(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err);
int gw_gemini_media_response(const gw_media_call_t *c, const char *content_type, gw_str_t body,
                             gw_media_result_t *res, gw_err_t *err);
/* The Gemini voice for a client's voice name (static string), or NULL when
 * there is none: an OpenAI voice maps by style (docs/reference/wire-gemini.md 6.3),
 * one of Gemini's 30 prebuilt voices is matched case-insensitively and
 * returned capitalised as the wire wants it. */
const char *gw_gemini_voice(const char *openai_or_gemini_name);
/* Gemini's usageMetadata as tokens: prompt (+ tool-use prompt), completion =
 * candidates + thoughts (both billed as output). Left alone when Gemini gives
 * no count or an absurd one. */
void gw_gemini_read_usage(json_t *usage_metadata, gw_tokens_t *t);
int gw_openai_media_request(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err);
int gw_openai_media_response(const gw_media_call_t *c, const char *content_type, gw_str_t body,
                             gw_media_result_t *res, gw_err_t *err);

#endif
