/*
 * main.c -- conclave-kmsd: command line, configuration, start-up checks
 * (master key permissions, store), signals (SIGTERM/SIGINT: clean exit,
 * SIGHUP: reload), and the libre main loop.
 *
 * Exit status: 0 clean shutdown, 1 start-up failure (key, store, socket),
 * 2 usage or configuration error.
 */
#include "kmsd.h"

#include <re.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONF "/etc/conclave/kmsd.conf"

enum {
	MAX_FLAGS = 64
};

static struct {
	struct kmsd_conf conf;
	struct kms_config kcfg;
	const char *conf_path;
	char flag_keys[MAX_FLAGS][64]; /* keys set on the command line */
	size_t n_flag_keys;
	int hup_pipe[2];
	struct kms *kms; /* for kms_reconfigure on SIGHUP */
} g = { .hup_pipe = { -1, -1 } };

/* Long options that are not spelled like their config key. */
static const struct {
	const char *flag, *key;
} aliases[] = {
	{ "--db", "store" },
	{ "--https", "https_listen" },
	{ "--tls-cert", "tls_cert" },
	{ "--identity", "kms_identity" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: conclave-kmsd [options]\n\n"
		"The Conclave KMS daemon (MIKEY-TICKET, RFC 6043 mode 1): "
		"POST /mikey,\nGET /healthz, GET /metrics over HTTP and "
		"HTTPS. See docs/KMSD.md.\n\n"
		"options (flags override the config file):\n"
		"  -c, --config FILE       config file (default %s;\n"
		"                          a missing file means defaults)\n"
		"  --listen ADDR:PORT      HTTP listener (\"off\" = none)\n"
		"  --https ADDR:PORT       HTTPS listener (needs --tls-cert)\n"
		"  --tls-cert FILE         PEM with certificate chain + key\n"
		"  --db SPEC               the store (conclave kms init):\n"
		"                          sqlite:PATH or postgresql:CONNINFO\n"
		"  --master-key-file PATH  master key, mode 0600\n"
		"  --identity URI          the KMS identity (IDRkms)\n"
		"  --KEY VALUE             any config key below, '_' "
		"written '-'\n"
		"                          (e.g. --max-conns 4, "
		"--request-timeout 2s)\n"
		"  --foreground            accepted for service managers; "
		"kmsd never\n"
		"                          daemonises and always logs to "
		"stderr\n"
		"  -v, --verbose           log_level debug\n"
		"  -h, --help              this text\n"
		"  --version               print the version\n\n"
		"config keys (`key value` lines in the file; [SIGHUP] = "
		"re-read on SIGHUP,\nsee docs/KMSD.md \"Reload\"):\n",
		DEFAULT_CONF);
	kmsd_conf_help(f);
	fprintf(f, "\nsignals: SIGTERM/SIGINT stop cleanly (exit 0); SIGHUP "
		   "re-reads the [SIGHUP] keys.\n"
		   "exit status: 0 clean stop, 1 start-up failure, 2 usage or "
		   "config error.\n");
}

static bool flag_set(const char *key, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < g.n_flag_keys; i++)
		if (!strcmp(g.flag_keys[i], key))
			return true;
	return false;
}

static void remember_flag(const char *key)
{
	if (g.n_flag_keys < MAX_FLAGS && strlen(key) < 64)
		strcpy(g.flag_keys[g.n_flag_keys++], key);
}

/* "--max-conns" -> "max_conns" in buf; NULL if not a long option. */
static const char *flag_key(const char *flag, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(flag, aliases[i].flag))
			return aliases[i].key;
	if (strncmp(flag, "--", 2) || strlen(flag + 2) >= cap)
		return NULL;
	for (i = 0; flag[i + 2]; i++)
		buf[i] = flag[i + 2] == '-' ? '_' : flag[i + 2];
	buf[i] = '\0';
	return buf;
}

/* First pass: -c, --help, --version only. 0 = go on, else exit status+1. */
static int scan_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 1;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("conclave-kmsd %s\n", KMSD_VERSION);
			return 1;
		}
		if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) {
			if (i + 1 >= argc) {
				fprintf(stderr,
					"conclave-kmsd: %s needs a "
					"file\n",
					argv[i]);
				return 3;
			}
			g.conf_path = argv[++i];
		}
	}
	return 0;
}

/* Second pass: every setting flag, applied over the file's values. */
static bool apply_flags(int argc, char **argv)
{
	char keybuf[64], err[512];
	const char *key;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			i++;
			continue;
		}
		if (!strcmp(a, "--foreground"))
			continue;
		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			g.conf.log_level = KMSD_LOG_DEBUG;
			remember_flag("log_level");
			continue;
		}
		key = flag_key(a, keybuf, sizeof(keybuf));
		if (!key) {
			fprintf(stderr,
				"conclave-kmsd: unknown argument "
				"'%s' (see --help)\n",
				a);
			return false;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "conclave-kmsd: %s needs a value\n", a);
			return false;
		}
		if (!kmsd_conf_set(&g.conf, key, argv[++i], err, sizeof(err))) {
			fprintf(stderr, "conclave-kmsd: %s: %s\n", a,
				strstr(err, "unknown setting") ? "unknown "
								 "option (see "
								 "--help)" :
								 err);
			return false;
		}
		remember_flag(key);
	}
	return true;
}

static void kcfg_from_conf(void)
{
	g.kcfg.identity = g.conf.identity;
	g.kcfg.skew = g.conf.skew;
	g.kcfg.max_lifetime = g.conf.max_lifetime;
	g.kcfg.default_lifetime = g.conf.default_lifetime;
	g.kcfg.replay_capacity = g.conf.replay_capacity;
	g.kcfg.allow_reuse = g.conf.allow_reuse;
}

/* ---- signals ------------------------------------------------------------ */

static void on_hup_signal(int sig)
{
	int saved = errno;
	char b = 'h';

	(void)sig;
	if (write(g.hup_pipe[1], &b, 1) < 0) {
		/* pipe full: a reload is already pending */
	}
	errno = saved;
}

static void reload(void)
{
	struct kmsd_conf c = g.conf;
	char err[512];

	if (!kmsd_conf_load(&c, g.conf_path, true, true, flag_set, NULL, err,
			    sizeof(err)) ||
	    !kmsd_conf_check(&c, err, sizeof(err))) {
		kmsd_log(KMSD_LOG_ERROR,
			 "reload failed, running settings kept: %s", err);
		return;
	}
	/* The KMS keeps its replay cache across the change, so replays
	 * inside the old window are still caught. */
	g.conf.skew = c.skew;
	g.conf.max_lifetime = c.max_lifetime;
	g.conf.default_lifetime = c.default_lifetime;
	g.conf.allow_reuse = c.allow_reuse;
	kcfg_from_conf();
	if (g.kms && kms_reconfigure(g.kms, &g.kcfg) != CC_OK)
		kmsd_log(KMSD_LOG_ERROR, "reload: the KMS refused the "
					 "new settings");
	g.conf.log_level = c.log_level;
	kmsd_log_set_level(g.conf.log_level);
	kmsd_metrics_reload();
	kmsd_log(KMSD_LOG_INFO,
		 "reloaded %s: skew=%u max_ticket_lifetime=%u "
		 "default_ticket_lifetime=%u log_level=%s",
		 g.conf_path, g.conf.skew, g.conf.max_lifetime,
		 g.conf.default_lifetime, kmsd_level_name(g.conf.log_level));
}

static void hup_readable(int flags, void *arg)
{
	char buf[64];

	(void)flags;
	(void)arg;
	while (read(g.hup_pipe[0], buf, sizeof(buf)) > 0)
		;
	reload();
}

static int hup_setup(void)
{
	struct sigaction sa;
	int i;

	if (pipe(g.hup_pipe) < 0)
		return errno;
	for (i = 0; i < 2; i++) {
		int fl = fcntl(g.hup_pipe[i], F_GETFL);

		if (fl < 0 || fcntl(g.hup_pipe[i], F_SETFL, fl | O_NONBLOCK) ||
		    fcntl(g.hup_pipe[i], F_SETFD, FD_CLOEXEC))
			return errno;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGHUP, &sa, NULL) < 0)
		return errno;
	signal(SIGPIPE, SIG_IGN);
	return fd_listen(g.hup_pipe[0], FD_READ, hup_readable, NULL);
}

static void hup_teardown(void)
{
	signal(SIGHUP, SIG_DFL);
	if (g.hup_pipe[0] >= 0) {
		fd_close(g.hup_pipe[0]);
		close(g.hup_pipe[0]);
		close(g.hup_pipe[1]);
	}
}

static void on_signal(int sig)
{
	kmsd_log(KMSD_LOG_INFO, "%s: shutting down",
		 sig == SIGINT  ? "SIGINT" :
		 sig == SIGTERM ? "SIGTERM" :
				  "signal");
	if (sig == SIGINT || sig == SIGTERM)
		re_cancel();
}

/* ---- start-up ----------------------------------------------------------- */

/* libre's poll table has a fixed size (fd_setsize, before the first
 * fd_listen): make it, and RLIMIT_NOFILE, big enough for max_conns plus
 * the connections being refused, the listeners, the store and stdio. */
static int fd_budget(void)
{
	rlim_t need = (rlim_t)g.conf.max_conns + 64 + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need)
			kmsd_log(KMSD_LOG_WARN,
				 "max_conns %u needs %llu file descriptors; "
				 "the hard limit is %llu",
				 g.conf.max_conns, (unsigned long long)need,
				 (unsigned long long)rl.rlim_max);
	}
	if (need > INT_MAX)
		need = INT_MAX;
	return fd_setsize((int)need);
}

static enum cc_err kmsd_rand(uint8_t *p, size_t n, void *arg)
{
	(void)arg;
	if (n > INT_MAX)
		return CC_ERR_INVAL;
	return RAND_bytes(p, (int)n) == 1 ? CC_OK : CC_ERR_CRYPTO;
}

static int open_store(struct kms_db **dbp)
{
	uint8_t master[KMS_MASTER_KEY_LEN];
	enum cc_err err;

	err = kms_master_key_load(g.conf.master_key_file, master);
	if (err == CC_ERR_NOT_AUTHORISED) {
		kmsd_log(KMSD_LOG_ERROR,
			 "refusing to start: master key file %s is readable "
			 "or writable by group or others, or is not a regular "
			 "file (chmod 600 it)",
			 g.conf.master_key_file);
		return 1;
	}
	if (err) {
		kmsd_log(KMSD_LOG_ERROR, "cannot load master key file %s: %s",
			 g.conf.master_key_file, cc_strerror(err));
		return 1;
	}
	if (kms_db_spec_is_pg(g.conf.store) && !kms_db_pg_available()) {
		cc_wipe(master, sizeof(master));
		kmsd_log(KMSD_LOG_ERROR,
			 "cannot open store %s: not built with PostgreSQL "
			 "(configure with -DCONCLAVE_PG=ON)",
			 kms_db_spec_safe(g.conf.store));
		return 1;
	}
	err = kms_db_open(dbp, g.conf.store, master, false);
	cc_wipe(master, sizeof(master));
	if (err && kms_db_spec_is_pg(g.conf.store))
		kmsd_log(KMSD_LOG_ERROR, "PostgreSQL: %s", kms_db_error(NULL));
	if (err) {
		kmsd_log(KMSD_LOG_ERROR, "cannot open store %s: %s%s",
			 kms_db_spec_safe(g.conf.store), cc_strerror(err),
			 err == CC_ERR_BAD_MAC ? " (not the master key this "
						 "store was created with)" :
						 "");
		return 1;
	}
	/* WAL checkpoints (and their fsync) off the event loop */
	err = kms_db_background_checkpoint(*dbp, 1000);
	if (err)
		kmsd_log(KMSD_LOG_WARN,
			 "background checkpoints unavailable (%s): SQLite "
			 "checkpoints inline",
			 cc_strerror(err));
	return 0;
}

static int configure(int argc, char **argv)
{
	char err[512];
	bool explicit_conf;
	int r;

	kmsd_conf_defaults(&g.conf);
	r = scan_args(argc, argv);
	if (r)
		return r - 1;
	explicit_conf = g.conf_path != NULL;
	if (!explicit_conf)
		g.conf_path = DEFAULT_CONF;
	if (!kmsd_conf_load(&g.conf, g.conf_path, true, false, NULL, NULL, err,
			    sizeof(err))) {
		fprintf(stderr, "conclave-kmsd: %s\n", err);
		return 2;
	}
	if (!apply_flags(argc, argv))
		return 2;
	if (!kmsd_conf_check(&g.conf, err, sizeof(err))) {
		fprintf(stderr, "conclave-kmsd: %s\n", err);
		return 2;
	}
	kmsd_log_set_level(g.conf.log_level);
	if (explicit_conf && access(g.conf_path, F_OK))
		kmsd_log(KMSD_LOG_WARN, "config file %s not found: defaults",
			 g.conf_path);
	kcfg_from_conf();
	return -1;
}

static int run(void)
{
	struct kmsd_server_deps deps = { 0 };
	struct kmsd_server *srv = NULL;
	struct kms_db *db = NULL;
	struct kms *kms = NULL;
	enum cc_err cerr;
	int status = 1, err;

	err = fd_budget();
	if (err) {
		kmsd_log(KMSD_LOG_ERROR, "fd_setsize: %s", strerror(err));
		goto out;
	}
	if (open_store(&db))
		goto out;
	cerr = kms_alloc(&kms, &g.kcfg, kms_db_store(db), kmsd_rand, NULL);
	if (cerr) {
		kmsd_log(KMSD_LOG_ERROR, "cannot start the KMS: %s",
			 cc_strerror(cerr));
		goto out;
	}
	deps.kms = kms;
	g.kms = kms;
	deps.db = db;
	deps.conf = &g.conf;
	if (kmsd_server_alloc(&srv, &deps))
		goto out;
	err = hup_setup();
	if (err) {
		kmsd_log(KMSD_LOG_ERROR, "cannot set up SIGHUP: %s",
			 strerror(err));
		goto out;
	}
	kmsd_log(KMSD_LOG_INFO,
		 "conclave-kmsd %s started: identity=%s store=%s max_conns=%u "
		 "log_level=%s",
		 KMSD_VERSION, g.conf.identity, kms_db_spec_safe(g.conf.store),
		 g.conf.max_conns, kmsd_level_name(g.conf.log_level));
	err = re_main(on_signal);
	if (err) {
		kmsd_log(KMSD_LOG_ERROR, "main loop: %s", strerror(err));
		goto out;
	}
	status = 0;
out:
	hup_teardown();
	kmsd_server_free(srv);
	g.kms = NULL;
	if (kms)
		kms_free(kms);
	if (db)
		kms_db_close(db);
	return status;
}

int main(int argc, char **argv)
{
	int status, err;

	kmsd_metrics_init();
	status = configure(argc, argv);
	if (status >= 0)
		return status;
	err = libre_init();
	if (err) {
		fprintf(stderr, "conclave-kmsd: libre_init: %s\n",
			strerror(err));
		return 1;
	}
	status = run();
	libre_close();
	kmsd_log(KMSD_LOG_INFO, "conclave-kmsd stopped (exit %d)", status);
	return status;
}
