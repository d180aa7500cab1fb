/*
 * http.c -- the KMS client's transport: POST <kms-url> with the binary
 * MIKEY message, Content-Type: application/mikey (DESIGN.md D11,
 * spec/3gpp-kms-conferencing.md §4.1), on libre's HTTP(S) client. The
 * only code of the KMS client that does I/O. Objects follow libre's
 * ownership rules (mem_zalloc / mem_deref).
 */
#include <conclave/kmsc.h>

#include <re.h>

#include <string.h>
#include <strings.h>
#include <unistd.h>

enum {
	DEFAULT_TIMEOUT_MS = 10000
};

/* Debian's bundle, trusted when no CA file is given */
#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

struct kmsc_httpc {
	struct http_cli *cli;
	struct dnsc *dnsc;
	struct list posts;
	uint32_t timeout_ms;
	size_t max_body;
};

/* One POST in flight. */
struct post {
	struct le le;
	struct kmsc_httpc *c;
	struct http_req *req;
	struct tmr tmr;
	kmsc_http_h *h;
	void *arg;
	bool https;
	bool tls_ok;    /* the server's certificate verified */
	char host[256]; /* of the URL, for the name check */
};

static void post_destructor(void *arg)
{
	struct post *p = arg;

	tmr_cancel(&p->tmr);
	list_unlink(&p->le);
	/* cancels the request if it is still running (libre owns it) */
	mem_deref(p->req);
}

static void status_init(struct kmsc_status *st, enum kmsc_fail kind,
			enum cc_err err)
{
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->err = err;
	st->mikey_err = -1;
}

/* Call the handler once, then drop the post. */
static void post_done(struct post *p, const struct kmsc_status *st,
		      const uint8_t *body, size_t len)
{
	kmsc_http_h *h = p->h;
	void *arg = p->arg;

	p->h = NULL;
	p->req = NULL; /* libre frees it after this handler */
	mem_deref(p);
	if (h)
		h(st, body, len, arg);
}

static bool is_mikey(const struct http_msg *msg)
{
	return !pl_strcasecmp(&msg->ctyp.type, "application") &&
	       !pl_strcasecmp(&msg->ctyp.subtype, "mikey");
}

/*
 * libre 1.1.0's HTTP client does not make a failed certificate check
 * fatal: the handshake completes whatever the chain or the name. So we
 * look at the verification result ourselves, before the answer is used
 * (called by libre just before resp_handler).
 */
static void conn_handler(struct tcp_conn *tc, struct tls_conn *sc, void *arg)
{
	struct post *p = arg;
	char cn[256];

	(void)tc;
	/* chain against the CA file; then the name. libre 1.1.0 offers only
	 * the subject CN (no subjectAltName): it must equal the URL host. */
	p->tls_ok = sc && tls_peer_verify(sc) == 0 &&
		    tls_peer_common_name(sc, cn, sizeof(cn)) == 0 &&
		    !strcasecmp(cn, p->host);
}

/* The host of http(s)://host[:port]/..., IPv6 brackets removed. */
static bool url_host(const char *url, char *out, size_t cap)
{
	const char *h = strstr(url, "://"), *e;
	size_t n;

	if (!h)
		return false;
	h += 3;
	if (*h == '[') {
		e = strchr(++h, ']');
	} else {
		e = h + strcspn(h, ":/?#");
	}
	if (!e || e == h || (size_t)(e - h) >= cap)
		return false;
	n = (size_t)(e - h);
	memcpy(out, h, n);
	out[n] = 0;
	return true;
}

static void resp_handler(int err, const struct http_msg *msg, void *arg)
{
	struct post *p = arg;
	struct kmsc_status st;
	const uint8_t *body = NULL;
	size_t len = 0;

	if (!err && p->https && !p->tls_ok) {
		status_init(&st, KMSC_FAIL_TRANSPORT, CC_ERR_NOT_AUTHORISED);
		st.sys_err = EACCES;
	} else if (err || !msg) {
		status_init(&st, KMSC_FAIL_TRANSPORT, CC_ERR_NOT_FOUND);
		st.sys_err = err ? err : ECONNRESET;
	} else if (msg->scode != 200) {
		status_init(&st, KMSC_FAIL_HTTP, CC_ERR_UNSUPPORTED);
		st.http_status = msg->scode;
	} else if (!is_mikey(msg) || !msg->mb) {
		/* §4.1: answers are application/mikey, errors included */
		status_init(&st, KMSC_FAIL_HTTP, CC_ERR_MALFORMED);
		st.http_status = msg->scode;
	} else if (mbuf_get_left(msg->mb) > p->c->max_body) {
		status_init(&st, KMSC_FAIL_HTTP, CC_ERR_SPACE);
		st.http_status = msg->scode;
	} else {
		status_init(&st, KMSC_FAIL_NONE, CC_OK);
		st.http_status = msg->scode;
		body = mbuf_buf(msg->mb);
		len = mbuf_get_left(msg->mb);
	}
	post_done(p, &st, body, len);
}

static void timeout_handler(void *arg)
{
	struct post *p = arg;
	struct kmsc_status st;

	status_init(&st, KMSC_FAIL_TRANSPORT, CC_ERR_NOT_FOUND);
	st.sys_err = ETIMEDOUT;
	mem_deref(p->req); /* cancel: resp_handler will not run */
	p->req = NULL;
	post_done(p, &st, NULL, 0);
}

static int dns_client(struct dnsc **dnscp)
{
	struct sa nsv[8];
	uint32_t nsn = ARRAY_SIZE(nsv);
	char domain[64];
	int err;

	err = dns_srv_get(domain, sizeof(domain), nsv, &nsn);
	if (err || !nsn) {
		/* no resolver configured: IP literals still work */
		sa_set_str(&nsv[0], "127.0.0.1", 53);
		nsn = 1;
	}
	return dnsc_alloc(dnscp, NULL, nsv, nsn);
}

static void httpc_destructor(void *arg)
{
	struct kmsc_httpc *c = arg;

	list_flush(&c->posts);
	mem_deref(c->cli);
	mem_deref(c->dnsc);
}

enum cc_err kmsc_httpc_alloc(struct kmsc_httpc **cp,
			     const struct kmsc_http_opts *o)
{
	struct kmsc_httpc *c;
	int err;

	if (!cp)
		return CC_ERR_INVAL;
	c = mem_zalloc(sizeof(*c), httpc_destructor);
	if (!c)
		return CC_ERR_NOMEM;
	c->timeout_ms = o && o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->max_body = o && o->max_body ? o->max_body : KMSC_MAX_MSG;
	err = dns_client(&c->dnsc);
	if (!err)
		err = http_client_alloc(&c->cli, c->dnsc);
	if (!err && o && o->ca_file)
		err = http_client_add_ca(c->cli, o->ca_file);
	else if (!err && !access(SYSTEM_CA, R_OK))
		err = http_client_add_ca(c->cli, SYSTEM_CA);
	if (err) {
		mem_deref(c);
		return err == ENOMEM ? CC_ERR_NOMEM : CC_ERR_INVAL;
	}
	*cp = c;
	return CC_OK;
}

void kmsc_httpc_free(struct kmsc_httpc *c)
{
	mem_deref(c);
}

enum cc_err kmsc_http_post(struct kmsc_httpc *c, const char *url,
			   const uint8_t *body, size_t len, kmsc_http_h *h,
			   void *arg)
{
	struct post *p;
	int err;

	if (!c || !url || !body || !len || !h)
		return CC_ERR_INVAL;
	p = mem_zalloc(sizeof(*p), post_destructor);
	if (!p)
		return CC_ERR_NOMEM;
	if (!url_host(url, p->host, sizeof(p->host))) {
		mem_deref(p);
		return CC_ERR_INVAL;
	}
	p->c = c;
	p->h = h;
	p->arg = arg;
	tmr_init(&p->tmr);
	list_append(&c->posts, &p->le, p);
	err = http_request(&p->req, c->cli, "POST", url, resp_handler, NULL, p,
			   "Content-Type: application/mikey\r\n"
			   "Content-Length: %zu\r\n"
			   "\r\n"
			   "%b",
			   len, body, len);
	if (err) {
		mem_deref(p);
		return err == ENOMEM ? CC_ERR_NOMEM : CC_ERR_INVAL;
	}
	p->https = !strncasecmp(url, "https:", 6);
	if (p->https)
		http_req_set_conn_handler(p->req, conn_handler);
	tmr_start(&p->tmr, c->timeout_ms, timeout_handler, p);
	return CC_OK;
}

/* ---- blocking helper --------------------------------------------------- */

enum cc_err kmsc_net_init(void)
{
	static bool done;

	if (done)
		return CC_OK;
	if (libre_init())
		return CC_ERR_INVAL;
	done = true;
	return CC_OK;
}

struct call {
	uint8_t *out;
	size_t cap;
	size_t len;
	struct kmsc_status st;
	bool done;
};

static void call_handler(const struct kmsc_status *st, const uint8_t *body,
			 size_t len, void *arg)
{
	struct call *k = arg;

	k->st = *st;
	if (st->kind == KMSC_FAIL_NONE) {
		if (len > k->cap) {
			status_init(&k->st, KMSC_FAIL_HTTP, CC_ERR_SPACE);
			k->st.http_status = st->http_status;
		} else {
			memcpy(k->out, body, len);
			k->len = len;
		}
	}
	k->done = true;
	re_cancel();
}

enum cc_err kmsc_http_call_opts(const char *url, const uint8_t *body,
				size_t len, uint8_t *out, size_t cap,
				size_t *outlen, const struct kmsc_http_opts *o,
				struct kmsc_status *st)
{
	struct kmsc_httpc *c = NULL;
	struct call k;
	enum cc_err err;

	memset(&k, 0, sizeof(k));
	k.out = out;
	k.cap = cap;
	if (!out || !outlen)
		return CC_ERR_INVAL;
	err = kmsc_net_init();
	if (!err)
		err = kmsc_httpc_alloc(&c, o);
	if (!err)
		err = kmsc_http_post(c, url, body, len, call_handler, &k);
	if (!err && !k.done)
		re_main(NULL);
	kmsc_httpc_free(c);
	if (err) {
		status_init(&k.st, KMSC_FAIL_LOCAL, err);
	} else if (!k.done) {
		status_init(&k.st, KMSC_FAIL_TRANSPORT, CC_ERR_NOT_FOUND);
		k.st.sys_err = EINTR;
	}
	if (st)
		*st = k.st;
	*outlen = k.len;
	return k.st.kind == KMSC_FAIL_NONE ? CC_OK : k.st.err;
}

enum cc_err kmsc_http_call(const char *url, const uint8_t *body, size_t len,
			   uint8_t *out, size_t cap, size_t *outlen,
			   uint32_t timeout_ms)
{
	struct kmsc_http_opts o = { .timeout_ms = timeout_ms };

	return kmsc_http_call_opts(url, body, len, out, cap, outlen, &o, NULL);
}
