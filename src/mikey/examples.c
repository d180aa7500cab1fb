/*
 * examples.c -- spec/worked-examples.md rebuilt through the public API:
 * every message the parties of a mode-1 flow exchange, each built as that
 * party would build it (Alice = Initiator, Bob = Responder / focus).
 */
#include <conclave/mikey_examples.h>

#include <string.h>

#define SEQ14(b)                                                              \
	b + 0, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, \
		b + 10, b + 11, b + 12, b + 13
#define SEQ16(b)                         \
	{                                \
		SEQ14(b), b + 14, b + 15 \
	}

const uint8_t mikey_ex_psk_alice[16] = SEQ16(0x00);
const uint8_t mikey_ex_psk_bob[16] = SEQ16(0x10);
const uint8_t mikey_ex_tpk[16] = SEQ16(0x20);
const uint8_t mikey_ex_mpk[16] = SEQ16(0x30);
const uint8_t mikey_ex_tgk[16] = SEQ16(0x40);
const uint8_t mikey_ex_rand_ticket[16] = SEQ16(0x50);
const uint8_t mikey_ex_randri_req[16] = SEQ16(0x60);
const uint8_t mikey_ex_randri_xfer[16] = SEQ16(0x70);
const uint8_t mikey_ex_randrr_res[16] = SEQ16(0x80);
static const uint8_t group_tek[16] = SEQ16(0xa0);
static const uint8_t group_salt[14] = { SEQ14(0xb0) };
static const uint8_t new_tgk[16] = SEQ16(0xc0);
static const uint8_t new_tek[16] = SEQ16(0xd0);
static const uint8_t new_salt[14] = { SEQ14(0xe0) };
static const uint8_t zero16[16];
const char *const mikey_ex_alice = "sip:alice@example.org";
const char *const mikey_ex_bob = "sip:bob@example.org";
const char *const mikey_ex_kms = "sip:kms.example.org";

#define T0 0xe98c41c000000000ull /* 2024-03-01 12:00:00 UTC */
#define SEC(n) ((uint64_t)(n) << 32)
#define TRE 0xe98d9340u /* 2024-03-02 12:00:00, NTP-UTC-32 */
#define CSB_REQ 0x0A0B0C0Du
#define CSB_XFER 0x1A2B3C4Du
#define CSB_RES 0x2A2B2C2Du

static const uint8_t spi0[4] = { 0, 0, 0, 0 }, spi1[4] = { 0, 0, 0, 1 },
		     spi2[4] = { 0, 0, 0, 2 }, spi3[4] = { 0, 0, 0, 3 };

#define S(a) ((struct cc_slice){ (a), sizeof(a) })

/* State carried from one message to the next, as the parties keep it. */
struct flow {
	struct mikey_example *ex;
	uint16_t flags;
	uint8_t tp_req[256], tp_granted[256], ticket_data[512];
	size_t tp_req_len, tp_granted_len;
	uint8_t sp[64];
	size_t sp_len;
	struct mikey_pl_ticket ticket; /* granted, as the KMS issued it */
	uint8_t mpki[16];
	struct mikey_msg_keys xfer_resp_keys; /* also protect CSB updates */
	struct mikey_keyed *resp; /* the same, prepared, as a CSB keeps it */
};

static void key(struct mikey_keys *ks, uint8_t type, const uint8_t *k,
		size_t klen, const uint8_t *salt, size_t slen,
		const uint8_t *spi)
{
	struct mikey_key *x = &ks->k[ks->n++];

	memset(x, 0, sizeof(*x));
	x->type = type;
	x->kv = MIKEY_KV_SPI;
	x->key = (struct cc_slice){ k, klen };
	x->salt = (struct cc_slice){ salt, slen };
	x->spi = (struct cc_slice){ spi, 4 };
}

static void finish(struct flow *f, enum mikey_example_id id,
		   struct mikey_msg *m, const struct mikey_seal_opts *o,
		   enum cc_err *err)
{
	struct cc_wr wr;

	if (*err)
		return;
	cc_wr_init(&wr, f->ex[id].buf, sizeof(f->ex[id].buf));
	*err = mikey_seal(m, o, &wr);
	f->ex[id].len = wr.pos;
}

/* TP Data of §4.1 (desired, with a KEMAC template) or §4.2 (granted). */
static enum cc_err tp_data(bool desired, uint8_t *out, size_t cap, size_t *len,
			   uint8_t *tmpl)
{
	struct mikey_chain ch = { .n = 0 };
	struct mikey_keys ks = { .n = 0 };
	struct mikey_pl *pl;
	struct cc_wr wr;
	enum cc_err err;

	mikey_add_idr(&ch, MIKEY_IDR_KMS, MIKEY_ID_URI,
		      mikey_str(mikey_ex_kms));
	mikey_add_idr(&ch, MIKEY_IDR_I, MIKEY_ID_URI,
		      mikey_str(mikey_ex_alice));
	mikey_add_tr(&ch, MIKEY_TSR_END, MIKEY_TS_NTP_UTC_32, TRE);
	if (desired) {
		/* RFC 6043 §6.10: a template KEMAC, NULL encr, zero keys */
		key(&ks, MIKEY_KEY_TGK, zero16, 16, NULL, 0, spi0);
		cc_wr_init(&wr, tmpl, 64);
		err = mikey_keys_encode(&ks, &wr);
		if (err)
			return err;
		pl = mikey_add_kemac(&ch);
		pl->u.kemac.encr = (struct cc_slice){ tmpl, wr.pos };
	}
	mikey_add_idr(&ch, MIKEY_IDR_R, MIKEY_ID_URI, mikey_str(mikey_ex_bob));
	cc_wr_init(&wr, out, cap);
	err = mikey_encode_chain(&ch, true, &wr);
	*len = wr.pos;
	return err;
}

static void set_policy(struct mikey_pl_ticket *t, uint16_t flags,
		       const uint8_t *tp, size_t tp_len)
{
	memset(t, 0, sizeof(*t));
	t->ticket_type = MIKEY_TICKET_BASE;
	t->subtype = MIKEY_TICKET_BASE_SUBTYPE;
	t->version = MIKEY_TICKET_BASE_VERSION;
	t->prf = MIKEY_PRF_MIKEY1;
	t->flags = flags;
	t->tp_data = (struct cc_slice){ tp, tp_len };
}

/* §4.1 Alice -> KMS */
static enum cc_err request_init(struct flow *f)
{
	struct mikey_msg m;
	struct mikey_msg_keys k;
	struct mikey_seal_opts o = { .keys = &k };
	struct mikey_pl *pl;
	uint8_t tmpl[64];
	enum cc_err err;

	err = tp_data(true, f->tp_req, sizeof(f->tp_req), &f->tp_req_len, tmpl);
	if (!err)
		err = mikey_derive_msg_keys(
			MIKEY_PRF_MIKEY1, mikey_ex_psk_alice, 16, CSB_REQ,
			MIKEY_LBL_INIT, S(mikey_ex_randri_req),
			(struct cc_slice){ 0 }, MIKEY_ENCR_AES_CM_128,
			MIKEY_MAC_HMAC_SHA1_160, &k);
	if (err)
		return err;
	mikey_msg_init(&m, MIKEY_DT_REQUEST_INIT_PSK, true, MIKEY_PRF_MIKEY1,
		       CSB_REQ, MIKEY_MAP_EMPTY);
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, T0);
	mikey_add_randr(&m.ch, MIKEY_RANDR_I, S(mikey_ex_randri_req));
	mikey_add_idr(&m.ch, MIKEY_IDR_I, MIKEY_ID_URI,
		      mikey_str(mikey_ex_alice));
	mikey_add_idr(&m.ch, MIKEY_IDR_KMS, MIKEY_ID_URI,
		      mikey_str(mikey_ex_kms));
	pl = mikey_chain_add(&m.ch, MIKEY_PT_TP);
	if (pl)
		set_policy(&pl->u.ticket, f->flags, f->tp_req, f->tp_req_len);
	mikey_add_idr(&m.ch, MIKEY_IDR_PSK, MIKEY_ID_BYTES,
		      mikey_str("alice-psk-1"));
	mikey_add_v(&m.ch);
	/* Table 5.2: REQUEST_INIT || Identity_i || Identity_kms */
	o.extra = (struct mikey_mac_extra){
		{ mikey_str(mikey_ex_alice), mikey_str(mikey_ex_kms) }, 2
	};
	finish(f, MIKEY_EX_REQUEST_INIT, &m, &o, &err);
	mikey_msg_keys_wipe(&k);
	return err;
}

/* The KMS issues the base ticket (App. A) for §4.2. */
static enum cc_err issue_ticket(struct flow *f)
{
	struct mikey_keys ks = { .n = 0 };
	struct mikey_ticket_seal_in in = {
		.tpk = mikey_ex_tpk,
		.tpk_len = 16,
		.tpk_id = mikey_str("tpk-7"),
		.encr_alg = MIKEY_ENCR_AES_CM_128,
		.mac_alg = MIKEY_MAC_HMAC_SHA1_160,
		.t = { MIKEY_TS_NTP_UTC, T0 + SEC(1) },
		.rand = S(mikey_ex_rand_ticket),
		.keys = &ks,
	};
	uint8_t tmpl[64];
	enum cc_err err;

	/* A6: the MPK carries the fixed zero SPI; the TGK SPI 1 (= MKI) */
	key(&ks, MIKEY_KEY_MPK, mikey_ex_mpk, 16, NULL, 0, spi0);
	key(&ks, MIKEY_KEY_TGK, mikey_ex_tgk, 16, NULL, 0, spi1);
	err = tp_data(false, f->tp_granted, sizeof(f->tp_granted),
		      &f->tp_granted_len, tmpl);
	if (err)
		return err;
	set_policy(&f->ticket, f->flags, f->tp_granted, f->tp_granted_len);
	err = mikey_ticket_seal(&f->ticket, &in, f->ticket_data,
				sizeof(f->ticket_data));
	if (!err)
		err = mikey_derive_mpk(MIKEY_PRF_MIKEY1, mikey_ex_mpk, 16,
				       S(mikey_ex_rand_ticket), false, f->mpki);
	return err;
}

/* §4.2 KMS -> Alice; §4.5 KMS -> Bob: KEMAC = MPKi || TGK */
static enum cc_err kms_resp(struct flow *f, enum mikey_example_id id,
			    enum mikey_example_id init, uint8_t dt,
			    uint32_t csb, uint64_t t, const uint8_t *psk,
			    struct cc_slice ri, struct cc_slice rr)
{
	struct mikey_msg m;
	struct mikey_msg_keys k;
	struct mikey_keys ks = { .n = 0 };
	struct mikey_seal_opts o = { .keys = &k, .kemac = &ks };
	struct mikey_pl *pl;
	enum cc_err err;

	err = mikey_derive_msg_keys(MIKEY_PRF_MIKEY1, psk, 16, csb,
				    MIKEY_LBL_RESP, ri, rr,
				    MIKEY_ENCR_AES_CM_128,
				    MIKEY_MAC_HMAC_SHA1_160, &k);
	if (err)
		return err;
	key(&ks, MIKEY_KEY_MPK, f->mpki, 16, NULL, 0, spi0);
	key(&ks, MIKEY_KEY_TGK, mikey_ex_tgk, 16, NULL, 0, spi1);
	mikey_msg_init(&m, dt, false, MIKEY_PRF_MIKEY1, csb, MIKEY_MAP_EMPTY);
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, t);
	mikey_add_idr(&m.ch, MIKEY_IDR_KMS, MIKEY_ID_URI,
		      mikey_str(mikey_ex_kms));
	if (dt == MIKEY_DT_REQUEST_RESP) {
		pl = mikey_chain_add(&m.ch, MIKEY_PT_TICKET);
		if (pl)
			pl->u.ticket = f->ticket;
	}
	mikey_add_kemac(&m.ch);
	mikey_add_v(&m.ch);
	/* Table 5.2: RESP || the complete INIT */
	o.extra.part[0] = (struct cc_slice){ f->ex[init].buf, f->ex[init].len };
	o.extra.n = 1;
	finish(f, id, &m, &o, &err);
	mikey_msg_keys_wipe(&k);
	return err;
}

static enum cc_err xfer_map(struct mikey_msg *m, const uint8_t *spi,
			    bool initial)
{
	enum cc_err err;

	/* A22: CS 1 = Alice -> Bob, CS 2 = Bob -> Alice */
	err = mikey_hdr_add_cs(&m->hdr, 1, 0, true, 0x11223344, spi, 4);
	if (!err && initial)
		err = mikey_hdr_add_cs(&m->hdr, 2, 0, false, 0, NULL, 0);
	else if (!err)
		err = mikey_hdr_add_cs(&m->hdr, 2, 0, true, 0x55667788, spi, 4);
	return err;
}

/* §4.3 Alice -> Bob */
static enum cc_err transfer_init(struct flow *f)
{
	struct mikey_msg m;
	struct mikey_msg_keys k;
	struct mikey_seal_opts o = { .keys = &k };
	struct mikey_srtp_policy pol;
	struct mikey_pl *pl;
	struct cc_wr wr;
	enum cc_err err;

	mikey_srtp_policy_aes_cm_128_sha1_80(&pol);
	cc_wr_init(&wr, f->sp, sizeof(f->sp));
	err = mikey_srtp_policy_encode(&pol, &wr);
	f->sp_len = wr.pos;
	if (!err)
		err = mikey_derive_msg_keys(
			MIKEY_PRF_MIKEY1, f->mpki, 16, CSB_XFER, MIKEY_LBL_INIT,
			S(mikey_ex_randri_xfer), (struct cc_slice){ 0 },
			MIKEY_ENCR_AES_CM_128, MIKEY_MAC_HMAC_SHA1_160, &k);
	if (err)
		return err;
	/* A1: V = F of the ticket policy */
	mikey_msg_init(&m, MIKEY_DT_TRANSFER_INIT, true, MIKEY_PRF_MIKEY1,
		       CSB_XFER, MIKEY_MAP_GENERIC_ID);
	err = xfer_map(&m, spi1, true);
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, T0 + SEC(2));
	mikey_add_randr(&m.ch, MIKEY_RANDR_I, S(mikey_ex_randri_xfer));
	mikey_add_idr(&m.ch, MIKEY_IDR_I, MIKEY_ID_URI,
		      mikey_str(mikey_ex_alice));
	mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI,
		      mikey_str(mikey_ex_bob));
	mikey_add_sp(&m.ch, 0, (struct cc_slice){ f->sp, f->sp_len });
	pl = mikey_chain_add(&m.ch, MIKEY_PT_TICKET);
	if (pl)
		pl->u.ticket = f->ticket;
	mikey_add_v(&m.ch);
	o.extra = (struct mikey_mac_extra){
		{ mikey_str(mikey_ex_alice), mikey_str(mikey_ex_bob) }, 2
	};
	finish(f, MIKEY_EX_TRANSFER_INIT, &m, &o, &err);
	mikey_msg_keys_wipe(&k);
	return err;
}

/* §4.4 Bob -> KMS: the TICKET exactly as received in the TRANSFER_INIT */
static enum cc_err resolve_init(struct flow *f)
{
	struct mikey_msg m, xi;
	struct mikey_msg_keys k;
	struct mikey_seal_opts o = { .keys = &k };
	const struct mikey_pl *t;
	struct mikey_pl *pl;
	enum cc_err err;

	err = mikey_decode(f->ex[MIKEY_EX_TRANSFER_INIT].buf,
			   f->ex[MIKEY_EX_TRANSFER_INIT].len, &xi, NULL);
	if (err)
		return err;
	t = mikey_chain_find(&xi.ch, MIKEY_PT_TICKET, 0);
	err = mikey_derive_msg_keys(
		MIKEY_PRF_MIKEY1, mikey_ex_psk_bob, 16, CSB_RES, MIKEY_LBL_INIT,
		(struct cc_slice){ 0 }, S(mikey_ex_randrr_res),
		MIKEY_ENCR_AES_CM_128, MIKEY_MAC_HMAC_SHA1_160, &k);
	if (err || !t)
		return err ? err : CC_ERR_MISSING;
	mikey_msg_init(&m, MIKEY_DT_RESOLVE_INIT_PSK, true, MIKEY_PRF_MIKEY1,
		       CSB_RES, MIKEY_MAP_EMPTY);
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, T0 + SEC(3));
	mikey_add_randr(&m.ch, MIKEY_RANDR_R, S(mikey_ex_randrr_res));
	mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI,
		      mikey_str(mikey_ex_bob));
	mikey_add_idr(&m.ch, MIKEY_IDR_KMS, MIKEY_ID_URI,
		      mikey_str(mikey_ex_kms));
	pl = mikey_chain_add(&m.ch, MIKEY_PT_TICKET);
	if (pl)
		pl->u.ticket = t->u.ticket;
	mikey_add_idr(&m.ch, MIKEY_IDR_PSK, MIKEY_ID_BYTES,
		      mikey_str("bob-psk-1"));
	mikey_add_v(&m.ch);
	o.extra = (struct mikey_mac_extra){
		{ mikey_str(mikey_ex_bob), mikey_str(mikey_ex_kms) }, 2
	};
	finish(f, MIKEY_EX_RESOLVE_INIT, &m, &o, &err);
	mikey_msg_keys_wipe(&k);
	return err;
}

/* §4.6 / §4.7 Bob -> Alice (with the group key when group is set) */
static enum cc_err transfer_resp(struct flow *f, bool group)
{
	enum mikey_example_id id = group ? MIKEY_EX_TRANSFER_RESP_KEY :
					   MIKEY_EX_TRANSFER_RESP;
	struct mikey_msg m;
	struct mikey_keys ks = { .n = 0 };
	struct mikey_seal_opts o = { .keys = &f->xfer_resp_keys };
	enum cc_err err = CC_OK;

	mikey_msg_init(&m, MIKEY_DT_TRANSFER_RESP, false, MIKEY_PRF_MIKEY1,
		       CSB_XFER, MIKEY_MAP_GENERIC_ID);
	err = xfer_map(&m, group ? spi3 : spi1, false);
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, T0 + SEC(5));
	mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI,
		      mikey_str(mikey_ex_bob));
	if (group) {
		/* allowed because M = 1 (A29) */
		key(&ks, MIKEY_KEY_TEK_SALT, group_tek, 16, group_salt, 14,
		    spi3);
		o.kemac = &ks;
		mikey_add_kemac(&m.ch);
	}
	mikey_add_v(&m.ch);
	o.extra.part[0] =
		(struct cc_slice){ f->ex[MIKEY_EX_TRANSFER_INIT].buf,
				   f->ex[MIKEY_EX_TRANSFER_INIT].len };
	o.extra.n = 1;
	finish(f, id, &m, &o, &err);
	return err;
}

/* §9.1 (by Alice, new TGK) and §10.1 (by Bob, new group TEK+salt) */
static enum cc_err update_init(struct flow *f, bool by_r)
{
	enum mikey_example_id id = by_r ? MIKEY_EX_UPDATE_R_INIT :
					  MIKEY_EX_UPDATE_I_INIT;
	struct mikey_msg m;
	struct mikey_keys ks = { .n = 0 };
	/* §8: the prepared TRANSFER_RESP keys of the CSB protect updates */
	struct mikey_seal_opts o = { .keyed = f->resp, .kemac = &ks };
	enum cc_err err = CC_OK;

	/* §5.2: same CSB ID, new T, V = response wanted */
	mikey_msg_init(&m, MIKEY_DT_TRANSFER_INIT, true, MIKEY_PRF_MIKEY1,
		       CSB_XFER, MIKEY_MAP_GENERIC_ID);
	err = xfer_map(&m, spi2, false);
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC,
		    by_r ? 0xe98c467000000000ull : 0xe98c441800000000ull);
	/* A4: roles keep their original meaning in either direction */
	if (by_r) {
		mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI,
			      mikey_str(mikey_ex_bob));
		mikey_add_idr(&m.ch, MIKEY_IDR_I, MIKEY_ID_URI,
			      mikey_str(mikey_ex_alice));
		key(&ks, MIKEY_KEY_TEK_SALT, new_tek, 16, new_salt, 14, spi2);
	} else {
		mikey_add_idr(&m.ch, MIKEY_IDR_I, MIKEY_ID_URI,
			      mikey_str(mikey_ex_alice));
		mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI,
			      mikey_str(mikey_ex_bob));
		key(&ks, MIKEY_KEY_TGK, new_tgk, 16, NULL, 0, spi2);
	}
	mikey_add_kemac(&m.ch);
	mikey_add_v(&m.ch);
	o.extra = (struct mikey_mac_extra){
		{ mikey_str(mikey_ex_alice), mikey_str(mikey_ex_bob) }, 2
	};
	finish(f, id, &m, &o, &err);
	return err;
}

/* §9.2 (Bob answers) and §10.2 (Alice answers) */
static enum cc_err update_resp(struct flow *f, bool by_r)
{
	enum mikey_example_id id = by_r ? MIKEY_EX_UPDATE_R_RESP :
					  MIKEY_EX_UPDATE_I_RESP;
	enum mikey_example_id init = by_r ? MIKEY_EX_UPDATE_R_INIT :
					    MIKEY_EX_UPDATE_I_INIT;
	struct mikey_msg m;
	struct mikey_seal_opts o = { .keyed = f->resp };
	enum cc_err err = CC_OK;

	mikey_msg_init(&m, MIKEY_DT_TRANSFER_RESP, false, MIKEY_PRF_MIKEY1,
		       CSB_XFER, MIKEY_MAP_GENERIC_ID);
	err = xfer_map(&m, spi2, false);
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC,
		    by_r ? 0xe98c467100000000ull : 0xe98c441900000000ull);
	if (by_r)
		mikey_add_idr(&m.ch, MIKEY_IDR_I, MIKEY_ID_URI,
			      mikey_str(mikey_ex_alice));
	else
		mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI,
			      mikey_str(mikey_ex_bob));
	mikey_add_v(&m.ch);
	o.extra.part[0] = (struct cc_slice){ f->ex[init].buf, f->ex[init].len };
	o.extra.n = 1;
	finish(f, id, &m, &o, &err);
	return err;
}

static void names(struct mikey_example *ex)
{
	static const struct {
		const char *name, *section;
		enum mikey_variant variant;
	} tab[MIKEY_EX__COUNT] = {
		{ "REQUEST_INIT_PSK", "4.1", MIKEY_INITIAL },
		{ "REQUEST_RESP", "4.2", MIKEY_INITIAL },
		{ "TRANSFER_INIT", "4.3", MIKEY_INITIAL },
		{ "RESOLVE_INIT_PSK", "4.4", MIKEY_INITIAL },
		{ "RESOLVE_RESP", "4.5", MIKEY_INITIAL },
		{ "TRANSFER_RESP", "4.6", MIKEY_INITIAL },
		{ "TRANSFER_RESP with group key", "4.7", MIKEY_INITIAL },
		{ "update TRANSFER_INIT from Initiator", "9.1",
		  MIKEY_UPDATE_BY_I },
		{ "update TRANSFER_RESP from Responder", "9.2",
		  MIKEY_UPDATE_BY_I },
		{ "update TRANSFER_INIT from Responder", "10.1",
		  MIKEY_UPDATE_BY_R },
		{ "update TRANSFER_RESP from Initiator", "10.2",
		  MIKEY_UPDATE_BY_R },
	};
	size_t i;

	for (i = 0; i < MIKEY_EX__COUNT; i++) {
		ex[i].name = tab[i].name;
		ex[i].section = tab[i].section;
		ex[i].variant = tab[i].variant;
		ex[i].len = 0;
	}
}

enum cc_err mikey_examples_build(struct mikey_example ex[MIKEY_EX__COUNT])
{
	struct flow f;
	enum cc_err err;

	memset(&f, 0, sizeof(f));
	f.ex = ex;
	/* D E F H L M N O (spec/worked-examples.md §1) */
	f.flags = MIKEY_TPF_D | MIKEY_TPF_E | MIKEY_TPF_F | MIKEY_TPF_H |
		  MIKEY_TPF_L | MIKEY_TPF_M | MIKEY_TPF_N | MIKEY_TPF_O;
	names(ex);
	err = request_init(&f);
	if (!err)
		err = issue_ticket(&f);
	if (!err)
		err = kms_resp(&f, MIKEY_EX_REQUEST_RESP, MIKEY_EX_REQUEST_INIT,
			       MIKEY_DT_REQUEST_RESP, CSB_REQ, T0 + SEC(1),
			       mikey_ex_psk_alice, S(mikey_ex_randri_req),
			       (struct cc_slice){ 0 });
	if (!err)
		err = transfer_init(&f);
	if (!err)
		err = resolve_init(&f);
	if (!err)
		err = kms_resp(&f, MIKEY_EX_RESOLVE_RESP, MIKEY_EX_RESOLVE_INIT,
			       MIKEY_DT_RESOLVE_RESP, CSB_RES, T0 + SEC(4),
			       mikey_ex_psk_bob, (struct cc_slice){ 0 },
			       S(mikey_ex_randrr_res));
	/* §8: TRANSFER_RESP keys from MPKi (dir 0x02) protect the updates */
	if (!err)
		err = mikey_derive_msg_keys(
			MIKEY_PRF_MIKEY1, f.mpki, 16, CSB_XFER, MIKEY_LBL_RESP,
			S(mikey_ex_randri_xfer), (struct cc_slice){ 0 },
			MIKEY_ENCR_AES_CM_128, MIKEY_MAC_HMAC_SHA1_160,
			&f.xfer_resp_keys);
	if (!err)
		err = mikey_keyed_alloc(&f.resp, &f.xfer_resp_keys);
	if (!err)
		err = transfer_resp(&f, false);
	if (!err)
		err = transfer_resp(&f, true);
	if (!err)
		err = update_init(&f, false);
	if (!err)
		err = update_resp(&f, false);
	if (!err)
		err = update_init(&f, true);
	if (!err)
		err = update_resp(&f, true);
	mikey_keyed_free(f.resp);
	mikey_msg_keys_wipe(&f.xfer_resp_keys);
	cc_wipe(f.mpki, sizeof(f.mpki));
	return err;
}
