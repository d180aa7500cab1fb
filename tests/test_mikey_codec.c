/*
 * test_mikey_codec.c -- payload codec details the worked examples do not
 * reach: SRTP-ID maps, every T type, General Extensions (SDP IDs, Key ID),
 * KV intervals, SP parameters (incl. AES-GCM), and the diagnostics.
 */
#include <conclave/mikey.h>

#include "check.h"

static struct mikey_msg m, back;

static size_t encode(struct mikey_msg *msg, uint8_t *out, size_t cap)
{
	struct cc_wr wr;

	cc_wr_init(&wr, out, cap);
	CHECK_OK(mikey_encode(msg, &wr));
	return wr.pos;
}

/* RFC 4567 §5.1 offer: RFC 3830 PSK message with an SRTP-ID map. */
static void test_rfc4567_offer(void)
{
	static const char hex[] =
		"01000580cd177e5001000000000000000000000b00c8e350ea0000000006"
		"104a28da979ee21a7651a0d7f19136d98c0a00000f646f6e616c64406475"
		"636b2e636f6d010000000000010024d092a981a5640da6b08bdc21541b41"
		"b74299d78ca636ebbadbe36fde8ccf2f28302bf19b015f627a69c6508675"
		"f5f59050e4abcca4c0bfdcd5";
	uint8_t b[200], out[200];
	size_t n = hex2bin(hex, b, sizeof(b));
	struct mikey_diag d;
	const struct mikey_pl *p;

	CHECK_OK(mikey_decode(b, n, &m, &d));
	CHECK(m.hdr.data_type == MIKEY_DT_PSK_INIT && m.hdr.v);
	CHECK(m.hdr.csb_id == 0xcd177e50 && m.hdr.ncs == 1);
	CHECK(m.hdr.map_type == MIKEY_MAP_SRTP_ID && m.hdr.cs[0].cs_id == 1);
	CHECK(m.ch.n == 5);
	p = mikey_chain_find(&m.ch, MIKEY_PT_ID, 0);
	CHECK(p && p->u.id.type == MIKEY_ID_NAI && p->u.id.data.len == 15);
	p = mikey_chain_find(&m.ch, MIKEY_PT_KEMAC, 0);
	CHECK(p && p->u.kemac.encr.len == 36 &&
	      p->u.kemac.mac_alg == MIKEY_MAC_HMAC_SHA1_160 &&
	      p->u.kemac.mac.len == 20);
	/* not a MIKEY-TICKET message: the layout check says so */
	CHECK_ERR(mikey_check_layout(&m, MIKEY_INITIAL, &d),
		  CC_ERR_UNSUPPORTED);
	CHECK(encode(&m, out, sizeof(out)) == n && !memcmp(out, b, n));
}

static void test_timestamps_and_ext(void)
{
	static const uint8_t keyid[] = { 1, 3, 'a', 'b', 'c', 2, 1, 'z' };
	uint8_t out[256];
	size_t n, k;
	struct mikey_key_id ids[4];
	struct mikey_diag d;

	mikey_msg_init(&m, MIKEY_DT_ERROR, false, MIKEY_PRF_HMAC_SHA256,
		       0x01020304, MIKEY_MAP_SRTP_ID);
	m.hdr.ncs = 2;
	m.hdr.cs[0] =
		(struct mikey_cs){ .cs_id = 1, .ssrc = 0xdeadbeef, .roc = 7 };
	m.hdr.cs[1] = (struct mikey_cs){ .cs_id = 2, .ssrc = 2, .roc = 9 };
	mikey_add_t(&m.ch, MIKEY_TS_COUNTER, 0x11223344);
	mikey_add_tr(&m.ch, MIKEY_TSR_START, MIKEY_TS_NTP,
		     0x0102030405060708ull);
	mikey_add_tr(&m.ch, MIKEY_TSR_REKEY, MIKEY_TS_NTP_UTC_32, 3600);
	mikey_add_ext(&m.ch, MIKEY_GENEXT_SDP_IDS, mikey_str("mikey"));
	mikey_add_ext(&m.ch, MIKEY_GENEXT_KEY_ID,
		      (struct cc_slice){ keyid, sizeof(keyid) });
	n = encode(&m, out, sizeof(out));
	CHECK_OK(mikey_decode(out, n, &back, &d));
	CHECK(back.hdr.prf == MIKEY_PRF_HMAC_SHA256 && back.hdr.ncs == 2);
	CHECK(back.hdr.cs[0].ssrc == 0xdeadbeef && back.hdr.cs[0].roc == 7);
	CHECK(back.hdr.cs[1].cs_id == 2 && back.hdr.cs[1].roc == 9);
	CHECK(back.ch.pl[0].u.t.value == 0x11223344);
	CHECK(mikey_ts_to64(&back.ch.pl[0].u.t) == 0x11223344); /* A20 */
	CHECK(back.ch.pl[1].u.tr.ts.value == 0x0102030405060708ull);
	CHECK(mikey_ts_to64(&back.ch.pl[2].u.tr.ts) == 3600ull << 32);
	CHECK_OK(mikey_key_ids_decode(back.ch.pl[4].u.ext.data, ids, 4, &k));
	CHECK(k == 2 && ids[0].type == 1 && ids[0].id.len == 3 &&
	      ids[1].type == 2 && ids[1].id.p[0] == 'z');
	/* a Key ID entry that overruns the extension is rejected */
	out[n - 1 - 0] = 'z';
	out[n - 2] = 5; /* second entry claims 5 bytes */
	CHECK_ERR(mikey_decode(out, n, &back, &d), CC_ERR_TRUNCATED);
	CHECK(d.field && !strcmp(d.field, "Key ID entry"));
}

static void test_keys_interval(void)
{
	static const uint8_t key[16] = { 9 }, salt[14] = { 8 },
			     vf[6] = { 0, 0, 0, 0, 0, 1 },
			     vt[6] = { 0, 0, 0, 1, 0, 0 };
	struct mikey_keys ks = { .n = 2 }, got;
	uint8_t out[128];
	struct cc_wr wr;
	struct mikey_diag d;

	ks.k[0] = (struct mikey_key){ .type = MIKEY_KEY_GTGK_SALT,
				      .kv = MIKEY_KV_INTERVAL,
				      .key = { key, 16 },
				      .salt = { salt, 14 },
				      .vf = { vf, 6 },
				      .vt = { vt, 6 } };
	ks.k[1] = (struct mikey_key){ .type = MIKEY_KEY_GTGK,
				      .kv = MIKEY_KV_NULL,
				      .key = { key, 16 } };
	cc_wr_init(&wr, out, sizeof(out));
	CHECK_OK(mikey_keys_encode(&ks, &wr));
	CHECK_OK(mikey_keys_decode(out, wr.pos, false, &got, &d));
	CHECK(got.n == 2 && got.k[0].type == MIKEY_KEY_GTGK_SALT);
	CHECK(got.k[0].vf.len == 6 && got.k[0].vt.p[3] == 1);
	CHECK(got.k[0].salt.len == 14 && got.k[1].kv == MIKEY_KV_NULL);
	/* KW-PAD: up to 7 zero bytes accepted only when padding is allowed */
	memset(out + wr.pos, 0, 7);
	CHECK_OK(mikey_keys_decode(out, wr.pos + 7, true, &got, &d));
	CHECK_ERR(mikey_keys_decode(out, wr.pos + 7, false, &got, &d),
		  CC_ERR_TRAILING);
	CHECK_ERR(mikey_keys_decode(out, wr.pos + 8, true, &got, &d),
		  CC_ERR_TRAILING);
	out[wr.pos + 3] = 1;
	CHECK_ERR(mikey_keys_decode(out, wr.pos + 7, true, &got, &d),
		  CC_ERR_MALFORMED);
	/* unknown key type 9 */
	out[1] = 0x91;
	CHECK_ERR(mikey_keys_decode(out, wr.pos, false, &got, &d),
		  CC_ERR_UNSUPPORTED);
	CHECK(!strcmp(d.payload, "Key data") && !strcmp(d.field, "type"));
}

static void test_sp(void)
{
	struct mikey_srtp_policy pol, got;
	uint8_t out[64];
	struct cc_wr wr;
	struct mikey_diag d;

	mikey_srtp_policy_aes_128_gcm(&pol);
	mikey_srtp_policy_set(&pol, MIKEY_SRTP_KDR, 1u << 16, 3); /* A19 */
	cc_wr_init(&wr, out, sizeof(out));
	CHECK_OK(mikey_srtp_policy_encode(&pol, &wr));
	CHECK_OK(mikey_srtp_policy_decode((struct cc_slice){ out, wr.pos },
					  &got, &d));
	CHECK(got.val[MIKEY_SRTP_ENCR_ALG] == MIKEY_SRTP_ENCR_AES_GCM);
	CHECK(got.val[MIKEY_SRTP_AEAD_TAG_LEN] == 16);
	CHECK(got.val[MIKEY_SRTP_SALT_LEN] == 12);
	CHECK(got.val[MIKEY_SRTP_KDR] == 1u << 16 &&
	      got.vlen[MIKEY_SRTP_KDR] == 3);
	CHECK(got.present == pol.present);
	/* a duplicate parameter, an unknown one, a bad length */
	CHECK_ERR(mikey_srtp_policy_decode(
			  (struct cc_slice){ (const uint8_t *)"\x00\x01\x01\x00"
							      "\x01\x01",
					     6 },
			  &got, &d),
		  CC_ERR_MALFORMED);
	CHECK_ERR(
		mikey_srtp_policy_decode(
			(struct cc_slice){ (const uint8_t *)"\x15\x01\x01", 3 },
			&got, &d),
		CC_ERR_UNSUPPORTED);
	CHECK_ERR(mikey_srtp_policy_decode(
			  (struct cc_slice){ (const uint8_t *)"\x00\x02\x01"
							      "\x01",
					     4 },
			  &got, &d),
		  CC_ERR_MALFORMED);
	CHECK(!strcmp(d.field, "param length"));
}

/* A malformed message names the payload and the field. */
static void test_diag(void)
{
	/* HDR of a TRANSFER_INIT, then a T payload with TS type 9 */
	static const char hex[] = "010e0580aabbccdd0002"
				  "0009"
				  "0000000000000000";
	uint8_t b[64];
	size_t n = hex2bin(hex, b, sizeof(b));
	struct mikey_diag d = { 0 };

	CHECK_ERR(mikey_decode(b, n, &m, &d), CC_ERR_UNSUPPORTED);
	CHECK(d.payload && !strcmp(d.payload, "T"));
	CHECK(d.field && !strcmp(d.field, "TS type"));
	CHECK(d.offset == 11);
	CHECK(mikey_errno_for_diag(CC_ERR_UNSUPPORTED, &d) ==
	      MIKEY_ERR_UNSPECIFIED);
	b[3] = 0x85; /* PRF 5 */
	CHECK_ERR(mikey_decode(b, n, &m, &d), CC_ERR_UNSUPPORTED);
	CHECK(!strcmp(d.field, "PRF func"));
	CHECK(mikey_errno_for_diag(CC_ERR_UNSUPPORTED, &d) ==
	      MIKEY_ERR_INVALID_PRF);
	b[3] = 0x80;
	b[1] = 40; /* data type 40 */
	CHECK_ERR(mikey_decode(b, n, &m, &d), CC_ERR_UNSUPPORTED);
	CHECK(mikey_errno_for_diag(CC_ERR_UNSUPPORTED, &d) ==
	      MIKEY_ERR_INVALID_DT);
	b[1] = 14;
	b[2] = 2; /* PKE: not in the PSK profile */
	CHECK_ERR(mikey_decode(b, n, &m, &d), CC_ERR_UNSUPPORTED);
	CHECK(!strcmp(d.field, "next payload"));
	/* Empty map (RFC 4563) with #CS = 3: nothing to describe them */
	b[2] = 5;
	b[8] = 3;
	b[9] = MIKEY_MAP_EMPTY;
	CHECK_ERR(mikey_decode(b, n, &m, &d), CC_ERR_MALFORMED);
	CHECK(!strcmp(d.payload, "HDR") && d.offset == 8);
}

/* A chain that is full reports it instead of writing past its end. */
static void test_overflow(void)
{
	uint8_t out[4096];
	struct cc_wr wr;
	int i;

	mikey_msg_init(&m, MIKEY_DT_ERROR, false, 0, 1, MIKEY_MAP_EMPTY);
	for (i = 0; i < MIKEY_MAX_PL + 3; i++)
		mikey_add_t(&m.ch, MIKEY_TS_COUNTER, (uint64_t)i);
	CHECK(m.ch.n == MIKEY_MAX_PL && m.ch.overflow);
	cc_wr_init(&wr, out, sizeof(out));
	CHECK_ERR(mikey_encode(&m, &wr), CC_ERR_FULL);
}

/* A28 KW-PAD with a chain under 16 bytes: padded to RFC 3394's minimum
 * and still opened (a 4-byte TEK with a 1-byte SPI is a 10-byte chain). */
static void test_kw_short_chain(void)
{
	static const uint8_t key4[4] = { 1, 2, 3, 4 }, spi[1] = { 7 };
	struct mikey_keys ks = { .n = 1 }, got;
	struct mikey_msg_keys k;
	uint8_t plain[32], wrapped[64], open[64];
	size_t wl = 0, ol = 0;
	struct cc_wr wr;
	struct mikey_diag d;

	ks.k[0] = (struct mikey_key){ .type = MIKEY_KEY_TEK,
				      .kv = MIKEY_KV_SPI,
				      .key = { key4, 4 },
				      .spi = { spi, 1 } };
	cc_wr_init(&wr, plain, sizeof(plain));
	CHECK_OK(mikey_keys_encode(&ks, &wr));
	CHECK(wr.pos == 10);
	CHECK_OK(mikey_derive_msg_keys(
		MIKEY_PRF_MIKEY1, key4, 4, 1, MIKEY_LBL_INIT, mikey_str("rand"),
		(struct cc_slice){ 0 }, MIKEY_ENCR_AES_KW_128,
		MIKEY_MAC_HMAC_SHA1_160, &k));
	CHECK_OK(mikey_kemac_encrypt(&k, 1, 0, plain, wr.pos, wrapped,
				     sizeof(wrapped), &wl));
	CHECK(wl == 24);
	CHECK_OK(mikey_kemac_decrypt(&k, 1, 0, wrapped, wl, open, sizeof(open),
				     &ol));
	CHECK(ol == 16);
	CHECK_OK(mikey_keys_decode(open, ol, true, &got, &d));
	CHECK(got.n == 1 && got.k[0].key.len == 4 && got.k[0].spi.p[0] == 7);
	mikey_msg_keys_wipe(&k);
}

/*
 * The replay cache against a plain model: random arrivals over a long run
 * with a small table, so eviction, expiry and backward-shift deletion all
 * happen thousands of times. An accepted message must be refused (replay
 * or stale) while the model remembers it, and nothing it forgot may block
 * a fresh one.
 */
static void test_replay_model(void)
{
	enum {
		CAP = 64,
		MSGS = 400,
		STEPS = 20000,
		SKEW = 30
	};
	static struct mikey_msg msgs[MSGS];
	static uint8_t macs[MSGS][20];
	static int64_t accepted_at[MSGS]; /* 0 = never accepted */
	struct mikey_replay *r = NULL;
	uint32_t seed = 12345;
	int64_t now = 1700000000;
	size_t i, step;

	CHECK_OK(mikey_replay_alloc(&r, CAP, SKEW));
	if (!r)
		return;
	for (i = 0; i < MSGS; i++) {
		struct mikey_pl *v;
		size_t b;

		mikey_msg_init(&msgs[i], MIKEY_DT_TRANSFER_INIT, true, 0,
			       (uint32_t)i, MIKEY_MAP_EMPTY);
		for (b = 0; b < 20; b++) {
			seed = seed * 1103515245 + 12345;
			macs[i][b] = (uint8_t)(seed >> 16);
		}
		mikey_add_t(&msgs[i].ch, MIKEY_TS_NTP_UTC, 0);
		v = mikey_add_v(&msgs[i].ch);
		v->u.v.alg = MIKEY_MAC_HMAC_SHA1_160;
		v->u.v.mac = (struct cc_slice){ macs[i], 20 };
	}
	for (step = 0; step < STEPS; step++) {
		size_t k;
		bool fresh;
		enum cc_err err;

		seed = seed * 1103515245 + 12345;
		k = (seed >> 8) % MSGS;
		if (step % 7 == 0)
			now++;
		/* a message is stamped when first sent; a repeat keeps it */
		fresh = !accepted_at[k];
		if (fresh)
			msgs[k].ch.pl[0].u.t.value =
				mikey_ntp_from_unix(now, 0);
		err = mikey_replay_add(r, &msgs[k], now);
		/* nothing forgotten may block a fresh message (a floor at
		 * exactly now may, and says so) */
		if (fresh)
			CHECK(err == CC_OK || err == CC_ERR_STALE);
		if (accepted_at[k] &&
		    mikey_ts_unix(&msgs[k].ch.pl[0].u.t) + SKEW >= now)
			CHECK(err == CC_ERR_REPLAY || err == CC_ERR_STALE);
		if (err == CC_OK)
			accepted_at[k] = now;
		else if (err != CC_ERR_REPLAY && err != CC_ERR_STALE)
			CHECK_OK(err);
		/* once its window passed, a message may be sent afresh */
		if (accepted_at[k] &&
		    mikey_ts_unix(&msgs[k].ch.pl[0].u.t) + SKEW < now)
			accepted_at[k] = 0;
		CHECK(mikey_replay_count(r) <= CAP);
		if (check_failures)
			break;
	}
	mikey_replay_free(r);
}

int main(void)
{
	test_replay_model();
	test_kw_short_chain();
	test_rfc4567_offer();
	test_timestamps_and_ext();
	test_keys_interval();
	test_sp();
	test_diag();
	test_overflow();
	CHECK_DONE();
}
