/*
 * bench_kms.c -- `conclave bench kms`: REQUEST + RESOLVE pairs per second
 * against a running conclave-kmsd on loopback (issue 3 §7), next to the
 * same pairs run in-process through kms_handle() with no HTTP: the limit.
 *
 * One pair is what a call set-up costs the KMS: Alice builds a
 * REQUEST_INIT_PSK (fresh CSB ID, T, RANDRi), the KMS answers with a
 * REQUEST_RESP; Alice opens it and builds the TRANSFER_INIT with key
 * forking (the KMS checks Vr in the ticket's Initiator Data); Bob builds
 * the RESOLVE_INIT_PSK with that TICKET, the KMS answers with the
 * RESOLVE_RESP, Bob opens it and verifies the TRANSFER_INIT. Every message
 * is new, so the replay cache sees real traffic. The client's own
 * cryptography (kmsc_*) is timed separately.
 *
 * The load: --conns keep-alive HTTP/1.1 connections on one thread with
 * epoll, one pair in flight on each. By default the bench makes a temp
 * dir with a master key and a store, starts conclave-kmsd on
 * 127.0.0.1:0 and reads the port from its log, runs, and stops it with
 * SIGTERM; the temp dir and the daemon go away on every exit path,
 * SIGINT included. The daemon's RSS is sampled from /proc every second.
 *
 * The files: bench_kms.c (options, main), bench_kms_stats.c (latency
 * histograms, clocks, /proc, signals), bench_kms_pair.c (the parties, one
 * pair, the store, the in-process limit), bench_kms_daemon.c (the temp
 * dir and the daemon), bench_kms_load.c (HTTP/1.1 and the load
 * generator), bench_kms_report.c (text and JSON); bench_kms.h is theirs.
 */
#include "bench_kms.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- options ------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: conclave bench kms [options]\n\n"
		"REQUEST + RESOLVE pairs per second against conclave-kmsd on "
		"loopback\n(keep-alive HTTP/1.1, epoll, one pair in flight per "
		"connection), and the\nsame pairs in-process through "
		"kms_handle() with no HTTP: the limit.\nBy default it makes a "
		"store in a temp dir and starts its own kmsd.\n\n"
		"options:\n"
		"  --kmsd PATH       conclave-kmsd binary (default: next to "
		"this one)\n"
		"  --kmsd-arg ARG    extra daemon flag (repeat; e.g. "
		"--kmsd-arg --replay-capacity\n"
		"                    --kmsd-arg 4194304)\n"
		"  --url URL         an already-running kmsd "
		"(http://ADDR:PORT/mikey) instead;\n"
		"                    needs --cred and --resolver-cred\n"
		"  --cred FILE       requester credential (`conclave kms "
		"credential export`)\n"
		"  --resolver-cred FILE  resolver credential: an identity the "
		"tickets name\n"
		"  --kmsd-pid PID    with --url: the daemon, for RSS and CPU\n"
		"  --conns N         connections (default 8, max %d)\n"
		"  --seconds S       measured time (default 10)\n"
		"  --pairs N         measure exactly N pairs instead\n"
		"  --warmup S        before measuring (default 1)\n"
		"  --inproc-seconds S  in-process limit run (default 3; 0 = "
		"skip)\n"
		"  --rss-run         1,000,000 requests: --pairs 500000, RSS "
		"sampled each second\n"
		"  --users N         users in the store (default 1000)\n"
		"  --no-http         only the in-process run (for profiling "
		"it)\n"
		"  --store SPEC      kmsd's store: postgresql:CONNINFO (an "
		"empty database,\n"
		"                    e.g. from scripts/pg.sh start); default "
		"sqlite in the temp dir\n"
		"  --replicas N      kmsd replicas on the store, the "
		"connections split over\n"
		"                    them (default 1, max %d)\n"
		"  --scale CONNINFO  issue 7 §5, one run: SQLite, 1 kmsd on "
		"PostgreSQL\n"
		"                    (CONNINFO, an empty database), then "
		"--replicas (default 2)\n"
		"                    on it; pairs/s each and the efficiency "
		"N-replica rate /\n"
		"                    (N x 1-replica rate). No in-process "
		"run\n"
		"  --keep            keep the temp dir (store, kmsd log)\n"
		"  --json            one JSON object on stdout\n"
		"Progress goes to stderr, once a second.\n"
		"Goal (issue 3 §7): >= 10,000 pairs/s, p99 < 5 ms, daemon RSS "
		"flat.\n",
		BK_MAX_CONNS, BK_MAX_REPLICAS);
}

static bool num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	v = strtod(s, &end);
	if (*end || !(v >= lo && v <= hi))
		return false;
	*out = v;
	return true;
}

/* -1 to go on, else an exit status. */
static int parse(int argc, char **argv, struct bk_opts *o)
{
	const char *a, *v;
	double x;
	int i;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--json")) {
			o->json = true;
			continue;
		}
		if (!strcmp(a, "--keep")) {
			o->keep = true;
			continue;
		}
		if (!strcmp(a, "--no-http")) {
			o->no_http = true;
			continue;
		}
		if (!strcmp(a, "--rss-run")) {
			o->rss_run = true;
			o->pairs = 500000;
			continue;
		}
		i++;
		if (!strcmp(a, "--kmsd") && v)
			o->kmsd = v;
		else if (!strcmp(a, "--kmsd-arg") && v &&
			 o->nkargs < BK_MAX_ARGS)
			o->kargs[o->nkargs++] = v;
		else if (!strcmp(a, "--url") && v)
			o->url = v;
		else if (!strcmp(a, "--cred") && v)
			o->cred = v;
		else if (!strcmp(a, "--resolver-cred") && v)
			o->res_cred = v;
		else if (!strcmp(a, "--kmsd-pid") && num(v, 1, INT_MAX, &x))
			o->kmsd_pid = (long)x;
		else if (!strcmp(a, "--conns") && num(v, 1, BK_MAX_CONNS, &x))
			o->conns = (unsigned)x;
		else if (!strcmp(a, "--seconds") && num(v, 0.1, 86400, &x))
			o->seconds = x;
		else if (!strcmp(a, "--pairs") && num(v, 1, 1e10, &x))
			o->pairs = (uint64_t)x;
		else if (!strcmp(a, "--warmup") && num(v, 0, 3600, &x))
			o->warmup = x;
		else if (!strcmp(a, "--inproc-seconds") && num(v, 0, 3600, &x))
			o->inproc_s = x;
		else if (!strcmp(a, "--users") && num(v, 2, 1e6, &x))
			o->users = (unsigned)x;
		else if (!strcmp(a, "--store") && v &&
			 (!strncmp(v, "postgresql:", 11) ||
			  !strncmp(v, "sqlite:", 7)))
			o->store = v;
		else if (!strcmp(a, "--replicas") &&
			 num(v, 1, BK_MAX_REPLICAS, &x))
			o->replicas = (unsigned)x;
		else if (!strcmp(a, "--scale") && v && *v)
			o->scale = v;
		else {
			fprintf(stderr,
				"bench kms: bad option or value: %s %s\n", a,
				v ? v : "");
			usage(stderr);
			return 2;
		}
	}
	if ((o->url || o->no_http) &&
	    (o->store || o->scale || o->replicas > 1)) {
		fprintf(stderr, "bench kms: --store, --replicas and --scale "
				"start their own kmsd\n");
		return 2;
	}
	if (o->replicas > 1 && !o->store && !o->scale) {
		fprintf(stderr, "bench kms: --replicas needs a shared store "
				"(--store postgresql:... or --scale)\n");
		return 2;
	}
	if (o->url && (!o->cred || !o->res_cred)) {
		fprintf(stderr, "bench kms: --url needs --cred and "
				"--resolver-cred\n");
		return 2;
	}
	return -1;
}

/* conclave-kmsd next to this binary. */
static bool default_kmsd(char *out, size_t cap)
{
	char self[PATH_MAX - 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return false;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return false;
	*slash = '\0';
	snprintf(out, cap, "%s/conclave-kmsd", self);
	return access(out, X_OK) == 0;
}

/* http://ADDR:PORT/PATH, numeric IPv4 (a loopback load generator). */
static bool parse_url(const char *url, char *host, size_t hcap, int *port,
		      char *path, size_t pcap)
{
	const char *p, *colon, *slash;

	if (strncmp(url, "http://", 7))
		return false;
	p = url + 7;
	slash = strchr(p, '/');
	colon = strchr(p, ':');
	if (!colon || (slash && colon > slash) || (size_t)(colon - p) >= hcap)
		return false;
	snprintf(host, hcap, "%.*s", (int)(colon - p), p);
	*port = atoi(colon + 1);
	snprintf(path, pcap, "%s", slash ? slash : "/mikey");
	return *port > 0 && *port < 65536;
}

/* ---- main ---------------------------------------------------------------- */

/* Parties: one requester/resolver pair of users per connection. */
static enum cc_err make_parties(struct bk_party *pt, size_t np)
{
	char name[32];
	enum cc_err err = CC_OK;
	size_t i;

	for (i = 0; !err && i < np; i++) {
		snprintf(name, sizeof(name), "alice%zu", i);
		bench_kms_make_cred(&pt[i].alice, name, "");
		snprintf(name, sizeof(name), "bob%zu", i);
		bench_kms_make_cred(&pt[i].bob, name, "");
		err = kmsc_rand_system(pt[i].alice.psk, BK_PSK_LEN, NULL);
		err = err ? err :
			    kmsc_rand_system(pt[i].bob.psk, BK_PSK_LEN, NULL);
		bench_kms_party_wire(&pt[i]);
	}
	return err;
}

/* The temp dir: master key, the daemon's store, the in-process store. */
static int setup_dir(struct bk_env *e, const struct bk_opts *o,
		     const struct bk_party *pt, size_t np)
{
	const char *tmp = getenv("TMPDIR");
	char p[PATH_MAX + 16];
	enum cc_err err;

	snprintf(e->dir, sizeof(e->dir), "%s/conclave-bench-kms.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(e->dir)) {
		perror("bench kms: mkdtemp");
		return -1;
	}
	e->have_dir = true;
	bench_kms_path_in(e, "master.key", p, sizeof(p));
	err = kms_master_key_create(p);
	err = err ? err : kms_master_key_load(p, e->master);
	if (!err && !o->url && !o->no_http) {
		bench_kms_path_in(e, "kms.db", p, sizeof(p));
		if (o->store && strncmp(o->store, "sqlite:", 7))
			snprintf(p, sizeof(p), "%s", o->store);
		else if (o->store)
			snprintf(p, sizeof(p), "%s", o->store + 7);
		err = bench_kms_make_store(p, e->master, pt, np, o->users);
	}
	if (!err && o->inproc_s > 0) {
		bench_kms_path_in(e, "inproc.db", p, sizeof(p));
		err = bench_kms_make_store(p, e->master, pt, np, o->users);
	}
	if (err) {
		fprintf(stderr, "bench kms: setting up the store: %s\n",
			cc_strerror(err));
		return -1;
	}
	return 0;
}

struct bk_main {
	struct bk_opts o;
	struct bk_env e;
	struct bk_party *pt, *net; /* in-process parties; HTTP parties */
	size_t np, nnet;
	struct bk_load l;
	struct bk_stats in;
	struct bk_env rep[BK_MAX_REPLICAS - 1]; /* replicas 2.. */
	char kmsd[PATH_MAX], host[64], path[256];
	char pgspec[1024];
};

/* A copy of the master key file for a replica's dir. */
static int copy_file(const char *from, const char *to)
{
	uint8_t buf[4096];
	size_t n;
	FILE *f = fopen(from, "rb"), *t;
	int rc = -1;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	t = fopen(to, "wb");
	if (t) {
		rc = fwrite(buf, 1, n, t) == n ? 0 : -1;
		rc = fclose(t) || rc ? -1 : 0;
		if (!rc)
			rc = chmod(to, 0600);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

/* kmsd on db (NULL: the temp dir's SQLite), then replicas 2..N, each in
 * a dir of its own under the temp dir (its config, log, master key). */
static int start_kmsds(struct bk_main *m, const char *db, unsigned replicas)
{
	struct bk_load *l = &m->l;
	char from[PATH_MAX + 16], to[PATH_MAX + 16];
	unsigned i;

	m->e.db = db;
	if (bench_kms_kmsd_start(&m->e, &m->o))
		return 1;
	l->port = m->e.port;
	l->pid = m->e.pid;
	l->nrep = 0;
	for (i = 0; i + 1 < replicas; i++) {
		struct bk_env *r = &m->rep[i];

		memset(r, 0, sizeof(*r));
		snprintf(r->dir, sizeof(r->dir), "%.*s/r%u", PATH_MAX - 16,
			 m->e.dir, i + 2);
		bench_kms_path_in(&m->e, "master.key", from, sizeof(from));
		bench_kms_path_in(r, "master.key", to, sizeof(to));
		r->db = db;
		if ((mkdir(r->dir, 0700) && errno != EEXIST) ||
		    copy_file(from, to) || bench_kms_kmsd_start(r, &m->o)) {
			fprintf(stderr, "bench kms: replica %u did not start\n",
				i + 2);
			bench_kms_show_log(r);
			return 1;
		}
		l->rport[i] = r->port;
		l->rpid[i] = r->pid;
		l->nrep++;
	}
	return 0;
}

static void stop_kmsds(struct bk_main *m)
{
	size_t i;

	for (i = 0; i < BK_MAX_REPLICAS - 1; i++)
		bench_kms_kmsd_stop(&m->rep[i]);
	bench_kms_kmsd_stop(&m->e);
}

static int run_http(struct bk_main *m)
{
	struct bk_opts *o = &m->o;
	struct bk_load *l = &m->l;

	if (o->url) {
		if (!parse_url(o->url, m->host, sizeof(m->host), &l->port,
			       m->path, sizeof(m->path))) {
			fprintf(stderr, "bench kms: --url must be "
					"http://IPV4:PORT/PATH\n");
			return 2;
		}
		l->pid = o->kmsd_pid;
	} else {
		if (start_kmsds(m, o->store, o->replicas))
			return 1;
		snprintf(m->host, sizeof(m->host), "%s", m->e.host);
		snprintf(m->path, sizeof(m->path), "/mikey");
	}
	l->o = o;
	l->host = m->host;
	l->path = m->path;
	l->nc = o->conns;
	l->env.rand = kmsc_rand_system;
	fprintf(stderr,
		"bench kms: %u connections to http://%s:%d%s (kmsd pid %ld, "
		"%u more replica(s), store %s)\n",
		l->nc, l->host, l->port, l->path, l->pid, l->nrep,
		o->store && !strncmp(o->store, "postgresql:", 11) ? "postgresq"
								    "l" :
								    "sqlite");
	if (bench_kms_load_open(l, m->net, m->nnet) || bench_kms_load_run(l))
		return 1;
	return 0;
}

/* One phase of --scale. */
struct bk_phase {
	const char *what;
	double rate, p50_ms, p99_ms, kcpu_s, lcpu_s;
	uint64_t pairs, errors;
	unsigned replicas;
};

static int scale_phase(struct bk_main *m, struct bk_phase *ph,
		       const char *store, unsigned replicas)
{
	struct bk_opts *o = &m->o;
	struct bk_load *l = &m->l;
	int rc;

	bench_kms_load_free(l);
	memset(l, 0, sizeof(*l));
	l->ep = -1;
	o->store = store;
	fprintf(stderr, "bench kms: --scale: %s\n", ph->what);
	rc = run_http(m);
	if (!rc) {
		ph->replicas = replicas;
		ph->pairs = l->s.pairs;
		ph->errors = bench_kms_stats_errors(&l->s);
		ph->rate = l->s.wall_s > 0 ? (double)l->s.pairs / l->s.wall_s :
					     0;
		ph->p50_ms = bench_kms_hist_q(&l->s.pair, 0.5) / 1e3;
		ph->p99_ms = bench_kms_hist_q(&l->s.pair, 0.99) / 1e3;
		ph->kcpu_s = l->kcpu0 >= 0 && l->kcpu1 >= 0 ?
				     l->kcpu1 - l->kcpu0 :
				     -1;
		ph->lcpu_s = l->s.cpu_s;
	}
	stop_kmsds(m);
	return rc;
}

/* --scale: SQLite, 1 kmsd on PostgreSQL, N replicas on it. */
static int run_scale(struct bk_main *m)
{
	struct bk_opts *o = &m->o;
	struct bk_phase ph[3] = { { .what = "sqlite, 1 kmsd" },
				  { .what = "postgresql, 1 kmsd" },
				  { .what = "postgresql, replicas" } };
	unsigned reps = o->replicas > 1 ? o->replicas : 2, n[3] = { 1, 1, 0 };
	double eff, eff_sq, loadavg[3] = { -1, -1, -1 };
	size_t i;
	int rc;

	n[2] = reps;
	if (!strncmp(o->scale, "postgresql:", 11))
		snprintf(m->pgspec, sizeof(m->pgspec), "%s", o->scale);
	else
		snprintf(m->pgspec, sizeof(m->pgspec), "postgresql:%s",
			 o->scale);
	fprintf(stderr, "bench kms: --scale: the PostgreSQL store\n");
	if (bench_kms_make_store(m->pgspec, m->e.master, m->pt, m->np,
				 o->users)) {
		fprintf(stderr,
			"bench kms: cannot make the store on %s (an "
			"empty database?)\n",
			o->scale);
		return 1;
	}
	for (i = 0; i < 3; i++) {
		o->replicas = n[i];
		rc = scale_phase(m, &ph[i], i ? m->pgspec : NULL, n[i]);
		if (rc)
			return rc;
	}
	if (getloadavg(loadavg, 3) < 0)
		loadavg[0] = loadavg[1] = loadavg[2] = -1;
	eff = ph[1].rate > 0 ? ph[2].rate / (reps * ph[1].rate) : 0;
	eff_sq = ph[0].rate > 0 ? ph[2].rate / (reps * ph[0].rate) : 0;
	if (o->json) {
		printf("{\"scale\":[");
		for (i = 0; i < 3; i++)
			printf("%s{\"store\":\"%s\",\"replicas\":%u,"
			       "\"pairs\":%llu,\"errors\":%llu,"
			       "\"pairs_per_s\":%.1f,\"p50_ms\":%.3f,"
			       "\"p99_ms\":%.3f,\"kmsd_cpu_s\":%.2f,"
			       "\"load_cpu_s\":%.2f}",
			       i ? "," : "", i ? "postgresql" : "sqlite",
			       ph[i].replicas, (unsigned long long)ph[i].pairs,
			       (unsigned long long)ph[i].errors, ph[i].rate,
			       ph[i].p50_ms, ph[i].p99_ms, ph[i].kcpu_s,
			       ph[i].lcpu_s);
		printf("],\"conns\":%u,\"seconds\":%.1f,"
		       "\"efficiency\":%.3f,\"efficiency_vs_sqlite\":%.3f,"
		       "\"cpus\":%ld,\"loadavg\":[%.2f,%.2f,%.2f]}\n",
		       o->conns, o->seconds, eff, eff_sq,
		       sysconf(_SC_NPROCESSORS_ONLN), loadavg[0], loadavg[1],
		       loadavg[2]);
		return 0;
	}
	printf("KMS replicas (issue 7 §5): %u connections, %.0f s each, "
	       "%ld CPU(s)\n",
	       o->conns, o->seconds, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  %-22s %10s %8s %8s %8s %10s %9s\n", "store", "pairs/s",
	       "p50 ms", "p99 ms", "errors", "kmsd cpu", "load cpu");
	for (i = 0; i < 3; i++)
		printf("  %-12s %u kmsd%s %10.0f %8.2f %8.2f %8llu %9.1fs "
		       "%8.1fs\n",
		       i ? "postgresql" : "sqlite", ph[i].replicas,
		       ph[i].replicas > 1 ? "s" : " ", ph[i].rate, ph[i].p50_ms,
		       ph[i].p99_ms, (unsigned long long)ph[i].errors,
		       ph[i].kcpu_s, ph[i].lcpu_s);
	printf("  efficiency: %u replicas / (%u x 1 on postgresql) = %.2f; "
	       "against sqlite %.2f\n",
	       reps, reps, eff, eff_sq);
	printf("  load average after the run: %.2f %.2f %.2f\n", loadavg[0],
	       loadavg[1], loadavg[2]);
	return 0;
}

static int run_all(struct bk_main *m)
{
	struct bk_opts *o = &m->o;
	struct bk_report r = { 0 };
	int rc;

	m->np = o->conns;
	m->pt = calloc(m->np, sizeof(*m->pt));
	if (!m->pt || make_parties(m->pt, m->np) ||
	    setup_dir(&m->e, o, m->pt, m->np))
		return 1;
	m->net = m->pt;
	m->nnet = m->np;
	if (o->url) {
		m->net = calloc(1, sizeof(*m->net));
		m->nnet = 1;
		if (!m->net || kmsc_cred_load(o->cred, &m->net->alice) ||
		    kmsc_cred_load(o->res_cred, &m->net->bob)) {
			fprintf(stderr, "bench kms: cannot load the "
					"credentials\n");
			return 1;
		}
		bench_kms_party_wire(m->net);
	}
	if (o->scale)
		return run_scale(m);
	if (o->inproc_s > 0) {
		fprintf(stderr, "bench kms: in-process limit, %.1f s\n",
			o->inproc_s);
		if (bench_kms_inproc_run(&m->e, m->pt, m->np, o->inproc_s,
					 &m->in))
			return 1;
		r.inproc = &m->in;
	}
	r.l = &m->l;
	r.conns = o->conns;
	r.replay = -1;
	if (!o->no_http) {
		rc = run_http(m);
		if (rc)
			return rc;
		r.http = &m->l.s;
		r.replay = bench_kms_replay_size(m->l.host, m->l.port);
	}
	if (o->json)
		bench_kms_report_json(stdout, &r);
	else
		bench_kms_report_text(stdout, &r);
	return 0;
}

int bench_kms(int argc, char **argv)
{
	static struct bk_main m;
	size_t i;
	int rc;

	memset(&m, 0, sizeof(m));
	m.o.conns = 8;
	m.o.seconds = 10;
	m.o.warmup = 1;
	m.o.inproc_s = 3;
	m.o.users = 1000;
	m.o.replicas = 1;
	m.l.ep = -1;
	rc = parse(argc, argv, &m.o);
	if (rc >= 0)
		return rc;
	if (m.o.scale)
		m.o.inproc_s = 0;
	if (!m.o.url && !m.o.no_http && !m.o.kmsd) {
		if (!default_kmsd(m.kmsd, sizeof(m.kmsd))) {
			fprintf(stderr, "bench kms: no conclave-kmsd next to "
					"this binary: use --kmsd PATH\n");
			return 2;
		}
		m.o.kmsd = m.kmsd;
	}
	bench_kms_catch_signals();
	rc = run_all(&m);
	if (bench_kms_signal) {
		fprintf(stderr, "bench kms: interrupted\n");
		rc = 130;
	}
	bench_kms_load_free(&m.l);
	bench_kms_hist_free(&m.in.pair);
	bench_kms_hist_free(&m.in.req);
	bench_kms_hist_free(&m.in.res);
	stop_kmsds(&m);
	if (rc && m.e.have_dir && !m.o.url)
		bench_kms_show_log(&m.e);
	if (m.o.keep && m.e.have_dir) {
		fprintf(stderr, "bench kms: kept %s\n", m.e.dir);
	} else {
		for (i = 0; i < BK_MAX_REPLICAS - 1; i++)
			if (m.rep[i].dir[0])
				bench_rm_dir(m.rep[i].dir); /* r2.. first */
		bench_kms_rm_dir(&m.e);
	}
	if (m.pt)
		OPENSSL_cleanse(m.pt, m.np * sizeof(*m.pt));
	if (m.net && m.net != m.pt) {
		OPENSSL_cleanse(m.net, sizeof(*m.net));
		free(m.net);
	}
	free(m.pt);
	OPENSSL_cleanse(m.e.master, sizeof(m.e.master));
	return rc;
}
