/*
 * The upstream's own words for the client, with secrets redacted (see
 * error_message.h).
 */
#include "router/error_message.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* Skips leading white space and an SSE "data:" prefix (in-band stream errors). */
gw_str_t gw_error_body_trim(gw_str_t b)
{
    while (b.len > 0 && isspace((unsigned char)b.ptr[0])) {
        b.ptr++;
        b.len--;
    }
    if (b.len >= 5 && strncmp(b.ptr, "data:", 5) == 0) {
        b.ptr += 5;
        b.len -= 5;
        while (b.len > 0 && isspace((unsigned char)b.ptr[0])) {
            b.ptr++;
            b.len--;
        }
    }
    return b;
}

/* Parses a JSON value from the body; NULL if it is not an object, array or string. */
json_t *gw_error_body_json(gw_str_t body)
{
    json_t *root;

    if (body.len == 0)
        return NULL;
    /* EOF check off: an SSE frame may be followed by more frames. */
    root = json_loadb(body.ptr, body.len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
    if (root != NULL && !json_is_object(root) && !json_is_array(root) && !json_is_string(root)) {
        json_decref(root); /* "429 Too Many Requests" is text, not the number 429 */
        root = NULL;
    }
    return root;
}

static bool is_token_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '-' || c == '.' || c == '*';
}

/* Credential-looking tokens: a known key prefix, or a long mixed-case
 * alphanumeric run with few dashes (model ids have many, keys few). */
static bool looks_secret(const char *t, size_t n)
{
    static const char *const prefixes[] = {
        "sk-", "sk_", "pk_", "gsk_", "csk-", "nvapi-", "AIza", "ghp_", "gho_", "ghu_",
        "ghs_", "github_pat_", "hf_", "xai-", "r8_", "freellmapi-",
    };
    bool digit = false, lower = false, upper = false;
    int dashes = 0;

    for (size_t i = 0; i < GW_ARRAY_LEN(prefixes); i++) {
        size_t pl = strlen(prefixes[i]);

        if (n > pl && strncmp(t, prefixes[i], pl) == 0)
            return true;
    }
    if (n < 24)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];

        digit |= isdigit(c) != 0;
        lower |= islower(c) != 0;
        upper |= isupper(c) != 0;
        dashes += c == '-';
    }
    return digit && lower && upper && dashes <= 2;
}

static void append_redacted(gw_buf_t *out, const char *s, size_t n)
{
    size_t i = 0;
    bool after_bearer = false;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];

        if (!is_token_char(c)) {
            /* Control characters become spaces: the text goes into JSON and logs. */
            char ch = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;

            gw_buf_append(out, &ch, 1);
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && is_token_char((unsigned char)s[j]))
            j++;
        if (after_bearer || looks_secret(s + i, j - i))
            gw_buf_appends(out, "[redacted]");
        else
            gw_buf_append(out, s + i, j - i);
        after_bearer = (j - i == 6 && strncasecmp(s + i, "Bearer", 6) == 0);
        i = j;
    }
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
    size_t n;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/* Replaces bytes that are not valid UTF-8 with '?', in place: the message goes
 * into a JSON string, which must be valid UTF-8. */
static void sanitize_utf8(char *s)
{
    unsigned char *p = (unsigned char *)s;

    while (*p != '\0') {
        size_t n = utf8_seq(p);

        if (n == 0) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

size_t gw_error_message(gw_str_t body, char *out, size_t outsz)
{
    gw_buf_t msg;
    gw_buf_t red;
    gw_str_t b;
    json_t *root;
    json_t *e;
    json_t *m = NULL;
    size_t n = 0;

    if (outsz == 0)
        return 0;
    b = gw_error_body_trim(body);
    root = body.ptr != NULL ? gw_error_body_json(b) : NULL;
    e = root;
    gw_buf_init(&msg, GW_ERROR_TEXT_MAX);
    gw_buf_init(&red, GW_ERROR_TEXT_MAX * 2);
    if (json_is_array(e))
        e = json_array_get(e, 0);
    if (json_is_object(e)) {
        json_t *err = json_object_get(e, "error");
        json_t *errors = json_object_get(e, "errors");

        if (json_is_object(err))
            m = json_object_get(err, "message");
        else if (json_is_string(err))
            m = err;
        if (m == NULL && json_is_array(errors))
            m = json_object_get(json_array_get(errors, 0), "message");
        if (m == NULL)
            m = json_object_get(e, "message");
        if (m == NULL)
            m = json_object_get(e, "detail");
        if (m == NULL)
            m = json_object_get(e, "msg");
        if (json_is_string(m)) {
            gw_buf_append(&msg, json_string_value(m), json_string_length(m));
        } else if (m != NULL && !json_is_null(m)) {
            char *dump = json_dumps(m, JSON_COMPACT | JSON_ENCODE_ANY);

            if (dump != NULL)
                gw_buf_append(&msg, dump, GW_MIN(strlen(dump), (size_t)GW_ERROR_TEXT_MAX));
            free(dump);
        }
        /* OpenRouter's "Provider returned error" says little; the raw upstream text more. */
        if (json_is_object(err)) {
            json_t *raw = json_object_get(json_object_get(err, "metadata"), "raw");

            if (json_is_string(raw) && msg.len + 2 + json_string_length(raw) < GW_ERROR_TEXT_MAX) {
                gw_buf_appends(&msg, msg.len > 0 ? ": " : "");
                gw_buf_append(&msg, json_string_value(raw), json_string_length(raw));
            }
        }
    } else if (json_is_string(e)) {
        gw_buf_append(&msg, json_string_value(e),
                      GW_MIN(json_string_length(e), (size_t)GW_ERROR_TEXT_MAX));
    } else if (root == NULL && b.len > 0) {
        gw_buf_append(&msg, b.ptr, GW_MIN(b.len, (size_t)1024));
    }
    if (msg.len > 0)
        append_redacted(&red, msg.ptr, msg.len);
    if (red.len > 0) {
        n = GW_MIN(red.len, outsz - 1);
        /* Never cut a UTF-8 sequence in half: back up to its first byte. */
        while (n > 0 && n < red.len && ((unsigned char)red.ptr[n] & 0xc0) == 0x80)
            n--;
        memcpy(out, red.ptr, n);
    }
    out[n] = '\0';
    sanitize_utf8(out);
    json_decref(root);
    gw_buf_dispose(&msg);
    gw_buf_dispose(&red);
    return n;
}
