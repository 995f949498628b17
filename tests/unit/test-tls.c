/*
 * Unit tests for tls.c's option checks and tls-cert.c's words: the
 * --expire-warn lines at each threshold (days, hours, minutes, expired,
 * a chain certificate), and the JSON summary's escaping.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

#include "compat.h"
#include "tls.h"
#include "tls-cert.h"
#include "tap.h"

#define NOW	((time_t)1800000000)	/* 2027-01-15T08:00:00Z */
#define DAY	86400

static void
test_options(void)
{
	const char	*cause = NULL;

	is_int(tls_parse_version("1.2"), TLS1_2_VERSION, "1.2");
	is_int(tls_parse_version("1.3"), TLS1_3_VERSION, "1.3");
	is_int(tls_parse_version("1.1"), -1, "1.1 refused");
	is_int(tls_parse_version("1.3 "), -1, "trailing blank refused");
	is_int(tls_check_alpn("h2,http/1.1", &cause), 0, "two protocols");
	is_int(tls_check_alpn("", &cause), -1, "empty list");
	is_str(cause, "empty protocol list", "empty list cause");
	is_int(tls_check_alpn("h2,", &cause), -1, "trailing comma");
	is_str(cause, "empty protocol name", "trailing comma cause");
	is_int(tls_check_alpn(",h2", &cause), -1, "leading comma");
}

/* A chain of n certificates with these lifetimes left, in seconds. */
static void
make_chain(struct tls_summary *sum, const long long *left, size_t n)
{
	static const char	*cns[] = { "www.example.org", "Inter CA",
				    "Root CA" };
	size_t			 i;

	memset(sum, 0, sizeof *sum);
	sum->chain = calloc(n, sizeof *sum->chain);
	sum->nchain = n;
	for (i = 0; i < n; i++) {
		sum->chain[i].subject = strdup(cns[i]);
		sum->chain[i].issuer = strdup("O = \"q\", CN = x\ty");
		sum->chain[i].cn = strdup(cns[i]);
		sum->chain[i].pem = strdup("");
		sum->chain[i].not_before = NOW - 10 * DAY;
		sum->chain[i].not_after = NOW + (time_t)left[i];
	}
}

static void
test_expiry(void)
{
	struct tls_summary	 sum;
	char			 msg[256];
	long long		 l[3];

	l[0] = 5 * DAY - 1;
	make_chain(&sum, l, 1);
	is_int(tls_summary_expiry(&sum, 5, NOW, msg, sizeof msg), 1,
	    "4 days 23:59:59 left is within 5 days");
	is_str(msg, "certificate 'www.example.org' expires in 4 days "
	    "(2027-01-20T07:59:59Z)", "days truncated");
	is_int(tls_summary_expiry(&sum, 4, NOW, msg, sizeof msg), 0,
	    "not within 4 days");
	tls_summary_free(&sum);

	l[0] = 5 * DAY;
	make_chain(&sum, l, 1);
	is_int(tls_summary_expiry(&sum, 5, NOW, msg, sizeof msg), 0,
	    "exactly 5 days left is not within 5 (x509 -checkend)");
	tls_summary_free(&sum);

	l[0] = 5 * 3600 + 59;
	make_chain(&sum, l, 1);
	is_int(tls_summary_expiry(&sum, 1, NOW, msg, sizeof msg), 1, "hours");
	is_str(msg, "certificate 'www.example.org' expires in 5 hours "
	    "(2027-01-15T13:00:59Z)", "under a day in hours");
	tls_summary_free(&sum);

	l[0] = 1799;
	make_chain(&sum, l, 1);
	is_int(tls_summary_expiry(&sum, 1, NOW, msg, sizeof msg), 1,
	    "minutes");
	is_str(msg, "certificate 'www.example.org' expires in 29 minutes "
	    "(2027-01-15T08:29:59Z)", "under an hour in minutes");
	tls_summary_free(&sum);

	l[0] = -2 * DAY;
	make_chain(&sum, l, 1);
	is_int(tls_summary_expiry(&sum, 0, NOW, msg, sizeof msg), 1,
	    "expired warns even at 0 days");
	is_str(msg, "certificate 'www.example.org' expired on "
	    "2027-01-13T08:00:00Z", "expired");
	tls_summary_free(&sum);

	l[0] = 90 * DAY;
	l[1] = 3 * DAY + 7200;
	l[2] = 2 * DAY;
	make_chain(&sum, l, 3);
	is_int(tls_summary_expiry(&sum, 30, NOW, msg, sizeof msg), 1,
	    "a chain certificate");
	is_str(msg, "certificate 'Root CA' expires in 2 days "
	    "(2027-01-17T08:00:00Z), chain certificate 2",
	    "the soonest, named by its place");
	tls_summary_free(&sum);
}

static void
test_json(void)
{
	struct tls_summary	 sum;
	long long		 l[1] = { 10 * DAY + 5 };
	char			*j;

	make_chain(&sum, l, 1);
	strlcpy(sum.version, "TLSv1.3", sizeof sum.version);
	strlcpy(sum.verify, "ok", sizeof sum.verify);
	sum.verified = 1;
	j = tls_summary_json(&sum, NOW);
	ok(strstr(j, "\"issuer\":\"O = \\\"q\\\", CN = x\\u0009y\"") != NULL,
	    "quotes and control bytes escaped: %s", j);
	ok(strstr(j, "\"days_left\":10,") != NULL, "days_left a number");
	ok(strstr(j, "\"not_after\":\"2027-01-25T08:00:05Z\"") != NULL,
	    "not_after in ISO 8601 UTC");
	ok(strstr(j, "\"verified\":true,") != NULL, "verified a boolean");
	ok(strstr(j, "\"alpn\":null,") != NULL, "no ALPN is null");
	ok(strstr(j, "\"san\":[],") != NULL, "no SAN is an empty array");
	free(j);
	tls_summary_free(&sum);
}

int
main(void)
{
	test_options();
	test_expiry();
	test_json();
	return (tap_done());
}
