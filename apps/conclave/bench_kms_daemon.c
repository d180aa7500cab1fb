/*
 * bench_kms_daemon.c -- `conclave bench kms`: the temp dir (master key,
 * stores, the daemon's config and log) and the conclave-kmsd it starts
 * on 127.0.0.1:0 and stops with SIGTERM.
 */
#include "bench.h"
#include "bench_kms.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the temp dir and the daemon ------------------------------------------ */

void bench_kms_path_in(const struct bk_env *e, const char *name, char *out,
		       size_t cap)
{
	snprintf(out, cap, "%s/%s", e->dir, name);
}

void bench_kms_rm_dir(struct bk_env *e)
{
	if (!e->have_dir)
		return;
	bench_rm_dir(e->dir);
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

	bench_kms_path_in(e, "kmsd.log", p, sizeof(p));
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

void bench_kms_show_log(const struct bk_env *e)
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

void bench_kms_kmsd_stop(struct bk_env *e)
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

	if (e->db)
		snprintf(db, sizeof(db), "%s", e->db);
	else
		snprintf(db, sizeof(db), "sqlite:%s/kms.db", e->dir);
	bench_kms_path_in(e, "master.key", key, sizeof(key));
	bench_kms_path_in(e, "kmsd.conf", conf, sizeof(conf));
	bench_kms_path_in(e, "kmsd.log", log, sizeof(log));
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
	uint64_t end = bench_kms_mono_ns() + (uint64_t)(timeout_s * 1e9);
	const char *p;
	size_t n;

	while (bench_kms_mono_ns() < end && !bench_kms_signal) {
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
int bench_kms_kmsd_start(struct bk_env *e, const struct bk_opts *o)
{
	char conf[PATH_MAX + 16], log[PATH_MAX + 16], rest[64], *colon;
	static char buf[65536];
	size_t before;
	int i;

	bench_kms_path_in(e, "kmsd.conf", conf, sizeof(conf));
	if (!write_file(conf, "log_level info\n"))
		return -1;
	/* a previous daemon's log (--scale) must not be read as this one's */
	bench_kms_path_in(e, "kmsd.log", log, sizeof(log));
	if (unlink(log) && errno != ENOENT)
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
		bench_kms_show_log(e);
		return -1;
	}
	*colon = '\0';
	snprintf(e->host, sizeof(e->host), "%s", rest);
	e->port = atoi(colon + 1);
	/* kmsd logs "listening" before it handles SIGHUP (until then a
	 * SIGHUP kills it; on PostgreSQL that window is wide): wait for
	 * "started" */
	if (!wait_log(e, " started: ", rest, sizeof(rest), 10)) {
		fprintf(stderr, "bench kms: conclave-kmsd did not start\n");
		bench_kms_show_log(e);
		return -1;
	}
	if (!write_file(conf, "log_level warn\n") || kill(e->pid, SIGHUP))
		return -1;
	/* Wait until a request is no longer logged. */
	for (i = 0; i < 100 && !bench_kms_signal; i++) {
		usleep(20000);
		read_log(e, buf, sizeof(buf));
		before = count_str(buf, "\"GET /healthz\"");
		if (bench_kms_http_get_ok(e->host, e->port, "/healthz") != 200)
			continue;
		usleep(20000);
		read_log(e, buf, sizeof(buf));
		if (count_str(buf, "\"GET /healthz\"") == before)
			return 0;
	}
	fprintf(stderr, "bench kms: conclave-kmsd did not take log_level "
			"warn (SIGHUP)\n");
	bench_kms_show_log(e);
	return -1;
}
