/*
 * bench_confd_env.c -- `conclave bench confd`: clocks and /proc, the temp
 * dir (master key, KMS store, credentials, configs, logs), the children
 * (conclave-kmsd on 127.0.0.1:0, its port read from its log; then
 * conclave-confd on a free UDP port) and reading confd's log timestamps.
 */
#include "bench.h"
#include "bench_confd.h"

#include <conclave/conf.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- clocks, /proc --------------------------------------------------------- */

uint64_t bcd_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bcd_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double bcd_cpu_of(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces */
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%lu %lu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

bool bcd_rss_of(long pid, uint64_t *kib)
{
	char path[64], line[256];
	unsigned long long v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	*kib = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %llu", &v) == 1)
			*kib = v;
	fclose(f);
	return true;
}

/* A UDP port the system considers free now (bound, read, closed). */
int bcd_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), port = -1;

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ---- the temp dir -------------------------------------------------------------- */

void bcd_path(const struct bcd_env *e, const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", e->dir, name);
}

void bcd_env_rm(struct bcd_env *e)
{
	if (!e->have_dir)
		return;
	bench_rm_dir(e->dir);
	e->have_dir = false;
}

static bool write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t n = strlen(text);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, n) == (ssize_t)n;
	return close(fd) == 0 && ok;
}

static void make_cred(struct kmsc_cred *c, const char *user)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->identity, sizeof(c->identity), "sip:%s@" BCD_REALM, user);
	snprintf(c->psk_id, sizeof(c->psk_id), "%s-psk", user);
	snprintf(c->kms_identity, sizeof(c->kms_identity), BCD_KMS_ID);
	c->psk_len = BCD_PSK_LEN;
}

static enum cc_err add_user(struct kms_db *db, struct kmsc_cred *c,
			    const char *name, bool supplier)
{
	enum cc_err err = kmsc_rand_system(c->psk, c->psk_len, NULL);

	err = err ? err :
		    kms_db_user_add(db, name, c->psk_id, c->psk, c->psk_len,
				    supplier);
	return err ? err : kms_db_identity_add(db, name, c->identity);
}

/* The store: owner (may create conferences at the factory), m0..m14,
 * and the focus user (key supplier) owning the factory URI and the
 * focus pattern; the focus credential goes to confd.cred later. */
static enum cc_err make_store(struct bcd_env *e, struct kmsc_cred *focus)
{
	char spec[PATH_MAX + 16], name[32];
	struct kms_db *db;
	enum cc_err err;
	size_t i;

	snprintf(spec, sizeof(spec), "sqlite:%s/kms.db", e->dir);
	err = kms_db_open(&db, spec, e->master, true);
	if (err)
		return err;
	make_cred(&e->owner, "owner");
	err = add_user(db, &e->owner, "owner", false);
	for (i = 0; !err && i < BCD_IDS; i++) {
		snprintf(name, sizeof(name), "m%zu", i);
		make_cred(&e->ids[i], name);
		err = add_user(db, &e->ids[i], name, false);
	}
	make_cred(focus, "conf1-focus");
	snprintf(focus->identity, sizeof(focus->identity), BCD_FACTORY);
	err = err ? err : add_user(db, focus, "conf1-focus", true);
	err = err ? err : kms_db_identity_set_factory(db, BCD_FACTORY, true);
	err = err ? err :
		    kms_db_identity_add(db, "conf1-focus",
					"sip:focus*.conf1@" BCD_REALM);
	err = err ? err :
		    kms_db_policy_allow_conference(db, "owner", "conf1-focus");
	kms_db_close(db);
	return err;
}

int bcd_env_setup(struct bcd_env *e, const struct bcd_opts *o)
{
	const char *tmp = getenv("TMPDIR");
	char p[PATH_MAX + 16];
	enum cc_err err;

	(void)o;
	snprintf(e->dir, sizeof(e->dir), "%s/conclave-bench-confd.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(e->dir)) {
		perror("bench confd: mkdtemp");
		return -1;
	}
	e->have_dir = true;
	bcd_path(e, "master.key", p, sizeof(p));
	err = kms_master_key_create(p);
	err = err ? err : kms_master_key_load(p, e->master);
	if (err) {
		fprintf(stderr, "bench confd: master key: %s\n",
			cc_strerror(err));
		return -1;
	}
	return 0;
}

/* ---- children ------------------------------------------------------------------ */

pid_t bcd_spawn(const struct bcd_env *e, const char *const *argv,
		const char *log)
{
	char p[PATH_MAX + 64];
	pid_t pid;
	int fd;

	bcd_path(e, log, p, sizeof(p));
	/* a previous child's log (--scale) must not be read as this one's */
	if (unlink(p) && errno != ENOENT)
		return 0;
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid)
		return pid;
	setpgid(0, 0); /* a ^C at the terminal reaches us, not them */
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(127);
	close(fd);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && dup2(fd, 0) >= 0)
		close(fd);
	if (chdir(e->dir))
		_exit(127);
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

void bcd_stop_child(pid_t *pid, int ms)
{
	int status, i;

	if (!*pid)
		return;
	kill(*pid, SIGTERM);
	kill(-*pid, SIGTERM); /* its process group (kamailio's workers) */
	for (i = 0; i < ms / 10; i++) {
		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			*pid = 0;
			return;
		}
		usleep(10000);
	}
	kill(*pid, SIGKILL);
	kill(-*pid, SIGKILL);
	if (waitpid(*pid, &status, 0) < 0)
		perror("bench confd: waitpid");
	*pid = 0;
}

static size_t read_log(const struct bcd_env *e, const char *name, long from,
		       char *buf, size_t cap)
{
	char p[PATH_MAX + 64];
	size_t n;
	FILE *f;

	bcd_path(e, name, p, sizeof(p));
	buf[0] = '\0';
	f = fopen(p, "r");
	if (!f)
		return 0;
	if (from > 0 && fseek(f, from, SEEK_SET)) {
		fclose(f);
		return 0;
	}
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

long bcd_log_size(const struct bcd_env *e, const char *name)
{
	char p[PATH_MAX + 64];
	struct stat st;

	bcd_path(e, name, p, sizeof(p));
	return stat(p, &st) ? 0 : (long)st.st_size;
}

void bcd_show_log(const struct bcd_env *e, const char *name)
{
	static char buf[16384];
	long sz = bcd_log_size(e, name);

	if (read_log(e, name, sz > 12000 ? sz - 12000 : 0, buf, sizeof(buf)))
		fprintf(stderr, "bench confd: %s (tail):\n%s", name, buf);
}

static bool alive(pid_t pid)
{
	int status;

	return pid && waitpid(pid, &status, WNOHANG) == 0;
}

/* Wait for needle in the log; copy the rest of its line. */
static bool wait_log(const struct bcd_env *e, const char *name, pid_t pid,
		     const char *needle, char *rest, size_t cap)
{
	static char buf[65536];
	uint64_t end = bcd_mono_ns() + 10000000000ull;
	const char *p;

	while (bcd_mono_ns() < end && !bcd_signal) {
		read_log(e, name, 0, buf, sizeof(buf));
		p = strstr(buf, needle);
		if (p) {
			p += strlen(needle);
			snprintf(rest, cap, "%.*s", (int)strcspn(p, "\n"), p);
			return true;
		}
		if (!alive(pid))
			return false;
		usleep(5000);
	}
	return false;
}

static int start_kmsd(struct bcd_env *e, const struct bcd_opts *o)
{
	char db[PATH_MAX + 16], key[PATH_MAX + 16], conf[PATH_MAX + 16],
		rest[64], *colon;
	const char *argv[] = {
		o->kmsd,       "-c",         conf,       "--listen",
		"127.0.0.1:0", "--db",       db,         "--master-key-file",
		key,           "--identity", BCD_KMS_ID, NULL
	};

	snprintf(db, sizeof(db), "sqlite:%s/kms.db", e->dir);
	bcd_path(e, "master.key", key, sizeof(key));
	bcd_path(e, "kmsd.conf", conf, sizeof(conf));
	if (!write_file(conf, "log_level info\n"))
		return -1;
	e->kmsd = bcd_spawn(e, argv, "kmsd.log");
	if (!e->kmsd ||
	    !wait_log(e, "kmsd.log", e->kmsd, "listening http ", rest,
		      sizeof(rest)) ||
	    !(colon = strrchr(rest, ':'))) {
		fprintf(stderr, "bench confd: conclave-kmsd did not start\n");
		bcd_show_log(e, "kmsd.log");
		return -1;
	}
	e->kms_port = atoi(colon + 1);
	snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%d/mikey",
		 e->kms_port);
	/* one log line per request would cost kmsd a write(2) each. kmsd
	 * logs "listening" before it handles SIGHUP (until then SIGHUP
	 * kills it): wait for "started" */
	if (!wait_log(e, "kmsd.log", e->kmsd, " started: ", rest,
		      sizeof(rest))) {
		fprintf(stderr, "bench confd: conclave-kmsd did not start\n");
		bcd_show_log(e, "kmsd.log");
		return -1;
	}
	if (!write_file(conf, "log_level warn\n") || kill(e->kmsd, SIGHUP))
		return -1;
	return 0;
}

/* --confd-extra: the file's lines after the bench's own (a later key
 * overrides an earlier one in confd's config). */
static bool append_file(char *text, size_t size, const char *path)
{
	size_t n = strlen(text), r;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "bench confd: --confd-extra %s: %s\n", path,
			strerror(errno));
		return false;
	}
	r = fread(text + n, 1, size - n - 1, f);
	text[n + r] = '\0';
	if (!feof(f)) {
		fprintf(stderr, "bench confd: --confd-extra %s: too long\n",
			path);
		fclose(f);
		return false;
	}
	fclose(f);
	return true;
}

static int start_confd(struct bcd_env *e, const struct bcd_opts *o,
		       const struct kmsc_cred *focus)
{
	char cred[PATH_MAX + 16];
	char text[8192], hex[2 * KMSC_MAX_PSK + 1];
	size_t i;

	bcd_path(e, "confd.cred", cred, sizeof(cred));
	for (i = 0; i < focus->psk_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", focus->psk[i]);
	snprintf(text, sizeof(text),
		 "identity = %s\npsk_id = %s\npsk = %s\nkms_url = %s\n"
		 "kms_identity = %s\n",
		 focus->identity, focus->psk_id, hex, e->url, BCD_KMS_ID);
	cc_wipe(hex, sizeof(hex));
	if (!write_file(cred, text)) {
		cc_wipe(text, sizeof(text));
		return -1;
	}
	cc_wipe(text, sizeof(text));
	e->sip_port = bcd_free_port();
	return bcd_start_node(e, o, 0, e->sip_port, &e->confd);
}

int bcd_start_node(struct bcd_env *e, const struct bcd_opts *o, unsigned k,
		   int port, pid_t *pid)
{
	char conf[PATH_MAX + 64], cred[PATH_MAX + 64], rest[64], text[8192],
		node[32], name[32], log[32];
	const char *argv[] = { o->confd, "--config", conf, NULL };
	const char *sdes_cfg = "sdes_insecure yes\nsdes_allow *\n";
	bool sdes = o->sdes && !o->storm && !o->only_media && !o->scale;

	snprintf(name, sizeof(name), "confd.conf");
	snprintf(log, sizeof(log), "confd.log");
	node[0] = '\0';
	if (k > 1) {
		snprintf(name, sizeof(name), "confd%u.conf", k);
		snprintf(log, sizeof(log), "confd%u.log", k);
	}
	if (k)
		snprintf(node, sizeof(node), "node n%u\n", k);
	bcd_path(e, name, conf, sizeof(conf));
	bcd_path(e, "confd.cred", cred, sizeof(cred));
	/* the storm: every join rekeys, at most one rekey start a second;
	 * most members only listen, so no RTP timeout. SDES joins: over
	 * UDP (TEST ONLY: production requires SIP over TLS), any identity
	 * of the conference's allowed set */
	snprintf(text, sizeof(text),
		 "udp 127.0.0.1:%d\ntcp off\nfactory " BCD_FACTORY "\n"
		 "%scredential %s\nidle_timeout 600\nrtp_timeout 0\n"
		 "log_level info\n"
		 "replay_capacity 1048576\n"
		 "policy rekey-on=%s\npolicy min-rekey-interval=%d\n"
		 "policy grace=%s\npolicy ack-deadline=%s\n"
		 "policy max-members=%u\n%s",
		 port, node, cred, o->storm ? "join,leave" : "leave",
		 o->storm ? BCD_STORM_MIN_REKEY_MS : 0, o->storm ? "1s" : "2s",
		 o->storm ? "5s" : "20s", CONF_MEMBERS_LIMIT,
		 sdes ? sdes_cfg : "");
	if (o->confd_extra && !append_file(text, sizeof(text), o->confd_extra))
		return -1;
	if (port <= 0 || !write_file(conf, text))
		return -1;
	*pid = bcd_spawn(e, argv, log);
	if (!*pid ||
	    !wait_log(e, log, *pid, "listening sip UDP ", rest, sizeof(rest))) {
		fprintf(stderr, "bench confd: conclave-confd did not start\n");
		bcd_show_log(e, log);
		return -1;
	}
	return 0;
}

int bcd_env_start(struct bcd_env *e, const struct bcd_opts *o)
{
	struct kmsc_cred focus;
	enum cc_err err;
	size_t i;
	int rc;

	err = make_store(e, &focus);
	if (err) {
		fprintf(stderr, "bench confd: KMS store: %s\n",
			cc_strerror(err));
		kmsc_cred_wipe(&focus);
		return -1;
	}
	rc = start_kmsd(e, o);
	if (!rc) {
		snprintf(e->owner.kms_url, sizeof(e->owner.kms_url), "%s",
			 e->url);
		for (i = 0; i < BCD_IDS; i++)
			snprintf(e->ids[i].kms_url, sizeof(e->ids[i].kms_url),
				 "%s", e->url);
		rc = start_confd(e, o, &focus);
	}
	kmsc_cred_wipe(&focus);
	return rc;
}

void bcd_env_stop(struct bcd_env *e)
{
	/* confd would BYE thousands of members nobody answers any more:
	 * a short grace, then SIGKILL */
	bcd_scale_stop(e);
	bcd_stop_child(&e->confd, 300);
	bcd_stop_child(&e->kmsd, 3000);
}

/* ---- confd's log timestamps ---------------------------------------------------- */

/* "2024-01-01T12:00:00.123Z ..." -> ms of the day; -1 if not a stamp. */
static double stamp_ms(const char *line)
{
	int h, m, s, ms;

	if (strlen(line) < 24 || line[10] != 'T' ||
	    sscanf(line + 11, "%2d:%2d:%2d.%3d", &h, &m, &s, &ms) != 4)
		return -1;
	return ((h * 60.0 + m) * 60.0 + s) * 1000.0 + ms;
}

double bcd_confd_span_ms(const struct bcd_env *e, long from, const char *a,
			 const char *b)
{
	static char buf[8 << 20];
	double ta = -1, tb = -1, d;
	char *line, *next;
	size_t n;

	n = read_log(e, e->rk_log[0] ? e->rk_log : "confd.log", from, buf,
		     sizeof(buf));
	for (line = buf; n && line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (ta < 0 && strstr(line, a))
			ta = stamp_ms(line);
		else if (ta >= 0 && strstr(line, b))
			tb = stamp_ms(line); /* the last one */
	}
	if (ta < 0 || tb < 0)
		return -1;
	d = tb - ta;
	return d < 0 ? d + 86400000.0 : d;
}

/* One line of confd.log into r (see struct bcd_epochs). */
static void epoch_line(const char *line, struct bcd_epochs *r)
{
	const char *p;
	unsigned long e;

	if ((p = strstr(line, ": epoch ")) && strstr(p, ") created") &&
	    sscanf(p, ": epoch %lu", &e) == 1) {
		if (!r->created++)
			r->first_created = (uint32_t)e;
		r->last_created = (uint32_t)e;
	} else if ((p = strstr(line, ": SWITCH_MKI epoch ")) &&
		   sscanf(p, ": SWITCH_MKI epoch %lu", &e) == 1) {
		r->switched++;
		r->last_switched = (uint32_t)e;
	} else if (strstr(line, " member(s)") && strstr(line, " joined, ")) {
		if (!r->joined++)
			r->first_join_ms = stamp_ms(line);
		r->last_join_ms = stamp_ms(line);
	} else if (strstr(line, " member(s)") && strstr(line, " removed: ")) {
		r->removed++;
	} else if (strstr(line, " refused")) {
		r->refused++;
	}
}

void bcd_confd_epochs(const struct bcd_env *e, long from, struct bcd_epochs *r)
{
	static char buf[8 << 20];
	char *line, *next;
	size_t n;

	memset(r, 0, sizeof(*r));
	n = read_log(e, "confd.log", from, buf, sizeof(buf));
	for (line = buf; n && line && *line; line = next) {
		next = strchr(line, '\n');
		if (!next)
			break; /* a line still being written: next time */
		*next++ = '\0';
		epoch_line(line, r);
	}
}
