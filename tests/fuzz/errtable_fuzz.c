/* The error-table classifier, the retry-delay parser and the message reader.
 * Input: a provider byte, a status byte, header lines ("Name: value\n") up
 * to a blank line, then the body. */
#include "fuzz_common.h"
#include "router/errtable.h"
#include "router/retry_delay.h"
#include "router/error_message.h"

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
    free(text);
    return 0;
}
