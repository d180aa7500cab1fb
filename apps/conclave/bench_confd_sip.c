/*
 * bench_confd_sip.c -- the SIP baseline of `conclave bench confd`: sipp's
 * built-in uac scenario (INVITE, 100/180/200, ACK, BYE, 200) through
 * Kamailio as a transaction-stateful proxy (etc/kamailio-bench.cfg) to a
 * sipp UAS, and the same sipp UAC -> UAS directly. Both are closed loops
 * with as many calls in flight (-l) as the join phase has joins in
 * flight, and a high offered rate (-r), for a fixed time (-timeout);
 * calls/s = successful calls / that time.
 */
#include "bench_confd.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static bool exists(const char *p)
{
	struct stat st;

	return p && !stat(p, &st) && S_ISREG(st.st_mode);
}

static bool find_cfg_at(const struct bcd_opts *o, char *out, size_t cap)
{
	static const char *const rel[] = { "/../etc/kamailio-bench.cfg",
					   "/../../etc/kamailio-bench.cfg" };
	char exe[PATH_MAX / 2], *slash;
	ssize_t n;
	size_t i;

	if (o->kamailio_cfg) {
		snprintf(out, cap, "%s", o->kamailio_cfg);
		return exists(out);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(out, cap, "%s%s", exe, rel[i]);
			if (exists(out))
				return true;
		}
	}
	snprintf(out, cap, "etc/kamailio-bench.cfg");
	return exists(out);
}

/* Kamailio runs in the temp dir: a path relative to ours (--kamailio-cfg,
 * or etc/ of the source tree we run in with a build dir elsewhere) must be
 * made absolute. out holds PATH_MAX. */
static bool find_cfg(const struct bcd_opts *o, char *out)
{
	char rel[PATH_MAX];

	if (!find_cfg_at(o, rel, sizeof(rel)))
		return false;
	return realpath(rel, out) != NULL;
}

static bool in_path(const char *name, char *out, size_t cap)
{
	static const char *const dirs[] = { "/usr/sbin",       "/usr/bin",
					    "/usr/local/sbin", "/usr/local/bin",
					    "/sbin",           "/bin" };
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(out, cap, "%s/%s", dirs[i], name);
		if (!access(out, X_OK))
			return true;
	}
	return false;
}

/* "  Successful call        |        0      |     8892    " -> 8892 */
static uint64_t screen_count(const struct bcd_env *e, const char *file,
			     const char *what)
{
	char p[PATH_MAX + 64], line[512], *bar;
	uint64_t v = 0;
	FILE *f;

	bcd_path(e, file, p, sizeof(p));
	f = fopen(p, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, what) && (bar = strrchr(line, '|')) != NULL)
			v = strtoull(bar + 1, NULL, 10); /* cumulative */
	fclose(f);
	return v;
}

/* One sipp UAC run against port; false if sipp could not run. */
static bool uac(const struct bcd_env *e, const struct bcd_opts *o,
		const char *sipp, int port, const char *tag, uint64_t *ok,
		uint64_t *fail, double *secs)
{
	char target[64], lport[16], rate[16], lim[16], tmo[32], scr[64],
		log[64];
	const char *argv[40];
	size_t n = 0;
	pid_t pid;
	int status;

	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	snprintf(lport, sizeof(lport), "%d", bcd_free_port());
	snprintf(rate, sizeof(rate), "%u", o->sipp_rate);
	snprintf(lim, sizeof(lim), "%u", o->conc);
	snprintf(tmo, sizeof(tmo), "%.0fs", o->sip_s);
	snprintf(scr, sizeof(scr), "uac-%s.screen", tag);
	snprintf(log, sizeof(log), "uac-%s.log", tag);
	argv[n++] = sipp;
	argv[n++] = "-sn";
	argv[n++] = "uac";
	argv[n++] = target;
	argv[n++] = "-i";
	argv[n++] = "127.0.0.1";
	argv[n++] = "-p";
	argv[n++] = lport;
	argv[n++] = "-r";
	argv[n++] = rate;
	argv[n++] = "-l";
	argv[n++] = lim;
	argv[n++] = "-d";
	argv[n++] = "0";
	argv[n++] = "-m";
	argv[n++] = "100000000";
	argv[n++] = "-timeout";
	argv[n++] = tmo;
	argv[n++] = "-recv_timeout";
	argv[n++] = "2000"; /* a lost message ends its call in 2 s, not 32 */
	argv[n++] = "-nostdin";
	argv[n++] = "-trace_screen";
	argv[n++] = "-screen_file";
	argv[n++] = scr;
	argv[n] = NULL;
	pid = bcd_spawn(e, argv, log);
	if (!pid)
		return false;
	while (waitpid(pid, &status, 0) < 0 && !bcd_signal)
		;
	if (bcd_signal) {
		bcd_stop_child(&pid, 1000);
		return false;
	}
	*secs = o->sip_s;
	*ok = screen_count(e, scr, "Successful call");
	*fail = screen_count(e, scr, "Failed call");
	return *ok > 0;
}

static bool wait_up(const struct bcd_env *e, pid_t pid, const char *log,
		    const char *needle)
{
	char p[PATH_MAX + 64], buf[4096];
	int i, status;
	size_t n;
	FILE *f;

	bcd_path(e, log, p, sizeof(p));
	for (i = 0; i < 100 && !bcd_signal; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return false;
		f = fopen(p, "r");
		if (f) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			buf[n] = '\0';
			fclose(f);
			if (strstr(buf, needle))
				return true;
		}
		usleep(50000);
	}
	return false;
}

void bcd_sip_baseline(const struct bcd_env *e, const struct bcd_opts *o,
		      struct bcd_sip_res *r)
{
	char sipp[PATH_MAX], kam[PATH_MAX], cfg[PATH_MAX], uas_port[16],
		kam_listen[64], uas_def[96], dir[PATH_MAX];
	const char *uas_argv[] = { sipp,     "-sn",       "uas",
				   "-i",     "127.0.0.1", "-p",
				   uas_port, "-nostdin",  NULL };
	const char *kam_argv[] = { kam,
				   "-f",
				   cfg,
				   "-DD",
				   "-E",
				   "-l",
				   kam_listen,
				   "-A",
				   uas_def,
				   "-A",
				   "BENCH_CHILDREN=2",
				   "-m",
				   "1024",
				   "-M",
				   "32",
				   "-w",
				   dir,
				   "-Y",
				   dir,
				   NULL };
	pid_t uas = 0, kp = 0;
	int uport = bcd_free_port(), kport = bcd_free_port();
	double c0;

	r->ran = true;
	snprintf(dir, sizeof(dir), "%s", e->dir);
	snprintf(uas_port, sizeof(uas_port), "%d", uport);
	if (!in_path("sipp", sipp, sizeof(sipp))) {
		snprintf(r->why, sizeof(r->why),
			 "sipp not installed (Debian package sip-tester)");
		return;
	}
	uas = bcd_spawn(e, uas_argv, "uas.log");
	usleep(300000);
	fprintf(stderr, "bench confd: sipp UAC -> UAS directly, %.0f s\n",
		o->sip_s);
	if (!uas ||
	    !uac(e, o, sipp, uport, "direct", &r->d_ok, &r->d_fail, &r->d_secs))
		snprintf(r->why, sizeof(r->why), "sipp did not run");
	else
		r->d_cps = (double)r->d_ok / r->d_secs;
	if (o->no_kamailio) {
		snprintf(r->why, sizeof(r->why), "--no-kamailio");
		goto out;
	}
	if (!in_path("kamailio", kam, sizeof(kam))) {
		snprintf(r->why, sizeof(r->why),
			 "kamailio not installed (Debian package kamailio)");
		goto out;
	}
	if (!find_cfg(o, cfg)) {
		snprintf(r->why, sizeof(r->why),
			 "etc/kamailio-bench.cfg not found (--kamailio-cfg)");
		goto out;
	}
	snprintf(kam_listen, sizeof(kam_listen), "udp:127.0.0.1:%d", kport);
	snprintf(uas_def, sizeof(uas_def), "BENCH_UAS=\"sip:127.0.0.1:%d\"",
		 uport);
	kp = bcd_spawn(e, kam_argv, "kamailio.log");
	if (!kp || !wait_up(e, kp, "kamailio.log", "Listening on")) {
		snprintf(r->why, sizeof(r->why),
			 "kamailio did not start (see kamailio.log with "
			 "--keep)");
		bcd_show_log(e, "kamailio.log");
		goto out;
	}
	usleep(300000);
	fprintf(stderr,
		"bench confd: sipp UAC -> Kamailio (stateful) -> "
		"sipp UAS, %.0f s\n",
		o->sip_s);
	c0 = bcd_cpu_of(kp);
	if (uac(e, o, sipp, kport, "kamailio", &r->ok, &r->fail, &r->secs)) {
		r->kamailio = true;
		r->cps = (double)r->ok / r->secs;
	} else
		snprintf(r->why, sizeof(r->why),
			 "no call completed through kamailio");
	r->kam_cpu_s = bcd_cpu_of(kp) - c0; /* the main process only */
out:
	bcd_stop_child(&kp, 2000);
	bcd_stop_child(&uas, 1000);
}
