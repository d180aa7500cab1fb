/*
 * check.h -- the tiny assertion layer the C tests share. A failed CHECK
 * prints file:line and the expression, and the test exits non-zero.
 */
#ifndef CONCLAVE_TESTS_CHECK_H
#define CONCLAVE_TESTS_CHECK_H

#include <conclave/base.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(expr)                                                        \
	do {                                                               \
		if (!(expr)) {                                             \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n",       \
				__FILE__, __LINE__, #expr);                \
			check_failures++;                                  \
		}                                                          \
	} while (0)

#define CHECK_ERR(expr, want)                                              \
	do {                                                               \
		enum cc_err got_ = (expr);                                 \
		if (got_ != (want)) {                                      \
			fprintf(stderr, "%s:%d: %s = %s, want %s\n",       \
				__FILE__, __LINE__, #expr,                 \
				cc_strerror(got_), cc_strerror(want));     \
			check_failures++;                                  \
		}                                                          \
	} while (0)

#define CHECK_OK(expr) CHECK_ERR(expr, CC_OK)

/* Compare bytes against a hex string. */
#define CHECK_HEX(buf, len, hex)                                           \
	do {                                                               \
		uint8_t want_[4096];                                       \
		size_t wlen_ = 0;                                          \
		if (cc_hex_decode((hex), want_, sizeof(want_), &wlen_) ||  \
		    wlen_ != (size_t)(len) ||                              \
		    memcmp(want_, (buf), wlen_) != 0) {                    \
			char got_[8193];                                   \
			size_t gl_ = (size_t)(len) > 4096 ? 4096 : (len);  \
			cc_hex_encode((const uint8_t *)(buf), gl_, got_);  \
			fprintf(stderr, "%s:%d: %s\n  got  %s\n  want %s\n", \
				__FILE__, __LINE__, #buf, got_, (hex));    \
			check_failures++;                                  \
		}                                                          \
	} while (0)

static inline size_t hex2bin(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (cc_hex_decode(hex, out, cap, &n)) {
		fprintf(stderr, "bad hex in test: %s\n", hex);
		exit(2);
	}
	return n;
}

#define CHECK_DONE()                                                       \
	do {                                                               \
		if (check_failures) {                                      \
			fprintf(stderr, "%d check(s) failed\n",            \
				check_failures);                           \
			return 1;                                          \
		}                                                          \
		printf("ok\n");                                            \
		return 0;                                                  \
	} while (0)

#endif
