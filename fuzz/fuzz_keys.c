/*
 * fuzz_keys.c -- mikey_keys_decode (KEMAC plaintext) with and without the
 * KW-PAD allowance (spec/ambiguities.md A28); what decodes must re-encode
 * to the input minus the zero padding.
 */
#include <conclave/mikey.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[MIKEY_MAX_MSG + 1];

static void one(const uint8_t *data, size_t size, bool allow_pad)
{
	struct mikey_keys keys;
	struct mikey_diag d = { NULL, NULL, 0 };
	struct cc_wr wr;
	size_t i;

	if (mikey_keys_decode(data, size, allow_pad, &keys, &d) != CC_OK) {
		if (!d.payload || !d.field || d.offset > size)
			abort();
		return;
	}
	if (keys.n > MIKEY_MAX_KEYS)
		abort();
	cc_wr_init(&wr, out, sizeof(out));
	if (mikey_keys_encode(&keys, &wr) != CC_OK || wr.pos > size ||
	    memcmp(out, data, wr.pos) != 0)
		abort();
	if (!allow_pad && wr.pos != size)
		abort();
	/* KW-PAD: 7 zero bytes at most, or up to RFC 3394's 16-byte minimum
	 * when the chain itself is shorter (keydata.c check_pad) */
	if (size - wr.pos > (size == 16 ? 15 : 7))
		abort();
	for (i = wr.pos; i < size; i++)
		if (data[i])
			abort(); /* only zero padding may follow */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MIKEY_MAX_MSG)
		return 0;
	one(data, size, false);
	one(data, size, true);
	return 0;
}
