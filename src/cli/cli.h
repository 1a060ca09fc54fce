/*
 * Command-line subcommands that work on the data dir directly (with or
 * without a running server, which notices the changes through the
 * database's config_version counter): provider keys, the unified client key, model
 * enable/disable overrides and the fallback chain. main.c parses the global
 * --data-dir / FREELLMAPI_DATA_DIR and calls these with argv starting at the
 * word after the command ("keys add groq gsk_..." gives argv {"add", ...}).
 * --data-dir DIR is also accepted anywhere in argv and wins over data_dir;
 * a NULL data_dir means $FREELLMAPI_DATA_DIR, else ./data.
 *
 * Each returns a process exit code: 0 success, 1 failure (message on stderr),
 * 2 usage error (usage on stderr). --help prints usage on stdout, returns 0.
 * Output never contains a full secret: keys are shown masked.
 */
#ifndef GW_CLI_CLI_H
#define GW_CLI_CLI_H

enum { GW_CLI_OK = 0, GW_CLI_FAIL = 1, GW_CLI_USAGE = 2 };

/* keys add PROVIDER SECRET [--label L] [--account-id ID] | keys list | keys rm ID */
int gw_cli_keys(int argc, char **argv, const char *data_dir);
/* unified-key [--rotate]: prints the freellmapi-... bearer key */
int gw_cli_unified_key(int argc, char **argv, const char *data_dir);
/* models list [PROVIDER] | models enable ID | models disable ID */
int gw_cli_models(int argc, char **argv, const char *data_dir);
/* chain show | chain set PROVIDER/MODEL... | chain reset */
int gw_cli_chain(int argc, char **argv, const char *data_dir);
/* `freellmapi pin set|clear` (the dashboard PIN). */
int gw_cli_pin(int argc, char **argv, const char *data_dir);
/* `freellmapi test [--models ...] [--budget N]`: a sweep on the running gateway. */
int gw_cli_test(int argc, char **argv);

#endif
