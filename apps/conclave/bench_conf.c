/*
 * bench_conf.c -- `conclave bench conf`: the conference simulator and
 * benchmark (issue 4 §7).
 *
 * A discrete-event simulation drives the conference core (conf.h) in
 * simulated time: script events (joins, leaves), the members' answers
 * (JOIN_DONE and REKEY_ACK after a simulated round trip) and the timers
 * the core asks for (SET_TIMER / CANCEL_TIMER) sit in one priority queue
 * ordered by (time, kind, arrival); at the same millisecond a timer fires
 * before an answer and an answer before a script event, as in
 * tests/test_conf.c.
 *
 * For every SEND_UPDATE the simulator builds the real MIKEY message the
 * focus sends: the Responder-started CSB-update TRANSFER_INIT of RFC 6043
 * §5.2 (HDR with a GENERIC-ID map of 2 CS whose SPI is the epoch MKI, T,
 * IDRr, IDRi, KEMAC with the epoch's TEK+SALT and KV = SPI = MKI, V),
 * encrypted and MACed by mikey_seal with the member's prepared key set
 * (mikey_keyed, made once at its join from random keys: the TRANSFER_RESP
 * keys that RFC 6043 §5.2 reuses for every update), into one reused
 * buffer, as src/mikey/examples.c update_init() does. One message in
 * VERIFY_EVERY is decoded and checked as its member would (layout, MAC,
 * KEMAC contents against the epoch), outside the timed part.
 *
 * Scenarios:
 *   join-leave  N members join over 10 s, then 30% leave over 10 s, for
 *               every rekey-on x join x min-rekey-interval (0, 1, 5 s);
 *   churn       N members join over 10 s, then joins and leaves at a
 *               constant rate for 60 s (the figures cover the churn);
 *   full-rekey  the headline: one event that rekeys a whole conference,
 *               timed from the event to the last CSB update built and
 *               MACed (conf_handle delivers the SEND_UPDATEs synchronously,
 *               so that is the wall time of one conf_handle call).
 */
#include "bench.h"

#include <conclave/conf.h>
#include <conclave/mikey.h>

#include <openssl/crypto.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

int bench_conf(int argc, char **argv);

enum {
	ID_LEN = 40,         /* identity buffer per member */
	OUT_MAX = 512,       /* one CSB update is ~180 bytes */
	PLAIN_MAX = 256,     /* decrypted KEMAC of a sampled message */
	VERIFY_EVERY = 4096, /* one built message in this many is checked */
	MAX_REPEAT = 101,
	MAX_RUNS = 64, /* scenario rows */
	MAX_FR = 8,    /* full-rekey rows */
};

#define NO_TIME INT64_MIN
#define JOIN_T0 1          /* ms: first join (CREATED at 0) */
#define JOIN_MS 10000      /* joins spread over 10 s */
#define LEAVE_MS 10000     /* leaves spread over 10 s */
#define CHURN_SETTLE 5000  /* ms between the joins and the churn */
#define NTP_T0 0xe98c41c0u /* 2024-03-01 12:00:00 UTC, NTP seconds */

static const char FOCUS_ID[] = "sip:focus1.conf1@example.org";
static const char FACTORY_ID[] = "sip:factory.conf1@example.org";
static const char OWNER_ID[] = "sip:owner@example.org";
static const uint32_t FOCUS_SSRC = 7;

enum kind {
	K_JOIN_LEAVE = 1,
	K_CHURN = 2,
	K_FULL = 4
};

struct opts {
	uint32_t members;
	int64_t rtt;       /* ms: member answer delay, uniform rtt/2..3rtt/2 */
	double churn_rate; /* joins/s and leaves/s */
	int64_t churn_ms;
	unsigned repeat;
	uint64_t seed;
	bool mikey, json;
	unsigned kinds;
	const char *only;
};

/* ---- deterministic random (splitmix64) ------------------------------------ */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill_rand(uint64_t *s, uint8_t *buf, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (i % 8 == 0)
			v = splitmix(s);
		buf[i] = (uint8_t)(v >> (8 * (i % 8)));
	}
}

static enum cc_err core_rand(uint8_t *buf, size_t n, void *arg)
{
	fill_rand(arg, buf, n);
	return CC_OK;
}

/* ---- clocks and memory ----------------------------------------------------- */

static double clock_s(clockid_t id)
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
static long rss_bytes(void)
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
static void heap_trim(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* ---- the event queue: a binary heap ---------------------------------------- */

enum sev {
	S_TIMER = 0, /* kind is also the tie-break: timers first */
	S_JOIN_DONE,
	S_ACK,
	S_JOIN,
	S_LEAVE,
	S_MARK, /* snapshot (arg: enum mark) */
};

enum mark {
	MARK_PEAK,
	MARK_CHURN_START,
	MARK_CHURN_END
};

struct qev {
	int64_t at;
	uint64_t seq; /* kind << 56 | arrival */
	conf_mid mid; /* S_JOIN_DONE, S_ACK; timer generation for S_TIMER */
	uint32_t arg; /* epoch (S_ACK), timer id (S_TIMER), mark (S_MARK) */
	uint8_t kind;
};

struct queue {
	struct qev *v;
	size_t n, cap;
	uint64_t arrivals;
};

static bool qless(const struct qev *a, const struct qev *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static enum cc_err q_push(struct queue *q, int64_t at, enum sev kind,
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

struct smember {
	conf_mid mid; /* CONF_MID_NONE: slot free */
	uint32_t ident;
	uint32_t ssrc;
	uint32_t csb_id;
	uint32_t pos; /* index in sim.active, UINT32_MAX while joining */
	struct mikey_keyed *kd;
};

/* What one scenario reports. */
struct result {
	char name[64];
	enum kind kind;
	unsigned rekey_on;
	enum conf_join join;
	int64_t min_interval;
	uint32_t members_peak;
	uint64_t rekeys, forced, csb_updates, built, verified;
	uint64_t joins, removals, no_ack, rejects;
	double build_s, msgs_s, wall_s;
	int64_t max_leave_exposure, max_join_reach, min_rekey_gap;
	int64_t open_before_end, sim_end;
	uint32_t state_members;
	size_t state_bytes;
	double state_pm, rss_pm;
	long rss_delta;
};

struct sim {
	const struct opts *o;
	struct conf *c;
	struct conf_policy pol;
	uint64_t rng, core_rng, key_rng; /* key_rng: members' MIKEY keys only,
					  * so --no-mikey simulates the same */
	int64_t now;
	struct queue q;
	int64_t tmr_at[CONF_TIMER__COUNT];
	uint64_t tmr_gen[CONF_TIMER__COUNT];
	/* members, by conf slot (low 32 bits of the conf_mid) */
	struct smember *mem;
	uint32_t cap;
	uint32_t *active, n_active; /* joined members, for random leaves */
	/* identities: the allowed set; pool = those not in the conference */
	char (*ids)[ID_LEN];
	uint8_t *id_len;
	const char **id_ptr;
	uint32_t n_ids;
	uint32_t *pool, pool_head, pool_n;
	/* MIKEY building (one reused message and buffer) */
	struct mikey_msg msg, rx;
	struct mikey_keys ks, rx_keys;
	uint8_t spi[4];
	uint8_t out[OUT_MAX], plain[PLAIN_MAX];
	size_t out_len;
	struct cc_slice focus;
	/* counters */
	uint64_t built, verified, build_ns, stale;
	uint64_t mark_rekeys, mark_updates; /* at MARK_CHURN_START */
	/* a member whose JOIN_DONE is timed (full-rekey, join trigger) */
	conf_mid watch_mid;
	uint64_t watch_ns;
	struct result *r;
	long rss0;
	enum cc_err err; /* first failure inside the action handler */
	uint8_t sink;
};

static int64_t answer_delay(struct sim *s)
{
	int64_t rtt = s->o->rtt;

	if (rtt <= 0)
		return 0;
	return rtt / 2 + (int64_t)(splitmix(&s->rng) % (uint64_t)(rtt + 1));
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

static uint64_t ntp_of(int64_t ms)
{
	return ((uint64_t)NTP_T0 << 32) + ((uint64_t)(ms / 1000) << 32) +
	       (((uint64_t)(ms % 1000) << 32) / 1000);
}

/* The member's TRANSFER_RESP keys: random, prepared once at its join. */
static enum cc_err member_keys(struct sim *s, struct smember *m)
{
	struct mikey_msg_keys k;
	enum cc_err err;

	memset(&k, 0, sizeof(k));
	k.encr_alg = MIKEY_ENCR_AES_CM_128;
	k.mac_alg = MIKEY_MAC_HMAC_SHA1_160;
	fill_rand(&s->key_rng, k.encr, 16);
	fill_rand(&s->key_rng, k.auth, 20);
	fill_rand(&s->key_rng, k.salt, sizeof(k.salt));
	err = mikey_keyed_alloc(&m->kd, &k);
	mikey_msg_keys_wipe(&k);
	return err;
}

static struct cc_slice ident_of(const struct sim *s, const struct smember *m)
{
	return (struct cc_slice){ (const uint8_t *)s->ids[m->ident],
				  s->id_len[m->ident] };
}

/*
 * RFC 6043 §5.2 Responder-started CSB update (TRANSFER_INIT), as
 * examples.c update_init(): HDR (GENERIC-ID: CS 1 member -> focus, CS 2
 * focus -> member, SPI = MKI), T, IDRr, IDRi, KEMAC (TEK+SALT, KV = SPI),
 * V; KEMAC encrypted and V MACed with the member's prepared keys.
 */
static enum cc_err build_update(struct sim *s, const struct smember *m,
				const struct conf_epoch_keys *k)
{
	struct mikey_key *x = &s->ks.k[0];
	struct mikey_seal_opts so = { .keyed = m->kd, .kemac = &s->ks };
	struct cc_slice me = ident_of(s, m);
	struct cc_wr wr;
	enum cc_err err;

	s->spi[0] = (uint8_t)(k->mki >> 24);
	s->spi[1] = (uint8_t)(k->mki >> 16);
	s->spi[2] = (uint8_t)(k->mki >> 8);
	s->spi[3] = (uint8_t)k->mki;
	s->ks.n = 1;
	x->type = MIKEY_KEY_TEK_SALT;
	x->kv = MIKEY_KV_SPI;
	x->key = (struct cc_slice){ k->tek, k->tek_len };
	x->salt = (struct cc_slice){ k->salt, k->salt_len };
	x->spi = (struct cc_slice){ s->spi, 4 };
	mikey_msg_init(&s->msg, MIKEY_DT_TRANSFER_INIT, true, MIKEY_PRF_MIKEY1,
		       m->csb_id, MIKEY_MAP_GENERIC_ID);
	err = mikey_hdr_add_cs(&s->msg.hdr, 1, 0, true, m->ssrc, s->spi, 4);
	if (!err)
		err = mikey_hdr_add_cs(&s->msg.hdr, 2, 0, true, FOCUS_SSRC,
				       s->spi, 4);
	if (err)
		return err;
	mikey_add_t(&s->msg.ch, MIKEY_TS_NTP_UTC, ntp_of(s->now));
	mikey_add_idr(&s->msg.ch, MIKEY_IDR_R, MIKEY_ID_URI, s->focus);
	mikey_add_idr(&s->msg.ch, MIKEY_IDR_I, MIKEY_ID_URI, me);
	mikey_add_kemac(&s->msg.ch);
	mikey_add_v(&s->msg.ch);
	/* Table 5.2: an *_INIT's MAC also covers IDi and IDr */
	so.extra = (struct mikey_mac_extra){ { me, s->focus }, 2 };
	cc_wr_init(&wr, s->out, sizeof(s->out));
	err = mikey_seal(&s->msg, &so, &wr);
	s->out_len = wr.pos;
	if (!err)
		s->sink ^= s->out[s->out_len - 1];
	return err;
}

/* The member's side of the message just built: all of it must hold. */
static enum cc_err check_update(struct sim *s, const struct smember *m,
				const struct conf_epoch_keys *k)
{
	struct cc_slice me = ident_of(s, m);
	struct mikey_mac_extra x = { { me, s->focus }, 2 };
	const struct mikey_key *got = &s->rx_keys.k[0];
	enum cc_err err;

	err = mikey_decode(s->out, s->out_len, &s->rx, NULL);
	if (!err)
		err = mikey_check_layout(&s->rx, MIKEY_UPDATE_BY_R, NULL);
	if (!err)
		err = mikey_verify_keyed(s->out, s->out_len, &s->rx, m->kd, &x);
	if (!err)
		err = mikey_kemac_open_keyed(&s->rx, m->kd, s->plain,
					     sizeof(s->plain), &s->rx_keys,
					     NULL);
	if (!err && (s->rx_keys.n != 1 || got->type != MIKEY_KEY_TEK_SALT ||
		     got->key.len != k->tek_len ||
		     got->salt.len != k->salt_len || got->spi.len != 4 ||
		     !cc_ct_equal(got->key.p, k->tek, k->tek_len) ||
		     !cc_ct_equal(got->salt.p, k->salt, k->salt_len) ||
		     !cc_ct_equal(got->spi.p, s->spi, 4) ||
		     s->rx.hdr.csb_id != m->csb_id))
		err = CC_ERR_BAD_MAC;
	cc_wipe(s->plain, sizeof(s->plain));
	if (!err)
		s->verified++;
	return err;
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
		err = build_update(s, m, a->u.epoch);
		s->build_ns += mono_ns() - t0;
		if (!err && s->built++ % VERIFY_EVERY == 0)
			err = check_update(s, m, a->u.epoch);
		if (err) {
			fail(s, err);
			return;
		}
	}
	if (q_push(&s->q, s->now + answer_delay(s), S_ACK, a->member,
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
	m->csb_id = (uint32_t)splitmix(&s->rng);
	m->pos = UINT32_MAX;
	if (s->o->mikey && member_keys(s, m)) {
		fail(s, CC_ERR_CRYPTO);
		return;
	}
	if (q_push(&s->q, s->now + answer_delay(s), S_JOIN_DONE, a->member, 0))
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
	if (q_push(&s->q, at, S_TIMER, ++s->tmr_gen[id], (uint32_t)id))
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

static void sim_free(struct sim *s)
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

static enum cc_err sim_handle(struct sim *s, struct conf_event *ev)
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
static enum cc_err sim_init(struct sim *s, const struct opts *o, uint32_t n_ids,
			    uint64_t seed)
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
	return sim_handle(s, &ev);
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
	r->rss_delta = rss_bytes() - s->rss0;
	if ((double)r->rss_delta / st.members > r->rss_pm)
		r->rss_pm = (double)r->rss_delta / st.members;
}

static enum cc_err do_join(struct sim *s)
{
	struct conf_event ev = { .type = CONF_EV_JOIN_REQUEST };
	uint32_t ident, ssrc;

	if (!s->pool_n)
		return CC_OK; /* everyone allowed is in */
	ident = s->pool[s->pool_head];
	s->pool_head = (s->pool_head + 1) % s->n_ids;
	s->pool_n--;
	ssrc = (uint32_t)splitmix(&s->rng);
	ev.u.join = (struct conf_ev_join){ .identity = s->ids[ident],
					   .ssrcs = &ssrc,
					   .n_ssrcs = 1,
					   .via = CONF_VIA_DIRECT,
					   .cookie = ident };
	return sim_handle(s, &ev);
}

static enum cc_err do_leave(struct sim *s)
{
	struct conf_event ev = { .type = CONF_EV_LEAVE };

	if (!s->n_active)
		return CC_OK;
	ev.u.member = s->mem[s->active[splitmix(&s->rng) % s->n_active]].mid;
	return sim_handle(s, &ev);
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
		return sim_handle(s, &ev);
	case S_JOIN_DONE:
	case S_ACK:
		if (!member_of(s, e->mid)) {
			s->stale++; /* it left meanwhile */
			return CC_OK;
		}
		if (e->kind == S_ACK) {
			ev.type = CONF_EV_REKEY_ACK;
			ev.u.rekey = (struct conf_ev_rekey){ e->mid, e->arg };
			return sim_handle(s, &ev);
		}
		ev.type = CONF_EV_JOIN_DONE;
		ev.u.member = e->mid;
		t0 = mono_ns();
		err = sim_handle(s, &ev);
		if (e->mid == s->watch_mid)
			s->watch_ns = mono_ns() - t0;
		return err;
	case S_JOIN:
		return do_join(s);
	case S_LEAVE:
		return do_leave(s);
	case S_MARK:
		snapshot(s, (enum mark)e->arg);
		return CC_OK;
	}
	return CC_ERR_INVAL;
}

/* Run until the queue is empty. */
static enum cc_err sim_drain(struct sim *s)
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

/* ---- scenarios -------------------------------------------------------------------- */

struct combo {
	unsigned rekey_on;
	enum conf_join join;
	int64_t min_interval;
};

static const char *rekey_on_name(unsigned r)
{
	static const char *const n[] = { "none", "join", "leave",
					 "join,leave" };

	return n[r & 3];
}

static void combo_name(char *buf, size_t cap, const char *kind,
		       const struct combo *c)
{
	snprintf(buf, cap, "%s/%s/%s/%" PRId64 "s", kind,
		 rekey_on_name(c->rekey_on),
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
	err = sim_handle(s, &ev);
	if (err)
		return err;
	conf_stats(s->c, s->now, &st);
	r->wall_s = clock_s(CLOCK_MONOTONIC) - t0;
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
		err = q_push(&s->q, t0 + (int64_t)i * span / n, S_JOIN, 0, 0);
	return err;
}

/* (a) N join over 10 s, then 30% leave over 10 s. */
static enum cc_err script_join_leave(struct sim *s)
{
	uint32_t n = s->o->members, l = (uint32_t)((uint64_t)n * 3 / 10);
	int64_t t_leave = JOIN_T0 + JOIN_MS;
	enum cc_err err = push_joins(s, n, JOIN_T0, JOIN_MS);

	if (!err)
		err = q_push(&s->q, t_leave, S_MARK, 0, MARK_PEAK);
	for (uint32_t i = 0; !err && i < l; i++)
		err = q_push(&s->q, t_leave + (int64_t)i * LEAVE_MS / l,
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
		err = q_push(&s->q, t0, S_MARK, 0, MARK_CHURN_START);
	for (k = 0; !err && k < n; k++) {
		err = q_push(&s->q, t0 + (int64_t)((double)k * period), S_JOIN,
			     0, 0);
		if (!err)
			err = q_push(&s->q,
				     t0 + (int64_t)(((double)k + 0.5) * period),
				     S_LEAVE, 0, 0);
	}
	if (!err)
		err = q_push(&s->q, t0 + o->churn_ms, S_MARK, 0,
			     MARK_CHURN_END);
	return err;
}

static enum cc_err run_scenario(const struct opts *o, enum kind kind,
				const struct combo *c, struct result *r)
{
	struct sim s;
	uint32_t extra = kind == K_CHURN ? o->members / 10 + 16 : 0;
	double t0;
	enum cc_err err;

	memset(&s, 0, sizeof(s));
	heap_trim();
	s.rss0 = rss_bytes();
	s.r = r;
	r->kind = kind;
	r->rekey_on = c->rekey_on;
	r->join = c->join;
	r->min_interval = c->min_interval;
	t0 = clock_s(CLOCK_MONOTONIC);
	err = set_policy(&s.pol, c, o->members + extra);
	if (!err)
		err = sim_init(&s, o, o->members + extra, o->seed);
	if (!err)
		err = kind == K_CHURN ? script_churn(&s) :
					script_join_leave(&s);
	if (!err)
		err = sim_drain(&s);
	if (!err)
		err = finish(&s, r, t0);
	sim_free(&s);
	return err;
}

/* ---- the headline: one full rekey, timed ---------------------------------------- */

struct fr_result {
	uint32_t group; /* members that get the update */
	bool join;      /* trigger: a join (else a leave) */
	unsigned n;     /* runs */
	double ms[MAX_REPEAT], cpu_ms[MAX_REPEAT], build_ms[MAX_REPEAT];
	uint64_t updates; /* per run (all runs must agree) */
	double med_ms, med_cpu_ms, med_build_ms, us_per_msg;
};

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
	w0 = clock_s(CLOCK_MONOTONIC);
	c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	if (fr->join) {
		err = do_join(s);
	} else {
		ev.u.member =
			s->mem[s->active[splitmix(&s->rng) % s->n_active]].mid;
		err = sim_handle(s, &ev);
	}
	fr->ms[k] = (clock_s(CLOCK_MONOTONIC) - w0) * 1e3;
	fr->cpu_ms[k] = (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e3;
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

static enum cc_err run_full(const struct opts *o, uint32_t group, bool join,
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
		err = sim_init(&s, o, n + 1, o->seed);
	/* everyone at t = 1 ms: the first join's rekey and one coalesced
	 * rekey (rekey-on join) or none (leave) */
	if (!err)
		err = push_joins(&s, n, JOIN_T0, 1);
	if (!err)
		err = sim_drain(&s);
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
			err = sim_drain(&s); /* acks, switch, retire */
		if (!err && join) {
			/* the joiner's update at JOIN_DONE is part of adding
			 * it; then one leaves (no rekey) to restore n */
			fr->ms[k] += (double)s.watch_ns * 1e-6;
			s.watch_mid = 0;
			s.now += 1000;
			err = do_leave(&s);
		} else if (!err) {
			s.now += 1000; /* one joins (no rekey) to restore n */
			err = do_join(&s);
		}
		if (!err)
			err = sim_drain(&s);
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
	sim_free(&s);
	return err;
}

/* ---- the machine ------------------------------------------------------------------- */

static void cpu_model(char *out, size_t cap)
{
	char line[256], *p;
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(out, cap, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) || !(p = strchr(line, ':')))
			continue;
		for (p++; *p == ' ' || *p == '\t'; p++)
			;
		p[strcspn(p, "\n")] = '\0';
		snprintf(out, cap, "%s", p);
		break;
	}
	fclose(f);
}

/* ---- reports -------------------------------------------------------------------------- */

#define STATE_GOAL 2048.0 /* bytes of conference state per member */
#define REKEY_GOAL 100.0  /* ms: full rekey of 10,000 members */
#define GOAL_GROUP 10000u

struct report {
	struct result run[MAX_RUNS];
	size_t n_run;
	struct fr_result fr[MAX_FR];
	size_t n_fr;
};

static const struct fr_result *goal_fr(const struct report *rp)
{
	for (size_t i = 0; i < rp->n_fr; i++)
		if (!rp->fr[i].join && rp->fr[i].group == GOAL_GROUP)
			return &rp->fr[i];
	return NULL;
}

static double worst_state(const struct report *rp)
{
	double w = 0;

	for (size_t i = 0; i < rp->n_run; i++)
		if (rp->run[i].state_pm > w)
			w = rp->run[i].state_pm;
	return w;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_run(FILE *f, const struct result *r)
{
	fprintf(f, "    {\"name\": ");
	json_str(f, r->name);
	fprintf(f,
		", \"scenario\": \"%s\", \"rekey_on\": \"%s\", "
		"\"join\": \"%s\", \"min_rekey_interval_ms\": %" PRId64 ",\n"
		"     \"members_peak\": %u, \"rekeys\": %" PRIu64 ", "
		"\"forced_"
		"rekeys\": "
		"%" PRIu64 ", \"csb_updates\": %" PRIu64 ", \"mikey_built\": "
		"%" PRIu64 ", \"mikey_verified\": %" PRIu64 ",\n     "
		"\"build_s\": "
		"%.4f, "
		"\"mikey_msgs_per_s\": %.0f, "
		"\"joins\": %" PRIu64 ", \"removals\": %" PRIu64 ", "
		"\"removed_no_"
		"ack\": "
		"%" PRIu64 ", \"rejects\": %" PRIu64 ",\n     "
		"\"max_leave_exposure_"
		"ms\": "
		"%" PRId64 ", "
		"\"open_leave_exposure_at_"
		"end_ms\": %" PRId64 ", \"max_join_reach_ms\": %" PRId64
		", \"min_rekey_gap_ms\": "
		"%" PRId64 ", \"sim_end_ms\": %" PRId64 ",\n     "
		"\"state_bytes\": %zu, "
		"\"state_members\": %u, "
		"\"state_bytes_per_member\": %.1f, \"rss_delta_bytes\": %ld, "
		"\"rss_bytes_per_member\": %.1f, \"wall_s\": %.3f}",
		r->kind == K_CHURN ? "churn" : "join-leave",
		rekey_on_name(r->rekey_on),
		r->join == CONF_JOIN_DEFERRED ? "deferred" : "immediate",
		r->min_interval, r->members_peak, r->rekeys, r->forced,
		r->csb_updates, r->built, r->verified, r->build_s, r->msgs_s,
		r->joins, r->removals, r->no_ack, r->rejects,
		r->max_leave_exposure, r->open_before_end, r->max_join_reach,
		r->min_rekey_gap, r->sim_end, r->state_bytes, r->state_members,
		r->state_pm, r->rss_delta, r->rss_pm, r->wall_s);
}

static void json_fr(FILE *f, const struct fr_result *fr)
{
	fprintf(f,
		"    {\"trigger\": \"%s\", \"members_rekeyed\": %u, "
		"\"csb_updates\": %" PRIu64 ", \"median_ms\": %.3f, "
		"\"median_cpu_ms\": %.3f, \"median_build_ms\": %.3f, "
		"\"us_per_message\": %.3f, \"runs_ms\": [",
		fr->join ? "join" : "leave", fr->group,
		fr->updates + (fr->join ? 1 : 0), fr->med_ms, fr->med_cpu_ms,
		fr->med_build_ms, fr->us_per_msg);
	for (unsigned k = 0; k < fr->n; k++)
		fprintf(f, "%s%.3f", k ? ", " : "", fr->ms[k]);
	fprintf(f, "], \"runs_cpu_ms\": [");
	for (unsigned k = 0; k < fr->n; k++)
		fprintf(f, "%s%.3f", k ? ", " : "", fr->cpu_ms[k]);
	fprintf(f, "]}");
}

static void report_json(FILE *f, const struct opts *o, const struct report *rp)
{
	const struct fr_result *g = goal_fr(rp);
	char cpu[160];

	cpu_model(cpu, sizeof(cpu));
	fprintf(f,
		"{\n  \"suite\": \"conf\",\n  \"machine\": {\"nproc\": %ld, "
		"\"cpu\": ",
		sysconf(_SC_NPROCESSORS_ONLN));
	json_str(f, cpu);
	fprintf(f, ", \"openssl\": ");
	json_str(f, OpenSSL_version(OPENSSL_VERSION));
	fprintf(f,
		"},\n  \"options\": {\"members\": %u, \"rtt_ms\": %" PRId64
		", \"churn_rate_per_s\": %g, \"churn_ms\": %" PRId64
		", \"repeat\": %u, \"seed\": %" PRIu64 ", \"mikey\": %s},\n"
		"  \"scenarios\": [\n",
		o->members, o->rtt, o->churn_rate, o->churn_ms, o->repeat,
		o->seed, o->mikey ? "true" : "false");
	for (size_t i = 0; i < rp->n_run; i++) {
		json_run(f, &rp->run[i]);
		fprintf(f, "%s\n", i + 1 < rp->n_run ? "," : "");
	}
	fprintf(f, "  ],\n  \"full_rekey\": [\n");
	for (size_t i = 0; i < rp->n_fr; i++) {
		json_fr(f, &rp->fr[i]);
		fprintf(f, "%s\n", i + 1 < rp->n_fr ? "," : "");
	}
	fprintf(f, "  ],\n  \"goals\": [");
	if (g)
		fprintf(f,
			"\n    {\"goal\": \"full_rekey_10000_ms\", \"max\": "
			"%.0f, \"value\": %.3f, \"met\": %s},",
			REKEY_GOAL, g->med_ms,
			g->med_ms <= REKEY_GOAL ? "true" : "false");
	if (rp->n_run)
		fprintf(f,
			"\n    {\"goal\": \"state_bytes_per_member\", \"max\": "
			"%.0f, \"value\": %.1f, \"met\": %s}",
			STATE_GOAL, worst_state(rp),
			worst_state(rp) <= STATE_GOAL ? "true" : "false");
	fprintf(f, "\n  ]\n}\n");
}

static void fmt_ms(char *buf, size_t cap, int64_t ms)
{
	if (ms < 0)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.3f", (double)ms / 1000);
}

static void text_run(FILE *f, const struct result *r)
{
	char le[24], jr[24], gap[24];

	fmt_ms(le, sizeof(le), r->max_leave_exposure);
	if (r->open_before_end > 0)
		snprintf(le + strlen(le), sizeof(le) - strlen(le), "*");
	fmt_ms(jr, sizeof(jr), r->max_join_reach);
	fmt_ms(gap, sizeof(gap), r->min_rekey_gap);
	fprintf(f,
		"%-34s %6" PRIu64 " %9" PRIu64 " %9.0f %9s %8s %7s %7.0f "
		"%7.0f %7.2f\n",
		r->name, r->rekeys, r->csb_updates, r->msgs_s, le, jr, gap,
		r->state_pm, r->rss_pm, r->wall_s);
}

static void report_text(FILE *f, const struct opts *o, const struct report *rp)
{
	const struct fr_result *g = goal_fr(rp);
	char cpu[160];

	cpu_model(cpu, sizeof(cpu));
	fprintf(f,
		"bench conf: %u members, member answers after %" PRId64
		" ms +-50%%, MIKEY building %s, seed %" PRIu64 "\n"
		"cpu: %s (%ld online); %s; one thread, not pinned\n\n",
		o->members, o->rtt, o->mikey ? "on" : "off (--no-mikey)",
		o->seed, cpu, sysconf(_SC_NPROCESSORS_ONLN),
		OpenSSL_version(OPENSSL_VERSION));
	if (rp->n_run) {
		fprintf(f, "%-34s %6s %9s %9s %9s %8s %7s %7s %7s %7s\n",
			"scenario/rekey-on/join/min", "rekeys", "updates",
			"msgs/s", "leave-exp", "reach", "min-gap", "B/memb",
			"RSS/mb", "wall s");
		for (size_t i = 0; i < rp->n_run; i++)
			text_run(f, &rp->run[i]);
		fprintf(f,
			"\nrekeys, updates: epochs after the first and "
			"SEND_UPDATEs (churn: during the churn\nonly). msgs/s: "
			"real MIKEY CSB updates built per second of building "
			"(wall). leave-exp,\nreach, min-gap: seconds of "
			"simulated time (max leave exposure, * = still open "
			"at\n"
			"END; max join reach; smallest gap between rekeys). "
			"B/memb: conf_stats state bytes\nper member at peak; "
			"RSS/mb: process RSS growth per member (the simulated "
			"members'\nprepared MIKEY keys included). wall s: the "
			"whole scenario.\n\n");
	}
	if (rp->n_fr) {
		fprintf(f, "%-26s %9s %9s %9s %9s %8s   runs (ms)\n",
			"full rekey (one event)", "messages", "median ms",
			"cpu ms", "build ms", "us/msg");
		for (size_t i = 0; i < rp->n_fr; i++) {
			const struct fr_result *fr = &rp->fr[i];
			char name[40];

			snprintf(name, sizeof(name), "%s, %u members",
				 fr->join ? "join" : "leave", fr->group);
			fprintf(f,
				"%-26s %9" PRIu64 " %9.2f %9.2f %9.2f %8.2f  ",
				name, fr->updates + (fr->join ? 1 : 0),
				fr->med_ms, fr->med_cpu_ms, fr->med_build_ms,
				fr->us_per_msg);
			for (unsigned k = 0; k < fr->n; k++)
				fprintf(f, " %.2f", fr->ms[k]);
			fputc('\n', f);
		}
		fprintf(f,
			"\nfrom the event to the last CSB update built and "
			"MACed: one conf_handle call\n(join: the JOIN_REQUEST "
			"plus the joiner's own update at JOIN_DONE); wall "
			"clock,"
			"\nmedian of %u; cpu: thread CPU time; build: the part "
			"spent in mikey_seal.\n\n",
			o->repeat);
	}
	if (rp->n_run && o->mikey) {
		uint64_t v = 0;

		for (size_t i = 0; i < rp->n_run; i++)
			v += rp->run[i].verified;
		fprintf(f,
			"%" PRIu64 " sampled CSB updates (1 in %d) decoded and "
			"checked as their member would:\nlayout, MAC, KEMAC "
			"contents = the epoch's TEK, salt and MKI: all good.\n",
			v, VERIFY_EVERY);
	}
	if (g)
		fprintf(f,
			"goal full rekey of %u members <= %.0f ms: %s "
			"(%.2f ms median, %.2f ms cpu)\n",
			GOAL_GROUP, REKEY_GOAL,
			g->med_ms <= REKEY_GOAL ? "MET" : "NOT MET", g->med_ms,
			g->med_cpu_ms);
	if (rp->n_run)
		fprintf(f,
			"goal conference state <= %.0f bytes per member: %s "
			"(worst %.0f)\n",
			STATE_GOAL,
			worst_state(rp) <= STATE_GOAL ? "MET" : "NOT MET",
			worst_state(rp));
}

/* ---- options ---------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: conclave bench conf [options]\n\n"
		   "Simulates conferences on the conference core (src/conf) in "
		   "simulated time and\nbuilds a real MIKEY CSB-update message "
		   "(RFC 6043 §5.2 TRANSFER_INIT: KEMAC\nwith the epoch's "
		   "TEK+SALT, V MAC; mikey_seal with the member's prepared "
		   "keys) for\nevery SEND_UPDATE. Members answer (JOIN_DONE, "
		   "REKEY_ACK) after --rtt ms +-50%%.\n\n"
		   "scenarios:\n"
		   "  join-leave  N join over 10 s, then 30%% leave over 10 s; "
		   "every rekey-on\n"
		   "              (none|join|leave|join,leave) x join "
		   "(immediate|deferred) x\n"
		   "              min-rekey-interval (0, 1, 5 s): 24 runs\n"
		   "  churn       N join over 10 s, then a join and a leave "
		   "every "
		   "1/rate s for\n"
		   "              --churn-seconds; the same 24 policies\n"
		   "  full-rekey  one leave (rekey-on leave, interval 0) that "
		   "rekeys 1,000 and N\n"
		   "              members, and one join (rekey-on join) into "
		   "1,000 "
		   "and N: time from\n"
		   "              the event to the last update built and "
		   "MACed, "
		   "median of --repeat\n\n"
		   "options:\n"
		   "  --scenario LIST   comma list of join-leave, churn, "
		   "full-rekey (default all)\n"
		   "  --only STR        only scenario runs whose name contains "
		   "STR, e.g.\n"
		   "                    \"join-leave/leave/deferred/1s\"\n"
		   "  --members N       conference size N (default 10000)\n"
		   "  --rtt MS          member answer delay (default 100)\n"
		   "  --churn-rate R    joins/s and leaves/s (default 20)\n"
		   "  --churn-seconds S churn duration, simulated (default "
		   "60)\n"
		   "  --repeat N        full-rekey runs, median reported "
		   "(default 5)\n"
		   "  --seed N          random seed (default 1)\n"
		   "  --no-mikey        skip MIKEY building: state machine "
		   "speed only\n"
		   "  --json            one JSON object on stdout instead of a "
		   "table\n"
		   "  --help            this text\n"
		   "Progress goes to stderr. Goals (issue 4 §7): full rekey of "
		   "10,000 members\n<= 100 ms; <= 2 KiB of conference state "
		   "per "
		   "member (reported, not the exit\nstatus).\n");
}

static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	v = strtoull(s, &end, 10);
	if (*end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_kinds(const char *s, unsigned *kinds)
{
	char buf[64], *tok, *save = NULL;

	if (!s || strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	*kinds = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "join-leave"))
			*kinds |= K_JOIN_LEAVE;
		else if (!strcmp(tok, "churn"))
			*kinds |= K_CHURN;
		else if (!strcmp(tok, "full-rekey"))
			*kinds |= K_FULL;
		else
			return false;
	}
	return *kinds != 0;
}

static bool parse_opt(int argc, char **argv, int *i, struct opts *o)
{
	const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	uint64_t x;

	if (!strcmp(a, "--json"))
		return o->json = true;
	if (!strcmp(a, "--no-mikey")) {
		o->mikey = false;
		return true;
	}
	(*i)++;
	if (!strcmp(a, "--members") &&
	    parse_u64(v, 2, CONF_MEMBERS_LIMIT / 2, &x))
		o->members = (uint32_t)x;
	else if (!strcmp(a, "--rtt") && parse_u64(v, 0, 60000, &x))
		o->rtt = (int64_t)x;
	else if (!strcmp(a, "--churn-rate") && parse_u64(v, 1, 10000, &x))
		o->churn_rate = (double)x;
	else if (!strcmp(a, "--churn-seconds") && parse_u64(v, 1, 86400, &x))
		o->churn_ms = (int64_t)x * 1000;
	else if (!strcmp(a, "--repeat") && parse_u64(v, 1, MAX_REPEAT, &x))
		o->repeat = (unsigned)x;
	else if (!strcmp(a, "--seed") && parse_u64(v, 0, UINT64_MAX, &x))
		o->seed = x;
	else if (!strcmp(a, "--scenario") && parse_kinds(v, &o->kinds))
		;
	else if (!strcmp(a, "--only") && v)
		o->only = v;
	else {
		fprintf(stderr, "bench conf: bad option or value: %s %s\n", a,
			v ? v : "");
		return false;
	}
	return true;
}

/* 0 to go on, else exit status + 1 */
static int parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->members = 10000;
	o->rtt = 100;
	o->churn_rate = 20;
	o->churn_ms = 60000;
	o->repeat = 5;
	o->seed = 1;
	o->mikey = true;
	o->kinds = K_JOIN_LEAVE | K_CHURN | K_FULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 1;
		}
		if (!parse_opt(argc, argv, &i, o)) {
			usage(stderr);
			return 3;
		}
	}
	return 0;
}

/* ---- main ---------------------------------------------------------------------------------- */

static enum cc_err run_kind(const struct opts *o, enum kind kind,
			    struct report *rp)
{
	static const unsigned ron[] = { CONF_REKEY_NONE, CONF_REKEY_JOIN,
					CONF_REKEY_LEAVE,
					CONF_REKEY_JOIN_LEAVE };
	static const int64_t mins[] = { 0, 1000, 5000 };
	const char *kname = kind == K_CHURN ? "churn" : "join-leave";
	enum cc_err err = CC_OK;

	for (size_t a = 0; !err && a < 4; a++)
		for (size_t j = 0; !err && j < 2; j++)
			for (size_t m = 0; !err && m < 3; m++) {
				struct combo c = { ron[a],
						   j ? CONF_JOIN_DEFERRED :
						       CONF_JOIN_IMMEDIATE,
						   mins[m] };
				struct result *r = &rp->run[rp->n_run];

				if (rp->n_run >= MAX_RUNS)
					return CC_ERR_FULL;
				memset(r, 0, sizeof(*r));
				combo_name(r->name, sizeof(r->name), kname, &c);
				if (o->only && !strstr(r->name, o->only))
					continue;
				fprintf(stderr, "bench conf: %s ...\n",
					r->name);
				err = run_scenario(o, kind, &c, r);
				if (err)
					break;
				rp->n_run++;
				fprintf(stderr,
					"bench conf: %s: %" PRIu64 " rekeys, "
					"%" PRIu64 " updates, %.0f msgs/s, "
					"%.2f s\n",
					r->name, r->rekeys, r->csb_updates,
					r->msgs_s, r->wall_s);
			}
	return err;
}

static enum cc_err run_fulls(const struct opts *o, struct report *rp)
{
	uint32_t sizes[2] = { 1000, o->members };
	size_t ns = o->members == 1000 ? 1 : 2;
	enum cc_err err = CC_OK;

	if (o->members < 1000)
		sizes[0] = o->members, ns = 1;
	for (size_t t = 0; !err && t < 2; t++)
		for (size_t i = 0; !err && i < ns; i++) {
			err = run_full(o, sizes[i], t == 1, &rp->fr[rp->n_fr]);
			if (!err)
				rp->n_fr++;
		}
	return err;
}

int bench_conf(int argc, char **argv)
{
	struct report *rp;
	struct opts o;
	enum cc_err err = CC_OK;
	int rc = parse(argc, argv, &o);

	if (rc)
		return rc - 1;
	rp = calloc(1, sizeof(*rp));
	if (!rp)
		return 3;
	if (o.kinds & K_FULL)
		err = run_fulls(&o, rp);
	if (!err && (o.kinds & K_JOIN_LEAVE))
		err = run_kind(&o, K_JOIN_LEAVE, rp);
	if (!err && (o.kinds & K_CHURN))
		err = run_kind(&o, K_CHURN, rp);
	if (err) {
		fprintf(stderr, "bench conf: failed: %s\n", cc_strerror(err));
		free(rp);
		return 3;
	}
	if (o.json)
		report_json(stdout, &o, rp);
	else
		report_text(stdout, &o, rp);
	free(rp);
	return 0;
}
