/*
 * AES-256-GCM sealing and encryption-key loading (see vault.h). Every
 * plaintext and key buffer that passes through here is wiped with
 * OPENSSL_cleanse before it is freed or goes out of scope.
 */
#include "store/vault.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <time.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/log.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int gw_vault_key_from_hex(gw_vault_t *v, const char *hex, size_t len, const char *what,
                          gw_err_t *err)
{
    unsigned char key[GW_VAULT_KEY_LEN];
    int rc = GW_EINVAL;
    size_t i;

    if (len != GW_VAULT_KEY_HEX_LEN)
        goto out;
    for (i = 0; i < GW_VAULT_KEY_LEN; i++) {
        int hi = hex_value(hex[2 * i]);
        int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            goto out;
        key[i] = (unsigned char)(hi << 4 | lo);
    }
    memcpy(v->key, key, sizeof(key));
    v->loaded = true;
    rc = 0;
out:
    if (rc != 0)
        gw_err_set(err, rc, 500, "%s must be exactly 64 hex characters (a 32-byte key)", what);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

void gw_vault_wipe(gw_vault_t *v)
{
    OPENSSL_cleanse(v->key, sizeof(v->key));
    v->loaded = false;
}

int gw_vault_random_hex(char *hex, size_t n, gw_err_t *err)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char raw[64];
    size_t i;

    gw_assert(n <= sizeof(raw));
    if (RAND_bytes(raw, (int)n) != 1) {
        gw_err_set(err, GW_ECRYPTO, 500, "vault: the system random generator failed");
        return GW_ECRYPTO;
    }
    for (i = 0; i < n; i++) {
        hex[2 * i] = digits[raw[i] >> 4];
        hex[2 * i + 1] = digits[raw[i] & 0x0f];
    }
    hex[2 * n] = '\0';
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

void gw_vault_key_context(char *buf, size_t size, int64_t id, const char *provider)
{
    snprintf(buf, size, "key|%" PRId64 "|%s", id, provider);
}

/* ---- key file ------------------------------------------------------------ */

/* Reads and parses an existing key file; GW_ENOTFOUND when it does not exist. */
static int key_file_read(gw_vault_t *v, const char *path, gw_err_t *err)
{
    char text[GW_VAULT_KEY_HEX_LEN + 64];
    struct stat sb;
    ssize_t got;
    size_t len = 0;
    int fd;
    int rc = GW_EIO;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) {
            rc = GW_ENOTFOUND;
            gw_err_set(err, rc, 500, "%s does not exist", path);
        } else {
            gw_err_set(err, rc, 500, "cannot open %s: %s", path, strerror(errno));
        }
        return rc;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        gw_err_set(err, rc, 500, "%s is not a regular file", path);
        goto out;
    }
    if ((sb.st_mode & 077) != 0)
        gw_log_warn("%s is readable by group or others (mode %03o); run: chmod 600 %s", path,
                    (unsigned)(sb.st_mode & 0777), path);
    /* A short loop: the file is 65 bytes, anything much longer is malformed. */
    while (len < sizeof(text)) {
        got = read(fd, text + len, sizeof(text) - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            gw_err_set(err, rc, 500, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        len--;
    if (len != GW_VAULT_KEY_HEX_LEN) {
        rc = GW_EINVAL;
        gw_err_set(err, rc, 500, "%s must hold exactly 64 hex characters", path);
        goto out;
    }
    rc = gw_vault_key_from_hex(v, text, len, path, err);
out:
    OPENSSL_cleanse(text, sizeof(text));
    close(fd);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Makes a new or removed name in the key file's directory durable: without
 * it a power loss can keep the sealed database and lose its key. */
static int sync_dir_of(const char *path)
{
    char *copy = gw_xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;

    if (fd >= 0)
        close(fd);
    free(copy);
    return rc;
}

/* A temp key file is a leftover when its writer is gone, or when it is older
 * than any key creation takes (the pid may have been reused). */
static bool key_tmp_stale(const char *name, const char *prefix, const struct stat *sb)
{
    const char *digits = name + strlen(prefix);
    char *end;
    long pid;

    errno = 0;
    pid = strtol(digits, &end, 10);
    if (digits[0] == '\0' || *end != '\0' || errno != 0 || pid <= 0)
        return false; /* not one of ours */
    if (pid == (long)getpid() || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
        return true;
    return time(NULL) - sb->st_mtime > 60;
}

/* Removes "<key file>.tmp.<pid>" files left by a process killed while it
 * created the key: they hold key material. Overwritten before unlinking. */
static void key_tmp_sweep(const char *path)
{
    char *dcopy = gw_xstrdup(path);
    char *bcopy = gw_xstrdup(path);
    const char *dir = dirname(dcopy);
    char prefix[512];
    DIR *d;
    struct dirent *e;
    size_t removed = 0;

    snprintf(prefix, sizeof(prefix), "%s.tmp.", basename(bcopy));
    d = opendir(dir);
    while (d != NULL && (e = readdir(d)) != NULL) {
        struct stat sb;
        int fd;
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        fd = openat(dirfd(d), e->d_name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
            !key_tmp_stale(e->d_name, prefix, &sb)) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        {
            static const char zeros[GW_VAULT_KEY_HEX_LEN + 1];
            if (write_all(fd, zeros, sizeof(zeros)) == 0)
                (void)fsync(fd);
            close(fd);
        }
        if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
            gw_log_warn("removed %s/%s, a key file left by a run that was killed while "
                        "creating it", dir, e->d_name);
            removed++;
        }
    }
    if (d != NULL)
        closedir(d);
    if (removed > 0)
        (void)sync_dir_of(path);
    free(dcopy);
    free(bcopy);
}

/* Writes a fresh key to a private temp file, then publishes it with link(2),
 * which fails if the name exists: two processes racing to create the key
 * file never see a half-written one, and exactly one key wins. Returns
 * GW_DECLINED when another process won the race (the caller reads its key). */
static int key_file_create(const char *path, gw_err_t *err)
{
    char tmp[4096];
    char hex[GW_VAULT_KEY_HEX_LEN + 2];
    int fd = -1;
    int rc = GW_EIO;
    int n;

    n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        gw_err_set(err, rc, 500, "key file path too long");
        return rc;
    }
    rc = gw_vault_random_hex(hex, GW_VAULT_KEY_LEN, err);
    if (rc != 0)
        goto out;
    rc = GW_EIO;
    hex[GW_VAULT_KEY_HEX_LEN] = '\n';
    hex[GW_VAULT_KEY_HEX_LEN + 1] = '\0';
    unlink(tmp); /* a leftover from a crashed run of this same pid */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        gw_err_set(err, rc, 500, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (write_all(fd, hex, GW_VAULT_KEY_HEX_LEN + 1) != 0 || fsync(fd) != 0) {
        gw_err_set(err, rc, 500, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (link(tmp, path) != 0) {
        if (errno == EEXIST) {
            rc = GW_DECLINED;
            goto out;
        }
        gw_err_set(err, rc, 500, "cannot create %s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
        /* The key's name and the temp's removal reach the disk before any
         * secret is sealed with the key. */
        if (sync_dir_of(path) != 0 && rc == 0)
            gw_log_warn("cannot sync the directory of %s (%s): back the key up now", path,
                        strerror(errno));
    }
    OPENSSL_cleanse(hex, sizeof(hex));
    return rc;
}

int gw_vault_key_file_load(gw_vault_t *v, const char *path, bool may_create, bool *created,
                           gw_err_t *err)
{
    bool made = false;
    int rc;

    key_tmp_sweep(path);
    rc = key_file_read(v, path, err);
    if (rc == GW_ENOTFOUND && may_create) {
        rc = key_file_create(path, err);
        made = rc == 0;
        if (rc == 0 || rc == GW_DECLINED)
            rc = key_file_read(v, path, err);
        if (rc == 0 && made)
            gw_log_info("generated a new encryption key in %s (mode 0600): back it up", path);
    }
    if (created != NULL)
        *created = rc == 0 && made;
    return rc;
}

/* ---- sealing ------------------------------------------------------------- */

/* GCM's AAD: the version byte, then the context string. */
static int add_aad(EVP_CIPHER_CTX *ctx, bool enc, const char *context)
{
    unsigned char version = GW_VAULT_VERSION;
    int outl;

    if (enc) {
        if (EVP_EncryptUpdate(ctx, NULL, &outl, &version, 1) != 1)
            return -1;
        return EVP_EncryptUpdate(ctx, NULL, &outl, (const unsigned char *)context,
                                 (int)strlen(context)) == 1 ? 0 : -1;
    }
    if (EVP_DecryptUpdate(ctx, NULL, &outl, &version, 1) != 1)
        return -1;
    return EVP_DecryptUpdate(ctx, NULL, &outl, (const unsigned char *)context,
                             (int)strlen(context)) == 1 ? 0 : -1;
}

int gw_vault_seal(const gw_vault_t *v, const void *pt, size_t len, const char *context,
                  unsigned char **out, size_t *out_len, gw_err_t *err)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *blob = NULL;
    unsigned char *nonce;
    unsigned char *ct;
    int outl = 0;
    int fin = 0;
    int rc = GW_ECRYPTO;

    gw_assert(v->loaded);
    *out = NULL;
    *out_len = 0;
    if (len > GW_VAULT_MAX_PLAINTEXT) {
        rc = GW_ETOOBIG;
        gw_err_set(err, rc, 500, "vault: secret too large");
        return rc;
    }
    blob = gw_xmalloc(len + GW_VAULT_OVERHEAD);
    blob[0] = GW_VAULT_VERSION;
    nonce = blob + 1;
    ct = nonce + GW_VAULT_NONCE_LEN;
    if (RAND_bytes(nonce, GW_VAULT_NONCE_LEN) != 1)
        goto out;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        goto out;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GW_VAULT_NONCE_LEN, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, v->key, nonce) != 1 || add_aad(ctx, true, context))
        goto out;
    if (len > 0 && EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)len) != 1)
        goto out;
    if (EVP_EncryptFinal_ex(ctx, ct + outl, &fin) != 1 || (size_t)(outl + fin) != len)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GW_VAULT_TAG_LEN, ct + len) != 1)
        goto out;
    *out = blob;
    *out_len = len + GW_VAULT_OVERHEAD;
    blob = NULL;
    rc = 0;
out:
    if (rc != 0)
        gw_err_set(err, rc, 500, "vault: encryption failed");
    EVP_CIPHER_CTX_free(ctx);
    free(blob);
    return rc;
}

int gw_vault_open(const gw_vault_t *v, const void *blob_in, size_t len, const char *context,
                  char **out, size_t *out_len, gw_err_t *err)
{
    const unsigned char *blob = blob_in;
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char tag[GW_VAULT_TAG_LEN];
    char *pt = NULL;
    size_t ct_len = 0;
    int outl = 0;
    int fin = 0;
    int rc = GW_ECRYPTO;

    gw_assert(v->loaded);
    *out = NULL;
    if (out_len != NULL)
        *out_len = 0;
    if (blob == NULL || len < GW_VAULT_OVERHEAD || blob[0] != GW_VAULT_VERSION ||
        len - GW_VAULT_OVERHEAD > GW_VAULT_MAX_PLAINTEXT)
        goto out;
    ct_len = len - GW_VAULT_OVERHEAD;
    memcpy(tag, blob + len - GW_VAULT_TAG_LEN, GW_VAULT_TAG_LEN);
    pt = gw_xmalloc(ct_len + 1);
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        goto out;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GW_VAULT_NONCE_LEN, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, v->key, blob + 1) != 1 ||
        add_aad(ctx, false, context))
        goto out;
    if (ct_len > 0 && EVP_DecryptUpdate(ctx, (unsigned char *)pt, &outl,
                                        blob + 1 + GW_VAULT_NONCE_LEN, (int)ct_len) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GW_VAULT_TAG_LEN, tag) != 1)
        goto out;
    /* Only a verified tag releases the plaintext; on failure it is wiped below. */
    if (EVP_DecryptFinal_ex(ctx, (unsigned char *)pt + outl, &fin) != 1 ||
        (size_t)(outl + fin) != ct_len)
        goto out;
    pt[ct_len] = '\0';
    *out = pt;
    if (out_len != NULL)
        *out_len = ct_len;
    pt = NULL;
    rc = 0;
out:
    if (rc != 0)
        gw_err_set(err, rc, 500,
                   "vault: cannot decrypt a stored secret (wrong encryption key or tampered data)");
    if (pt != NULL) {
        OPENSSL_cleanse(pt, ct_len + 1);
        free(pt);
    }
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

void gw_vault_free_plain(char *p)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, strlen(p));
    free(p);
}
