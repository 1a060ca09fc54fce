/*
 * Process memory housekeeping.
 */
#ifndef GW_CORE_MEM_H
#define GW_CORE_MEM_H

#include <stddef.h>

/* Drops from this process's page tables the pages of read-only file mappings
 * (shared-library and program text and constants) that no private copy was
 * made of: start-up touches much of them once (OpenSSL's configuration and
 * providers, the TLS library libmicrohttpd initialises, SQLite's schema
 * parse). They stay in the page cache; what requests use is mapped again on
 * first touch. Returns the kilobytes dropped. Pages that were written (RELRO
 * after relocation) are never dropped, so this is safe while threads run. */
size_t gw_mem_drop_clean_file_pages(void);

#endif
