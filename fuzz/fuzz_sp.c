/*
 * fuzz_sp.c -- mikey_srtp_policy_decode (SP payload TLVs, RFC 3830
 * §6.10.1). What decodes must encode and decode to the same policy (the
 * encoder sorts by type, so the bytes may differ in order only).
 */
#include <conclave/mikey.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mikey_srtp_policy pol, again;
	struct mikey_diag d = { NULL, NULL, 0 };
	uint8_t out[MIKEY_SRTP_PARAM__COUNT * 6];
	struct cc_wr wr;

	if (mikey_srtp_policy_decode((struct cc_slice){ data, size }, &pol,
				     &d) != CC_OK) {
		if (!d.payload || !d.field || d.offset > size)
			abort();
		return 0;
	}
	cc_wr_init(&wr, out, sizeof(out));
	if (mikey_srtp_policy_encode(&pol, &wr) != CC_OK || wr.pos != size)
		abort();
	if (mikey_srtp_policy_decode((struct cc_slice){ out, wr.pos }, &again,
				     NULL) != CC_OK ||
	    memcmp(&pol, &again, sizeof(pol)) != 0)
		abort();
	return 0;
}
