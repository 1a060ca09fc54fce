/* Secret scrubbing: longest common runs between the text and the secret,
 * both reduced to case-folded letters and digits. */
#include "core/scrub.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Secrets are short (keys are < 256 characters); longer ones are compared on
 * their first SECRET_MAX letters and digits. */
#define SECRET_MAX 512

static bool significant(unsigned char c)
{
    return isalnum(c) != 0;
}

size_t gw_scrub_secret(char *text, size_t len, const char *secret)
{
    char sec[SECRET_MAX];
    size_t m = 0;
    size_t n = 0;
    size_t *pos;    /* text offset of each significant character */
    unsigned *run;  /* run[j]: common run ending at the current text char and sec[j] */
    bool *hit;      /* per significant text character: part of a run to mask */
    size_t masked = 0;

    if (text == NULL || secret == NULL)
        return 0;
    for (const char *s = secret; *s != '\0' && m < SECRET_MAX; s++)
        if (significant((unsigned char)*s))
            sec[m++] = (char)tolower((unsigned char)*s);
    if (m < 4)
        return 0;
    size_t need = m < GW_SCRUB_MIN_RUN ? m : GW_SCRUB_MIN_RUN;

    pos = malloc((len + 1) * sizeof(*pos));
    run = calloc(m + 1, sizeof(*run));
    hit = calloc(len + 1, sizeof(*hit));
    if (pos == NULL || run == NULL || hit == NULL) {
        /* Cannot check: say nothing rather than risk a leak. */
        memset(text, '*', len);
        free(pos), free(run), free(hit);
        return len > 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!significant(c))
            continue;
        c = (unsigned char)tolower(c);
        /* Right to left so run[j] still holds the previous character's value. */
        for (size_t j = m; j-- > 0;) {
            run[j + 1] = sec[j] == (char)c ? run[j] + 1 : 0;
            /* The run's first `need` characters once, then each one added. */
            if (run[j + 1] == need)
                for (size_t k = n + 1 - need; k <= n; k++)
                    hit[k] = true;
            else if (run[j + 1] > need)
                hit[n] = true;
        }
        pos[n++] = i;
    }
    for (size_t k = 0; k < n;) {
        if (!hit[k]) {
            k++;
            continue;
        }
        size_t from = pos[k];
        while (k < n && hit[k])
            k++;
        memset(text + from, '*', pos[k - 1] + 1 - from);
        masked++;
    }
    free(pos), free(run), free(hit);
    return masked;
}
