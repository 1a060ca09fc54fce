/*
 * Embeddings from whichever client API asked (OpenAI's /v1/embeddings,
 * Ollama's /api/embed and /api/embeddings): one path, three answer shapes.
 */
#ifndef GW_API_EMBEDDINGS_H
#define GW_API_EMBEDDINGS_H

#include <jansson.h>

#include "api/gateway.h"

typedef enum {
    GW_EMBED_OPENAI,        /* {object:list, data:[{embedding}], usage} */
    GW_EMBED_OLLAMA,        /* {model, embeddings:[[…]], prompt_eval_count} */
    GW_EMBED_OLLAMA_LEGACY, /* {embedding:[…]} for one prompt */
} gw_embed_shape_t;

/* Takes body (OpenAI's embeddings request: model, input, dimensions,
 * encoding_format) and answers req in shape; endpoint (static) for the log. */
void gw_embeddings_start(gw_gateway_t *gw, gw_req_t *req, json_t *body, gw_embed_shape_t shape,
                         const char *endpoint);

#endif
