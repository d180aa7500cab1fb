/*
 * test_media_sendq.c -- the batched sender over real loopback UDP: every
 * copy of every speaker's packets reaches every listener, byte for byte;
 * batches smaller than the fan-out and fan-outs larger than the kernel's
 * per-call limit (UIO_MAXIOV = MEDIA_SENDQ_MAX); destinations the kernel
 * refuses (port 0) or nobody listens on (a closed port) do not stop the
 * others; copied datagrams keep their own bytes.
 */
#include <conclave/media.h>

#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
	SPEAKERS = 3,
	LISTENERS = 50,
	PKTS = 20,     /* per speaker */
	PKT_LEN = 172, /* PCMU 20 ms: 12 + 160 */
	BIG = MEDIA_SENDQ_MAX + 76,
};

struct net {
	int tx;                                  /* the focus's socket */
	int fd[LISTENERS];                       /* listeners */
	struct sockaddr_in addr[LISTENERS];      /* their addresses */
	uint64_t got[LISTENERS];                 /* datagrams received */
	uint64_t bad[LISTENERS];                 /* not what was sent */
	uint8_t seen[LISTENERS][SPEAKERS][PKTS]; /* each packet once */
};

static int udp_socket(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), sz = 1 << 20;

	if (fd < 0)
		return -1;
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)a, sizeof(*a)) ||
	    getsockname(fd, (struct sockaddr *)a, &len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool net_open(struct net *n)
{
	struct sockaddr_in a;
	size_t i;

	memset(n, 0, sizeof(*n));
	n->tx = udp_socket(&a);
	for (i = 0; i < LISTENERS; i++)
		n->fd[i] = udp_socket(&n->addr[i]);
	for (i = 0; i < LISTENERS; i++)
		if (n->fd[i] < 0)
			return false;
	return n->tx >= 0;
}

static void net_close(struct net *n)
{
	size_t i;

	close(n->tx);
	for (i = 0; i < LISTENERS; i++)
		close(n->fd[i]);
}

/* Speaker s's packet k: an RTP-looking header and a pattern of (s, k). */
static void make_pkt(uint8_t *p, unsigned s, unsigned k)
{
	size_t i;

	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)s;
	p[3] = (uint8_t)k;
	for (i = 4; i < PKT_LEN; i++)
		p[i] = (uint8_t)(i * 7 + s * 31 + k * 131);
}

/* Receive what listener i has until want datagrams or 2 s of quiet. */
static void drain(struct net *n, size_t i, uint64_t want)
{
	uint8_t buf[MEDIA_PKT_MAX], exp[PKT_LEN];
	struct pollfd pfd = { .fd = n->fd[i], .events = POLLIN };
	ssize_t r;

	while (n->got[i] < want || poll(&pfd, 1, 0) > 0) {
		if (poll(&pfd, 1, 2000) <= 0)
			return;
		r = recv(n->fd[i], buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0)
			continue;
		n->got[i]++;
		if (r != PKT_LEN || buf[2] >= SPEAKERS || buf[3] >= PKTS) {
			n->bad[i]++;
			continue;
		}
		make_pkt(exp, buf[2], buf[3]);
		if (memcmp(buf, exp, PKT_LEN) || n->seen[i][buf[2]][buf[3]]++)
			n->bad[i]++;
	}
}

static const struct sockaddr *leg_addr(const void *leg, socklen_t *len,
				       void *arg)
{
	(void)arg;
	*len = sizeof(struct sockaddr_in);
	return leg;
}

/* 3 speakers x PKTS packets, each to the other members (the 50 listeners
 * and the other 2 speakers, whose legs have no address here). */
static void test_fanout(size_t batch)
{
	struct media_dest dest[SPEAKERS + LISTENERS];
	struct media_sendq_stats st;
	struct media_sendq *q = NULL;
	uint8_t pkt[PKT_LEN];
	struct net *n = calloc(1, sizeof(*n));
	struct media_fanout fan;
	unsigned s, k;
	size_t i, copies = 0;

	CHECK(n && net_open(n));
	CHECK_OK(media_sendq_new(&q, n->tx, batch));
	if (!q || check_failures)
		goto out;
	for (i = 0; i < SPEAKERS + LISTENERS; i++) {
		dest[i].mid = i + 1;
		dest[i].leg = i < SPEAKERS ? NULL : &n->addr[i - SPEAKERS];
	}
	fan.dest = dest;
	fan.n = SPEAKERS + LISTENERS;
	for (k = 0; k < PKTS; k++)
		for (s = 0; s < SPEAKERS; s++) {
			make_pkt(pkt, s, k);
			fan.skip = s;
			copies += media_sendq_fanout(q, pkt, sizeof(pkt), &fan,
						     leg_addr, NULL);
		}
	CHECK(copies == SPEAKERS * PKTS * LISTENERS);
	for (i = 0; i < LISTENERS; i++) {
		drain(n, i, SPEAKERS * PKTS);
		CHECK(n->got[i] == SPEAKERS * PKTS);
		CHECK(n->bad[i] == 0);
	}
	media_sendq_stats(q, &st);
	CHECK(st.queued == copies && st.sent == copies && st.dropped == 0);
	/* one call per ceil(LISTENERS / batch) per packet */
	batch = batch ? batch : MEDIA_SENDQ_MAX;
	CHECK(st.calls == SPEAKERS * PKTS * ((LISTENERS + batch - 1) / batch));
out:
	media_sendq_free(q);
	if (n)
		net_close(n);
	free(n);
}

/* One fan-out of BIG copies (more than one sendmmsg call can take): the
 * 50 listeners over and over, with bad destinations among them. */
static void test_big_and_unreachable(void)
{
	static struct media_dest dest[BIG];
	struct sockaddr_in closed, zero;
	struct media_sendq_stats st;
	struct media_sendq *q = NULL;
	struct net *n = calloc(1, sizeof(*n));
	uint8_t pkt[PKT_LEN];
	struct media_fanout fan = { .dest = dest, .n = BIG, .skip = BIG };
	uint64_t want[LISTENERS] = { 0 }, sent_closed = 0, n_zero = 0;
	size_t i;
	int fd;

	CHECK(n && net_open(n));
	fd = udp_socket(&closed); /* a port nobody listens on */
	CHECK(fd >= 0);
	close(fd);
	zero = closed;
	zero.sin_port = 0; /* the kernel refuses it: EINVAL */
	CHECK_OK(media_sendq_new(&q, n->tx, 0));
	if (!q || check_failures)
		goto out;
	for (i = 0; i < BIG; i++) {
		dest[i].mid = i + 1;
		if (i == 0 || i == 500 || i == MEDIA_SENDQ_MAX - 1 ||
		    i == BIG - 1) {
			dest[i].leg = &zero;
			n_zero++;
		} else if (i % 97 == 5) {
			dest[i].leg = &closed;
			sent_closed++;
		} else {
			dest[i].leg = &n->addr[i % LISTENERS];
			want[i % LISTENERS]++;
		}
	}
	make_pkt(pkt, 1, 2);
	CHECK(media_sendq_fanout(q, pkt, sizeof(pkt), &fan, leg_addr, NULL) ==
	      BIG);
	media_sendq_stats(q, &st);
	CHECK(st.queued == BIG);
	CHECK(st.drop_error == n_zero && st.drop_again == 0);
	CHECK(st.sent == BIG - n_zero);
	CHECK(st.last_errno == EINVAL);
	CHECK(st.calls >= 2); /* at least one full batch, then the rest */
	for (i = 0; i < LISTENERS; i++) {
		n->got[i] = 0;
		drain(n, i, want[i]);
		CHECK(n->got[i] == want[i]);
		/* the same packet many times: only bytes are checked */
		CHECK(n->bad[i] == want[i] - 1);
	}
	CHECK(sent_closed > 0);
out:
	media_sendq_free(q);
	if (n)
		net_close(n);
	free(n);
}

/* add_copy: one buffer reused for every datagram, each arrives as it was
 * when queued; plus the refusals counted without sending. */
static void test_copy(void)
{
	struct media_sendq_stats st;
	struct media_sendq *q = NULL;
	struct net *n = calloc(1, sizeof(*n));
	uint8_t pkt[MEDIA_PKT_MAX + 1];
	unsigned s, k;
	size_t i;

	CHECK(n && net_open(n));
	CHECK_ERR(media_sendq_new(&q, -1, 0), CC_ERR_INVAL);
	CHECK_ERR(media_sendq_new(&q, n ? n->tx : -1, MEDIA_SENDQ_MAX + 1),
		  CC_ERR_INVAL);
	CHECK_OK(media_sendq_new(&q, n ? n->tx : -1, 16));
	if (!q || check_failures)
		goto out;
	for (k = 0; k < PKTS; k++)
		for (s = 0; s < SPEAKERS; s++)
			for (i = 0; i < LISTENERS; i++) {
				make_pkt(pkt, s, k);
				media_sendq_add_copy(
					q, pkt, PKT_LEN,
					(struct sockaddr *)&n->addr[i],
					sizeof(n->addr[i]));
				memset(pkt, 0xee, PKT_LEN); /* reused */
			}
	media_sendq_add_copy(q, pkt, sizeof(pkt),
			     (struct sockaddr *)&n->addr[0],
			     sizeof(n->addr[0])); /* too long */
	media_sendq_add(q, pkt, 0, (struct sockaddr *)&n->addr[0],
			sizeof(n->addr[0])); /* empty */
	CHECK(media_sendq_flush(q) > 0);
	CHECK(media_sendq_flush(q) == 0); /* nothing left */
	for (i = 0; i < LISTENERS; i++) {
		drain(n, i, SPEAKERS * PKTS);
		CHECK(n->got[i] == SPEAKERS * PKTS);
		CHECK(n->bad[i] == 0);
	}
	media_sendq_stats(q, &st);
	CHECK(st.sent == SPEAKERS * PKTS * LISTENERS);
	CHECK(st.drop_error == 2 && st.dropped == 2);
out:
	media_sendq_free(q);
	if (n)
		net_close(n);
	free(n);
}

int main(void)
{
	test_fanout(0); /* one call per packet */
	test_fanout(7); /* 8 calls per packet, the last one short */
	test_fanout(1); /* one datagram per call */
	test_big_and_unreachable();
	test_copy();
	CHECK_DONE();
}
