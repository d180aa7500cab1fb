/*
 * sendq.c -- the switch's batched sender. One incoming packet becomes one
 * datagram per listener (each to its own address), and sending them with
 * a sendto(2) each makes the system call, not the crypto, the cost of the
 * fan-out. A queue sends up to `batch` datagrams per sendmmsg(2) call
 * (Linux); the bytes are not copied (every iovec points at the one
 * packet), only the 16..28 address bytes are.
 *
 * Errors. sendmmsg returns how many messages went out before the first
 * that failed (that error is not reported), or -1 with the first
 * message's errno. So after a short count the next call starts at the
 * failed message and sees its errno: a refused destination is dropped
 * and the rest sent; a full send buffer drops the rest of the queue
 * (never block the event loop; late media is lost media).
 */
#define _GNU_SOURCE /* sendmmsg, struct mmsghdr */
#include "media_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

union sendq_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

#ifdef __linux__
typedef struct mmsghdr sendq_msg;
#else
typedef struct {
	struct msghdr msg_hdr;
	unsigned msg_len;
} sendq_msg;
#endif

struct media_sendq {
	int fd;
	size_t batch; /* datagrams per call */
	size_t n;     /* queued */
	bool one_by_one;
	sendq_msg *msg;
	struct iovec *iov;
	union sendq_addr *to;
	uint8_t *copy; /* batch x MEDIA_PKT_MAX, made at the first add_copy */
	struct media_sendq_stats st;
};

enum cc_err media_sendq_new(struct media_sendq **qp, int fd, size_t batch)
{
	struct media_sendq *q;
	size_t i;

	if (!qp || fd < 0 || batch > MEDIA_SENDQ_MAX)
		return CC_ERR_INVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return CC_ERR_NOMEM;
	q->fd = fd;
	q->batch = batch ? batch : MEDIA_SENDQ_MAX;
	q->msg = calloc(q->batch, sizeof(*q->msg));
	q->iov = calloc(q->batch, sizeof(*q->iov));
	q->to = calloc(q->batch, sizeof(*q->to));
	if (!q->msg || !q->iov || !q->to) {
		media_sendq_free(q);
		return CC_ERR_NOMEM;
	}
	for (i = 0; i < q->batch; i++) {
		q->msg[i].msg_hdr.msg_name = &q->to[i];
		q->msg[i].msg_hdr.msg_iov = &q->iov[i];
		q->msg[i].msg_hdr.msg_iovlen = 1;
	}
	*qp = q;
	return CC_OK;
}

void media_sendq_free(struct media_sendq *q)
{
	if (!q)
		return;
	free(q->msg);
	free(q->iov);
	free(q->to);
	free(q->copy);
	free(q);
}

static void drop(struct media_sendq *q, size_t n, int err, bool again)
{
	q->st.dropped += n;
	if (again)
		q->st.drop_again += n;
	else
		q->st.drop_error += n;
	q->st.last_errno = err;
}

/* Send from m on: how many went out, or -1 with errno for m[0]. */
static int send_some(struct media_sendq *q, sendq_msg *m, size_t n)
{
#ifdef __linux__
	if (!q->one_by_one) {
		int r = sendmmsg(q->fd, m, (unsigned)n, MSG_DONTWAIT);

		q->st.calls++;
		if (r >= 0 || errno != ENOSYS)
			return r;
		q->one_by_one = true;
	}
#else
	(void)n;
#endif
	q->st.calls++;
	return sendmsg(q->fd, &m->msg_hdr, MSG_DONTWAIT) < 0 ? -1 : 1;
}

static bool buffer_full(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS;
}

size_t media_sendq_flush(struct media_sendq *q)
{
	size_t i = 0, sent = 0;
	int r;

	if (!q)
		return 0;
	while (i < q->n) {
		r = send_some(q, &q->msg[i], q->n - i);
		if (r > 0) {
			i += (size_t)r;
			sent += (size_t)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r == 0 || buffer_full(errno)) {
			drop(q, q->n - i, r ? errno : EAGAIN, true);
			break;
		} else {
			drop(q, 1, errno, false); /* this destination only */
			i++;
		}
	}
	q->st.sent += sent;
	q->n = 0;
	return sent;
}

static void queue(struct media_sendq *q, const void *pkt, size_t len,
		  const struct sockaddr *to, socklen_t tolen)
{
	size_t i = q->n++;

	q->iov[i].iov_base = (void *)pkt;
	q->iov[i].iov_len = len;
	memcpy(&q->to[i], to, tolen);
	q->msg[i].msg_hdr.msg_namelen = tolen;
	if (q->n == q->batch)
		(void)media_sendq_flush(q);
}

static bool acceptable(struct media_sendq *q, const void *pkt, size_t len,
		       const struct sockaddr *to, socklen_t tolen)
{
	q->st.queued++;
	if (pkt && len && to && tolen && tolen <= sizeof(union sendq_addr))
		return true;
	drop(q, 1, EINVAL, false);
	return false;
}

void media_sendq_add(struct media_sendq *q, const void *pkt, size_t len,
		     const struct sockaddr *to, socklen_t tolen)
{
	if (q && acceptable(q, pkt, len, to, tolen))
		queue(q, pkt, len, to, tolen);
}

void media_sendq_add_copy(struct media_sendq *q, const void *pkt, size_t len,
			  const struct sockaddr *to, socklen_t tolen)
{
	uint8_t *slot;

	if (!q || !acceptable(q, pkt, len, to, tolen))
		return;
	if (!q->copy)
		q->copy = malloc(q->batch * MEDIA_PKT_MAX);
	if (!q->copy || len > MEDIA_PKT_MAX) {
		drop(q, 1, q->copy ? EMSGSIZE : ENOMEM, false);
		return;
	}
	slot = q->copy + q->n * MEDIA_PKT_MAX;
	memcpy(slot, pkt, len);
	queue(q, slot, len, to, tolen);
}

size_t media_sendq_fanout(struct media_sendq *q, const uint8_t *pkt, size_t len,
			  const struct media_fanout *fan, media_leg_addr_h *ah,
			  void *arg)
{
	const struct sockaddr *to;
	socklen_t tolen;
	size_t i, copies = 0;

	if (!q || !fan || !ah)
		return 0;
	for (i = 0; i < fan->n; i++) {
		if (i == fan->skip || !fan->dest[i].leg)
			continue;
		to = ah(fan->dest[i].leg, &tolen, arg);
		if (!to)
			continue;
		media_sendq_add(q, pkt, len, to, tolen);
		copies++;
	}
	(void)media_sendq_flush(q);
	return copies;
}

void media_sendq_stats(const struct media_sendq *q,
		       struct media_sendq_stats *st)
{
	if (q)
		*st = q->st;
	else
		memset(st, 0, sizeof(*st));
}
