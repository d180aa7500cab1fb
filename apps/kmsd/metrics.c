/*
 * metrics.c -- counters for /metrics in the Prometheus text exposition
 * format (version 0.0.4). Fixed arrays, no allocation per request; the
 * process is single-threaded (libre main loop), so plain integers do.
 */
#include "kmsd.h"

#include <re.h>
#include <openssl/opensslv.h>
#include <errno.h>
#include <string.h>
#include <time.h>

/* Upper bounds of the kms_handle latency histogram, seconds. */
static const double lat_bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
				     0.005,  0.01,    0.025,  0.05,  0.1 };
enum {
	N_BOUNDS = sizeof(lat_bounds) / sizeof(lat_bounds[0])
};

static const unsigned statuses[] = { 200, 400, 404, 405, 408, 411, 413,
				     415, 417, 431, 500, 503, 505 };
enum {
	N_STATUS = sizeof(statuses) / sizeof(statuses[0])
};

enum {
	N_OPS = 3
}; /* other, request, resolve */

static struct {
	uint64_t mikey[N_OPS][CC_ERR__COUNT + 1]; /* last: unknown err */
	uint64_t lat_bucket[N_BOUNDS];            /* not cumulative */
	uint64_t lat_count;
	double lat_sum;
	uint64_t http[N_STATUS + 1]; /* last: other */
	uint64_t conns_open, conns_total, conns_rejected;
	uint64_t timeouts_idle, timeouts_request;
	uint64_t reloads;
	time_t start;
} m;

static const char *const err_short[CC_ERR__COUNT] = {
	[CC_OK] = "ok",
	[CC_ERR_TRUNCATED] = "truncated",
	[CC_ERR_TRAILING] = "trailing",
	[CC_ERR_MALFORMED] = "malformed",
	[CC_ERR_UNSUPPORTED] = "unsupported",
	[CC_ERR_ORDER] = "order",
	[CC_ERR_MISSING] = "missing",
	[CC_ERR_SPACE] = "space",
	[CC_ERR_INVAL] = "inval",
	[CC_ERR_BAD_MAC] = "bad_mac",
	[CC_ERR_REPLAY] = "replay",
	[CC_ERR_STALE] = "stale",
	[CC_ERR_FUTURE] = "future",
	[CC_ERR_EXPIRED] = "expired",
	[CC_ERR_NOT_YET_VALID] = "not_yet_valid",
	[CC_ERR_NOT_AUTHORISED] = "not_authorised",
	[CC_ERR_UNKNOWN_USER] = "unknown_user",
	[CC_ERR_TICKET_TYPE] = "ticket_type",
	[CC_ERR_POLICY] = "policy",
	[CC_ERR_CRYPTO] = "crypto",
	[CC_ERR_NOMEM] = "nomem",
	[CC_ERR_FULL] = "full",
	[CC_ERR_NOT_FOUND] = "not_found",
};

const char *kmsd_err_short(enum cc_err err)
{
	if ((unsigned)err >= CC_ERR__COUNT || !err_short[err])
		return "error";
	return err_short[err];
}

const char *kmsd_op_name(int op)
{
	switch (op) {
	case KMS_OP_REQUEST:
		return "request";
	case KMS_OP_RESOLVE:
		return "resolve";
	default:
		return "other";
	}
}

static unsigned op_index(int op)
{
	return op == KMS_OP_REQUEST ? 1 : op == KMS_OP_RESOLVE ? 2 : 0;
}

/* printf into mb with the C library's formatter (libre's re_printf has
 * its own conversions; this keeps -Wformat checking on every line). */
static int out(struct mbuf *mb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int out(struct mbuf *mb, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return EOVERFLOW;
	return mbuf_write_mem(mb, (const uint8_t *)buf, (size_t)n);
}

void kmsd_metrics_init(void)
{
	memset(&m, 0, sizeof(m));
	m.start = time(NULL);
}

void kmsd_metrics_mikey(int op, enum cc_err err, double seconds)
{
	unsigned e = (unsigned)err < CC_ERR__COUNT ? (unsigned)err :
						     CC_ERR__COUNT;
	unsigned i;

	m.mikey[op_index(op)][e]++;
	m.lat_count++;
	m.lat_sum += seconds;
	for (i = 0; i < N_BOUNDS; i++) {
		if (seconds <= lat_bounds[i]) {
			m.lat_bucket[i]++;
			break;
		}
	}
}

void kmsd_metrics_http(unsigned status)
{
	unsigned i;

	for (i = 0; i < N_STATUS; i++) {
		if (statuses[i] == status)
			break;
	}
	m.http[i]++;
}

void kmsd_metrics_conn_open(void)
{
	m.conns_open++;
	m.conns_total++;
}

void kmsd_metrics_conn_close(void)
{
	if (m.conns_open)
		m.conns_open--;
}

void kmsd_metrics_conn_rejected(void)
{
	m.conns_rejected++;
}

void kmsd_metrics_timeout(bool request_started)
{
	if (request_started)
		m.timeouts_request++;
	else
		m.timeouts_idle++;
}

void kmsd_metrics_reload(void)
{
	m.reloads++;
}

static int render_mikey(struct mbuf *mb)
{
	unsigned op, e;
	int err;

	err = out(mb, "# HELP kmsd_mikey_requests_total MIKEY messages "
		      "handled, by operation and outcome.\n"
		      "# TYPE kmsd_mikey_requests_total counter\n");
	for (op = 0; op < N_OPS && !err; op++) {
		for (e = 0; e <= CC_ERR__COUNT && !err; e++) {
			/* ok always present; other outcomes once seen */
			if (e != CC_OK && !m.mikey[op][e])
				continue;
			err = out(mb,
				  "kmsd_mikey_requests_total{op=\"%s\","
				  "outcome=\"%s\"} %llu\n",
				  kmsd_op_name(op == 1 ? KMS_OP_REQUEST :
					       op == 2 ? KMS_OP_RESOLVE :
							 0),
				  e < CC_ERR__COUNT ? kmsd_err_short(e) :
						      "error",
				  (unsigned long long)m.mikey[op][e]);
		}
	}
	return err;
}

static int render_latency(struct mbuf *mb)
{
	uint64_t cum = 0;
	unsigned i;
	int err;

	err = out(mb, "# HELP kmsd_kms_handle_seconds Time spent in "
		      "kms_handle per message.\n"
		      "# TYPE kmsd_kms_handle_seconds histogram\n");
	for (i = 0; i < N_BOUNDS && !err; i++) {
		char le[32];

		cum += m.lat_bucket[i];
		snprintf(le, sizeof(le), "%g", lat_bounds[i]);
		err = out(mb,
			  "kmsd_kms_handle_seconds_bucket{le=\"%s\"} "
			  "%llu\n",
			  le, (unsigned long long)cum);
	}
	if (!err) {
		char sum[64];

		snprintf(sum, sizeof(sum), "%.9f", m.lat_sum);
		err = out(mb,
			  "kmsd_kms_handle_seconds_bucket{le=\"+Inf\"} %llu\n"
			  "kmsd_kms_handle_seconds_sum %s\n"
			  "kmsd_kms_handle_seconds_count %llu\n",
			  (unsigned long long)m.lat_count, sum,
			  (unsigned long long)m.lat_count);
	}
	return err;
}

static int render_http(struct mbuf *mb)
{
	unsigned i;
	int err;

	err = out(mb, "# HELP kmsd_http_responses_total HTTP "
		      "responses sent, by status code.\n"
		      "# TYPE kmsd_http_responses_total counter\n");
	for (i = 0; i < N_STATUS && !err; i++) {
		if (statuses[i] != 200 && !m.http[i])
			continue;
		err = out(mb,
			  "kmsd_http_responses_total{code=\"%u\"} "
			  "%llu\n",
			  statuses[i], (unsigned long long)m.http[i]);
	}
	if (!err && m.http[N_STATUS])
		err = out(mb,
			  "kmsd_http_responses_total{code=\"other\"} "
			  "%llu\n",
			  (unsigned long long)m.http[N_STATUS]);
	return err;
}

static int render_conns(struct mbuf *mb)
{
	return out(mb,
		   "# HELP kmsd_open_connections Client connections open now.\n"
		   "# TYPE kmsd_open_connections gauge\n"
		   "kmsd_open_connections %llu\n"
		   "# HELP kmsd_connections_total Client connections "
		   "accepted.\n"
		   "# TYPE kmsd_connections_total counter\n"
		   "kmsd_connections_total %llu\n"
		   "# HELP kmsd_connections_rejected_total Connections refused "
		   "(503) because max_conns were open.\n"
		   "# TYPE kmsd_connections_rejected_total counter\n"
		   "kmsd_connections_rejected_total %llu\n"
		   "# HELP kmsd_timeouts_total Connections closed by a timer.\n"
		   "# TYPE kmsd_timeouts_total counter\n"
		   "kmsd_timeouts_total{kind=\"idle\"} %llu\n"
		   "kmsd_timeouts_total{kind=\"request\"} %llu\n",
		   (unsigned long long)m.conns_open,
		   (unsigned long long)m.conns_total,
		   (unsigned long long)m.conns_rejected,
		   (unsigned long long)m.timeouts_idle,
		   (unsigned long long)m.timeouts_request);
}

int kmsd_metrics_render(struct mbuf *mb, size_t replay_size)
{
	int err;

	err = render_mikey(mb);
	err |= render_latency(mb);
	err |= render_http(mb);
	err |= render_conns(mb);
	err |= out(mb,
		   "# HELP kms_replay_size Entries in the KMS replay cache.\n"
		   "# TYPE kms_replay_size gauge\n"
		   "kms_replay_size %llu\n"
		   "# HELP kmsd_reloads_total SIGHUP reloads.\n"
		   "# TYPE kmsd_reloads_total counter\n"
		   "kmsd_reloads_total %llu\n"
		   "# HELP kmsd_start_time_seconds Start time, Unix seconds.\n"
		   "# TYPE kmsd_start_time_seconds gauge\n"
		   "kmsd_start_time_seconds %lld\n"
		   "# HELP kmsd_build_info Build information.\n"
		   "# TYPE kmsd_build_info gauge\n"
		   "kmsd_build_info{version=\"%s\",openssl=\"%s\"} 1\n",
		   (unsigned long long)replay_size,
		   (unsigned long long)m.reloads, (long long)m.start,
		   KMSD_VERSION, OPENSSL_VERSION_STR);
	return err;
}
