/*
 * `freellmapi models list|enable|disable|pace`: the catalog's models with the
 * state the router will use (the user's override, else the catalog default),
 * and per-model overrides (on/off; pacing of the daily caps). A model is
 * named by its id when that is unique across providers, else as
 * provider/model-id.
 */
#include "cli/cli_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

static const char models_usage[] =
    "usage: freellmapi models list [PROVIDER]\n"
    "       freellmapi models enable ID\n"
    "       freellmapi models disable ID\n"
    "       freellmapi models pace ID RESERVE|off\n"
    "\n"
    "  ID is a model id as listed, or PROVIDER/MODEL-ID when several providers\n"
    "  serve the same id. pace keeps RESERVE (0.05-0.95, or 5%-95%) of the\n"
    "  model's daily caps back and releases it evenly over the provider's day;\n"
    "  off (or 0) spends the caps as they come. All commands take --data-dir DIR\n"
    "  (default ./data).\n";

#define NCOLS 4

static int models_list(const char *provider_id, const char *data_dir, const gw__cli_io_t *io)
{
    static const char *const head[NCOLS] = {"PROVIDER", "MODEL", "KIND", "STATE"};
    gw_catalog_t cat = {0};
    gw__cli_prefs_t prefs = {0};
    gw_store_t *st = NULL;
    size_t w[NCOLS];
    size_t i;
    size_t c;
    int rc;

    rc = gw__cli_catalog_load(&cat, io);
    if (rc != GW_CLI_OK)
        goto out;
    if (provider_id != NULL && gw_catalog_provider(&cat, provider_id) == NULL) {
        rc = gw__cli_fail(io, "unknown provider '%s'", provider_id);
        goto out;
    }
    rc = gw__cli_store_open(&st, data_dir, io);
    if (rc == GW_CLI_OK)
        rc = gw__cli_prefs_load(st, &prefs, io);
    if (rc != GW_CLI_OK)
        goto out;
    for (c = 0; c < NCOLS; c++)
        w[c] = strlen(head[c]);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            gw__cli_table_row(io->out, head, w, NCOLS);
        for (i = 0; i < cat.nmodels; i++) {
            const gw_model_t *m = &cat.models[i];
            const char *source;
            char state[48];
            const char *cells[NCOLS];
            bool on;

            if (provider_id != NULL && strcmp(m->provider->id, provider_id) != 0)
                continue;
            on = gw__cli_model_enabled(&prefs, m, &source);
            snprintf(state, sizeof(state), "%s%s%s%s", on ? "enabled" : "disabled",
                     strcmp(source, "default") != 0 ? " (" : "",
                     strcmp(source, "default") != 0 ? source : "",
                     strcmp(source, "default") != 0 ? ")" : "");
            cells[0] = m->provider->id;
            cells[1] = m->id;
            cells[2] = m->kind != NULL ? m->kind : "-";
            cells[3] = state;
            if (pass == 1) {
                gw__cli_table_row(io->out, cells, w, NCOLS);
                continue;
            }
            for (c = 0; c < NCOLS; c++)
                w[c] = GW_MAX(w[c], gw__cli_text_width(cells[c]));
        }
    }
out:
    gw__cli_prefs_dispose(&prefs);
    gw_store_close(st);
    gw_catalog_dispose(&cat);
    return rc;
}

/* The catalog, the model `id` names in it, and the store: what a change to one
 * model's preferences needs. */
static int open_model(gw_catalog_t *cat, const char *id, gw_model_t **m, gw_store_t **st,
                      const char *data_dir, const gw__cli_io_t *io)
{
    int rc = gw__cli_catalog_load(cat, io);

    if (rc == GW_CLI_OK)
        rc = gw__cli_resolve_model(cat, id, m, io);
    if (rc == GW_CLI_OK)
        rc = gw__cli_store_open(st, data_dir, io);
    return rc;
}

static int models_set(const char *id, bool enabled, const char *data_dir, const gw__cli_io_t *io)
{
    gw_catalog_t cat = {0};
    gw_store_t *st = NULL;
    gw_model_t *m = NULL;
    gw_err_t err = {0};
    int rc;

    rc = open_model(&cat, id, &m, &st, data_dir, io);
    if (rc != GW_CLI_OK)
        goto out;
    if (gw_store_model_enabled_set(st, m->provider->id, m->id, enabled, &err) != 0) {
        rc = gw__cli_fail(io, "%s", err.msg);
        goto out;
    }
    fprintf(io->out, "%s %s/%s\n", enabled ? "enabled" : "disabled", m->provider->id, m->id);
    if (enabled && !m->provider->enabled)
        fprintf(io->err, "note: provider %s is disabled in the catalog, so this model stays "
                         "unused\n",
                m->provider->id);
out:
    gw_store_close(st);
    gw_catalog_dispose(&cat);
    return rc;
}

/* "off", "0", "0.5" or "50%" as a reserve in [0, 0.95]; -1 when none of these. */
static double parse_reserve(const char *v)
{
    char *end;
    double r;

    if (strcmp(v, "off") == 0)
        return 0;
    r = strtod(v, &end);
    if (end == v)
        return -1;
    if (*end == '%') {
        r /= 100;
        end++;
    }
    if (*end != '\0' || !(r >= 0 && r <= 0.95))
        return -1;
    return r;
}

static int models_pace(const char *id, const char *value, const char *data_dir,
                       const gw__cli_io_t *io)
{
    gw_catalog_t cat = {0};
    gw_store_t *st = NULL;
    gw_model_t *m = NULL;
    gw_err_t err = {0};
    double reserve = parse_reserve(value);
    int rc;

    if (reserve < 0)
        return gw__cli_fail(io, "RESERVE must be off or a share from 0.05 to 0.95 (or 5%% to "
                                "95%%), not '%s'",
                            value);
    rc = open_model(&cat, id, &m, &st, data_dir, io);
    if (rc != GW_CLI_OK)
        goto out;
    if (gw_store_pacing_set(st, m->provider->id, m->id, reserve, gw_now_ms(), &err) != 0) {
        rc = gw__cli_fail(io, "%s", err.msg);
        goto out;
    }
    if (reserve > 0)
        fprintf(io->out, "paced %s/%s: %.0f%% of each daily cap released over the day\n",
                m->provider->id, m->id, reserve * 100);
    else
        fprintf(io->out, "pacing off for %s/%s\n", m->provider->id, m->id);
    if (reserve > 0 && m->limits.rpd <= 0 && m->limits.tpd <= 0)
        fprintf(io->err, "note: %s/%s has no daily cap in the catalog, so pacing holds nothing "
                         "back unless its provider states one\n",
                m->provider->id, m->id);
out:
    gw_store_close(st);
    gw_catalog_dispose(&cat);
    return rc;
}

int gw__cli_models(int argc, char **argv, const char *data_dir, const gw__cli_io_t *io)
{
    gw__cli_args_t a;
    const char *cmd;
    const char *dir;
    int rc;

    rc = gw__cli_parse(argc, argv, NULL, 0, &a, io, models_usage);
    if (rc != GW_CLI_OK)
        return rc;
    dir = gw__cli_data_dir(&a, data_dir);
    cmd = a.npos > 0 ? a.pos[0] : "";
    if (a.help) {
        fputs(models_usage, io->out);
    } else if ((strcmp(cmd, "list") == 0 || strcmp(cmd, "ls") == 0) && a.npos <= 2) {
        rc = models_list(a.npos == 2 ? a.pos[1] : NULL, dir, io);
    } else if (strcmp(cmd, "enable") == 0 && a.npos == 2) {
        rc = models_set(a.pos[1], true, dir, io);
    } else if (strcmp(cmd, "disable") == 0 && a.npos == 2) {
        rc = models_set(a.pos[1], false, dir, io);
    } else if (strcmp(cmd, "pace") == 0 && a.npos == 3) {
        rc = models_pace(a.pos[1], a.pos[2], dir, io);
    } else {
        if (cmd[0] == '\0')
            fprintf(io->err, "freellmapi: models needs a subcommand\n");
        else
            fprintf(io->err, "freellmapi: wrong arguments for models %s\n", cmd);
        rc = gw__cli_usage(io, models_usage);
    }
    gw__cli_args_dispose(&a);
    return rc;
}

int gw_cli_models(int argc, char **argv, const char *data_dir)
{
    const gw__cli_io_t io = {stdout, stderr, stdin};
    return gw__cli_models(argc, argv, data_dir, &io);
}
