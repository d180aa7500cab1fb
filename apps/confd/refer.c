/*
 * refer.c -- REFER and dial-out (issue 6 §2, RFC 4579 §5.5, seed 000
 * §5.3.3.1.2-3): a member REFERs someone to the focus in its dialog; the
 * focus checks the invitee against the allowed set, asks the KMS for a
 * ticket naming the invitee (dial-out: L = 1, so the focus may send the
 * group keys in its TRANSFER_INIT; IDRi = the focus URI, an identity of
 * the focus's KMS user, D5), and INVITEs the invitee. The invitee resolves
 * that ticket at the KMS, which authenticates the focus to it; the focus
 * verifies the invitee's TRANSFER_RESP (key forking authenticates the
 * invitee). Progress goes back to the referrer as NOTIFYs with
 * message/sipfrag bodies (RFC 3515).
 *
 * The Refer-To URI names the invitee as sip:user@host[:port]: the ticket
 * names sip:user@<our realm> and the INVITE goes to host:port (no
 * registrar here; a deployment would route through its proxy).
 *
 * Refused, with a log line: a REFER outside a dialog or from a leg that
 * is not a member (403), one naming the focus, the factory or the
 * referrer itself (482 Loop Detected), one naming someone outside the
 * allowed set (403), one for an invitee already being dialled (491), and
 * more than DIALOUT_MAX dial-outs at once in a conference (503).
 */
#include "sipint.h"

enum {
	DIALOUT_MAX = 8,
	TICKET_LIFETIME = 300
};

struct dialout {
	struct kmsc_request rq;
	struct kmsc_ticket ticket;
	struct kmsc_cred cred; /* ours, IDRi = the focus URI: holds the PSK */
	char ruri[KMSC_MAX_ID + 64];
	struct sa dst; /* where the REFER reached us: our Contact */
	enum sip_transp tp;
	uint16_t fail_code; /* set when we refuse the invitee's answer */
	int rejected;       /* the core's REJECT status, 0 = none */
	bool notified;
};

void dialout_free(struct leg *l)
{
	if (l->dl) {
		kmsc_ticket_wipe(&l->dl->ticket);
		cc_wipe(l->dl, sizeof(*l->dl));
		l->dl = mem_deref(l->dl);
	}
	l->ntfy = mem_deref(l->ntfy);
	l->referrer = mem_deref(l->referrer);
}

/* ---- NOTIFY (RFC 3515 §2.4.5) --------------------------------------------- */

static void ntfy_resp_h(int err, const struct sip_msg *msg, void *arg)
{
	(void)arg;
	if (err || (msg && msg->scode >= 300))
		confd_log(CONFD_LOG_DEBUG, "NOTIFY (refer): %s %u",
			  err ? strerror(err) : "status",
			  err || !msg ? 0 : msg->scode);
}

static void notify(struct leg *r, uint16_t code, const char *reason, bool final)
{
	char frag[96];
	int n;

	if (!r || r->dead || !r->sess || !r->established)
		return;
	n = re_snprintf(frag, sizeof(frag), "SIP/2.0 %u %s\r\n", code, reason);
	if (n < 0)
		return;
	r->ntfy = mem_deref(r->ntfy);
	(void)sip_drequestf(
		&r->ntfy, confd_g.sip, true, "NOTIFY", sipsess_dialog(r->sess),
		0, NULL, NULL, ntfy_resp_h, NULL,
		"Event: refer\r\n"
		"Subscription-State: %s\r\n"
		"Content-Type: message/sipfrag;version=2.0\r\n"
		"Content-Length: %d\r\n\r\n%s",
		final ? "terminated;reason=noresource" : "active;expires=60", n,
		frag);
}

void dialout_done(struct leg *l, uint16_t code, const char *reason)
{
	if (!l->dl || l->dl->notified)
		return;
	if (code < 300 && l->dl->fail_code) {
		code = l->dl->fail_code;
		reason = "Not Acceptable Here";
	}
	l->dl->notified = true;
	confd_log(CONFD_LOG_INFO,
		  "conference %s: dial-out to %s (REFER from %s): %u %s",
		  conf_name(l), l->peer, l->referrer ? who(l->referrer) : "?",
		  code, reason);
	notify(l->referrer, code, reason, true);
}

/* ---- the INVITE --------------------------------------------------------- */

void dialout_rejected(struct leg *l, int code)
{
	if (l->dl)
		l->dl->rejected = code;
}

void dialout_accepted(struct leg *l, const struct conf_act_accept *a)
{
	static uint8_t xi[KMSC_MAX_MSG];
	static char sdp[SIPGLUE_MAX_SDP];
	struct dialout *d = l->dl;
	struct kmsc_key keys[2];
	struct kmsc_transfer_opts xo = { .responder = l->peer,
					 .ssrc = &l->cc->focus_ssrc,
					 .nmedia = 1,
					 .supply = keys };
	struct sipglue_media audio = { .type = "audio",
				       .port = confd_media_port(l->cc->media),
				       .proto = "RTP/SAVP",
				       .fmt = "0" };
	struct sipglue_sdp_opts so = { .addr = confd_media_addr(l->cc->media,
								l->laddr),
				       .sess_id = l->cc->n,
				       .sess_ver = ++l->sess_ver,
				       .mikey = xi,
				       .media = &audio,
				       .nmedia = 1,
				       .dir = "sendrecv" };
	struct kmsc_env env = env_now();
	char cuser[512];
	struct mbuf *mb = NULL;
	size_t n = 0;
	int err;

	l->member = true;
	xo.nsupply = accept_keys(a, keys);
	if (a->n_ssrcs) /* D6: the SSRC the invitee sends with */
		xo.peer_ssrc = &a->ssrcs[0];
	err = kmsc_transfer_init(&l->csb, &d->ticket, &d->cred, &xo, &env, xi,
				 sizeof(xi), &so.mikey_len) ?
		      EPROTO :
		      0;
	cc_wipe(keys, sizeof(keys));
	if (!err && sipglue_sdp_build(&so, sdp, sizeof(sdp), &n))
		err = ENOSPC;
	cc_wipe(xi, sizeof(xi));
	if (!err)
		err = contact_user_at(&d->dst, d->tp, l, cuser, sizeof(cuser));
	if (!err && (mb = mbuf_alloc(n)) == NULL)
		err = ENOMEM;
	if (!err)
		err = mbuf_write_mem(mb, (const uint8_t *)sdp, n);
	if (!err) {
		mb->pos = 0;
		l->km.media[0] = audio;
		l->km.nmedia = 1;
		err = sipsess_connect(&l->sess, confd_g.sock, d->ruri, NULL,
				      l->cc->focus, cuser, NULL, 0,
				      "application/sdp", mb, NULL, NULL, false,
				      offer_h, answer_h, NULL, estab_h, info_h,
				      NULL, close_h, l, NULL);
	}
	mem_deref(mb);
	if (err) {
		confd_log(CONFD_LOG_WARN, "conference %s: dial-out to %s: %s",
			  conf_name(l), l->peer, strerror(err));
		d->rejected = 500;
		return;
	}
	confd_log(CONFD_LOG_INFO,
		  "conference %s: dialling %s at %s (TRANSFER_INIT, %zu group "
		  "key epoch(s))",
		  conf_name(l), l->peer, d->ruri, a->n_epochs);
}

int dialout_answer(struct leg *l, const struct sip_msg *msg)
{
	static struct sipglue_km km;
	const char *accept[1] = { l->peer };
	struct kmsc_env env = env_now();
	struct kmsc_status st = { .kind = KMSC_FAIL_NONE };
	char buf[160];
	enum cc_err err;

	err = sipglue_km_parse_mbuf(msg->mb, &km);
	if (!err)
		err = kmsc_transfer_resp_open(&l->csb, km.mikey, km.mikey_len,
					      accept, 1, &env, &st);
	if (err) {
		confd_log(CONFD_LOG_INFO,
			  "conference %s: dial-out to %s: answer refused: %s",
			  conf_name(l), l->peer,
			  st.kind != KMSC_FAIL_NONE ?
				  kmsc_status_str(&st, buf, sizeof(buf)) :
				  cc_strerror(err));
		cc_wipe(&km, sizeof(km));
		if (l->dl)
			l->dl->fail_code = 488;
		return EPROTO;
	}
	l->recv_switch =
		sip_msg_xhdr_has_value(msg, "Recv-Info", "mikey-switch");
	l->km.media[0] = km.nmedia ? km.media[0] : l->km.media[0];
	cc_wipe(&km, sizeof(km));
	rtp_addr(msg, l);
	if (l->has_rtp && confd_media_add(l->cc->media, l->mid, &l->rtp))
		confd_log(CONFD_LOG_WARN, "conference %s: %s: no media fan-out",
			  conf_name(l), who(l));
	return 0;
}

/* ---- the ticket, then the core's decision -------------------------------- */

static void ticket_h(const struct kmsc_status *hs, const uint8_t *body,
		     size_t len, void *arg)
{
	struct leg *l = arg;
	struct dialout *d = l->dl;
	struct kmsc_env env = env_now();
	struct conf_event ev = { .type = CONF_EV_JOIN_REQUEST };
	struct kmsc_status st;
	uint32_t ssrc = 0;
	char buf[160];

	confd_ctr.kms_failures += hs->kind != KMSC_FAIL_NONE;
	if (l->dead || !l->cc || !d || confd_g.closing)
		goto out;
	if (hs->kind != KMSC_FAIL_NONE ||
	    kmsc_request_open(&d->rq, &d->cred, body, len, &env, &d->ticket,
			      &st)) {
		confd_log(CONFD_LOG_WARN,
			  "conference %s: dial-out ticket for %s: %s",
			  conf_name(l), l->peer,
			  kmsc_status_str(hs->kind != KMSC_FAIL_NONE ? hs : &st,
					  buf, sizeof(buf)));
		dialout_done(l, hs->kind == KMSC_FAIL_TRANSPORT ? 503 : 403,
			     hs->kind == KMSC_FAIL_TRANSPORT ? "KMS "
							       "Unavailable" :
							       "Forbidden");
		leg_drop(l);
		goto out;
	}
	if (kmsc_rand_system((uint8_t *)&ssrc, sizeof(ssrc), NULL))
		ssrc = (uint32_t)now_ms(); /* the core replaces a collision */
	l->cookie = ++confd_g.next_cookie;
	ev.u.join = (struct conf_ev_join){ .identity = l->peer,
					   .ssrcs = &ssrc,
					   .n_ssrcs = 1,
					   .via = CONF_VIA_DIAL_OUT,
					   .cookie = l->cookie };
	confd_g.cur = l;
	cconf_feed(l->cc, &ev);
	confd_g.cur = NULL;
	if (d->rejected || !l->member) {
		dialout_done(l, (uint16_t)(d->rejected ? d->rejected : 500),
			     d->rejected == 403 ? "Forbidden" : "Refused");
		l->member = false;
		leg_drop(l);
	}
out:
	mem_deref(l); /* the POST's reference */
}

/* ---- the REFER ------------------------------------------------------------ */

static bool loop(const struct leg *r, const char *identity, const char *user)
{
	uint32_t n;

	return !strcmp(identity, r->peer) ||
	       sipglue_factory_match(confd_g.cf->factory, user, strlen(user)) ||
	       sipglue_node_focus_match(confd_g.cf->factory, "*", user,
					strlen(user), &n);
}

/* Is identity already in the conference, or being dialled? */
static struct leg *present(const struct cconf *cc, const char *identity)
{
	struct le *le;

	for (le = confd_g.legs.head; le; le = le->next) {
		struct leg *l = le->data;

		if (l->cc == cc && !l->dead && (l->member || l->dialout) &&
		    !strcmp(l->peer, identity))
			return l;
	}
	return NULL;
}

static size_t dialling(const struct cconf *cc)
{
	struct le *le;
	size_t n = 0;

	for (le = confd_g.legs.head; le; le = le->next) {
		const struct leg *l = le->data;

		n += l->cc == cc && l->dialout && !l->established && !l->dead;
	}
	return n;
}

static void refuse(const struct sip_msg *msg, uint16_t code, const char *reason,
		   const char *why)
{
	char from[KMSC_MAX_ID];

	(void)re_snprintf(from, sizeof(from), "%H", uri_encode, &msg->from.uri);
	confd_log(CONFD_LOG_INFO, "REFER from %s refused: %s (%u)", from, why,
		  code);
	(void)sip_treply(NULL, confd_g.sip, msg, code, reason);
}

/* Refer-To: <sip:user@host[:port]> -> the identity and the request URI. */
static int target(const struct sip_msg *msg, char *identity, size_t icap,
		  char *user, size_t ucap, char *ruri, size_t rcap)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_REFER_TO);
	char host[KMSC_MAX_ID], uri[KMSC_MAX_ID];
	struct pl v;

	if (!h)
		return ENOENT;
	if (re_regex(h->val.p, h->val.l, "<[^>]+>", &v))
		v = h->val;
	if (v.l >= sizeof(uri))
		return E2BIG;
	pl_strcpy(&v, uri, sizeof(uri));
	uri[strcspn(uri, ";?")] = '\0';
	if (sipglue_uri_split(uri, strlen(uri), user, ucap, host, sizeof(host)))
		return EINVAL;
	/* the request URI as given (host[:port]); the identity in our realm */
	if (re_snprintf(identity, icap, "sip:%s@%s", user, confd_g.realm) < 0 ||
	    re_snprintf(ruri, rcap, "%s", uri) < 0)
		return E2BIG;
	return 0;
}

static void dial(struct leg *r, const struct sip_msg *msg, const char *identity,
		 const char *ruri)
{
	const char *to[1] = { NULL };
	struct kmsc_request_opts ro = { .use = KMSC_DIAL_OUT,
					.responders = to,
					.nresponders = 1,
					.lifetime = TICKET_LIFETIME };
	struct kmsc_env env = env_now();
	struct leg *l;
	struct dialout *d;

	l = mem_zalloc(sizeof(*l), leg_destructor);
	d = mem_zalloc(sizeof(*d), NULL);
	if (!l || !d) {
		mem_deref(l);
		mem_deref(d);
		refuse(msg, 500, "Server Error", "no memory");
		return;
	}
	l->dl = d;
	l->dialout = true;
	l->referrer = mem_ref(r);
	l->cc = r->cc;
	l->focus_n = r->focus_n;
	l->mid = CONF_MID_NONE;
	(void)re_snprintf(l->focus_id, sizeof(l->focus_id), "%s", r->cc->focus);
	(void)re_snprintf(l->peer, sizeof(l->peer), "%s", identity);
	(void)re_snprintf(l->laddr, sizeof(l->laddr), "%s", r->laddr);
	(void)re_snprintf(l->callid, sizeof(l->callid), "dial-out");
	(void)re_snprintf(d->ruri, sizeof(d->ruri), "%s", ruri);
	d->dst = msg->dst;
	d->tp = msg->tp;
	/* D5: the focus URI is an identity of the focus's KMS user */
	d->cred = *confd_g.cred;
	(void)re_snprintf(d->cred.identity, sizeof(d->cred.identity), "%s",
			  r->cc->focus);
	to[0] = l->peer;
	list_append(&confd_g.legs, &l->le, l);
	(void)sip_treply(NULL, confd_g.sip, msg, 202, "Accepted");
	notify(r, 100, "Trying", false);
	if (kmsc_request_build(&d->rq, &d->cred, &ro, &env) ||
	    confd_kms_post(d->rq.msg, d->rq.len, ticket_h, mem_ref(l))) {
		mem_deref(l); /* the POST's reference */
		dialout_done(l, 503, "KMS Unavailable");
		leg_drop(l);
		return;
	}
	confd_ctr.kms_requests++;
	confd_log(CONFD_LOG_INFO,
		  "conference %s: %s refers %s: dial-out ticket requested",
		  conf_name(r), who(r), identity);
}

bool refer_lsnr_h(const struct sip_msg *msg)
{
	char identity[KMSC_MAX_ID], user[KMSC_MAX_ID], ruri[KMSC_MAX_ID + 64];
	struct leg *r, *p;

	if (!pl_isset(&msg->to.tag)) {
		refuse(msg, 403, "Forbidden",
		       "outside a dialog (only members refer)");
		return true;
	}
	r = leg_by_dialog(msg);
	if (!r) {
		refuse(msg, 481, "Call/Transaction Does Not Exist",
		       "no such dialog");
		return true;
	}
	if (!r->cc || !r->member || !r->established || r->dead) {
		refuse(msg, 403, "Forbidden", "not a member");
		return true;
	}
	if (!sip_dialog_rseq_valid(sipsess_dialog(r->sess), msg)) {
		refuse(msg, 500, "Bad CSeq", "CSeq not increasing");
		return true;
	}
	if (target(msg, identity, sizeof(identity), user, sizeof(user), ruri,
		   sizeof(ruri))) {
		refuse(msg, 400, "Bad Refer-To", "no usable Refer-To");
		return true;
	}
	if (loop(r, identity, user)) {
		refuse(msg, 482, "Loop Detected",
		       "Refer-To names the focus, the factory or the referrer");
		return true;
	}
	if (!conf_is_allowed(r->cc->core, identity)) {
		confd_log(CONFD_LOG_INFO,
			  "conference %s: %s refers %s, who is not allowed",
			  conf_name(r), who(r), identity);
		refuse(msg, 403, "Forbidden", "invitee not in the allowed set");
		return true;
	}
	p = present(r->cc, identity);
	if (p && p->established) {
		/* already in: nothing to do, and the referrer is told so */
		(void)sip_treply(NULL, confd_g.sip, msg, 202, "Accepted");
		notify(r, 200, "OK", true);
		return true;
	}
	if (p) {
		refuse(msg, 491, "Request Pending", "invitee being dialled");
		return true;
	}
	if (dialling(r->cc) >= DIALOUT_MAX) {
		refuse(msg, 503, "Service Unavailable", "too many dial-outs");
		return true;
	}
	dial(r, msg, identity, ruri);
	return true;
}
