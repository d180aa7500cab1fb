/*
 * bench_conf_scen.c -- `conclave bench conf`: the scenarios (join-leave,
 * churn) and the headline, one full rekey, timed.
 */
#include "bench_conf.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

/* ---- scenarios -------------------------------------------------------------------- */

const char *bench_conf_rekey_on_name(unsigned r)
{
	static const char *const n[] = { "none", "join", "leave",
					 "join,leave" };

	return n[r & 3];
}

void bench_conf_combo_name(char *buf, size_t cap, const char *kind,
			   const struct combo *c)
{
	snprintf(buf, cap, "%s/%s/%s/%" PRId64 "s", kind,
		 bench_conf_rekey_on_name(c->rekey_on),
		 c->join == CONF_JOIN_DEFERRED ? "deferred" : "immediate",
		 c->min_interval / 1000);
}

static enum cc_err set_policy(struct conf_policy *p, const struct combo *c,
			      uint32_t max_members)
{
	conf_policy_default(p);
	p->rekey_on = c->rekey_on;
	p->join = c->join;
	p->min_rekey_interval = c->min_interval;
	p->max_members = max_members;
	p->max_ssrcs_per_member = 1;
	return conf_policy_check(p);
}

/* Final figures of a scenario from the core's own counters. */
static enum cc_err finish(struct sim *s, struct result *r, double t0)
{
	struct conf_event ev = { .type = CONF_EV_ENDED };
	struct conf_stats st;
	enum cc_err err;

	conf_stats(s->c, s->now, &st);
	r->open_before_end = st.open_leave_exposure;
	r->sim_end = s->now;
	err = bench_conf_sim_handle(s, &ev);
	if (err)
		return err;
	conf_stats(s->c, s->now, &st);
	r->wall_s = bench_conf_clock_s(CLOCK_MONOTONIC) - t0;
	r->members_peak = st.members_peak;
	r->rekeys = st.rekeys - s->mark_rekeys;
	r->forced = st.forced_rekeys;
	r->csb_updates = st.csb_updates - s->mark_updates;
	r->built = s->built;
	r->verified = s->verified;
	r->build_s = (double)s->build_ns * 1e-9;
	r->msgs_s = r->build_s > 0 ? (double)s->built / r->build_s : 0;
	r->joins = st.joins;
	r->removals = st.removals;
	r->no_ack = st.removed_no_ack;
	r->rejects = st.rejects;
	r->max_leave_exposure = st.max_leave_exposure;
	r->max_join_reach = st.max_join_reach;
	r->min_rekey_gap = st.min_rekey_gap;
	return CC_OK;
}

static enum cc_err push_joins(struct sim *s, uint32_t n, int64_t t0,
			      int64_t span)
{
	enum cc_err err = CC_OK;

	for (uint32_t i = 0; !err && i < n; i++)
		err = bench_conf_q_push(&s->q, t0 + (int64_t)i * span / n,
					S_JOIN, 0, 0);
	return err;
}

/* (a) N join over 10 s, then 30% leave over 10 s. */
static enum cc_err script_join_leave(struct sim *s)
{
	uint32_t n = s->o->members, l = (uint32_t)((uint64_t)n * 3 / 10);
	int64_t t_leave = JOIN_T0 + JOIN_MS;
	enum cc_err err = push_joins(s, n, JOIN_T0, JOIN_MS);

	if (!err)
		err = bench_conf_q_push(&s->q, t_leave, S_MARK, 0, MARK_PEAK);
	for (uint32_t i = 0; !err && i < l; i++)
		err = bench_conf_q_push(&s->q,
					t_leave + (int64_t)i * LEAVE_MS / l,
					S_LEAVE, 0, 0);
	return err;
}

/* (b) N join over 10 s; after CHURN_SETTLE, a join and a leave every
 * 1/rate s for churn_ms (leaves half a period after the joins). */
static enum cc_err script_churn(struct sim *s)
{
	const struct opts *o = s->o;
	int64_t t0 = JOIN_T0 + JOIN_MS + CHURN_SETTLE;
	uint64_t k, n = (uint64_t)((double)o->churn_ms / 1000 * o->churn_rate);
	double period = 1000.0 / o->churn_rate;
	enum cc_err err = push_joins(s, o->members, JOIN_T0, JOIN_MS);

	if (!err)
		err = bench_conf_q_push(&s->q, t0, S_MARK, 0, MARK_CHURN_START);
	for (k = 0; !err && k < n; k++) {
		err = bench_conf_q_push(&s->q,
					t0 + (int64_t)((double)k * period),
					S_JOIN, 0, 0);
		if (!err)
			err = bench_conf_q_push(
				&s->q,
				t0 + (int64_t)(((double)k + 0.5) * period),
				S_LEAVE, 0, 0);
	}
	if (!err)
		err = bench_conf_q_push(&s->q, t0 + o->churn_ms, S_MARK, 0,
					MARK_CHURN_END);
	return err;
}

enum cc_err bench_conf_run_scenario(const struct opts *o, enum kind kind,
				    const struct combo *c, struct result *r)
{
	struct sim s;
	uint32_t extra = kind == K_CHURN ? o->members / 10 + 16 : 0;
	double t0;
	enum cc_err err;

	memset(&s, 0, sizeof(s));
	bench_conf_heap_trim();
	s.rss0 = bench_conf_rss_bytes();
	s.r = r;
	r->kind = kind;
	r->rekey_on = c->rekey_on;
	r->join = c->join;
	r->min_interval = c->min_interval;
	t0 = bench_conf_clock_s(CLOCK_MONOTONIC);
	err = set_policy(&s.pol, c, o->members + extra);
	if (!err)
		err = bench_conf_sim_init(&s, o, o->members + extra, o->seed);
	if (!err)
		err = kind == K_CHURN ? script_churn(&s) :
					script_join_leave(&s);
	if (!err)
		err = bench_conf_sim_drain(&s);
	if (!err)
		err = finish(&s, r, t0);
	bench_conf_sim_free(&s);
	return err;
}

/* ---- the headline: one full rekey, timed ---------------------------------------- */

static double median(const double *v, unsigned n)
{
	double t[MAX_REPEAT] = { 0 }, x;
	unsigned i, j;

	for (i = 0; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && t[j - 1] > x; j--)
			t[j] = t[j - 1];
		t[j] = x;
	}
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* One timed trigger; the queue is empty before (no rekey in progress). */
static enum cc_err fr_once(struct sim *s, struct fr_result *fr, unsigned k)
{
	struct conf_event ev = { .type = CONF_EV_LEAVE };
	struct conf_stats a, b;
	uint64_t built0 = s->build_ns;
	double w0, c0;
	enum cc_err err;

	s->now += 1000;
	conf_stats(s->c, s->now, &a);
	s->watch_ns = 0;
	w0 = bench_conf_clock_s(CLOCK_MONOTONIC);
	c0 = bench_conf_clock_s(CLOCK_THREAD_CPUTIME_ID);
	if (fr->join) {
		err = bench_conf_do_join(s);
	} else {
		ev.u.member = s->mem[s->active[bench_conf_splitmix(&s->rng) %
					       s->n_active]]
				      .mid;
		err = bench_conf_sim_handle(s, &ev);
	}
	fr->ms[k] = (bench_conf_clock_s(CLOCK_MONOTONIC) - w0) * 1e3;
	fr->cpu_ms[k] =
		(bench_conf_clock_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e3;
	if (err)
		return err;
	conf_stats(s->c, s->now, &b);
	fr->updates = b.csb_updates - a.csb_updates;
	fr->build_ms[k] = (double)(s->build_ns - built0) * 1e-6;
	if (b.epoch_newest != a.epoch_newest + 1 || fr->updates != fr->group) {
		fprintf(stderr,
			"bench conf: full rekey: %" PRIu64 " updates, "
			"epoch %u -> %u (want %u updates, one epoch)\n",
			fr->updates, a.epoch_newest, b.epoch_newest, fr->group);
		return CC_ERR_INVAL;
	}
	return CC_OK;
}

/* The accepted joiner of the timed JOIN_REQUEST: the newest slot that is
 * still joining. */
static conf_mid fr_joiner(const struct sim *s)
{
	for (uint32_t i = 0; i < s->cap; i++)
		if (s->mem[i].mid != CONF_MID_NONE &&
		    s->mem[i].pos == UINT32_MAX)
			return s->mem[i].mid;
	return CONF_MID_NONE;
}

enum cc_err bench_conf_run_full(const struct opts *o, uint32_t group, bool join,
				struct fr_result *fr)
{
	struct combo c = { join ? CONF_REKEY_JOIN : CONF_REKEY_LEAVE,
			   CONF_JOIN_IMMEDIATE, 0 };
	/* leave: group + 1 members, one leaves; join: group, one joins */
	uint32_t n = join ? group : group + 1;
	struct sim s;
	enum cc_err err;

	memset(&s, 0, sizeof(s));
	memset(fr, 0, sizeof(*fr));
	fr->group = group;
	fr->join = join;
	fr->n = o->repeat;
	err = set_policy(&s.pol, &c, n + 1);
	if (!err)
		err = bench_conf_sim_init(&s, o, n + 1, o->seed);
	/* everyone at t = 1 ms: the first join's rekey and one coalesced
	 * rekey (rekey-on join) or none (leave) */
	if (!err)
		err = push_joins(&s, n, JOIN_T0, 1);
	if (!err)
		err = bench_conf_sim_drain(&s);
	/* run 0 is a warmup (caches, CPU clock), overwritten by run 1 */
	for (unsigned w = 0; !err && w <= o->repeat; w++) {
		unsigned k = w ? w - 1 : 0;

		s.build_ns = 0;
		err = fr_once(&s, fr, k);
		if (!err && join) {
			s.watch_mid = fr_joiner(&s);
			s.watch_ns = 0;
		}
		if (!err)
			err = bench_conf_sim_drain(
				&s); /* acks, switch, retire */
		if (!err && join) {
			/* the joiner's update at JOIN_DONE is part of adding
			 * it; then one leaves (no rekey) to restore n */
			fr->ms[k] += (double)s.watch_ns * 1e-6;
			s.watch_mid = 0;
			s.now += 1000;
			err = bench_conf_do_leave(&s);
		} else if (!err) {
			s.now += 1000; /* one joins (no rekey) to restore n */
			err = bench_conf_do_join(&s);
		}
		if (!err)
			err = bench_conf_sim_drain(&s);
		if (!err)
			fprintf(stderr,
				"bench conf: full rekey %s %u: run %u/%u "
				"%.2f ms (cpu %.2f, building %.2f)%s\n",
				join ? "join" : "leave", group, k + 1,
				o->repeat, fr->ms[k], fr->cpu_ms[k],
				fr->build_ms[k], w ? "" : " warmup");
	}
	if (!err) {
		fr->med_ms = median(fr->ms, fr->n);
		fr->med_cpu_ms = median(fr->cpu_ms, fr->n);
		fr->med_build_ms = median(fr->build_ms, fr->n);
		fr->us_per_msg = fr->med_ms * 1e3 /
				 (double)(fr->updates + (join ? 1 : 0));
	}
	bench_conf_sim_free(&s);
	return err;
}
