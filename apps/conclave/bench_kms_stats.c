/*
 * bench_kms_stats.c -- `conclave bench kms`: latency histograms, the
 * error counts of a run, the clocks, the daemon's figures from /proc, and
 * SIGINT / SIGTERM.
 */
#include "bench_kms.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- statistics --------------------------------------------------------- */

bool bench_kms_hist_init(struct bk_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->b = calloc(BK_HIST_US, sizeof(*h->b));
	return h->b != NULL;
}

void bench_kms_hist_reset(struct bk_hist *h)
{
	uint32_t *b = h->b;

	memset(b, 0, BK_HIST_US * sizeof(*b));
	memset(h, 0, sizeof(*h));
	h->b = b;
}

void bench_kms_hist_add(struct bk_hist *h, uint64_t ns)
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
double bench_kms_hist_q(const struct bk_hist *h, double q)
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

void bench_kms_hist_free(struct bk_hist *h)
{
	free(h->b);
	h->b = NULL;
}

uint64_t bench_kms_stats_errors(const struct bk_stats *s)
{
	uint64_t n = s->err_local + s->err_http + s->err_io;
	size_t i;

	for (i = 0; i <= BK_MAX_ERRNO; i++)
		n += s->err_mikey[i];
	return n;
}

/* ---- clocks, /proc ------------------------------------------------------ */

uint64_t bench_kms_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_kms_proc_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* VmRSS and VmHWM of a process, in KiB; false if it is gone. */
bool bench_kms_proc_rss(long pid, uint64_t *rss, uint64_t *hwm)
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
double bench_kms_proc_cpu_of(long pid)
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

volatile sig_atomic_t bench_kms_signal;

static void on_stop(int sig)
{
	bench_kms_signal = sig;
}

void bench_kms_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: epoll_wait returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
