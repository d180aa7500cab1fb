/*
 * main.c -- conclave-mediad: the split media plane (DESIGN.md D10, issue
 * 7 §3). It runs confd's SRTP switch (apps/confd/media.c, the very same
 * code, built as confd_mlocal_*) for conferences that a conclave-confd
 * creates over a control channel in mutual TLS (apps/mediad/proto.h):
 * both sides present a certificate from the configured CA; a peer
 * without one is refused in the handshake. Epoch keys arrive only inside
 * TLS, are handed to the switch and wiped; nothing here logs them.
 *
 * A conference belongs to the control connection that created it: when
 * that connection closes, its conferences end.
 *
 * Exit status: 0 clean shutdown (SIGTERM/SIGINT), 1 start-up failure,
 * 2 usage or configuration error.
 */
#define USE_OPENSSL 1 /* re_tls.h: tls_openssl_context */
#include "../confd/media_local.h"
#include "proto.h"

#include <re.h>

#include <conclave/media_upstream.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONF "/etc/conclave/mediad.conf"

struct mediad_conf {
	char listen[128]; /* control channel, ADDR:PORT */
	char rtp[64];     /* IP for the RTP sockets (named in confd's SDP) */
	char cert[512];   /* PEM: certificate chain + private key */
	char ca[512];     /* PEM: the CA that signs confd's certificates */
	enum confd_level log_level;
};

static struct {
	struct mediad_conf cf;
	struct tls *tls;
	struct tcp_sock *ts;
	struct list conns;
	uint32_t next_id;
} G;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void confd_log(enum confd_level level, const char *fmt, ...)
{
	char line[1024];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	size_t n;
	int r;

	if (level > G.cf.log_level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n,
		     ".%03dZ mediad %s: ", (int)(tv.tv_usec / 1000),
		     level_names[level]);
	n += r > 0 ? (size_t)r : 0;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n += r > 0 ? (size_t)r : 0;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

/* ---- the SSRC bindings confd pushes (media.c asks them per packet) ------ */

struct ssrc_ent {
	uint32_t ssrc, roc;
	conf_mid owner;
};

enum {
	TABLE_MAX = 1 << 20 /* SSRC bindings per conference */
};

struct table {
	struct ssrc_ent *e;
	size_t n;
};

static int ent_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct ssrc_ent *)a)->ssrc;
	uint32_t y = ((const struct ssrc_ent *)b)->ssrc;

	return x < y ? -1 : x > y;
}

static const struct ssrc_ent *ent_find(const struct table *t, uint32_t ssrc)
{
	struct ssrc_ent k = { .ssrc = ssrc };

	if (!t || !t->n)
		return NULL;
	return bsearch(&k, t->e, t->n, sizeof(*t->e), ent_cmp);
}

/* conf_ssrc_owner / conf_ssrc_roc in this build (CMake renames them):
 * media.c's "core" is our table. */
bool mediad_ssrc_owner(const struct conf *c, uint32_t ssrc, conf_mid *owner)
{
	const struct ssrc_ent *e =
		ent_find((const struct table *)(const void *)c, ssrc);

	if (!e)
		return false;
	*owner = e->owner;
	return true;
}

bool mediad_ssrc_roc(const struct conf *c, uint32_t ssrc, uint32_t *roc)
{
	const struct ssrc_ent *e =
		ent_find((const struct table *)(const void *)c, ssrc);

	if (!e)
		return false;
	*roc = e->roc;
	return true;
}

/* ---- conferences and control connections -------------------------------------- */

struct conn {
	struct le le;
	struct tcp_conn *tc;
	struct tls_conn *sc;
	struct mbuf *rx;
	struct list confs;
	struct sa peer;
	char ps[64]; /* the peer, for log lines */
	bool verified;
};

struct mconf {
	struct le le;
	uint32_t id;
	char name[24];
	struct conn *c;
	struct table t;
	struct confd_media *m;
};

static void send_frame(struct conn *c, uint8_t op, uint8_t status,
		       uint32_t conf, const uint8_t *pl, size_t len)
{
	struct mbuf *mb = mbuf_alloc(MPROTO_HDR + len);
	uint8_t h[MPROTO_HDR];

	if (!mb)
		return;
	mproto_put32(h, (uint32_t)(MPROTO_HDR - 4 + len));
	h[4] = op;
	h[5] = status;
	h[6] = h[7] = 0;
	mproto_put32(h + 8, conf);
	(void)mbuf_write_mem(mb, h, sizeof(h));
	if (len)
		(void)mbuf_write_mem(mb, pl, len);
	mb->pos = 0;
	if (tcp_send(c->tc, mb))
		confd_log(CONFD_LOG_WARN, "control %s: send failed", c->ps);
	mem_deref(mb);
}

static void send_err(struct conn *c, uint8_t op, uint32_t conf, int err,
		     const char *msg)
{
	confd_log(CONFD_LOG_WARN, "control %s: op %u conference %u: %s", c->ps,
		  op, conf, msg);
	send_frame(c, op, (uint8_t)(err > 0 && err < 256 ? err : EINVAL), conf,
		   (const uint8_t *)msg, strlen(msg));
}

static void roc_h(uint32_t ssrc, uint32_t roc, void *arg)
{
	struct mconf *mc = arg;
	uint8_t pl[8];
	struct ssrc_ent *e =
		(struct ssrc_ent *)(uintptr_t)ent_find(&mc->t, ssrc);

	if (e)
		e->roc = roc;
	mproto_put32(pl, ssrc);
	mproto_put32(pl + 4, roc);
	send_frame(mc->c, MPROTO_EV_ROC, 0, mc->id, pl, sizeof(pl));
}

static void mconf_destructor(void *arg)
{
	struct mconf *mc = arg;

	mc->m = mem_deref(mc->m);
	mem_deref(mc->t.e);
	list_unlink(&mc->le);
}

static struct mconf *mconf_find(struct conn *c, uint32_t id)
{
	struct le *le;

	for (le = c->confs.head; le; le = le->next) {
		struct mconf *mc = le->data;

		if (mc->id == id)
			return mc;
	}
	return NULL;
}

static void op_create(struct conn *c)
{
	uint8_t pl[2 + 1 + 16] = { 0 };
	struct mconf *mc = mem_zalloc(sizeof(*mc), mconf_destructor);
	struct sa ip;
	int err;

	if (!mc) {
		send_err(c, MPROTO_CREATE, 0, ENOMEM, "no memory");
		return;
	}
	mc->id = ++G.next_id;
	mc->c = c;
	(void)snprintf(mc->name, sizeof(mc->name), "m%u", mc->id);
	err = confd_mlocal_alloc(&mc->m, G.cf.rtp,
				 (struct conf *)(void *)&mc->t, mc->name, roc_h,
				 mc);
	if (err || sa_set_str(&ip, G.cf.rtp, 0)) {
		mem_deref(mc);
		send_err(c, MPROTO_CREATE, 0, err ? err : EINVAL,
			 "cannot open an RTP socket");
		return;
	}
	list_append(&c->confs, &mc->le, mc);
	pl[0] = (uint8_t)(confd_mlocal_port(mc->m) >> 8);
	pl[1] = (uint8_t)confd_mlocal_port(mc->m);
	if (sa_af(&ip) == AF_INET6) {
		pl[2] = 6;
		sa_in6(&ip, pl + 3);
	} else {
		pl[2] = 4;
		mproto_put32(pl + 3, sa_in(&ip));
	}
	confd_log(CONFD_LOG_INFO, "conference %s: created for %s, RTP %s:%u",
		  mc->name, c->ps, G.cf.rtp, confd_mlocal_port(mc->m));
	send_frame(c, MPROTO_CREATE, 0, mc->id, pl, sizeof(pl));
}

static void op_ssrcs(struct conn *c, struct mconf *mc, const uint8_t *p,
		     size_t len)
{
	struct ssrc_ent *e = NULL;
	size_t n, i;

	n = len >= 2 ? (size_t)(p[0] << 8 | p[1]) : 0;
	if (len < 2 || len != 2 + n * 16 || n > MPROTO_SSRCS_MAX) {
		send_err(c, MPROTO_SSRCS, mc->id, EINVAL, "bad SSRC table");
		return;
	}
	if (n && !(e = mem_zalloc(n * sizeof(*e), NULL))) {
		send_err(c, MPROTO_SSRCS, mc->id, ENOMEM, "no memory");
		return;
	}
	for (i = 0; i < n; i++) {
		e[i].ssrc = mproto_get32(p + 2 + i * 16);
		e[i].roc = mproto_get32(p + 6 + i * 16);
		e[i].owner = mproto_get64(p + 10 + i * 16);
	}
	if (n)
		qsort(e, n, sizeof(*e), ent_cmp);
	mem_deref(mc->t.e);
	mc->t.e = e;
	mc->t.n = n;
	confd_log(CONFD_LOG_DEBUG, "conference %s: %zu SSRC binding(s)",
		  mc->name, n);
	send_frame(c, MPROTO_SSRCS, 0, mc->id, NULL, 0);
}

/* SSRC_SET: add or replace bindings (a merge of two sorted tables). */
static void op_ssrc_set(struct conn *c, struct mconf *mc, const uint8_t *p,
			size_t len)
{
	struct ssrc_ent *e, *m;
	size_t n, i, j, k;

	n = len >= 2 ? (size_t)(p[0] << 8 | p[1]) : 0;
	if (len < 2 || !n || len != 2 + n * 16 || mc->t.n + n > TABLE_MAX) {
		send_err(c, MPROTO_SSRC_SET, mc->id, EINVAL, "bad SSRC update");
		return;
	}
	e = mem_zalloc(n * sizeof(*e), NULL);
	m = e ? mem_zalloc((mc->t.n + n) * sizeof(*m), NULL) : NULL;
	if (!m) {
		mem_deref(e);
		send_err(c, MPROTO_SSRC_SET, mc->id, ENOMEM, "no memory");
		return;
	}
	for (i = 0; i < n; i++) {
		e[i].ssrc = mproto_get32(p + 2 + i * 16);
		e[i].roc = mproto_get32(p + 6 + i * 16);
		e[i].owner = mproto_get64(p + 10 + i * 16);
	}
	qsort(e, n, sizeof(*e), ent_cmp);
	for (i = 1; i < n; i++) {
		if (e[i].ssrc == e[i - 1].ssrc) {
			mem_deref(e);
			mem_deref(m);
			send_err(c, MPROTO_SSRC_SET, mc->id, EINVAL,
				 "SSRC named twice");
			return;
		}
	}
	for (i = j = k = 0; i < mc->t.n || j < n;) {
		if (j == n || (i < mc->t.n && mc->t.e[i].ssrc < e[j].ssrc))
			m[k++] = mc->t.e[i++];
		else {
			if (i < mc->t.n && mc->t.e[i].ssrc == e[j].ssrc)
				i++; /* replaced */
			m[k++] = e[j++];
		}
	}
	mem_deref(e);
	mem_deref(mc->t.e);
	mc->t.e = m;
	mc->t.n = k;
	confd_log(CONFD_LOG_DEBUG,
		  "conference %s: %zu SSRC binding(s), %zu set", mc->name, k,
		  n);
	send_frame(c, MPROTO_SSRC_SET, 0, mc->id, NULL, 0);
}

/* SSRC_DEL: drop bindings (absent SSRCs are ignored). */
static void op_ssrc_del(struct conn *c, struct mconf *mc, const uint8_t *p,
			size_t len)
{
	size_t n, i, k;

	n = len >= 2 ? (size_t)(p[0] << 8 | p[1]) : 0;
	if (len < 2 || !n || len != 2 + n * 4) {
		send_err(c, MPROTO_SSRC_DEL, mc->id, EINVAL,
			 "bad SSRC removal");
		return;
	}
	for (i = 0; i < n; i++) {
		struct ssrc_ent *e = (struct ssrc_ent *)(uintptr_t)ent_find(
			&mc->t, mproto_get32(p + 2 + i * 4));

		if (e)
			e->owner = CONF_MID_NONE; /* marked: compacted below */
	}
	for (i = k = 0; i < mc->t.n; i++)
		if (mc->t.e[i].owner != CONF_MID_NONE)
			mc->t.e[k++] = mc->t.e[i];
	mc->t.n = k;
	confd_log(CONFD_LOG_DEBUG, "conference %s: %zu SSRC binding(s)",
		  mc->name, k);
	send_frame(c, MPROTO_SSRC_DEL, 0, mc->id, NULL, 0);
}

static void op_add(struct conn *c, struct mconf *mc, const uint8_t *p,
		   size_t len)
{
	struct sa rtp;
	conf_mid mid;
	int err;

	if (len < 28 || (p[8] != 4 && p[8] != 6)) {
		send_err(c, MPROTO_ADD, mc->id, EINVAL, "bad leg");
		return;
	}
	mid = mproto_get64(p);
	if (p[8] == 6)
		sa_set_in6(&rtp, p + 9, (uint16_t)(p[25] << 8 | p[26]));
	else
		sa_set_in(&rtp, mproto_get32(p + 9),
			  (uint16_t)(p[25] << 8 | p[26]));
	err = confd_mlocal_add(mc->m, mid, &rtp);
	if (err) {
		send_err(c, MPROTO_ADD, mc->id, err, "leg not added");
		return;
	}
	{
		char as[64];

		(void)re_snprintf(as, sizeof(as), "%J", &rtp);
		confd_log(CONFD_LOG_INFO,
			  "conference %s: member %" PRIu64 " at %s", mc->name,
			  mid, as);
	}
	send_frame(c, MPROTO_ADD, 0, mc->id, NULL, 0);
}

static void op_epoch(struct conn *c, struct mconf *mc, uint8_t *p, size_t len)
{
	struct conf_epoch_keys ek;
	struct conf_action a = { .type = CONF_ACT_NEW_EPOCH };
	size_t tl, sl, want_t = 0, want_s = 0;

	memset(&ek, 0, sizeof(ek));
	tl = len > 9 ? p[9] : 0;
	sl = len > 10 + tl ? p[10 + tl] : 0;
	if (len > 9)
		conf_profile_sizes((enum conf_profile)p[8], &want_t, &want_s);
	if (len < 11 || len != 11 + tl + sl || !tl || tl != want_t ||
	    sl != want_s || tl > CONF_TEK_MAX || sl > CONF_SALT_MAX) {
		OPENSSL_cleanse(p, len);
		send_err(c, MPROTO_EPOCH, mc->id, EINVAL, "bad epoch");
		return;
	}
	ek.epoch = mproto_get32(p);
	ek.mki = mproto_get32(p + 4);
	ek.profile = (enum conf_profile)p[8];
	ek.tek_len = tl;
	memcpy(ek.tek, p + 10, tl);
	ek.salt_len = sl;
	memcpy(ek.salt, p + 11 + tl, sl);
	OPENSSL_cleanse(p, len);
	a.u.epoch = &ek;
	confd_mlocal_action(mc->m, &a);
	confd_log(CONFD_LOG_INFO,
		  "conference %s: epoch %" PRIu32 " (MKI 0x%08" PRIx32 ") "
		  "install"
		  "ed",
		  mc->name, ek.epoch, ek.mki);
	OPENSSL_cleanse(&ek, sizeof(ek));
	send_frame(c, MPROTO_EPOCH, 0, mc->id, NULL, 0);
}

static void op_mki(struct conn *c, struct mconf *mc, uint8_t op,
		   const uint8_t *p, size_t len)
{
	struct conf_epoch_keys ek;
	struct conf_action a = { .type = op == MPROTO_SWITCH ?
						 CONF_ACT_SWITCH_MKI :
						 CONF_ACT_RETIRE_EPOCH };

	if (len != 4) {
		send_err(c, op, mc->id, EINVAL, "bad MKI");
		return;
	}
	memset(&ek, 0, sizeof(ek));
	ek.mki = mproto_get32(p);
	a.u.epoch = &ek;
	confd_mlocal_action(mc->m, &a);
	confd_log(CONFD_LOG_INFO, "conference %s: %s MKI 0x%08" PRIx32,
		  mc->name, op == MPROTO_SWITCH ? "switch to" : "retire",
		  ek.mki);
	send_frame(c, op, 0, mc->id, NULL, 0);
}

static void op_silent(struct conn *c, struct mconf *mc, const uint8_t *p,
		      size_t len)
{
	conf_mid out[512];
	uint8_t pl[2 + 512 * 8];
	uint64_t now = tmr_jiffies(), age;
	size_t n, i;

	if (len != 8) {
		send_err(c, MPROTO_SILENT, mc->id, EINVAL, "bad age");
		return;
	}
	age = mproto_get64(p);
	n = confd_mlocal_silent(mc->m, age < now ? now - age : 0, out, 512);
	pl[0] = (uint8_t)(n >> 8);
	pl[1] = (uint8_t)n;
	for (i = 0; i < n; i++)
		mproto_put64(pl + 2 + i * 8, out[i]);
	send_frame(c, MPROTO_SILENT, 0, mc->id, pl, 2 + n * 8);
}

/* Mixing mode (confd's policy media=mix): the profile, the number of
 * speaker places and the focus SSRCs the conference core reserved. */
static void op_mix(struct conn *c, struct mconf *mc, const uint8_t *p,
		   size_t len)
{
	uint32_t ssrcs[3 + CONF_SPEAKERS_MAX];
	struct conf_policy pol;
	size_t n, i;
	int err;

	n = len >= 3 ? p[2] : 0;
	if (len < 3 || !p[1] || p[1] > CONF_SPEAKERS_MAX ||
	    n != 3 + (size_t)p[1] || len != 3 + n * 4) {
		send_err(c, MPROTO_MIX, mc->id, EINVAL, "bad mix");
		return;
	}
	conf_policy_default(&pol);
	pol.media = CONF_MEDIA_MIX;
	pol.profile = (enum conf_profile)p[0];
	pol.speakers = p[1];
	for (i = 0; i < n; i++)
		ssrcs[i] = mproto_get32(p + 3 + i * 4);
	err = confd_mlocal_mix(mc->m, &pol, ssrcs);
	if (err) {
		send_err(c, MPROTO_MIX, mc->id, err, "mixer not started");
		return;
	}
	send_frame(c, MPROTO_MIX, 0, mc->id, NULL, 0);
}

static void op_codec(struct conn *c, struct mconf *mc, const uint8_t *p,
		     size_t len)
{
	int err;

	if (len != 9) {
		send_err(c, MPROTO_CODEC, mc->id, EINVAL, "bad codec");
		return;
	}
	err = confd_mlocal_codec(mc->m, mproto_get64(p), p[8]);
	if (err) {
		send_err(c, MPROTO_CODEC, mc->id, err, "codec not set");
		return;
	}
	send_frame(c, MPROTO_CODEC, 0, mc->id, NULL, 0);
}

/* An SDES member's own upstream keys (the group key re-protects its
 * packets); p is wiped before the answer, whatever it is. */
static void op_sdes(struct conn *c, struct mconf *mc, uint8_t *p, size_t len)
{
	struct media_upkey k[MEDIA_UPSTREAM_KEYS_MAX];
	size_t n, i, o = 14;
	conf_mid mid;
	int err = EINVAL;

	n = len >= 14 ? p[13] : 0;
	if (!n || n > MEDIA_UPSTREAM_KEYS_MAX)
		goto out;
	for (i = 0; i < n; i++) {
		if (o >= len || !p[o] || o + 1 + p[o] + 1 > len)
			goto out;
		k[i].master_len = p[o];
		k[i].master = p + o + 1;
		o += 1 + p[o];
		k[i].mki_len = p[o];
		if (k[i].mki_len > MEDIA_UPSTREAM_MKI_MAX ||
		    o + 1 + k[i].mki_len + 8 > len)
			goto out;
		k[i].mki = k[i].mki_len ? p + o + 1 : NULL;
		o += 1 + k[i].mki_len;
		k[i].lifetime = mproto_get64(p + o);
		o += 8;
	}
	if (o != len)
		goto out;
	mid = mproto_get64(p);
	err = confd_mlocal_sdes(mc->m, mid, k, n, p[8] != 0,
				mproto_get32(p + 9));
	if (!err)
		confd_log(CONFD_LOG_INFO,
			  "conference %s: member %" PRIu64 ": %zu SDES "
			  "upstream key(s)%s",
			  mc->name, mid, n, p[8] ? ", no MKI" : "");
out:
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(p, len);
	if (err)
		send_err(c, MPROTO_SDES, mc->id, err,
			 err == EINVAL ? "bad SDES keys" : "no such member");
	else
		send_frame(c, MPROTO_SDES, 0, mc->id, NULL, 0);
}

static void handle(struct conn *c, uint8_t *f, size_t flen)
{
	uint8_t op = f[4];
	uint32_t id = mproto_get32(f + 8);
	uint8_t *p = f + MPROTO_HDR;
	size_t len = flen - MPROTO_HDR;
	struct mconf *mc;
	uint8_t st[16];
	uint64_t fwd, drops;

	if (op == MPROTO_CREATE) {
		op_create(c);
		return;
	}
	mc = mconf_find(c, id);
	if (!mc) {
		if (op == MPROTO_EPOCH || op == MPROTO_SDES)
			OPENSSL_cleanse(p, len);
		send_err(c, op, id, ENOENT, "no such conference");
		return;
	}
	switch (op) {
	case MPROTO_DESTROY:
		confd_log(CONFD_LOG_INFO, "conference %s: ended", mc->name);
		mem_deref(mc);
		send_frame(c, op, 0, id, NULL, 0);
		break;
	case MPROTO_ADD:
		op_add(c, mc, p, len);
		break;
	case MPROTO_REMOVE:
		if (len != 8) {
			send_err(c, op, id, EINVAL, "bad member");
			break;
		}
		confd_mlocal_remove(mc->m, mproto_get64(p));
		send_frame(c, op, 0, id, NULL, 0);
		break;
	case MPROTO_SSRCS:
		op_ssrcs(c, mc, p, len);
		break;
	case MPROTO_EPOCH:
		op_epoch(c, mc, p, len);
		break;
	case MPROTO_SWITCH:
	case MPROTO_RETIRE:
		op_mki(c, mc, op, p, len);
		break;
	case MPROTO_STATS:
		confd_mlocal_stats(mc->m, &fwd, &drops);
		mproto_put64(st, fwd);
		mproto_put64(st + 8, drops);
		send_frame(c, op, 0, id, st, sizeof(st));
		break;
	case MPROTO_SILENT:
		op_silent(c, mc, p, len);
		break;
	case MPROTO_SSRC_SET:
		op_ssrc_set(c, mc, p, len);
		break;
	case MPROTO_SSRC_DEL:
		op_ssrc_del(c, mc, p, len);
		break;
	case MPROTO_MIX:
		op_mix(c, mc, p, len);
		break;
	case MPROTO_CODEC:
		op_codec(c, mc, p, len);
		break;
	case MPROTO_SDES:
		op_sdes(c, mc, p, len);
		break;
	default:
		send_err(c, op, id, EOPNOTSUPP, "unknown operation");
		break;
	}
}

static void conn_destructor(void *arg)
{
	struct conn *c = arg;

	list_flush(&c->confs);
	if (c->rx) {
		OPENSSL_cleanse(c->rx->buf, c->rx->size);
		c->rx = mem_deref(c->rx);
	}
	c->sc = mem_deref(c->sc);
	c->tc = mem_deref(c->tc);
	list_unlink(&c->le);
}

static void estab_h(void *arg)
{
	struct conn *c = arg;
	char cn[256] = "?";

	/* the handshake is done: OpenSSL verified the client certificate
	 * against our CA (SSL_VERIFY_FAIL_IF_NO_PEER_CERT) */
	c->verified = !tls_peer_verify(c->sc);
	(void)tls_peer_common_name(c->sc, cn, sizeof(cn));
	if (!c->verified) {
		confd_log(CONFD_LOG_WARN,
			  "control %s: TLS peer not verified, closing", c->ps);
		mem_deref(c);
		return;
	}
	confd_log(CONFD_LOG_INFO,
		  "control %s: TLS handshake done (%s), client certificate "
		  "verified: CN=%s",
		  c->ps, tls_cipher_name(c->sc), cn);
}

static void recv_h(struct mbuf *mb, void *arg)
{
	struct conn *c = arg;

	if (!c->verified) {
		mem_deref(c);
		return;
	}
	c->rx->pos = c->rx->end;
	if (mbuf_write_mem(c->rx, mbuf_buf(mb), mbuf_get_left(mb))) {
		mem_deref(c);
		return;
	}
	OPENSSL_cleanse(mbuf_buf(mb), mbuf_get_left(mb));
	c->rx->pos = 0;
	for (;;) {
		size_t left = c->rx->end - c->rx->pos, flen;
		uint8_t *f = c->rx->buf + c->rx->pos;

		if (left < 4)
			break;
		flen = 4 + (size_t)mproto_get32(f);
		if (flen < MPROTO_HDR || flen > MPROTO_MAX + 4) {
			confd_log(CONFD_LOG_WARN,
				  "control %s: bad frame, closing", c->ps);
			mem_deref(c);
			return;
		}
		if (left < flen)
			break;
		handle(c, f, flen);
		c->rx->pos += flen;
	}
	/* keep what is left; wipe what was consumed (it held keys) */
	{
		size_t left = c->rx->end - c->rx->pos;

		memmove(c->rx->buf, c->rx->buf + c->rx->pos, left);
		OPENSSL_cleanse(c->rx->buf + left, c->rx->end - left);
		c->rx->end = left;
		c->rx->pos = 0;
	}
}

static void close_h(int err, void *arg)
{
	struct conn *c = arg;

	if (c->verified)
		confd_log(CONFD_LOG_INFO,
			  "control %s: closed (%s); %u conference(s) end",
			  c->ps, err ? strerror(err) : "by peer",
			  list_count(&c->confs));
	else
		confd_log(CONFD_LOG_WARN,
			  "control %s: refused: TLS handshake failed (no valid "
			  "client certificate, or the client refused ours: %s)",
			  c->ps, err ? strerror(err) : "closed");
	mem_deref(c);
}

static void conn_h(const struct sa *peer, void *arg)
{
	struct conn *c = mem_zalloc(sizeof(*c), conn_destructor);
	int err;

	(void)arg;
	if (!c) {
		tcp_reject(G.ts);
		return;
	}
	c->peer = *peer;
	(void)re_snprintf(c->ps, sizeof(c->ps), "%J", peer);
	c->rx = mbuf_alloc(4096);
	err = c->rx ? tcp_accept(&c->tc, G.ts, estab_h, recv_h, close_h, c) :
		      ENOMEM;
	if (!err)
		err = tls_start_tcp(&c->sc, G.tls, c->tc, 0);
	if (!err) {
		/* a frame larger than one TLS record (an SSRC table past
		 * ~1,000 members) otherwise waits on Nagle + delayed ACK:
		 * 40 ms per request */
		int one = 1;

		(void)setsockopt(tcp_conn_fd(c->tc), IPPROTO_TCP, TCP_NODELAY,
				 &one, sizeof(one));
	}
	if (err) {
		confd_log(CONFD_LOG_WARN, "control %s: %s", c->ps,
			  strerror(err));
		if (!c->tc)
			tcp_reject(G.ts);
		mem_deref(c);
		return;
	}
	list_append(&G.conns, &c->le, c);
	confd_log(CONFD_LOG_DEBUG, "control %s: TCP connected, TLS next",
		  c->ps);
}

/* ---- configuration --------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: conclave-mediad [options]\n\n"
		"The Conclave split media plane: runs the SRTP switch of "
		"conferences\nfor conclave-confd, driven over a mutual-TLS "
		"control channel\n(`media remote` in confd.conf).\n\n"
		"options (flags override the config file; see "
		"etc/mediad.conf):\n"
		"  -c, --config FILE     config file (default %s;\n"
		"                        a missing default file means "
		"defaults)\n"
		"  --listen ADDR:PORT    control channel (default "
		"127.0.0.1:5070)\n"
		"  --rtp IP              address of the RTP sockets, named "
		"in confd's\n"
		"                        SDP answers (default 127.0.0.1)\n"
		"  --cert FILE           PEM: certificate chain + private "
		"key\n"
		"  --ca FILE             PEM: CA for confd's client "
		"certificates\n"
		"  --log-level LEVEL     error|warn|info|debug (default "
		"info)\n"
		"  -h, --help            this text\n\n"
		"signals: SIGTERM/SIGINT stop cleanly (exit 0).\n",
		DEFAULT_CONF);
}

static bool set_str(char *dst, size_t size, const char *v)
{
	return (size_t)snprintf(dst, size, "%s", v) < size;
}

static bool set_key(struct mediad_conf *cf, const char *k, const char *v)
{
	if (!strcmp(k, "listen"))
		return set_str(cf->listen, sizeof(cf->listen), v);
	if (!strcmp(k, "rtp"))
		return set_str(cf->rtp, sizeof(cf->rtp), v);
	if (!strcmp(k, "cert"))
		return set_str(cf->cert, sizeof(cf->cert), v);
	if (!strcmp(k, "ca"))
		return set_str(cf->ca, sizeof(cf->ca), v);
	if (!strcmp(k, "log_level") || !strcmp(k, "log-level")) {
		for (size_t i = 0; i < 4; i++)
			if (!strcmp(v, level_names[i])) {
				cf->log_level = (enum confd_level)i;
				return true;
			}
	}
	return false;
}

static bool key_h(const char *k, const char *v, void *arg)
{
	return set_key(arg, k, v);
}

static int parse_args(int argc, char **argv, struct mediad_conf *cf)
{
	const char *path = DEFAULT_CONF;
	bool must = false;
	int i, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			exit(0);
		}
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) &&
		    i + 1 < argc) {
			path = argv[++i];
			must = true;
		}
	}
	err = cc_conf_file("conclave-mediad", path, must, key_h, cf);
	if (err)
		return err;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			i++;
			continue;
		}
		if (strncmp(a, "--", 2) || i + 1 >= argc ||
		    !set_key(cf, a + 2, argv[i + 1])) {
			fprintf(stderr, "conclave-mediad: bad option %s\n", a);
			usage(stderr);
			return 2;
		}
		i++;
	}
	if (!cf->cert[0] || !cf->ca[0]) {
		fprintf(stderr, "conclave-mediad: cert and ca are required "
				"(mutual TLS)\n");
		return 2;
	}
	return 0;
}

static void on_signal(int sig)
{
	confd_log(CONFD_LOG_INFO, "%s: shutting down",
		  sig == SIGTERM ? "SIGTERM" : "signal");
	re_cancel();
}

static int run(void)
{
	struct sa laddr;
	SSL_CTX *ctx;
	int err;

	err = sa_decode(&laddr, G.cf.listen, strlen(G.cf.listen));
	if (err) {
		confd_log(CONFD_LOG_ERROR, "listen %s: bad address",
			  G.cf.listen);
		return 2;
	}
	err = tls_alloc(&G.tls, TLS_METHOD_SSLV23, G.cf.cert, NULL);
	if (!err)
		err = tls_add_ca(G.tls, G.cf.ca);
	if (err) {
		confd_log(CONFD_LOG_ERROR, "TLS: cert %s / ca %s: %s",
			  G.cf.cert, G.cf.ca, strerror(err));
		return 1;
	}
	ctx = tls_openssl_context(G.tls);
	/* mutual TLS: no client certificate from our CA, no handshake */
	SSL_CTX_set_verify(
		ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	(void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	(void)SSL_CTX_set_num_tickets(ctx, 0);
	err = tcp_listen(&G.ts, &laddr, conn_h, NULL);
	if (err) {
		confd_log(CONFD_LOG_ERROR, "listen %s: %s", G.cf.listen,
			  strerror(err));
		return 1;
	}
	confd_log(CONFD_LOG_INFO,
		  "listening control TLS %s (client certificates required), "
		  "RTP on %s",
		  G.cf.listen, G.cf.rtp);
	err = re_main(on_signal);
	list_flush(&G.conns);
	G.ts = mem_deref(G.ts);
	G.tls = mem_deref(G.tls);
	confd_log(CONFD_LOG_INFO, "stopped");
	return err && err != EINTR ? 1 : 0;
}

int main(int argc, char **argv)
{
	int err;

	G.cf = (struct mediad_conf){ .listen = "127.0.0.1:5070",
				     .rtp = "127.0.0.1",
				     .log_level = CONFD_LOG_INFO };
	err = parse_args(argc, argv, &G.cf);
	if (err)
		return err;
	signal(SIGPIPE, SIG_IGN);
	err = libre_init();
	if (err) {
		fprintf(stderr, "conclave-mediad: libre_init: %s\n",
			strerror(err));
		return 1;
	}
	err = run();
	libre_close();
	return err;
}
