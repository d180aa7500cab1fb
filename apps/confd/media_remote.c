/*
 * media_remote.c -- the split media plane (DESIGN.md D10, issue 7 §3):
 * the confd_media_* of confd.h dispatch to the in-process switch
 * (media.c, compiled as confd_mlocal_*: the default, unchanged) or, with
 * `media remote HOST:PORT[,HOST:PORT...]`, to conclave-mediad nodes over
 * a control channel in mutual TLS (apps/mediad/proto.h). Each conference
 * goes to the next node (round-robin); one TLS connection per node,
 * opened on demand and reopened after a failure.
 *
 * A remote call is a short blocking request: write one frame, read its
 * answer (3 s timeout), so confd_media_alloc can return the RTP port the
 * 200 OK needs. mediad's unsolicited ROC reports are read when the
 * connection is readable (libre fd_listen) and while waiting for an
 * answer. Epoch keys are written inside TLS only, from a buffer wiped
 * right after; nothing here logs them. The conference core's SSRC
 * bindings (conf_ssrc_foreach) are pushed to mediad whenever they change
 * (checked on every call and every 250 ms), as mediad checks every packet
 * against them like media.c does against the core.
 *
 * mediad runs the mixer too (media=mix: MIX with the policy's profile,
 * speakers and the focus SSRCs, CODEC per member) and re-protects SDES
 * members' upstream under the group key (SDES: the member's own keys,
 * inside TLS, wiped after the write like the epochs).
 *
 * A lost control connection (mediad killed, a write or an answer that
 * fails) ends every conference that was on that node: mediad drops a
 * conference with the connection that created it, so confd ends it too,
 * a BYE to each member (confd_media_lost), rather than keep a conference
 * whose media has gone. New conferences go to the nodes that answer.
 */
#include "media_local.h"

#include "../mediad/proto.h"

#include <conclave/media_upstream.h>

#include <re.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum {
	NODES_MAX = 16,
	IO_TIMEOUT_S = 3,
	SSRC_SYNC_MS = 250,
	PEND_MAX = 4096
};

/* A request written without waiting for its answer: the answers come in
 * order, so the oldest pending one is the next answer's request. */
struct pend {
	uint32_t conf;
	uint8_t op;
};

struct node {
	char host[256];
	char port[8];
	int fd;
	SSL *ssl;
	unsigned gen; /* bumped on each (re)connection */
	struct list confs;
	struct pend pend[PEND_MAX]; /* a ring: ph the oldest, pn in it */
	size_t ph, pn;
};

struct rmedia {
	struct le le;
	struct node *n;
	unsigned gen;
	uint32_t id;
	uint16_t port;
	char addr[64];
	struct conf *core;
	confd_roc_h *roch;
	void *arg;
	const char *name;
	uint64_t ssrc_ver; /* conf_ssrc_version when last synced */
	bool synced;
	struct hash *shadow; /* the SSRC bindings mediad holds */
	uint32_t sgen;
	uint64_t fwd, drops; /* last known */
	struct tmr tmr;
	struct tmr lost;
};

static struct {
	bool remote;
	bool closing; /* confd stops: closing a node ends nothing */
	struct node nodes[NODES_MAX];
	size_t n, next;
	char cert[512], ca[512];
	SSL_CTX *ctx;
	uint8_t buf[MPROTO_MAX + 4];  /* frames read */
	uint8_t wbuf[MPROTO_MAX + 4]; /* the frame written */
} R = { .remote = false };

/* ---- config ---------------------------------------------------------------- */

static bool set_nodes(const char *v)
{
	char list[1024], *tok, *save = NULL;

	if (!strcmp(v, "inprocess") || !strcmp(v, "in-process")) {
		R.remote = false;
		R.n = 0;
		return true;
	}
	if (strncmp(v, "remote ", 7) ||
	    (size_t)snprintf(list, sizeof(list), "%s", v + 7) >= sizeof(list))
		return false;
	R.n = 0;
	for (tok = strtok_r(list, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		struct node *n = &R.nodes[R.n];
		char *c = strrchr(tok, ':');

		if (R.n == NODES_MAX || !c || c == tok || !c[1] ||
		    strlen(c + 1) >= sizeof(n->port) ||
		    (size_t)(c - tok) >= sizeof(n->host))
			return false;
		memset(n, 0, sizeof(*n));
		memcpy(n->host, tok, (size_t)(c - tok));
		if (n->host[0] == '[' && c[-1] == ']') { /* [v6]:port */
			memmove(n->host, n->host + 1, strlen(n->host));
			n->host[strlen(n->host) - 1] = '\0';
		}
		snprintf(n->port, sizeof(n->port), "%s", c + 1);
		n->fd = -1;
		R.n++;
	}
	R.remote = R.n > 0;
	return R.remote;
}

bool confd_media_conf(const char *k, const char *v)
{
	if (!strcmp(k, "media"))
		return set_nodes(v);
	if (!strcmp(k, "media_cert"))
		return (size_t)snprintf(R.cert, sizeof(R.cert), "%s", v) <
		       sizeof(R.cert);
	if (!strcmp(k, "media_ca"))
		return (size_t)snprintf(R.ca, sizeof(R.ca), "%s", v) <
		       sizeof(R.ca);
	return false;
}

static void log_ssl(const char *what)
{
	unsigned long e = ERR_get_error();
	char s[256] = "";

	if (e)
		ERR_error_string_n(e, s, sizeof(s));
	confd_log(CONFD_LOG_ERROR, "media plane: %s: %s", what,
		  e ? s : "failed");
	ERR_clear_error();
}

int confd_media_setup(void)
{
	if (!R.remote)
		return 0;
	if (!R.cert[0] || !R.ca[0]) {
		confd_log(CONFD_LOG_ERROR, "media remote needs media_cert and "
					   "media_ca (mutual TLS)");
		return EINVAL;
	}
	R.ctx = SSL_CTX_new(TLS_client_method());
	if (!R.ctx)
		return ENOMEM;
	(void)SSL_CTX_set_min_proto_version(R.ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(R.ctx, R.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(R.ctx, R.cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(R.ctx) != 1) {
		log_ssl("media_cert");
		return EINVAL;
	}
	if (SSL_CTX_load_verify_locations(R.ctx, R.ca, NULL) != 1) {
		log_ssl("media_ca");
		return EINVAL;
	}
	SSL_CTX_set_verify(R.ctx, SSL_VERIFY_PEER, NULL);
	confd_log(CONFD_LOG_INFO,
		  "media plane: remote, %zu node(s), mutual TLS", R.n);
	return 0;
}

/* ---- the control connection -------------------------------------------------- */

static void lost_h(void *arg)
{
	struct rmedia *rm = arg;

	confd_media_lost(rm->arg);
}

/* The node's conferences died with the connection (mediad ends them when
 * it closes, or it is gone): each ends here too, its members get a BYE,
 * from a zero timer (a request in the middle of a core action may have
 * found the loss). */
static void node_lost(struct node *n)
{
	struct le *le;

	for (le = n->confs.head; le; le = le->next) {
		struct rmedia *rm = le->data;

		if (rm->gen == n->gen)
			tmr_start(&rm->lost, 0, lost_h, rm);
	}
}

static void node_close(struct node *n, const char *why)
{
	if (n->fd < 0)
		return;
	confd_log(CONFD_LOG_WARN, "media node %s:%s: connection closed: %s",
		  n->host, n->port, why);
	if (!R.closing)
		node_lost(n);
	fd_close(n->fd);
	if (n->ssl)
		SSL_free(n->ssl);
	n->ssl = NULL;
	close(n->fd);
	n->fd = -1;
	n->ph = n->pn = 0;
}

static int read_full(struct node *n, uint8_t *p, size_t len)
{
	while (len) {
		int r = SSL_read(n->ssl, p,
				 len > INT32_MAX ? INT32_MAX : (int)len);

		if (r <= 0)
			return EPIPE;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static void on_roc(struct node *n, uint32_t conf, const uint8_t *p, size_t len)
{
	struct le *le;

	if (len < 8)
		return;
	for (le = n->confs.head; le; le = le->next) {
		struct rmedia *rm = le->data;

		if (rm->id == conf && rm->gen == n->gen && rm->roch)
			rm->roch(mproto_get32(p), mproto_get32(p + 4), rm->arg);
	}
}

/* One frame into R.buf (from offset 4: op ...); its length or 0. */
static size_t read_frame(struct node *n)
{
	uint32_t len;

	if (read_full(n, R.buf, 4))
		return 0;
	len = mproto_get32(R.buf);
	if (len < MPROTO_HDR - 4 || len > MPROTO_MAX)
		return 0;
	if (read_full(n, R.buf + 4, len))
		return 0;
	return len;
}

static void drain_events(struct node *n);

static void readable_h(int flags, void *arg)
{
	struct node *n = arg;
	uint8_t b;
	int fl, r;

	(void)flags;
	if (n->fd < 0)
		return;
	/* a peek without blocking: a TLS record may carry no data */
	fl = fcntl(n->fd, F_GETFL);
	(void)fcntl(n->fd, F_SETFL, fl | O_NONBLOCK);
	r = SSL_peek(n->ssl, &b, 1);
	(void)fcntl(n->fd, F_SETFL, fl);
	if (r <= 0) {
		int e = SSL_get_error(n->ssl, r);

		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return;
		node_close(n, "closed by mediad");
		return;
	}
	drain_events(n);
}

static const char *conf_name_of(const struct node *n, uint32_t conf);

/* An error answer: its text (never key material) in the log. */
static void log_status(struct node *n, uint8_t op, uint32_t conf, size_t flen)
{
	char msg[128];
	size_t ml = flen + 4 - MPROTO_HDR, i;

	ml = ml < sizeof(msg) - 1 ? ml : sizeof(msg) - 1;
	memcpy(msg, R.buf + MPROTO_HDR, ml);
	msg[ml] = '\0';
	for (i = 0; i < ml; i++)
		if (msg[i] < 0x20 || msg[i] > 0x7e)
			msg[i] = '?';
	confd_log(CONFD_LOG_WARN,
		  "media node %s:%s: conference %s: op %u: %s (%s)", n->host,
		  n->port, conf_name_of(n, conf), op, msg, strerror(R.buf[5]));
}

/* The frame in R.buf: a ROC event, or the answer to the oldest request
 * written without waiting. false: neither (a synchronous caller's
 * answer, left in R.buf), or the connection closed. */
static bool dispatch(struct node *n, size_t flen)
{
	struct pend p;

	if (R.buf[4] == MPROTO_EV_ROC) {
		on_roc(n, mproto_get32(R.buf + 8), R.buf + MPROTO_HDR,
		       flen + 4 - MPROTO_HDR);
		return n->fd >= 0;
	}
	if (!n->pn)
		return false;
	p = n->pend[n->ph];
	n->ph = (n->ph + 1) % PEND_MAX;
	n->pn--;
	if (R.buf[4] != p.op) {
		node_close(n, "answer out of order");
		return false;
	}
	if (R.buf[5])
		log_status(n, p.op, p.conf, flen);
	return true;
}

static void drain_events(struct node *n)
{
	while (n->fd >= 0 && SSL_pending(n->ssl) > 0) {
		size_t len = read_frame(n);

		if (!len) {
			node_close(n, "read");
			return;
		}
		if (!dispatch(n, len) && n->fd >= 0) {
			node_close(n, "unexpected frame");
			return;
		}
	}
}

static int node_connect(struct node *n)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	unsigned char a6[16];
	int one = 1;
	int err;

	if (getaddrinfo(n->host, n->port, &hints, &ai) || !ai) {
		confd_log(CONFD_LOG_ERROR, "media node %s:%s: no address",
			  n->host, n->port);
		return EHOSTUNREACH;
	}
	n->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		freeaddrinfo(ai);
		return errno;
	}
	(void)setsockopt(n->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* requests are small and answered one by one; a frame of several
	 * TLS records must not wait on Nagle + delayed ACK (40 ms) */
	(void)setsockopt(n->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(n->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	err = connect(n->fd, ai->ai_addr, ai->ai_addrlen) ? errno : 0;
	freeaddrinfo(ai);
	if (err) {
		confd_log(CONFD_LOG_ERROR, "media node %s:%s: connect: %s",
			  n->host, n->port, strerror(err));
		close(n->fd);
		n->fd = -1;
		return err;
	}
	n->ssl = SSL_new(R.ctx);
	if (!n->ssl || SSL_set_fd(n->ssl, n->fd) != 1)
		goto tls_fail;
	/* the node's certificate must name what we dialled */
	if (inet_pton(AF_INET, n->host, a6) == 1 ||
	    inet_pton(AF_INET6, n->host, a6) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(n->ssl),
						  n->host) != 1)
			goto tls_fail;
	} else if (SSL_set1_host(n->ssl, n->host) != 1 ||
		   SSL_set_tlsext_host_name(n->ssl, n->host) != 1)
		goto tls_fail;
	if (SSL_connect(n->ssl) != 1) {
		long v = SSL_get_verify_result(n->ssl);

		confd_log(CONFD_LOG_ERROR,
			  "media node %s:%s: TLS handshake refused: %s",
			  n->host, n->port,
			  v != X509_V_OK ? X509_verify_cert_error_string(v) :
					   "no valid peer (see mediad's log)");
		ERR_clear_error();
		node_close(n, "TLS handshake failed");
		return EACCES;
	}
	n->gen++;
	confd_log(CONFD_LOG_INFO,
		  "media node %s:%s: connected, %s, peer certificate verified",
		  n->host, n->port, SSL_get_version(n->ssl));
	(void)fd_listen(n->fd, FD_READ, readable_h, n);
	return 0;
tls_fail:
	log_ssl("TLS setup");
	node_close(n, "TLS setup");
	return EPROTO;
}

static int write_frame(struct node *n, uint8_t op, uint32_t conf,
		       const uint8_t *pl, size_t len)
{
	int w;

	if (n->fd < 0)
		return ENOTCONN;
	if (len > MPROTO_MAX - MPROTO_HDR)
		return EMSGSIZE;
	mproto_put32(R.wbuf, (uint32_t)(len + MPROTO_HDR - 4));
	R.wbuf[4] = op;
	R.wbuf[5] = R.wbuf[6] = R.wbuf[7] = 0;
	mproto_put32(R.wbuf + 8, conf);
	if (len)
		memcpy(R.wbuf + MPROTO_HDR, pl, len);
	w = SSL_write(n->ssl, R.wbuf, (int)(len + MPROTO_HDR));
	OPENSSL_cleanse(R.wbuf, len + MPROTO_HDR); /* epoch, SDES keys */
	if (w != (int)(len + MPROTO_HDR)) {
		node_close(n, "write");
		return EPIPE;
	}
	return 0;
}

/* A request whose answer is not waited for (pipelined): an error answer
 * is logged when it arrives (dispatch). */
static int post(struct node *n, uint8_t op, uint32_t conf, const uint8_t *pl,
		size_t len)
{
	size_t flen;
	int err;

	while (n->fd >= 0 && n->pn == PEND_MAX) { /* mediad lags: wait */
		flen = read_frame(n);
		if (!flen || !dispatch(n, flen)) {
			node_close(n, "no answer");
			return EPIPE;
		}
	}
	err = write_frame(n, op, conf, pl, len);
	if (err)
		return err;
	n->pend[(n->ph + n->pn) % PEND_MAX] = (struct pend){ conf, op };
	n->pn++;
	return 0;
}

/* One request and its answer (the pending ones' answers come first): the
 * answer's payload in *ans (in R.buf), or an errno. */
static int request(struct node *n, uint8_t op, uint32_t conf, const uint8_t *pl,
		   size_t len, const uint8_t **ans, size_t *alen)
{
	size_t flen;
	int err;

	err = write_frame(n, op, conf, pl, len);
	if (err)
		return err;
	for (;;) {
		flen = read_frame(n);
		if (!flen) {
			node_close(n, "no answer");
			return EPIPE;
		}
		if (!dispatch(n, flen))
			break;
	}
	if (n->fd < 0)
		return EPIPE;
	if (R.buf[4] != op) {
		node_close(n, "answer out of order");
		return EPROTO;
	}
	if (R.buf[5]) {
		log_status(n, op, conf, flen);
		return R.buf[5];
	}
	if (ans) {
		*ans = R.buf + MPROTO_HDR;
		*alen = flen + 4 - MPROTO_HDR;
	}
	return 0;
}

/* A request for rm's conference: with ans, synchronous; else posted. */
static int rreq(struct rmedia *rm, uint8_t op, const uint8_t *pl, size_t len,
		const uint8_t **ans, size_t *alen)
{
	int err;

	if (rm->gen != rm->n->gen || rm->n->fd < 0)
		return ENOTCONN; /* the node restarted: its state is gone */
	if (!ans)
		return post(rm->n, op, rm->id, pl, len);
	err = request(rm->n, op, rm->id, pl, len, ans, alen);
	if (!err)
		drain_events(rm->n);
	return err;
}

/* A synchronous request whose answer carries nothing (MIX, SDES: their
 * errors decide what confd does next). */
static int rreq_wait(struct rmedia *rm, uint8_t op, const uint8_t *pl,
		     size_t len)
{
	const uint8_t *a;
	size_t alen;

	return rreq(rm, op, pl, len, &a, &alen);
}

static const char *conf_name_of(const struct node *n, uint32_t conf)
{
	struct le *le;

	for (le = n->confs.head; le; le = le->next) {
		const struct rmedia *rm = le->data;

		if (rm->id == conf && rm->gen == n->gen)
			return rm->name;
	}
	return "(gone)";
}

/* ---- SSRC bindings ------------------------------------------------------------
 * mediad checks every packet's SSRC against the conference core's
 * bindings, as media.c does in-process. confd keeps a shadow of what the
 * node holds and sends only the differences (SSRC_SET, SSRC_DEL): a join
 * costs one entry on the channel, not the whole table. The bindings are
 * walked only when the core's conf_ssrc_version moved. */

struct shadow {
	struct le he;
	uint32_t ssrc, roc, gen;
	conf_mid owner;
};

enum {
	SSRC_ENT = 16, /* u32 ssrc, u32 roc, u64 owner */
	SSRC_BATCH = 2048
};

struct ssrc_walk {
	struct rmedia *rm;
	size_t np; /* entries in pl */
	uint8_t op;
	size_t esize;
	int err;
	uint8_t pl[2 + SSRC_BATCH * SSRC_ENT];
};

static void flush(struct ssrc_walk *w)
{
	int err;

	if (!w->np)
		return;
	w->pl[0] = (uint8_t)(w->np >> 8);
	w->pl[1] = (uint8_t)w->np;
	err = rreq(w->rm, w->op, w->pl, 2 + w->np * w->esize, NULL, NULL);
	if (err && !w->err)
		w->err = err;
	w->np = 0;
}

static bool shadow_cmp(struct le *le, void *arg)
{
	return ((struct shadow *)le->data)->ssrc == *(uint32_t *)arg;
}

static void diff_h(uint32_t ssrc, uint32_t roc, conf_mid owner, void *arg)
{
	struct ssrc_walk *w = arg;
	struct rmedia *rm = w->rm;
	struct le *le = hash_lookup(rm->shadow, ssrc, shadow_cmp, &ssrc);
	struct shadow *sh = le ? le->data : NULL;
	uint8_t *e;

	if (!sh) {
		sh = mem_zalloc(sizeof(*sh), NULL);
		if (!sh) {
			w->err = ENOMEM;
			return;
		}
		sh->ssrc = ssrc;
		sh->roc = roc + 1; /* differs: sent below */
		hash_append(rm->shadow, ssrc, &sh->he, sh);
	}
	sh->gen = rm->sgen;
	if (sh->roc == roc && sh->owner == owner)
		return;
	sh->roc = roc;
	sh->owner = owner;
	e = w->pl + 2 + w->np * SSRC_ENT;
	mproto_put32(e, ssrc);
	mproto_put32(e + 4, roc);
	mproto_put64(e + 8, owner);
	if (++w->np == SSRC_BATCH)
		flush(w);
}

static bool stale_h(struct le *le, void *arg)
{
	struct ssrc_walk *w = arg;
	struct shadow *sh = le->data;

	if (sh->gen == w->rm->sgen)
		return false;
	mproto_put32(w->pl + 2 + w->np * 4, sh->ssrc);
	hash_unlink(&sh->he);
	mem_deref(sh);
	if (++w->np == SSRC_BATCH)
		flush(w);
	return false;
}

static void ssrc_sync(struct rmedia *rm)
{
	static struct ssrc_walk w;

	if (!rm->core || !rm->shadow ||
	    (rm->synced && conf_ssrc_version(rm->core) == rm->ssrc_ver))
		return;
	memset(&w, 0, offsetof(struct ssrc_walk, pl));
	w.rm = rm;
	rm->sgen++;
	w.op = MPROTO_SSRC_SET;
	w.esize = SSRC_ENT;
	conf_ssrc_foreach(rm->core, diff_h, &w);
	flush(&w);
	w.op = MPROTO_SSRC_DEL;
	w.esize = 4;
	(void)hash_apply(rm->shadow, stale_h, &w);
	flush(&w);
	if (!w.err) {
		rm->ssrc_ver = conf_ssrc_version(rm->core);
		rm->synced = true;
		return;
	}
	hash_flush(rm->shadow); /* resend everything on the next call */
	rm->synced = false;
}

static void sync_tmr(void *arg)
{
	struct rmedia *rm = arg;

	ssrc_sync(rm);
	tmr_start(&rm->tmr, SSRC_SYNC_MS, sync_tmr, rm);
}

/* ---- the remote confd_media ---------------------------------------------------- */

static void rm_destructor(void *arg)
{
	struct rmedia *rm = arg;

	list_unlink(&rm->le); /* out of node_lost's reach first */
	/* no node: r_alloc failed before it had one */
	if (rm->n)
		(void)rreq(rm, MPROTO_DESTROY, NULL, 0, NULL, NULL);
	tmr_cancel(&rm->tmr);
	tmr_cancel(&rm->lost);
	hash_flush(rm->shadow);
	mem_deref(rm->shadow);
}

static int r_alloc(struct confd_media **mp, struct conf *core, const char *name,
		   confd_roc_h *roch, void *arg)
{
	const uint8_t *a;
	struct rmedia *rm;
	struct node *n;
	struct sa sa;
	size_t alen, tries;
	int err = ENOTCONN;

	for (tries = 0; tries < R.n; tries++) {
		n = &R.nodes[R.next++ % R.n];
		if (n->fd < 0 && node_connect(n))
			continue;
		err = request(n, MPROTO_CREATE, 0, NULL, 0, &a, &alen);
		if (!err && alen < 19)
			err = EPROTO;
		if (!err)
			break;
	}
	if (err)
		return err;
	rm = mem_zalloc(sizeof(*rm), rm_destructor);
	if (!rm || hash_alloc(&rm->shadow, 1024)) {
		mem_deref(rm);
		return ENOMEM;
	}
	rm->n = n;
	rm->gen = n->gen;
	rm->id = mproto_get32(R.buf + 8);
	rm->port = (uint16_t)(a[0] << 8 | a[1]);
	if (a[2] == 6)
		sa_init(&sa, AF_INET6), (void)sa_set_in6(&sa, a + 3, 0);
	else
		sa_init(&sa, AF_INET),
			(void)sa_set_in(&sa, mproto_get32(a + 3), 0);
	(void)re_snprintf(rm->addr, sizeof(rm->addr), "%j", &sa);
	rm->core = core;
	rm->roch = roch;
	rm->arg = arg;
	rm->name = name;
	list_append(&n->confs, &rm->le, rm);
	tmr_init(&rm->tmr);
	tmr_init(&rm->lost);
	tmr_start(&rm->tmr, SSRC_SYNC_MS, sync_tmr, rm);
	confd_log(CONFD_LOG_INFO,
		  "conference %s: media on node %s:%s, RTP %s:%u", name,
		  n->host, n->port, rm->addr, rm->port);
	*mp = (struct confd_media *)(void *)rm;
	return 0;
}

#define RM(m) ((struct rmedia *)(void *)(m))
#define CRM(m) ((const struct rmedia *)(const void *)(m))

static int r_add(struct rmedia *rm, conf_mid mid, const struct sa *rtp)
{
	uint8_t pl[8 + 1 + 16 + 2 + 1] = { 0 };

	ssrc_sync(rm);
	mproto_put64(pl, mid);
	if (sa_af(rtp) == AF_INET6) {
		pl[8] = 6;
		sa_in6(rtp, pl + 9);
	} else {
		pl[8] = 4;
		mproto_put32(pl + 9, sa_in(rtp));
	}
	pl[25] = (uint8_t)(sa_port(rtp) >> 8);
	pl[26] = (uint8_t)sa_port(rtp);
	return rreq(rm, MPROTO_ADD, pl, sizeof(pl), NULL, NULL);
}

static void r_remove(struct rmedia *rm, conf_mid mid)
{
	uint8_t pl[8];

	mproto_put64(pl, mid);
	(void)rreq(rm, MPROTO_REMOVE, pl, sizeof(pl), NULL, NULL);
}

static void r_action(struct rmedia *rm, const struct conf_action *a)
{
	uint8_t pl[4 + 4 + 1 + 1 + CONF_TEK_MAX + 1 + CONF_SALT_MAX];
	const struct conf_epoch_keys *e = a->u.epoch;
	size_t n = 0;
	int err = 0;

	ssrc_sync(rm);
	switch (a->type) {
	case CONF_ACT_NEW_EPOCH:
		if (e->tek_len > CONF_TEK_MAX || e->salt_len > CONF_SALT_MAX)
			return;
		mproto_put32(pl, e->epoch);
		mproto_put32(pl + 4, e->mki);
		pl[8] = (uint8_t)e->profile;
		pl[9] = (uint8_t)e->tek_len;
		memcpy(pl + 10, e->tek, e->tek_len);
		n = 10 + e->tek_len;
		pl[n++] = (uint8_t)e->salt_len;
		memcpy(pl + n, e->salt, e->salt_len);
		n += e->salt_len;
		err = rreq(rm, MPROTO_EPOCH, pl, n, NULL, NULL);
		OPENSSL_cleanse(pl, sizeof(pl));
		break;
	case CONF_ACT_SWITCH_MKI:
	case CONF_ACT_RETIRE_EPOCH:
		mproto_put32(pl, e->mki);
		err = rreq(rm,
			   a->type == CONF_ACT_SWITCH_MKI ? MPROTO_SWITCH :
							    MPROTO_RETIRE,
			   pl, 4, NULL, NULL);
		break;
	case CONF_ACT_DROP_MEDIA:
		r_remove(rm, a->member);
		break;
	default:
		break;
	}
	if (err)
		confd_log(CONFD_LOG_WARN, "conference %s: media %s: %s",
			  rm->name, conf_action_name(a->type), strerror(err));
}

static int r_mix(struct rmedia *rm, const struct conf_policy *p,
		 const uint32_t *ssrcs)
{
	uint8_t pl[3 + (3 + CONF_SPEAKERS_MAX) * 4];
	size_t n = 3 + (size_t)p->speakers, i;

	if (!p->speakers || p->speakers > CONF_SPEAKERS_MAX || !ssrcs)
		return EINVAL;
	pl[0] = (uint8_t)p->profile;
	pl[1] = (uint8_t)p->speakers;
	pl[2] = (uint8_t)n;
	for (i = 0; i < n; i++)
		mproto_put32(pl + 3 + i * 4, ssrcs[i]);
	return rreq_wait(rm, MPROTO_MIX, pl, 3 + n * 4);
}

static int r_codec(struct rmedia *rm, conf_mid mid, int codec)
{
	uint8_t pl[9];

	if (codec < 0 || codec > 255)
		return EINVAL;
	mproto_put64(pl, mid);
	pl[8] = (uint8_t)codec;
	return rreq(rm, MPROTO_CODEC, pl, sizeof(pl), NULL, NULL);
}

/* An SDES member's upstream keys: written inside TLS, then wiped. */
static int r_sdes(struct rmedia *rm, conf_mid mid, const struct media_upkey *k,
		  size_t n, bool no_mki, uint64_t grace_ms)
{
	static uint8_t pl[14 + MEDIA_UPSTREAM_KEYS_MAX *
				       (2 + 255 + MEDIA_UPSTREAM_MKI_MAX + 8)];
	size_t o = 14, i;
	int err;

	if (!n || n > MEDIA_UPSTREAM_KEYS_MAX || grace_ms > UINT32_MAX)
		return EINVAL;
	mproto_put64(pl, mid);
	pl[8] = no_mki;
	mproto_put32(pl + 9, (uint32_t)grace_ms);
	pl[13] = (uint8_t)n;
	for (i = 0; i < n; i++) {
		if (!k[i].master_len || k[i].master_len > 255 ||
		    k[i].mki_len > MEDIA_UPSTREAM_MKI_MAX) {
			OPENSSL_cleanse(pl, o);
			return EINVAL;
		}
		pl[o++] = (uint8_t)k[i].master_len;
		memcpy(pl + o, k[i].master, k[i].master_len);
		o += k[i].master_len;
		pl[o++] = (uint8_t)k[i].mki_len;
		if (k[i].mki_len)
			memcpy(pl + o, k[i].mki, k[i].mki_len);
		o += k[i].mki_len;
		mproto_put64(pl + o, k[i].lifetime);
		o += 8;
	}
	ssrc_sync(rm);
	err = rreq_wait(rm, MPROTO_SDES, pl, o);
	OPENSSL_cleanse(pl, o);
	return err;
}

static void r_stats(const struct rmedia *crm, uint64_t *fwd, uint64_t *drops)
{
	struct rmedia *rm = (struct rmedia *)(uintptr_t)crm;
	const uint8_t *a;
	size_t alen;

	if (!rreq(rm, MPROTO_STATS, NULL, 0, &a, &alen) && alen >= 16) {
		rm->fwd = mproto_get64(a);
		rm->drops = mproto_get64(a + 8);
	}
	*fwd = rm->fwd;
	*drops = rm->drops;
}

static size_t r_silent(const struct rmedia *crm, uint64_t before, conf_mid *out,
		       size_t max)
{
	struct rmedia *rm = (struct rmedia *)(uintptr_t)crm;
	uint64_t now = tmr_jiffies();
	uint8_t pl[8];
	const uint8_t *a;
	size_t alen, n, i;

	mproto_put64(pl, before < now ? now - before : 0);
	if (rreq(rm, MPROTO_SILENT, pl, sizeof(pl), &a, &alen) || alen < 2)
		return 0;
	n = (size_t)(a[0] << 8 | a[1]);
	for (i = 0; i < n && i < max && 2 + i * 8 + 8 <= alen; i++)
		out[i] = mproto_get64(a + 2 + i * 8);
	return i;
}

void confd_media_close(void)
{
	size_t i;

	R.closing = true;
	for (i = 0; i < R.n; i++)
		node_close(&R.nodes[i], "confd stops");
	if (R.ctx)
		SSL_CTX_free(R.ctx);
	R.ctx = NULL;
}

/* ---- the dispatch: in-process unless `media remote` ------------------------ */

int confd_media_alloc(struct confd_media **mp, const char *ip,
		      struct conf *core, const char *name, confd_roc_h *roch,
		      void *arg)
{
	if (!R.remote)
		return confd_mlocal_alloc(mp, ip, core, name, roch, arg);
	return r_alloc(mp, core, name, roch, arg);
}

int confd_media_mix(struct confd_media *m, const struct conf_policy *p,
		    const uint32_t *ssrcs)
{
	if (!R.remote)
		return confd_mlocal_mix(m, p, ssrcs);
	if (!m || !p || p->media != CONF_MEDIA_MIX)
		return 0;
	return r_mix(RM(m), p, ssrcs);
}

uint16_t confd_media_port(const struct confd_media *m)
{
	if (!R.remote)
		return confd_mlocal_port(m);
	return m ? CRM(m)->port : 0;
}

const char *confd_media_addr(const struct confd_media *m, const char *dflt)
{
	return R.remote && m ? CRM(m)->addr : dflt;
}

int confd_media_add(struct confd_media *m, conf_mid mid, const struct sa *rtp)
{
	if (!R.remote)
		return confd_mlocal_add(m, mid, rtp);
	return m ? r_add(RM(m), mid, rtp) : EINVAL;
}

int confd_media_codec(struct confd_media *m, conf_mid mid, int codec)
{
	if (!R.remote)
		return confd_mlocal_codec(m, mid, codec);
	return m ? r_codec(RM(m), mid, codec) : 0;
}

void confd_media_remove(struct confd_media *m, conf_mid mid)
{
	if (!R.remote)
		confd_mlocal_remove(m, mid);
	else if (m)
		r_remove(RM(m), mid);
}

int confd_media_sdes(struct confd_media *m, conf_mid mid,
		     const struct media_upkey *k, size_t n, bool no_mki,
		     uint64_t grace_ms)
{
	if (!R.remote)
		return confd_mlocal_sdes(m, mid, k, n, no_mki, grace_ms);
	return m ? r_sdes(RM(m), mid, k, n, no_mki, grace_ms) : ENOENT;
}

void confd_media_action(struct confd_media *m, const struct conf_action *a)
{
	if (!R.remote)
		confd_mlocal_action(m, a);
	else if (m)
		r_action(RM(m), a);
}

void confd_media_stats(const struct confd_media *m, uint64_t *fwd,
		       uint64_t *drops)
{
	if (!R.remote) {
		confd_mlocal_stats(m, fwd, drops);
		return;
	}
	*fwd = *drops = 0;
	if (m)
		r_stats(CRM(m), fwd, drops);
}

size_t confd_media_silent(const struct confd_media *m, uint64_t before,
			  conf_mid *out, size_t max)
{
	if (!R.remote)
		return confd_mlocal_silent(m, before, out, max);
	return m ? r_silent(CRM(m), before, out, max) : 0;
}
