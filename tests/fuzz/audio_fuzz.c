/* Audio from upstreams: Gemini's raw-PCM MIME type, its s16le samples, the
 * speed change and each output container (WAV header writing included).
 * Input: a format byte, a speed byte, a MIME line, then the PCM bytes. */
#include "fuzz_common.h"
#include "media/audio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_audio_fmt_t fmt = (gw_audio_fmt_t)(fuzz_take_byte(&data, &size) % 5);
    double speed = 0.25 + (double)fuzz_take_byte(&data, &size) / 64.0; /* 0.25..4.2 */
    const uint8_t *nl = memchr(data, '\n', size);
    char mime[128] = "audio/L16;codec=pcm;rate=24000";
    unsigned rate = 0;
    int16_t *pcm = NULL;
    int16_t *fast = NULL;
    size_t n = 0;
    size_t nfast = 0;
    gw_err_t err = {0};
    gw_buf_t out;

    if (nl != NULL && (size_t)(nl - data) < sizeof(mime)) {
        memcpy(mime, data, (size_t)(nl - data));
        mime[nl - data] = '\0';
        size -= (size_t)(nl - data) + 1;
        data = nl + 1;
    }
    if (gw_audio_pcm_mime_rate(mime, 24000, &rate) != 0)
        return 0;
    /* Encoding is the slow part: keep inputs to a second of audio or so. */
    if (size > 96000 || gw_audio_samples_from_s16le(data, size, &pcm, &n, &err) != 0)
        return 0;
    gw_buf_init(&out, 1 << 22);
    if (gw_audio_change_speed(pcm, n, rate, speed, &fast, &nfast, &err) == 0)
        gw_audio_encode(fmt, fast, nfast, rate, &out, &err);
    else
        gw_audio_encode(fmt, pcm, n, rate, &out, &err);
    gw_buf_dispose(&out);
    free(fast);
    free(pcm);
    return 0;
}
