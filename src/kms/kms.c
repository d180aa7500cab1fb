/*
 * kms.c -- the KMS core: REQUEST_INIT_PSK -> REQUEST_RESP (ticket issue)
 * and RESOLVE_INIT_PSK -> RESOLVE_RESP (ticket resolve), RFC 6043 §4.2.1,
 * §4.2.3, mode 1, with the profile of spec/3gpp-kms-conferencing.md §4.2.
 *
 * Order of checks (RFC 3830 §5.3, RFC 6043 §12.3: no state before the
 * requester is authenticated): decode, layout, timestamp window, user by
 * PSK id, MAC, identity ownership, replay, then the ticket and policy. A
 * refusal is a MIKEY Error message plus an audit record; only a request
 * that passed everything enters the replay cache. A store may read the
 * claimed identity's owner along with the PSK (one round trip): it is
 * judged only after the MAC.
 */
#include "kms_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void defaults(struct kms_config *c)
{
	if (!c->skew)
		c->skew = 300;
	if (!c->max_lifetime)
		c->max_lifetime = 86400;
	if (!c->default_lifetime || c->default_lifetime > c->max_lifetime)
		c->default_lifetime = c->max_lifetime;
	if (!c->replay_capacity)
		c->replay_capacity = 1 << 16;
}

enum cc_err kms_alloc(struct kms **kp, const struct kms_config *cfg,
		      struct kms_store *store, kms_rand_h *rand, void *rand_arg)
{
	struct kms *k;
	enum cc_err err;

	if (!kp || !cfg || !cfg->identity || !store || !store->ops || !rand ||
	    strlen(cfg->identity) >= KMS_MAX_NAME)
		return CC_ERR_INVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return CC_ERR_NOMEM;
	k->cfg = *cfg;
	strcpy(k->identity, cfg->identity);
	k->cfg.identity = k->identity;
	defaults(&k->cfg);
	k->st = store;
	k->rand = rand;
	k->rand_arg = rand_arg;
	err = mikey_replay_alloc(&k->replay, k->cfg.replay_capacity,
				 k->cfg.skew);
	if (err) {
		free(k);
		return err;
	}
	*kp = k;
	return CC_OK;
}

enum cc_err kms_reconfigure(struct kms *k, const struct kms_config *cfg)
{
	if (!k || !cfg)
		return CC_ERR_INVAL;
	k->cfg.skew = cfg->skew;
	k->cfg.max_lifetime = cfg->max_lifetime;
	k->cfg.default_lifetime = cfg->default_lifetime;
	k->cfg.allow_reuse = cfg->allow_reuse;
	defaults(&k->cfg);
	mikey_replay_set_skew(k->replay, k->cfg.skew);
	return CC_OK;
}

void kms_free(struct kms *k)
{
	if (!k)
		return;
	mikey_replay_free(k->replay);
	free(k);
}

enum cc_err kms_batch_begin(struct kms *k)
{
	enum cc_err err;

	if (!k || k->batch || !k->st->ops->begin || !k->st->ops->end)
		return CC_ERR_INVAL;
	err = k->st->ops->begin(k->st);
	if (!err)
		k->batch = true;
	return err;
}

enum cc_err kms_batch_end(struct kms *k, bool commit)
{
	if (!k || !k->batch)
		return CC_ERR_INVAL;
	k->batch = false;
	return k->st->ops->end(k->st, commit);
}

bool kms_batch_open(const struct kms *k)
{
	return k && k->batch;
}

size_t kms_replay_size(const struct kms *k)
{
	return mikey_replay_count(k->replay);
}

void kms_slice_str(struct cc_slice s, char *out, size_t cap)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1, i;

	for (i = 0; i < n; i++)
		out[i] = s.p[i] >= 0x20 && s.p[i] < 0x7f ? (char)s.p[i] : '?';
	out[n] = '\0';
}

/* ---- refusals ------------------------------------------------------------- */

static void audit(struct kms *k, struct kms_req *r, const char *outcome)
{
	struct kms_audit a;

	memset(&a, 0, sizeof(a));
	a.time = r->now;
	a.op = r->op;
	a.outcome = outcome;
	a.reason = r->res->reason ? r->res->reason : "";
	strcpy(a.ticket_id, r->res->ticket_id);
	/* never record an identity the MAC did not prove as the requester */
	if (r->res->authenticated || !r->res->requester[0])
		strcpy(a.requester, r->res->requester);
	else
		snprintf(a.requester, sizeof(a.requester),
			 "unauthenticated:%.100s", r->res->requester);
	strcpy(a.initiator, r->initiator);
	strcpy(a.peer, r->peer);
	r->audit_err = k->st->ops->audit(k->st, &a);
}

void kms_audit_ok(struct kms *k, struct kms_req *r, const char *outcome)
{
	audit(k, r, outcome);
}

/*
 * Answer with an unauthenticated Error message (spec/ambiguities.md A26)
 * naming the failure, and audit it. Nothing else has changed.
 */
enum cc_err kms_refuse(struct kms *k, struct kms_req *r, enum cc_err why,
		       const char *reason, const struct mikey_diag *d)
{
	struct kms_result *res = r->res;

	res->err = why;
	res->reason = reason;
	res->mikey_err = mikey_errno_for_diag(why, d);
	audit(k, r, cc_strerror(why));
	r->resp->pos = r->resp_start;
	r->resp->err = CC_OK;
	return mikey_build_error(r->hdr_ok ? &r->msg.hdr : NULL,
				 mikey_ntp_from_unix(r->now, 0), res->mikey_err,
				 r->resp);
}

/* ---- authentication, common to both exchanges ------------------------------ */

static bool algs_ok(uint8_t prf, enum mikey_mac mac)
{
	/* RFC 6043 §12.1: the 256-bit algorithms go together, never mixed */
	return (prf == MIKEY_PRF_MIKEY1 && mac == MIKEY_MAC_HMAC_SHA1_160) ||
	       (prf == MIKEY_PRF_HMAC_SHA256 &&
		mac == MIKEY_MAC_HMAC_SHA256_256);
}

enum mikey_encr kms_encr_for(uint8_t prf)
{
	return prf == MIKEY_PRF_HMAC_SHA256 ? MIKEY_ENCR_AES_CM_256 :
					      MIKEY_ENCR_AES_CM_128;
}

/*
 * The user owning the claimed identity (IDRi / IDRr), looked up once per
 * request and reused: find_user (no IDRpsk), owns_identity and the
 * resolver check (resolve.c) all ask for it.
 */
enum cc_err kms_self_owner(struct kms *k, struct kms_req *r, struct cc_slice id,
			   const struct kms_user **u)
{
	if (!r->self_looked_up) {
		r->self_err =
			k->st->ops->user_by_identity(k->st, id, &r->self_owner);
		cc_wipe(r->self_owner.psk, sizeof(r->self_owner.psk));
		r->self_owner.psk_len = 0;
		r->self_looked_up = true;
	}
	*u = &r->self_owner;
	return r->self_err;
}

enum cc_err kms_user_with_policy(struct kms *k, struct cc_slice id,
				 int64_t other, bool inbound,
				 struct kms_user *u, struct kms_policy *pol)
{
	const struct kms_store_ops *o = k->st->ops;
	enum cc_err err;

	memset(pol, 0, sizeof(*pol));
	if (!o->user_by_identity_with_policy)
		return o->user_by_identity(k->st, id, u);
	err = o->user_by_identity_with_policy(k->st, id, other, inbound, u,
					      &pol->denied, &pol->may_create);
	pol->known = !err;
	return err;
}

enum cc_err kms_session_denied(struct kms *k, const struct kms_policy *pol,
			       int64_t from, int64_t to, bool *denied)
{
	if (!pol->known)
		return k->st->ops->session_denied(k->st, from, to, denied);
	*denied = pol->denied;
	return CC_OK;
}

enum cc_err kms_may_create(struct kms *k, const struct kms_policy *pol,
			   int64_t creator, int64_t factory, bool *allowed)
{
	if (!pol->known)
		return k->st->ops->may_create_conference(k->st, creator,
							 factory, allowed);
	*allowed = pol->may_create;
	return CC_OK;
}

static enum cc_err find_user(struct kms *k, struct kms_req *r,
			     const struct mikey_pl *psk,
			     const struct mikey_pl *self)
{
	const struct kms_user *u;
	enum cc_err err;

	if (psk && k->st->ops->user_by_psk_id_and_owner) {
		/* the identity's owner comes along, for owns_identity after
		 * the MAC; no exact owner: it asks user_by_identity then */
		err = k->st->ops->user_by_psk_id_and_owner(
			k->st, psk->u.id.data, self->u.id.data, &r->user,
			&r->self_owner, &r->self_err);
		r->self_looked_up = !err && r->self_err != CC_ERR_NOT_FOUND;
		return err == CC_ERR_NOT_FOUND ? CC_ERR_UNKNOWN_USER : err;
	}
	if (psk) {
		err = k->st->ops->user_by_psk_id(k->st, psk->u.id.data,
						 &r->user);
		return err == CC_ERR_NOT_FOUND ? CC_ERR_UNKNOWN_USER : err;
	}
	/* no IDRpsk: the identity names the user, its PSK id the PSK */
	err = kms_self_owner(k, r, self->u.id.data, &u);
	if (!err)
		err = k->st->ops->user_by_psk_id(k->st, mikey_str(u->psk_id),
						 &r->user);
	return err == CC_ERR_NOT_FOUND ? CC_ERR_UNKNOWN_USER : err;
}

/* The claimed identity (IDRi / IDRr) must belong to the PSK's user. */
static enum cc_err owns_identity(struct kms *k, struct kms_req *r,
				 struct cc_slice id)
{
	const struct kms_user *u;
	enum cc_err err = kms_self_owner(k, r, id, &u);

	r->self_factory = !err && u->factory_identity;
	if (err == CC_ERR_NOT_FOUND || (!err && u->id != r->user.id))
		return CC_ERR_NOT_AUTHORISED;
	return err;
}

static enum cc_err check_mac(struct kms *k, struct kms_req *r,
			     const struct mikey_pl *self,
			     const struct mikey_pl *kmsid,
			     const struct mikey_pl *randr, bool initiator)
{
	struct mikey_msg_keys keys;
	struct mikey_mac_extra x;
	enum mikey_encr e;
	enum mikey_mac mac;
	struct cc_slice none = { NULL, 0 };
	enum cc_err err;

	mikey_msg_algs(&r->msg, &e, &mac);
	if (!algs_ok(r->msg.hdr.prf, mac))
		return CC_ERR_UNSUPPORTED;
	err = mikey_derive_msg_keys((enum mikey_prf)r->msg.hdr.prf, r->user.psk,
				    r->user.psk_len, r->msg.hdr.csb_id,
				    MIKEY_LBL_INIT,
				    initiator ? randr->u.rand.data : none,
				    initiator ? none : randr->u.rand.data,
				    kms_encr_for(r->msg.hdr.prf), mac, &keys);
	if (err)
		return err;
	/* Table 5.2: INIT || Identity_(i|r) || Identity_kms (A3) */
	x.part[0] = self->u.id.data;
	x.part[1] = kmsid ? kmsid->u.id.data : mikey_str(k->identity);
	x.n = 2;
	err = mikey_verify(r->buf, r->len, &r->msg, &keys, &x);
	mikey_msg_keys_wipe(&keys);
	return err;
}

/*
 * Everything before the ticket: layout, clock, who is asking, the MAC,
 * replay. self_role: MIKEY_IDR_I (request) or MIKEY_IDR_R (resolve).
 */
enum cc_err kms_authenticate(struct kms *k, struct kms_req *r,
			     uint8_t self_role, const char **reason)
{
	const struct mikey_pl *t, *randr, *self, *kmsid, *psk;
	uint8_t rand_role = self_role == MIKEY_IDR_I ? MIKEY_RANDR_I :
						       MIKEY_RANDR_R;
	enum cc_err err;

	err = mikey_check_layout(&r->msg, MIKEY_INITIAL, &r->diag);
	if (err) {
		*reason = r->diag.payload;
		return err;
	}
	t = mikey_chain_find(&r->msg.ch, MIKEY_PT_T, 0);
	randr = mikey_chain_find(&r->msg.ch, MIKEY_PT_RANDR, rand_role);
	self = mikey_chain_find(&r->msg.ch, MIKEY_PT_IDR, self_role);
	kmsid = mikey_chain_find(&r->msg.ch, MIKEY_PT_IDR, MIKEY_IDR_KMS);
	psk = mikey_chain_find(&r->msg.ch, MIKEY_PT_IDR, MIKEY_IDR_PSK);
	*reason = "timestamp";
	err = mikey_ts_check(&t->u.t, r->now, k->cfg.skew);
	if (err)
		return err;
	/* A3: we need the identity for the MAC and for authorisation */
	*reason = self_role == MIKEY_IDR_I ? "IDRi" : "IDRr";
	if (!self)
		return CC_ERR_MISSING;
	kms_slice_str(self->u.id.data, r->res->requester,
		      sizeof(r->res->requester));
	*reason = "IDRkms names another KMS";
	if (kmsid && !(kmsid->u.id.data.len == strlen(k->identity) &&
		       cc_ct_equal(kmsid->u.id.data.p, k->identity,
				   kmsid->u.id.data.len)))
		return CC_ERR_UNKNOWN_USER;
	*reason = psk ? "IDRpsk" : "identity";
	err = find_user(k, r, psk, self);
	if (err)
		return err;
	*reason = "MAC";
	err = check_mac(k, r, self, kmsid, randr, self_role == MIKEY_IDR_I);
	if (err)
		return err;
	*reason = "identity not owned by the authenticated user";
	err = owns_identity(k, r, self->u.id.data);
	if (err)
		return err;
	r->res->authenticated = true;
	*reason = "replay";
	return mikey_replay_seen(k->replay, &r->msg, r->now);
}

/* Commit: the request enters the replay cache (RFC 3830 §5.3 step 4). */
enum cc_err kms_commit(struct kms *k, struct kms_req *r)
{
	return mikey_replay_add(k->replay, &r->msg, r->now);
}

/* ---- dispatch ---------------------------------------------------------------- */

enum cc_err kms_handle(struct kms *k, const uint8_t *msg, size_t len,
		       int64_t now, struct cc_wr *resp, struct kms_result *res)
{
	struct kms_req *r;
	enum cc_err err;

	if (!k || !resp || !res)
		return CC_ERR_INVAL;
	memset(res, 0, sizeof(*res));
	res->reason = "";
	r = calloc(1, sizeof(*r));
	if (!r)
		return CC_ERR_NOMEM;
	r->buf = msg;
	r->len = len;
	r->now = now;
	r->res = res;
	r->resp = resp;
	r->resp_start = resp->pos;
	/* one store transaction per request: its lookups and its audit
	 * record see one state and commit together */
	if (!k->batch && k->st->ops->begin && k->st->ops->begin(k->st)) {
		err = kms_refuse(k, r, CC_ERR_STORE, "store unavailable", NULL);
		goto out;
	}
	err = mikey_decode(msg, len, &r->msg, &r->diag);
	/* the HDR decoded if the failure lies past it */
	r->hdr_ok = !err ||
		    (r->diag.payload && strcmp(r->diag.payload, "HDR") &&
		     len >= MIKEY_HDR_FIXED);
	if (err) {
		err = kms_refuse(k, r, err, r->diag.field, &r->diag);
	} else if (r->msg.hdr.data_type == MIKEY_DT_REQUEST_INIT_PSK) {
		r->op = res->op = KMS_OP_REQUEST;
		err = kms_request(k, r);
	} else if (r->msg.hdr.data_type == MIKEY_DT_RESOLVE_INIT_PSK) {
		r->op = res->op = KMS_OP_RESOLVE;
		err = kms_resolve(k, r);
	} else {
		r->diag = (struct mikey_diag){ "HDR", "data type", 1 };
		err = kms_refuse(k, r, CC_ERR_UNSUPPORTED,
				 "not a request the KMS serves", &r->diag);
	}
	if (!k->batch && k->st->ops->end && k->st->ops->end(k->st, true) &&
	    res->err == CC_OK) {
		/* the audit record did not reach the store: no ticket without
		 * its record */
		r->hdr_ok = false;
		res->err = CC_ERR_STORE;
		res->reason = "audit log unavailable";
		res->mikey_err = MIKEY_ERR_UNSPECIFIED;
		resp->pos = r->resp_start;
		resp->err = CC_OK;
		err = mikey_build_error(NULL, mikey_ntp_from_unix(now, 0),
					res->mikey_err, resp);
	}
out:
	cc_wipe(&r->user, sizeof(r->user));
	cc_wipe(&r->self_owner, sizeof(r->self_owner));
	free(r);
	return err;
}
