/*
 * demo_proc.c -- `conclave demo`: child processes (kms admin commands,
 * conclave-kmsd, conclave-confd, `conclave ua` participants), the pump
 * that turns participant output into timeline lines, and the cleanup
 * that always runs: on success, on error and on Ctrl-C.
 */
#define _GNU_SOURCE
#include "demo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile int demo_interrupted;

static void on_signal(int sig)
{
	demo_interrupted = sig;
}

void demo_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

double demo_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void demo_log(const struct demo *d, const char *fmt, ...)
{
	va_list ap;

	printf("[%6.2fs] ", demo_now() - d->t0);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* The child: own process group (Ctrl-C reaches only the demo, which
 * then ends everything in order), killed if the demo dies. */
static void child_exec(char *const argv[], const char *out, int in_rd,
		       pid_t parent)
{
	int fd;

	(void)setpgid(0, 0);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (in_rd < 0)
		in_rd = open("/dev/null", O_RDONLY);
	if (in_rd < 0 || dup2(in_rd, 0) < 0)
		_exit(127);
	fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(127);
	execv(argv[0], argv);
	_exit(127);
}

pid_t demo_spawn(char *const argv[], const char *out, int *in_fd)
{
	int p[2] = { -1, -1 };
	pid_t parent = getpid(), pid;

	if (in_fd && pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		if (in_fd) {
			close(p[0]);
			close(p[1]);
		}
		return -1;
	}
	if (pid == 0)
		child_exec(argv, out, in_fd ? p[0] : -1, parent);
	(void)setpgid(pid, pid);
	if (in_fd) {
		close(p[0]);
		*in_fd = p[1];
	}
	return pid;
}

int demo_run(char *const argv[], const char *out)
{
	pid_t pid = demo_spawn(argv, out, NULL);
	int st;

	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* One try: the kernel's free TCP port, if UDP has it free too. */
static int free_port_once(unsigned *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int t, u, err = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t = socket(AF_INET, SOCK_STREAM, 0);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	if (t >= 0 && u >= 0 && !bind(t, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(t, (struct sockaddr *)&sa, &len) &&
	    !bind(u, (struct sockaddr *)&sa, sizeof(sa))) {
		*port = ntohs(sa.sin_port);
		err = 0;
	}
	if (t >= 0)
		close(t);
	if (u >= 0)
		close(u);
	return err;
}

/* A port free for both TCP and UDP on 127.0.0.1 (SIP listens on both).
 * The TCP port the kernel picks may be a busy UDP port (a machine with
 * thousands of UDP sockets, e.g. a bench next to us): try again. */
int demo_free_port(unsigned *port)
{
	int i;

	for (i = 0; i < 64; i++)
		if (!free_port_once(port))
			return 0;
	fprintf(stderr, "conclave demo: no port free for both TCP and UDP\n");
	return -1;
}

bool demo_tcp_ready(unsigned port)
{
	struct sockaddr_in sa;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	if (s < 0)
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	ok = connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(s);
	return ok;
}

char *demo_slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		if (!n)
			break;
		len += n;
	}
	fclose(f);
	if (!buf)
		return NULL;
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

bool demo_file_has(const char *path, const char *needle)
{
	char *s = demo_slurp(path, NULL);
	bool has = s && strstr(s, needle);

	free(s);
	return has;
}

static void ua_add_mki(struct demo_ua *u, uint32_t mki)
{
	size_t i;

	for (i = 0; i < u->n_mkis; i++)
		if (u->mkis[i] == mki)
			return;
	if (u->n_mkis < DEMO_MAX_MKI)
		u->mkis[u->n_mkis++] = mki;
}

/* One progress line of a participant: "[ 1.234] text". */
static void pump_line(struct demo *d, struct demo_ua *u, const char *line)
{
	double t = 0;
	const char *txt = line;
	unsigned long v;
	int n = 0;

	if (d->verbose)
		printf("           %-8s| %s\n", u->name, line);
	if (sscanf(line, "[ %lf]%n", &t, &n) == 1 && n > 0)
		txt = line + n;
	while (*txt == ' ')
		txt++;
	if (sscanf(txt, "install mki 0x%lx", &v) == 1) {
		u->last_install = (uint32_t)v;
		ua_add_mki(u, (uint32_t)v);
		if ((uint32_t)v > d->max_mki && u->joined) {
			d->max_mki = (uint32_t)v;
			demo_log(d,
				 "  rekey: epoch %u (MKI 0x%08lx) arrives by "
				 "re-INVITE (CSB update), %s installs it",
				 demo_epoch((uint32_t)v), v, u->name);
		} else if ((uint32_t)v > d->max_mki) {
			d->max_mki = (uint32_t)v;
		}
	} else if (!strncmp(txt, "joined", 6)) {
		u->joined = true;
		u->join_mki = u->last_install;
		demo_log(d, "  %s joined %s with epoch %u (MKI 0x%08x)",
			 u->name, d->focus[0] ? d->focus : "the conference",
			 demo_epoch(u->join_mki), u->join_mki);
	} else if (sscanf(txt, "status %d", &n) == 1 && !u->joined) {
		u->sip_status = n;
		if (n >= 300) {
			u->refused = true;
			demo_log(d, "  %s refused by the focus: %s", u->name,
				 txt);
		}
	} else if (!strncmp(txt, "bye 200", 7)) {
		u->left = true;
		u->bye_ms = t * 1000.0;
		demo_log(d, "  %s left: BYE answered 200", u->name);
	} else if (!strncmp(txt, "bye received", 12)) {
		u->hung_up = true;
		demo_log(d, "  %s: the focus hung up (BYE)", u->name);
	}
	fflush(stdout);
}

/* Read what the participants printed since the last call, and reap the
 * children that ended. */
void demo_pump(struct demo *d)
{
	size_t i;

	/* newest participants first: a joiner's "joined" comes before the
	 * rekey its join triggers at the older members */
	for (i = DM_N; i-- > 0;) {
		struct demo_ua *u = &d->ua[i];
		char *s, *p, *nl;
		size_t len;

		if (!u->started)
			continue;
		s = demo_slurp(u->out, &len);
		if (!s)
			continue;
		p = s + (u->out_off < len ? u->out_off : len);
		while ((nl = strchr(p, '\n'))) {
			*nl = '\0';
			pump_line(d, u, p);
			u->out_off += (size_t)(nl - p) + 1;
			p = nl + 1;
		}
		free(s);
	}
	demo_reap(d);
}

void demo_reap(struct demo *d)
{
	size_t i;
	int st;

	for (i = 0; i < DM_N; i++) {
		struct demo_ua *u = &d->ua[i];

		if (!u->started || u->exited)
			continue;
		if (waitpid(u->pid, &st, WNOHANG) == u->pid) {
			u->exited = true;
			u->status = st;
			if (u->in_fd >= 0) {
				close(u->in_fd);
				u->in_fd = -1;
			}
		}
	}
}

bool demo_wait(struct demo *d, double timeout_s,
	       bool (*cond)(struct demo *d, void *arg), void *arg)
{
	double end = demo_now() + timeout_s;
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	for (;;) {
		demo_pump(d);
		if (cond && cond(d, arg))
			return true;
		if (demo_interrupted || demo_now() >= end)
			return false;
		nanosleep(&ts, NULL);
	}
}

/* Sleep while keeping the timeline going; false if interrupted. */
bool demo_sleep(struct demo *d, double s)
{
	(void)demo_wait(d, s, NULL, NULL);
	return !demo_interrupted;
}

int demo_ua_send(struct demo_ua *u, const char *line)
{
	size_t len = strlen(line);

	if (u->in_fd < 0 || u->exited)
		return -1;
	if (write(u->in_fd, line, len) != (ssize_t)len)
		return -1;
	return 0;
}

static bool all_ua_exited(struct demo *d, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < DM_N; i++)
		if (d->ua[i].started && !d->ua[i].exited)
			return false;
	return true;
}

static void stop_daemon(pid_t *pid, double wait_s)
{
	double end;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int st;

	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	end = demo_now() + wait_s;
	while (waitpid(*pid, &st, WNOHANG) == 0) {
		if (demo_now() >= end) {
			kill(*pid, SIGKILL);
			(void)waitpid(*pid, &st, 0);
			break;
		}
		nanosleep(&ts, NULL);
	}
	*pid = 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* SIGTERM: confd ends every conference with BYE, then exits. */
void demo_stop_confd(struct demo *d)
{
	if (d->confd_pid > 0)
		kill(d->confd_pid, SIGTERM);
}

/* Every participant gets SIGTERM (it sends BYE), then the daemons go;
 * stragglers get SIGKILL. The temp dir goes unless --keep. */
void demo_cleanup(struct demo *d)
{
	int intr = demo_interrupted;
	size_t i;

	for (i = 0; i < DM_N; i++) {
		struct demo_ua *u = &d->ua[i];

		if (u->started && !u->exited)
			kill(u->pid, SIGTERM);
	}
	demo_interrupted = 0;
	(void)demo_wait(d, 5, all_ua_exited, NULL);
	for (i = 0; i < DM_N; i++) {
		struct demo_ua *u = &d->ua[i];
		int st;

		if (u->started && !u->exited) {
			kill(u->pid, SIGKILL);
			(void)waitpid(u->pid, &st, 0);
			u->exited = true;
		}
		if (u->in_fd >= 0) {
			close(u->in_fd);
			u->in_fd = -1;
		}
	}
	stop_daemon(&d->confd_pid, 5);
	stop_daemon(&d->kmsd_pid, 3);
	demo_interrupted = intr;
	if (!d->dir[0])
		return;
	if (d->keep) {
		printf("kept %s (logs, reports, recordings)\n", d->dir);
		return;
	}
	(void)nftw(d->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
