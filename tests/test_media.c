/*
 * test_media.c -- SRTP group media on libsrtp2: protect -> switch ->
 * unprotect across members, MKI switch with packets in flight, retire,
 * tamper / replay / foreign SSRC drops, late joiner after sequence wraps,
 * both profiles; and the switch vs per-leg fan-out micro-benchmark.
 */
#include <conclave/media.h>

#include "check.h"

#include <time.h>

#define MID_A 11
#define MID_B 12
#define MID_C 13
#define SSRC_A 0xa0a0a0a0u
#define SSRC_B 0xb0b0b0b0u
#define SSRC_C 0xc0c0c0c0u

static const char *pname[] = { "AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM" };

/* ---- keys and the SSRC registry the daemon would keep (conf) ---------- */

struct test_key {
	uint8_t tek[16], salt[14];
	struct media_key k;
};

static void key_make(struct test_key *t, enum media_profile p, uint32_t epoch)
{
	size_t tek, salt, tag, i;

	media_profile_sizes(p, &tek, &salt, &tag);
	for (i = 0; i < sizeof(t->tek); i++)
		t->tek[i] = (uint8_t)(epoch * 31 + i * 7 + 1);
	for (i = 0; i < sizeof(t->salt); i++)
		t->salt[i] = (uint8_t)(epoch * 17 + i * 3 + 5);
	t->k.mki = 0x80000000u | epoch;
	t->k.profile = p;
	t->k.tek = t->tek;
	t->k.tek_len = tek;
	t->k.salt = t->salt;
	t->k.salt_len = salt;
}

struct reg_entry {
	uint32_t ssrc;
	media_mid owner;
	uint32_t roc;
};

static struct reg_entry reg[8];
static size_t n_reg;

static bool owner_cb(uint32_t ssrc, media_mid *owner, uint32_t *roc, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < n_reg; i++) {
		if (reg[i].ssrc == ssrc) {
			*owner = reg[i].owner;
			*roc = reg[i].roc;
			return true;
		}
	}
	return false;
}

static void reg_set(uint32_t ssrc, media_mid owner, uint32_t roc)
{
	reg[n_reg].ssrc = ssrc;
	reg[n_reg].owner = owner;
	reg[n_reg].roc = roc;
	n_reg++;
}

/* ---- a small conference: switch + three participants ----------------- */

struct conf3 {
	enum media_profile p;
	struct media_group *g;
	struct media_member *m[3];
};

static const media_mid mids[3] = { MID_A, MID_B, MID_C };
static const uint32_t ssrcs[3] = { SSRC_A, SSRC_B, SSRC_C };

static void conf3_install(struct conf3 *c, uint32_t epoch)
{
	struct test_key k;
	size_t i;

	key_make(&k, c->p, epoch);
	CHECK_OK(media_group_install(c->g, &k.k));
	for (i = 0; i < 3; i++)
		CHECK_OK(media_member_install(c->m[i], &k.k));
	cc_wipe(&k, sizeof(k));
}

static void conf3_switch(struct conf3 *c, uint32_t epoch)
{
	size_t i;

	CHECK_OK(media_group_switch(c->g, 0x80000000u | epoch));
	for (i = 0; i < 3; i++)
		CHECK_OK(media_member_switch(c->m[i], 0x80000000u | epoch));
}

static void conf3_init(struct conf3 *c, enum media_profile p)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->p = p;
	n_reg = 0;
	CHECK_OK(media_group_new(&c->g, p, owner_cb, NULL));
	for (i = 0; i < 3; i++) {
		CHECK_OK(media_member_new(&c->m[i], p));
		CHECK_OK(media_member_sender(c->m[i], ssrcs[i], MEDIA_PT_PCMU,
					     0, (uint16_t)(1000 * (i + 1))));
		CHECK_OK(media_group_add_member(c->g, mids[i], c->m[i]));
		reg_set(ssrcs[i], mids[i], 0);
	}
	conf3_install(c, 1);
	conf3_switch(c, 1);
}

static void conf3_free(struct conf3 *c)
{
	size_t i;

	media_group_free(c->g);
	for (i = 0; i < 3; i++)
		media_member_free(c->m[i]);
}

struct pkt {
	uint8_t b[MEDIA_PKT_MAX];
	size_t len;
	uint8_t payload[MEDIA_FRAME];
};

static void send_frame(struct media_member *m, uint8_t tag, uint32_t ts,
		       struct pkt *p)
{
	size_t i;

	for (i = 0; i < MEDIA_FRAME; i++)
		p->payload[i] = (uint8_t)(tag + i);
	CHECK_OK(media_member_send(m, p->payload, MEDIA_FRAME, ts, false, p->b,
				   sizeof(p->b), &p->len));
}

/* Switch one packet from member `from` (index) and deliver it; returns
 * the number of members that decrypted the original payload. */
static size_t switch_deliver(struct conf3 *c, size_t from, const struct pkt *p)
{
	struct media_fanout fan;
	struct media_rx_info info;
	struct media_rx_payload out;
	uint8_t orig[MEDIA_PKT_MAX];
	struct media_member *to;
	size_t i, got = 0;

	memcpy(orig, p->b, p->len);
	if (media_switch_rx(c->g, mids[from], p->b, p->len, &fan, &info))
		return 0;
	CHECK(memcmp(orig, p->b, p->len) == 0); /* forwarded unchanged */
	CHECK(info.rtp.ssrc == ssrcs[from]);
	CHECK(fan.skip < fan.n && fan.dest[fan.skip].mid == mids[from]);
	for (i = 0; i < fan.n; i++) {
		if (i == fan.skip)
			continue;
		to = fan.dest[i].leg;
		if (media_member_unprotect(to, p->b, p->len, &out) == CC_OK &&
		    out.payload_len == MEDIA_FRAME &&
		    memcmp(out.payload, p->payload, MEDIA_FRAME) == 0 &&
		    out.info.rtp.ssrc == ssrcs[from])
			got++;
	}
	return got;
}

/* ---- tests ------------------------------------------------------------ */

static void test_roundtrip(enum media_profile p)
{
	struct conf3 c;
	struct pkt pk;
	struct media_stats st;
	size_t i, j;

	conf3_init(&c, p);
	for (j = 0; j < 20; j++) {
		for (i = 0; i < 3; i++) {
			send_frame(c.m[i], (uint8_t)(i * 50 + j),
				   (uint32_t)(j * 160), &pk);
			CHECK(switch_deliver(&c, i, &pk) == 2);
		}
	}
	media_group_stats(c.g, &st);
	CHECK(st.rx == 60 && st.ok == 60 && st.fwd_copies == 120);
	media_member_stats(c.m[1], &st);
	CHECK(st.ok == 40 && st.tx == 20);
	conf3_free(&c);
}

static void test_mki_switch_in_flight(enum media_profile p)
{
	struct conf3 c;
	struct pkt old[6], neu[6], late;
	struct media_fanout fan;
	struct media_rx_payload out;
	struct media_epoch_stats es;
	struct media_stats st;
	size_t i, ok = 0;

	conf3_init(&c, p);
	/* NEW_EPOCH(2): installed everywhere for reception first (D7) */
	conf3_install(&c, 2);
	for (i = 0; i < 6; i++)
		send_frame(c.m[0], (uint8_t)i, (uint32_t)i * 160, &old[i]);
	send_frame(c.m[0], 0x77, 6 * 160, &late); /* still under MKI 1 */
	/* SWITCH_MKI(2): the sender switches while old packets are in flight */
	conf3_switch(&c, 2);
	for (i = 0; i < 6; i++)
		send_frame(c.m[0], (uint8_t)(100 + i), (uint32_t)(7 + i) * 160,
			   &neu[i]);
	CHECK(media_member_sending_mki(c.m[0]) == 0x80000002u);
	/* arrival order interleaves the two MKIs, new ones overtaking */
	for (i = 0; i < 6; i++) {
		ok += switch_deliver(&c, 0, &neu[i]);
		ok += switch_deliver(&c, 0, &old[i]);
	}
	CHECK(ok == 24); /* none lost to the key change */
	CHECK_OK(media_group_epoch_stats(c.g, 0x80000001u, &es));
	CHECK(es.ok == 6 && es.failed == 0);
	CHECK_OK(media_member_epoch_stats(c.m[1], 0x80000002u, &es));
	CHECK(es.ok == 6);
	CHECK_OK(media_member_epoch_stats(c.m[0], 0x80000002u, &es));
	CHECK(es.tx == 6);
	/* RETIRE_EPOCH(1): old-MKI packets fail from now on */
	CHECK_OK(media_group_retire(c.g, 0x80000001u));
	for (i = 0; i < 3; i++)
		CHECK_OK(media_member_retire(c.m[i], 0x80000001u));
	CHECK_ERR(media_group_retire(c.g, 0x80000001u), CC_ERR_NOT_FOUND);
	CHECK_ERR(media_switch_rx(c.g, MID_A, late.b, late.len, &fan, NULL),
		  CC_ERR_NOT_FOUND);
	CHECK_ERR(media_member_unprotect(c.m[1], late.b, late.len, &out),
		  CC_ERR_NOT_FOUND);
	media_group_stats(c.g, &st);
	CHECK(st.drop_unknown_mki == 1);
	/* and the new epoch keeps working */
	send_frame(c.m[0], 0x55, 20 * 160, &late);
	CHECK(switch_deliver(&c, 0, &late) == 2);
	conf3_free(&c);
}

static void test_drops(enum media_profile p)
{
	struct conf3 c;
	struct pkt pk, bad;
	struct media_fanout fan;
	struct media_rx_payload out;
	struct media_stats st;
	struct media_member *mal;
	size_t i;

	conf3_init(&c, p);
	send_frame(c.m[0], 1, 0, &pk);
	CHECK(switch_deliver(&c, 0, &pk) == 2);
	/* replay of the same bytes: once only */
	CHECK_ERR(media_switch_rx(c.g, MID_A, pk.b, pk.len, &fan, NULL),
		  CC_ERR_REPLAY);
	/* tampered payload, header and tag: dropped and counted */
	send_frame(c.m[0], 2, 160, &pk);
	for (i = 0; i < 3; i++) {
		bad = pk;
		bad.b[i == 0 ? 20 : i == 1 ? 5 : pk.len - (p ? 6 : 1)] ^= 0x01;
		CHECK_ERR(media_switch_rx(c.g, MID_A, bad.b, bad.len, &fan,
					  NULL),
			  CC_ERR_BAD_MAC);
		CHECK_ERR(media_member_unprotect(c.m[1], bad.b, bad.len, &out),
			  CC_ERR_BAD_MAC);
	}
	/* the genuine one still passes after the forgeries */
	CHECK(switch_deliver(&c, 0, &pk) == 2);
	/* truncated / not RTP */
	CHECK_ERR(media_switch_rx(c.g, MID_A, pk.b, 15, &fan, NULL),
		  CC_ERR_MALFORMED);
	bad = pk;
	bad.b[0] = 0x40;
	CHECK_ERR(media_switch_rx(c.g, MID_A, bad.b, bad.len, &fan, NULL),
		  CC_ERR_MALFORMED);
	/* foreign SSRC: B (a member, holding the group key) sends as A */
	CHECK_OK(media_member_new(&mal, p));
	{
		struct test_key k;

		key_make(&k, p, 1);
		CHECK_OK(media_member_install(mal, &k.k));
		cc_wipe(&k, sizeof(k));
	}
	CHECK_OK(media_member_switch(mal, 0x80000001u));
	CHECK_OK(media_member_sender(mal, SSRC_A, 0, 0, 40000));
	send_frame(mal, 9, 0, &bad);
	CHECK_ERR(media_switch_rx(c.g, MID_B, bad.b, bad.len, &fan, NULL),
		  CC_ERR_NOT_AUTHORISED);
	/* an SSRC nobody registered */
	CHECK_OK(media_member_sender(mal, 0x12345678u, 0, 0, 1));
	send_frame(mal, 9, 0, &bad);
	CHECK_ERR(media_switch_rx(c.g, MID_B, bad.b, bad.len, &fan, NULL),
		  CC_ERR_NOT_AUTHORISED);
	/* DROP_MEDIA: C is out of the fan-out and its packets are dropped */
	CHECK_OK(media_group_drop_member(c.g, MID_C));
	CHECK_ERR(media_group_drop_member(c.g, MID_C), CC_ERR_NOT_FOUND);
	send_frame(c.m[2], 3, 0, &bad);
	CHECK_ERR(media_switch_rx(c.g, MID_C, bad.b, bad.len, &fan, NULL),
		  CC_ERR_NOT_AUTHORISED);
	send_frame(c.m[0], 4, 320, &pk);
	CHECK_OK(media_switch_rx(c.g, MID_A, pk.b, pk.len, &fan, NULL));
	CHECK(fan.n == 2);
	for (i = 0; i < fan.n; i++)
		CHECK(fan.dest[i].mid != MID_C);
	media_group_stats(c.g, &st);
	CHECK(st.drop_replay == 1);
	CHECK(st.drop_auth == 3);
	CHECK(st.drop_malformed == 2);
	CHECK(st.drop_foreign_ssrc == 2);
	CHECK(st.drop_not_member == 1);
	CHECK(st.ok == 3);
	media_member_free(mal);
	conf3_free(&c);
}

/* A sender starting at seq 65530 wraps several times; a receiver that
 * joins later, told the current ROC (CS map), decrypts its first packet.
 * Then a rekey: the new epoch's contexts carry the ROC over. */
static void test_late_joiner(enum media_profile p)
{
	struct media_member *tx, *early, *late, *later;
	struct media_rx_payload out;
	struct test_key k1, k2;
	struct pkt pk;
	uint32_t roc, i, fails = 0;
	uint16_t seq;

	key_make(&k1, p, 1);
	key_make(&k2, p, 2);
	CHECK_OK(media_member_new(&tx, p));
	CHECK_OK(media_member_new(&early, p));
	CHECK_OK(media_member_new(&late, p));
	CHECK_OK(media_member_new(&later, p));
	CHECK_OK(media_member_install(tx, &k1.k));
	CHECK_OK(media_member_install(early, &k1.k));
	CHECK_OK(media_member_install(late, &k1.k));
	CHECK_OK(media_member_install(later, &k1.k));
	CHECK_OK(media_member_switch(tx, k1.k.mki));
	CHECK_OK(media_member_sender(tx, SSRC_A, 0, 0, 65530));
	/* 3 wraps (at packets 6, 65542, 131078); the early receiver sees
	 * one packet in 64 */
	for (i = 0; i < 3 * 65536 - 10; i++) {
		send_frame(tx, (uint8_t)i, i * 160, &pk);
		if (i % 64 == 0 &&
		    media_member_unprotect(early, pk.b, pk.len, &out))
			fails++;
	}
	CHECK(fails == 0);
	media_member_tx_state(tx, &roc, &seq);
	CHECK(roc == 3);
	/* the CS map says ROC 3 */
	CHECK_OK(media_member_set_roc(late, SSRC_A, roc));
	send_frame(tx, 0xee, 0, &pk);
	CHECK_OK(media_member_unprotect(late, pk.b, pk.len, &out));
	CHECK(out.info.roc == 3 && out.payload[0] == 0xee);
	CHECK_OK(media_member_unprotect(early, pk.b, pk.len, &out));
	/* a joiner whose CS map ROC is one behind (the sender wrapped after
	 * the focus reported it) still gets the first packet */
	CHECK_OK(media_member_set_roc(later, SSRC_A, roc));
	while (seq != 0) { /* run to the next wrap */
		send_frame(tx, 1, 0, &pk);
		media_member_tx_state(tx, &roc, &seq);
	}
	send_frame(tx, 0xdd, 0, &pk);
	CHECK_OK(media_member_unprotect(later, pk.b, pk.len, &out));
	CHECK(out.info.roc == 4 && out.payload[0] == 0xdd);
	CHECK_OK(media_member_unprotect(late, pk.b, pk.len, &out));
	CHECK(out.info.roc == 4 && out.info.roc_changed);
	/* rekey at ROC 4: install, switch, the receivers keep up */
	CHECK_OK(media_member_install(tx, &k2.k));
	CHECK_OK(media_member_install(late, &k2.k));
	CHECK_OK(media_member_install(later, &k2.k));
	CHECK_OK(media_member_switch(tx, k2.k.mki));
	for (i = 0; i < 70000; i++) { /* and wrap once more under epoch 2 */
		send_frame(tx, (uint8_t)i, i * 160, &pk);
		if (i % 50 == 0 &&
		    media_member_unprotect(late, pk.b, pk.len, &out))
			fails++;
		if (i % 50 == 0 &&
		    media_member_unprotect(later, pk.b, pk.len, &out))
			fails++;
	}
	CHECK(fails == 0);
	CHECK(out.info.roc == 5 && out.info.mki == k2.k.mki);
	media_member_free(tx);
	media_member_free(early);
	media_member_free(late);
	media_member_free(later);
	cc_wipe(&k1, sizeof(k1));
	cc_wipe(&k2, sizeof(k2));
}

/* A focus restarted mid-stream: its new switch learns the ROC from the
 * registry (conf_ssrc_roc) and authenticates the first packet. */
static void test_switch_roc_from_registry(enum media_profile p)
{
	struct conf3 c;
	struct media_group *g2;
	struct media_fanout fan;
	struct media_rx_info info;
	struct test_key k;
	struct pkt pk;
	uint32_t i, roc;
	uint16_t seq;

	conf3_init(&c, p);
	CHECK_OK(media_member_sender(c.m[0], SSRC_A, 0, 0, 65000));
	for (i = 0; i < 2000; i++) {
		send_frame(c.m[0], 1, 0, &pk);
		CHECK_OK(
			media_switch_rx(c.g, MID_A, pk.b, pk.len, &fan, &info));
		if (info.roc_changed)
			reg[0].roc = info.roc; /* CONF_EV_MEDIA_ROC */
	}
	media_member_tx_state(c.m[0], &roc, &seq);
	CHECK(roc == 1 && reg[0].roc == 1);
	CHECK_OK(media_group_new(&g2, p, owner_cb, NULL));
	key_make(&k, p, 1);
	CHECK_OK(media_group_install(g2, &k.k));
	CHECK_ERR(media_group_install(g2, &k.k), CC_ERR_INVAL);
	cc_wipe(&k, sizeof(k));
	CHECK_OK(media_group_add_member(g2, MID_A, NULL));
	CHECK_OK(media_group_add_member(g2, MID_B, NULL));
	send_frame(c.m[0], 2, 0, &pk);
	CHECK_OK(media_switch_rx(g2, MID_A, pk.b, pk.len, &fan, &info));
	CHECK(info.roc == 1 && fan.n == 2 && fan.dest[fan.skip].mid == MID_A);
	media_group_free(g2);
	conf3_free(&c);
}

static void test_install_errors(void)
{
	struct media_group *g;
	struct test_key k;
	uint32_t e;

	CHECK_OK(media_group_new(&g, MEDIA_AES_CM_128_HMAC_SHA1_80, owner_cb,
				 NULL));
	key_make(&k, MEDIA_AEAD_AES_128_GCM, 1);
	CHECK_ERR(media_group_install(g, &k.k), CC_ERR_INVAL); /* profile */
	key_make(&k, MEDIA_AES_CM_128_HMAC_SHA1_80, 1);
	k.k.salt_len = 12;
	CHECK_ERR(media_group_install(g, &k.k), CC_ERR_INVAL); /* size */
	for (e = 1; e <= MEDIA_EPOCHS_MAX; e++) {
		key_make(&k, MEDIA_AES_CM_128_HMAC_SHA1_80, e);
		CHECK_OK(media_group_install(g, &k.k));
	}
	key_make(&k, MEDIA_AES_CM_128_HMAC_SHA1_80, e);
	CHECK_ERR(media_group_install(g, &k.k), CC_ERR_FULL);
	CHECK_ERR(media_group_switch(g, 0x80000099u), CC_ERR_NOT_FOUND);
	CHECK_OK(media_group_retire(g, 0x80000002u));
	CHECK_OK(media_group_install(g, &k.k)); /* the slot is reused */
	CHECK_ERR(media_group_add_member(g, 1, NULL), CC_OK);
	CHECK_ERR(media_group_add_member(g, 1, NULL), CC_ERR_INVAL);
	cc_wipe(&k, sizeof(k));
	media_group_free(g);
}

/* ---- micro-benchmark: switch fan-out vs per-leg re-encryption ---------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void count_leg(size_t leg, const uint8_t *pkt, size_t len, void *arg)
{
	(void)leg;
	(void)pkt;
	*(size_t *)arg += len;
}

static void bench_fanout(enum media_profile p)
{
	enum {
		LISTENERS = 500,
		SPEAKERS = 3,
		PKTS = 3000
	};
	struct media_group *g;
	struct media_member *spk[SPEAKERS];
	struct media_perleg *pl;
	struct media_fanout fan;
	struct test_key k;
	static struct pkt pkts[PKTS];
	size_t i, j, copies, bytes = 0, sink = 0;
	double t0, t_sw, t_pl;

	n_reg = 0;
	key_make(&k, p, 1);
	CHECK_OK(media_group_new(&g, p, owner_cb, NULL));
	CHECK_OK(media_group_install(g, &k.k));
	for (i = 0; i < LISTENERS + SPEAKERS; i++)
		CHECK_OK(media_group_add_member(g, 1000 + i, (void *)(i + 1)));
	for (i = 0; i < SPEAKERS; i++) {
		CHECK_OK(media_member_new(&spk[i], p));
		CHECK_OK(media_member_install(spk[i], &k.k));
		CHECK_OK(media_member_switch(spk[i], k.k.mki));
		CHECK_OK(media_member_sender(spk[i], 0x5000 + (uint32_t)i, 0, 0,
					     1));
		reg_set(0x5000 + (uint32_t)i, 1000 + LISTENERS + i, 0);
	}
	for (i = 0; i < PKTS; i++)
		send_frame(spk[i % SPEAKERS], (uint8_t)i, (uint32_t)i * 160,
			   &pkts[i]);
	t0 = now_s();
	for (i = 0; i < PKTS; i++) {
		if (media_switch_rx(g, 1000 + LISTENERS + i % SPEAKERS,
				    pkts[i].b, pkts[i].len, &fan, NULL)) {
			CHECK(0);
			continue;
		}
		for (j = 0; j < fan.n; j++) /* what the daemon would send */
			if (j != fan.skip)
				sink += (size_t)fan.dest[j].leg + pkts[i].len;
	}
	t_sw = now_s() - t0;
	CHECK_OK(media_perleg_new(&pl, &k.k, LISTENERS + SPEAKERS - 1));
	t0 = now_s();
	for (i = 0; i < PKTS / 10; i++) {
		CHECK_OK(media_perleg_rx(pl, pkts[i].b, pkts[i].len, count_leg,
					 &bytes, &copies));
		CHECK(copies == LISTENERS + SPEAKERS - 1);
	}
	t_pl = (now_s() - t0) * 10;
	printf("bench %s: %d listeners + %d speakers, %d packets\n"
	       "  switch (auth once, forward as-is): %.0f pkts/s in, "
	       "%.0f copies/s out\n"
	       "  per-leg (decrypt + re-encrypt %d legs): %.0f pkts/s in, "
	       "%.0f copies/s out\n"
	       "  ratio switch / per-leg: %.0fx (library only; no I/O)\n",
	       pname[p], LISTENERS, SPEAKERS, PKTS, PKTS / t_sw,
	       PKTS * (double)(LISTENERS + SPEAKERS - 1) / t_sw,
	       LISTENERS + SPEAKERS - 1, PKTS / t_pl,
	       PKTS * (double)(LISTENERS + SPEAKERS - 1) / t_pl, t_pl / t_sw);
	CHECK(sink != 0 && bytes != 0);
	media_perleg_free(pl);
	for (i = 0; i < SPEAKERS; i++)
		media_member_free(spk[i]);
	media_group_free(g);
	cc_wipe(&k, sizeof(k));
}

int main(void)
{
	int p;

	CHECK_OK(media_init());
	for (p = MEDIA_AES_CM_128_HMAC_SHA1_80; p <= MEDIA_AEAD_AES_128_GCM;
	     p++) {
		test_roundtrip((enum media_profile)p);
		test_mki_switch_in_flight((enum media_profile)p);
		test_drops((enum media_profile)p);
		test_late_joiner((enum media_profile)p);
		test_switch_roc_from_registry((enum media_profile)p);
	}
	test_install_errors();
	for (p = MEDIA_AES_CM_128_HMAC_SHA1_80; p <= MEDIA_AEAD_AES_128_GCM;
	     p++)
		bench_fanout((enum media_profile)p);
	if (check_failures) {
		fprintf(stderr, "%d check(s) failed\n", check_failures);
		return 1;
	}
	printf("test_media: all checks passed\n");
	return 0;
}
