/*
 * Copyright (c) 2026 The cstream authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "suggest.h"

/*
 * "Did you mean": the closest of a table's names to a mistyped word, by
 * edit distance, where a swap of two neighbours ("sned") is one edit as a
 * letter added, dropped or changed is. Only the command and option tables
 * are ever searched, so a suggestion is always something that exists.
 */

#define SUGGEST_MAX_LEN	64

static size_t
suggest_min3(size_t a, size_t b, size_t c)
{
	size_t	m = a < b ? a : b;

	return (m < c ? m : c);
}

/* Optimal string alignment distance, or SIZE_MAX for overlong words. */
size_t
suggest_distance(const char *a, const char *b)
{
	size_t	d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
	size_t	la = strlen(a), lb = strlen(b), i, j, cost;

	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return (SIZE_MAX);
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			cost = a[i - 1] != b[j - 1];
			d[i][j] = suggest_min3(d[i - 1][j] + 1, d[i][j - 1] + 1,
			    d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	}
	return (d[la][lb]);
}

/*
 * The one name within reach of word: one edit for words of up to four
 * letters, two for longer ones (more would suggest "tls" for "xyz"). A tie
 * suggests nothing: two guesses are no better than none.
 */
const char *
suggest_closest(const char *word, const char *const *names, size_t n)
{
	const char	*best = NULL;
	size_t		 reach, d, bestd = SIZE_MAX, i;
	int		 tie = 0;

	reach = strlen(word) <= 4 ? 1 : 2;
	for (i = 0; i < n; i++) {
		d = suggest_distance(word, names[i]);
		if (d > reach)
			continue;
		if (d < bestd) {
			best = names[i];
			bestd = d;
			tie = 0;
		} else if (d == bestd && strcmp(best, names[i]) != 0)
			tie = 1;
	}
	return (tie ? NULL : best);
}
