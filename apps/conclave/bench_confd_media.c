/*
 * bench_confd_media.c -- the media phase of `conclave bench confd`.
 *
 * 1. Through confd: the second conference's members (creator first) each
 *    have an RTP socket in this process; the first `speakers` send SRTP
 *    (PCMU, 20 ms, under the group key they got in the 200 OK) at `pps`
 *    to the focus's RTP port; every member's socket is drained with
 *    recvmmsg and counted. confd authenticates each packet once and sends
 *    the original bytes to every other member (media_switch_rx).
 * 2. In this process, the same key and fan-out size, as fast as one core
 *    goes: the per-leg baseline (media_perleg_rx: decrypt once, re-encrypt
 *    per listener with its own key) and the group switch
 *    (media_switch_rx), each
 *    - with a sendto(2) per copy to the members' sockets (how per-leg
 *      servers send; the goal's baseline),
 *    - with the copies batched by media_sendq (sendmmsg(2)): for the
 *      switch this is media_sendq_fanout, confd's own send path; for the
 *      per-leg baseline each re-encrypted copy is queued (copied) and the
 *      queue flushed after the packet,
 *    - and without sends (crypto only).
 *    Only the rx calls and their sends are timed; the speaker's packet is
 *    made outside the timed part. A copy counts when the kernel took it.
 */
#define _GNU_SOURCE /* recvmmsg */
#include "bench_confd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
	RX_BATCH = 64
};

static struct media_key key_of(const struct bcd_mm *m)
{
	return (struct media_key){ .mki = m->mki,
				   .profile = MEDIA_AES_CM_128_HMAC_SHA1_80,
				   .tek = m->tek,
				   .tek_len = sizeof(m->tek),
				   .salt = m->salt,
				   .salt_len = sizeof(m->salt) };
}

static int speaker_new(struct media_member **mp, const struct bcd_mm *m,
		       uint32_t ssrc)
{
	struct media_key k = key_of(m);

	if (media_member_new(mp, MEDIA_AES_CM_128_HMAC_SHA1_80) ||
	    media_member_install(*mp, &k) || media_member_switch(*mp, m->mki) ||
	    media_member_sender(*mp, ssrc, MEDIA_PT_PCMU, 0, 1))
		return -1;
	return 0;
}

static int speak(struct media_member *mm, uint32_t *ts, uint8_t *pkt,
		 size_t cap, size_t *n)
{
	static uint8_t frame[MEDIA_FRAME];

	frame[0] ^= 1;
	*ts += MEDIA_FRAME;
	return media_member_send(mm, frame, sizeof(frame), *ts, false, pkt, cap,
				 n) ?
		       -1 :
		       0;
}

static uint64_t drain(int fd)
{
	static uint8_t bufs[RX_BATCH][MEDIA_PKT_MAX];
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	uint64_t got = 0;
	int i, r;

	for (;;) {
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		r = recvmmsg(fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			return got;
		got += (uint64_t)r;
	}
}

/* ---- 1. through confd ------------------------------------------------------------ */

static int through_confd(struct bcd_mm *m, size_t n, uint16_t fport,
			 const struct bcd_env *e, const struct bcd_opts *o,
			 struct bcd_media_res *r)
{
	struct media_member *sp[8] = { 0 };
	struct epoll_event ev, evs[256];
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint8_t pkt[MEDIA_PKT_MAX];
	uint32_t ts[8] = { 0 };
	uint64_t period = 1000000000ull / o->pps, now, next, end, stop;
	double c0;
	size_t i, ns = o->speakers < n ? o->speakers : n, len;
	int ep = epoll_create1(EPOLL_CLOEXEC), rc = -1, k, ready;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to.sin_port = htons(fport);
	if (ep < 0 || ns > 8)
		goto out;
	for (i = 0; i < n; i++) {
		ev.events = EPOLLIN;
		ev.data.u64 = i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, m[i].fd, &ev))
			goto out;
		drain(m[i].fd);
		m[i].rx = 0;
	}
	for (i = 0; i < ns; i++)
		if (speaker_new(&sp[i], &m[i], m[i].ssrc))
			goto out;
	c0 = bcd_cpu_of(e->confd);
	now = bcd_mono_ns();
	next = now;
	end = now + (uint64_t)(o->media_s * 1e9);
	stop = end + 300000000ull; /* in flight at the end */
	while ((now = bcd_mono_ns()) < stop && !bcd_signal) {
		if (now >= next && now < end) {
			for (i = 0; i < ns; i++) {
				if (speak(sp[i], &ts[i], pkt, sizeof(pkt),
					  &len))
					goto out;
				if (sendto(m[i].fd, pkt, len, 0,
					   (struct sockaddr *)&to,
					   sizeof(to)) == (ssize_t)len)
					r->sent++;
			}
			next += period;
			continue;
		}
		k = now < end && next > now ? (int)((next - now) / 1000000) :
					      10;
		ready = epoll_wait(ep, evs, 256, k);
		for (i = 0; ready > 0 && i < (size_t)ready; i++)
			m[evs[i].data.u64].rx += drain(m[evs[i].data.u64].fd);
	}
	r->confd_cpu_s = bcd_cpu_of(e->confd) - c0;
	r->secs = o->media_s;
	for (i = 0; i < n; i++)
		r->received += m[i].rx;
	r->expected = r->sent * (n - 1);
	r->rx_pps = (double)r->received / r->secs;
	r->copies_per_cpu_s =
		r->confd_cpu_s > 0 ? (double)r->received / r->confd_cpu_s : 0;
	rc = bcd_signal ? -1 : 0;
out:
	for (i = 0; i < 8; i++)
		media_member_free(sp[i]);
	if (ep >= 0)
		close(ep);
	return rc;
}

/* ---- 2. in this process: per-leg vs group ----------------------------------------- */

/* How the fan-out is sent (bcd_media_res has a rate for each). */
enum fan_mode {
	FAN_PERLEG_SENDTO,
	FAN_PERLEG_MMSG,
	FAN_PERLEG_CRYPTO,
	FAN_GROUP_SENDTO,
	FAN_GROUP_MMSG,
	FAN_GROUP_CRYPTO,
	FAN_MODES
};

struct sink {
	int fd;
	const struct sockaddr_in *addr;
	struct media_sendq *q; /* FAN_*_MMSG */
	uint64_t sent;         /* sendto: copies the kernel took */
};

static void leg_sendto(size_t leg, const uint8_t *pkt, size_t len, void *arg)
{
	struct sink *s = arg;

	if (sendto(s->fd, pkt, len, 0, (const struct sockaddr *)&s->addr[leg],
		   sizeof(s->addr[leg])) == (ssize_t)len)
		s->sent++;
}

/* The re-encrypted copy is in the per-leg scratch, reused for the next
 * leg: the queue copies it. */
static void leg_queue(size_t leg, const uint8_t *pkt, size_t len, void *arg)
{
	struct sink *s = arg;

	media_sendq_add_copy(s->q, pkt, len,
			     (const struct sockaddr *)&s->addr[leg],
			     sizeof(s->addr[leg]));
}

static const struct sockaddr *leg_addr(const void *leg, socklen_t *len,
				       void *arg)
{
	(void)arg;
	*len = sizeof(struct sockaddr_in);
	return leg;
}

static media_leg_h *perleg_h(enum fan_mode mode)
{
	return mode == FAN_PERLEG_SENDTO ? leg_sendto :
	       mode == FAN_PERLEG_MMSG   ? leg_queue :
					   NULL;
}

/* One incoming packet through the group switch, sent per mode. */
static int group_once(struct media_group *g, enum fan_mode mode, struct sink *s,
		      const uint8_t *pkt, size_t len, size_t *c)
{
	struct media_fanout fan;
	size_t i;

	if (media_switch_rx(g, 1, pkt, len, &fan, NULL))
		return -1;
	if (mode == FAN_GROUP_MMSG) {
		*c = media_sendq_fanout(s->q, pkt, len, &fan, leg_addr, NULL);
		return 0;
	}
	for (i = 0, *c = 0; i < fan.n; i++) {
		const struct sockaddr_in *a = fan.dest[i].leg;

		if (i == fan.skip || !a)
			continue;
		(*c)++;
		if (mode == FAN_GROUP_SENDTO &&
		    sendto(s->fd, pkt, len, 0, (const struct sockaddr *)a,
			   sizeof(*a)) == (ssize_t)len)
			s->sent++;
	}
	return 0;
}

static bool owner_h(uint32_t ssrc, media_mid *owner, uint32_t *roc, void *arg)
{
	(void)ssrc;
	(void)arg;
	*owner = 1;
	*roc = 0;
	return true;
}

/* Copies per second of timed work for one mode, each copy sent to
 * addr[] through fd (crypto-only modes: none sent). */
static double fanout_rate(const struct bcd_mm *key,
			  const struct sockaddr_in *addr, size_t legs, int fd,
			  enum fan_mode mode, double secs)
{
	struct media_key k = key_of(key);
	struct media_perleg *p = NULL;
	struct media_group *g = NULL;
	struct media_member *sp = NULL;
	struct sink s = { .fd = fd, .addr = addr };
	struct media_sendq_stats st;
	bool perleg = mode <= FAN_PERLEG_CRYPTO;
	uint8_t pkt[MEDIA_PKT_MAX];
	uint64_t timed = 0, t, end, copies = 0;
	uint32_t ts = 0;
	size_t i, len, c = 0;
	double rate = -1;

	if (speaker_new(&sp, key, 0x5eed0001) ||
	    ((mode == FAN_PERLEG_MMSG || mode == FAN_GROUP_MMSG) &&
	     media_sendq_new(&s.q, fd, 0)))
		goto out;
	if (perleg ? media_perleg_new(&p, &k, legs) :
		     (media_group_new(&g, MEDIA_AES_CM_128_HMAC_SHA1_80,
				      owner_h, NULL) ||
		      media_group_install(g, &k)))
		goto out;
	for (i = 0; g && i <= legs; i++)
		if (media_group_add_member(g, (media_mid)(i + 1),
					   i ? (void *)&addr[i - 1] : NULL))
			goto out;
	end = bcd_mono_ns() + (uint64_t)(secs * 1e9);
	while (bcd_mono_ns() < end && !bcd_signal) {
		if (speak(sp, &ts, pkt, sizeof(pkt), &len))
			goto out;
		t = bcd_mono_ns();
		if (p) {
			if (media_perleg_rx(p, pkt, len, perleg_h(mode), &s,
					    &c))
				goto out;
			if (s.q)
				(void)media_sendq_flush(s.q);
		} else if (group_once(g, mode, &s, pkt, len, &c)) {
			goto out;
		}
		timed += bcd_mono_ns() - t;
		copies += c;
	}
	media_sendq_stats(s.q, &st);
	if (s.q)
		copies = st.sent;
	else if (mode == FAN_PERLEG_SENDTO || mode == FAN_GROUP_SENDTO)
		copies = s.sent;
	rate = timed ? (double)copies * 1e9 / (double)timed : -1;
out:
	media_sendq_free(s.q);
	media_member_free(sp);
	media_perleg_free(p);
	media_group_free(g);
	return rate;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of n rates (sorted in place; 0 if none). */
static double median(double *v, unsigned n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One mode, the members' sockets drained before and after: every run
 * starts with the same empty receive buffers. */
static double run_mode(const struct bcd_mm *m, const struct sockaddr_in *addr,
		       size_t legs, int fd, enum fan_mode mode,
		       const struct bcd_opts *o)
{
	double rate;
	size_t i;

	for (i = 0; i <= legs; i++)
		drain(m[i].fd);
	rate = fanout_rate(
		&m[0], addr, legs,
		mode == FAN_PERLEG_CRYPTO || mode == FAN_GROUP_CRYPTO ? -1 : fd,
		mode, o->inproc_s);
	for (i = 0; i <= legs; i++)
		drain(m[i].fd);
	return rate;
}

static int in_process(const struct bcd_mm *m, size_t n,
		      const struct bcd_opts *o, struct bcd_media_res *r)
{
	struct sockaddr_in *addr = calloc(n, sizeof(*addr));
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	double runs[FAN_MODES][BCD_ROUNDS_MAX];
	size_t i, legs = n - 1;
	unsigned k = 0;
	int rc = -1, mode;

	if (!addr || fd < 0)
		goto out;
	for (i = 0; i < legs; i++) {
		socklen_t len = sizeof(addr[i]);

		if (getsockname(m[i + 1].fd, (struct sockaddr *)&addr[i], &len))
			goto out;
	}
	fprintf(stderr,
		"bench confd: in-process fan-out to %zu legs, %u rounds "
		"of 6 runs of %.1f s\n",
		legs, o->inproc_rounds, o->inproc_s);
	rc = 0;
	for (k = 0; k < o->inproc_rounds && !bcd_signal; k++)
		for (mode = 0; mode < FAN_MODES; mode++) {
			runs[mode][k] = run_mode(m, addr, legs, fd, mode, o);
			if (runs[mode][k] <= 0)
				rc = -1;
		}
	r->perleg_sendto = median(runs[FAN_PERLEG_SENDTO], k);
	r->perleg_mmsg = median(runs[FAN_PERLEG_MMSG], k);
	r->perleg_crypto = median(runs[FAN_PERLEG_CRYPTO], k);
	r->group_sendto = median(runs[FAN_GROUP_SENDTO], k);
	r->group_mmsg = median(runs[FAN_GROUP_MMSG], k);
	r->group_crypto = median(runs[FAN_GROUP_CRYPTO], k);
	r->inproc_rounds = (unsigned)k;
out:
	if (fd >= 0)
		close(fd);
	free(addr);
	return rc;
}

int bcd_media_run(struct bcd_load *l, const struct bcd_env *e,
		  const struct bcd_opts *o, struct bcd_media_res *r)
{
	struct bcd_mm *m = NULL;
	uint16_t fport = 0;
	size_t n = bcd_media_members(l, 1, &m, &fport);
	int rc = -1;

	r->ran = true;
	r->members = (unsigned)n;
	r->speakers = o->speakers;
	r->listeners = n > o->speakers ? (unsigned)(n - o->speakers) : 0;
	r->pps = o->pps;
	if (n < 2 || !fport || !m[0].mki) {
		snprintf(r->err, sizeof(r->err),
			 "%zu media members, focus RTP port %u", n, fport);
		goto out;
	}
	fprintf(stderr,
		"bench confd: media through confd: %u speakers x %u pps to "
		"%zu members, %.1f s\n",
		o->speakers, o->pps, n, o->media_s);
	if (through_confd(m, n, fport, e, o, r))
		goto out;
	rc = in_process(m, n, o, r);
	if (rc)
		snprintf(r->err, sizeof(r->err), "in-process fan-out failed");
out:
	if (m)
		cc_wipe(m, n * sizeof(*m));
	free(m);
	return rc;
}
