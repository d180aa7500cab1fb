/*
 * bench_confd_ua.c -- the load process of `conclave bench confd`: many
 * UAs in this one process on libre's sipsess (as tests/confua does it,
 * one UA per dialog). UAs share SIP stacks, each with one UDP socket, 64
 * UAs to a socket. Every joiner has its own ticket from kmsd, requested
 * before the timed phase (32 requests in flight); the creation ticket
 * names the factory and the 15 member identities (the allowed set), and
 * joiners use those identities in turn, so several members share an
 * identity, each with its own ticket, CSB and dialog.
 *
 * A join is timed from sipsessconnect (INVITE with the TRANSFER_INIT
 * already built) to the ACK of the 200 OK (libre's estab handler):
 * INVITE -> confd -> RESOLVE at kmsd -> 200 OK with the TRANSFER_RESP,
 * verified here -> ACK. Re-INVITEs from the focus are answered as
 * confua does: update opened, update TRANSFER_RESP in the 200 OK.
 */
#include "bench_confd.h"

#include <re.h>

#include <conclave/conf.h>
#include <conclave/sipglue.h>

#include <inttypes.h>

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	UAS_PER_STACK = 64,
	TICKETS_IN_FLIGHT = 32,
	FD_BUDGET = 16384,
	GUARD_MS = 120000,
};

struct stack {
	struct sip *sip;
	struct sipsess_sock *sock;
	size_t n;
};

enum ua_state {
	UA_NEW,
	UA_READY,
	UA_JOINING,
	UA_MEMBER,
	UA_FAILED,
	UA_GONE
};

struct ua {
	struct bcd_load *l;
	unsigned conf;
	const struct kmsc_cred *cred;
	struct stack *st;
	enum ua_state state;
	bool creator;
	struct kmsc_request *rq;
	struct kmsc_ticket *t;
	struct kmsc_csb csb;
	struct sipsess *sess;
	struct bcd_mm mm; /* fd < 0 without media */
	uint64_t t0;
};

struct conf_s {
	char focus[KMSC_MAX_ID];
	struct ua **m;
	size_t n, cap;
	uint16_t focus_rtp;
};

struct bcd_load {
	struct bcd_env *e;
	const struct bcd_opts *o;
	struct stack **stacks;
	size_t nstacks;
	struct kmsc_httpc *httpc;
	struct conf_s c[BCD_MAX_CONFS];
	/* the phase being run */
	struct conf_s *cur;
	/* bcd_join_multi: its conferences, the next UA of each, turn */
	unsigned mc[BCD_MAX_CONFS], nmc, mc_turn;
	size_t mc_next[BCD_MAX_CONFS];
	size_t next, in_flight, from;
	struct bcd_hist *h;
	uint64_t ok, fail;
	int last_status;
	uint64_t rk_answers, rk_last, rk_want;
	uint64_t sw_infos, sw_last; /* verified switch INFOs, the last's time */
	bool rk_on, sw_on;
	struct tmr guard, poll;
	bool timeout;
	long sw_from; /* confd.log offset at the BYE */
	double *sw_ms;
	/* the join storm */
	bool paced;              /* joins started by storm_tick only */
	uint64_t st_t0, st_step; /* INVITE k at st_t0 + k * st_step (ns) */
	uint64_t st_first, st_sent, st_ack; /* first/last INVITE, last ACK */
	uint64_t st_change, st_end;         /* epochs last changed; give up */
	unsigned st_created, st_switched;
	bool st_settled;
};

static struct kmsc_env env_now(void)
{
	return (struct kmsc_env){ .now = (int64_t)time(NULL),
				  .rand = kmsc_rand_system };
}

static void sig_h(int sig)
{
	bcd_signal = sig;
	re_cancel();
}

static void guard_h(void *arg)
{
	struct bcd_load *l = arg;

	l->timeout = true;
	re_cancel();
}

static int run_loop(struct bcd_load *l)
{
	l->timeout = false;
	tmr_start(&l->guard, GUARD_MS, guard_h, l);
	(void)re_main(sig_h);
	tmr_cancel(&l->guard);
	if (bcd_signal)
		return -1;
	if (l->timeout) {
		fprintf(stderr, "bench confd: no progress for %d s\n",
			GUARD_MS / 1000);
		return -1;
	}
	return 0;
}

/* ---- set-up ------------------------------------------------------------------- */

static void conn_h(const struct sip_msg *msg, void *arg)
{
	struct stack *st = arg;

	(void)sip_treply(NULL, st->sip, msg, 486, "Busy Here");
}

static struct stack *stack_get(struct bcd_load *l)
{
	struct stack *st = l->nstacks ? l->stacks[l->nstacks - 1] : NULL;
	struct stack **ns;
	struct sa la;

	if (st && st->n < UAS_PER_STACK) {
		st->n++;
		return st;
	}
	ns = realloc(l->stacks, (l->nstacks + 1) * sizeof(*ns));
	if (!ns)
		return NULL;
	l->stacks = ns;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	if (sa_set_str(&la, "127.0.0.1", 0) ||
	    sip_alloc(&st->sip, NULL, 64, 64, 64, "conclave-bench", NULL,
		      NULL) ||
	    sip_transp_add(st->sip, SIP_TRANSP_UDP, &la) ||
	    sipsess_listen(&st->sock, st->sip, 64, conn_h, st)) {
		mem_deref(st->sock);
		mem_deref(st->sip);
		free(st);
		return NULL;
	}
	l->stacks[l->nstacks++] = st;
	st->n = 1;
	return st;
}

int bcd_load_new(struct bcd_load **lp, struct bcd_env *e,
		 const struct bcd_opts *o)
{
	struct kmsc_http_opts ho = { .timeout_ms = 10000 };
	struct bcd_load *l;
	struct rlimit rl;

	if (kmsc_net_init())
		return -1;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < FD_BUDGET) {
		rl.rlim_cur = rl.rlim_max < FD_BUDGET ? rl.rlim_max : FD_BUDGET;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			perror("bench confd: setrlimit");
	}
	if (fd_setsize(FD_BUDGET))
		return -1;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -1;
	l->e = e;
	l->o = o;
	if (kmsc_httpc_alloc(&l->httpc, &ho)) {
		free(l);
		return -1;
	}
	*lp = l;
	return 0;
}

static void ua_free(struct ua *u)
{
	u->sess = mem_deref(u->sess);
	if (u->mm.fd >= 0)
		close(u->mm.fd);
	if (u->rq)
		cc_wipe(u->rq, sizeof(*u->rq));
	free(u->rq);
	if (u->t)
		kmsc_ticket_wipe(u->t);
	free(u->t);
	kmsc_csb_free(&u->csb);
	cc_wipe(&u->mm, sizeof(u->mm));
	free(u);
}

void bcd_load_free(struct bcd_load *l)
{
	size_t i, k;

	if (!l)
		return;
	for (k = 0; k < BCD_MAX_CONFS; k++) {
		for (i = 0; i < l->c[k].n; i++)
			ua_free(l->c[k].m[i]);
		free(l->c[k].m);
	}
	kmsc_httpc_free(l->httpc);
	for (i = 0; i < l->nstacks; i++) {
		l->stacks[i]->sock = mem_deref(l->stacks[i]->sock);
		sip_close(l->stacks[i]->sip, true);
		mem_deref(l->stacks[i]->sip);
		free(l->stacks[i]);
	}
	free(l->stacks);
	free(l);
}

/* ---- tickets (not timed) ------------------------------------------------------ */

static void ticket_next(struct bcd_load *l);

static void ticket_h(const struct kmsc_status *st, const uint8_t *body,
		     size_t len, void *arg)
{
	struct ua *u = arg;
	struct bcd_load *l = u->l;
	struct kmsc_env env = env_now();
	struct kmsc_status ks;
	char buf[160];

	l->in_flight--;
	if (st->kind == KMSC_FAIL_NONE &&
	    kmsc_request_open(u->rq, u->cred, body, len, &env, u->t, &ks) ==
		    CC_OK) {
		u->state = UA_READY;
		l->ok++;
	} else {
		if (!l->fail++)
			fprintf(stderr, "bench confd: ticket: %s\n",
				kmsc_status_str(st->kind ? st : &ks, buf,
						sizeof(buf)));
		u->state = UA_FAILED;
	}
	cc_wipe(u->rq, sizeof(*u->rq));
	free(u->rq);
	u->rq = NULL;
	ticket_next(l);
}

static void ticket_next(struct bcd_load *l)
{
	struct conf_s *c = l->cur;
	struct kmsc_env env = env_now();
	const char *to[1 + BCD_IDS];
	struct kmsc_request_opts ro = { .use = KMSC_JOIN_CONFERENCE,
					.responders = to,
					.lifetime = 900 };
	size_t i;

	while (l->in_flight < TICKETS_IN_FLIGHT && l->next < c->n) {
		struct ua *u = c->m[l->next++];

		if (u->creator) {
			to[0] = BCD_FACTORY;
			for (i = 0; i < BCD_IDS; i++)
				to[1 + i] = l->e->ids[i].identity;
			ro.nresponders = 1 + BCD_IDS;
		} else {
			to[0] = c->focus;
			ro.nresponders = 1;
		}
		u->rq = calloc(1, sizeof(*u->rq));
		u->t = calloc(1, sizeof(*u->t));
		if (!u->rq || !u->t ||
		    kmsc_request_build(u->rq, u->cred, &ro, &env) ||
		    kmsc_http_post(l->httpc, u->cred->kms_url, u->rq->msg,
				   u->rq->len, ticket_h, u)) {
			u->state = UA_FAILED;
			l->fail++;
			continue;
		}
		l->in_flight++;
	}
	if (!l->in_flight && l->next >= c->n)
		re_cancel();
}

static int rtp_socket(struct bcd_mm *mm)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int buf = 1 << 20;

	mm->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (mm->fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(mm->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)) ||
	    bind(mm->fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(mm->fd, (struct sockaddr *)&a, &len))
		return -1;
	return ntohs(a.sin_port);
}

static int add_uas(struct bcd_load *l, unsigned conf, size_t n, bool rtp,
		   bool creator)
{
	struct conf_s *c = &l->c[conf];
	size_t i;

	if (c->n + n > c->cap) {
		size_t cap = (c->n + n) * 2;
		struct ua **m = realloc(c->m, cap * sizeof(*m));

		if (!m)
			return -1;
		c->m = m;
		c->cap = cap;
	}
	for (i = 0; i < n; i++) {
		struct ua *u = calloc(1, sizeof(*u));

		if (!u)
			return -1;
		u->mm.fd = -1;
		c->m[c->n++] = u;
		u->l = l;
		u->conf = conf;
		u->creator = creator;
		u->cred = creator ? &l->e->owner :
				    &l->e->ids[(c->n - 2) % BCD_IDS];
		u->st = stack_get(l);
		if (!u->st || (rtp && rtp_socket(&u->mm) < 0))
			return -1;
	}
	return 0;
}

int bcd_prepare(struct bcd_load *l, unsigned conf, size_t n, bool rtp)
{
	struct conf_s *c = &l->c[conf];
	size_t from = c->n;

	if (add_uas(l, conf, n, rtp, false))
		return -1;
	l->cur = c;
	l->next = from;
	l->in_flight = 0;
	l->ok = l->fail = 0;
	ticket_next(l);
	if (l->in_flight && run_loop(l))
		return -1;
	if (l->fail) {
		fprintf(stderr, "bench confd: %llu of %zu tickets failed\n",
			(unsigned long long)l->fail, n);
		return -1;
	}
	return 0;
}

/* ---- SIP: join, answer, rekey -------------------------------------------------- */

static void join_next(struct bcd_load *l);

static void keep_key(struct ua *u)
{
	size_t i;

	for (i = 0; i < u->csb.ntek; i++) {
		const struct kmsc_tek *t = &u->csb.tek[i];

		if (t->spi_len != 4 || !(t->spi[0] & 0x80) ||
		    t->key_len != sizeof(u->mm.tek) ||
		    t->salt_len != sizeof(u->mm.salt))
			continue;
		memcpy(u->mm.tek, t->key, t->key_len);
		memcpy(u->mm.salt, t->salt, t->salt_len);
		u->mm.mki = (uint32_t)t->spi[0] << 24 |
			    (uint32_t)t->spi[1] << 16 |
			    (uint32_t)t->spi[2] << 8 | t->spi[3];
	}
}

static int answer_h(const struct sip_msg *msg, void *arg)
{
	static struct sipglue_km km;
	struct ua *u = arg;
	struct conf_s *c = &u->l->c[u->conf];
	const char *accept[1] = { c->focus };
	struct kmsc_env env = env_now();
	struct kmsc_status st;
	const struct sip_hdr *h;

	if (u->creator) {
		h = sip_msg_xhdr(msg, "X-Conclave-Focus");
		if (h)
			(void)re_snprintf(c->focus, sizeof(c->focus), "%r",
					  &h->val);
		if (c->focus[0] == '<') {
			memmove(c->focus, c->focus + 1, strlen(c->focus));
			c->focus[strcspn(c->focus, ">")] = '\0';
		}
	}
	if (sipglue_km_parse_mbuf(msg->mb, &km) ||
	    kmsc_transfer_resp_open(&u->csb, km.mikey, km.mikey_len, accept, 1,
				    &env, &st))
		return EPROTO;
	if (km.nmedia && km.media[0].port)
		c->focus_rtp = km.media[0].port;
	keep_key(u);
	return 0;
}

static void estab_h(const struct sip_msg *msg, void *arg)
{
	struct ua *u = arg;
	struct bcd_load *l = u->l;

	(void)msg;
	if (u->state != UA_JOINING)
		return;
	u->state = UA_MEMBER;
	l->st_ack = bcd_mono_ns();
	if (l->h)
		bcd_hist_add(l->h, bcd_mono_ns() - u->t0);
	l->ok++;
	l->in_flight--;
	join_next(l);
}

static void close_h(int err, const struct sip_msg *msg, void *arg)
{
	struct ua *u = arg;
	struct bcd_load *l = u->l;

	if (u->state == UA_JOINING) {
		if (!l->fail++)
			fprintf(stderr, "bench confd: a join failed: %s %u\n",
				err ? strerror(err) : "status",
				msg ? msg->scode : 0);
		l->last_status = msg ? msg->scode : -err;
		u->state = UA_FAILED;
		l->in_flight--;
		join_next(l);
		return;
	}
	u->state = UA_GONE;
}

/* A re-INVITE: the CSB update (RFC 6043 §5.2) in the offer. */
static int offer_h(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	static struct sipglue_km km;
	static struct kmsc_update upd;
	static uint8_t resp[KMSC_MAX_MSG];
	static char sdp[SIPGLUE_MAX_SDP];
	struct ua *u = arg;
	struct bcd_load *l = u->l;
	struct kmsc_env env = env_now();
	struct kmsc_status st;
	struct sipglue_media audio = {
		.type = "audio", .port = 9, .proto = "RTP/SAVP", .fmt = "0"
	};
	struct sipglue_sdp_opts so = { .addr = "127.0.0.1",
				       .sess_id = 1,
				       .sess_ver = 2,
				       .mikey = resp,
				       .media = &audio,
				       .nmedia = 1,
				       .dir = "sendrecv" };
	size_t n = 0;
	enum cc_err err;

	err = sipglue_km_parse_mbuf(msg->mb, &km);
	if (!err)
		err = kmsc_update_open(&u->csb, km.mikey, km.mikey_len, &env,
				       &upd, &st);
	if (!err)
		err = kmsc_update_resp(&u->csb, &env, &upd, resp, sizeof(resp),
				       &so.mikey_len);
	kmsc_update_wipe(&upd);
	if (err)
		return EPROTO;
	if (u->mm.fd >= 0) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);

		if (!getsockname(u->mm.fd, (struct sockaddr *)&a, &len))
			audio.port = ntohs(a.sin_port);
	}
	if (sipglue_sdp_build(&so, sdp, sizeof(sdp), &n))
		return ENOMEM;
	*descp = mbuf_alloc(n);
	if (!*descp || mbuf_write_mem(*descp, (const uint8_t *)sdp, n))
		return ENOMEM;
	(*descp)->pos = 0;
	keep_key(u);
	l->rk_answers++;
	l->rk_last = bcd_mono_ns();
	if (l->rk_on && l->rk_answers >= l->rk_want)
		re_cancel();
	return 0;
}

/* D7: the focus's switch INFO (a map-only CSB update), verified as
 * conclave ua does (ua_rekey.c) and answered; the member then sends
 * under the MKI it names. */
static void info_h(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	static struct kmsc_update upd;
	struct ua *u = arg;
	struct kmsc_env env = env_now();
	struct kmsc_status st;
	enum cc_err err = CC_ERR_MISSING;

	if (msg->mb && mbuf_get_left(msg->mb))
		err = kmsc_update_open(&u->csb, mbuf_buf(msg->mb),
				       mbuf_get_left(msg->mb), &env, &upd, &st);
	kmsc_update_wipe(&upd);
	if (!err) {
		keep_key(u);
		u->l->sw_infos++;
		u->l->sw_last = bcd_mono_ns();
		if (u->l->sw_on && u->l->sw_infos >= u->l->rk_want)
			re_cancel();
	}
	(void)sip_treply(NULL, sip, msg, err ? 400 : 200,
			 err ? "Bad MIKEY Update" : "OK");
}

static int start_join(struct bcd_load *l, struct ua *u)
{
	static uint8_t xi[KMSC_MAX_MSG];
	static char sdp[SIPGLUE_MAX_SDP];
	struct conf_s *c = &l->c[u->conf];
	const char *target = u->creator ? BCD_FACTORY : c->focus;
	struct sipglue_media audio = {
		.type = "audio", .port = 9, .proto = "RTP/SAVP", .fmt = "0"
	};
	struct sipglue_sdp_opts so = { .addr = "127.0.0.1",
				       .sess_id = 1,
				       .sess_ver = 1,
				       .mikey = xi,
				       .media = &audio,
				       .nmedia = 1,
				       .dir = "sendrecv" };
	struct kmsc_transfer_opts xo = { .responder = target,
					 .ssrc = &u->mm.ssrc,
					 .nmedia = 1 };
	struct kmsc_env env = env_now();
	char user[KMSC_MAX_ID], host[KMSC_MAX_ID], ruri[512];
	struct mbuf *desc;
	size_t n = 0;
	int err;

	if (u->mm.fd >= 0) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);

		if (getsockname(u->mm.fd, (struct sockaddr *)&a, &len))
			return -1;
		audio.port = ntohs(a.sin_port);
	}
	if (kmsc_rand_system((uint8_t *)&u->mm.ssrc, sizeof(u->mm.ssrc),
			     NULL) ||
	    kmsc_transfer_init(&u->csb, u->t, u->cred, &xo, &env, xi,
			       sizeof(xi), &so.mikey_len) ||
	    sipglue_sdp_build(&so, sdp, sizeof(sdp), &n) ||
	    sipglue_uri_split(target, strlen(target), user, sizeof(user), host,
			      sizeof(host)))
		return -1;
	kmsc_ticket_wipe(u->t);
	free(u->t);
	u->t = NULL;
	snprintf(ruri, sizeof(ruri), "sip:%s@127.0.0.1:%d", user,
		 l->e->sip_port);
	desc = mbuf_alloc(n);
	if (!desc || mbuf_write_mem(desc, (const uint8_t *)sdp, n)) {
		mem_deref(desc);
		return -1;
	}
	desc->pos = 0;
	u->state = UA_JOINING;
	u->t0 = bcd_mono_ns();
	err = sipsess_connect(&u->sess, u->st->sock, ruri, NULL,
			      u->cred->identity, "bench", NULL, 0,
			      "application/sdp", desc, NULL, NULL, false,
			      offer_h, answer_h, NULL, estab_h, info_h, NULL,
			      close_h, u, "Recv-Info: mikey-switch\r\n");
	mem_deref(desc);
	return err ? -1 : 0;
}

/* bcd_join_multi: the next READY UA, the conferences in turn; NULL when
 * every conference is done. */
static struct ua *multi_next(struct bcd_load *l)
{
	unsigned tries;

	for (tries = 0; tries < l->nmc; tries++) {
		unsigned k = l->mc_turn++ % l->nmc;
		struct conf_s *c = &l->c[l->mc[k]];

		while (l->mc_next[k] < c->n) {
			struct ua *u = c->m[l->mc_next[k]++];

			if (u->state == UA_READY)
				return u;
		}
	}
	return NULL;
}

static void join_next(struct bcd_load *l)
{
	struct conf_s *c = l->cur;

	if (l->nmc) {
		struct ua *u = NULL;

		while (l->in_flight < l->o->conc && (u = multi_next(l))) {
			if (start_join(l, u)) {
				u->state = UA_FAILED;
				l->fail++;
				continue;
			}
			l->in_flight++;
		}
		if (!l->in_flight && !u)
			re_cancel();
		return;
	}

	/* paced (the storm): storm_tick starts the joins */
	while (!l->paced && l->in_flight < l->o->conc && l->next < c->n) {
		struct ua *u = c->m[l->next++];

		if (u->state != UA_READY)
			continue;
		if (start_join(l, u)) {
			u->state = UA_FAILED;
			l->fail++;
			continue;
		}
		l->in_flight++;
	}
	if (!l->in_flight && l->next >= c->n)
		re_cancel();
}

/* From the first READY UA of conf on. */
static size_t first_ready(const struct conf_s *c)
{
	size_t i;

	for (i = 0; i < c->n && c->m[i]->state != UA_READY; i++)
		;
	return i;
}

/* confd's CPU, both nodes with --scale. */
static double confd_cpu(const struct bcd_env *e)
{
	double c = e->confd ? bcd_cpu_of(e->confd) : 0;

	return c + (e->confd2 ? bcd_cpu_of(e->confd2) : 0);
}

static int join_run(struct bcd_load *l, struct bcd_hist *h,
		    struct bcd_join_res *r)
{
	double k0 = bcd_cpu_of(l->e->kmsd), c0 = confd_cpu(l->e);
	double s0 = bcd_cpu_of((long)getpid());
	uint64_t t0 = bcd_mono_ns();

	l->in_flight = 0;
	l->ok = l->fail = 0;
	l->h = h;
	join_next(l);
	if (l->in_flight && run_loop(l)) {
		l->nmc = 0;
		return -1;
	}
	l->nmc = 0;
	if (r) {
		r->wall_s += (double)(bcd_mono_ns() - t0) / 1e9;
		r->ok += l->ok;
		r->fail += l->fail;
		r->kmsd_cpu_s += bcd_cpu_of(l->e->kmsd) - k0;
		r->confd_cpu_s += confd_cpu(l->e) - c0;
		r->load_cpu_s += bcd_cpu_of((long)getpid()) - s0;
	}
	l->h = NULL;
	return l->fail && !l->ok ? -1 : 0;
}

int bcd_join(struct bcd_load *l, unsigned conf, struct bcd_hist *h,
	     struct bcd_join_res *r)
{
	struct conf_s *c = &l->c[conf];

	l->cur = c;
	l->next = first_ready(c);
	l->nmc = 0;
	return join_run(l, h, r);
}

int bcd_join_multi(struct bcd_load *l, const unsigned *confs, unsigned n,
		   struct bcd_hist *h, struct bcd_join_res *r)
{
	unsigned k;

	if (!n || n > BCD_MAX_CONFS)
		return -1;
	for (k = 0; k < n; k++) {
		l->mc[k] = confs[k];
		l->mc_next[k] = first_ready(&l->c[confs[k]]);
	}
	l->cur = &l->c[confs[0]];
	l->next = l->cur->n; /* unused while nmc */
	l->mc_turn = 0;
	l->nmc = n;
	return join_run(l, h, r);
}

int bcd_create(struct bcd_load *l, unsigned conf, bool rtp)
{
	struct conf_s *c = &l->c[conf];

	if (add_uas(l, conf, 1, rtp, true))
		return -1;
	l->cur = c;
	l->next = c->n - 1;
	l->in_flight = 0;
	l->ok = l->fail = 0;
	ticket_next(l);
	if ((l->in_flight && run_loop(l)) || l->fail ||
	    bcd_join(l, conf, NULL, NULL) || !c->focus[0]) {
		fprintf(stderr,
			"bench confd: creating conference %u failed "
			"(last status %d)\n",
			conf + 1, l->last_status);
		return -1;
	}
	fprintf(stderr, "bench confd: conference %s created\n", c->focus);
	return 0;
}

static void switch_poll(void *arg)
{
	struct bcd_load *l = arg;

	*l->sw_ms = bcd_confd_span_ms(l->e, l->sw_from, " left (BYE)",
				      ": SWITCH_MKI epoch ");
	if (*l->sw_ms >= 0)
		re_cancel();
	else
		tmr_start(&l->poll, 100, switch_poll, l);
}

int bcd_rekey(struct bcd_load *l, unsigned conf, struct bcd_rekey_res *r)
{
	struct conf_s *c = &l->c[conf];
	struct ua *leaver = NULL;
	uint64_t t0;
	size_t i, members = 0;
	long off;
	int rc;

	for (i = 0; i < c->n; i++)
		if (c->m[i]->state == UA_MEMBER) {
			members++;
			leaver = c->m[i];
		}
	if (!leaver || members < 2)
		return -1;
	r->members = (unsigned)(members - 1);
	l->rk_answers = 0;
	l->sw_infos = 0;
	l->rk_want = members - 1;
	l->rk_on = true;
	/* --scale: the node of the conference (its focus URI's tag) */
	snprintf(l->e->rk_log, sizeof(l->e->rk_log), "%s",
		 strstr(c->focus, "-n2.") ? "confd2.log" : "confd.log");
	off = bcd_log_size(l->e, l->e->rk_log);
	t0 = bcd_mono_ns();
	leaver->sess = mem_deref(leaver->sess); /* BYE */
	leaver->state = UA_GONE;
	rc = run_loop(l);
	l->rk_on = false;
	r->answered = l->rk_answers;
	r->done = !rc && l->rk_answers >= l->rk_want;
	r->load_ms = l->rk_answers ? (double)(l->rk_last - t0) / 1e6 : -1;
	/* confd logs SWITCH_MKI once the last ack is processed; libre's
	 * loop keeps running meanwhile (200 OK retransmissions, ACKs) */
	r->confd_ms = -1;
	if (r->done) {
		l->sw_from = off;
		l->sw_ms = &r->confd_ms;
		tmr_start(&l->poll, 100, switch_poll, l);
		rc = run_loop(l);
		tmr_cancel(&l->poll);
	}
	/* D7: every member told to switch (INFOs go out 64 at a time) */
	if (!rc && r->done && l->sw_infos < l->rk_want) {
		l->sw_on = true;
		rc = run_loop(l);
		l->sw_on = false;
	}
	r->switched = l->sw_infos;
	r->switch_ms = l->sw_infos ? (double)(l->sw_last - t0) / 1e6 : -1;
	return rc;
}

struct sipsess_sock *bcd_sock(struct bcd_load *l)
{
	struct stack *st = stack_get(l);

	return st ? st->sock : NULL;
}

const char *bcd_focus(const struct bcd_load *l, unsigned conf)
{
	return l->c[conf].focus;
}

size_t bcd_members(const struct bcd_load *l, unsigned conf)
{
	const struct conf_s *c = &l->c[conf];
	size_t i, n = 0;

	for (i = 0; i < c->n; i++)
		n += c->m[i]->state == UA_MEMBER;
	return n;
}

int bcd_run(struct bcd_load *l)
{
	return run_loop(l);
}

static void idle_h(void *arg)
{
	(void)arg;
	re_cancel();
}

int bcd_idle(struct bcd_load *l, unsigned ms)
{
	tmr_start(&l->poll, ms, idle_h, l);
	return run_loop(l);
}

size_t bcd_timers(void)
{
	char buf[256] = "";
	unsigned n = 0;

	/* tmr_status prints "Timers (N):" and then each timer (cut off) */
	(void)re_snprintf(buf, sizeof(buf), "%H", tmr_status, NULL);
	return sscanf(buf, "Timers (%u)", &n) == 1 ? n : 0;
}

size_t bcd_media_members(struct bcd_load *l, unsigned conf, struct bcd_mm **out,
			 uint16_t *focus_port)
{
	struct conf_s *c = &l->c[conf];
	size_t i, n = 0;

	*out = calloc(c->n ? c->n : 1, sizeof(**out));
	if (!*out)
		return 0;
	for (i = 0; i < c->n; i++)
		if (c->m[i]->state == UA_MEMBER && c->m[i]->mm.fd >= 0)
			(*out)[n++] = c->m[i]->mm;
	*focus_port = c->focus_rtp;
	return n;
}

/* ---- the join storm (issue 5 §4) ------------------------------------------ */

enum {
	STORM_QUIET_MS = BCD_STORM_MIN_REKEY_MS + 500,
	STORM_SETTLE_MS = 20000,
};

/* The newest group-key MKI (top bit set) the UA's CSB holds. */
static uint32_t newest_mki(const struct ua *u)
{
	uint32_t best = 0, mki;
	size_t i;

	for (i = 0; i < u->csb.ntek; i++) {
		const struct kmsc_tek *t = &u->csb.tek[i];

		if (t->spi_len != 4 || !(t->spi[0] & 0x80))
			continue;
		mki = (uint32_t)t->spi[0] << 24 | (uint32_t)t->spi[1] << 16 |
		      (uint32_t)t->spi[2] << 8 | t->spi[3];
		if (mki > best)
			best = mki;
	}
	return best;
}

/* Start every join whose time has come; then the next tick. */
static void storm_tick(void *arg)
{
	struct bcd_load *l = arg;
	struct conf_s *c = l->cur;
	uint64_t now = bcd_mono_ns(), due = 0;

	while (l->next < c->n) {
		struct ua *u = c->m[l->next];

		due = l->st_t0 + l->st_step * (uint64_t)(l->next - l->from);
		if (due > now)
			break;
		l->next++;
		if (u->state != UA_READY)
			continue;
		if (start_join(l, u)) {
			u->state = UA_FAILED;
			l->fail++;
			continue;
		}
		l->st_sent = bcd_mono_ns();
		if (!l->st_first)
			l->st_first = l->st_sent;
		l->in_flight++;
	}
	if (l->next < c->n)
		tmr_start(&l->poll, (due - now) / 1000000, storm_tick, l);
	else if (!l->in_flight)
		re_cancel();
}

/* Settled: the newest epoch created since sw_from is switched (or none
 * was created), and nothing changed for STORM_QUIET_MS since then and
 * since the last ACK: a rekey still due would have started by now (at
 * most min-rekey-interval after the last start, the rollout done). */
static void settle_poll(void *arg)
{
	struct bcd_load *l = arg;
	uint64_t now = bcd_mono_ns(), quiet = STORM_QUIET_MS * 1000000ull;
	struct bcd_epochs ep;

	bcd_confd_epochs(l->e, l->sw_from, &ep);
	if (ep.created != l->st_created || ep.switched != l->st_switched) {
		l->st_created = ep.created;
		l->st_switched = ep.switched;
		l->st_change = now;
	}
	if ((!ep.created || ep.last_switched >= ep.last_created) &&
	    now - l->st_change >= quiet && now - l->st_ack >= quiet) {
		l->st_settled = true;
		re_cancel();
		return;
	}
	if (now >= l->st_end) {
		re_cancel();
		return;
	}
	tmr_start(&l->poll, 50, settle_poll, l);
}

static int settle(struct bcd_load *l, long from)
{
	int rc;

	l->sw_from = from;
	l->st_created = l->st_switched = 0;
	l->st_settled = false;
	l->st_change = bcd_mono_ns();
	l->st_end = l->st_change + STORM_SETTLE_MS * 1000000ull;
	tmr_start(&l->poll, 0, settle_poll, l);
	rc = run_loop(l);
	tmr_cancel(&l->poll);
	return rc;
}

int bcd_storm(struct bcd_load *l, unsigned conf, struct bcd_storm_res *r,
	      FILE *out)
{
	struct conf_s *c = &l->c[conf];
	struct bcd_epochs ep;
	uint32_t final;
	size_t i, n;

	/* the creation's epochs first: then the storm's first join finds no
	 * rekey for min-rekey-interval behind it (the worst case) */
	l->st_ack = bcd_mono_ns();
	if (settle(l, 0) || !l->st_settled) {
		fprintf(stderr, "bench confd: epochs before the storm did "
				"not settle\n");
		return -1;
	}
	bcd_confd_epochs(l->e, 0, &ep);
	r->epoch_before = ep.last_created;
	r->log_from = bcd_log_size(l->e, "confd.log");
	l->cur = c;
	l->next = l->from = first_ready(c);
	n = c->n - l->from;
	l->in_flight = 0;
	l->ok = l->fail = 0;
	l->h = NULL;
	l->paced = true;
	l->st_first = l->st_sent = 0;
	l->st_step = n > 1 ? (uint64_t)(l->o->storm_spread * 1e9) / (n - 1) : 0;
	l->st_t0 = bcd_mono_ns();
	fprintf(stderr,
		"bench confd: storm: %zu joins over %.3f s, after epoch "
		"%" PRIu32 "\n",
		n, l->o->storm_spread, r->epoch_before);
	storm_tick(l);
	if (l->next < c->n || l->in_flight) {
		if (run_loop(l))
			return -1;
	}
	l->paced = false;
	r->ok = l->ok;
	r->fail = l->fail;
	r->last_status = l->last_status;
	r->invite_span_ms = (double)(l->st_sent - l->st_first) / 1e6;
	r->join_span_ms = l->ok ? (double)(l->st_ack - l->st_first) / 1e6 : -1;
	if (!l->ok)
		l->st_ack = bcd_mono_ns();
	if (settle(l, r->log_from))
		return -1;
	r->settled = l->st_settled;
	r->settle_ms = (double)(bcd_mono_ns() - l->st_ack) / 1e6;
	bcd_confd_epochs(l->e, r->log_from, &ep);
	final = ep.created ? ep.last_created : r->epoch_before;
	r->members = r->on_final = 0;
	for (i = 0; i < c->n; i++) {
		const struct ua *u = c->m[i];
		uint32_t mki;

		if (u->state != UA_MEMBER)
			continue;
		mki = newest_mki(u);
		r->members++;
		if (mki == conf_mki(final))
			r->on_final++;
		fprintf(out, "member %zu %s mki=0x%08" PRIx32 "\n", i,
			u->cred->identity, mki);
	}
	return 0;
}
