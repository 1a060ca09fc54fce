/*
 * Audio for POST /v1/audio/speech: Gemini TTS answers raw PCM (signed 16-bit,
 * mono, usually 24000 Hz); this module turns it into what OpenAI's
 * `response_format` asks for (mp3, opus, flac, wav, pcm) and applies OpenAI's
 * `speed` as a tempo change that keeps the pitch. Functions over memory, no
 * I/O and no loop: CPU work that the api layer may hand to uv_queue_work (per
 * minute of 24 kHz audio, measured: opus ~0.6 s, mp3 ~0.15 s, flac and speed
 * ~30 ms, wav/pcm a copy).
 *
 * Encoders are Debian's libmp3lame, libopusenc and libFLAC; the tempo change
 * is Debian's libsonic (the one espeak-ng uses). `aac` is deliberately not
 * offered: gw_audio_format_parse() declines it so the caller answers 400.
 */
#ifndef GW_MEDIA_AUDIO_H
#define GW_MEDIA_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/gw.h"

typedef enum {
    GW_AUDIO_MP3 = 0, /* OpenAI's default */
    GW_AUDIO_OPUS,    /* Ogg Opus file */
    GW_AUDIO_FLAC,    /* lossless */
    GW_AUDIO_WAV,     /* 44-byte RIFF header + s16le PCM */
    GW_AUDIO_PCM      /* raw s16le mono, no header */
} gw_audio_fmt_t;

/* Input rates gw_audio_encode() accepts, any format. */
#define GW_AUDIO_RATE_MIN 8000u
#define GW_AUDIO_RATE_MAX 192000u
/* OpenAI's range for `speed`. */
#define GW_AUDIO_SPEED_MIN 0.25
#define GW_AUDIO_SPEED_MAX 4.0

/* "mp3", "opus", "flac", "wav", "pcm" (case-sensitive, like OpenAI) into *out:
 * 0. Anything else, "aac" included, or NULL: GW_DECLINED and *out untouched. */
int gw_audio_format_parse(const char *name, gw_audio_fmt_t *out);

/* The OpenAI name of f ("mp3", ...); "?" for a value outside the enum. */
const char *gw_audio_format_name(gw_audio_fmt_t f);

/* The Content-Type OpenAI sends for f: audio/mpeg, audio/opus (the body is an
 * Ogg Opus file all the same), audio/flac, audio/wav, audio/pcm. Static string;
 * "application/octet-stream" for a value outside the enum. */
const char *gw_audio_content_type(gw_audio_fmt_t f);

/* Encodes nsamples mono s16 samples (host byte order) at `rate` Hz as f and
 * appends the complete file to out; pcm may be NULL when nsamples is 0.
 *   mp3   64 kbit/s CBR with a LAME/Info tag, at the input rate if it is an
 *         MPEG rate, else the next one up (48000 at most; lame resamples)
 *   opus  libopusenc defaults: any input rate, 48 kHz inside, exact end
 *   flac  level 5, STREAMINFO rewritten at the end (sample count, MD5)
 *   wav   44-byte header + s16le;  pcm  s16le, no header
 * Zero samples give a valid file: wav the bare header, pcm nothing, mp3 and
 * flac headers only, opus one sample of silence (libopusenc 0.2.1 aborts on
 * an assertion when drained with nothing written).
 * 0 on success. On failure out holds what it held before and err says why:
 * GW_EINVAL (rate outside GW_AUDIO_RATE_MIN..MAX, f not a format),
 * GW_ETOOBIG (out's ceiling reached), GW_ERR or GW_ENOMEM (an encoder
 * library failed); http_status is 500 for all (the input comes from the
 * upstream, not the client: the caller may remap). */
int gw_audio_encode(gw_audio_fmt_t f, const int16_t *pcm, size_t nsamples, unsigned rate,
                    gw_buf_t *out, gw_err_t *err);

/* Changes tempo without changing pitch (libsonic): speed 2.0 halves the
 * duration, 0.5 doubles it; 1.0 returns a copy. speed must be within
 * GW_AUDIO_SPEED_MIN..MAX (else GW_EINVAL, 400). On success *out is a new
 * gw_xmalloc'd array the caller frees (never NULL, even for zero samples) and
 * *nout its length; on failure *out is NULL and *nout 0. */
int gw_audio_change_speed(const int16_t *pcm, size_t n, unsigned rate, double speed, int16_t **out,
                          size_t *nout, gw_err_t *err);

/* Reads len bytes of s16le PCM (Gemini's inlineData, once base64-decoded)
 * into a new gw_xmalloc'd array of host-order samples, *n of them; the caller
 * frees *out (never NULL). An odd len is GW_EINVAL (502: the upstream sent a
 * torn sample), *out NULL. */
int gw_audio_samples_from_s16le(const void *bytes, size_t len, int16_t **out, size_t *n,
                                gw_err_t *err);

/* The sample rate of a raw-PCM MIME type as Gemini sends it,
 * "audio/L16;codec=pcm;rate=24000" (also "audio/pcm;rate=N"; type and
 * parameter names case-insensitive). 0 and *rate set; `def` when the type is
 * raw PCM but names no rate; GW_DECLINED when the type is not raw 16-bit PCM
 * (e.g. "audio/wav") or the rate is not a number in range. */
int gw_audio_pcm_mime_rate(const char *mime, unsigned def, unsigned *rate);

#endif
