#include "core/json_buf.h"

int gw_json_append(gw_buf_t *b, json_t *j)
{
    char tmp[4096];
    size_t need = json_dumpb(j, tmp, sizeof(tmp), JSON_COMPACT);
    size_t start = b->len;
    char *at;

    if (need == 0)
        return GW_EINVAL;
    if (need <= sizeof(tmp))
        return gw_buf_append(b, tmp, need);
    at = gw_buf_extend(b, need);
    if (at == NULL)
        return GW_ETOOBIG;
    if (json_dumpb(j, at, need, JSON_COMPACT) != need) {
        b->len = start;
        b->ptr[start] = '\0';
        return GW_EINVAL;
    }
    return 0;
}
