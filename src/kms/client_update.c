/*
 * client_update.c -- CSB updates (RFC 6043 §5.2, spec/mikey-ticket.md §9):
 * a READY CSB re-keyed by a new Ticket Transfer in either direction,
 * protected by the CSB's update keys (the TRANSFER_RESP keys), same CSB
 * ID, new T, no RANDR and no TICKET. Byte examples: worked-examples.md §9
 * (Initiator-started) and §10 (Responder-started, the focus's rekey).
 */
#include "client_int.h"

#include <stdlib.h>
#include <string.h>

enum {
	MAX_CSB_KEYS = KMSC_MAX_KEYS * 2
};

void kmsc_update_wipe(struct kmsc_update *u)
{
	if (u)
		cc_wipe(u, sizeof(*u));
}

/* Identity_r of update MACs and IDRr: the party that answered (A4, A23). */
static const char *id_r(const struct kmsc_csb *c)
{
	return c->peer_r[0] ? c->peer_r : c->responder;
}

static enum mikey_variant my_variant(const struct kmsc_csb *c)
{
	return c->role == KMSC_INITIATOR ? MIKEY_UPDATE_BY_I :
					   MIKEY_UPDATE_BY_R;
}

static enum mikey_variant peer_variant(const struct kmsc_csb *c)
{
	return c->role == KMSC_INITIATOR ? MIKEY_UPDATE_BY_R :
					   MIKEY_UPDATE_BY_I;
}

static bool spi_eq(const struct kmsc_key *a, const struct kmsc_key *b)
{
	return a->spi_len == b->spi_len &&
	       cc_ct_equal(a->spi, b->spi, a->spi_len);
}

/* A new key may not reuse the SPI of a ticket key (the map finds keys by
 * SPI) nor of another new key. */
static enum cc_err check_new_keys(const struct kmsc_csb *c,
				  const struct kmsc_key *k, size_t n)
{
	size_t i, j;

	if (!n || n > KMSC_MAX_KEYS)
		return CC_ERR_INVAL;
	for (i = 0; i < n; i++) {
		if (!k[i].spi_len || k[i].key_len < 16 ||
		    k[i].key_len > KMSC_MAX_KEY || k[i].type == MIKEY_KEY_MPK)
			return CC_ERR_INVAL;
		for (j = 0; j < c->nticket_keys; j++)
			if (spi_eq(&k[i], &c->keys[j]))
				return CC_ERR_INVAL;
		for (j = 0; j < i; j++)
			if (spi_eq(&k[i], &k[j]))
				return CC_ERR_INVAL;
	}
	return CC_OK;
}

/* keys[] := ticket keys, older supplied keys (oldest dropped first, and
 * any with a new key's SPI), then the new keys. */
static void merge_keys(struct kmsc_csb *n, const struct kmsc_key *k, size_t nk)
{
	struct kmsc_key old[MAX_CSB_KEYS];
	size_t nold = 0, i, j, keep;

	for (i = n->nticket_keys; i < n->nkeys; i++) {
		for (j = 0; j < nk; j++)
			if (spi_eq(&n->keys[i], &k[j]))
				break;
		if (j == nk)
			old[nold++] = n->keys[i];
	}
	keep = MAX_CSB_KEYS - n->nticket_keys - nk;
	if (keep > nold)
		keep = nold;
	n->nkeys = n->nticket_keys;
	for (i = nold - keep; i < nold; i++)
		n->keys[n->nkeys++] = old[i];
	for (i = 0; i < nk; i++)
		n->keys[n->nkeys++] = k[i];
	cc_wipe(old, sizeof(old));
	cc_wipe(&n->keys[n->nkeys],
		(MAX_CSB_KEYS - n->nkeys) * sizeof(n->keys[0]));
}

/* New keys + the TEKs of map's CS map into *c, all or nothing. The SRTP
 * lengths come from the SP of the original TRANSFER_INIT (updates need
 * not repeat it). */
static enum cc_err install(struct kmsc_csb *c, const struct kmsc_key *k,
			   size_t nk, const struct mikey_msg *map,
			   struct mikey_diag *diag)
{
	struct kmsc_csb *n = malloc(sizeof(*n));
	struct mikey_msg init;
	enum cc_err err;

	if (!n)
		return CC_ERR_NOMEM;
	*n = *c;
	merge_keys(n, k, nk);
	err = mikey_decode(c->xinit, c->xinit_len, &init, NULL);
	if (!err)
		err = kc_derive_teks(n, map, &init, diag);
	if (!err) {
		memcpy(c->keys, n->keys, sizeof(c->keys));
		c->nkeys = n->nkeys;
		memcpy(c->tek, n->tek, sizeof(c->tek));
		c->ntek = n->ntek;
	}
	cc_wipe(n, sizeof(*n));
	free(n);
	return err;
}

/* T of a message we send: now, but always after every T of the CSB. */
static uint64_t next_t(struct kmsc_csb *c, const struct kmsc_env *env)
{
	uint64_t t = kc_now_ntp(env);

	if (t <= c->last_t)
		t = c->last_t + 1;
	c->last_t = t;
	return t;
}

/* A15: every CS keeps its SSRC and policy and names spi_key (or its own
 * SPI when no key is supplied). */
static enum cc_err upd_map(const struct kmsc_csb *c, struct mikey_msg *m,
			   const struct kmsc_key *spi_key)
{
	enum cc_err err = CC_OK;
	size_t i;

	if (!c->ntek)
		return CC_ERR_INVAL;
	for (i = 0; !err && i < c->ntek; i++) {
		const struct kmsc_tek *t = &c->tek[i];

		if (c->ncs_own && t->cs_id > c->ncs_own)
			continue; /* another member's stream (D6) */
		err = mikey_hdr_add_cs(
			&m->hdr, t->cs_id, t->policy_no, t->has_ssrc, t->ssrc,
			spi_key ? spi_key->spi : t->spi,
			(uint8_t)(spi_key ? spi_key->spi_len : t->spi_len));
	}
	return err;
}

/* ---- sender: TRANSFER_INIT -------------------------------------------- */

static enum cc_err init_msg(struct kmsc_csb *c,
			    const struct kmsc_update_opts *o, uint64_t t,
			    struct cc_wr *wr)
{
	struct mikey_msg m;
	struct mikey_keys ks = { .n = 0 };
	struct mikey_seal_opts so = { .keyed = c->update };
	struct kmsc_key mk = { .spi_len = o->map_spi_len }; /* SPI only */
	enum cc_err err;
	size_t i;

	mikey_msg_init(&m, MIKEY_DT_TRANSFER_INIT, o->want_resp,
		       (enum mikey_prf)c->hdr_prf, c->csb_id,
		       MIKEY_MAP_GENERIC_ID);
	if (o->map_spi_len)
		memcpy(mk.spi, o->map_spi, o->map_spi_len);
	err = upd_map(c, &m,
		      o->nsupply     ? &o->supply[0] :
		      o->map_spi_len ? &mk :
				       NULL);
	if (err)
		return err;
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, t);
	/* §5.2 payload order; A4: roles keep their original meaning */
	if (c->role == KMSC_RESPONDER) {
		mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI,
			      mikey_str(id_r(c)));
		mikey_add_idr(&m.ch, MIKEY_IDR_I, MIKEY_ID_URI,
			      mikey_str(c->initiator));
	} else {
		mikey_add_idr(&m.ch, MIKEY_IDR_I, MIKEY_ID_URI,
			      mikey_str(c->initiator));
		mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI,
			      mikey_str(id_r(c)));
	}
	if (o->nsupply) {
		for (i = 0; i < o->nsupply; i++)
			kc_key_view(&ks.k[ks.n++], &o->supply[i]);
		so.kemac = &ks;
		mikey_add_kemac(&m.ch);
	}
	mikey_add_v(&m.ch);
	/* Table 5.2: INIT || Identity_i || Identity_r, whoever sends */
	so.extra = (struct mikey_mac_extra){
		{ mikey_str(c->initiator), mikey_str(id_r(c)) }, 2
	};
	err = mikey_seal(&m, &so, wr);
	cc_wipe(&ks, sizeof(ks));
	return err;
}

/* map_spi names a key of the CSB (a switch to it, not a new key) */
static bool holds_spi(const struct kmsc_csb *c,
		      const struct kmsc_update_opts *o)
{
	size_t i;

	if (!o->map_spi || o->map_spi_len > sizeof(c->keys[0].spi))
		return false;
	for (i = 0; i < c->nkeys; i++)
		if (c->keys[i].spi_len == o->map_spi_len &&
		    cc_ct_equal(c->keys[i].spi, o->map_spi, o->map_spi_len))
			return true;
	return false;
}

enum cc_err kmsc_update_init(struct kmsc_csb *c,
			     const struct kmsc_update_opts *o,
			     const struct kmsc_env *env, struct kmsc_update *u,
			     uint8_t *out, size_t cap, size_t *outlen)
{
	struct mikey_msg m;
	uint64_t saved_t;
	struct cc_wr wr;
	enum cc_err err;
	uint16_t need;

	if (!c || !o || !env || !u || !out || !outlen ||
	    c->state != KMSC_CSB_READY || !c->update)
		return CC_ERR_INVAL;
	if (o->nsupply) {
		need = c->role == KMSC_INITIATOR ? MIKEY_TPF_L : MIKEY_TPF_M;
		if (!(c->flags & need))
			return CC_ERR_POLICY;
		if (!o->supply)
			return CC_ERR_INVAL;
		err = check_new_keys(c, o->supply, o->nsupply);
		if (err)
			return err;
	}
	if (!o->nsupply && o->map_spi_len && !holds_spi(c, o))
		return CC_ERR_NOT_FOUND;
	memset(u, 0, sizeof(*u));
	saved_t = c->last_t;
	cc_wr_init(&wr, u->init, sizeof(u->init));
	err = init_msg(c, o, next_t(c, env), &wr);
	if (!err && wr.pos > cap)
		err = CC_ERR_SPACE;
	if (!err && !o->want_resp)
		err = mikey_decode(u->init, wr.pos, &m, NULL);
	if (!err && !o->want_resp) /* nothing to wait for: in force now */
		err = install(c, o->supply, o->nsupply, &m, NULL);
	if (err) {
		c->last_t = saved_t;
		kmsc_update_wipe(u);
		return err;
	}
	u->init_len = wr.pos;
	u->by_me = true;
	u->want_resp = o->want_resp;
	u->done = !o->want_resp;
	if (o->nsupply)
		memcpy(u->keys, o->supply, o->nsupply * sizeof(u->keys[0]));
	u->nkeys = o->nsupply;
	memcpy(out, u->init, u->init_len);
	*outlen = u->init_len;
	return CC_OK;
}

/* ---- receiver checks shared by both messages --------------------------- */

/* Layout of the variant, CSB ID, T in the window and newer than any T of
 * this CSB (replay), the MAC with the update keys. */
static enum cc_err upd_verify(struct kmsc_csb *c, const uint8_t *buf,
			      size_t len, const struct mikey_msg *m,
			      enum mikey_variant v,
			      const struct mikey_mac_extra *x,
			      const struct kmsc_env *env, uint64_t *t64,
			      struct mikey_diag *diag)
{
	const struct mikey_pl *t;
	enum mikey_encr encr;
	enum mikey_mac mac;
	enum cc_err err;

	err = mikey_check_layout(m, v, diag);
	if (err)
		return err;
	if (m->hdr.csb_id != c->csb_id)
		return mikey_diag_fail(diag, CC_ERR_MALFORMED, "HDR",
				       "CSB ID of another CSB", 4);
	mikey_msg_algs(m, &encr, &mac);
	if (mac != c->mac || m->hdr.prf != c->hdr_prf)
		return mikey_diag_fail(diag, CC_ERR_UNSUPPORTED, "V",
				       "MAC alg / PRF changed", 0);
	t = mikey_chain_find(&m->ch, MIKEY_PT_T, 0);
	err = mikey_ts_check(&t->u.t, env->now, kc_skew(env));
	if (err)
		return mikey_diag_fail(diag, err, "T", "timestamp", t->off);
	err = mikey_verify_keyed(buf, len, m, c->update, x);
	if (err)
		return mikey_diag_fail(diag, err, "V", "CSB update MAC", 0);
	/* §5.2: a NEW timestamp; an old or repeated T is a replay */
	*t64 = mikey_ts_to64(&t->u.t);
	if (*t64 <= c->last_t)
		return mikey_diag_fail(diag, CC_ERR_REPLAY, "T",
				       "not newer than the CSB's last T",
				       t->off);
	return CC_OK;
}

/* IDRi / IDRr, when present, name the CSB's parties. */
static enum cc_err check_ids(const struct kmsc_csb *c,
			     const struct mikey_msg *m, struct mikey_diag *diag)
{
	const struct mikey_pl *ii =
		mikey_chain_find(&m->ch, MIKEY_PT_IDR, MIKEY_IDR_I);
	const struct mikey_pl *ir =
		mikey_chain_find(&m->ch, MIKEY_PT_IDR, MIKEY_IDR_R);

	if (ii && !kc_id_eq(c->initiator, ii->u.id.data))
		return mikey_diag_fail(diag, CC_ERR_NOT_AUTHORISED, "IDR",
				       "IDRi is not the CSB's Initiator",
				       ii->off);
	if (ir && !kc_id_eq(id_r(c), ir->u.id.data))
		return mikey_diag_fail(diag, CC_ERR_NOT_AUTHORISED, "IDR",
				       "IDRr is not the CSB's Responder",
				       ir->off);
	return CC_OK;
}

static enum cc_err open_kemac(struct kmsc_csb *c, const struct mikey_msg *m,
			      struct kmsc_key *keys, size_t *nkeys,
			      struct mikey_diag *diag)
{
	struct mikey_keys ks;
	uint8_t plain[1024];
	enum cc_err err = CC_OK;
	size_t i;

	*nkeys = 0;
	if (!mikey_chain_find(&m->ch, MIKEY_PT_KEMAC, 0))
		return CC_OK;
	err = mikey_kemac_open_keyed(m, c->update, plain, sizeof(plain), &ks,
				     diag);
	if (!err && (!ks.n || ks.n > KMSC_MAX_KEYS))
		err = mikey_diag_fail(diag, CC_ERR_UNSUPPORTED, "KEMAC",
				      "number of keys", 0);
	for (i = 0; !err && i < ks.n; i++) {
		if (ks.k[i].type == MIKEY_KEY_MPK)
			err = CC_ERR_MALFORMED;
		else
			err = kc_key_copy(&keys[(*nkeys)++], &ks.k[i]);
	}
	if (!err && check_new_keys(c, keys, *nkeys))
		err = mikey_diag_fail(diag, CC_ERR_MALFORMED, "KEMAC",
				      "SPI of a ticket key or repeated", 0);
	cc_wipe(plain, sizeof(plain));
	cc_wipe(&ks, sizeof(ks));
	return err;
}

/* ---- receiver: TRANSFER_INIT -> TRANSFER_RESP --------------------------- */

static enum cc_err open_init(struct kmsc_csb *c, const uint8_t *msg, size_t len,
			     const struct mikey_msg *m,
			     const struct kmsc_env *env, struct kmsc_key *keys,
			     size_t *nkeys, uint64_t *t64,
			     struct mikey_diag *diag)
{
	struct mikey_mac_extra x = {
		{ mikey_str(c->initiator), mikey_str(id_r(c)) }, 2
	};
	enum cc_err err;

	err = upd_verify(c, msg, len, m, peer_variant(c), &x, env, t64, diag);
	if (!err)
		err = check_ids(c, m, diag);
	/* L for the Initiator's keys, M for the Responder's (A29) */
	if (!err)
		err = mikey_check_key_supply(m, peer_variant(c), c->flags,
					     diag);
	if (!err)
		err = open_kemac(c, m, keys, nkeys, diag);
	if (!err)
		err = install(c, keys, *nkeys, m, diag);
	return err;
}

enum cc_err kmsc_update_open(struct kmsc_csb *c, const uint8_t *msg, size_t len,
			     const struct kmsc_env *env, struct kmsc_update *u,
			     struct kmsc_status *st)
{
	struct mikey_diag diag = { 0 };
	struct kmsc_key keys[KMSC_MAX_KEYS];
	struct mikey_msg m;
	uint64_t t64 = 0;
	size_t nkeys = 0;
	enum cc_err err;

	if (!c || !msg || !env || !u || c->state != KMSC_CSB_READY ||
	    !c->update || len > sizeof(u->init))
		return kc_fail(st, CC_ERR_INVAL, NULL, "no CSB to update");
	err = mikey_decode(msg, len, &m, &diag);
	if (err)
		return kc_fail(st, err, &diag, NULL);
	if (m.hdr.data_type != MIKEY_DT_TRANSFER_INIT)
		return kc_fail(st, CC_ERR_UNSUPPORTED, NULL, "data type");
	memset(keys, 0, sizeof(keys));
	err = open_init(c, msg, len, &m, env, keys, &nkeys, &t64, &diag);
	cc_wipe(keys, sizeof(keys));
	if (err)
		return kc_fail(st, err, &diag, NULL);
	c->last_t = t64;
	memset(u, 0, sizeof(*u));
	memcpy(u->init, msg, len);
	u->init_len = len;
	u->want_resp = m.hdr.v;
	u->done = !m.hdr.v;
	kc_status_ok(st);
	return CC_OK;
}

enum cc_err kmsc_update_resp(struct kmsc_csb *c, const struct kmsc_env *env,
			     struct kmsc_update *u, uint8_t *out, size_t cap,
			     size_t *outlen)
{
	struct mikey_msg init, m;
	struct mikey_seal_opts so;
	uint64_t saved_t;
	struct cc_wr wr;
	enum cc_err err;
	size_t i;

	if (!c || !env || !u || !out || !outlen || u->by_me || !u->init_len ||
	    c->state != KMSC_CSB_READY || !c->update)
		return CC_ERR_INVAL;
	err = mikey_decode(u->init, u->init_len, &init, NULL);
	if (err)
		return err;
	mikey_msg_init(&m, MIKEY_DT_TRANSFER_RESP, false,
		       (enum mikey_prf)c->hdr_prf, c->csb_id,
		       MIKEY_MAP_GENERIC_ID);
	/* the map as received (now in force) */
	for (i = 0; !err && i < init.hdr.ncs; i++) {
		const struct mikey_cs *cs = &init.hdr.cs[i];

		err = mikey_hdr_add_cs(&m.hdr, cs->cs_id,
				       cs->npol ? cs->policies[0] : 0,
				       cs->has_ssrc, cs->ssrc, cs->spi,
				       cs->spi_len);
	}
	if (err)
		return err;
	saved_t = c->last_t;
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, next_t(c, env));
	if (c->role == KMSC_INITIATOR)
		mikey_add_idr(&m.ch, MIKEY_IDR_I, MIKEY_ID_URI,
			      mikey_str(c->initiator));
	else
		mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI,
			      mikey_str(id_r(c)));
	mikey_add_v(&m.ch);
	memset(&so, 0, sizeof(so));
	so.keyed = c->update;
	/* Table 5.2: RESP || the update TRANSFER_INIT as received */
	so.extra.part[0] = (struct cc_slice){ u->init, u->init_len };
	so.extra.n = 1;
	cc_wr_init(&wr, out, cap);
	err = mikey_seal(&m, &so, &wr);
	if (err) {
		c->last_t = saved_t;
		return err;
	}
	*outlen = wr.pos;
	u->done = true;
	return CC_OK;
}

/* ---- sender: TRANSFER_RESP in ----------------------------------------- */

/* The answer covers every CS of the INIT and names the same SPIs. */
static enum cc_err same_map(const struct mikey_msg *init,
			    const struct mikey_msg *resp)
{
	size_t i, j;

	for (i = 0; i < init->hdr.ncs; i++) {
		const struct mikey_cs *a = &init->hdr.cs[i];

		for (j = 0; j < resp->hdr.ncs; j++)
			if (resp->hdr.cs[j].cs_id == a->cs_id)
				break;
		if (j == resp->hdr.ncs ||
		    resp->hdr.cs[j].spi_len != a->spi_len ||
		    !cc_ct_equal(resp->hdr.cs[j].spi, a->spi, a->spi_len))
			return CC_ERR_MISSING;
	}
	return CC_OK;
}

static enum cc_err open_resp(struct kmsc_csb *c, const uint8_t *msg, size_t len,
			     const struct mikey_msg *m,
			     const struct kmsc_env *env, struct kmsc_update *u,
			     uint64_t *t64, struct mikey_diag *diag)
{
	struct mikey_mac_extra x = { { { u->init, u->init_len } }, 1 };
	struct mikey_msg init;
	enum cc_err err;

	/* the answer comes from the peer: its variant is ours */
	err = upd_verify(c, msg, len, m, my_variant(c), &x, env, t64, diag);
	if (!err)
		err = check_ids(c, m, diag);
	if (!err && mikey_chain_find(&m->ch, MIKEY_PT_KEMAC, 0))
		err = mikey_diag_fail(diag, CC_ERR_POLICY, "KEMAC",
				      "keys in an update answer", 0);
	if (!err)
		err = mikey_decode(u->init, u->init_len, &init, NULL);
	if (!err && same_map(&init, m))
		err = mikey_diag_fail(diag, CC_ERR_MISSING, "HDR",
				      "a CS of the update", 10);
	if (!err)
		err = install(c, u->keys, u->nkeys, &init, diag);
	return err;
}

enum cc_err kmsc_update_resp_open(struct kmsc_csb *c, const uint8_t *msg,
				  size_t len, const struct kmsc_env *env,
				  struct kmsc_update *u, struct kmsc_status *st)
{
	struct mikey_diag diag = { 0 };
	struct mikey_msg m;
	uint64_t t64 = 0;
	enum cc_err err;

	if (!c || !msg || !env || !u || !u->by_me || u->done ||
	    c->state != KMSC_CSB_READY || !c->update)
		return kc_fail(st, CC_ERR_INVAL, NULL, "no update pending");
	err = mikey_decode(msg, len, &m, &diag);
	if (err)
		return kc_fail(st, err, &diag, NULL);
	if (m.hdr.data_type == MIKEY_DT_ERROR)
		return kc_error_msg(&m, st);
	if (m.hdr.data_type != MIKEY_DT_TRANSFER_RESP)
		return kc_fail(st, CC_ERR_UNSUPPORTED, NULL, "data type");
	err = open_resp(c, msg, len, &m, env, u, &t64, &diag);
	if (err)
		return kc_fail(st, err, &diag, NULL);
	c->last_t = t64;
	u->done = true;
	cc_wipe(u->keys, sizeof(u->keys));
	kc_status_ok(st);
	return CC_OK;
}
