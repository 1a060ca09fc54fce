/*
 * Audio encoding and tempo change for /v1/audio/speech (see audio.h).
 *
 * Every encoder appends to the caller's bounded gw_buf_t through one `sink`
 * that remembers where the file began, so a failure anywhere (the ceiling, a
 * library error) rolls the buffer back to what it held before, and FLAC can
 * seek back to rewrite its STREAMINFO once the sample count and MD5 are known.
 * Libraries are fed in chunks: their APIs count samples in `int`.
 */
#include "media/audio.h"

#include <FLAC/stream_encoder.h>
#include <lame/lame.h>
#include <opus/opusenc.h>
#include <sonic.h>
#include <stdlib.h>
#include <string.h>

/* Samples handed to a library per call: small enough for `int` and the stack. */
#define CHUNK 4096

/* MP3 bit rate: plenty for mono speech and valid for MPEG-1, 2 and 2.5. */
#define MP3_KBPS 64
/* lame.h: worst case output of one lame_encode_buffer call is 1.25 * n + 7200. */
#define MP3_BUF_SIZE (CHUNK + CHUNK / 4 + 7200)
#define WAV_HEADER_SIZE 44

/* ---------------------------------------------------------------- names */

static const struct {
    const char *name;
    const char *content_type;
} formats[] = {
    /* clang-format off */
    [GW_AUDIO_MP3] = {"mp3", "audio/mpeg"},
    [GW_AUDIO_OPUS] = {"opus", "audio/opus"},
    [GW_AUDIO_FLAC] = {"flac", "audio/flac"},
    [GW_AUDIO_WAV] = {"wav", "audio/wav"},
    [GW_AUDIO_PCM] = {"pcm", "audio/pcm"},
    /* clang-format on */
};

static bool fmt_valid(gw_audio_fmt_t f)
{
    return (unsigned)f < GW_ARRAY_LEN(formats);
}

int gw_audio_format_parse(const char *name, gw_audio_fmt_t *out)
{
    if (name == NULL)
        return GW_DECLINED;
    for (size_t i = 0; i < GW_ARRAY_LEN(formats); i++) {
        if (strcmp(name, formats[i].name) == 0) {
            *out = (gw_audio_fmt_t)i;
            return 0;
        }
    }
    return GW_DECLINED;
}

const char *gw_audio_format_name(gw_audio_fmt_t f)
{
    return fmt_valid(f) ? formats[f].name : "?";
}

const char *gw_audio_content_type(gw_audio_fmt_t f)
{
    return fmt_valid(f) ? formats[f].content_type : "application/octet-stream";
}

/* ---------------------------------------------------------------- sink */

typedef struct sink {
    gw_buf_t *out;
    size_t base; /* out->len before encoding: the file starts here */
    size_t pos;  /* write position from base; below the end only after a FLAC seek */
    int rc;      /* first failure seen inside a library callback */
} sink_t;

static void sink_init(sink_t *s, gw_buf_t *out)
{
    s->out = out;
    s->base = out->len;
    s->pos = 0;
    s->rc = 0;
}

/* Writes n bytes at the current position, overwriting then appending. */
static int sink_write(sink_t *s, const void *p, size_t n)
{
    gw_buf_t *b = s->out;
    size_t at = s->base + s->pos;
    size_t over;
    int rc;

    if (s->rc != 0)
        return s->rc;
    if (at > b->len) {
        s->rc = GW_ERR;
        return s->rc;
    }
    over = GW_MIN(n, b->len - at);
    if (over > 0)
        memcpy(b->ptr + at, p, over);
    rc = gw_buf_append(b, (const char *)p + over, n - over);
    if (rc != 0) {
        s->rc = rc;
        return rc;
    }
    s->pos += n;
    return 0;
}

/* Drops whatever this encoding appended. */
static void sink_rollback(sink_t *s)
{
    s->out->len = s->base;
    if (s->out->ptr != NULL)
        s->out->ptr[s->base] = '\0';
}

/* Sets err for a failed encoding: the sink's own failure (the ceiling) wins
 * over the library's report, which is usually a consequence of it. */
static int encode_failed(sink_t *s, int rc, gw_err_t *err, const char *what)
{
    if (s->rc == GW_ETOOBIG || rc == GW_ETOOBIG) {
        gw_err_set(err, GW_ETOOBIG, 500, "audio: encoded %s exceeds %zu bytes", what, s->out->max);
        rc = GW_ETOOBIG;
    } else {
        if (rc == 0)
            rc = GW_ERR;
        gw_err_set(err, rc, 500, "audio: %s encoder failed", what);
    }
    sink_rollback(s);
    return rc;
}

static void put_le16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)((v >> 8) & 0xff);
}

static void put_le32(unsigned char *p, uint32_t v)
{
    put_le16(p, v & 0xffff);
    put_le16(p + 2, v >> 16);
}

/* ---------------------------------------------------------------- pcm, wav */

/* Appends the samples as s16le, whatever the host's byte order. */
static int put_s16le(sink_t *s, const int16_t *pcm, size_t n)
{
    unsigned char tmp[2 * CHUNK];

    for (size_t off = 0; off < n; off += CHUNK) {
        size_t k = GW_MIN((size_t)CHUNK, n - off);
        for (size_t i = 0; i < k; i++)
            put_le16(tmp + 2 * i, (uint16_t)pcm[off + i]);
        if (sink_write(s, tmp, 2 * k) != 0)
            return s->rc;
    }
    return 0;
}

static int encode_pcm(sink_t *s, const int16_t *pcm, size_t n)
{
    if (n > (s->out->max - GW_MIN(s->out->len, s->out->max)) / 2)
        return GW_ETOOBIG; /* fail before copying anything */
    return put_s16le(s, pcm, n);
}

static int encode_wav(sink_t *s, const int16_t *pcm, size_t n, unsigned rate)
{
    unsigned char h[WAV_HEADER_SIZE];
    uint32_t data_len;

    /* RIFF sizes are 32-bit: 36 + data must fit. */
    if (n > (UINT32_MAX - 36) / 2)
        return GW_ETOOBIG;
    data_len = (uint32_t)(n * 2);
    memcpy(h, "RIFF", 4);
    put_le32(h + 4, 36 + data_len);
    memcpy(h + 8, "WAVEfmt ", 8);
    put_le32(h + 16, 16);       /* fmt chunk size */
    put_le16(h + 20, 1);        /* PCM */
    put_le16(h + 22, 1);        /* channels */
    put_le32(h + 24, rate);     /* sample rate */
    put_le32(h + 28, rate * 2); /* byte rate */
    put_le16(h + 32, 2);        /* block align */
    put_le16(h + 34, 16);       /* bits per sample */
    memcpy(h + 36, "data", 4);
    put_le32(h + 40, data_len);
    if (sink_write(s, h, sizeof(h)) != 0)
        return s->rc;
    return encode_pcm(s, pcm, n);
}

/* ---------------------------------------------------------------- mp3 */

/* The MPEG rate lame encodes at: the input's if it is one, else the next one
 * up so no bandwidth is lost, 48000 at most (lame resamples). */
static int mp3_out_rate(unsigned rate)
{
    static const unsigned rates[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};

    for (size_t i = 0; i < GW_ARRAY_LEN(rates); i++) {
        if (rates[i] >= rate)
            return (int)rates[i];
    }
    return 48000;
}

static int encode_mp3(sink_t *s, const int16_t *pcm, size_t n, unsigned rate)
{
    unsigned char mp3[MP3_BUF_SIZE];
    lame_global_flags *gf = lame_init();
    size_t tag_len;
    int got;
    int rc = GW_ERR;

    if (gf == NULL)
        return GW_ENOMEM;
    lame_set_num_channels(gf, 1);
    lame_set_mode(gf, MONO);
    lame_set_in_samplerate(gf, (int)rate);
    lame_set_out_samplerate(gf, mp3_out_rate(rate));
    lame_set_VBR(gf, vbr_off);
    lame_set_brate(gf, MP3_KBPS);
    lame_set_write_id3tag_automatic(gf, 0);
    /* The first frame is a placeholder for the LAME/Info tag (length, encoder
     * delay and padding for gapless players), filled in after the flush. */
    lame_set_bWriteVbrTag(gf, 1);
    if (lame_init_params(gf) < 0)
        goto out;
    for (size_t off = 0; off < n; off += CHUNK) {
        int k = (int)GW_MIN((size_t)CHUNK, n - off);
        /* Mono reads only the left channel; the same pointer twice keeps NULL out. */
        got = lame_encode_buffer(gf, pcm + off, pcm + off, k, mp3, (int)sizeof(mp3));
        if (got < 0)
            goto out;
        if (sink_write(s, mp3, (size_t)got) != 0)
            goto out;
    }
    got = lame_encode_flush(gf, mp3, (int)sizeof(mp3));
    if (got < 0)
        goto out;
    if (sink_write(s, mp3, (size_t)got) != 0)
        goto out;
    tag_len = lame_get_lametag_frame(gf, mp3, sizeof(mp3));
    if (tag_len > sizeof(mp3) || tag_len > s->out->len - s->base)
        goto out;
    if (tag_len > 0) {
        /* No ID3v2 is written, so the placeholder is the first thing we wrote. */
        s->pos = 0;
        if (sink_write(s, mp3, tag_len) != 0)
            goto out;
    }
    rc = 0;
out:
    lame_close(gf);
    return rc;
}

/* ---------------------------------------------------------------- opus */

static int on_opus_write(void *user_data, const unsigned char *ptr, opus_int32 len)
{
    return sink_write(user_data, ptr, (size_t)len) == 0 ? 0 : 1;
}

static int on_opus_close(void *user_data)
{
    (void)user_data; /* the buffer belongs to the caller */
    return 0;
}

static int encode_opus(sink_t *s, const int16_t *pcm, size_t n, unsigned rate)
{
    static const OpusEncCallbacks callbacks = {on_opus_write, on_opus_close};
    OggOpusComments *comments = ope_comments_create();
    OggOpusEnc *enc = NULL;
    int error = OPE_OK;
    int rc = GW_ERR;

    if (comments == NULL)
        return GW_ENOMEM;
    /* The encoder copies the comments it is given. */
    enc = ope_encoder_create_callbacks(&callbacks, s, comments, (opus_int32)rate, 1, 0, &error);
    if (enc == NULL || error != OPE_OK)
        goto out;
    /* libopusenc 0.2.1 aborts on an assertion in ope_encoder_drain() when
     * nothing was written: an empty answer becomes one sample of silence. */
    if (n == 0) {
        static const opus_int16 silence[1] = {0};
        if (ope_encoder_write(enc, silence, 1) != OPE_OK || s->rc != 0)
            goto out;
    }
    for (size_t off = 0; off < n; off += CHUNK) {
        int k = (int)GW_MIN((size_t)CHUNK, n - off);
        if (ope_encoder_write(enc, pcm + off, k) != OPE_OK || s->rc != 0)
            goto out;
    }
    /* Encodes what is buffered, writes the last page (end of stream, exact
     * final granule position) and calls on_opus_close. */
    if (ope_encoder_drain(enc) != OPE_OK || s->rc != 0)
        goto out;
    rc = 0;
out:
    if (enc != NULL)
        ope_encoder_destroy(enc);
    ope_comments_destroy(comments);
    return rc;
}

/* ---------------------------------------------------------------- flac */

static FLAC__StreamEncoderWriteStatus on_flac_write(const FLAC__StreamEncoder *enc,
                                                    const FLAC__byte buffer[], size_t bytes,
                                                    uint32_t samples, uint32_t current_frame,
                                                    void *client_data)
{
    (void)enc;
    (void)samples;
    (void)current_frame;
    if (sink_write(client_data, buffer, bytes) != 0)
        return FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR;
    return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
}

/* With seek and tell, FLAC__stream_encoder_finish() goes back to rewrite
 * STREAMINFO with the real sample count, frame sizes and MD5. */
static FLAC__StreamEncoderSeekStatus
on_flac_seek(const FLAC__StreamEncoder *enc, FLAC__uint64 absolute_byte_offset, void *client_data)
{
    sink_t *s = client_data;

    (void)enc;
    if (absolute_byte_offset > s->out->len - s->base)
        return FLAC__STREAM_ENCODER_SEEK_STATUS_ERROR;
    s->pos = (size_t)absolute_byte_offset;
    return FLAC__STREAM_ENCODER_SEEK_STATUS_OK;
}

static FLAC__StreamEncoderTellStatus
on_flac_tell(const FLAC__StreamEncoder *enc, FLAC__uint64 *absolute_byte_offset, void *client_data)
{
    sink_t *s = client_data;

    (void)enc;
    *absolute_byte_offset = s->pos;
    return FLAC__STREAM_ENCODER_TELL_STATUS_OK;
}

static int encode_flac(sink_t *s, const int16_t *pcm, size_t n, unsigned rate)
{
    FLAC__int32 wide[CHUNK];
    FLAC__StreamEncoder *enc = FLAC__stream_encoder_new();
    bool ok = true;
    int rc = GW_ERR;

    if (enc == NULL)
        return GW_ENOMEM;
    ok = ok && FLAC__stream_encoder_set_channels(enc, 1);
    ok = ok && FLAC__stream_encoder_set_bits_per_sample(enc, 16);
    ok = ok && FLAC__stream_encoder_set_sample_rate(enc, rate);
    ok = ok && FLAC__stream_encoder_set_compression_level(enc, 5);
    ok = ok && FLAC__stream_encoder_set_total_samples_estimate(enc, n);
    if (!ok)
        goto out;
    if (FLAC__stream_encoder_init_stream(enc, on_flac_write, on_flac_seek, on_flac_tell, NULL, s) !=
        FLAC__STREAM_ENCODER_INIT_STATUS_OK)
        goto out;
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t k = GW_MIN((size_t)CHUNK, n - off);
        for (size_t i = 0; i < k; i++)
            wide[i] = pcm[off + i];
        if (!FLAC__stream_encoder_process_interleaved(enc, wide, (uint32_t)k))
            goto out;
    }
    if (!FLAC__stream_encoder_finish(enc))
        goto out;
    rc = 0;
out:
    /* Finishes first if still initialized (an error path): output is dropped. */
    FLAC__stream_encoder_delete(enc);
    return rc;
}

/* ---------------------------------------------------------------- encode */

int gw_audio_encode(gw_audio_fmt_t f, const int16_t *pcm, size_t nsamples, unsigned rate,
                    gw_buf_t *out, gw_err_t *err)
{
    sink_t s;
    int rc;

    if (!fmt_valid(f)) {
        gw_err_set(err, GW_EINVAL, 500, "audio: unknown output format %d", (int)f);
        return GW_EINVAL;
    }
    if (rate < GW_AUDIO_RATE_MIN || rate > GW_AUDIO_RATE_MAX) {
        gw_err_set(err, GW_EINVAL, 500, "audio: unsupported sample rate %u Hz", rate);
        return GW_EINVAL;
    }
    sink_init(&s, out);
    switch (f) {
    case GW_AUDIO_MP3:
        rc = encode_mp3(&s, pcm, nsamples, rate);
        break;
    case GW_AUDIO_OPUS:
        rc = encode_opus(&s, pcm, nsamples, rate);
        break;
    case GW_AUDIO_FLAC:
        rc = encode_flac(&s, pcm, nsamples, rate);
        break;
    case GW_AUDIO_WAV:
        rc = encode_wav(&s, pcm, nsamples, rate);
        break;
    default:
        rc = encode_pcm(&s, pcm, nsamples);
        break;
    }
    if (rc != 0 || s.rc != 0)
        return encode_failed(&s, rc, err, formats[f].name);
    return 0;
}

/* ---------------------------------------------------------------- speed */

/* Moves what sonic has ready into *buf, growing it as needed. */
static void speed_drain(sonicStream st, int16_t **buf, size_t *cap, size_t *len)
{
    for (;;) {
        int avail = sonicSamplesAvailable(st);
        int got;

        if (avail <= 0)
            return;
        if (*len + (size_t)avail > *cap) {
            *cap = GW_MAX(*cap * 2, *len + (size_t)avail);
            *buf = gw_xrealloc(*buf, *cap * sizeof(int16_t));
        }
        got = sonicReadShortFromStream(st, *buf + *len, avail);
        if (got <= 0)
            return;
        *len += (size_t)got;
    }
}

int gw_audio_change_speed(const int16_t *pcm, size_t n, unsigned rate, double speed, int16_t **out,
                          size_t *nout, gw_err_t *err)
{
    sonicStream st;
    int16_t *buf;
    size_t cap;
    size_t len = 0;

    *out = NULL;
    *nout = 0;
    /* Written so that NaN fails too. */
    if (!(speed >= GW_AUDIO_SPEED_MIN && speed <= GW_AUDIO_SPEED_MAX)) {
        gw_err_set(err, GW_EINVAL, 400, "speed must be between 0.25 and 4.0");
        return GW_EINVAL;
    }
    if (rate < GW_AUDIO_RATE_MIN || rate > GW_AUDIO_RATE_MAX) {
        gw_err_set(err, GW_EINVAL, 500, "audio: unsupported sample rate %u Hz", rate);
        return GW_EINVAL;
    }
    /* Output is at most 4n samples; keep its byte count far from overflow. */
    if (n > SIZE_MAX / (8 * sizeof(int16_t))) {
        gw_err_set(err, GW_ETOOBIG, 500, "audio: too many samples");
        return GW_ETOOBIG;
    }
    if (speed == 1.0 || n == 0) {
        *out = gw_xmalloc(GW_MAX(n, 1) * sizeof(int16_t));
        if (n > 0)
            memcpy(*out, pcm, n * sizeof(int16_t));
        *nout = n;
        return 0;
    }
    st = sonicCreateStream((int)rate, 1);
    if (st == NULL) {
        gw_err_set(err, GW_ENOMEM, 500, "audio: out of memory");
        return GW_ENOMEM;
    }
    sonicSetSpeed(st, (float)speed);
    cap = (size_t)((double)n / speed) + CHUNK;
    buf = gw_xmalloc(cap * sizeof(int16_t));
    for (size_t off = 0; off < n; off += CHUNK) {
        int k = (int)GW_MIN((size_t)CHUNK, n - off);
        /* sonic copies the input; its prototype just lacks the const. */
        if (!sonicWriteShortToStream(st, (short *)(pcm + off), k))
            goto fail;
        speed_drain(st, &buf, &cap, &len);
    }
    /* Pads with silence internally and trims the result to n / speed. */
    if (!sonicFlushStream(st))
        goto fail;
    speed_drain(st, &buf, &cap, &len);
    sonicDestroyStream(st);
    *out = buf;
    *nout = len;
    return 0;
fail:
    sonicDestroyStream(st);
    free(buf);
    gw_err_set(err, GW_ENOMEM, 500, "audio: out of memory changing speed");
    return GW_ENOMEM;
}

/* ---------------------------------------------------------------- input */

int gw_audio_samples_from_s16le(const void *bytes, size_t len, int16_t **out, size_t *n,
                                gw_err_t *err)
{
    const unsigned char *p = bytes;
    size_t count = len / 2;
    int16_t *s;

    *out = NULL;
    *n = 0;
    if (len % 2 != 0) {
        gw_err_set(err, GW_EINVAL, 502, "audio: upstream PCM has an odd byte count");
        return GW_EINVAL;
    }
    s = gw_xmalloc(GW_MAX(count, 1) * sizeof(int16_t));
    for (size_t i = 0; i < count; i++)
        s[i] = (int16_t)(uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
    *out = s;
    *n = count;
    return 0;
}

/* Trims spaces and tabs from both ends of a view. */
static gw_str_t trim(gw_str_t v)
{
    while (v.len > 0 && (v.ptr[0] == ' ' || v.ptr[0] == '\t')) {
        v.ptr++;
        v.len--;
    }
    while (v.len > 0 && (v.ptr[v.len - 1] == ' ' || v.ptr[v.len - 1] == '\t'))
        v.len--;
    return v;
}

/* Cuts *rest at the first `sep`: returns the part before, leaves the rest after. */
static gw_str_t cut(gw_str_t *rest, char sep)
{
    const char *at = memchr(rest->ptr, sep, rest->len);
    gw_str_t head = *rest;

    if (at == NULL) {
        rest->ptr += rest->len;
        rest->len = 0;
        return head;
    }
    head.len = (size_t)(at - rest->ptr);
    rest->len -= head.len + 1;
    rest->ptr = at + 1;
    return head;
}

int gw_audio_pcm_mime_rate(const char *mime, unsigned def, unsigned *rate)
{
    gw_str_t rest = gw_str_c(mime);
    gw_str_t type = trim(cut(&rest, ';'));
    unsigned found = def;

    if (!gw_str_ieq(type, "audio/l16") && !gw_str_ieq(type, "audio/pcm"))
        return GW_DECLINED;
    while (rest.len > 0) {
        gw_str_t val = trim(cut(&rest, ';'));
        gw_str_t key = trim(cut(&val, '='));
        char num[16];
        char *end;
        unsigned long v;

        val = trim(val);
        if (!gw_str_ieq(key, "rate"))
            continue;
        if (val.len == 0 || val.len >= sizeof(num) || val.ptr[0] < '0' || val.ptr[0] > '9')
            return GW_DECLINED;
        memcpy(num, val.ptr, val.len);
        num[val.len] = '\0';
        v = strtoul(num, &end, 10);
        if (*end != '\0' || v < GW_AUDIO_RATE_MIN || v > GW_AUDIO_RATE_MAX)
            return GW_DECLINED;
        found = (unsigned)v;
    }
    *rate = found;
    return 0;
}
