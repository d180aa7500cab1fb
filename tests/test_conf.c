/*
 * test_conf.c -- the conference core (src/conf) against a model
 * (conf_model.h, which checks the invariants of issue 4 §6 after every
 * event): each policy combination on one hand-made scenario, focused
 * scenarios, misuse, and scale. The random property runs are in
 * test_conf_props.c.
 */
#include "conf_model.h"

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

	uint64_t v0, v;

	model_start(&p, 6, "ssrc", true);
	v0 = conf_ssrc_version(M.c);
	a = script_join(100, 1, 100);
	v = conf_ssrc_version(M.c);
	MCHECK(v != v0); /* a join binds its SSRC: mirrors must re-read */
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
		v = conf_ssrc_version(M.c);
		feed(&r, CC_OK);
		M.ssrc_roc[ssrc_find(100)] = 1;
		MCHECK(conf_ssrc_version(M.c) != v); /* a ROC change */
		v = conf_ssrc_version(M.c);
		feed(&r, CC_OK); /* the same ROC again: nothing moved */
		MCHECK(conf_ssrc_version(M.c) == v);
	}
	(void)script_join(300, 3, 555);
	conf_ssrc_foreach(M.c, roc_visit, &seen);
	MCHECK(seen.n == 2 + 1 + 2 + 1 && seen.roc == 1 && seen.owner == a);
	/* leaving frees the SSRC at once */
	v = conf_ssrc_version(M.c);
	script_member(400, CONF_EV_LEAVE, a, CC_OK);
	MCHECK(!conf_ssrc_owner(M.c, 100, NULL));
	MCHECK(conf_ssrc_version(M.c) != v); /* a leave unbinds */
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
	/* media mode and speakers (issue 6 §4) */
	CHECK(p.media == CONF_MEDIA_SWITCH && p.speakers == 3);
	CHECK_OK(conf_policy_set(&p, "media", "mix"));
	CHECK_OK(conf_policy_set(&p, "speakers", "5"));
	CHECK(p.media == CONF_MEDIA_MIX && p.speakers == 5);
	CHECK_ERR(conf_policy_set(&p, "media", "mcu"), CC_ERR_INVAL);
	CHECK_ERR(conf_policy_set(&p, "speakers", "0"), CC_ERR_INVAL);
	CHECK_ERR(conf_policy_set(&p, "speakers", "9"), CC_ERR_INVAL);
	CHECK_ERR(conf_policy_set(&p, "speakers", "3x"), CC_ERR_INVAL);
	CHECK(p.media == CONF_MEDIA_MIX && p.speakers == 5);
	CHECK_OK(conf_policy_set(&p, "media", "switch"));
	CHECK(p.media == CONF_MEDIA_SWITCH);
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
	test_misuse();
	test_table();
	test_compromised();
	test_ack_deadline();
	test_allowed_set();
	test_ssrc();
	test_kms_keys();
	test_scale();
	free(M.ep);
	CHECK_DONE();
}
