/*
 * test_sdes.c -- RFC 4568 a=crypto (src/sip/sdes.c) and SDES members in a
 * group-key conference (src/media/upstream.c, DESIGN.md D8):
 *   - the RFC 4568 examples (§4, §6.1, §7.1.5), build/parse round trips;
 *   - every refusal with its reason (a table of malformed lines);
 *   - find (m-line aware) and pick (first acceptable, tags, key reuse);
 *   - real SRTP: a member protects under its own a=crypto key with
 *     libsrtp, the switch re-protects once under the group key, a listener
 *     holding only the focus's answer line decrypts the same payload;
 *     rekey with MKI (grace) and without (replacement), ROC across the
 *     wrap, replay, foreign SSRC, lifetime, group epoch switch.
 */
#include <conclave/media_upstream.h>
#include <conclave/sdes.h>

#include "check.h"

#include <srtp2/srtp.h>

#define K30 "YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNDU2"
#define K30B "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
#define S80 "AES_CM_128_HMAC_SHA1_80"

/* ---- parsing: the RFC 4568 examples -------------------------------------- */

static void test_rfc_examples(void)
{
	struct sdes_crypto c;
	enum sdes_reason why;
	static const char l1[] = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
				 "inline:"
				 "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB"
				 "R|2^20|1:32";
	static const char l2[] = "a=crypto:1 AES_CM_128_HMAC_SHA1_32 "
				 "inline:NzB4d1BINUAvLEw6UzF3WSJ+"
				 "PSdFcGdUJShpX1Z"
				 "j|2^20|1:32\r\n";
	/* §6.1 second example: default lifetime, MKI 1066 in 4 bytes; the
	 * key||salt is the ASCII text below */
	static const char l3[] = "a=crypto:7 AES_CM_128_HMAC_SHA1_80 "
				 "inline:"
				 "YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNDU"
				 "2|1066:4";
	/* §7.1.5: two keys with MKIs 1 and 2, and FEC_ORDER */
	static const char l4[] = "a=crypto:2 AES_CM_128_HMAC_SHA1_80 "
				 "inline:"
				 "MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGV"
				 "m|2^20|1:4;inline:"
				 "QUJjZGVmMTIzNDU2Nzg5QUJDREUw"
				 "MTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP";
	static const char f8[] = "a=crypto:2 F8_128_HMAC_SHA1_80 "
				 "inline:"
				 "MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGV"
				 "m|2^20|1:4;inline:"
				 "QUJjZGVmMTIzNDU2Nzg5QUJDREUw"
				 "MTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP";

	CHECK_OK(sdes_parse(l1, strlen(l1), &c, &why));
	CHECK(why == SDES_R_OK && c.tag == 1 && c.nkeys == 1);
	CHECK(c.suite == SDES_AES_CM_128_HMAC_SHA1_80);
	CHECK(c.key[0].master_len == 30 && c.key[0].lifetime == 1u << 20);
	CHECK(c.key[0].mki_len == 32 && c.key[0].mki[31] == 1 &&
	      c.key[0].mki[0] == 0);
	CHECK_OK(sdes_acceptable(
		&c, SDES_SUITE_BIT(SDES_AES_CM_128_HMAC_SHA1_80), &why));

	CHECK_OK(sdes_parse(l2, strlen(l2), &c, &why));
	CHECK(c.suite == SDES_AES_CM_128_HMAC_SHA1_32);
	CHECK_ERR(sdes_acceptable(&c,
				  SDES_SUITE_BIT(SDES_AES_CM_128_HMAC_SHA1_80),
				  &why),
		  CC_ERR_UNSUPPORTED);
	CHECK(why == SDES_R_SUITE_NOT_ALLOWED);

	CHECK_OK(sdes_parse(l3, strlen(l3), &c, NULL));
	CHECK(c.tag == 7 && c.key[0].lifetime == 0 && c.key[0].mki_len == 4);
	CHECK_HEX(c.key[0].mki, 4, "0000042a");
	CHECK(c.key[0].master_len == 30 &&
	      cc_ct_equal(c.key[0].master, "aBCdefghiJKLmoPQrsTuVwyz123456",
			  30));

	CHECK_OK(sdes_parse(l4, strlen(l4), &c, &why));
	CHECK(c.nkeys == 2 && c.key[0].mki[3] == 1 && c.key[1].mki[3] == 2);
	CHECK(!c.srtp_fec);

	CHECK_ERR(sdes_parse(f8, strlen(f8), &c, &why), CC_ERR_UNSUPPORTED);
	CHECK(why == SDES_R_SUITE_REFUSED);
	sdes_crypto_wipe(&c);
}

/* ---- build / parse round trips ------------------------------------------- */

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 37 * i);
}

static void roundtrip_one(enum sdes_suite s, uint64_t mki, size_t mki_len,
			  uint64_t life, const char *want_tail)
{
	uint8_t key[16], salt[14];
	struct sdes_key k;
	struct sdes_crypto c;
	char line[512];
	size_t n = 0, sl = sdes_suite_master_len(s) - 16;

	fill(key, sizeof(key), 3);
	fill(salt, sizeof(salt), 99);
	CHECK_OK(sdes_key_set(&k, key, 16, salt, sl, mki, mki_len, life));
	CHECK_OK(sdes_build(42, s, &k, line, sizeof(line), &n));
	CHECK(n == strlen(line) && n > 4 && line[n - 2] == '\r');
	CHECK(n >= strlen(want_tail) + 2 &&
	      !strncmp(line + n - 2 - strlen(want_tail), want_tail,
		       strlen(want_tail)));
	CHECK_OK(sdes_parse(line, n, &c, NULL));
	CHECK(c.tag == 42 && c.suite == s && c.nkeys == 1);
	CHECK(c.key[0].master_len == 16 + sl &&
	      cc_ct_equal(c.key[0].master, k.master, 16 + sl));
	CHECK(c.key[0].mki_len == mki_len && c.key[0].lifetime == life &&
	      cc_ct_equal(c.key[0].mki, k.mki, mki_len));
	sdes_crypto_wipe(&c);
	cc_wipe(&k, sizeof(k));
	cc_wipe(line, sizeof(line));
}

static void test_roundtrip(void)
{
	struct sdes_crypto c, d;
	char line[1024];
	size_t n = 0;
	/* a 128-byte MKI near its maximum: 309 decimal digits */
	char big[400] = "a=crypto:9 AEAD_AES_128_GCM "
			"inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==|";
	size_t at = strlen(big), i;

	roundtrip_one(SDES_AES_CM_128_HMAC_SHA1_80, 0x80000001u, 4, 0,
		      "|2147483649:4");
	roundtrip_one(SDES_AES_CM_128_HMAC_SHA1_32, 1, 1, (uint64_t)1 << 31,
		      "|2^31|1:1");
	roundtrip_one(SDES_AEAD_AES_128_GCM, 0, 0, 1000000, "|1000000");
	roundtrip_one(SDES_AEAD_AES_128_GCM, 0xffffffffffffffffull, 8, 1,
		      "|2^0|18446744073709551615:8");
	/* 10^308 fits in 128 bytes (2^1024 ~ 1.8e308) */
	big[at++] = '1';
	for (i = 0; i < 308; i++)
		big[at++] = '0';
	memcpy(big + at, ":128", 5);
	CHECK_OK(sdes_parse(big, strlen(big), &c, NULL));
	CHECK(c.key[0].mki_len == 128 && c.key[0].master_len == 28);
	CHECK_OK(sdes_build(c.tag, c.suite, &c.key[0], line, sizeof(line), &n));
	CHECK_OK(sdes_parse(line, n, &d, NULL));
	CHECK(cc_ct_equal(c.key[0].mki, d.key[0].mki, 128));
	CHECK(!strncmp(line, big, strlen(big)));
	/* GCM key||salt (28 bytes) without its base64 padding */
	{
		static const char g[] = "a=crypto:1 AEAD_AES_128_GCM "
					"inline:AAECAwQFBgcICQoLDA0ODxAREhMU"
					"FRYXGBkaGw";

		CHECK_OK(sdes_parse(g, strlen(g), &c, NULL));
	}
	CHECK(c.key[0].master_len == 28 && c.key[0].master[27] == 27);
	/* names are case-insensitive [RFC 4568 §4]; tabs are WSP */
	{
		static const char ci[] = "a=crypto:3\taes_cm_128_hmac_sha1_80 "
					 "INLINE:" K30 " kdr=0 wsh=128 "
					 "-FOO=bar fec_order=srtp_fec";

		CHECK_OK(sdes_parse(ci, strlen(ci), &c, NULL));
	}
	CHECK(c.kdr == 0 && c.wsh == 128 && c.srtp_fec);
	/* build refuses what the grammar forbids */
	CHECK_ERR(sdes_build(1, SDES_SUITE_NONE, &d.key[0], line, sizeof(line),
			     &n),
		  CC_ERR_INVAL);
	CHECK_ERR(sdes_build(1, SDES_AES_CM_128_HMAC_SHA1_80, &d.key[0], line,
			     sizeof(line), &n),
		  CC_ERR_INVAL); /* 28-byte key for a 30-byte suite */
	CHECK_ERR(sdes_build(1, SDES_AEAD_AES_128_GCM, &d.key[0], line, 40, &n),
		  CC_ERR_SPACE);
	CHECK_ERR(sdes_key_set(&d.key[0], (const uint8_t *)"k", 1,
			       (const uint8_t *)"s", 1, 256, 1, 0),
		  CC_ERR_INVAL);
	CHECK_ERR(sdes_key_set(&d.key[0], (const uint8_t *)"k", 1,
			       (const uint8_t *)"s", 1, 0, 1, 0),
		  CC_ERR_INVAL);
	sdes_crypto_wipe(&c);
	sdes_crypto_wipe(&d);
}

/* ---- every refusal, with its reason ------------------------------------- */

static const struct {
	const char *line;
	enum sdes_reason why;
} bad[] = {
	{ "a=crypto:", SDES_R_SYNTAX },
	{ "a=crypto:1 " S80, SDES_R_SYNTAX },
	{ "a=crypto: 1 " S80 " inline:" K30, SDES_R_SYNTAX },
	{ "a=crypt:1 " S80 " inline:" K30, SDES_R_SYNTAX },
	{ "a=CRYPTO:1 " S80 " inline:" K30, SDES_R_SYNTAX },
	{ "a=crypto:1 " S80 " inline:" K30 "\x01", SDES_R_SYNTAX },
	{ "a=crypto:1 " S80 " inline:" K30 " \xc3\xa9", SDES_R_SYNTAX },
	{ "a=crypto:1 AES-CM "
	  "inline:" K30,
	  SDES_R_SYNTAX },
	{ "a=crypto:1 " S80 " :" K30, SDES_R_SYNTAX },
	{ "a=crypto:1 " S80 " inline:", SDES_R_SYNTAX },
	{ "a=crypto:1 " S80 " inline:" K30 ";", SDES_R_SYNTAX },
	{ "a=crypto:1 " S80 " inline:" K30 "|2^20|1:4|x", SDES_R_SYNTAX },
	/* tag */
	{ "a=crypto:01 " S80 " inline:" K30, SDES_R_TAG },
	{ "a=crypto:1234567890 " S80 " inline:" K30, SDES_R_TAG },
	{ "a=crypto:x " S80 " inline:" K30, SDES_R_TAG },
	{ "a=crypto:-1 " S80 " inline:" K30, SDES_R_TAG },
	/* suites */
	{ "a=crypto:1 AES_CM_128_HMAC_SHA1_81 inline:" K30,
	  SDES_R_SUITE_UNKNOWN },
	{ "a=crypto:1 F8_128_HMAC_SHA1_32 inline:" K30, SDES_R_SUITE_UNKNOWN },
	{ "a=crypto:1 F8_128_HMAC_SHA1_80 inline:" K30, SDES_R_SUITE_REFUSED },
	{ "a=crypto:1 NULL_HMAC_SHA1_80 inline:" K30, SDES_R_SUITE_REFUSED },
	{ "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" K30,
	  SDES_R_SUITE_REFUSED },
	{ "a=crypto:1 AEAD_AES_256_GCM inline:" K30, SDES_R_SUITE_REFUSED },
	/* key method, base64, length */
	{ "a=crypto:1 " S80 " uri:http://x", SDES_R_KEY_METHOD },
	{ "a=crypto:1 " S80 " inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzND.2",
	  SDES_R_BASE64 },
	{ "a=crypto:1 " S80 " inline:YUJD=ZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNDU2",
	  SDES_R_BASE64 },
	{ "a=crypto:1 " S80 " inline:" K30 "===", SDES_R_BASE64 },
	{ "a=crypto:1 AEAD_AES_128_GCM "
	  "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGx",
	  SDES_R_BASE64 }, /* non-zero unused bits */
	{ "a=crypto:1 " S80 " inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIz",
	  SDES_R_KEY_LENGTH },
	{ "a=crypto:1 " S80 " inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNA==",
	  SDES_R_KEY_LENGTH }, /* 28 bytes, padded */
	{ "a=crypto:1 " S80 " inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIz=",
	  SDES_R_BASE64 }, /* padded, but not to a multiple of 4 */
	{ "a=crypto:1 " S80 " inline:" K30 "YUJD", SDES_R_KEY_LENGTH },
	{ "a=crypto:1 AEAD_AES_128_GCM inline:" K30, SDES_R_KEY_LENGTH },
	/* lifetime */
	{ "a=crypto:1 " S80 " inline:" K30 "|", SDES_R_LIFETIME },
	{ "a=crypto:1 " S80 " inline:" K30 "|2^", SDES_R_LIFETIME },
	{ "a=crypto:1 " S80 " inline:" K30 "|2^020", SDES_R_LIFETIME },
	{ "a=crypto:1 " S80 " inline:" K30 "|0100", SDES_R_LIFETIME },
	{ "a=crypto:1 " S80 " inline:" K30 "|3^4", SDES_R_LIFETIME },
	{ "a=crypto:1 " S80 " inline:" K30 "|1:4|2^20", SDES_R_LIFETIME },
	{ "a=crypto:1 " S80 " inline:" K30 "|2^49", SDES_R_LIFETIME_RANGE },
	{ "a=crypto:1 " S80 " inline:" K30 "|281474976710657",
	  SDES_R_LIFETIME_RANGE },
	{ "a=crypto:1 " S80 " inline:" K30 "|0", SDES_R_LIFETIME_RANGE },
	{ "a=crypto:1 " S80 " inline:" K30 "|99999999999999999999999",
	  SDES_R_LIFETIME_RANGE },
	/* MKI */
	{ "a=crypto:1 " S80 " inline:" K30 "|2^20|1", SDES_R_MKI },
	{ "a=crypto:1 " S80 " inline:" K30 "|2^20|:4", SDES_R_MKI },
	{ "a=crypto:1 " S80 " inline:" K30 "|1:", SDES_R_MKI },
	{ "a=crypto:1 " S80 " inline:" K30 "|01:4", SDES_R_MKI },
	{ "a=crypto:1 " S80 " inline:" K30 "|1:04", SDES_R_MKI },
	{ "a=crypto:1 " S80 " inline:" K30 "|1:1280", SDES_R_MKI },
	{ "a=crypto:1 " S80 " inline:" K30 "|1:4:4", SDES_R_MKI },
	{ "a=crypto:1 " S80 " inline:" K30 "|x:4", SDES_R_MKI },
	{ "a=crypto:1 " S80 " inline:" K30 "|1:0", SDES_R_MKI_LENGTH },
	{ "a=crypto:1 " S80 " inline:" K30 "|1:129", SDES_R_MKI_LENGTH },
	{ "a=crypto:1 " S80 " inline:" K30 "|256:1", SDES_R_MKI_VALUE },
	{ "a=crypto:1 " S80 " inline:" K30 "|4294967296:4", SDES_R_MKI_VALUE },
	{ "a=crypto:1 " S80 " inline:" K30 "|0:4", SDES_R_MKI_VALUE },
	/* several keys [RFC 4568 §6.1] */
	{ "a=crypto:1 " S80 " inline:" K30 "|1:4;inline:" K30B,
	  SDES_R_KEYS_NO_MKI },
	{ "a=crypto:1 " S80 " inline:" K30 ";inline:" K30B,
	  SDES_R_KEYS_NO_MKI },
	{ "a=crypto:1 " S80 " inline:" K30 "|1:4;inline:" K30B "|2:2",
	  SDES_R_KEYS_MKI_LENGTH },
	{ "a=crypto:1 " S80 " inline:" K30 "|1:4;inline:" K30B "|1:4",
	  SDES_R_KEYS_MKI_DUP },
	{ "a=crypto:1 " S80 " inline:" K30 "|1:4;inline:" K30 "|2:4",
	  SDES_R_KEY_REUSED },
	{ "a=crypto:1 " S80 " inline:" K30 "|1:4;inline:" K30B
	  "|2:4;inline:" K30 "|3:4;inline:" K30B "|4:4;inline:" K30 "|5:4",
	  SDES_R_KEYS_TOO_MANY },
	/* session parameters [RFC 4568 §6.3, A17] */
	{ "a=crypto:1 " S80 " inline:" K30 " FOO", SDES_R_PARAM_UNKNOWN },
	{ "a=crypto:1 " S80 " inline:" K30 " ~FOO", SDES_R_PARAM_UNKNOWN },
	{ "a=crypto:1 " S80 " inline:" K30 " KDR", SDES_R_PARAM_UNKNOWN },
	{ "a=crypto:1 " S80 " inline:" K30 " KDR=25", SDES_R_PARAM },
	{ "a=crypto:1 " S80 " inline:" K30 " KDR=05", SDES_R_PARAM },
	{ "a=crypto:1 " S80 " inline:" K30 " KDR=", SDES_R_PARAM },
	{ "a=crypto:1 " S80 " inline:" K30 " WSH=6", SDES_R_PARAM },
	{ "a=crypto:1 " S80 " inline:" K30 " WSH=064", SDES_R_PARAM },
	{ "a=crypto:1 " S80 " inline:" K30 " FEC_ORDER=FEC", SDES_R_PARAM },
	{ "a=crypto:1 " S80 " inline:" K30 " FEC_KEY=", SDES_R_PARAM },
	{ "a=crypto:1 " S80 " inline:" K30 " UNENCRYPTED_SRTP=1",
	  SDES_R_PARAM },
	{ "a=crypto:1 " S80 " inline:" K30 " FEC_KEY=inline:" K30,
	  SDES_R_KEY_REUSED },
	{ "a=crypto:1 " S80 " inline:" K30 " FEC_KEY=inline:YUJD",
	  SDES_R_KEY_LENGTH },
	{ "a=crypto:1 " S80 " inline:" K30 " WSH=64 WSH=128",
	  SDES_R_PARAM_DUP },
	{ "a=crypto:1 " S80 " inline:" K30 " UNENCRYPTED_SRTP unencrypted_srtp",
	  SDES_R_PARAM_DUP },
};

/* Valid lines we still refuse, and why (sdes_acceptable). */
static const struct {
	const char *line;
	enum sdes_reason why;
} refused[] = {
	{ "a=crypto:1 " S80 " inline:" K30 " KDR=10", SDES_R_KDR },
	{ "a=crypto:1 " S80 " inline:" K30 " UNENCRYPTED_SRTP",
	  SDES_R_UNENCRYPTED },
	{ "a=crypto:1 " S80 " inline:" K30 " UNENCRYPTED_SRTCP",
	  SDES_R_UNENCRYPTED },
	{ "a=crypto:1 " S80 " inline:" K30 " UNAUTHENTICATED_SRTP",
	  SDES_R_UNAUTHENTICATED },
	{ "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" K30,
	  SDES_R_SUITE_NOT_ALLOWED },
};

static void test_malformed(void)
{
	struct sdes_crypto c;
	enum sdes_reason why;
	char longline[SDES_LINE_MAX + 64];
	size_t i;
	unsigned all = SDES_SUITE_BIT(SDES_AES_CM_128_HMAC_SHA1_80) |
		       SDES_SUITE_BIT(SDES_AEAD_AES_128_GCM);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = SDES_R_OK;
		c.nkeys = 99;
		if (sdes_parse(bad[i].line, strlen(bad[i].line), &c, &why) !=
			    sdes_reason_err(bad[i].why) ||
		    why != bad[i].why) {
			fprintf(stderr,
				"bad[%zu] %s: got \"%s\", want \"%s\"\n", i,
				bad[i].line, sdes_reason_str(why),
				sdes_reason_str(bad[i].why));
			check_failures++;
		}
		CHECK(c.nkeys == 0); /* wiped */
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CHECK_OK(sdes_parse(refused[i].line, strlen(refused[i].line),
				    &c, NULL));
		CHECK_ERR(sdes_acceptable(&c, all, &why),
			  sdes_reason_err(refused[i].why));
		CHECK(why == refused[i].why);
	}
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "a=crypto:1 ", 11);
	CHECK_ERR(sdes_parse(longline, sizeof(longline), &c, &why),
		  CC_ERR_SPACE);
	CHECK(why == SDES_R_TOO_LONG);
	CHECK_ERR(sdes_parse(NULL, 0, &c, &why), CC_ERR_INVAL);
	/* accepted oddities: KDR=0 and WSH<64 are ignored (A17); "-x"
	 * parameters are optional [RFC 4568 §6.3.7]; trailing blanks */
	CHECK_OK(sdes_parse("a=crypto:0 " S80 " inline:" K30 " KDR=0 WSH=10 -x "
			    "\r\n",
			    strlen("a=crypto:0 " S80 " inline:" K30 " KDR=0 "
				   "WSH=10 -x "
				   "\r\n"),
			    &c, &why));
	CHECK(c.tag == 0 && c.kdr == 0 && c.wsh == 0);
	CHECK_OK(sdes_acceptable(&c, all, &why));
	/* every reason has a text and a class; none carries key material */
	for (i = 0; i < SDES_R__COUNT; i++) {
		const char *t = sdes_reason_str((enum sdes_reason)i);

		CHECK(t && *t && !strstr(t, "YUJD"));
		CHECK(i == 0 || sdes_reason_err((enum sdes_reason)i) != CC_OK);
	}
	sdes_crypto_wipe(&c);
}

/* ---- find and pick ------------------------------------------------------ */

static const char offer[] =
	"v=0\r\n"
	"o=sam 2890844526 2890842807 IN IP4 10.47.16.5\r\n"
	"s=SRTP Discussion\r\n"
	"c=IN IP4 168.2.17.12\r\n"
	"t=2873397496 2873404696\r\n"
	"m=audio 49170 RTP/SAVP 0\r\n"
	"a=crypto:5 F8_128_HMAC_SHA1_80 inline:" K30B "|2^20|1:4\r\n"
	"a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:" K30B "|2^20|1:4\r\n"
	"a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" K30B "|2^20|1:4 "
	"FEC_ORDER=FEC_SRTP\r\n"
	"a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|2^20|1:4\r\n"
	"m=video 49172 RTP/SAVP 31\r\n"
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|2^20|1:4\r\n";

static void test_find_pick(void)
{
	struct sdes_sdp s;
	struct sdes_crypto c;
	enum sdes_reason why;
	unsigned s80 = SDES_SUITE_BIT(SDES_AES_CM_128_HMAC_SHA1_80);
	char sdp[1024], warn[128];

	CHECK_OK(sdes_sdp_find(offer, strlen(offer), &s, &why));
	CHECK(s.nmedia == 2 && s.nlines == 5);
	CHECK(s.line[0].media == 0 && s.line[4].media == 1);
	CHECK(!strcmp(s.media[1].type, "video") && s.media[0].port == 49170);
	/* the first acceptable line: tag 3 (F8 refused, _32 not ours) */
	CHECK_OK(sdes_pick(&s, 0, s80, &c, &why));
	CHECK(c.tag == 3 && c.suite == SDES_AES_CM_128_HMAC_SHA1_80);
	/* _32 allowed: tag 4 shares tag 3's key, same m-line: tolerated */
	CHECK_OK(sdes_pick(&s, 0,
			   s80 | SDES_SUITE_BIT(SDES_AES_CM_128_HMAC_SHA1_32),
			   &c, &why));
	CHECK(c.tag == 4);
	/* video's only line reuses audio's key (tag 2): refused */
	CHECK_ERR(sdes_pick(&s, 1, s80, &c, &why), CC_ERR_POLICY);
	CHECK(why == SDES_R_KEY_REUSED && c.nkeys == 0);
	/* nothing acceptable: the first line's reason */
	CHECK_ERR(sdes_pick(&s, 0, SDES_SUITE_BIT(SDES_AEAD_AES_128_GCM), &c,
			    &why),
		  CC_ERR_UNSUPPORTED);
	CHECK(why == SDES_R_SUITE_REFUSED);
	CHECK_OK(sdes_warning("focus.example", why, warn, sizeof(warn)));
	CHECK(!strcmp(warn, "399 focus.example \"a=crypto: crypto-suite not "
			    "supported\""));
	CHECK_ERR(sdes_pick(&s, 2, s80, &c, &why), CC_ERR_NOT_FOUND);
	CHECK(why == SDES_R_NO_MEDIA);

	/* duplicate tags on one m-line */
	snprintf(sdp, sizeof(sdp),
		 "v=0\r\nm=audio 1 RTP/SAVP 0\r\n"
		 "a=crypto:1 " S80 " inline:" K30 "\r\n"
		 "a=crypto:1 " S80 " inline:" K30B "\r\n");
	CHECK_OK(sdes_sdp_find(sdp, strlen(sdp), &s, &why));
	CHECK_ERR(sdes_pick(&s, 0, s80, &c, &why), CC_ERR_MALFORMED);
	CHECK(why == SDES_R_TAG_DUP);
	/* no a=crypto on the m-line (LF only lines) */
	snprintf(sdp, sizeof(sdp), "v=0\nm=audio 1 RTP/SAVP 0\na=sendrecv\n");
	CHECK_OK(sdes_sdp_find(sdp, strlen(sdp), &s, &why));
	CHECK_ERR(sdes_pick(&s, 0, s80, &c, &why), CC_ERR_MISSING);
	CHECK(why == SDES_R_NO_CRYPTO);
	/* a broken first line, a good second */
	snprintf(sdp, sizeof(sdp),
		 "v=0\r\nm=audio 1 RTP/SAVP 0\r\n"
		 "a=crypto:1 " S80 " inline:" K30 "|1:0\r\n"
		 "a=crypto:2 " S80 " inline:" K30B "\r\n");
	CHECK_OK(sdes_sdp_find(sdp, strlen(sdp), &s, &why));
	CHECK_OK(sdes_pick(&s, 0, s80, &c, &why));
	CHECK(c.tag == 2);
	/* session level */
	snprintf(sdp, sizeof(sdp),
		 "v=0\r\na=crypto:1 " S80 " inline:" K30 "\r\nm=audio 1 "
		 "RTP/SAVP 0\r\n");
	CHECK_ERR(sdes_sdp_find(sdp, strlen(sdp), &s, &why), CC_ERR_MALFORMED);
	CHECK(why == SDES_R_SESSION_LEVEL && s.nlines == 0);
	CHECK_ERR(sdes_sdp_find("x=0\r\n", 5, &s, &why), CC_ERR_MALFORMED);
	CHECK(why == SDES_R_NOT_SDP);
	CHECK_ERR(sdes_sdp_find("v=0\r\n\0", 6, &s, &why), CC_ERR_MALFORMED);
	/* transport rule (RFC 4568 §8.3) */
	CHECK_OK(sdes_check_transport(true, false, &why));
	CHECK_OK(sdes_check_transport(false, true, &why));
	CHECK_ERR(sdes_check_transport(false, false, &why), CC_ERR_POLICY);
	CHECK(why == SDES_R_NOT_TLS);
	sdes_crypto_wipe(&c);
}

/* ---- media: SDES members in a group-key conference ---------------------- */

#define MID_K 1 /* a KMS member (group key) */
#define MID_S 2 /* an SDES member (own upstream key) */
#define MID_L 3 /* an SDES listener */
#define SSRC_K 0x11111111u
#define SSRC_S 0x22222222u

static bool owner_cb(uint32_t ssrc, media_mid *owner, uint32_t *roc, void *a)
{
	(void)a;
	*roc = 0;
	if (ssrc == SSRC_K)
		*owner = MID_K;
	else if (ssrc == SSRC_S)
		*owner = MID_S;
	else
		return false;
	return true;
}

/* The conference: a switch, its group key epochs, the focus's answer. */
struct sconf {
	enum media_profile p;
	struct media_group *g;
	uint8_t tek[4][16], salt[4][14];
	struct media_upstream *up; /* MID_S's upstream */
	struct media_member *lis;  /* MID_L: decrypts with the answer line */
};

static void group_key(struct sconf *c, uint32_t epoch, struct media_key *k)
{
	size_t tek, salt, tag;

	media_profile_sizes(c->p, &tek, &salt, &tag);
	fill(c->tek[epoch], 16, (uint8_t)(epoch * 11));
	fill(c->salt[epoch], 14, (uint8_t)(epoch * 13 + 1));
	k->mki = 0x80000000u | epoch;
	k->profile = c->p;
	k->tek = c->tek[epoch];
	k->tek_len = tek;
	k->salt = c->salt[epoch];
	k->salt_len = salt;
}

/* The focus answers with the group key of `epoch` (the same line for
 * every SDES dialog); the listener reads the line and installs it. */
static void answer_and_listen(struct sconf *c, uint32_t tag, uint32_t epoch)
{
	struct media_key gk, lk;
	struct sdes_key sk;
	struct sdes_crypto ans;
	char line[256];
	size_t n = 0, tek, salt, tagl;
	uint32_t mki;

	group_key(c, epoch, &gk);
	CHECK_OK(sdes_key_set(&sk, gk.tek, gk.tek_len, gk.salt, gk.salt_len,
			      gk.mki, MEDIA_MKI_LEN, 0));
	CHECK_OK(sdes_build(tag, sdes_profile_suite(c->p), &sk, line,
			    sizeof(line), &n));
	/* the listener's side: parse the answer, make a media key of it */
	CHECK_OK(sdes_parse(line, n, &ans, NULL));
	CHECK(ans.tag == tag && ans.key[0].mki_len == MEDIA_MKI_LEN);
	media_profile_sizes(c->p, &tek, &salt, &tagl);
	mki = (uint32_t)ans.key[0].mki[0] << 24 |
	      (uint32_t)ans.key[0].mki[1] << 16 |
	      (uint32_t)ans.key[0].mki[2] << 8 | ans.key[0].mki[3];
	lk.mki = mki;
	lk.profile = c->p;
	lk.tek = ans.key[0].master;
	lk.tek_len = tek;
	lk.salt = ans.key[0].master + tek;
	lk.salt_len = salt;
	CHECK_OK(media_member_install(c->lis, &lk));
	CHECK_OK(media_member_switch(c->lis, mki)); /* (it does not send) */
	sdes_crypto_wipe(&ans);
	cc_wipe(&sk, sizeof(sk));
	cc_wipe(line, sizeof(line));
}

static void sconf_init(struct sconf *c, enum media_profile p)
{
	struct media_key gk;

	memset(c, 0, sizeof(*c));
	c->p = p;
	CHECK_OK(media_group_new(&c->g, p, owner_cb, NULL));
	CHECK_OK(media_upstream_new(&c->up, p));
	CHECK_OK(media_member_new(&c->lis, p));
	group_key(c, 1, &gk);
	CHECK_OK(media_group_install(c->g, &gk));
	CHECK_OK(media_group_switch(c->g, gk.mki));
	CHECK_OK(media_group_add_member(c->g, MID_K, NULL));
	CHECK_OK(media_group_add_member(c->g, MID_S, NULL));
	CHECK_OK(media_group_add_member(c->g, MID_L, NULL));
}

static void sconf_free(struct sconf *c)
{
	media_group_free(c->g);
	media_upstream_free(c->up);
	media_member_free(c->lis);
}

/* The member's a=crypto offer for its upstream key, as the focus picks it
 * and hands it to the media plane. */
static void member_offer(struct sconf *c, uint8_t seed, uint64_t mki,
			 size_t mki_len, uint64_t life, struct sdes_crypto *got)
{
	char sdp[512], line[256];
	uint8_t key[16], salt[14];
	size_t n = 0, tek, sl, tag;
	struct sdes_key k;
	struct sdes_sdp s;
	enum sdes_reason why;

	media_profile_sizes(c->p, &tek, &sl, &tag);
	fill(key, 16, seed);
	fill(salt, 14, (uint8_t)(seed + 1));
	CHECK_OK(sdes_key_set(&k, key, 16, salt, sl, mki, mki_len, life));
	CHECK_OK(sdes_build(1, sdes_profile_suite(c->p), &k, line, sizeof(line),
			    &n));
	snprintf(sdp, sizeof(sdp), "v=0\r\nm=audio 4000 RTP/SAVP 0\r\n%s",
		 line);
	CHECK_OK(sdes_sdp_find(sdp, strlen(sdp), &s, &why));
	CHECK_OK(sdes_pick(&s, 0, SDES_SUITE_BIT(sdes_profile_suite(c->p)), got,
			   &why));
	cc_wipe(&k, sizeof(k));
	cc_wipe(sdp, sizeof(sdp));
}

static struct media_upkey upkey_of(const struct sdes_crypto *cr, size_t i)
{
	struct media_upkey k = {
		cr->key[i].master,
		cr->key[i].master_len,
		cr->key[i].mki_len ? cr->key[i].mki : NULL,
		cr->key[i].mki_len,
		cr->key[i].lifetime,
	};

	return k;
}

/* The member's own sender, straight on libsrtp (not our code). */
static srtp_t raw_sender(enum media_profile p, const struct sdes_crypto *cr,
			 uint32_t ssrc, uint32_t roc)
{
	srtp_policy_t pol;
	srtp_master_key_t mk, *mkp[1] = { &mk };
	srtp_t s = NULL;
	uint8_t master[30];

	memset(&pol, 0, sizeof(pol));
	memcpy(master, cr->key[0].master, cr->key[0].master_len);
	if (p == MEDIA_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
	} else {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	}
	pol.ssrc.type = ssrc_specific;
	pol.ssrc.value = ssrc;
	pol.window_size = 128;
	if (cr->key[0].mki_len) {
		mk.key = master;
		mk.mki_id = (unsigned char *)cr->key[0].mki;
		mk.mki_size = (unsigned)cr->key[0].mki_len;
		pol.keys = mkp;
		pol.num_master_keys = 1;
	} else {
		pol.key = master;
	}
	CHECK(srtp_create(&s, &pol) == srtp_err_status_ok);
	if (roc)
		CHECK(srtp_set_stream_roc(s, ssrc, roc) == srtp_err_status_ok);
	cc_wipe(master, sizeof(master));
	return s;
}

static size_t raw_packet(srtp_t s, bool mki, uint32_t ssrc, uint16_t seq,
			 uint8_t tag, uint32_t *buf)
{
	uint8_t *h = (uint8_t *)buf;
	int len = MEDIA_RTP_HDR_LEN + MEDIA_FRAME;

	memset(h, 0, (size_t)len);
	h[0] = 0x80;
	h[2] = (uint8_t)(seq >> 8);
	h[3] = (uint8_t)seq;
	h[8] = (uint8_t)(ssrc >> 24);
	h[9] = (uint8_t)(ssrc >> 16);
	h[10] = (uint8_t)(ssrc >> 8);
	h[11] = (uint8_t)ssrc;
	memset(h + MEDIA_RTP_HDR_LEN, tag, MEDIA_FRAME);
	CHECK(srtp_protect_mki(s, buf, &len, mki ? 1 : 0, 0) ==
	      srtp_err_status_ok);
	return (size_t)len;
}

/* Switch a member packet; the listener must read payload `tag` from
 * SSRC_S at seq under the group MKI gmki. */
static void relay_info(struct sconf *c, const uint8_t *pkt, size_t len,
		       uint16_t seq, uint8_t tag, uint32_t gmki,
		       struct media_rx_info *infop)
{
	uint8_t out[MEDIA_PKT_MAX + MEDIA_MKI_LEN];
	struct media_fanout fan;
	struct media_rx_info local, *ip = infop ? infop : &local;
	struct media_rx_payload rx;
	size_t n = 0, i;
	bool same = true;

	CHECK_OK(media_switch_rx_sdes(c->g, MID_S, c->up, pkt, len, out,
				      sizeof(out), &n, &fan, ip));
	CHECK(fan.n == 3 && fan.dest[fan.skip].mid == MID_S);
	CHECK(ip->mki == gmki && ip->rtp.seq == seq);
	CHECK_OK(media_member_unprotect(c->lis, out, n, &rx));
	CHECK(rx.info.rtp.ssrc == SSRC_S && rx.info.rtp.seq == seq);
	CHECK(rx.info.mki == gmki && rx.payload_len == MEDIA_FRAME);
	for (i = 0; i < rx.payload_len; i++)
		same = same && rx.payload[i] == tag;
	CHECK(same);
}

static void relay_check(struct sconf *c, const uint8_t *pkt, size_t len,
			uint16_t seq, uint8_t tag, uint32_t gmki)
{
	relay_info(c, pkt, len, seq, tag, gmki, NULL);
}

static void test_relay(enum media_profile p)
{
	struct sconf c;
	struct sdes_crypto cr;
	struct media_upkey uk;
	struct media_fanout fan;
	struct media_stats st;
	uint32_t buf[512];
	uint8_t out[MEDIA_PKT_MAX + MEDIA_MKI_LEN];
	size_t len, n;
	srtp_t snd;
	uint16_t seq;

	sconf_init(&c, p);
	answer_and_listen(&c, 1, 1);
	member_offer(&c, 7, 3, 2, 0, &cr);
	uk = upkey_of(&cr, 0);
	CHECK_OK(media_upstream_set(c.up, &uk, 1, 0, 0, NULL));
	snd = raw_sender(p, &cr, SSRC_S, 0);
	for (seq = 100; seq < 105; seq++) {
		len = raw_packet(snd, true, SSRC_S, seq, (uint8_t)seq, buf);
		relay_check(&c, (uint8_t *)buf, len, seq, (uint8_t)seq,
			    0x80000001u);
	}
	/* the same packet again: a replay, dropped before the group key */
	CHECK_ERR(media_switch_rx_sdes(c.g, MID_S, c.up, (uint8_t *)buf, len,
				       out, sizeof(out), &n, &fan, NULL),
		  CC_ERR_REPLAY);
	/* tampered */
	len = raw_packet(snd, true, SSRC_S, seq, 1, buf);
	((uint8_t *)buf)[20] ^= 1;
	CHECK_ERR(media_switch_rx_sdes(c.g, MID_S, c.up, (uint8_t *)buf, len,
				       out, sizeof(out), &n, &fan, NULL),
		  CC_ERR_BAD_MAC);
	/* on another member's leg (D6) */
	len = raw_packet(snd, true, SSRC_S, ++seq, 1, buf);
	CHECK_ERR(media_switch_rx_sdes(c.g, MID_K, c.up, (uint8_t *)buf, len,
				       out, sizeof(out), &n, &fan, NULL),
		  CC_ERR_NOT_AUTHORISED);
	/* too small an output */
	CHECK_ERR(media_switch_rx_sdes(c.g, MID_S, c.up, (uint8_t *)buf, len,
				       out, len, &n, &fan, NULL),
		  CC_ERR_SPACE);
	relay_check(&c, (uint8_t *)buf, len, seq, 1, 0x80000001u);
	/* a KMS member's packet is under the group key: the old path */
	{
		struct media_member *km;
		struct media_key gk;
		uint8_t pl[MEDIA_FRAME] = { 0 };
		struct media_rx_payload rx;

		CHECK_OK(media_member_new(&km, p));
		group_key(&c, 1, &gk);
		CHECK_OK(media_member_install(km, &gk));
		CHECK_OK(media_member_switch(km, gk.mki));
		CHECK_OK(media_member_sender(km, SSRC_K, 0, 0, 7));
		CHECK_OK(media_member_send(km, pl, sizeof(pl), 0, false, out,
					   sizeof(out), &n));
		CHECK_OK(media_switch_rx(c.g, MID_K, out, n, &fan, NULL));
		CHECK_OK(media_member_unprotect(c.lis, out, n, &rx));
		CHECK(rx.info.rtp.ssrc == SSRC_K);
		media_member_free(km);
	}
	media_upstream_stats(c.up, &st);
	CHECK(st.ok == 6 && st.tx == 6 && st.drop_replay == 1 &&
	      st.drop_auth == 1 && st.drop_foreign_ssrc == 1 &&
	      st.drop_other == 1);
	media_group_stats(c.g, &st);
	CHECK(st.ok == 7 && st.drop_foreign_ssrc == 1 && st.drop_replay == 1);
	srtp_dealloc(snd);
	sdes_crypto_wipe(&cr);
	sconf_free(&c);
}

/* ROC across the wrap for a member without MKI; a group epoch switch
 * while the source is at ROC 1 past seq 32768 (the new group stream
 * must start at the packet's ROC); replacement of a key without MKI. */
static void test_roc_nomki(enum media_profile p)
{
	static const uint16_t seqs[] = { 65533, 65534, 65535, 0,
					 1,     2,     20000, 40000 };
	struct sconf c;
	struct sdes_crypto cr, cr2;
	struct media_upkey uk;
	struct media_fanout fan;
	struct media_rx_info info;
	struct media_key gk;
	uint32_t buf[512];
	uint8_t out[MEDIA_PKT_MAX + MEDIA_MKI_LEN];
	size_t len, n = 0, i;
	srtp_t snd, snd2;
	bool graceful = true;

	sconf_init(&c, p);
	answer_and_listen(&c, 1, 1);
	member_offer(&c, 21, 0, 0, 0, &cr); /* no MKI */
	CHECK(cr.key[0].mki_len == 0);
	uk = upkey_of(&cr, 0);
	CHECK_OK(media_upstream_set(c.up, &uk, 1, 0, 0, &graceful));
	CHECK(!graceful && media_upstream_keys(c.up) == 1);
	/* an SSRC starts at ROC 0 [RFC 4568 §6.4]: a sender that does not
	 * is not authenticated (and leaves no stream behind) */
	snd = raw_sender(p, &cr, SSRC_S, 1);
	len = raw_packet(snd, false, SSRC_S, 40000, 1, buf);
	CHECK_ERR(media_switch_rx_sdes(c.g, MID_S, c.up, (uint8_t *)buf, len,
				       out, sizeof(out), &n, &fan, NULL),
		  CC_ERR_BAD_MAC);
	srtp_dealloc(snd);
	snd = raw_sender(p, &cr, SSRC_S, 0);
	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		len = raw_packet(snd, false, SSRC_S, seqs[i], (uint8_t)i, buf);
		relay_info(&c, (uint8_t *)buf, len, seqs[i], (uint8_t)i,
			   0x80000001u, &info);
		CHECK(info.roc == (i < 3 ? 0u : 1u));
		CHECK(info.roc_changed == (i == 3));
	}
	/* group rekey: epoch 2 installed, answered, switched to */
	group_key(&c, 2, &gk);
	CHECK_OK(media_group_install(c.g, &gk));
	answer_and_listen(&c, 1, 2);
	CHECK_OK(media_group_switch(c.g, gk.mki));
	len = raw_packet(snd, false, SSRC_S, 40001, 0x41, buf);
	relay_info(&c, (uint8_t *)buf, len, 40001, 0x41, gk.mki, &info);
	CHECK(info.roc == 1);
	CHECK_OK(media_group_retire(c.g, 0x80000001u));
	/* a new key without MKI: replacement, the old key is gone at once */
	member_offer(&c, 77, 0, 0, 0, &cr2);
	uk = upkey_of(&cr2, 0);
	CHECK_OK(media_upstream_set(c.up, &uk, 1, 5000, 2000, &graceful));
	CHECK(!graceful && media_upstream_keys(c.up) == 1);
	len = raw_packet(snd, false, SSRC_S, 40002, 1, buf);
	CHECK_ERR(media_switch_rx_sdes(c.g, MID_S, c.up, (uint8_t *)buf, len,
				       out, sizeof(out), &n, &fan, NULL),
		  CC_ERR_BAD_MAC);
	snd2 = raw_sender(p, &cr2, SSRC_S, 1); /* ROC continues */
	len = raw_packet(snd2, false, SSRC_S, 40003, 0x42, buf);
	relay_info(&c, (uint8_t *)buf, len, 40003, 0x42, gk.mki, &info);
	CHECK(info.roc == 1);
	/* the same line again (a re-INVITE keeping the key) keeps state */
	CHECK_OK(media_upstream_set(c.up, &uk, 1, 6000, 2000, &graceful));
	CHECK(graceful);
	CHECK_ERR(media_switch_rx_sdes(c.g, MID_S, c.up, (uint8_t *)buf, len,
				       out, sizeof(out), &n, &fan, NULL),
		  CC_ERR_REPLAY);
	srtp_dealloc(snd);
	srtp_dealloc(snd2);
	sdes_crypto_wipe(&cr);
	sdes_crypto_wipe(&cr2);
	sconf_free(&c);
}

/* Rekey with MKI: new key next to the old one, grace, expiry; same MKI
 * with another key refused; MKI length change = replacement; lifetime. */
static void test_rekey_mki(enum media_profile p)
{
	struct sconf c;
	struct sdes_crypto a, b, b2, d, e;
	struct media_upkey uk[2];
	struct media_fanout fan;
	uint32_t buf[512];
	uint8_t out[MEDIA_PKT_MAX + MEDIA_MKI_LEN];
	size_t len, n = 0;
	srtp_t sa, sb, sd, se;
	bool graceful = false;
	uint16_t seq = 1;
	int i;

	sconf_init(&c, p);
	answer_and_listen(&c, 1, 1);
	member_offer(&c, 1, 1, 4, 0, &a);
	member_offer(&c, 2, 2, 4, 0, &b);
	member_offer(&c, 3, 2, 4, 0, &b2); /* MKI 2, another key */
	member_offer(&c, 4, 1, 2, 0, &d);  /* MKI length 2 */
	member_offer(&c, 5, 9, 4, 3, &e);  /* lifetime 3 packets */
	uk[0] = upkey_of(&a, 0);
	CHECK_OK(media_upstream_set(c.up, uk, 1, 0, 0, NULL));
	sa = raw_sender(p, &a, SSRC_S, 0);
	len = raw_packet(sa, true, SSRC_S, seq, 1, buf);
	relay_check(&c, (uint8_t *)buf, len, seq++, 1, 0x80000001u);
	/* the member re-offers with key B, MKI 2 */
	uk[0] = upkey_of(&b, 0);
	CHECK_OK(media_upstream_set(c.up, uk, 1, 1000, 2000, &graceful));
	CHECK(graceful && media_upstream_keys(c.up) == 2);
	CHECK(media_upstream_next_expiry(c.up) == 3000);
	sb = raw_sender(p, &b, SSRC_S, 0);
	len = raw_packet(sb, true, SSRC_S, seq, 2, buf);
	relay_check(&c, (uint8_t *)buf, len, seq++, 2, 0x80000001u);
	/* a late packet under A: still good in the grace period */
	len = raw_packet(sa, true, SSRC_S, 0, 3, buf);
	relay_check(&c, (uint8_t *)buf, len, 0, 3, 0x80000001u);
	CHECK(media_upstream_expire(c.up, 2999) == 0);
	CHECK(media_upstream_expire(c.up, 3000) == 1);
	CHECK(media_upstream_next_expiry(c.up) == 0);
	len = raw_packet(sa, true, SSRC_S, seq++, 4, buf);
	CHECK_ERR(media_switch_rx_sdes(c.g, MID_S, c.up, (uint8_t *)buf, len,
				       out, sizeof(out), &n, &fan, NULL),
		  CC_ERR_NOT_FOUND);
	/* MKI 2 with another key: refused, nothing changes */
	uk[0] = upkey_of(&b2, 0);
	CHECK_ERR(media_upstream_set(c.up, uk, 1, 4000, 2000, NULL),
		  CC_ERR_INVAL);
	len = raw_packet(sb, true, SSRC_S, seq, 5, buf);
	relay_check(&c, (uint8_t *)buf, len, seq++, 5, 0x80000001u);
	/* two keys with the same MKI in one set: refused */
	uk[0] = upkey_of(&b, 0);
	uk[1] = upkey_of(&b2, 0);
	CHECK_ERR(media_upstream_set(c.up, uk, 2, 4000, 2000, NULL),
		  CC_ERR_INVAL);
	/* another MKI length: replacement */
	uk[0] = upkey_of(&d, 0);
	CHECK_OK(media_upstream_set(c.up, uk, 1, 4000, 2000, &graceful));
	CHECK(!graceful && media_upstream_keys(c.up) == 1);
	len = raw_packet(sb, true, SSRC_S, seq++, 6, buf);
	CHECK(media_switch_rx_sdes(c.g, MID_S, c.up, (uint8_t *)buf, len, out,
				   sizeof(out), &n, &fan, NULL) != CC_OK);
	sd = raw_sender(p, &d, SSRC_S, 0);
	len = raw_packet(sd, true, SSRC_S, seq, 7, buf);
	relay_check(&c, (uint8_t *)buf, len, seq++, 7, 0x80000001u);
	/* lifetime 3: the fourth packet is refused [RFC 4568 §6.1] */
	uk[0] = upkey_of(&e, 0);
	CHECK_OK(media_upstream_set(c.up, uk, 1, 5000, 0, &graceful));
	CHECK(media_upstream_keys(c.up) == 1);
	se = raw_sender(p, &e, SSRC_S, 0);
	for (i = 0; i < 3; i++, seq++) {
		len = raw_packet(se, true, SSRC_S, seq, 8, buf);
		relay_check(&c, (uint8_t *)buf, len, seq, 8, 0x80000001u);
	}
	len = raw_packet(se, true, SSRC_S, seq, 9, buf);
	CHECK_ERR(media_switch_rx_sdes(c.g, MID_S, c.up, (uint8_t *)buf, len,
				       out, sizeof(out), &n, &fan, NULL),
		  CC_ERR_EXPIRED);
	CHECK_OK(media_upstream_retire(c.up, e.key[0].mki, 4));
	CHECK_ERR(media_upstream_retire(c.up, e.key[0].mki, 4),
		  CC_ERR_NOT_FOUND);
	srtp_dealloc(sa);
	srtp_dealloc(sb);
	srtp_dealloc(sd);
	srtp_dealloc(se);
	sdes_crypto_wipe(&a);
	sdes_crypto_wipe(&b);
	sdes_crypto_wipe(&b2);
	sdes_crypto_wipe(&d);
	sdes_crypto_wipe(&e);
	sconf_free(&c);
}

/* Bounds and argument checks of the key set. */
static void test_upstream_limits(void)
{
	struct media_upstream *up;
	struct media_upkey k[MEDIA_UPSTREAM_KEYS_MAX + 1];
	uint8_t master[MEDIA_UPSTREAM_KEYS_MAX + 1][30];
	uint8_t mki[MEDIA_UPSTREAM_KEYS_MAX + 1][4];
	struct media_group *g;
	struct media_fanout fan;
	uint8_t out[64], pkt[64] = { 0x80 };
	size_t i, n = 0;

	CHECK_OK(media_upstream_new(&up, MEDIA_AES_CM_128_HMAC_SHA1_80));
	for (i = 0; i <= MEDIA_UPSTREAM_KEYS_MAX; i++) {
		fill(master[i], 30, (uint8_t)(i + 50));
		memset(mki[i], 0, 4);
		mki[i][3] = (uint8_t)(i + 1);
		k[i] = (struct media_upkey){ master[i], 30, mki[i], 4, 0 };
	}
	CHECK_ERR(media_upstream_set(up, k, 0, 0, 0, NULL), CC_ERR_INVAL);
	k[0].master_len = 28;
	CHECK_ERR(media_upstream_set(up, k, 1, 0, 0, NULL), CC_ERR_INVAL);
	k[0].master_len = 30;
	k[1].mki_len = 0;
	CHECK_ERR(media_upstream_set(up, k, 2, 0, 0, NULL), CC_ERR_INVAL);
	k[1].mki_len = 4;
	CHECK_OK(media_upstream_set(up, k, 4, 0, 0, NULL));
	CHECK_OK(media_upstream_set(up, k + 4, 4, 10, 100, NULL));
	CHECK(media_upstream_keys(up) == 8);
	CHECK_ERR(media_upstream_set(up, k + 8, 1, 20, 100, NULL), CC_ERR_FULL);
	CHECK(media_upstream_expire(up, 110) == 4);
	CHECK_OK(media_upstream_set(up, k + 8, 1, 20, 100, NULL));
	CHECK(media_upstream_keys(up) == 5);
	/* profiles must agree with the group's */
	CHECK_OK(media_group_new(&g, MEDIA_AEAD_AES_128_GCM, owner_cb, NULL));
	CHECK_ERR(media_switch_rx_sdes(g, MID_S, up, pkt, sizeof(pkt), out,
				       sizeof(out), &n, &fan, NULL),
		  CC_ERR_INVAL);
	media_group_free(g);
	CHECK_ERR(media_upstream_new(&up, (enum media_profile)7), CC_ERR_INVAL);
	media_upstream_free(up);
}

int main(void)
{
	test_rfc_examples();
	test_roundtrip();
	test_malformed();
	test_find_pick();
	test_relay(MEDIA_AES_CM_128_HMAC_SHA1_80);
	test_relay(MEDIA_AEAD_AES_128_GCM);
	test_roc_nomki(MEDIA_AES_CM_128_HMAC_SHA1_80);
	test_roc_nomki(MEDIA_AEAD_AES_128_GCM);
	test_rekey_mki(MEDIA_AES_CM_128_HMAC_SHA1_80);
	test_rekey_mki(MEDIA_AEAD_AES_128_GCM);
	test_upstream_limits();
	CHECK_DONE();
}
