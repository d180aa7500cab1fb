/*
 * kms.c -- confd's KMS replicas (issue 7 §1/§4): `kms_url` may list
 * several replica URLs, comma-separated, all on one store (DESIGN.md §4).
 * Each request starts on the next replica (round-robin, so the load
 * spreads); a transport failure (connection refused, timeout, TLS) or an
 * HTTP 5xx is retried once on the next replica. A MIKEY Error answer is
 * the KMS's verdict and is final. The request body is a MIKEY message as
 * sent on the wire (no key in clear); it is wiped when done anyway.
 */
#include "confd.h"
#include "sipint.h"

#include <re.h>

#include <string.h>

enum {
	KMS_MAX_REPLICAS = 8,
	KMS_TRIES = 2, /* the first replica, then once the next */
};

static char urls[KMS_MAX_REPLICAS][KMSC_MAX_URL];
static size_t nurls;
static size_t rr; /* next request's first replica */
static struct list pending;

struct kms_req {
	struct le le;
	kmsc_http_h *h;
	void *arg;
	size_t first; /* index of the replica tried first */
	size_t tries;
	size_t len;
	uint8_t body[];
};

static void req_destructor(void *arg)
{
	struct kms_req *q = arg;

	list_unlink(&q->le);
	cc_wipe(q->body, q->len);
}

static const char *url_of(const struct kms_req *q)
{
	return urls[(q->first + q->tries - 1) % nurls];
}

/* A failure another replica may not have: nothing was decided. */
static bool retryable(const struct kmsc_status *st)
{
	return st->kind == KMSC_FAIL_TRANSPORT ||
	       (st->kind == KMSC_FAIL_HTTP && st->http_status >= 500);
}

static enum cc_err req_send(struct kms_req *q);

static void req_h(const struct kmsc_status *st, const uint8_t *body, size_t len,
		  void *arg)
{
	struct kms_req *q = arg;
	kmsc_http_h *h = q->h;
	void *harg = q->arg;
	char buf[160];

	if (retryable(st) && q->tries < KMS_TRIES && nurls > 1) {
		const char *failed = url_of(q);

		q->tries++;
		confd_log(CONFD_LOG_WARN,
			  "KMS replica %s failed (%s): retrying on %s", failed,
			  kmsc_status_str(st, buf, sizeof(buf)), url_of(q));
		if (req_send(q) == CC_OK)
			return;
		confd_log(CONFD_LOG_WARN, "KMS replica %s: post failed",
			  url_of(q));
	} else if (q->tries > 1) {
		if (st->kind == KMSC_FAIL_NONE || !retryable(st))
			confd_log(CONFD_LOG_INFO,
				  "KMS replica %s answered (failover)",
				  url_of(q));
		else
			confd_log(CONFD_LOG_WARN,
				  "KMS replica %s failed too (%s)", url_of(q),
				  kmsc_status_str(st, buf, sizeof(buf)));
	} else if (retryable(st)) {
		confd_log(CONFD_LOG_WARN, "KMS replica %s failed (%s)",
			  url_of(q), kmsc_status_str(st, buf, sizeof(buf)));
	}
	mem_deref(q);
	h(st, body, len, harg);
}

static enum cc_err req_send(struct kms_req *q)
{
	return kmsc_http_post(confd_g.httpc, url_of(q), q->body, q->len, req_h,
			      q);
}

int confd_kms_urls(const char *list, char *first, size_t cap)
{
	const char *p = list;

	nurls = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *s = p, *e = p + n;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > s) {
			if (nurls == KMS_MAX_REPLICAS ||
			    (size_t)(e - s) >= KMSC_MAX_URL)
				return EINVAL;
			memcpy(urls[nurls], s, (size_t)(e - s));
			urls[nurls][e - s] = '\0';
			nurls++;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (!nurls || strlen(urls[0]) >= cap)
		return EINVAL;
	(void)re_snprintf(first, cap, "%s", urls[0]);
	if (nurls > 1)
		confd_log(CONFD_LOG_INFO,
			  "KMS: %zu replicas (round-robin, one retry on the "
			  "next)",
			  nurls);
	return 0;
}

enum cc_err confd_kms_post(const uint8_t *body, size_t len, kmsc_http_h *h,
			   void *arg)
{
	struct kms_req *q;
	enum cc_err err;

	if (!nurls || !body || !len || !h)
		return CC_ERR_INVAL;
	q = mem_zalloc(sizeof(*q) + len, req_destructor);
	if (!q)
		return CC_ERR_NOMEM;
	q->h = h;
	q->arg = arg;
	q->len = len;
	memcpy(q->body, body, len);
	q->first = rr++ % nurls;
	q->tries = 1;
	list_append(&pending, &q->le, q);
	err = req_send(q);
	if (err)
		mem_deref(q);
	return err;
}

void confd_kms_close(void)
{
	/* after the HTTP client is freed: its posts never call back */
	list_flush(&pending);
}
