/*
 * bench_conf_sim.c -- `conclave bench conf`: the discrete-event simulator:
 * deterministic random, clocks and memory, the event queue, the simulated
 * focus and members (the action handler), setup and teardown, and the
 * event loop.
 */
#include "bench_conf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* ---- deterministic random (splitmix64) ------------------------------------ */

uint64_t bench_conf_splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void bench_conf_fill_rand(uint64_t *s, uint8_t *buf, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (i % 8 == 0)
			v = bench_conf_splitmix(s);
		buf[i] = (uint8_t)(v >> (8 * (i % 8)));
	}
}

static enum cc_err core_rand(uint8_t *buf, size_t n, void *arg)
{
	bench_conf_fill_rand(arg, buf, n);
	return CC_OK;
}

/* ---- clocks and memory ----------------------------------------------------- */

double bench_conf_clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Resident set size of this process in bytes (0 if unknown). */
long bench_conf_rss_bytes(void)
{
	long pages = 0, size;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &pages) != 2)
		pages = 0;
	fclose(f);
	return pages * sysconf(_SC_PAGESIZE);
}

/* Give freed heap back, so the next scenario's RSS delta starts clean. */
void bench_conf_heap_trim(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* ---- the event queue: a binary heap ---------------------------------------- */

static bool qless(const struct qev *a, const struct qev *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

enum cc_err bench_conf_q_push(struct queue *q, int64_t at, enum sev kind,
			      conf_mid mid, uint32_t arg)
{
	struct qev e = { .at = at, .mid = mid, .arg = arg, .kind = kind };
	size_t i;

	if (q->n == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 1024;
		struct qev *nv = realloc(q->v, ncap * sizeof(*nv));

		if (!nv)
			return CC_ERR_NOMEM;
		q->v = nv;
		q->cap = ncap;
	}
	e.seq = (uint64_t)kind << 56 | q->arrivals++;
	for (i = q->n++; i > 0 && qless(&e, &q->v[(i - 1) / 2]);
	     i = (i - 1) / 2)
		q->v[i] = q->v[(i - 1) / 2];
	q->v[i] = e;
	return CC_OK;
}

static struct qev q_pop(struct queue *q)
{
	struct qev top = q->v[0], last = q->v[--q->n];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < q->n) {
		if (c + 1 < q->n && qless(&q->v[c + 1], &q->v[c]))
			c++;
		if (!qless(&q->v[c], &last))
			break;
		q->v[i] = q->v[c];
		i = c;
	}
	if (q->n)
		q->v[i] = last;
	return top;
}

/* ---- the simulated focus and members --------------------------------------- */

static int64_t answer_delay(struct sim *s)
{
	int64_t rtt = s->o->rtt;

	if (rtt <= 0)
		return 0;
	return rtt / 2 +
	       (int64_t)(bench_conf_splitmix(&s->rng) % (uint64_t)(rtt + 1));
}

static void fail(struct sim *s, enum cc_err err)
{
	if (!s->err)
		s->err = err;
}

static struct smember *member_of(struct sim *s, conf_mid mid)
{
	uint32_t slot = (uint32_t)mid;

	if (mid == CONF_MID_NONE || slot >= s->cap || s->mem[slot].mid != mid)
		return NULL;
	return &s->mem[slot];
}

static void on_update(struct sim *s, const struct conf_action *a)
{
	struct smember *m = member_of(s, a->member);
	uint64_t t0;
	enum cc_err err;

	if (!m) {
		fail(s, CC_ERR_NOT_FOUND);
		return;
	}
	if (s->o->mikey) {
		t0 = mono_ns();
		err = bench_conf_build_update(s, m, a->u.epoch);
		s->build_ns += mono_ns() - t0;
		if (!err && s->built++ % VERIFY_EVERY == 0)
			err = bench_conf_check_update(s, m, a->u.epoch);
		if (err) {
			fail(s, err);
			return;
		}
	}
	if (bench_conf_q_push(&s->q, s->now + answer_delay(s), S_ACK, a->member,
			      a->u.epoch->epoch))
		fail(s, CC_ERR_NOMEM);
}

static void pool_put(struct sim *s, uint32_t ident)
{
	s->pool[(s->pool_head + s->pool_n++) % s->n_ids] = ident;
}

static void on_accept(struct sim *s, const struct conf_action *a)
{
	uint32_t slot = (uint32_t)a->member;
	struct smember *m;

	if (slot >= s->cap || s->mem[slot].mid != CONF_MID_NONE) {
		fail(s, CC_ERR_INVAL);
		return;
	}
	m = &s->mem[slot];
	memset(m, 0, sizeof(*m));
	m->mid = a->member;
	m->ident = (uint32_t)a->cookie;
	m->ssrc = a->u.accept.n_ssrcs ? a->u.accept.ssrcs[0] : 0;
	m->csb_id = (uint32_t)bench_conf_splitmix(&s->rng);
	m->pos = UINT32_MAX;
	if (s->o->mikey && bench_conf_member_keys(s, m)) {
		fail(s, CC_ERR_CRYPTO);
		return;
	}
	if (bench_conf_q_push(&s->q, s->now + answer_delay(s), S_JOIN_DONE,
			      a->member, 0))
		fail(s, CC_ERR_NOMEM);
}

static void on_drop(struct sim *s, conf_mid mid)
{
	struct smember *m = member_of(s, mid);
	uint32_t last;

	if (!m) {
		fail(s, CC_ERR_NOT_FOUND);
		return;
	}
	if (m->pos != UINT32_MAX) {
		last = s->active[--s->n_active];
		s->active[m->pos] = last;
		s->mem[last].pos = m->pos;
	}
	mikey_keyed_free(m->kd);
	pool_put(s, m->ident);
	memset(m, 0, sizeof(*m));
}

static void on_joined(struct sim *s, conf_mid mid)
{
	struct smember *m = member_of(s, mid);

	if (!m || m->pos != UINT32_MAX) {
		fail(s, CC_ERR_INVAL);
		return;
	}
	m->pos = s->n_active;
	s->active[s->n_active++] = (uint32_t)mid;
}

static void on_timer_set(struct sim *s, enum conf_timer id, int64_t at)
{
	s->tmr_at[id] = at;
	if (bench_conf_q_push(&s->q, at, S_TIMER, ++s->tmr_gen[id],
			      (uint32_t)id))
		fail(s, CC_ERR_NOMEM);
}

static void on_action(const struct conf_action *a, void *arg)
{
	struct sim *s = arg;

	switch (a->type) {
	case CONF_ACT_ACCEPT:
		on_accept(s, a);
		break;
	case CONF_ACT_REJECT:
		pool_put(s, (uint32_t)a->cookie);
		break;
	case CONF_ACT_SEND_UPDATE:
		on_update(s, a);
		break;
	case CONF_ACT_DROP_MEDIA:
		on_drop(s, a->member);
		break;
	case CONF_ACT_NOTIFY:
		if (a->u.notify.joined)
			on_joined(s, a->member);
		break;
	case CONF_ACT_SET_TIMER:
		on_timer_set(s, a->u.timer.id, a->u.timer.at);
		break;
	case CONF_ACT_CANCEL_TIMER:
		s->tmr_at[a->u.timer.id] = NO_TIME;
		s->tmr_gen[a->u.timer.id]++;
		break;
	case CONF_ACT_REQUEST_KMS_KEYS: /* group-keys=focus only */
		fail(s, CC_ERR_UNSUPPORTED);
		break;
	default: /* NEW_EPOCH, SWITCH_MKI, RETIRE_EPOCH, END */
		break;
	}
}

/* ---- setup and teardown ------------------------------------------------------ */

void bench_conf_sim_free(struct sim *s)
{
	for (uint32_t i = 0; s->mem && i < s->cap; i++)
		mikey_keyed_free(s->mem[i].kd);
	conf_free(s->c);
	free(s->mem);
	free(s->active);
	free(s->ids);
	free(s->id_len);
	free(s->id_ptr);
	free(s->pool);
	free(s->q.v);
	cc_wipe(&s->ks, sizeof(s->ks));
	memset(s, 0, sizeof(*s));
}

enum cc_err bench_conf_sim_handle(struct sim *s, struct conf_event *ev)
{
	enum cc_err err;

	ev->now = s->now;
	s->err = CC_OK;
	err = conf_handle(s->c, ev);
	if (!err)
		err = s->err;
	if (err)
		fprintf(stderr, "bench conf: %s at t=%" PRId64 " ms: %s\n",
			conf_event_name(ev->type), s->now, cc_strerror(err));
	return err;
}

/* A conference of n_ids allowed identities (plus the owner), created at
 * t = 0 with the policy in s->pol. */
enum cc_err bench_conf_sim_init(struct sim *s, const struct opts *o,
				uint32_t n_ids, uint64_t seed)
{
	struct conf_event ev = { .type = CONF_EV_CREATED };
	enum cc_err err;

	s->o = o;
	s->rng = seed;
	s->core_rng = seed ^ 0x5eed5eed5eed5eedull;
	s->key_rng = seed ^ 0x6b65796b65796b65ull;
	s->n_ids = n_ids;
	s->cap = s->pol.max_members;
	s->mem = calloc(s->cap, sizeof(*s->mem));
	s->active = calloc(s->cap, sizeof(*s->active));
	s->ids = calloc(n_ids, sizeof(*s->ids));
	s->id_len = calloc(n_ids, 1);
	s->id_ptr = calloc(n_ids, sizeof(*s->id_ptr));
	s->pool = calloc(n_ids, sizeof(*s->pool));
	if (!s->mem || !s->active || !s->ids || !s->id_len || !s->id_ptr ||
	    !s->pool)
		return CC_ERR_NOMEM;
	for (uint32_t i = 0; i < n_ids; i++) {
		int n = snprintf(s->ids[i], ID_LEN, "sip:member%u@example.org",
				 i);

		s->id_len[i] = (uint8_t)n;
		s->id_ptr[i] = s->ids[i];
		pool_put(s, i);
	}
	for (int i = 0; i < CONF_TIMER__COUNT; i++)
		s->tmr_at[i] = NO_TIME;
	s->focus = mikey_str(FOCUS_ID);
	err = conf_new(&s->c, on_action, s, core_rand, &s->core_rng);
	if (err)
		return err;
	ev.u.created = (struct conf_ev_created){
		.creator = OWNER_ID,
		.factory = FACTORY_ID,
		.focus = FOCUS_ID,
		.allowed = s->id_ptr,
		.n_allowed = n_ids,
		.policy = &s->pol,
		.focus_ssrcs = &FOCUS_SSRC,
		.n_focus_ssrcs = 1,
	};
	s->now = 0;
	return bench_conf_sim_handle(s, &ev);
}

/* ---- the event loop ------------------------------------------------------------ */

static void snapshot(struct sim *s, enum mark mk)
{
	struct conf_stats st;
	struct result *r = s->r;

	conf_stats(s->c, s->now, &st);
	if (mk == MARK_CHURN_START) {
		s->mark_rekeys = st.rekeys;
		s->mark_updates = st.csb_updates;
		s->built = s->build_ns = 0;
		return;
	}
	if (!r || !st.members)
		return;
	if ((double)st.state_bytes / st.members > r->state_pm) {
		r->state_pm = (double)st.state_bytes / st.members;
		r->state_bytes = st.state_bytes;
		r->state_members = st.members;
	}
	r->rss_delta = bench_conf_rss_bytes() - s->rss0;
	if ((double)r->rss_delta / st.members > r->rss_pm)
		r->rss_pm = (double)r->rss_delta / st.members;
}

enum cc_err bench_conf_do_join(struct sim *s)
{
	struct conf_event ev = { .type = CONF_EV_JOIN_REQUEST };
	uint32_t ident, ssrc;

	if (!s->pool_n)
		return CC_OK; /* everyone allowed is in */
	ident = s->pool[s->pool_head];
	s->pool_head = (s->pool_head + 1) % s->n_ids;
	s->pool_n--;
	ssrc = (uint32_t)bench_conf_splitmix(&s->rng);
	ev.u.join = (struct conf_ev_join){ .identity = s->ids[ident],
					   .ssrcs = &ssrc,
					   .n_ssrcs = 1,
					   .via = CONF_VIA_DIRECT,
					   .cookie = ident };
	return bench_conf_sim_handle(s, &ev);
}

enum cc_err bench_conf_do_leave(struct sim *s)
{
	struct conf_event ev = { .type = CONF_EV_LEAVE };

	if (!s->n_active)
		return CC_OK;
	ev.u.member =
		s->mem[s->active[bench_conf_splitmix(&s->rng) % s->n_active]]
			.mid;
	return bench_conf_sim_handle(s, &ev);
}

static enum cc_err dispatch(struct sim *s, const struct qev *e)
{
	struct conf_event ev = { .type = CONF_EV_TIMER };
	enum cc_err err;
	uint64_t t0;

	switch ((enum sev)e->kind) {
	case S_TIMER:
		if (e->mid != s->tmr_gen[e->arg] || s->tmr_at[e->arg] != e->at)
			return CC_OK; /* re-armed or cancelled */
		s->tmr_at[e->arg] = NO_TIME;
		ev.u.timer = (enum conf_timer)e->arg;
		return bench_conf_sim_handle(s, &ev);
	case S_JOIN_DONE:
	case S_ACK:
		if (!member_of(s, e->mid)) {
			s->stale++; /* it left meanwhile */
			return CC_OK;
		}
		if (e->kind == S_ACK) {
			ev.type = CONF_EV_REKEY_ACK;
			ev.u.rekey = (struct conf_ev_rekey){ e->mid, e->arg };
			return bench_conf_sim_handle(s, &ev);
		}
		ev.type = CONF_EV_JOIN_DONE;
		ev.u.member = e->mid;
		t0 = mono_ns();
		err = bench_conf_sim_handle(s, &ev);
		if (e->mid == s->watch_mid)
			s->watch_ns = mono_ns() - t0;
		return err;
	case S_JOIN:
		return bench_conf_do_join(s);
	case S_LEAVE:
		return bench_conf_do_leave(s);
	case S_MARK:
		snapshot(s, (enum mark)e->arg);
		return CC_OK;
	}
	return CC_ERR_INVAL;
}

/* Run until the queue is empty. */
enum cc_err bench_conf_sim_drain(struct sim *s)
{
	enum cc_err err = CC_OK;

	while (!err && s->q.n) {
		struct qev e = q_pop(&s->q);

		if (e.at > s->now)
			s->now = e.at;
		err = dispatch(s, &e);
	}
	return err;
}
