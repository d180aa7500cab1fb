/*
 * owner.c -- the owner replaces the allowed set (issue 6 §1, seed 000
 * §5.3.3.1.2, DESIGN.md D3): a re-INVITE to the focus whose offer carries
 * a new TRANSFER_INIT with a ticket whose responders are the new allowed
 * set (plus the focus). The focus resolves it at the KMS, which
 * authenticates the initiator; only the conference owner may do this
 * (403 otherwise, before and after the KMS). A ticket that names only the
 * focus leaves the set unchanged. Members no longer allowed get a BYE and
 * the leave policy rekeys (the conference core's ALLOWED_SET).
 *
 * libre 1.1.0's sipsess answers a re-INVITE from inside its offer handler,
 * but the KMS answers later, so this listener takes such a re-INVITE
 * before sipsess does: a server transaction with 100 Trying, the RESOLVE,
 * then the final answer; a 200 OK (the TRANSFER_RESP on the new CSB, which
 * then replaces the leg's) is retransmitted over UDP until its ACK
 * (RFC 3261 §13.3.1.4). Glare with our own rekey re-INVITE gets 491.
 */
#include "sipint.h"

enum {
	T1_MS = 500,
	T2_MS = 4000,
	RTX_LIMIT_MS = 64 * T1_MS
};

struct owner_upd {
	struct leg *l; /* referenced while the KMS answers */
	struct sip_strans *st;
	const struct sip_msg *msg; /* the re-INVITE, referenced */
	struct mbuf *ok;           /* our 200 (retransmitted until ACK) */
	struct tmr rtx;
	uint32_t rtx_ms, rtx_total;
	uint32_t cseq;
	struct kmsc_csb csb;
	struct sipglue_km km;
	bool resolving;
};

static void ou_free(struct owner_upd *o)
{
	if (!o)
		return;
	tmr_cancel(&o->rtx);
	mem_deref(o->ok);
	mem_deref((void *)o->msg);
	kmsc_csb_free(&o->csb);
	cc_wipe(&o->km, sizeof(o->km));
	cc_wipe(o, sizeof(*o));
	mem_deref(o);
}

void owner_leg_free(struct leg *l)
{
	if (!l->ou)
		return;
	if (l->ou->resolving) {
		l->ou->l = NULL; /* the KMS answer frees it */
		l->ou = NULL;
		return;
	}
	ou_free(l->ou);
	l->ou = NULL;
}

/* The owner's update is over (answered and, for a 200, acknowledged):
 * a rekey re-INVITE that waited for it (rekey.c, send_update) goes now,
 * on the leg's CSB as the owner holds it. */
static void ou_done(struct leg *l)
{
	const struct conf_epoch_keys *e;
	uint32_t q = l->queued_epoch;

	l->queued_epoch = 0;
	if (q && !l->dead && l->member && l->cc && !l->upd_epoch &&
	    (e = conf_epoch_keys(l->cc->core, q)) != NULL)
		send_update(l, e);
}

/* A final answer other than 200 (nothing changed). */
static void ou_refuse(struct leg *l, const struct sip_msg *msg,
		      struct sip_strans **st, uint16_t code, const char *reason,
		      bool w306)
{
	if (w306)
		(void)sip_treplyf(st, NULL, confd_g.sip, msg, false, code,
				  reason,
				  "Warning: 306 %s \"Key management "
				  "failed\"\r\n"
				  "Content-Length: 0\r\n\r\n",
				  confd_g.realm);
	else
		(void)sip_treplyf(st, NULL, confd_g.sip, msg, false, code,
				  reason, "Content-Length: 0\r\n\r\n");
	confd_log(CONFD_LOG_INFO,
		  "conference %s: allowed-set update from %s: %u %s",
		  l ? conf_name(l) : "-", l ? who(l) : "?", code, reason);
}

static void rtx_h(void *arg)
{
	struct owner_upd *o = arg;
	struct leg *l = o->l;

	o->rtx_total += o->rtx_ms;
	if (o->rtx_total >= RTX_LIMIT_MS) {
		/* no ACK: the update stands (the new CSB is in force) */
		confd_log(CONFD_LOG_WARN,
			  "conference %s: no ACK to the allowed-set update's "
			  "200 from %s",
			  l ? conf_name(l) : "-", l ? who(l) : "?");
		ou_free(o);
		if (l) {
			l->ou = NULL;
			ou_done(l);
		}
		return;
	}
	(void)sip_send(confd_g.sip, o->msg->sock, o->msg->tp, &o->msg->src,
		       o->ok);
	o->rtx_ms = o->rtx_ms * 2 > T2_MS ? T2_MS : o->rtx_ms * 2;
	tmr_start(&o->rtx, o->rtx_ms, rtx_h, o);
}

/* The current epoch (and one being rolled out) for the KEMAC. */
static void current_keys(struct leg *l, struct conf_act_accept *a)
{
	uint32_t cur = conf_current_epoch(l->cc->core);
	const struct conf_epoch_keys *e;
	const struct kmsc_tek *t = kmsc_csb_tek(&l->csb, 1);

	memset(a, 0, sizeof(*a));
	a->identity = l->peer;
	if (cur && (e = conf_epoch_keys(l->cc->core, cur)) != NULL)
		a->epochs[a->n_epochs++] = e;
	if (cur && (e = conf_epoch_keys(l->cc->core, cur + 1)) != NULL)
		a->epochs[a->n_epochs++] = e;
	if (t && t->has_ssrc) /* keep the SSRC it sends with (D6) */
		a->ssrcs[a->n_ssrcs++] = t->ssrc;
}

/* The ticket's responders replace the allowed set, unless it names only
 * the focus (seed 000 §5.3.3.1.2: the set is then unchanged). */
static enum cc_err apply_set(struct leg *l, struct owner_upd *o, size_t *nset)
{
	static char ids[KMSC_MAX_RESPONDERS][KMSC_MAX_ID];
	const char *allowed[KMSC_MAX_RESPONDERS];
	struct conf_event ev = { .type = CONF_EV_ALLOWED_SET };
	size_t n = 0, i, k = 0;
	enum cc_err err;

	err = sipglue_ticket_responders(o->km.mikey, o->km.mikey_len, ids,
					KMSC_MAX_RESPONDERS, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		if (strcmp(ids[i], l->focus_id) &&
		    strcmp(ids[i], confd_g.cf->factory))
			allowed[k++] = ids[i];
	*nset = k;
	if (!k)
		return CC_OK;
	ev.u.allowed = (struct conf_ev_allowed){ .by = o->csb.initiator,
						 .allowed = allowed,
						 .n_allowed = k };
	ev.now = now_ms();
	return conf_handle(l->cc->core, &ev);
}

static void ou_answer(struct leg *l, struct owner_upd *o)
{
	static uint8_t resp[KMSC_MAX_MSG];
	struct conf_act_accept a;
	char cuser[512];
	struct mbuf *sdp = NULL;
	size_t n = 0, nset = 0;
	enum cc_err err;
	int serr;

	/* the KMS vouched for the initiator: it must be the owner */
	if (strcmp(o->csb.initiator, conf_owner(l->cc->core))) {
		confd_log(CONFD_LOG_INFO,
			  "conference %s: ticket of the update is from %s, "
			  "not the owner",
			  conf_name(l), o->csb.initiator);
		ou_refuse(l, o->msg, &o->st, 403, "Forbidden", false);
		return;
	}
	current_keys(l, &a);
	err = build_resp(l, &o->csb, &o->km, &a, resp, sizeof(resp), &n);
	if (!err)
		err = apply_set(l, o, &nset);
	if (err) {
		confd_log(CONFD_LOG_WARN,
			  "conference %s: allowed-set update from %s: %s",
			  conf_name(l), who(l), cc_strerror(err));
		ou_refuse(l, o->msg, &o->st, 500, "Server Error", false);
		cc_wipe(resp, sizeof(resp));
		return;
	}
	serr = build_sdp(l, resp, n, &sdp);
	cc_wipe(resp, sizeof(resp));
	if (!serr)
		serr = contact_user(o->msg, l, cuser, sizeof(cuser));
	if (!serr)
		serr = sip_treplyf(&o->st, &o->ok, confd_g.sip, o->msg, false,
				   200, "OK",
				   "Contact: <%s>\r\n"
				   "Content-Type: application/sdp\r\n"
				   "Content-Length: %zu\r\n\r\n%b",
				   cuser, mbuf_get_left(sdp), mbuf_buf(sdp),
				   mbuf_get_left(sdp));
	mem_deref(sdp);
	/* the new CSB replaces the leg's: later updates are on it */
	kmsc_csb_free(&l->csb);
	l->csb = o->csb;
	memset(&o->csb, 0, sizeof(o->csb));
	if (nset)
		confd_log(CONFD_LOG_INFO,
			  "conference %s: %s replaced the allowed set (%zu "
			  "identities)",
			  conf_name(l), who(l), nset);
	else
		confd_log(CONFD_LOG_INFO,
			  "conference %s: %s's ticket names only the focus: "
			  "allowed set unchanged",
			  conf_name(l), who(l));
	if (serr) {
		confd_log(CONFD_LOG_WARN, "conference %s: 200 to %s: %s",
			  conf_name(l), who(l), strerror(serr));
		return;
	}
	if (o->msg->tp == SIP_TRANSP_UDP) {
		o->rtx_ms = T1_MS;
		tmr_start(&o->rtx, o->rtx_ms, rtx_h, o);
	}
}

static void ou_kms_h(const struct kmsc_status *st, const uint8_t *body,
		     size_t len, void *arg)
{
	struct owner_upd *o = arg;
	struct leg *l = o->l;
	struct kmsc_env env = env_now();
	struct kmsc_status rs;
	char buf[160];
	enum cc_err err;

	o->resolving = false;
	confd_ctr.kms_failures += st->kind != KMSC_FAIL_NONE;
	if (!l || l->dead || !l->cc || confd_g.closing) {
		/* the dialog ended meanwhile: close the transaction */
		(void)sip_treply(&o->st, confd_g.sip, o->msg, 481,
				 "Call/Transaction Does Not Exist");
		if (l)
			l->ou = NULL;
		ou_free(o);
		if (l)
			mem_deref(l);
		return;
	}
	if (st->kind == KMSC_FAIL_TRANSPORT) {
		ou_refuse(l, o->msg, &o->st, 503, "KMS Unavailable", false);
	} else if (st->kind != KMSC_FAIL_NONE ||
		   (err = kmsc_resolve_open(&o->csb, &l->r, body, len, &env,
					    &rs)) != CC_OK) {
		const struct kmsc_status *s = st->kind != KMSC_FAIL_NONE ? st :
									   &rs;

		confd_log(CONFD_LOG_INFO,
			  "conference %s: allowed-set update from %s: %s",
			  conf_name(l), who(l),
			  kmsc_status_str(s, buf, sizeof(buf)));
		if (kms_refusal(s, s->err))
			ou_refuse(l, o->msg, &o->st, 403, "Forbidden", false);
		else
			ou_refuse(l, o->msg, &o->st, 488, "Not Acceptable Here",
				  true);
	} else {
		ou_answer(l, o);
	}
	if (!o->ok) { /* refused: nothing to retransmit */
		l->ou = NULL;
		ou_free(o);
		ou_done(l);
	}
	mem_deref(l);
}

static bool on_ack(const struct sip_msg *msg)
{
	struct leg *l = leg_by_dialog(msg);

	if (!l || !l->ou || !l->ou->ok || msg->cseq.num != l->ou->cseq)
		return false;
	ou_free(l->ou);
	l->ou = NULL;
	ou_done(l);
	return true;
}

static void on_reinvite(struct leg *l, const struct sip_msg *msg,
			const struct sipglue_km *km)
{
	static uint8_t rinit[KMSC_MAX_MSG];
	struct kmsc_env env = env_now();
	struct kmsc_status st;
	struct owner_upd *o;
	const char *owner = conf_owner(l->cc->core);
	size_t n = 0;
	enum cc_err err;

	if (!owner || strcmp(l->peer, owner)) {
		confd_log(CONFD_LOG_INFO,
			  "conference %s: re-INVITE with a ticket from %s, "
			  "who is not the owner",
			  conf_name(l), who(l));
		ou_refuse(l, msg, NULL, 403, "Forbidden", false);
		return;
	}
	if (l->upd_epoch || l->ou) {
		ou_refuse(l, msg, NULL, 491, "Request Pending", false);
		return;
	}
	if (!sip_dialog_rseq_valid(sipsess_dialog(l->sess), msg)) {
		ou_refuse(l, msg, NULL, 500, "Bad CSeq", false);
		return;
	}
	o = mem_zalloc(sizeof(*o), NULL);
	if (!o) {
		ou_refuse(l, msg, NULL, 500, "Server Error", false);
		return;
	}
	o->km = *km;
	o->cseq = msg->cseq.num;
	o->msg = mem_ref((void *)msg);
	(void)sip_treply(&o->st, confd_g.sip, msg, 100, "Trying");
	err = kmsc_resolve_init(&o->csb, &l->r, o->km.mikey, o->km.mikey_len,
				&env, rinit, sizeof(rinit), &n, &st);
	if (!err) {
		confd_ctr.kms_requests++;
		o->l = mem_ref(l);
		o->resolving = true;
		err = confd_kms_post(rinit, n, ou_kms_h, o);
		if (err) {
			o->resolving = false;
			mem_deref(l);
			confd_ctr.kms_failures++;
			ou_refuse(l, msg, &o->st, 503, "KMS Unavailable",
				  false);
			ou_free(o);
			return;
		}
		l->ou = o;
		return;
	}
	{
		char buf[160];

		confd_log(CONFD_LOG_INFO,
			  "conference %s: allowed-set update from %s: %s",
			  conf_name(l), who(l),
			  kmsc_status_str(&st, buf, sizeof(buf)));
	}
	if (err == CC_ERR_REPLAY || st.kind == KMSC_FAIL_MIKEY ||
	    st.kind == KMSC_FAIL_LOCAL)
		ou_refuse(l, msg, &o->st, 488, "Not Acceptable Here", true);
	else
		ou_refuse(l, msg, &o->st, 500, "Server Error", false);
	ou_free(o);
}

bool owner_lsnr_h(const struct sip_msg *msg, void *arg)
{
	static struct sipglue_km km;
	struct leg *l;
	enum cc_err err;
	bool taken = true;

	(void)arg;
	if (!pl_strcmp(&msg->met, "ACK"))
		return on_ack(msg);
	if (!pl_strcmp(&msg->met, "REFER"))
		return refer_lsnr_h(msg);
	if (!pl_strcmp(&msg->met, "SUBSCRIBE"))
		return event_lsnr_h(msg);
	if (!pl_strcmp(&msg->met, "OPTIONS") && !pl_isset(&msg->to.tag)) {
		/* a dispatcher's probe (issue 7 §2): this node is up */
		(void)sip_treplyf(NULL, NULL, confd_g.sip, msg, false, 200,
				  "OK",
				  "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, "
				  "INFO, REFER, SUBSCRIBE, NOTIFY\r\n"
				  "Content-Length: 0\r\n\r\n");
		return true;
	}
	if (pl_strcmp(&msg->met, "INVITE") || !pl_isset(&msg->to.tag))
		return false;
	l = leg_by_dialog(msg);
	err = l && l->cc && l->member ? sipglue_km_parse_mbuf(msg->mb, &km) :
					CC_ERR_MISSING;
	/* no key-mgmt (a refresh), or not ours: sipsess answers */
	if (err == CC_ERR_MISSING) {
		taken = false;
	} else if (err) {
		confd_log(CONFD_LOG_INFO,
			  "conference %s: re-INVITE from %s refused: "
			  "a=key-mgmt: "
			  "%s",
			  conf_name(l), who(l), cc_strerror(err));
		ou_refuse(l, msg, NULL, 488, "Not Acceptable Here", true);
	} else {
		on_reinvite(l, msg, &km);
	}
	cc_wipe(&km, sizeof(km));
	return taken;
}
