/* The public-address guard for user-supplied URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "upstream/netguard.h"

static bool allows(const char *ip, const char *allow)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
        ss.ss_family = AF_INET;
    else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
        ss.ss_family = AF_INET6;
    else
        fail_msg("bad test address %s", ip);
    return gw_netguard_allows((struct sockaddr *)&ss, allow);
}

static void test_public_allowed(void **state)
{
    static const char *const ok[] = {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1",
                                     "2606:4700:4700::1111", "2001:4860:4860::8888"};
    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(ok); i++)
        assert_true(allows(ok[i], NULL));
}

static void test_private_refused(void **state)
{
    static const char *const bad[] = {
        "127.0.0.1",      "127.255.0.9",     "10.0.0.1",        "172.16.5.4",
        "172.31.255.255", "192.168.1.1",     "169.254.169.254", "100.64.0.1",
        "0.0.0.0",        "224.0.0.1",       "255.255.255.255", "198.18.0.1",
        "::1",            "::",              "fe80::1",         "fd00::1",
        "fc00::5",        "ff02::1",         "::ffff:127.0.0.1", "::ffff:10.1.2.3",
        "64:ff9b::a9fe:a9fe", /* NAT64 of 169.254.169.254 */
        /* IPv4 embedded in IPv6, even around public IPv4 addresses */
        "::7f00:1",           /* IPv4-compatible 127.0.0.1 */
        "::808:808",          /* IPv4-compatible 8.8.8.8 */
        "::ffff:8.8.8.8",     /* IPv4-mapped */
        "64:ff9b::808:808",   /* NAT64 */
        "2002:7f00:1::1",     /* 6to4 of 127.0.0.1 */
        "2002:a9fe:a9fe::",   /* 6to4 of 169.254.169.254 */
        "2001:0:4136:e378:8000:63bf:3fff:fdd2", /* Teredo */
    };
    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++) {
        if (allows(bad[i], NULL))
            fail_msg("%s must be refused", bad[i]);
    }
}

static void test_allow_list(void **state)
{
    (void)state;
    assert_true(allows("127.0.0.1", "127.0.0.1/32"));
    assert_true(allows("10.1.2.3", " 192.168.0.0/16, 10.0.0.0/8"));
    assert_false(allows("10.1.2.3", "10.0.0.0/16"));
    assert_false(allows("127.0.0.2", "127.0.0.1/32"));
    assert_false(allows("127.0.0.1", "garbage,/33,127.0.0.1/99"));
    assert_true(allows("::1", "::1/128"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_allowed),
        cmocka_unit_test(test_private_refused),
        cmocka_unit_test(test_allow_list),
    };
    return cmocka_run_group_tests_name("upstream/netguard", tests, NULL, NULL);
}
