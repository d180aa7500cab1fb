/*
 * rekey.c -- CSB updates by re-INVITE (D7, RFC 6043 §5.2) and the switch
 * signal: a map-only CSB update in an INFO once an epoch is in force.
 */
#include "sipint.h"

/* ---- rekey: CSB update by re-INVITE (D7) -------------------------------- */

static void ev_h(void *arg);

/* REKEY_ACK / REKEY_FAILED from a zero timer: the caller may be inside
 * libre's session callbacks or the core's action handler. */
void defer_rekey_ev(struct leg *l, enum conf_event_type type, uint32_t epoch)
{
	confd_ctr.reinvite_failures += type == CONF_EV_REKEY_FAILED;
	l->ev_type = type;
	l->ev_epoch = epoch;
	tmr_start(&l->ev_tmr, 0, ev_h, l);
}

/* ---- windows: requests in flight across all conferences -------------------
 * A rekey of a large conference would send every member its re-INVITE,
 * and then its switch INFO, at once: at 1,000 members most 200 OKs
 * overflowed the UDP receive buffer and came back only with the members'
 * retransmissions (+0.5, +1.5, +3.5 s), and 5,000 INFOs at once left
 * 5,000 finished transactions in libre's one sorted timer list (timer K,
 * 5 s), which every later timer start walked past (SDES joins right after
 * a 5,000-member rekey ran at 36/s). At most WINDOW of each are in
 * flight; the rest wait and go out as answers come in (64 and 32
 * measured alike: docs/PERFORMANCE.md "Rekey window", "Receive buffer
 * and switch window"). */
enum {
	WINDOW = 64
};

/* true: send now (a place is free, or the leg holds one); false: it
 * waits, for epoch or, if it waited already, for the newer one. */
static bool lwin_admit(struct lwin *w, struct lwin_slot *s, struct leg *l,
		       uint32_t epoch)
{
	if (s->epoch) {
		s->epoch = epoch;
		return false;
	}
	if (s->in || w->inflight < WINDOW)
		return true;
	s->leg = l;
	s->epoch = epoch;
	list_append(&w->wait, &s->le, s);
	return false;
}

/* The leg's request went out: it holds a place until lwin_release. */
static void lwin_take(struct lwin *w, struct lwin_slot *s)
{
	if (s->in)
		return;
	s->in = true;
	w->inflight++;
}

static void lwin_pump(struct lwin *w)
{
	while (w->inflight < WINDOW && w->wait.head) {
		struct lwin_slot *s = w->wait.head->data;
		struct leg *l = s->leg;
		uint32_t epoch = s->epoch;
		const struct conf_epoch_keys *e;

		list_unlink(&s->le);
		s->epoch = 0;
		if (l->dead || !l->member || !l->cc || l->cc->ended)
			continue;
		e = conf_epoch_keys(l->cc->core, epoch);
		if (e)
			w->send(l, e);
	}
}

/* The answer came, or the leg goes: out of the wait list, its place
 * (if it held one) to the next. */
static void lwin_release(struct lwin *w, struct lwin_slot *s)
{
	if (s->epoch) {
		list_unlink(&s->le);
		s->epoch = 0;
	}
	if (!s->in)
		return;
	s->in = false;
	w->inflight--;
	lwin_pump(w);
}

/* ---- the switch signal (D7) ------------------------------------------------
 * Every remaining member acknowledged epoch e (or the ack deadline removed
 * the others): tell each member to send under it now. The signal is a
 * map-only CSB update (RFC 6043 §5.2: no KEMAC, every CS re-mapped to the
 * epoch's MKI, V = 0), MAC-protected with the CSB's update keys and
 * ordered by T, in a SIP INFO (RFC 6086, Info-Package mikey-switch) to
 * members whose INVITE said Recv-Info: mikey-switch. The others switch by
 * their own rule (spec/3gpp-kms-conferencing.md §4.4 step 6). */

static bool switch_leg(struct leg *l, const struct conf_epoch_keys *e);

/* confd_g.sw_win's sender: the INFO holds a place until its answer. */
static void switch_send(struct leg *l, const struct conf_epoch_keys *e)
{
	if (switch_leg(l, e))
		lwin_take(&confd_g.sw_win, &l->sw_w);
}

void switch_window_release(struct leg *l)
{
	lwin_release(&confd_g.sw_win, &l->sw_w);
}

static void switch_resp_h(int err, const struct sip_msg *msg, void *arg)
{
	struct leg *l = arg;

	switch_window_release(l);

	if (err || !msg)
		confd_log(CONFD_LOG_WARN,
			  "conference %s: switch INFO to %s: %s", conf_name(l),
			  who(l), err ? strerror(err) : "no answer");
	else if (msg->scode >= 300)
		confd_log(CONFD_LOG_WARN,
			  "conference %s: switch INFO to %s: status %u",
			  conf_name(l), who(l), msg->scode);
}

/* The INFO to one member; false if none went out. */
static bool switch_leg(struct leg *l, const struct conf_epoch_keys *e)
{
	static uint8_t msg[KMSC_MAX_MSG];
	static struct kmsc_update u;
	const uint8_t spi[4] = { (uint8_t)(e->mki >> 24),
				 (uint8_t)(e->mki >> 16),
				 (uint8_t)(e->mki >> 8), (uint8_t)e->mki };
	struct kmsc_update_opts o = { .map_spi = spi, .map_spi_len = 4 };
	struct kmsc_env env = env_now();
	size_t n = 0;
	enum cc_err err;
	int serr;

	/* an update in flight will be followed by its own switch */
	if (l->upd_epoch || l->info_req || !l->sess)
		return false;
	err = kmsc_update_init(&l->csb, &o, &env, &u, msg, sizeof(msg), &n);
	kmsc_update_wipe(&u);
	if (err) {
		confd_log(CONFD_LOG_WARN,
			  "conference %s: switch for %s to epoch %" PRIu32 ": "
			  "%s",
			  conf_name(l), who(l), e->epoch, cc_strerror(err));
		return false;
	}
	serr = sip_drequestf(&l->info_req, confd_g.sip, true, "INFO",
			     sipsess_dialog(l->sess), 0, NULL, NULL,
			     switch_resp_h, l,
			     "Info-Package: mikey-switch\r\n"
			     "Content-Disposition: Info-Package\r\n"
			     "Content-Type: application/mikey\r\n"
			     "Content-Length: %zu\r\n\r\n%b",
			     n, msg, n);
	if (serr) {
		confd_log(CONFD_LOG_WARN,
			  "conference %s: switch INFO to %s: %s", conf_name(l),
			  who(l), strerror(serr));
		return false;
	}
	confd_log(CONFD_LOG_DEBUG,
		  "conference %s: %s: send under epoch %" PRIu32 " now (INFO)",
		  conf_name(l), who(l), e->epoch);
	return true;
}

void send_switch(struct cconf *cc, const struct conf_epoch_keys *e)
{
	struct le *le;
	size_t n = 0;

	for (le = confd_g.legs.head; le; le = le->next) {
		struct leg *l = le->data;

		if (l->cc != cc || !l->member || !l->established ||
		    !l->recv_switch)
			continue;
		n++;
		if (lwin_admit(&confd_g.sw_win, &l->sw_w, l, e->epoch))
			switch_send(l, e);
	}
	if (n)
		confd_log(CONFD_LOG_INFO,
			  "conference %s: epoch %" PRIu32 " in force: switch "
			  "signalled to %zu "
			  "member(s)",
			  cc->focus, e->epoch, n);
}

void rekey_windows_init(void)
{
	confd_g.upd_win.send = send_update;
	confd_g.sw_win.send = switch_send;
}

void rekey_window_release(struct leg *l)
{
	lwin_release(&confd_g.upd_win, &l->upd_w);
}

void send_update(struct leg *l, const struct conf_epoch_keys *e)
{
	static uint8_t init[KMSC_MAX_MSG];
	struct kmsc_key k;
	struct kmsc_update_opts o = { .supply = &k,
				      .nsupply = 1,
				      .want_resp = true };
	struct kmsc_env env = env_now();
	struct mbuf *mb = NULL;
	size_t n = 0;
	enum cc_err err;
	int serr;

	if (l->upd_epoch || l->ou || tmr_isrunning(&l->ev_tmr)) {
		/* one re-INVITE at a time per dialog (RFC 3261 §14.1), ours
		 * or the owner's allowed-set update: the newest waits */
		l->queued_epoch = e->epoch;
		confd_log(CONFD_LOG_DEBUG,
			  "conference %s: rekey epoch %" PRIu32 " for %s "
			  "waits for epoch %" PRIu32,
			  conf_name(l), e->epoch, who(l), l->upd_epoch);
		return;
	}
	if (!lwin_admit(&confd_g.upd_win, &l->upd_w, l, e->epoch))
		return;
	if (l->trust_sdes) {
		sdes_send_update(l, e);
		if (l->upd_epoch)
			lwin_take(&confd_g.upd_win, &l->upd_w);
		return;
	}
	epoch_kmsc_key(e, &k);
	err = kmsc_update_init(&l->csb, &o, &env, &l->upd, init, sizeof(init),
			       &n);
	cc_wipe(&k, sizeof(k));
	if (err) {
		confd_log(CONFD_LOG_WARN,
			  "conference %s: CSB update for %s: %s", conf_name(l),
			  who(l), cc_strerror(err));
		defer_rekey_ev(l, CONF_EV_REKEY_FAILED, e->epoch);
		return;
	}
	serr = build_sdp(l, init, n, &mb);
	cc_wipe(init, sizeof(init));
	if (!serr)
		serr = sipsess_modify(l->sess, mb);
	mem_deref(mb);
	if (serr) {
		confd_log(CONFD_LOG_WARN, "conference %s: re-INVITE to %s: %s",
			  conf_name(l), who(l), strerror(serr));
		kmsc_update_wipe(&l->upd);
		defer_rekey_ev(l, CONF_EV_REKEY_FAILED, e->epoch);
		return;
	}
	l->upd_epoch = e->epoch;
	lwin_take(&confd_g.upd_win, &l->upd_w);
	confd_log(CONFD_LOG_INFO,
		  "conference %s: rekey: re-INVITE to %s with epoch %" PRIu32
		  " (MKI 0x%08" PRIx32 ")",
		  conf_name(l), who(l), e->epoch, e->mki);
}

static void ev_h(void *arg)
{
	struct leg *l = arg;
	struct conf_event ev;
	const struct conf_epoch_keys *e;
	uint32_t q;

	if (!l->cc || !l->member || l->cc->ended)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = l->ev_type;
	ev.u.rekey = (struct conf_ev_rekey){ .member = l->mid,
					     .epoch = l->ev_epoch };
	mem_ref(l);
	cconf_feed(l->cc, &ev);
	q = l->queued_epoch;
	l->queued_epoch = 0;
	if (!l->dead && l->member && l->cc && q &&
	    (e = conf_epoch_keys(l->cc->core, q)) != NULL)
		send_update(l, e);
	mem_deref(l);
}

/* The 200 OK to our re-INVITE: its SDP answer must hold the update
 * TRANSFER_RESP for the update in flight. */
void rekey_answer(struct leg *l, const struct sip_msg *msg)
{
	static struct sipglue_km km;
	struct kmsc_env env = env_now();
	struct kmsc_status st;
	uint32_t epoch = l->upd_epoch;
	char buf[160];
	enum cc_err err;

	if (l->trust_sdes) {
		sdes_rekey_answer(l, msg);
		rekey_window_release(l);
		return;
	}
	l->upd_epoch = 0;
	rekey_window_release(l);
	err = sipglue_km_parse_mbuf(msg->mb, &km);
	if (!err)
		err = kmsc_update_resp_open(&l->csb, km.mikey, km.mikey_len,
					    &env, &l->upd, &st);
	kmsc_update_wipe(&l->upd);
	if (err) {
		confd_log(CONFD_LOG_INFO,
			  "conference %s: rekey epoch %" PRIu32 " refused by "
			  "%s: %s",
			  conf_name(l), epoch, who(l),
			  kmsc_status_str(&st, buf, sizeof(buf)));
		defer_rekey_ev(l, CONF_EV_REKEY_FAILED, epoch);
		return;
	}
	confd_log(CONFD_LOG_INFO,
		  "conference %s: %s acknowledged epoch %" PRIu32, conf_name(l),
		  who(l), epoch);
	defer_rekey_ev(l, CONF_EV_REKEY_ACK, epoch);
}
