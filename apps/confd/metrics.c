/*
 * metrics.c -- conclave-confd's counters and the HTTP listener that shows
 * them: GET /metrics in the Prometheus text exposition format (version
 * 0.0.4), GET /healthz. Any other path is 404, any other method on those
 * two paths 405. libre's HTTP server (re_http.h) on the main loop; the
 * counters are plain integers (one thread). No key, identity or address
 * of a member ever appears here: only counts.
 */
#include "confd.h"

#include <re.h>

#include <errno.h>
#include <string.h>

struct confd_counters confd_ctr;

static struct http_sock *hs;

/* Label values of conf_removal (Prometheus-safe spellings). */
static const char *const removal_label[CONFD_RM__COUNT] = {
	[CONF_RM_LEFT] = "left",
	[CONF_RM_LOST] = "lost",
	[CONF_RM_NO_ACK] = "no_ack",
	[CONF_RM_REKEY_FAILED] = "rekey_failed",
	[CONF_RM_JOIN_FAILED] = "join_failed",
	[CONF_RM_COMPROMISED] = "compromised",
	[CONF_RM_DISALLOWED] = "disallowed",
	[CONF_RM_ENDED] = "ended",
};

/* Refusal codes always shown (0 until seen); others once seen. */
static const uint16_t usual_codes[] = { 403, 404, 410, 486, 488, 500, 503 };

void confd_metrics_refused(uint16_t code)
{
	if (code >= CONFD_CODE_MIN && code < CONFD_CODE_MIN + CONFD_CODE__COUNT)
		confd_ctr.refused[code - CONFD_CODE_MIN]++;
}

void confd_metrics_action(const struct conf_action *a)
{
	switch (a->type) {
	case CONF_ACT_ACCEPT:
		confd_ctr.joins_accepted++;
		break;
	case CONF_ACT_NEW_EPOCH:
		/* the first epoch comes with the conference: not a rekey */
		confd_ctr.rekeys_started += a->u.epoch->epoch > 1;
		break;
	case CONF_ACT_SWITCH_MKI:
		confd_ctr.rekeys_completed += a->u.epoch->epoch > 1;
		break;
	case CONF_ACT_DROP_MEDIA:
		if ((unsigned)a->u.removal < CONFD_RM__COUNT)
			confd_ctr.removed[a->u.removal]++;
		break;
	default:
		break;
	}
}

void confd_metrics_media_gone(const struct confd_media *m)
{
	uint64_t fwd, drops;

	confd_media_stats(m, &fwd, &drops);
	confd_ctr.media_fwd_gone += fwd;
	confd_ctr.media_drops_gone += drops;
}

/* ---- rendering ----------------------------------------------------------- */

/* printf into mb with the C library's formatter (-Wformat checks every
 * line; libre's re_printf has conversions of its own). */
static int out(struct mbuf *mb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int out(struct mbuf *mb, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return EOVERFLOW;
	return mbuf_write_mem(mb, (const uint8_t *)buf, (size_t)n);
}

static int head(struct mbuf *mb, const char *name, const char *type,
		const char *help)
{
	return out(mb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int one(struct mbuf *mb, const char *name, const char *type,
	       const char *help, uint64_t v)
{
	int err = head(mb, name, type, help);

	if (!err)
		err = out(mb, "%s %llu\n", name, (unsigned long long)v);
	return err;
}

static bool usual(unsigned code)
{
	size_t i;

	for (i = 0; i < sizeof(usual_codes) / sizeof(usual_codes[0]); i++)
		if (usual_codes[i] == code)
			return true;
	return false;
}

static int render_refused(struct mbuf *mb)
{
	unsigned i;
	int err;

	err = head(mb, "confd_joins_refused_total", "counter",
		   "INVITEs answered with a final 4xx/5xx, by status code.");
	for (i = 0; i < CONFD_CODE__COUNT && !err; i++) {
		if (!confd_ctr.refused[i] && !usual(CONFD_CODE_MIN + i))
			continue;
		err = out(mb, "confd_joins_refused_total{code=\"%u\"} %llu\n",
			  CONFD_CODE_MIN + i,
			  (unsigned long long)confd_ctr.refused[i]);
	}
	return err;
}

static int render_removed(struct mbuf *mb)
{
	unsigned i;
	int err;

	err = head(mb, "confd_members_removed_total", "counter",
		   "Members removed from a conference, by reason (lost = "
		   "no SRTP for rtp_timeout).");
	for (i = 1; i < CONFD_RM__COUNT && !err; i++)
		err = out(mb,
			  "confd_members_removed_total{reason=\"%s\"} %llu\n",
			  removal_label[i],
			  (unsigned long long)confd_ctr.removed[i]);
	return err;
}

static int render_event(struct mbuf *mb)
{
	uint64_t act, ntf, ref;
	int err;

	event_stats(&act, &ntf, &ref);
	err = one(mb, "confd_event_subscriptions_active", "gauge",
		  "Conference event package subscriptions now.", act);
	err |= one(mb, "confd_event_notifies_total", "counter",
		   "Conference event package NOTIFYs sent.", ntf);
	err |= one(mb, "confd_event_subscribes_refused_total", "counter",
		   "SUBSCRIBEs refused (rate limit included).", ref);
	return err;
}

static int render(struct mbuf *mb)
{
	const struct confd_counters *c = &confd_ctr;
	struct confd_gauges gs;
	int err;

	confd_sip_gauges(&gs);
	err = one(mb, "confd_conferences_active", "gauge",
		  "Conferences live now.", gs.conferences);
	err |= one(mb, "confd_members_active", "gauge",
		   "Members (joining or joined) of live conferences.",
		   gs.members);
	err |= one(mb, "confd_conferences_created_total", "counter",
		   "Conferences created through the factory.",
		   c->conferences_created);
	err |= one(mb, "confd_joins_accepted_total", "counter",
		   "Joins (creations included) the conference accepted.",
		   c->joins_accepted);
	err |= render_refused(mb);
	err |= render_event(mb);
	err |= one(mb, "confd_rekeys_started_total", "counter",
		   "Group key epochs created after a conference's first.",
		   c->rekeys_started);
	err |= one(mb, "confd_rekeys_completed_total", "counter",
		   "Rekeys whose senders switched to the new MKI.",
		   c->rekeys_completed);
	err |= one(mb, "confd_reinvite_failures_total", "counter",
		   "CSB update re-INVITEs not sent or answered without a "
		   "valid update TRANSFER_RESP.",
		   c->reinvite_failures);
	err |= render_removed(mb);
	err |= one(mb, "confd_media_forwarded_total", "counter",
		   "SRTP packet copies sent to members.", gs.media_fwd);
	err |= one(mb, "confd_media_dropped_total", "counter",
		   "Media packets dropped (unknown source, MKI, SSRC, tag, "
		   "replay, send error).",
		   gs.media_drops);
	err |= one(mb, "confd_kms_requests_total", "counter",
		   "RESOLVE_INIT requests posted to the KMS.", c->kms_requests);
	err |= one(mb, "confd_kms_failures_total", "counter",
		   "KMS requests without a usable answer (unreachable, "
		   "timeout, HTTP error).",
		   c->kms_failures);
	return err;
}

/* ---- the HTTP listener ------------------------------------------------------ */

static void reply_metrics(struct http_conn *conn)
{
	struct mbuf *mb = mbuf_alloc(4096);
	int err = mb ? render(mb) : ENOMEM;

	if (err) {
		confd_log(CONFD_LOG_WARN, "metrics: rendering failed");
		(void)http_ereply(conn, 500, "Internal Server Error");
	} else {
		(void)http_creply(conn, 200, "OK",
				  "text/plain; version=0.0.4; charset=utf-8",
				  "%b", mb->buf, mb->end);
	}
	mem_deref(mb);
}

static void req_h(struct http_conn *conn, const struct http_msg *msg, void *arg)
{
	bool metrics = !pl_strcmp(&msg->path, "/metrics");
	bool health = !pl_strcmp(&msg->path, "/healthz");

	(void)arg;
	if (!metrics && !health) {
		(void)http_ereply(conn, 404, "Not Found");
		return;
	}
	if (pl_strcmp(&msg->met, "GET")) {
		(void)http_reply(conn, 405, "Method Not Allowed",
				 "Allow: GET\r\nContent-Length: 0\r\n\r\n");
		return;
	}
	if (health)
		(void)http_creply(conn, 200, "OK", "text/plain", "ok\n");
	else
		reply_metrics(conn);
}

int confd_metrics_start(const char *addr)
{
	struct sa sa;
	int err;

	if (!strcmp(addr, "off"))
		return 0;
	err = sa_decode(&sa, addr, strlen(addr));
	if (!err)
		err = http_listen(&hs, &sa, req_h, NULL);
	if (err) {
		confd_log(CONFD_LOG_ERROR, "metrics listen %s: %s", addr,
			  strerror(err));
		return err;
	}
	confd_log(CONFD_LOG_INFO, "metrics on http://%s/metrics", addr);
	return 0;
}

void confd_metrics_stop(void)
{
	hs = mem_deref(hs);
}
