/* Unit tests for parse.c: ports, sizes, seconds, counts and escapes. */

#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "parse.h"
#include "tap.h"

static void
test_port(void)
{
	const char	*cause = NULL;
	char		 buf[128];

	is_int(parse_port("80", 0, &cause), 80, "port 80");
	is_int(parse_port("65535", 0, &cause), 65535, "port 65535");
	is_int(parse_port("0", 1, &cause), 0, "port 0 allowed for serve");
	is_int(parse_port("0", 0, &cause), -1, "port 0 refused for connect");
	is_str(cause, "port 0 is only valid for serve", "port 0 cause");
	is_int(parse_port("65536", 1, &cause), -1, "port 65536 refused");
	is_int(parse_port("-1", 1, &cause), -1, "negative port refused");
	is_int(parse_port("+80", 1, &cause), -1, "signed port refused");
	is_int(parse_port(" 80", 1, &cause), -1, "leading blank refused");
	is_int(parse_port("80x", 1, &cause), -1, "trailing junk refused");
	is_int(parse_port("", 1, &cause), -1, "empty port refused");
	is_int(parse_port("http", 1, &cause), 80, "service name http is 80");
	is_int(parse_port("http-alt", 0, &cause), 8080,
	    "service name http-alt is 8080");
	is_int(parse_port("nosuchservice", 1, &cause), -1,
	    "unknown service refused");
	is_str(cause, PARSE_UNKNOWN_SERVICE, "unknown service cause");
	is_str(parse_port_error("foo", cause, buf, sizeof buf),
	    "unknown service: foo", "unknown service message");
	parse_port("80x", 1, &cause);
	is_str(parse_port_error("80x", cause, buf, sizeof buf),
	    "port 80x: not a port number (0-65535)", "bad number message");
	is_int(parse_port("99999999999999999999", 1, &cause), -1,
	    "huge port refused");
}

static void
test_size(void)
{
	const char	*cause = NULL;
	size_t		 v = 0;

	is_int(parse_size("65536", &v, &cause), 0, "plain size");
	is_int(v, 65536, "plain size value");
	is_int(parse_size("64k", &v, &cause), 0, "64k");
	is_int(v, 65536, "64k is 65536");
	is_int(parse_size("1m", &v, &cause), 0, "1m");
	is_int(v, 1048576, "1m is 1048576");
	is_int(parse_size("2K", &v, &cause), 0, "upper-case K");
	is_int(v, 2048, "2K is 2048");
	is_int(parse_size("1g", &v, &cause), 0, "1g");
	is_int(v, 1073741824, "1g is 2^30");
	is_int(parse_size("2g", &v, &cause), -1, "2g too large");
	is_int(parse_size("0", &v, &cause), -1, "0 refused");
	is_int(parse_size("k", &v, &cause), -1, "bare suffix refused");
	is_int(parse_size("1.5k", &v, &cause), -1, "fraction refused");
	is_int(parse_size("-1", &v, &cause), -1, "negative refused");
	is_int(parse_size("12kb", &v, &cause), -1, "junk suffix refused");
	is_int(parse_size("", &v, &cause), -1, "empty refused");
}

static void
test_seconds(void)
{
	const char	*cause = NULL;
	double		 d = 0;

	is_int(parse_seconds("1.5", &d, &cause), 0, "1.5 s");
	ok(d == 1.5, "1.5 s value");
	is_int(parse_seconds("2", &d, &cause), 0, "2 s");
	ok(d == 2.0, "2 s value");
	is_int(parse_seconds(".25", &d, &cause), 0, ".25 s");
	ok(d == 0.25, ".25 s value");
	is_int(parse_seconds("0", &d, &cause), -1, "0 s refused");
	is_int(parse_seconds("-1", &d, &cause), -1, "negative refused");
	is_int(parse_seconds("1e3", &d, &cause), -1, "exponent refused");
	is_int(parse_seconds("inf", &d, &cause), -1, "inf refused");
	is_int(parse_seconds("nan", &d, &cause), -1, "nan refused");
	is_int(parse_seconds(".", &d, &cause), -1, "lone dot refused");
	is_int(parse_seconds("1.2.3", &d, &cause), -1, "two dots refused");
	is_int(parse_seconds("", &d, &cause), -1, "empty refused");
}

static void
test_count(void)
{
	const char	*cause = NULL;
	long long	 v = 0;

	is_int(parse_count("0", 0, 10, &v, &cause), 0, "count 0");
	is_int(parse_count("11", 0, 10, &v, &cause), -1, "count over max");
	is_str(cause, "too large", "count too large cause");
	is_int(parse_count("1x", 0, 10, &v, &cause), -1, "count junk");
}

static void
test_escapes(void)
{
	const char	*cause = NULL;
	char		*out = NULL;
	size_t		 len = 0;

	is_int(parse_escapes("PING\\r\\n", &out, &len, &cause), 0, "\\r\\n");
	is_mem(out, len, "PING\r\n", 6, "\\r\\n bytes");
	free(out);
	is_int(parse_escapes("a\\0b", &out, &len, &cause), 0, "\\0");
	is_mem(out, len, "a\0b", 3, "\\0 is one NUL");
	free(out);
	is_int(parse_escapes("\\012", &out, &len, &cause), 0, "\\012");
	is_mem(out, len, "\0" "12", 3, "\\012 is NUL then 1 2, never octal");
	free(out);
	is_int(parse_escapes("\\x41\\xfF\\t\\\\", &out, &len, &cause), 0,
	    "\\x and \\t and \\\\");
	is_mem(out, len, "A\xff\t\\", 4, "\\x41 \\xfF \\t \\\\ bytes");
	free(out);
	is_int(parse_escapes("", &out, &len, &cause), 0, "empty string");
	is_int(len, 0, "empty string is 0 bytes");
	free(out);
	is_int(parse_escapes("\\x4", &out, &len, &cause), -1, "\\x one digit");
	is_int(parse_escapes("\\x4g", &out, &len, &cause), -1, "\\x non-hex");
	is_int(parse_escapes("\\q", &out, &len, &cause), -1, "unknown escape");
	is_int(parse_escapes("abc\\", &out, &len, &cause), -1,
	    "trailing backslash");
	is_str(cause, "trailing backslash", "trailing backslash cause");
}

static void
test_mode(void)
{
	const char	*cause = NULL;
	int		 m = -1;

	is_int(parse_mode("600", &m, &cause), 0, "mode 600");
	is_int(m, 0600, "mode 600 is octal");
	is_int(parse_mode("0777", &m, &cause), 0, "mode 0777");
	is_int(m, 0777, "mode 0777 value");
	is_int(parse_mode("0", &m, &cause), 0, "mode 0");
	is_int(parse_mode("4777", &m, &cause), -1, "setuid bit refused");
	is_str(cause, "setuid, setgid and sticky bits are not kept on a "
	    "socket (at most 0777)", "special bits cause");
	is_int(parse_mode("1777", &m, &cause), -1, "sticky bit refused");
	is_int(parse_mode("01000", &m, &cause), -1, "01000 refused");
	is_int(parse_mode("8", &m, &cause), -1, "8 is not octal");
	is_str(cause, "not an octal mode", "not octal cause");
	is_int(parse_mode("", &m, &cause), -1, "empty mode");
	is_int(parse_mode("+600", &m, &cause), -1, "signed mode");
	is_int(parse_mode("0000000600", &m, &cause), -1, "too many digits");
}

int
main(void)
{
	test_port();
	test_size();
	test_seconds();
	test_count();
	test_escapes();
	test_mode();
	return (tap_done());
}
