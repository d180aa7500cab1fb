/*
 * test_mikey_crypto.c -- known answers for the MIKEY PRFs, every key
 * derivation, the KEMAC ciphers and the MACs. Vectors from
 * spec/worked-examples.md (§2, §4, §5, §6, §7, §9, §10), RFC 3394 §4.1,
 * RFC 2202 / RFC 4231 and RFC 3711 App. B.3 (spec/sdp-sdes-srtp.md §3.10).
 */
#include <conclave/mikey_crypto.h>

#include "check.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SL(a) ((struct cc_slice){ (a), sizeof(a) })
#define STR(s) ((struct cc_slice){ (const uint8_t *)(s), sizeof(s) - 1 })

static const struct cc_slice none = { NULL, 0 };

/* ---- inputs of worked-examples.md §1 ------------------------------------- */

static uint8_t psk_alice[16], psk_bob[16], tpk[16], mpk[16], tgk[16];
static uint8_t rand_ticket[16], randri_req[16], randri_tr[16];
static uint8_t randrr_res[16], randrkms[16], tgk_new[16];

static void seq(uint8_t *p, uint8_t first, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

static void inputs_init(void)
{
	seq(psk_alice, 0x00, 16);
	seq(psk_bob, 0x10, 16);
	seq(tpk, 0x20, 16);
	seq(mpk, 0x30, 16);
	seq(tgk, 0x40, 16);
	seq(rand_ticket, 0x50, 16);
	seq(randri_req, 0x60, 16);
	seq(randri_tr, 0x70, 16);
	seq(randrr_res, 0x80, 16);
	seq(randrkms, 0x90, 16);
	seq(tgk_new, 0xc0, 16);
}

/* ---- messages of spec/worked-examples.md §4, §9, §10 -------------------- */

/* clang-format off */
/* worked-examples.md §4.1 (249 bytes) */
static const char MSG_REQUEST_INIT[] =
	"010b05800a0b0c0d00010f00e98c41c0000000000e0110606162636465666768"
	"696a6b6c6d6e6f0e010100157369703a616c696365406578616d706c652e6f72"
	"6710030100137369703a6b6d732e6578616d706c652e6f72670e0001010101d1"
	"e000700e0e030100137369703a6b6d732e6578616d706c652e6f72670d010100"
	"157369703a616c696365406578616d706c652e6f7267010303e98d93400e0000"
	"1900010010000000000000000000000000000000000400000000000002010013"
	"7369703a626f62406578616d706c652e6f7267090402000b616c6963652d7073"
	"6b2d3100015cf3fa7040b320d8bfb397914828573457273308";

/* worked-examples.md §4.2 (335 bytes) */
static const char MSG_REQUEST_RESP[] =
	"010d05000a0b0c0d00010e00e98c41c10000000011030100137369703a6b6d73"
	"2e6578616d706c652e6f7267010001010101d1e000520e0e030100137369703a"
	"6b6d732e6578616d706c652e6f72670d010100157369703a616c696365406578"
	"616d706c652e6f72670e0303e98d934000020100137369703a626f6240657861"
	"6d706c652e6f726700760500000b00e98c41c100000000011050515253545556"
	"5758595a5b5c5d5e5f0e0100321f54fdc0ad3413d31b03870dbd35b9ebebbaeb"
	"03fb779f6585b66676b2a96fde1b3f87b81c9d7b0dfb7f1521aaf547861ea500"
	"090402000574706b2d3700011f59c7b3dff11aa769ceaf02506db3d3b22d2e3b"
	"00000901003287d5b35f3fca80183add85e81a7cf207ba4ca4a766ebf3736f96"
	"e25da55f56d48cabc7a8c5bb7783feacbcd46ffbe0e7de1d0000012e34a701cc"
	"af23fdbcd951ebc890d278ee130eea";

/* worked-examples.md §4.3 (382 bytes) */
static const char MSG_TRANSFER_INIT[] =
	"010e05801a2b3c4d020201000100000411223344040000000102000100000000"
	"0f00e98c41c2000000000e0110707172737475767778797a7b7c7d7e7f0e0101"
	"00157369703a616c696365406578616d706c652e6f72670a020100137369703a"
	"626f62406578616d706c652e6f7267110000001e000101010110020101030114"
	"04010e0501000701010801010a01010b010a090001010101d1e000520e0e0301"
	"00137369703a6b6d732e6578616d706c652e6f72670d010100157369703a616c"
	"696365406578616d706c652e6f72670e0303e98d934000020100137369703a62"
	"6f62406578616d706c652e6f726700760500000b00e98c41c100000000011050"
	"5152535455565758595a5b5c5d5e5f0e0100321f54fdc0ad3413d31b03870dbd"
	"35b9ebebbaeb03fb779f6585b66676b2a96fde1b3f87b81c9d7b0dfb7f1521aa"
	"f547861ea500090402000574706b2d3700011f59c7b3dff11aa769ceaf02506d"
	"b3d3b22d2e3b000000017a4f585968178ab505244766507ecdef5e236270";

/* worked-examples.md §4.4 (337 bytes) */
static const char MSG_RESOLVE_INIT[] =
	"011005802a2b2c2d00010f00e98c41c3000000000e0210808182838485868788"
	"898a8b8c8d8e8f0e020100137369703a626f62406578616d706c652e6f726711"
	"030100137369703a6b6d732e6578616d706c652e6f72670e0001010101d1e000"
	"520e0e030100137369703a6b6d732e6578616d706c652e6f72670d0101001573"
	"69703a616c696365406578616d706c652e6f72670e0303e98d93400002010013"
	"7369703a626f62406578616d706c652e6f726700760500000b00e98c41c10000"
	"00000110505152535455565758595a5b5c5d5e5f0e0100321f54fdc0ad3413d3"
	"1b03870dbd35b9ebebbaeb03fb779f6585b66676b2a96fde1b3f87b81c9d7b0d"
	"fb7f1521aaf547861ea500090402000574706b2d3700011f59c7b3dff11aa769"
	"ceaf02506db3d3b22d2e3b00000904020009626f622d70736b2d310001fe04cc"
	"633c86b9a81e955bf86d88b1be85b2cbed";

/* worked-examples.md §4.5 (121 bytes) */
static const char MSG_RESOLVE_RESP[] =
	"011205002a2b2c2d00010e00e98c41c40000000001030100137369703a6b6d73"
	"2e6578616d706c652e6f726709010032be85494c99756460e16e1ad70f4df580"
	"f82f070623074ab0d0c1164d1e253ac8c760173f6c694eeb4fde63519d283dc5"
	"3e34000001d3b8de57e8f63f223dea2622a9ed676ebd4e1310";

/* worked-examples.md §4.6 (96 bytes) */
static const char MSG_TRANSFER_RESP[] =
	"010f05001a2b3c4d020201000100000411223344040000000102000100000455"
	"66778804000000010e00e98c41c50000000009020100137369703a626f624065"
	"78616d706c652e6f7267000170eb1348144b5e572875298424ac76b18b92c477";

/* worked-examples.md §4.7 (142 bytes) */
static const char MSG_TRANSFER_RESP_GK[] =
	"010f05001a2b3c4d020201000100000411223344040000000302000100000455"
	"66778804000000030e00e98c41c50000000001020100137369703a626f624065"
	"78616d706c652e6f726709010029c0cc39dd4084a3532c4ce235f0f40e968d91"
	"5be72c465ea85d278b0c73311b097d1f8c7b4c2939958d000001e94cb9c417bf"
	"a95b81f643a67b2fda296cbc6985";

/* worked-examples.md §9.1 (152 bytes) */
static const char MSG_UPD9_INIT[] =
	"010e05801a2b3c4d020201000100000411223344040000000202000100000455"
	"66778804000000020e00e98c4418000000000e010100157369703a616c696365"
	"406578616d706c652e6f726701020100137369703a626f62406578616d706c65"
	"2e6f72670901001922215ec848953f81a556beaebfd36f8cd8230a9ca753b5da"
	"9f000001a1274580f02d4288f98083f2f54ad3809428c565";

/* worked-examples.md §9.2 (96 bytes) */
static const char MSG_UPD9_RESP[] =
	"010f05001a2b3c4d020201000100000411223344040000000202000100000455"
	"66778804000000020e00e98c44190000000009020100137369703a626f624065"
	"78616d706c652e6f72670001607de844e60c398356a33283c818f6ee1c791bae";

/* worked-examples.md §10.1 (168 bytes) */
static const char MSG_UPD10_INIT[] =
	"010e05801a2b3c4d020201000100000411223344040000000202000100000455"
	"66778804000000020e00e98c4670000000000e020100137369703a626f624065"
	"78616d706c652e6f726701010100157369703a616c696365406578616d706c65"
	"2e6f726709010029b67a951aa5ed917652ad33dd31a76e8c001ec1f6734267b8"
	"c95e41e2fadd5226c35738e4f067c68eb600000186ccd5348baa54099e58733a"
	"b33714f9103b2648";

/* worked-examples.md §10.2 (98 bytes) */
static const char MSG_UPD10_RESP[] =
	"010f05001a2b3c4d020201000100000411223344040000000202000100000455"
	"66778804000000020e00e98c46710000000009010100157369703a616c696365"
	"406578616d706c652e6f72670001f3f7e8057641fd0c8115fd8127fc99b39f90"
	"d28e";

/* clang-format on */

/* ---- PRF (worked-examples.md §5) ---------------------------------------- */

/* RFC 3830 TEK label: 0x2AD01C64 || cs 1 || csb 0x12345678 || 0xAA x16 */
#define PRF_LABEL "2ad01c640112345678aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void prf_check(enum mikey_prf prf, size_t inkey_len,
		      const char *label_hex, size_t out_len, const char *want)
{
	uint8_t key[64], label[64], out[64];
	size_t llen = hex2bin(label_hex, label, sizeof(label));

	seq(key, 0, inkey_len);
	CHECK_OK(mikey_prf(prf, key, inkey_len, label, llen, out, out_len));
	CHECK_HEX(out, out_len, want);
}

static void test_prf_vectors(void)
{
	prf_check(MIKEY_PRF_MIKEY1, 16, PRF_LABEL, 16,
		  "3ea01028585b6531fcf3fd03104a139f");
	prf_check(MIKEY_PRF_MIKEY1, 48, PRF_LABEL, 32,
		  "067b0b1f3d561cb5f6dc3650d315d32f"
		  "e74e89313c5593e0733eb50f9f66c200");
	prf_check(MIKEY_PRF_HMAC_SHA256, 32, PRF_LABEL, 32,
		  "b25095e35e77b183627f4c0229c3e045"
		  "6ff557531b61903ab296a84496c5ad3d");
	prf_check(MIKEY_PRF_HMAC_SHA256, 32, PRF_LABEL, 48,
		  "b25095e35e77b183627f4c0229c3e045"
		  "6ff557531b61903ab296a84496c5ad3d"
		  "53455cd9c3bdf1e19fc7875389c45a0d");
	prf_check(MIKEY_PRF_MIKEY1, 16,
		  "2d22ac75ff12345678aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 20,
		  "2fd6ecc63d9645808f882691ba1adfb98ca71771");
	/* #1 debug: one whole output block HMAC(s, A_1 || L) */
	prf_check(MIKEY_PRF_MIKEY1, 16, PRF_LABEL, 20,
		  "3ea01028585b6531fcf3fd03104a139f19679161");
}

/* §5 debug values: A_1 and the two P() of vector #2 (each chunk alone). */
static void test_prf_debug_values(void)
{
	uint8_t key[48], label[25], out[40];
	struct cc_slice part;

	seq(key, 0, sizeof(key));
	hex2bin(PRF_LABEL, label, sizeof(label));
	part = SL(label);
	CHECK_OK(mikey_mac_compute(MIKEY_MAC_HMAC_SHA1_160, key, 16, &part, 1,
				   out));
	CHECK_HEX(out, 20, "9210734d8c029c8fb07dccb2105ac8a25b21bdf1");
	CHECK_OK(mikey_prf(MIKEY_PRF_MIKEY1, key, 32, label, sizeof(label), out,
			   40));
	CHECK_HEX(out, 40,
		  "a338f12b6c2483be392d8c21d80d8971362fe6d7"
		  "8b5e3c0e76544d3ebd372006e6854859fc77622f");
	CHECK_OK(mikey_prf(MIKEY_PRF_MIKEY1, key + 32, 16, label, sizeof(label),
			   out, 40));
	CHECK_HEX(out, 40,
		  "a543fa3451729f0bcff1ba710b185a5ed1616fe6"
		  "b70bafee056af8312251e206e4d61e1f8485b759");
}

/* Every output length is a prefix of the longer outputs. */
static void test_prf_prefix(void)
{
	uint8_t key[40], label[25], full[100], out[100];
	size_t n;

	seq(key, 7, sizeof(key));
	hex2bin(PRF_LABEL, label, sizeof(label));
	CHECK_OK(mikey_prf(MIKEY_PRF_MIKEY1, key, sizeof(key), label,
			   sizeof(label), full, sizeof(full)));
	for (n = 1; n < sizeof(full); n++) {
		CHECK_OK(mikey_prf(MIKEY_PRF_MIKEY1, key, sizeof(key), label,
				   sizeof(label), out, n));
		CHECK(memcmp(out, full, n) == 0);
	}
	CHECK_OK(mikey_prf(MIKEY_PRF_HMAC_SHA256, key, sizeof(key), label,
			   sizeof(label), full, sizeof(full)));
	CHECK_OK(mikey_prf(MIKEY_PRF_HMAC_SHA256, key, sizeof(key), label,
			   sizeof(label), out, 33));
	CHECK(memcmp(out, full, 33) == 0);
}

/* ---- key derivations (worked-examples.md §2) ----------------------------- */

static void keys_check(const struct mikey_msg_keys *k, const char *encr,
		       const char *auth, const char *salt)
{
	CHECK_HEX(k->encr, 16, encr);
	CHECK_HEX(k->auth, 20, auth);
	CHECK_HEX(k->salt, 14, salt);
}

static void iv_check(const struct mikey_msg_keys *k, uint32_t csb, uint64_t t,
		     const char *want)
{
	uint8_t iv[16];

	mikey_kemac_iv(k->salt, csb, t, iv);
	CHECK_HEX(iv, 16, want);
}

static void test_ticket_keys(void)
{
	struct mikey_msg_keys k;
	uint8_t label[27], out[16];

	CHECK_OK(mikey_derive_ticket_keys(
		MIKEY_PRF_MIKEY1, tpk, 16, SL(rand_ticket),
		MIKEY_ENCR_AES_CM_128, MIKEY_MAC_HMAC_SHA1_160, &k));
	keys_check(&k, "97d759d7ac3250b363622f4a8edb98d3",
		   "b621fb95fcf6f026384a26a7897fcfbed36d41ce",
		   "3838c627bed9d081b3fa99894a32");
	iv_check(&k, MIKEY_CSB_ID_TICKET, 0xe98c41c100000000ull,
		 "383839d84126390df23b99894a320000");
	/* the label of the table, through the raw PRF */
	hex2bin("150533e1ffffffffff0510505152535455565758595a5b5c5d5e5f", label,
		sizeof(label));
	CHECK_OK(mikey_prf(MIKEY_PRF_MIKEY1, tpk, 16, label, sizeof(label), out,
			   16));
	CHECK_HEX(out, 16, "97d759d7ac3250b363622f4a8edb98d3");
	mikey_msg_keys_wipe(&k);
}

static void test_mpk(void)
{
	uint8_t out[16];

	CHECK_OK(mikey_derive_mpk(MIKEY_PRF_MIKEY1, mpk, 16, SL(rand_ticket),
				  false, out));
	CHECK_HEX(out, 16, "ce8dd317c23951ba86fc68dd137d1a9a");
	CHECK_OK(mikey_derive_mpk(MIKEY_PRF_MIKEY1, mpk, 16, SL(rand_ticket),
				  true, out));
	CHECK_HEX(out, 16, "9bc32a387485d6edf6fb4878643fb629");
}

static void test_request_keys(void)
{
	struct mikey_msg_keys k;

	CHECK_OK(mikey_derive_msg_keys(
		MIKEY_PRF_MIKEY1, psk_alice, 16, 0x0a0b0c0d, MIKEY_LBL_INIT,
		SL(randri_req), none, MIKEY_ENCR_AES_CM_128,
		MIKEY_MAC_HMAC_SHA1_160, &k));
	CHECK_HEX(k.auth, 20, "40887f7139c50548c488b390184eb8678b3eaaea");
	CHECK_OK(mikey_derive_msg_keys(
		MIKEY_PRF_MIKEY1, psk_alice, 16, 0x0a0b0c0d, MIKEY_LBL_RESP,
		SL(randri_req), none, MIKEY_ENCR_AES_CM_128,
		MIKEY_MAC_HMAC_SHA1_160, &k));
	keys_check(&k, "ce8fd7442b756517b33f26484b13742d",
		   "c708a3d52727bd1a47ce549bbe88957c320b69b1",
		   "4bd7161b22cdd3e504a82b2537ac");
	iv_check(&k, 0x0a0b0c0d, 0xe98c41c100000000ull,
		 "4bd71c102ec03a6945692b2537ac0000");
	mikey_msg_keys_wipe(&k);
}

static void test_transfer_keys(void)
{
	struct mikey_msg_keys k;
	uint8_t mpki[16];

	CHECK_OK(mikey_derive_mpk(MIKEY_PRF_MIKEY1, mpk, 16, SL(rand_ticket),
				  false, mpki));
	CHECK_OK(mikey_derive_msg_keys(MIKEY_PRF_MIKEY1, mpki, 16, 0x1a2b3c4d,
				       MIKEY_LBL_INIT, SL(randri_tr), none,
				       MIKEY_ENCR_AES_CM_128,
				       MIKEY_MAC_HMAC_SHA1_160, &k));
	keys_check(&k, "81685ba83ef211b620a6bb52b23bf162",
		   "ef63a4c54d198478b8d8c2f4788ae58bbf190b0d",
		   "4760d0c424275e64a9b5875ef654");
	CHECK_OK(mikey_derive_msg_keys(MIKEY_PRF_MIKEY1, mpki, 16, 0x1a2b3c4d,
				       MIKEY_LBL_RESP, SL(randri_tr), none,
				       MIKEY_ENCR_AES_CM_128,
				       MIKEY_MAC_HMAC_SHA1_160, &k));
	keys_check(&k, "5afbaa4cb0ae205a3ca40b632bd80654",
		   "3301aef5b370f308cb77f6c889f012db40095fca",
		   "b648c8a33bf723b109dda32ae0b8");
	iv_check(&k, 0x1a2b3c4d, 0xe98c41c500000000ull,
		 "b648d28807baca3d4818a32ae0b80000"); /* §4.7 */
	iv_check(&k, 0x1a2b3c4d, 0xe98c441800000000ull,
		 "b648d28807baca3d4dc5a32ae0b80000"); /* §9 */
	iv_check(&k, 0x1a2b3c4d, 0xe98c467000000000ull,
		 "b648d28807baca3d4fada32ae0b80000"); /* §10 */
	mikey_msg_keys_wipe(&k);
}

static void test_resolve_keys(void)
{
	struct mikey_msg_keys k;

	CHECK_OK(mikey_derive_msg_keys(MIKEY_PRF_MIKEY1, psk_bob, 16,
				       0x2a2b2c2d, MIKEY_LBL_INIT, none,
				       SL(randrr_res), MIKEY_ENCR_AES_CM_128,
				       MIKEY_MAC_HMAC_SHA1_160, &k));
	CHECK_HEX(k.auth, 20, "832066dfb455300c078d5a8540f5f69e6cc9c27f");
	CHECK_OK(mikey_derive_msg_keys(MIKEY_PRF_MIKEY1, psk_bob, 16,
				       0x2a2b2c2d, MIKEY_LBL_RESP, none,
				       SL(randrr_res), MIKEY_ENCR_AES_CM_128,
				       MIKEY_MAC_HMAC_SHA1_160, &k));
	keys_check(&k, "e3a3dec9c4d92d97686b63ba4ecac795",
		   "c43b7b79244cbdc1b8ed493a72c2e0bff37833e8",
		   "cbcbf9df6c949801b60690417575");
	iv_check(&k, 0x2a2b2c2d, 0xe98c41c400000000ull,
		 "cbcbd3f440b9718df7c2904175750000");
	mikey_msg_keys_wipe(&k);
}

static void tek_check(const uint8_t *key, uint8_t cs, const char *tek,
		      const char *salt)
{
	uint8_t out[16];

	CHECK_OK(mikey_derive_tek(MIKEY_PRF_MIKEY1, key, 16, MIKEY_C_TEK, cs,
				  SL(randri_tr), none, out, 16));
	CHECK_HEX(out, 16, tek);
	CHECK_OK(mikey_derive_tek(MIKEY_PRF_MIKEY1, key, 16, MIKEY_C_TEK_SALT,
				  cs, SL(randri_tr), none, out, 14));
	CHECK_HEX(out, 14, salt);
}

/* §2 (ticket TGK) and §9 (new TGK c0..cf) */
static void test_teks(void)
{
	tek_check(tgk, 1, "5ccded59996463f8cac7184496234c82",
		  "43fda1b9d682f17948e8e50d191e");
	tek_check(tgk, 2, "5120bd2cea3bd641936d70ada585bf94",
		  "d9d6f3c3daa692bf910505cb1b38");
	tek_check(tgk_new, 1, "c392805e2e0962d8cb0d15d2acfd8e7d",
		  "d69ed4a1422aab0f3768c686bbb1");
	tek_check(tgk_new, 2, "584c4a7a21e91fc290d2c6c93e6a42d9",
		  "ba922f7d5b1ae020b3e7a9192bdc");
}

/* §6 key forking and the Vr key */
static void test_fork(void)
{
	uint8_t mpkr[16], out[20];

	hex2bin("9bc32a387485d6edf6fb4878643fb629", mpkr, sizeof(mpkr));
	CHECK_OK(mikey_fork(MIKEY_PRF_MIKEY1, MIKEY_C_FORK_MPKR, mpkr, 16,
			    STR("sip:bob@example.org"), SL(randrkms), out));
	CHECK_HEX(out, 16, "0f1ebd529413b77658709a17820a3c5f");
	CHECK_OK(mikey_fork(MIKEY_PRF_MIKEY1, MIKEY_C_FORK_TGK, tgk, 16,
			    STR("sip:bob@example.org"), SL(randrkms), out));
	CHECK_HEX(out, 16, "c2df5039aeb5d0f21df3bf2d8f7dfb0f");
	CHECK_OK(mikey_derive_vr_key(MIKEY_PRF_MIKEY1, mpkr, 16,
				     MIKEY_MAC_HMAC_SHA1_160, out));
	CHECK_HEX(out, 20, "9832043e080fc61fc21dcbc359e2cef0e4f7ee26");
	/* in place: TGK' over TGK */
	memcpy(out, tgk, 16);
	CHECK_OK(mikey_fork(MIKEY_PRF_MIKEY1, MIKEY_C_FORK_TGK, out, 16,
			    STR("sip:bob@example.org"), SL(randrkms), out));
	CHECK_HEX(out, 16, "c2df5039aeb5d0f21df3bf2d8f7dfb0f");
}

/* §7 */
static void test_iv_example(void)
{
	uint8_t salt[14], iv[16];

	seq(salt, 1, sizeof(salt));
	mikey_kemac_iv(salt, 0x12345678, 0xe98c41c000000000ull, iv);
	CHECK_HEX(iv, 16, "01021130537eee8448ca0b0c0d0e0000");
}

static void test_null_algs(void)
{
	struct mikey_msg_keys k;
	uint8_t zero[32] = { 0 };

	CHECK_OK(mikey_derive_msg_keys(MIKEY_PRF_MIKEY1, psk_alice, 16, 1,
				       MIKEY_LBL_INIT, SL(randri_req), none,
				       MIKEY_ENCR_NULL, MIKEY_MAC_NULL, &k));
	CHECK(k.encr_alg == MIKEY_ENCR_NULL && k.mac_alg == MIKEY_MAC_NULL);
	CHECK(memcmp(k.encr, zero, 32) == 0 && memcmp(k.auth, zero, 32) == 0);
	CHECK(memcmp(k.salt, zero, 14) == 0);
	/* KW: 64-bit salt = the first 8 bytes of the CM salt */
	CHECK_OK(mikey_derive_msg_keys(
		MIKEY_PRF_MIKEY1, psk_alice, 16, 0x0a0b0c0d, MIKEY_LBL_RESP,
		SL(randri_req), none, MIKEY_ENCR_AES_KW_128, MIKEY_MAC_NULL,
		&k));
	CHECK_HEX(k.encr, 16, "ce8fd7442b756517b33f26484b13742d");
	CHECK_HEX(k.salt, 14, "4bd7161b22cdd3e5000000000000");
	CHECK(memcmp(k.auth, zero, 32) == 0);
	CHECK(mikey_encr_key_len(MIKEY_ENCR_AES_CM_256) == 32);
	CHECK(mikey_encr_salt_len(MIKEY_ENCR_AES_KW_128) == 8);
	CHECK(mikey_mac_len(MIKEY_MAC_NULL) == 0);
	CHECK(mikey_mac_len(MIKEY_MAC_HMAC_SHA256_256) == 32);
	mikey_msg_keys_wipe(&k);
}

/* ---- keys of the worked example, by name ---------------------------------- */

enum keysrc {
	K_TICKET,   /* TPK, RAND of the Ticket Data */
	K_REQ_INIT, /* Alice PSK, dir 0x01 */
	K_REQ_RESP, /* Alice PSK, dir 0x02 */
	K_RES_INIT, /* Bob PSK, dir 0x01 */
	K_RES_RESP, /* Bob PSK, dir 0x02 */
	K_TR_INIT,  /* MPKi, dir 0x01 */
	K_TR_RESP,  /* MPKi, dir 0x02 (also every CSB update, §8) */
};

static void keys_get(enum keysrc src, struct mikey_msg_keys *k)
{
	const enum mikey_encr e = MIKEY_ENCR_AES_CM_128;
	const enum mikey_mac m = MIKEY_MAC_HMAC_SHA1_160;
	const enum mikey_prf f = MIKEY_PRF_MIKEY1;
	uint8_t mpki[16];
	enum cc_err err;

	CHECK_OK(mikey_derive_mpk(f, mpk, 16, SL(rand_ticket), false, mpki));
	switch (src) {
	case K_TICKET:
		err = mikey_derive_ticket_keys(f, tpk, 16, SL(rand_ticket), e,
					       m, k);
		break;
	case K_REQ_INIT:
	case K_REQ_RESP:
		err = mikey_derive_msg_keys(f, psk_alice, 16, 0x0a0b0c0d,
					    src == K_REQ_INIT ? 1 : 2,
					    SL(randri_req), none, e, m, k);
		break;
	case K_RES_INIT:
	case K_RES_RESP:
		err = mikey_derive_msg_keys(f, psk_bob, 16, 0x2a2b2c2d,
					    src == K_RES_INIT ? 1 : 2, none,
					    SL(randrr_res), e, m, k);
		break;
	default:
		err = mikey_derive_msg_keys(f, mpki, 16, 0x1a2b3c4d,
					    src == K_TR_INIT ? 1 : 2,
					    SL(randri_tr), none, e, m, k);
		break;
	}
	CHECK_OK(err);
}

/* ---- KEMAC AES-CM against the messages of §4, §9, §10 --------------------- */

#define PLAIN_TICKET                                                 \
	"14610010303132333435363738393a3b3c3d3e3f040000000000010010" \
	"404142434445464748494a4b4c4d4e4f0400000001"
#define PLAIN_MPKI                                                   \
	"14610010ce8dd317c23951ba86fc68dd137d1a9a040000000000010010" \
	"404142434445464748494a4b4c4d4e4f0400000001"

struct kemac_vec {
	const char *name;
	const char *msg; /* message holding the KEMAC */
	size_t off, len; /* its Encr data */
	enum keysrc keys;
	uint32_t csb;
	uint64_t t; /* T of the carrying message (A2) */
	const char *plain;
};

static const struct kemac_vec kemac_vecs[] = {
	{ "ticket", MSG_REQUEST_RESP, 0x00ad, 50, K_TICKET, MIKEY_CSB_ID_TICKET,
	  0xe98c41c100000000ull, PLAIN_TICKET },
	{ "REQUEST_RESP", MSG_REQUEST_RESP, 0x0106, 50, K_REQ_RESP, 0x0a0b0c0d,
	  0xe98c41c100000000ull, PLAIN_MPKI },
	{ "RESOLVE_RESP", MSG_RESOLVE_RESP, 0x0030, 50, K_RES_RESP, 0x2a2b2c2d,
	  0xe98c41c400000000ull, PLAIN_MPKI },
	{ "TRANSFER_RESP 4.7", MSG_TRANSFER_RESP_GK, 0x004e, 41, K_TR_RESP,
	  0x1a2b3c4d, 0xe98c41c500000000ull,
	  "00310010a0a1a2a3a4a5a6a7a8a9aaabacadaeaf000e"
	  "b0b1b2b3b4b5b6b7b8b9babbbcbd0400000003" },
	{ "update 9.1", MSG_UPD9_INIT, 0x0068, 25, K_TR_RESP, 0x1a2b3c4d,
	  0xe98c441800000000ull,
	  "00010010c0c1c2c3c4c5c6c7c8c9cacbcccdcecf0400000002" },
	{ "update 10.1", MSG_UPD10_INIT, 0x0068, 41, K_TR_RESP, 0x1a2b3c4d,
	  0xe98c467000000000ull,
	  "00310010d0d1d2d3d4d5d6d7d8d9dadbdcdddedf000e"
	  "e0e1e2e3e4e5e6e7e8e9eaebeced0400000002" },
};

static void kemac_vec_run(const struct kemac_vec *v)
{
	struct mikey_msg_keys k;
	uint8_t msg[512], plain[128], out[128];
	size_t mlen = hex2bin(v->msg, msg, sizeof(msg));
	size_t plen = hex2bin(v->plain, plain, sizeof(plain));
	size_t n = 0;

	CHECK(v->off + v->len <= mlen && plen == v->len);
	/* Encr data len (16 bits) sits just before Encr data */
	CHECK(((size_t)msg[v->off - 2] << 8 | msg[v->off - 1]) == v->len);
	keys_get(v->keys, &k);
	CHECK_OK(mikey_kemac_decrypt(&k, v->csb, v->t, msg + v->off, v->len,
				     out, sizeof(out), &n));
	CHECK(n == plen);
	CHECK_HEX(out, n, v->plain);
	CHECK_OK(mikey_kemac_encrypt(&k, v->csb, v->t, plain, plen, out,
				     sizeof(out), &n));
	CHECK(n == v->len && memcmp(out, msg + v->off, n) == 0);
	/* in place */
	CHECK_OK(mikey_kemac_decrypt(&k, v->csb, v->t, out, n, out, sizeof(out),
				     &n));
	CHECK(n == plen && memcmp(out, plain, n) == 0);
	mikey_msg_keys_wipe(&k);
}

static void test_kemac_vectors(void)
{
	size_t i;

	for (i = 0; i < sizeof(kemac_vecs) / sizeof(kemac_vecs[0]); i++)
		kemac_vec_run(&kemac_vecs[i]);
}

/* ---- message MACs of §3 / §4 -------------------------------------------- */

struct mac_vec {
	const char *msg;
	size_t a, b;      /* covered: msg[a..b) */
	size_t c, d;      /* then msg[c..d) (TRANSFER_INIT skips 2 bytes) */
	const char *prev; /* then this whole message, or NULL */
	const char *id1, *id2;
	enum keysrc keys;
	size_t mac_off;
};

#define ALICE "sip:alice@example.org"
#define BOB "sip:bob@example.org"
#define KMS "sip:kms.example.org"

static const struct mac_vec mac_vecs[] = {
	{ MSG_REQUEST_INIT, 0, 229, 0, 0, NULL, ALICE, KMS, K_REQ_INIT, 229 },
	{ MSG_REQUEST_RESP, 0, 315, 0, 0, MSG_REQUEST_INIT, NULL, NULL,
	  K_REQ_RESP, 315 },
	/* base ticket V: TICKET from Ticket Type to the MAC (191 bytes) */
	{ MSG_REQUEST_RESP, 0x2d, 0xec, 0, 0, NULL, NULL, NULL, K_TICKET,
	  0xec },
	{ MSG_TRANSFER_INIT, 0, 0x166, 0x168, 362, NULL, ALICE, BOB, K_TR_INIT,
	  362 },
	{ MSG_RESOLVE_INIT, 0, 317, 0, 0, NULL, BOB, KMS, K_RES_INIT, 317 },
	{ MSG_RESOLVE_RESP, 0, 101, 0, 0, MSG_RESOLVE_INIT, NULL, NULL,
	  K_RES_RESP, 101 },
	{ MSG_TRANSFER_RESP, 0, 76, 0, 0, MSG_TRANSFER_INIT, NULL, NULL,
	  K_TR_RESP, 76 },
	{ MSG_TRANSFER_RESP_GK, 0, 122, 0, 0, MSG_TRANSFER_INIT, NULL, NULL,
	  K_TR_RESP, 122 },
	{ MSG_UPD9_INIT, 0, 132, 0, 0, NULL, ALICE, BOB, K_TR_RESP, 132 },
	{ MSG_UPD9_RESP, 0, 76, 0, 0, MSG_UPD9_INIT, NULL, NULL, K_TR_RESP,
	  76 },
	{ MSG_UPD10_INIT, 0, 148, 0, 0, NULL, ALICE, BOB, K_TR_RESP, 148 },
	{ MSG_UPD10_RESP, 0, 78, 0, 0, MSG_UPD10_INIT, NULL, NULL, K_TR_RESP,
	  78 },
};

static size_t mac_parts(const struct mac_vec *v, const uint8_t *msg,
			const uint8_t *prev, size_t plen,
			struct cc_slice *parts)
{
	size_t n = 0;

	parts[n++] = (struct cc_slice){ msg + v->a, v->b - v->a };
	if (v->d > v->c)
		parts[n++] = (struct cc_slice){ msg + v->c, v->d - v->c };
	if (v->prev)
		parts[n++] = (struct cc_slice){ prev, plen };
	if (v->id1) {
		parts[n++] = (struct cc_slice){ (const uint8_t *)v->id1,
						strlen(v->id1) };
		parts[n++] = (struct cc_slice){ (const uint8_t *)v->id2,
						strlen(v->id2) };
	}
	return n;
}

static void mac_vec_run(const struct mac_vec *v)
{
	const enum mikey_mac alg = MIKEY_MAC_HMAC_SHA1_160;
	struct mikey_msg_keys k;
	struct cc_slice parts[5];
	uint8_t msg[512], prev[512], mac[20];
	size_t mlen = hex2bin(v->msg, msg, sizeof(msg));
	size_t plen = v->prev ? hex2bin(v->prev, prev, sizeof(prev)) : 0;
	size_t n = mac_parts(v, msg, prev, plen, parts);

	CHECK(v->mac_off + 20 <= mlen);
	keys_get(v->keys, &k);
	CHECK_OK(mikey_mac_compute(alg, k.auth, 20, parts, n, mac));
	CHECK(memcmp(mac, msg + v->mac_off, 20) == 0);
	CHECK_OK(mikey_mac_verify(alg, k.auth, 20, parts, n, msg + v->mac_off,
				  20));
	mikey_msg_keys_wipe(&k);
}

static void test_message_macs(void)
{
	size_t i;

	for (i = 0; i < sizeof(mac_vecs) / sizeof(mac_vecs[0]); i++)
		mac_vec_run(&mac_vecs[i]);
}

/* ---- AES-KW (RFC 3394, KW-PAD of spec/ambiguities.md A28) ---------------- */

static void kw_keys(struct mikey_msg_keys *k)
{
	CHECK_OK(mikey_derive_msg_keys(
		MIKEY_PRF_MIKEY1, psk_alice, 16, 0x0a0b0c0d, MIKEY_LBL_RESP,
		SL(randri_req), none, MIKEY_ENCR_AES_KW_128,
		MIKEY_MAC_HMAC_SHA1_160, k));
}

/* RFC 3394 §4.1: 128-bit KEK, 128-bit data, default IV A6A6A6A6A6A6A6A6 */
static void test_kw_rfc3394(void)
{
	struct mikey_msg_keys k = { .encr_alg = MIKEY_ENCR_AES_KW_128 };
	uint8_t data[16], out[40], back[40];
	size_t n = 0, m = 0;

	seq(k.encr, 0, 16);
	memset(k.salt, 0xa6, 8);
	hex2bin("00112233445566778899aabbccddeeff", data, sizeof(data));
	CHECK_OK(mikey_kemac_encrypt(&k, 0, 0, data, 16, out, sizeof(out), &n));
	CHECK_HEX(out, n,
		  "1fa68b0a8112b447aef34bd8fb5a7b82"
		  "9d3e862371d2cfe5");
	CHECK_OK(mikey_kemac_decrypt(&k, 0, 0, out, n, back, sizeof(back), &m));
	CHECK(m == 16 && memcmp(back, data, 16) == 0);
}

/* OpenSSL's own RFC 3394 wrap with IV = salt, as an independent check. */
static size_t kw_openssl(const struct mikey_msg_keys *k, const uint8_t *in,
			 size_t len, uint8_t *out)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-128-WRAP", NULL);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0;

	CHECK(c && ctx);
	CHECK(EVP_EncryptInit_ex(ctx, c, NULL, k->encr, k->salt) == 1);
	CHECK(EVP_EncryptUpdate(ctx, out, &n1, in, (int)len) == 1);
	CHECK(EVP_EncryptFinal_ex(ctx, out + n1, &n2) == 1);
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(c);
	return (size_t)(n1 + n2);
}

static void kw_roundtrip(const struct mikey_msg_keys *k, size_t len)
{
	uint8_t in[64], padded[64] = { 0 }, out[96], ref[96], back[96];
	size_t want = (len + 7) / 8 * 8, n = 0, m = 0;

	want = want < 16 ? 16 : want;
	seq(in, (uint8_t)len, len);
	memcpy(padded, in, len);
	CHECK_OK(mikey_kemac_encrypt(k, 1, 2, in, len, out, len + 24, &n));
	CHECK(n == want + 8);
	CHECK(kw_openssl(k, padded, want, ref) == n);
	CHECK(memcmp(ref, out, n) == 0);
	CHECK_OK(mikey_kemac_decrypt(k, 1, 2, out, n, back, sizeof(back), &m));
	CHECK(m == want && memcmp(back, padded, want) == 0);
	/* too little room */
	CHECK_ERR(mikey_kemac_encrypt(k, 1, 2, in, len, out, want + 7, &n),
		  CC_ERR_SPACE);
	CHECK_ERR(mikey_kemac_decrypt(k, 1, 2, out, want + 8, back, want - 1,
				      &m),
		  CC_ERR_SPACE);
}

static void test_kw_pad(void)
{
	struct mikey_msg_keys k;
	size_t len;

	kw_keys(&k);
	for (len = 1; len <= 64; len++)
		kw_roundtrip(&k, len);
	mikey_msg_keys_wipe(&k);
}

static void test_kw_reject(void)
{
	struct mikey_msg_keys k;
	uint8_t in[25], out[64], back[64];
	size_t n = 0, m = 0, bit, len;

	kw_keys(&k);
	seq(in, 1, sizeof(in));
	CHECK_OK(mikey_kemac_encrypt(&k, 0, 0, in, sizeof(in), out, sizeof(out),
				     &n));
	CHECK(n == 40);
	for (bit = 0; bit < n * 8; bit++) {
		out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK_ERR(mikey_kemac_decrypt(&k, 0, 0, out, n, back,
					      sizeof(back), &m),
			  CC_ERR_BAD_MAC);
		out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (len = 0; len < n; len++) {
		if (len % 8 == 0 && len >= 24)
			continue;
		CHECK_ERR(mikey_kemac_decrypt(&k, 0, 0, out, len, back,
					      sizeof(back), &m),
			  CC_ERR_MALFORMED);
	}
	/* a shorter, well-formed length fails the integrity check */
	CHECK_ERR(mikey_kemac_decrypt(&k, 0, 0, out, 32, back, sizeof(back),
				      &m),
		  CC_ERR_BAD_MAC);
	/* wrong salt (= wrong IV) */
	k.salt[7] ^= 1;
	CHECK_ERR(mikey_kemac_decrypt(&k, 0, 0, out, n, back, sizeof(back), &m),
		  CC_ERR_BAD_MAC);
	mikey_msg_keys_wipe(&k);
}

/* ---- AES-CM-256 and HMAC-SHA-256-256 ---------------------------------------- */

static void cm_reference(const struct mikey_msg_keys *k, uint32_t csb,
			 uint64_t t, const uint8_t *in, size_t len,
			 uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t iv[16];
	int n = 0;

	mikey_kemac_iv(k->salt, csb, t, iv);
	CHECK(ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, k->encr,
					iv) == 1);
	CHECK(EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1);
	EVP_CIPHER_CTX_free(ctx);
}

static void test_cm256_sha256(void)
{
	struct mikey_msg_keys k;
	uint8_t in[300], out[300], ref[300], back[300], mac[32];
	struct cc_slice part = SL(in);
	size_t n = 0, m = 0;

	seq(in, 3, sizeof(in));
	CHECK_OK(mikey_derive_msg_keys(MIKEY_PRF_HMAC_SHA256, psk_alice, 16, 7,
				       MIKEY_LBL_INIT, SL(randri_req),
				       SL(randrr_res), MIKEY_ENCR_AES_CM_256,
				       MIKEY_MAC_HMAC_SHA256_256, &k));
	CHECK_OK(mikey_kemac_encrypt(&k, 7, 0x1234, in, sizeof(in), out,
				     sizeof(out), &n));
	cm_reference(&k, 7, 0x1234, in, sizeof(in), ref);
	CHECK(n == sizeof(in) && memcmp(out, ref, n) == 0);
	CHECK(memcmp(out, in, n) != 0);
	CHECK_OK(mikey_kemac_decrypt(&k, 7, 0x1234, out, n, back, sizeof(back),
				     &m));
	CHECK(m == n && memcmp(back, in, n) == 0);
	CHECK_OK(mikey_mac_compute(MIKEY_MAC_HMAC_SHA256_256, k.auth, 32, &part,
				   1, mac));
	CHECK_OK(mikey_mac_verify(MIKEY_MAC_HMAC_SHA256_256, k.auth, 32, &part,
				  1, mac, 32));
	CHECK(HMAC(EVP_sha256(), k.auth, 32, in, sizeof(in), ref, NULL));
	CHECK(memcmp(ref, mac, 32) == 0);
	mikey_msg_keys_wipe(&k);
}

/* NULL encryption copies (in place too). */
static void test_null_encr(void)
{
	struct mikey_msg_keys k = { .encr_alg = MIKEY_ENCR_NULL };
	uint8_t in[10], out[10];
	size_t n = 0;

	seq(in, 9, sizeof(in));
	CHECK_OK(mikey_kemac_encrypt(&k, 0, 0, in, 10, out, 10, &n));
	CHECK(n == 10 && memcmp(in, out, 10) == 0);
	CHECK_OK(mikey_kemac_decrypt(&k, 0, 0, out, 10, out, 10, &n));
	CHECK(n == 10 && memcmp(in, out, 10) == 0);
}

/* ---- HMAC: RFC 2202 / RFC 4231, split parts, long keys ------------------ */

static void test_hmac_vectors(void)
{
	struct cc_slice d = STR("what do ya want for nothing?");
	uint8_t mac[32];

	CHECK_OK(mikey_mac_compute(MIKEY_MAC_HMAC_SHA1_160,
				   (const uint8_t *)"Jefe", 4, &d, 1, mac));
	CHECK_HEX(mac, 20, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
	CHECK_OK(mikey_mac_compute(MIKEY_MAC_HMAC_SHA256_256,
				   (const uint8_t *)"Jefe", 4, &d, 1, mac));
	CHECK_HEX(mac, 32,
		  "5bdcc146bf60754e6a042426089575c7"
		  "5a003f089d2739839dec58b964ec3843");
}

static void test_hmac_vs_openssl(void)
{
	uint8_t key[131], data[200], mac[32], ref[32];
	struct cc_slice parts[3];
	size_t klen, cut;

	seq(key, 0x11, sizeof(key));
	seq(data, 0x22, sizeof(data));
	for (klen = 1; klen <= sizeof(key); klen += 13) {
		cut = klen % sizeof(data);
		parts[0] = (struct cc_slice){ data, cut };
		parts[1] = (struct cc_slice){ NULL, 0 };
		parts[2] = (struct cc_slice){ data + cut, sizeof(data) - cut };
		CHECK_OK(mikey_mac_compute(MIKEY_MAC_HMAC_SHA1_160, key, klen,
					   parts, 3, mac));
		HMAC(EVP_sha1(), key, (int)klen, data, sizeof(data), ref, NULL);
		CHECK(memcmp(mac, ref, 20) == 0);
		CHECK_OK(mikey_mac_compute(MIKEY_MAC_HMAC_SHA256_256, key, klen,
					   parts, 3, mac));
		HMAC(EVP_sha256(), key, (int)klen, data, sizeof(data), ref,
		     NULL);
		CHECK(memcmp(mac, ref, 32) == 0);
	}
}

/* ---- MAC verification ----------------------------------------------------- */

static void verify_flips(enum mikey_mac alg, size_t len)
{
	uint8_t key[32], data[77], mac[32];
	struct cc_slice part = SL(data);
	size_t bit;

	seq(key, 5, sizeof(key));
	seq(data, 6, sizeof(data));
	CHECK_OK(mikey_mac_compute(alg, key, len, &part, 1, mac));
	CHECK_OK(mikey_mac_verify(alg, key, len, &part, 1, mac, len));
	for (bit = 0; bit < len * 8; bit++) {
		mac[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK_ERR(mikey_mac_verify(alg, key, len, &part, 1, mac, len),
			  CC_ERR_BAD_MAC);
		mac[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CHECK_ERR(mikey_mac_verify(alg, key, len, &part, 1, mac, len - 1),
		  CC_ERR_BAD_MAC);
	CHECK_ERR(mikey_mac_verify(alg, key, len, &part, 1, mac, 0),
		  CC_ERR_BAD_MAC);
	CHECK_ERR(mikey_mac_verify(alg, key, len, &part, 1, mac,
				   len == 20 ? 32 : 20),
		  CC_ERR_BAD_MAC);
	/* a changed message byte */
	data[40] ^= 0x80;
	CHECK_ERR(mikey_mac_verify(alg, key, len, &part, 1, mac, len),
		  CC_ERR_BAD_MAC);
}

static void test_mac_verify(void)
{
	verify_flips(MIKEY_MAC_HMAC_SHA1_160, 20);
	verify_flips(MIKEY_MAC_HMAC_SHA256_256, 32);
	/* NULL MAC: no MAC field, nothing to compare (policy decides) */
	CHECK_OK(mikey_mac_verify(MIKEY_MAC_NULL, NULL, 0, NULL, 0, NULL, 0));
	CHECK_ERR(mikey_mac_verify(MIKEY_MAC_NULL, NULL, 0, NULL, 0,
				   (const uint8_t *)"x", 1),
		  CC_ERR_BAD_MAC);
}

/* ---- argument errors ---------------------------------------------------- */

static void test_prf_errors(void)
{
	uint8_t key[16] = { 1 }, out[16];
	struct mikey_msg_keys k;
	uint8_t big[256] = { 0 };

	CHECK_ERR(mikey_prf((enum mikey_prf)2, key, 16, key, 1, out, 16),
		  CC_ERR_UNSUPPORTED);
	CHECK_ERR(mikey_prf(MIKEY_PRF_MIKEY1, key, 0, key, 1, out, 16),
		  CC_ERR_INVAL);
	CHECK_ERR(mikey_prf(MIKEY_PRF_MIKEY1, NULL, 16, key, 1, out, 16),
		  CC_ERR_INVAL);
	CHECK_ERR(mikey_prf(MIKEY_PRF_MIKEY1, key, 16, key, 1, out, 0),
		  CC_ERR_INVAL);
	CHECK_ERR(mikey_prf(MIKEY_PRF_MIKEY1, key, 16, NULL, 3, out, 16),
		  CC_ERR_INVAL);
	CHECK_ERR(mikey_derive_msg_keys(
			  MIKEY_PRF_MIKEY1, key, 16, 1, 3, SL(randri_req), none,
			  MIKEY_ENCR_AES_CM_128, MIKEY_MAC_HMAC_SHA1_160, &k),
		  CC_ERR_INVAL);
	CHECK_ERR(mikey_derive_msg_keys(
			  MIKEY_PRF_MIKEY1, key, 16, 1, 1, SL(randri_req), none,
			  (enum mikey_encr)4, MIKEY_MAC_HMAC_SHA1_160, &k),
		  CC_ERR_UNSUPPORTED);
	CHECK_ERR(mikey_derive_msg_keys(
			  MIKEY_PRF_MIKEY1, key, 16, 1, 1, SL(randri_req), none,
			  MIKEY_ENCR_AES_CM_128, (enum mikey_mac)3, &k),
		  CC_ERR_UNSUPPORTED);
	CHECK_ERR(mikey_derive_msg_keys(MIKEY_PRF_MIKEY1, key, 16, 1, 1,
					SL(big), none, MIKEY_ENCR_AES_CM_128,
					MIKEY_MAC_HMAC_SHA1_160, &k),
		  CC_ERR_INVAL);
	CHECK_ERR(mikey_derive_vr_key(MIKEY_PRF_MIKEY1, key, 16, MIKEY_MAC_NULL,
				      out),
		  CC_ERR_UNSUPPORTED);
	CHECK_ERR(mikey_fork(MIKEY_PRF_MIKEY1, MIKEY_C_TEK, key, 16, STR(BOB),
			     SL(randrkms), out),
		  CC_ERR_INVAL);
	CHECK_ERR(mikey_derive_tek(MIKEY_PRF_MIKEY1, key, 16, MIKEY_C_TEK, 1,
				   none, none, out, 0),
		  CC_ERR_INVAL);
}

static void test_kemac_errors(void)
{
	struct mikey_msg_keys k;
	uint8_t in[32] = { 0 }, out[64];
	size_t n = 0;

	keys_get(K_TR_RESP, &k);
	CHECK_ERR(mikey_kemac_encrypt(&k, 1, 2, in, 32, out, 31, &n),
		  CC_ERR_SPACE);
	CHECK_ERR(mikey_kemac_decrypt(&k, 1, 2, in, 32, out, 31, &n),
		  CC_ERR_SPACE);
	/* RFC 3830 §6.2: an update may carry an empty KEMAC (CM/NULL) */
	n = 99;
	CHECK_OK(mikey_kemac_encrypt(&k, 1, 2, in, 0, out, 64, &n));
	CHECK(n == 0);
	n = 99;
	CHECK_OK(mikey_kemac_decrypt(&k, 1, 2, in, 0, out, 64, &n));
	CHECK(n == 0);
	CHECK_ERR(mikey_kemac_encrypt(&k, 1, 2, NULL, 5, out, 64, &n),
		  CC_ERR_INVAL);
	CHECK_ERR(mikey_kemac_encrypt(NULL, 1, 2, in, 5, out, 64, &n),
		  CC_ERR_INVAL);
	k.encr_alg = (enum mikey_encr)9;
	CHECK_ERR(mikey_kemac_encrypt(&k, 1, 2, in, 32, out, 64, &n),
		  CC_ERR_UNSUPPORTED);
	CHECK_ERR(mikey_kemac_decrypt(&k, 1, 2, in, 32, out, 64, &n),
		  CC_ERR_UNSUPPORTED);
	CHECK_ERR(mikey_mac_compute((enum mikey_mac)7, k.auth, 20, NULL, 0,
				    out),
		  CC_ERR_UNSUPPORTED);
	CHECK_ERR(mikey_mac_compute(MIKEY_MAC_HMAC_SHA1_160, k.auth, 0, NULL, 0,
				    out),
		  CC_ERR_INVAL);
	mikey_msg_keys_wipe(&k);
}

/* ---- RFC 3711 App. B.3 SRTP KDF with plain AES-128-CTR ------------------ */

/*
 * RFC 3711 §4.3.1/§4.3.3: x = (label || r) XOR master_salt, key_id
 * right-aligned in the 112-bit salt (r = 0 here, 48 bits), IV = x * 2^16;
 * the key is the AES-CM keystream from that IV. The same counter-mode
 * keystream encrypts KEMACs (RFC 3830 §4.2.3).
 */
static void srtp_kdf(const uint8_t mk[16], const uint8_t ms[14], uint8_t label,
		     uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t iv[16] = { 0 }, zero[128] = { 0 };
	int n = 0;

	memcpy(iv, ms, 14);
	iv[7] ^= label;
	if (label == 0)
		CHECK_HEX(iv, 16, "0ec675ad498afeebb6960b3aabe60000");
	CHECK(ctx &&
	      EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, mk, iv) == 1);
	CHECK(EVP_EncryptUpdate(ctx, out, &n, zero, (int)len) == 1);
	EVP_CIPHER_CTX_free(ctx);
}

static void test_srtp_kdf(void)
{
	uint8_t mk[16], ms[14], out[94];

	hex2bin("e1f97a0d3e018be0d64fa32c06de4139", mk, sizeof(mk));
	hex2bin("0ec675ad498afeebb6960b3aabe6", ms, sizeof(ms));
	srtp_kdf(mk, ms, 0, out, 16);
	CHECK_HEX(out, 16, "c61e7a93744f39ee10734afe3ff7a087");
	srtp_kdf(mk, ms, 2, out, 14);
	CHECK_HEX(out, 14, "30cbbc08863d8c85d49db34a9ae1");
	srtp_kdf(mk, ms, 1, out, 94);
	CHECK_HEX(out, 94,
		  "cebe321f6ff7716b6fd4ab49af256a15"
		  "6d38baa48f0a0acf3c34e2359e6cdbce"
		  "e049646c43d9327ad175578ef7227098"
		  "6371c10c9a369ac2f94a8c5fbcdddc25"
		  "6d6e919a48b610ef17c2041e47403576"
		  "6b68642c59bbfc2f34db60dbdfb2");
}

int main(void)
{
	inputs_init();
	test_prf_vectors();
	test_prf_debug_values();
	test_prf_prefix();
	test_ticket_keys();
	test_mpk();
	test_request_keys();
	test_transfer_keys();
	test_resolve_keys();
	test_teks();
	test_fork();
	test_iv_example();
	test_null_algs();
	test_kemac_vectors();
	test_message_macs();
	test_kw_rfc3394();
	test_kw_pad();
	test_kw_reject();
	test_cm256_sha256();
	test_null_encr();
	test_hmac_vectors();
	test_hmac_vs_openssl();
	test_mac_verify();
	test_prf_errors();
	test_kemac_errors();
	test_srtp_kdf();
	CHECK_DONE();
}
