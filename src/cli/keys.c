/*
 * `freellmapi keys add|list|rm`: manage provider keys in the data dir. Keys
 * are checked against the catalog (provider id, Cloudflare's account id),
 * sealed by the store, and only ever shown masked.
 */
#include "cli/cli_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/buf.h"

#define SECRET_READ_MAX 8192

static const char keys_usage_head[] =
    "usage: freellmapi keys add PROVIDER SECRET [--label L] [--account-id ID]\n"
    "       freellmapi keys list\n"
    "       freellmapi keys rm ID\n"
    "\n"
    "  SECRET \"-\" reads the secret from the first line of stdin (keeps it out of\n"
    "  the shell history). A provider whose URLs hold an account id needs\n"
    "  --account-id, or SECRET as ACCOUNT_ID:TOKEN. All commands take --data-dir DIR\n"
    "  (default ./data).\n";

/* Appends "label: a, b, c" wrapped at 78 columns, for the providers that match. */
static void append_ids(gw_buf_t *out, const gw_catalog_t *cat, const char *label,
                       bool account_only)
{
    size_t col = 2 + strlen(label) + 1;
    bool first = true;

    gw_buf_printf(out, "  %s:", label);
    for (size_t i = 0; i < cat->nproviders; i++) {
        const char *id = cat->providers[i].id;

        if (account_only && !cat->providers[i].needs_account_id)
            continue;
        if (col + strlen(id) + 2 > 78) {
            gw_buf_appends(out, first ? "\n   " : ",\n   ");
            col = 3;
        } else if (!first) {
            gw_buf_appends(out, ",");
            col++;
        }
        gw_buf_printf(out, " %s", id);
        col += strlen(id) + 1;
        first = false;
    }
    gw_buf_appends(out, "\n");
}

/* The usage text, with the provider ids of the catalog in use. */
static void keys_usage(gw_buf_t *out)
{
    gw_catalog_t cat;
    gw_err_t err = {0};

    gw_buf_appends(out, keys_usage_head);
    if (gw_catalog_load(&cat, gw_catalog_default_path(), &err) != 0)
        return; /* the command itself reports the broken catalog */
    gw_buf_appends(out, "\n");
    append_ids(out, &cat, "PROVIDER (catalog ids)", false);
    append_ids(out, &cat, "needing --account-id", true);
    gw_catalog_dispose(&cat);
}

/* ---- add ---------------------------------------------------------------- */

/* Reads one line from in into a malloc'd string without the line ending. */
static int read_secret_line(FILE *in, char **out, const gw__cli_io_t *io)
{
    char *buf = gw_xmalloc(SECRET_READ_MAX + 2);
    size_t len;
    int rc = GW_CLI_FAIL;

    *out = NULL;
    if (fgets(buf, SECRET_READ_MAX + 2, in) == NULL) {
        buf[0] = '\0';
        gw__cli_fail(io, "no secret on stdin");
        goto out;
    }
    len = strlen(buf);
    if (len > SECRET_READ_MAX) {
        gw__cli_fail(io, "the secret on stdin is too long");
        goto out;
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    *out = buf;
    buf = NULL;
    rc = GW_CLI_OK;
out:
    if (buf != NULL) {
        OPENSSL_cleanse(buf, SECRET_READ_MAX + 2);
        free(buf);
    }
    return rc;
}

static int unknown_provider(const gw_catalog_t *cat, const char *id, const gw__cli_io_t *io)
{
    gw_buf_t ids;
    size_t i;

    gw_buf_init(&ids, 2048);
    for (i = 0; i < cat->nproviders; i++)
        gw_buf_printf(&ids, "%s%s", i ? ", " : "", cat->providers[i].id);
    gw__cli_fail(io, "unknown provider '%s'; known providers: %s", id, ids.ptr ? ids.ptr : "");
    gw_buf_dispose(&ids);
    return GW_CLI_FAIL;
}

static int keys_add(const gw__cli_args_t *a, const char *label, const char *account_id,
                    const char *data_dir, const gw__cli_io_t *io)
{
    const char *provider_id = a->pos[1];
    gw_catalog_t cat = {0};
    gw_provider_t *p;
    gw_store_t *st = NULL;
    gw_err_t err = {0};
    char *secret = NULL;  /* our copy, wiped at the end */
    char *account = NULL; /* split off a "ACCOUNT_ID:TOKEN" secret */
    const char *token;
    char *masked = NULL;
    int64_t id = 0;
    int rc;

    if (strcmp(a->pos[2], "-") == 0) {
        rc = read_secret_line(io->in, &secret, io);
    } else {
        secret = gw_xstrdup(a->pos[2]);
        rc = GW_CLI_OK;
    }
    if (rc != GW_CLI_OK)
        goto out;
    rc = gw__cli_catalog_load(&cat, io);
    if (rc != GW_CLI_OK)
        goto out;
    rc = GW_CLI_FAIL;
    p = gw_catalog_provider(&cat, provider_id);
    if (p == NULL) {
        unknown_provider(&cat, provider_id, io);
        goto out;
    }
    token = secret;
    if (p->needs_account_id && account_id == NULL) {
        char *colon = strchr(secret, ':');

        if (colon == NULL || colon == secret || colon[1] == '\0') {
            gw__cli_fail(io,
                         "%s needs an account id: use --account-id ID, or give the secret as "
                         "ACCOUNT_ID:TOKEN",
                         p->id);
            goto out;
        }
        account = gw_xstrndup(secret, (size_t)(colon - secret));
        account_id = account;
        token = colon + 1;
    } else if (!p->needs_account_id && account_id != NULL) {
        gw__cli_fail(io, "%s takes no account id (only cloudflare does)", p->id);
        goto out;
    }
    rc = gw__cli_store_open(&st, data_dir, io);
    if (rc != GW_CLI_OK)
        goto out;
    rc = GW_CLI_FAIL;
    if (gw_store_key_add(st, p->id, token, label, account_id, &id, &err) != 0) {
        gw__cli_fail(io, "%s", err.msg);
        goto out;
    }
    masked = gw_mask_secret(token);
    fprintf(io->out, "added key %" PRId64 " for %s: %s\n", id, p->id, masked);
    if (p->keyless)
        fprintf(io->err, "note: %s also works without a key; this one is used first\n", p->id);
    rc = GW_CLI_OK;
out:
    if (secret != NULL) {
        OPENSSL_cleanse(secret, strlen(secret));
        free(secret);
    }
    free(account);
    free(masked);
    gw_store_close(st);
    gw_catalog_dispose(&cat);
    return rc;
}

/* ---- list --------------------------------------------------------------- */

typedef struct health_ent {
    int64_t key_id;
    char *health;
} health_ent_t;

typedef struct health_list {
    health_ent_t *v;
    size_t n;
    size_t cap;
} health_list_t;

static void on_health(void *ctx, int64_t key_id, const char *health, const char *detail,
                      int64_t at_ms)
{
    health_list_t *l = ctx;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = gw_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n].key_id = key_id;
    l->v[l->n].health = gw_xstrdup(health);
    l->n++;
}

static const char *health_of(const health_list_t *l, int64_t key_id)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (l->v[i].key_id == key_id)
            return l->v[i].health;
    }
    return "-";
}

#define NCOLS 6

static int keys_list(const char *data_dir, const gw__cli_io_t *io)
{
    static const char *const head[NCOLS] = {"ID",     "PROVIDER", "LABEL",
                                            "SECRET", "HEALTH",   "CREATED"};
    gw_store_t *st = NULL;
    gw_key_rec_t *recs = NULL;
    char **masked = NULL;
    health_list_t health = {0};
    size_t w[NCOLS];
    size_t n = 0;
    size_t i;
    size_t c;
    gw_err_t err = {0};
    int rc;

    rc = gw__cli_store_open(&st, data_dir, io);
    if (rc != GW_CLI_OK)
        goto out;
    rc = GW_CLI_FAIL;
    if (gw_store_keys_load(st, &recs, &n, &err) != 0 ||
        gw_store_key_health_load(st, on_health, &health, &err) != 0) {
        gw__cli_fail(io, "%s", err.msg);
        goto out;
    }
    rc = GW_CLI_OK;
    if (n == 0) {
        fprintf(io->out, "no keys yet; add one with: freellmapi keys add PROVIDER SECRET\n");
        goto out;
    }
    masked = gw_xcalloc(n, sizeof(*masked));
    for (c = 0; c < NCOLS; c++)
        w[c] = strlen(head[c]);
    /* Two passes over the same cells: measure, then print. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            gw__cli_table_row(io->out, head, w, NCOLS);
        for (i = 0; i < n; i++) {
            char id[24];
            char created[32];
            const char *cells[NCOLS];

            if (masked[i] == NULL)
                masked[i] = gw_mask_secret(recs[i].secret);
            snprintf(id, sizeof(id), "%" PRId64, recs[i].id);
            gw__cli_format_time(created, sizeof(created), recs[i].created_ms);
            cells[0] = id;
            cells[1] = recs[i].provider;
            cells[2] = recs[i].label[0] != '\0' ? recs[i].label : "-";
            cells[3] = masked[i];
            cells[4] = health_of(&health, recs[i].id);
            cells[5] = created;
            if (pass == 1) {
                gw__cli_table_row(io->out, cells, w, NCOLS);
                continue;
            }
            for (c = 0; c < NCOLS; c++)
                w[c] = GW_MAX(w[c], gw__cli_text_width(cells[c]));
        }
    }
out:
    for (i = 0; masked != NULL && i < n; i++)
        free(masked[i]);
    free(masked);
    for (i = 0; i < health.n; i++)
        free(health.v[i].health);
    free(health.v);
    gw_key_recs_free(recs, n);
    gw_store_close(st);
    return rc;
}

/* ---- rm ----------------------------------------------------------------- */

static int keys_rm(const char *arg, const char *data_dir, const gw__cli_io_t *io)
{
    gw_store_t *st = NULL;
    gw_err_t err = {0};
    char *end = NULL;
    long long id;
    int rc = GW_CLI_FAIL;

    errno = 0;
    id = strtoll(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || id <= 0) {
        gw__cli_fail(io, "'%s' is not a key id (see: freellmapi keys list)", arg);
        goto out;
    }
    rc = gw__cli_store_open(&st, data_dir, io);
    if (rc != GW_CLI_OK)
        goto out;
    rc = GW_CLI_FAIL;
    if (gw_store_key_rm(st, (int64_t)id, &err) != 0) {
        if (err.code == GW_ENOTFOUND)
            gw__cli_fail(io, "no key with id %lld (see: freellmapi keys list)", id);
        else
            gw__cli_fail(io, "%s", err.msg);
        goto out;
    }
    fprintf(io->out, "removed key %lld\n", id);
    rc = GW_CLI_OK;
out:
    gw_store_close(st);
    return rc;
}

/* ---- dispatch ----------------------------------------------------------- */

int gw__cli_keys(int argc, char **argv, const char *data_dir, const gw__cli_io_t *io)
{
    const char *label = NULL;
    const char *account_id = NULL;
    const gw__cli_opt_t opts[] = {
        {"label", &label, NULL},
        {"account-id", &account_id, NULL},
    };
    gw__cli_args_t a;
    const char *cmd;
    const char *dir;
    gw_buf_t usage;
    int rc;

    gw_buf_init(&usage, 1 << 16);
    keys_usage(&usage);
    rc = gw__cli_parse(argc, argv, opts, GW_ARRAY_LEN(opts), &a, io, usage.ptr);
    if (rc != GW_CLI_OK) {
        gw_buf_dispose(&usage);
        return rc;
    }
    dir = gw__cli_data_dir(&a, data_dir);
    cmd = a.npos > 0 ? a.pos[0] : "";
    if (a.help) {
        fputs(usage.ptr, io->out);
        rc = GW_CLI_OK;
    } else if (strcmp(cmd, "add") == 0 && a.npos == 3) {
        rc = keys_add(&a, label, account_id, dir, io);
    } else if ((strcmp(cmd, "list") == 0 || strcmp(cmd, "ls") == 0) && a.npos == 1 &&
               label == NULL && account_id == NULL) {
        rc = keys_list(dir, io);
    } else if ((strcmp(cmd, "rm") == 0 || strcmp(cmd, "remove") == 0) && a.npos == 2 &&
               label == NULL && account_id == NULL) {
        rc = keys_rm(a.pos[1], dir, io);
    } else {
        if (cmd[0] == '\0')
            fprintf(io->err, "freellmapi: keys needs a subcommand\n");
        else if (strcmp(cmd, "add") != 0 && strcmp(cmd, "list") != 0 && strcmp(cmd, "ls") != 0 &&
                 strcmp(cmd, "rm") != 0 && strcmp(cmd, "remove") != 0)
            fprintf(io->err, "freellmapi: unknown keys subcommand '%s'\n", cmd);
        else
            fprintf(io->err, "freellmapi: wrong arguments for keys %s\n", cmd);
        rc = gw__cli_usage(io, usage.ptr);
    }
    gw__cli_args_dispose(&a);
    gw_buf_dispose(&usage);
    return rc;
}

int gw_cli_keys(int argc, char **argv, const char *data_dir)
{
    const gw__cli_io_t io = {stdout, stderr, stdin};
    return gw__cli_keys(argc, argv, data_dir, &io);
}
