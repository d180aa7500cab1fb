/*
 * mikey_examples.h -- the mode-1 flow of spec/worked-examples.md, built
 * from its inputs through the public mikey API (what `conclave mikey
 * vectors` prints and what the tests compare byte for byte).
 */
#ifndef CONCLAVE_MIKEY_EXAMPLES_H
#define CONCLAVE_MIKEY_EXAMPLES_H

#include <conclave/mikey.h>

enum mikey_example_id {
	MIKEY_EX_REQUEST_INIT,      /* §4.1 */
	MIKEY_EX_REQUEST_RESP,      /* §4.2 */
	MIKEY_EX_TRANSFER_INIT,     /* §4.3 */
	MIKEY_EX_RESOLVE_INIT,      /* §4.4 */
	MIKEY_EX_RESOLVE_RESP,      /* §4.5 */
	MIKEY_EX_TRANSFER_RESP,     /* §4.6 */
	MIKEY_EX_TRANSFER_RESP_KEY, /* §4.7: the focus hands out a group key */
	MIKEY_EX_UPDATE_I_INIT,     /* §9.1: Initiator-started CSB update */
	MIKEY_EX_UPDATE_I_RESP,     /* §9.2 */
	MIKEY_EX_UPDATE_R_INIT,     /* §10.1: Responder-started CSB update */
	MIKEY_EX_UPDATE_R_RESP,     /* §10.2 */
	MIKEY_EX__COUNT
};

struct mikey_example {
	const char *name;
	const char *section;
	enum mikey_variant variant;
	uint8_t buf[512];
	size_t len;
};

/** Build every example message. */
CC_MUST_USE enum cc_err
mikey_examples_build(struct mikey_example ex[MIKEY_EX__COUNT]);

/* The example inputs (spec/worked-examples.md §1), for tests and tools. */
extern const uint8_t mikey_ex_psk_alice[16], mikey_ex_psk_bob[16],
	mikey_ex_tpk[16], mikey_ex_mpk[16], mikey_ex_tgk[16],
	mikey_ex_rand_ticket[16], mikey_ex_randri_req[16],
	mikey_ex_randri_xfer[16], mikey_ex_randrr_res[16];
extern const char *const mikey_ex_alice, *const mikey_ex_bob,
						 *const mikey_ex_kms;

#endif
