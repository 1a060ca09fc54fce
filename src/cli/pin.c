/*
 * `freellmapi pin set|clear`: the dashboard PIN from the command line, for
 * setting it without a browser and for recovery when it is forgotten. The PIN
 * is read from the first line of stdin, never from the command line (which
 * other users can see). A running server picks the change up within a second
 * and ends every dashboard session.
 */
#include "cli/cli_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin/pin.h"

static const char pin_usage[] =
    "usage: freellmapi pin set [--data-dir DIR]   (reads the PIN from stdin)\n"
    "       freellmapi pin clear [--data-dir DIR]\n"
    "\n"
    "  The PIN protects the dashboard and /api (4 to 64 printable characters).\n"
    "  Without one, they answer only this machine. Clearing it is the recovery\n"
    "  for a forgotten PIN.\n";

static int read_pin(const gw__cli_io_t *io, char *pin, size_t n)
{
    size_t len;

    if (fgets(pin, (int)n, io->in) == NULL)
        return gw__cli_fail(io, "no PIN on stdin (try: read -s PIN; echo \"$PIN\" | freellmapi "
                                "pin set)");
    len = strlen(pin);
    while (len > 0 && (pin[len - 1] == '\n' || pin[len - 1] == '\r'))
        pin[--len] = '\0';
    if (!gw_pin_valid(pin))
        return gw__cli_fail(io, "a PIN is 4 to 64 printable characters");
    return GW_CLI_OK;
}

int gw__cli_pin(int argc, char **argv, const char *data_dir, const gw__cli_io_t *io)
{
    gw__cli_args_t a;
    gw_store_t *st = NULL;
    gw_err_t err = {0};
    char pin[128] = "";
    char hash[GW_PIN_HASH_MAX];
    const char *cmd;
    int rc;

    rc = gw__cli_parse(argc, argv, NULL, 0, &a, io, pin_usage);
    if (rc != GW_CLI_OK)
        return rc;
    cmd = a.npos == 1 ? a.pos[0] : "";
    if (a.help) {
        fputs(pin_usage, io->out);
        goto out;
    }
    if (strcmp(cmd, "set") != 0 && strcmp(cmd, "clear") != 0) {
        fprintf(io->err, "freellmapi: pin needs 'set' or 'clear'\n");
        rc = gw__cli_usage(io, pin_usage);
        goto out;
    }
    if (strcmp(cmd, "set") == 0) {
        rc = read_pin(io, pin, sizeof(pin));
        if (rc != GW_CLI_OK)
            goto out;
        if (gw_pin_hash(pin, hash, sizeof(hash)) != 0) {
            rc = gw__cli_fail(io, "the PIN could not be hashed");
            goto out;
        }
    }
    rc = gw__cli_store_open(&st, gw__cli_data_dir(&a, data_dir), io);
    if (rc != GW_CLI_OK)
        goto out;
    if (gw_store_setting_set(st, GW_PIN_SETTING, strcmp(cmd, "set") == 0 ? hash : "", &err) !=
        0) {
        rc = gw__cli_fail(io, "%s", err.msg);
        goto out;
    }
    fprintf(io->out, strcmp(cmd, "set") == 0 ? "PIN set: the dashboard asks for it from now on\n"
                                             : "PIN cleared: the dashboard answers only this "
                                               "machine\n");
out:
    OPENSSL_cleanse(pin, sizeof(pin));
    gw_store_close(st);
    gw__cli_args_dispose(&a);
    return rc;
}

int gw_cli_pin(int argc, char **argv, const char *data_dir)
{
    const gw__cli_io_t io = {stdout, stderr, stdin};
    return gw__cli_pin(argc, argv, data_dir, &io);
}
