/* The SSE reader: any bytes, cut into chunks at points the input chooses. */
#include "fuzz_common.h"
#include "stream/sse.h"

static int on_event(void *ctx, const char *event, gw_str_t data)
{
    size_t *n = ctx;
    /* Touch every byte: the decoder promises a NUL-terminated view. */
    *n += strlen(event) + data.len + (data.ptr[data.len] == '\0');
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_sse_decoder_t d;
    size_t seen = 0;
    unsigned step = fuzz_take_byte(&data, &size) % 17 + 1;
    size_t off = 0;

    gw_sse_decoder_init(&d, 4096, on_event, &seen);
    while (off < size) {
        size_t n = size - off < step ? size - off : step;
        if (gw_sse_feed(&d, (const char *)data + off, n) != 0)
            break;
        off += n;
        step = step * 7 % 31 + 1;
    }
    gw_sse_finish(&d);
    gw_sse_decoder_dispose(&d);
    return 0;
}
