/*
 * Which network addresses the gateway may fetch user-supplied URLs from
 * (image URLs in chat requests): public unicast only. Loopback, private,
 * link-local (cloud metadata at 169.254.169.254), CGNAT, multicast,
 * reserved, and every IPv6 form that embeds an IPv4 address (compatible,
 * mapped, NAT64, 6to4, Teredo) are refused, unless an
 * operator allow-lists a range (FREELLMAPI_FETCH_ALLOW_CIDRS, e.g. an
 * internal image host). The check runs on the address actually connected
 * to, after DNS and for every redirect hop.
 */
#ifndef GW_UPSTREAM_NETGUARD_H
#define GW_UPSTREAM_NETGUARD_H

#include <sys/socket.h>

#include "core/gw.h"

/* True when addr is a public unicast address, or inside an allow-listed
 * range. allow is a comma-separated CIDR list (may be NULL). */
bool gw_netguard_allows(const struct sockaddr *addr, const char *allow);

#endif
