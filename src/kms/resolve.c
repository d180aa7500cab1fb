/*
 * resolve.c -- RESOLVE_INIT_PSK -> RESOLVE_RESP (RFC 6043 §4.2.3): the KMS
 * opens the ticket, checks that the authenticated resolver is one of its
 * responders (identities and patterns, DESIGN.md D5) and that the ticket
 * is valid now, checks Vr (key forking, §6.10), forks MPKr and the TGKs for
 * the resolver's identity (§5.1.1) and returns the keys with the verified
 * Initiator identity in the ticket's policy.
 */
#include "kms_int.h"

#include <stdlib.h>
#include <string.h>

enum {
	PLAIN_MAX = 1024
};

struct resolution {
	struct mikey_keys tk;     /* the ticket's keys: MPK first */
	uint8_t plain[PLAIN_MAX]; /* their bytes (secret) */
	struct mikey_chain tp;    /* granted policy */
	uint16_t flags;
	uint8_t prf;
	struct cc_slice rand; /* Ticket Data RAND */
	size_t key_len;
	uint8_t mpki[32], mpkr[32], mpkr_f[32];
	uint8_t randrkms[32];
	uint8_t forked[MIKEY_MAX_KEYS][64];
	struct mikey_keys out; /* what goes to the resolver */
	struct kms_user init_user;
	struct mikey_msg resp;
};

struct lookup_ctx {
	struct kms *k;
	int64_t now;
	struct kms_tpk tpk;
};

static enum cc_err tpk_lookup(struct cc_slice id, void *arg,
			      const uint8_t **key, size_t *len)
{
	struct lookup_ctx *c = arg;
	enum cc_err err;

	err = c->k->st->ops->tpk_by_id(c->k->st, id, c->now, &c->tpk);
	if (err)
		return err;
	*key = c->tpk.key;
	*len = c->tpk.key_len;
	return CC_OK;
}

static enum cc_err open_ticket(struct kms *k, struct kms_req *r,
			       const struct mikey_pl_ticket *t,
			       struct resolution *z, const char **reason)
{
	struct lookup_ctx c;
	struct mikey_chain td;
	enum cc_err err;

	memset(&c, 0, sizeof(c));
	c.k = k;
	c.now = r->now;
	*reason = "ticket";
	err = mikey_ticket_open(t, tpk_lookup, &c, z->plain, sizeof(z->plain),
				&z->tk, NULL, &r->diag);
	cc_wipe(&c.tpk, sizeof(c.tpk));
	if (err == CC_ERR_NOT_FOUND) {
		*reason = "ticket key unknown or retired";
		return CC_ERR_EXPIRED;
	}
	if (err)
		return err;
	/* the ticket verified, so its structure is what we sealed */
	err = mikey_decode_chain(t->ticket_data.p, t->ticket_data.len, false,
				 &td, NULL);
	if (err)
		return err;
	z->rand = td.pl[2].u.rand.data;
	z->flags = t->flags;
	z->prf = t->prf;
	z->key_len = z->tk.k[0].key.len;
	*reason = "ticket policy";
	err = mikey_decode_chain(t->tp_data.p, t->tp_data.len, true, &z->tp,
				 &r->diag);
	if (!err)
		err = mikey_check_tp_data(&z->tp, true, &r->diag);
	if (!err)
		err = mikey_check_flags(z->flags, &r->diag);
	if (!err && (z->key_len > 32 || z->tk.n > MIKEY_MAX_KEYS - 1))
		err = CC_ERR_UNSUPPORTED;
	return err;
}

/* A21: now within [TRs - skew, TRe + skew]. */
static enum cc_err check_validity(struct kms *k, struct kms_req *r,
				  struct resolution *z, const char **reason)
{
	const struct mikey_pl *s =
		mikey_chain_find(&z->tp, MIKEY_PT_TR, MIKEY_TSR_START);
	const struct mikey_pl *e =
		mikey_chain_find(&z->tp, MIKEY_PT_TR, MIKEY_TSR_END);

	*reason = "ticket validity";
	if (s && r->now + k->cfg.skew < mikey_ts_unix(&s->u.tr.ts))
		return CC_ERR_NOT_YET_VALID;
	if (e && r->now - (int64_t)k->cfg.skew > mikey_ts_unix(&e->u.tr.ts))
		return CC_ERR_EXPIRED;
	return CC_OK;
}

static bool same_id(struct cc_slice a, struct cc_slice b)
{
	return a.len == b.len && (!a.len || cc_ct_equal(a.p, b.p, a.len));
}

/* The resolver must own one of the ticket's IDRr entries. Its own
 * identity's owner is known from authentication: not asked again. */
static enum cc_err check_resolver(struct kms *k, struct kms_req *r,
				  struct resolution *z, struct cc_slice self,
				  const char **reason)
{
	size_t i;

	*reason = "resolver not among the ticket's responders";
	for (i = 0; i < z->tp.n; i++) {
		const struct mikey_pl *p = &z->tp.pl[i];
		const struct kms_user *o;
		struct kms_user u;
		enum cc_err err;

		if (p->type != MIKEY_PT_IDR || p->u.id.role != MIKEY_IDR_R)
			continue;
		if (same_id(p->u.id.data, self)) {
			err = kms_self_owner(k, r, self, &o);
		} else {
			err = k->st->ops->user_by_identity(k->st, p->u.id.data,
							   &u);
			cc_wipe(u.psk, sizeof(u.psk));
			o = &u;
		}
		if (err == CC_ERR_NOT_FOUND)
			continue;
		if (err)
			return err;
		if (o->id == r->user.id)
			return CC_OK;
	}
	return CC_ERR_NOT_AUTHORISED;
}

/* Policy between the ticket's Initiator and the resolver. */
static enum cc_err check_policy(struct kms *k, struct kms_req *r,
				struct resolution *z, const char **reason)
{
	const struct mikey_pl *i =
		mikey_chain_find(&z->tp, MIKEY_PT_IDR, MIKEY_IDR_I);
	struct kms_policy pol;
	bool flag = false;
	enum cc_err err;

	*reason = "ticket names no Initiator";
	if (!i)
		return CC_ERR_MISSING;
	kms_slice_str(i->u.id.data, r->initiator, sizeof(r->initiator));
	*reason = "Initiator no longer a user";
	err = kms_user_with_policy(k, i->u.id.data, r->user.id, false,
				   &z->init_user, &pol);
	if (err)
		return err == CC_ERR_NOT_FOUND ? CC_ERR_UNKNOWN_USER : err;
	*reason = "session denied by policy";
	err = kms_session_denied(k, &pol, z->init_user.id, r->user.id, &flag);
	if (err || flag)
		return err ? err : CC_ERR_NOT_AUTHORISED;
	if (!r->self_factory)
		return CC_OK;
	/* The factory resolves the creator's ticket: may it create here?
	 * (seed 000 §5.3.3.1.2; the KMS is the authority on this) */
	*reason = "Initiator may not create conferences at this factory";
	err = kms_may_create(k, &pol, z->init_user.id, r->user.id, &flag);
	if (err || !flag)
		return err ? err : CC_ERR_NOT_AUTHORISED;
	return CC_OK;
}

/* Key forking (RFC 6043 §5.1.1, §6.10): check Vr, then fork for the
 * resolver's identity. */
static enum cc_err fork_keys(struct kms *k, const struct mikey_pl_ticket *t,
			     struct resolution *z, struct cc_slice self,
			     const char **reason)
{
	struct cc_slice rkms = { z->randrkms, z->key_len };
	size_t i;
	enum cc_err err;

	*reason = "Initiator Data missing (I = 1)";
	if (!t->init_data.len)
		return CC_ERR_MISSING;
	err = mikey_derive_mpk((enum mikey_prf)z->prf, z->tk.k[0].key.p,
			       z->key_len, z->rand, true, z->mpkr);
	*reason = "Vr";
	if (!err)
		err = mikey_initiator_data_verify(t->init_data,
						  (enum mikey_prf)z->prf,
						  z->mpkr, z->key_len);
	if (!err)
		err = k->rand(z->randrkms, z->key_len, k->rand_arg);
	if (!err)
		err = mikey_fork((enum mikey_prf)z->prf, MIKEY_C_FORK_MPKR,
				 z->mpkr, z->key_len, self, rkms, z->mpkr_f);
	for (i = 1; !err && i < z->tk.n; i++) {
		struct mikey_key *x = &z->tk.k[i];

		/* TGKs are forked; TEKs and GTGKs never are (§5.1.1) */
		if (x->type != MIKEY_KEY_TGK && x->type != MIKEY_KEY_TGK_SALT)
			continue;
		err = mikey_fork((enum mikey_prf)z->prf, MIKEY_C_FORK_TGK,
				 x->key.p, x->key.len, self, rkms,
				 z->forked[i]);
		x->key.p = z->forked[i];
	}
	return err;
}

static void out_keys(struct resolution *z)
{
	static const uint8_t zero_spi[4];
	size_t i;

	z->out.n = 0;
	z->out.k[z->out.n++] =
		(struct mikey_key){ .type = MIKEY_KEY_MPK,
				    .kv = MIKEY_KV_SPI,
				    .key = { z->mpki, z->key_len },
				    .spi = { zero_spi, 4 } };
	if (z->flags & MIKEY_TPF_I)
		z->out.k[z->out.n++] =
			(struct mikey_key){ .type = MIKEY_KEY_MPK,
					    .kv = MIKEY_KV_SPI,
					    .key = { z->mpkr_f, z->key_len },
					    .spi = { zero_spi, 4 } };
	for (i = 1; i < z->tk.n; i++)
		z->out.k[z->out.n++] = z->tk.k[i];
}

/* RESOLVE_RESP = HDR, T, IDRkms, KEMAC, [IDRr], [RANDRkms], V */
static enum cc_err respond(struct kms *k, struct kms_req *r,
			   struct resolution *z, const struct mikey_pl *self)
{
	const struct mikey_pl *rr =
		mikey_chain_find(&r->msg.ch, MIKEY_PT_RANDR, MIKEY_RANDR_R);
	const struct mikey_hdr h = r->msg.hdr;
	struct mikey_msg *m = &z->resp;
	struct mikey_msg_keys mk;
	struct mikey_seal_opts o = { .keys = &mk, .kemac = &z->out };
	enum mikey_encr e;
	enum mikey_mac mac;
	enum cc_err err;

	mikey_msg_algs(&r->msg, &e, &mac);
	err = mikey_derive_msg_keys((enum mikey_prf)h.prf, r->user.psk,
				    r->user.psk_len, h.csb_id, MIKEY_LBL_RESP,
				    (struct cc_slice){ 0 }, rr->u.rand.data,
				    kms_encr_for(h.prf), mac, &mk);
	if (err)
		return err;
	o.extra.part[0] = (struct cc_slice){ r->buf, r->len };
	o.extra.n = 1;
	mikey_msg_init(m, MIKEY_DT_RESOLVE_RESP, false, (enum mikey_prf)h.prf,
		       h.csb_id, MIKEY_MAP_EMPTY);
	mikey_add_t(&m->ch, MIKEY_TS_NTP_UTC, mikey_ntp_from_unix(r->now, 0));
	mikey_add_idr(&m->ch, MIKEY_IDR_KMS, MIKEY_ID_URI,
		      mikey_str(k->identity));
	mikey_add_kemac(&m->ch);
	if (z->flags & MIKEY_TPF_I) {
		/* §4.2.3.5: the fork modifier, IDRr and RANDRkms */
		mikey_add_idr(&m->ch, MIKEY_IDR_R, self->u.id.type,
			      self->u.id.data);
		mikey_add_randr(&m->ch, MIKEY_RANDR_KMS,
				(struct cc_slice){ z->randrkms, z->key_len });
	}
	mikey_add_v(&m->ch);
	err = mikey_seal(m, &o, r->resp);
	mikey_msg_keys_wipe(&mk);
	return err;
}

static enum cc_err resolve(struct kms *k, struct kms_req *r,
			   struct resolution *z, const char **reason)
{
	const struct mikey_pl *t =
		mikey_chain_find(&r->msg.ch, MIKEY_PT_TICKET, 0);
	const struct mikey_pl *self =
		mikey_chain_find(&r->msg.ch, MIKEY_PT_IDR, MIKEY_IDR_R);
	enum cc_err err;

	err = open_ticket(k, r, &t->u.ticket, z, reason);
	if (!err) {
		kms_ticket_id(t->u.ticket.ticket_data,
			      mikey_mac_len(z->prf ? MIKEY_MAC_HMAC_SHA256_256 :
						     MIKEY_MAC_HMAC_SHA1_160),
			      r->res->ticket_id);
		err = check_validity(k, r, z, reason);
	}
	if (!err)
		err = check_resolver(k, r, z, self->u.id.data, reason);
	if (!err)
		err = check_policy(k, r, z, reason);
	if (err)
		return err;
	*reason = "resolving the ticket";
	err = mikey_derive_mpk((enum mikey_prf)z->prf, z->tk.k[0].key.p,
			       z->key_len, z->rand, false, z->mpki);
	if (!err && (z->flags & MIKEY_TPF_I))
		err = fork_keys(k, &t->u.ticket, z, self->u.id.data, reason);
	if (err)
		return err;
	out_keys(z);
	*reason = "building the response";
	return respond(k, r, z, self);
}

enum cc_err kms_resolve(struct kms *k, struct kms_req *r)
{
	struct resolution *z = calloc(1, sizeof(*z));
	const char *reason = "";
	enum cc_err err;

	if (!z)
		return CC_ERR_NOMEM;
	err = kms_authenticate(k, r, MIKEY_IDR_R, &reason);
	if (!err)
		err = resolve(k, r, z, &reason);
	if (!err) {
		reason = "replay cache full";
		err = kms_commit(k, r);
	}
	if (err) {
		err = kms_refuse(k, r, err, reason, &r->diag);
		goto out;
	}
	kms_audit_ok(k, r, "resolved");
	if (r->audit_err)
		err = kms_refuse(k, r, r->audit_err, "audit log unavailable",
				 NULL);
out:
	/* the secrets; the policy and response bytes are not */
	cc_wipe(z->plain, sizeof(z->plain));
	cc_wipe(z->mpki, sizeof(z->mpki));
	cc_wipe(z->mpkr, sizeof(z->mpkr));
	cc_wipe(z->mpkr_f, sizeof(z->mpkr_f));
	cc_wipe(z->forked, sizeof(z->forked));
	cc_wipe(z->init_user.psk, sizeof(z->init_user.psk));
	free(z);
	return err;
}
