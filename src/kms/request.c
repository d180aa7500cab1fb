/*
 * request.c -- REQUEST_INIT_PSK -> REQUEST_RESP: the KMS grants a Ticket
 * Policy and issues a MIKEY base ticket (RFC 6043 §4.2.1, App. A) with the
 * profile of spec/3gpp-kms-conferencing.md §4.2: D = E = F = 1, G = 0,
 * H = 1, I = 1 (key forking), N = O = 1, J by policy, L and M by the KMS's
 * own policy about key suppliers (spec/ambiguities.md A29).
 */
#include "kms_int.h"

#include <stdlib.h>
#include <string.h>

enum {
	TP_MAX = 2048,
	TD_MAX = 2048,
	MAX_KEYS = 4
};

/* What the KMS grants and generates for one ticket (secret parts). */
struct grant {
	uint16_t flags;
	int64_t start, end; /* Unix seconds; start 0 = not stated */
	bool changed;       /* K: the desired policy was changed */
	bool any_supplier;  /* an IDRr names a key supplier */
	size_t key_len;     /* 16 (MIKEY-1) or 32 (256-bit profile) */
	uint8_t mpk[32], rand[32], mpki[32], mpkr[32];
	uint8_t key[MAX_KEYS][32], salt[MAX_KEYS][14], spi[MAX_KEYS][4];
	struct mikey_keys keys; /* the session keys (TGK/TEK/GTGK) */
	uint8_t tp[TP_MAX], td[TD_MAX];
	struct mikey_pl_ticket ticket;
	struct mikey_msg out; /* the REQUEST_RESP being built */
};

static const uint16_t defined_flags = MIKEY_TPF_D | MIKEY_TPF_E | MIKEY_TPF_F |
				      MIKEY_TPF_G | MIKEY_TPF_H | MIKEY_TPF_I |
				      MIKEY_TPF_J | MIKEY_TPF_L | MIKEY_TPF_M |
				      MIKEY_TPF_N | MIKEY_TPF_O;

/* Every IDRr must be a known user the requester may open a session with;
 * a factory URI needs the conference-creation right. */
static enum cc_err check_responders(struct kms *k, struct kms_req *r,
				    const struct mikey_chain *tp,
				    struct grant *g, const char **reason)
{
	size_t i, n = 0;
	enum cc_err err;

	for (i = 0; i < tp->n; i++) {
		const struct mikey_pl *p = &tp->pl[i];
		struct kms_policy pol;
		struct kms_user u;
		bool no = false;

		if (p->type != MIKEY_PT_IDR || p->u.id.role != MIKEY_IDR_R)
			continue;
		if (++n > KMS_MAX_RESPONDERS) {
			*reason = "too many IDRr";
			return CC_ERR_UNSUPPORTED;
		}
		if (n == 1)
			kms_slice_str(p->u.id.data, r->peer, sizeof(r->peer));
		*reason = "IDRr: no such user";
		err = kms_user_with_policy(k, p->u.id.data, r->user.id, true,
					   &u, &pol);
		cc_wipe(u.psk, sizeof(u.psk));
		if (err)
			return err == CC_ERR_NOT_FOUND ? CC_ERR_UNKNOWN_USER :
							 err;
		g->any_supplier |= u.key_supplier;
		*reason = "session denied by policy";
		err = kms_session_denied(k, &pol, r->user.id, u.id, &no);
		if (err || no)
			return err ? err : CC_ERR_NOT_AUTHORISED;
		if (!u.factory_identity)
			continue;
		*reason = "may not create conferences at this factory";
		err = kms_may_create(k, &pol, r->user.id, u.id, &no);
		if (err || !no)
			return err ? err : CC_ERR_NOT_AUTHORISED;
	}
	return CC_OK;
}

/* The granted flags (profile) and whether they differ from the wish. */
static void grant_flags(struct kms *k, struct kms_req *r, uint16_t wish,
			struct grant *g)
{
	g->flags = MIKEY_TPF_D | MIKEY_TPF_E | MIKEY_TPF_F | MIKEY_TPF_H |
		   MIKEY_TPF_I | MIKEY_TPF_N | MIKEY_TPF_O;
	if ((wish & MIKEY_TPF_J) && k->cfg.allow_reuse)
		g->flags |= MIKEY_TPF_J;
	/* A29 rule 2: L for a key-supplying requester, M when a responder
	 * is a key supplier; never on the requester's wish alone */
	if ((wish & MIKEY_TPF_L) && r->user.key_supplier)
		g->flags |= MIKEY_TPF_L;
	if ((wish & MIKEY_TPF_M) && g->any_supplier)
		g->flags |= MIKEY_TPF_M;
	if ((wish & defined_flags) != g->flags)
		g->changed = true;
}

static enum cc_err grant_validity(struct kms *k, struct kms_req *r,
				  const struct mikey_chain *tp, struct grant *g,
				  const char **reason)
{
	const struct mikey_pl *s =
		mikey_chain_find(tp, MIKEY_PT_TR, MIKEY_TSR_START);
	const struct mikey_pl *e =
		mikey_chain_find(tp, MIKEY_PT_TR, MIKEY_TSR_END);
	int64_t max = r->now + k->cfg.max_lifetime;

	g->end = e ? mikey_ts_unix(&e->u.tr.ts) :
		     r->now + k->cfg.default_lifetime;
	if (g->end > max) {
		g->end = max; /* RFC 6043 §6.10: the KMS may shorten it */
		g->changed = true;
	}
	g->start = s ? mikey_ts_unix(&s->u.tr.ts) : 0;
	*reason = "validity window empty or in the past";
	if (g->end <= r->now || (g->start && g->start >= g->end))
		return CC_ERR_POLICY;
	return CC_OK;
}

static enum cc_err rnd(struct kms *k, uint8_t *p, size_t n)
{
	return k->rand(p, n, k->rand_arg);
}

static void add_key(struct grant *g, uint8_t type, size_t i, size_t len,
		    bool salted)
{
	struct mikey_key *x = &g->keys.k[g->keys.n++];

	memset(x, 0, sizeof(*x));
	x->type = type;
	x->kv = MIKEY_KV_SPI;
	x->key = (struct cc_slice){ g->key[i], len };
	if (salted)
		x->salt = (struct cc_slice){ g->salt[i], 14 };
	/* the KMS's SPIs count from 1, below 0x80000000 (DESIGN.md D7) */
	g->spi[i][3] = (uint8_t)(i + 1);
	x->spi = (struct cc_slice){ g->spi[i], 4 };
}

/* The keys the request's KEMAC template asks for; default one TGK
 * (RFC 6043 §4.2.1.5). Only TGK/TEK/GTGK types; lengths 16 or 32. */
static enum cc_err make_keys(struct kms *k, const struct mikey_chain *tp,
			     struct grant *g, const char **reason)
{
	const struct mikey_pl *km = mikey_chain_find(tp, MIKEY_PT_KEMAC, 0);
	struct mikey_keys want = { .n = 0 };
	size_t i;
	enum cc_err err;

	*reason = "KEMAC template";
	if (km && (km->u.kemac.encr_alg != MIKEY_ENCR_NULL ||
		   mikey_keys_decode(km->u.kemac.encr.p, km->u.kemac.encr.len,
				     false, &want, NULL)))
		return CC_ERR_MALFORMED;
	if (!want.n) {
		want.n = 1;
		want.k[0].type = MIKEY_KEY_TGK;
		want.k[0].key.len = g->key_len;
	}
	if (want.n > MAX_KEYS)
		return CC_ERR_UNSUPPORTED;
	for (i = 0; i < want.n; i++) {
		uint8_t t = want.k[i].type;
		size_t len = want.k[i].key.len == 32 ? 32 : g->key_len;

		if (t == MIKEY_KEY_MPK)
			return CC_ERR_UNSUPPORTED;
		err = rnd(k, g->key[i], len);
		if (!err)
			err = rnd(k, g->salt[i], 14);
		if (err)
			return err;
		add_key(g, t, i, len,
			t == MIKEY_KEY_TGK_SALT || t == MIKEY_KEY_TEK_SALT ||
				t == MIKEY_KEY_GTGK_SALT);
	}
	return CC_OK;
}

/* Granted TP Data: IDRkms, IDRi, [TRs], TRe, [TRr], {IDRapp}, (IDRr). */
static enum cc_err build_tp(struct kms *k, struct kms_req *r,
			    const struct mikey_chain *want, struct grant *g)
{
	struct mikey_chain ch = { .n = 0 };
	const struct mikey_pl *self =
		mikey_chain_find(&r->msg.ch, MIKEY_PT_IDR, MIKEY_IDR_I);
	struct cc_wr wr;
	size_t i;

	mikey_add_idr(&ch, MIKEY_IDR_KMS, MIKEY_ID_URI, mikey_str(k->identity));
	mikey_add_idr(&ch, MIKEY_IDR_I, self->u.id.type, self->u.id.data);
	if (g->start)
		mikey_add_tr(&ch, MIKEY_TSR_START, MIKEY_TS_NTP_UTC_32,
			     mikey_ntp_from_unix(g->start, 0) >> 32);
	mikey_add_tr(&ch, MIKEY_TSR_END, MIKEY_TS_NTP_UTC_32,
		     mikey_ntp_from_unix(g->end, 0) >> 32);
	for (i = 0; i < want->n; i++) {
		const struct mikey_pl *p = &want->pl[i];

		if (p->type == MIKEY_PT_TR && p->u.tr.role == MIKEY_TSR_REKEY)
			ch.pl[ch.n++] = *p;
	}
	for (i = 0; i < want->n; i++) {
		const struct mikey_pl *p = &want->pl[i];

		if (p->type == MIKEY_PT_IDR &&
		    (p->u.id.role == MIKEY_IDR_APP ||
		     p->u.id.role == MIKEY_IDR_R) &&
		    ch.n < MIKEY_MAX_PL)
			ch.pl[ch.n++] = *p;
	}
	cc_wr_init(&wr, g->tp, sizeof(g->tp));
	if (mikey_encode_chain(&ch, true, &wr))
		return CC_ERR_UNSUPPORTED;
	g->ticket.tp_data = (struct cc_slice){ g->tp, wr.pos };
	return CC_OK;
}

static enum cc_err seal_ticket(struct kms *k, struct kms_req *r,
			       struct grant *g)
{
	struct mikey_keys all = { .n = 0 };
	struct kms_tpk tpk;
	struct mikey_ticket_seal_in in;
	enum cc_err err;
	size_t i;

	err = k->st->ops->tpk_current(k->st, &tpk);
	if (err)
		return err;
	all.k[all.n++] = (struct mikey_key){
		.type = MIKEY_KEY_MPK,
		.kv = MIKEY_KV_SPI,
		.key = { g->mpk, g->key_len },
		.spi = { (const uint8_t *)"\0\0\0\0", 4 } /* A6 */
	};
	for (i = 0; i < g->keys.n; i++)
		all.k[all.n++] = g->keys.k[i];
	memset(&in, 0, sizeof(in));
	in.tpk = tpk.key;
	in.tpk_len = tpk.key_len;
	in.tpk_id = mikey_str(tpk.id);
	in.encr_alg = kms_encr_for(r->msg.hdr.prf);
	in.mac_alg = r->msg.hdr.prf ? MIKEY_MAC_HMAC_SHA256_256 :
				      MIKEY_MAC_HMAC_SHA1_160;
	in.t = (struct mikey_ts){ MIKEY_TS_NTP_UTC,
				  mikey_ntp_from_unix(r->now, 0) };
	in.rand = (struct cc_slice){ g->rand, sizeof(g->rand) };
	in.keys = &all;
	g->ticket.ticket_type = MIKEY_TICKET_BASE;
	g->ticket.subtype = MIKEY_TICKET_BASE_SUBTYPE;
	g->ticket.version = MIKEY_TICKET_BASE_VERSION;
	g->ticket.prf = r->msg.hdr.prf; /* A13: both PRFs the same */
	g->ticket.flags = g->flags | (g->changed ? MIKEY_TPF_K : 0);
	err = mikey_ticket_seal(&g->ticket, &in, g->td, sizeof(g->td));
	cc_wipe(&tpk, sizeof(tpk));
	return err;
}

/* Ticket id for logs and audit: 16 bytes of the ticket's MAC, in hex. */
void kms_ticket_id(struct cc_slice td, size_t mac_len, char out[33])
{
	size_t n = mac_len < 16 ? mac_len : 16;

	if (td.len < mac_len) {
		out[0] = '\0';
		return;
	}
	cc_hex_encode(td.p + td.len - mac_len, n, out);
}

/* REQUEST_RESP = HDR, T, IDRkms, TICKET, KEMAC(MPKi || MPKr || keys), V */
static enum cc_err respond(struct kms *k, struct kms_req *r, struct grant *g)
{
	const struct mikey_pl *ri =
		mikey_chain_find(&r->msg.ch, MIKEY_PT_RANDR, MIKEY_RANDR_I);
	struct mikey_msg *m = &g->out;
	struct mikey_keys ks = { .n = 0 };
	struct mikey_msg_keys mk;
	struct mikey_seal_opts o = { .keys = &mk, .kemac = &ks };
	const struct mikey_hdr h = r->msg.hdr;
	struct mikey_pl *pl;
	enum mikey_mac mac;
	enum mikey_encr e;
	size_t i;
	enum cc_err err;

	mikey_msg_algs(&r->msg, &e, &mac);
	err = mikey_derive_msg_keys((enum mikey_prf)h.prf, r->user.psk,
				    r->user.psk_len, h.csb_id, MIKEY_LBL_RESP,
				    ri->u.rand.data, (struct cc_slice){ 0 },
				    kms_encr_for(h.prf), mac, &mk);
	if (err)
		return err;
	ks.k[ks.n++] =
		(struct mikey_key){ .type = MIKEY_KEY_MPK,
				    .kv = MIKEY_KV_SPI,
				    .key = { g->mpki, g->key_len },
				    .spi = { (const uint8_t *)"\0\0\0\0", 4 } };
	ks.k[ks.n++] =
		(struct mikey_key){ .type = MIKEY_KEY_MPK,
				    .kv = MIKEY_KV_SPI,
				    .key = { g->mpkr, g->key_len },
				    .spi = { (const uint8_t *)"\0\0\0\0", 4 } };
	for (i = 0; i < g->keys.n; i++)
		ks.k[ks.n++] = g->keys.k[i];
	/* Table 5.2: RESP || the complete REQUEST_INIT */
	o.extra.part[0] = (struct cc_slice){ r->buf, r->len };
	o.extra.n = 1;
	mikey_msg_init(m, MIKEY_DT_REQUEST_RESP, false, (enum mikey_prf)h.prf,
		       h.csb_id, MIKEY_MAP_EMPTY);
	mikey_add_t(&m->ch, MIKEY_TS_NTP_UTC, mikey_ntp_from_unix(r->now, 0));
	mikey_add_idr(&m->ch, MIKEY_IDR_KMS, MIKEY_ID_URI,
		      mikey_str(k->identity));
	pl = mikey_chain_add(&m->ch, MIKEY_PT_TICKET);
	if (pl)
		pl->u.ticket = g->ticket;
	mikey_add_kemac(&m->ch);
	mikey_add_v(&m->ch);
	err = mikey_seal(m, &o, r->resp);
	mikey_msg_keys_wipe(&mk);
	return err;
}

static enum cc_err desired(struct kms_req *r, struct mikey_chain *tp,
			   uint16_t *wish, const char **reason)
{
	const struct mikey_pl *p = mikey_chain_find(&r->msg.ch, MIKEY_PT_TP, 0);
	const struct mikey_pl_ticket *t = &p->u.ticket;
	enum cc_err err;

	*reason = "ticket type";
	if (t->ticket_type != MIKEY_TICKET_BASE ||
	    t->subtype != MIKEY_TICKET_BASE_SUBTYPE ||
	    t->version != MIKEY_TICKET_BASE_VERSION)
		return CC_ERR_TICKET_TYPE; /* A16 */
	*reason = "TP data";
	err = mikey_decode_chain(t->tp_data.p, t->tp_data.len, true, tp,
				 &r->diag);
	if (!err)
		err = mikey_check_tp_data(tp, false, &r->diag);
	*wish = t->flags;
	return err;
}

static enum cc_err make_secrets(struct kms *k, struct kms_req *r,
				struct grant *g)
{
	enum mikey_prf prf = (enum mikey_prf)r->msg.hdr.prf;
	enum cc_err err;

	/* RFC 6043 §12.1: the ticket RAND is at least as long as the
	 * longest of TPK and MPK; TPKs are up to 32 bytes */
	const struct cc_slice rand = { g->rand, sizeof(g->rand) };

	err = rnd(k, g->mpk, g->key_len);
	if (!err)
		err = rnd(k, g->rand, sizeof(g->rand));
	if (!err)
		err = mikey_derive_mpk(prf, g->mpk, g->key_len, rand, false,
				       g->mpki);
	if (!err)
		err = mikey_derive_mpk(prf, g->mpk, g->key_len, rand, true,
				       g->mpkr);
	return err;
}

static enum cc_err issue(struct kms *k, struct kms_req *r, struct grant *g,
			 const char **reason)
{
	struct mikey_chain tp;
	uint16_t wish = 0;
	enum cc_err err;

	g->key_len = r->msg.hdr.prf ? 32 : 16;
	err = desired(r, &tp, &wish, reason);
	if (!err)
		err = check_responders(k, r, &tp, g, reason);
	if (err)
		return err;
	grant_flags(k, r, wish, g);
	err = grant_validity(k, r, &tp, g, reason);
	if (!err)
		err = make_keys(k, &tp, g, reason);
	if (err)
		return err;
	*reason = "issuing the ticket";
	err = make_secrets(k, r, g);
	if (!err)
		err = build_tp(k, r, &tp, g);
	if (!err)
		err = seal_ticket(k, r, g);
	if (!err)
		err = respond(k, r, g);
	return err;
}

enum cc_err kms_request(struct kms *k, struct kms_req *r)
{
	struct grant *g = calloc(1, sizeof(*g));
	const char *reason = "";
	enum cc_err err;

	if (!g)
		return CC_ERR_NOMEM;
	err = kms_authenticate(k, r, MIKEY_IDR_I, &reason);
	if (!err)
		err = issue(k, r, g, &reason);
	if (!err) {
		kms_ticket_id(g->ticket.ticket_data, r->msg.hdr.prf ? 32 : 20,
			      r->res->ticket_id);
		reason = "replay cache full";
		err = kms_commit(k, r);
	}
	if (err) {
		err = kms_refuse(k, r, err, reason, &r->diag);
		goto out;
	}
	kms_audit_ok(k, r, "issued");
	if (r->audit_err)
		err = kms_refuse(k, r, r->audit_err, "audit log unavailable",
				 NULL);
out:
	/* the secrets; the policy, ticket and response bytes are not */
	cc_wipe(g->mpk, sizeof(g->mpk));
	cc_wipe(g->rand, sizeof(g->rand));
	cc_wipe(g->mpki, sizeof(g->mpki));
	cc_wipe(g->mpkr, sizeof(g->mpkr));
	cc_wipe(g->key, sizeof(g->key));
	cc_wipe(g->salt, sizeof(g->salt));
	free(g);
	return err;
}
