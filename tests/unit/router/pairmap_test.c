/*
 * Unit tests for src/router/pairmap.c: find / get_or_add on the three-part
 * key (ids copied, "" and INT64_MIN allowed, no confusion between the id
 * boundaries), growth past many entries, iteration visiting each entry once,
 * remove_if, and dispose freeing everything (checked by ASan in CI).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/pairmap.h"

typedef struct item {
    gw_pairmap_node_t node;
    int value;
    bool seen;
} item_t;

static item_t *item_of(gw_pairmap_node_t *n)
{
    return n != NULL ? gw_container_of(n, item_t, node) : NULL;
}

static item_t *add(gw_pairmap_t *pm, const char *pid, const char *mid, int64_t key_id,
                   bool *created)
{
    item_t *it = item_of(gw_pairmap_get_or_add(pm, pid, mid, key_id, created));

    assert_non_null(it);
    return it;
}

static void test_find_and_add(void **state)
{
    gw_pairmap_t pm;
    char pid[] = "acme";
    char mid[] = "m1";
    bool created = false;
    item_t *a;

    (void)state;
    gw_pairmap_init(&pm, sizeof(item_t));
    assert_null(gw_pairmap_find(&pm, "acme", "m1", 1));
    assert_null(gw_pairmap_next(&pm, NULL));

    a = add(&pm, pid, mid, 1, &created);
    assert_true(created);
    assert_int_equal(a->value, 0); /* zeroed */
    assert_string_equal(a->node.provider_id, "acme");
    assert_string_equal(a->node.model_id, "m1");
    assert_int_equal(a->node.key_id, 1);
    a->value = 7;
    /* The ids are copied: the caller's buffers may change or go. */
    pid[0] = 'X';
    mid[0] = 'X';
    assert_ptr_equal(item_of(gw_pairmap_find(&pm, "acme", "m1", 1)), a);
    assert_null(gw_pairmap_find(&pm, pid, mid, 1));

    /* Found again, not added twice. */
    assert_ptr_equal(add(&pm, "acme", "m1", 1, &created), a);
    assert_false(created);
    assert_int_equal(a->value, 7);
    assert_ptr_equal(gw_pairmap_get_or_add(&pm, "acme", "m1", 1, NULL), &a->node);
    assert_int_equal(pm.count, 1);
    gw_pairmap_dispose(&pm);
}

static void test_distinct_keys(void **state)
{
    static const struct {
        const char *pid;
        const char *mid;
        int64_t key_id;
    } keys[] = {
        {"acme", "m1", 1},       {"acme", "m1", 2},
        {"acme", "m2", 1},       {"other", "m1", 1},
        {"acme", "", 1},         {"acme", "m1", INT64_MIN},
        {"acme", "", INT64_MIN}, {"ab", "c", 0},
        {"a", "bc", 0},          {"", "abc", 0},
        {"abc", "", 0},          {"acme", "m1", 0},
        {"acme", "m1", -1},      {"acme", "m1", INT64_MAX},
    };
    gw_pairmap_t pm;
    size_t i;

    (void)state;
    gw_pairmap_init(&pm, sizeof(item_t));
    for (i = 0; i < GW_ARRAY_LEN(keys); i++) {
        bool created = false;
        item_t *it = add(&pm, keys[i].pid, keys[i].mid, keys[i].key_id, &created);

        assert_true(created);
        it->value = (int)i + 1;
    }
    assert_int_equal(pm.count, GW_ARRAY_LEN(keys));
    for (i = 0; i < GW_ARRAY_LEN(keys); i++) {
        item_t *it = item_of(gw_pairmap_find(&pm, keys[i].pid, keys[i].mid, keys[i].key_id));

        assert_non_null(it);
        assert_int_equal(it->value, (int)i + 1);
    }
    gw_pairmap_dispose(&pm);
}

/* Enough entries to grow the table several times; every one stays findable
 * and a walk sees each exactly once. */
static void test_grow_and_walk(void **state)
{
    enum { N = 5000 };
    gw_pairmap_t pm;
    char mid[32];
    size_t walked = 0;
    int i;

    (void)state;
    gw_pairmap_init(&pm, sizeof(item_t));
    for (i = 0; i < N; i++) {
        snprintf(mid, sizeof(mid), "model-%d", i % 50);
        add(&pm, i % 2 ? "acme" : "other", mid, i / 50, NULL)->value = i;
    }
    assert_int_equal(pm.count, N);
    for (i = 0; i < N; i++) {
        item_t *it;

        snprintf(mid, sizeof(mid), "model-%d", i % 50);
        it = item_of(gw_pairmap_find(&pm, i % 2 ? "acme" : "other", mid, i / 50));
        assert_non_null(it);
        assert_int_equal(it->value, i);
    }
    for (gw_pairmap_node_t *n = gw_pairmap_next(&pm, NULL); n != NULL;
         n = gw_pairmap_next(&pm, n)) {
        item_t *it = item_of(n);

        assert_false(it->seen);
        it->seen = true;
        walked++;
    }
    assert_int_equal(walked, N);
    gw_pairmap_dispose(&pm);
    assert_int_equal(pm.count, 0);
}

static bool odd_value(const gw_pairmap_node_t *n, void *ctx)
{
    const item_t *it = gw_container_of(n, const item_t, node);

    (*(int *)ctx)++;
    return it->value % 2 != 0;
}

static bool of_key(const gw_pairmap_node_t *n, void *key_id)
{
    return n->key_id == *(const int64_t *)key_id;
}

static void test_remove_if(void **state)
{
    gw_pairmap_t pm;
    int64_t key = 3;
    int calls = 0;
    size_t walked = 0;
    int i;

    (void)state;
    gw_pairmap_init(&pm, sizeof(item_t));
    for (i = 0; i < 200; i++)
        add(&pm, "acme", i % 4 ? "m" : "", i, NULL)->value = i;
    gw_pairmap_remove_if(&pm, odd_value, &calls);
    assert_int_equal(calls, 200);
    assert_int_equal(pm.count, 100);
    for (i = 0; i < 200; i++) {
        gw_pairmap_node_t *n = gw_pairmap_find(&pm, "acme", i % 4 ? "m" : "", i);

        if (i % 2)
            assert_null(n);
        else
            assert_int_equal(item_of(n)->value, i);
    }
    for (gw_pairmap_node_t *n = gw_pairmap_next(&pm, NULL); n != NULL; n = gw_pairmap_next(&pm, n))
        walked++;
    assert_int_equal(walked, 100);

    /* Removing what is absent changes nothing; a removed entry can come back. */
    gw_pairmap_remove_if(&pm, of_key, &key);
    assert_int_equal(pm.count, 100);
    key = 4;
    gw_pairmap_remove_if(&pm, of_key, &key);
    assert_int_equal(pm.count, 99);
    assert_null(gw_pairmap_find(&pm, "acme", "", 4));
    assert_int_equal(add(&pm, "acme", "", 4, NULL)->value, 0);
    assert_int_equal(pm.count, 100);
    gw_pairmap_dispose(&pm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_and_add),
        cmocka_unit_test(test_distinct_keys),
        cmocka_unit_test(test_grow_and_walk),
        cmocka_unit_test(test_remove_if),
    };

    return cmocka_run_group_tests_name("router/pairmap", tests, NULL, NULL);
}
