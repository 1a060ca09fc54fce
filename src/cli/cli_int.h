/*
 * Shared by the files of src/cli: argument parsing, opening the store and
 * the catalog with readable errors, model id resolution, and the variants of
 * the public commands that write to given streams (so tests can capture the
 * output without touching the process's stdout).
 */
#ifndef GW_CLI_CLI_INT_H
#define GW_CLI_CLI_INT_H

#include <stdio.h>

#include "cli/cli.h"
#include "core/gw.h"
#include "providers/catalog.h"
#include "store/store.h"

typedef struct gw__cli_io {
    FILE *out; /* results */
    FILE *err; /* errors and notes */
    FILE *in;  /* a SECRET given as "-" is read from here */
} gw__cli_io_t;

int gw__cli_keys(int argc, char **argv, const char *data_dir, const gw__cli_io_t *io);
int gw__cli_unified_key(int argc, char **argv, const char *data_dir, const gw__cli_io_t *io);
int gw__cli_models(int argc, char **argv, const char *data_dir, const gw__cli_io_t *io);
int gw__cli_chain(int argc, char **argv, const char *data_dir, const gw__cli_io_t *io);
int gw__cli_test(int argc, char **argv, const gw__cli_io_t *io);

/* One --name option a command accepts: either a value (--name V or
 * --name=V) stored in *value, or a flag setting *flag. */
typedef struct gw__cli_opt {
    const char *name;
    const char **value;
    bool *flag;
} gw__cli_opt_t;

typedef struct gw__cli_args {
    char **pos;           /* positionals, borrowed from argv */
    size_t npos;
    const char *data_dir; /* --data-dir, or NULL */
    bool help;            /* -h / --help */
} gw__cli_args_t;

/* Splits argv into options and positionals ("--" ends options; "-" alone is
 * a positional). --data-dir and --help are always accepted. Returns
 * GW_CLI_OK, or GW_CLI_USAGE after printing what was wrong and the usage. */
int gw__cli_parse(int argc, char **argv, const gw__cli_opt_t *opts, size_t nopts,
                  gw__cli_args_t *a, const gw__cli_io_t *io, const char *usage);
void gw__cli_args_dispose(gw__cli_args_t *a);

/* --data-dir, else the caller's data_dir, else $FREELLMAPI_DATA_DIR, else ./data. */
const char *gw__cli_data_dir(const gw__cli_args_t *a, const char *data_dir);

/* Prints "freellmapi: <fmt>" and a newline on io->err; returns GW_CLI_FAIL. */
int gw__cli_fail(const gw__cli_io_t *io, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints the usage on io->err and returns GW_CLI_USAGE. */
int gw__cli_usage(const gw__cli_io_t *io, const char *usage);

/* Open the store / load the default catalog; on failure print why and
 * return GW_CLI_FAIL. */
int gw__cli_store_open(gw_store_t **st, const char *data_dir, const gw__cli_io_t *io);
int gw__cli_catalog_load(gw_catalog_t *cat, const gw__cli_io_t *io);

/* Finds the catalog model a user means by "model-id" (unique across
 * providers) or "provider/model-id". On failure prints why (unknown,
 * ambiguous: which providers) and returns GW_CLI_FAIL. */
int gw__cli_resolve_model(const gw_catalog_t *cat, const char *id, gw_model_t **out,
                          const gw__cli_io_t *io);

/* Width in characters of UTF-8 text (labels, the mask's ellipsis). */
size_t gw__cli_text_width(const char *s);
/* Prints one table row: each cell but the last padded to w[i] + 2 columns. */
void gw__cli_table_row(FILE *out, const char *const *cells, const size_t *w, size_t ncols);

/* The user's model enable/disable overrides, loaded once per command. */
typedef struct gw__cli_pref {
    char *provider;
    char *model;
    bool enabled;
} gw__cli_pref_t;

typedef struct gw__cli_prefs {
    gw__cli_pref_t *v;
    size_t n;
    size_t cap;
} gw__cli_prefs_t;

int gw__cli_prefs_load(gw_store_t *st, gw__cli_prefs_t *prefs, const gw__cli_io_t *io);
void gw__cli_prefs_dispose(gw__cli_prefs_t *prefs);
/* Whether the router may use m: the user's override, else the catalog
 * default, and never when its provider is disabled. *source says which
 * decided: "default", "user" or "provider". */
bool gw__cli_model_enabled(const gw__cli_prefs_t *prefs, const gw_model_t *m,
                           const char **source);

/* "2025-05-01 12:00 UTC" into buf. */
void gw__cli_format_time(char *buf, size_t size, int64_t ms);

int gw__cli_pin(int argc, char **argv, const char *data_dir, const gw__cli_io_t *io);

#endif
