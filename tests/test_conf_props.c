/*
 * test_conf_props.c -- the conference core (src/conf) against a model
 * (conf_model.h): random events under every policy combination, with the
 * invariants of issue 4 §6 checked after every event.
 *
 * Property runs use a fixed seed (printed); CONF_TEST_SEED overrides it,
 * CONF_TEST_STEPS the number of events per policy combination.
 */
#include "conf_model.h"

static struct conf_stats total; /* summed over the property runs */

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
	printf("test_conf_props: seed %" PRIu64 " (CONF_TEST_SEED), "
	       "%d steps per policy (CONF_TEST_STEPS)\n",
	       seed, steps);
	test_properties(seed, steps);
	printf("properties: %" PRIu64 " joins, %" PRIu64 " rejects, %" PRIu64
	       " removals (%" PRIu64 " no-ack), %" PRIu64 " rekeys (%" PRIu64
	       " forced), %" PRIu64 " CSB updates\n",
	       total.joins, total.rejects, total.removals, total.removed_no_ack,
	       total.rekeys, total.forced_rekeys, total.csb_updates);
	free(M.ep);
	CHECK_DONE();
}
