/*
 * bench_kms.h -- private to `conclave bench kms` (bench_kms*.c): its
 * limits, options, statistics, parties, the daemon's environment, the
 * load generator's state, and the functions its files share.
 */
#ifndef CONCLAVE_APP_BENCH_KMS_H
#define CONCLAVE_APP_BENCH_KMS_H

#include "bench.h"

#include <conclave/kms_store.h>
#include <conclave/kmsc.h>

#include <limits.h>
#include <signal.h>
#include <sys/types.h>

/* Declared here and in cmd_bench.c (bench.h is not this file's to edit). */
int bench_kms(int argc, char **argv);

#define BK_KMS_ID "sip:kms.bench.example"
#define BK_REALM "bench.example"

enum {
	BK_MAX_CONNS = 512,
	BK_HIST_US = 200000, /* 1 us buckets up to 200 ms, then overflow */
	BK_IN_CAP = 16384,
	BK_HDR_MAX = 512,
	BK_MAX_ERRNO = 32,
	BK_MAX_ARGS = 32,
	BK_PSK_LEN = 16,
	BK_REPLAY_CAP = 1048576, /* kmsd's default replay_capacity */
	BK_MAX_REPLICAS = 4,
};

/* ---- options ---------------------------------------------------------- */

struct bk_opts {
	const char *kmsd;     /* daemon binary */
	const char *url;      /* an already-running kmsd instead */
	const char *cred;     /* --url: requester credential file */
	const char *res_cred; /* --url: resolver credential file */
	long kmsd_pid;        /* --url: for RSS and CPU figures */
	unsigned conns;
	uint64_t pairs;  /* measured pairs; 0 = run for seconds */
	double seconds;  /* measured time (without --pairs) */
	double warmup;   /* seconds before measuring */
	double inproc_s; /* in-process limit run; 0 = skip */
	unsigned users;  /* users in the store (at least 2 per conn) */
	const char *kargs[BK_MAX_ARGS]; /* --kmsd-arg: extra daemon flags */
	size_t nkargs;
	bool json, keep, rss_run, no_http;
	/* issue 7 §5: the store kmsd runs on ("sqlite:" in the temp dir by
	 * default, or postgresql:CONNINFO, an empty database), the kmsd
	 * replicas on it (the connections split over them), and --scale
	 * CONNINFO: SQLite, 1 kmsd on PostgreSQL, --replicas on it, one run */
	const char *store;
	unsigned replicas;
	const char *scale;
};

/* Latencies in 1 us buckets (bench_kms_stats.c). */
struct bk_hist {
	uint32_t *b; /* BK_HIST_US buckets of 1 us */
	uint64_t n, over, max_us;
	double sum_us;
};

/* What a run produced (HTTP or in-process). */
struct bk_stats {
	struct bk_hist pair, req, res;        /* latencies */
	uint64_t pairs;                       /* completed without error */
	uint64_t err_mikey[BK_MAX_ERRNO + 1]; /* by MIKEY Error no */
	uint64_t err_local, err_http, err_io;
	double client_ns; /* in kmsc_* (building and opening) */
	double kms_ns;    /* in kms_handle (in-process only) */
	double wall_s, cpu_s;
};

/* A requester (Alice) and a resolver (Bob) with their options. */
struct bk_party {
	struct kmsc_cred alice, bob; /* requester, resolver */
	const char *to[1];
	struct kmsc_request_opts ro;
	struct kmsc_transfer_opts xo;
	struct kmsc_responder rb;
	uint32_t ssrc;
};

/* One pair in flight: everything the two clients keep. Secret. */
struct bk_pair {
	struct kmsc_request rq;
	struct kmsc_ticket t;
	struct kmsc_csb ci, cr;
	uint8_t xi[KMSC_MAX_MSG];
	size_t xi_len;
	uint8_t ri[KMSC_MAX_MSG];
	size_t ri_len;
	struct kmsc_status st;
};

/* The temp dir and the daemon started in it (bench_kms_daemon.c). */
struct bk_env {
	char dir[PATH_MAX];
	bool have_dir;
	pid_t pid; /* the daemon we started, 0 if none */
	char host[64];
	int port;
	uint8_t master[KMS_MASTER_KEY_LEN];
	const char *db; /* the daemon's --db; NULL: sqlite:DIR/kms.db */
};

enum bk_stage {
	BK_IDLE = 0,
	BK_REQUEST, /* REQUEST_INIT sent */
	BK_RESOLVE, /* RESOLVE_INIT sent */
};

/* One keep-alive connection with its pair in flight. */
struct bk_conn {
	int fd;
	enum bk_stage stage;
	const struct bk_party *pt;
	struct bk_pair *p;
	uint64_t t_pair, t_msg; /* pair and message start, mono ns */
	uint8_t out[BK_HDR_MAX + KMSC_MAX_MSG];
	size_t out_len, out_off;
	bool want_out;
	uint8_t in[BK_IN_CAP];
	size_t in_len;
};

/* The HTTP load generator and what it saw of the daemon. */
struct bk_load {
	const struct bk_opts *o;
	const char *host, *path;
	int port, ep;
	long pid; /* the daemon, for /proc; 0 if unknown */
	/* more replicas: connection i goes to replica i % (1 + nrep) */
	int rport[BK_MAX_REPLICAS];
	long rpid[BK_MAX_REPLICAS];
	unsigned nrep;
	struct bk_conn *c;
	unsigned nc;
	struct kmsc_env env;
	struct bk_stats s;
	bool measuring, ending;
	uint64_t t0, tend; /* measured phase */
	uint64_t started;  /* pairs started while measuring */
	/* the daemon */
	double kcpu0, kcpu1;
	uint64_t rss_first, rss_last, rss_max, rss_mid, hwm;
	uint64_t rss_samples;
	uint64_t req_total; /* requests sent, warmup included */
};

/* What the report covers (bench_kms_report.c). */
struct bk_report {
	const struct bk_stats *http, *inproc; /* either may be NULL */
	const struct bk_load *l;
	long long replay;
	unsigned conns;
};

/* The signal that stopped the run (SIGINT, SIGTERM), 0 while none. */
extern volatile sig_atomic_t bench_kms_signal;

/* ---- bench_kms_stats.c ---- */

/* Allocate the BK_HIST_US buckets of h (zeroed); false if out of memory. */
bool bench_kms_hist_init(struct bk_hist *h);

/* Empty h, keeping its buckets. */
void bench_kms_hist_reset(struct bk_hist *h);

/* Count one latency of ns nanoseconds. */
void bench_kms_hist_add(struct bk_hist *h, uint64_t ns);

/* The q-quantile in us (upper edge of its 1 us bucket). */
double bench_kms_hist_q(const struct bk_hist *h, double q);

/* Free the buckets of h. */
void bench_kms_hist_free(struct bk_hist *h);

/* All the errors of a run, of every kind. */
uint64_t bench_kms_stats_errors(const struct bk_stats *s);

/* CLOCK_MONOTONIC in ns. */
uint64_t bench_kms_mono_ns(void);

/* CPU time of this process, seconds. */
double bench_kms_proc_cpu_s(void);

/* VmRSS and VmHWM of a process, in KiB; false if it is gone. */
bool bench_kms_proc_rss(long pid, uint64_t *rss, uint64_t *hwm);

/* utime + stime of a process, seconds; -1 if it is gone. */
double bench_kms_proc_cpu_of(long pid);

/* SIGINT and SIGTERM set bench_kms_signal (no SA_RESTART). */
void bench_kms_catch_signals(void);

/* ---- bench_kms_pair.c ---- */

/* Point the request, transfer and resolve options of pt at its own users. */
void bench_kms_party_wire(struct bk_party *pt);

/* Free and wipe what one pair holds (its CSBs and ticket). */
void bench_kms_pair_clear(struct bk_pair *p);

/* Account for a failed step: st tells a MIKEY Error from our own. */
void bench_kms_count_fail(struct bk_stats *s, const struct kmsc_status *st);

/* Alice: a fresh REQUEST_INIT_PSK into p->rq.msg. */
enum cc_err bench_kms_pair_start(const struct bk_party *pt, struct bk_pair *p,
				 const struct kmsc_env *env);

/* Alice opens the REQUEST_RESP and builds the TRANSFER_INIT; Bob takes it
 * and builds the RESOLVE_INIT_PSK into p->ri. */
enum cc_err bench_kms_pair_ticket(const struct bk_party *pt, struct bk_pair *p,
				  const uint8_t *resp, size_t len,
				  const struct kmsc_env *env);

/* Bob opens the RESOLVE_RESP and verifies Alice's TRANSFER_INIT. */
enum cc_err bench_kms_pair_finish(const struct bk_party *pt, struct bk_pair *p,
				  const uint8_t *resp, size_t len,
				  const struct kmsc_env *env);

/* A credential for user of BK_REALM at the bench KMS; the PSK is left to the caller. */
void bench_kms_make_cred(struct kmsc_cred *c, const char *user,
			 const char *url);

/* A store at path with every party's users, then filler users up to
 * nusers in all (so the lookups run on tables of a realistic size). */
enum cc_err bench_kms_make_store(const char *path,
				 const uint8_t master[KMS_MASTER_KEY_LEN],
				 const struct bk_party *pt, size_t np,
				 unsigned nusers);

/* The same pairs on one thread with no HTTP, on an equivalent store (the
 * daemon's defaults: skew 300 s, 1 Mi replay entries). */
int bench_kms_inproc_run(const struct bk_env *e, const struct bk_party *pt,
			 size_t np, double seconds, struct bk_stats *s);

/* ---- bench_kms_daemon.c ---- */

/* The path of name in the temp dir of e. */
void bench_kms_path_in(const struct bk_env *e, const char *name, char *out,
		       size_t cap);

/* Remove the temp dir of e and what is in it (if there is one). */
void bench_kms_rm_dir(struct bk_env *e);

/* Copy the daemon's log to stderr. */
void bench_kms_show_log(const struct bk_env *e);

/* Stop the daemon of e with SIGTERM (SIGKILL after 5 s); reap it. */
void bench_kms_kmsd_stop(struct bk_env *e);

/*
 * Start the daemon. kmsd logs its port ("listening http ADDR:PORT") at
 * level info only, so it starts with a config file saying info, and once
 * the port is read the file says warn and a SIGHUP applies it (log_level
 * is reloadable; flags keep their value). The per-request info lines
 * would otherwise cost the daemon a write(2) each.
 */
int bench_kms_kmsd_start(struct bk_env *e, const struct bk_opts *o);

/* ---- bench_kms_load.c ---- */

/* Blocking GET of path: the HTTP status, or -1. */
int bench_kms_http_get_ok(const char *host, int port, const char *path);

/* kms_replay_size from /metrics, -1 if unknown. */
long long bench_kms_replay_size(const char *host, int port);

/* Close the connections and free what the load holds. */
void bench_kms_load_free(struct bk_load *l);

/* Open l->nc connections, the i-th running pairs of pt[i % np]; 0 or -1. */
int bench_kms_load_open(struct bk_load *l, const struct bk_party *pt,
			size_t np);

/* The HTTP run: warmup, then seconds or pairs. */
int bench_kms_load_run(struct bk_load *l);

/* ---- bench_kms_report.c ---- */

/* The report as one JSON object on f. */
void bench_kms_report_json(FILE *f, const struct bk_report *r);

/* The report as text on f. */
void bench_kms_report_text(FILE *f, const struct bk_report *r);

#endif
