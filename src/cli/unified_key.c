/*
 * `freellmapi unified-key [--rotate]`: prints the gateway's own bearer key
 * (freellmapi-<48 hex>), creating it on first use. Only the key goes to
 * stdout so scripts can capture it: KEY=$(freellmapi unified-key).
 */
#include "cli/cli_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static const char unified_usage[] =
    "usage: freellmapi unified-key [--rotate] [--data-dir DIR]\n"
    "\n"
    "  Prints the key clients send as 'Authorization: Bearer freellmapi-...'.\n"
    "  It is created on first use and stays the same until --rotate replaces it\n"
    "  (a running server then refuses the old key).\n";

int gw__cli_unified_key(int argc, char **argv, const char *data_dir, const gw__cli_io_t *io)
{
    bool rotate = false;
    const gw__cli_opt_t opts[] = {{"rotate", NULL, &rotate}};
    gw__cli_args_t a;
    gw_store_t *st = NULL;
    gw_err_t err = {0};
    char *key = NULL;
    int rc;

    rc = gw__cli_parse(argc, argv, opts, GW_ARRAY_LEN(opts), &a, io, unified_usage);
    if (rc != GW_CLI_OK)
        return rc;
    if (a.help) {
        fputs(unified_usage, io->out);
        goto out;
    }
    if (a.npos != 0) {
        fprintf(io->err, "freellmapi: unified-key takes no arguments\n");
        rc = gw__cli_usage(io, unified_usage);
        goto out;
    }
    rc = gw__cli_store_open(&st, gw__cli_data_dir(&a, data_dir), io);
    if (rc != GW_CLI_OK)
        goto out;
    if (gw_store_unified_key(st, rotate, &key, &err) != 0) {
        rc = gw__cli_fail(io, "%s", err.msg);
        goto out;
    }
    fprintf(io->out, "%s\n", key);
    if (rotate)
        fprintf(io->err, "rotated: clients using the previous key are now refused\n");
out:
    if (key != NULL) {
        OPENSSL_cleanse(key, strlen(key));
        free(key);
    }
    gw_store_close(st);
    gw__cli_args_dispose(&a);
    return rc;
}

int gw_cli_unified_key(int argc, char **argv, const char *data_dir)
{
    const gw__cli_io_t io = {stdout, stderr, stdin};
    return gw__cli_unified_key(argc, argv, data_dir, &io);
}
