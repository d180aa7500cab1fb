/*
 * conf_model.h -- the model of the conference core (src/conf) that
 * test_conf.c and test_conf_props.c share. Static functions: each test
 * file is its own executable (tests/CMakeLists.txt).
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
 */
#ifndef CONCLAVE_TESTS_CONF_MODEL_H
#define CONCLAVE_TESTS_CONF_MODEL_H

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

#endif
