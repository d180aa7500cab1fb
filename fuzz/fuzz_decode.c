/*
 * fuzz_decode.c -- mikey_decode, mikey_check_layout for every variant, and
 * the round trip: a message that decodes must re-encode byte for byte
 * (the codec is zero-copy and canonical; a difference means the decoder
 * accepted something the encoder cannot express).
 */
#include <conclave/mikey.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mikey_msg msg;
static uint8_t out[MIKEY_MAX_MSG];

static void layouts(void)
{
	static const enum mikey_variant v[] = { MIKEY_INITIAL,
						MIKEY_UPDATE_BY_I,
						MIKEY_UPDATE_BY_R };
	struct mikey_diag d;
	enum mikey_encr encr;
	enum mikey_mac mac;
	uint64_t t64;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&d, 0, sizeof(d));
		if (mikey_check_layout(&msg, v[i], &d) != CC_OK &&
		    (!d.payload || !d.field))
			abort(); /* every rejection names where */
	}
	mikey_msg_algs(&msg, &encr, &mac);
	if (mikey_msg_t64(&msg, &t64) != CC_OK)
		t64 = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mikey_diag d = { NULL, NULL, 0 };
	struct cc_wr wr;
	enum cc_err err;

	err = mikey_decode(data, size, &msg, &d);
	if (err) {
		if (!d.payload || !d.field || d.offset > size)
			abort();
		(void)mikey_errno_for_diag(err, &d);
		return 0;
	}
	layouts();
	cc_wr_init(&wr, out, sizeof(out));
	if (mikey_encode(&msg, &wr) != CC_OK || wr.pos != size ||
	    memcmp(out, data, size) != 0)
		abort(); /* decode -> encode must round-trip */
	return 0;
}
