/*
 * tap.h: a minimal Test Anything Protocol producer for the C unit tests.
 * Every check prints one "ok N - name" or "not ok N - name" line, and
 * tap_done() prints the plan, so automake's TAP driver counts each check.
 */

#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failures;

static int __attribute__((format(printf, 4, 5), unused))
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list	ap;

	tap_count++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failures++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

#define ok(cond, ...)	tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (!tap_ok(g_ == w_, __FILE__, __LINE__, __VA_ARGS__))		\
		printf("#   got %lld, want %lld\n", g_, w_);		\
} while (0)

#define is_str(got, want, ...) do {					\
	const char *g_ = (got), *w_ = (want);				\
	int p_ = (g_ != NULL && w_ != NULL) ? strcmp(g_, w_) == 0 :	\
	    g_ == w_;							\
	if (!tap_ok(p_, __FILE__, __LINE__, __VA_ARGS__))		\
		printf("#   got \"%s\", want \"%s\"\n",		\
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)");		\
} while (0)

#define is_mem(got, gotlen, want, wantlen, ...) do {			\
	size_t gl_ = (gotlen), wl_ = (wantlen);				\
	int p_ = gl_ == wl_ && memcmp((got), (want), gl_) == 0;		\
	if (!tap_ok(p_, __FILE__, __LINE__, __VA_ARGS__))		\
		printf("#   got %zu bytes, want %zu\n", gl_, wl_);	\
} while (0)

/*
 * fail_setup(fmt, ...): a fixture that cannot set up (no socketpair, no
 * server) reports one failed check saying why before it returns, so that
 * its checks do not silently vanish from the count.
 */
#define fail_setup(...)	tap_ok(0, __FILE__, __LINE__, "set up: " __VA_ARGS__)

static int __attribute__((unused))
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failures != 0;
}

#endif /* TAP_H */
