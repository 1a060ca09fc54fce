/* The request-log queue: rows come out oldest first with their strings; at
 * the ceiling the oldest are dropped and counted; the ring wraps and grows
 * without losing order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/logq.h"

static void push(gw_logq_t *q, int i)
{
    char model[32];
    gw_reqlog_row_t row = {0};

    snprintf(model, sizeof(model), "m%d", i);
    row.at_ms = i;
    row.endpoint = "chat";
    row.model = model;
    row.status = 200;
    gw_logq_push(q, &row);
}

/* Takes everything and checks it is rows first..last in order. */
static void expect(gw_logq_t *q, int first, int last, uint64_t dropped_want)
{
    size_t n;
    uint64_t dropped;
    gw_logrow_t *v = gw_logq_take(q, &n, &dropped);

    assert_int_equal(n, (size_t)(last - first + 1));
    assert_int_equal(dropped, dropped_want);
    for (size_t i = 0; i < n; i++) {
        char model[32];
        snprintf(model, sizeof(model), "m%d", first + (int)i);
        assert_int_equal(v[i].row.at_ms, first + (int)i);
        assert_string_equal(v[i].row.model, model);
        assert_ptr_equal(v[i].row.model, v[i].model); /* the row points at its own copy */
        assert_string_equal(v[i].row.endpoint, "chat");
        assert_null(v[i].row.provider);
        gw_logrow_free(&v[i]);
    }
    free(v);
}

static void test_order_and_growth(void **state)
{
    gw_logq_t q;

    (void)state;
    gw_logq_init(&q, 1000);
    for (int i = 0; i < 500; i++) /* past the first capacities */
        push(&q, i);
    expect(&q, 0, 499, 0);
    expect(&q, 0, -1, 0); /* empty after a take */
    gw_logq_dispose(&q);
}

static void test_ceiling_drops_oldest(void **state)
{
    gw_logq_t q;

    (void)state;
    gw_logq_init(&q, 100);
    for (int i = 0; i < 350; i++)
        push(&q, i);
    assert_true(q.n <= 100);
    expect(&q, 250, 349, 250);
    /* The count is since the last take. */
    for (int i = 0; i < 10; i++)
        push(&q, i);
    expect(&q, 0, 9, 0);
    gw_logq_dispose(&q);
}

static void test_wrapped_ring_is_taken_in_order(void **state)
{
    gw_logq_t q;

    (void)state;
    gw_logq_init(&q, 64);
    for (int i = 0; i < 64 + 17; i++) /* wraps: head is inside the ring */
        push(&q, i);
    expect(&q, 17, 80, 17);
    gw_logq_dispose(&q);
}

static void test_dispose_frees_queued(void **state)
{
    gw_logq_t q;

    (void)state;
    gw_logq_init(&q, 8);
    for (int i = 0; i < 20; i++)
        push(&q, i);
    gw_logq_dispose(&q); /* LeakSanitizer checks the strings went */
    assert_int_equal(q.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_growth),
        cmocka_unit_test(test_ceiling_drops_oldest),
        cmocka_unit_test(test_wrapped_ring_is_taken_in_order),
        cmocka_unit_test(test_dispose_frees_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
