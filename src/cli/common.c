/*
 * Helpers shared by the CLI commands: a small option parser (GNU-style long
 * options anywhere among the positionals), the data dir rule, opening the
 * store and the catalog, and resolving a model id the way users type it.
 */
#include "cli/cli_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"

#define DEFAULT_DATA_DIR "./data"

int gw__cli_fail(const gw__cli_io_t *io, const char *fmt, ...)
{
    va_list ap;

    fputs("freellmapi: ", io->err);
    va_start(ap, fmt);
    vfprintf(io->err, fmt, ap);
    va_end(ap);
    fputc('\n', io->err);
    return GW_CLI_FAIL;
}

int gw__cli_usage(const gw__cli_io_t *io, const char *usage)
{
    fputs(usage, io->err);
    return GW_CLI_USAGE;
}

/* The option named by arg ("--name" or "--name=value"), or NULL. */
static const gw__cli_opt_t *find_opt(const gw__cli_opt_t *opts, size_t nopts, const char *arg,
                                     size_t len)
{
    size_t i;

    for (i = 0; i < nopts; i++) {
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, arg, len) == 0)
            return &opts[i];
    }
    return NULL;
}

int gw__cli_parse(int argc, char **argv, const gw__cli_opt_t *opts, size_t nopts,
                  gw__cli_args_t *a, const gw__cli_io_t *io, const char *usage)
{
    const gw__cli_opt_t data_dir_opt = {"data-dir", &a->data_dir, NULL};
    bool only_pos = false;
    int rc = GW_CLI_USAGE;
    int i;

    memset(a, 0, sizeof(*a));
    a->pos = gw_xcalloc((size_t)(argc > 0 ? argc : 1), sizeof(*a->pos));
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const gw__cli_opt_t *opt;
        const char *eq;
        size_t len;

        if (only_pos || arg[0] != '-' || arg[1] == '\0') {
            a->pos[a->npos++] = argv[i];
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            a->help = true;
            continue;
        }
        if (arg[1] != '-') {
            fprintf(io->err, "freellmapi: unknown option %s\n", arg);
            goto out;
        }
        arg += 2;
        eq = strchr(arg, '=');
        len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        opt = find_opt(opts, nopts, arg, len);
        if (opt == NULL && len == strlen(data_dir_opt.name) &&
            memcmp(arg, data_dir_opt.name, len) == 0)
            opt = &data_dir_opt;
        if (opt == NULL) {
            fprintf(io->err, "freellmapi: unknown option --%.*s\n", (int)len, arg);
            goto out;
        }
        if (opt->flag != NULL) {
            if (eq != NULL) {
                fprintf(io->err, "freellmapi: --%s takes no value\n", opt->name);
                goto out;
            }
            *opt->flag = true;
            continue;
        }
        if (eq != NULL) {
            *opt->value = eq + 1;
        } else if (i + 1 < argc) {
            *opt->value = argv[++i];
        } else {
            fprintf(io->err, "freellmapi: --%s needs a value\n", opt->name);
            goto out;
        }
        /* An empty data dir would silently mean ./data: refuse it. */
        if (opt == &data_dir_opt && a->data_dir[0] == '\0') {
            fprintf(io->err, "freellmapi: --%s needs a value\n", opt->name);
            goto out;
        }
    }
    rc = GW_CLI_OK;
out:
    if (rc != GW_CLI_OK) {
        gw__cli_usage(io, usage);
        gw__cli_args_dispose(a);
    }
    return rc;
}

void gw__cli_args_dispose(gw__cli_args_t *a)
{
    free(a->pos);
    a->pos = NULL;
    a->npos = 0;
}

const char *gw__cli_data_dir(const gw__cli_args_t *a, const char *data_dir)
{
    const char *env;

    if (a->data_dir != NULL && a->data_dir[0] != '\0')
        return a->data_dir;
    if (data_dir != NULL && data_dir[0] != '\0')
        return data_dir;
    env = getenv("FREELLMAPI_DATA_DIR");
    if (env != NULL && env[0] != '\0')
        return env;
    return DEFAULT_DATA_DIR;
}

int gw__cli_store_open(gw_store_t **st, const char *data_dir, const gw__cli_io_t *io)
{
    gw_err_t err = {0};

    if (gw_store_open(st, data_dir, &err) != 0)
        return gw__cli_fail(io, "%s", err.msg);
    return GW_CLI_OK;
}

int gw__cli_catalog_load(gw_catalog_t *cat, const gw__cli_io_t *io)
{
    gw_err_t err = {0};

    memset(cat, 0, sizeof(*cat));
    if (gw_catalog_load(cat, gw_catalog_default_path(), &err) != 0)
        return gw__cli_fail(io, "%s", err.msg);
    return GW_CLI_OK;
}

/* Adds m to the candidate list unless already there. */
static void add_candidate(gw_model_t **c, size_t *n, size_t max, gw_model_t *m)
{
    size_t i;

    for (i = 0; i < *n; i++) {
        if (c[i] == m)
            return;
    }
    if (*n < max)
        c[(*n)++] = m;
}

int gw__cli_resolve_model(const gw_catalog_t *cat, const char *id, gw_model_t **out,
                          const gw__cli_io_t *io)
{
    gw_model_t *cand[16];
    const char *slash = strchr(id, '/');
    size_t n = 0;
    size_t i;
    gw_buf_t names;
    int rc = GW_CLI_FAIL;

    *out = NULL;
    gw_buf_init(&names, 1024);
    /* A bare model id, which may itself contain slashes ("openai/gpt-oss-120b"). */
    for (i = 0; i < cat->nmodels; i++) {
        if (strcmp(cat->models[i].id, id) == 0)
            add_candidate(cand, &n, GW_ARRAY_LEN(cand), &cat->models[i]);
    }
    /* "provider/model-id". */
    if (slash != NULL && slash != id) {
        char *provider = gw_xstrndup(id, (size_t)(slash - id));
        gw_model_t *m = gw_catalog_model(cat, provider, slash + 1);

        if (m != NULL)
            add_candidate(cand, &n, GW_ARRAY_LEN(cand), m);
        free(provider);
    }
    if (n == 0) {
        gw__cli_fail(io, "unknown model '%s' (see: freellmapi models list)", id);
        goto out;
    }
    if (n > 1) {
        for (i = 0; i < n; i++)
            gw_buf_printf(&names, "%s%s/%s", i ? ", " : "", cand[i]->provider->id, cand[i]->id);
        gw__cli_fail(io, "'%s' is ambiguous: it matches %s; write it as PROVIDER/MODEL", id,
                     names.ptr);
        goto out;
    }
    *out = cand[0];
    rc = GW_CLI_OK;
out:
    gw_buf_dispose(&names);
    return rc;
}

void gw__cli_format_time(char *buf, size_t size, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (ms <= 0 || gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(buf, size, "-");
}

size_t gw__cli_text_width(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++) {
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    }
    return n;
}

void gw__cli_table_row(FILE *out, const char *const *cells, const size_t *w, size_t ncols)
{
    size_t i;
    size_t n;

    for (i = 0; i < ncols; i++) {
        fputs(cells[i], out);
        if (i + 1 == ncols)
            break;
        for (n = gw__cli_text_width(cells[i]); n < w[i] + 2; n++)
            fputc(' ', out);
    }
    fputc('\n', out);
}

/* ---- model preferences -------------------------------------------------- */

static void on_pref(void *ctx, const char *provider, const char *model, bool enabled)
{
    gw__cli_prefs_t *p = ctx;

    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->v = gw_xrealloc(p->v, p->cap * sizeof(*p->v));
    }
    p->v[p->n].provider = gw_xstrdup(provider);
    p->v[p->n].model = gw_xstrdup(model);
    p->v[p->n].enabled = enabled;
    p->n++;
}

int gw__cli_prefs_load(gw_store_t *st, gw__cli_prefs_t *prefs, const gw__cli_io_t *io)
{
    gw_err_t err = {0};

    memset(prefs, 0, sizeof(*prefs));
    if (gw_store_model_prefs_load(st, on_pref, prefs, &err) != 0)
        return gw__cli_fail(io, "%s", err.msg);
    return GW_CLI_OK;
}

void gw__cli_prefs_dispose(gw__cli_prefs_t *prefs)
{
    size_t i;

    for (i = 0; i < prefs->n; i++) {
        free(prefs->v[i].provider);
        free(prefs->v[i].model);
    }
    free(prefs->v);
    memset(prefs, 0, sizeof(*prefs));
}

bool gw__cli_model_enabled(const gw__cli_prefs_t *prefs, const gw_model_t *m,
                           const char **source)
{
    size_t i;

    if (!m->provider->enabled) {
        *source = "provider";
        return false;
    }
    for (i = 0; i < prefs->n; i++) {
        if (strcmp(prefs->v[i].provider, m->provider->id) == 0 &&
            strcmp(prefs->v[i].model, m->id) == 0) {
            *source = "user";
            return prefs->v[i].enabled;
        }
    }
    *source = "default";
    return m->enabled;
}
