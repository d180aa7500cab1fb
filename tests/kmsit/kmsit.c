/*
 * kmsit.c -- the protocol side of tests/kms_integration.sh: the KMS client
 * (kmsc.h) against a running conclave-kmsd over real HTTP.
 *
 *   kmsit flow DIR            happy path, key forking, patterns, group key
 *   kmsit errors DIR          every KMS error with its MIKEY Error number;
 *                             after each one a good request is served
 *   kmsit request DIR FILE    Alice gets a ticket for Bob, saved to FILE
 *   kmsit redeem DIR FILE     the saved ticket: transfer, Bob resolves,
 *                             answer, verify, same TEKs
 *   kmsit call DIR            the happy path only (e.g. over HTTPS)
 *   kmsit post URL WHAT       send garbage / truncated / oversized
 *                             bodies; print "http STATUS mikey N kind K"
 *
 * DIR holds alice.cred, bob.cred, carol.cred, focus1.cred (conf1-focus as
 * sip:focus17.conf1@...), focus2.cred (conf2-focus as focus17.conf2).
 * --skew N sets the client's timestamp window (the daemon's must match);
 * --ca FILE trusts FILE for https:// KMS URLs.
 * Exit 0 = every check passed.
 */
#include <conclave/kmsc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FACTORY1 "sip:factory.conf1@example.org"
#define FOCUS1 "sip:focus*.conf1@example.org"

static int failures;
static uint32_t g_skew = 300;
static struct kmsc_http_opts g_http = { .timeout_ms = 5000 };

#define EXPECT(cond, ...)                                             \
	do {                                                          \
		if (!(cond)) {                                        \
			fprintf(stderr, "kmsit:%d: FAIL ", __LINE__); \
			fprintf(stderr, __VA_ARGS__);                 \
			fputc('\n', stderr);                          \
			failures++;                                   \
		}                                                     \
	} while (0)

struct creds {
	struct kmsc_cred alice, bob, carol, focus1, focus2;
};

static struct creds C;

static struct kmsc_env env_at(int64_t dt)
{
	return (struct kmsc_env){ .now = (int64_t)time(NULL) + dt,
				  .skew = g_skew,
				  .rand = kmsc_rand_system };
}

static const char *sstr(const struct kmsc_status *st)
{
	static char buf[160];

	return kmsc_status_str(st, buf, sizeof(buf));
}

static void load(const char *dir, const char *name, struct kmsc_cred *c)
{
	char path[512];
	enum cc_err err;

	snprintf(path, sizeof(path), "%s/%s.cred", dir, name);
	err = kmsc_cred_load(path, c);
	if (err) {
		fprintf(stderr, "kmsit: %s: %s\n", path, cc_strerror(err));
		exit(2);
	}
}

static void load_all(const char *dir)
{
	load(dir, "alice", &C.alice);
	load(dir, "bob", &C.bob);
	load(dir, "carol", &C.carol);
	load(dir, "focus1", &C.focus1);
	load(dir, "focus2", &C.focus2);
}

static enum cc_err ticket(const struct kmsc_cred *c, enum kmsc_use use,
			  const char *to1, const char *to2, uint32_t life,
			  struct kmsc_ticket *t, struct kmsc_status *st)
{
	const char *to[2] = { to1, to2 };
	struct kmsc_request_opts o = { .use = use,
				       .responders = to,
				       .nresponders = to2 ? 2 : 1,
				       .lifetime = life };
	struct kmsc_env env = env_at(0);

	return kmsc_request_ticket(c, &o, &env, &g_http, t, st);
}

static enum cc_err transfer(const struct kmsc_ticket *t,
			    const struct kmsc_cred *from, const char *to,
			    uint32_t ssrc, struct kmsc_csb *ci, uint8_t *out,
			    size_t *len)
{
	struct kmsc_transfer_opts o = { .responder = to,
					.ssrc = &ssrc,
					.nmedia = 1 };
	struct kmsc_env env = env_at(0);

	return kmsc_transfer_init(ci, t, from, &o, &env, out, KMSC_MAX_MSG,
				  len);
}

static enum cc_err resolve(const struct kmsc_responder *r, const uint8_t *xi,
			   size_t xl, struct kmsc_csb *cr,
			   struct kmsc_status *st)
{
	struct kmsc_env env = env_at(0);

	return kmsc_resolve_ticket(cr, r, xi, xl, &env, &g_http, st);
}

static enum cc_err answer(struct kmsc_csb *cr, uint32_t ssrc,
			  const struct kmsc_key *k, size_t nk, uint8_t *out,
			  size_t *len)
{
	struct kmsc_answer_opts o = {
		.ssrc = &ssrc, .nmedia = 1, .supply = k, .nsupply = nk
	};
	struct kmsc_env env = env_at(0);

	return kmsc_transfer_resp(cr, &o, &env, out, KMSC_MAX_MSG, len);
}

static bool same_teks(const struct kmsc_csb *a, const struct kmsc_csb *b)
{
	size_t i;

	if (a->ntek != b->ntek || !a->ntek)
		return false;
	for (i = 0; i < a->ntek; i++) {
		const struct kmsc_tek *x = &a->tek[i];
		const struct kmsc_tek *y = kmsc_csb_tek(b, x->cs_id);

		if (!y || x->key_len != y->key_len ||
		    x->salt_len != y->salt_len || x->ssrc != y->ssrc ||
		    memcmp(x->key, y->key, x->key_len) ||
		    memcmp(x->salt, y->salt, x->salt_len))
			return false;
	}
	return true;
}

/* Initiator `from` with ticket t calls `to`; responder r answers. */
static bool call(const struct kmsc_ticket *t, const struct kmsc_cred *from,
		 const char *to, const struct kmsc_responder *r,
		 const char *const *accept, size_t nacc,
		 const struct kmsc_key *k, size_t nk)
{
	static struct kmsc_csb ci, cr;
	uint8_t xi[KMSC_MAX_MSG], xr[KMSC_MAX_MSG];
	struct kmsc_env env = env_at(0);
	struct kmsc_status st;
	size_t xl = 0, rl = 0;
	enum cc_err err;
	bool ok;

	err = transfer(t, from, to, 0x1111, &ci, xi, &xl);
	EXPECT(!err, "transfer_init: %s", cc_strerror(err));
	if (!err) {
		err = resolve(r, xi, xl, &cr, &st);
		EXPECT(!err, "resolve: %s", sstr(&st));
	}
	if (!err) {
		err = answer(&cr, 0x2222, k, nk, xr, &rl);
		EXPECT(!err, "transfer_resp: %s", cc_strerror(err));
	}
	if (!err) {
		err = kmsc_transfer_resp_open(&ci, xr, rl, accept, nacc, &env,
					      &st);
		EXPECT(!err, "transfer_resp_open: %s", sstr(&st));
	}
	ok = !err && same_teks(&ci, &cr);
	EXPECT(err || ok, "TEKs differ between Initiator and Responder");
	kmsc_csb_free(&ci);
	kmsc_csb_free(&cr);
	return ok;
}

/* ---- flow -------------------------------------------------------------- */

static void flow_happy(void)
{
	struct kmsc_responder rb = { .cred = &C.bob };
	static struct kmsc_ticket t;
	struct kmsc_status st;
	enum cc_err err;

	err = ticket(&C.alice, KMSC_CALL, C.bob.identity, NULL, 600, &t, &st);
	EXPECT(!err, "request: %s", sstr(&st));
	if (!err && call(&t, &C.alice, C.bob.identity, &rb, NULL, 0, NULL, 0))
		printf("ok happy path: Alice and Bob share the TEKs of CS 1, "
		       "2\n");
	kmsc_ticket_wipe(&t);
}

static void flow_fork(void)
{
	struct kmsc_responder rb = { .cred = &C.bob },
			      rc = { .cred = &C.carol };
	static struct kmsc_ticket t;
	static struct kmsc_csb ci, b, c;
	uint8_t xi[KMSC_MAX_MSG], xc[KMSC_MAX_MSG];
	struct kmsc_status st;
	size_t xl = 0, cl = 0;
	enum cc_err err;

	err = ticket(&C.alice, KMSC_CALL, C.bob.identity, C.carol.identity, 600,
		     &t, &st);
	EXPECT(!err, "request for Bob and Carol: %s", sstr(&st));
	if (err)
		return;
	EXPECT(!transfer(&t, &C.alice, C.bob.identity, 1, &ci, xi, &xl), "trans"
									 "fer "
									 "to "
									 "Bob");
	EXPECT(!resolve(&rb, xi, xl, &b, &st), "Bob resolves: %s", sstr(&st));
	err = resolve(&rc, xi, xl, &c, &st);
	EXPECT(err == CC_ERR_BAD_MAC,
	       "Bob's TRANSFER_INIT at Carol: %s, want bad MAC", sstr(&st));
	kmsc_csb_free(&ci);
	EXPECT(!transfer(&t, &C.alice, C.carol.identity, 2, &ci, xc, &cl),
	       "transfer to Carol");
	EXPECT(!resolve(&rc, xc, cl, &c, &st), "Carol resolves: %s", sstr(&st));
	EXPECT(b.mpk_len && c.mpk_len &&
		       memcmp(b.mpkr_fork, c.mpkr_fork, b.mpk_len),
	       "MPKr' of Bob and Carol must differ");
	if (!err || err == CC_ERR_BAD_MAC)
		printf("ok key forking: Carol gets her own MPKr', Bob's "
		       "TRANSFER_INIT fails at her\n");
	kmsc_csb_free(&ci);
	kmsc_csb_free(&b);
	kmsc_csb_free(&c);
	kmsc_ticket_wipe(&t);
}

static void flow_patterns(void)
{
	const char *alias[] = { FACTORY1 };
	const char *accept[] = { FOCUS1 };
	struct kmsc_responder f1 = { .cred = &C.focus1,
				     .aliases = alias,
				     .naliases = 1 },
			      f2 = { .cred = &C.focus2, .defer_authz = true };
	struct kmsc_key group = { .type = MIKEY_KEY_TEK_SALT,
				  .key_len = 16,
				  .salt_len = 14,
				  .spi = { 0x80, 0, 0, 1 },
				  .spi_len = 4 };
	static struct kmsc_ticket t;
	static struct kmsc_csb ci, c2;
	uint8_t xi[KMSC_MAX_MSG];
	struct kmsc_status st;
	size_t xl = 0;
	enum cc_err err;

	if (kmsc_rand_system(group.key, 30, NULL))
		exit(2);
	err = ticket(&C.alice, KMSC_JOIN_CONFERENCE, FACTORY1, NULL, 600, &t,
		     &st);
	EXPECT(!err, "JOIN ticket for the factory: %s", sstr(&st));
	if (err)
		return;
	EXPECT(t.flags & MIKEY_TPF_M, "M not granted for the factory");
	if (call(&t, &C.alice, FACTORY1, &f1, accept, 1, &group, 1))
		printf("ok patterns: focus17.conf1 resolves the factory.conf1 "
		       "ticket and hands out the group key\n");
	EXPECT(!transfer(&t, &C.alice, FACTORY1, 3, &ci, xi, &xl), "transfer");
	err = resolve(&f2, xi, xl, &c2, &st);
	EXPECT(err && st.kind == KMSC_FAIL_MIKEY &&
		       st.mikey_err == MIKEY_ERR_INVALID_TPPAR,
	       "focus17.conf2: %s, want MIKEY Error 15", sstr(&st));
	if (err && st.mikey_err == MIKEY_ERR_INVALID_TPPAR)
		printf("ok patterns: focus17.conf2 is refused (MIKEY Error "
		       "15)\n");
	kmsc_csb_free(&ci);
	kmsc_csb_free(&c2);
	kmsc_ticket_wipe(&t);
}

static int cmd_flow(const char *dir)
{
	load_all(dir);
	flow_happy();
	flow_fork();
	flow_patterns();
	return failures ? 1 : 0;
}

/* ---- errors -------------------------------------------------------------- */

/* POST raw bytes; the MIKEY Error no of the answer (-1 if none). */
static int post_errno(const char *url, const uint8_t *msg, size_t len,
		      struct kmsc_status *st)
{
	uint8_t resp[KMSC_MAX_MSG];
	struct mikey_msg m;
	const struct mikey_pl *e;
	size_t n = 0;

	if (kmsc_http_call_opts(url, msg, len, resp, sizeof(resp), &n, &g_http,
				st))
		return -1;
	if (mikey_decode(resp, n, &m, NULL) ||
	    m.hdr.data_type != MIKEY_DT_ERROR)
		return -1;
	e = mikey_chain_find(&m.ch, MIKEY_PT_ERR, 0);
	return e ? e->u.err.errno_ : -1;
}

/* After every refusal the daemon must still serve a good request. */
static void still_serving(const char *after)
{
	static struct kmsc_ticket t;
	struct kmsc_status st;
	enum cc_err err;

	err = ticket(&C.alice, KMSC_CALL, C.bob.identity, NULL, 600, &t, &st);
	EXPECT(!err, "after %s the daemon did not serve: %s", after, sstr(&st));
	kmsc_ticket_wipe(&t);
}

static void expect_errno(const char *what, const char *url, const uint8_t *msg,
			 size_t len, int want)
{
	struct kmsc_status st;
	int got = post_errno(url, msg, len, &st);

	EXPECT(got == want, "%s: MIKEY Error %d (%s), want %d", what, got,
	       sstr(&st), want);
	if (got == want)
		printf("ok %s: MIKEY Error %d (%s)\n", what, got,
		       mikey_errno_name((unsigned)got));
	still_serving(what);
}

static void request_msg(const struct kmsc_cred *c, int64_t dt,
			struct kmsc_request *rq)
{
	const char *to[] = { C.bob.identity };
	struct kmsc_request_opts o = { .responders = to, .nresponders = 1 };
	struct kmsc_env env = env_at(dt);

	if (kmsc_request_build(rq, c, &o, &env))
		exit(2);
}

/* A RESOLVE_INIT_PSK built by hand: what our client's early checks
 * would never send. */
static size_t raw_resolve(const struct kmsc_cred *c,
			  const struct mikey_pl_ticket *tk, uint8_t *out,
			  size_t cap)
{
	uint8_t rr[16];
	struct mikey_msg m;
	struct mikey_msg_keys k;
	struct mikey_seal_opts so = { .keys = &k };
	struct mikey_pl *pl;
	struct cc_wr wr;
	int64_t now = (int64_t)time(NULL);

	if (kmsc_rand_system(rr, sizeof(rr), NULL) ||
	    mikey_derive_msg_keys(MIKEY_PRF_MIKEY1, c->psk, c->psk_len, 0x5151,
				  MIKEY_LBL_INIT, (struct cc_slice){ NULL, 0 },
				  (struct cc_slice){ rr, 16 },
				  MIKEY_ENCR_AES_CM_128,
				  MIKEY_MAC_HMAC_SHA1_160, &k))
		exit(2);
	mikey_msg_init(&m, MIKEY_DT_RESOLVE_INIT_PSK, true, MIKEY_PRF_MIKEY1,
		       0x5151, MIKEY_MAP_EMPTY);
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, mikey_ntp_from_unix(now, 0));
	mikey_add_randr(&m.ch, MIKEY_RANDR_R, (struct cc_slice){ rr, 16 });
	mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI, mikey_str(c->identity));
	mikey_add_idr(&m.ch, MIKEY_IDR_KMS, MIKEY_ID_URI,
		      mikey_str(c->kms_identity));
	pl = mikey_chain_add(&m.ch, MIKEY_PT_TICKET);
	pl->u.ticket = *tk;
	mikey_add_idr(&m.ch, MIKEY_IDR_PSK, MIKEY_ID_BYTES,
		      mikey_str(c->psk_id));
	mikey_add_v(&m.ch);
	so.extra = (struct mikey_mac_extra){
		{ mikey_str(c->identity), mikey_str(c->kms_identity) }, 2
	};
	cc_wr_init(&wr, out, cap);
	if (mikey_seal(&m, &so, &wr))
		exit(2);
	mikey_msg_keys_wipe(&k);
	return wr.pos;
}

/* A TRANSFER_INIT for Bob from a fresh ticket; its TICKET in *tk. */
static void bob_ticket(uint32_t life, uint8_t *xi, size_t *xl,
		       struct mikey_msg *m, struct mikey_pl_ticket *tk)
{
	static struct kmsc_ticket t;
	static struct kmsc_csb ci;
	struct kmsc_status st;

	if (ticket(&C.alice, KMSC_CALL, C.bob.identity, NULL, life, &t, &st) ||
	    transfer(&t, &C.alice, C.bob.identity, 9, &ci, xi, xl) ||
	    mikey_decode(xi, *xl, m, NULL)) {
		fprintf(stderr, "kmsit: no ticket for Bob: %s\n", sstr(&st));
		exit(1);
	}
	*tk = mikey_chain_find(&m->ch, MIKEY_PT_TICKET, 0)->u.ticket;
	kmsc_csb_free(&ci);
	kmsc_ticket_wipe(&t);
}

static void resolve_errors(const char *url)
{
	uint8_t xi[KMSC_MAX_MSG], xe[KMSC_MAX_MSG], req[KMSC_MAX_MSG];
	struct mikey_pl_ticket tk, bad, old;
	struct mikey_msg m, me;
	size_t xl = 0, el = 0, n;

	bob_ticket(600, xi, &xl, &m, &tk);
	n = raw_resolve(&C.carol, &tk, req, sizeof(req));
	expect_errno("resolver not allowed", url, req, n,
		     MIKEY_ERR_INVALID_TPPAR);
	bad = tk;
	bad.ticket_type = 0xf001;
	n = raw_resolve(&C.bob, &bad, req, sizeof(req));
	expect_errno("unsupported ticket type", url, req, n,
		     MIKEY_ERR_INVALID_TICKET);
	/* expired: a 2-second ticket (1 s can lapse before the KMS reads
	 * the request, which it then refuses as already over), resolved
	 * once its end and the skew have passed */
	bob_ticket(2, xe, &el, &me, &old);
	sleep(g_skew + 3);
	n = raw_resolve(&C.bob, &old, req, sizeof(req));
	expect_errno("expired ticket", url, req, n, MIKEY_ERR_INVALID_TPPAR);
}

static int cmd_errors(const char *dir)
{
	static struct kmsc_request rq;
	struct kmsc_cred bad;
	const char *url;

	load_all(dir);
	url = C.alice.kms_url;
	bad = C.alice;
	snprintf(bad.psk_id, sizeof(bad.psk_id), "nobody-psk");
	request_msg(&bad, 0, &rq);
	expect_errno("unknown user", url, rq.msg, rq.len, MIKEY_ERR_INVALID_ID);
	bad = C.alice;
	bad.psk[0] ^= 1;
	request_msg(&bad, 0, &rq);
	expect_errno("bad MAC", url, rq.msg, rq.len, MIKEY_ERR_AUTH_FAILURE);
	kmsc_cred_wipe(&bad);
	request_msg(&C.alice, -(int64_t)g_skew - 10, &rq);
	expect_errno("stale timestamp", url, rq.msg, rq.len,
		     MIKEY_ERR_INVALID_TS);
	request_msg(&C.alice, 0, &rq);
	EXPECT(post_errno(url, rq.msg, rq.len, NULL) == -1, "first copy "
							    "refused");
	expect_errno("replay", url, rq.msg, rq.len, MIKEY_ERR_INVALID_TS);
	expect_errno("malformed (garbage)", url,
		     (const uint8_t *)"this is not MIKEY", 17,
		     MIKEY_ERR_UNSPECIFIED);
	request_msg(&C.alice, 0, &rq);
	expect_errno("malformed (truncated)", url, rq.msg, rq.len - 5,
		     MIKEY_ERR_UNSPECIFIED);
	resolve_errors(url);
	return failures ? 1 : 0;
}

/* ---- request / redeem (restart) ------------------------------------------- */

static int cmd_request(const char *dir, const char *file)
{
	static struct kmsc_ticket t;
	struct kmsc_status st;
	enum cc_err err;
	FILE *f;

	load_all(dir);
	err = ticket(&C.alice, KMSC_CALL, C.bob.identity, NULL, 3600, &t, &st);
	if (err) {
		fprintf(stderr, "kmsit: request: %s\n", sstr(&st));
		return 1;
	}
	umask(077);
	f = fopen(file, "wb");
	if (!f || fwrite(&t, sizeof(t), 1, f) != 1 || fclose(f)) {
		perror(file);
		return 2;
	}
	kmsc_ticket_wipe(&t);
	printf("ok ticket saved\n");
	return 0;
}

static int cmd_redeem(const char *dir, const char *file)
{
	struct kmsc_responder rb = { .cred = &C.bob };
	static struct kmsc_ticket t;
	FILE *f = fopen(file, "rb");
	bool ok;

	load_all(dir);
	if (!f || fread(&t, sizeof(t), 1, f) != 1) {
		perror(file);
		return 2;
	}
	fclose(f);
	ok = call(&t, &C.alice, C.bob.identity, &rb, NULL, 0, NULL, 0);
	kmsc_ticket_wipe(&t);
	if (ok)
		printf("ok the saved ticket resolved; same TEKs\n");
	return ok && !failures ? 0 : 1;
}

/* ---- raw posts ------------------------------------------------------------ */

static int cmd_post(const char *url, const char *what)
{
	static uint8_t body[1 << 20];
	struct kmsc_http_opts o = g_http;
	uint8_t resp[KMSC_MAX_MSG];
	struct kmsc_status st;
	size_t len = 0, n = 0;
	int no = -1;

	if (!strcmp(what, "garbage")) {
		len = 64;
		memset(body, 0xa5, len);
	} else if (!strcmp(what, "truncated")) {
		body[0] = 1; /* version 1, then nothing */
		len = 3;
	} else if (!strcmp(what, "oversized")) {
		len = sizeof(body);
		memset(body, 1, len);
	} else {
		fprintf(stderr, "kmsit post: garbage|truncated|oversized\n");
		return 2;
	}
	o.max_body = sizeof(resp);
	if (!kmsc_http_call_opts(url, body, len, resp, sizeof(resp), &n, &o,
				 &st)) {
		struct mikey_msg m;

		if (!mikey_decode(resp, n, &m, NULL) &&
		    m.hdr.data_type == MIKEY_DT_ERROR)
			no = mikey_chain_find(&m.ch, MIKEY_PT_ERR, 0)
				     ->u.err.errno_;
	}
	printf("http %d mikey %d kind %d\n", st.http_status, no, st.kind);
	return 0;
}

static void __attribute__((noreturn)) usage(void)
{
	fputs("usage: kmsit [--skew N] [--ca FILE] flow|errors|call DIR |\n"
	      "             request|redeem DIR FILE |\n"
	      "             post URL garbage|truncated|oversized\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	int i = 1, rc;

	for (; argc - i > 2 && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--skew"))
			g_skew = (uint32_t)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--ca"))
			g_http.ca_file = argv[i + 1];
		else
			usage();
	}
	if (argc - i < 2)
		usage();
	if (!strcmp(argv[i], "flow"))
		rc = cmd_flow(argv[i + 1]);
	else if (!strcmp(argv[i], "call")) {
		load_all(argv[i + 1]);
		flow_happy();
		rc = failures ? 1 : 0;
	} else if (!strcmp(argv[i], "errors"))
		rc = cmd_errors(argv[i + 1]);
	else if (!strcmp(argv[i], "request") && argc - i == 3)
		rc = cmd_request(argv[i + 1], argv[i + 2]);
	else if (!strcmp(argv[i], "redeem") && argc - i == 3)
		rc = cmd_redeem(argv[i + 1], argv[i + 2]);
	else if (!strcmp(argv[i], "post") && argc - i == 3)
		rc = cmd_post(argv[i + 1], argv[i + 2]);
	else
		usage();
	kmsc_cred_wipe(&C.alice);
	kmsc_cred_wipe(&C.bob);
	kmsc_cred_wipe(&C.carol);
	kmsc_cred_wipe(&C.focus1);
	kmsc_cred_wipe(&C.focus2);
	if (failures)
		fprintf(stderr, "kmsit: %d check(s) failed\n", failures);
	return rc;
}
