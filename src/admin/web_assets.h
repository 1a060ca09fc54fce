/*
 * The dashboard's files compiled into the binary (generated from web/dist by
 * scripts/embed-web.py), so the binary serves it with no files beside it.
 */
#ifndef GW_ADMIN_WEB_ASSETS_H
#define GW_ADMIN_WEB_ASSETS_H

#include <stddef.h>

typedef struct gw_web_asset {
    const char *path;          /* "/index.html", "/assets/index-3f2a.js" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
    const unsigned char *gz;   /* gzip copy, NULL when it would not be smaller */
    size_t gz_len;
    const char *etag;          /* quoted */
} gw_web_asset_t;

extern const gw_web_asset_t gw_web_assets[];
extern const size_t gw_web_nassets;

#endif
