/*
 * test_kms_flow.c -- the mode-1 exchange set in one process: the KMS
 * client (kmsc.h), the real KMS core (kms.h) and the real SQLite store
 * (kms_store.h) in a temporary directory, no HTTP. Issue 3 §6 minus the
 * transport: happy path, key forking, identity patterns, every KMS error
 * with its MIKEY Error number and no state change, ticket-key rotation,
 * and the Responder's early checks. The clock is a variable we move.
 */
#include <conclave/kms_store.h>
#include <conclave/kmsc.h>

#include "check.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KMS_ID "sip:kms.example.org"
#define ALICE "sip:alice@example.org"
#define BOB "sip:bob@example.org"
#define CAROL "sip:carol@example.org"
#define FACTORY1 "sip:factory.conf1@example.org"
#define FOCUS1 "sip:focus*.conf1@example.org"
#define FOCUS17_1 "sip:focus17.conf1@example.org"
#define FACTORY2 "sip:factory.conf2@example.org"
#define FOCUS2 "sip:focus*.conf2@example.org"
#define FOCUS17_2 "sip:focus17.conf2@example.org"

static int64_t g_now;

static enum cc_err rnd(uint8_t *p, size_t n, void *arg)
{
	return kmsc_rand_system(p, n, arg);
}

static struct kmsc_env env_at(int64_t t)
{
	return (struct kmsc_env){ .now = t, .skew = 300, .rand = rnd };
}

struct world {
	char dir[64];
	struct kms_db *db;
	struct kms *kms;
	struct kmsc_cred alice, bob, carol, focus1, focus2, nobody;
};

static struct world W;

/* ---- fixture: a KMS with users, identities, patterns, policies --------- */

static void make_cred(struct kmsc_cred *c, const char *user,
		      const char *identity, bool supplier)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->identity, sizeof(c->identity), "%s", identity);
	snprintf(c->psk_id, sizeof(c->psk_id), "%s-psk", user);
	snprintf(c->kms_url, sizeof(c->kms_url), "in-process");
	snprintf(c->kms_identity, sizeof(c->kms_identity), KMS_ID);
	c->psk_len = 16;
	CHECK_OK(kmsc_rand_system(c->psk, 16, NULL));
	if (user)
		CHECK_OK(kms_db_user_add(W.db, user, c->psk_id, c->psk, 16,
					 supplier));
}

static void setup(void)
{
	struct kms_config cfg = {
		.identity = KMS_ID,
		.skew = 300,
		.max_lifetime = 86400,
		.default_lifetime = 3600,
		.replay_capacity = 4096,
	};
	uint8_t master[KMS_MASTER_KEY_LEN];
	char path[128], spec[160];

	snprintf(W.dir, sizeof(W.dir), "/tmp/kmsflow.XXXXXX");
	if (!mkdtemp(W.dir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/master.key", W.dir);
	CHECK_OK(kms_master_key_create(path));
	CHECK_OK(kms_master_key_load(path, master));
	snprintf(spec, sizeof(spec), "sqlite:%s/kms.db", W.dir);
	CHECK_OK(kms_db_open(&W.db, spec, master, true));
	cc_wipe(master, sizeof(master));
	if (!W.db)
		exit(2);
	make_cred(&W.alice, "alice", ALICE, false);
	make_cred(&W.bob, "bob", BOB, false);
	make_cred(&W.carol, "carol", CAROL, false);
	make_cred(&W.focus1, "conf1-focus", FOCUS17_1, true);
	make_cred(&W.focus2, "conf2-focus", FOCUS17_2, true);
	make_cred(&W.nobody, NULL, "sip:nobody@example.org", false);
	CHECK_OK(kms_db_identity_add(W.db, "alice", ALICE));
	CHECK_OK(kms_db_identity_add(W.db, "bob", BOB));
	CHECK_OK(kms_db_identity_add(W.db, "carol", CAROL));
	CHECK_OK(kms_db_identity_add(W.db, "conf1-focus", FACTORY1));
	CHECK_OK(kms_db_identity_add(W.db, "conf1-focus", FOCUS1));
	CHECK_OK(kms_db_identity_add(W.db, "conf2-focus", FACTORY2));
	CHECK_OK(kms_db_identity_add(W.db, "conf2-focus", FOCUS2));
	CHECK_OK(kms_db_identity_set_factory(W.db, FACTORY1, true));
	CHECK_OK(kms_db_identity_set_factory(W.db, FACTORY2, true));
	CHECK_OK(kms_db_policy_allow_conference(W.db, "alice", "conf1-focus"));
	CHECK_OK(kms_db_policy_allow_conference(W.db, "alice", "conf2-focus"));
	CHECK_OK(kms_alloc(&W.kms, &cfg, kms_db_store(W.db), rnd, NULL));
	if (!W.kms)
		exit(2);
}

static void teardown(void)
{
	char cmd[160];

	kms_free(W.kms);
	kms_db_close(W.db);
	kmsc_cred_wipe(&W.alice);
	kmsc_cred_wipe(&W.bob);
	kmsc_cred_wipe(&W.carol);
	kmsc_cred_wipe(&W.focus1);
	kmsc_cred_wipe(&W.focus2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", W.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", W.dir);
}

/* The KMS "over the wire": bytes in, bytes out. */
static size_t kms_call(const uint8_t *in, size_t len, int64_t now, uint8_t *out,
		       size_t cap, struct kms_result *res)
{
	struct kms_result r;
	struct cc_wr wr;

	cc_wr_init(&wr, out, cap);
	CHECK_OK(kms_handle(W.kms, in, len, now, &wr, res ? res : &r));
	return wr.pos;
}

/* The Error no of a MIKEY Error message, -1 for anything else. */
static int mikey_errno_of(const uint8_t *buf, size_t len)
{
	struct mikey_msg m;
	const struct mikey_pl *e;

	if (mikey_decode(buf, len, &m, NULL) ||
	    m.hdr.data_type != MIKEY_DT_ERROR)
		return -1;
	e = mikey_chain_find(&m.ch, MIKEY_PT_ERR, 0);
	return e ? e->u.err.errno_ : -1;
}

static enum cc_err get_ticket(const struct kmsc_cred *c, enum kmsc_use use,
			      const char *const *to, size_t nto,
			      uint32_t lifetime, struct kmsc_ticket *t,
			      struct kmsc_status *st)
{
	struct kmsc_request_opts o = { .use = use,
				       .responders = to,
				       .nresponders = nto,
				       .lifetime = lifetime };
	struct kmsc_env env = env_at(g_now);
	static struct kmsc_request rq;
	uint8_t resp[KMSC_MAX_MSG];
	size_t n;

	CHECK_OK(kmsc_request_build(&rq, c, &o, &env));
	n = kms_call(rq.msg, rq.len, g_now, resp, sizeof(resp), NULL);
	return kmsc_request_open(&rq, c, resp, n, &env, t, st);
}

static enum cc_err transfer(const struct kmsc_ticket *t, const char *to,
			    uint32_t ssrc, struct kmsc_csb *ci, uint8_t *out,
			    size_t *len)
{
	struct kmsc_transfer_opts o = { .responder = to,
					.ssrc = &ssrc,
					.nmedia = 1 };
	struct kmsc_env env = env_at(g_now);

	return kmsc_transfer_init(ci, t, &W.alice, &o, &env, out, KMSC_MAX_MSG,
				  len);
}

/* Responder: RESOLVE_INIT -> the KMS -> RESOLVE_RESP. */
static enum cc_err resolve(const struct kmsc_responder *r, const uint8_t *xi,
			   size_t xlen, struct kmsc_csb *cr,
			   struct kmsc_status *st)
{
	struct kmsc_env env = env_at(g_now);
	uint8_t req[KMSC_MAX_MSG], resp[KMSC_MAX_MSG];
	size_t rl = 0, n;
	enum cc_err err;

	err = kmsc_resolve_init(cr, r, xi, xlen, &env, req, sizeof(req), &rl,
				st);
	if (err)
		return err;
	n = kms_call(req, rl, g_now, resp, sizeof(resp), NULL);
	return kmsc_resolve_open(cr, r, resp, n, &env, st);
}

static enum cc_err answer(struct kmsc_csb *cr, uint32_t ssrc,
			  const struct kmsc_key *supply, size_t nsupply,
			  uint8_t *out, size_t *len)
{
	struct kmsc_answer_opts o = {
		.ssrc = &ssrc, .nmedia = 1, .supply = supply, .nsupply = nsupply
	};
	struct kmsc_env env = env_at(g_now);

	return kmsc_transfer_resp(cr, &o, &env, out, KMSC_MAX_MSG, len);
}

static bool same_tek(const struct kmsc_tek *a, const struct kmsc_tek *b)
{
	return a && b && a->key_len == b->key_len &&
	       a->salt_len == b->salt_len && a->spi_len == b->spi_len &&
	       a->ssrc == b->ssrc && !memcmp(a->key, b->key, a->key_len) &&
	       !memcmp(a->salt, b->salt, a->salt_len) &&
	       !memcmp(a->spi, b->spi, a->spi_len);
}

/* The TICKET of a TRANSFER_INIT is the REQUEST_RESP's, byte for byte
 * (up to the Initiator Data, which the Initiator adds, A8). */
static void check_ticket_bytes(const struct kmsc_ticket *t, const uint8_t *xi,
			       size_t xl)
{
	struct mikey_msg m;
	const struct mikey_pl *pl;
	size_t idl;

	CHECK_OK(mikey_decode(xi, xl, &m, NULL));
	pl = mikey_chain_find(&m.ch, MIKEY_PT_TICKET, 0);
	CHECK(pl != NULL);
	if (!pl)
		return;
	idl = pl->u.ticket.init_data.len;
	CHECK(idl > 0); /* key forking: Vi, Vr */
	CHECK(pl->len - 1 - idl == t->raw_len);
	CHECK(!memcmp(xi + pl->off + 1, t->raw, t->raw_len - 2));
}

/* ---- 1. happy path --------------------------------------------------- */

static void test_happy(void)
{
	const char *to[] = { BOB };
	struct kmsc_responder rb = { .cred = &W.bob };
	static struct kmsc_ticket t;
	static struct kmsc_csb ci, cr;
	uint8_t xi[KMSC_MAX_MSG], xr[KMSC_MAX_MSG];
	size_t xl = 0, rl = 0;
	struct kmsc_status st;

	CHECK_OK(get_ticket(&W.alice, KMSC_CALL, to, 1, 3600, &t, &st));
	CHECK(t.flags & MIKEY_TPF_I);
	CHECK(!(t.flags & (MIKEY_TPF_L | MIKEY_TPF_M | MIKEY_TPF_G)));
	CHECK(t.has_mpkr && t.nkeys == 1 && t.keys[0].type == MIKEY_KEY_TGK);
	CHECK(t.nresponders == 1 && !strcmp(t.responders[0], BOB));
	CHECK(!strcmp(t.initiator, ALICE));
	CHECK(t.valid_to >= g_now + 3590 && t.valid_to <= g_now + 3610);

	CHECK_OK(transfer(&t, BOB, 0x11111111, &ci, xi, &xl));
	check_ticket_bytes(&t, xi, xl);
	CHECK_OK(resolve(&rb, xi, xl, &cr, &st));
	CHECK(cr.state == KMSC_CSB_RESOLVED);
	CHECK(!strcmp(cr.initiator, ALICE) && !strcmp(cr.peer_r, BOB));
	CHECK_OK(answer(&cr, 0x22222222, NULL, 0, xr, &rl));
	CHECK_OK(kmsc_transfer_resp_open(
		&ci, xr, rl, NULL, 0, &(struct kmsc_env){ .now = g_now }, &st));
	CHECK(ci.state == KMSC_CSB_READY && cr.state == KMSC_CSB_READY);
	CHECK(ci.ntek == 2 && cr.ntek == 2);
	CHECK(same_tek(kmsc_csb_tek(&ci, 1), kmsc_csb_tek(&cr, 1)));
	CHECK(same_tek(kmsc_csb_tek(&ci, 2), kmsc_csb_tek(&cr, 2)));
	CHECK(!same_tek(kmsc_csb_tek(&ci, 1), kmsc_csb_tek(&ci, 2)));
	CHECK(kmsc_csb_tek(&ci, 1)->ssrc == 0x11111111);
	CHECK(kmsc_csb_tek(&ci, 2)->ssrc == 0x22222222);
	CHECK(kmsc_csb_tek(&ci, 1)->key_len == 16 &&
	      kmsc_csb_tek(&ci, 1)->salt_len == 14);
	/* forking: both hold MPKr' for Bob, and the same update keys */
	CHECK(!memcmp(ci.mpkr_fork, cr.mpkr_fork, ci.mpk_len));
	CHECK(memcmp(ci.mpkr_fork, ci.mpkr, ci.mpk_len));
	CHECK(ci.update && cr.update &&
	      !memcmp(mikey_keyed_keys(ci.update)->auth,
		      mikey_keyed_keys(cr.update)->auth, 20));
	/* a second answer to a READY CSB is refused */
	CHECK_ERR(kmsc_transfer_resp_open(&ci, xr, rl, NULL, 0,
					  &(struct kmsc_env){ .now = g_now },
					  NULL),
		  CC_ERR_INVAL);
	kmsc_csb_free(&ci);
	kmsc_csb_free(&cr);
	kmsc_ticket_wipe(&t);
}

/* ---- 2. key forking (DESIGN.md D3) ------------------------------------ */

/* Carol answers the TRANSFER_INIT meant for Bob with her own keys. */
static enum cc_err forge_answer(const struct kmsc_csb *carol,
				const uint8_t *xi_bob, size_t xl,
				const char *claim, uint8_t *out, size_t *len)
{
	static struct kmsc_csb f;
	struct mikey_msg m;
	const struct mikey_pl *ri;
	enum cc_err err;

	f = *carol;
	f.update = NULL;
	CHECK_OK(mikey_decode(xi_bob, xl, &m, NULL));
	ri = mikey_chain_find(&m.ch, MIKEY_PT_RANDR, MIKEY_RANDR_I);
	memcpy(f.xinit, xi_bob, xl);
	f.xinit_len = xl;
	f.csb_id = m.hdr.csb_id;
	memcpy(f.randri, ri->u.rand.data.p, ri->u.rand.data.len);
	snprintf(f.peer_r, sizeof(f.peer_r), "%s", claim);
	err = answer(&f, 0x33333333, NULL, 0, out, len);
	kmsc_csb_free(&f);
	return err;
}

static void test_fork(void)
{
	const char *to[] = { BOB, CAROL };
	struct kmsc_responder rb = { .cred = &W.bob },
			      rc = { .cred = &W.carol };
	static struct kmsc_ticket t;
	static struct kmsc_csb ib, ic, b, c, c2;
	uint8_t xb[KMSC_MAX_MSG], xc[KMSC_MAX_MSG], r[KMSC_MAX_MSG];
	size_t xbl = 0, xcl = 0, rl = 0;
	struct kmsc_env env = env_at(g_now);
	struct kmsc_status st;

	CHECK_OK(get_ticket(&W.alice, KMSC_CALL, to, 2, 3600, &t, &st));
	CHECK(t.nresponders == 2);
	CHECK_OK(transfer(&t, BOB, 0x1001, &ib, xb, &xbl));
	CHECK_OK(transfer(&t, CAROL, 0x1002, &ic, xc, &xcl));
	CHECK_OK(resolve(&rb, xb, xbl, &b, &st));
	CHECK_OK(resolve(&rc, xc, xcl, &c, &st));
	/* the same ticket, the same MPKi; a different MPKr' each */
	CHECK(!memcmp(b.mpki, c.mpki, b.mpk_len));
	CHECK(memcmp(b.mpkr_fork, c.mpkr_fork, b.mpk_len));
	CHECK(memcmp(b.keys[0].key, c.keys[0].key, b.keys[0].key_len));

	/* Bob's TRANSFER_INIT fails at Carol: Identity_r differs */
	CHECK_ERR(resolve(&rc, xb, xbl, &c2, &st), CC_ERR_BAD_MAC);
	CHECK(st.kind == KMSC_FAIL_LOCAL && c2.state == KMSC_CSB_FAILED);
	CHECK(!c2.mpk_len && !c2.nkeys); /* keys wiped */

	/* Carol cannot pass as Bob: claiming IDRr = Bob breaks the MAC */
	CHECK_OK(forge_answer(&c, xb, xbl, BOB, r, &rl));
	CHECK_ERR(kmsc_transfer_resp_open(&ib, r, rl, NULL, 0, &env, &st),
		  CC_ERR_BAD_MAC);
	CHECK(ib.state == KMSC_CSB_INIT_SENT);
	/* ... and answering as herself she is not who Alice called */
	CHECK_OK(forge_answer(&c, xb, xbl, CAROL, r, &rl));
	CHECK_ERR(kmsc_transfer_resp_open(&ib, r, rl, NULL, 0, &env, &st),
		  CC_ERR_NOT_AUTHORISED);
	CHECK(ib.state == KMSC_CSB_INIT_SENT);

	/* the real answers still work, and the TEKs differ per responder */
	CHECK_OK(answer(&b, 0x2001, NULL, 0, r, &rl));
	CHECK_OK(kmsc_transfer_resp_open(&ib, r, rl, NULL, 0, &env, &st));
	CHECK_OK(answer(&c, 0x2002, NULL, 0, r, &rl));
	CHECK_OK(kmsc_transfer_resp_open(&ic, r, rl, NULL, 0, &env, &st));
	CHECK(same_tek(kmsc_csb_tek(&ib, 1), kmsc_csb_tek(&b, 1)));
	CHECK(same_tek(kmsc_csb_tek(&ic, 2), kmsc_csb_tek(&c, 2)));
	CHECK(memcmp(kmsc_csb_tek(&ib, 1)->key, kmsc_csb_tek(&ic, 1)->key, 16));
	kmsc_csb_free(&ib);
	kmsc_csb_free(&ic);
	kmsc_csb_free(&b);
	kmsc_csb_free(&c);
	kmsc_csb_free(&c2);
	kmsc_ticket_wipe(&t);
}

/* ---- 3. identity patterns (DESIGN.md D5), group key (A29) ------------- */

static void test_patterns(void)
{
	const char *to[] = { FACTORY1 };
	const char *accept[] = { FACTORY1, FOCUS1 };
	const char *alias1[] = { FACTORY1 };
	struct kmsc_responder f1 = { .cred = &W.focus1,
				     .aliases = alias1,
				     .naliases = 1 };
	struct kmsc_responder f2 = { .cred = &W.focus2, .defer_authz = true };
	struct kmsc_responder f2strict = { .cred = &W.focus2 };
	struct kmsc_key group = { .type = MIKEY_KEY_TEK_SALT,
				  .key_len = 16,
				  .salt_len = 14,
				  .spi = { 0x80, 0, 0, 1 },
				  .spi_len = 4 };
	static struct kmsc_ticket t, tc;
	static struct kmsc_csb ci, cf, cf2;
	uint8_t xi[KMSC_MAX_MSG], xr[KMSC_MAX_MSG];
	size_t xl = 0, rl = 0;
	struct kmsc_env env = env_at(g_now);
	struct kmsc_status st;

	CHECK_OK(kmsc_rand_system(group.key, 30, NULL));
	CHECK_OK(get_ticket(&W.alice, KMSC_JOIN_CONFERENCE, to, 1, 3600, &t,
			    &st));
	CHECK(t.flags & MIKEY_TPF_M);    /* conf1-focus supplies keys */
	CHECK(!(t.flags & MIKEY_TPF_L)); /* Alice does not */
	CHECK_OK(transfer(&t, FACTORY1, 0x5001, &ci, xi, &xl));

	/* focus17.conf2 is not conf1's: the KMS refuses (Invalid TPpar) */
	CHECK_ERR(resolve(&f2, xi, xl, &cf2, &st), CC_ERR_NOT_AUTHORISED);
	CHECK(st.kind == KMSC_FAIL_MIKEY &&
	      st.mikey_err == MIKEY_ERR_INVALID_TPPAR);
	/* ... and without deferring it does not even ask (A21) */
	CHECK_ERR(resolve(&f2strict, xi, xl, &cf2, &st), CC_ERR_NOT_AUTHORISED);
	CHECK(st.kind == KMSC_FAIL_LOCAL);

	/* focus17.conf1 resolves the factory's ticket, supplies the key */
	CHECK_OK(resolve(&f1, xi, xl, &cf, &st));
	CHECK(!strcmp(cf.peer_r, FOCUS17_1));
	CHECK(!strcmp(cf.responder, FACTORY1));
	CHECK_OK(answer(&cf, 0x6001, &group, 1, xr, &rl));
	/* by default Alice accepts only the URI she called ... */
	CHECK_ERR(kmsc_transfer_resp_open(&ci, xr, rl, NULL, 0, &env, &st),
		  CC_ERR_NOT_AUTHORISED);
	/* ... the focus URI pattern she learnt from SIP is fine */
	CHECK_OK(kmsc_transfer_resp_open(&ci, xr, rl, accept, 2, &env, &st));
	CHECK(same_tek(kmsc_csb_tek(&ci, 1), kmsc_csb_tek(&cf, 1)));
	CHECK(same_tek(kmsc_csb_tek(&ci, 2), kmsc_csb_tek(&cf, 2)));
	CHECK(!memcmp(kmsc_csb_tek(&ci, 1)->key, group.key, 16) &&
	      !memcmp(kmsc_csb_tek(&ci, 2)->salt, group.salt, 14));

	/* a plain call ticket (M = 0): the focus may not supply keys */
	CHECK_OK(get_ticket(&W.alice, KMSC_CALL, to, 1, 3600, &tc, &st));
	CHECK(!(tc.flags & MIKEY_TPF_M));
	kmsc_csb_free(&ci);
	kmsc_csb_free(&cf);
	CHECK_OK(transfer(&tc, FACTORY1, 0x5002, &ci, xi, &xl));
	CHECK_OK(resolve(&f1, xi, xl, &cf, &st));
	CHECK_ERR(answer(&cf, 0x6002, &group, 1, xr, &rl), CC_ERR_POLICY);

	/* Bob may not obtain M for himself (A29 rule 2): a JOIN to a
	 * non-supplier comes back without M and is unacceptable (rule 3) */
	{
		const char *tb[] = { BOB };

		CHECK_ERR(get_ticket(&W.alice, KMSC_JOIN_CONFERENCE, tb, 1,
				     3600, &t, &st),
			  CC_ERR_POLICY);
		CHECK(st.kind == KMSC_FAIL_LOCAL);
		/* Bob may not create conferences at factory.conf1 */
		CHECK_ERR(get_ticket(&W.bob, KMSC_JOIN_CONFERENCE, to, 1, 3600,
				     &t, &st),
			  CC_ERR_NOT_AUTHORISED);
		CHECK(st.kind == KMSC_FAIL_MIKEY &&
		      st.mikey_err == MIKEY_ERR_INVALID_TPPAR);
	}
	kmsc_csb_free(&ci);
	kmsc_csb_free(&cf);
	kmsc_csb_free(&cf2);
	kmsc_ticket_wipe(&t);
	kmsc_ticket_wipe(&tc);
}

/* ---- 4. every KMS error, with its Error no, and no state change -------- */

/* A RESOLVE_INIT_PSK built by hand, so the KMS sees what our client's
 * early checks would never send. */
static size_t raw_resolve(const struct kmsc_cred *c, const char *as,
			  const struct mikey_pl_ticket *tk, int64_t now,
			  uint8_t *out, size_t cap)
{
	static const uint8_t rr[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct mikey_msg m;
	struct mikey_msg_keys k;
	struct mikey_seal_opts so = { .keys = &k };
	struct mikey_pl *pl;
	struct cc_wr wr;

	CHECK_OK(mikey_derive_msg_keys(
		MIKEY_PRF_MIKEY1, c->psk, c->psk_len, 0x5151, MIKEY_LBL_INIT,
		(struct cc_slice){ NULL, 0 }, (struct cc_slice){ rr, 16 },
		MIKEY_ENCR_AES_CM_128, MIKEY_MAC_HMAC_SHA1_160, &k));
	mikey_msg_init(&m, MIKEY_DT_RESOLVE_INIT_PSK, true, MIKEY_PRF_MIKEY1,
		       0x5151, MIKEY_MAP_EMPTY);
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, mikey_ntp_from_unix(now, 7));
	mikey_add_randr(&m.ch, MIKEY_RANDR_R, (struct cc_slice){ rr, 16 });
	mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI, mikey_str(as));
	mikey_add_idr(&m.ch, MIKEY_IDR_KMS, MIKEY_ID_URI, mikey_str(KMS_ID));
	pl = mikey_chain_add(&m.ch, MIKEY_PT_TICKET);
	pl->u.ticket = *tk;
	mikey_add_idr(&m.ch, MIKEY_IDR_PSK, MIKEY_ID_BYTES,
		      mikey_str(c->psk_id));
	mikey_add_v(&m.ch);
	so.extra =
		(struct mikey_mac_extra){ { mikey_str(as), mikey_str(KMS_ID) },
					  2 };
	cc_wr_init(&wr, out, cap);
	CHECK_OK(mikey_seal(&m, &so, &wr));
	mikey_msg_keys_wipe(&k);
	return wr.pos;
}

/* The TICKET payload of a TRANSFER_INIT (slices into xi). */
static struct mikey_pl_ticket ticket_of(const uint8_t *xi, size_t xl)
{
	struct mikey_msg m;
	const struct mikey_pl *pl;

	CHECK_OK(mikey_decode(xi, xl, &m, NULL));
	pl = mikey_chain_find(&m.ch, MIKEY_PT_TICKET, 0);
	return pl ? pl->u.ticket : (struct mikey_pl_ticket){ 0 };
}

/* Send, expect Error no `want`, and that the replay cache did not move. */
static void expect_refusal(const char *what, const uint8_t *msg, size_t len,
			   int64_t now, int want)
{
	uint8_t resp[KMSC_MAX_MSG];
	size_t before = kms_replay_size(W.kms), n;
	struct kms_result res;
	int got;

	n = kms_call(msg, len, now, resp, sizeof(resp), &res);
	got = mikey_errno_of(resp, n);
	if (got != want) {
		fprintf(stderr, "%s: Error no %d, want %d (%s)\n", what, got,
			want, res.reason ? res.reason : "");
		check_failures++;
	}
	CHECK(kms_replay_size(W.kms) == before);
}

static void test_request_errors(void)
{
	const char *to[] = { BOB };
	struct kmsc_request_opts o = { .responders = to, .nresponders = 1 };
	struct kmsc_env env = env_at(g_now);
	static struct kmsc_request rq, rq2;
	static struct kmsc_ticket t;
	struct kmsc_cred bad = W.alice;
	uint8_t resp[KMSC_MAX_MSG];
	struct kmsc_status st;
	size_t n, before;

	/* unknown user: a PSK id the KMS never issued -> Invalid ID */
	CHECK_OK(kmsc_request_build(&rq, &W.nobody, &o, &env));
	expect_refusal("unknown user", rq.msg, rq.len, g_now,
		       MIKEY_ERR_INVALID_ID);
	n = kms_call(rq.msg, rq.len, g_now, resp, sizeof(resp), NULL);
	CHECK_ERR(kmsc_request_open(&rq, &W.nobody, resp, n, &env, &t, &st),
		  CC_ERR_UNKNOWN_USER);
	CHECK(st.kind == KMSC_FAIL_MIKEY &&
	      st.mikey_err == MIKEY_ERR_INVALID_ID);

	/* bad MAC: the right PSK id, the wrong PSK -> Auth failure */
	bad.psk[0] ^= 1;
	CHECK_OK(kmsc_request_build(&rq, &bad, &o, &env));
	expect_refusal("bad MAC", rq.msg, rq.len, g_now,
		       MIKEY_ERR_AUTH_FAILURE);
	n = kms_call(rq.msg, rq.len, g_now, resp, sizeof(resp), NULL);
	CHECK_ERR(kmsc_request_open(&rq, &bad, resp, n, &env, &t, &st),
		  CC_ERR_BAD_MAC);
	CHECK(st.kind == KMSC_FAIL_MIKEY && st.mikey_err == 0);
	kmsc_cred_wipe(&bad);

	/* stale timestamp: built 1000 s ago -> Invalid TS */
	env = env_at(g_now - 1000);
	CHECK_OK(kmsc_request_build(&rq, &W.alice, &o, &env));
	expect_refusal("stale timestamp", rq.msg, rq.len, g_now,
		       MIKEY_ERR_INVALID_TS);

	/* replay: the second copy of an accepted request -> Invalid TS */
	env = env_at(g_now);
	CHECK_OK(kmsc_request_build(&rq, &W.alice, &o, &env));
	before = kms_replay_size(W.kms);
	n = kms_call(rq.msg, rq.len, g_now, resp, sizeof(resp), NULL);
	CHECK(kms_replay_size(W.kms) == before + 1);
	CHECK_OK(kmsc_request_open(&rq, &W.alice, resp, n, &env, &t, &st));
	expect_refusal("replay", rq.msg, rq.len, g_now + 1,
		       MIKEY_ERR_INVALID_TS);

	/* malformed: garbage and a truncated request -> Unspecified */
	CHECK_OK(kmsc_request_build(&rq2, &W.alice, &o, &env));
	expect_refusal("garbage", (const uint8_t *)"hello, KMS", 10, g_now,
		       MIKEY_ERR_UNSPECIFIED);
	expect_refusal("truncated", rq2.msg, rq2.len - 7, g_now,
		       MIKEY_ERR_UNSPECIFIED);
	/* the client's own view of a garbage answer */
	CHECK(kmsc_request_open(&rq2, &W.alice, (const uint8_t *)"xx", 2, &env,
				&t, &st) != CC_OK);
	CHECK(st.kind == KMSC_FAIL_LOCAL);
	/* after all that, the same client is served normally */
	n = kms_call(rq2.msg, rq2.len, g_now, resp, sizeof(resp), NULL);
	CHECK_OK(kmsc_request_open(&rq2, &W.alice, resp, n, &env, &t, &st));
	kmsc_ticket_wipe(&t);
}

static void test_resolve_errors(void)
{
	const char *to[] = { BOB };
	static struct kmsc_ticket t;
	static struct kmsc_csb ci, cr;
	uint8_t xi[KMSC_MAX_MSG], req[KMSC_MAX_MSG];
	struct kmsc_responder rb = { .cred = &W.bob },
			      rc = { .cred = &W.carol, .defer_authz = true };
	struct mikey_pl_ticket tk, bad;
	struct kmsc_status st;
	size_t xl = 0, n;

	CHECK_OK(get_ticket(&W.alice, KMSC_CALL, to, 1, 60, &t, &st));
	CHECK_OK(transfer(&t, BOB, 0x7001, &ci, xi, &xl));
	tk = ticket_of(xi, xl);

	/* resolver not allowed: Carol is not in the ticket -> Invalid TPpar */
	n = raw_resolve(&W.carol, CAROL, &tk, g_now, req, sizeof(req));
	expect_refusal("resolver not allowed", req, n, g_now,
		       MIKEY_ERR_INVALID_TPPAR);
	CHECK_ERR(resolve(&rc, xi, xl, &cr, &st), CC_ERR_NOT_AUTHORISED);
	CHECK(st.kind == KMSC_FAIL_MIKEY &&
	      st.mikey_err == MIKEY_ERR_INVALID_TPPAR);

	/* unsupported ticket type -> Invalid TICKET */
	bad = tk;
	bad.ticket_type = 0xf001; /* private use, never ours */
	n = raw_resolve(&W.bob, BOB, &bad, g_now, req, sizeof(req));
	expect_refusal("ticket type", req, n, g_now, MIKEY_ERR_INVALID_TICKET);

	/* bad MAC on a resolve: Bob's identity, Carol's PSK */
	n = raw_resolve(&W.carol, BOB, &tk, g_now, req, sizeof(req));
	expect_refusal("resolve, identity not owned", req, n, g_now,
		       MIKEY_ERR_INVALID_TPPAR);

	/* a tampered ticket (its MAC) -> Auth failure */
	bad = tk;
	bad.flags |= MIKEY_TPF_J;
	n = raw_resolve(&W.bob, BOB, &bad, g_now, req, sizeof(req));
	expect_refusal("ticket MAC", req, n, g_now, MIKEY_ERR_AUTH_FAILURE);

	/* expired ticket (60 s, asked 1000 s later) -> Invalid TPpar */
	n = raw_resolve(&W.bob, BOB, &tk, g_now + 1000, req, sizeof(req));
	expect_refusal("expired ticket", req, n, g_now + 1000,
		       MIKEY_ERR_INVALID_TPPAR);

	/* the untouched ticket still resolves for Bob */
	CHECK_OK(resolve(&rb, xi, xl, &cr, &st));
	kmsc_csb_free(&ci);
	kmsc_csb_free(&cr);
	kmsc_ticket_wipe(&t);
}

/* ---- 5. ticket-key rotation -------------------------------------------- */

static void test_rotation(void)
{
	const char *to[] = { BOB };
	struct kmsc_responder rb = { .cred = &W.bob };
	static struct kmsc_ticket t;
	static struct kmsc_csb ci, cr;
	uint8_t xi[KMSC_MAX_MSG], xr[KMSC_MAX_MSG];
	char id[KMS_MAX_NAME];
	struct kmsc_status st;
	size_t xl = 0, rl = 0;
	int64_t t0 = g_now;

	CHECK_OK(get_ticket(&W.alice, KMSC_CALL, to, 1, 7200, &t, &st));
	/* rotate: the old key resolves for 600 more seconds */
	CHECK_OK(kms_db_tpk_rotate(W.db, g_now, 600, 16, id));

	g_now = t0 + 300;
	CHECK_OK(transfer(&t, BOB, 0x8001, &ci, xi, &xl));
	CHECK_OK(resolve(&rb, xi, xl, &cr, &st));
	CHECK_OK(answer(&cr, 0x8002, NULL, 0, xr, &rl));
	CHECK_OK(kmsc_transfer_resp_open(
		&ci, xr, rl, NULL, 0, &(struct kmsc_env){ .now = g_now }, &st));
	kmsc_csb_free(&ci);
	kmsc_csb_free(&cr);

	/* past the retirement date the old ticket is refused ... */
	g_now = t0 + 1200;
	CHECK_OK(transfer(&t, BOB, 0x8003, &ci, xi, &xl));
	CHECK(resolve(&rb, xi, xl, &cr, &st) != CC_OK);
	CHECK(st.kind == KMSC_FAIL_MIKEY);
	fprintf(stderr, "  (retired ticket key: MIKEY Error %d)\n",
		st.mikey_err);
	kmsc_csb_free(&ci);
	kmsc_csb_free(&cr);
	kmsc_ticket_wipe(&t);

	/* ... and a ticket sealed under the new key resolves */
	CHECK_OK(get_ticket(&W.alice, KMSC_CALL, to, 1, 3600, &t, &st));
	CHECK_OK(transfer(&t, BOB, 0x8005, &ci, xi, &xl));
	CHECK_OK(resolve(&rb, xi, xl, &cr, &st));
	kmsc_csb_free(&ci);
	kmsc_csb_free(&cr);
	kmsc_ticket_wipe(&t);
	g_now = t0;
}

/* ---- 6. the Responder's early checks (A21) and the Initiator's -------- */

static void test_early(void)
{
	const char *to[] = { BOB };
	struct kmsc_responder rb = { .cred = &W.bob },
			      rc = { .cred = &W.carol };
	struct kmsc_env env = env_at(g_now);
	static struct kmsc_ticket t;
	static struct kmsc_csb ci, cr;
	uint8_t xi[KMSC_MAX_MSG], req[KMSC_MAX_MSG];
	struct kmsc_key k = { .type = MIKEY_KEY_TEK_SALT,
			      .key_len = 16,
			      .salt_len = 14,
			      .spi = { 0x80, 0, 0, 9 },
			      .spi_len = 4 };
	struct kmsc_transfer_opts o = { .responder = BOB,
					.ssrc = (uint32_t[]){ 1 },
					.nmedia = 1,
					.supply = &k,
					.nsupply = 1 };
	struct kmsc_status st;
	size_t xl = 0, n = 0, before = kms_replay_size(W.kms);

	CHECK_OK(get_ticket(&W.alice, KMSC_CALL, to, 1, 60, &t, &st));
	/* L = 0: the Initiator may not put keys in a KEMAC */
	CHECK_ERR(kmsc_transfer_init(&ci, &t, &W.alice, &o, &env, xi,
				     sizeof(xi), &xl),
		  CC_ERR_POLICY);
	CHECK_OK(transfer(&t, BOB, 0x9001, &ci, xi, &xl));
	before = kms_replay_size(W.kms);
	/* not among the ticket's responders: no KMS contact */
	CHECK_ERR(kmsc_resolve_init(&cr, &rc, xi, xl, &env, req, sizeof(req),
				    &n, &st),
		  CC_ERR_NOT_AUTHORISED);
	/* expired: no KMS contact */
	env = env_at(g_now + 1000);
	CHECK_ERR(kmsc_resolve_init(&cr, &rb, xi, xl, &env, req, sizeof(req),
				    &n, &st),
		  CC_ERR_EXPIRED);
	/* a TRANSFER_INIT whose T is stale */
	env = env_at(g_now + 301 + 300);
	CHECK(kmsc_resolve_init(&cr, &rb, xi, xl, &env, req, sizeof(req), &n,
				&st) != CC_OK);
	/* garbage and a flipped byte */
	env = env_at(g_now);
	CHECK(kmsc_resolve_init(&cr, &rb, xi, xl - 3, &env, req, sizeof(req),
				&n, &st) != CC_OK);
	CHECK(kms_replay_size(W.kms) == before);
	/* with a replay cache the same TRANSFER_INIT is taken only once */
	{
		struct mikey_replay *rp = NULL;
		struct kmsc_responder rr = { .cred = &W.bob };

		CHECK_OK(mikey_replay_alloc(&rp, 64, 300));
		rr.replay = rp;
		CHECK_OK(resolve(&rr, xi, xl, &cr, &st));
		kmsc_csb_free(&cr);
		CHECK_ERR(resolve(&rr, xi, xl, &cr, &st), CC_ERR_REPLAY);
		mikey_replay_free(rp);
	}
	/* a flipped MAC byte passes the early checks; the MAC check after
	 * resolving catches it */
	xi[xl - 1] ^= 0x01;
	CHECK_ERR(resolve(&rb, xi, xl, &cr, &st), CC_ERR_BAD_MAC);
	kmsc_csb_free(&ci);
	kmsc_csb_free(&cr);
	kmsc_ticket_wipe(&t);
}

/* ---- 7. the credential file -------------------------------------------- */

static void test_cred(void)
{
	char path[128];
	struct kmsc_cred c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/alice.cred", W.dir);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "# exported by conclave kms credential export\n"
		   "identity = sip:alice@example.org\n"
		   "psk_id = alice-psk\n"
		   "psk = 000102030405060708090a0b0c0d0e0f\n"
		   "kms_url = http://127.0.0.1:8770/mikey\n"
		   "kms_identity = sip:kms.example.org\n");
	fclose(f);
	CHECK(chmod(path, 0600) == 0);
	CHECK_OK(kmsc_cred_load(path, &c));
	CHECK(!strcmp(c.identity, ALICE) && c.psk_len == 16 && c.psk[15] == 15);
	CHECK(!strcmp(c.kms_url, "http://127.0.0.1:8770/mikey"));
	CHECK(chmod(path, 0640) == 0);
	CHECK_ERR(kmsc_cred_load(path, &c), CC_ERR_NOT_AUTHORISED);
	CHECK(c.psk_len == 0);
	CHECK_ERR(kmsc_cred_load("/nonexistent/x.cred", &c), CC_ERR_NOT_FOUND);
	kmsc_cred_wipe(&c);
}

int main(void)
{
	g_now = (int64_t)time(NULL);
	setup();
	test_happy();
	test_fork();
	test_patterns();
	test_request_errors();
	test_resolve_errors();
	test_rotation();
	test_early();
	test_cred();
	teardown();
	CHECK_DONE();
}
