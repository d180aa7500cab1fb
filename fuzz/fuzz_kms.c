/*
 * fuzz_kms.c -- kms_handle, the KMS's one untrusted entry point, on a real
 * SQLite store. Users alice and bob hold the PSKs of spec/worked-examples.md
 * and the clock is the examples' time, so the worked REQUEST_INIT_PSK and
 * RESOLVE_INIT_PSK in the corpus authenticate and mutations reach the
 * policy, ticket and key code. Every input must get an answer: a response
 * or a MIKEY Error message that decodes.
 */
#include <conclave/kms_store.h>
#include <conclave/mikey_examples.h>

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kms_db *db;
static const int64_t example_now = 1709294400; /* 2024-03-01 12:00:00 */

static enum cc_err rnd(uint8_t *p, size_t n, void *arg)
{
	(void)arg;
	return RAND_bytes(p, (int)n) == 1 ? CC_OK : CC_ERR_CRYPTO;
}

static void setup(void)
{
	static const uint8_t master[KMS_MASTER_KEY_LEN] = { 7 };
	char dir[] = "/tmp/fuzz_kms.XXXXXX", spec[64];

	if (!mkdtemp(dir))
		abort();
	snprintf(spec, sizeof(spec), "sqlite:%s/kms.db", dir);
	if (kms_db_open(&db, spec, master, true) ||
	    kms_db_user_add(db, "alice", "alice-psk-1", mikey_ex_psk_alice, 16,
			    false) ||
	    kms_db_identity_add(db, "alice", mikey_ex_alice) ||
	    kms_db_user_add(db, "bob", "bob-psk-1", mikey_ex_psk_bob, 16,
			    true) ||
	    kms_db_identity_add(db, "bob", mikey_ex_bob))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kms_config cfg = { .identity = mikey_ex_kms,
				  .replay_capacity = 16 };
	static uint8_t out[8192];
	struct mikey_msg *m = malloc(sizeof(*m));
	struct kms_result res;
	struct kms *k = NULL;
	struct cc_wr wr;

	if (!db)
		setup();
	if (!m || kms_alloc(&k, &cfg, kms_db_store(db), rnd, NULL))
		abort();
	cc_wr_init(&wr, out, sizeof(out));
	if (kms_handle(k, data, size, example_now, &wr, &res) != CC_OK)
		abort();
	/* the answer is always a message we can decode */
	if (mikey_decode(out, wr.pos, m, NULL) != CC_OK)
		abort();
	if (res.err && m->hdr.data_type != MIKEY_DT_ERROR)
		abort();
	if (!res.err && m->hdr.data_type != MIKEY_DT_REQUEST_RESP &&
	    m->hdr.data_type != MIKEY_DT_RESOLVE_RESP)
		abort();
	kms_free(k);
	free(m);
	return 0;
}
