/*
 * Unit tests for serve-acl.c: --allow and --deny specs (addresses and
 * CIDR blocks, IPv4, IPv6 and IPv4-mapped) and ncat's rules for them.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "serve.h"
#include "tap.h"

/* An address as accept(2) gives it. */
static struct sockaddr_storage
addr(const char *s)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	return (ss);
}

/* Does an ACL of one rule (allow or deny) let s in? */
static int
one(const char *spec, int allow, const char *s)
{
	struct acl		acl;
	struct sockaddr_storage	ss = addr(s);
	const char		*cause;
	int			ok;

	memset(&acl, 0, sizeof acl);
	if (acl_add(&acl, spec, allow, &cause) != 0) {
		acl_free(&acl);
		return (-1);
	}
	ok = acl_permits(&acl, &ss);
	acl_free(&acl);
	return (ok);
}

static void
test_ipv4(void)
{
	is_int(one("10.0.0.1", 1, "10.0.0.1"), 1, "an address allows itself");
	is_int(one("10.0.0.1", 1, "10.0.0.2"), 0, "... and no other");
	is_int(one("10.0.0.0/24", 1, "10.0.0.255"), 1, "/24: last address");
	is_int(one("10.0.0.0/24", 1, "10.0.1.0"), 0, "/24: next block");
	is_int(one("10.0.16.0/20", 1, "10.0.31.7"), 1,
	    "/20: a prefix inside a byte, in");
	is_int(one("10.0.16.0/20", 1, "10.0.32.0"), 0,
	    "/20: a prefix inside a byte, out");
	is_int(one("10.0.0.0/20", 1, "10.0.15.255"), 1, "/20 from .0.0");
	is_int(one("0.0.0.0/0", 1, "192.0.2.1"), 1, "/0 matches everything");
	is_int(one("192.0.2.1/32", 1, "192.0.2.1"), 1, "/32 is the address");
	is_int(one("10.0.0.1", 0, "10.0.0.1"), 0, "a deny refuses");
	is_int(one("10.0.0.1", 0, "10.0.0.2"), 1,
	    "a deny alone lets the others in");
	is_int(one("10.0.0.0/8", 1, "::1"), 0,
	    "an IPv4 rule does not match IPv6");
}

static void
test_ipv6(void)
{
	is_int(one("2001:db8::/32", 1, "2001:db8:ffff::1"), 1, "IPv6 /32 in");
	is_int(one("2001:db8::/32", 1, "2001:db9::1"), 0, "IPv6 /32 out");
	is_int(one("::1", 1, "::1"), 1, "::1 allows itself");
	is_int(one("fe80::/10", 1, "febf::1"), 1, "/10 inside a byte, in");
	is_int(one("fe80::/10", 1, "fec0::1"), 0, "/10 inside a byte, out");
	is_int(one("::/0", 1, "10.0.0.1"), 0,
	    "an IPv6 rule does not match a plain IPv4 client");
}

static void
test_mapped(void)
{
	is_int(one("10.0.0.0/8", 1, "::ffff:10.1.2.3"), 1,
	    "an IPv4 rule matches an IPv4-mapped client");
	is_int(one("10.0.0.0/8", 1, "::ffff:11.1.2.3"), 0,
	    "... and not another mapped address");
	is_int(one("::ffff:10.0.0.0/104", 1, "10.9.9.9"), 1,
	    "a mapped rule is its IPv4 block (/104 is /8)");
	is_int(one("::ffff:10.0.0.0/104", 1, "::ffff:10.9.9.9"), 1,
	    "... for a mapped client too");
	is_int(one("::ffff:10.0.0.0/104", 1, "11.0.0.1"), 0,
	    "... and not outside it");
}

static void
test_rules(void)
{
	struct acl		 acl;
	struct sockaddr_storage	 a = addr("10.0.0.1"), b = addr("10.0.0.2"),
				 c = addr("192.0.2.1");
	const char		*cause;

	memset(&acl, 0, sizeof acl);
	ok(acl_add(&acl, "10.0.0.0/24", 1, &cause) == 0, "allow a block");
	ok(acl_add(&acl, "10.0.0.2", 0, &cause) == 0, "deny one address");
	is_int(acl_permits(&acl, &a), 1, "allowed by the block");
	is_int(acl_permits(&acl, &b), 0, "a deny wins over an allow");
	is_int(acl_permits(&acl, &c), 0, "with an allow, others are refused");
	is_int((int)acl.n, 2, "two rules kept");
	acl_free(&acl);
	is_int((int)acl.n, 0, "freed");

	memset(&acl, 0, sizeof acl);
	ok(acl_add(&acl, "10.0.0.2", 0, &cause) == 0, "deny first");
	ok(acl_add(&acl, "10.0.0.0/24", 1, &cause) == 0, "allow after");
	is_int(acl_permits(&acl, &b), 0, "the order does not matter");
	acl_free(&acl);

	memset(&acl, 0, sizeof acl);
	is_int(acl_permits(&acl, &a), 1, "no rule: everyone");
	acl_free(&acl);
}

static void
test_bad(void)
{
	static const struct {
		const char	*spec;
		const char	*cause;
	} bad[] = {
		{ "", "not an address or CIDR block" },
		{ "example.com", "not an address or CIDR block" },
		{ "10.0.0", "not an address or CIDR block" },
		{ "10.0.0.256", "not an address or CIDR block" },
		{ "10.0.0.0/33", "bad prefix length" },
		{ "10.0.0.0/-1", "bad prefix length" },
		{ "10.0.0.0/", "bad prefix length" },
		{ "10.0.0.0/8x", "bad prefix length" },
		{ "10.0.0.0/8/8", "bad prefix length" },
		{ "::/129", "bad prefix length" },
		{ "::ffff:10.0.0.0/95",
		    "an IPv4-mapped block needs a prefix of 96 or more" },
		{ "1111:2222:3333:4444:5555:6666:7777:8888/128/128",
		    "bad prefix length" },
		{ "1111:2222:3333:4444:5555:6666:7777:8888/000000000000128",
		    "not an address or CIDR block" },
	};
	struct acl	 acl;
	const char	*cause;
	size_t		 i;

	memset(&acl, 0, sizeof acl);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		is_int(acl_add(&acl, bad[i].spec, 1, &cause), -1,
		    "refused: '%s'", bad[i].spec);
		is_str(cause, bad[i].cause, "... because: %s", bad[i].cause);
	}
	is_int((int)acl.n, 0, "no rule kept from a refused spec");
	is_int(acl.has_allow, 0, "nor an allow");
	acl_free(&acl);
}

int
main(void)
{
	test_ipv4();
	test_ipv6();
	test_mapped();
	test_rules();
	test_bad();
	return (tap_done());
}
