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
 *    (media_switch_rx), each with a sendto(2) per copy to the members'
 *    sockets and without (crypto only). Only the rx calls are timed; the
 *    speaker's packet is made outside the timed part.
 */
#define _GNU_SOURCE /* recvmmsg */
#include "bench_confd.h"

#include <arpa/inet.h>
#include <errno.h>
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

struct sink {
	int fd;
	const struct sockaddr_in *addr;
	uint64_t copies;
};

static void leg_h(size_t leg, const uint8_t *pkt, size_t len, void *arg)
{
	struct sink *s = arg;

	if (sendto(s->fd, pkt, len, 0, (const struct sockaddr *)&s->addr[leg],
		   sizeof(s->addr[leg])) < 0 &&
	    errno != EAGAIN)
		return;
}

static bool owner_h(uint32_t ssrc, media_mid *owner, uint32_t *roc, void *arg)
{
	(void)ssrc;
	(void)arg;
	*owner = 1;
	*roc = 0;
	return true;
}

/* Copies per second of timed work: per-leg (perleg) or group, sending
 * each copy to addr[] through fd (fd < 0: no sends). */
static double fanout_rate(const struct bcd_mm *key,
			  const struct sockaddr_in *addr, size_t legs, int fd,
			  bool perleg, double secs)
{
	struct media_key k = key_of(key);
	struct media_perleg *p = NULL;
	struct media_group *g = NULL;
	struct media_member *sp = NULL;
	struct sink s = { .fd = fd, .addr = addr };
	uint8_t pkt[MEDIA_PKT_MAX];
	uint64_t timed = 0, t, end, copies = 0;
	uint32_t ts = 0;
	size_t i, len, c;
	double rate = -1;

	if (speaker_new(&sp, key, 0x5eed0001))
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
		struct media_fanout fan;

		if (speak(sp, &ts, pkt, sizeof(pkt), &len))
			goto out;
		t = bcd_mono_ns();
		if (p) {
			if (media_perleg_rx(p, pkt, len, fd >= 0 ? leg_h : NULL,
					    &s, &c))
				goto out;
		} else {
			if (media_switch_rx(g, 1, pkt, len, &fan, NULL))
				goto out;
			for (i = 0, c = 0; i < fan.n; i++) {
				const struct sockaddr_in *a = fan.dest[i].leg;

				if (i == fan.skip || !a)
					continue;
				c++;
				if (fd >= 0)
					(void)!sendto(
						fd, pkt, len, 0,
						(const struct sockaddr *)a,
						sizeof(*a));
			}
		}
		timed += bcd_mono_ns() - t;
		copies += c;
	}
	rate = timed ? (double)copies * 1e9 / (double)timed : -1;
out:
	media_member_free(sp);
	media_perleg_free(p);
	media_group_free(g);
	return rate;
}

static int in_process(const struct bcd_mm *m, size_t n,
		      const struct bcd_opts *o, struct bcd_media_res *r)
{
	struct sockaddr_in *addr = calloc(n, sizeof(*addr));
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	size_t i, legs = n - 1;
	int rc = -1;

	if (!addr || fd < 0)
		goto out;
	for (i = 0; i < legs; i++) {
		socklen_t len = sizeof(addr[i]);

		if (getsockname(m[i + 1].fd, (struct sockaddr *)&addr[i], &len))
			goto out;
	}
	fprintf(stderr,
		"bench confd: in-process fan-out to %zu legs, "
		"4 runs of %.1f s\n",
		legs, o->inproc_s);
	r->perleg_send = fanout_rate(&m[0], addr, legs, fd, true, o->inproc_s);
	r->group_send = fanout_rate(&m[0], addr, legs, fd, false, o->inproc_s);
	r->perleg_crypto =
		fanout_rate(&m[0], addr, legs, -1, true, o->inproc_s);
	r->group_crypto =
		fanout_rate(&m[0], addr, legs, -1, false, o->inproc_s);
	for (i = 0; i < n; i++)
		drain(m[i].fd);
	rc = r->perleg_send > 0 && r->group_send > 0 && r->perleg_crypto > 0 &&
			     r->group_crypto > 0 ?
		     0 :
		     -1;
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
