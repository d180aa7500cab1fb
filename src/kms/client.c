/*
 * client.c -- the KMS client, common parts and the Ticket Request
 * (RFC 6043 §4.2.1): REQUEST_INIT_PSK out, REQUEST_RESP or Error in.
 * No I/O: time and randomness come from struct kmsc_env.
 */
#include "client_int.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

/* ---- status and small helpers ------------------------------------------ */

enum cc_err kc_fail(struct kmsc_status *st, enum cc_err err,
		    const struct mikey_diag *d, const char *what)
{
	if (!st)
		return err;
	memset(st, 0, sizeof(*st));
	st->kind = KMSC_FAIL_LOCAL;
	st->err = err;
	st->mikey_err = -1;
	if (d && d->payload)
		st->diag = *d;
	else if (what)
		st->diag.payload = what;
	return err;
}

void kc_status_ok(struct kmsc_status *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	st->mikey_err = -1;
}

enum cc_err kmsc_rand_system(uint8_t *p, size_t n, void *arg)
{
	(void)arg;
	if (n > (size_t)0x7fffffff || RAND_bytes(p, (int)n) != 1)
		return CC_ERR_CRYPTO;
	return CC_OK;
}

uint32_t kc_skew(const struct kmsc_env *env)
{
	return env->skew ? env->skew : KMSC_SKEW;
}

uint64_t kc_now_ntp(const struct kmsc_env *env)
{
	return mikey_ntp_from_unix(env->now, 0);
}

enum cc_err kc_rand(const struct kmsc_env *env, uint8_t *p, size_t n)
{
	if (!env->rand)
		return CC_ERR_INVAL;
	return env->rand(p, n, env->rand_arg);
}

/* Identities are SIP URIs: no NUL inside, they fit KMSC_MAX_ID. */
enum cc_err kc_copy_id(char dst[KMSC_MAX_ID], struct cc_slice s)
{
	if (s.len >= KMSC_MAX_ID || (s.len && memchr(s.p, 0, s.len)))
		return CC_ERR_MALFORMED;
	if (s.len)
		memcpy(dst, s.p, s.len);
	dst[s.len] = 0;
	return CC_OK;
}

bool kc_id_eq(const char *s, struct cc_slice id)
{
	size_t n = strlen(s);

	return n == id.len && (n == 0 || cc_ct_equal(s, id.p, n));
}

enum cc_err kmsc_err_for_mikey(int no)
{
	switch (no) {
	case MIKEY_ERR_AUTH_FAILURE:
		return CC_ERR_BAD_MAC;
	case MIKEY_ERR_INVALID_TS:
		return CC_ERR_STALE;
	case MIKEY_ERR_INVALID_ID:
		return CC_ERR_UNKNOWN_USER;
	case MIKEY_ERR_INVALID_TICKET:
		return CC_ERR_TICKET_TYPE;
	case MIKEY_ERR_INVALID_TPPAR:
		return CC_ERR_NOT_AUTHORISED;
	default:
		return CC_ERR_MALFORMED;
	}
}

const char *kmsc_status_str(const struct kmsc_status *st, char *buf, size_t cap)
{
	if (!st || !cap)
		return "";
	switch (st->kind) {
	case KMSC_FAIL_NONE:
		snprintf(buf, cap, "ok");
		break;
	case KMSC_FAIL_MIKEY:
		snprintf(buf, cap, "MIKEY Error %d (%s)", st->mikey_err,
			 mikey_errno_name((unsigned)st->mikey_err));
		break;
	case KMSC_FAIL_HTTP:
		snprintf(buf, cap, "HTTP %d", st->http_status);
		break;
	case KMSC_FAIL_TRANSPORT:
		if (st->err == CC_ERR_NOT_AUTHORISED)
			snprintf(buf, cap,
				 "TLS: server certificate not "
				 "verified (CA or name)");
		else
			snprintf(buf, cap, "transport: %s",
				 strerror(st->sys_err));
		break;
	case KMSC_FAIL_LOCAL:
	default:
		if (st->diag.payload)
			snprintf(buf, cap, "%s (%s: %s)", cc_strerror(st->err),
				 st->diag.payload,
				 st->diag.field ? st->diag.field : "");
		else
			snprintf(buf, cap, "%s", cc_strerror(st->err));
		break;
	}
	return buf;
}

/* RFC 6043 §5.4: Error message = HDR, T, (ERR), ... Unauthenticated
 * errors are only reported (A26): they change no state. */
enum cc_err kc_error_msg(const struct mikey_msg *m, struct kmsc_status *st)
{
	const struct mikey_pl *e;
	enum cc_err err;

	if (m->hdr.data_type != MIKEY_DT_ERROR)
		return CC_OK;
	e = mikey_chain_find(&m->ch, MIKEY_PT_ERR, 0);
	if (!e)
		return kc_fail(st, CC_ERR_MALFORMED, NULL, "ERR");
	err = kmsc_err_for_mikey(e->u.err.errno_);
	if (st) {
		memset(st, 0, sizeof(*st));
		st->kind = KMSC_FAIL_MIKEY;
		st->err = err;
		st->mikey_err = e->u.err.errno_;
	}
	return err;
}

/* ---- keys -------------------------------------------------------------- */

bool kc_is_tgk(uint8_t type)
{
	return type == MIKEY_KEY_TGK || type == MIKEY_KEY_TGK_SALT;
}

enum cc_err kc_key_copy(struct kmsc_key *dst, const struct mikey_key *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src->key.len < 16 || src->key.len > KMSC_MAX_KEY ||
	    src->salt.len > KMSC_MAX_SALT || src->spi.len > MIKEY_MAX_SPI)
		return CC_ERR_UNSUPPORTED;
	/* A6: session keys are found by SPI, so they must carry one */
	if (src->type != MIKEY_KEY_MPK &&
	    (src->kv != MIKEY_KV_SPI || !src->spi.len))
		return CC_ERR_MALFORMED;
	dst->type = src->type;
	memcpy(dst->key, src->key.p, src->key.len);
	dst->key_len = src->key.len;
	if (src->salt.len)
		memcpy(dst->salt, src->salt.p, src->salt.len);
	dst->salt_len = src->salt.len;
	if (src->spi.len)
		memcpy(dst->spi, src->spi.p, src->spi.len);
	dst->spi_len = src->spi.len;
	return CC_OK;
}

void kc_key_view(struct mikey_key *dst, const struct kmsc_key *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->type = src->type;
	dst->kv = MIKEY_KV_SPI;
	dst->key = (struct cc_slice){ src->key, src->key_len };
	dst->salt = (struct cc_slice){ src->salt, src->salt_len };
	dst->spi = (struct cc_slice){ src->spi, src->spi_len };
}

enum mikey_encr kc_encr_for(enum mikey_mac mac)
{
	/* RFC 6043 §12.1: 256-bit algorithms go together */
	return mac == MIKEY_MAC_HMAC_SHA256_256 ? MIKEY_ENCR_AES_CM_256 :
						  MIKEY_ENCR_AES_CM_128;
}

/* ---- ticket policy ----------------------------------------------------- */

enum cc_err kc_check_ticket(const struct mikey_pl_ticket *t,
			    struct mikey_diag *diag)
{
	enum cc_err err;

	/* A16: we take the MIKEY base ticket only */
	if (t->ticket_type != MIKEY_TICKET_BASE ||
	    t->subtype != MIKEY_TICKET_BASE_SUBTYPE ||
	    t->version != MIKEY_TICKET_BASE_VERSION)
		return mikey_diag_fail(diag, CC_ERR_TICKET_TYPE, "TICKET",
				       "ticket type/subtype/version", 1);
	if (t->prf > MIKEY_PRF_HMAC_SHA256)
		return mikey_diag_fail(diag, CC_ERR_UNSUPPORTED, "TICKET",
				       "PRF func", 5);
	err = mikey_check_flags(t->flags, diag);
	if (err)
		return err;
	/* Mode 1 (D = E = 1); O = 0 would need processing we do not know */
	if (!(t->flags & MIKEY_TPF_D) || !(t->flags & MIKEY_TPF_E) ||
	    !(t->flags & MIKEY_TPF_N) || !(t->flags & MIKEY_TPF_O))
		return mikey_diag_fail(diag, CC_ERR_POLICY, "TICKET",
				       "mode 1 needs D, E, N, O", 6);
	return CC_OK;
}

static enum cc_err policy_pl(const struct mikey_pl *pl, struct kc_policy *p)
{
	switch (pl->type) {
	case MIKEY_PT_IDR:
		if (pl->u.id.role == MIKEY_IDR_I)
			return kc_copy_id(p->initiator, pl->u.id.data);
		if (pl->u.id.role == MIKEY_IDR_KMS)
			return kc_copy_id(p->kms, pl->u.id.data);
		if (pl->u.id.role != MIKEY_IDR_R)
			return CC_OK;
		if (p->nresponders >= KMSC_MAX_RESPONDERS)
			return CC_ERR_FULL;
		return kc_copy_id(p->responders[p->nresponders++],
				  pl->u.id.data);
	case MIKEY_PT_TR:
		if (pl->u.tr.role == MIKEY_TSR_START)
			p->valid_from = mikey_ts_unix(&pl->u.tr.ts);
		else if (pl->u.tr.role == MIKEY_TSR_END)
			p->valid_to = mikey_ts_unix(&pl->u.tr.ts);
		return CC_OK;
	default:
		return CC_OK; /* RFC 6043 §6.10: ignore the unexpected */
	}
}

enum cc_err kc_policy_parse(const struct mikey_pl_ticket *t,
			    struct kc_policy *p, struct mikey_diag *diag)
{
	struct mikey_chain ch;
	enum cc_err err;
	size_t i;

	memset(p, 0, sizeof(*p));
	err = mikey_decode_chain(t->tp_data.p, t->tp_data.len, true, &ch, diag);
	if (!err)
		err = mikey_check_tp_data(&ch, true, diag);
	for (i = 0; !err && i < ch.n; i++)
		err = policy_pl(&ch.pl[i], p);
	if (err)
		return mikey_diag_fail(diag, err, "TP data", "granted policy",
				       0);
	return CC_OK;
}

enum cc_err kc_validity(const struct kc_policy *p, int64_t now, uint32_t skew)
{
	if (p->valid_from && now < p->valid_from - (int64_t)skew)
		return CC_ERR_NOT_YET_VALID;
	if (p->valid_to && now > p->valid_to + (int64_t)skew)
		return CC_ERR_EXPIRED;
	return CC_OK;
}

/* The TICKET payload after its next-payload byte (RFC 6043 §6.10). */
enum cc_err kc_ticket_from_raw(const uint8_t *raw, size_t len,
			       struct mikey_pl_ticket *t)
{
	memset(t, 0, sizeof(*t));
	return mikey_ticket_decode(raw, len, true, t, NULL);
}

/* ---- Ticket Request ---------------------------------------------------- */

static uint16_t desired_flags(const struct kmsc_request_opts *o)
{
	uint16_t f = KC_FLAGS_BASE;

	/* A29 rule 1 */
	if (o->use == KMSC_JOIN_CONFERENCE)
		f |= MIKEY_TPF_M;
	else if (o->use == KMSC_DIAL_OUT)
		f |= MIKEY_TPF_L;
	if (o->reuse)
		f |= MIKEY_TPF_J;
	return f;
}

/* TP Data = First Payload, IDRkms, IDRi, [TRe], KEMAC, (IDRr) */
static enum cc_err desired_tp(const struct kmsc_cred *cred,
			      const struct kmsc_request_opts *o,
			      const struct kmsc_env *env, uint8_t *out,
			      size_t cap, size_t *len)
{
	static const uint8_t zero16[16], spi0[4];
	struct mikey_chain ch = { .n = 0 };
	struct mikey_keys ks = { .n = 1 };
	uint8_t tmpl[64];
	struct mikey_pl *pl;
	struct cc_wr wr;
	enum cc_err err;
	size_t i;

	mikey_add_idr(&ch, MIKEY_IDR_KMS, MIKEY_ID_URI,
		      mikey_str(cred->kms_identity));
	mikey_add_idr(&ch, MIKEY_IDR_I, MIKEY_ID_URI,
		      mikey_str(cred->identity));
	if (o->lifetime)
		mikey_add_tr(&ch, MIKEY_TSR_END, MIKEY_TS_NTP_UTC_32,
			     mikey_ntp_from_unix(env->now + o->lifetime, 0) >>
				     32);
	/* RFC 6043 §6.10: the template asks for one TGK, key bytes zero */
	memset(&ks.k[0], 0, sizeof(ks.k[0]));
	ks.k[0].type = MIKEY_KEY_TGK;
	ks.k[0].kv = MIKEY_KV_SPI;
	ks.k[0].key = (struct cc_slice){ zero16, 16 };
	ks.k[0].spi = (struct cc_slice){ spi0, 4 };
	cc_wr_init(&wr, tmpl, sizeof(tmpl));
	err = mikey_keys_encode(&ks, &wr);
	if (err)
		return err;
	pl = mikey_add_kemac(&ch);
	if (pl)
		pl->u.kemac.encr = (struct cc_slice){ tmpl, wr.pos };
	for (i = 0; i < o->nresponders; i++)
		mikey_add_idr(&ch, MIKEY_IDR_R, MIKEY_ID_URI,
			      mikey_str(o->responders[i]));
	cc_wr_init(&wr, out, cap);
	err = mikey_encode_chain(&ch, true, &wr);
	*len = wr.pos;
	return err;
}

static enum cc_err check_request_args(const struct kmsc_cred *cred,
				      const struct kmsc_request_opts *o)
{
	size_t i;

	if (!cred || !o || !o->nresponders ||
	    o->nresponders > KMSC_MAX_RESPONDERS || !cred->identity[0] ||
	    !cred->kms_identity[0] || cred->psk_len < 16 ||
	    o->use > KMSC_DIAL_OUT)
		return CC_ERR_INVAL;
	for (i = 0; i < o->nresponders; i++)
		if (!o->responders[i] || !o->responders[i][0] ||
		    strlen(o->responders[i]) >= KMSC_MAX_ID)
			return CC_ERR_INVAL;
	return CC_OK;
}

static enum cc_err request_msg(struct kmsc_request *rq,
			       const struct kmsc_cred *cred,
			       const struct kmsc_env *env, const uint8_t *tp,
			       size_t tp_len)
{
	struct mikey_msg m;
	struct mikey_msg_keys k;
	struct mikey_seal_opts so = { .keys = &k };
	struct mikey_pl *pl;
	struct cc_wr wr;
	enum cc_err err;

	err = mikey_derive_msg_keys(
		KC_PRF, cred->psk, cred->psk_len, rq->csb_id, MIKEY_LBL_INIT,
		(struct cc_slice){ rq->randri, KMSC_RAND_LEN },
		(struct cc_slice){ NULL, 0 }, KC_ENCR, KC_MAC, &k);
	if (err)
		return err;
	/* A1: V = 1 in REQUEST_INIT */
	mikey_msg_init(&m, MIKEY_DT_REQUEST_INIT_PSK, true, KC_PRF, rq->csb_id,
		       MIKEY_MAP_EMPTY);
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, kc_now_ntp(env));
	mikey_add_randr(&m.ch, MIKEY_RANDR_I,
			(struct cc_slice){ rq->randri, KMSC_RAND_LEN });
	mikey_add_idr(&m.ch, MIKEY_IDR_I, MIKEY_ID_URI,
		      mikey_str(cred->identity));
	mikey_add_idr(&m.ch, MIKEY_IDR_KMS, MIKEY_ID_URI,
		      mikey_str(cred->kms_identity));
	pl = mikey_chain_add(&m.ch, MIKEY_PT_TP);
	if (pl) {
		memset(&pl->u.ticket, 0, sizeof(pl->u.ticket));
		pl->u.ticket.ticket_type = MIKEY_TICKET_BASE;
		pl->u.ticket.subtype = MIKEY_TICKET_BASE_SUBTYPE;
		pl->u.ticket.version = MIKEY_TICKET_BASE_VERSION;
		pl->u.ticket.prf = KC_PRF;
		pl->u.ticket.flags = rq->flags;
		pl->u.ticket.tp_data = (struct cc_slice){ tp, tp_len };
	}
	mikey_add_idr(&m.ch, MIKEY_IDR_PSK, MIKEY_ID_BYTES,
		      mikey_str(cred->psk_id));
	mikey_add_v(&m.ch);
	/* Table 5.2: REQUEST_INIT || Identity_i || Identity_kms (A3) */
	so.extra = (struct mikey_mac_extra){
		{ mikey_str(cred->identity), mikey_str(cred->kms_identity) }, 2
	};
	cc_wr_init(&wr, rq->msg, sizeof(rq->msg));
	err = mikey_seal(&m, &so, &wr);
	rq->len = wr.pos;
	mikey_msg_keys_wipe(&k);
	return err;
}

enum cc_err kmsc_request_build(struct kmsc_request *rq,
			       const struct kmsc_cred *cred,
			       const struct kmsc_request_opts *o,
			       const struct kmsc_env *env)
{
	uint8_t tp[KMSC_MAX_MSG / 2], csb[4];
	size_t tp_len = 0;
	enum cc_err err;

	if (!rq || !env)
		return CC_ERR_INVAL;
	memset(rq, 0, sizeof(*rq));
	err = check_request_args(cred, o);
	if (!err)
		err = kc_rand(env, csb, sizeof(csb));
	if (!err)
		err = kc_rand(env, rq->randri, sizeof(rq->randri));
	if (err)
		return err;
	rq->csb_id = (uint32_t)csb[0] << 24 | (uint32_t)csb[1] << 16 |
		     (uint32_t)csb[2] << 8 | csb[3];
	rq->use = o->use;
	rq->flags = desired_flags(o);
	err = desired_tp(cred, o, env, tp, sizeof(tp), &tp_len);
	if (!err)
		err = request_msg(rq, cred, env, tp, tp_len);
	if (err) {
		memset(rq, 0, sizeof(*rq));
		return err;
	}
	rq->open = true;
	return CC_OK;
}

/* KEMAC = E(MPKi || [MPKr] || {TEK|TGK|GTGK}) (RFC 6043 §4.2.1.5, A5) */
static enum cc_err take_keys(const struct mikey_keys *ks, struct kmsc_ticket *t)
{
	size_t i, nmpk = 0;
	enum cc_err err;

	for (i = 0; i < ks->n; i++) {
		const struct mikey_key *k = &ks->k[i];

		if (k->type == MIKEY_KEY_MPK) {
			uint8_t *dst = nmpk == 0 ? t->mpki : t->mpkr;

			if (nmpk >= 2 || k->key.len < 16 ||
			    k->key.len > KMSC_MAX_KEY ||
			    (nmpk && k->key.len != t->mpk_len))
				return CC_ERR_MALFORMED;
			memcpy(dst, k->key.p, k->key.len);
			t->mpk_len = k->key.len;
			t->has_mpkr = ++nmpk == 2;
			continue;
		}
		if (t->nkeys >= KMSC_MAX_KEYS)
			return CC_ERR_FULL;
		err = kc_key_copy(&t->keys[t->nkeys++], k);
		if (err)
			return err;
	}
	return nmpk ? CC_OK : CC_ERR_MISSING;
}

/* RFC 6043 §4.2.1.6: the Initiator MUST check the granted policy. */
static enum cc_err acceptable(const struct kmsc_request *rq,
			      const struct kmsc_ticket *t,
			      struct mikey_diag *diag)
{
	if (!(t->flags & MIKEY_TPF_I) || !t->has_mpkr)
		return mikey_diag_fail(diag, CC_ERR_POLICY, "TICKET",
				       "key forking (I) not granted", 6);
	/* A29 rule 3: a joiner without M cannot get the group key */
	if (rq->use == KMSC_JOIN_CONFERENCE && !(t->flags & MIKEY_TPF_M))
		return mikey_diag_fail(diag, CC_ERR_POLICY, "TICKET",
				       "M not granted for a conference", 7);
	if (rq->use == KMSC_DIAL_OUT && !(t->flags & MIKEY_TPF_L))
		return mikey_diag_fail(diag, CC_ERR_POLICY, "TICKET",
				       "L not granted for a dial-out", 6);
	if (!t->nkeys || !kc_is_tgk(t->keys[0].type))
		return mikey_diag_fail(diag, CC_ERR_MISSING, "KEMAC",
				       "no TGK in the ticket", 0);
	if (!t->nresponders)
		return mikey_diag_fail(diag, CC_ERR_MISSING, "TP data", "IDRr",
				       0);
	return CC_OK;
}

static enum cc_err fill_ticket(const struct mikey_msg *m, const uint8_t *buf,
			       struct kmsc_ticket *t, struct mikey_diag *diag)
{
	const struct mikey_pl *pl =
		mikey_chain_find(&m->ch, MIKEY_PT_TICKET, 0);
	struct kc_policy p;
	enum cc_err err;

	if (!pl || pl->len - 1 > sizeof(t->raw))
		return mikey_diag_fail(diag, CC_ERR_SPACE, "TICKET", "size", 0);
	err = kc_check_ticket(&pl->u.ticket, diag);
	if (!err)
		err = kc_policy_parse(&pl->u.ticket, &p, diag);
	if (err)
		return err;
	/* A8: the KMS sends an empty Initiator Data (we add ours later) */
	if (pl->u.ticket.init_data.len)
		return mikey_diag_fail(diag, CC_ERR_MALFORMED, "TICKET",
				       "Initiator Data from the KMS", pl->off);
	memcpy(t->raw, buf + pl->off + 1, pl->len - 1);
	t->raw_len = pl->len - 1;
	t->ticket_type = pl->u.ticket.ticket_type;
	t->prf = pl->u.ticket.prf;
	t->flags = pl->u.ticket.flags;
	t->valid_from = p.valid_from;
	t->valid_to = p.valid_to;
	memcpy(t->initiator, p.initiator, sizeof(t->initiator));
	memcpy(t->kms, p.kms, sizeof(t->kms));
	memcpy(t->responders, p.responders, sizeof(t->responders));
	t->nresponders = p.nresponders;
	return CC_OK;
}

static enum cc_err open_resp(struct kmsc_request *rq,
			     const struct kmsc_cred *cred, const uint8_t *resp,
			     size_t len, const struct mikey_msg *m,
			     const struct kmsc_env *env, struct kmsc_ticket *t,
			     struct mikey_diag *diag)
{
	struct mikey_msg_keys k;
	struct mikey_mac_extra x = { { { rq->msg, rq->len } }, 1 };
	struct mikey_keys ks;
	uint8_t plain[1024];
	enum mikey_encr encr;
	enum mikey_mac mac;
	enum cc_err err;

	memset(&k, 0, sizeof(k));
	mikey_msg_algs(m, &encr, &mac);
	if (encr == MIKEY_ENCR_NULL || mac == MIKEY_MAC_NULL)
		return mikey_diag_fail(diag, CC_ERR_UNSUPPORTED, "KEMAC",
				       "NULL encr alg", 0);
	/* §5.1.2: Ticket Request keys use RANDRi only, dir 0x02 */
	err = mikey_derive_msg_keys(
		(enum mikey_prf)m->hdr.prf, cred->psk, cred->psk_len,
		rq->csb_id, MIKEY_LBL_RESP,
		(struct cc_slice){ rq->randri, KMSC_RAND_LEN },
		(struct cc_slice){ NULL, 0 }, encr, mac, &k);
	if (!err)
		err = mikey_verify(resp, len, m, &k, &x);
	if (err) {
		mikey_diag_fail(diag, err, "V", "REQUEST_RESP MAC", 0);
		goto out;
	}
	err = mikey_ts_check(&mikey_chain_find(&m->ch, MIKEY_PT_T, 0)->u.t,
			     env->now, kc_skew(env));
	if (!err)
		err = mikey_kemac_open(m, &k, plain, sizeof(plain), &ks, diag);
	if (!err) {
		err = take_keys(&ks, t);
		cc_wipe(plain, sizeof(plain));
	}
	if (!err)
		err = fill_ticket(m, resp, t, diag);
	if (!err)
		err = acceptable(rq, t, diag);
out:
	mikey_msg_keys_wipe(&k);
	return err;
}

enum cc_err kmsc_request_open(struct kmsc_request *rq,
			      const struct kmsc_cred *cred, const uint8_t *resp,
			      size_t len, const struct kmsc_env *env,
			      struct kmsc_ticket *t, struct kmsc_status *st)
{
	struct mikey_diag diag = { 0 };
	struct mikey_msg m;
	enum cc_err err;

	if (!rq || !cred || !resp || !env || !t)
		return kc_fail(st, CC_ERR_INVAL, NULL, NULL);
	memset(t, 0, sizeof(*t));
	if (!rq->open)
		return kc_fail(st, CC_ERR_INVAL, NULL, "no request pending");
	err = mikey_decode(resp, len, &m, &diag);
	if (err)
		return kc_fail(st, err, &diag, NULL);
	if (m.hdr.data_type == MIKEY_DT_ERROR)
		return kc_error_msg(&m, st);
	if (m.hdr.data_type != MIKEY_DT_REQUEST_RESP)
		return kc_fail(st, CC_ERR_UNSUPPORTED, NULL, "data type");
	err = mikey_check_layout(&m, MIKEY_INITIAL, &diag);
	if (!err && m.hdr.csb_id != rq->csb_id)
		err = mikey_diag_fail(&diag, CC_ERR_MALFORMED, "HDR",
				      "CSB ID of another request", 4);
	if (!err)
		err = open_resp(rq, cred, resp, len, &m, env, t, &diag);
	if (err) {
		kmsc_ticket_wipe(t);
		return kc_fail(st, err, &diag, NULL);
	}
	rq->open = false;
	kc_status_ok(st);
	return CC_OK;
}

void kmsc_ticket_wipe(struct kmsc_ticket *t)
{
	if (t)
		cc_wipe(t, sizeof(*t));
}

enum cc_err kc_kemac_collect(struct kmsc_csb *c, const struct mikey_msg *m,
			     const struct mikey_msg_keys *k,
			     struct mikey_diag *diag)
{
	struct mikey_keys ks;
	uint8_t plain[1024];
	enum cc_err err;
	size_t i;

	err = mikey_kemac_open(m, k, plain, sizeof(plain), &ks, diag);
	for (i = 0; !err && i < ks.n; i++) {
		if (c->nkeys >= sizeof(c->keys) / sizeof(c->keys[0]))
			err = CC_ERR_FULL;
		else if (ks.k[i].type == MIKEY_KEY_MPK)
			err = CC_ERR_MALFORMED;
		else
			err = kc_key_copy(&c->keys[c->nkeys++], &ks.k[i]);
	}
	cc_wipe(plain, sizeof(plain));
	return err;
}
