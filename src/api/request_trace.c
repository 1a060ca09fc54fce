/* A request's attempts and (opt-in) content for the request log (see request_trace.h). */
#include "api/request_trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

/* An attempt line is well under this; GW_MAX_ATTEMPTS of them fit. */
#define LINE_MAX_BYTES 400

void gw_trace_init(gw_request_trace_t *t, bool keep_content)
{
    gw_buf_init(&t->attempts, GW_MAX_ATTEMPTS * LINE_MAX_BYTES);
    t->keep_content = keep_content;
    gw_buf_init(&t->prompt, GW_REQLOG_CONTENT_MAX + 1);
    gw_buf_init(&t->answer, GW_REQLOG_CONTENT_MAX + 1);
}

void gw_trace_dispose(gw_request_trace_t *t)
{
    gw_buf_dispose(&t->attempts);
    gw_buf_dispose(&t->prompt);
    gw_buf_dispose(&t->answer);
}

void gw_trace_attempt(gw_request_trace_t *t, const gw_cand_t *c, const char *verdict, int status,
                      int64_t latency_ms)
{
    char line[LINE_MAX_BYTES];
    int n;

    if (c == NULL)
        return;
    n = snprintf(line, sizeof(line), "%s\t%s\t%lld\t%s\t%d\t%lld\n", c->model->provider->id,
                 c->model->id, (long long)c->key->id, verdict, status, (long long)latency_ms);
    if (n > 0 && (size_t)n < sizeof(line))
        (void)gw_buf_append(&t->attempts, line, (size_t)n); /* full: the cap of attempts */
}

/* Appends what fits under the cap (the buffer keeps a NUL after its bytes). */
static void keep_start(gw_buf_t *b, const char *p, size_t n)
{
    if (b->len >= GW_REQLOG_CONTENT_MAX)
        return;
    if (n > GW_REQLOG_CONTENT_MAX - b->len)
        n = GW_REQLOG_CONTENT_MAX - b->len;
    (void)gw_buf_append(b, p, n);
}

void gw_trace_prompt(gw_request_trace_t *t, const json_t *request)
{
    char *text;

    if (!t->keep_content || request == NULL)
        return;
    text = json_dumps(request, JSON_COMPACT);
    if (text != NULL)
        keep_start(&t->prompt, text, strlen(text));
    free(text);
}

void gw_trace_answer(gw_request_trace_t *t, const char *p, size_t n)
{
    if (t->keep_content)
        keep_start(&t->answer, p, n);
}

static const char *text_of(const gw_buf_t *b)
{
    return b->len > 0 ? b->ptr : NULL;
}

const char *gw_trace_attempt_log(const gw_request_trace_t *t)
{
    return text_of(&t->attempts);
}

const char *gw_trace_prompt_text(const gw_request_trace_t *t)
{
    return text_of(&t->prompt);
}

const char *gw_trace_answer_text(const gw_request_trace_t *t)
{
    return text_of(&t->answer);
}
