/*
 * Ollama's /api/chat and /api/generate as chat fronts (front_ollama.c).
 */
#ifndef GW_API_FRONT_OLLAMA_H
#define GW_API_FRONT_OLLAMA_H

#include "api/front.h"

/* generate: /api/generate's shape ("response"), else /api/chat's
 * ("message"). model: the name as the client sent it, echoed back. */
gw_front_t gw_front_ollama(bool generate, const char *model);

/* Ollama's timestamp ("2026-12-04T10:00:00.123456789Z") for now, into out. */
void gw_ollama_now(char *out, size_t n);

#endif
