/*
 * client_resolve.c -- the Responder's side of mode 1 (RFC 6043 §4.2.2.2,
 * §4.2.3, spec/mikey-ticket.md §7): early checks on a TRANSFER_INIT, the
 * Ticket Resolve with the KMS, verification of the Initiator, and the
 * TRANSFER_RESP.
 */
#include "client_int.h"

#include <stdlib.h>
#include <string.h>

static const char *my_identity(const struct kmsc_responder *r)
{
	return r->identity ? r->identity : r->cred->identity;
}

static bool is_mine(const struct kmsc_responder *r, struct cc_slice id)
{
	size_t i;

	if (kc_id_eq(my_identity(r), id) || kc_id_eq(r->cred->identity, id))
		return true;
	for (i = 0; i < r->naliases; i++)
		if (r->aliases[i] && kc_id_eq(r->aliases[i], id))
			return true;
	return false;
}

/* Wipe every key, keep only the verdict. */
static enum cc_err fail_csb(struct kmsc_csb *c, enum cc_err err)
{
	kmsc_csb_free(c);
	c->role = KMSC_RESPONDER;
	c->state = KMSC_CSB_FAILED;
	return err;
}

/* ---- early checks (A21): nothing here costs the KMS anything ---------- */

static enum cc_err early_ticket(const struct kmsc_responder *r,
				const struct mikey_pl_ticket *t,
				const struct kmsc_env *env,
				struct mikey_diag *diag)
{
	struct kc_policy p;
	enum cc_err err;
	size_t i;

	err = kc_check_ticket(t, diag);
	if (!err && !!(t->flags & MIKEY_TPF_I) != !!t->init_data.len)
		err = mikey_diag_fail(diag, CC_ERR_POLICY, "TICKET",
				      "Initiator Data iff I", 0);
	if (!err)
		err = kc_policy_parse(t, &p, diag);
	if (err)
		return err;
	err = kc_validity(&p, env->now, kc_skew(env));
	if (err)
		return mikey_diag_fail(diag, err, "TP data", "TRs/TRe", 0);
	if (r->defer_authz)
		return CC_OK;
	/* Only exact matches can be checked here; patterns are the KMS's */
	for (i = 0; i < p.nresponders; i++)
		if (is_mine(r, mikey_str(p.responders[i])))
			return CC_OK;
	return mikey_diag_fail(diag, CC_ERR_NOT_AUTHORISED, "TP data",
			       "none of our identities among IDRr", 0);
}

static enum cc_err early(struct kmsc_csb *c, const struct kmsc_responder *r,
			 const struct mikey_msg *m, const struct kmsc_env *env,
			 struct mikey_diag *diag)
{
	const struct mikey_pl *t, *tk, *ri;
	enum mikey_encr encr;
	enum mikey_mac mac;
	enum cc_err err;

	if (m->hdr.data_type != MIKEY_DT_TRANSFER_INIT)
		return mikey_diag_fail(diag, CC_ERR_UNSUPPORTED, "HDR",
				       "data type", 1);
	err = mikey_check_layout(m, MIKEY_INITIAL, diag);
	if (err)
		return err;
	if (m->hdr.map_type != MIKEY_MAP_GENERIC_ID || !m->hdr.ncs ||
	    m->hdr.ncs > KMSC_MAX_CS)
		return mikey_diag_fail(diag, CC_ERR_UNSUPPORTED, "HDR",
				       "CS ID map (GENERIC-ID, 1..16 CS)", 9);
	tk = mikey_chain_find(&m->ch, MIKEY_PT_TICKET, 0);
	err = early_ticket(r, &tk->u.ticket, env, diag);
	if (err)
		return err;
	t = mikey_chain_find(&m->ch, MIKEY_PT_T, 0);
	err = mikey_ts_check(&t->u.t, env->now, kc_skew(env));
	if (err)
		return mikey_diag_fail(diag, err, "T", "timestamp", t->off);
	ri = mikey_chain_find(&m->ch, MIKEY_PT_RANDR, MIKEY_RANDR_I);
	if (ri->u.rand.data.len < 16 || ri->u.rand.data.len > KMSC_RAND_LEN)
		return mikey_diag_fail(diag, CC_ERR_UNSUPPORTED, "RANDR",
				       "RANDRi length", ri->off);
	mikey_msg_algs(m, &encr, &mac);
	if (mac == MIKEY_MAC_NULL)
		return mikey_diag_fail(diag, CC_ERR_UNSUPPORTED, "V", "MAC alg",
				       0);
	c->role = KMSC_RESPONDER;
	c->csb_id = m->hdr.csb_id;
	c->hdr_prf = m->hdr.prf;
	c->tp_prf = tk->u.ticket.prf;
	c->flags = tk->u.ticket.flags;
	c->mac = mac;
	c->encr = encr != MIKEY_ENCR_NULL ? encr : kc_encr_for(mac);
	memcpy(c->randri, ri->u.rand.data.p, ri->u.rand.data.len);
	c->randri_len = ri->u.rand.data.len;
	c->last_t = mikey_ts_to64(&t->u.t);
	return CC_OK;
}

/* RESOLVE_INIT_PSK = HDR, T, RANDRr, IDRr, IDRkms, TICKET, IDRpsk, V */
static enum cc_err resolve_msg(struct kmsc_csb *c,
			       const struct kmsc_responder *r,
			       const struct mikey_pl_ticket *ticket,
			       const struct kmsc_env *env)
{
	const struct kmsc_cred *cred = r->cred;
	struct mikey_msg m;
	struct mikey_msg_keys k;
	struct mikey_seal_opts so = { .keys = &k };
	struct mikey_pl *pl;
	struct cc_wr wr;
	uint8_t csb[4];
	enum cc_err err;

	err = kc_rand(env, csb, sizeof(csb));
	if (!err)
		err = kc_rand(env, c->r_rand, sizeof(c->r_rand));
	if (err)
		return err;
	c->r_csb_id = (uint32_t)csb[0] << 24 | (uint32_t)csb[1] << 16 |
		      (uint32_t)csb[2] << 8 | csb[3];
	/* §5.1.2: Ticket Resolve keys use RANDRr only */
	err = mikey_derive_msg_keys(
		KC_PRF, cred->psk, cred->psk_len, c->r_csb_id, MIKEY_LBL_INIT,
		(struct cc_slice){ NULL, 0 },
		(struct cc_slice){ c->r_rand, KMSC_RAND_LEN }, KC_ENCR, KC_MAC,
		&k);
	if (err)
		return err;
	mikey_msg_init(&m, MIKEY_DT_RESOLVE_INIT_PSK, true, KC_PRF, c->r_csb_id,
		       MIKEY_MAP_EMPTY);
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, kc_now_ntp(env));
	mikey_add_randr(&m.ch, MIKEY_RANDR_R,
			(struct cc_slice){ c->r_rand, KMSC_RAND_LEN });
	mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI,
		      mikey_str(my_identity(r)));
	mikey_add_idr(&m.ch, MIKEY_IDR_KMS, MIKEY_ID_URI,
		      mikey_str(cred->kms_identity));
	pl = mikey_chain_add(&m.ch, MIKEY_PT_TICKET);
	if (pl) /* exactly as received, Initiator Data included */
		pl->u.ticket = *ticket;
	mikey_add_idr(&m.ch, MIKEY_IDR_PSK, MIKEY_ID_BYTES,
		      mikey_str(cred->psk_id));
	mikey_add_v(&m.ch);
	/* Table 5.2: RESOLVE_INIT || Identity_r || Identity_kms */
	so.extra = (struct mikey_mac_extra){
		{ mikey_str(my_identity(r)), mikey_str(cred->kms_identity) }, 2
	};
	cc_wr_init(&wr, c->rinit, sizeof(c->rinit));
	err = mikey_seal(&m, &so, &wr);
	c->rinit_len = wr.pos;
	mikey_msg_keys_wipe(&k);
	return err;
}

static enum cc_err resolver_args(const struct kmsc_responder *r)
{
	if (!r || !r->cred || !r->cred->kms_identity[0] ||
	    r->cred->psk_len < 16 || !my_identity(r)[0] ||
	    strlen(my_identity(r)) >= KMSC_MAX_ID)
		return CC_ERR_INVAL;
	return CC_OK;
}

enum cc_err kmsc_resolve_init(struct kmsc_csb *c,
			      const struct kmsc_responder *r,
			      const uint8_t *xfer_init, size_t len,
			      const struct kmsc_env *env, uint8_t *out,
			      size_t cap, size_t *outlen,
			      struct kmsc_status *st)
{
	struct mikey_diag diag = { 0 };
	struct mikey_msg m;
	enum cc_err err;

	if (!c || !xfer_init || !env || !out || !outlen || resolver_args(r))
		return kc_fail(st, CC_ERR_INVAL, NULL, NULL);
	memset(c, 0, sizeof(*c));
	if (len > sizeof(c->xinit))
		return kc_fail(st, fail_csb(c, CC_ERR_SPACE), NULL,
			       "TRANSFER_INIT size");
	/* Keep our own copy: the RESOLVE_INIT's TICKET and, later, the
	 * TRANSFER_RESP MAC (A7) need the bytes exactly as received. */
	memcpy(c->xinit, xfer_init, len);
	c->xinit_len = len;
	err = mikey_decode(c->xinit, len, &m, &diag);
	if (!err)
		err = early(c, r, &m, env, &diag);
	if (!err && r->replay)
		err = mikey_replay_seen(r->replay, &m, env->now);
	if (!err)
		err = resolve_msg(
			c, r,
			&mikey_chain_find(&m.ch, MIKEY_PT_TICKET, 0)->u.ticket,
			env);
	if (!err && c->rinit_len > cap)
		err = CC_ERR_SPACE;
	if (err)
		return kc_fail(st, fail_csb(c, err), &diag, NULL);
	memcpy(out, c->rinit, c->rinit_len);
	*outlen = c->rinit_len;
	c->state = KMSC_CSB_RESOLVING;
	kc_status_ok(st);
	return CC_OK;
}

/* ---- RESOLVE_RESP -------------------------------------------------------- */

/* KEMAC = E(MPKi || [MPKr'] || {TEK|TGK'|GTGK}) (§4.2.3.5, A5) */
static enum cc_err take_keys(struct kmsc_csb *c, const struct mikey_keys *ks)
{
	size_t i, nmpk = 0;
	enum cc_err err;

	for (i = 0; i < ks->n; i++) {
		const struct mikey_key *k = &ks->k[i];

		if (k->type == MIKEY_KEY_MPK) {
			if (nmpk >= 2 || k->key.len < 16 ||
			    k->key.len > KMSC_MAX_KEY ||
			    (nmpk && k->key.len != c->mpk_len))
				return CC_ERR_MALFORMED;
			memcpy(nmpk ? c->mpkr_fork : c->mpki, k->key.p,
			       k->key.len);
			c->mpk_len = k->key.len;
			nmpk++;
			continue;
		}
		if (c->nkeys >= KMSC_MAX_KEYS)
			return CC_ERR_FULL;
		err = kc_key_copy(&c->keys[c->nkeys++], k);
		if (err)
			return err;
	}
	c->nticket_keys = c->nkeys;
	/* with forking MPKr' SHALL be there (§4.2.3.5) */
	if (!nmpk || (c->flags & MIKEY_TPF_I && nmpk != 2) || !c->nkeys)
		return CC_ERR_MISSING;
	return CC_OK;
}

static enum cc_err resolve_modifier(struct kmsc_csb *c,
				    const struct kmsc_responder *r,
				    const struct mikey_msg *m,
				    struct mikey_diag *diag)
{
	const struct mikey_pl *idr =
		mikey_chain_find(&m->ch, MIKEY_PT_IDR, MIKEY_IDR_R);
	const struct mikey_pl *rk =
		mikey_chain_find(&m->ch, MIKEY_PT_RANDR, MIKEY_RANDR_KMS);

	if ((c->flags & MIKEY_TPF_I) && (!idr || !rk))
		return mikey_diag_fail(diag, CC_ERR_MISSING, "RESOLVE_RESP",
				       "IDRr/RANDRkms (key forking)", 0);
	if (idr && kc_copy_id(c->peer_r, idr->u.id.data))
		return mikey_diag_fail(diag, CC_ERR_MALFORMED, "IDR", "IDRr",
				       idr->off);
	if (!idr)
		strcpy(c->peer_r, my_identity(r));
	if (rk) {
		if (rk->u.rand.data.len > sizeof(c->randrkms))
			return mikey_diag_fail(diag, CC_ERR_MALFORMED, "RANDR",
					       "RANDRkms length", rk->off);
		memcpy(c->randrkms, rk->u.rand.data.p, rk->u.rand.data.len);
		c->randrkms_len = rk->u.rand.data.len;
	}
	return CC_OK;
}

static enum cc_err
open_resolve(struct kmsc_csb *c, const struct kmsc_responder *r,
	     const uint8_t *buf, size_t len, const struct mikey_msg *m,
	     const struct kmsc_env *env, struct mikey_diag *diag)
{
	struct mikey_mac_extra x = { { { c->rinit, c->rinit_len } }, 1 };
	struct mikey_msg_keys k;
	struct mikey_keys ks;
	uint8_t plain[1024];
	enum mikey_encr encr;
	enum mikey_mac mac;
	enum cc_err err;

	memset(&k, 0, sizeof(k));
	err = mikey_check_layout(m, MIKEY_INITIAL, diag);
	if (!err && m->hdr.csb_id != c->r_csb_id)
		err = mikey_diag_fail(diag, CC_ERR_MALFORMED, "HDR",
				      "CSB ID of another resolve", 4);
	if (err)
		return err;
	mikey_msg_algs(m, &encr, &mac);
	if (encr == MIKEY_ENCR_NULL || mac == MIKEY_MAC_NULL)
		return mikey_diag_fail(diag, CC_ERR_UNSUPPORTED, "KEMAC",
				       "NULL algorithm", 0);
	err = mikey_derive_msg_keys(
		(enum mikey_prf)m->hdr.prf, r->cred->psk, r->cred->psk_len,
		c->r_csb_id, MIKEY_LBL_RESP, (struct cc_slice){ NULL, 0 },
		(struct cc_slice){ c->r_rand, KMSC_RAND_LEN }, encr, mac, &k);
	if (!err)
		err = mikey_verify(buf, len, m, &k, &x);
	if (err) {
		mikey_diag_fail(diag, err, "V", "RESOLVE_RESP MAC", 0);
		goto out;
	}
	err = mikey_ts_check(&mikey_chain_find(&m->ch, MIKEY_PT_T, 0)->u.t,
			     env->now, kc_skew(env));
	if (err) {
		mikey_diag_fail(diag, err, "T", "RESOLVE_RESP timestamp", 0);
		goto out;
	}
	err = mikey_kemac_open(m, &k, plain, sizeof(plain), &ks, diag);
	if (!err) {
		err = take_keys(c, &ks);
		cc_wipe(plain, sizeof(plain));
		if (err)
			mikey_diag_fail(diag, err, "KEMAC", "keys", 0);
	}
	if (!err)
		err = resolve_modifier(c, r, m, diag);
out:
	mikey_msg_keys_wipe(&k);
	return err;
}

/* Identity_i from the ticket (now trusted: the KMS resolved it);
 * Identity_r the identity of ours the INIT named, else ours (A3). */
static enum cc_err init_identities(struct kmsc_csb *c,
				   const struct kmsc_responder *r,
				   const struct mikey_msg *m,
				   struct mikey_diag *diag)
{
	const struct mikey_pl *tk =
		mikey_chain_find(&m->ch, MIKEY_PT_TICKET, 0);
	const struct mikey_pl *ii =
		mikey_chain_find(&m->ch, MIKEY_PT_IDR, MIKEY_IDR_I);
	const struct mikey_pl *ir =
		mikey_chain_find(&m->ch, MIKEY_PT_IDR, MIKEY_IDR_R);
	struct kc_policy p;
	enum cc_err err = kc_policy_parse(&tk->u.ticket, &p, diag);

	if (err)
		return err;
	if (p.initiator[0] && ii && !kc_id_eq(p.initiator, ii->u.id.data))
		return mikey_diag_fail(diag, CC_ERR_NOT_AUTHORISED, "IDR",
				       "IDRi is not the ticket's requester",
				       ii->off);
	if (p.initiator[0])
		strcpy(c->initiator, p.initiator);
	else if (!ii || kc_copy_id(c->initiator, ii->u.id.data))
		return mikey_diag_fail(diag, CC_ERR_MISSING, "IDR", "IDRi", 0);
	if (ir && is_mine(r, ir->u.id.data))
		return kc_copy_id(c->responder, ir->u.id.data);
	strcpy(c->responder, my_identity(r));
	return CC_OK;
}

/* RFC 6043 §4.2.3.6: V of the TRANSFER_INIT == Vi of the Initiator Data */
static enum cc_err check_vi(const struct mikey_msg *m)
{
	const struct mikey_pl *tk =
		mikey_chain_find(&m->ch, MIKEY_PT_TICKET, 0);
	const struct mikey_pl *v = &m->ch.pl[m->ch.n - 1];
	struct cc_slice mac;
	uint8_t alg;
	enum cc_err err;

	err = mikey_initiator_data_vi(tk->u.ticket.init_data, &alg, &mac);
	if (err)
		return err;
	if (alg != v->u.v.alg || mac.len != v->u.v.mac.len ||
	    !cc_ct_equal(mac.p, v->u.v.mac.p, mac.len))
		return CC_ERR_BAD_MAC;
	return CC_OK;
}

static enum cc_err init_kemac(struct kmsc_csb *c, const struct mikey_msg *m,
			      const struct mikey_msg_keys *k,
			      struct mikey_diag *diag)
{
	enum cc_err err;

	/* A29 rule 4: a KEMAC from the Initiator needs L */
	err = mikey_check_key_supply(m, MIKEY_INITIAL, c->flags, diag);
	if (err || !mikey_chain_find(&m->ch, MIKEY_PT_KEMAC, 0))
		return err;
	return kc_kemac_collect(c, m, k, diag);
}

static enum cc_err verify_init(struct kmsc_csb *c,
			       const struct kmsc_responder *r,
			       const struct kmsc_env *env,
			       struct mikey_diag *diag)
{
	struct mikey_msg m;
	struct mikey_msg_keys k;
	struct mikey_mac_extra x;
	enum cc_err err;

	memset(&k, 0, sizeof(k));
	err = mikey_decode(c->xinit, c->xinit_len, &m, diag);
	if (!err)
		err = init_identities(c, r, &m, diag);
	if (!err)
		err = mikey_derive_msg_keys(
			(enum mikey_prf)c->hdr_prf, c->mpki, c->mpk_len,
			c->csb_id, MIKEY_LBL_INIT,
			(struct cc_slice){ c->randri, c->randri_len },
			(struct cc_slice){ NULL, 0 }, c->encr, c->mac, &k);
	if (err)
		goto out;
	/* Table 5.2: TRANSFER_INIT || Identity_i || Identity_r */
	x = (struct mikey_mac_extra){
		{ mikey_str(c->initiator), mikey_str(c->responder) }, 2
	};
	err = mikey_verify(c->xinit, c->xinit_len, &m, &k, &x);
	if (!err && (c->flags & MIKEY_TPF_I))
		err = check_vi(&m);
	if (err) {
		mikey_diag_fail(diag, err, "V", "TRANSFER_INIT MAC", 0);
		goto out;
	}
	err = init_kemac(c, &m, &k, diag);
	/* §7 step 7: only a verified TRANSFER_INIT enters the cache */
	if (!err && r->replay)
		err = mikey_replay_add(r->replay, &m, env->now);
out:
	mikey_msg_keys_wipe(&k);
	return err;
}

enum cc_err kmsc_resolve_open(struct kmsc_csb *c,
			      const struct kmsc_responder *r,
			      const uint8_t *resp, size_t len,
			      const struct kmsc_env *env,
			      struct kmsc_status *st)
{
	struct mikey_diag diag = { 0 };
	struct mikey_msg m;
	enum cc_err err;

	if (!c || !resp || !env || resolver_args(r) ||
	    c->role != KMSC_RESPONDER || c->state != KMSC_CSB_RESOLVING)
		return kc_fail(st, CC_ERR_INVAL, NULL, "no resolve pending");
	err = mikey_decode(resp, len, &m, &diag);
	if (err)
		return kc_fail(st, fail_csb(c, err), &diag, NULL);
	if (m.hdr.data_type == MIKEY_DT_ERROR)
		return fail_csb(c, kc_error_msg(&m, st));
	if (m.hdr.data_type != MIKEY_DT_RESOLVE_RESP)
		return kc_fail(st, fail_csb(c, CC_ERR_UNSUPPORTED), NULL,
			       "data type");
	err = open_resolve(c, r, resp, len, &m, env, &diag);
	if (!err)
		err = verify_init(c, r, env, &diag);
	if (err)
		return kc_fail(st, fail_csb(c, err), &diag, NULL);
	c->state = KMSC_CSB_RESOLVED;
	kc_status_ok(st);
	return CC_OK;
}

/* ---- TRANSFER_RESP ------------------------------------------------------- */

/* §4.2.2.3: the Responder "adjusts #CS if it adds CSs". Each other
 * sender's stream becomes a CS after the offered ones, with S = 1 and its
 * ROC and SEQ (RFC 6043 §6.1.1), so a late joiner decrypts from its first
 * packet (D6). */
static enum cc_err resp_streams(struct mikey_msg *out,
				const struct mikey_msg *init,
				const struct kmsc_answer_opts *o,
				const struct kmsc_key *spi_key)
{
	uint8_t pol, id = init->hdr.ncs;
	enum cc_err err = CC_OK;
	size_t i;

	if (!o || !o->nstreams)
		return CC_OK;
	pol = out->hdr.cs[0].policies[0];
	for (i = 0; !err && i < o->nstreams; i++) {
		struct mikey_cs *cs;

		err = mikey_hdr_add_cs(&out->hdr, ++id, pol, true,
				       o->streams[i].ssrc, spi_key->spi,
				       (uint8_t)spi_key->spi_len);
		if (err)
			break;
		cs = &out->hdr.cs[out->hdr.ncs - 1];
		cs->s = true;
		cs->roc = o->streams[i].roc;
		cs->seq = o->streams[i].seq;
	}
	return err;
}

/* §4.2.2.3: one policy, session data and SPI for every CS */
static enum cc_err resp_map(struct kmsc_csb *c, struct mikey_msg *out,
			    const struct mikey_msg *init,
			    const struct kmsc_answer_opts *o,
			    const struct kmsc_env *env)
{
	const struct mikey_pl *sp = mikey_chain_find(&init->ch, MIKEY_PT_SP, 0);
	const struct kmsc_key *spi_key = o && o->nsupply ? &o->supply[0] :
							   &c->keys[0];
	enum cc_err err = CC_OK;
	size_t i;

	for (i = 0; !err && i < init->hdr.ncs; i++) {
		const struct mikey_cs *cs = &init->hdr.cs[i];
		uint8_t pol = cs->npol ? cs->policies[0] :
			      sp       ? sp->u.sp.policy_no :
					 0;
		size_t k = cs->cs_id / 2;
		uint32_t ssrc = cs->ssrc;
		uint8_t rnd[4];

		if (!cs->has_ssrc && !(cs->cs_id & 1) && o && k >= 1 &&
		    k <= o->nmedia)
			ssrc = o->ssrc[k - 1];
		else if ((cs->cs_id & 1) && o && o->peer_ssrc && k < o->nmedia)
			ssrc = o->peer_ssrc[k]; /* D6: reassigned */
		else if (!cs->has_ssrc) {
			err = kc_rand(env, rnd, sizeof(rnd));
			ssrc = (uint32_t)rnd[0] << 24 | (uint32_t)rnd[1] << 16 |
			       (uint32_t)rnd[2] << 8 | rnd[3];
		}
		/* supplied keys (the group key) replace the ticket's */
		if (!err && !(o && o->nsupply) && cs->spi_len)
			err = mikey_hdr_add_cs(&out->hdr, cs->cs_id, pol, true,
					       ssrc, cs->spi, cs->spi_len);
		else if (!err)
			err = mikey_hdr_add_cs(&out->hdr, cs->cs_id, pol, true,
					       ssrc, spi_key->spi,
					       (uint8_t)spi_key->spi_len);
	}
	return err ? err : resp_streams(out, init, o, spi_key);
}

static enum cc_err answer_msg(struct kmsc_csb *c, const struct mikey_msg *init,
			      const struct kmsc_answer_opts *o,
			      const struct kmsc_env *env,
			      const struct mikey_msg_keys *k, struct cc_wr *wr)
{
	struct mikey_msg m;
	struct mikey_keys ks = { .n = 0 };
	struct mikey_seal_opts so = { .keys = k };
	enum cc_err err;
	size_t i;

	mikey_msg_init(&m, MIKEY_DT_TRANSFER_RESP, false,
		       (enum mikey_prf)c->hdr_prf, c->csb_id,
		       MIKEY_MAP_GENERIC_ID);
	err = resp_map(c, &m, init, o, env);
	if (err)
		return err;
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, kc_now_ntp(env));
	if (c->flags & MIKEY_TPF_G)
		mikey_add_randr(&m.ch, MIKEY_RANDR_R,
				(struct cc_slice){ c->randrr, c->randrr_len });
	/* §4.2.2.3: IDRr and RANDRkms as in the RESOLVE_RESP (A23) */
	mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI, mikey_str(c->peer_r));
	if (c->randrkms_len)
		mikey_add_randr(&m.ch, MIKEY_RANDR_KMS,
				(struct cc_slice){ c->randrkms,
						   c->randrkms_len });
	if (o && o->nsupply) {
		for (i = 0; i < o->nsupply; i++)
			kc_key_view(&ks.k[ks.n++], &o->supply[i]);
		so.kemac = &ks;
		mikey_add_kemac(&m.ch);
	}
	mikey_add_v(&m.ch);
	/* Table 5.2: TRANSFER_RESP || the TRANSFER_INIT as received (A7) */
	so.extra.part[0] = (struct cc_slice){ c->xinit, c->xinit_len };
	so.extra.n = 1;
	return mikey_seal(&m, &so, wr);
}

static enum cc_err answer_args(const struct kmsc_csb *c,
			       const struct kmsc_answer_opts *o)
{
	if (!c || c->role != KMSC_RESPONDER || c->state != KMSC_CSB_RESOLVED)
		return CC_ERR_INVAL;
	if (!o)
		return CC_OK;
	if (o->nmedia > KMSC_MAX_MEDIA || (o->nmedia && !o->ssrc) ||
	    o->nsupply > KMSC_MAX_KEYS || (o->nsupply && !o->supply) ||
	    (o->nstreams && (!o->streams || !o->nsupply)) ||
	    o->nstreams > KMSC_MAX_CS - 2 * KMSC_MAX_MEDIA ||
	    c->nkeys + o->nsupply > sizeof(c->keys) / sizeof(c->keys[0]))
		return CC_ERR_INVAL;
	/* §4.2.2.3: no KEMAC in a TRANSFER_RESP unless M = 1 */
	if (o->nsupply && !(c->flags & MIKEY_TPF_M))
		return CC_ERR_POLICY;
	return CC_OK;
}

enum cc_err kmsc_transfer_resp(struct kmsc_csb *c,
			       const struct kmsc_answer_opts *o,
			       const struct kmsc_env *env, uint8_t *out,
			       size_t cap, size_t *outlen)
{
	struct mikey_msg init, resp;
	struct mikey_msg_keys k;
	struct cc_wr wr;
	enum cc_err err;
	size_t i;

	if (!env || !out || !outlen)
		return CC_ERR_INVAL;
	err = answer_args(c, o);
	if (err)
		return err;
	memset(&k, 0, sizeof(k));
	if (c->flags & MIKEY_TPF_G) {
		err = kc_rand(env, c->randrr, KMSC_RAND_LEN);
		c->randrr_len = KMSC_RAND_LEN;
	}
	if (!err)
		err = mikey_decode(c->xinit, c->xinit_len, &init, NULL);
	if (!err)
		err = mikey_derive_msg_keys(
			(enum mikey_prf)c->hdr_prf,
			c->flags & MIKEY_TPF_I ? c->mpkr_fork : c->mpki,
			c->mpk_len, c->csb_id, MIKEY_LBL_RESP,
			(struct cc_slice){ c->randri, c->randri_len },
			(struct cc_slice){ c->randrr, c->randrr_len }, c->encr,
			c->mac, &k);
	if (err)
		goto out;
	cc_wr_init(&wr, out, cap);
	err = answer_msg(c, &init, o, env, &k, &wr);
	if (!err)
		err = mikey_decode(out, wr.pos, &resp, NULL);
	for (i = 0; !err && o && i < o->nsupply; i++)
		c->keys[c->nkeys++] = o->supply[i];
	if (!err)
		err = kc_derive_teks(c, &resp, &init, NULL);
	if (!err)
		err = kc_prepare_update(c, &k);
	if (!err) {
		*outlen = wr.pos;
		c->last_t = kc_now_ntp(env);
		c->state = KMSC_CSB_READY;
	}
out:
	mikey_msg_keys_wipe(&k);
	if (err)
		fail_csb(c, err);
	return err;
}
