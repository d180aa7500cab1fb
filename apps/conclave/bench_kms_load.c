/*
 * bench_kms_load.c -- `conclave bench kms`: HTTP/1.1 on a socket and the
 * load: --conns keep-alive connections on one thread with epoll, one
 * pair in flight on each, warmup, then seconds or pairs.
 */
#include "bench_kms.h"

#include <openssl/crypto.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

int bench_kms_http_get_ok(const char *host, int port, const char *path)
{
	return http_get(host, port, path, NULL, 0);
}

/* kms_replay_size from /metrics, -1 if unknown. */
long long bench_kms_replay_size(const char *host, int port)
{
	static char m[BK_IN_CAP];
	const char *p;

	if (http_get(host, port, "/metrics", m, sizeof(m)) != 200)
		return -1;
	p = strstr(m, "\nkms_replay_size ");
	return p ? atoll(p + 17) : -1;
}

/* ---- the load ------------------------------------------------------------ */

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
	c->t_msg = bench_kms_mono_ns();
	l->req_total++;
	return conn_flush(l, c);
}

/* Begin a new pair on c unless the run is ending. */
static int conn_next(struct bk_load *l, struct bk_conn *c)
{
	uint64_t t;

	c->stage = BK_IDLE;
	if (l->ending || bench_kms_signal)
		return 0;
	if (l->measuring && l->o->pairs && l->started >= l->o->pairs)
		return 0;
	if (l->measuring)
		l->started++;
	t = bench_kms_mono_ns();
	c->t_pair = t;
	if (bench_kms_pair_start(c->pt, c->p, &l->env)) {
		l->s.err_local++;
		return -1;
	}
	l->s.client_ns += (double)(bench_kms_mono_ns() - t);
	c->stage = BK_REQUEST;
	return conn_post(l, c, c->p->rq.msg, c->p->rq.len);
}

/* A complete answer on c. */
static int conn_answer(struct bk_load *l, struct bk_conn *c, int status,
		       const uint8_t *body, size_t len)
{
	uint64_t t = bench_kms_mono_ns(), t2;
	struct bk_stats *s = &l->s;
	enum cc_err err;

	if (status != 200) {
		s->err_http++;
		fprintf(stderr, "bench kms: HTTP %d from kmsd\n", status);
		bench_kms_pair_clear(c->p);
		return conn_next(l, c);
	}
	if (c->stage == BK_REQUEST) {
		bench_kms_hist_add(&s->req, t - c->t_msg);
		err = bench_kms_pair_ticket(c->pt, c->p, body, len, &l->env);
		t2 = bench_kms_mono_ns();
		s->client_ns += (double)(t2 - t);
		if (err) {
			bench_kms_count_fail(s, &c->p->st);
			bench_kms_pair_clear(c->p);
			return conn_next(l, c);
		}
		c->stage = BK_RESOLVE;
		return conn_post(l, c, c->p->ri, c->p->ri_len);
	}
	bench_kms_hist_add(&s->res, t - c->t_msg);
	err = bench_kms_pair_finish(c->pt, c->p, body, len, &l->env);
	bench_kms_pair_clear(c->p);
	t2 = bench_kms_mono_ns();
	s->client_ns += (double)(t2 - t);
	if (err) {
		bench_kms_count_fail(s, &c->p->st);
	} else {
		bench_kms_hist_add(&s->pair, t - c->t_pair);
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

void bench_kms_load_free(struct bk_load *l)
{
	unsigned i;

	for (i = 0; l->c && i < l->nc; i++) {
		if (l->c[i].fd >= 0)
			close(l->c[i].fd);
		if (l->c[i].p) {
			bench_kms_pair_clear(l->c[i].p);
			OPENSSL_cleanse(l->c[i].p, sizeof(*l->c[i].p));
			free(l->c[i].p);
		}
	}
	free(l->c);
	if (l->ep >= 0)
		close(l->ep);
	bench_kms_hist_free(&l->s.pair);
	bench_kms_hist_free(&l->s.req);
	bench_kms_hist_free(&l->s.res);
}

int bench_kms_load_open(struct bk_load *l, const struct bk_party *pt, size_t np)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct bk_conn *c;
	unsigned i;
	int port;

	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->c = calloc(l->nc, sizeof(*l->c));
	if (l->ep < 0 || !l->c || !bench_kms_hist_init(&l->s.pair) ||
	    !bench_kms_hist_init(&l->s.req) || !bench_kms_hist_init(&l->s.res))
		return -1;
	for (i = 0; i < l->nc; i++)
		l->c[i].fd = -1;
	for (i = 0; i < l->nc; i++) {
		c = &l->c[i];
		c->pt = &pt[i % np];
		c->p = calloc(1, sizeof(*c->p));
		port = i % (1 + l->nrep) ? l->rport[i % (1 + l->nrep) - 1] :
					   l->port;
		c->fd = tcp_connect(l->host, port, true);
		if (!c->p || c->fd < 0) {
			fprintf(stderr, "bench kms: connect %s:%d: %s\n",
				l->host, port, strerror(errno));
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

	if (!l->pid || !bench_kms_proc_rss(l->pid, &rss, &hwm))
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

/* CPU of every replica, s; -1 if unknown. */
static double kmsd_cpu(const struct bk_load *l)
{
	double sum = l->pid ? bench_kms_proc_cpu_of(l->pid) : -1, c;
	unsigned i;

	for (i = 0; sum >= 0 && i < l->nrep; i++) {
		c = l->rpid[i] ? bench_kms_proc_cpu_of(l->rpid[i]) : -1;
		sum = c < 0 ? -1 : sum + c;
	}
	return sum;
}

/* Start measuring: forget the warmup. */
static void load_measure(struct bk_load *l)
{
	bench_kms_hist_reset(&l->s.pair);
	bench_kms_hist_reset(&l->s.req);
	bench_kms_hist_reset(&l->s.res);
	l->s.pairs = 0;
	memset(l->s.err_mikey, 0, sizeof(l->s.err_mikey));
	l->s.err_local = l->s.err_http = l->s.err_io = 0;
	l->s.client_ns = 0;
	l->s.cpu_s = bench_kms_proc_cpu_s();
	l->kcpu0 = kmsd_cpu(l);
	l->measuring = true;
	l->t0 = bench_kms_mono_ns();
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
		bench_kms_hist_q(&l->s.pair, 0.99),
		(unsigned long long)bench_kms_stats_errors(&l->s),
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
int bench_kms_load_run(struct bk_load *l)
{
	uint64_t now, tick, warm_end, last_pairs = 0, last_t;
	unsigned i;

	l->env.now = time(NULL);
	now = bench_kms_mono_ns();
	warm_end = now + (uint64_t)(l->o->warmup * 1e9);
	tick = now + 1000000000u;
	last_t = now;
	if (l->o->warmup <= 0)
		load_measure(l);
	for (i = 0; i < l->nc; i++)
		if (conn_next(l, &l->c[i]))
			return -1;
	while (!bench_kms_signal) {
		if (load_events(l))
			return -1;
		now = bench_kms_mono_ns();
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
	l->s.cpu_s = bench_kms_proc_cpu_s() - l->s.cpu_s;
	l->kcpu1 = kmsd_cpu(l);
	return 0;
}
