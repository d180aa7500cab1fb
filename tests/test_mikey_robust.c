/*
 * test_mikey_robust.c -- the receive paths under hostile input (STYLE.md
 * habit 12): truncation and bit flips of every worked-example message,
 * timestamps and the replay cache, layout and flag rules, key forking.
 * Random round trips through the builders live in test_mikey_roundtrip.c.
 */
#include <conclave/mikey_examples.h>

#include "check.h"

#define S(a) ((struct cc_slice){ (a), sizeof(a) })
#define NONE ((struct cc_slice){ NULL, 0 })

static struct mikey_example ex[MIKEY_EX__COUNT];
static struct mikey_msg orig[MIKEY_EX__COUNT]; /* decoded, into ex[].buf */
static uint8_t mpki[16], mpkr[16];

/* ---- what each receiver knows (spec/mikey-ticket.md §4, §5.2, §6, §9) -- */

enum inkey {
	K_PSK_ALICE,
	K_PSK_BOB,
	K_MPKI
};

struct rx {
	enum inkey key;
	uint8_t dir;
	/* Example whose CSB ID and RANDs key the message, known in advance
	 * by the receiver; -1: read them from the received message itself. */
	int src;
	/* Response: the complete initial message appended to the MAC input;
	 * -1: an *_INIT, append the identities of roles id1, id2. */
	int init;
	uint8_t id1, id2;
	bool ticket; /* the KMS can also open the TICKET it carries */
};

static const struct rx rxs[MIKEY_EX__COUNT] = {
	[MIKEY_EX_REQUEST_INIT] = { K_PSK_ALICE, MIKEY_LBL_INIT, -1, -1,
				    MIKEY_IDR_I, MIKEY_IDR_KMS, false },
	[MIKEY_EX_REQUEST_RESP] = { K_PSK_ALICE, MIKEY_LBL_RESP,
				    MIKEY_EX_REQUEST_INIT,
				    MIKEY_EX_REQUEST_INIT, 0, 0, true },
	[MIKEY_EX_TRANSFER_INIT] = { K_MPKI, MIKEY_LBL_INIT, -1, -1,
				     MIKEY_IDR_I, MIKEY_IDR_R, true },
	[MIKEY_EX_RESOLVE_INIT] = { K_PSK_BOB, MIKEY_LBL_INIT, -1, -1,
				    MIKEY_IDR_R, MIKEY_IDR_KMS, true },
	[MIKEY_EX_RESOLVE_RESP] = { K_PSK_BOB, MIKEY_LBL_RESP,
				    MIKEY_EX_RESOLVE_INIT,
				    MIKEY_EX_RESOLVE_INIT, 0, 0, false },
	[MIKEY_EX_TRANSFER_RESP] = { K_MPKI, MIKEY_LBL_RESP,
				     MIKEY_EX_TRANSFER_INIT,
				     MIKEY_EX_TRANSFER_INIT, 0, 0, false },
	[MIKEY_EX_TRANSFER_RESP_KEY] = { K_MPKI, MIKEY_LBL_RESP,
					 MIKEY_EX_TRANSFER_INIT,
					 MIKEY_EX_TRANSFER_INIT, 0, 0, false },
	/* §9: updates reuse the TRANSFER_RESP keys (MPKi, dir 0x02) */
	[MIKEY_EX_UPDATE_I_INIT] = { K_MPKI, MIKEY_LBL_RESP,
				     MIKEY_EX_TRANSFER_INIT, -1, MIKEY_IDR_I,
				     MIKEY_IDR_R, false },
	[MIKEY_EX_UPDATE_I_RESP] = { K_MPKI, MIKEY_LBL_RESP,
				     MIKEY_EX_TRANSFER_INIT,
				     MIKEY_EX_UPDATE_I_INIT, 0, 0, false },
	[MIKEY_EX_UPDATE_R_INIT] = { K_MPKI, MIKEY_LBL_RESP,
				     MIKEY_EX_TRANSFER_INIT, -1, MIKEY_IDR_I,
				     MIKEY_IDR_R, false },
	[MIKEY_EX_UPDATE_R_RESP] = { K_MPKI, MIKEY_LBL_RESP,
				     MIKEY_EX_TRANSFER_INIT,
				     MIKEY_EX_UPDATE_R_INIT, 0, 0, false },
};

/* Where the receive path stopped; ST_PASS = accepted. */
enum stage {
	ST_DECODE,
	ST_LAYOUT,
	ST_KEYS,
	ST_VERIFY,
	ST_TICKET,
	ST_KEMAC,
	ST_PASS,
	ST__COUNT
};

static const char *const stage_name[ST__COUNT] = {
	"decode", "layout", "keys", "verify", "ticket", "kemac", "PASS",
};

static struct cc_slice rand_of(const struct mikey_msg *m, uint8_t role)
{
	const struct mikey_pl *p =
		mikey_chain_find(&m->ch, MIKEY_PT_RANDR, role);

	return p ? p->u.rand.data : NONE;
}

/* A3: the ID Data of the IDR payload, else the configured identity. */
static struct cc_slice ident(const struct mikey_msg *m, uint8_t role)
{
	const struct mikey_pl *p = mikey_chain_find(&m->ch, MIKEY_PT_IDR, role);

	if (p)
		return p->u.id.data;
	return mikey_str(role == MIKEY_IDR_I ? mikey_ex_alice :
			 role == MIKEY_IDR_R ? mikey_ex_bob :
					       mikey_ex_kms);
}

static enum cc_err tpk_lookup(struct cc_slice id, void *arg,
			      const uint8_t **tpk, size_t *tpk_len)
{
	(void)arg;
	if (id.len != 5 || memcmp(id.p, "tpk-7", 5) != 0)
		return CC_ERR_NOT_FOUND;
	*tpk = mikey_ex_tpk;
	*tpk_len = sizeof(mikey_ex_tpk);
	return CC_OK;
}

static enum cc_err rx_keys(const struct rx *r, const struct mikey_msg *m,
			   struct mikey_msg_keys *k)
{
	const struct mikey_msg *src = r->src < 0 ? m : &orig[r->src];
	const uint8_t *in = r->key == K_PSK_ALICE ? mikey_ex_psk_alice :
			    r->key == K_PSK_BOB   ? mikey_ex_psk_bob :
						    mpki;
	enum mikey_encr encr;
	enum mikey_mac mac;

	mikey_msg_algs(m, &encr, &mac);
	return mikey_derive_msg_keys((enum mikey_prf)src->hdr.prf, in, 16,
				     src->hdr.csb_id, r->dir,
				     rand_of(src, MIKEY_RANDR_I),
				     rand_of(src, MIKEY_RANDR_R), encr, mac, k);
}

static enum cc_err rx_ticket(const struct mikey_msg *m)
{
	const struct mikey_pl *t = mikey_chain_find(&m->ch, MIKEY_PT_TICKET, 0);
	struct mikey_keys keys;
	struct mikey_ts issued;
	uint8_t plain[256];
	enum cc_err err;

	if (!t)
		return CC_ERR_MISSING;
	err = mikey_ticket_open(&t->u.ticket, tpk_lookup, NULL, plain,
				sizeof(plain), &keys, &issued, NULL);
	cc_wipe(plain, sizeof(plain));
	return err;
}

/* The whole receive path of example id's receiver over buf. */
static enum stage receive(enum mikey_example_id id, const uint8_t *buf,
			  size_t len, struct mikey_keys *got, uint8_t *plain,
			  size_t cap)
{
	const struct rx *r = &rxs[id];
	struct mikey_msg m;
	struct mikey_msg_keys k;
	struct mikey_mac_extra x = { .n = 0 };
	struct mikey_keys tmp;
	enum stage st = ST_PASS;

	if (mikey_decode(buf, len, &m, NULL) != CC_OK)
		return ST_DECODE;
	if (mikey_check_layout(&m, ex[id].variant, NULL) != CC_OK)
		return ST_LAYOUT;
	if (rx_keys(r, &m, &k) != CC_OK)
		return ST_KEYS;
	if (r->init >= 0) {
		x.part[x.n++] =
			(struct cc_slice){ ex[r->init].buf, ex[r->init].len };
	} else {
		x.part[x.n++] = ident(&m, r->id1);
		x.part[x.n++] = ident(&m, r->id2);
	}
	if (mikey_verify(buf, len, &m, &k, &x) != CC_OK)
		st = ST_VERIFY;
	else if (r->ticket && rx_ticket(&m) != CC_OK)
		st = ST_TICKET;
	else if (mikey_chain_find(&m.ch, MIKEY_PT_KEMAC, 0) &&
		 mikey_kemac_open(&m, &k, plain, cap, got ? got : &tmp, NULL) !=
			 CC_OK)
		st = ST_KEMAC;
	mikey_msg_keys_wipe(&k);
	return st;
}

/*
 * Regression guard: the chains built inside mikey_ticket_seal and
 * mikey_build_error once left mikey_chain.overflow uninitialised.
 * fill_stack(v) followed by a call through a wrapper whose frame is larger
 * than fill_stack's own makes any such indeterminate byte read as v; the
 * tests call with v = 1, which failed (CC_ERR_FULL, or a UBSan abort)
 * before the fix.
 */
static void __attribute__((noinline)) fill_stack(uint8_t v)
{
	volatile uint8_t junk[65536];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = v;
}

static enum cc_err __attribute__((noinline))
ticket_seal_below(struct mikey_pl_ticket *t,
		  const struct mikey_ticket_seal_in *in, uint8_t *out,
		  size_t cap)
{
	volatile uint8_t gap[1024];
	enum cc_err err;

	gap[0] = 0;
	err = mikey_ticket_seal(t, in, out, cap);
	gap[1] = gap[0];
	return err;
}

static enum cc_err __attribute__((noinline))
ticket_seal_filled(uint8_t v, struct mikey_pl_ticket *t,
		   const struct mikey_ticket_seal_in *in, uint8_t *out,
		   size_t cap)
{
	fill_stack(v);
	return ticket_seal_below(t, in, out, cap);
}

static enum cc_err __attribute__((noinline))
build_error_below(const struct mikey_hdr *h, uint64_t now, enum mikey_errno e,
		  struct cc_wr *wr)
{
	volatile uint8_t gap[1024];
	enum cc_err err;

	gap[0] = 0;
	err = mikey_build_error(h, now, e, wr);
	gap[1] = gap[0];
	return err;
}

static enum cc_err __attribute__((noinline))
build_error_filled(uint8_t v, const struct mikey_hdr *h, uint64_t now,
		   enum mikey_errno e, struct cc_wr *wr)
{
	fill_stack(v);
	return build_error_below(h, now, e, wr);
}

static enum cc_err __attribute__((noinline)) examples_below(void)
{
	volatile uint8_t gap[1024];
	enum cc_err err;

	gap[0] = 0;
	err = mikey_examples_build(ex);
	gap[1] = gap[0];
	return err;
}

static void setup(void)
{
	size_t i;

	fill_stack(1); /* it seals the base ticket: see fill_stack */
	if (examples_below() != CC_OK ||
	    mikey_derive_mpk(MIKEY_PRF_MIKEY1, mikey_ex_mpk, 16,
			     S(mikey_ex_rand_ticket), false, mpki) != CC_OK ||
	    mikey_derive_mpk(MIKEY_PRF_MIKEY1, mikey_ex_mpk, 16,
			     S(mikey_ex_rand_ticket), true, mpkr) != CC_OK) {
		fprintf(stderr, "setup failed\n");
		exit(2);
	}
	for (i = 0; i < MIKEY_EX__COUNT; i++)
		CHECK_OK(mikey_decode(ex[i].buf, ex[i].len, &orig[i], NULL));
}

/* ---- 0. every receiver accepts its original message ------------------ */

static void test_baseline(void)
{
	uint8_t plain[256];
	struct mikey_keys got;
	size_t i;

	for (i = 0; i < MIKEY_EX__COUNT; i++) {
		got.n = 0;
		if (receive((enum mikey_example_id)i, ex[i].buf, ex[i].len,
			    &got, plain, sizeof(plain)) != ST_PASS) {
			fprintf(stderr, "baseline: %s rejected\n", ex[i].name);
			check_failures++;
		}
		if (i == MIKEY_EX_REQUEST_RESP || i == MIKEY_EX_RESOLVE_RESP) {
			/* KEMAC = MPKi || TGK */
			CHECK(got.n == 2);
			CHECK(got.k[0].type == MIKEY_KEY_MPK &&
			      got.k[0].key.len == 16 &&
			      !memcmp(got.k[0].key.p, mpki, 16));
			CHECK(got.k[1].type == MIKEY_KEY_TGK &&
			      got.k[1].key.len == 16 &&
			      !memcmp(got.k[1].key.p, mikey_ex_tgk, 16));
		}
		if (i == MIKEY_EX_TRANSFER_RESP_KEY ||
		    i == MIKEY_EX_UPDATE_R_INIT)
			CHECK(got.n == 1 &&
			      got.k[0].type == MIKEY_KEY_TEK_SALT &&
			      got.k[0].salt.len == 14);
		if (i == MIKEY_EX_UPDATE_I_INIT)
			CHECK(got.n == 1 && got.k[0].type == MIKEY_KEY_TGK);
		cc_wipe(plain, sizeof(plain));
	}
}

/* ---- 1. truncation ------------------------------------------------------ */

static void test_truncation(void)
{
	size_t i, n, total = 0;

	for (i = 0; i < MIKEY_EX__COUNT; i++) {
		for (n = 0; n < ex[i].len; n++) {
			/* exactly n bytes on the heap: ASan sees an over-read */
			uint8_t *p = malloc(n);
			struct mikey_diag d = { NULL, NULL, 0 };
			struct mikey_msg m;
			enum cc_err err;

			if (!p && n) {
				fprintf(stderr, "out of memory\n");
				exit(2);
			}
			if (n)
				memcpy(p, ex[i].buf, n);
			err = mikey_decode(p ? p : ex[i].buf, n, &m, &d);
			if (err != CC_ERR_TRUNCATED || !d.payload || !d.field ||
			    d.offset > n) {
				fprintf(stderr,
					"%s prefix %zu: %s (%s/%s at %zu)\n",
					ex[i].name, n, cc_strerror(err),
					d.payload ? d.payload : "-",
					d.field ? d.field : "-", d.offset);
				check_failures++;
			}
			free(p);
			total++;
		}
	}
	printf("truncation: %zu prefixes rejected\n", total);
}

/* ---- 2. bit flips ---------------------------------------------------- */

/* Offset of the TICKET's Initiator Data length in a TRANSFER_INIT: the one
 * field RFC 6043 §5.5 leaves out of the V MAC (A8: always present). */
static size_t init_data_len_off(const struct mikey_msg *m)
{
	const struct mikey_pl *t = mikey_chain_find(&m->ch, MIKEY_PT_TICKET, 0);

	return t->off + t->len - t->u.ticket.init_data.len - 2;
}

static enum stage flip_receive(enum mikey_example_id id, size_t byte,
			       unsigned bit)
{
	uint8_t *p = malloc(ex[id].len), plain[256];
	enum stage st;

	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memcpy(p, ex[id].buf, ex[id].len);
	p[byte] ^= (uint8_t)(1u << bit);
	st = receive(id, p, ex[id].len, NULL, plain, sizeof(plain));
	cc_wipe(plain, sizeof(plain));
	free(p);
	return st;
}

/*
 * Every flip of every example must be rejected by some stage. Nothing
 * passes: each byte from HDR to the V Auth alg is MAC input (the V flag in
 * HDR byte 3 too), the MAC bytes are compared, and the only bytes RFC 6043
 * §5.5 excludes -- the TRANSFER_INIT TICKET's Initiator Data length and
 * data -- are 0x0000 here (I = 0), so any flip there claims Initiator
 * Data that starts with the V payload's next-payload byte 0 (an empty
 * chain, A9: malformed) or runs past the message (truncated), and the
 * decoder rejects it. The expected set of passing flips is therefore
 * empty.
 */
static void test_bit_flips(void)
{
	size_t tally[ST__COUNT] = { 0 }, i, byte, npass = 0, off;
	unsigned bit;

	for (i = 0; i < MIKEY_EX__COUNT; i++) {
		for (byte = 0; byte < ex[i].len; byte++) {
			for (bit = 0; bit < 8; bit++) {
				enum stage st = flip_receive(
					(enum mikey_example_id)i, byte, bit);

				tally[st]++;
				if (st != ST_PASS)
					continue;
				npass++;
				fprintf(stderr,
					"flip passes: %s byte %zu bit %u\n",
					ex[i].name, byte, bit);
			}
		}
	}
	printf("bit flips rejected at:");
	for (i = 0; i < ST__COUNT; i++)
		printf(" %s=%zu", stage_name[i], tally[i]);
	printf("\n");
	CHECK(npass == 0);
	CHECK(tally[ST_PASS] == 0);

	/* The MAC-excluded Initiator Data length: caught by the decoder. */
	CHECK(orig[MIKEY_EX_TRANSFER_INIT].ch.n > 0);
	off = init_data_len_off(&orig[MIKEY_EX_TRANSFER_INIT]);
	CHECK(ex[MIKEY_EX_TRANSFER_INIT].buf[off] == 0 &&
	      ex[MIKEY_EX_TRANSFER_INIT].buf[off + 1] == 0);
	for (byte = off; byte < off + 2; byte++)
		for (bit = 0; bit < 8; bit++)
			CHECK(flip_receive(MIKEY_EX_TRANSFER_INIT, byte, bit) ==
			      ST_DECODE);
	/* The V flag (HDR byte 3, bit 7) is MAC-covered. */
	for (i = 0; i < MIKEY_EX__COUNT; i++)
		CHECK(flip_receive((enum mikey_example_id)i, 3, 7) ==
		      ST_VERIFY);
	/* Flips in the MAC itself fail the MAC. */
	for (i = 0; i < MIKEY_EX__COUNT; i++)
		for (bit = 0; bit < 8; bit++)
			CHECK(flip_receive((enum mikey_example_id)i,
					   ex[i].len - 1 - bit,
					   bit) == ST_VERIFY);
	/* The ticket MAC catches what the REQUEST_RESP V would also catch,
	 * so flip a ticket byte and check the ticket alone rejects it. */
	{
		const struct mikey_pl *t = mikey_chain_find(
			&orig[MIKEY_EX_REQUEST_RESP].ch, MIKEY_PT_TICKET, 0);
		struct mikey_pl_ticket tk = t->u.ticket;
		uint8_t td[512], plain[256];
		struct mikey_keys keys;

		CHECK(tk.ticket_data.len <= sizeof(td));
		memcpy(td, tk.ticket_data.p, tk.ticket_data.len);
		tk.ticket_data.p = td;
		CHECK_OK(mikey_ticket_open(&tk, tpk_lookup, NULL, plain,
					   sizeof(plain), &keys, NULL, NULL));
		td[tk.ticket_data.len / 2] ^= 1;
		CHECK_ERR(mikey_ticket_open(&tk, tpk_lookup, NULL, plain,
					    sizeof(plain), &keys, NULL, NULL),
			  CC_ERR_BAD_MAC);
		td[tk.ticket_data.len / 2] ^= 1;
		tk.flags ^= MIKEY_TPF_J; /* the policy is MAC-covered too */
		CHECK_ERR(mikey_ticket_open(&tk, tpk_lookup, NULL, plain,
					    sizeof(plain), &keys, NULL, NULL),
			  CC_ERR_BAD_MAC);
		cc_wipe(plain, sizeof(plain));
	}
}

/* ---- 4. timestamps and the replay cache ---------------------------- */

#define NOW 1709294400LL /* 2024-03-01 12:00:00 UTC */
#define SKEW 300u
#define NTP_UNIX 2208988800LL

static void check_window(uint8_t type, int64_t now)
{
	struct mikey_ts ts = { type, 0 };
	const int64_t d[] = { -(int64_t)SKEW - 1, -(int64_t)SKEW, 0,
			      (int64_t)SKEW, (int64_t)SKEW + 1 };
	const enum cc_err want[] = { CC_ERR_STALE, CC_OK, CC_OK, CC_OK,
				     CC_ERR_FUTURE };
	size_t i;

	for (i = 0; i < 5; i++) {
		uint64_t ntp = mikey_ntp_from_unix(now + d[i], 0x80000000u);

		ts.value = type == MIKEY_TS_NTP_UTC_32 ? ntp >> 32 : ntp;
		CHECK(mikey_ts_unix(&ts) == now + d[i]);
		CHECK_ERR(mikey_ts_check(&ts, now, SKEW), want[i]);
	}
}

static void test_timestamps(void)
{
	/* 2041-01-01: NTP seconds wrap, MSB clear = era 1 (RFC 4330 §3) */
	const int64_t now2041 = 2240524800LL;
	struct mikey_ts ts = { MIKEY_TS_NTP_UTC_32, 0 };

	check_window(MIKEY_TS_NTP_UTC, NOW);
	check_window(MIKEY_TS_NTP_UTC_32, NOW);
	check_window(MIKEY_TS_NTP_UTC, now2041);
	check_window(MIKEY_TS_NTP_UTC_32, now2041);
	CHECK((mikey_ntp_from_unix(now2041, 0) >> 63) == 0);
	CHECK((mikey_ntp_from_unix(NOW, 0) >> 63) == 1);
	/* era edges: 0 = 2036-02-07 06:28:16, 0x7fffffff in 2104,
	 * 0x80000000 in 1968 */
	CHECK(mikey_ts_unix(&ts) == (1LL << 32) - NTP_UNIX);
	ts.value = 0x7fffffffu;
	CHECK(mikey_ts_unix(&ts) == (1LL << 32) + 0x7fffffffLL - NTP_UNIX);
	ts.value = 0x80000000u;
	CHECK(mikey_ts_unix(&ts) == 0x80000000LL - NTP_UNIX);
	CHECK_ERR(mikey_ts_check(&ts, NOW, SKEW), CC_ERR_STALE);
	/* COUNTER is no clock: always within the window */
	ts = (struct mikey_ts){ MIKEY_TS_COUNTER, 0 };
	CHECK_OK(mikey_ts_check(&ts, NOW, SKEW));
	ts.value = 0xffffffffu;
	CHECK_OK(mikey_ts_check(&ts, NOW, SKEW));

	CHECK(mikey_errno_for(CC_ERR_STALE) == MIKEY_ERR_INVALID_TS);
	CHECK(mikey_errno_for(CC_ERR_FUTURE) == MIKEY_ERR_INVALID_TS);
	CHECK(mikey_errno_for(CC_ERR_REPLAY) == MIKEY_ERR_INVALID_TS);
	CHECK(mikey_errno_for(CC_ERR_BAD_MAC) == MIKEY_ERR_AUTH_FAILURE);
}

/* A small sealed TRANSFER_RESP: HDR, T, V, decoded into m over buf. */
static void replay_msg(uint8_t buf[128], struct mikey_msg *m, uint32_t csb,
		       uint8_t ts_type, uint64_t tv)
{
	struct mikey_msg_keys k;
	struct mikey_seal_opts o = { .keys = &k };
	struct cc_wr wr;

	memset(&k, 0, sizeof(k));
	k.mac_alg = MIKEY_MAC_HMAC_SHA1_160;
	memset(k.auth, 0x5a, sizeof(k.auth));
	mikey_msg_init(m, MIKEY_DT_TRANSFER_RESP, false, MIKEY_PRF_MIKEY1, csb,
		       MIKEY_MAP_GENERIC_ID);
	mikey_add_t(&m->ch, ts_type, tv);
	mikey_add_v(&m->ch);
	cc_wr_init(&wr, buf, 128);
	CHECK_OK(mikey_seal(m, &o, &wr));
	CHECK_OK(mikey_decode(buf, wr.pos, m, NULL));
}

static void test_replay(void)
{
	struct mikey_replay *r = NULL;
	static struct mikey_msg m[6];
	uint8_t buf[6][128];
	uint64_t t0 = mikey_ntp_from_unix(NOW, 0);
	uint64_t t1 = mikey_ntp_from_unix(NOW + 100, 0);
	size_t i;

	replay_msg(buf[0], &m[0], 1, MIKEY_TS_NTP_UTC, t0);
	replay_msg(buf[1], &m[1], 2, MIKEY_TS_NTP_UTC, t0);
	replay_msg(buf[2], &m[2], 3, MIKEY_TS_NTP_UTC_32, t1 >> 32);
	replay_msg(buf[3], &m[3], 4, MIKEY_TS_NTP_UTC, t1);
	replay_msg(buf[4], &m[4], 5, MIKEY_TS_NTP_UTC, t1);
	replay_msg(buf[5], &m[5], 6, MIKEY_TS_COUNTER, 7);

	CHECK_OK(mikey_replay_alloc(&r, 4, SKEW));
	if (!r)
		return;
	CHECK_OK(mikey_replay_add(r, &m[0], NOW));
	CHECK_ERR(mikey_replay_add(r, &m[0], NOW), CC_ERR_REPLAY);
	CHECK_ERR(mikey_replay_add(r, &m[0], NOW + SKEW), CC_ERR_REPLAY);
	CHECK(mikey_replay_count(r) == 1);
	for (i = 1; i < 4; i++)
		CHECK_OK(mikey_replay_add(r, &m[i], NOW + 1));
	CHECK(mikey_replay_count(r) == 4);
	/* N live entries: the N+1th distinct message evicts the oldest (m[0],
	 * T = NOW) and the window shrinks past its T (RFC 3830 §5.4) */
	CHECK_OK(mikey_replay_add(r, &m[4], NOW + 2));
	CHECK(mikey_replay_count(r) == 4);
	CHECK_ERR(mikey_replay_seen(r, &m[0], NOW + 2), CC_ERR_STALE);
	CHECK_ERR(mikey_replay_add(r, &m[0], NOW + 2), CC_ERR_STALE);
	/* m[1] has the same T as the evicted m[0]: also below the floor */
	CHECK_ERR(mikey_replay_add(r, &m[1], NOW + 2), CC_ERR_STALE);
	CHECK_ERR(mikey_replay_add(r, &m[3], NOW + 2), CC_ERR_REPLAY);
	CHECK_ERR(mikey_replay_add(r, &m[4], NOW + 2), CC_ERR_REPLAY);
	/* past T + skew everything expires and the cache empties by itself;
	 * from then on the timestamp window refuses those messages */
	CHECK_ERR(mikey_ts_check(&m[3].ch.pl[0].u.t, NOW + 100 + SKEW + 1,
				 SKEW),
		  CC_ERR_STALE);
	CHECK_OK(mikey_replay_add(r, &m[5], NOW + 100 + SKEW + 1));
	CHECK(mikey_replay_count(r) == 1);
	/* an expired one is no longer in the cache; its T is stale */
	CHECK_ERR(mikey_ts_check(&m[0].ch.pl[0].u.t, NOW + SKEW + 1, SKEW),
		  CC_ERR_STALE);
	/* COUNTER: remembered for skew seconds from its arrival */
	CHECK_ERR(mikey_replay_add(r, &m[5], NOW + 100 + 2 * SKEW),
		  CC_ERR_REPLAY);
	CHECK_OK(mikey_replay_add(r, &m[5], NOW + 100 + 2 * SKEW + 2));
	mikey_replay_free(r);

	/* a message without V has no replay key */
	CHECK_OK(mikey_replay_alloc(&r, 1, SKEW));
	if (r) {
		struct mikey_msg nv = m[0];

		nv.ch.n = 1;
		CHECK_ERR(mikey_replay_add(r, &nv, NOW), CC_ERR_INVAL);
		mikey_replay_free(r);
	}
	CHECK_ERR(mikey_replay_alloc(&r, 0, SKEW), CC_ERR_INVAL);
}

/*
 * Regression: mikey_build_error and mikey_ticket_seal's build_chain used to
 * leave msg->ch.overflow uninitialised; with a dirty stack mikey_encode
 * returned CC_ERR_FULL (UBSan: "load of value ... for type '_Bool'").
 */
static void test_overflow_init(void)
{
	static const uint8_t z16[16], spi[4];
	struct mikey_keys ks = { .n = 1 };
	struct mikey_pl_ticket t = { .ticket_type = 1,
				     .subtype = 1,
				     .version = 1 };
	struct mikey_ticket_seal_in in = {
		.tpk = z16,
		.tpk_len = 16,
		.encr_alg = MIKEY_ENCR_AES_CM_128,
		.mac_alg = MIKEY_MAC_HMAC_SHA1_160,
		.t = { MIKEY_TS_NTP_UTC, 1 },
		.rand = S(z16),
		.keys = &ks,
	};
	struct mikey_hdr h = { .version = 1 };
	uint8_t out[512];
	struct cc_wr wr;

	memset(&ks.k[0], 0, sizeof(ks.k[0]));
	ks.k[0].type = MIKEY_KEY_MPK;
	ks.k[0].kv = MIKEY_KV_SPI;
	ks.k[0].key = S(z16);
	ks.k[0].spi = S(spi);
	CHECK_OK(ticket_seal_filled(1, &t, &in, out, sizeof(out)));
	cc_wr_init(&wr, out, sizeof(out));
	CHECK_OK(build_error_filled(1, &h, 0, MIKEY_ERR_INVALID_TS, &wr));
}

static void test_error_message(void)
{ /* build_error_filled(1, ...): dirty stack, see fill_stack */
	uint8_t buf[64];
	struct mikey_msg e;
	struct mikey_diag d;
	struct cc_wr wr;
	const struct mikey_pl *p;
	const struct mikey_hdr *h = &orig[MIKEY_EX_TRANSFER_INIT].hdr;

	cc_wr_init(&wr, buf, sizeof(buf));
	CHECK_OK(build_error_filled(1, h, mikey_ntp_from_unix(NOW, 0),
				    mikey_errno_for(CC_ERR_REPLAY), &wr));
	CHECK_OK(mikey_decode(buf, wr.pos, &e, &d));
	CHECK(e.hdr.data_type == MIKEY_DT_ERROR && !e.hdr.v);
	CHECK(e.hdr.csb_id == h->csb_id && e.hdr.prf == h->prf);
	p = mikey_chain_find(&e.ch, MIKEY_PT_ERR, 0);
	CHECK(p && p->u.err.errno_ == MIKEY_ERR_INVALID_TS);
	CHECK(mikey_chain_find(&e.ch, MIKEY_PT_T, 0) != NULL);
	CHECK(mikey_chain_find(&e.ch, MIKEY_PT_V, 0) == NULL);
	CHECK_OK(mikey_check_layout(&e, MIKEY_INITIAL, &d));

	cc_wr_init(&wr, buf, sizeof(buf));
	CHECK_OK(build_error_filled(1, h, mikey_ntp_from_unix(NOW, 0),
				    mikey_errno_for(CC_ERR_BAD_MAC), &wr));
	CHECK_OK(mikey_decode(buf, wr.pos, &e, &d));
	p = mikey_chain_find(&e.ch, MIKEY_PT_ERR, 0);
	CHECK(p && p->u.err.errno_ == MIKEY_ERR_AUTH_FAILURE);
	CHECK_OK(mikey_check_layout(&e, MIKEY_INITIAL, &d));
}

/* ---- 5. layout rules --------------------------------------------------- */

enum lp {
	P_T,
	P_RANDRI,
	P_RANDRR,
	P_IDRI,
	P_IDRR,
	P_IDRKMS,
	P_IDRPSK,
	P_TP,
	P_TICKET,
	P_KEMAC,
	P_SP,
	P_EXT,
	P_ERR,
	P_V,
	P_END
};

static const uint8_t spbytes[] = { 0, 1, 1, 1, 1, 16 };
static const uint8_t kemac_plain[] = { 0, 0x21, 0, 1, 0xaa, 1, 0 };

static void add_lp(struct mikey_chain *ch, enum lp p)
{
	const struct mikey_pl *xt = mikey_chain_find(
		&orig[MIKEY_EX_TRANSFER_INIT].ch, MIKEY_PT_TICKET, 0);
	const struct mikey_pl *xp = mikey_chain_find(
		&orig[MIKEY_EX_REQUEST_INIT].ch, MIKEY_PT_TP, 0);
	struct mikey_pl *pl;

	switch (p) {
	case P_T:
		mikey_add_t(ch, MIKEY_TS_NTP_UTC, mikey_ntp_from_unix(NOW, 0));
		break;
	case P_RANDRI:
	case P_RANDRR:
		mikey_add_randr(ch,
				p == P_RANDRI ? MIKEY_RANDR_I : MIKEY_RANDR_R,
				S(mikey_ex_randri_xfer));
		break;
	case P_IDRI:
		mikey_add_idr(ch, MIKEY_IDR_I, MIKEY_ID_URI,
			      mikey_str(mikey_ex_alice));
		break;
	case P_IDRR:
		mikey_add_idr(ch, MIKEY_IDR_R, MIKEY_ID_URI,
			      mikey_str(mikey_ex_bob));
		break;
	case P_IDRKMS:
		mikey_add_idr(ch, MIKEY_IDR_KMS, MIKEY_ID_URI,
			      mikey_str(mikey_ex_kms));
		break;
	case P_IDRPSK:
		mikey_add_idr(ch, MIKEY_IDR_PSK, MIKEY_ID_BYTES,
			      mikey_str("psk"));
		break;
	case P_TP:
	case P_TICKET:
		pl = mikey_chain_add(ch,
				     p == P_TP ? MIKEY_PT_TP : MIKEY_PT_TICKET);
		if (pl)
			pl->u.ticket = p == P_TP ? xp->u.ticket : xt->u.ticket;
		break;
	case P_KEMAC:
		pl = mikey_add_kemac(ch);
		if (pl)
			pl->u.kemac.encr = S(kemac_plain);
		break;
	case P_SP:
		mikey_add_sp(ch, 0, S(spbytes));
		break;
	case P_EXT:
		mikey_add_ext(ch, MIKEY_GENEXT_VENDOR, mikey_str("x"));
		break;
	case P_ERR:
		pl = mikey_chain_add(ch, MIKEY_PT_ERR);
		if (pl)
			pl->u.err.errno_ = MIKEY_ERR_UNSPECIFIED;
		break;
	case P_V:
		pl = mikey_add_v(ch);
		if (pl)
			pl->u.v.alg = MIKEY_MAC_HMAC_SHA1_160;
		break;
	case P_END:
		break;
	}
}

/* Build, encode, decode and check the layout of a message. */
static enum cc_err layout(uint8_t dt, uint8_t map, enum mikey_variant var,
			  const enum lp *pls, struct mikey_diag *d)
{
	static struct mikey_msg m;
	uint8_t buf[1024];
	struct cc_wr wr;
	enum cc_err err;

	mikey_msg_init(&m, dt, true, MIKEY_PRF_MIKEY1, 0x01020304, map);
	if (map != MIKEY_MAP_EMPTY)
		CHECK_OK(mikey_hdr_add_cs(&m.hdr, 1, 0, true, 0x11223344, NULL,
					  0));
	for (; *pls != P_END; pls++)
		add_lp(&m.ch, *pls);
	cc_wr_init(&wr, buf, sizeof(buf));
	err = mikey_encode(&m, &wr);
	if (!err)
		err = mikey_decode(buf, wr.pos, &m, d);
	if (err) {
		fprintf(stderr, "layout: building failed: %s\n",
			cc_strerror(err));
		check_failures++;
		return CC_OK;
	}
	memset(d, 0, sizeof(*d));
	return mikey_check_layout(&m, var, d);
}

static void check_diag(int line, const char *want, const struct mikey_diag *d)
{
	if (!want || (d->payload && !strcmp(d->payload, want)))
		return;
	fprintf(stderr, "%s:%d: diag payload %s, want %s\n", __FILE__, line,
		d->payload ? d->payload : "(null)", want);
	check_failures++;
}

#define LAYOUT(dt, map, var, want, pl_name, ...)                      \
	do {                                                          \
		static const enum lp pls_[] = { __VA_ARGS__, P_END }; \
		struct mikey_diag d_;                                 \
		CHECK_ERR(layout(dt, map, var, pls_, &d_), want);     \
		check_diag(__LINE__, pl_name, &d_);                   \
	} while (0)

#define RI MIKEY_DT_REQUEST_INIT_PSK
#define TI MIKEY_DT_TRANSFER_INIT
#define TR MIKEY_DT_TRANSFER_RESP
#define EMPTY MIKEY_MAP_EMPTY
#define GEN MIKEY_MAP_GENERIC_ID

static void test_layout(void)
{
	const char *ok = NULL;

	/* the well-formed shapes pass */
	LAYOUT(RI, EMPTY, MIKEY_INITIAL, CC_OK, ok, P_T, P_RANDRI, P_IDRI,
	       P_IDRKMS, P_TP, P_IDRPSK, P_V);
	LAYOUT(TI, GEN, MIKEY_INITIAL, CC_OK, ok, P_T, P_RANDRI, P_IDRI, P_IDRR,
	       P_SP, P_SP, P_TICKET, P_KEMAC, P_V);
	LAYOUT(TI, GEN, MIKEY_UPDATE_BY_I, CC_OK, ok, P_T, P_IDRI, P_IDRR,
	       P_KEMAC, P_V);
	/* missing T / RANDRi */
	LAYOUT(RI, EMPTY, MIKEY_INITIAL, CC_ERR_MISSING, "T", P_RANDRI, P_TP,
	       P_V);
	LAYOUT(TI, GEN, MIKEY_INITIAL, CC_ERR_MISSING, "RANDRi", P_T, P_IDRI,
	       P_TICKET, P_V);
	LAYOUT(TI, GEN, MIKEY_INITIAL, CC_ERR_MISSING, "TICKET", P_T, P_RANDRI,
	       P_V);
	LAYOUT(TR, GEN, MIKEY_INITIAL, CC_ERR_MISSING, "V", P_T, P_IDRR);
	/* V not last */
	LAYOUT(TR, GEN, MIKEY_INITIAL, CC_ERR_ORDER, "IDR", P_T, P_V, P_IDRR);
	LAYOUT(TR, GEN, MIKEY_INITIAL, CC_ERR_ORDER, "General Ext", P_T, P_V,
	       P_EXT);
	/* two TICKETs; payloads out of order */
	LAYOUT(TI, GEN, MIKEY_INITIAL, CC_ERR_ORDER, "TICKET", P_T, P_RANDRI,
	       P_TICKET, P_TICKET, P_V);
	LAYOUT(TI, GEN, MIKEY_INITIAL, CC_ERR_ORDER, "IDR", P_T, P_RANDRI, P_SP,
	       P_IDRR, P_TICKET, P_V);
	LAYOUT(TI, GEN, MIKEY_INITIAL, CC_ERR_MISSING, "RANDRi", P_T, P_IDRI,
	       P_RANDRI, P_TICKET, P_V);
	LAYOUT(TI, GEN, MIKEY_INITIAL, CC_ERR_ORDER, "T", P_T, P_T, P_RANDRI,
	       P_TICKET, P_V);
	/* RANDR or TICKET in an update (RFC 6043 §5.2) */
	LAYOUT(TI, GEN, MIKEY_UPDATE_BY_I, CC_ERR_ORDER, "RANDR", P_T, P_RANDRI,
	       P_IDRI, P_V);
	LAYOUT(TR, GEN, MIKEY_UPDATE_BY_R, CC_ERR_ORDER, "RANDR", P_T, P_RANDRR,
	       P_V);
	LAYOUT(TI, GEN, MIKEY_UPDATE_BY_R, CC_ERR_ORDER, "TICKET", P_T,
	       P_TICKET, P_V);
	/* CS ID maps (RFC 6043 §6.1, §4.2.1.1) */
	LAYOUT(TI, MIKEY_MAP_SRTP_ID, MIKEY_INITIAL, CC_ERR_MALFORMED, "HDR",
	       P_T, P_RANDRI, P_TICKET, P_V);
	LAYOUT(RI, GEN, MIKEY_INITIAL, CC_ERR_MALFORMED, "HDR", P_T, P_RANDRI,
	       P_TP, P_V);
	LAYOUT(RI, MIKEY_MAP_SRTP_ID, MIKEY_INITIAL, CC_ERR_MALFORMED, "HDR",
	       P_T, P_RANDRI, P_TP, P_V);
	/* A10: known but unexpected payloads are ignored; GENEXT anywhere
	 * before V (A11) */
	LAYOUT(TI, GEN, MIKEY_INITIAL, CC_OK, ok, P_T, P_RANDRI, P_ERR,
	       P_TICKET, P_EXT, P_V);
	LAYOUT(TI, GEN, MIKEY_INITIAL, CC_OK, ok, P_EXT, P_T, P_RANDRI,
	       P_IDRKMS, P_TICKET, P_V);
	LAYOUT(RI, EMPTY, MIKEY_INITIAL, CC_OK, ok, P_T, P_RANDRI, P_SP, P_TP,
	       P_KEMAC, P_V);
	/* the PK variants are not ours */
	LAYOUT(MIKEY_DT_REQUEST_INIT_PK, EMPTY, MIKEY_INITIAL,
	       CC_ERR_UNSUPPORTED, "HDR", P_T, P_RANDRI, P_TP, P_V);
}

static void test_tp_data(void)
{
	const struct mikey_pl *tp = mikey_chain_find(
		&orig[MIKEY_EX_REQUEST_INIT].ch, MIKEY_PT_TP, 0);
	const struct mikey_pl *tk = mikey_chain_find(
		&orig[MIKEY_EX_REQUEST_RESP].ch, MIKEY_PT_TICKET, 0);
	struct mikey_chain ch;
	struct mikey_diag d;

	/* desired policy (with a KEMAC template) and granted policy */
	CHECK_OK(mikey_decode_chain(tp->u.ticket.tp_data.p,
				    tp->u.ticket.tp_data.len, true, &ch, &d));
	CHECK(mikey_chain_find(&ch, MIKEY_PT_KEMAC, 0) != NULL);
	CHECK_OK(mikey_check_tp_data(&ch, false, &d));
	memset(&d, 0, sizeof(d));
	CHECK_ERR(mikey_check_tp_data(&ch, true, &d), CC_ERR_ORDER);
	CHECK(d.payload && !strcmp(d.payload, "KEMAC"));
	CHECK_OK(mikey_decode_chain(tk->u.ticket.tp_data.p,
				    tk->u.ticket.tp_data.len, true, &ch, &d));
	CHECK_OK(mikey_check_tp_data(&ch, true, &d));
	/* at least one IDRr */
	CHECK(ch.n > 0 && ch.pl[ch.n - 1].type == MIKEY_PT_IDR);
	ch.n--;
	memset(&d, 0, sizeof(d));
	CHECK_ERR(mikey_check_tp_data(&ch, true, &d), CC_ERR_MISSING);
	CHECK(d.payload && !strcmp(d.payload, "IDRr"));
}

static void test_flags(void)
{
	const uint16_t base = MIKEY_TPF_D | MIKEY_TPF_E | MIKEY_TPF_F |
			      MIKEY_TPF_H | MIKEY_TPF_L | MIKEY_TPF_M |
			      MIKEY_TPF_N | MIKEY_TPF_O;
	/* Each RFC 6043 §6.10 rule broken alone. "!G => H" and "!H => G"
	 * are the same condition (G = H = 0), so one case breaks both and
	 * the first rule in the table is named. */
	static const struct {
		uint16_t set, clear;
		const char *rule;
	} cases[] = {
		{ 0, MIKEY_TPF_D | MIKEY_TPF_L, "!D => L" },
		{ MIKEY_TPF_G, MIKEY_TPF_F | MIKEY_TPF_M, "G => F" },
		{ 0, MIKEY_TPF_H, "!G => H" },
		{ MIKEY_TPF_I, MIKEY_TPF_E, "I => E" },
		{ MIKEY_TPF_K, MIKEY_TPF_D, "K => D" },
		{ 0, MIKEY_TPF_F, "M => F" },
	};
	struct mikey_diag d;
	size_t i;

	CHECK_OK(mikey_check_flags(base, &d));
	CHECK_OK(mikey_check_flags(base | MIKEY_TPF_G, &d));
	CHECK_OK(mikey_check_flags((base | MIKEY_TPF_G) & ~MIKEY_TPF_H, &d));
	CHECK_OK(mikey_check_flags(base | MIKEY_TPF_I | MIKEY_TPF_K, &d));
	CHECK_OK(mikey_check_flags((base & ~MIKEY_TPF_D) | MIKEY_TPF_L, &d));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t f =
			(uint16_t)((base | cases[i].set) & ~cases[i].clear);

		memset(&d, 0, sizeof(d));
		CHECK_ERR(mikey_check_flags(f, &d), CC_ERR_POLICY);
		if (!d.field || strcmp(d.field, cases[i].rule) != 0) {
			fprintf(stderr, "flags %04x: rule %s, want %s\n", f,
				d.field ? d.field : "(null)", cases[i].rule);
			check_failures++;
		}
	}
	/* !H => G alone is !G => H: the same flags */
	CHECK_ERR(mikey_check_flags(base & ~(MIKEY_TPF_H | MIKEY_TPF_G), &d),
		  CC_ERR_POLICY);
}

/* ---- 6. key forking --------------------------------------------------- */

static void test_fork(void)
{
	const uint16_t flags = MIKEY_TPF_D | MIKEY_TPF_E | MIKEY_TPF_F |
			       MIKEY_TPF_H | MIKEY_TPF_I | MIKEY_TPF_L |
			       MIKEY_TPF_M | MIKEY_TPF_N | MIKEY_TPF_O;
	const struct mikey_msg *xi = &orig[MIKEY_EX_TRANSFER_INIT];
	const struct mikey_pl *xt =
		mikey_chain_find(&xi->ch, MIKEY_PT_TICKET, 0);
	static const uint8_t spi0[4], spi1[4] = { 0, 0, 0, 1 };
	static struct mikey_msg m, r;
	struct mikey_keys ks = { .n = 2 };
	struct mikey_ticket_seal_in in = {
		.tpk = mikey_ex_tpk,
		.tpk_len = 16,
		.tpk_id = mikey_str("tpk-7"),
		.encr_alg = MIKEY_ENCR_AES_CM_128,
		.mac_alg = MIKEY_MAC_HMAC_SHA1_160,
		.t = { MIKEY_TS_NTP_UTC, mikey_ntp_from_unix(NOW, 0) },
		.rand = S(mikey_ex_rand_ticket),
		.keys = &ks,
	};
	struct mikey_msg_keys k;
	struct mikey_seal_opts o = { .keys = &k };
	struct mikey_pl_ticket tk;
	struct mikey_pl *pl;
	const struct mikey_pl *t, *v;
	struct cc_slice idata, vi;
	struct mikey_chain ch;
	uint8_t td[512], buf[1024], bad[16], alg = 0;
	struct cc_wr wr;
	size_t len, at, ml = 20;

	memset(ks.k, 0, sizeof(ks.k));
	ks.k[0] = (struct mikey_key){ .type = MIKEY_KEY_MPK,
				      .kv = MIKEY_KV_SPI,
				      .key = S(mikey_ex_mpk),
				      .spi = S(spi0) };
	ks.k[1] = (struct mikey_key){ .type = MIKEY_KEY_TGK,
				      .kv = MIKEY_KV_SPI,
				      .key = S(mikey_ex_tgk),
				      .spi = S(spi1) };
	tk = xt->u.ticket;
	tk.flags = flags;
	tk.init_data = NONE;
	CHECK_OK(mikey_check_flags(flags, NULL));
	/* dirty stack: regression guard, see fill_stack */
	CHECK_OK(ticket_seal_filled(1, &tk, &in, td, sizeof(td)));
	CHECK_OK(mikey_derive_msg_keys(
		MIKEY_PRF_MIKEY1, mpki, 16, xi->hdr.csb_id, MIKEY_LBL_INIT,
		S(mikey_ex_randri_xfer), NONE, MIKEY_ENCR_AES_CM_128,
		MIKEY_MAC_HMAC_SHA1_160, &k));
	mikey_msg_init(&m, MIKEY_DT_TRANSFER_INIT, true, MIKEY_PRF_MIKEY1,
		       xi->hdr.csb_id, MIKEY_MAP_GENERIC_ID);
	CHECK_OK(mikey_hdr_add_cs(&m.hdr, 1, 0, true, 0x11223344, spi1, 4));
	mikey_add_t(&m.ch, MIKEY_TS_NTP_UTC, mikey_ntp_from_unix(NOW, 0));
	mikey_add_randr(&m.ch, MIKEY_RANDR_I, S(mikey_ex_randri_xfer));
	mikey_add_idr(&m.ch, MIKEY_IDR_I, MIKEY_ID_URI,
		      mikey_str(mikey_ex_alice));
	mikey_add_idr(&m.ch, MIKEY_IDR_R, MIKEY_ID_URI,
		      mikey_str(mikey_ex_bob));
	pl = mikey_chain_add(&m.ch, MIKEY_PT_TICKET);
	if (pl)
		pl->u.ticket = tk;
	mikey_add_v(&m.ch);
	o.extra = (struct mikey_mac_extra){
		{ mikey_str(mikey_ex_alice), mikey_str(mikey_ex_bob) }, 2
	};
	o.fork_mpkr = mpkr;
	o.fork_mpkr_len = sizeof(mpkr);
	o.fork_prf = MIKEY_PRF_MIKEY1;
	cc_wr_init(&wr, buf, sizeof(buf));
	CHECK_OK(mikey_seal(&m, &o, &wr));
	len = wr.pos;

	CHECK_OK(mikey_decode(buf, len, &r, NULL));
	CHECK_OK(mikey_check_layout(&r, MIKEY_INITIAL, NULL));
	t = mikey_chain_find(&r.ch, MIKEY_PT_TICKET, 0);
	v = &r.ch.pl[r.ch.n - 1];
	if (!t || v->type != MIKEY_PT_V) {
		CHECK(!"forked TRANSFER_INIT lacks TICKET or V");
		goto out;
	}
	CHECK(t->u.ticket.flags == flags);
	CHECK_OK(rx_ticket(&r));
	CHECK_OK(mikey_verify(buf, len, &r, &k, &o.extra));
	/* Initiator Data = First Payload (V), Vi, Vr (RFC 6043 §6.10, A27) */
	idata = t->u.ticket.init_data;
	CHECK(idata.len == 1 + 2 * (2 + ml));
	CHECK_OK(mikey_decode_chain(idata.p, idata.len, true, &ch, NULL));
	CHECK(ch.n == 2 && ch.pl[0].type == MIKEY_PT_V &&
	      ch.pl[1].type == MIKEY_PT_V);
	CHECK(ch.pl[0].u.v.alg == MIKEY_MAC_HMAC_SHA1_160 &&
	      ch.pl[1].u.v.alg == MIKEY_MAC_HMAC_SHA1_160);
	CHECK_OK(mikey_initiator_data_vi(idata, &alg, &vi));
	CHECK(alg == v->u.v.alg && vi.len == ml && v->u.v.mac.len == ml &&
	      !memcmp(vi.p, v->u.v.mac.p, ml));
	CHECK_OK(mikey_initiator_data_verify(idata, MIKEY_PRF_MIKEY1, mpkr,
					     sizeof(mpkr)));
	CHECK_ERR(mikey_initiator_data_verify(idata, MIKEY_PRF_MIKEY1, mpki,
					      sizeof(mpki)),
		  CC_ERR_BAD_MAC);
	memcpy(bad, mpkr, sizeof(bad));
	bad[15] ^= 0x80;
	CHECK_ERR(mikey_initiator_data_verify(idata, MIKEY_PRF_MIKEY1, bad,
					      sizeof(bad)),
		  CC_ERR_BAD_MAC);
	CHECK_ERR(mikey_initiator_data_verify(idata, MIKEY_PRF_HMAC_SHA256,
					      mpkr, sizeof(mpkr)),
		  CC_ERR_BAD_MAC);

	/* The Initiator Data is outside the V MAC: alter Vr, V still holds */
	at = (size_t)(idata.p - buf);
	buf[at + idata.len - 1] ^= 0x01;
	CHECK_OK(mikey_decode(buf, len, &r, NULL));
	t = mikey_chain_find(&r.ch, MIKEY_PT_TICKET, 0);
	CHECK_OK(mikey_verify(buf, len, &r, &k, &o.extra));
	CHECK_ERR(mikey_initiator_data_verify(t->u.ticket.init_data,
					      MIKEY_PRF_MIKEY1, mpkr,
					      sizeof(mpkr)),
		  CC_ERR_BAD_MAC);
	buf[at + idata.len - 1] ^= 0x01;
	/* ... and Vi: V holds, Vi no longer equals V, Vr (covering Vi)
	 * fails at the KMS */
	buf[at + 3] ^= 0x01;
	CHECK_OK(mikey_decode(buf, len, &r, NULL));
	t = mikey_chain_find(&r.ch, MIKEY_PT_TICKET, 0);
	v = &r.ch.pl[r.ch.n - 1];
	CHECK_OK(mikey_verify(buf, len, &r, &k, &o.extra));
	CHECK_OK(mikey_initiator_data_vi(t->u.ticket.init_data, &alg, &vi));
	CHECK(memcmp(vi.p, v->u.v.mac.p, ml) != 0);
	CHECK_ERR(mikey_initiator_data_verify(t->u.ticket.init_data,
					      MIKEY_PRF_MIKEY1, mpkr,
					      sizeof(mpkr)),
		  CC_ERR_BAD_MAC);
	buf[at + 3] ^= 0x01;
	/* the ticket still resolves: its MAC excludes the Initiator Data */
	CHECK_OK(rx_ticket(&r));
	/* the Initiator Data length itself: rejected by the decoder */
	buf[at - 1] ^= 0x01;
	CHECK(mikey_decode(buf, len, &r, NULL) != CC_OK);
	buf[at - 1] ^= 0x01;
out:
	mikey_msg_keys_wipe(&k);
}

int main(void)
{
	setup();
	test_baseline();
	test_truncation();
	test_bit_flips();
	test_timestamps();
	test_replay();
	test_overflow_init();
	test_error_message();
	test_layout();
	test_tp_data();
	test_flags();
	test_fork();
	CHECK_DONE();
}
