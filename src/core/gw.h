/*
 * Common definitions shared by every layer: error codes, the caller-filled
 * error record, string views, checked allocation and assertions.
 */
#ifndef GW_CORE_GW_H
#define GW_CORE_GW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_VERSION "0.1.0"

/* Return codes: 0 is success, negative values are failures. */
enum {
    GW_OK = 0,
    GW_ERR = -1,       /* generic failure, details in gw_err_t */
    GW_ENOMEM = -2,
    GW_EINVAL = -3,    /* bad input */
    GW_ETOOBIG = -4,   /* a bounded buffer hit its ceiling */
    GW_ENOTFOUND = -5,
    GW_EDB = -6,       /* storage failure */
    GW_ECRYPTO = -7,   /* wrong key or tampered ciphertext */
    GW_EIO = -8,
    GW_AGAIN = -100,   /* would block: the callback fires later */
    GW_DECLINED = -101, /* not mine: try the next one */
    GW_PENDING = -102   /* accepted: the result is reported later by a callback */
};

/* Filled by the callee on failure; messages never contain keys or prompts. */
typedef struct gw_err {
    int code;
    int http_status;
    char msg[200];
} gw_err_t;

void gw_err_set(gw_err_t *err, int code, int http_status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A view into bytes owned elsewhere; the owner is named where one is returned. */
typedef struct gw_str {
    const char *ptr;
    size_t len;
} gw_str_t;

#define GW_STR(lit) ((gw_str_t){(lit), sizeof(lit) - 1})
gw_str_t gw_str_c(const char *s); /* NULL gives an empty view */
bool gw_str_ieq(gw_str_t a, const char *b);

/* Allocation that cannot fail: logs and aborts on out-of-memory. */
void *gw_xmalloc(size_t n);
void *gw_xcalloc(size_t n, size_t size);
void *gw_xrealloc(void *p, size_t n);
char *gw_xstrdup(const char *s);
char *gw_xstrndup(const char *s, size_t n);

/* On in every build; logs file and line, then aborts. Never for network input. */
#define gw_assert(cond)                                                                    \
    do {                                                                                   \
        if (!(cond))                                                                       \
            gw__assert_fail(#cond, __FILE__, __LINE__);                                    \
    } while (0)
_Noreturn void gw__assert_fail(const char *expr, const char *file, int line);

#define gw_container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define GW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define GW_MIN(a, b) ((a) < (b) ? (a) : (b))
#define GW_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
