/*
 * Shared by the libFuzzer drivers: the built-in catalog, loaded once, and a
 * reader that splits a fuzz input into a selector byte and the rest. Drivers
 * are built against build-fuzz/libgw.a (clang, -fsanitize=fuzzer-no-link,
 * address, undefined); see `make fuzz` and scripts/run-fuzz.sh.
 */
#ifndef GW_FUZZ_COMMON_H
#define GW_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "providers/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The catalog compiled into the binary; loaded on first use, kept. Logging is
 * cut to errors: a fuzzer's millions of runs would each print a warning. */
static inline gw_catalog_t *fuzz_catalog(void)
{
    static gw_catalog_t cat;
    static int loaded;
    gw_err_t err = {0};

    if (!loaded) {
        setenv("LOG_LEVEL", "error", 1);
        gw_log_init();
        if (gw_catalog_load(&cat, NULL, &err) != 0)
            abort();
        loaded = 1;
    }
    return &cat;
}

/* The n-th model (modulo) of the given kind, or NULL if there is none. */
static inline const gw_model_t *fuzz_model(const char *kind, unsigned n)
{
    gw_catalog_t *cat = fuzz_catalog();
    size_t count = 0;

    for (size_t i = 0; i < cat->nmodels; i++)
        count += strcmp(cat->models[i].kind, kind) == 0;
    if (count == 0)
        return NULL;
    n %= count;
    for (size_t i = 0; i < cat->nmodels; i++)
        if (strcmp(cat->models[i].kind, kind) == 0 && n-- == 0)
            return &cat->models[i];
    return NULL;
}

/* Takes the first byte as a selector; data and size then hold the rest. */
static inline unsigned fuzz_take_byte(const uint8_t **data, size_t *size)
{
    unsigned b = 0;

    if (*size > 0) {
        b = (*data)[0];
        (*data)++;
        (*size)--;
    }
    return b;
}

#endif
