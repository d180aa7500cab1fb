/*
 * client_xfer.c -- the Ticket Transfer on the Initiator's side (RFC 6043
 * §4.2.2): TRANSFER_INIT with key forking out, TRANSFER_RESP in; and what
 * both sides share: TEK derivation from the final CS map (§5.1.3) and the
 * CSB's update keys (§5.2).
 */
#include "client_int.h"

#include <conclave/kms.h>

#include <stdlib.h>
#include <string.h>

/* ---- shared: TEKs and update keys ---------------------------------------- */

static const struct kmsc_key *key_by_spi(const struct kmsc_csb *c,
					 const struct mikey_cs *cs)
{
	size_t i;

	for (i = 0; i < c->nkeys; i++)
		if (c->keys[i].spi_len == cs->spi_len &&
		    cc_ct_equal(c->keys[i].spi, cs->spi, cs->spi_len))
			return &c->keys[i];
	return NULL;
}

/* SRTP master key / salt lengths of a policy (SP types 1 and 4). */
static enum cc_err sp_lengths(const struct mikey_msg *m1,
			      const struct mikey_msg *m2, uint8_t policy_no,
			      size_t *key_len, size_t *salt_len)
{
	const struct mikey_msg *ms[2] = { m1, m2 };
	struct mikey_srtp_policy pol;
	size_t i, j;
	enum cc_err err;

	for (i = 0; i < 2; i++) {
		for (j = 0; ms[i] && j < ms[i]->ch.n; j++) {
			const struct mikey_pl *pl = &ms[i]->ch.pl[j];

			if (pl->type != MIKEY_PT_SP ||
			    pl->u.sp.policy_no != policy_no)
				continue;
			if (pl->u.sp.prot != MIKEY_PROT_SRTP)
				return CC_ERR_UNSUPPORTED;
			err = mikey_srtp_policy_decode(pl->u.sp.params, &pol,
						       NULL);
			if (err)
				return err;
			*key_len = pol.present & 1u << MIKEY_SRTP_ENCR_KEY_LEN ?
					   pol.val[MIKEY_SRTP_ENCR_KEY_LEN] :
					   16;
			*salt_len = pol.present & 1u << MIKEY_SRTP_SALT_LEN ?
					    pol.val[MIKEY_SRTP_SALT_LEN] :
					    14;
			if (*key_len > KMSC_MAX_KEY || *key_len < 16 ||
			    *salt_len > KMSC_MAX_SALT)
				return CC_ERR_UNSUPPORTED;
			return CC_OK;
		}
	}
	return CC_ERR_MISSING;
}

/* RFC 6043 §5.1.3: TEK and salt from a TGK / TGK' / GTGK; RANDRi iff H,
 * RANDRr iff G. A TEK from a KEMAC is used as it is. */
static enum cc_err tek_for(const struct kmsc_csb *c, const struct kmsc_key *k,
			   struct kmsc_tek *t, size_t key_len, size_t salt_len)
{
	struct cc_slice ri = { NULL, 0 }, rr = { NULL, 0 };
	enum cc_err err;

	if (k->type == MIKEY_KEY_TEK || k->type == MIKEY_KEY_TEK_SALT) {
		memcpy(t->key, k->key, k->key_len);
		t->key_len = k->key_len;
		memcpy(t->salt, k->salt, k->salt_len);
		t->salt_len = k->salt_len;
		return CC_OK;
	}
	if (c->flags & MIKEY_TPF_H)
		ri = (struct cc_slice){ c->randri, c->randri_len };
	if (c->flags & MIKEY_TPF_G)
		rr = (struct cc_slice){ c->randrr, c->randrr_len };
	err = mikey_derive_tek((enum mikey_prf)c->hdr_prf, k->key, k->key_len,
			       MIKEY_C_TEK, t->cs_id, ri, rr, t->key, key_len);
	if (err)
		return err;
	t->key_len = key_len;
	if (k->salt_len) { /* TGK+SALT / GTGK+SALT: the salt as sent */
		memcpy(t->salt, k->salt, k->salt_len);
		t->salt_len = k->salt_len;
		return CC_OK;
	}
	t->salt_len = salt_len;
	return mikey_derive_tek((enum mikey_prf)c->hdr_prf, k->key, k->key_len,
				MIKEY_C_TEK_SALT, t->cs_id, ri, rr, t->salt,
				salt_len);
}

enum cc_err kc_derive_teks(struct kmsc_csb *c, const struct mikey_msg *resp,
			   const struct mikey_msg *init,
			   struct mikey_diag *diag)
{
	struct kmsc_tek tek[KMSC_MAX_CS];
	size_t i, key_len = 16, salt_len = 14;
	enum cc_err err = CC_OK;

	if (resp->hdr.ncs > KMSC_MAX_CS || !resp->hdr.ncs)
		return mikey_diag_fail(diag, CC_ERR_UNSUPPORTED, "HDR", "#CS",
				       8);
	memset(tek, 0, sizeof(tek));
	for (i = 0; !err && i < resp->hdr.ncs; i++) {
		const struct mikey_cs *cs = &resp->hdr.cs[i];
		const struct kmsc_key *k = key_by_spi(c, cs);

		/* §4.2.2.3: exactly one policy, session data and SPI */
		if (cs->npol != 1 || !cs->has_ssrc || !cs->spi_len || !k) {
			err = mikey_diag_fail(diag, CC_ERR_MALFORMED, "HDR",
					      "CS map entry (policy/SSRC/SPI)",
					      10);
			break;
		}
		err = sp_lengths(resp, init, cs->policies[0], &key_len,
				 &salt_len);
		if (err) {
			mikey_diag_fail(diag, err, "SP", "policy of a CS", 0);
			break;
		}
		tek[i].cs_id = cs->cs_id;
		tek[i].policy_no = cs->policies[0];
		tek[i].has_ssrc = true;
		tek[i].ssrc = cs->ssrc;
		tek[i].roc = cs->roc;
		tek[i].seq = cs->seq;
		memcpy(tek[i].spi, cs->spi, cs->spi_len);
		tek[i].spi_len = cs->spi_len;
		err = tek_for(c, k, &tek[i], key_len, salt_len);
	}
	if (!err) {
		memcpy(c->tek, tek, sizeof(tek));
		c->ntek = resp->hdr.ncs;
		c->ncs_own = init->hdr.ncs;
	}
	cc_wipe(tek, sizeof(tek));
	return err;
}

enum cc_err kc_prepare_update(struct kmsc_csb *c,
			      const struct mikey_msg_keys *k)
{
	struct mikey_keyed *kd = NULL;
	enum cc_err err = mikey_keyed_alloc(&kd, k);

	if (err)
		return err;
	mikey_keyed_free(c->update);
	c->update = kd;
	return CC_OK;
}

void kmsc_csb_free(struct kmsc_csb *c)
{
	if (!c)
		return;
	mikey_keyed_free(c->update);
	cc_wipe(c, sizeof(*c));
}

const struct kmsc_tek *kmsc_csb_tek(const struct kmsc_csb *c, uint8_t cs_id)
{
	size_t i;

	for (i = 0; c && i < c->ntek; i++)
		if (c->tek[i].cs_id == cs_id)
			return &c->tek[i];
	return NULL;
}

/* ---- Initiator: TRANSFER_INIT ------------------------------------------- */

static enum cc_err xinit_args(const struct kmsc_ticket *t,
			      const struct kmsc_cred *cred,
			      const struct kmsc_transfer_opts *o)
{
	size_t i, j;

	if (!t || !cred || !o || !o->responder || !o->responder[0] ||
	    strlen(o->responder) >= KMSC_MAX_ID || !o->nmedia ||
	    o->nmedia > KMSC_MAX_MEDIA || !o->ssrc ||
	    o->nsupply > KMSC_MAX_KEYS || (o->nsupply && !o->supply) ||
	    !t->raw_len || !t->mpk_len || !t->nkeys)
		return CC_ERR_INVAL;
	/* RFC 6043 §4.2.2.1: no KEMAC unless L = 1 */
	if (o->nsupply && !(t->flags & MIKEY_TPF_L))
		return CC_ERR_POLICY;
	/* every key must be told apart by its SPI (the map names it) */
	for (i = 0; i < o->nsupply; i++)
		for (j = 0; j < t->nkeys; j++)
			if (o->supply[i].spi_len == t->keys[j].spi_len &&
			    cc_ct_equal(o->supply[i].spi, t->keys[j].spi,
					t->keys[j].spi_len))
				return CC_ERR_INVAL;
	return CC_OK;
}

/* Initiator state before the message is built. */
static enum cc_err xinit_state(struct kmsc_csb *c, const struct kmsc_ticket *t,
			       const struct kmsc_cred *cred,
			       const struct kmsc_transfer_opts *o,
			       const struct kmsc_env *env)
{
	uint8_t csb[4];
	enum cc_err err;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->role = KMSC_INITIATOR;
	c->hdr_prf = KC_PRF;
	c->tp_prf = t->prf;
	c->flags = t->flags;
	c->encr = KC_ENCR;
	c->mac = KC_MAC;
	err = kc_rand(env, csb, sizeof(csb));
	if (!err)
		err = kc_rand(env, c->randri, KMSC_RAND_LEN);
	if (err)
		return err;
	c->csb_id = (uint32_t)csb[0] << 24 | (uint32_t)csb[1] << 16 |
		    (uint32_t)csb[2] << 8 | csb[3];
	c->randri_len = KMSC_RAND_LEN;
	/* Identity_i: the ticket's IDRi (what the Responder will trust) */
	strcpy(c->initiator, t->initiator[0] ? t->initiator : cred->identity);
	strcpy(c->responder, o->responder);
	memcpy(c->mpki, t->mpki, t->mpk_len);
	memcpy(c->mpkr, t->mpkr, t->mpk_len);
	c->mpk_len = t->mpk_len;
	for (i = 0; i < t->nkeys; i++)
		c->keys[c->nkeys++] = t->keys[i];
	c->nticket_keys = t->nkeys;
	for (i = 0; i < o->nsupply; i++)
		c->keys[c->nkeys++] = o->supply[i];
	c->last_t = kc_now_ntp(env);
	return CC_OK;
}

/* A22: CS 2k-1 = ours (SSRC, SPI), CS 2k = left for the Responder */
static enum cc_err xinit_map(struct mikey_msg *m,
			     const struct kmsc_transfer_opts *o,
			     const struct kmsc_key *spi_key)
{
	enum cc_err err = CC_OK;
	size_t k;

	for (k = 0; !err && k < o->nmedia; k++) {
		err = mikey_hdr_add_cs(&m->hdr, (uint8_t)(2 * k + 1), 0, true,
				       o->ssrc[k], spi_key->spi,
				       (uint8_t)spi_key->spi_len);
		if (!err && o->peer_ssrc)
			err = mikey_hdr_add_cs(&m->hdr, (uint8_t)(2 * k + 2), 0,
					       true, o->peer_ssrc[k],
					       spi_key->spi,
					       (uint8_t)spi_key->spi_len);
		else if (!err)
			err = mikey_hdr_add_cs(&m->hdr, (uint8_t)(2 * k + 2), 0,
					       false, 0, NULL, 0);
	}
	return err;
}

static enum cc_err xinit_msg(struct kmsc_csb *c, const struct kmsc_ticket *t,
			     const struct kmsc_transfer_opts *o,
			     const struct mikey_msg_keys *k, uint8_t *sp,
			     size_t sp_len, struct cc_wr *wr)
{
	struct mikey_msg m;
	struct mikey_keys ks = { .n = 0 };
	struct mikey_seal_opts so = { .keys = k };
	struct mikey_pl *pl;
	enum cc_err err;
	size_t i;

	/* A1: V = F */
	mikey_msg_init(&m, MIKEY_DT_TRANSFER_INIT, !!(c->flags & MIKEY_TPF_F),
		       (enum mikey_prf)c->hdr_prf, c->csb_id,
		       MIKEY_MAP_GENERIC_ID);
	err = xinit_map(&m, o, o->nsupply ? &o->supply[0] : &t->keys[0]);
	if (err)
		return err;
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, c->last_t);
	mikey_add_randr(&m.ch, MIKEY_RANDR_I,
			(struct cc_slice){ c->randri, c->randri_len });
	mikey_add_idr(&m.ch, MIKEY_IDR_I, MIKEY_ID_URI,
		      mikey_str(c->initiator));
	mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI,
		      mikey_str(c->responder));
	mikey_add_sp(&m.ch, 0, (struct cc_slice){ sp, sp_len });
	pl = mikey_chain_add(&m.ch, MIKEY_PT_TICKET);
	if (pl) {
		err = kc_ticket_from_raw(t->raw, t->raw_len, &pl->u.ticket);
		if (err)
			return err;
	}
	if (o->nsupply) {
		for (i = 0; i < o->nsupply; i++)
			kc_key_view(&ks.k[ks.n++], &o->supply[i]);
		so.kemac = &ks;
		mikey_add_kemac(&m.ch);
	}
	mikey_add_v(&m.ch);
	/* Table 5.2: TRANSFER_INIT || Identity_i || Identity_r */
	so.extra = (struct mikey_mac_extra){
		{ mikey_str(c->initiator), mikey_str(c->responder) }, 2
	};
	/* §6.10: key forking adds Initiator Data (Vi, Vr from MPKr) */
	if (c->flags & MIKEY_TPF_I) {
		so.fork_mpkr = c->mpkr;
		so.fork_mpkr_len = c->mpk_len;
		so.fork_prf = c->tp_prf;
	}
	return mikey_seal(&m, &so, wr);
}

enum cc_err kmsc_transfer_init(struct kmsc_csb *c, const struct kmsc_ticket *t,
			       const struct kmsc_cred *cred,
			       const struct kmsc_transfer_opts *o,
			       const struct kmsc_env *env, uint8_t *out,
			       size_t cap, size_t *outlen)
{
	struct mikey_srtp_policy pol;
	struct mikey_msg_keys k;
	uint8_t sp[64];
	size_t sp_len = 0;
	struct cc_wr wr;
	enum cc_err err;

	if (!c || !env || !out || !outlen)
		return CC_ERR_INVAL;
	memset(&k, 0, sizeof(k));
	err = xinit_args(t, cred, o);
	if (!err && t->valid_to && env->now > t->valid_to)
		err = CC_ERR_EXPIRED;
	if (!err)
		err = xinit_state(c, t, cred, o, env);
	if (err)
		goto out;
	mikey_srtp_policy_aes_cm_128_sha1_80(&pol);
	cc_wr_init(&wr, sp, sizeof(sp));
	err = mikey_srtp_policy_encode(&pol, &wr);
	sp_len = wr.pos;
	if (!err)
		err = mikey_derive_msg_keys(
			(enum mikey_prf)c->hdr_prf, c->mpki, c->mpk_len,
			c->csb_id, MIKEY_LBL_INIT,
			(struct cc_slice){ c->randri, c->randri_len },
			(struct cc_slice){ NULL, 0 }, c->encr, c->mac, &k);
	if (err)
		goto out;
	cc_wr_init(&wr, c->xinit, sizeof(c->xinit));
	err = xinit_msg(c, t, o, &k, sp, sp_len, &wr);
out:
	mikey_msg_keys_wipe(&k);
	if (err) {
		kmsc_csb_free(c);
		return err;
	}
	c->xinit_len = wr.pos;
	if (c->xinit_len > cap) {
		kmsc_csb_free(c);
		return CC_ERR_SPACE;
	}
	memcpy(out, c->xinit, c->xinit_len);
	*outlen = c->xinit_len;
	c->state = KMSC_CSB_INIT_SENT;
	return CC_OK;
}

/* ---- Initiator: TRANSFER_RESP ------------------------------------------ */

/* Who may answer: the accept list (identities or patterns), else only
 * the identity we called. Any identity the ticket allows can produce a
 * valid MAC with its own MPKr' (it names itself in IDRr); whether that
 * party is acceptable is the caller's decision, never implied. */
static bool accepted(const struct kmsc_csb *c, struct cc_slice peer,
		     const char *const *accept, size_t naccept)
{
	size_t i;

	if (!accept || !naccept)
		return kc_id_eq(c->responder, peer);
	for (i = 0; i < naccept; i++)
		if (accept[i] && kms_identity_match(accept[i], peer))
			return true;
	return false;
}

/* Every CS we offered must come back (§4.2.2.3: R may add, not drop). */
static enum cc_err map_covers(const struct mikey_msg *init,
			      const struct mikey_msg *resp)
{
	size_t i, j;

	for (i = 0; i < init->hdr.ncs; i++) {
		for (j = 0; j < resp->hdr.ncs; j++)
			if (resp->hdr.cs[j].cs_id == init->hdr.cs[i].cs_id)
				break;
		if (j == resp->hdr.ncs)
			return CC_ERR_MISSING;
	}
	return CC_OK;
}

/* The RANDRs and IDRr of a TRANSFER_RESP into the candidate state. */
static enum cc_err resp_modifier(struct kmsc_csb *n, const struct mikey_msg *m,
				 struct mikey_diag *diag)
{
	const struct mikey_pl *idr =
		mikey_chain_find(&m->ch, MIKEY_PT_IDR, MIKEY_IDR_R);
	const struct mikey_pl *rk =
		mikey_chain_find(&m->ch, MIKEY_PT_RANDR, MIKEY_RANDR_KMS);
	const struct mikey_pl *rr =
		mikey_chain_find(&m->ch, MIKEY_PT_RANDR, MIKEY_RANDR_R);
	bool fork = n->flags & MIKEY_TPF_I;

	/* §4.2.2.3: with forking IDRr and RANDRkms carry the modifier */
	if (fork && (!idr || !rk))
		return mikey_diag_fail(diag, CC_ERR_MISSING, "TRANSFER_RESP",
				       "IDRr/RANDRkms (key forking)", 0);
	if ((n->flags & MIKEY_TPF_G) && !rr)
		return mikey_diag_fail(diag, CC_ERR_MISSING, "TRANSFER_RESP",
				       "RANDRr (G = 1)", 0);
	if (idr && kc_copy_id(n->peer_r, idr->u.id.data))
		return mikey_diag_fail(diag, CC_ERR_MALFORMED, "IDR", "IDRr",
				       idr->off);
	if (!idr) /* A23 */
		strcpy(n->peer_r, n->responder);
	if (rk) {
		if (rk->u.rand.data.len < 16 ||
		    rk->u.rand.data.len > sizeof(n->randrkms))
			return mikey_diag_fail(diag, CC_ERR_MALFORMED, "RANDR",
					       "RANDRkms length", rk->off);
		memcpy(n->randrkms, rk->u.rand.data.p, rk->u.rand.data.len);
		n->randrkms_len = rk->u.rand.data.len;
	}
	if (rr && (n->flags & MIKEY_TPF_G)) {
		if (rr->u.rand.data.len < 16 ||
		    rr->u.rand.data.len > sizeof(n->randrr))
			return mikey_diag_fail(diag, CC_ERR_MALFORMED, "RANDR",
					       "RANDRr length", rr->off);
		memcpy(n->randrr, rr->u.rand.data.p, rr->u.rand.data.len);
		n->randrr_len = rr->u.rand.data.len;
	}
	return CC_OK;
}

/* §5.1.1: MPKr' and every ticket TGK forked with (IDRr, RANDRkms) */
static enum cc_err fork_keys(struct kmsc_csb *n)
{
	struct cc_slice id = mikey_str(n->peer_r);
	struct cc_slice rk = { n->randrkms, n->randrkms_len };
	enum cc_err err;
	size_t i;

	err = mikey_fork((enum mikey_prf)n->tp_prf, MIKEY_C_FORK_MPKR, n->mpkr,
			 n->mpk_len, id, rk, n->mpkr_fork);
	for (i = 0; !err && i < n->nticket_keys; i++) {
		struct kmsc_key *k = &n->keys[i];
		uint8_t out[KMSC_MAX_KEY];

		if (!kc_is_tgk(k->type)) /* TEKs and GTGKs are never forked */
			continue;
		err = mikey_fork((enum mikey_prf)n->tp_prf, MIKEY_C_FORK_TGK,
				 k->key, k->key_len, id, rk, out);
		memcpy(k->key, out, k->key_len);
		cc_wipe(out, sizeof(out));
	}
	return err;
}

/* A KEMAC in the TRANSFER_RESP (M = 1): add its keys to the CSB. */
static enum cc_err resp_kemac(struct kmsc_csb *n, const struct mikey_msg *m,
			      const struct mikey_msg_keys *k,
			      struct mikey_diag *diag)
{
	if (!mikey_chain_find(&m->ch, MIKEY_PT_KEMAC, 0))
		return CC_OK;
	return kc_kemac_collect(n, m, k, diag);
}

static enum cc_err resp_verify(struct kmsc_csb *n, const uint8_t *buf,
			       size_t len, const struct mikey_msg *m,
			       struct mikey_msg_keys *k,
			       struct mikey_diag *diag)
{
	struct mikey_mac_extra x = { { { n->xinit, n->xinit_len } }, 1 };
	enum mikey_encr encr;
	enum mikey_mac mac;
	enum cc_err err = CC_OK;

	mikey_msg_algs(m, &encr, &mac);
	if (mac != n->mac || m->hdr.prf != n->hdr_prf)
		return mikey_diag_fail(diag, CC_ERR_UNSUPPORTED, "V",
				       "MAC alg / PRF changed", 0);
	if (encr == MIKEY_ENCR_NULL)
		encr = kc_encr_for(mac);
	if (n->flags & MIKEY_TPF_I)
		err = fork_keys(n);
	if (!err)
		err = mikey_derive_msg_keys(
			(enum mikey_prf)n->hdr_prf,
			n->flags & MIKEY_TPF_I ? n->mpkr_fork : n->mpki,
			n->mpk_len, n->csb_id, MIKEY_LBL_RESP,
			(struct cc_slice){ n->randri, n->randri_len },
			(struct cc_slice){ n->randrr, n->randrr_len }, encr,
			mac, k);
	/* Table 5.2: TRANSFER_RESP || the TRANSFER_INIT as sent (A7) */
	if (!err)
		err = mikey_verify(buf, len, m, k, &x);
	if (err)
		return mikey_diag_fail(diag, err, "V", "TRANSFER_RESP MAC", 0);
	/* A29 rule 4: a KEMAC from the Responder needs M */
	err = mikey_check_key_supply(m, MIKEY_INITIAL, n->flags, diag);
	if (!err)
		err = resp_kemac(n, m, k, diag);
	return err;
}

static enum cc_err resp_open(struct kmsc_csb *n, const uint8_t *buf, size_t len,
			     const struct mikey_msg *m,
			     const char *const *accept, size_t naccept,
			     const struct kmsc_env *env,
			     struct mikey_msg_keys *k, struct mikey_diag *diag)
{
	struct mikey_msg init;
	const struct mikey_pl *t;
	enum cc_err err;

	err = mikey_check_layout(m, MIKEY_INITIAL, diag);
	if (!err && m->hdr.csb_id != n->csb_id)
		err = mikey_diag_fail(diag, CC_ERR_MALFORMED, "HDR",
				      "CSB ID of another transfer", 4);
	if (err)
		return err;
	t = mikey_chain_find(&m->ch, MIKEY_PT_T, 0);
	err = mikey_ts_check(&t->u.t, env->now, kc_skew(env));
	if (!err)
		err = mikey_decode(n->xinit, n->xinit_len, &init, diag);
	if (err)
		return mikey_diag_fail(diag, err, "T", "timestamp", t->off);
	err = resp_modifier(n, m, diag);
	if (!err && !accepted(n, mikey_str(n->peer_r), accept, naccept))
		err = mikey_diag_fail(diag, CC_ERR_NOT_AUTHORISED, "IDR",
				      "IDRr not an accepted responder", 0);
	if (!err)
		err = resp_verify(n, buf, len, m, k, diag);
	if (!err && map_covers(&init, m))
		err = mikey_diag_fail(diag, CC_ERR_MISSING, "HDR",
				      "a CS we offered", 10);
	if (!err)
		err = kc_derive_teks(n, m, &init, diag);
	if (!err)
		n->last_t = mikey_ts_to64(&t->u.t);
	return err;
}

enum cc_err kmsc_transfer_resp_open(struct kmsc_csb *c, const uint8_t *resp,
				    size_t len, const char *const *accept,
				    size_t naccept, const struct kmsc_env *env,
				    struct kmsc_status *st)
{
	struct mikey_diag diag = { 0 };
	struct mikey_msg_keys k;
	struct mikey_msg m;
	struct kmsc_csb *n = NULL;
	enum cc_err err;

	if (!c || !resp || !env || c->role != KMSC_INITIATOR ||
	    c->state != KMSC_CSB_INIT_SENT)
		return kc_fail(st, CC_ERR_INVAL, NULL, "no transfer pending");
	memset(&k, 0, sizeof(k));
	err = mikey_decode(resp, len, &m, &diag);
	if (err)
		return kc_fail(st, err, &diag, NULL);
	if (m.hdr.data_type == MIKEY_DT_ERROR)
		return kc_error_msg(&m, st);
	if (m.hdr.data_type != MIKEY_DT_TRANSFER_RESP)
		return kc_fail(st, CC_ERR_UNSUPPORTED, NULL, "data type");
	/* Work on a copy: a rejected answer leaves the CSB as it was. */
	n = malloc(sizeof(*n));
	if (!n)
		return kc_fail(st, CC_ERR_NOMEM, NULL, NULL);
	*n = *c;
	err = resp_open(n, resp, len, &m, accept, naccept, env, &k, &diag);
	if (!err) {
		n->update = NULL;
		err = kc_prepare_update(n, &k);
	}
	mikey_msg_keys_wipe(&k);
	if (err) {
		cc_wipe(n, sizeof(*n));
		free(n);
		return kc_fail(st, err, &diag, NULL);
	}
	n->state = KMSC_CSB_READY;
	mikey_keyed_free(c->update);
	*c = *n;
	cc_wipe(n, sizeof(*n));
	free(n);
	kc_status_ok(st);
	return CC_OK;
}
