/*
 * server.c -- the HTTP(S) front of the KMS on libre's tcp/tls and main
 * loop. One struct kconn per client connection with one timer (idle
 * between requests, request deadline while one is being received, linger
 * while closing), an input buffer that grows to at most one request, and
 * an output mbuf reused for every response. Requests on one connection
 * are answered in order (pipelining works); kms_handle is synchronous, so
 * a request is answered within the event that completed it. A client
 * that is slow, idle, too large or not reading is cut off alone.
 */
#include "kmsd.h"

#include <re.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

enum {
	RESP_MAX = 16384,     /* one MIKEY response */
	REJECT_MAX = 64,      /* over-limit connections answered 503 */
	LINGER_MS = 2000,     /* wait for the peer's FIN after ours */
	TXQ_MAX = 256 * 1024, /* unread responses before we give up */
	IN_INITIAL = 4096,
};

enum route {
	R_NONE = 0,
	R_MIKEY,
	R_HEALTHZ,
	R_METRICS,
};

enum cstate {
	C_HEAD = 0, /* reading a request head */
	C_BODY,     /* head done, reading Content-Length bytes */
	C_CLOSING,  /* final response queued; waiting for the peer to go */
};

/* What the daemon keeps of a parsed head (the parser's slices point into
 * the input buffer, which may move while the body arrives). */
struct kreq {
	enum route route;
	enum kmsd_http_method method;
	unsigned status; /* != 0: answer this once the body is read */
	const char *why;
	size_t head_len, clen;
	bool close;
	char method_str[16];
	char path[96];
};

struct listener {
	struct kmsd_server *srv;
	struct tcp_sock *ts;
	bool https;
};

struct kmsd_server {
	struct kmsd_server_deps deps;
	struct listener http, https;
	struct tls *tls;
	struct list conns;
	unsigned n_active;    /* counted against max_conns */
	unsigned n_rejecting; /* over the limit, being answered 503 */
	struct mbuf *scratch; /* /metrics body */
	uint8_t resp[RESP_MAX];
	char date[64];
	time_t date_t;
	/* Group commit: answers produced in one event-loop pass wait in
	 * `held` until their batch's store transaction commits. */
	struct list held;
	struct tmr commit_tmr;
};

struct kconn {
	struct le le;
	struct kmsd_server *srv;
	struct tcp_conn *tc;
	struct tls_conn *sc;
	struct tmr tmr;
	struct mbuf *out;
	uint8_t *in;
	size_t in_len, in_cap, scan;
	enum cstate state;
	struct kreq req;
	bool started; /* bytes of an unanswered request are buffered */
	bool rejecting;
	bool https;
	bool counted;     /* in srv->conns and the counts */
	bool held;        /* answers wait for the batch commit (srv->held) */
	bool close_after; /* close once the held answers are sent */
	struct le hle;
	char peer[64];
};

static void conn_recv(struct mbuf *mb, void *arg);

static const struct kmsd_conf *conf(const struct kmsd_server *srv)
{
	return srv->deps.conf;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- connection life ---------------------------------------------------- */

static void conn_destructor(void *data)
{
	struct kconn *c = data;
	struct kmsd_server *srv = c->srv;

	tmr_cancel(&c->tmr);
	if (c->held)
		list_unlink(&c->hle);
	if (c->counted) {
		list_unlink(&c->le);
		if (c->rejecting)
			srv->n_rejecting--;
		else
			srv->n_active--;
		kmsd_metrics_conn_close();
	}
	mem_deref(c->sc);
	mem_deref(c->tc);
	mem_deref(c->out);
	free(c->in);
}

static void conn_destroy(struct kconn *c, const char *why)
{
	kmsd_log(KMSD_LOG_DEBUG, "conn peer=%s closed (%s)", c->peer, why);
	mem_deref(c);
}

static void linger_expired(void *arg)
{
	conn_destroy(arg, "linger over");
}

static void shut_wr(struct kconn *c)
{
	(void)tcp_set_send(c->tc, NULL);
	if (shutdown(tcp_conn_fd(c->tc), SHUT_WR) < 0 && errno != ENOTCONN)
		kmsd_log(KMSD_LOG_DEBUG, "conn peer=%s shutdown: %s", c->peer,
			 strerror(errno));
}

static void drained(void *arg)
{
	shut_wr(arg);
}

/* Graceful close: send what is queued, FIN, then read and discard until
 * the peer closes or LINGER_MS pass (an immediate close() with unread
 * input makes the kernel send RST, which can destroy our response). */
static void conn_begin_close(struct kconn *c)
{
	c->state = C_CLOSING;
	tmr_start(&c->tmr, LINGER_MS, linger_expired, c);
	if (tcp_conn_txqsz(c->tc) == 0)
		shut_wr(c);
	else if (tcp_set_send(c->tc, drained))
		conn_destroy(c, "set send handler failed");
}

/* Send what this event produced. false: c is gone. */
static bool conn_flush(struct kconn *c)
{
	int err;

	if (!c->out->end)
		return true;
	c->out->pos = 0;
	err = tcp_send(c->tc, c->out);
	c->out->pos = c->out->end = 0;
	if (err) {
		conn_destroy(c, "send failed");
		return false;
	}
	if (tcp_conn_txqsz(c->tc) > TXQ_MAX) {
		kmsd_log(KMSD_LOG_WARN,
			 "conn peer=%s closed: client does not read its "
			 "responses",
			 c->peer);
		conn_destroy(c, "send queue full");
		return false;
	}
	return true;
}

/* ---- responses ---------------------------------------------------------- */

static const char *http_date(struct kmsd_server *srv)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now != srv->date_t) {
		gmtime_r(&now, &tm);
		strftime(srv->date, sizeof(srv->date),
			 "%a, %d %b %Y %H:%M:%S GMT", &tm);
		srv->date_t = now;
	}
	return srv->date;
}

/* Append one response to c->out. extra: more header lines, "" if none. */
static void respond(struct kconn *c, unsigned status, const char *ctype,
		    const uint8_t *body, size_t len, const char *extra,
		    bool close)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %u %s\r\nDate: %s\r\nServer: conclave-kmsd/"
		     "%s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "%s%s\r\n",
		     status, kmsd_http_reason(status), http_date(c->srv),
		     KMSD_VERSION, ctype, len, extra,
		     close ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		n = 0; /* cannot happen: fixed strings */
	kmsd_metrics_http(status);
	if (mbuf_write_mem(c->out, (const uint8_t *)head, (size_t)n))
		return;
	if (len && c->req.method != KMSD_M_HEAD)
		(void)mbuf_write_mem(c->out, body, len);
}

static void respond_text(struct kconn *c, unsigned status, const char *text,
			 const char *extra, bool close)
{
	respond(c, status, "text/plain; charset=utf-8", (const uint8_t *)text,
		strlen(text), extra, close);
}

static void log_req(const struct kconn *c, unsigned status, const char *op,
		    const char *outcome, const char *reason,
		    const char *requester, const char *ticket, double secs)
{
	char r[160], who[KMS_MAX_NAME];

	if (!kmsd_log_enabled(KMSD_LOG_INFO))
		return;
	kmsd_log_clean(r, sizeof(r), reason, reason ? strlen(reason) : 0);
	kmsd_log_clean(who, sizeof(who), requester,
		       requester ? strlen(requester) : 0);
	kmsd_log(KMSD_LOG_INFO,
		 "req peer=%s%s \"%s %s\" status=%u op=%s outcome=%s "
		 "reason=\"%s\" requester=\"%s\" ticket=%s latency_us=%.0f",
		 c->https ? "https:" : "", c->peer, c->req.method_str,
		 c->req.path, status, op, outcome, r, who,
		 ticket && *ticket ? ticket : "-", secs * 1e6);
}

/* An HTTP-level refusal: status, a text body, a log line. */
static void refuse(struct kconn *c, unsigned status, const char *why,
		   bool close)
{
	char body[160];
	const char *extra = "";

	if (status == 405)
		extra = c->req.route == R_MIKEY ? "Allow: POST\r\n" :
						  "Allow: GET, HEAD\r\n";
	else if (status == 503)
		extra = "Retry-After: 1\r\n";
	snprintf(body, sizeof(body), "%u %s: %s\n", status,
		 kmsd_http_reason(status), why);
	respond_text(c, status, body, extra, close);
	log_req(c, status, "-", "-", why, NULL, NULL, 0);
}

/* ---- the endpoints ------------------------------------------------------ */

/*
 * End of an event-loop pass: commit the batch's store transaction, then
 * send the answers it produced. If the commit fails, no answer of the
 * batch may leave (its audit records are gone): those connections are
 * closed and the clients retry.
 */
static void commit_batch(void *arg)
{
	struct kmsd_server *srv = arg;
	enum cc_err err = kms_batch_end(srv->deps.kms, true);

	if (err)
		kmsd_log(KMSD_LOG_ERROR,
			 "store commit failed (%s: %s): dropping this "
			 "batch's answers",
			 cc_strerror(err), kms_db_error(srv->deps.db));
	while (srv->held.head) {
		struct kconn *c = srv->held.head->data;

		list_unlink(&c->hle);
		c->held = false;
		if (err) {
			conn_destroy(c, "store commit failed");
			continue;
		}
		if (conn_flush(c) && c->close_after)
			conn_begin_close(c);
	}
}

/* Open a batch for this pass unless one is open (or batches fail). */
static void batch_join(struct kmsd_server *srv)
{
	if (kms_batch_open(srv->deps.kms))
		return;
	if (kms_batch_begin(srv->deps.kms) == CC_OK)
		tmr_start(&srv->commit_tmr, 0, commit_batch, srv);
}

static void hold(struct kconn *c)
{
	if (c->held || !kms_batch_open(c->srv->deps.kms))
		return;
	c->held = true;
	list_append(&c->srv->held, &c->hle, c);
}

static void do_mikey(struct kconn *c, const uint8_t *body)
{
	struct kmsd_server *srv = c->srv;
	struct kms_result res;
	struct cc_wr wr;
	enum cc_err err;
	double t0, dt;
	char who[KMS_MAX_NAME];

	batch_join(srv);
	hold(c);
	memset(&res, 0, sizeof(res));
	cc_wr_init(&wr, srv->resp, sizeof(srv->resp));
	t0 = mono_now();
	err = kms_handle(srv->deps.kms, body, c->req.clen, (int64_t)time(NULL),
			 &wr, &res);
	dt = mono_now() - t0;
	kmsd_metrics_mikey((int)res.op, err ? err : res.err, dt);
	if (err == CC_ERR_STORE || res.err == CC_ERR_STORE)
		kmsd_log(KMSD_LOG_ERROR, "store failure: %s",
			 kms_db_error(srv->deps.db));
	if (err) {
		respond_text(c, 500, "500 the KMS could not answer\n", "",
			     c->req.close);
		log_req(c, 500, kmsd_op_name((int)res.op), kmsd_err_short(err),
			res.reason ? res.reason : cc_strerror(err),
			res.requester, res.ticket_id, dt);
		return;
	}
	respond(c, 200, "application/mikey", wr.p, wr.pos, "", c->req.close);
	/* an identity the MAC did not prove is logged as a claim */
	if (!res.authenticated && res.requester[0])
		snprintf(who, sizeof(who), "claimed:%.110s", res.requester);
	else
		snprintf(who, sizeof(who), "%s", res.requester);
	log_req(c, 200, kmsd_op_name((int)res.op), kmsd_err_short(res.err),
		res.err ? (res.reason ? res.reason : cc_strerror(res.err)) : "",
		who, res.ticket_id, dt);
	cc_wipe(srv->resp, wr.pos); /* it held wrapped keys */
}

/* The store answers, and holds a current ticket-protection key. */
static enum cc_err store_check(struct kmsd_server *srv)
{
	struct kms_store *st = kms_db_store(srv->deps.db);
	struct kms_tpk tpk;
	enum cc_err err;

	if (!st || !st->ops || !st->ops->tpk_current)
		return CC_ERR_INVAL;
	err = st->ops->tpk_current(st, &tpk);
	cc_wipe(&tpk, sizeof(tpk));
	return err;
}

static void do_healthz(struct kconn *c)
{
	enum cc_err err = store_check(c->srv);
	char body[128];

	if (err) {
		snprintf(body, sizeof(body), "store unusable: %s\n",
			 cc_strerror(err));
		kmsd_log(KMSD_LOG_ERROR, "healthz: store: %s",
			 kms_db_error(c->srv->deps.db));
		respond_text(c, 503, body, "", c->req.close);
		log_req(c, 503, "-", kmsd_err_short(err), body, NULL, NULL, 0);
		return;
	}
	respond_text(c, 200, "ok\n", "", c->req.close);
	log_req(c, 200, "-", "ok", "", NULL, NULL, 0);
}

static void do_metrics(struct kconn *c)
{
	struct mbuf *mb = c->srv->scratch;

	mbuf_rewind(mb);
	if (kmsd_metrics_render(mb, kms_replay_size(c->srv->deps.kms))) {
		refuse(c, 500, "metrics rendering failed", c->req.close);
		return;
	}
	respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", mb->buf,
		mb->end, "", c->req.close);
	log_req(c, 200, "-", "ok", "", NULL, NULL, 0);
}

/* ---- requests ----------------------------------------------------------- */

/* "application/mikey", any case, optionally followed by parameters. */
static bool ctype_is_mikey(struct cc_slice ct)
{
	static const char want[] = "application/mikey";
	size_t n = sizeof(want) - 1, i;

	if (ct.len < n || strncasecmp((const char *)ct.p, want, n))
		return false;
	for (i = n; i < ct.len && (ct.p[i] == ' ' || ct.p[i] == '\t'); i++)
		;
	return i == ct.len || ct.p[i] == ';';
}

/* Decide the route and the refusal, if any, from the head alone. */
static void route(struct kreq *r, const struct kmsd_http_req *h)
{
	bool get = h->method == KMSD_M_GET || h->method == KMSD_M_HEAD;

	if (kmsd_slice_eq(h->path, "/mikey")) {
		r->route = R_MIKEY;
		if (h->method != KMSD_M_POST) {
			r->status = 405;
			r->why = "use POST";
		} else if (!ctype_is_mikey(h->ctype)) {
			r->status = 415;
			r->why = "Content-Type must be application/mikey";
		}
	} else if (kmsd_slice_eq(h->path, "/healthz") ||
		   kmsd_slice_eq(h->path, "/metrics")) {
		r->route = h->path.p[1] == 'h' ? R_HEALTHZ : R_METRICS;
		if (!get) {
			r->status = 405;
			r->why = "use GET or HEAD";
		}
	} else {
		r->status = 404;
		r->why = "no such resource";
	}
}

static void req_from_head(struct kreq *r, const struct kmsd_http_req *h)
{
	memset(r, 0, sizeof(*r));
	r->method = h->method;
	r->head_len = h->head_len;
	r->clen = h->has_clen ? h->clen : 0;
	r->close = h->close;
	kmsd_log_clean(r->method_str, sizeof(r->method_str),
		       (const char *)h->method_str.p, h->method_str.len);
	kmsd_log_clean(r->path, sizeof(r->path), (const char *)h->path.p,
		       h->path.len);
	route(r, h);
}

static void dispatch(struct kconn *c, const uint8_t *body)
{
	if (c->req.status) {
		refuse(c, c->req.status, c->req.why, c->req.close);
		return;
	}
	switch (c->req.route) {
	case R_MIKEY:
		do_mikey(c, body);
		break;
	case R_HEALTHZ:
		do_healthz(c);
		break;
	case R_METRICS:
		do_metrics(c);
		break;
	default:
		refuse(c, 404, "no such resource", c->req.close);
		break;
	}
}

/* A head arrived: check framing limits, route, maybe 100 Continue.
 * false: the connection is closing. */
static bool on_head(struct kconn *c, const struct kmsd_http_req *h)
{
	req_from_head(&c->req, h);
	if (c->req.clen > conf(c->srv)->max_body_bytes) {
		refuse(c, 413, "body too large", true);
		return false;
	}
	if (h->expect_continue) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

		if (c->req.status) {
			/* the client waits for our word: refuse now */
			refuse(c, c->req.status, c->req.why, true);
			return false;
		}
		(void)mbuf_write_mem(c->out, (const uint8_t *)cont,
				     sizeof(cont) - 1);
	}
	c->state = C_BODY;
	return true;
}

/* Parse and answer every complete request in the buffer, in order.
 * Returns the bytes consumed; sets *closing when c must close. */
static size_t process(struct kconn *c, bool *closing)
{
	const struct kmsd_conf *cf = conf(c->srv);
	size_t pos = 0;

	while (pos < c->in_len) {
		if (c->state == C_HEAD) {
			struct kmsd_http_req h;
			const char *why = "";
			unsigned status = 0;
			enum kmsd_http_parse r;

			r = kmsd_http_parse(c->in + pos, c->in_len - pos,
					    cf->max_header_bytes, &c->scan, &h,
					    &status, &why);
			if (r == KMSD_HTTP_NEED_MORE)
				break;
			if (r == KMSD_HTTP_ERROR) {
				memset(&c->req, 0, sizeof(c->req));
				snprintf(c->req.method_str,
					 sizeof(c->req.method_str), "-");
				snprintf(c->req.path, sizeof(c->req.path), "-");
				refuse(c, status, why, true);
				*closing = true;
				return pos;
			}
			if (!on_head(c, &h)) {
				*closing = true;
				return pos;
			}
		}
		if (c->in_len - pos < c->req.head_len + c->req.clen)
			break;
		dispatch(c, c->in + pos + c->req.head_len);
		pos += c->req.head_len + c->req.clen;
		c->state = C_HEAD;
		c->scan = 0;
		if (c->req.close) {
			*closing = true;
			return pos;
		}
	}
	return pos;
}

/* Restart the one timer: deadline if a request is under way, else idle. */
static void conn_timer_handler(void *arg);

static void rearm(struct kconn *c, bool had_request)
{
	const struct kmsd_conf *cf = conf(c->srv);

	if (c->in_len) {
		if (!c->started || had_request) {
			c->started = true;
			tmr_start(&c->tmr, cf->request_timeout_ms,
				  conn_timer_handler, c);
		}
	} else if (c->started || had_request) {
		c->started = false;
		tmr_start(&c->tmr, cf->idle_timeout_ms, conn_timer_handler, c);
	}
}

static bool in_append(struct kconn *c, const uint8_t *p, size_t n)
{
	const struct kmsd_conf *cf = conf(c->srv);
	size_t limit = (size_t)cf->max_header_bytes + cf->max_body_bytes + 8192;

	if (c->in_len + n > c->in_cap) {
		size_t cap = c->in_cap ? c->in_cap : IN_INITIAL;
		uint8_t *q;

		while (cap < c->in_len + n)
			cap *= 2;
		if (cap > limit + 65536)
			return false; /* cannot happen: process() refuses */
		q = realloc(c->in, cap);
		if (!q)
			return false;
		c->in = q;
		c->in_cap = cap;
	}
	memcpy(c->in + c->in_len, p, n);
	c->in_len += n;
	return true;
}

static void conn_recv(struct mbuf *mb, void *arg)
{
	struct kconn *c = arg;
	bool closing = false;
	size_t used;

	if (c->state == C_CLOSING)
		return; /* discard while lingering */
	if (!in_append(c, mbuf_buf(mb), mbuf_get_left(mb))) {
		conn_destroy(c, "out of memory");
		return;
	}
	used = process(c, &closing);
	if (used) {
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
	}
	if (closing)
		c->in_len = 0;
	else
		rearm(c, used > 0);
	if (c->held) {
		/* commit_batch sends it once the audit records are stored */
		c->close_after = c->close_after || closing;
		return;
	}
	if (!conn_flush(c))
		return;
	if (closing)
		conn_begin_close(c);
}

static void conn_timer_handler(void *arg)
{
	struct kconn *c = arg;

	if (!c->started) {
		kmsd_metrics_timeout(false);
		conn_destroy(c, "idle timeout");
		return;
	}
	kmsd_metrics_timeout(true);
	memset(&c->req, 0, sizeof(c->req));
	snprintf(c->req.method_str, sizeof(c->req.method_str), "-");
	snprintf(c->req.path, sizeof(c->req.path), "-");
	refuse(c, 408, "request not complete before request_timeout", true);
	c->in_len = 0;
	if (c->held) {
		c->close_after = true;
		return;
	}
	if (conn_flush(c))
		conn_begin_close(c);
}

static void conn_close(int err, void *arg)
{
	struct kconn *c = arg;

	if (c->started && c->state != C_CLOSING)
		kmsd_log(KMSD_LOG_DEBUG,
			 "conn peer=%s: peer closed mid-request (%s)", c->peer,
			 err ? strerror(err) : "EOF");
	conn_destroy(c, err ? strerror(err) : "peer closed");
}

/* ---- accepting ---------------------------------------------------------- */

static void set_nodelay(struct tcp_conn *tc)
{
	int one = 1;

	if (setsockopt(tcp_conn_fd(tc), IPPROTO_TCP, TCP_NODELAY, &one,
		       sizeof(one)) < 0)
		kmsd_log(KMSD_LOG_DEBUG, "TCP_NODELAY: %s", strerror(errno));
}

static int conn_alloc(struct kconn **cp, struct listener *l,
		      const struct sa *peer, bool rejecting)
{
	struct kmsd_server *srv = l->srv;
	struct kconn *c;
	int err;

	c = mem_zalloc(sizeof(*c), conn_destructor);
	if (!c)
		return ENOMEM;
	c->srv = srv;
	c->https = l->https;
	c->rejecting = rejecting;
	tmr_init(&c->tmr);
	re_snprintf(c->peer, sizeof(c->peer), "%J", peer);
	c->out = mbuf_alloc(1024);
	err = c->out ? 0 : ENOMEM;
	if (!err)
		err = tcp_accept(&c->tc, l->ts, NULL, conn_recv, conn_close, c);
	if (!err && l->https)
		err = tls_start_tcp(&c->sc, srv->tls, c->tc, 0);
	if (err) {
		mem_deref(c);
		return err;
	}
	c->counted = true;
	list_append(&srv->conns, &c->le, c);
	if (rejecting)
		srv->n_rejecting++;
	else
		srv->n_active++;
	kmsd_metrics_conn_open();
	set_nodelay(c->tc);
	*cp = c;
	return 0;
}

static void reject_over_limit(struct listener *l, const struct sa *peer)
{
	struct kmsd_server *srv = l->srv;
	struct kconn *c;

	static time_t last;
	static unsigned quiet;
	time_t now = time(NULL);
	char who[64];

	kmsd_metrics_conn_rejected();
	if (now != last) { /* at most one line a second under a flood */
		re_snprintf(who, sizeof(who), "%J", peer);
		kmsd_log(KMSD_LOG_WARN,
			 "conn peer=%s refused: %u connections open "
			 "(max_conns); %u more refused without a log line",
			 who, srv->n_active, quiet);
		last = now;
		quiet = 0;
	} else {
		quiet++;
	}
	/* Over TLS a 503 would need a handshake first: just close. */
	if (l->https || srv->n_rejecting >= REJECT_MAX ||
	    conn_alloc(&c, l, peer, true)) {
		tcp_reject(l->ts);
		return;
	}
	snprintf(c->req.method_str, sizeof(c->req.method_str), "-");
	snprintf(c->req.path, sizeof(c->req.path), "-");
	refuse(c, 503, "too many connections", true);
	if (conn_flush(c))
		conn_begin_close(c);
}

static void conn_handler(const struct sa *peer, void *arg)
{
	struct listener *l = arg;
	struct kmsd_server *srv = l->srv;
	struct kconn *c;
	int err;

	if (srv->n_active >= conf(srv)->max_conns) {
		reject_over_limit(l, peer);
		return;
	}
	err = conn_alloc(&c, l, peer, false);
	if (err) {
		kmsd_log(KMSD_LOG_WARN, "conn: accept failed: %s",
			 strerror(err));
		tcp_reject(l->ts);
		return;
	}
	kmsd_log(KMSD_LOG_DEBUG, "conn peer=%s%s open (%u open)",
		 c->https ? "https:" : "", c->peer, srv->n_active);
	tmr_start(&c->tmr, conf(srv)->idle_timeout_ms, conn_timer_handler, c);
}

/* ---- the server --------------------------------------------------------- */

static int listen_on(struct listener *l, struct kmsd_server *srv,
		     const char *addr, bool https)
{
	struct sa local, bound;
	char where[64];
	int err;

	l->srv = srv;
	l->https = https;
	err = sa_decode(&local, addr, strlen(addr));
	if (err) {
		kmsd_log(KMSD_LOG_ERROR, "bad listen address '%s'", addr);
		return err;
	}
	/* not tcp_listen(): its backlog of 5 drops SYNs in a join storm */
	err = tcp_sock_alloc(&l->ts, &local, conn_handler, l);
	if (!err)
		err = tcp_sock_bind(l->ts, &local);
	if (!err)
		err = tcp_sock_listen(l->ts, SOMAXCONN);
	if (err) {
		kmsd_log(KMSD_LOG_ERROR, "cannot listen on %s: %s", addr,
			 strerror(err));
		return err;
	}
	if (tcp_sock_local_get(l->ts, &bound))
		bound = local;
	re_snprintf(where, sizeof(where), "%J", &bound);
	kmsd_log(KMSD_LOG_INFO, "listening %s %s", https ? "https" : "http",
		 where);
	return 0;
}

static void server_destructor(void *data)
{
	struct kmsd_server *srv = data;

	tmr_cancel(&srv->commit_tmr);
	if (kms_batch_open(srv->deps.kms) &&
	    kms_batch_end(srv->deps.kms, true) != CC_OK)
		kmsd_log(KMSD_LOG_ERROR, "final store commit failed");
	srv->http.ts = mem_deref(srv->http.ts);
	srv->https.ts = mem_deref(srv->https.ts);
	while (srv->conns.head)
		mem_deref(srv->conns.head->data);
	mem_deref(srv->tls);
	mem_deref(srv->scratch);
}

int kmsd_server_alloc(struct kmsd_server **srvp,
		      const struct kmsd_server_deps *deps)
{
	const struct kmsd_conf *cf = deps->conf;
	struct kmsd_server *srv;
	int err = 0;

	srv = mem_zalloc(sizeof(*srv), server_destructor);
	if (!srv)
		return ENOMEM;
	srv->deps = *deps;
	list_init(&srv->conns);
	list_init(&srv->held);
	tmr_init(&srv->commit_tmr);
	srv->scratch = mbuf_alloc(8192);
	if (!srv->scratch) {
		err = ENOMEM;
		goto out;
	}
	if (cf->https_listen[0]) {
		err = tls_alloc(&srv->tls, TLS_METHOD_SSLV23, cf->tls_cert,
				NULL);
		if (err) {
			kmsd_log(KMSD_LOG_ERROR,
				 "cannot load TLS certificate and key from "
				 "%s: %s",
				 cf->tls_cert, strerror(err));
			goto out;
		}
		err = listen_on(&srv->https, srv, cf->https_listen, true);
		if (err)
			goto out;
	}
	if (cf->listen[0])
		err = listen_on(&srv->http, srv, cf->listen, false);
out:
	if (err)
		mem_deref(srv);
	else
		*srvp = srv;
	return err;
}

void kmsd_server_free(struct kmsd_server *srv)
{
	mem_deref(srv);
}
