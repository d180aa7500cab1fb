/*
 * bench_conf.h -- private to `conclave bench conf` (bench_conf*.c): its
 * limits and constants, options, the event queue, the simulated
 * conference, the results, and the functions its files share.
 */
#ifndef CONCLAVE_APP_BENCH_CONF_H
#define CONCLAVE_APP_BENCH_CONF_H

#include "bench.h"

#include <conclave/conf.h>
#include <conclave/mikey.h>

#include <time.h>

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

/* ---- the event queue */

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

/* ---- the simulated focus and members */

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

/* ---- scenarios */

struct combo {
	unsigned rekey_on;
	enum conf_join join;
	int64_t min_interval;
};

struct fr_result {
	uint32_t group; /* members that get the update */
	bool join;      /* trigger: a join (else a leave) */
	unsigned n;     /* runs */
	double ms[MAX_REPEAT], cpu_ms[MAX_REPEAT], build_ms[MAX_REPEAT];
	uint64_t updates; /* per run (all runs must agree) */
	double med_ms, med_cpu_ms, med_build_ms, us_per_msg;
};

/* What the report covers. */
struct report {
	struct result run[MAX_RUNS];
	size_t n_run;
	struct fr_result fr[MAX_FR];
	size_t n_fr;
};

/* ---- bench_conf_sim.c ---- */

/* The next value of the splitmix64 generator at *s. */
uint64_t bench_conf_splitmix(uint64_t *s);

/* n bytes of the splitmix64 generator at *s into buf. */
void bench_conf_fill_rand(uint64_t *s, uint8_t *buf, size_t n);

/* The clock id in seconds. */
double bench_conf_clock_s(clockid_t id);

/* Resident set size of this process in bytes (0 if unknown). */
long bench_conf_rss_bytes(void);

/* Give freed heap back, so the next scenario's RSS delta starts clean. */
void bench_conf_heap_trim(void);

/* Queue an event of kind at time at; its arrival order breaks ties. */
enum cc_err bench_conf_q_push(struct queue *q, int64_t at, enum sev kind,
			      conf_mid mid, uint32_t arg);

/* Free everything the simulation holds and zero it. */
void bench_conf_sim_free(struct sim *s);

/* One event into the core at the simulated now; the core's error or the action handler's first failure (named on stderr). */
enum cc_err bench_conf_sim_handle(struct sim *s, struct conf_event *ev);

/* A conference of n_ids allowed identities (plus the owner), created at
 * t = 0 with the policy in s->pol. */
enum cc_err bench_conf_sim_init(struct sim *s, const struct opts *o,
				uint32_t n_ids, uint64_t seed);

/* A JOIN_REQUEST from the next identity not in the conference (none if all are in). */
enum cc_err bench_conf_do_join(struct sim *s);

/* A random joined member leaves (none if nobody has joined). */
enum cc_err bench_conf_do_leave(struct sim *s);

/* Run until the queue is empty. */
enum cc_err bench_conf_sim_drain(struct sim *s);

/* ---- bench_conf_msg.c ---- */

/* The member's TRANSFER_RESP keys: random, prepared once at its join. */
enum cc_err bench_conf_member_keys(struct sim *s, struct smember *m);

/*
 * RFC 6043 §5.2 Responder-started CSB update (TRANSFER_INIT), as
 * examples.c update_init(): HDR (GENERIC-ID: CS 1 member -> focus, CS 2
 * focus -> member, SPI = MKI), T, IDRr, IDRi, KEMAC (TEK+SALT, KV = SPI),
 * V; KEMAC encrypted and V MACed with the member's prepared keys.
 */
enum cc_err bench_conf_build_update(struct sim *s, const struct smember *m,
				    const struct conf_epoch_keys *k);

/* The member's side of the message just built: all of it must hold. */
enum cc_err bench_conf_check_update(struct sim *s, const struct smember *m,
				    const struct conf_epoch_keys *k);

/* ---- bench_conf_scen.c ---- */

/* The rekey-on policy as the CLI spells it. */
const char *bench_conf_rekey_on_name(unsigned r);

/* KIND/REKEY-ON/JOIN/MINs: the name of a scenario run. */
void bench_conf_combo_name(char *buf, size_t cap, const char *kind,
			   const struct combo *c);

/* One scenario run of kind with the policy c; its figures into r. */
enum cc_err bench_conf_run_scenario(const struct opts *o, enum kind kind,
				    const struct combo *c, struct result *r);

/* The full-rekey runs: o->repeat timed leaves (or joins, join) that rekey group members; median into fr. */
enum cc_err bench_conf_run_full(const struct opts *o, uint32_t group, bool join,
				struct fr_result *fr);

/* ---- bench_conf_report.c ---- */

/* The report as one JSON object on f. */
void bench_conf_report_json(FILE *f, const struct opts *o,
			    const struct report *rp);

/* The report as a table on f. */
void bench_conf_report_text(FILE *f, const struct opts *o,
			    const struct report *rp);

#endif
