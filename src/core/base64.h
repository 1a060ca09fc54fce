/*
 * Base64 (RFC 4648, standard alphabet, padded) over bounded buffers, by
 * OpenSSL's block coder. Media crosses the OpenAI and provider wires as
 * base64 inside JSON: images, audio, embeddings packed as float32.
 */
#ifndef GW_CORE_BASE64_H
#define GW_CORE_BASE64_H

#include "core/buf.h"

/* Appends the encoding of n bytes (no NUL counted, no line breaks). */
int gw_b64_encode(const void *p, size_t n, gw_buf_t *out);
/* Appends the decoded bytes; GW_EINVAL on characters outside the alphabet or
 * a bad length. Whitespace is not accepted. */
int gw_b64_decode(const char *s, size_t n, gw_buf_t *out);

#endif
