/*
 * Assertions shared by the dialect unit tests (header only; include after
 * <cmocka.h>): an upstream request's headers, and JSON compared by value
 * with both sides printed on failure.
 */
#ifndef GW_TESTS_UNIT_TEST_WIRE_H
#define GW_TESTS_UNIT_TEST_WIRE_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/client.h"

/* Whether the request carries exactly this header line ("Name: value"). */
static inline bool gw_test_has_header(const gw_http_out_t *o, const char *line)
{
    for (struct curl_slist *l = o->headers; l != NULL; l = l->next)
        if (strcmp(l->data, line) == 0)
            return true;
    return false;
}

/* Fails unless got equals the JSON text want_text (key order ignored). */
static inline void gw_test_assert_json(json_t *got, const char *want_text)
{
    json_t *want = json_loads(want_text, JSON_DECODE_ANY, NULL);

    assert_non_null(want);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        print_error("got:  %s\nwant: %s\n", g ? g : "(null)", w);
        free(g);
        free(w);
        json_decref(want);
        fail();
    }
    json_decref(want);
}

#endif
