/*
 * `freellmapi chain show|set|reset`: the user's ranked fallback chain. The
 * router tries these provider/model entries first, in order, then every other
 * enabled model in catalog priority order. set replaces the whole chain;
 * reset empties it.
 */
#include "cli/cli_int.h"

#include <stdlib.h>
#include <string.h>

static const char chain_usage[] =
    "usage: freellmapi chain show\n"
    "       freellmapi chain set PROVIDER/MODEL [PROVIDER/MODEL ...]\n"
    "       freellmapi chain reset\n"
    "\n"
    "  The chain ranks models tried first; other enabled models follow in\n"
    "  catalog priority order. A model id unique across providers may be given\n"
    "  without its provider. All commands take --data-dir DIR (default ./data).\n";

/* Prints the stored chain, marking entries the router will skip. */
static int chain_print(gw_store_t *st, const gw_catalog_t *cat, const gw__cli_io_t *io)
{
    gw__cli_prefs_t prefs = {0};
    gw_err_t err = {0};
    char **v = NULL;
    size_t n = 0;
    size_t i;
    int rc;

    rc = gw__cli_prefs_load(st, &prefs, io);
    if (rc != GW_CLI_OK)
        goto out;
    if (gw_store_chain_load(st, &v, &n, &err) != 0) {
        rc = gw__cli_fail(io, "%s", err.msg);
        goto out;
    }
    if (n == 0) {
        fprintf(io->out, "no custom chain: models are tried in catalog priority order\n");
        goto out;
    }
    for (i = 0; i < n; i++) {
        char *slash = strchr(v[i], '/');
        const gw_model_t *m = NULL;
        const char *note = "";
        const char *source;

        if (slash != NULL) {
            *slash = '\0';
            m = gw_catalog_model(cat, v[i], slash + 1);
            *slash = '/';
        }
        if (m == NULL)
            note = "  (not in the catalog: skipped)";
        else if (!gw__cli_model_enabled(&prefs, m, &source))
            note = "  (disabled: skipped)";
        fprintf(io->out, "%zu. %s%s\n", i + 1, v[i], note);
    }
    fprintf(io->out, "then every other enabled model, in catalog priority order\n");
out:
    gw_strv_free(v, n);
    gw__cli_prefs_dispose(&prefs);
    return rc;
}

static int chain_run(const gw__cli_args_t *a, const char *data_dir, const gw__cli_io_t *io)
{
    const char *cmd = a->pos[0];
    gw_catalog_t cat = {0};
    gw_store_t *st = NULL;
    gw_err_t err = {0};
    char **entries = NULL;
    size_t n = 0;
    size_t i;
    int rc;

    rc = gw__cli_catalog_load(&cat, io);
    if (rc != GW_CLI_OK)
        goto out;
    if (strcmp(cmd, "set") == 0) {
        /* Resolve everything before touching the database. */
        entries = gw_xcalloc(a->npos, sizeof(*entries));
        for (i = 1; i < a->npos; i++) {
            gw_model_t *m;
            size_t len;

            rc = gw__cli_resolve_model(&cat, a->pos[i], &m, io);
            if (rc != GW_CLI_OK)
                goto out;
            len = strlen(m->provider->id) + 1 + strlen(m->id) + 1;
            entries[n] = gw_xmalloc(len);
            snprintf(entries[n], len, "%s/%s", m->provider->id, m->id);
            n++;
        }
    }
    rc = gw__cli_store_open(&st, data_dir, io);
    if (rc != GW_CLI_OK)
        goto out;
    if (strcmp(cmd, "set") == 0 || strcmp(cmd, "reset") == 0) {
        if (gw_store_chain_set(st, entries, n, &err) != 0) {
            rc = gw__cli_fail(io, "%s", err.msg);
            goto out;
        }
    }
    rc = chain_print(st, &cat, io);
out:
    gw_strv_free(entries, n);
    gw_store_close(st);
    gw_catalog_dispose(&cat);
    return rc;
}

int gw__cli_chain(int argc, char **argv, const char *data_dir, const gw__cli_io_t *io)
{
    gw__cli_args_t a;
    const char *cmd;
    int rc;

    rc = gw__cli_parse(argc, argv, NULL, 0, &a, io, chain_usage);
    if (rc != GW_CLI_OK)
        return rc;
    cmd = a.npos > 0 ? a.pos[0] : "";
    if (a.help) {
        fputs(chain_usage, io->out);
    } else if ((strcmp(cmd, "show") == 0 && a.npos == 1) ||
               (strcmp(cmd, "set") == 0 && a.npos >= 2) ||
               (strcmp(cmd, "reset") == 0 && a.npos == 1)) {
        rc = chain_run(&a, gw__cli_data_dir(&a, data_dir), io);
    } else {
        if (cmd[0] == '\0')
            fprintf(io->err, "freellmapi: chain needs a subcommand\n");
        else
            fprintf(io->err, "freellmapi: wrong arguments for chain %s\n", cmd);
        rc = gw__cli_usage(io, chain_usage);
    }
    gw__cli_args_dispose(&a);
    return rc;
}

int gw_cli_chain(int argc, char **argv, const char *data_dir)
{
    const gw__cli_io_t io = {stdout, stderr, stdin};
    return gw__cli_chain(argc, argv, data_dir, &io);
}
