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
 */
#include "bench.h"

#include <conclave/kms_store.h>
#include <conclave/kmsc.h>

#include <openssl/crypto.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
};

/* ---- statistics --------------------------------------------------------- */

struct bk_hist {
	uint32_t *b; /* BK_HIST_US buckets of 1 us */
	uint64_t n, over, max_us;
	double sum_us;
};

static bool hist_init(struct bk_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->b = calloc(BK_HIST_US, sizeof(*h->b));
	return h->b != NULL;
}

static void hist_reset(struct bk_hist *h)
{
	uint32_t *b = h->b;

	memset(b, 0, BK_HIST_US * sizeof(*b));
	memset(h, 0, sizeof(*h));
	h->b = b;
}

static void hist_add(struct bk_hist *h, uint64_t ns)
{
	uint64_t us = ns / 1000;

	if (us < BK_HIST_US)
		h->b[us]++;
	else
		h->over++;
	if (us > h->max_us)
		h->max_us = us;
	h->n++;
	h->sum_us += (double)ns / 1e3;
}

/* The q-quantile in us (upper edge of its 1 us bucket). */
static double hist_q(const struct bk_hist *h, double q)
{
	uint64_t want = (uint64_t)((double)h->n * q), seen = 0;
	size_t i;

	if (!h->n)
		return 0;
	if (want >= h->n)
		want = h->n - 1;
	for (i = 0; i < BK_HIST_US; i++) {
		seen += h->b[i];
		if (seen > want)
			return (double)i + 1;
	}
	return (double)h->max_us;
}

static void hist_free(struct bk_hist *h)
{
	free(h->b);
	h->b = NULL;
}

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

static uint64_t stats_errors(const struct bk_stats *s)
{
	uint64_t n = s->err_local + s->err_http + s->err_io;
	size_t i;

	for (i = 0; i <= BK_MAX_ERRNO; i++)
		n += s->err_mikey[i];
	return n;
}

/* ---- clocks, /proc ------------------------------------------------------ */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double proc_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* VmRSS and VmHWM of a process, in KiB; false if it is gone. */
static bool proc_rss(long pid, uint64_t *rss, uint64_t *hwm)
{
	char path[64], line[256];
	unsigned long long v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	*rss = *hwm = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %llu", &v) == 1)
			*rss = v;
		else if (sscanf(line, "VmHWM: %llu", &v) == 1)
			*hwm = v;
	}
	fclose(f);
	return true;
}

/* utime + stime of a process, seconds; -1 if it is gone. */
static double proc_cpu_of(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces */
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu "
			 "%llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- SIGINT / SIGTERM ---------------------------------------------------- */

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
	g_stop = sig;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: epoll_wait returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ---- the parties and one pair ------------------------------------------- */

struct bk_party {
	struct kmsc_cred alice, bob; /* requester, resolver */
	const char *to[1];
	struct kmsc_request_opts ro;
	struct kmsc_transfer_opts xo;
	struct kmsc_responder rb;
	uint32_t ssrc;
};

static void party_wire(struct bk_party *pt)
{
	pt->to[0] = pt->bob.identity;
	pt->ro.use = KMSC_CALL;
	pt->ro.responders = pt->to;
	pt->ro.nresponders = 1;
	pt->ssrc = 0x11223344;
	pt->xo.responder = pt->bob.identity;
	pt->xo.ssrc = &pt->ssrc;
	pt->xo.nmedia = 1;
	pt->rb.cred = &pt->bob;
}

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

static void pair_clear(struct bk_pair *p)
{
	kmsc_csb_free(&p->ci);
	kmsc_csb_free(&p->cr);
	kmsc_ticket_wipe(&p->t);
}

/* Account for a failed step: st tells a MIKEY Error from our own. */
static void count_fail(struct bk_stats *s, const struct kmsc_status *st)
{
	if (st->kind == KMSC_FAIL_MIKEY && st->mikey_err >= 0)
		s->err_mikey[st->mikey_err < BK_MAX_ERRNO ? st->mikey_err :
							    BK_MAX_ERRNO]++;
	else
		s->err_local++;
}

/* Alice: a fresh REQUEST_INIT_PSK into p->rq.msg. */
static enum cc_err pair_start(const struct bk_party *pt, struct bk_pair *p,
			      const struct kmsc_env *env)
{
	return kmsc_request_build(&p->rq, &pt->alice, &pt->ro, env);
}

/* Alice opens the REQUEST_RESP and builds the TRANSFER_INIT; Bob takes it
 * and builds the RESOLVE_INIT_PSK into p->ri. */
static enum cc_err pair_ticket(const struct bk_party *pt, struct bk_pair *p,
			       const uint8_t *resp, size_t len,
			       const struct kmsc_env *env)
{
	enum cc_err err;

	memset(&p->st, 0, sizeof(p->st));
	err = kmsc_request_open(&p->rq, &pt->alice, resp, len, env, &p->t,
				&p->st);
	if (err)
		return err;
	err = kmsc_transfer_init(&p->ci, &p->t, &pt->alice, &pt->xo, env, p->xi,
				 sizeof(p->xi), &p->xi_len);
	if (!err)
		err = kmsc_resolve_init(&p->cr, &pt->rb, p->xi, p->xi_len, env,
					p->ri, sizeof(p->ri), &p->ri_len,
					&p->st);
	if (err && p->st.kind == KMSC_FAIL_NONE)
		p->st.kind = KMSC_FAIL_LOCAL;
	return err;
}

/* Bob opens the RESOLVE_RESP and verifies Alice's TRANSFER_INIT. */
static enum cc_err pair_finish(const struct bk_party *pt, struct bk_pair *p,
			       const uint8_t *resp, size_t len,
			       const struct kmsc_env *env)
{
	memset(&p->st, 0, sizeof(p->st));
	return kmsc_resolve_open(&p->cr, &pt->rb, resp, len, env, &p->st);
}

/* ---- the store ------------------------------------------------------------ */

static void make_cred(struct kmsc_cred *c, const char *user, const char *url)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->identity, sizeof(c->identity), "sip:%s@" BK_REALM, user);
	snprintf(c->psk_id, sizeof(c->psk_id), "%s-psk", user);
	snprintf(c->kms_url, sizeof(c->kms_url), "%s", url);
	snprintf(c->kms_identity, sizeof(c->kms_identity), BK_KMS_ID);
	c->psk_len = BK_PSK_LEN;
}

static enum cc_err add_user(struct kms_db *db, const struct kmsc_cred *c,
			    const char *name)
{
	enum cc_err err;

	err = kms_db_user_add(db, name, c->psk_id, c->psk, c->psk_len, false);
	return err ? err : kms_db_identity_add(db, name, c->identity);
}

/* A store at path with every party's users, then filler users up to
 * nusers in all (so the lookups run on tables of a realistic size). */
static enum cc_err make_store(const char *path,
			      const uint8_t master[KMS_MASTER_KEY_LEN],
			      const struct bk_party *pt, size_t np,
			      unsigned nusers)
{
	char spec[PATH_MAX + 8], name[32];
	struct kmsc_cred filler;
	struct kms_db *db;
	enum cc_err err;
	size_t i;

	snprintf(spec, sizeof(spec), "sqlite:%s", path);
	err = kms_db_open(&db, spec, master, true);
	if (err)
		return err;
	for (i = 0; !err && i < np; i++) {
		snprintf(name, sizeof(name), "alice%zu", i);
		err = add_user(db, &pt[i].alice, name);
		snprintf(name, sizeof(name), "bob%zu", i);
		err = err ? err : add_user(db, &pt[i].bob, name);
	}
	for (i = 2 * np; !err && i < nusers; i++) {
		snprintf(name, sizeof(name), "user%zu", i);
		make_cred(&filler, name, "");
		err = kmsc_rand_system(filler.psk, BK_PSK_LEN, NULL);
		err = err ? err : add_user(db, &filler, name);
	}
	kmsc_cred_wipe(&filler);
	kms_db_close(db);
	return err;
}

/* ---- the temp dir and the daemon ------------------------------------------ */

struct bk_env {
	char dir[PATH_MAX];
	bool have_dir;
	pid_t pid; /* the daemon we started, 0 if none */
	char host[64];
	int port;
	uint8_t master[KMS_MASTER_KEY_LEN];
};

static void path_in(const struct bk_env *e, const char *name, char *out,
		    size_t cap)
{
	snprintf(out, cap, "%s/%s", e->dir, name);
}

static void rm_dir(struct bk_env *e)
{
	char p[PATH_MAX + 300];
	struct dirent *d;
	DIR *dir;

	if (!e->have_dir)
		return;
	dir = opendir(e->dir);
	while (dir && (d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", e->dir, d->d_name);
		unlink(p);
	}
	if (dir)
		closedir(dir);
	rmdir(e->dir);
	e->have_dir = false;
}

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return false;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* The daemon's log so far (NUL-terminated, at most cap - 1 bytes). */
static size_t read_log(const struct bk_env *e, char *buf, size_t cap)
{
	char p[PATH_MAX + 16];
	size_t n;
	FILE *f;

	path_in(e, "kmsd.log", p, sizeof(p));
	f = fopen(p, "r");
	if (!f) {
		buf[0] = '\0';
		return 0;
	}
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

static void show_log(const struct bk_env *e)
{
	static char buf[8192];

	if (read_log(e, buf, sizeof(buf)))
		fprintf(stderr, "bench kms: kmsd log:\n%s", buf);
}

static bool kmsd_alive(struct bk_env *e)
{
	int status;

	if (!e->pid)
		return false;
	if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
		fprintf(stderr, "bench kms: conclave-kmsd exited (status %d)\n",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		e->pid = 0;
		return false;
	}
	return true;
}

static void kmsd_stop(struct bk_env *e)
{
	int status, i;

	if (!e->pid)
		return;
	kill(e->pid, SIGTERM);
	for (i = 0; i < 500; i++) {
		if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				fprintf(stderr,
					"bench kms: conclave-kmsd ended with "
					"status %d\n",
					WIFEXITED(status) ?
						WEXITSTATUS(status) :
						-1);
			e->pid = 0;
			return;
		}
		usleep(10000);
	}
	fprintf(stderr, "bench kms: conclave-kmsd ignored SIGTERM: killed\n");
	kill(e->pid, SIGKILL);
	if (waitpid(e->pid, &status, 0) < 0)
		perror("waitpid");
	e->pid = 0;
}

static void kmsd_exec(const struct bk_env *e, const char *bin,
		      const struct bk_opts *o)
{
	char db[PATH_MAX + 16], key[PATH_MAX + 16], conf[PATH_MAX + 16],
		log[PATH_MAX + 16];
	const char *argv[16 + BK_MAX_ARGS];
	size_t n = 0, i;
	int fd;

	snprintf(db, sizeof(db), "sqlite:%s/kms.db", e->dir);
	path_in(e, "master.key", key, sizeof(key));
	path_in(e, "kmsd.conf", conf, sizeof(conf));
	path_in(e, "kmsd.log", log, sizeof(log));
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(127);
	close(fd);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && dup2(fd, 0) >= 0)
		close(fd);
	argv[n++] = bin;
	argv[n++] = "-c";
	argv[n++] = conf;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--db";
	argv[n++] = db;
	argv[n++] = "--master-key-file";
	argv[n++] = key;
	argv[n++] = "--identity";
	argv[n++] = BK_KMS_ID;
	for (i = 0; i < o->nkargs; i++)
		argv[n++] = o->kargs[i];
	argv[n] = NULL;
	execv(bin, (char *const *)argv);
	fprintf(stderr, "bench kms: cannot run %s: %s\n", bin, strerror(errno));
	_exit(127);
}

/* Wait for "needle" in the daemon's log; copies the rest of its line. */
static bool wait_log(struct bk_env *e, const char *needle, char *rest,
		     size_t cap, double timeout_s)
{
	static char buf[65536];
	uint64_t end = mono_ns() + (uint64_t)(timeout_s * 1e9);
	const char *p;
	size_t n;

	while (mono_ns() < end && !g_stop) {
		read_log(e, buf, sizeof(buf));
		p = strstr(buf, needle);
		if (p) {
			p += strlen(needle);
			n = strcspn(p, "\n");
			snprintf(rest, cap, "%.*s", (int)n, p);
			return true;
		}
		if (!kmsd_alive(e))
			return false;
		usleep(5000);
	}
	return false;
}

static int http_get_ok(const char *host, int port, const char *path);

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay++;
	}
	return n;
}

/*
 * Start the daemon. kmsd logs its port ("listening http ADDR:PORT") at
 * level info only, so it starts with a config file saying info, and once
 * the port is read the file says warn and a SIGHUP applies it (log_level
 * is reloadable; flags keep their value). The per-request info lines
 * would otherwise cost the daemon a write(2) each.
 */
static int kmsd_start(struct bk_env *e, const struct bk_opts *o)
{
	char conf[PATH_MAX + 16], rest[64], *colon;
	static char buf[65536];
	size_t before;
	int i;

	path_in(e, "kmsd.conf", conf, sizeof(conf));
	if (!write_file(conf, "log_level info\n"))
		return -1;
	e->pid = fork();
	if (e->pid < 0) {
		e->pid = 0;
		return -1;
	}
	if (!e->pid)
		kmsd_exec(e, o->kmsd, o);
	if (!wait_log(e, "listening http ", rest, sizeof(rest), 10) ||
	    !(colon = strrchr(rest, ':'))) {
		fprintf(stderr, "bench kms: conclave-kmsd did not start\n");
		show_log(e);
		return -1;
	}
	*colon = '\0';
	snprintf(e->host, sizeof(e->host), "%s", rest);
	e->port = atoi(colon + 1);
	if (!write_file(conf, "log_level warn\n") || kill(e->pid, SIGHUP))
		return -1;
	/* Wait until a request is no longer logged. */
	for (i = 0; i < 100 && !g_stop; i++) {
		usleep(20000);
		read_log(e, buf, sizeof(buf));
		before = count_str(buf, "\"GET /healthz\"");
		if (http_get_ok(e->host, e->port, "/healthz") != 200)
			continue;
		usleep(20000);
		read_log(e, buf, sizeof(buf));
		if (count_str(buf, "\"GET /healthz\"") == before)
			return 0;
	}
	fprintf(stderr, "bench kms: conclave-kmsd did not take log_level "
			"warn (SIGHUP)\n");
	show_log(e);
	return -1;
}

/* ---- HTTP/1.1 on a socket --------------------------------------------- */

static int tcp_connect(const char *host, int port, bool nonblock)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    (nonblock && fcntl(fd, F_SETFL, O_NONBLOCK))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A complete response at b[0..n)? 1 yes (status, body set, *used its
 * size), 0 not yet, -1 malformed. */
static int http_parse(const uint8_t *b, size_t n, int *status,
		      const uint8_t **body, size_t *blen, size_t *used)
{
	const char *h = (const char *)b, *line, *eol;
	size_t hend = 0, cl = 0, i;
	bool have_cl = false;

	for (i = 3; i < n; i++)
		if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' &&
		    b[i - 3] == '\r') {
			hend = i + 1;
			break;
		}
	if (!hend)
		return n > BK_IN_CAP / 2 ? -1 : 0;
	if (hend < 12 || strncmp(h, "HTTP/1.", 7))
		return -1;
	*status = atoi(h + 9);
	for (line = h; line < h + hend; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(h + hend - line));
		if (!eol)
			break;
		if (!strncasecmp(line, "Content-Length:", 15)) {
			cl = strtoul(line + 15, NULL, 10);
			have_cl = true;
		}
	}
	if (!have_cl || cl > BK_IN_CAP - hend)
		return -1;
	if (n < hend + cl)
		return 0;
	*body = b + hend;
	*blen = cl;
	*used = hend + cl;
	return 1;
}

/* Blocking GET for /healthz and /metrics: the status, or -1. Body into
 * out if given. */
static int http_get(const char *host, int port, const char *path, char *out,
		    size_t cap)
{
	static uint8_t in[BK_IN_CAP];
	const uint8_t *body = NULL;
	char req[256];
	size_t n = 0, blen = 0, used;
	int fd, status = -1, r = 0, len;
	ssize_t k;

	fd = tcp_connect(host, port, false);
	if (fd < 0)
		return -1;
	len = snprintf(req, sizeof(req),
		       "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, host,
		       port);
	if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len)
		goto out;
	while (n < sizeof(in) &&
	       !(r = http_parse(in, n, &status, &body, &blen, &used))) {
		k = recv(fd, in + n, sizeof(in) - n, 0);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	if (r != 1)
		status = -1;
	else if (out)
		snprintf(out, cap, "%.*s", (int)blen, (const char *)body);
out:
	close(fd);
	return status;
}

static int http_get_ok(const char *host, int port, const char *path)
{
	return http_get(host, port, path, NULL, 0);
}

/* kms_replay_size from /metrics, -1 if unknown. */
static long long replay_size(const char *host, int port)
{
	static char m[BK_IN_CAP];
	const char *p;

	if (http_get(host, port, "/metrics", m, sizeof(m)) != 200)
		return -1;
	p = strstr(m, "\nkms_replay_size ");
	return p ? atoll(p + 17) : -1;
}

/* ---- the load ------------------------------------------------------------ */

enum bk_stage {
	BK_IDLE = 0,
	BK_REQUEST, /* REQUEST_INIT sent */
	BK_RESOLVE, /* RESOLVE_INIT sent */
};

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

struct bk_load {
	const struct bk_opts *o;
	const char *host, *path;
	int port, ep;
	long pid; /* the daemon, for /proc; 0 if unknown */
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

static int conn_flush(struct bk_load *l, struct bk_conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	ssize_t k;

	while (c->out_off < c->out_len) {
		k = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL);
		if (k < 0 && errno == EAGAIN)
			break;
		if (k < 0)
			return -1;
		c->out_off += (size_t)k;
	}
	if ((c->out_off < c->out_len) != c->want_out) {
		c->want_out = !c->want_out;
		ev.events |= c->want_out ? EPOLLOUT : 0;
		if (epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev))
			return -1;
	}
	return 0;
}

static int conn_post(struct bk_load *l, struct bk_conn *c, const uint8_t *msg,
		     size_t len)
{
	int h = snprintf((char *)c->out, BK_HDR_MAX,
			 "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
			 "Content-Type: application/mikey\r\n"
			 "Content-Length: %zu\r\n\r\n",
			 l->path, l->host, l->port, len);

	if (h <= 0 || h >= BK_HDR_MAX || len > KMSC_MAX_MSG)
		return -1;
	memcpy(c->out + h, msg, len);
	c->out_len = (size_t)h + len;
	c->out_off = 0;
	c->t_msg = mono_ns();
	l->req_total++;
	return conn_flush(l, c);
}

/* Begin a new pair on c unless the run is ending. */
static int conn_next(struct bk_load *l, struct bk_conn *c)
{
	uint64_t t;

	c->stage = BK_IDLE;
	if (l->ending || g_stop)
		return 0;
	if (l->measuring && l->o->pairs && l->started >= l->o->pairs)
		return 0;
	if (l->measuring)
		l->started++;
	t = mono_ns();
	c->t_pair = t;
	if (pair_start(c->pt, c->p, &l->env)) {
		l->s.err_local++;
		return -1;
	}
	l->s.client_ns += (double)(mono_ns() - t);
	c->stage = BK_REQUEST;
	return conn_post(l, c, c->p->rq.msg, c->p->rq.len);
}

/* A complete answer on c. */
static int conn_answer(struct bk_load *l, struct bk_conn *c, int status,
		       const uint8_t *body, size_t len)
{
	uint64_t t = mono_ns(), t2;
	struct bk_stats *s = &l->s;
	enum cc_err err;

	if (status != 200) {
		s->err_http++;
		fprintf(stderr, "bench kms: HTTP %d from kmsd\n", status);
		pair_clear(c->p);
		return conn_next(l, c);
	}
	if (c->stage == BK_REQUEST) {
		hist_add(&s->req, t - c->t_msg);
		err = pair_ticket(c->pt, c->p, body, len, &l->env);
		t2 = mono_ns();
		s->client_ns += (double)(t2 - t);
		if (err) {
			count_fail(s, &c->p->st);
			pair_clear(c->p);
			return conn_next(l, c);
		}
		c->stage = BK_RESOLVE;
		return conn_post(l, c, c->p->ri, c->p->ri_len);
	}
	hist_add(&s->res, t - c->t_msg);
	err = pair_finish(c->pt, c->p, body, len, &l->env);
	pair_clear(c->p);
	t2 = mono_ns();
	s->client_ns += (double)(t2 - t);
	if (err) {
		count_fail(s, &c->p->st);
	} else {
		hist_add(&s->pair, t - c->t_pair);
		s->pairs++;
	}
	if (l->measuring && l->o->pairs && s->pairs >= l->o->pairs &&
	    !l->ending) {
		l->ending = true;
		l->tend = t2;
	}
	return conn_next(l, c);
}

static int conn_readable(struct bk_load *l, struct bk_conn *c)
{
	const uint8_t *body;
	size_t blen, used;
	int status, r;
	ssize_t k;

	k = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (k < 0 && errno == EAGAIN)
		return 0;
	if (k <= 0) {
		l->s.err_io++;
		fprintf(stderr, "bench kms: kmsd closed a connection (%s)\n",
			k ? strerror(errno) : "EOF");
		return -1;
	}
	c->in_len += (size_t)k;
	r = http_parse(c->in, c->in_len, &status, &body, &blen, &used);
	if (r <= 0) {
		if (r < 0)
			fprintf(stderr, "bench kms: bad HTTP answer\n");
		return r;
	}
	if (c->stage == BK_IDLE)
		return -1; /* an answer nobody asked for */
	r = conn_answer(l, c, status, body, blen);
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	return r;
}

static void load_free(struct bk_load *l)
{
	unsigned i;

	for (i = 0; l->c && i < l->nc; i++) {
		if (l->c[i].fd >= 0)
			close(l->c[i].fd);
		if (l->c[i].p) {
			pair_clear(l->c[i].p);
			OPENSSL_cleanse(l->c[i].p, sizeof(*l->c[i].p));
			free(l->c[i].p);
		}
	}
	free(l->c);
	if (l->ep >= 0)
		close(l->ep);
	hist_free(&l->s.pair);
	hist_free(&l->s.req);
	hist_free(&l->s.res);
}

static int load_open(struct bk_load *l, const struct bk_party *pt, size_t np)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct bk_conn *c;
	unsigned i;

	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->c = calloc(l->nc, sizeof(*l->c));
	if (l->ep < 0 || !l->c || !hist_init(&l->s.pair) ||
	    !hist_init(&l->s.req) || !hist_init(&l->s.res))
		return -1;
	for (i = 0; i < l->nc; i++)
		l->c[i].fd = -1;
	for (i = 0; i < l->nc; i++) {
		c = &l->c[i];
		c->pt = &pt[i % np];
		c->p = calloc(1, sizeof(*c->p));
		c->fd = tcp_connect(l->host, l->port, true);
		if (!c->p || c->fd < 0) {
			fprintf(stderr, "bench kms: connect %s:%d: %s\n",
				l->host, l->port, strerror(errno));
			return -1;
		}
		ev.data.ptr = c;
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev))
			return -1;
	}
	return 0;
}

static void rss_sample(struct bk_load *l, double elapsed, double total)
{
	uint64_t rss, hwm;

	if (!l->pid || !proc_rss(l->pid, &rss, &hwm))
		return;
	if (!l->rss_samples++)
		l->rss_first = rss;
	if (!l->rss_mid && elapsed >= total / 2)
		l->rss_mid = rss;
	l->rss_last = rss;
	if (rss > l->rss_max)
		l->rss_max = rss;
	l->hwm = hwm;
}

/* Start measuring: forget the warmup. */
static void load_measure(struct bk_load *l)
{
	hist_reset(&l->s.pair);
	hist_reset(&l->s.req);
	hist_reset(&l->s.res);
	l->s.pairs = 0;
	memset(l->s.err_mikey, 0, sizeof(l->s.err_mikey));
	l->s.err_local = l->s.err_http = l->s.err_io = 0;
	l->s.client_ns = 0;
	l->s.cpu_s = proc_cpu_s();
	l->kcpu0 = l->pid ? proc_cpu_of(l->pid) : -1;
	l->measuring = true;
	l->t0 = mono_ns();
	rss_sample(l, 0, 1);
}

/* Once a second: a progress line and an RSS sample. */
static void load_tick(struct bk_load *l, uint64_t now, uint64_t *last_pairs,
		      uint64_t *last_t)
{
	double el = (double)(now - l->t0) / 1e9,
	       dt = (double)(now - *last_t) / 1e9, total = l->o->seconds;

	if (l->o->pairs && l->s.pairs)
		total = el * (double)l->o->pairs / (double)l->s.pairs;
	if (l->measuring)
		rss_sample(l, el, total);
	fprintf(stderr,
		"bench kms: %s %5.1f s  pairs %9llu  %7.0f pairs/s  p99 %6.0f "
		"us  errors %llu  kmsd rss %llu KiB\n",
		l->measuring ? "run   " : "warmup", l->measuring ? el : 0.0,
		(unsigned long long)l->s.pairs,
		dt > 0 ? (double)(l->s.pairs - *last_pairs) / dt : 0,
		hist_q(&l->s.pair, 0.99),
		(unsigned long long)stats_errors(&l->s),
		(unsigned long long)l->rss_last);
	*last_pairs = l->s.pairs;
	*last_t = now;
}

static int load_events(struct bk_load *l)
{
	struct epoll_event ev[64];
	struct bk_conn *c;
	int n, i;

	n = epoll_wait(l->ep, ev, 64, 100);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	l->env.now = time(NULL);
	for (i = 0; i < n; i++) {
		c = ev[i].data.ptr;
		if ((ev[i].events & EPOLLOUT) && conn_flush(l, c))
			return -1;
		if ((ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
		    conn_readable(l, c))
			return -1;
	}
	return 0;
}

/* The HTTP run: warmup, then seconds or pairs. */
static int load_run(struct bk_load *l)
{
	uint64_t now, tick, warm_end, last_pairs = 0, last_t;
	unsigned i;

	l->env.now = time(NULL);
	now = mono_ns();
	warm_end = now + (uint64_t)(l->o->warmup * 1e9);
	tick = now + 1000000000u;
	last_t = now;
	if (l->o->warmup <= 0)
		load_measure(l);
	for (i = 0; i < l->nc; i++)
		if (conn_next(l, &l->c[i]))
			return -1;
	while (!g_stop) {
		if (load_events(l))
			return -1;
		now = mono_ns();
		if (!l->measuring && now >= warm_end) {
			load_measure(l);
			last_pairs = 0;
			now = l->t0;
		}
		if (l->measuring && !l->o->pairs && !l->ending &&
		    now - l->t0 >= (uint64_t)(l->o->seconds * 1e9)) {
			l->ending = true;
			l->tend = now;
		}
		if (now >= tick || l->ending) {
			load_tick(l, now, &last_pairs, &last_t);
			tick += 1000000000u;
		}
		if (l->ending)
			break;
	}
	if (!l->ending)
		return -1; /* interrupted */
	l->s.wall_s = (double)(l->tend - l->t0) / 1e9;
	l->s.cpu_s = proc_cpu_s() - l->s.cpu_s;
	l->kcpu1 = l->pid ? proc_cpu_of(l->pid) : -1;
	return 0;
}

/* ---- the in-process limit ------------------------------------------------ */

static enum cc_err kms_call(struct kms *k, const uint8_t *msg, size_t len,
			    int64_t now, uint8_t *out, size_t cap,
			    size_t *outlen)
{
	struct kms_result res;
	struct cc_wr wr;
	enum cc_err err;

	cc_wr_init(&wr, out, cap);
	err = kms_handle(k, msg, len, now, &wr, &res);
	*outlen = wr.pos;
	return err;
}

/* One pair through kms_handle; client and KMS time added to s. */
static int inproc_pair(struct kms *k, const struct bk_party *pt,
		       struct bk_pair *p, const struct kmsc_env *env,
		       struct bk_stats *s)
{
	static uint8_t resp[KMSC_MAX_MSG];
	uint64_t t0 = mono_ns(), t1, t2, t3, t4, t5;
	enum cc_err err;
	size_t n;

	err = pair_start(pt, p, env);
	t1 = mono_ns();
	err = err ? err :
		    kms_call(k, p->rq.msg, p->rq.len, env->now, resp,
			     sizeof(resp), &n);
	t2 = mono_ns();
	if (err) {
		s->err_local++;
		return -1;
	}
	err = pair_ticket(pt, p, resp, n, env);
	t3 = mono_ns();
	if (!err)
		err = kms_call(k, p->ri, p->ri_len, env->now, resp,
			       sizeof(resp), &n);
	t4 = mono_ns();
	if (!err)
		err = pair_finish(pt, p, resp, n, env);
	pair_clear(p);
	t5 = mono_ns();
	s->client_ns += (double)((t1 - t0) + (t3 - t2) + (t5 - t4));
	s->kms_ns += (double)((t2 - t1) + (t4 - t3));
	hist_add(&s->req, t2 - t1);
	hist_add(&s->res, t4 - t3);
	hist_add(&s->pair, t5 - t0);
	if (err) {
		count_fail(s, &p->st);
		return 0;
	}
	s->pairs++;
	return 0;
}

/* The same pairs on one thread with no HTTP, on an equivalent store (the
 * daemon's defaults: skew 300 s, 1 Mi replay entries). */
static int inproc_run(const struct bk_env *e, const struct bk_party *pt,
		      size_t np, double seconds, struct bk_stats *s)
{
	struct kms_config cfg = { .identity = BK_KMS_ID,
				  .skew = 300,
				  .max_lifetime = 86400,
				  .default_lifetime = 3600,
				  .replay_capacity = BK_REPLAY_CAP };
	struct kmsc_env env = { .rand = kmsc_rand_system };
	char path[PATH_MAX + 16], spec[PATH_MAX + 32];
	struct kms_db *db = NULL;
	struct kms *k = NULL;
	struct bk_pair *p = calloc(1, sizeof(*p));
	uint64_t t0, end, i = 0;
	bool warm = true;
	int rc = -1;

	path_in(e, "inproc.db", path, sizeof(path));
	snprintf(spec, sizeof(spec), "sqlite:%s", path);
	if (!p || !hist_init(&s->pair) || !hist_init(&s->req) ||
	    !hist_init(&s->res) || kms_db_open(&db, spec, e->master, false) ||
	    kms_alloc(&k, &cfg, kms_db_store(db), kmsc_rand_system, NULL))
		goto out;
	t0 = mono_ns();
	end = t0 + (uint64_t)(0.3e9);
	s->cpu_s = proc_cpu_s();
	while (!g_stop) {
		if ((i & 63) == 0) {
			env.now = time(NULL);
			if (mono_ns() >= end) {
				if (!warm)
					break;
				warm = false;
				hist_reset(&s->pair);
				hist_reset(&s->req);
				hist_reset(&s->res);
				s->pairs = s->err_local = 0;
				memset(s->err_mikey, 0, sizeof(s->err_mikey));
				s->client_ns = s->kms_ns = 0;
				s->cpu_s = proc_cpu_s();
				t0 = mono_ns();
				end = t0 + (uint64_t)(seconds * 1e9);
			}
		}
		if (inproc_pair(k, &pt[i % np], p, &env, s))
			goto out;
		i++;
	}
	s->wall_s = (double)(mono_ns() - t0) / 1e9;
	s->cpu_s = proc_cpu_s() - s->cpu_s;
	rc = g_stop ? -1 : 0;
out:
	if (rc && !g_stop)
		fprintf(stderr, "bench kms: in-process run failed\n");
	if (p) {
		pair_clear(p);
		OPENSSL_cleanse(p, sizeof(*p));
		free(p);
	}
	kms_free(k);
	kms_db_close(db);
	return rc;
}

/* ---- report ---------------------------------------------------------------- */

/* Goals of issue 3 §7. */
static const double goal_pairs_s = 10000, goal_p99_us = 5000;

struct bk_report {
	const struct bk_stats *http, *inproc; /* either may be NULL */
	const struct bk_load *l;
	long long replay;
	unsigned conns;
};

static double per_s(const struct bk_stats *s)
{
	return s && s->wall_s > 0 ? (double)s->pairs / s->wall_s : 0;
}

static double per_pair_us(const struct bk_stats *s, double ns)
{
	return s && s->pairs ? ns / 1e3 / (double)s->pairs : 0;
}

/* RSS flat: no growth over the second half of the run beyond 1% + 1 MiB
 * (the replay table is calloc'ed and its pages are touched as it fills,
 * so the first part of a run may grow; a leak keeps growing). */
static bool rss_flat(const struct bk_load *l)
{
	uint64_t mid = l->rss_mid ? l->rss_mid : l->rss_first;

	return l->rss_samples >= 2 && l->rss_max <= mid + mid / 100 + 1024;
}

static void json_lat(FILE *f, const char *name, const struct bk_hist *h)
{
	fprintf(f,
		"\"%s\": {\"n\": %llu, \"mean_us\": %.1f, \"p50_us\": %.0f, "
		"\"p99_us\": %.0f, \"p999_us\": %.0f, \"max_us\": %llu}",
		name, (unsigned long long)h->n,
		h->n ? h->sum_us / (double)h->n : 0, hist_q(h, 0.5),
		hist_q(h, 0.99), hist_q(h, 0.999),
		(unsigned long long)h->max_us);
}

static void json_errors(FILE *f, const struct bk_stats *s)
{
	size_t i;
	bool first = true;

	fprintf(f,
		"\"errors\": {\"total\": %llu, \"local\": %llu, "
		"\"http\": %llu, \"io\": %llu, \"mikey\": {",
		(unsigned long long)stats_errors(s),
		(unsigned long long)s->err_local,
		(unsigned long long)s->err_http, (unsigned long long)s->err_io);
	for (i = 0; i <= BK_MAX_ERRNO; i++) {
		if (!s->err_mikey[i])
			continue;
		fprintf(f, "%s\"%zu\": %llu", first ? "" : ", ", i,
			(unsigned long long)s->err_mikey[i]);
		first = false;
	}
	fprintf(f, "}}");
}

static void json_stats(FILE *f, const char *name, const struct bk_stats *s)
{
	fprintf(f,
		"  \"%s\": {\"pairs\": %llu, \"seconds\": %.3f, "
		"\"pairs_per_s\": %.0f,\n    \"client_us_per_pair\": %.2f, "
		"\"kms_us_per_pair\": %.2f, \"process_cpu_us_per_pair\": %.2f,"
		"\n    ",
		name, (unsigned long long)s->pairs, s->wall_s, per_s(s),
		per_pair_us(s, s->client_ns), per_pair_us(s, s->kms_ns),
		per_pair_us(s, s->cpu_s * 1e9));
	json_lat(f, "pair", &s->pair);
	fprintf(f, ",\n    ");
	json_lat(f, "request", &s->req);
	fprintf(f, ",\n    ");
	json_lat(f, "resolve", &s->res);
	fprintf(f, ",\n    ");
	json_errors(f, s);
	fprintf(f, "}");
}

static void report_json(FILE *f, const struct bk_report *r)
{
	const struct bk_load *l = r->l;
	double in_s = per_s(r->inproc), http_s = per_s(r->http);
	double kms_lim =
		r->inproc && r->inproc->kms_ns > 0 ?
			(double)r->inproc->pairs * 1e9 / r->inproc->kms_ns :
			0;

	fprintf(f,
		"{\n  \"suite\": \"kms\", \"conns\": %u, \"nproc\": %ld, "
		"\"openssl\": \"%s\",\n",
		r->conns, sysconf(_SC_NPROCESSORS_ONLN),
		OpenSSL_version(OPENSSL_VERSION));
	if (r->http) {
		json_stats(f, "http", r->http);
		fprintf(f,
			",\n  \"kmsd\": {\"pid\": %ld, \"cpu_us_per_pair\": "
			"%.2f, \"rss_kib\": {\"first\": %llu, \"mid\": %llu, "
			"\"last\": %llu, \"max\": %llu, \"hwm\": %llu, "
			"\"samples\": %llu}, \"requests\": %llu, "
			"\"replay_size\": %lld},\n",
			l->pid,
			l->kcpu0 >= 0 && l->kcpu1 >= 0 ?
				per_pair_us(r->http,
					    (l->kcpu1 - l->kcpu0) * 1e9) :
				0,
			(unsigned long long)l->rss_first,
			(unsigned long long)l->rss_mid,
			(unsigned long long)l->rss_last,
			(unsigned long long)l->rss_max,
			(unsigned long long)l->hwm,
			(unsigned long long)l->rss_samples,
			(unsigned long long)l->req_total, r->replay);
	}
	if (r->inproc) {
		json_stats(f, "inprocess", r->inproc);
		fprintf(f,
			",\n  \"kms_limit_pairs_per_s\": %.0f, "
			"\"ratio_http_to_inprocess\": %.3f, "
			"\"ratio_http_to_kms_limit\": %.3f,\n",
			kms_lim, in_s > 0 ? http_s / in_s : 0,
			kms_lim > 0 ? http_s / kms_lim : 0);
	}
	fprintf(f,
		"  \"goals\": {\"min_pairs_per_s\": %.0f, \"max_p99_us\": "
		"%.0f, "
		"\"pairs_met\": %s, \"p99_met\": %s, \"rss_flat\": %s}\n}\n",
		goal_pairs_s, goal_p99_us,
		r->http && http_s >= goal_pairs_s ? "true" : "false",
		r->http && hist_q(&r->http->pair, 0.99) < goal_p99_us ? "true" :
									"false",
		r->http && rss_flat(l) ? "true" : "false");
}

static void text_lat(FILE *f, const char *name, const struct bk_hist *h)
{
	fprintf(f,
		"  %-9s latency us: mean %7.1f  p50 %6.0f  p99 %6.0f  "
		"p99.9 %6.0f  max %6llu\n",
		name, h->n ? h->sum_us / (double)h->n : 0, hist_q(h, 0.5),
		hist_q(h, 0.99), hist_q(h, 0.999),
		(unsigned long long)h->max_us);
}

static void text_errors(FILE *f, const struct bk_stats *s)
{
	size_t i;

	if (!stats_errors(s))
		return;
	fprintf(f, "  ERRORS: %llu (local %llu, http %llu, io %llu",
		(unsigned long long)stats_errors(s),
		(unsigned long long)s->err_local,
		(unsigned long long)s->err_http, (unsigned long long)s->err_io);
	for (i = 0; i <= BK_MAX_ERRNO; i++)
		if (s->err_mikey[i])
			fprintf(f, ", MIKEY Error %zu: %llu", i,
				(unsigned long long)s->err_mikey[i]);
	fprintf(f, ")\n");
}

static void text_stats(FILE *f, const char *title, const struct bk_stats *s)
{
	fprintf(f,
		"%s: %llu pairs in %.2f s = %.0f pairs/s\n"
		"  client kmsc_* time %.1f us/pair; this process's CPU %.1f "
		"us/pair\n",
		title, (unsigned long long)s->pairs, s->wall_s, per_s(s),
		per_pair_us(s, s->client_ns), per_pair_us(s, s->cpu_s * 1e9));
	text_lat(f, "pair", &s->pair);
	text_lat(f, "request", &s->req);
	text_lat(f, "resolve", &s->res);
	text_errors(f, s);
}

static void report_text(FILE *f, const struct bk_report *r)
{
	const struct bk_load *l = r->l;
	double in_s = per_s(r->inproc), http_s = per_s(r->http), kms_lim = 0;
	char cpu_line[64] = "";

	fprintf(f, "bench kms: %ld CPUs online; %s\n\n",
		sysconf(_SC_NPROCESSORS_ONLN),
		OpenSSL_version(OPENSSL_VERSION));
	if (r->http) {
		text_stats(f, "HTTP (kmsd on loopback)", r->http);
		fprintf(f,
			"  connections %u; requests sent %llu (warmup "
			"included)\n",
			r->conns, (unsigned long long)l->req_total);
		if (l->kcpu0 >= 0 && l->kcpu1 >= 0)
			snprintf(cpu_line, sizeof(cpu_line),
				 "%.1f us CPU/pair, ",
				 per_pair_us(r->http,
					     (l->kcpu1 - l->kcpu0) * 1e9));
		if (l->rss_samples)
			fprintf(f,
				"  kmsd: %sRSS KiB first %llu, mid %llu, last "
				"%llu, max %llu (VmHWM %llu; %llu samples)%s\n",
				cpu_line, (unsigned long long)l->rss_first,
				(unsigned long long)l->rss_mid,
				(unsigned long long)l->rss_last,
				(unsigned long long)l->rss_max,
				(unsigned long long)l->hwm,
				(unsigned long long)l->rss_samples,
				rss_flat(l) ? ", flat" : ", GROWING");
		if (r->replay >= 0)
			fprintf(f, "  kmsd replay cache: %lld entries\n",
				r->replay);
		fputc('\n', f);
	}
	if (r->inproc) {
		text_stats(f, "in-process (kms_handle, no HTTP, one thread)",
			   r->inproc);
		if (r->inproc->kms_ns > 0)
			kms_lim = (double)r->inproc->pairs * 1e9 /
				  r->inproc->kms_ns;
		fprintf(f,
			"  kms_handle %.1f us/pair: the KMS alone on one core "
			"= %.0f pairs/s\n\n",
			per_pair_us(r->inproc, r->inproc->kms_ns), kms_lim);
	}
	if (r->http && r->inproc && in_s > 0 && kms_lim > 0)
		fprintf(f,
			"ratio: HTTP / in-process pairs = %.2f; HTTP / "
			"KMS-only "
			"limit = %.2f\n",
			http_s / in_s, http_s / kms_lim);
	if (r->http)
		fprintf(f,
			"goal >= %.0f pairs/s: %s (%.0f); p99 < %.0f us: %s "
			"(%.0f); RSS flat: %s\n",
			goal_pairs_s,
			http_s >= goal_pairs_s ? "MET" : "NOT MET", http_s,
			goal_p99_us,
			hist_q(&r->http->pair, 0.99) < goal_p99_us ? "MET" :
								     "NOT MET",
			hist_q(&r->http->pair, 0.99),
			rss_flat(l) ? "yes" : "NO");
}

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
		"  --keep            keep the temp dir (store, kmsd log)\n"
		"  --json            one JSON object on stdout\n"
		"Progress goes to stderr, once a second.\n"
		"Goal (issue 3 §7): >= 10,000 pairs/s, p99 < 5 ms, daemon RSS "
		"flat.\n",
		BK_MAX_CONNS);
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
		else {
			fprintf(stderr,
				"bench kms: bad option or value: %s %s\n", a,
				v ? v : "");
			usage(stderr);
			return 2;
		}
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
		make_cred(&pt[i].alice, name, "");
		snprintf(name, sizeof(name), "bob%zu", i);
		make_cred(&pt[i].bob, name, "");
		err = kmsc_rand_system(pt[i].alice.psk, BK_PSK_LEN, NULL);
		err = err ? err :
			    kmsc_rand_system(pt[i].bob.psk, BK_PSK_LEN, NULL);
		party_wire(&pt[i]);
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
	path_in(e, "master.key", p, sizeof(p));
	err = kms_master_key_create(p);
	err = err ? err : kms_master_key_load(p, e->master);
	if (!err && !o->url && !o->no_http) {
		path_in(e, "kms.db", p, sizeof(p));
		err = make_store(p, e->master, pt, np, o->users);
	}
	if (!err && o->inproc_s > 0) {
		path_in(e, "inproc.db", p, sizeof(p));
		err = make_store(p, e->master, pt, np, o->users);
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
	char kmsd[PATH_MAX], host[64], path[256];
};

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
		if (kmsd_start(&m->e, o))
			return 1;
		snprintf(m->host, sizeof(m->host), "%s", m->e.host);
		snprintf(m->path, sizeof(m->path), "/mikey");
		l->port = m->e.port;
		l->pid = m->e.pid;
	}
	l->o = o;
	l->host = m->host;
	l->path = m->path;
	l->nc = o->conns;
	l->env.rand = kmsc_rand_system;
	fprintf(stderr,
		"bench kms: %u connections to http://%s:%d%s (kmsd pid %ld)\n",
		l->nc, l->host, l->port, l->path, l->pid);
	if (load_open(l, m->net, m->nnet) || load_run(l))
		return 1;
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
		party_wire(m->net);
	}
	if (o->inproc_s > 0) {
		fprintf(stderr, "bench kms: in-process limit, %.1f s\n",
			o->inproc_s);
		if (inproc_run(&m->e, m->pt, m->np, o->inproc_s, &m->in))
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
		r.replay = replay_size(m->l.host, m->l.port);
	}
	if (o->json)
		report_json(stdout, &r);
	else
		report_text(stdout, &r);
	return 0;
}

int bench_kms(int argc, char **argv)
{
	static struct bk_main m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.o.conns = 8;
	m.o.seconds = 10;
	m.o.warmup = 1;
	m.o.inproc_s = 3;
	m.o.users = 1000;
	m.l.ep = -1;
	rc = parse(argc, argv, &m.o);
	if (rc >= 0)
		return rc;
	if (!m.o.url && !m.o.no_http && !m.o.kmsd) {
		if (!default_kmsd(m.kmsd, sizeof(m.kmsd))) {
			fprintf(stderr, "bench kms: no conclave-kmsd next to "
					"this binary: use --kmsd PATH\n");
			return 2;
		}
		m.o.kmsd = m.kmsd;
	}
	catch_signals();
	rc = run_all(&m);
	if (g_stop) {
		fprintf(stderr, "bench kms: interrupted\n");
		rc = 130;
	}
	load_free(&m.l);
	hist_free(&m.in.pair);
	hist_free(&m.in.req);
	hist_free(&m.in.res);
	kmsd_stop(&m.e);
	if (rc && m.e.have_dir && !m.o.url)
		show_log(&m.e);
	if (m.o.keep && m.e.have_dir)
		fprintf(stderr, "bench kms: kept %s\n", m.e.dir);
	else
		rm_dir(&m.e);
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
