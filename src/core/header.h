/* An HTTP header as received (the upstream client hands them out, the error
 * table reads them). */
#ifndef GW_CORE_HEADER_H
#define GW_CORE_HEADER_H

/* name is compared case-insensitively. */
typedef struct gw_header {
    const char *name;
    const char *value;
} gw_header_t;

#endif
