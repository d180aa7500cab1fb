/*
 * fuzz_b64.c -- cc_b64_decode (SDP a=key-mgmt, RFC 4567 / RFC 4648), with
 * a roomy and a tight output buffer; what decodes must survive
 * encode -> decode unchanged.
 */
#include <conclave/base.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536], again[65536];
	static char text[4 * 65536 / 3 + 8];
	size_t n = 0, m = 0, tight = size / 2;
	const char *s = (const char *)data;

	if (size > 65536)
		return 0;
	if (cc_b64_decode(s, size, out, sizeof(out), &n) != CC_OK)
		return 0;
	if (n > size * 3 / 4)
		abort();
	/* a buffer too small must fail cleanly, never overflow */
	if (n > tight) {
		uint8_t *small = malloc(tight ? tight : 1);

		if (!small)
			return 0;
		if (cc_b64_decode(s, size, small, tight, &m) != CC_ERR_SPACE)
			abort();
		free(small);
	}
	if (cc_b64_encode(out, n, text, sizeof(text)) != CC_OK ||
	    cc_b64_decode(text, strlen(text), again, sizeof(again), &m) !=
		    CC_OK ||
	    m != n || memcmp(again, out, n) != 0)
		abort();
	return 0;
}
