/*
 * sip.c -- the conference factory and focus on libre's sipsess
 * (RFC 4579 §5, TR 33.829 clause 5.3, DESIGN.md D3, D5, D7).
 *
 * One INVITE = one leg:
 *   1. Request-URI user part: the factory (create) or focus<N> (join);
 *      the SDP's session-level a=key-mgmt:mikey (RFC 4567) is parsed;
 *   2. the INVITE is taken into a server transaction at once (183), so
 *      that UDP retransmissions do not look like replays while the KMS
 *      is asked;
 *   3. kmsc_resolve_init -> POST to the KMS (async) -> kmsc_resolve_open:
 *      the KMS authenticates the initiator and checks the ticket (and,
 *      for a factory ticket, the creation right);
 *   4. create: the conference core gets CREATED with the ticket's IDRr
 *      list (D3); both create and join then send JOIN_REQUEST, and the
 *      core's ACCEPT or REJECT decides: 200 OK with Contact ;isfocus
 *      and a TRANSFER_RESP carrying the group key(s) (M = 1, MKI =
 *      0x80000000 | epoch), or 403/4xx without any key-mgmt.
 * Key-management failures are 488 + Warning 306 (RFC 4567 §4.1.2);
 * refusals by authorisation are 403. BYE is LEAVE.
 *
 * Rekey (D7, RFC 6043 §5.2, spec/sdp-sdes-srtp.md §1.3): SEND_UPDATE ->
 * re-INVITE (sipsess_modify) whose SDP offer carries the update
 * TRANSFER_INIT of the member's CSB with the epoch's TEK+SALT (MKI =
 * 0x80000000 | epoch); a 200 OK whose answer holds a valid update
 * TRANSFER_RESP -> REKEY_ACK, a bad answer -> REKEY_FAILED, no answer ->
 * the core's ack deadline. Glare: libre answers a crossing re-INVITE with
 * 491 and retries ours after its back-off; an update due while one is in
 * flight on the leg waits for it (only the newest waits). Events are fed
 * from a zero timer, never from inside libre's or the core's callbacks.
 * Media: media.c (one RTP socket per conference, switching mode). A
 * member in the fan-out whose authenticated SRTP stops (or never starts)
 * for rtp_timeout seconds, counted from its join, is LOST (a leave): the
 * core drops it, it gets a BYE, and the rest are rekeyed per policy.
 * Transports: UDP, TCP, TLS (`tls`, `tls_cert`). Counters: metrics.c.
 *
 * D6: a colliding SSRC is replaced in the TRANSFER_RESP CS map, and other
 * senders' streams that wrapped are named with their ROC.
 * D7: once an epoch is in force, members that take it are told to send
 * under it by a map-only CSB update in an INFO (send_switch).
 */

#include "sipint.h"

#include <sys/socket.h>

#define SHUTDOWN_DEADLINE_MS 4000
#define SIP_UDP_RCVBUF (2 << 20) /* bytes asked; Linux doubles it */

struct confd_sip_state confd_g;

/* ---- small helpers -------------------------------------------------------- */

int64_t now_ms(void)
{
	return (int64_t)tmr_jiffies();
}

struct kmsc_env env_now(void)
{
	return (struct kmsc_env){ .now = (int64_t)time(NULL),
				  .skew = confd_g.cf->skew,
				  .rand = kmsc_rand_system };
}

const char *who(const struct leg *l)
{
	return l->peer[0] ? l->peer : "(unauthenticated)";
}

const char *conf_name(const struct leg *l)
{
	if (l->cc)
		return l->cc->focus;
	return l->focus_id[0] ? l->focus_id : "-";
}

static void reply_stateless(const struct sip_msg *msg, uint16_t code,
			    const char *reason, bool w306)
{
	char warn[128];

	confd_metrics_refused(code);
	if (w306 && !sipglue_warning_306(confd_g.realm, warn, sizeof(warn))) {
		(void)sip_treplyf(NULL, NULL, confd_g.sip, msg, false, code,
				  reason,
				  "Warning: %s\r\nContent-Length: 0\r\n\r\n",
				  warn);
		return;
	}
	(void)sip_treply(NULL, confd_g.sip, msg, code, reason);
}

void leg_drop(struct leg *l)
{
	if (l->dead)
		return;
	l->dead = true;
	rekey_window_release(l);
	if (l->cc && l->mid != CONF_MID_NONE)
		confd_media_remove(l->cc->media, l->mid);
	tmr_cancel(&l->ev_tmr);
	list_unlink(&l->le);
	l->sess = mem_deref(l->sess); /* BYE if established */
	mem_deref(l);
}

/* Final refusal of an accepted (183) leg; never a key-mgmt body. */
void leg_reject(struct leg *l, uint16_t code, const char *reason, bool w306)
{
	char warn[128];
	int err;

	if (!l->sess)
		return;
	confd_metrics_refused(code);
	if (w306 && !sipglue_warning_306(confd_g.realm, warn, sizeof(warn)))
		err = sipsess_reject(l->sess, code, reason,
				     "Warning: %s\r\nContent-Length: 0\r\n\r\n",
				     warn);
	else
		err = sipsess_reject(l->sess, code, reason, NULL);
	if (err)
		confd_log(CONFD_LOG_WARN, "call %s: reject %u failed: %s",
			  l->callid, code, strerror(err));
	leg_drop(l);
}

void leg_destructor(void *arg)
{
	struct leg *l = arg;

	list_unlink(&l->le);
	tmr_cancel(&l->ev_tmr);
	rekey_window_release(l);
	switch_window_release(l);
	owner_leg_free(l);
	dialout_free(l);
	sdes_leg_free(l);
	mem_deref(l->info_req);
	mem_deref(l->sess);
	kmsc_update_wipe(&l->upd);
	kmsc_csb_free(&l->csb);
	cc_wipe(&l->km, sizeof(l->km));
}

/* ---- conferences ---------------------------------------------------------- */

static struct cconf *cconf_find(uint32_t n)
{
	struct le *le;

	for (le = confd_g.confs.head; le; le = le->next) {
		struct cconf *cc = le->data;

		if (cc->n == n && !cc->ended)
			return cc;
	}
	return NULL;
}

static void cconf_destructor(void *arg)
{
	struct cconf *cc = arg;
	struct le *le;
	size_t i;

	for (i = 0; i < CONF_TIMER__COUNT; i++)
		tmr_cancel(&cc->tmr[i].tmr);
	tmr_cancel(&cc->idle);
	event_conf_free(cc);
	list_unlink(&cc->le);
	for (le = confd_g.legs.head; le;) {
		struct leg *l = le->data;

		le = le->next;
		if (l->cc == cc) {
			l->cc = NULL;
			leg_drop(l);
		}
	}
	confd_metrics_media_gone(cc->media);
	cc->media = mem_deref(cc->media);
	conf_free(cc->core);
}

static void free_ended(void *arg)
{
	mem_deref(arg);
}

static void idle_h(void *arg)
{
	struct cconf *cc = arg;
	struct conf_event ev = { .type = CONF_EV_ENDED };
	struct conf_stats st;

	conf_stats(cc->core, now_ms(), &st);
	if (st.members)
		return;
	confd_log(CONFD_LOG_INFO, "conference %s: empty for %u s, ending",
		  cc->focus, confd_g.cf->idle_timeout);
	cconf_feed(cc, &ev);
}

void check_idle(struct cconf *cc)
{
	struct conf_stats st;

	if (cc->ended)
		return;
	conf_stats(cc->core, now_ms(), &st);
	if (!st.members)
		tmr_start(&cc->idle, (uint64_t)confd_g.cf->idle_timeout * 1000,
			  idle_h, cc);
}

static void timer_h(void *arg)
{
	struct cconf_tmr *t = arg;
	struct conf_event ev = { .type = CONF_EV_TIMER };

	ev.u.timer = t->id;
	cconf_feed(t->cc, &ev);
}

struct leg *leg_by_mid(struct cconf *cc, conf_mid m)
{
	struct le *le;

	for (le = confd_g.legs.head; le; le = le->next) {
		struct leg *l = le->data;

		if (l->cc == cc && l->member && l->mid == m)
			return l;
	}
	return NULL;
}

static void act_reject(struct leg *l, const struct conf_action *a)
{
	int code = conf_reject_sip_status(a->u.reject);

	confd_log(CONFD_LOG_INFO, "conference %s: %s refused: %s (%d)",
		  conf_name(l), who(l), conf_reject_name(a->u.reject), code);
	leg_reject(l, (uint16_t)code,
		   code == 403 ? "Forbidden" : conf_reject_name(a->u.reject),
		   false);
}

static void act_drop(struct cconf *cc, const struct conf_action *a)
{
	struct leg *l = leg_by_mid(cc, a->member);

	confd_log(CONFD_LOG_INFO, "conference %s: %s out of media fan-out (%s)",
		  cc->focus, l ? who(l) : "?", conf_removal_name(a->u.removal));
	if (!l || a->u.removal == CONF_RM_LEFT ||
	    a->u.removal == CONF_RM_JOIN_FAILED)
		return;
	/* removed by the focus (no ack, compromised, ended...): BYE */
	l->member = false;
	leg_drop(l);
}

static void act_timer(struct cconf *cc, const struct conf_action *a)
{
	struct cconf_tmr *t;
	int64_t d;

	if ((unsigned)a->u.timer.id >= CONF_TIMER__COUNT)
		return;
	t = &cc->tmr[a->u.timer.id];
	if (a->type == CONF_ACT_CANCEL_TIMER) {
		tmr_cancel(&t->tmr);
		return;
	}
	d = a->u.timer.at - a->now;
	tmr_start(&t->tmr, d > 0 ? (uint64_t)d : 0, timer_h, t);
}

static void on_action(const struct conf_action *a, void *arg)
{
	struct cconf *cc = arg;
	struct leg *l = confd_g.cur;

	switch (a->type) {
	case CONF_ACT_ACCEPT:
		if (l && l->cookie == a->cookie) {
			l->mid = a->member;
			if (l->has_rtp &&
			    (confd_media_add(cc->media, l->mid, &l->rtp) ||
			     confd_media_codec(cc->media, l->mid, l->codec)))
				confd_log(CONFD_LOG_WARN,
					  "conference %s: %s: no media fan-out",
					  cc->focus, who(l));
			if (l->dialout)
				dialout_accepted(l, &a->u.accept);
			else
				answer_accept(l, &a->u.accept);
		}
		break;
	case CONF_ACT_REJECT:
		if (l && l->cookie == a->cookie && l->dialout)
			dialout_rejected(l,
					 conf_reject_sip_status(a->u.reject));
		else if (l && l->cookie == a->cookie)
			act_reject(l, a);
		break;
	case CONF_ACT_NEW_EPOCH:
		confd_media_action(cc->media, a);
		confd_log(CONFD_LOG_INFO,
			  "conference %s: epoch %" PRIu32 " (MKI 0x%08" PRIx32
			  ") created",
			  cc->focus, a->u.epoch->epoch, a->u.epoch->mki);
		break;
	case CONF_ACT_SEND_UPDATE:
		l = leg_by_mid(cc, a->member);
		if (l)
			send_update(l, a->u.epoch);
		break;
	case CONF_ACT_SWITCH_MKI:
		send_switch(cc, a->u.epoch);
		/* fall through */
	case CONF_ACT_RETIRE_EPOCH:
		confd_media_action(cc->media, a);
		confd_log(CONFD_LOG_INFO, "conference %s: %s epoch %" PRIu32,
			  cc->focus, conf_action_name(a->type),
			  a->u.epoch->epoch);
		break;
	case CONF_ACT_DROP_MEDIA:
		confd_media_action(cc->media, a);
		act_drop(cc, a);
		break;
	case CONF_ACT_REQUEST_KMS_KEYS:
		confd_log(CONFD_LOG_ERROR,
			  "conference %s: group-keys=kms not "
			  "implemented",
			  cc->focus);
		break;
	case CONF_ACT_NOTIFY:
		confd_log(CONFD_LOG_INFO,
			  "conference %s: %s %s%s%s, %" PRIu32 " member(s)",
			  cc->focus, a->u.notify.identity,
			  a->u.notify.joined ? "joined" : "removed",
			  a->u.notify.joined ? "" : ": ",
			  a->u.notify.joined ?
				  "" :
				  conf_removal_name(a->u.notify.reason),
			  a->u.notify.members);
		event_note_removal(cc, &a->u.notify);
		break;
	case CONF_ACT_SET_TIMER:
	case CONF_ACT_CANCEL_TIMER:
		act_timer(cc, a);
		break;
	case CONF_ACT_END:
		confd_log(CONFD_LOG_INFO, "conference %s ended", cc->focus);
		cc->ended = true;
		tmr_start(&cc->idle, 0, free_ended, cc);
		break;
	default:
		break;
	}
}

/* Every core action is counted for /metrics, then handled. */
static void on_action_counted(const struct conf_action *a, void *arg)
{
	confd_metrics_action(a);
	on_action(a, arg);
}

void cconf_feed(struct cconf *cc, struct conf_event *ev)
{
	enum cc_err err;

	ev->now = now_ms();
	err = conf_handle(cc->core, ev);
	if (err)
		confd_log(CONFD_LOG_WARN, "conference %s: %s: %s", cc->focus,
			  conf_event_name(ev->type), cc_strerror(err));
	event_conf_changed(cc);
}

/* The media plane saw an SSRC's ROC change: tell the core (D6). */
static void roc_h(uint32_t ssrc, uint32_t roc, void *arg)
{
	struct cconf *cc = arg;
	struct conf_event ev = { .type = CONF_EV_MEDIA_ROC };

	if (cc->ended)
		return;
	ev.u.roc = (struct conf_ev_roc){ .ssrc = ssrc, .roc = roc };
	cconf_feed(cc, &ev);
}

/* CREATED with the ticket's responders as the allowed set (D3). */
static enum cc_err cconf_create(struct leg *l)
{
	static char ids[KMSC_MAX_RESPONDERS][KMSC_MAX_ID];
	const char *allowed[KMSC_MAX_RESPONDERS];
	struct conf_event ev = { .type = CONF_EV_CREATED };
	struct cconf *cc;
	size_t n = 0, i;
	enum cc_err err;

	err = sipglue_ticket_responders(l->km.mikey, l->km.mikey_len, ids,
					KMSC_MAX_RESPONDERS, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		allowed[i] = ids[i];
	cc = mem_zalloc(sizeof(*cc), cconf_destructor);
	if (!cc)
		return CC_ERR_NOMEM;
	cc->n = l->focus_n;
	snprintf(cc->focus, sizeof(cc->focus), "%s", l->focus_id);
	for (i = 0; i < CONF_TIMER__COUNT; i++) {
		cc->tmr[i].cc = cc;
		cc->tmr[i].id = (enum conf_timer)i;
	}
	/* the focus's SSRCs: 1, or the mixer's 1 + speakers (mixer.c) */
	cc->n_focus_ssrcs = confd_mixer_nssrcs(&confd_g.cf->policy);
	err = confd_mixer_ssrcs(cc->focus_ssrcs, cc->n_focus_ssrcs) ?
		      CC_ERR_CRYPTO :
		      CC_OK;
	cc->focus_ssrc = cc->focus_ssrcs[0];
	if (!err)
		err = conf_new(&cc->core, on_action_counted, cc,
			       conf_rand_openssl, NULL);
	if (!err && confd_media_alloc(&cc->media, l->laddr, cc->core, cc->focus,
				      roc_h, cc))
		err = CC_ERR_NOMEM;
	if (!err &&
	    confd_media_mix(cc->media, &confd_g.cf->policy, cc->focus_ssrcs))
		err = CC_ERR_UNSUPPORTED;
	if (err) {
		mem_deref(cc);
		return err;
	}
	list_append(&confd_g.confs, &cc->le, cc);
	ev.u.created = (struct conf_ev_created){
		.creator = l->peer,
		.factory = confd_g.cf->factory,
		.focus = cc->focus,
		.allowed = allowed,
		.n_allowed = n,
		.policy = &confd_g.cf->policy,
		.focus_ssrcs = cc->focus_ssrcs,
		.n_focus_ssrcs = cc->n_focus_ssrcs,
	};
	ev.now = now_ms();
	err = conf_handle(cc->core, &ev);
	if (err) {
		mem_deref(cc);
		return err;
	}
	l->cc = cc;
	confd_ctr.conferences_created++;
	confd_log(CONFD_LOG_INFO,
		  "conference %s created by %s (%zu ticket responder(s))",
		  cc->focus, l->peer, n);
	return CC_OK;
}

/* ---- after the KMS -------------------------------------------------------- */

static void join(struct leg *l)
{
	uint32_t ssrcs[CONF_SSRC_MAX];
	struct mikey_msg m;
	size_t n = 0, i;

	if (!mikey_decode(l->km.mikey, l->km.mikey_len, &m, NULL))
		for (i = 0; i < m.hdr.ncs && n < CONF_SSRC_MAX; i++)
			if (m.hdr.cs[i].cs_id % 2 == 1 && m.hdr.cs[i].has_ssrc)
				ssrcs[n++] = m.hdr.cs[i].ssrc;
	join_ssrcs(l, ssrcs, n);
}

void join_ssrcs(struct leg *l, const uint32_t *ssrcs, size_t n)
{
	struct conf_event ev = { .type = CONF_EV_JOIN_REQUEST };
	enum cc_err err;

	l->cookie = ++confd_g.next_cookie;
	ev.u.join = (struct conf_ev_join){ .identity = l->peer,
					   .ssrcs = ssrcs,
					   .n_ssrcs = n,
					   .via = CONF_VIA_DIRECT,
					   .cookie = l->cookie };
	ev.now = now_ms();
	confd_g.cur = l;
	err = conf_handle(l->cc->core, &ev);
	confd_g.cur = NULL;
	if (err) {
		confd_log(CONFD_LOG_WARN, "conference %s: join of %s: %s",
			  conf_name(l), who(l), cc_strerror(err));
		leg_reject(l, 500, "Server Error", false);
	}
}

bool kms_refusal(const struct kmsc_status *st, enum cc_err err)
{
	return err == CC_ERR_NOT_AUTHORISED || err == CC_ERR_UNKNOWN_USER ||
	       (st->kind == KMSC_FAIL_MIKEY &&
		(st->mikey_err == MIKEY_ERR_INVALID_TPPAR ||
		 st->mikey_err == MIKEY_ERR_INVALID_ID));
}

static void key_failure(struct leg *l, const char *step, enum cc_err err,
			const struct kmsc_status *st)
{
	char buf[160];

	if (st && st->kind == KMSC_FAIL_TRANSPORT) {
		confd_log(CONFD_LOG_WARN,
			  "conference %s: %s from %s: KMS "
			  "unreachable: %s",
			  conf_name(l), step, who(l),
			  kmsc_status_str(st, buf, sizeof(buf)));
		leg_reject(l, 503, "KMS Unavailable", false);
		return;
	}
	/* no replica could decide (HTTP 5xx, or a MIKEY Error "Unspecified":
	 * what a KMS answers when its store fails): temporary, not a verdict
	 * on the caller */
	if (st && ((st->kind == KMSC_FAIL_HTTP && st->http_status >= 500) ||
		   (st->kind == KMSC_FAIL_MIKEY &&
		    st->mikey_err == MIKEY_ERR_UNSPECIFIED))) {
		confd_log(CONFD_LOG_WARN,
			  "conference %s: %s from %s: KMS could not answer "
			  "(store failure?): %s",
			  conf_name(l), step, who(l),
			  kmsc_status_str(st, buf, sizeof(buf)));
		leg_reject(l, 503, "KMS Unavailable", false);
		return;
	}
	confd_log(CONFD_LOG_INFO,
		  "conference %s: %s refused for %s (call %s): %s",
		  conf_name(l), step, who(l), l->callid,
		  st ? kmsc_status_str(st, buf, sizeof(buf)) :
		       cc_strerror(err));
	if (st && kms_refusal(st, err))
		leg_reject(l, 403, "Forbidden", false);
	else
		leg_reject(l, 488, "Not Acceptable Here", true);
}

static void resolved(struct leg *l, const uint8_t *body, size_t len)
{
	struct kmsc_env env = env_now();
	struct kmsc_status st;
	enum cc_err err;

	err = kmsc_resolve_open(&l->csb, &l->r, body, len, &env, &st);
	if (err) {
		key_failure(l, "resolve", err, &st);
		return;
	}
	snprintf(l->peer, sizeof(l->peer), "%s", l->csb.initiator);
	err = sipglue_km_check_ids(&l->km, confd_g.cf->strict_sdp_ids);
	if (err) {
		key_failure(l, "key-mgmt protocol list (bidding down)", err,
			    NULL);
		return;
	}
	if (!(l->csb.flags & MIKEY_TPF_M)) {
		key_failure(l, "ticket without M (focus cannot supply keys)",
			    CC_ERR_POLICY, NULL);
		return;
	}
	if (l->creating) {
		err = cconf_create(l);
		if (err) {
			confd_log(CONFD_LOG_WARN, "create by %s failed: %s",
				  who(l), cc_strerror(err));
			leg_reject(l, 500, "Server Error", false);
			return;
		}
	}
	join(l);
}

static void kms_h(const struct kmsc_status *st, const uint8_t *body, size_t len,
		  void *arg)
{
	struct leg *l = arg;

	confd_ctr.kms_failures += st->kind != KMSC_FAIL_NONE;
	l->resolving = false;
	if (!l->dead && !confd_g.closing) {
		if (st->kind != KMSC_FAIL_NONE)
			key_failure(l, "resolve", st->err, st);
		else if (!l->creating && !cconf_find(l->focus_n))
			leg_reject(l, 410, "Conference Ended", false);
		else {
			l->cc = l->creating ? NULL : cconf_find(l->focus_n);
			resolved(l, body, len);
		}
	}
	mem_deref(l); /* the reference of the POST */
}

/* ---- SIP session callbacks ---------------------------------------------- */

int offer_h(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	struct leg *l = arg;

	(void)descp;
	(void)msg;
	confd_log(CONFD_LOG_INFO,
		  "conference %s: re-INVITE from %s refused "
		  "(member-initiated rekey not supported)",
		  conf_name(l), who(l));
	return EPROTO;
}

int answer_h(const struct sip_msg *msg, void *arg)
{
	struct leg *l = arg;

	if (l->dialout && !l->established)
		return dialout_answer(l, msg);
	if (!l->upd_epoch || !l->cc || !l->member) {
		confd_log(CONFD_LOG_DEBUG,
			  "conference %s: %s: unexpected answer", conf_name(l),
			  who(l));
		return 0;
	}
	rekey_answer(l, msg);
	return 0;
}

void estab_h(const struct sip_msg *msg, void *arg)
{
	struct leg *l = arg;
	struct conf_event ev = { .type = CONF_EV_JOIN_DONE };

	(void)msg;
	l->established = true;
	if (l->dialout)
		dialout_done(l, 200, "OK");
	if (!l->cc || !l->member)
		return;
	ev.u.member = l->mid;
	if (l->mid != CONF_MID_NONE)
		cconf_feed(l->cc, &ev);
}

void close_h(int err, const struct sip_msg *msg, void *arg)
{
	struct leg *l = arg;
	struct cconf *cc = l->cc;
	struct conf_event ev;

	/* libre 1.1.0 reports the peer's BYE as ECONNRESET, no msg */
	if (!err || (err == ECONNRESET && !msg))
		confd_log(CONFD_LOG_INFO, "conference %s: %s left (BYE)",
			  conf_name(l), who(l));
	else
		confd_log(CONFD_LOG_INFO,
			  "conference %s: %s: session closed: "
			  "%s",
			  conf_name(l), who(l), strerror(err));
	if (l->dialout && !l->established)
		dialout_done(l, msg ? msg->scode : 408,
			     msg ? "Declined" : "Request Timeout");
	if (cc && l->member && l->mid != CONF_MID_NONE) {
		memset(&ev, 0, sizeof(ev));
		ev.type = l->established ? CONF_EV_LEAVE : CONF_EV_JOIN_FAILED;
		ev.u.member = l->mid;
		cconf_feed(cc, &ev);
	}
	l->member = false;
	leg_drop(l);
	if (cc)
		check_idle(cc);
}

/* ---- RTP timeout: no authenticated SRTP is a leave ------------------------ */

enum {
	RTP_CHECK_MS = 1000,
	RTP_SILENT_MAX = 64, /* handled per conference and check */
};

/* The core's LOST (reason "lost"): DROP_MEDIA, whose act_drop sends the
 * BYE, and a rekey per policy as for a leave. Established members only;
 * one still joining is checked once its ACK has come. */
void confd_media_lost(void *arg)
{
	struct cconf *cc = arg;
	struct conf_event ev = { .type = CONF_EV_ENDED };

	if (cc->ended)
		return;
	confd_log(CONFD_LOG_WARN,
		  "conference %s: media node lost, ending the conference "
		  "(BYE to every member)",
		  cc->focus);
	cconf_feed(cc, &ev);
}

static void rtp_lost(struct cconf *cc, conf_mid mid)
{
	struct leg *l = leg_by_mid(cc, mid);
	struct conf_event ev = { .type = CONF_EV_LOST };

	if (!l || !l->established || l->dead)
		return;
	confd_log(CONFD_LOG_INFO,
		  "conference %s: %s: no SRTP for %u s, removing it (lost)",
		  cc->focus, who(l), confd_g.cf->rtp_timeout);
	ev.u.member = mid;
	cconf_feed(cc, &ev);
}

static void rtp_check(void *arg)
{
	uint64_t now = tmr_jiffies(),
		 to = (uint64_t)confd_g.cf->rtp_timeout * 1000;
	conf_mid silent[RTP_SILENT_MAX];
	struct le *le;
	size_t n, i;

	(void)arg;
	tmr_start(&confd_g.rtp_tmr, RTP_CHECK_MS, rtp_check, NULL);
	if (now <= to)
		return;
	for (le = confd_g.confs.head; le;) {
		struct cconf *cc = le->data;

		le = le->next;
		if (cc->ended)
			continue;
		n = confd_media_silent(cc->media, now - to, silent,
				       RTP_SILENT_MAX);
		for (i = 0; i < n && !cc->ended; i++)
			rtp_lost(cc, silent[i]);
		if (n)
			check_idle(cc);
	}
}

void confd_sip_gauges(struct confd_gauges *gs)
{
	struct conf_stats st;
	struct le *le;
	uint64_t fwd, drops;

	memset(gs, 0, sizeof(*gs));
	gs->media_fwd = confd_ctr.media_fwd_gone;
	gs->media_drops = confd_ctr.media_drops_gone;
	for (le = confd_g.confs.head; le; le = le->next) {
		const struct cconf *cc = le->data;

		confd_media_stats(cc->media, &fwd, &drops);
		gs->media_fwd += fwd;
		gs->media_drops += drops;
		if (cc->ended)
			continue;
		conf_stats(cc->core, now_ms(), &st);
		gs->conferences++;
		gs->members += st.members;
	}
}

/* ---- a new INVITE ---------------------------------------------------------- */

static enum cc_err route(const struct sip_msg *msg, struct leg *l)
{
	const struct pl *u = &msg->uri.user;
	enum cc_err err;

	if (sipglue_factory_match(confd_g.cf->factory, u->p, u->l)) {
		l->creating = true;
		l->focus_n = ++confd_g.next_focus;
	} else if (!sipglue_node_focus_match(confd_g.cf->factory,
					     confd_g.cf->node, u->p, u->l,
					     &l->focus_n) ||
		   !cconf_find(l->focus_n)) {
		return CC_ERR_NOT_FOUND; /* another node's tag: not ours */
	}
	err = sipglue_node_focus_uri(confd_g.cf->factory, confd_g.cf->node,
				     l->focus_n, l->focus_id,
				     sizeof(l->focus_id));
	if (err)
		return err;
	l->aliases[0] = confd_g.cf->factory;
	l->r = (struct kmsc_responder){ .cred = confd_g.cred,
					.identity = l->focus_id,
					.aliases = l->aliases,
					.naliases = 1,
					.replay = confd_g.replay };
	return CC_OK;
}

/* Contact: <sip:focusN.conf@addr>;isfocus (RFC 4579 §5.3). libre prints
 * "Contact: <%s>" for a cuser holding ':', so the feature tag goes in
 * through the user string (see the libre notes in the report). */
int contact_user_at(const struct sa *dst, enum sip_transp tp,
		    const struct leg *l, char *out, size_t cap)
{
	char user[KMSC_MAX_ID];
	int n;

	if (sipglue_node_focus_user(confd_g.cf->factory, confd_g.cf->node,
				    l->focus_n, user, sizeof(user)))
		return EINVAL;
	n = re_snprintf(out, cap,
			"sip:%s@%J%s>;isfocus\r\nX-Conclave-Focus: <%s", user,
			dst, sip_transp_param(tp), l->focus_id);
	return n < 0 || (size_t)n >= cap ? ENOSPC : 0;
}

int contact_user(const struct sip_msg *msg, const struct leg *l, char *out,
		 size_t cap)
{
	return contact_user_at(&msg->dst, msg->tp, l, out, cap);
}

struct leg *leg_by_dialog(const struct sip_msg *msg)
{
	struct le *le;

	for (le = confd_g.legs.head; le; le = le->next) {
		struct leg *l = le->data;

		if (l->sess && sipsess_dialog(l->sess) &&
		    sip_dialog_cmp(sipsess_dialog(l->sess), msg))
			return l;
	}
	return NULL;
}

/* INFO in a member's dialog (RFC 6086): we receive no Info Package, so
 * one naming a package gets 469; a legacy INFO (none named) gets 200,
 * which lets a participant use it to check that its dialog lives. */
void info_h(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	struct leg *l = arg;

	if (sip_msg_xhdr(msg, "Info-Package")) {
		confd_log(CONFD_LOG_INFO,
			  "conference %s: INFO from %s with an Info-Package "
			  "we do not receive: 469",
			  conf_name(l), who(l));
		(void)sip_treplyf(NULL, NULL, sip, msg, false, 469,
				  "Bad Info Package",
				  "Recv-Info: \r\nContent-Length: 0\r\n\r\n");
		return;
	}
	(void)sip_treply(NULL, sip, msg, 200, "OK");
}

int accept_leg(const struct sip_msg *msg, struct leg *l)
{
	char cuser[512];
	int err;

	/* D7: the member takes the epoch switch signal by INFO */
	l->recv_switch =
		sip_msg_xhdr_has_value(msg, "Recv-Info", "mikey-switch");
	err = contact_user(msg, l, cuser, sizeof(cuser));
	if (!err)
		err = sipsess_accept(&l->sess, confd_g.sock, msg, 183,
				     "Session Progress", cuser,
				     "application/sdp", NULL, NULL, NULL, false,
				     offer_h, answer_h, estab_h, info_h, NULL,
				     close_h, l, NULL);
	return err;
}

static void start_resolve(struct leg *l)
{
	static uint8_t rinit[KMSC_MAX_MSG];
	struct kmsc_env env = env_now();
	struct kmsc_status st;
	size_t n = 0;
	enum cc_err err;

	err = kmsc_resolve_init(&l->csb, &l->r, l->km.mikey, l->km.mikey_len,
				&env, rinit, sizeof(rinit), &n, &st);
	if (err) {
		key_failure(l, l->creating ? "create" : "join", err, &st);
		return;
	}
	confd_ctr.kms_requests++;
	err = confd_kms_post(rinit, n, kms_h, mem_ref(l));
	if (err) {
		confd_ctr.kms_failures++;
		mem_deref(l);
		confd_log(CONFD_LOG_WARN, "KMS post: %s", cc_strerror(err));
		leg_reject(l, 503, "KMS Unavailable", false);
		return;
	}
	l->resolving = true;
}

/* The member's RTP address: c= of the offer (else the SIP source) and the
 * port of its first m-line. */
void rtp_addr(const struct sip_msg *msg, struct leg *l)
{
	struct pl ip;
	struct sa sa;

	if (!l->km.nmedia || !l->km.media[0].port)
		return;
	if (re_regex((const char *)mbuf_buf(msg->mb), mbuf_get_left(msg->mb),
		     "c=IN IP[46]1 [^\r\n]+", NULL, &ip) ||
	    sa_set(&sa, &ip, l->km.media[0].port))
		sa = msg->src;
	sa_set_port(&sa, l->km.media[0].port);
	l->rtp = sa;
	l->has_rtp = true;
}

static void conn_h(const struct sip_msg *msg, void *arg)
{
	char uri[256];
	struct leg *l;
	enum cc_err err;

	(void)arg;
	if (confd_g.closing) {
		(void)sip_treply(NULL, confd_g.sip, msg, 503, "Shutting Down");
		return;
	}
	l = mem_zalloc(sizeof(*l), leg_destructor);
	if (!l) {
		(void)sip_treply(NULL, confd_g.sip, msg, 500, "Server Error");
		return;
	}
	(void)re_snprintf(l->callid, sizeof(l->callid), "%r", &msg->callid);
	(void)re_snprintf(l->laddr, sizeof(l->laddr), "%j", &msg->dst);
	err = route(msg, l);
	if (err) {
		(void)re_snprintf(uri, sizeof(uri), "%r", &msg->ruri);
		confd_log(CONFD_LOG_INFO, "call %s: no conference at %s",
			  l->callid, uri);
		confd_metrics_refused(404);
		(void)sip_treply(NULL, confd_g.sip, msg, 404, "Not Found");
		mem_deref(l);
		return;
	}
	err = sipglue_km_parse_mbuf(msg->mb, &l->km);
	if (err == CC_ERR_MISSING && sdes_invite(msg, l))
		return; /* an SDES offer: sdes.c took or refused it */
	if (err) {
		confd_log(CONFD_LOG_INFO,
			  "conference %s: call %s: SDP key-mgmt: %s",
			  l->focus_id, l->callid, cc_strerror(err));
		reply_stateless(msg, 488, "Not Acceptable Here", true);
		mem_deref(l);
		return;
	}
	if (leg_codec_choose(l)) {
		confd_log(CONFD_LOG_INFO,
			  "conference %s: call %s: no codec for the mix "
			  "(PCMU, PCMA or Opus/%u)",
			  l->focus_id, l->callid, CONFD_OPUS_PT);
		reply_stateless(msg, 488, "Not Acceptable Here", true);
		mem_deref(l);
		return;
	}
	if (confd_g.cf->policy.media == CONF_MEDIA_MIX)
		confd_log(CONFD_LOG_INFO,
			  "conference %s: call %s: mix codec %s (PT %s)",
			  l->focus_id, l->callid,
			  l->codec == 2 ? "opus" :
			  l->codec == 1 ? "pcma" :
					  "pcmu",
			  l->km.nmedia ? l->km.media[0].fmt : "-");
	rtp_addr(msg, l);
	if (accept_leg(msg, l)) {
		(void)sip_treply(NULL, confd_g.sip, msg, 500, "Server Error");
		mem_deref(l);
		return;
	}
	list_append(&confd_g.legs, &l->le, l);
	start_resolve(l);
}

/* ---- start / stop --------------------------------------------------------- */

/* tls: the certificate for SIP_TRANSP_TLS, ignored otherwise */
/* libre keeps its SIP UDP socket to itself: find it among our descriptors
 * by its bound address and give it a receive buffer for bursts (a join
 * storm, a rekey window's 200 OKs). With the default 208 KiB a 64-wide
 * join storm dropped ~130 datagrams per 4,000 joins, each costing a
 * 500 ms retransmission (docs/PERFORMANCE.md "Beyond one machine"). The
 * kernel caps the size at net.core.rmem_max. */
static void udp_rcvbuf(const struct sa *laddr, int bytes)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct sa a;
	int fd, type, got;

	for (fd = 0; fd < 4096; fd++) {
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) ||
		    type != SOCK_DGRAM)
			continue;
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) ||
		    sa_set_sa(&a, (struct sockaddr *)&ss) ||
		    !sa_cmp(&a, laddr, SA_ALL))
			continue;
		len = sizeof(got);
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes,
			       sizeof(bytes)) ||
		    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len))
			break;
		confd_log(CONFD_LOG_DEBUG, "sip UDP receive buffer %d KiB",
			  got / 1024);
		return;
	}
	confd_log(CONFD_LOG_WARN, "sip UDP receive buffer left at the default");
}

static int add_transport(enum sip_transp tp, const char *addr, struct tls *tls)
{
	struct sa sa;
	int err;

	if (!strcmp(addr, "off"))
		return 0;
	err = sa_decode(&sa, addr, strlen(addr));
	if (!err)
		err = sip_transp_add(confd_g.sip, tp, &sa, tls);
	if (err) {
		confd_log(CONFD_LOG_ERROR, "listen %s %s: %s",
			  sip_transp_name(tp), addr, strerror(err));
		return err;
	}
	if (tp == SIP_TRANSP_UDP)
		udp_rcvbuf(&sa, SIP_UDP_RCVBUF);
	confd_log(CONFD_LOG_INFO, "listening sip %s %s", sip_transp_name(tp),
		  addr);
	return 0;
}

/* SIP over TLS (RFC 3261 §26.2.1): the server side only; the PEM holds
 * the certificate chain and the private key (as kmsd's tls_cert). */
static int add_tls(const struct confd_conf *cf)
{
	int err;

	if (!strcmp(cf->tls, "off"))
		return 0;
	err = tls_alloc(&confd_g.tls, TLS_METHOD_SSLV23, cf->tls_cert, NULL);
	if (err) {
		confd_log(CONFD_LOG_ERROR,
			  "cannot load TLS certificate and key from %s: %s",
			  cf->tls_cert, strerror(err));
		return err;
	}
	return add_transport(SIP_TRANSP_TLS, cf->tls, confd_g.tls);
}

static void exit_h(void *arg)
{
	(void)arg;
	re_cancel();
}

int confd_sip_start(const struct confd_conf *cf, struct kmsc_cred *cred)
{
	struct kmsc_http_opts ho = { .timeout_ms = 5000 };
	char conf[KMSC_MAX_ID];
	int err;

	confd_g.cf = cf;
	confd_g.cred = cred;
	rekey_windows_init();
	if (sipglue_factory_parts(cf->factory, conf, sizeof(conf),
				  confd_g.realm, sizeof(confd_g.realm))) {
		confd_log(CONFD_LOG_ERROR, "factory %s: not a sip URI",
			  cf->factory);
		return EINVAL;
	}
	ho.ca_file = cf->kms_ca[0] ? cf->kms_ca : NULL;
	if (mikey_replay_alloc(&confd_g.replay, cf->replay_capacity,
			       cf->skew) ||
	    kmsc_httpc_alloc(&confd_g.httpc, &ho))
		return ENOMEM;
	/* hash sizes for thousands of dialogs and transactions: with 32
	 * buckets a 5,000-member rekey spent most of its time in lookups */
	err = sip_alloc(&confd_g.sip, NULL, 4096, 4096, 256, "conclave-confd",
			exit_h, NULL);
	if (!err)
		err = add_transport(SIP_TRANSP_UDP, cf->udp, NULL);
	if (!err)
		err = add_transport(SIP_TRANSP_TCP, cf->tcp, NULL);
	if (!err)
		err = add_tls(cf);
	/* owner.c sees in-dialog INVITEs first (registered before sipsess) */
	if (!err)
		err = sip_listen(&confd_g.owner_lsnr, confd_g.sip, true,
				 owner_lsnr_h, NULL);
	if (!err)
		err = sipsess_listen(&confd_g.sock, confd_g.sip, 4096, conn_h,
				     NULL);
	if (err)
		return err;
	sdes_start_log(cf);
	if (cf->rtp_timeout)
		tmr_start(&confd_g.rtp_tmr, RTP_CHECK_MS, rtp_check, NULL);
	event_start();
	confd_log(CONFD_LOG_INFO, "factory %s (focus %s%s%s), KMS %s as %s",
		  cf->factory, "focus<N>", cf->node[0] ? "-" : "", cf->node,
		  cred->kms_url, cred->identity);
	return 0;
}

static void deadline_h(void *arg)
{
	(void)arg;
	confd_log(CONFD_LOG_WARN,
		  "shutdown: SIP transactions or connections still open after "
		  "%d ms (BYEs unanswered?), stopping anyway",
		  SHUTDOWN_DEADLINE_MS);
	re_cancel();
}

void confd_sip_shutdown(void)
{
	struct le *le;

	confd_g.closing = true;
	tmr_cancel(&confd_g.rtp_tmr);
	event_close(); /* terminated NOTIFYs before the BYEs */
	for (le = confd_g.confs.head; le;) {
		struct cconf *cc = le->data;
		struct conf_event ev = { .type = CONF_EV_ENDED };

		le = le->next;
		if (!cc->ended)
			cconf_feed(cc, &ev);
		mem_deref(cc); /* BYE to every member */
	}
	for (le = confd_g.legs.head; le;) {
		struct leg *l = le->data;

		le = le->next;
		leg_reject(l, 503, "Shutting Down", false);
	}
	tmr_start(&confd_g.deadline, SHUTDOWN_DEADLINE_MS, deadline_h, NULL);
	sip_close(confd_g.sip, false);
}

void confd_sip_free(void)
{
	struct le *le;

	tmr_cancel(&confd_g.deadline);
	tmr_cancel(&confd_g.rtp_tmr);
	event_close();
	for (le = confd_g.confs.head; le;) {
		struct cconf *cc = le->data;

		le = le->next;
		mem_deref(cc);
	}
	for (le = confd_g.legs.head; le;) {
		struct leg *l = le->data;

		le = le->next;
		leg_drop(l);
	}
	confd_g.sock = mem_deref(confd_g.sock);
	confd_g.owner_lsnr = mem_deref(confd_g.owner_lsnr);
	if (confd_g.sip)
		sip_close(confd_g.sip, true);
	confd_g.sip = mem_deref(confd_g.sip);
	confd_g.tls = mem_deref(confd_g.tls);
	kmsc_httpc_free(confd_g.httpc);
	confd_g.httpc = NULL;
	confd_kms_close();
	mikey_replay_free(confd_g.replay);
	confd_g.replay = NULL;
}
