/*
 * Helpers shared by the unit tests (the Makefile adds -Itests/unit), header
 * only: a fresh temp data dir per test, paths inside it, removing it with
 * everything in it, and a quiet log. Use from cmocka setup/teardown:
 *
 *     if (gw_test_dir_make(f->dir, "store") != 0)
 *         return -1;
 *     ...
 *     gw_test_dir_remove(f->dir);
 */
#ifndef GW_TESTS_UNIT_TEST_UTIL_H
#define GW_TESTS_UNIT_TEST_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/log.h"

/* Room for "/tmp/gw-<tag>-XXXXXX" with a short tag. */
#define GW_TEST_DIR_MAX 64

/* Creates /tmp/gw-<tag>-XXXXXX (mode 0700) and writes its path into dir.
 * 0 on success, -1 when the tag is too long or mkdtemp fails. */
static inline int gw_test_dir_make(char dir[GW_TEST_DIR_MAX], const char *tag)
{
    int n = snprintf(dir, GW_TEST_DIR_MAX, "/tmp/gw-%s-XXXXXX", tag);

    if (n < 0 || n >= GW_TEST_DIR_MAX)
        return -1;
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static inline int gw_test_rm_one(const char *path, const struct stat *sb, int flag,
                                 struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* rm -rf dir (does not follow links). */
static inline void gw_test_dir_remove(const char *dir)
{
    nftw(dir, gw_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* "<dir>/<name>" into buf, which is returned. */
static inline const char *gw_test_path(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

/* Logs warnings and errors only, so the notes a fresh data dir brings
 * ("generated a new encryption key") do not bury the test output. Call it
 * first in main(). */
static inline void gw_test_log_quiet(void)
{
    setenv("LOG_LEVEL", "warn", 1);
    gw_log_init();
}

#endif
