/*
 * fuzz_chain.c -- mikey_decode_chain in both first_byte modes (TP Data /
 * Initiator Data with a First Payload byte; base-ticket Ticket Data that
 * starts with the implicit THDR), and the round trip of what decodes.
 */
#include <conclave/mikey.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mikey_chain ch;
static uint8_t out[MIKEY_MAX_MSG + 1];

static void one(const uint8_t *data, size_t size, bool first_byte)
{
	struct mikey_diag d = { NULL, NULL, 0 };
	struct cc_wr wr;

	if (mikey_decode_chain(data, size, first_byte, &ch, &d) != CC_OK) {
		if (!d.payload || !d.field || d.offset > size)
			abort();
		return;
	}
	if (first_byte) {
		struct mikey_diag td;

		if (mikey_check_tp_data(&ch, false, &td) != CC_OK &&
		    (!td.payload || !td.field))
			abort();
		if (mikey_check_tp_data(&ch, true, &td) != CC_OK &&
		    (!td.payload || !td.field))
			abort();
	}
	cc_wr_init(&wr, out, sizeof(out));
	if (mikey_encode_chain(&ch, first_byte, &wr) != CC_OK ||
	    wr.pos != size || memcmp(out, data, size) != 0)
		abort(); /* decode -> encode must round-trip */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MIKEY_MAX_MSG)
		return 0;
	one(data, size, true);
	one(data, size, false);
	return 0;
}
