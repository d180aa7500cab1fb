/*
 * test_conf.c -- the conference core (src/conf) against a model.
 *
 * The harness is the model: it tracks, from the actions alone, what each
 * member was sent (keys per epoch), which SSRCs are bound, which timers are
 * armed, who may join, and computes the exposure windows itself. After
 * EVERY event it checks the invariants of issue 4 §6:
 *   I1 a member who left never receives a key of any later epoch;
 *   I2 join=deferred: a joiner never receives a key of an epoch created
 *      before it joined;
 *   I3 two rekeys are never closer than min-rekey-interval, except a forced
 *      rekey for a COMPROMISED member (explicit, counted, tested);
 *   I4 when a rekey completes (SWITCH_MKI) every keyed member holds the
 *      new epoch, and no member sends under a retired MKI (the model's
 *      senders switch at SWITCH_MKI);
 *   I5 SSRCs are unique across the conference at every moment;
 *   I6 only identities in the allowed set (or the owner) are accepted;
 *   I7 only the owner changes the allowed set;
 * plus: epochs have fresh keys and MKI 0x80000000|e, retire only after
 * grace, stats agree with the model (exposure, reach, members, SSRCs).
 *
 * Property runs use a fixed seed (printed); CONF_TEST_SEED overrides it,
 * CONF_TEST_STEPS the number of events per policy combination.
 */
#include <conclave/conf.h>

#include "check.h"

#include <inttypes.h>
#include <stdarg.h>

/* ---- deterministic random ------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static enum cc_err test_rand(uint8_t *buf, size_t n, void *arg)
{
	uint64_t *s = arg;

	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)splitmix(s);
	return CC_OK;
}

/* ---- the model --------------------------------------------------------- */

#define NID 48       /* identities sip:u0..u47; u0 is the owner */
#define MAXSLOT 4096 /* > max_members of every run */
#define MAXEP 65536
#define MAXAG 4096
#define FACTORY "sip:factory.conf1@example.org"
#define FOCUS "sip:focus1.conf1@example.org"
static const uint32_t focus_ssrcs[] = { 7, 8 };

struct rec {
	bool present, active, deferred;
	conf_mid mid;
	int idn;
	uint32_t keys[8]; /* epochs received, increasing */
	size_t n_keys;
	uint32_t max_key;
	uint32_t send; /* epoch it sends under, 0 none */
	int64_t joined;
	uint64_t accept_seq;
	uint32_t ssrc[CONF_SSRC_MAX];
	size_t n_ssrc;
	uint32_t upd; /* epoch of an update not answered yet */
};

struct ep_info {
	int64_t created, switched, replaced;
	uint64_t created_seq;
	bool exists, retired, forced, forced_req;
	uint8_t tek[CONF_TEK_MAX];
};

struct ag { /* harness agenda: member answers, KMS answers, script */
	int64_t at;
	int prio; /* 0 answers, 2 script (core timers are 1) */
	uint64_t seq;
	struct conf_event ev;
	char idbuf[CONF_ID_MAX + 1];
	uint32_t ssrcs[CONF_SSRC_MAX + 2];
	uint8_t tek[16], salt[14];
};

struct model {
	struct conf *c;
	struct conf_policy pol;
	uint64_t core_rng, rng;
	int64_t now;
	uint64_t seq;
	bool scripted; /* answers instant, no loss */
	struct rec slot[MAXSLOT];
	struct ep_info *ep;
	uint32_t newest, cur;
	int64_t tmr[CONF_TIMER__COUNT];
	struct {
		int64_t left;
		uint32_t max_key;
	} uncut[MAXSLOT * 4];
	size_t n_uncut;
	int64_t max_expo, max_reach;
	uint32_t ssrc_v[MAXSLOT * CONF_SSRC_MAX];
	uint32_t ssrc_roc[MAXSLOT * CONF_SSRC_MAX];
	size_t n_ssrc;
	bool allowed[NID];
	uint32_t members;
	bool in_compromise, ended, ending;
	uint64_t forced, csb;
	/* the last REJECT / ACCEPT seen */
	int last_reject;
	conf_mid last_accept;
	struct ag ag[MAXAG];
	size_t n_ag;
	const char *ctx;
};

static struct model M;

#define MCHECK(expr)                                                          \
	do {                                                                  \
		if (!(expr)) {                                                \
			fprintf(stderr, "[%s t=%" PRId64 "] ", M.ctx, M.now); \
			CHECK(expr);                                          \
		}                                                             \
	} while (0)

static void idname(int n, char *buf, size_t cap)
{
	snprintf(buf, cap, "sip:u%d@example.org", n);
}

static int idnum(const char *id)
{
	int n;

	if (sscanf(id, "sip:u%d@example.org", &n) == 1 && n >= 0 && n < NID)
		return n;
	return -1;
}

static bool model_allowed(int idn)
{
	return idn == 0 || (idn > 0 && M.allowed[idn]);
}

static struct rec *rec_of(conf_mid mid)
{
	uint32_t s = (uint32_t)mid;

	if (s >= MAXSLOT || !M.slot[s].present || M.slot[s].mid != mid)
		return NULL;
	return &M.slot[s];
}

static size_t ssrc_find(uint32_t v)
{
	for (size_t i = 0; i < M.n_ssrc; i++) {
		if (M.ssrc_v[i] == v)
			return i;
	}
	return SIZE_MAX;
}

static void ssrc_del(uint32_t v)
{
	size_t i = ssrc_find(v);

	if (i == SIZE_MAX)
		return;
	M.n_ssrc--;
	M.ssrc_v[i] = M.ssrc_v[M.n_ssrc];
	M.ssrc_roc[i] = M.ssrc_roc[M.n_ssrc];
}

static void agenda(int64_t at, int prio, const struct conf_event *ev)
{
	struct ag *a;

	MCHECK(M.n_ag < MAXAG);
	if (M.n_ag >= MAXAG)
		return;
	a = &M.ag[M.n_ag++];
	memset(a, 0, sizeof(*a));
	a->at = at;
	a->prio = prio;
	a->seq = M.seq++;
	a->ev = *ev;
}

static int64_t rnd(uint64_t n)
{
	return n ? (int64_t)(splitmix(&M.rng) % n) : 0;
}

/* a member's answer to a CSB update: usually an ack, sometimes late,
 * sometimes never (deadline removal), sometimes 488 */
static void schedule_answer(conf_mid mid, uint32_t e)
{
	struct conf_event ev = { .type = CONF_EV_REKEY_ACK };
	int64_t d = 0;
	int r = (int)rnd(100);

	ev.u.rekey.member = mid;
	ev.u.rekey.epoch = e;
	if (!M.scripted) {
		if (r < 4)
			return; /* never answers */
		if (r < 6)
			ev.type = CONF_EV_REKEY_FAILED;
		d = r < 10 ? rnd((uint64_t)M.pol.ack_deadline * 2) : rnd(800);
	}
	agenda(M.now + d, 0, &ev);
}

static void key_received(struct rec *r, uint32_t e, const char *how)
{
	MCHECK(e >= 1 && e <= M.newest && M.ep[e].exists);
	MCHECK(!M.ep[e].retired);
	MCHECK(e > r->max_key); /* each key once, increasing */
	/* I2: deferred joiners get only epochs created after the join */
	if (r->deferred)
		MCHECK(M.ep[e].created_seq > r->accept_seq);
	if (r->n_keys == 8) {
		memmove(r->keys, r->keys + 1, 7 * sizeof(r->keys[0]));
		r->n_keys--;
	}
	r->keys[r->n_keys++] = e;
	r->max_key = e;
	(void)how;
}

static bool holds(const struct rec *r, uint32_t e)
{
	for (size_t i = 0; i < r->n_keys; i++) {
		if (r->keys[i] == e)
			return true;
	}
	return false;
}

/* ---- action handler: the model's view ------------------------------- */

static void on_accept(const struct conf_action *a)
{
	const struct conf_act_accept *acc = &a->u.accept;
	uint32_t s = (uint32_t)a->member;
	struct rec *r;
	int idn = idnum(acc->identity);

	MCHECK(s < MAXSLOT && !M.slot[s].present);
	if (s >= MAXSLOT)
		return;
	/* I6 */
	MCHECK(idn >= 0 && model_allowed(idn));
	r = &M.slot[s];
	memset(r, 0, sizeof(*r));
	r->present = true;
	r->mid = a->member;
	r->idn = idn;
	r->joined = M.now;
	r->accept_seq = M.seq++;
	r->deferred = M.pol.join == CONF_JOIN_DEFERRED;
	M.members++;
	M.last_accept = a->member;
	/* I5: assigned SSRCs are free and distinct */
	for (size_t i = 0; i < acc->n_ssrcs; i++) {
		MCHECK(ssrc_find(acc->ssrcs[i]) == SIZE_MAX);
		r->ssrc[r->n_ssrc++] = acc->ssrcs[i];
		M.ssrc_v[M.n_ssrc] = acc->ssrcs[i];
		M.ssrc_roc[M.n_ssrc++] = 0;
	}
	MCHECK(acc->n_active_ssrcs == M.n_ssrc + 2); /* + focus's */
	/* the epochs delivered: none (deferred), or current (+ pending) */
	if (r->deferred) {
		MCHECK(acc->n_epochs == 0);
	} else {
		size_t want = (M.cur ? 1 : 0) + (M.newest > M.cur ? 1 : 0);

		MCHECK(acc->n_epochs == want);
		if (acc->n_epochs == want && want) {
			MCHECK(acc->epochs[0]->epoch ==
			       (M.cur ? M.cur : M.newest));
			MCHECK(acc->epochs[want - 1]->epoch == M.newest);
		}
	}
	for (size_t i = 0; i < acc->n_epochs; i++)
		key_received(r, acc->epochs[i]->epoch, "accept");
	if (acc->n_epochs && M.cur && acc->epochs[0]->epoch == M.cur) {
		r->send = M.cur;
		if (M.now - M.ep[M.cur].switched > M.max_reach)
			M.max_reach = M.now - M.ep[M.cur].switched;
	}
	{
		struct conf_event ev = { .type = CONF_EV_JOIN_DONE };
		int64_t d = M.scripted ? 0 : rnd(400);

		ev.u.member = a->member;
		if (!M.scripted && rnd(100) < 4)
			ev.type = CONF_EV_JOIN_FAILED;
		agenda(M.now + d, 0, &ev);
	}
}

static void on_new_epoch(const struct conf_action *a)
{
	const struct conf_epoch_keys *k = a->u.epoch;
	uint32_t e = k->epoch;
	size_t tl, sl;

	MCHECK(e == M.newest + 1 && e < MAXEP);
	if (e >= MAXEP)
		return;
	conf_profile_sizes(M.pol.profile, &tl, &sl);
	MCHECK(k->tek_len == tl && k->salt_len == sl);
	MCHECK(k->mki == (0x80000000u | e) && k->profile == M.pol.profile);
	MCHECK(k->created == M.now && k->switched == -1);
	/* fresh key: not the previous epoch's */
	if (e > 1)
		MCHECK(memcmp(M.ep[e - 1].tek, k->tek, tl) != 0);
	memcpy(M.ep[e].tek, k->tek, tl);
	M.ep[e].exists = true;
	M.ep[e].created = M.now;
	M.ep[e].created_seq = M.seq++;
	M.ep[e].switched = -1;
	/* forced: made by a COMPROMISED event, directly or via the KMS */
	M.ep[e].forced = M.in_compromise || M.ep[e].forced_req;
	/* I3: rekeys (epochs > 1) are spaced by min-rekey-interval, except
	 * the forced one of a COMPROMISED event */
	if (e >= 3 && !M.ep[e].forced)
		MCHECK(M.now - M.ep[e - 1].created >= M.pol.min_rekey_interval);
	if (M.ep[e].forced)
		M.forced++;
	M.newest = e;
}

static void on_send_update(const struct conf_action *a)
{
	struct rec *r = rec_of(a->member);
	uint32_t e = a->u.epoch->epoch;

	/* I1: never to a departed (or unknown) member */
	MCHECK(r != NULL);
	if (!r)
		return;
	MCHECK(r->active); /* a re-INVITE needs an established dialog */
	MCHECK(e == M.newest);
	key_received(r, e, "update");
	r->upd = e;
	M.csb++;
	schedule_answer(a->member, e);
}

static void cut_leavers(uint32_t e)
{
	for (size_t i = 0; i < M.n_uncut;) {
		if (M.uncut[i].max_key < e) {
			if (M.now - M.uncut[i].left > M.max_expo)
				M.max_expo = M.now - M.uncut[i].left;
			M.uncut[i] = M.uncut[--M.n_uncut];
		} else {
			i++;
		}
	}
}

static void on_switch(const struct conf_action *a)
{
	uint32_t e = a->u.epoch->epoch;

	MCHECK(e == M.newest && e > M.cur);
	MCHECK(a->u.epoch->switched == M.now);
	/* I4: every keyed member holds the new epoch; unkeyed ones are
	 * deferred joiners waiting for their first epoch */
	for (uint32_t s = 0; s < MAXSLOT; s++) {
		struct rec *r = &M.slot[s];

		if (!r->present)
			continue;
		if (r->n_keys) {
			MCHECK(holds(r, e));
			r->send = e;
		} else {
			MCHECK(r->deferred || M.cur == 0);
		}
	}
	if (M.cur)
		M.ep[M.cur].replaced = M.now;
	M.ep[e].switched = M.now;
	M.cur = e;
	cut_leavers(e);
}

static void on_retire(const struct conf_action *a)
{
	uint32_t e = a->u.epoch->epoch;

	MCHECK(e < MAXEP && M.ep[e].exists && !M.ep[e].retired);
	if (e >= MAXEP)
		return;
	if (!M.ending) {
		MCHECK(e != M.cur);
		/* grace: receivers kept it long enough after the switch */
		if (M.ep[e].switched >= 0)
			MCHECK(M.now >= M.ep[e].replaced + M.pol.grace);
		/* I4: nobody sends under a retired MKI */
		for (uint32_t s = 0; s < MAXSLOT; s++)
			MCHECK(!M.slot[s].present || M.slot[s].send != e);
	}
	M.ep[e].retired = true;
}

static void on_drop(const struct conf_action *a)
{
	struct rec *r = rec_of(a->member);

	MCHECK(r != NULL);
	if (!r)
		return;
	if (r->max_key) {
		M.uncut[M.n_uncut].left = M.now;
		M.uncut[M.n_uncut++].max_key = r->max_key;
	}
	for (size_t i = 0; i < r->n_ssrc; i++)
		ssrc_del(r->ssrc[i]);
	r->present = false;
	M.members--;
}

static void on_action(const struct conf_action *a, void *arg)
{
	(void)arg;
	MCHECK(a->now == M.now);
	MCHECK(!M.ended || a->type == CONF_ACT_REJECT);
	switch (a->type) {
	case CONF_ACT_ACCEPT:
		on_accept(a);
		break;
	case CONF_ACT_REJECT:
		M.last_reject = (int)a->u.reject;
		MCHECK(conf_reject_sip_status(a->u.reject) >= 400);
		break;
	case CONF_ACT_NEW_EPOCH:
		on_new_epoch(a);
		break;
	case CONF_ACT_SEND_UPDATE:
		on_send_update(a);
		break;
	case CONF_ACT_SWITCH_MKI:
		on_switch(a);
		break;
	case CONF_ACT_RETIRE_EPOCH:
		on_retire(a);
		break;
	case CONF_ACT_DROP_MEDIA:
		on_drop(a);
		break;
	case CONF_ACT_REQUEST_KMS_KEYS: {
		struct conf_event ev = { .type = CONF_EV_KMS_KEYS };
		int64_t d = M.scripted ? 0 : rnd(1500);

		MCHECK(M.pol.keys == CONF_KEYS_KMS);
		MCHECK(a->u.kms_epoch > M.newest && a->u.kms_epoch < MAXEP);
		if (M.in_compromise && a->u.kms_epoch < MAXEP)
			M.ep[a->u.kms_epoch].forced_req = true;
		if (!M.scripted && rnd(100) < 10)
			break; /* lost: the core asks again */
		ev.u.kms.epoch = a->u.kms_epoch;
		agenda(M.now + d, 0, &ev);
		break;
	}
	case CONF_ACT_NOTIFY:
		if (a->u.notify.joined)
			MCHECK(rec_of(a->member) && rec_of(a->member)->active);
		MCHECK(a->u.notify.members == M.members);
		break;
	case CONF_ACT_SET_TIMER:
		MCHECK(a->u.timer.at >= M.now);
		M.tmr[a->u.timer.id] = a->u.timer.at;
		break;
	case CONF_ACT_CANCEL_TIMER:
		M.tmr[a->u.timer.id] = INT64_MIN;
		break;
	case CONF_ACT_END:
		MCHECK(M.ending);
		M.ended = true;
		/* media stops: every window still open closes now */
		cut_leavers(UINT32_MAX);
		break;
	default:
		MCHECK(!"unknown action");
	}
}

/* ---- after every event ------------------------------------------------ */

static void post_check(void)
{
	struct conf_stats st;

	conf_stats(M.c, M.now, &st);
	MCHECK(st.members == M.members);
	MCHECK(st.ssrcs == M.n_ssrc + 2); /* + the focus's own */
	MCHECK(st.max_leave_exposure == M.max_expo);
	MCHECK(st.max_join_reach == M.max_reach);
	MCHECK(st.epoch_current == M.cur || M.ended);
	MCHECK(st.csb_updates == M.csb);
	MCHECK(st.forced_rekeys == M.forced);
	if (M.ended)
		return;
	/* I6/I7: the core's allowed set is the model's */
	for (int i = 0; i < NID; i++) {
		char id[64];

		idname(i, id, sizeof(id));
		MCHECK(conf_is_allowed(M.c, id) == model_allowed(i));
	}
	MCHECK(!conf_is_allowed(M.c, FACTORY) && !conf_is_allowed(M.c, FOCUS));
	/* I5 + D6 binding: each model SSRC is bound to its member */
	for (uint32_t s = 0; s < MAXSLOT; s++) {
		const struct rec *r = &M.slot[s];

		if (!r->present)
			continue;
		MCHECK(model_allowed(r->idn)); /* disallowed ones removed */
		/* I4: nobody sends under a retired MKI */
		MCHECK(!r->send || !M.ep[r->send].retired);
		for (size_t i = 0; i < r->n_ssrc; i++) {
			conf_mid o = 0;

			MCHECK(conf_ssrc_owner(M.c, r->ssrc[i], &o) &&
			       o == r->mid);
		}
	}
	if (M.cur)
		MCHECK(conf_epoch_keys(M.c, M.cur) != NULL);
}

static void feed(const struct conf_event *ev_in, enum cc_err want)
{
	struct conf_event ev = *ev_in;
	enum cc_err err;

	ev.now = M.now;
	M.in_compromise = ev.type == CONF_EV_COMPROMISED;
	err = conf_handle(M.c, &ev);
	M.in_compromise = false;
	if (err != want)
		fprintf(stderr, "[%s t=%" PRId64 "] %s: %s, want %s\n", M.ctx,
			M.now, conf_event_name(ev.type), cc_strerror(err),
			cc_strerror(want));
	MCHECK(err == want);
	post_check();
}

/* an agenda answer about a member may have become stale */
static enum cc_err expect_for(const struct conf_event *ev)
{
	struct rec *r;

	switch (ev->type) {
	case CONF_EV_JOIN_DONE:
	case CONF_EV_JOIN_FAILED:
		r = rec_of(ev->u.member);
		return r && !r->active ? CC_OK : CC_ERR_NOT_FOUND;
	case CONF_EV_REKEY_ACK:
	case CONF_EV_REKEY_FAILED:
		return rec_of(ev->u.rekey.member) ? CC_OK : CC_ERR_NOT_FOUND;
	case CONF_EV_KMS_KEYS:
		return ev->u.kms.epoch == M.newest + 1 ? CC_OK : CC_ERR_INVAL;
	default:
		return CC_OK;
	}
}

static void run_agenda_item(size_t i)
{
	struct ag a = M.ag[i];
	struct conf_event *ev = &a.ev;
	struct rec *r;
	enum cc_err want = expect_for(ev);

	M.ag[i] = M.ag[--M.n_ag];
	if (ev->type == CONF_EV_JOIN_DONE || ev->type == CONF_EV_JOIN_FAILED) {
		r = rec_of(ev->u.member);
		if (r && ev->type == CONF_EV_JOIN_DONE)
			r->active = true; /* before the core's SEND_UPDATE */
	}
	if (ev->type == CONF_EV_KMS_KEYS) {
		size_t tl, sl;

		conf_profile_sizes(M.pol.profile, &tl, &sl);
		for (size_t k = 0; k < tl; k++)
			a.tek[k] = (uint8_t)splitmix(&M.rng);
		for (size_t k = 0; k < sl; k++)
			a.salt[k] = (uint8_t)splitmix(&M.rng);
		ev->u.kms.tek = a.tek;
		ev->u.kms.tek_len = tl;
		ev->u.kms.salt = a.salt;
		ev->u.kms.salt_len = sl;
	}
	if (ev->type == CONF_EV_JOIN_REQUEST) {
		ev->u.join.identity = a.idbuf;
		ev->u.join.ssrcs = a.ssrcs;
	}
	feed(ev, want);
}

/* Advance to `until`, serving answers (prio 0), core timers (prio 1) and
 * script items (prio 2) in (time, prio, seq) order. */
static void advance(int64_t until)
{
	for (;;) {
		int64_t best_t = INT64_MAX;
		int best_p = 9, best_tmr = -1;
		size_t best_i = SIZE_MAX;
		uint64_t best_s = UINT64_MAX;

		for (size_t i = 0; i < M.n_ag; i++) {
			const struct ag *g = &M.ag[i];

			if (g->at < best_t ||
			    (g->at == best_t &&
			     (g->prio < best_p ||
			      (g->prio == best_p && g->seq < best_s)))) {
				best_t = g->at;
				best_p = g->prio;
				best_s = g->seq;
				best_i = i;
			}
		}
		for (int id = 1; id < CONF_TIMER__COUNT; id++) {
			int64_t t = M.tmr[id];

			if (t == INT64_MIN)
				continue;
			if (t < best_t || (t == best_t && 1 < best_p)) {
				best_t = t;
				best_p = 1;
				best_tmr = id;
			}
		}
		if (best_t > until || best_t == INT64_MAX)
			break;
		if (best_t > M.now)
			M.now = best_t;
		if (best_p == 1) {
			struct conf_event ev = { .type = CONF_EV_TIMER };

			ev.u.timer = (enum conf_timer)best_tmr;
			M.tmr[best_tmr] = INT64_MIN;
			feed(&ev, CC_OK);
		} else {
			run_agenda_item(best_i);
		}
	}
	if (until > M.now)
		M.now = until;
}

/* ---- setting up a run ------------------------------------------------- */

static void model_start(const struct conf_policy *pol, uint64_t seed,
			const char *ctx, bool scripted)
{
	const char *allowed[NID + 2];
	char names[NID][64];
	size_t n = 0;
	struct conf_event ev = { .type = CONF_EV_CREATED };

	free(M.ep);
	memset(&M, 0, sizeof(M));
	M.ep = calloc(MAXEP, sizeof(*M.ep));
	M.pol = *pol;
	M.rng = seed;
	M.core_rng = seed ^ 0x5eed;
	M.ctx = ctx;
	M.scripted = scripted;
	M.now = 0;
	for (int i = 0; i < CONF_TIMER__COUNT; i++)
		M.tmr[i] = INT64_MIN;
	CHECK_OK(conf_new(&M.c, on_action, NULL, test_rand, &M.core_rng));
	allowed[n++] = FOCUS; /* the ticket names the focus too (D3) */
	for (int i = 1; i < NID; i++) {
		idname(i, names[i], sizeof(names[i]));
		M.allowed[i] = scripted || rnd(100) < 70;
		if (M.allowed[i])
			allowed[n++] = names[i];
	}
	allowed[n++] = FACTORY;
	idname(0, names[0], sizeof(names[0]));
	ev.u.created = (struct conf_ev_created){
		.creator = names[0],
		.factory = FACTORY,
		.focus = FOCUS,
		.allowed = allowed,
		.n_allowed = n,
		.policy = pol,
		.focus_ssrcs = focus_ssrcs,
		.n_focus_ssrcs = 2,
	};
	M.ssrc_v[0] = 7;
	M.ssrc_v[1] = 8;
	M.n_ssrc = 0; /* focus SSRCs are counted apart (post_check) */
	feed(&ev, CC_OK);
}

static struct conf_stats total; /* summed over the property runs */

static void model_end(void)
{
	struct conf_event ev = { .type = CONF_EV_ENDED };
	struct conf_stats st;

	M.ending = true;
	feed(&ev, CC_OK);
	conf_stats(M.c, M.now, &st);
	MCHECK(M.ended);
	MCHECK(st.max_leave_exposure == M.max_expo);
	MCHECK(st.members == 0 && st.open_leave_exposure == 0);
	for (uint32_t e = 1; e <= M.newest; e++)
		MCHECK(M.ep[e].retired); /* every key wiped */
	/* after END a join is refused with 410 */
	{
		struct conf_event j = { .type = CONF_EV_JOIN_REQUEST };

		j.u.join.identity = "sip:u0@example.org";
		M.last_reject = 0;
		feed(&j, CC_OK);
		MCHECK(M.last_reject == CONF_REJ_ENDED);
		MCHECK(conf_reject_sip_status(CONF_REJ_ENDED) == 410);
	}
	conf_free(M.c);
	M.c = NULL;
}

/* ---- random events ---------------------------------------------------- */

static struct rec *random_member(bool keyed_only)
{
	uint32_t live[MAXSLOT];
	size_t n = 0;

	for (uint32_t s = 0; s < MAXSLOT; s++) {
		if (M.slot[s].present && (!keyed_only || M.slot[s].max_key))
			live[n++] = s;
	}
	return n ? &M.slot[live[rnd(n)]] : NULL;
}

static void random_join(void)
{
	struct conf_event ev = { .type = CONF_EV_JOIN_REQUEST };
	char id[CONF_ID_MAX + 8];
	uint32_t ssrcs[CONF_SSRC_MAX + 2];
	int idn = (int)rnd(NID), r = (int)rnd(100), want = 0;
	size_t n = (size_t)rnd(4);

	idname(idn, id, sizeof(id));
	if (r < 4) {
		snprintf(id, sizeof(id), "%s", r < 2 ? FOCUS : FACTORY);
		idn = -1;
	}
	if (r == 5) {
		id[0] = 0;
		idn = -2;
	}
	if (r == 6)
		n = CONF_SSRC_MAX + 1;
	for (size_t i = 0; i < n; i++)
		ssrcs[i] = (uint32_t)rnd(48); /* small space: collisions */
	ev.u.join.identity = id;
	ev.u.join.ssrcs = ssrcs;
	ev.u.join.n_ssrcs = n;
	ev.u.join.via = (enum conf_via)rnd(3);
	ev.u.join.cookie = M.seq;
	if (idn == -2)
		want = CONF_REJ_BAD_REQUEST;
	else if (n > M.pol.max_ssrcs_per_member)
		want = CONF_REJ_TOO_MANY_SSRCS;
	else if (idn < 0 || !model_allowed(idn))
		want = CONF_REJ_NOT_ALLOWED;
	else if (M.members >= M.pol.max_members)
		want = CONF_REJ_FULL;
	M.last_reject = 0;
	M.last_accept = 0;
	feed(&ev, CC_OK);
	MCHECK(M.last_reject == want);
	MCHECK(want ? M.last_accept == 0 : M.last_accept != 0);
	if (!want) {
		/* D6: an offered SSRC that was free is kept */
		struct rec *rc = rec_of(M.last_accept);

		MCHECK(rc && rc->n_ssrc == n);
	}
}

static void random_allowed(void)
{
	struct conf_event ev = { .type = CONF_EV_ALLOWED_SET };
	const char *ids[NID + 2];
	char names[NID][64];
	bool next[NID] = { false };
	size_t n = 0;
	int r = (int)rnd(100);
	bool owner = r >= 30, only_focus = r >= 30 && r < 45;

	idname(owner ? 0 : 1 + (int)rnd(NID - 1), names[0], sizeof(names[0]));
	ev.u.allowed.by = names[0];
	ids[n++] = FOCUS;
	if (!only_focus) {
		for (int i = 1; i < NID; i++) {
			next[i] = rnd(100) < 75;
			idname(i, names[i], sizeof(names[i]));
			if (next[i])
				ids[n++] = names[i];
		}
	}
	ev.u.allowed.allowed = ids;
	ev.u.allowed.n_allowed = n;
	if (owner && !only_focus && n > 1)
		memcpy(M.allowed, next, sizeof(next));
	/* I7: anyone but the owner is refused; state unchanged */
	feed(&ev, owner ? CC_OK : CC_ERR_NOT_AUTHORISED);
}

static void random_event(void)
{
	int r = (int)rnd(1000);
	struct conf_event ev = { 0 };
	struct rec *m;

	if (r < 330) {
		random_join();
	} else if (r < 480 && (m = random_member(false))) {
		ev.type = rnd(4) ? CONF_EV_LEAVE : CONF_EV_LOST;
		ev.u.member = m->mid;
		feed(&ev, CC_OK);
	} else if (r < 520) {
		random_allowed();
	} else if (r < 580 && M.n_ssrc) {
		size_t i = (size_t)rnd(M.n_ssrc);
		uint32_t roc = 0;

		ev.type = CONF_EV_MEDIA_ROC;
		ev.u.roc.ssrc = M.ssrc_v[i];
		ev.u.roc.roc = M.ssrc_roc[i] + 1;
		feed(&ev, CC_OK);
		M.ssrc_roc[i]++;
		MCHECK(conf_ssrc_roc(M.c, M.ssrc_v[i], &roc) &&
		       roc == M.ssrc_roc[i]);
	} else if (r < 590 && (m = random_member(true))) {
		ev.type = CONF_EV_COMPROMISED;
		ev.u.member = m->mid;
		feed(&ev, CC_OK);
	} else if (r < 600) {
		/* a stale id: slot past any member, or a wrong generation */
		ev.type = CONF_EV_LEAVE;
		ev.u.member = ((conf_mid)77 << 32) | (MAXSLOT - 1);
		feed(&ev, CC_ERR_NOT_FOUND);
		ev.type = CONF_EV_MEDIA_ROC;
		ev.u.roc.ssrc = 0xdeadbeef;
		feed(&ev, ssrc_find(0xdeadbeef) == SIZE_MAX ? CC_ERR_NOT_FOUND :
							      CC_OK);
	}
}

static void run_random(const struct conf_policy *pol, uint64_t seed, int steps,
		       const char *ctx)
{
	model_start(pol, seed, ctx, false);
	for (int i = 0; i < steps && !check_failures; i++) {
		int64_t dt = rnd(10) ? rnd(400) : rnd(9000);

		advance(M.now + dt);
		random_event();
	}
	advance(M.now + 30000); /* let every rollout finish */
	{
		struct conf_stats st;

		conf_stats(M.c, M.now, &st);
		total.rekeys += st.rekeys;
		total.forced_rekeys += st.forced_rekeys;
		total.csb_updates += st.csb_updates;
		total.joins += st.joins;
		total.rejects += st.rejects;
		total.removals += st.removals;
		total.removed_no_ack += st.removed_no_ack;
		if (st.max_leave_exposure > total.max_leave_exposure)
			total.max_leave_exposure = st.max_leave_exposure;
	}
	model_end();
}

static const unsigned rekey_ons[] = { CONF_REKEY_NONE, CONF_REKEY_JOIN,
				      CONF_REKEY_LEAVE, CONF_REKEY_JOIN_LEAVE };
static const char *const rekey_names[] = { "none", "join", "leave",
					   "join,leave" };
static const int64_t mins[] = { 0, 1000, 5000 };

static void test_properties(uint64_t seed, int steps)
{
	char ctx[160];
	int k = 0;

	for (int ro = 0; ro < 4; ro++)
		for (int j = 0; j < 2; j++)
			for (int mi = 0; mi < 3; mi++)
				for (int ks = 0; ks < 2; ks++, k++) {
					struct conf_policy p;

					conf_policy_default(&p);
					p.rekey_on = rekey_ons[ro];
					p.join = (enum conf_join)j;
					p.min_rekey_interval = mins[mi];
					p.keys = (enum conf_keysrc)ks;
					p.profile =
						(enum conf_profile)(k / 2 % 2);
					p.max_epoch_age = k % 3 ? 0 : 20000;
					p.grace = k % 4 == 0 ? 0 : 2000;
					p.ack_deadline = 3000;
					p.max_members = 24 + (uint32_t)k;
					p.max_ssrcs_per_member = 3;
					snprintf(ctx, sizeof(ctx),
						 "seed=%" PRIu64 " rekey-on=%s "
						 "join=%s min=%" PRId64 " keys="
						 "%s",
						 seed, rekey_names[ro],
						 j ? "deferred" : "immediate",
						 mins[mi],
						 ks ? "kms" : "focus");
					run_random(&p, seed + (uint64_t)k,
						   steps, ctx);
					if (check_failures)
						return;
				}
}

/* ---- table: each policy combination on one hand-made scenario ---------- */

/* A joins at 1 s, B at 1.5 s, C at 1.7 s, A leaves at 2.5 s, B at 3 s,
 * END at 20 s; answers are instant. Expected numbers derived by hand in
 * docs/CONFERENCE.md §5. */
struct row {
	unsigned rekey_on;
	enum conf_join join;
	int64_t min;
	uint64_t rekeys;
	int64_t expo, reach;
};

static const struct row table[] = {
	{ CONF_REKEY_NONE, CONF_JOIN_IMMEDIATE, 0, 0, 17500, 1700 },
	{ CONF_REKEY_NONE, CONF_JOIN_IMMEDIATE, 1000, 0, 17500, 1700 },
	{ CONF_REKEY_NONE, CONF_JOIN_IMMEDIATE, 5000, 0, 17500, 1700 },
	{ CONF_REKEY_NONE, CONF_JOIN_DEFERRED, 0, 3, 17500, 0 },
	{ CONF_REKEY_NONE, CONF_JOIN_DEFERRED, 1000, 2, 17500, 0 },
	{ CONF_REKEY_NONE, CONF_JOIN_DEFERRED, 5000, 2, 3500, 0 },
	{ CONF_REKEY_JOIN, CONF_JOIN_IMMEDIATE, 0, 3, 17500, 1000 },
	{ CONF_REKEY_JOIN, CONF_JOIN_IMMEDIATE, 1000, 2, 17500, 1000 },
	{ CONF_REKEY_JOIN, CONF_JOIN_IMMEDIATE, 5000, 2, 3500, 1000 },
	{ CONF_REKEY_JOIN, CONF_JOIN_DEFERRED, 0, 3, 17500, 0 },
	{ CONF_REKEY_JOIN, CONF_JOIN_DEFERRED, 1000, 2, 17500, 0 },
	{ CONF_REKEY_JOIN, CONF_JOIN_DEFERRED, 5000, 2, 3500, 0 },
	{ CONF_REKEY_LEAVE, CONF_JOIN_IMMEDIATE, 0, 2, 0, 1700 },
	{ CONF_REKEY_LEAVE, CONF_JOIN_IMMEDIATE, 1000, 2, 500, 1700 },
	{ CONF_REKEY_LEAVE, CONF_JOIN_IMMEDIATE, 5000, 2, 4500, 1700 },
	{ CONF_REKEY_LEAVE, CONF_JOIN_DEFERRED, 0, 5, 0, 0 },
	{ CONF_REKEY_LEAVE, CONF_JOIN_DEFERRED, 1000, 4, 1000, 0 },
	{ CONF_REKEY_LEAVE, CONF_JOIN_DEFERRED, 5000, 2, 3500, 0 },
	{ CONF_REKEY_JOIN_LEAVE, CONF_JOIN_IMMEDIATE, 0, 5, 0, 1000 },
	{ CONF_REKEY_JOIN_LEAVE, CONF_JOIN_IMMEDIATE, 1000, 4, 1000, 1000 },
	{ CONF_REKEY_JOIN_LEAVE, CONF_JOIN_IMMEDIATE, 5000, 2, 3500, 1000 },
	{ CONF_REKEY_JOIN_LEAVE, CONF_JOIN_DEFERRED, 0, 5, 0, 0 },
	{ CONF_REKEY_JOIN_LEAVE, CONF_JOIN_DEFERRED, 1000, 4, 1000, 0 },
	{ CONF_REKEY_JOIN_LEAVE, CONF_JOIN_DEFERRED, 5000, 2, 3500, 0 },
};

static conf_mid script_join(int64_t at, int idn, uint32_t ssrc)
{
	struct conf_event ev = { .type = CONF_EV_JOIN_REQUEST };
	char id[64];
	uint32_t s[1] = { ssrc };

	advance(at);
	idname(idn, id, sizeof(id));
	ev.u.join.identity = id;
	ev.u.join.ssrcs = s;
	ev.u.join.n_ssrcs = 1;
	M.last_accept = 0;
	feed(&ev, CC_OK);
	MCHECK(M.last_accept != 0);
	advance(at); /* instant answers */
	return M.last_accept;
}

static void script_member(int64_t at, enum conf_event_type t, conf_mid m,
			  enum cc_err want)
{
	struct conf_event ev = { .type = t };

	advance(at);
	ev.u.member = m;
	feed(&ev, want);
	advance(at);
}

static void test_table(void)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct row *w = &table[i];
		struct conf_policy p;
		struct conf_stats st;
		conf_mid a, b;
		char ctx[96];

		conf_policy_default(&p);
		p.rekey_on = w->rekey_on;
		p.join = w->join;
		p.min_rekey_interval = w->min;
		snprintf(ctx, sizeof(ctx), "table row %zu", i);
		model_start(&p, 1, ctx, true);
		a = script_join(1000, 1, 100);
		b = script_join(1500, 2, 200);
		(void)script_join(1700, 3, 300);
		script_member(2500, CONF_EV_LEAVE, a, CC_OK);
		script_member(3000, CONF_EV_LEAVE, b, CC_OK);
		advance(20000);
		conf_stats(M.c, M.now, &st);
		model_end();
		if (st.rekeys != w->rekeys || M.max_expo != w->expo ||
		    st.max_join_reach != w->reach) {
			fprintf(stderr,
				"%s: rekeys %" PRIu64 " expo %" PRId64
				" reach %" PRId64 ", want %" PRIu64 " %" PRId64
				" %" PRId64 "\n",
				ctx, st.rekeys, M.max_expo, st.max_join_reach,
				w->rekeys, w->expo, w->reach);
			check_failures++;
		}
	}
}

/* ---- focused scenarios ------------------------------------------------ */

static struct conf_policy pol_with(unsigned rekey_on, enum conf_join j,
				   int64_t min)
{
	struct conf_policy p;

	conf_policy_default(&p);
	p.rekey_on = rekey_on;
	p.join = j;
	p.min_rekey_interval = min;
	return p;
}

/* I3's exception: COMPROMISED forces a rekey inside the interval; an
 * ordinary leave at the same moment waits for the interval. */
static void test_compromised(void)
{
	struct conf_policy p =
		pol_with(CONF_REKEY_JOIN_LEAVE, CONF_JOIN_IMMEDIATE, 5000);
	struct conf_stats st;
	conf_mid a, b, c;

	model_start(&p, 2, "compromised", true);
	a = script_join(1000, 1, 1); /* epoch 2 at 1000 */
	b = script_join(1100, 2, 2); /* due at 6000 */
	c = script_join(1200, 3, 3);
	advance(6000);
	MCHECK(M.newest == 3 && M.ep[3].created == 6000);
	script_member(6500, CONF_EV_LEAVE, a, CC_OK);
	MCHECK(M.newest == 3); /* an ordinary leave waits until 11000 */
	script_member(7000, CONF_EV_COMPROMISED, b, CC_OK);
	MCHECK(M.newest == 4 && M.ep[4].created == 7000 && M.ep[4].forced);
	MCHECK(M.cur == 4); /* instant acks: switched at once */
	conf_stats(M.c, M.now, &st);
	MCHECK(st.forced_rekeys == 1 && st.rekeys == 3);
	MCHECK(st.min_rekey_gap == 5000); /* forced gap not counted */
	/* the forced rekey also cut off the earlier leaver */
	MCHECK(M.max_expo == 500);
	/* the next ordinary rekey is spaced from the forced one */
	script_member(7100, CONF_EV_LEAVE, c, CC_OK);
	advance(11999);
	MCHECK(M.newest == 4);
	advance(12000);
	MCHECK(M.newest == 5 && M.ep[5].created == 12000);
	/* a compromised member holding nothing forces nothing */
	{
		struct conf_policy q =
			pol_with(CONF_REKEY_NONE, CONF_JOIN_DEFERRED, 5000);

		model_end();
		model_start(&q, 3, "compromised-unkeyed", true);
		a = script_join(1000, 1, 1); /* epoch 2 at 1000 */
		b = script_join(1500, 2, 2); /* waits for 6000 */
		script_member(2000, CONF_EV_COMPROMISED, b, CC_OK);
		MCHECK(M.newest == 2 && M.forced == 0);
		(void)a;
	}
	model_end();
}

/* A member that does not answer a CSB update by the deadline is removed
 * before the switch, and that removal is a leave (another rekey). */
static void test_ack_deadline(void)
{
	struct conf_policy p =
		pol_with(CONF_REKEY_JOIN_LEAVE, CONF_JOIN_IMMEDIATE, 1000);
	struct conf_stats st;
	struct conf_event ev = { .type = CONF_EV_JOIN_REQUEST };
	conf_mid a;

	p.ack_deadline = 2000;
	p.grace = 500;
	model_start(&p, 4, "ack-deadline", true);
	a = script_join(1000, 1, 1); /* epoch 2, A acks (instant) */
	M.scripted = false;          /* from now on answers are random */
	M.rng = 12345;
	/* make A silent: drop every agenda answer about it */
	advance(1500);
	ev.u.join.identity = "sip:u2@example.org";
	feed(&ev, CC_OK); /* B joins; rekey 3 due at 2000 */
	for (size_t i = 0; i < M.n_ag; i++) {
		if (M.ag[i].ev.type == CONF_EV_JOIN_DONE)
			M.ag[i].at = M.now; /* B completes its join */
	}
	advance(1500);
	advance(2000); /* epoch 3 created; updates sent */
	MCHECK(M.newest == 3);
	for (size_t i = 0; i < M.n_ag;) {
		if (M.ag[i].ev.type == CONF_EV_REKEY_ACK &&
		    M.ag[i].ev.u.rekey.member == a)
			M.ag[i] = M.ag[--M.n_ag]; /* A never answers */
		else if (M.ag[i].ev.type == CONF_EV_REKEY_FAILED)
			M.ag[i].ev.type = CONF_EV_REKEY_ACK;
		else
			M.ag[i++].at = 2100; /* B answers at 2100 */
	}
	advance(2100);
	MCHECK(M.cur == 2 && rec_of(a)); /* still waiting for A */
	advance(3999);
	MCHECK(M.cur == 2);
	advance(4000); /* deadline: A removed, then switch to 3 */
	MCHECK(M.cur == 3 && !rec_of(a));
	conf_stats(M.c, M.now, &st);
	MCHECK(st.removed_no_ack == 1);
	/* A was sent epoch 3: a leave rekey (4) follows at once
	 * (3 was created at 2000, the interval is 1000) */
	MCHECK(M.newest == 4 && M.ep[4].created == 4000);
	advance(10000);
	model_end();
}

static void test_allowed_set(void)
{
	struct conf_policy p =
		pol_with(CONF_REKEY_LEAVE, CONF_JOIN_IMMEDIATE, 0);
	struct conf_event ev = { .type = CONF_EV_ALLOWED_SET };
	const char *only_focus[] = { FOCUS, FACTORY };
	const char *two[] = { FOCUS, "sip:u1@example.org",
			      "sip:u5@example.org" };
	const char *bad[] = { "" };
	conf_mid m1, m2, m0;

	model_start(&p, 5, "allowed", true);
	m1 = script_join(100, 1, 1);
	m2 = script_join(200, 2, 2);
	m0 = script_join(300, 0, 3); /* the owner */
	/* I7: a member that is not the owner cannot change the set */
	ev.u.allowed.by = "sip:u1@example.org";
	ev.u.allowed.allowed = two;
	ev.u.allowed.n_allowed = 3;
	feed(&ev, CC_ERR_NOT_AUTHORISED);
	MCHECK(conf_is_allowed(M.c, "sip:u3@example.org"));
	/* seed 000: a ticket naming only the focus changes nothing */
	ev.u.allowed.by = "sip:u0@example.org";
	ev.u.allowed.allowed = only_focus;
	ev.u.allowed.n_allowed = 2;
	feed(&ev, CC_OK);
	MCHECK(conf_is_allowed(M.c, "sip:u3@example.org"));
	/* malformed entries are refused whole */
	ev.u.allowed.allowed = bad;
	ev.u.allowed.n_allowed = 1;
	feed(&ev, CC_ERR_INVAL);
	/* the owner narrows the set: u2 is removed (a leave: rekey) */
	memset(M.allowed, 0, sizeof(M.allowed));
	M.allowed[1] = M.allowed[5] = true;
	ev.u.allowed.allowed = two;
	ev.u.allowed.n_allowed = 3;
	advance(400);
	feed(&ev, CC_OK);
	MCHECK(rec_of(m1) && !rec_of(m2) && rec_of(m0));
	MCHECK(conf_is_allowed(M.c, "sip:u0@example.org")); /* owner */
	MCHECK(!conf_is_allowed(M.c, "sip:u3@example.org"));
	MCHECK(!conf_is_allowed(M.c, FOCUS));
	MCHECK(strcmp(conf_owner(M.c), "sip:u0@example.org") == 0);
	MCHECK(conf_reject_sip_status(CONF_REJ_NOT_ALLOWED) == 403);
	advance(1000);
	model_end();
}

struct roc_seen {
	uint32_t ssrc, roc;
	conf_mid owner;
	int n;
};

static void roc_visit(uint32_t ssrc, uint32_t roc, conf_mid owner, void *arg)
{
	struct roc_seen *s = arg;

	s->n++;
	if (ssrc == s->ssrc) {
		s->roc = roc;
		s->owner = owner;
	}
}

static int rej_seen;

static void rej_action(const struct conf_action *a, void *arg)
{
	(void)arg;
	if (a->type == CONF_ACT_REJECT)
		rej_seen = (int)a->u.reject;
}

static enum cc_err const_rand(uint8_t *buf, size_t n, void *arg)
{
	(void)arg;
	memset(buf, 0, n); /* always SSRC 0 */
	return CC_OK;
}

static void test_ssrc(void)
{
	struct conf_policy p =
		pol_with(CONF_REKEY_NONE, CONF_JOIN_IMMEDIATE, 0);
	struct conf_event ev = { .type = CONF_EV_JOIN_REQUEST };
	uint32_t offer[2] = { 100, 100 };
	struct roc_seen seen = { .ssrc = 100 };
	conf_mid a, b, o = 0;
	struct rec *rb;

	model_start(&p, 6, "ssrc", true);
	a = script_join(100, 1, 100);
	/* B offers 100 twice: both replaced/kept distinct (D6) */
	ev.u.join.identity = "sip:u2@example.org";
	ev.u.join.ssrcs = offer;
	ev.u.join.n_ssrcs = 2;
	advance(200);
	feed(&ev, CC_OK);
	b = M.last_accept;
	rb = rec_of(b);
	MCHECK(rb && rb->n_ssrc == 2 && rb->ssrc[0] != 100 &&
	       rb->ssrc[1] != 100 && rb->ssrc[0] != rb->ssrc[1]);
	MCHECK(conf_ssrc_owner(M.c, 100, &o) && o == a);
	MCHECK(conf_ssrc_owner(M.c, 7, &o) && o == CONF_MID_FOCUS);
	/* the media plane reports a wrap of A's stream: a late joiner's
	 * CS map carries ROC 1 */
	{
		struct conf_event r = { .type = CONF_EV_MEDIA_ROC };

		r.u.roc.ssrc = 100;
		r.u.roc.roc = 1;
		feed(&r, CC_OK);
		M.ssrc_roc[ssrc_find(100)] = 1;
	}
	(void)script_join(300, 3, 555);
	conf_ssrc_foreach(M.c, roc_visit, &seen);
	MCHECK(seen.n == 2 + 1 + 2 + 1 && seen.roc == 1 && seen.owner == a);
	/* leaving frees the SSRC at once */
	script_member(400, CONF_EV_LEAVE, a, CC_OK);
	MCHECK(!conf_ssrc_owner(M.c, 100, NULL));
	advance(500);
	model_end();

	/* a random source that always collides: 503 */
	{
		struct conf *c = NULL;
		struct conf_event e = { .type = CONF_EV_CREATED };
		uint32_t zero = 0;
		int rej = 0;

		CHECK_OK(conf_new(&c, rej_action, NULL, const_rand, NULL));
		e.u.created.creator = "sip:u0@example.org";
		e.u.created.factory = FACTORY;
		CHECK_OK(conf_handle(c, &e));
		e.type = CONF_EV_JOIN_REQUEST;
		e.u.join.identity = "sip:u0@example.org";
		e.u.join.ssrcs = &zero;
		e.u.join.n_ssrcs = 1;
		CHECK_OK(conf_handle(c, &e)); /* takes SSRC 0 */
		CHECK(rej_seen == 0);
		CHECK_OK(conf_handle(c, &e)); /* 0 taken, redraws give 0 */
		rej = rej_seen;
		CHECK(rej == CONF_REJ_SSRC_EXHAUSTED);
		CHECK(conf_reject_sip_status(CONF_REJ_SSRC_EXHAUSTED) == 503);
		conf_free(c);
	}
}

static void test_kms_keys(void)
{
	struct conf_policy p =
		pol_with(CONF_REKEY_JOIN_LEAVE, CONF_JOIN_IMMEDIATE, 0);
	struct conf_event ev = { .type = CONF_EV_KMS_KEYS };
	uint8_t tek[16] = { 1 }, salt[14] = { 2 };

	p.keys = CONF_KEYS_KMS;
	p.ack_deadline = 1000;
	model_start(&p, 7, "kms", false);
	/* the REQUEST_KMS_KEYS(1) answer may have been "lost": drop any */
	M.n_ag = 0;
	MCHECK(M.newest == 0 && M.tmr[CONF_TIMER_KMS] == 1000);
	/* wrong epoch / wrong lengths are refused */
	ev.u.kms.epoch = 2;
	ev.u.kms.tek = tek;
	ev.u.kms.tek_len = 16;
	ev.u.kms.salt = salt;
	ev.u.kms.salt_len = 14;
	feed(&ev, CC_ERR_INVAL);
	ev.u.kms.epoch = 1;
	ev.u.kms.salt_len = 12;
	feed(&ev, CC_ERR_INVAL);
	/* the KMS timer asks again; then the keys arrive */
	M.scripted = true;
	advance(999);
	MCHECK(M.newest == 0);
	advance(1000); /* asked again, answered at once */
	MCHECK(M.newest == 1 && M.cur == 1);
	MCHECK(conf_epoch_keys(M.c, 1) &&
	       conf_epoch_keys(M.c, 1)->mki == 0x80000001u);
	(void)script_join(1500, 0, 1); /* epoch 2 from the KMS */
	MCHECK(M.newest == 2 && M.cur == 2);
	advance(10000);
	model_end();
}

static void test_misuse(void)
{
	struct conf *c = NULL;
	struct conf_event ev = { .type = CONF_EV_LEAVE, .now = 5 };
	struct conf_policy p;
	uint64_t s = 1;

	CHECK_ERR(conf_new(&c, NULL, NULL, test_rand, &s), CC_ERR_INVAL);
	CHECK_OK(conf_new(&c, on_action, NULL, test_rand, &s));
	free(M.ep);
	memset(&M, 0, sizeof(M));
	M.ep = calloc(MAXEP, sizeof(*M.ep));
	M.ctx = "misuse";
	conf_policy_default(&M.pol);
	M.now = 5;
	CHECK_ERR(conf_handle(c, &ev), CC_ERR_INVAL); /* before CREATED */
	ev.type = CONF_EV_CREATED;
	CHECK_ERR(conf_handle(c, &ev), CC_ERR_INVAL); /* no creator */
	conf_policy_default(&p);
	p.max_ssrcs_per_member = 9;
	ev.u.created.creator = "sip:u0@example.org";
	ev.u.created.factory = FACTORY;
	ev.u.created.policy = &p;
	CHECK_ERR(conf_handle(c, &ev), CC_ERR_INVAL); /* bad policy */
	ev.u.created.policy = NULL;
	CHECK_OK(conf_handle(c, &ev));
	CHECK(conf_is_live(c) && conf_current_epoch(c) == 1);
	CHECK_ERR(conf_handle(c, &ev), CC_ERR_INVAL); /* twice */
	ev.type = CONF_EV_TIMER;
	ev.now = 4;
	ev.u.timer = CONF_TIMER_REKEY;
	CHECK_ERR(conf_handle(c, &ev), CC_ERR_INVAL); /* time backwards */
	ev.now = 6;
	CHECK_OK(conf_handle(c, &ev)); /* a stale timer is ignored */
	ev.u.timer = (enum conf_timer)99;
	CHECK_ERR(conf_handle(c, &ev), CC_ERR_INVAL);
	conf_free(c);
	free(M.ep);
	M.ep = NULL;

	/* policy by name */
	conf_policy_default(&p);
	CHECK_OK(conf_policy_set(&p, "rekey-on", "leave"));
	CHECK(p.rekey_on == CONF_REKEY_LEAVE);
	CHECK_OK(conf_policy_set(&p, "min-rekey-interval", "1.5s"));
	CHECK(p.min_rekey_interval == 1500);
	CHECK_OK(conf_policy_set(&p, "grace", "250"));
	CHECK(p.grace == 250);
	CHECK_OK(conf_policy_set(&p, "join", "deferred"));
	CHECK_OK(conf_policy_set(&p, "group-keys", "kms"));
	CHECK_OK(conf_policy_set(&p, "profile", "AEAD_AES_128_GCM"));
	CHECK(p.join == CONF_JOIN_DEFERRED && p.keys == CONF_KEYS_KMS &&
	      p.profile == CONF_AEAD_AES_128_GCM);
	CHECK_ERR(conf_policy_set(&p, "rekey-on", "sometimes"), CC_ERR_INVAL);
	CHECK_ERR(conf_policy_set(&p, "max-ssrcs", "9"), CC_ERR_INVAL);
	CHECK_ERR(conf_policy_set(&p, "bogus", "1"), CC_ERR_INVAL);
	CHECK(p.rekey_on == CONF_REKEY_LEAVE); /* unchanged by failures */
	CHECK(strcmp(conf_action_name(CONF_ACT_SWITCH_MKI), "SWITCH_MKI") == 0);
	CHECK(strcmp(conf_event_name(CONF_EV_COMPROMISED), "COMPROMISED") == 0);
	CHECK(conf_mki(5) == 0x80000005u);
}

/* 10,000 members: state per member, and one full rekey (O(members)). */
static uint64_t n_updates;

static void count_action(const struct conf_action *a, void *arg)
{
	(void)arg;
	if (a->type == CONF_ACT_SEND_UPDATE)
		n_updates++;
}

static void test_scale(void)
{
	struct conf *c = NULL;
	struct conf_event ev = { .type = CONF_EV_CREATED };
	struct conf_policy p =
		pol_with(CONF_REKEY_LEAVE, CONF_JOIN_IMMEDIATE, 0);
	const char **allowed = calloc(10000, sizeof(*allowed));
	char(*names)[40] = calloc(10000, sizeof(*names));
	conf_mid *mids = calloc(10000, sizeof(*mids));
	struct conf_stats st;
	uint64_t s = 9;

	for (int i = 0; i < 10000; i++) {
		snprintf(names[i], sizeof(names[i]), "sip:user%d@example.org",
			 i);
		allowed[i] = names[i];
	}
	CHECK_OK(conf_new(&c, count_action, NULL, test_rand, &s));
	ev.u.created.creator = "sip:owner@example.org";
	ev.u.created.factory = FACTORY;
	ev.u.created.allowed = allowed;
	ev.u.created.n_allowed = 10000;
	ev.u.created.policy = &p;
	CHECK_OK(conf_handle(c, &ev));
	for (int i = 0; i < 10000; i++) {
		uint32_t ssrc = (uint32_t)i * 7919u;

		ev.type = CONF_EV_JOIN_REQUEST;
		ev.now = i;
		ev.u.join = (struct conf_ev_join){ .identity = names[i],
						   .ssrcs = &ssrc,
						   .n_ssrcs = 1 };
		CHECK_OK(conf_handle(c, &ev));
		mids[i] = ((conf_mid)1 << 32) | (uint32_t)i;
		ev.type = CONF_EV_JOIN_DONE;
		ev.u.member = mids[i];
		CHECK_OK(conf_handle(c, &ev));
	}
	conf_stats(c, 10000, &st);
	CHECK(st.members == 10000);
	printf("scale: %zu bytes of state, %zu per member\n", st.state_bytes,
	       st.state_bytes / 10000);
	CHECK(st.state_bytes / 10000 <= 2048);
	/* one leave: one rekey = 9,999 CSB updates */
	n_updates = 0;
	ev.type = CONF_EV_LEAVE;
	ev.now = 20000;
	ev.u.member = mids[0];
	CHECK_OK(conf_handle(c, &ev));
	CHECK(n_updates == 9999);
	conf_free(c);
	free(allowed);
	free(names);
	free(mids);
}

int main(void)
{
	uint64_t seed = 20240601;
	int steps = 2500;
	const char *env = getenv("CONF_TEST_SEED");

	if (env)
		seed = strtoull(env, NULL, 0);
	env = getenv("CONF_TEST_STEPS");
	if (env)
		steps = atoi(env);
	printf("test_conf: seed %" PRIu64 " (CONF_TEST_SEED), %d steps per "
	       "policy (CONF_TEST_STEPS)\n",
	       seed, steps);
	test_misuse();
	test_table();
	test_compromised();
	test_ack_deadline();
	test_allowed_set();
	test_ssrc();
	test_kms_keys();
	test_scale();
	if (!check_failures)
		test_properties(seed, steps);
	printf("properties: %" PRIu64 " joins, %" PRIu64 " rejects, %" PRIu64
	       " removals (%" PRIu64 " no-ack), %" PRIu64 " rekeys (%" PRIu64
	       " forced), %" PRIu64 " CSB updates\n",
	       total.joins, total.rejects, total.removals, total.removed_no_ack,
	       total.rekeys, total.forced_rekeys, total.csb_updates);
	free(M.ep);
	CHECK_DONE();
}
