/* gw_json_append: compact JSON appended in one pass, small and large values
 * alike, and nothing left behind when it fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json_buf.h"

/* Appends v after a prefix and checks the bytes are json_dumps' own. */
static void appends_as_jansson_dumps(json_t *v)
{
    gw_buf_t b;
    char *want = json_dumps(v, JSON_COMPACT);

    gw_buf_init(&b, (size_t)1 << 24);
    assert_int_equal(gw_buf_appends(&b, "x="), 0);
    assert_int_equal(gw_json_append(&b, v), 0);
    assert_int_equal(b.len, strlen(want) + 2);
    assert_memory_equal(b.ptr + 2, want, strlen(want));
    assert_int_equal(b.ptr[b.len], '\0');
    gw_buf_dispose(&b);
    free(want);
}

static json_t *conversation(size_t messages, size_t text_len)
{
    json_t *msgs = json_array();
    char *text = malloc(text_len + 1);
    size_t i;

    for (i = 0; i < text_len; i++)
        text[i] = (char)('a' + i % 26);
    text[text_len] = '\0';
    for (i = 0; i < messages; i++)
        json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", i % 2 ? "assistant" : "user",
                                              "content", text));
    free(text);
    return json_pack("{s:s, s:o, s:i}", "model", "m", "messages", msgs, "max_tokens", 16);
}

static void small_value(void **state)
{
    json_t *v = json_pack("{s:s, s:[i, f, b, n]}", "a", "h\u00e9\"llo\n", "b", -3, 0.5, 1);

    (void)state;
    appends_as_jansson_dumps(v);
    json_decref(v);
}

static void values_around_and_past_the_stack_buffer(void **state)
{
    size_t sizes[] = {4000, 4070, 4096, 4200, 9000, 200000};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        json_t *v = conversation(1, sizes[i]);
        appends_as_jansson_dumps(v);
        json_decref(v);
    }
    json_t *many = conversation(300, 100);
    appends_as_jansson_dumps(many);
    json_decref(many);
}

static void past_the_ceiling_leaves_the_buffer_as_it_was(void **state)
{
    json_t *small = conversation(1, 100);
    json_t *large = conversation(4, 3000);
    gw_buf_t b;

    (void)state;
    gw_buf_init(&b, 6000);
    assert_int_equal(gw_buf_appends(&b, "keep"), 0);
    assert_int_equal(gw_json_append(&b, large), GW_ETOOBIG);
    assert_int_equal(b.len, 4);
    assert_string_equal(b.ptr, "keep");
    assert_int_equal(gw_json_append(&b, small), 0); /* still usable */
    assert_memory_equal(b.ptr, "keep{", 5);
    gw_buf_dispose(&b);
    json_decref(small);
    json_decref(large);
}

static void unencodable_value_fails_cleanly(void **state)
{
    json_t *a = json_array();
    json_t *v = json_pack("{s:s, s:O}", "k", "v", "a", a);
    gw_buf_t b;

    (void)state;
    json_array_append(a, v); /* a cycle: jansson refuses to encode it */
    gw_buf_init(&b, 1 << 20);
    assert_int_equal(gw_buf_appends(&b, "keep"), 0);
    assert_int_equal(gw_json_append(&b, v), GW_EINVAL);
    assert_string_equal(b.ptr, "keep");
    json_array_clear(a);
    json_decref(a);
    json_decref(v);
    gw_buf_dispose(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_value),
        cmocka_unit_test(values_around_and_past_the_stack_buffer),
        cmocka_unit_test(past_the_ceiling_leaves_the_buffer_as_it_was),
        cmocka_unit_test(unencodable_value_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
