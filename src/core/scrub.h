/*
 * Secret scrubbing for text that came from outside (an upstream's error
 * message) before it reaches a client, a log or the request log. Upstreams
 * echo keys altered: lower-cased, split by '/' or spaces, truncated. Any run
 * of GW_SCRUB_MIN_RUN or more of the secret's letters and digits, compared
 * case-folded with whatever separates them in the text skipped, is masked.
 */
#ifndef GW_CORE_SCRUB_H
#define GW_CORE_SCRUB_H

#include <stddef.h>

#define GW_SCRUB_MIN_RUN 8

/* Masks, in place, every stretch of text[0..len) that spells a run of the
 * secret (as above; a secret shorter than the run is masked whole when it has
 * at least 4 letters and digits). Masked letters and digits become '*'; the
 * separators inside a masked stretch become '*' too. Returns how many
 * stretches were masked. NULL or empty secrets mask nothing. */
size_t gw_scrub_secret(char *text, size_t len, const char *secret);

#endif
