/*
 * test_kms_update.c -- CSB updates (RFC 6043 §5.2) of the KMS client:
 * byte-exact against spec/worked-examples.md §9 and §10 (CSBs in the
 * state the examples start from), round trips on a real mode-1 flow with
 * the KMS core in process, and every rejection: bad MAC, replayed or old
 * T, RANDR / TICKET in an update, KEMAC without L / M, wrong CSB ID.
 */
#include <conclave/kms_store.h>
#include <conclave/kmsc.h>
#include <conclave/mikey_examples.h>

#include "check.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define NTP_UNIX 2208988800LL
#define ALICE "sip:alice@example.org"
#define BOB "sip:bob@example.org"
#define T0_UNIX ((int64_t)0xe98c41c0u - NTP_UNIX) /* 12:00:00 */

static struct mikey_example ex[MIKEY_EX__COUNT];

static enum cc_err rnd(uint8_t *p, size_t n, void *arg)
{
	return kmsc_rand_system(p, n, arg);
}

static struct kmsc_env env_at(int64_t t)
{
	return (struct kmsc_env){ .now = t, .skew = 300, .rand = rnd };
}

static void key_set(struct kmsc_key *k, uint8_t type, const char *key,
		    const char *salt, uint32_t spi)
{
	memset(k, 0, sizeof(*k));
	k->type = type;
	k->key_len = hex2bin(key, k->key, sizeof(k->key));
	if (salt)
		k->salt_len = hex2bin(salt, k->salt, sizeof(k->salt));
	k->spi[0] = (uint8_t)(spi >> 24);
	k->spi[1] = (uint8_t)(spi >> 16);
	k->spi[2] = (uint8_t)(spi >> 8);
	k->spi[3] = (uint8_t)spi;
	k->spi_len = 4;
}

/* The CSB at the end of worked-examples §4.6, as role keeps it. */
static void example_csb(struct kmsc_csb *c, enum kmsc_role role, uint16_t flags)
{
	struct mikey_msg_keys k;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->role = role;
	c->state = KMSC_CSB_READY;
	c->csb_id = 0x1A2B3C4D;
	c->hdr_prf = MIKEY_PRF_MIKEY1;
	c->flags = flags;
	c->encr = MIKEY_ENCR_AES_CM_128;
	c->mac = MIKEY_MAC_HMAC_SHA1_160;
	memcpy(c->randri, mikey_ex_randri_xfer, 16);
	c->randri_len = 16;
	strcpy(c->initiator, ALICE);
	strcpy(c->responder, BOB);
	strcpy(c->peer_r, BOB);
	key_set(&c->keys[0], MIKEY_KEY_TGK, "404142434445464748494a4b4c4d4e4f",
		NULL, 1);
	c->nkeys = c->nticket_keys = 1;
	for (i = 0; i < 2; i++) {
		c->tek[i].cs_id = (uint8_t)(i + 1);
		c->tek[i].has_ssrc = true;
		c->tek[i].ssrc = i ? 0x55667788 : 0x11223344;
		c->tek[i].spi[3] = 1;
		c->tek[i].spi_len = 4;
		c->tek[i].key_len = 16;
		c->tek[i].salt_len = 14;
	}
	c->ntek = c->ncs_own = 2;
	c->last_t = 0xe98c41c500000000ull; /* T of §4.6 */
	memcpy(c->xinit, ex[MIKEY_EX_TRANSFER_INIT].buf,
	       ex[MIKEY_EX_TRANSFER_INIT].len);
	c->xinit_len = ex[MIKEY_EX_TRANSFER_INIT].len;
	/* §8: the TRANSFER_RESP keys */
	memset(&k, 0, sizeof(k));
	k.encr_alg = MIKEY_ENCR_AES_CM_128;
	k.mac_alg = MIKEY_MAC_HMAC_SHA1_160;
	hex2bin("5afbaa4cb0ae205a3ca40b632bd80654", k.encr, sizeof(k.encr));
	hex2bin("3301aef5b370f308cb77f6c889f012db40095fca", k.auth,
		sizeof(k.auth));
	hex2bin("b648c8a33bf723b109dda32ae0b8", k.salt, sizeof(k.salt));
	CHECK_OK(mikey_keyed_alloc(&c->update, &k));
	mikey_msg_keys_wipe(&k);
}

static const uint16_t EX_FLAGS = MIKEY_TPF_D | MIKEY_TPF_E | MIKEY_TPF_F |
				 MIKEY_TPF_H | MIKEY_TPF_L | MIKEY_TPF_M |
				 MIKEY_TPF_N | MIKEY_TPF_O;

static void check_tek(const struct kmsc_csb *c, uint8_t cs, const char *key,
		      const char *salt, uint8_t mki)
{
	const struct kmsc_tek *t = kmsc_csb_tek(c, cs);

	CHECK(t != NULL);
	if (!t)
		return;
	CHECK_HEX(t->key, t->key_len, key);
	CHECK_HEX(t->salt, t->salt_len, salt);
	CHECK(t->spi_len == 4 && t->spi[3] == mki);
}

/* ---- §10: Responder-started (the focus re-keys a member) -------------- */

static void test_example_10(void)
{
	static struct kmsc_csb bob, alice;
	static struct kmsc_update ub, ua;
	struct kmsc_key k;
	struct kmsc_update_opts o = { .supply = &k,
				      .nsupply = 1,
				      .want_resp = true };
	int64_t t1 = (int64_t)0xe98c4670u - NTP_UNIX;
	struct kmsc_env e1 = env_at(t1), e2 = env_at(t1 + 1);
	uint8_t init[KMSC_MAX_MSG], resp[KMSC_MAX_MSG];
	size_t il = 0, rl = 0;
	struct kmsc_status st;

	example_csb(&bob, KMSC_RESPONDER, EX_FLAGS);
	example_csb(&alice, KMSC_INITIATOR, EX_FLAGS);
	key_set(&k, MIKEY_KEY_TEK_SALT, "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
		"e0e1e2e3e4e5e6e7e8e9eaebeced", 2);
	CHECK_OK(kmsc_update_init(&bob, &o, &e1, &ub, init, sizeof(init), &il));
	CHECK_HEX(init, il,
		  "010e05801a2b3c4d020201000100000411223344040000000202000100"
		  "0004556677880400000002"
		  "0e00e98c4670000000000e020100137369703a626f62406578616d706c"
		  "652e6f726701010100157369703a616c696365406578616d706c652e6f"
		  "726709010029b67a951aa5ed917652ad33dd31a76e8c001ec1f6734267"
		  "b8c95e41e2fadd5226c35738e4f067c68eb600000186ccd5348baa5409"
		  "9e58733ab33714f9103b2648");
	/* the sender's TEKs change only when the answer arrives */
	check_tek(&bob, 1, "00000000000000000000000000000000",
		  "0000000000000000000000000000", 1);
	CHECK_OK(kmsc_update_open(&alice, init, il, &e1, &ua, &st));
	CHECK(ua.want_resp && !ua.by_me);
	check_tek(&alice, 1, "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
		  "e0e1e2e3e4e5e6e7e8e9eaebeced", 2);
	check_tek(&alice, 2, "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
		  "e0e1e2e3e4e5e6e7e8e9eaebeced", 2);
	CHECK(kmsc_csb_tek(&alice, 2)->ssrc == 0x55667788);
	/* a second copy of the same INIT is a replay */
	CHECK_ERR(kmsc_update_open(&alice, init, il, &e1, &ua, &st),
		  CC_ERR_REPLAY);
	CHECK_OK(kmsc_update_resp(&alice, &e2, &ua, resp, sizeof(resp), &rl));
	CHECK_HEX(resp, rl,
		  "010f05001a2b3c4d020201000100000411223344040000000202000100"
		  "0004556677880400000002"
		  "0e00e98c46710000000009010100157369703a616c696365406578616d"
		  "706c652e6f72670001f3f7e8057641fd0c8115fd8127fc99b39f90d28e");
	/* a tampered answer is refused and changes nothing */
	resp[rl - 1] ^= 1;
	CHECK_ERR(kmsc_update_resp_open(&bob, resp, rl, &e2, &ub, &st),
		  CC_ERR_BAD_MAC);
	resp[rl - 1] ^= 1;
	CHECK(!ub.done);
	CHECK_OK(kmsc_update_resp_open(&bob, resp, rl, &e2, &ub, &st));
	CHECK(ub.done);
	check_tek(&bob, 1, "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
		  "e0e1e2e3e4e5e6e7e8e9eaebeced", 2);
	/* answered: a second copy is refused */
	CHECK_ERR(kmsc_update_resp_open(&bob, resp, rl, &e2, &ub, &st),
		  CC_ERR_INVAL);
	kmsc_update_wipe(&ua);
	kmsc_update_wipe(&ub);
	kmsc_csb_free(&bob);
	kmsc_csb_free(&alice);
}

/* ---- §9: Initiator-started with a new TGK (focus dial-out uses L) ----- */

static void test_example_9(void)
{
	static struct kmsc_csb bob, alice;
	static struct kmsc_update ub, ua;
	struct kmsc_key k;
	struct kmsc_update_opts o = { .supply = &k,
				      .nsupply = 1,
				      .want_resp = true };
	int64_t t1 = (int64_t)0xe98c4418u - NTP_UNIX;
	struct kmsc_env e1 = env_at(t1), e2 = env_at(t1 + 1);
	uint8_t init[KMSC_MAX_MSG], resp[KMSC_MAX_MSG];
	size_t il = 0, rl = 0;
	struct kmsc_status st;

	example_csb(&bob, KMSC_RESPONDER, EX_FLAGS);
	example_csb(&alice, KMSC_INITIATOR, EX_FLAGS);
	key_set(&k, MIKEY_KEY_TGK, "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", NULL, 2);
	CHECK_OK(kmsc_update_init(&alice, &o, &e1, &ua, init, sizeof(init),
				  &il));
	CHECK_HEX(init, il,
		  "010e05801a2b3c4d020201000100000411223344040000000202000100"
		  "0004556677880400000002"
		  "0e00e98c4418000000000e010100157369703a616c696365406578616d"
		  "706c652e6f726701020100137369703a626f62406578616d706c652e6f"
		  "72670901001922215ec848953f81a556beaebfd36f8cd8230a9ca753b5"
		  "da9f000001a1274580f02d4288f98083f2f54ad3809428c565");
	CHECK_OK(kmsc_update_open(&bob, init, il, &e1, &ub, &st));
	CHECK_OK(kmsc_update_resp(&bob, &e2, &ub, resp, sizeof(resp), &rl));
	CHECK_HEX(resp, rl,
		  "010f05001a2b3c4d020201000100000411223344040000000202000100"
		  "0004556677880400000002"
		  "0e00e98c44190000000009020100137369703a626f62406578616d706c"
		  "652e6f72670001607de844e60c398356a33283c818f6ee1c791bae");
	CHECK_OK(kmsc_update_resp_open(&alice, resp, rl, &e2, &ua, &st));
	check_tek(&alice, 1, "c392805e2e0962d8cb0d15d2acfd8e7d",
		  "d69ed4a1422aab0f3768c686bbb1", 2);
	check_tek(&alice, 2, "584c4a7a21e91fc290d2c6c93e6a42d9",
		  "ba922f7d5b1ae020b3e7a9192bdc", 2);
	check_tek(&bob, 1, "c392805e2e0962d8cb0d15d2acfd8e7d",
		  "d69ed4a1422aab0f3768c686bbb1", 2);
	check_tek(&bob, 2, "584c4a7a21e91fc290d2c6c93e6a42d9",
		  "ba922f7d5b1ae020b3e7a9192bdc", 2);
	kmsc_update_wipe(&ua);
	kmsc_update_wipe(&ub);
	kmsc_csb_free(&bob);
	kmsc_csb_free(&alice);
}

/* ---- rejections ----------------------------------------------------------- */

/* An update INIT from bob with extra payloads, sealed with the right keys. */
static size_t forged(struct kmsc_csb *bob, bool randr, bool ticket,
		     uint32_t csb_id, uint64_t t, uint8_t *out)
{
	struct mikey_msg m;
	struct mikey_keys ks = { .n = 1 };
	struct mikey_seal_opts so = { .keyed = bob->update, .kemac = &ks };
	struct mikey_pl *pl;
	struct kmsc_key k;
	struct cc_wr wr;

	key_set(&k, MIKEY_KEY_TEK_SALT, "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
		"e0e1e2e3e4e5e6e7e8e9eaebeced", 2);
	ks.k[0] = (struct mikey_key){ .type = k.type,
				      .kv = MIKEY_KV_SPI,
				      .key = { k.key, k.key_len },
				      .salt = { k.salt, k.salt_len },
				      .spi = { k.spi, k.spi_len } };
	mikey_msg_init(&m, MIKEY_DT_TRANSFER_INIT, true, MIKEY_PRF_MIKEY1,
		       csb_id, MIKEY_MAP_GENERIC_ID);
	CHECK_OK(mikey_hdr_add_cs(&m.hdr, 1, 0, true, 0x11223344, k.spi, 4));
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, t);
	if (randr)
		mikey_add_randr(&m.ch, MIKEY_RANDR_R,
				(struct cc_slice){ mikey_ex_randrr_res, 16 });
	mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI, mikey_str(BOB));
	mikey_add_idr(&m.ch, MIKEY_IDR_I, MIKEY_ID_URI, mikey_str(ALICE));
	if (ticket) {
		static struct mikey_msg xi;
		const struct mikey_pl *src;

		CHECK_OK(mikey_decode(ex[MIKEY_EX_TRANSFER_INIT].buf,
				      ex[MIKEY_EX_TRANSFER_INIT].len, &xi,
				      NULL));
		src = mikey_chain_find(&xi.ch, MIKEY_PT_TICKET, 0);
		pl = mikey_chain_add(&m.ch, MIKEY_PT_TICKET);
		CHECK(pl != NULL && src != NULL);
		if (pl && src)
			pl->u.ticket = src->u.ticket;
	}
	mikey_add_kemac(&m.ch);
	mikey_add_v(&m.ch);
	so.extra =
		(struct mikey_mac_extra){ { mikey_str(ALICE), mikey_str(BOB) },
					  2 };
	cc_wr_init(&wr, out, KMSC_MAX_MSG);
	CHECK_OK(mikey_seal(&m, &so, &wr));
	return wr.pos;
}

static void test_rejections(void)
{
	static struct kmsc_csb bob, alice, alice_nom;
	static struct kmsc_update ub, ua;
	struct kmsc_key k;
	struct kmsc_update_opts o = { .supply = &k,
				      .nsupply = 1,
				      .want_resp = true };
	int64_t t1 = (int64_t)0xe98c4670u - NTP_UNIX;
	uint64_t t1n = 0xe98c467000000000ull;
	struct kmsc_env e1 = env_at(t1);
	uint8_t init[KMSC_MAX_MSG], bad[KMSC_MAX_MSG];
	size_t il = 0, bl;
	struct kmsc_status st;
	enum cc_err err;

	example_csb(&bob, KMSC_RESPONDER, EX_FLAGS);
	example_csb(&alice, KMSC_INITIATOR, EX_FLAGS);
	example_csb(&alice_nom, KMSC_INITIATOR, EX_FLAGS & ~MIKEY_TPF_M);
	key_set(&k, MIKEY_KEY_TEK_SALT, "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
		"e0e1e2e3e4e5e6e7e8e9eaebeced", 2);
	CHECK_OK(kmsc_update_init(&bob, &o, &e1, &ub, init, sizeof(init), &il));

	/* bad MAC (last byte), and a changed byte inside */
	memcpy(bad, init, il);
	bad[il - 1] ^= 0x01;
	CHECK_ERR(kmsc_update_open(&alice, bad, il, &e1, &ua, &st),
		  CC_ERR_BAD_MAC);
	CHECK(st.kind == KMSC_FAIL_LOCAL && st.err == CC_ERR_BAD_MAC);
	memcpy(bad, init, il);
	bad[0x13] ^= 0x01; /* an SSRC */
	CHECK_ERR(kmsc_update_open(&alice, bad, il, &e1, &ua, &st),
		  CC_ERR_BAD_MAC);
	check_tek(&alice, 1, "00000000000000000000000000000000",
		  "0000000000000000000000000000", 1);

	/* KEMAC from the Responder with M = 0 */
	CHECK_ERR(kmsc_update_open(&alice_nom, init, il, &e1, &ua, &st),
		  CC_ERR_POLICY);
	/* ... and the focus cannot build one either */
	{
		static struct kmsc_csb bob_nom;
		static struct kmsc_update u2;

		example_csb(&bob_nom, KMSC_RESPONDER, EX_FLAGS & ~MIKEY_TPF_M);
		CHECK_ERR(kmsc_update_init(&bob_nom, &o, &e1, &u2, bad,
					   sizeof(bad), &bl),
			  CC_ERR_POLICY);
		kmsc_csb_free(&bob_nom);
	}
	/* Initiator-started KEMAC needs L */
	{
		static struct kmsc_csb a2;
		static struct kmsc_update u2;

		example_csb(&a2, KMSC_INITIATOR, EX_FLAGS & ~MIKEY_TPF_L);
		CHECK_ERR(kmsc_update_init(&a2, &o, &e1, &u2, bad, sizeof(bad),
					   &bl),
			  CC_ERR_POLICY);
		kmsc_csb_free(&a2);
	}

	/* RANDR or TICKET in an update: refused by layout (MAC is right) */
	bl = forged(&bob, true, false, 0x1A2B3C4D, t1n + 5, bad);
	err = kmsc_update_open(&alice, bad, bl, &e1, &ua, &st);
	CHECK(err != CC_OK && err != CC_ERR_BAD_MAC);
	bl = forged(&bob, false, true, 0x1A2B3C4D, t1n + 5, bad);
	err = kmsc_update_open(&alice, bad, bl, &e1, &ua, &st);
	CHECK(err != CC_OK && err != CC_ERR_BAD_MAC);
	/* the same forger without extras is accepted: the helper is sound */
	bl = forged(&bob, false, false, 0x1A2B3C4D, t1n + 5, bad);
	{
		static struct kmsc_csb a3;

		example_csb(&a3, KMSC_INITIATOR, EX_FLAGS);
		CHECK_OK(kmsc_update_open(&a3, bad, bl, &e1, &ua, &st));
		kmsc_csb_free(&a3);
	}
	/* another CSB ID */
	bl = forged(&bob, false, false, 0x1A2B3C4E, t1n + 5, bad);
	CHECK_ERR(kmsc_update_open(&alice, bad, bl, &e1, &ua, &st),
		  CC_ERR_MALFORMED);
	/* T outside the window */
	CHECK_ERR(kmsc_update_open(&alice, init, il,
				   &(struct kmsc_env){ .now = t1 + 3600 }, &ua,
				   &st),
		  CC_ERR_STALE);

	/* accepted once; then replayed; then an older T */
	CHECK_OK(kmsc_update_open(&alice, init, il, &e1, &ua, &st));
	CHECK_ERR(kmsc_update_open(&alice, init, il, &e1, &ua, &st),
		  CC_ERR_REPLAY);
	bl = forged(&bob, false, false, 0x1A2B3C4D, t1n - 1, bad);
	CHECK_ERR(kmsc_update_open(&alice, bad, bl, &e1, &ua, &st),
		  CC_ERR_REPLAY);
	/* answering an INIT we did not receive / opening an unasked RESP */
	CHECK_ERR(kmsc_update_resp(&bob, &e1, &ub, bad, sizeof(bad), &bl),
		  CC_ERR_INVAL);
	kmsc_update_wipe(&ua);
	kmsc_update_wipe(&ub);
	kmsc_csb_free(&bob);
	kmsc_csb_free(&alice);
	kmsc_csb_free(&alice_nom);
}

/* ---- round trip on a real flow (KMS core in process) ------------------ */

#define KMS_ID "sip:kms.example.org"
#define FACTORY1 "sip:factory.conf1@example.org"
#define FOCUS7 "sip:focus7.conf1@example.org"

struct world {
	char dir[64];
	struct kms_db *db;
	struct kms *kms;
	struct kmsc_cred alice, focus;
};
static struct world W;

static void make_cred(struct kmsc_cred *c, const char *user,
		      const char *identity, bool supplier)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->identity, sizeof(c->identity), "%s", identity);
	snprintf(c->psk_id, sizeof(c->psk_id), "%s-psk", user);
	snprintf(c->kms_url, sizeof(c->kms_url), "in-process");
	snprintf(c->kms_identity, sizeof(c->kms_identity), KMS_ID);
	c->psk_len = 16;
	CHECK_OK(kmsc_rand_system(c->psk, 16, NULL));
	CHECK_OK(kms_db_user_add(W.db, user, c->psk_id, c->psk, 16, supplier));
}

static bool setup(void)
{
	struct kms_config cfg = { .identity = KMS_ID,
				  .skew = 300,
				  .max_lifetime = 86400,
				  .default_lifetime = 3600,
				  .replay_capacity = 64 };
	uint8_t master[KMS_MASTER_KEY_LEN];
	char path[128], spec[160];

	snprintf(W.dir, sizeof(W.dir), "/tmp/kmsupd.XXXXXX");
	if (!mkdtemp(W.dir))
		return false;
	snprintf(path, sizeof(path), "%s/master.key", W.dir);
	CHECK_OK(kms_master_key_create(path));
	CHECK_OK(kms_master_key_load(path, master));
	snprintf(spec, sizeof(spec), "sqlite:%s/kms.db", W.dir);
	CHECK_OK(kms_db_open(&W.db, spec, master, true));
	cc_wipe(master, sizeof(master));
	if (!W.db)
		return false;
	make_cred(&W.alice, "alice", ALICE, false);
	make_cred(&W.focus, "conf1-focus", FOCUS7, true);
	CHECK_OK(kms_db_identity_add(W.db, "alice", ALICE));
	CHECK_OK(kms_db_identity_add(W.db, "conf1-focus", FACTORY1));
	CHECK_OK(kms_db_identity_add(W.db, "conf1-focus",
				     "sip:focus*.conf1@example.org"));
	CHECK_OK(kms_db_identity_set_factory(W.db, FACTORY1, true));
	CHECK_OK(kms_db_policy_allow_conference(W.db, "alice", "conf1-focus"));
	CHECK_OK(kms_alloc(&W.kms, &cfg, kms_db_store(W.db), rnd, NULL));
	return W.kms != NULL;
}

static void teardown(void)
{
	char cmd[160];

	kms_free(W.kms);
	kms_db_close(W.db);
	kmsc_cred_wipe(&W.alice);
	kmsc_cred_wipe(&W.focus);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", W.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", W.dir);
}

static size_t kms_call(const uint8_t *in, size_t len, int64_t now, uint8_t *out,
		       size_t cap)
{
	struct kms_result r;
	struct cc_wr wr;

	cc_wr_init(&wr, out, cap);
	CHECK_OK(kms_handle(W.kms, in, len, now, &wr, &r));
	return wr.pos;
}

static bool mikey_chain_find_kemac(const uint8_t *buf, size_t len)
{
	struct mikey_msg m;

	return !mikey_decode(buf, len, &m, NULL) &&
	       mikey_chain_find(&m.ch, MIKEY_PT_KEMAC, 0);
}

static bool same_tek(const struct kmsc_tek *a, const struct kmsc_tek *b)
{
	return a && b && a->key_len == b->key_len &&
	       a->salt_len == b->salt_len && a->spi_len == b->spi_len &&
	       cc_ct_equal(a->key, b->key, a->key_len) &&
	       cc_ct_equal(a->salt, b->salt, a->salt_len) &&
	       cc_ct_equal(a->spi, b->spi, a->spi_len);
}

/* Alice joins the focus (M = 1, group key MKI 0x80000001), then the focus
 * re-keys her twice within the same second (T stays ordered). */
static void test_round_trip(void)
{
	const char *to[] = { FACTORY1 };
	struct kmsc_request_opts ro = { .use = KMSC_JOIN_CONFERENCE,
					.responders = to,
					.nresponders = 1,
					.lifetime = 3600 };
	const char *aliases[] = { FACTORY1 };
	struct kmsc_responder r = { .cred = &W.focus,
				    .identity = FOCUS7,
				    .aliases = aliases,
				    .naliases = 1 };
	const char *accept[] = { "sip:focus*.conf1@example.org" };
	int64_t now = (int64_t)time(NULL);
	struct kmsc_env env = env_at(now);
	static struct kmsc_request rq;
	static struct kmsc_ticket t;
	static struct kmsc_csb ci, cr;
	static struct kmsc_update uf, ua;
	static uint8_t a[KMSC_MAX_MSG], b[KMSC_MAX_MSG];
	struct kmsc_transfer_opts xo = { .responder = FACTORY1,
					 .ssrc = (uint32_t[]){ 0xa1a1a1a1 },
					 .nmedia = 1 };
	struct kmsc_key gk;
	/* D6: the focus replaces the offered SSRC and names another
	 * member's wrapped stream with its ROC and SEQ */
	const struct kmsc_stream other = { .ssrc = 0x12345678,
					   .roc = 5,
					   .seq = 7 };
	struct kmsc_answer_opts ao = { .ssrc = (uint32_t[]){ 0xf0f0f0f0 },
				       .nmedia = 1,
				       .peer_ssrc = (uint32_t[]){ 0xa2a2a2a2 },
				       .streams = &other,
				       .nstreams = 1,
				       .supply = &gk,
				       .nsupply = 1 };
	struct kmsc_update_opts uo = { .supply = &gk,
				       .nsupply = 1,
				       .want_resp = true };
	struct kmsc_status st;
	size_t al = 0, bl = 0;
	int i;

	CHECK_OK(kmsc_request_build(&rq, &W.alice, &ro, &env));
	bl = kms_call(rq.msg, rq.len, now, b, sizeof(b));
	CHECK_OK(kmsc_request_open(&rq, &W.alice, b, bl, &env, &t, &st));
	CHECK(t.flags & MIKEY_TPF_M);
	CHECK_OK(kmsc_transfer_init(&ci, &t, &W.alice, &xo, &env, a, sizeof(a),
				    &al));
	CHECK_OK(kmsc_resolve_init(&cr, &r, a, al, &env, b, sizeof(b), &bl,
				   &st));
	bl = kms_call(b, bl, now, a, sizeof(a));
	CHECK_OK(kmsc_resolve_open(&cr, &r, a, bl, &env, &st));
	key_set(&gk, MIKEY_KEY_TEK_SALT, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		"b0b1b2b3b4b5b6b7b8b9babbbcbd", 0x80000001u);
	CHECK_OK(kmsc_transfer_resp(&cr, &ao, &env, b, sizeof(b), &bl));
	CHECK_OK(kmsc_transfer_resp_open(&ci, b, bl, accept, 1, &env, &st));
	CHECK(same_tek(kmsc_csb_tek(&ci, 1), kmsc_csb_tek(&cr, 1)));
	CHECK(kmsc_csb_tek(&ci, 1)->ssrc == 0xa2a2a2a2);
	CHECK(ci.ntek == 3 && ci.ncs_own == 2 && kmsc_csb_tek(&ci, 3));
	if (kmsc_csb_tek(&ci, 3)) {
		const struct kmsc_tek *o = kmsc_csb_tek(&ci, 3);

		CHECK(o->ssrc == 0x12345678 && o->roc == 5 && o->seq == 7);
		CHECK(same_tek(o, kmsc_csb_tek(&ci, 1))); /* one group key */
		CHECK(o->spi[3] == 0x01); /* the group key's MKI */
	}
	/* more streams than a CS map holds, or streams without a key */
	ao.nstreams = KMSC_MAX_CS;
	CHECK_ERR(kmsc_transfer_resp(&cr, &ao, &env, b, sizeof(b), &bl),
		  CC_ERR_INVAL);
	ao.nstreams = 1;

	for (i = 0; i < 3; i++) {
		uint32_t mki = 0x80000002u + (uint32_t)i;

		key_set(&gk, MIKEY_KEY_TEK_SALT,
			i == 1 ? "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf" :
				 "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
			"e0e1e2e3e4e5e6e7e8e9eaebeced", mki);
		CHECK_OK(kmsc_update_init(&cr, &uo, &env, &uf, a, sizeof(a),
					  &al));
		CHECK_OK(kmsc_update_open(&ci, a, al, &env, &ua, &st));
		CHECK_OK(kmsc_update_resp(&ci, &env, &ua, b, sizeof(b), &bl));
		CHECK_OK(kmsc_update_resp_open(&cr, b, bl, &env, &uf, &st));
		CHECK(same_tek(kmsc_csb_tek(&ci, 1), kmsc_csb_tek(&cr, 1)));
		CHECK(same_tek(kmsc_csb_tek(&ci, 2), kmsc_csb_tek(&cr, 2)));
		CHECK(kmsc_csb_tek(&ci, 1)->spi[3] == (uint8_t)mki);
		CHECK(kmsc_csb_tek(&ci, 1)->ssrc == 0xa2a2a2a2);
		CHECK(kmsc_csb_tek(&ci, 2)->ssrc == 0xf0f0f0f0);
		/* updates carry our own streams only */
		CHECK(ci.ntek == 2 && !kmsc_csb_tek(&ci, 3));
	}
	/* the Initiator may not supply keys on a JOIN ticket (L = 0) */
	CHECK_ERR(kmsc_update_init(&ci, &uo, &env, &ua, a, sizeof(a), &al),
		  CC_ERR_POLICY);
	/* ... but may re-key without new keys (map only) */
	uo.nsupply = 0;
	CHECK_OK(kmsc_update_init(&ci, &uo, &env, &ua, a, sizeof(a), &al));
	CHECK_OK(kmsc_update_open(&cr, a, al, &env, &uf, &st));
	CHECK_OK(kmsc_update_resp(&cr, &env, &uf, b, sizeof(b), &bl));
	CHECK_OK(kmsc_update_resp_open(&ci, b, bl, &env, &ua, &st));
	CHECK(same_tek(kmsc_csb_tek(&ci, 1), kmsc_csb_tek(&cr, 1)));
	/* no answer wanted: the sender's keys are in force at once */
	uo.want_resp = false;
	uo.supply = &gk;
	uo.nsupply = 1;
	key_set(&gk, MIKEY_KEY_TEK_SALT, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		"e0e1e2e3e4e5e6e7e8e9eaebeced", 0x80000009u);
	CHECK_OK(kmsc_update_init(&cr, &uo, &env, &uf, a, sizeof(a), &al));
	CHECK(uf.done && kmsc_csb_tek(&cr, 1)->spi[3] == 9);
	CHECK_OK(kmsc_update_open(&ci, a, al, &env, &ua, &st));
	CHECK(!ua.want_resp);
	CHECK(same_tek(kmsc_csb_tek(&ci, 1), kmsc_csb_tek(&cr, 1)));

	/* D7: a map-only update (no KEMAC) moves every CS to a key both
	 * sides hold: the focus's "send under epoch 4 now" */
	{
		static const uint8_t held[4] = { 0x80, 0, 0, 4 };
		static const uint8_t unknown[4] = { 0x80, 0, 0, 0x42 };
		struct kmsc_update_opts so = { .map_spi = held,
					       .map_spi_len = 4 };
		size_t sl = 0;

		so.map_spi = unknown;
		CHECK_ERR(kmsc_update_init(&cr, &so, &env, &uf, a, sizeof(a),
					   &al),
			  CC_ERR_NOT_FOUND);
		so.map_spi = held;
		CHECK_OK(kmsc_update_init(&cr, &so, &env, &uf, a, sizeof(a),
					  &al));
		CHECK(!mikey_chain_find_kemac(a, al));
		CHECK_OK(kmsc_update_open(&ci, a, al, &env, &ua, &st));
		CHECK(!ua.want_resp);
		CHECK(kmsc_csb_tek(&ci, 1)->spi[3] == 4);
		CHECK(same_tek(kmsc_csb_tek(&ci, 1), kmsc_csb_tek(&cr, 1)));
		/* the same message again is a replay and changes nothing */
		memcpy(b, a, al);
		sl = al;
		CHECK_ERR(kmsc_update_open(&ci, b, sl, &env, &ua, &st),
			  CC_ERR_REPLAY);
		CHECK(kmsc_csb_tek(&ci, 1)->spi[3] == 4);
	}
	cc_wipe(&gk, sizeof(gk));
	kmsc_update_wipe(&uf);
	kmsc_update_wipe(&ua);
	kmsc_csb_free(&ci);
	kmsc_csb_free(&cr);
	kmsc_ticket_wipe(&t);
}

int main(void)
{
	CHECK_OK(mikey_examples_build(ex));
	(void)T0_UNIX;
	test_example_10();
	test_example_9();
	test_rejections();
	if (setup()) {
		test_round_trip();
		teardown();
	} else {
		CHECK(!"KMS fixture");
	}
	if (check_failures)
		fprintf(stderr, "%d check(s) failed\n", check_failures);
	return check_failures ? 1 : 0;
}
