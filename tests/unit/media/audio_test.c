/* Audio for /v1/audio/speech: format names, WAV/PCM bytes exactly, MP3 frame
 * headers tiling the file, Ogg Opus pages (CRC, heads, granule positions),
 * FLAC decoded back bit-exact, empty input, the buffer ceiling, and tempo
 * change keeping the pitch. No decoder for lossy formats: their containers
 * are parsed here and the durations they claim are checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <FLAC/stream_decoder.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "media/audio.h"

#define BIG (64u << 20) /* a ceiling no test reaches unless it means to */

/* ---------------------------------------------------------------- helpers */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned le16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* n samples of a sine at freq Hz, amplitude amp. Caller frees. */
static int16_t *sine(size_t n, unsigned rate, double freq, double amp)
{
    int16_t *s = malloc((n ? n : 1) * sizeof(*s));
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (int16_t)lrint(amp * sin(2.0 * M_PI * freq * (double)i / rate));
    return s;
}

/* A signal FLAC cannot predict well: sine plus a fixed pseudo-random noise,
 * with the extreme values in it. Caller frees. */
static int16_t *noisy(size_t n, unsigned rate)
{
    int16_t *s = sine(n, rate, 330.0, 12000.0);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        s[i] = (int16_t)(s[i] + (int16_t)((x >> 16) % 4001) - 2000);
    }
    if (n > 2) {
        s[0] = INT16_MIN;
        s[1] = INT16_MAX;
    }
    return s;
}

/* Frequency from upward zero crossings between the first and the last one. */
static double pitch_hz(const int16_t *s, size_t n, unsigned rate)
{
    size_t first = 0;
    size_t last = 0;
    size_t count = 0;
    for (size_t i = 1; i < n; i++) {
        if (s[i - 1] < 0 && s[i] >= 0) {
            if (count == 0)
                first = i;
            last = i;
            count++;
        }
    }
    assert_true(count > 2);
    return (double)(count - 1) * rate / (double)(last - first);
}

static void assert_near(double got, double want, double rel)
{
    if (fabs(got - want) > rel * fabs(want))
        fail_msg("got %f, want %f within %.1f%%", got, want, rel * 100);
}

/* ---------------------------------------------------------------- names */

static void test_format_parse(void **state)
{
    static const char *const names[] = {"mp3", "opus", "flac", "wav", "pcm"};
    static const char *const types[] = {"audio/mpeg", "audio/opus", "audio/flac", "audio/wav",
                                        "audio/pcm"};
    static const char *const refused[] = {"aac",  "AAC", "MP3", "Wav",  "",
                                          "mp33", "ogg", "m4a", " mp3", "mp3 "};
    gw_audio_fmt_t f;
    (void)state;

    for (int i = 0; i < 5; i++) {
        f = (gw_audio_fmt_t)99;
        assert_int_equal(gw_audio_format_parse(names[i], &f), 0);
        assert_int_equal(f, i);
        assert_string_equal(gw_audio_format_name(f), names[i]);
        assert_string_equal(gw_audio_content_type(f), types[i]);
    }
    assert_int_equal(GW_AUDIO_MP3, 0); /* OpenAI's default is the zero value */
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        f = GW_AUDIO_WAV;
        assert_int_equal(gw_audio_format_parse(refused[i], &f), GW_DECLINED);
        assert_int_equal(f, GW_AUDIO_WAV); /* untouched */
    }
    assert_int_equal(gw_audio_format_parse(NULL, &f), GW_DECLINED);
    assert_string_equal(gw_audio_format_name((gw_audio_fmt_t)7), "?");
    assert_string_equal(gw_audio_content_type((gw_audio_fmt_t)7), "application/octet-stream");
}

/* ---------------------------------------------------------------- wav, pcm */

static void test_wav_exact(void **state)
{
    const size_t n = 1001;
    int16_t *pcm = sine(n, 24000, 440.0, 30000.0);
    gw_buf_t b;
    gw_err_t err = {0};
    const unsigned char *h;
    (void)state;

    pcm[0] = INT16_MIN;
    pcm[1] = INT16_MAX;
    pcm[2] = -1;
    gw_buf_init(&b, BIG);
    assert_int_equal(gw_buf_appends(&b, "xyz"), 0); /* encode appends */
    assert_int_equal(gw_audio_encode(GW_AUDIO_WAV, pcm, n, 24000, &b, &err), 0);
    assert_int_equal(b.len, 3 + 44 + 2 * n);
    assert_memory_equal(b.ptr, "xyz", 3);
    h = (const unsigned char *)b.ptr + 3;
    assert_memory_equal(h, "RIFF", 4);
    assert_int_equal(le32(h + 4), 36 + 2 * n);
    assert_memory_equal(h + 8, "WAVE", 4);
    assert_memory_equal(h + 12, "fmt ", 4);
    assert_int_equal(le32(h + 16), 16);
    assert_int_equal(le16(h + 20), 1);
    assert_int_equal(le16(h + 22), 1);
    assert_int_equal(le32(h + 24), 24000);
    assert_int_equal(le32(h + 28), 48000);
    assert_int_equal(le16(h + 32), 2);
    assert_int_equal(le16(h + 34), 16);
    assert_memory_equal(h + 36, "data", 4);
    assert_int_equal(le32(h + 40), 2 * n);
    assert_int_equal(le32(h + 40) % 2, 0);
    /* Explicit little-endian bytes, then the round trip. */
    assert_int_equal(h[44], 0x00);
    assert_int_equal(h[45], 0x80);
    assert_int_equal(h[46], 0xff);
    assert_int_equal(h[47], 0x7f);
    assert_int_equal(h[48], 0xff);
    assert_int_equal(h[49], 0xff);
    for (size_t i = 0; i < n; i++)
        assert_int_equal((int16_t)le16(h + 44 + 2 * i), pcm[i]);

    /* Another rate lands in both rate fields. */
    gw_buf_reset(&b);
    assert_int_equal(gw_audio_encode(GW_AUDIO_WAV, pcm, 10, 44100, &b, &err), 0);
    h = (const unsigned char *)b.ptr;
    assert_int_equal(le32(h + 24), 44100);
    assert_int_equal(le32(h + 28), 88200);
    gw_buf_dispose(&b);
    free(pcm);
}

static void test_pcm_raw_and_input(void **state)
{
    const size_t n = 777;
    int16_t *pcm = noisy(n, 24000);
    int16_t *back = NULL;
    size_t nback = 0;
    gw_buf_t b;
    gw_err_t err = {0};
    (void)state;

    gw_buf_init(&b, BIG);
    assert_int_equal(gw_audio_encode(GW_AUDIO_PCM, pcm, n, 24000, &b, &err), 0);
    assert_int_equal(b.len, 2 * n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal((int16_t)le16((const unsigned char *)b.ptr + 2 * i), pcm[i]);
    /* Gemini's bytes back to samples: the exact inverse. */
    assert_int_equal(gw_audio_samples_from_s16le(b.ptr, b.len, &back, &nback, &err), 0);
    assert_int_equal(nback, n);
    assert_memory_equal(back, pcm, n * sizeof(int16_t));
    free(back);
    assert_int_equal(gw_audio_samples_from_s16le(b.ptr, 0, &back, &nback, &err), 0);
    assert_non_null(back);
    assert_int_equal(nback, 0);
    free(back);
    assert_int_equal(gw_audio_samples_from_s16le(b.ptr, 5, &back, &nback, &err), GW_EINVAL);
    assert_null(back);
    assert_int_equal(nback, 0);
    assert_int_equal(err.code, GW_EINVAL);
    gw_buf_dispose(&b);
    free(pcm);
}

/* ---------------------------------------------------------------- mp3 */

typedef struct mp3_info {
    size_t frames;
    unsigned rate;
    unsigned spf;  /* samples per frame */
    bool info_tag; /* first frame carries a Xing/Info tag */
} mp3_info_t;

/* Walks every frame header from the start to the very end of the file (an
 * optional ID3v2 tag first): each must be a valid mono Layer III header at
 * one rate, and the frames must tile the file exactly. */
static mp3_info_t mp3_walk(const unsigned char *p, size_t len)
{
    static const unsigned br1[16] = {0,   32,  40,  48,  56,  64,  80,  96,
                                     112, 128, 160, 192, 224, 256, 320, 0};
    static const unsigned br2[16] = {0,  8,  16, 24,  32,  40,  48,  56,
                                     64, 80, 96, 112, 128, 144, 160, 0};
    static const unsigned sr[4][3] = {
        {11025, 12000, 8000}, {0, 0, 0}, {22050, 24000, 16000}, {44100, 48000, 32000}};
    mp3_info_t info = {0};
    size_t off = 0;

    if (len >= 10 && memcmp(p, "ID3", 3) == 0)
        off = 10 + ((size_t)(p[6] & 0x7f) << 21 | (size_t)(p[7] & 0x7f) << 14 |
                    (size_t)(p[8] & 0x7f) << 7 | (size_t)(p[9] & 0x7f));
    while (off < len) {
        unsigned ver;
        unsigned kbps;
        unsigned rate;
        size_t flen;

        assert_true(off + 4 <= len);
        assert_int_equal(p[off], 0xff);
        assert_int_equal(p[off + 1] & 0xe0, 0xe0);
        ver = (p[off + 1] >> 3) & 3;
        assert_int_not_equal(ver, 1);               /* reserved */
        assert_int_equal((p[off + 1] >> 1) & 3, 1); /* Layer III */
        assert_int_equal(p[off + 3] >> 6, 3);       /* mono */
        kbps = (ver == 3 ? br1 : br2)[p[off + 2] >> 4];
        assert_int_not_equal(kbps, 0);
        assert_int_not_equal((p[off + 2] >> 2) & 3, 3);
        rate = sr[ver][(p[off + 2] >> 2) & 3];
        if (info.frames == 0) {
            info.rate = rate;
            info.spf = ver == 3 ? 1152 : 576;
            /* Side info is 17 (MPEG-1) or 9 bytes for mono, after the 4-byte header. */
            const unsigned char *tag = p + off + 4 + (ver == 3 ? 17 : 9);
            info.info_tag = memcmp(tag, "Info", 4) == 0 || memcmp(tag, "Xing", 4) == 0;
        }
        assert_int_equal(rate, info.rate);
        flen = (ver == 3 ? 144000 : 72000) * kbps / rate + ((p[off + 2] >> 1) & 1);
        off += flen;
        info.frames++;
    }
    assert_int_equal(off, len); /* tiles exactly */
    return info;
}

static void check_mp3(size_t n, unsigned rate, unsigned want_rate)
{
    int16_t *pcm = sine(n, rate, 440.0, 10000.0);
    gw_buf_t b;
    gw_err_t err = {0};
    mp3_info_t info;
    double in_sec = (double)n / rate;
    double out_sec;

    gw_buf_init(&b, BIG);
    assert_int_equal(gw_audio_encode(GW_AUDIO_MP3, pcm, n, rate, &b, &err), 0);
    assert_true(b.len > 0);
    info = mp3_walk((const unsigned char *)b.ptr, b.len);
    assert_int_equal(info.rate, want_rate);
    assert_true(info.info_tag);
    /* The tag frame carries no audio; lame adds its delay and padding (a
     * frame or two): the frames hold the input and not much more. */
    out_sec = (double)((info.frames - 1) * info.spf) / info.rate;
    if (out_sec < in_sec || out_sec > in_sec + 3.0 * info.spf / info.rate)
        fail_msg("%zu frames of %u at %u Hz = %.4f s for %.4f s of input", info.frames, info.spf,
                 info.rate, out_sec, in_sec);
    gw_buf_dispose(&b);
    free(pcm);
}

static void test_mp3(void **state)
{
    (void)state;
    check_mp3(24000, 24000, 24000);     /* Gemini's rate: MPEG-2 */
    check_mp3(3 * 44100, 44100, 44100); /* MPEG-1 */
    check_mp3(8000, 8000, 8000);        /* MPEG-2.5 */
    check_mp3(30000, 30000, 32000);     /* not an MPEG rate: lame resamples up */
    check_mp3(96000, 96000, 48000);     /* above 48000: down to 48000 */
    check_mp3(1, 24000, 24000);
}

/* ---------------------------------------------------------------- opus */

static uint32_t ogg_crc(const unsigned char *p, size_t len)
{
    uint32_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        /* The checksum field itself (bytes 22..25) counts as zero. */
        unsigned char c = (i >= 22 && i < 26) ? 0 : p[i];
        crc ^= (uint32_t)c << 24;
        for (int k = 0; k < 8; k++)
            crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
    }
    return crc;
}

typedef struct ogg_info {
    size_t pages;
    unsigned preskip;
    uint32_t input_rate;
    uint64_t last_granule;
    bool eos;
} ogg_info_t;

/* Walks every page: capture pattern, version, CRC, one serial, sequence
 * numbers in order; OpusHead alone on the first page (BOS), OpusTags next,
 * EOS on the last page only. */
static ogg_info_t ogg_walk(const unsigned char *p, size_t len)
{
    ogg_info_t info = {0};
    uint32_t serial = 0;
    size_t off = 0;

    while (off < len) {
        size_t nseg;
        size_t body = 0;
        size_t hlen;
        const unsigned char *pg = p + off;

        assert_true(off + 27 <= len);
        assert_memory_equal(pg, "OggS", 4);
        assert_int_equal(pg[4], 0);
        nseg = pg[26];
        hlen = 27 + nseg;
        assert_true(off + hlen <= len);
        for (size_t i = 0; i < nseg; i++)
            body += pg[27 + i];
        assert_true(off + hlen + body <= len);
        assert_int_equal(le32(pg + 22), ogg_crc(pg, hlen + body));
        if (info.pages == 0)
            serial = le32(pg + 14);
        assert_int_equal(le32(pg + 14), serial);
        assert_int_equal(le32(pg + 18), info.pages);
        assert_int_equal((pg[5] & 0x02) != 0, info.pages == 0); /* BOS */
        assert_false(info.eos);                                 /* nothing after EOS */
        info.eos = (pg[5] & 0x04) != 0;
        if (info.pages == 0) {
            assert_true(body >= 19);
            assert_memory_equal(pg + hlen, "OpusHead", 8);
            assert_int_equal(pg[hlen + 8], 1); /* version */
            assert_int_equal(pg[hlen + 9], 1); /* channels */
            info.preskip = le16(pg + hlen + 10);
            info.input_rate = le32(pg + hlen + 12);
            assert_int_equal(le64(pg + 6), 0);
        } else if (info.pages == 1) {
            assert_memory_equal(pg + hlen, "OpusTags", 8);
        }
        info.last_granule = le64(pg + 6);
        off += hlen + body;
        info.pages++;
    }
    assert_int_equal(off, len);
    assert_true(info.pages >= 2);
    assert_true(info.eos);
    return info;
}

static void check_opus(size_t n, unsigned rate)
{
    int16_t *pcm = sine(n, rate, 440.0, 10000.0);
    gw_buf_t b;
    gw_err_t err = {0};
    ogg_info_t info;
    double want;

    gw_buf_init(&b, BIG);
    assert_int_equal(gw_audio_encode(GW_AUDIO_OPUS, pcm, n, rate, &b, &err), 0);
    info = ogg_walk((const unsigned char *)b.ptr, b.len);
    assert_int_equal(info.input_rate, rate);
    assert_true(info.preskip > 0);
    /* The end granule is the exact length at 48 kHz plus the pre-skip. */
    want = info.preskip + (double)n * 48000.0 / rate;
    if (fabs((double)info.last_granule - want) > 2.0)
        fail_msg("last granule %llu, want %.1f", (unsigned long long)info.last_granule, want);
    gw_buf_dispose(&b);
    free(pcm);
}

static void test_opus(void **state)
{
    (void)state;
    check_opus(24000, 24000);
    check_opus(5 * 24000 + 17, 24000);
    check_opus(44100, 44100); /* libopusenc resamples */
    check_opus(16000, 16000);
    check_opus(1, 24000);
}

/* ---------------------------------------------------------------- flac */

typedef struct flac_read {
    const unsigned char *p;
    size_t len;
    size_t off;
    int16_t *samples;
    size_t n;
    size_t cap;
    uint64_t total; /* from STREAMINFO */
    unsigned rate;
    unsigned bits;
    unsigned channels;
    bool md5_set; /* all zero means "not computed": the decoder would skip the check */
    int errors;
} flac_read_t;

static FLAC__StreamDecoderReadStatus on_read(const FLAC__StreamDecoder *d, FLAC__byte buffer[],
                                             size_t *bytes, void *data)
{
    flac_read_t *r = data;
    size_t k = r->len - r->off < *bytes ? r->len - r->off : *bytes;
    (void)d;
    if (k == 0) {
        *bytes = 0;
        return FLAC__STREAM_DECODER_READ_STATUS_END_OF_STREAM;
    }
    memcpy(buffer, r->p + r->off, k);
    r->off += k;
    *bytes = k;
    return FLAC__STREAM_DECODER_READ_STATUS_CONTINUE;
}

static FLAC__StreamDecoderWriteStatus on_write(const FLAC__StreamDecoder *d,
                                               const FLAC__Frame *frame,
                                               const FLAC__int32 *const buffer[], void *data)
{
    flac_read_t *r = data;
    (void)d;
    if (r->n + frame->header.blocksize > r->cap) {
        r->cap = (r->n + frame->header.blocksize) * 2;
        r->samples = realloc(r->samples, r->cap * sizeof(int16_t));
        assert_non_null(r->samples);
    }
    for (unsigned i = 0; i < frame->header.blocksize; i++)
        r->samples[r->n++] = (int16_t)buffer[0][i];
    return FLAC__STREAM_DECODER_WRITE_STATUS_CONTINUE;
}

static void on_metadata(const FLAC__StreamDecoder *d, const FLAC__StreamMetadata *m, void *data)
{
    flac_read_t *r = data;
    (void)d;
    if (m->type == FLAC__METADATA_TYPE_STREAMINFO) {
        r->total = m->data.stream_info.total_samples;
        r->rate = m->data.stream_info.sample_rate;
        r->bits = m->data.stream_info.bits_per_sample;
        r->channels = m->data.stream_info.channels;
        for (int i = 0; i < 16; i++)
            r->md5_set = r->md5_set || m->data.stream_info.md5sum[i] != 0;
    }
}

static void on_error(const FLAC__StreamDecoder *d, FLAC__StreamDecoderErrorStatus s, void *data)
{
    flac_read_t *r = data;
    (void)d;
    (void)s;
    r->errors++;
}

/* Decodes with MD5 checking on; fills r (caller frees r->samples). */
static void flac_decode(const gw_buf_t *b, flac_read_t *r)
{
    FLAC__StreamDecoder *d = FLAC__stream_decoder_new();

    memset(r, 0, sizeof(*r));
    r->p = (const unsigned char *)b->ptr;
    r->len = b->len;
    assert_non_null(d);
    assert_true(FLAC__stream_decoder_set_md5_checking(d, true));
    assert_int_equal(FLAC__stream_decoder_init_stream(d, on_read, NULL, NULL, NULL, NULL, on_write,
                                                      on_metadata, on_error, r),
                     FLAC__STREAM_DECODER_INIT_STATUS_OK);
    assert_true(FLAC__stream_decoder_process_until_end_of_stream(d));
    assert_true(FLAC__stream_decoder_finish(d)); /* false on an MD5 mismatch */
    FLAC__stream_decoder_delete(d);
    assert_int_equal(r->errors, 0);
}

static void test_flac_lossless(void **state)
{
    static const unsigned rates[] = {24000, 44100, 8000};
    static const size_t lens[] = {3 * 24000 + 5, 44100, 1};
    (void)state;

    for (int i = 0; i < 3; i++) {
        int16_t *pcm = noisy(lens[i], rates[i]);
        gw_buf_t b;
        gw_err_t err = {0};
        flac_read_t r;

        gw_buf_init(&b, BIG);
        assert_int_equal(gw_audio_encode(GW_AUDIO_FLAC, pcm, lens[i], rates[i], &b, &err), 0);
        assert_memory_equal(b.ptr, "fLaC", 4);
        assert_true(b.len < 2 * lens[i] + 8192);
        flac_decode(&b, &r);
        assert_int_equal(r.rate, rates[i]);
        assert_int_equal(r.bits, 16);
        assert_int_equal(r.channels, 1);
        assert_int_equal(r.total, lens[i]);
        assert_true(r.md5_set); /* STREAMINFO rewritten at finish, MD5 checked */
        assert_int_equal(r.n, lens[i]);
        assert_memory_equal(r.samples, pcm, lens[i] * sizeof(int16_t));
        free(r.samples);
        gw_buf_dispose(&b);
        free(pcm);
    }
}

/* ---------------------------------------------------------------- edges */

/* Zero samples: every format gives a valid, empty file. */
static void test_zero_samples(void **state)
{
    int16_t dummy = 0;
    gw_buf_t b;
    gw_err_t err = {0};
    (void)state;

    gw_buf_init(&b, BIG);
    assert_int_equal(gw_audio_encode(GW_AUDIO_PCM, &dummy, 0, 24000, &b, &err), 0);
    assert_int_equal(b.len, 0);

    assert_int_equal(gw_audio_encode(GW_AUDIO_WAV, &dummy, 0, 24000, &b, &err), 0);
    assert_int_equal(b.len, 44);
    assert_int_equal(le32((const unsigned char *)b.ptr + 4), 36);
    assert_int_equal(le32((const unsigned char *)b.ptr + 40), 0);

    gw_buf_reset(&b);
    assert_int_equal(gw_audio_encode(GW_AUDIO_MP3, NULL, 0, 24000, &b, &err), 0);
    mp3_walk((const unsigned char *)b.ptr, b.len); /* whole frames, if any */

    gw_buf_reset(&b);
    assert_int_equal(gw_audio_encode(GW_AUDIO_OPUS, NULL, 0, 24000, &b, &err), 0);
    {
        ogg_info_t info = ogg_walk((const unsigned char *)b.ptr, b.len);
        /* libopusenc cannot drain an empty stream: one silent input sample
         * (two at 48 kHz) stands in for nothing. */
        assert_true(info.last_granule >= info.preskip);
        assert_true(info.last_granule - info.preskip <= 2);
    }

    gw_buf_reset(&b);
    assert_int_equal(gw_audio_encode(GW_AUDIO_FLAC, NULL, 0, 24000, &b, &err), 0);
    {
        flac_read_t r;
        flac_decode(&b, &r);
        assert_int_equal(r.n, 0);
        assert_int_equal(r.total, 0);
        free(r.samples);
    }
    gw_buf_dispose(&b);
}

/* Past the ceiling every format fails with GW_ETOOBIG and leaves the buffer
 * as it was, wherever the encoder was (first bytes, last page, the FLAC
 * STREAMINFO rewrite); exactly at the ceiling it succeeds. */
static void test_ceiling(void **state)
{
    const size_t n = 2 * 24000;
    int16_t *pcm = noisy(n, 24000);
    (void)state;

    for (int f = GW_AUDIO_MP3; f <= GW_AUDIO_PCM; f++) {
        gw_buf_t b;
        gw_err_t err = {0};
        size_t full;
        const size_t maxes[] = {2, 10, 100, 0 /* full - 1 */};

        gw_buf_init(&b, BIG);
        assert_int_equal(gw_buf_appends(&b, "ab"), 0);
        assert_int_equal(gw_audio_encode((gw_audio_fmt_t)f, pcm, n, 24000, &b, &err), 0);
        full = b.len;
        gw_buf_dispose(&b);

        for (size_t i = 0; i < 4; i++) {
            gw_buf_init(&b, maxes[i] ? maxes[i] : full - 1);
            assert_int_equal(gw_buf_appends(&b, "ab"), 0);
            memset(&err, 0, sizeof(err));
            assert_int_equal(gw_audio_encode((gw_audio_fmt_t)f, pcm, n, 24000, &b, &err),
                             GW_ETOOBIG);
            assert_int_equal(err.code, GW_ETOOBIG);
            assert_true(strstr(err.msg, gw_audio_format_name((gw_audio_fmt_t)f)) != NULL);
            assert_int_equal(b.len, 2);
            assert_string_equal(b.ptr, "ab");
            gw_buf_dispose(&b);
        }
        gw_buf_init(&b, full);
        assert_int_equal(gw_buf_appends(&b, "ab"), 0);
        assert_int_equal(gw_audio_encode((gw_audio_fmt_t)f, pcm, n, 24000, &b, &err), 0);
        assert_int_equal(b.len, full);
        gw_buf_dispose(&b);
    }
    free(pcm);
}

static void test_bad_args(void **state)
{
    int16_t pcm[16] = {0};
    gw_buf_t b;
    gw_err_t err = {0};
    (void)state;

    gw_buf_init(&b, BIG);
    assert_int_equal(gw_audio_encode((gw_audio_fmt_t)5, pcm, 16, 24000, &b, &err), GW_EINVAL);
    assert_int_equal(gw_audio_encode(GW_AUDIO_WAV, pcm, 16, 0, &b, &err), GW_EINVAL);
    assert_int_equal(gw_audio_encode(GW_AUDIO_MP3, pcm, 16, 7999, &b, &err), GW_EINVAL);
    assert_int_equal(gw_audio_encode(GW_AUDIO_OPUS, pcm, 16, 192001, &b, &err), GW_EINVAL);
    assert_int_equal(err.code, GW_EINVAL);
    assert_int_equal(b.len, 0);
    gw_buf_dispose(&b);
}

/* ---------------------------------------------------------------- speed */

static void check_speed(double speed, double freq)
{
    const unsigned rate = 24000;
    const size_t n = 3 * rate;
    int16_t *pcm = sine(n, rate, freq, 12000.0);
    int16_t *out = NULL;
    size_t nout = 0;
    gw_err_t err = {0};

    assert_int_equal(gw_audio_change_speed(pcm, n, rate, speed, &out, &nout, &err), 0);
    assert_non_null(out);
    assert_near((double)nout, (double)n / speed, 0.03);
    /* Tempo, not pitch: same frequency, measured away from the ends. */
    assert_near(pitch_hz(out + nout / 10, nout - nout / 5, rate), freq, 0.03);
    free(out);
    free(pcm);
}

static void test_speed(void **state)
{
    (void)state;
    check_speed(2.0, 440.0);
    check_speed(0.5, 440.0);
    check_speed(4.0, 440.0);
    check_speed(0.25, 440.0);
    check_speed(1.5, 200.0);
    check_speed(0.8, 200.0);
}

static void test_speed_edges(void **state)
{
    int16_t *pcm = noisy(1000, 24000);
    int16_t *out = NULL;
    size_t nout = 0;
    gw_err_t err = {0};
    const double bad[] = {0.0, 0.2499, 4.0001, -1.0, NAN, INFINITY};
    (void)state;

    /* 1.0: an exact copy the caller owns. */
    assert_int_equal(gw_audio_change_speed(pcm, 1000, 24000, 1.0, &out, &nout, &err), 0);
    assert_int_equal(nout, 1000);
    assert_ptr_not_equal(out, pcm);
    assert_memory_equal(out, pcm, 1000 * sizeof(int16_t));
    free(out);
    /* Zero samples. */
    assert_int_equal(gw_audio_change_speed(NULL, 0, 24000, 2.0, &out, &nout, &err), 0);
    assert_non_null(out);
    assert_int_equal(nout, 0);
    free(out);
    /* Short input still comes out about n / speed long. */
    assert_int_equal(gw_audio_change_speed(pcm, 1000, 24000, 2.0, &out, &nout, &err), 0);
    assert_true(nout >= 400 && nout <= 600);
    free(out);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        out = (int16_t *)&err; /* must be reset to NULL */
        nout = 9;
        assert_int_equal(gw_audio_change_speed(pcm, 1000, 24000, bad[i], &out, &nout, &err),
                         GW_EINVAL);
        assert_null(out);
        assert_int_equal(nout, 0);
        assert_int_equal(err.http_status, 400);
    }
    assert_int_equal(gw_audio_change_speed(pcm, 1000, 0, 2.0, &out, &nout, &err), GW_EINVAL);
    assert_null(out);
    free(pcm);
}

/* ---------------------------------------------------------------- mime */

static void test_pcm_mime_rate(void **state)
{
    static const struct {
        const char *mime;
        int rc;
        unsigned rate;
    } cases[] = {
        {"audio/L16;codec=pcm;rate=24000", 0, 24000},
        {"audio/l16; rate=16000; codec=pcm", 0, 16000},
        {"AUDIO/PCM;RATE=44100", 0, 44100},
        {"audio/pcm", 0, 12345}, /* no rate: the default */
        {"audio/L16;codec=pcm", 0, 12345},
        {"audio/wav", GW_DECLINED, 0},
        {"audio/mpeg;rate=24000", GW_DECLINED, 0},
        {"audio/L16;rate=", GW_DECLINED, 0},
        {"audio/L16;rate=24k", GW_DECLINED, 0},
        {"audio/L16;rate=-24000", GW_DECLINED, 0},
        {"audio/L16;rate=99999999999999999999", GW_DECLINED, 0},
        {"audio/L16;rate=100", GW_DECLINED, 0},
        {"", GW_DECLINED, 0},
        {NULL, GW_DECLINED, 0},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned rate = 7;
        int rc = gw_audio_pcm_mime_rate(cases[i].mime, 12345, &rate);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d, want %d", cases[i].mime ? cases[i].mime : "NULL", rc, cases[i].rc);
        assert_int_equal(rate, rc == 0 ? cases[i].rate : 7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_parse),
        cmocka_unit_test(test_wav_exact),
        cmocka_unit_test(test_pcm_raw_and_input),
        cmocka_unit_test(test_mp3),
        cmocka_unit_test(test_opus),
        cmocka_unit_test(test_flac_lossless),
        cmocka_unit_test(test_zero_samples),
        cmocka_unit_test(test_ceiling),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_speed),
        cmocka_unit_test(test_speed_edges),
        cmocka_unit_test(test_pcm_mime_rate),
    };
    return cmocka_run_group_tests_name("media/audio", tests, NULL, NULL);
}
