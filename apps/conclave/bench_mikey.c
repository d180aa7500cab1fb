/*
 * bench_mikey.c -- `conclave bench mikey`: how many MIKEY-TICKET messages
 * of the worked-example flow (spec/worked-examples.md, built by
 * mikey_examples_build) one core builds and checks per second, next to a
 * raw OpenSSL loop doing only the cryptography of the same message over
 * the same bytes with the same keys: the physical limit of that work.
 *
 * The keys are derived as the parties of examples.c derive them: MPKi
 * from the MPK (App. A.2.2), then the TRANSFER_INIT keys (dir 0x01) and
 * the TRANSFER_RESP keys (dir 0x02, which also protect CSB updates, §8)
 * from MPKi (RFC 6043 §5.1.2). With G = 0 neither set depends on the
 * response, so an Initiator derives them once per CSB; the "+derive"
 * ops show the cost when that is not done.
 */

/* The limit uses SHA1_Init/Update/Final on plain SHA_CTX structs: a
 * precomputed HMAC state is then copied by assignment, without the
 * allocation EVP_MD_CTX_copy_ex makes. It is deprecated, not removed,
 * in OpenSSL 3.0; the EVP ways are measured too (alt.*). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "bench.h"

#include <conclave/mikey.h>
#include <conclave/mikey_examples.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <stdlib.h>
#include <string.h>

enum {
	HMAC_BLOCK = 64, /* SHA-1 block (RFC 2104) */
	SHA1_LEN = 20,
	MAC_IN_MAX = 1024,
	OUT_MAX = 1024,
	PLAIN_MAX = 256,
};

/* The cryptographic work of one message, as bytes (RFC 6043 §5.5). */
struct base_in {
	uint8_t mac_in[MAC_IN_MAX]; /* the exact HMAC input of Table 5.2 */
	size_t mac_len;
	const uint8_t *want;  /* the V MAC in the message */
	struct cc_slice encr; /* KEMAC Encr data, empty if none */
	uint32_t csb_id;
	uint64_t t64;
	uint8_t plain[PLAIN_MAX]; /* decrypted by the limit op */
};

/* One HMAC key, pre-keyed in every way the limit and alt ops use. */
struct base_key {
	SHA_CTX in, out; /* states after K^ipad and K^opad */
	EVP_MD_CTX *md_in, *md_out, *md_work;
	EVP_MAC_CTX *mac;    /* keyed; dup'ed per message */
	EVP_MAC_CTX *mac_re; /* keyed; re-initialised per message */
};

struct mb {
	struct mikey_example ex[MIKEY_EX__COUNT];
	struct mikey_msg ti, resp, upd, rr; /* decoded examples */
	/* What the parties hold. */
	uint8_t mpki[16];
	uint32_t csb_id;
	struct cc_slice randri, sp, alice, bob;
	uint64_t ti_t, upd_t;
	enum mikey_encr encr;
	enum mikey_mac mac;
	struct mikey_msg_keys ki, kr;
	struct mikey_keyed *kdi,
		*kdr; /* ki, kr prepared, as a CSB keeps them */
	struct mikey_pl_ticket ticket; /* as the REQUEST_RESP carried it */
	uint8_t upd_plain[PLAIN_MAX];  /* the update's TEK+SALT key data */
	struct mikey_keys upd_keys;
	struct mikey_mac_extra x_ids, x_ti;
	/* Working storage of the ops. */
	struct mikey_msg msg;
	uint8_t out[OUT_MAX];
	size_t out_len;
	uint8_t plain[PLAIN_MAX];
	struct mikey_keys keys;
	uint8_t sink;
	/* The limit. */
	EVP_MD *sha1;
	EVP_MAC *hmac;
	EVP_CIPHER *ctr;
	EVP_CIPHER_CTX *aes;            /* keyed with kr.encr */
	struct base_key bk_ti, bk_resp; /* ki.auth, kr.auth */
	struct base_in b_ti, b_resp, b_upd;
};

/* ---- our side: the library as an Initiator / Responder uses it ----------- */

/* The CS ID map of a decoded example, re-added as a sender would. */
static enum cc_err add_map(struct mikey_msg *m, const struct mikey_hdr *from)
{
	const struct mikey_cs *cs;
	enum cc_err err = CC_OK;
	uint8_t i;

	for (i = 0; !err && i < from->ncs; i++) {
		cs = &from->cs[i];
		err = mikey_hdr_add_cs(&m->hdr, cs->cs_id, cs->policies[0],
				       cs->has_ssrc, cs->ssrc, cs->spi,
				       cs->spi_len);
	}
	return err;
}

static enum cc_err seal_out(struct mb *b, const struct mikey_seal_opts *o)
{
	struct cc_wr wr;
	enum cc_err err;

	cc_wr_init(&wr, b->out, sizeof(b->out));
	err = mikey_seal(&b->msg, o, &wr);
	b->out_len = wr.pos;
	if (!err)
		b->sink ^= b->out[b->out_len - 1];
	return err;
}

/* §4.3: HDR (GENERIC-ID, 2 CS), T, RANDRi, IDRi, IDRr, SP, TICKET, V. */
static enum cc_err ti_build(struct mb *b, const struct mikey_msg_keys *k,
			    struct mikey_keyed *kd)
{
	struct mikey_seal_opts o = { .keys = k,
				     .keyed = kd,
				     .extra = b->x_ids };
	struct mikey_chain *ch = &b->msg.ch;
	struct mikey_pl *pl;
	enum cc_err err;

	mikey_msg_init(&b->msg, MIKEY_DT_TRANSFER_INIT, true, MIKEY_PRF_MIKEY1,
		       b->csb_id, MIKEY_MAP_GENERIC_ID);
	err = add_map(&b->msg, &b->ti.hdr);
	mikey_add_t(ch, MIKEY_TS_NTP_UTC, b->ti_t);
	mikey_add_randr(ch, MIKEY_RANDR_I, b->randri);
	mikey_add_idr(ch, MIKEY_IDR_I, MIKEY_ID_URI, b->alice);
	mikey_add_idr(ch, MIKEY_IDR_R, MIKEY_ID_URI, b->bob);
	mikey_add_sp(ch, 0, b->sp);
	pl = mikey_chain_add(ch, MIKEY_PT_TICKET);
	if (pl)
		pl->u.ticket = b->ticket;
	mikey_add_v(ch);
	return err ? err : seal_out(b, &o);
}

static enum cc_err derive(const struct mb *b, uint8_t dir,
			  struct mikey_msg_keys *k)
{
	return mikey_derive_msg_keys(MIKEY_PRF_MIKEY1, b->mpki, sizeof(b->mpki),
				     b->csb_id, dir, b->randri,
				     (struct cc_slice){ 0 }, b->encr, b->mac,
				     k);
}

static int op_ti_build(void *arg)
{
	struct mb *b = arg;

	return ti_build(b, NULL, b->kdi);
}

static int op_ti_build_derive(void *arg)
{
	struct mb *b = arg;
	struct mikey_msg_keys k;
	enum cc_err err;

	err = derive(b, MIKEY_LBL_INIT, &k);
	if (!err)
		err = ti_build(b, &k, NULL);
	mikey_msg_keys_wipe(&k);
	return err;
}

/* Bytes of key data a KEMAC decrypts to (AES-CM keeps the length). */
static size_t kemac_len(const struct mikey_msg *m)
{
	const struct mikey_pl *k = mikey_chain_find(&m->ch, MIKEY_PT_KEMAC, 0);

	return k ? k->u.kemac.encr.len : 0;
}

/* Receiver: decode, layout, V MAC, KEMAC; then wipe the key data. */
static enum cc_err receive(struct mb *b, const struct mikey_example *ex,
			   const struct mikey_msg_keys *k,
			   struct mikey_keyed *kd,
			   const struct mikey_mac_extra *x)
{
	enum cc_err err;

	err = mikey_decode(ex->buf, ex->len, &b->msg, NULL);
	if (!err)
		err = mikey_check_layout(&b->msg, ex->variant, NULL);
	if (!err)
		err = kd ? mikey_verify_keyed(ex->buf, ex->len, &b->msg, kd,
					      x) :
			   mikey_verify(ex->buf, ex->len, &b->msg, k, x);
	if (!err)
		err = kd ? mikey_kemac_open_keyed(&b->msg, kd, b->plain,
						  sizeof(b->plain), &b->keys,
						  NULL) :
			   mikey_kemac_open(&b->msg, k, b->plain,
					    sizeof(b->plain), &b->keys, NULL);
	if (!err && !b->keys.n)
		err = CC_ERR_MISSING;
	if (!err) {
		b->sink ^= b->keys.k[0].key.p[0];
		cc_wipe(b->plain, kemac_len(&b->msg));
	}
	return err;
}

static int op_resp_verify(void *arg)
{
	struct mb *b = arg;

	return receive(b, &b->ex[MIKEY_EX_TRANSFER_RESP_KEY], NULL, b->kdr,
		       &b->x_ti);
}

static int op_resp_verify_derive(void *arg)
{
	struct mb *b = arg;
	struct mikey_msg_keys k;
	enum cc_err err;

	err = derive(b, MIKEY_LBL_RESP, &k);
	if (!err)
		err = receive(b, &b->ex[MIKEY_EX_TRANSFER_RESP_KEY], &k, NULL,
			      &b->x_ti);
	mikey_msg_keys_wipe(&k);
	return err;
}

/* §10.1: HDR, T, IDRr, IDRi, KEMAC (TEK+SALT), V with the §8 keys. */
static int op_upd_build(void *arg)
{
	struct mb *b = arg;
	struct mikey_seal_opts o = { .keyed = b->kdr,
				     .kemac = &b->upd_keys,
				     .extra = b->x_ids };
	struct mikey_chain *ch = &b->msg.ch;
	enum cc_err err;

	mikey_msg_init(&b->msg, MIKEY_DT_TRANSFER_INIT, true, MIKEY_PRF_MIKEY1,
		       b->csb_id, MIKEY_MAP_GENERIC_ID);
	err = add_map(&b->msg, &b->upd.hdr);
	mikey_add_t(ch, MIKEY_TS_NTP_UTC, b->upd_t);
	mikey_add_idr(ch, MIKEY_IDR_R, MIKEY_ID_URI, b->bob);
	mikey_add_idr(ch, MIKEY_IDR_I, MIKEY_ID_URI, b->alice);
	mikey_add_kemac(ch);
	mikey_add_v(ch);
	return err ? err : seal_out(b, &o);
}

static int op_upd_verify(void *arg)
{
	struct mb *b = arg;

	return receive(b, &b->ex[MIKEY_EX_UPDATE_R_INIT], NULL, b->kdr,
		       &b->x_ids);
}

/* ---- components of transfer_resp_verify ------------------------------------ */

static int op_c_decode(void *arg)
{
	struct mb *b = arg;
	const struct mikey_example *ex = &b->ex[MIKEY_EX_TRANSFER_RESP_KEY];
	enum cc_err err = mikey_decode(ex->buf, ex->len, &b->msg, NULL);

	b->sink ^= (uint8_t)b->msg.ch.n;
	return err;
}

static int op_c_layout(void *arg)
{
	struct mb *b = arg;

	return mikey_check_layout(&b->resp, MIKEY_INITIAL, NULL);
}

static int op_c_verify(void *arg)
{
	struct mb *b = arg;
	const struct mikey_example *ex = &b->ex[MIKEY_EX_TRANSFER_RESP_KEY];

	return mikey_verify_keyed(ex->buf, ex->len, &b->resp, b->kdr, &b->x_ti);
}

static int op_c_kemac_open(void *arg)
{
	struct mb *b = arg;
	enum cc_err err;

	err = mikey_kemac_open_keyed(&b->resp, b->kdr, b->plain,
				     sizeof(b->plain), &b->keys, NULL);
	if (!err) {
		b->sink ^= b->keys.k[0].key.p[0];
		cc_wipe(b->plain, kemac_len(&b->resp));
	}
	return err;
}

static int op_c_derive(void *arg)
{
	struct mb *b = arg;
	struct mikey_msg_keys k;
	enum cc_err err = derive(b, MIKEY_LBL_RESP, &k);

	b->sink ^= k.auth[0];
	mikey_msg_keys_wipe(&k);
	return err;
}

/* ---- the limit: raw OpenSSL, same bytes, same keys ------------------------- */

/* HMAC-SHA1 from the precomputed states: two struct copies, no calls
 * into EVP, no allocation. */
static void sha_hmac(const struct base_key *k, const uint8_t *p, size_t n,
		     uint8_t mac[SHA1_LEN])
{
	SHA_CTX c = k->in;
	uint8_t inner[SHA1_LEN];

	SHA1_Update(&c, p, n);
	SHA1_Final(inner, &c);
	c = k->out;
	SHA1_Update(&c, inner, sizeof(inner));
	SHA1_Final(mac, &c);
	OPENSSL_cleanse(inner, sizeof(inner));
}

/* AES-128-CTR of the KEMAC data on a pre-keyed context: only the IV
 * (RFC 3830 §4.2.3) is set per message. */
static int aes_ctr(struct mb *b, struct base_in *in)
{
	uint8_t iv[16];
	int n = 0;

	mikey_kemac_iv(b->kr.salt, in->csb_id, in->t64, iv);
	if (!EVP_EncryptInit_ex(b->aes, NULL, NULL, NULL, iv) ||
	    !EVP_EncryptUpdate(b->aes, in->plain, &n, in->encr.p,
			       (int)in->encr.len) ||
	    n != (int)in->encr.len)
		return CC_ERR_CRYPTO;
	b->sink ^= in->plain[0];
	OPENSSL_cleanse(in->plain, in->encr.len);
	return 0;
}

/* Verify: HMAC, constant-time compare with V, then decrypt the KEMAC. */
static int base_verify(struct mb *b, const struct base_key *k,
		       struct base_in *in)
{
	uint8_t mac[SHA1_LEN];

	sha_hmac(k, in->mac_in, in->mac_len, mac);
	if (CRYPTO_memcmp(mac, in->want, sizeof(mac)))
		return CC_ERR_BAD_MAC;
	return in->encr.len ? aes_ctr(b, in) : 0;
}

static int op_l_ti(void *arg)
{
	struct mb *b = arg;

	/* A sender only computes the MAC (no compare, no KEMAC here). */
	sha_hmac(&b->bk_ti, b->b_ti.mac_in, b->b_ti.mac_len, b->out);
	b->sink ^= b->out[0];
	return 0;
}

static int op_l_resp(void *arg)
{
	struct mb *b = arg;

	return base_verify(b, &b->bk_resp, &b->b_resp);
}

static int op_l_upd(void *arg)
{
	struct mb *b = arg;

	return base_verify(b, &b->bk_resp, &b->b_upd);
}

/* The same work with the HMAC done the EVP ways. */
static int md_copy_hmac(const struct base_key *k, const uint8_t *p, size_t n,
			uint8_t mac[SHA1_LEN])
{
	uint8_t inner[SHA1_LEN];
	int ok;

	ok = EVP_MD_CTX_copy_ex(k->md_work, k->md_in) &&
	     EVP_DigestUpdate(k->md_work, p, n) &&
	     EVP_DigestFinal_ex(k->md_work, inner, NULL) &&
	     EVP_MD_CTX_copy_ex(k->md_work, k->md_out) &&
	     EVP_DigestUpdate(k->md_work, inner, sizeof(inner)) &&
	     EVP_DigestFinal_ex(k->md_work, mac, NULL);
	OPENSSL_cleanse(inner, sizeof(inner));
	return ok;
}

static int alt_finish(struct mb *b, int ok, const uint8_t *mac)
{
	if (!ok)
		return CC_ERR_CRYPTO;
	if (CRYPTO_memcmp(mac, b->b_resp.want, SHA1_LEN))
		return CC_ERR_BAD_MAC;
	return aes_ctr(b, &b->b_resp);
}

static int op_a_md_copy(void *arg)
{
	struct mb *b = arg;
	uint8_t mac[SHA1_LEN];
	int ok = md_copy_hmac(&b->bk_resp, b->b_resp.mac_in, b->b_resp.mac_len,
			      mac);

	return alt_finish(b, ok, mac);
}

static int op_a_mac_dup(void *arg)
{
	struct mb *b = arg;
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(b->bk_resp.mac);
	uint8_t mac[SHA1_LEN];
	size_t len = 0;
	int ok;

	ok = c && EVP_MAC_update(c, b->b_resp.mac_in, b->b_resp.mac_len) &&
	     EVP_MAC_final(c, mac, &len, sizeof(mac)) && len == SHA1_LEN;
	EVP_MAC_CTX_free(c);
	return alt_finish(b, ok, mac);
}

static int op_a_mac_reinit(void *arg)
{
	struct mb *b = arg;
	EVP_MAC_CTX *c = b->bk_resp.mac_re;
	uint8_t mac[SHA1_LEN];
	size_t len = 0;
	int ok;

	/* A NULL key re-initialises with the key already set. */
	ok = EVP_MAC_init(c, NULL, 0, NULL) &&
	     EVP_MAC_update(c, b->b_resp.mac_in, b->b_resp.mac_len) &&
	     EVP_MAC_final(c, mac, &len, sizeof(mac)) && len == SHA1_LEN;
	return alt_finish(b, ok, mac);
}

/* ---- the suite ---------------------------------------------------------------- */

static const struct bench_op ops[] = {
	{ "transfer_init_build",
	  "§4.3 TRANSFER_INIT: build the chain + mikey_seal (encode, V MAC); "
	  "MPKi-derived keys held",
	  op_ti_build, "limit.transfer_init" },
	{ "transfer_init_build+derive",
	  "the same + mikey_derive_msg_keys(MPKi, dir 0x01) per message",
	  op_ti_build_derive, "limit.transfer_init" },
	{ "transfer_resp_verify",
	  "§4.7 TRANSFER_RESP (group key): decode + check_layout + verify "
	  "(RESP || INIT) + kemac_open; keys held",
	  op_resp_verify, "limit.transfer_resp" },
	{ "transfer_resp_verify+derive",
	  "the same + mikey_derive_msg_keys(MPKi, dir 0x02) per message",
	  op_resp_verify_derive, "limit.transfer_resp" },
	{ "csb_update_build",
	  "§10.1 update TRANSFER_INIT: build + mikey_seal (TEK+SALT KEMAC, "
	  "V MAC); §8 keys held",
	  op_upd_build, "limit.csb_update" },
	{ "csb_update_verify",
	  "§10.1 update TRANSFER_INIT received: decode + check_layout + "
	  "verify + kemac_open",
	  op_upd_verify, "limit.csb_update" },
	{ "resp.decode", "component: mikey_decode of the §4.7 message",
	  op_c_decode, NULL },
	{ "resp.check_layout", "component: mikey_check_layout (decoded)",
	  op_c_layout, NULL },
	{ "resp.verify", "component: mikey_verify (HMAC-SHA1 over 504 bytes)",
	  op_c_verify, NULL },
	{ "resp.kemac_open", "component: mikey_kemac_open (AES-CM, 41 bytes)",
	  op_c_kemac_open, NULL },
	{ "derive_msg_keys",
	  "component: mikey_derive_msg_keys (encr, auth, salt from MPKi)",
	  op_c_derive, NULL },
	{ "limit.transfer_init",
	  "raw OpenSSL: HMAC-SHA1 over the same TRANSFER_INIT MAC input",
	  op_l_ti, NULL },
	{ "limit.transfer_resp",
	  "raw OpenSSL: HMAC-SHA1 over the same 504 bytes + compare + "
	  "AES-128-CTR of the same 41 bytes",
	  op_l_resp, NULL },
	{ "limit.csb_update",
	  "raw OpenSSL: HMAC-SHA1 + compare + AES-128-CTR, update's bytes",
	  op_l_upd, NULL },
	{ "alt.transfer_resp.md_copy",
	  "limit.transfer_resp with HMAC by EVP_MD_CTX_copy_ex of pre-keyed "
	  "ipad/opad states into a kept EVP_MD_CTX",
	  op_a_md_copy, "limit.transfer_resp" },
	{ "alt.transfer_resp.mac_dup",
	  "limit.transfer_resp with HMAC by EVP_MAC_CTX_dup of a keyed "
	  "EVP_MAC_CTX",
	  op_a_mac_dup, "limit.transfer_resp" },
	{ "alt.transfer_resp.mac_reinit",
	  "limit.transfer_resp with HMAC by EVP_MAC_init(NULL key) of a "
	  "keyed EVP_MAC_CTX",
	  op_a_mac_reinit, "limit.transfer_resp" },
};

static const struct bench_suite suite = {
	.name = "mikey",
	.limit = "HMAC-SHA1 from precomputed ipad/opad SHA_CTX states "
		 "(struct copy, SHA1_Update/Final) + AES-128-CTR on a "
		 "pre-keyed EVP_CIPHER_CTX (IV set per message)",
	.ops = ops,
	.n = sizeof(ops) / sizeof(ops[0]),
};

/* The goal: parse + verify at >= 50% of the limit, and >= 200,000
 * TRANSFER_RESP verifications per second per core. */
static const struct bench_goal goals[] = {
	{ "transfer_resp_verify", 50, 200000 },
};

/* ---- setup ---------------------------------------------------------------------- */

static enum cc_err decode_ex(struct mb *b, enum mikey_example_id id,
			     struct mikey_msg *m)
{
	return mikey_decode(b->ex[id].buf, b->ex[id].len, m, NULL);
}

static enum cc_err find_slice(const struct mikey_msg *m, uint16_t type,
			      uint8_t role, struct cc_slice *out)
{
	const struct mikey_pl *pl = mikey_chain_find(&m->ch, type, role);

	if (!pl)
		return CC_ERR_MISSING;
	*out = type == MIKEY_PT_SP ? pl->u.sp.params : pl->u.rand.data;
	return CC_OK;
}

/* What Alice and Bob hold: the examples' inputs, and the keys examples.c
 * derives for them. */
static enum cc_err setup_parties(struct mb *b)
{
	const struct mikey_pl *t;
	enum cc_err err;

	err = mikey_examples_build(b->ex);
	if (!err)
		err = decode_ex(b, MIKEY_EX_TRANSFER_INIT, &b->ti);
	if (!err)
		err = decode_ex(b, MIKEY_EX_TRANSFER_RESP_KEY, &b->resp);
	if (!err)
		err = decode_ex(b, MIKEY_EX_UPDATE_R_INIT, &b->upd);
	if (!err)
		err = decode_ex(b, MIKEY_EX_REQUEST_RESP, &b->rr);
	if (!err)
		err = find_slice(&b->ti, MIKEY_PT_RANDR, MIKEY_RANDR_I,
				 &b->randri);
	if (!err)
		err = find_slice(&b->ti, MIKEY_PT_SP, 0, &b->sp);
	if (!err)
		err = mikey_msg_t64(&b->ti, &b->ti_t);
	if (!err)
		err = mikey_msg_t64(&b->upd, &b->upd_t);
	t = mikey_chain_find(&b->rr.ch, MIKEY_PT_TICKET, 0);
	if (err || !t)
		return err ? err : CC_ERR_MISSING;
	b->ticket = t->u.ticket;
	b->csb_id = b->ti.hdr.csb_id;
	b->alice = mikey_str(mikey_ex_alice);
	b->bob = mikey_str(mikey_ex_bob);
	b->x_ids = (struct mikey_mac_extra){ { b->alice, b->bob }, 2 };
	b->x_ti = (struct mikey_mac_extra){
		{ { b->ex[MIKEY_EX_TRANSFER_INIT].buf,
		    b->ex[MIKEY_EX_TRANSFER_INIT].len } },
		1
	};
	mikey_msg_algs(&b->resp, &b->encr, &b->mac);
	err = mikey_derive_mpk(MIKEY_PRF_MIKEY1, mikey_ex_mpk, 16,
			       (struct cc_slice){ mikey_ex_rand_ticket, 16 },
			       false, b->mpki);
	if (!err)
		err = derive(b, MIKEY_LBL_INIT, &b->ki);
	if (!err)
		err = derive(b, MIKEY_LBL_RESP, &b->kr);
	if (!err)
		err = mikey_keyed_alloc(&b->kdi, &b->ki);
	if (!err)
		err = mikey_keyed_alloc(&b->kdr, &b->kr);
	return err;
}

/* The keys are right: every example verifies; the update's key data. */
static enum cc_err setup_check(struct mb *b)
{
	const struct mikey_example *ex = b->ex;
	enum cc_err err;

	err = mikey_verify(ex[MIKEY_EX_TRANSFER_INIT].buf,
			   ex[MIKEY_EX_TRANSFER_INIT].len, &b->ti, &b->ki,
			   &b->x_ids);
	if (!err)
		err = mikey_verify(ex[MIKEY_EX_TRANSFER_RESP_KEY].buf,
				   ex[MIKEY_EX_TRANSFER_RESP_KEY].len, &b->resp,
				   &b->kr, &b->x_ti);
	if (!err)
		err = mikey_verify(ex[MIKEY_EX_UPDATE_R_INIT].buf,
				   ex[MIKEY_EX_UPDATE_R_INIT].len, &b->upd,
				   &b->kr, &b->x_ids);
	if (!err)
		err = mikey_kemac_open(&b->upd, &b->kr, b->upd_plain,
				       sizeof(b->upd_plain), &b->upd_keys,
				       NULL);
	return err;
}

/*
 * The HMAC input of RFC 6043 §5.5 (Table 5.2), as bytes: the message up
 * to the V MAC field, without a TRANSFER_INIT TICKET's Initiator Data
 * length and data, then the extras. Written out here (seal.c keeps its
 * version private) and checked against the V MAC in the message.
 */
static enum cc_err mac_input(const struct mikey_example *ex,
			     const struct mikey_msg *m,
			     const struct mikey_mac_extra *x,
			     struct base_in *in)
{
	const struct mikey_pl *v = &m->ch.pl[m->ch.n - 1];
	const struct mikey_pl *t = NULL;
	size_t end = v->off + 2, cut = end, skip = 0, i;
	struct cc_wr wr;

	if (m->hdr.data_type == MIKEY_DT_TRANSFER_INIT)
		t = mikey_chain_find(&m->ch, MIKEY_PT_TICKET, 0);
	if (t) {
		skip = 2 + t->u.ticket.init_data.len;
		cut = t->off + t->len - skip;
	}
	cc_wr_init(&wr, in->mac_in, sizeof(in->mac_in));
	cc_wr_bytes(&wr, ex->buf, cut);
	cc_wr_bytes(&wr, ex->buf + cut + skip, end - cut - skip);
	for (i = 0; i < x->n; i++)
		cc_wr_bytes(&wr, x->part[i].p, x->part[i].len);
	in->mac_len = wr.pos;
	in->want = ex->buf + end;
	return cc_wr_status(&wr);
}

static enum cc_err base_in_init(struct mb *b, enum mikey_example_id id,
				const struct mikey_msg *m,
				const struct mikey_mac_extra *x,
				struct base_in *in)
{
	const struct mikey_pl *k = mikey_chain_find(&m->ch, MIKEY_PT_KEMAC, 0);

	in->csb_id = m->hdr.csb_id;
	if (k)
		in->encr = k->u.kemac.encr;
	if (k && in->encr.len > sizeof(in->plain))
		return CC_ERR_SPACE;
	if (mikey_msg_t64(m, &in->t64))
		return CC_ERR_MISSING;
	return mac_input(&b->ex[id], m, x, in);
}

/* Key k in every form the limit and alt ops use. */
static enum cc_err base_key_init(struct mb *b, struct base_key *k,
				 const uint8_t *key, size_t len)
{
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)"SHA1", 0),
		OSSL_PARAM_construct_end(),
	};
	uint8_t ipad[HMAC_BLOCK], opad[HMAC_BLOCK];
	enum cc_err err = CC_ERR_CRYPTO;
	size_t i;

	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	for (i = 0; i < len && i < HMAC_BLOCK; i++) {
		ipad[i] ^= key[i];
		opad[i] ^= key[i];
	}
	k->md_in = EVP_MD_CTX_new();
	k->md_out = EVP_MD_CTX_new();
	k->md_work = EVP_MD_CTX_new();
	k->mac = EVP_MAC_CTX_new(b->hmac);
	k->mac_re = EVP_MAC_CTX_new(b->hmac);
	if (len > HMAC_BLOCK || !k->md_in || !k->md_out || !k->md_work ||
	    !k->mac || !k->mac_re)
		goto out;
	if (!SHA1_Init(&k->in) || !SHA1_Update(&k->in, ipad, HMAC_BLOCK) ||
	    !SHA1_Init(&k->out) || !SHA1_Update(&k->out, opad, HMAC_BLOCK) ||
	    !EVP_DigestInit_ex(k->md_in, b->sha1, NULL) ||
	    !EVP_DigestUpdate(k->md_in, ipad, HMAC_BLOCK) ||
	    !EVP_DigestInit_ex(k->md_out, b->sha1, NULL) ||
	    !EVP_DigestUpdate(k->md_out, opad, HMAC_BLOCK) ||
	    !EVP_MAC_init(k->mac, key, len, p) ||
	    !EVP_MAC_init(k->mac_re, key, len, p))
		goto out;
	err = CC_OK;
out:
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(opad, sizeof(opad));
	return err;
}

static void base_key_free(struct base_key *k)
{
	EVP_MD_CTX_free(k->md_in);
	EVP_MD_CTX_free(k->md_out);
	EVP_MD_CTX_free(k->md_work);
	EVP_MAC_CTX_free(k->mac);
	EVP_MAC_CTX_free(k->mac_re);
	OPENSSL_cleanse(k, sizeof(*k));
}

static enum cc_err setup_limit(struct mb *b)
{
	enum cc_err err;

	/* The limit is written for the examples' algorithms. */
	if (b->encr != MIKEY_ENCR_AES_CM_128 ||
	    b->mac != MIKEY_MAC_HMAC_SHA1_160)
		return CC_ERR_UNSUPPORTED;
	b->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	b->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	b->ctr = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
	b->aes = EVP_CIPHER_CTX_new();
	if (!b->sha1 || !b->hmac || !b->ctr || !b->aes ||
	    !EVP_EncryptInit_ex(b->aes, b->ctr, NULL, b->kr.encr, NULL))
		return CC_ERR_CRYPTO;
	err = base_key_init(b, &b->bk_ti, b->ki.auth,
			    mikey_mac_key_len(b->mac));
	if (!err)
		err = base_key_init(b, &b->bk_resp, b->kr.auth,
				    mikey_mac_key_len(b->mac));
	if (!err)
		err = base_in_init(b, MIKEY_EX_TRANSFER_INIT, &b->ti, &b->x_ids,
				   &b->b_ti);
	if (!err)
		err = base_in_init(b, MIKEY_EX_TRANSFER_RESP_KEY, &b->resp,
				   &b->x_ti, &b->b_resp);
	if (!err)
		err = base_in_init(b, MIKEY_EX_UPDATE_R_INIT, &b->upd,
				   &b->x_ids, &b->b_upd);
	return err;
}

static bool same_bytes(const struct mb *b, enum mikey_example_id id)
{
	return b->out_len == b->ex[id].len &&
	       cc_ct_equal(b->out, b->ex[id].buf, b->out_len);
}

/*
 * Both sides do the work the comparison claims: our builds reproduce the
 * examples byte for byte; the limit's HMAC equals the V MAC of each
 * message and its AES-CTR yields the key data kemac_open yields.
 */
static const char *self_test(struct mb *b)
{
	uint8_t mac[SHA1_LEN];

	if (op_ti_build(b) || !same_bytes(b, MIKEY_EX_TRANSFER_INIT))
		return "transfer_init_build differs from §4.3";
	if (op_upd_build(b) || !same_bytes(b, MIKEY_EX_UPDATE_R_INIT))
		return "csb_update_build differs from §10.1";
	sha_hmac(&b->bk_ti, b->b_ti.mac_in, b->b_ti.mac_len, mac);
	if (CRYPTO_memcmp(mac, b->b_ti.want, sizeof(mac)))
		return "limit.transfer_init MAC differs from the V MAC";
	if (mikey_kemac_open(&b->resp, &b->kr, b->plain, sizeof(b->plain),
			     &b->keys, NULL))
		return "kemac_open failed";
	if (md_copy_hmac(&b->bk_resp, b->b_resp.mac_in, b->b_resp.mac_len,
			 mac) != 1 ||
	    CRYPTO_memcmp(mac, b->b_resp.want, sizeof(mac)))
		return "alt.transfer_resp.md_copy MAC differs";
	return NULL;
}

/* The limit's decryption equals the library's (checked apart from
 * self_test because aes_ctr wipes its output). */
static const char *self_test_aes(struct mb *b)
{
	uint8_t iv[16], got[PLAIN_MAX];
	struct base_in *in = &b->b_resp;
	int n = 0;

	mikey_kemac_iv(b->kr.salt, in->csb_id, in->t64, iv);
	if (!EVP_EncryptInit_ex(b->aes, NULL, NULL, NULL, iv) ||
	    !EVP_EncryptUpdate(b->aes, got, &n, in->encr.p,
			       (int)in->encr.len) ||
	    n != (int)in->encr.len || !cc_ct_equal(got, b->plain, in->encr.len))
		return "limit AES-CTR output differs from kemac_open";
	OPENSSL_cleanse(got, sizeof(got));
	cc_wipe(b->plain, sizeof(b->plain));
	return NULL;
}

static void mb_free(struct mb *b)
{
	if (!b)
		return;
	base_key_free(&b->bk_ti);
	base_key_free(&b->bk_resp);
	mikey_keyed_free(b->kdi);
	mikey_keyed_free(b->kdr);
	EVP_CIPHER_CTX_free(b->aes);
	EVP_CIPHER_free(b->ctr);
	EVP_MAC_free(b->hmac);
	EVP_MD_free(b->sha1);
	cc_wipe(b, sizeof(*b));
	free(b);
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: conclave bench mikey [options]\n\n"
		   "Operations per second on one core for the worked-example "
		   "flow, each next to\nits limit: raw OpenSSL doing only the "
		   "cryptography of the same message\n(same bytes, same "
		   "keys). ratio = limit ns / our ns.\n\n");
	bench_usage_opts(f);
	fprintf(f, "\nlimit: %s\n\noperations:\n", suite.limit);
	for (i = 0; i < suite.n; i++)
		fprintf(f, "  %-30s %s\n", ops[i].name, ops[i].what);
	fprintf(f,
		"\ngoal: transfer_resp_verify >= %.0f%% of its limit and "
		">= %.0f ops/s (reported, not the exit status).\n",
		goals[0].min_ratio_pct, goals[0].min_ops_s);
}

int bench_mikey(int argc, char **argv)
{
	struct bench_result res[sizeof(ops) / sizeof(ops[0])];
	struct bench_opts o;
	const char *why = NULL;
	struct mb *b = NULL;
	enum cc_err err;
	int rc;

	rc = bench_parse(argc, argv, &o, usage);
	if (rc >= 0)
		return rc;
	rc = 3;
	b = calloc(1, sizeof(*b));
	if (!b)
		goto out;
	err = setup_parties(b);
	if (!err)
		err = setup_check(b);
	if (!err)
		err = setup_limit(b);
	if (err) {
		fprintf(stderr, "bench mikey: setup: %s\n", cc_strerror(err));
		goto out;
	}
	why = self_test(b);
	if (!why)
		why = self_test_aes(b);
	if (why) {
		fprintf(stderr, "bench mikey: self-test: %s\n", why);
		goto out;
	}
	if (bench_run_suite(&suite, b, &o, res))
		goto out;
	bench_report(stdout, &suite, &o, res, goals, 1);
	fprintf(stderr, "bench mikey: goal %s (sink %02x)\n",
		bench_goals_met(&suite, res, goals, 1) ? "met" : "not met",
		b->sink);
	rc = 0;
out:
	mb_free(b);
	return rc;
}
