/*
 * bench_confd.h -- private to `conclave bench confd` (bench_confd*.c):
 * options, the environment (temp dir, KMS store, daemons), the load
 * process's UAs, the media phase and the SIP baseline, and the results.
 */
#ifndef CONCLAVE_APP_BENCH_CONFD_H
#define CONCLAVE_APP_BENCH_CONFD_H

#include "bench.h"

#include <conclave/kms_store.h>
#include <conclave/kmsc.h>
#include <conclave/media.h>

#include <limits.h>
#include <signal.h>
#include <sys/types.h>

/* Declared here and in cmd_bench.c. */
int bench_confd(int argc, char **argv);

#define BCD_REALM "bench.example"
#define BCD_KMS_ID "sip:kms.bench.example"
#define BCD_FACTORY "sip:factory.conf1@bench.example"

enum {
	BCD_IDS = 15, /* member identities: the creation ticket holds the
			   * factory + 15 IDRr (KMSC_MAX_RESPONDERS = 16) */
	BCD_MAX_SIZES = 4,
	BCD_PSK_LEN = 16,
	BCD_HIST_US = 2000000,   /* join latency: 1 us buckets up to 2 s */
	BCD_ROUNDS_MAX = 15,     /* --inproc-rounds */
	BCD_SDES_DEFAULT = 1000, /* --sdes: SDES joins after the KMS joins */
	BCD_SDES_MAX = 20000,
	BCD_MAX_CONFS = 16, /* conferences of the load (--scale: 3 phases) */
	BCD_SCALE_CONFS_MAX = 5,
};

struct bcd_opts {
	const char *kmsd, *confd, *kamailio_cfg;
	unsigned sizes[BCD_MAX_SIZES]; /* rekey sizes, ascending */
	size_t nsizes;
	unsigned conc;          /* joins in flight */
	unsigned speakers;      /* media */
	unsigned listeners;     /* media */
	unsigned pps;           /* per speaker */
	double media_s;         /* media phase through confd */
	double inproc_s;        /* each in-process fan-out run */
	unsigned inproc_rounds; /* of the 6 runs, interleaved; medians */
	double sip_s;           /* sipp run (per target) */
	unsigned sipp_rate;     /* offered calls/s */
	bool json, keep, no_kamailio, no_media;
	bool only_media; /* --only media: no joins/rekey phase, no SIP */
	bool only_joins; /* --only joins: joins, rekeys, SDES joins */
	unsigned sdes;   /* SDES joins into the KMS joins' conference (0: no) */
	/* --storm N: only the join storm (issue 5 §4), see bcd_storm() */
	unsigned storm;      /* joiners (0: the benchmark) */
	double storm_window; /* s: every join done within it */
	double storm_spread; /* s: INVITEs sent evenly over it */
	/* --scale (issue 7 §5): 1 confd node direct, 1 node behind
	 * Kamailio, 2 nodes behind Kamailio (etc/kamailio-dispatch.cfg) */
	bool scale;
	unsigned scale_confs;   /* conferences per phase */
	unsigned scale_members; /* joiners per conference = rekey size */
	unsigned scale_drain;   /* s idle between phases (timers expire) */
	const char *dispatch_cfg;
	const char *confd_extra; /* file: lines appended to confd's config */
};

/* Children and files (bench_confd_env.c). */
struct bcd_env {
	char dir[PATH_MAX];
	bool have_dir;
	pid_t kmsd, confd;
	int kms_port, sip_port;
	uint8_t master[KMS_MASTER_KEY_LEN];
	struct kmsc_cred owner;        /* the creator */
	struct kmsc_cred ids[BCD_IDS]; /* members (shared by joiners) */
	char url[128];                 /* KMS URL */
	/* --scale: node 2 (confd2.log), Kamailio, their ports; the log the
	 * rekey reads ("" = confd.log) */
	pid_t confd2, kam;
	int node_port[2], kam_port;
	char rk_log[16];
};

/* Latencies in 1 us buckets. */
struct bcd_hist {
	uint32_t *b;
	uint64_t n, over;
	double max_us;
};

struct bcd_join_res {
	uint64_t ok, fail;
	double wall_s; /* sum of the join phases */
	double p50_ms, p99_ms, max_ms;
	double kmsd_cpu_s, confd_cpu_s, load_cpu_s;
	unsigned conc;
};

/* SDES joins (issue 6 §8): INVITE with a=crypto (own key, MKI) and
 * a=ssrc, no key-mgmt -> 200 OK with the group key's a=crypto -> ACK;
 * confd runs sdes_insecure yes (UDP on loopback), sdes_allow *. */
struct bcd_sdes_res {
	bool ran;
	unsigned conc, members_before; /* members of the conference before */
	uint64_t ok, fail;
	int last_status; /* of a failed join: SIP status, -errno */
	double wall_s;
	double p50_ms, p99_ms, max_ms;
	double kmsd_cpu_s, confd_cpu_s, load_cpu_s;
};

struct bcd_rekey_res {
	unsigned members;  /* members that had to acknowledge */
	uint64_t answered; /* re-INVITEs answered by them */
	double load_ms;    /* BYE sent -> last 200 OK sent (load) */
	double confd_ms;   /* BYE logged -> SWITCH_MKI logged (confd) */
	uint64_t switched; /* members that got the switch INFO (D7) */
	double switch_ms;  /* BYE sent -> the last switch INFO verified */
	bool done;
};

struct bcd_media_res {
	bool ran;
	unsigned members, speakers, listeners, pps;
	double secs;
	uint64_t sent, received, expected;
	double rx_pps;      /* copies received per second */
	double confd_cpu_s; /* confd CPU during the phase */
	double copies_per_cpu_s;
	/* in-process, same key and fan-out size, copies/s: sendto per copy,
	 * batched (media_sendq, sendmmsg), crypto only */
	double perleg_sendto, perleg_mmsg, perleg_crypto;
	double group_sendto, group_mmsg, group_crypto;
	unsigned inproc_rounds; /* each figure is the median of these */
	char err[160];
};

struct bcd_sip_res {
	bool ran, kamailio;
	char why[256]; /* why Kamailio could not run, or "" */
	uint64_t ok, fail;
	double secs, cps;      /* proxied (or direct) calls/s */
	uint64_t d_ok, d_fail; /* sipp UAC -> UAS directly */
	double d_secs, d_cps;
	double kam_cpu_s;
};

/* The join storm: N joins paced over the spread, confd configured
 * rekey-on=join,leave and min-rekey-interval=1s (BCD_STORM_MIN_REKEY_MS). */
struct bcd_storm_res {
	uint64_t ok, fail;          /* joins: ACK sent after 200 OK / failed */
	int last_status;            /* of a failed join: SIP status, -errno */
	double invite_span_ms;      /* first INVITE sent -> last INVITE sent */
	double join_span_ms;        /* first INVITE sent -> last ACK sent */
	long log_from;              /* confd.log offset when the storm began */
	uint32_t epoch_before;      /* newest epoch before the storm */
	bool settled;               /* newest epoch switched, then quiet */
	double settle_ms;           /* last ACK -> settled */
	unsigned members, on_final; /* members; those holding final_epoch */
};

/* confd.log lines from an offset on (bcd_confd_epochs). */
struct bcd_epochs {
	unsigned created;  /* "epoch E (MKI ...) created" (NEW_EPOCH) */
	unsigned switched; /* "SWITCH_MKI epoch E" */
	unsigned joined;   /* "... joined, N member(s)" (JOIN_DONE) */
	unsigned removed;  /* "... removed: ..." */
	unsigned refused;  /* "... refused" (a join or a rekey answer) */
	uint32_t first_created, last_created, last_switched;
	double first_join_ms, last_join_ms; /* log stamps, ms of the day */
};

enum {
	BCD_STORM_MIN_REKEY_MS = 1000
};

struct bcd_res {
	struct bcd_join_res join;
	struct bcd_sdes_res sdes;
	struct bcd_rekey_res rekey[BCD_MAX_SIZES];
	size_t nrekey;
	struct bcd_media_res media;
	struct bcd_sip_res sip;
	struct bcd_storm_res storm;
	double total_s;
};

/* SIGINT/SIGTERM seen (0 while none). */
extern volatile sig_atomic_t bcd_signal;

/* ---- bench_confd_env.c ---- */
uint64_t bcd_mono_ns(void);
double bcd_wall_ms(void);    /* CLOCK_REALTIME, ms */
double bcd_cpu_of(long pid); /* utime+stime of pid, s; -1 if gone */
bool bcd_rss_of(long pid, uint64_t *kib);
int bcd_free_port(void);
int bcd_env_setup(struct bcd_env *e, const struct bcd_opts *o);
int bcd_env_start(struct bcd_env *e, const struct bcd_opts *o);
void bcd_env_stop(struct bcd_env *e);
void bcd_env_rm(struct bcd_env *e);
void bcd_path(const struct bcd_env *e, const char *name, char *out, size_t cap);
/* Spawn argv with stdout+stderr to log (in the temp dir); 0 on failure. */
pid_t bcd_spawn(const struct bcd_env *e, const char *const *argv,
		const char *log);
/* SIGTERM, wait up to ms, then SIGKILL; reap. */
void bcd_stop_child(pid_t *pid, int ms);
/* Time in ms between the last line holding a before the offset at, and
 * the first line after it holding b, in confd.log; -1 if not found. The
 * offset is where the log was when the trigger was sent. */
long bcd_log_size(const struct bcd_env *e, const char *name);
double bcd_confd_span_ms(const struct bcd_env *e, long from, const char *a,
			 const char *b);
/* Count NEW_EPOCH / SWITCH_MKI / join / removal lines of confd.log from
 * the offset on. */
void bcd_confd_epochs(const struct bcd_env *e, long from, struct bcd_epochs *r);
void bcd_show_log(const struct bcd_env *e, const char *name);
/* confd node k (0: confd.conf/.log, untagged; 1, 2: `node nK`, logs
 * confd.log, confd2.log) on UDP port. */
int bcd_start_node(struct bcd_env *e, const struct bcd_opts *o, unsigned k,
		   int port, pid_t *pid);

/* ---- bench_confd_report.c: histograms ---- */
bool bcd_hist_init(struct bcd_hist *h);
void bcd_hist_add(struct bcd_hist *h, uint64_t ns);
double bcd_hist_q(const struct bcd_hist *h, double q); /* ms */
void bcd_hist_free(struct bcd_hist *h);

/* ---- bench_confd_ua.c: the load process (libre, many UAs) ---- */
struct bcd_load;

/* A media member as the media phase needs it. */
struct bcd_mm {
	int fd; /* its RTP socket (non-blocking, 127.0.0.1) */
	uint32_t ssrc;
	uint8_t tek[16], salt[14];
	uint32_t mki;
	uint64_t rx;
};

int bcd_load_new(struct bcd_load **lp, struct bcd_env *e,
		 const struct bcd_opts *o);
void bcd_load_free(struct bcd_load *l);
/* Create a conference (conf 0 or 1) through the factory. */
int bcd_create(struct bcd_load *l, unsigned conf, bool rtp);
/* n more joiners for conf, with their tickets (not timed). */
int bcd_prepare(struct bcd_load *l, unsigned conf, size_t n, bool rtp);
/* Join every prepared joiner of conf, o->conc in flight (timed). */
int bcd_join(struct bcd_load *l, unsigned conf, struct bcd_hist *h,
	     struct bcd_join_res *r);
/* The same over n conferences at once, the joins taken from them in
 * turn (--scale). */
int bcd_join_multi(struct bcd_load *l, const unsigned *confs, unsigned n,
		   struct bcd_hist *h, struct bcd_join_res *r);
/* The newest member of conf leaves (BYE); wait for every other member
 * to answer its re-INVITE. */
int bcd_rekey(struct bcd_load *l, unsigned conf, struct bcd_rekey_res *r);
/* Run the event loop for ms (answering what comes in), e.g. until the
 * finished transactions' timers (32 s) are gone. */
int bcd_idle(struct bcd_load *l, unsigned ms);
/* Timers in libre's list (one sorted list: each start walks it). */
size_t bcd_timers(void);
/* Join storm (issue 5 §4): wait until confd's epochs settle, then join
 * every prepared joiner of conf, the INVITEs sent evenly over
 * o->storm_spread, answer the re-INVITEs until the newest epoch is
 * switched and no rekey follows; one "member" line per member to out. */
int bcd_storm(struct bcd_load *l, unsigned conf, struct bcd_storm_res *r,
	      FILE *out);
/* Members of conf (creator first) with their RTP sockets; the focus's
 * RTP address. */
size_t bcd_media_members(struct bcd_load *l, unsigned conf, struct bcd_mm **out,
			 uint16_t *focus_port);

/* For bench_confd_sdes.c: a SIP socket for one more UA (UAs share
 * stacks), the focus URI of conf, its members, and libre's loop until
 * re_cancel() (-1 on a signal or no progress). */
struct sipsess_sock;
struct sipsess_sock *bcd_sock(struct bcd_load *l);
const char *bcd_focus(const struct bcd_load *l, unsigned conf);
size_t bcd_members(const struct bcd_load *l, unsigned conf);
int bcd_run(struct bcd_load *l);

/* ---- bench_confd_sdes.c ---- */
/* n SDES joiners join conf, o->conc in flight (timed), identities
 * e->ids[] in turn (the creation ticket's allowed set). */
int bcd_sdes_join(struct bcd_load *l, const struct bcd_env *e,
		  const struct bcd_opts *o, unsigned conf, size_t n,
		  struct bcd_sdes_res *r);
/* End the SDES joiners' dialogs, free the phase (after the daemons). */
void bcd_sdes_free(void);

/* ---- bench_confd_media.c ---- */
int bcd_media_run(struct bcd_load *l, const struct bcd_env *e,
		  const struct bcd_opts *o, struct bcd_media_res *r);

/* ---- bench_confd_sip.c: Kamailio + sipp ---- */
void bcd_sip_baseline(const struct bcd_env *e, const struct bcd_opts *o,
		      struct bcd_sip_res *r);

/* ---- bench_confd_scale.c: --scale ---- */
int bcd_scale_run(struct bcd_load *l, struct bcd_env *e,
		  const struct bcd_opts *o, struct bcd_hist *h);
void bcd_scale_stop(struct bcd_env *e);

/* ---- bench_confd_report.c ---- */
void bcd_report_text(FILE *f, const struct bcd_opts *o,
		     const struct bcd_res *r);
void bcd_report_json(FILE *f, const struct bcd_opts *o,
		     const struct bcd_res *r);

#endif
