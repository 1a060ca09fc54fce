/* Process memory housekeeping (see mem.h). */
#include "core/mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

size_t gw_mem_drop_clean_file_pages(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    unsigned long start = 0, end = 0;
    bool candidate = false;
    size_t rss_kb = 0;
    size_t dropped_kb = 0;

    if (f == NULL)
        return 0;
    /* Each mapping: a header line, then "Key: value kB" lines. A mapping is
     * dropped only if it is read-only, private, backed by a file, and holds no
     * anonymous (copied-on-write) pages: relocated RELRO pages are such copies
     * and must never be dropped. The decision is taken at the mapping's
     * "Anonymous:" line, before its later fields. */
    while (fgets(line, sizeof(line), f) != NULL) {
        char perms[8];
        char path[256];
        unsigned long kb;
        unsigned long s, e;

        path[0] = '\0';
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &s, &e, perms, path) >= 3) {
            start = s;
            end = e;
            candidate = strlen(perms) == 4 && perms[0] == 'r' && perms[1] == '-' &&
                        perms[3] == 'p' && path[0] == '/';
            rss_kb = 0;
            continue;
        }
        if (sscanf(line, "Rss: %lu kB", &kb) == 1) {
            rss_kb = kb;
        } else if (sscanf(line, "Anonymous: %lu kB", &kb) == 1) {
            if (candidate && kb == 0 && rss_kb > 0 && end > start &&
                madvise((void *)start, end - start, MADV_DONTNEED) == 0)
                dropped_kb += rss_kb;
            candidate = false;
        }
    }
    fclose(f);
    return dropped_kb;
}
