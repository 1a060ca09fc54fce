/* Long cooldowns persisted across restarts: save replaces, load skips expired. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "router/cooldown.h"
#include "store/store.h"
#include "test_util.h"

typedef struct seen {
    gw_cooldown_row_t rows[8];
    char names[8][2][64];
    size_t n;
} seen_t;

static void collect(void *ctx, const gw_cooldown_row_t *row)
{
    seen_t *s = ctx;
    if (s->n == 8)
        return;
    snprintf(s->names[s->n][0], 64, "%s", row->provider);
    snprintf(s->names[s->n][1], 64, "%s", row->model);
    s->rows[s->n] = *row;
    s->n++;
}

static void test_save_load_replace(void **state)
{
    char dir[GW_TEST_DIR_MAX];
    gw_store_t *st;
    gw_err_t err = {0};
    seen_t seen = {0};
    gw_cooldown_row_t rows[] = {
        {"groq", "llama-3.1-8b-instant", 3, 5000},
        {"cloudflare", "", 4, 9000},          /* the whole key */
        {"nvidia", "x", INT64_MIN, 1500},     /* the model on every key */
    };
    (void)state;

    assert_int_equal(gw_test_dir_make(dir, "cool"), 0);
    assert_int_equal(gw_store_open(&st, dir, &err), 0);
    assert_int_equal(gw_store_cooldowns_save(st, rows, 3, &err), 0);
    gw_store_close(st);
    assert_int_equal(gw_store_open(&st, dir, &err), 0);
    assert_int_equal(gw_store_cooldowns_load(st, 2000, collect, &seen, &err), 0);
    assert_int_equal(seen.n, 2); /* the nvidia one has expired */
    for (size_t i = 0; i < seen.n; i++) {
        if (strcmp(seen.names[i][0], "cloudflare") == 0) {
            assert_string_equal(seen.names[i][1], "");
            assert_int_equal(seen.rows[i].until_ms, 9000);
        } else {
            assert_string_equal(seen.names[i][1], "llama-3.1-8b-instant");
            assert_int_equal(seen.rows[i].key_id, 3);
        }
    }
    /* A save replaces the whole set. */
    assert_int_equal(gw_store_cooldowns_save(st, rows, 1, &err), 0);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(gw_store_cooldowns_load(st, 0, collect, &seen, &err), 0);
    assert_int_equal(seen.n, 1);
    gw_store_close(st);
    gw_test_dir_remove(dir);
}

typedef struct cool_seen {
    size_t n;
    int64_t until;
} cool_seen_t;

static void count_row(void *ctx, const char *p, const char *m, int64_t k, int64_t until)
{
    cool_seen_t *s = ctx;
    (void)p;
    (void)m;
    (void)k;
    s->n++;
    s->until = until;
}

static void test_router_round_trip(void **state)
{
    gw_cooldowns_t *c = gw_cooldowns_new();
    gw_provider_t prov = {0};
    gw_model_t model = {0};
    cool_seen_t seen = {0};
    (void)state;

    prov.id = "groq";
    model.id = "m";
    model.provider = &prov;
    gw_cooldowns_restore(c, "groq", "m", 7, 100000);
    assert_int_equal(gw_cooldowns_until(c, &model, 7, 1000), 100000);
    assert_int_equal(gw_cooldowns_until(c, &model, 8, 1000), 0);
    gw_cooldowns_foreach(c, 50000, count_row, &seen);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.until, 100000);
    seen.n = 0;
    gw_cooldowns_foreach(c, 200000, count_row, &seen);
    assert_int_equal(seen.n, 0);
    gw_cooldowns_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_load_replace),
        cmocka_unit_test(test_router_round_trip),
    };
    return cmocka_run_group_tests_name("store/cooldowns", tests, NULL, NULL);
}
