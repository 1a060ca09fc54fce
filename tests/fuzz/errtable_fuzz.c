/* The error-table classifier, the retry-delay parser, the message reader and
 * the rate-limit headers as the ledger takes them (any figures an upstream
 * may state, then a check, a settle and a refund on that pair).
 * Input: a provider byte, a status byte, header lines ("Name: value\n") up
 * to a blank line, then the body. */
#include "fuzz_common.h"
#include "router/errtable.h"
#include "router/retry_delay.h"
#include "router/error_message.h"
#include "router/ledger.h"
#include "router/ratelimit_headers.h"

#define MAX_HEADERS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_catalog_t *cat = fuzz_catalog();
    const gw_provider_t *prov = &cat->providers[fuzz_take_byte(&data, &size) % cat->nproviders];
    int status = 200 + (int)fuzz_take_byte(&data, &size) * 2; /* 200..710 */
    char *text = malloc(size + 1);
    gw_header_t hdrs[MAX_HEADERS];
    size_t nh = 0;
    char *p = text;
    char msg[240];
    gw_verdict_t v;

    memcpy(text, data, size);
    text[size] = '\0';
    /* Header lines, split in place, until an empty line or the end. */
    while (*p != '\0' && *p != '\n' && nh < MAX_HEADERS) {
        char *eol = strchr(p, '\n');
        char *colon = strchr(p, ':');
        if (eol != NULL)
            *eol = '\0';
        if (colon != NULL && (eol == NULL || colon < eol)) {
            *colon = '\0';
            hdrs[nh].name = p;
            hdrs[nh].value = colon + 1;
            nh++;
            gw_parse_reset_value(colon + 1, 1781179200000);
        }
        if (eol == NULL) {
            p += strlen(p);
            break;
        }
        p = eol + 1;
    }
    if (*p == '\n')
        p++;
    {
        gw_str_t body = {p, size - (size_t)(p - text)};
        gw_errtable_classify(prov, status, body, hdrs, nh, 1781179200000, &v);
        gw_error_message(body, msg, sizeof(msg));
        gw_error_message(body, msg, 7); /* truncation on a UTF-8 boundary */
    }
    {
        static gw_ledger_t *l;
        const int64_t now = 1781179200000;
        gw_rl_seen_t seen;
        gw_cost_t cost = {.tokens = 500, .floor = 500, .reserve = 0.5};

        if (l == NULL)
            l = gw_ledger_new();
        if (prov->nmodels > 0 && gw_rl_parse(prov, hdrs, nh, now, &seen)) {
            const gw_model_t *m = prov->models[0];

            gw_ledger_charge(l, m, 1, 500, now);
            gw_ledger_observe(l, m, 1, &seen, now, now + 10);
            gw_ledger_fit(l, m, 1, &cost, now + 20, NULL);
            gw_ledger_adjust(l, m, 1, 250, now, now + 30);
            gw_ledger_refund(l, m, 1, 750, now, now + 40);
            gw_ledger_fit(l, m, 1, &cost, now + 50, NULL);
        }
    }
    free(text);
    return 0;
}
