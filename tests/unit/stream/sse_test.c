/* SSE decoder: any chunking, every line-end style, comments, multi-line data,
 * limits; and the encoders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "stream/sse.h"

typedef struct seen {
    char events[16][128];
    char names[16][32];
    int n;
} seen_t;

static int collect(void *ctx, const char *event, gw_str_t data)
{
    seen_t *s = ctx;
    if (s->n < 16) {
        snprintf(s->events[s->n], sizeof(s->events[0]), "%.*s", (int)data.len, data.ptr);
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s", event);
        s->n++;
    }
    return 0;
}

/* Feeds input in pieces of every size from 1 to len and checks each run. */
static void check_all_splits(const char *input, const char *const *want, int nwant)
{
    size_t len = strlen(input);
    for (size_t step = 1; step <= len; step++) {
        gw_sse_decoder_t d;
        seen_t s = {0};
        gw_sse_decoder_init(&d, 4096, collect, &s);
        for (size_t off = 0; off < len; off += step)
            assert_int_equal(gw_sse_feed(&d, input + off, step < len - off ? step : len - off),
                             0);
        assert_int_equal(gw_sse_finish(&d), 0);
        assert_int_equal(s.n, nwant);
        for (int i = 0; i < nwant; i++)
            assert_string_equal(s.events[i], want[i]);
        gw_sse_decoder_dispose(&d);
    }
}

static void test_line_endings(void **state)
{
    const char *want[] = {"{\"a\":1}", "{\"b\":2}", "[DONE]"};
    (void)state;
    check_all_splits("data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n", want, 3);
    check_all_splits("data: {\"a\":1}\r\n\r\ndata: {\"b\":2}\r\n\r\ndata: [DONE]\r\n\r\n", want, 3);
    check_all_splits("data: {\"a\":1}\r\rdata: {\"b\":2}\r\rdata: [DONE]\r\r", want, 3);
}

static void test_comments_and_fields(void **state)
{
    const char *want[] = {"x", "line1\nline2", "nospace"};
    (void)state;
    check_all_splits(": keep-alive\n\n: OPENROUTER PROCESSING\n\nid: 7\nretry: 10\ndata: x\n\n"
                     "data: line1\ndata: line2\n\ndata:nospace\n\n",
                     want, 3);
}

static void test_event_names_and_final_without_blank(void **state)
{
    gw_sse_decoder_t d;
    seen_t s = {0};
    const char *in = "event: error\ndata: {\"e\":1}\n\ndata: last";
    (void)state;
    gw_sse_decoder_init(&d, 4096, collect, &s);
    assert_int_equal(gw_sse_feed(&d, in, strlen(in)), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.names[0], "error");
    assert_int_equal(gw_sse_finish(&d), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.events[1], "last");
    assert_string_equal(s.names[1], "");
    gw_sse_decoder_dispose(&d);
}

static void test_event_limit(void **state)
{
    gw_sse_decoder_t d;
    seen_t s = {0};
    char big[200];
    (void)state;
    memset(big, 'a', sizeof(big));
    gw_sse_decoder_init(&d, 64, collect, &s);
    assert_int_equal(gw_sse_feed(&d, "data: ", 6), 0);
    assert_int_equal(gw_sse_feed(&d, big, sizeof(big)), GW_ETOOBIG);
    gw_sse_decoder_dispose(&d);
}

static int stop_at_second(void *ctx, const char *event, gw_str_t data)
{
    int *n = ctx;
    (void)event;
    (void)data;
    return ++*n == 2 ? 42 : 0;
}

static void test_callback_stops(void **state)
{
    gw_sse_decoder_t d;
    int n = 0;
    const char *in = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    (void)state;
    gw_sse_decoder_init(&d, 4096, stop_at_second, &n);
    assert_int_equal(gw_sse_feed(&d, in, strlen(in)), 42);
    assert_int_equal(n, 2);
    gw_sse_decoder_dispose(&d);
}

static void test_encoders(void **state)
{
    gw_buf_t b;
    (void)state;
    gw_buf_init(&b, 1024);
    assert_int_equal(gw_sse_put_data(&b, "{\"x\":1}", 7), 0);
    assert_int_equal(gw_sse_put_done(&b), 0);
    assert_string_equal(b.ptr, "data: {\"x\":1}\n\ndata: [DONE]\n\n");
    gw_buf_dispose(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_comments_and_fields),
        cmocka_unit_test(test_event_names_and_final_without_blank),
        cmocka_unit_test(test_event_limit),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_encoders),
    };
    return cmocka_run_group_tests_name("stream/sse", tests, NULL, NULL);
}
