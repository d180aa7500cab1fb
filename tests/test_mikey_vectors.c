/*
 * test_mikey_vectors.c -- spec/worked-examples.md, both ways: every message
 * built by mikey_examples_build() equals the brief byte for byte, and every
 * message is then checked by the party that receives it, through the same
 * API a daemon uses (decode, layout, timestamp, MAC, ticket, KEMAC).
 */
#include <conclave/mikey_examples.h>

#include "check.h"
#include "data/worked_examples.h"

static struct mikey_example ex[MIKEY_EX__COUNT];

#define NTP_2024_03_01_12 0xe98c41c000000000ull
#define S(a) ((struct cc_slice){ (a), sizeof(a) })
#define EX(id) ex[id].buf, ex[id].len

static const struct cc_slice none = { NULL, 0 };

static void test_bytes(void)
{
	size_t i;

	for (i = 0; i < MIKEY_EX__COUNT; i++)
		CHECK_HEX(ex[i].buf, ex[i].len, worked_hex[i]);
}

/* The a=key-mgmt lines of the brief (base64 of the messages). */
static void test_sdp_lines(void)
{
	static const enum mikey_example_id ids[] = {
		MIKEY_EX_TRANSFER_INIT,     MIKEY_EX_TRANSFER_RESP,
		MIKEY_EX_TRANSFER_RESP_KEY, MIKEY_EX_UPDATE_I_INIT,
		MIKEY_EX_UPDATE_I_RESP,     MIKEY_EX_UPDATE_R_INIT,
		MIKEY_EX_UPDATE_R_RESP,
	};
	char b64[1024];
	uint8_t back[512];
	size_t i, n = 0;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		CHECK_OK(cc_b64_encode(EX(ids[i]), b64, sizeof(b64)));
		CHECK(!strcmp(b64, worked_keymgmt[i]));
		CHECK_OK(cc_b64_decode(b64, strlen(b64), back, sizeof(back),
				       &n));
		CHECK(n == ex[ids[i]].len && !memcmp(back, ex[ids[i]].buf, n));
	}
}

/* Decode, check the layout, re-encode: identical bytes. */
static void test_roundtrip(void)
{
	static struct mikey_msg m;
	uint8_t out[512];
	struct mikey_diag d;
	struct cc_wr wr;
	size_t i;

	for (i = 0; i < MIKEY_EX__COUNT; i++) {
		CHECK_OK(mikey_decode(EX(i), &m, &d));
		CHECK_OK(mikey_check_layout(&m, ex[i].variant, &d));
		cc_wr_init(&wr, out, sizeof(out));
		CHECK_OK(mikey_encode(&m, &wr));
		CHECK(wr.pos == ex[i].len && !memcmp(out, ex[i].buf, wr.pos));
	}
}

static struct cc_slice idr(const struct mikey_msg *m, uint8_t role)
{
	const struct mikey_pl *p = mikey_chain_find(&m->ch, MIKEY_PT_IDR, role);

	return p ? p->u.id.data : none;
}

static struct cc_slice randr(const struct mikey_msg *m, uint8_t role)
{
	const struct mikey_pl *p =
		mikey_chain_find(&m->ch, MIKEY_PT_RANDR, role);

	return p ? p->u.rand.data : none;
}

static bool chain_has_idr(const struct mikey_chain *ch, uint8_t role,
			  const char *id)
{
	const struct mikey_pl *p = mikey_chain_find(ch, MIKEY_PT_IDR, role);

	return p && p->u.id.data.len == strlen(id) &&
	       !memcmp(p->u.id.data.p, id, strlen(id));
}

static enum cc_err keys_for(const struct mikey_msg *m, const uint8_t *inkey,
			    uint8_t dir, struct cc_slice ri, struct cc_slice rr,
			    struct mikey_msg_keys *k)
{
	enum mikey_encr e;
	enum mikey_mac a;

	mikey_msg_algs(m, &e, &a);
	if (e == MIKEY_ENCR_NULL)
		e = MIKEY_ENCR_AES_CM_128;
	return mikey_derive_msg_keys((enum mikey_prf)m->hdr.prf, inkey, 16,
				     m->hdr.csb_id, dir, ri, rr, e, a, k);
}

/* §4.1 at the KMS: timestamp, Alice's PSK, MAC with the identities. */
static void test_kms_request(void)
{
	static struct mikey_msg m;
	static struct mikey_chain tp;
	struct mikey_msg_keys k;
	struct mikey_diag d;
	const struct mikey_pl *t, *pol;
	struct mikey_mac_extra x;
	int64_t now = 1709294400; /* 2024-03-01 12:00:00 UTC */

	CHECK_OK(mikey_decode(EX(MIKEY_EX_REQUEST_INIT), &m, &d));
	t = mikey_chain_find(&m.ch, MIKEY_PT_T, 0);
	CHECK(t && mikey_ts_unix(&t->u.t) == now);
	CHECK_OK(mikey_ts_check(&t->u.t, now + 10, 300));
	CHECK_ERR(mikey_ts_check(&t->u.t, now + 301, 300), CC_ERR_STALE);
	CHECK_ERR(mikey_ts_check(&t->u.t, now - 301, 300), CC_ERR_FUTURE);
	CHECK(idr(&m, MIKEY_IDR_PSK).len == 11);
	CHECK_OK(keys_for(&m, mikey_ex_psk_alice, MIKEY_LBL_INIT,
			  randr(&m, MIKEY_RANDR_I), none, &k));
	x = (struct mikey_mac_extra){
		{ idr(&m, MIKEY_IDR_I), idr(&m, MIKEY_IDR_KMS) }, 2
	};
	CHECK_OK(mikey_verify(EX(MIKEY_EX_REQUEST_INIT), &m, &k, &x));
	/* Bob's PSK does not verify Alice's request */
	CHECK_OK(keys_for(&m, mikey_ex_psk_bob, MIKEY_LBL_INIT,
			  randr(&m, MIKEY_RANDR_I), none, &k));
	CHECK_ERR(mikey_verify(EX(MIKEY_EX_REQUEST_INIT), &m, &k, &x),
		  CC_ERR_BAD_MAC);
	/* The desired policy: TP Data with a KEMAC template, Bob as IDRr */
	pol = mikey_chain_find(&m.ch, MIKEY_PT_TP, 0);
	CHECK(pol != NULL);
	CHECK_OK(mikey_decode_chain(pol->u.ticket.tp_data.p,
				    pol->u.ticket.tp_data.len, true, &tp, &d));
	CHECK_OK(mikey_check_tp_data(&tp, false, &d));
	CHECK_ERR(mikey_check_tp_data(&tp, true, &d), CC_ERR_ORDER);
	CHECK_OK(mikey_check_flags(pol->u.ticket.flags, &d));
	CHECK(chain_has_idr(&tp, MIKEY_IDR_R, mikey_ex_bob));
	mikey_msg_keys_wipe(&k);
}

static void check_key(const struct mikey_key *k, uint8_t type,
		      const char *key_hex, const char *salt_hex,
		      const char *spi_hex)
{
	CHECK(k->type == type);
	CHECK(k->kv == MIKEY_KV_SPI);
	CHECK_HEX(k->key.p, k->key.len, key_hex);
	if (salt_hex)
		CHECK_HEX(k->salt.p, k->salt.len, salt_hex);
	else
		CHECK(k->salt.len == 0);
	CHECK_HEX(k->spi.p, k->spi.len, spi_hex);
}

#define MPKI_HEX "ce8dd317c23951ba86fc68dd137d1a9a"
#define TGK_HEX "404142434445464748494a4b4c4d4e4f"

/* §4.2 at Alice: the REQUEST_RESP MAC covers RESP || the whole INIT. */
static void test_alice_request_resp(void)
{
	static struct mikey_msg req, m;
	struct mikey_msg_keys k;
	struct mikey_keys keys;
	struct mikey_diag d;
	struct mikey_mac_extra x = { { { EX(MIKEY_EX_REQUEST_INIT) } }, 1 };
	uint8_t plain[256];

	CHECK_OK(mikey_decode(EX(MIKEY_EX_REQUEST_INIT), &req, &d));
	CHECK_OK(mikey_decode(EX(MIKEY_EX_REQUEST_RESP), &m, &d));
	CHECK(m.hdr.csb_id == req.hdr.csb_id);
	CHECK_OK(keys_for(&m, mikey_ex_psk_alice, MIKEY_LBL_RESP,
			  randr(&req, MIKEY_RANDR_I), none, &k));
	CHECK_OK(mikey_verify(EX(MIKEY_EX_REQUEST_RESP), &m, &k, &x));
	/* appending a different INIT breaks the MAC */
	x.part[0].len--;
	CHECK_ERR(mikey_verify(EX(MIKEY_EX_REQUEST_RESP), &m, &k, &x),
		  CC_ERR_BAD_MAC);
	CHECK_OK(mikey_kemac_open(&m, &k, plain, sizeof(plain), &keys, &d));
	CHECK(keys.n == 2);
	/* A5/A6: MPKi first, with the fixed zero SPI; the TGK has MKI 1 */
	check_key(&keys.k[0], MIKEY_KEY_MPK, MPKI_HEX, NULL, "00000000");
	check_key(&keys.k[1], MIKEY_KEY_TGK, TGK_HEX, NULL, "00000001");
	cc_wipe(plain, sizeof(plain));
	mikey_msg_keys_wipe(&k);
}

static enum cc_err tpk_lookup(struct cc_slice id, void *arg,
			      const uint8_t **tpk, size_t *len)
{
	(void)arg;
	if (id.len != 5 || memcmp(id.p, "tpk-7", 5))
		return CC_ERR_NOT_FOUND;
	*tpk = mikey_ex_tpk;
	*len = sizeof(mikey_ex_tpk);
	return CC_OK;
}

static const uint8_t wrong_tpk[16] = { 1 };

static enum cc_err wrong_lookup(struct cc_slice id, void *arg,
				const uint8_t **tpk, size_t *len)
{
	(void)id;
	(void)arg;
	*tpk = wrong_tpk;
	*len = sizeof(wrong_tpk);
	return CC_OK;
}

/* The base ticket as the KMS reads it back (App. A). */
static void test_ticket_open(void)
{
	static struct mikey_msg m;
	struct mikey_keys keys;
	struct mikey_ts issued;
	struct mikey_diag d;
	struct mikey_pl_ticket t;
	const struct mikey_pl *p;
	uint8_t plain[256];

	CHECK_OK(mikey_decode(EX(MIKEY_EX_TRANSFER_INIT), &m, &d));
	p = mikey_chain_find(&m.ch, MIKEY_PT_TICKET, 0);
	CHECK(p != NULL);
	if (!p)
		return;
	t = p->u.ticket;
	CHECK_OK(mikey_ticket_open(&t, tpk_lookup, NULL, plain, sizeof(plain),
				   &keys, &issued, &d));
	CHECK(keys.n == 2);
	check_key(&keys.k[0], MIKEY_KEY_MPK, "303132333435363738393a3b3c3d3e3f",
		  NULL, "00000000");
	check_key(&keys.k[1], MIKEY_KEY_TGK, TGK_HEX, NULL, "00000001");
	CHECK(issued.value == NTP_2024_03_01_12 + (1ull << 32));
	CHECK_ERR(mikey_ticket_open(&t, wrong_lookup, NULL, plain,
				    sizeof(plain), &keys, NULL, &d),
		  CC_ERR_BAD_MAC);
	t.ticket_type = MIKEY_TICKET_3GPP; /* A16: not supported */
	CHECK_ERR(mikey_ticket_open(&t, tpk_lookup, NULL, plain, sizeof(plain),
				    &keys, NULL, &d),
		  CC_ERR_TICKET_TYPE);
	CHECK(mikey_errno_for(CC_ERR_TICKET_TYPE) == MIKEY_ERR_INVALID_TICKET);
	/* the ticket MAC covers the policy: a changed flag is caught */
	t = p->u.ticket;
	t.flags ^= MIKEY_TPF_J;
	CHECK_ERR(mikey_ticket_open(&t, tpk_lookup, NULL, plain, sizeof(plain),
				    &keys, NULL, &d),
		  CC_ERR_BAD_MAC);
	cc_wipe(plain, sizeof(plain));
}

/* §4.3-§4.5 at Bob: early policy checks, resolve, then verify with MPKi. */
static void test_bob_transfer_init(void)
{
	static struct mikey_msg xi, ri, rr;
	static struct mikey_chain tp;
	struct mikey_msg_keys k;
	struct mikey_keys keys;
	struct mikey_diag d;
	const struct mikey_pl *t;
	struct mikey_mac_extra x;
	uint8_t plain[256];

	CHECK_OK(mikey_decode(EX(MIKEY_EX_TRANSFER_INIT), &xi, &d));
	t = mikey_chain_find(&xi.ch, MIKEY_PT_TICKET, 0);
	CHECK(t != NULL);
	if (!t)
		return;
	/* §7 step 1: policy before contacting the KMS */
	CHECK_OK(mikey_check_flags(t->u.ticket.flags, &d));
	CHECK_OK(mikey_decode_chain(t->u.ticket.tp_data.p,
				    t->u.ticket.tp_data.len, true, &tp, &d));
	CHECK_OK(mikey_check_tp_data(&tp, true, &d));
	CHECK(chain_has_idr(&tp, MIKEY_IDR_R, mikey_ex_bob));
	/* the KMS verifies the RESOLVE_INIT with Bob's PSK */
	CHECK_OK(mikey_decode(EX(MIKEY_EX_RESOLVE_INIT), &ri, &d));
	CHECK_OK(keys_for(&ri, mikey_ex_psk_bob, MIKEY_LBL_INIT, none,
			  randr(&ri, MIKEY_RANDR_R), &k));
	x = (struct mikey_mac_extra){
		{ idr(&ri, MIKEY_IDR_R), idr(&ri, MIKEY_IDR_KMS) }, 2
	};
	CHECK_OK(mikey_verify(EX(MIKEY_EX_RESOLVE_INIT), &ri, &k, &x));
	/* Bob verifies the RESOLVE_RESP and learns MPKi */
	CHECK_OK(mikey_decode(EX(MIKEY_EX_RESOLVE_RESP), &rr, &d));
	CHECK_OK(keys_for(&rr, mikey_ex_psk_bob, MIKEY_LBL_RESP, none,
			  randr(&ri, MIKEY_RANDR_R), &k));
	x = (struct mikey_mac_extra){ { { EX(MIKEY_EX_RESOLVE_INIT) } }, 1 };
	CHECK_OK(mikey_verify(EX(MIKEY_EX_RESOLVE_RESP), &rr, &k, &x));
	CHECK_OK(mikey_kemac_open(&rr, &k, plain, sizeof(plain), &keys, &d));
	CHECK(keys.n == 2);
	check_key(&keys.k[0], MIKEY_KEY_MPK, MPKI_HEX, NULL, "00000000");
	/* now the TRANSFER_INIT: MAC excludes Initiator Data, adds ids */
	CHECK_OK(keys_for(&xi, keys.k[0].key.p, MIKEY_LBL_INIT,
			  randr(&xi, MIKEY_RANDR_I), none, &k));
	x = (struct mikey_mac_extra){
		{ idr(&xi, MIKEY_IDR_I), idr(&xi, MIKEY_IDR_R) }, 2
	};
	CHECK_OK(mikey_verify(EX(MIKEY_EX_TRANSFER_INIT), &xi, &k, &x));
	/* a TRANSFER_INIT naming someone else as IDRr fails the MAC */
	x.part[1] = mikey_str("sip:mallory@example.org");
	CHECK_ERR(mikey_verify(EX(MIKEY_EX_TRANSFER_INIT), &xi, &k, &x),
		  CC_ERR_BAD_MAC);
	cc_wipe(plain, sizeof(plain));
	mikey_msg_keys_wipe(&k);
}

static void mpki_resp_keys(struct mikey_msg_keys *k)
{
	uint8_t mpki[16];

	CHECK_OK(mikey_derive_mpk(MIKEY_PRF_MIKEY1, mikey_ex_mpk, 16,
				  S(mikey_ex_rand_ticket), false, mpki));
	CHECK_HEX(mpki, 16, MPKI_HEX);
	CHECK_OK(mikey_derive_msg_keys(MIKEY_PRF_MIKEY1, mpki, 16, 0x1A2B3C4D,
				       MIKEY_LBL_RESP, S(mikey_ex_randri_xfer),
				       none, MIKEY_ENCR_AES_CM_128,
				       MIKEY_MAC_HMAC_SHA1_160, k));
	cc_wipe(mpki, sizeof(mpki));
}

/* The same checks with the prepared key set a CSB keeps (same results). */
static void receive_keyed(const struct mikey_msg *m, enum mikey_example_id id,
			  const struct mikey_msg_keys *k,
			  const struct mikey_mac_extra *x,
			  const struct mikey_keys *want)
{
	struct mikey_keyed *kd = NULL;
	struct mikey_keys got;
	struct mikey_diag d;
	uint8_t plain[256], bad[512];
	size_t i;

	CHECK_OK(mikey_keyed_alloc(&kd, k));
	if (!kd)
		return;
	CHECK_OK(mikey_verify_keyed(EX(id), m, kd, x));
	memcpy(bad, ex[id].buf, ex[id].len);
	bad[12] ^= 1; /* a MAC-covered byte (m still describes the original) */
	CHECK_ERR(mikey_verify_keyed(bad, ex[id].len, m, kd, x),
		  CC_ERR_BAD_MAC);
	CHECK_ERR(mikey_verify_keyed(EX(id), m, kd, NULL), CC_ERR_BAD_MAC);
	if (want->n) {
		CHECK_OK(mikey_kemac_open_keyed(m, kd, plain, sizeof(plain),
						&got, &d));
		CHECK(got.n == want->n);
		for (i = 0; i < got.n && i < want->n; i++)
			CHECK(got.k[i].key.len == want->k[i].key.len &&
			      !memcmp(got.k[i].key.p, want->k[i].key.p,
				      got.k[i].key.len));
	}
	cc_wipe(plain, sizeof(plain));
	mikey_keyed_free(kd);
}

/* Open and check one Ticket Transfer message at its receiver. `need` is
 * the flag that lets its sender supply keys (L for I, M for R). */
static void receive(enum mikey_example_id id, enum mikey_example_id init,
		    bool ids, uint16_t need, struct mikey_keys *keys,
		    uint8_t *plain)
{
	static struct mikey_msg m;
	struct mikey_msg_keys k;
	struct mikey_diag d;
	struct mikey_mac_extra x = { { { EX(init) } }, 1 };
	const uint16_t both = MIKEY_TPF_L | MIKEY_TPF_M;

	keys->n = 0;
	mpki_resp_keys(&k);
	CHECK_OK(mikey_decode(EX(id), &m, &d));
	CHECK_OK(mikey_check_layout(&m, ex[id].variant, &d));
	if (ids) /* A4: original Initiator first, in both directions */
		x = (struct mikey_mac_extra){ { mikey_str(mikey_ex_alice),
						mikey_str(mikey_ex_bob) },
					      2 };
	CHECK_OK(mikey_verify(EX(id), &m, &k, &x));
	CHECK_OK(mikey_check_key_supply(&m, ex[id].variant, both, &d));
	if (mikey_chain_find(&m.ch, MIKEY_PT_KEMAC, 0)) {
		/* A29: the sender's flag clear => reject before installing */
		CHECK_ERR(mikey_check_key_supply(&m, ex[id].variant,
						 both & ~need, &d),
			  CC_ERR_POLICY);
		CHECK(mikey_errno_for(CC_ERR_POLICY) ==
		      MIKEY_ERR_INVALID_TPPAR);
		CHECK_OK(mikey_kemac_open(&m, &k, plain, 256, keys, &d));
	}
	receive_keyed(&m, id, &k, &x, keys);
	mikey_msg_keys_wipe(&k);
}

/* §4.6 and §4.7 at Alice; §2 TEKs from the ticket's TGK. */
static void test_alice_transfer_resp(void)
{
	struct mikey_keys keys;
	uint8_t plain[256], tek[16], salt[14];

	receive(MIKEY_EX_TRANSFER_RESP, MIKEY_EX_TRANSFER_INIT, false,
		MIKEY_TPF_M, &keys, plain);
	CHECK(keys.n == 0);
	CHECK_OK(mikey_derive_tek(MIKEY_PRF_MIKEY1, mikey_ex_tgk, 16,
				  MIKEY_C_TEK, 1, S(mikey_ex_randri_xfer), none,
				  tek, 16));
	CHECK_HEX(tek, 16, "5ccded59996463f8cac7184496234c82");
	CHECK_OK(mikey_derive_tek(MIKEY_PRF_MIKEY1, mikey_ex_tgk, 16,
				  MIKEY_C_TEK_SALT, 2, S(mikey_ex_randri_xfer),
				  none, salt, 14));
	CHECK_HEX(salt, 14, "d9d6f3c3daa692bf910505cb1b38");
	/* §4.7: the focus hands out the group key, MKI 3 */
	receive(MIKEY_EX_TRANSFER_RESP_KEY, MIKEY_EX_TRANSFER_INIT, false,
		MIKEY_TPF_M, &keys, plain);
	CHECK(keys.n == 1);
	if (keys.n == 1)
		check_key(&keys.k[0], MIKEY_KEY_TEK_SALT,
			  "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
			  "b0b1b2b3b4b5b6b7b8b9babbbcbd", "00000003");
	cc_wipe(plain, sizeof(plain));
}

/* §9 and §10: CSB updates in both directions (RFC 6043 §5.2). */
static void test_updates(void)
{
	struct mikey_keys keys;
	uint8_t plain[256], tek[16], salt[14];

	receive(MIKEY_EX_UPDATE_I_INIT, MIKEY_EX_UPDATE_I_INIT, true,
		MIKEY_TPF_L, &keys, plain);
	CHECK(keys.n == 1);
	if (keys.n == 1) {
		check_key(&keys.k[0], MIKEY_KEY_TGK,
			  "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", NULL, "00000002");
		/* the new TGK with the ORIGINAL RANDRi (§9 table) */
		CHECK_OK(mikey_derive_tek(
			MIKEY_PRF_MIKEY1, keys.k[0].key.p, 16, MIKEY_C_TEK, 2,
			S(mikey_ex_randri_xfer), none, tek, 16));
		CHECK_HEX(tek, 16, "584c4a7a21e91fc290d2c6c93e6a42d9");
		CHECK_OK(mikey_derive_tek(
			MIKEY_PRF_MIKEY1, keys.k[0].key.p, 16, MIKEY_C_TEK_SALT,
			1, S(mikey_ex_randri_xfer), none, salt, 14));
		CHECK_HEX(salt, 14, "d69ed4a1422aab0f3768c686bbb1");
	}
	receive(MIKEY_EX_UPDATE_I_RESP, MIKEY_EX_UPDATE_I_INIT, false,
		MIKEY_TPF_M, &keys, plain);
	receive(MIKEY_EX_UPDATE_R_INIT, MIKEY_EX_UPDATE_R_INIT, true,
		MIKEY_TPF_M, &keys, plain);
	CHECK(keys.n == 1);
	if (keys.n == 1)
		check_key(&keys.k[0], MIKEY_KEY_TEK_SALT,
			  "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
			  "e0e1e2e3e4e5e6e7e8e9eaebeced", "00000002");
	receive(MIKEY_EX_UPDATE_R_RESP, MIKEY_EX_UPDATE_R_INIT, false,
		MIKEY_TPF_L, &keys, plain);
	cc_wipe(plain, sizeof(plain));
	cc_wipe(tek, sizeof(tek));
	cc_wipe(salt, sizeof(salt));
}

/* The update layouts are strict: an update with the wrong variant (e.g.
 * read as initial) lacks RANDRi/TICKET; an initial message read as an
 * update carries forbidden RANDR/TICKET. */
static void test_variants(void)
{
	static struct mikey_msg m;
	struct mikey_diag d;

	CHECK_OK(mikey_decode(EX(MIKEY_EX_UPDATE_I_INIT), &m, &d));
	CHECK_ERR(mikey_check_layout(&m, MIKEY_INITIAL, &d), CC_ERR_MISSING);
	CHECK_OK(mikey_decode(EX(MIKEY_EX_TRANSFER_INIT), &m, &d));
	CHECK_ERR(mikey_check_layout(&m, MIKEY_UPDATE_BY_I, &d), CC_ERR_ORDER);
	CHECK(d.payload && !strcmp(d.payload, "RANDR"));
}

int main(void)
{
	CHECK_OK(mikey_examples_build(ex));
	test_bytes();
	test_sdp_lines();
	test_roundtrip();
	test_kms_request();
	test_alice_request_resp();
	test_ticket_open();
	test_bob_transfer_init();
	test_alice_transfer_resp();
	test_updates();
	test_variants();
	CHECK_DONE();
}
