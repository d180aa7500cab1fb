/*
 * event.c -- the conference event package (RFC 4575, DESIGN.md D9,
 * issue 6 §3): SUBSCRIBE (Event: conference) to a focus URI, a NOTIFY
 * with the full roster at once (confinfo_build_full), then a partial
 * NOTIFY (version + 1, confinfo_build_partial) after every conf_handle()
 * that changed the roster (join, leave, removal, rekey).
 *
 * Who may subscribe (docs/CONFD.md "Conference event package"): the
 * SUBSCRIBE must
 *   1. arrive over TLS (or the test-only `event_insecure yes` is set,
 *      WARNed at start and on each subscription): else 403;
 *   2. carry a Target-Dialog header (RFC 4538) naming an established
 *      member dialog of that conference (Call-ID, local-tag = the
 *      member's tag, remote-tag = ours), and its From URI must be that
 *      member's KMS-authenticated identity: else 403.
 * The dialog identifiers travel only over the member's (TLS) signalling
 * path, so this ties the subscription to a dialog the KMS authenticated,
 * as REFER in-dialog does (refer.c). The roster lists identities as the
 * KMS authenticated them, status, key epoch number and trust: never keys.
 *
 * Subscriptions are dialogs of their own (RFC 6665 §4.2): 200 with
 * Expires, refresh and unsubscribe (Expires: 0) in-dialog, expiry, and
 * Subscription-State: terminated when the conference ends, the member
 * leaves, or confd shuts down. One NOTIFY in flight per subscription; a
 * change while one is in flight is sent as a full document afterwards.
 * SUBSCRIBE floods: a token bucket per source IP (RATE/s, burst BURST)
 * answers 429 (RFC 6585) with Retry-After; other methods are unaffected.
 */
#include "sipint.h"

#include <conclave/confinfo.h>

enum {
	EXPIRES_MIN = 30,
	EXPIRES_DFL = 600,
	EXPIRES_MAX = 3600,
	SUBS_MAX = 64,    /* per conference */
	RL_SLOTS = 1024,  /* source IPs tracked (hashed, newest wins) */
	RL_RATE = 10,     /* SUBSCRIBEs per second and source IP */
	RL_BURST = 20,    /* bucket size */
	RL_LOG_MS = 1000, /* at most one rate-limit log line per second */
};

struct esub {
	struct le le; /* cevent.subs */
	struct cevent *ce;
	struct sip_dialog *dlg;
	struct sip_request *req; /* NOTIFY in flight */
	struct tmr tmr;          /* expiry */
	bool pending;            /* a change came while req was in flight */
	char peer[KMSC_MAX_ID];
	char contact[KMSC_MAX_ID + 96];
};

struct cevent {
	struct cconf *cc;
	struct confinfo *ci;
	struct list subs;
	bool check_members; /* a member was removed: re-check subscribers */
};

struct bucket {
	struct sa ip;
	uint64_t t;      /* ms of the last refill */
	uint32_t tokens; /* in thousandths */
};

static struct bucket rl[RL_SLOTS];
static uint64_t rl_log_at;
static uint32_t rl_quiet; /* refusals not logged since the last line */

static uint64_t ev_active, ev_notifies, ev_refused;

/* ---- rate limit ----------------------------------------------------------- */

static bool rl_take(const struct sa *src)
{
	uint64_t now = tmr_jiffies();
	struct bucket *b;
	struct sa ip = *src;

	sa_set_port(&ip, 0);
	b = &rl[sa_hash(&ip, SA_ADDR) % RL_SLOTS];
	if (!sa_cmp(&b->ip, &ip, SA_ADDR)) {
		b->ip = ip;
		b->t = now;
		b->tokens = RL_BURST * 1000;
	}
	b->tokens += (uint32_t)((now - b->t) * RL_RATE > RL_BURST * 1000 ?
					RL_BURST * 1000 :
					(now - b->t) * RL_RATE);
	if (b->tokens > RL_BURST * 1000)
		b->tokens = RL_BURST * 1000;
	b->t = now;
	if (b->tokens >= 1000) {
		b->tokens -= 1000;
		return true;
	}
	return false;
}

static void rl_refuse(const struct sip_msg *msg)
{
	uint64_t now = tmr_jiffies();
	char src[64];

	ev_refused++;
	(void)sip_treplyf(NULL, NULL, confd_g.sip, msg, false, 429,
			  "Too Many Requests",
			  "Retry-After: 1\r\nContent-Length: 0\r\n\r\n");
	if (rl_log_at && now - rl_log_at < RL_LOG_MS) {
		rl_quiet++;
		return;
	}
	(void)re_snprintf(src, sizeof(src), "%j", &msg->src);
	confd_log(CONFD_LOG_WARN,
		  "event: SUBSCRIBE flood from %s: 429 (rate %d/s, burst %d; "
		  "%u more refused since the last line)",
		  src, RL_RATE, RL_BURST, rl_quiet);
	rl_log_at = now;
	rl_quiet = 0;
}

/* ---- documents ------------------------------------------------------------ */

/* A full or partial document in a new mbuf (NULL on failure). */
static struct mbuf *build(const struct confinfo *ci, bool full)
{
	struct mbuf *mb;
	size_t len = 0;
	enum cc_err err;

	err = full ? confinfo_build_full(ci, NULL, 0, &len) :
		     confinfo_build_partial(ci, NULL, 0, &len);
	if (err != CC_ERR_SPACE)
		return NULL;
	mb = mbuf_alloc(len + 1);
	if (!mb)
		return NULL;
	err = full ? confinfo_build_full(ci, (char *)mb->buf, len + 1, &len) :
		     confinfo_build_partial(ci, (char *)mb->buf, len + 1, &len);
	if (err)
		return mem_deref(mb);
	mb->end = len;
	mb->pos = 0;
	return mb;
}

/* RFC 4575 §4.6: state="deleted" tells the view the conference is gone. */
static struct mbuf *build_deleted(const struct cevent *ce)
{
	const char *e = confinfo_entity(ce->ci);
	struct mbuf *mb;

	if (strpbrk(e, "\"<>&"))
		return NULL;
	mb = mbuf_alloc(256);
	if (!mb)
		return NULL;
	if (mbuf_printf(mb,
			"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<conference-info xmlns=\"%s\" entity=\"%s\" "
			"state=\"deleted\" version=\"%u\"/>\n",
			CONFINFO_NS, e, confinfo_version(ce->ci) + 1))
		return mem_deref(mb);
	mb->pos = 0;
	return mb;
}

/* ---- NOTIFY ---------------------------------------------------------------- */

static void sub_free(struct esub *s)
{
	if (s->ce)
		ev_active--;
	list_unlink(&s->le);
	tmr_cancel(&s->tmr);
	s->req = mem_deref(s->req); /* libre finishes it without us */
	s->dlg = mem_deref(s->dlg);
	s->ce = NULL;
	mem_deref(s);
}

static void send_notify(struct esub *s, struct mbuf *body);

static void ntfy_resp_h(int err, const struct sip_msg *msg, void *arg)
{
	struct esub *s = arg;
	struct mbuf *mb;

	if (!err && msg && msg->scode < 200)
		return;
	if (err || msg->scode >= 300) {
		confd_log(CONFD_LOG_INFO,
			  "conference %s: NOTIFY to %s: %s %u: subscription "
			  "ends",
			  s->ce ? s->ce->cc->focus : "-", s->peer,
			  err ? strerror(err) : "status",
			  err || !msg ? 0 : msg->scode);
		sub_free(s);
		return;
	}
	if (!s->pending || !s->ce)
		return;
	s->pending = false; /* it missed versions: the whole roster */
	mb = build(s->ce->ci, true);
	if (mb)
		send_notify(s, mb);
	mem_deref(mb);
}

static void send_notify(struct esub *s, struct mbuf *body)
{
	uint32_t left = (uint32_t)(tmr_get_expire(&s->tmr) / 1000);
	int err;

	if (s->req) {
		s->pending = true;
		return;
	}
	err = sip_drequestf(&s->req, confd_g.sip, true, "NOTIFY", s->dlg, 0,
			    NULL, NULL, ntfy_resp_h, s,
			    "Event: conference\r\n"
			    "Subscription-State: active;expires=%u\r\n"
			    "Contact: %s\r\n"
			    "Content-Type: " CONFINFO_MIME "\r\n"
			    "Content-Length: %zu\r\n\r\n%b",
			    left, s->contact, mbuf_get_left(body),
			    mbuf_buf(body), mbuf_get_left(body));
	if (err)
		confd_log(CONFD_LOG_WARN, "event: NOTIFY to %s: %s", s->peer,
			  strerror(err));
	else
		ev_notifies++;
}

/* Subscription-State: terminated (RFC 6665 §4.2.2), then forget it. */
static void sub_end(struct esub *s, const char *reason, struct mbuf *body)
{
	int err;

	s->req = mem_deref(s->req);
	if (body)
		err = sip_drequestf(NULL, confd_g.sip, true, "NOTIFY", s->dlg,
				    0, NULL, NULL, NULL, NULL,
				    "Event: conference\r\n"
				    "Subscription-State: "
				    "terminated;reason=%s\r\n"
				    "Contact: %s\r\n"
				    "Content-Type: " CONFINFO_MIME "\r\n"
				    "Content-Length: %zu\r\n\r\n%b",
				    reason, s->contact, mbuf_get_left(body),
				    mbuf_buf(body), mbuf_get_left(body));
	else
		err = sip_drequestf(NULL, confd_g.sip, true, "NOTIFY", s->dlg,
				    0, NULL, NULL, NULL, NULL,
				    "Event: conference\r\n"
				    "Subscription-State: "
				    "terminated;reason=%s\r\n"
				    "Contact: %s\r\n"
				    "Content-Length: 0\r\n\r\n",
				    reason, s->contact);
	ev_notifies += !err;
	confd_log(CONFD_LOG_INFO,
		  "conference %s: subscription of %s terminated (%s)",
		  s->ce ? s->ce->cc->focus : "-", s->peer, reason);
	sub_free(s);
}

static void expire_h(void *arg)
{
	sub_end(arg, "timeout", NULL);
}

/* ---- the roster ------------------------------------------------------------ */

/* The core does not know how a member was keyed: SDES legs (sdes.c) are
 * listed with trust sdes, the others kms (issue 6 §5: the trust model of
 * each member is stated in the roster). */
static void decorate_h(const struct conf_member_info *m,
		       struct confinfo_user *u, void *arg)
{
	struct cevent *ce = arg;
	struct leg *l = leg_by_mid(ce->cc, m->id);

	if (l && l->trust_sdes)
		u->trust = CONFINFO_TRUST_SDES;
}

static bool roster_sync(struct cevent *ce, bool *changed)
{
	enum cc_err err;

	*changed = false;
	err = confinfo_sync_conf(ce->ci, ce->cc->core, CONFINFO_TRUST_KMS,
				 decorate_h, ce);
	if (!err)
		err = confinfo_commit(ce->ci, changed);
	if (err)
		confd_log(CONFD_LOG_WARN, "conference %s: roster: %s",
			  ce->cc->focus, cc_strerror(err));
	return !err;
}

static struct cevent *cevent_get(struct cconf *cc)
{
	struct cevent *ce = cc->ev;

	if (ce)
		return ce;
	ce = mem_zalloc(sizeof(*ce), NULL);
	if (!ce)
		return NULL;
	if (confinfo_new(&ce->ci, cc->focus)) {
		mem_deref(ce);
		return NULL;
	}
	ce->cc = cc;
	cc->ev = ce;
	return ce;
}

static const struct leg *member_leg(const struct cconf *cc, const char *peer,
				    const struct sip_msg *td)
{
	struct le *le;

	for (le = confd_g.legs.head; le; le = le->next) {
		const struct leg *l = le->data;

		if (l->cc != cc || !l->member || !l->established || l->dead ||
		    !l->sess || strcmp(l->peer, peer))
			continue;
		if (!td || sip_dialog_cmp(sipsess_dialog(l->sess), td))
			return l;
	}
	return NULL;
}

static void check_members(struct cevent *ce)
{
	struct le *le;

	ce->check_members = false;
	for (le = ce->subs.head; le;) {
		struct esub *s = le->data;

		le = le->next;
		if (!member_leg(ce->cc, s->peer, NULL))
			sub_end(s, "deactivated", NULL);
	}
}

void event_note_removal(struct cconf *cc, const struct conf_act_notify *n)
{
	if (!cc->ev || n->joined)
		return;
	cc->ev->check_members = true;
	if (confinfo_note_removal(cc->ev->ci, n->identity, n->reason))
		confd_log(CONFD_LOG_WARN,
			  "conference %s: roster: removal of "
			  "%s not recorded",
			  cc->focus, n->identity);
}

static void end_all(struct cevent *ce, const char *reason)
{
	struct mbuf *mb = build_deleted(ce);

	while (ce->subs.head)
		sub_end(ce->subs.head->data, reason, mb);
	mem_deref(mb);
}

/* The last commit's partial to every subscriber but skip. */
static void notify_partial(struct cevent *ce, const struct esub *skip)
{
	struct mbuf *mb = build(ce->ci, false);
	struct le *le;

	for (le = ce->subs.head; mb && le;) {
		struct esub *s = le->data;

		le = le->next;
		if (s != skip)
			send_notify(s, mb);
	}
	mem_deref(mb);
}

void event_conf_changed(struct cconf *cc)
{
	struct cevent *ce = cc->ev;
	bool changed;

	if (!ce || !ce->subs.head)
		return;
	if (cc->ended || confd_g.closing) {
		end_all(ce, "noresource");
		return;
	}
	if (ce->check_members)
		check_members(ce);
	if (ce->subs.head && roster_sync(ce, &changed) && changed)
		notify_partial(ce, NULL);
}

void event_conf_free(struct cconf *cc)
{
	struct cevent *ce = cc->ev;

	if (!ce)
		return;
	end_all(ce, "noresource");
	confinfo_free(ce->ci);
	cc->ev = NULL;
	mem_deref(ce);
}

/* ---- SUBSCRIBE -------------------------------------------------------------- */

/* Untrusted text for a log line: control characters become '?'. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void refuse(const struct sip_msg *msg, uint16_t code, const char *reason,
		   const char *why)
{
	char from[KMSC_MAX_ID];

	ev_refused++;
	(void)re_snprintf(from, sizeof(from), "%r", &msg->from.auri);
	printable(from);
	confd_log(CONFD_LOG_INFO, "event: SUBSCRIBE from %s (%s): %u %s: %s",
		  from, sip_transp_name(msg->tp), code, reason, why);
	(void)sip_treplyf(NULL, NULL, confd_g.sip, msg, false, code, reason,
			  "%sContent-Length: 0\r\n\r\n",
			  code == 489 ? "Allow-Events: conference\r\n" : "");
}

static bool secure_enough(const struct sip_msg *msg)
{
	return msg->tp == SIP_TRANSP_TLS || confd_g.cf->event_insecure;
}

static uint32_t expires_of(const struct sip_msg *msg)
{
	uint32_t e = pl_isset(&msg->expires) ? pl_u32(&msg->expires) :
					       EXPIRES_DFL;

	return e > EXPIRES_MAX ? EXPIRES_MAX : e;
}

static struct esub *sub_by_dialog(const struct sip_msg *msg)
{
	struct le *le, *se;

	for (le = confd_g.confs.head; le; le = le->next) {
		const struct cconf *cc = le->data;

		if (!cc->ev)
			continue;
		for (se = cc->ev->subs.head; se; se = se->next) {
			struct esub *s = se->data;

			if (sip_dialog_cmp(s->dlg, msg))
				return s;
		}
	}
	return NULL;
}

static void reply_expires(struct esub *s, const struct sip_msg *msg, uint32_t e)
{
	(void)sip_treplyf(NULL, NULL, confd_g.sip, msg, true, 200, "OK",
			  "Contact: %s\r\nExpires: %u\r\n"
			  "Content-Length: 0\r\n\r\n",
			  s->contact, e);
}

/* Refresh or unsubscribe in the subscription's dialog (RFC 6665 §4.2.1). */
static void in_dialog(const struct sip_msg *msg)
{
	struct esub *s = sub_by_dialog(msg);
	uint32_t e = expires_of(msg);
	struct mbuf *mb;

	if (!s) {
		refuse(msg, 481, "Subscription Does Not Exist",
		       "no such subscription");
		return;
	}
	if (!secure_enough(msg)) {
		refuse(msg, 403, "Forbidden", "event package requires TLS");
		return;
	}
	if (!sip_dialog_rseq_valid(s->dlg, msg)) {
		refuse(msg, 500, "Bad CSeq", "CSeq not increasing");
		return;
	}
	if (e && e < EXPIRES_MIN) {
		(void)sip_treplyf(NULL, NULL, confd_g.sip, msg, false, 423,
				  "Interval Too Brief",
				  "Min-Expires: %u\r\nContent-Length: "
				  "0\r\n\r\n",
				  EXPIRES_MIN);
		return;
	}
	reply_expires(s, msg, e);
	if (!e) {
		sub_end(s, "timeout", NULL); /* unsubscribe */
		return;
	}
	tmr_start(&s->tmr, (uint64_t)e * 1000, expire_h, s);
	mb = build(s->ce->ci, true);
	if (mb)
		send_notify(s, mb);
	mem_deref(mb);
}

/* The Target-Dialog (RFC 4538 §7) as the member's in-dialog request
 * would look to us: its tags swapped into From/To for sip_dialog_cmp. */
static bool target_dialog(const struct sip_msg *msg, struct sip_msg *td)
{
	const struct sip_hdr *h = sip_msg_xhdr(msg, "Target-Dialog");
	struct pl cid, params, lt, rt;

	if (!h || re_regex(h->val.p, h->val.l, "[^; \t]+[^]*", &cid, &params))
		return false;
	if (msg_param_decode(&params, "local-tag", &lt) ||
	    msg_param_decode(&params, "remote-tag", &rt))
		return false;
	memset(td, 0, sizeof(*td));
	td->req = true;
	td->callid = cid;
	td->from.tag = lt; /* the member's tag */
	td->to.tag = rt;   /* ours */
	return true;
}

static struct cconf *conf_of(const struct sip_msg *msg)
{
	uint32_t n;
	struct le *le;

	if (!sipglue_node_focus_match(confd_g.cf->factory, confd_g.cf->node,
				      msg->uri.user.p, msg->uri.user.l, &n))
		return NULL;
	for (le = confd_g.confs.head; le; le = le->next) {
		struct cconf *cc = le->data;

		if (cc->n == n && !cc->ended)
			return cc;
	}
	return NULL;
}

static bool event_ok(const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_EVENT);
	struct sipevent_event se;

	return h && !sipevent_event_decode(&se, &h->val) &&
	       !pl_strcasecmp(&se.event, "conference");
}

static bool accept_ok(const struct sip_msg *msg)
{
	return !sip_msg_hdr(msg, SIP_HDR_ACCEPT) ||
	       sip_msg_hdr_has_value(msg, SIP_HDR_ACCEPT, CONFINFO_MIME);
}

static struct esub *sub_new(struct cconf *cc, const struct sip_msg *msg,
			    const char *peer)
{
	char user[KMSC_MAX_ID];
	struct cevent *ce = cevent_get(cc);
	struct esub *s;

	if (!ce || list_count(&ce->subs) >= SUBS_MAX ||
	    sipglue_node_focus_user(confd_g.cf->factory, confd_g.cf->node,
				    cc->n, user, sizeof(user)))
		return NULL;
	s = mem_zalloc(sizeof(*s), NULL);
	if (!s)
		return NULL;
	if (sip_dialog_accept(&s->dlg, msg)) {
		mem_deref(s);
		return NULL;
	}
	(void)re_snprintf(s->contact, sizeof(s->contact), "<sip:%s@%J%s>", user,
			  &msg->dst, sip_transp_param(msg->tp));
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	s->ce = ce;
	ev_active++;
	list_append(&ce->subs, &s->le, s);
	return s;
}

static void subscribe(const struct sip_msg *msg)
{
	char from[KMSC_MAX_ID];
	struct sip_msg td;
	struct cconf *cc;
	struct esub *s;
	struct mbuf *mb;
	uint32_t e = expires_of(msg);
	bool changed;

	if (!secure_enough(msg)) {
		refuse(msg, 403, "Forbidden", "event package requires TLS");
		return;
	}
	if (!event_ok(msg)) {
		refuse(msg, 489, "Bad Event", "only Event: conference");
		return;
	}
	if (!accept_ok(msg)) {
		refuse(msg, 406, "Not Acceptable",
		       "Accept without " CONFINFO_MIME);
		return;
	}
	cc = conf_of(msg);
	if (!cc) {
		refuse(msg, 404, "Not Found", "no such conference");
		return;
	}
	(void)re_snprintf(from, sizeof(from), "%r", &msg->from.auri);
	if (!target_dialog(msg, &td) || !member_leg(cc, from, &td)) {
		refuse(msg, 403, "Forbidden",
		       "not a member's authenticated dialog");
		return;
	}
	if (e && e < EXPIRES_MIN) {
		(void)sip_treplyf(NULL, NULL, confd_g.sip, msg, false, 423,
				  "Interval Too Brief",
				  "Min-Expires: %u\r\nContent-Length: "
				  "0\r\n\r\n",
				  EXPIRES_MIN);
		return;
	}
	s = sub_new(cc, msg, from);
	if (!s) {
		refuse(msg, 503, "Service Unavailable", "no room");
		return;
	}
	tmr_start(&s->tmr, (uint64_t)(e ? e : 1) * 1000, expire_h, s);
	reply_expires(s, msg, e);
	if (msg->tp != SIP_TRANSP_TLS)
		confd_log(CONFD_LOG_WARN,
			  "event: subscription of %s over %s WITHOUT TLS "
			  "(event_insecure: test only)",
			  from, sip_transp_name(msg->tp));
	confd_log(CONFD_LOG_INFO,
		  "conference %s: %s subscribed to the conference event "
		  "package (expires %u)",
		  cc->focus, from, e);
	if (!e) { /* a fetch (RFC 6665 §4.4.3): one NOTIFY, terminated */
		if (roster_sync(cc->ev, &changed) &&
		    (mb = build(cc->ev->ci, true)) != NULL) {
			sub_end(s, "timeout", mb);
			mem_deref(mb);
		} else
			sub_end(s, "timeout", NULL);
		return;
	}
	if (!roster_sync(cc->ev, &changed) ||
	    (mb = build(cc->ev->ci, true)) == NULL) {
		sub_end(s, "noresource", NULL);
		return;
	}
	/* the others get the change this commit made, if any */
	if (changed)
		notify_partial(cc->ev, s);
	send_notify(s, mb);
	mem_deref(mb);
}

bool event_lsnr_h(const struct sip_msg *msg)
{
	if (pl_strcmp(&msg->met, "SUBSCRIBE"))
		return false;
	if (!rl_take(&msg->src)) {
		rl_refuse(msg);
		return true;
	}
	if (confd_g.closing) {
		(void)sip_treply(NULL, confd_g.sip, msg, 503, "Shutting Down");
		return true;
	}
	if (pl_isset(&msg->to.tag))
		in_dialog(msg);
	else
		subscribe(msg);
	return true;
}

void event_start(void)
{
	if (confd_g.cf->event_insecure)
		confd_log(CONFD_LOG_WARN, "event_insecure: the conference "
					  "event package is "
					  "served WITHOUT TLS (test only: "
					  "rosters and dialog "
					  "identifiers go in clear)");
}

void event_stats(uint64_t *active, uint64_t *notifies, uint64_t *refused)
{
	*active = ev_active;
	*notifies = ev_notifies;
	*refused = ev_refused;
}

void event_close(void)
{
	struct le *le;

	for (le = confd_g.confs.head; le; le = le->next)
		event_conf_free(le->data);
}
