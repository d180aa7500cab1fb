/*
 * pcap_invite.c -- write Conclave's MIKEY messages, each inside the SDP
 * a=key-mgmt:mikey line (RFC 4567 §3) of a SIP INVITE over UDP 5060, as a
 * classic pcap, so that a dissector nobody here wrote (tshark) can judge the
 * wire format. Also writes a JSON file with the values we encoded, which
 * tests/interop_tshark.sh compares against what tshark decoded.
 *
 * Usage: pcap_invite OUT.pcap [OUT.json]
 *
 * The messages, one INVITE (one frame) each:
 *   1. the TRANSFER_INIT of spec/worked-examples.md §4.3 (mikey_examples);
 *   2. a CSB-update TRANSFER_INIT (RFC 6043 §5.2) with an SP payload and an
 *      AES-CM-128 KEMAC carrying a TEK+SALT key with an SPI;
 *   3. the same shape, but the KEMAC with NULL encryption (key data clear);
 *   4. an RFC 3830 PSK init message (data type 0) with an SRTP-ID map,
 *      T, RAND, ID, SP and a NULL-encrypted KEMAC (HMAC-SHA-1 MAC) holding
 *      a TEK+SALT and a TGK, both with an SPI;
 *   5. the REQUEST_RESP of worked-examples §4.2 (T, IDR, then TICKET);
 *   6. the REQUEST_INIT_PSK of worked-examples §4.1 (T, then RANDR).
 * 5 and 6 have an Empty CS ID map, so a dissector that does not know the
 * RFC 6043 payloads gets as far as the first of them.
 */
#include <conclave/mikey.h>
#include <conclave/mikey_examples.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	N_MSG = 6,
	MSG_CAP = 1024,
	B64_CAP = 4 * (MSG_CAP / 3 + 1) + 1,
	SIP_CAP = 4096,
	ETH_LEN = 14,
	IP_LEN = 20,
	UDP_LEN = 8,
	SIP_PORT = 5060,
	LINKTYPE_ETHERNET = 1,
	PCAP_SNAPLEN = 65535,
	T_UNIX0 = 1709294400, /* 2024-03-01 12:00:00 UTC, the frame times */
};

#define T0 0xe98c41c000000000ull /* the same instant as NTP-UTC */
#define SEC(n) ((uint64_t)(n) << 32)
#define S(a) ((struct cc_slice){ (a), sizeof(a) })

/* One message: its bytes, the struct it was built from (or, for the worked
 * example, decoded into), the KEMAC plaintext keys, and storage that the
 * struct's slices point into. */
struct item {
	const char *label;
	uint8_t buf[MSG_CAP];
	size_t len;
	struct mikey_msg msg;
	struct mikey_keys keys;
	bool have_keys;
	uint8_t sp[64];
	uint8_t kd[256];
	uint8_t mac[MIKEY_MAX_MAC];
};

static struct item items[N_MSG];

static const uint8_t psk[16] = {
	0x0c, 0x0c, 0x1a, 0x7e, 0x00, 0x01, 0x02, 0x03,
	0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b
};
static const uint8_t tek[16] = {
	0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
	0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf
};
static const uint8_t salt[14] = { 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6,
				  0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed };
static const uint8_t tek2[16] = { 0x5e, 0xc2, 0x37, 0x00, 0x11, 0x22,
				  0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				  0x99, 0xaa, 0xbb, 0xcc };
static const uint8_t salt2[14] = { 0x5a, 0x17, 0x00, 0x01, 0x02, 0x03, 0x04,
				   0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b };
static const uint8_t rand3830[16] = { 0x3a, 0x83, 0x0d, 0x00, 0x01, 0x02,
				      0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				      0x09, 0x0a, 0x0b, 0x0c };
static const uint8_t tgk3[16] = { 0x76, 0x6b, 0x00, 0x01, 0x02, 0x03,
				  0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
				  0x0a, 0x0b, 0x0c, 0x0d };
static const uint8_t spi_b[4] = { 0x00, 0x00, 0x00, 0x05 };
static const uint8_t spi_c[4] = { 0x00, 0x00, 0x00, 0x06 };
static const uint8_t mki_d[2] = { 0x00, 0x07 };
static const uint8_t mki_e[3] = { 0x00, 0x00, 0x08 };
static const char *const alice = "sip:alice@example.org";
static const char *const bob = "sip:bob@example.org";

static int fail(const char *what, enum cc_err err)
{
	fprintf(stderr, "pcap_invite: %s: %s\n", what, cc_strerror(err));
	return 1;
}

static void add_key(struct mikey_keys *ks, uint8_t type, struct cc_slice k,
		    struct cc_slice s, struct cc_slice spi)
{
	struct mikey_key *x = &ks->k[ks->n++];

	memset(x, 0, sizeof(*x));
	x->type = type;
	x->kv = MIKEY_KV_SPI;
	x->key = k;
	x->salt = s;
	x->spi = spi;
}

/* ---- the messages ---------------------------------------------------- */

/* A worked example as the library builds it; read back what it holds. */
static enum cc_err copy_example(struct item *it, const struct mikey_example *x)
{
	if (x->len > sizeof(it->buf))
		return CC_ERR_SPACE;
	memcpy(it->buf, x->buf, x->len);
	it->len = x->len;
	return mikey_decode(it->buf, it->len, &it->msg, NULL);
}

/* An SP payload (policy 0) from a default policy; params live in it->sp. */
static enum cc_err add_policy(struct item *it, bool gcm)
{
	struct mikey_srtp_policy pol;
	struct cc_wr wr;
	enum cc_err err;

	if (gcm)
		mikey_srtp_policy_aes_128_gcm(&pol);
	else
		mikey_srtp_policy_aes_cm_128_sha1_80(&pol);
	cc_wr_init(&wr, it->sp, sizeof(it->sp));
	err = mikey_srtp_policy_encode(&pol, &wr);
	if (err)
		return err;
	if (!mikey_add_sp(&it->msg.ch, 0, (struct cc_slice){ it->sp, wr.pos }))
		return CC_ERR_FULL;
	return CC_OK;
}

/* A CSB-update TRANSFER_INIT (RFC 6043 §5.2, like worked-examples §9.1):
 * HDR, T, IDRi, IDRr, SP, KEMAC, V. No RANDR and no TICKET, so every
 * payload is one RFC 3830 / RFC 6509 dissectors know. */
static enum cc_err build_update(struct item *it, uint32_t csb, uint64_t t,
				enum mikey_encr encr, bool gcm,
				struct cc_slice k, struct cc_slice s,
				struct cc_slice spi)
{
	struct mikey_msg_keys mk;
	struct mikey_seal_opts o = { .keys = &mk, .kemac = &it->keys };
	struct mikey_msg dec;
	struct cc_wr wr;
	enum cc_err err;

	err = mikey_derive_msg_keys(MIKEY_PRF_MIKEY1, psk, sizeof(psk), csb,
				    MIKEY_LBL_INIT, (struct cc_slice){ 0 },
				    (struct cc_slice){ 0 }, encr,
				    MIKEY_MAC_HMAC_SHA1_160, &mk);
	if (err)
		return err;
	mikey_msg_init(&it->msg, MIKEY_DT_TRANSFER_INIT, true, MIKEY_PRF_MIKEY1,
		       csb, MIKEY_MAP_EMPTY);
	mikey_add_t(&it->msg.ch, MIKEY_TS_NTP_UTC, t);
	mikey_add_idr(&it->msg.ch, MIKEY_IDR_I, MIKEY_ID_URI, mikey_str(alice));
	mikey_add_idr(&it->msg.ch, MIKEY_IDR_R, MIKEY_ID_URI, mikey_str(bob));
	err = add_policy(it, gcm);
	add_key(&it->keys, MIKEY_KEY_TEK_SALT, k, s, spi);
	it->have_keys = true;
	mikey_add_kemac(&it->msg.ch);
	mikey_add_v(&it->msg.ch);
	o.extra =
		(struct mikey_mac_extra){ { mikey_str(alice), mikey_str(bob) },
					  2 };
	cc_wr_init(&wr, it->buf, sizeof(it->buf));
	if (!err)
		err = mikey_seal(&it->msg, &o, &wr);
	it->len = wr.pos;
	mikey_msg_keys_wipe(&mk);
	/* Our own layout rules must accept what we hand to tshark */
	if (!err)
		err = mikey_decode(it->buf, it->len, &dec, NULL);
	if (!err)
		err = mikey_check_layout(&dec, MIKEY_UPDATE_BY_I, NULL);
	return err;
}

/* RFC 3830 §4.1.4: the KEMAC auth key of a PSK message,
 * PRF(psk, 0x2D22AC75 || 0xFF || CSB ID || RAND). */
static enum cc_err auth_key_3830(uint32_t csb, uint8_t out[20])
{
	uint8_t label[4 + 1 + 4 + sizeof(rand3830)];
	struct cc_wr wr;

	cc_wr_init(&wr, label, sizeof(label));
	cc_wr_u32(&wr, MIKEY_C_AUTH);
	cc_wr_u8(&wr, 0xff);
	cc_wr_u32(&wr, csb);
	cc_wr_bytes(&wr, rand3830, sizeof(rand3830));
	if (cc_wr_status(&wr))
		return cc_wr_status(&wr);
	return mikey_prf(MIKEY_PRF_MIKEY1, psk, sizeof(psk), label,
			 sizeof(label), out, 20);
}

/* The KEMAC MAC (RFC 3830 §5.2) covers the message up to the MAC, which
 * is the last field of the message; keep a copy for the JSON. */
static enum cc_err mac_3830(struct item *it, uint32_t csb)
{
	struct cc_slice part = { it->buf, it->len - 20 };
	uint8_t key[20];
	enum cc_err err;

	err = auth_key_3830(csb, key);
	if (!err)
		err = mikey_mac_compute(MIKEY_MAC_HMAC_SHA1_160, key,
					sizeof(key), &part, 1,
					it->buf + it->len - 20);
	cc_wipe(key, sizeof(key));
	if (!err)
		memcpy(it->mac, it->buf + it->len - 20, 20);
	return err;
}

/* RFC 3830 PSK init: HDR (SRTP-ID map), T, RAND, ID, SP, KEMAC. */
static enum cc_err build_psk_init(struct item *it, uint32_t csb)
{
	struct mikey_hdr *h = &it->msg.hdr;
	struct mikey_pl *pl;
	struct cc_wr wr;
	enum cc_err err;

	mikey_msg_init(&it->msg, MIKEY_DT_PSK_INIT, false, MIKEY_PRF_MIKEY1,
		       csb, MIKEY_MAP_SRTP_ID);
	/* RFC 3830 §6.1.1: policy no, SSRC, ROC per CS (CS ID = ordinal) */
	h->ncs = 2;
	h->cs[0] = (struct mikey_cs){ .cs_id = 1,
				      .npol = 1,
				      .has_ssrc = true,
				      .ssrc = 0x11223344u,
				      .roc = 0 };
	h->cs[1] = (struct mikey_cs){ .cs_id = 2,
				      .npol = 1,
				      .has_ssrc = true,
				      .ssrc = 0xcafebabeu,
				      .roc = 0x00010203u };
	mikey_add_t(&it->msg.ch, MIKEY_TS_NTP_UTC, T0 + SEC(12));
	pl = mikey_chain_add(&it->msg.ch, MIKEY_PT_RAND);
	if (pl)
		pl->u.rand.data = S(rand3830);
	pl = mikey_chain_add(&it->msg.ch, MIKEY_PT_ID);
	if (pl) {
		pl->u.id.type = MIKEY_ID_URI;
		pl->u.id.data = mikey_str(alice);
	}
	err = add_policy(it, false);
	add_key(&it->keys, MIKEY_KEY_TEK_SALT, S(tek2), S(salt2), S(mki_d));
	add_key(&it->keys, MIKEY_KEY_TGK, S(tgk3), (struct cc_slice){ 0 },
		S(mki_e));
	it->have_keys = true;
	cc_wr_init(&wr, it->kd, sizeof(it->kd));
	if (!err)
		err = mikey_keys_encode(&it->keys, &wr);
	pl = mikey_add_kemac(&it->msg.ch);
	if (err || !pl)
		return err ? err : CC_ERR_FULL;
	pl->u.kemac.encr_alg = MIKEY_ENCR_NULL;
	pl->u.kemac.encr = (struct cc_slice){ it->kd, wr.pos };
	pl->u.kemac.mac_alg = MIKEY_MAC_HMAC_SHA1_160;
	memset(it->mac, 0, sizeof(it->mac));
	pl->u.kemac.mac = (struct cc_slice){ it->mac, 20 };
	cc_wr_init(&wr, it->buf, sizeof(it->buf));
	err = mikey_encode(&it->msg, &wr);
	it->len = wr.pos;
	if (!err)
		err = mac_3830(it, csb);
	return err;
}

static enum cc_err build_all(void)
{
	static struct mikey_example ex[MIKEY_EX__COUNT];
	enum cc_err err;

	items[0].label = "worked example 4.3 TRANSFER_INIT";
	items[1].label = "update TRANSFER_INIT, KEMAC AES-CM-128";
	items[2].label = "update TRANSFER_INIT, KEMAC NULL encr";
	items[3].label = "RFC 3830 PSK init, SRTP-ID map, KEMAC NULL";
	items[4].label = "worked example 4.2 REQUEST_RESP";
	items[5].label = "worked example 4.1 REQUEST_INIT_PSK";
	err = mikey_examples_build(ex);
	if (!err)
		err = copy_example(&items[0], &ex[MIKEY_EX_TRANSFER_INIT]);
	if (!err)
		err = build_update(&items[1], 0x3a3b3c3du, T0 + SEC(10),
				   MIKEY_ENCR_AES_CM_128, true, S(tek), S(salt),
				   S(spi_b));
	if (!err)
		err = build_update(&items[2], 0x4a4b4c4du, T0 + SEC(11),
				   MIKEY_ENCR_NULL, false, S(tek), S(salt),
				   S(spi_c));
	if (!err)
		err = build_psk_init(&items[3], 0x5a5b5c5du);
	if (!err)
		err = copy_example(&items[4], &ex[MIKEY_EX_REQUEST_RESP]);
	if (!err)
		err = copy_example(&items[5], &ex[MIKEY_EX_REQUEST_INIT]);
	return err;
}

/* ---- SIP INVITE ------------------------------------------------------ */

/* The SDP offer (RFC 4566) with the MIKEY message at session level
 * (RFC 4567 §3.1), then the complete INVITE (RFC 3261 §8.1.1). */
static int make_invite(const struct item *it, unsigned n, char *out, size_t cap)
{
	char b64[B64_CAP], sdp[SIP_CAP];
	int slen, len;

	if (cc_b64_encode(it->buf, it->len, b64, sizeof(b64)))
		return -1;
	slen = snprintf(sdp, sizeof(sdp),
			"v=0\r\n"
			"o=alice 2890844526 %u IN IP4 192.0.2.10\r\n"
			"s=-\r\n"
			"c=IN IP4 192.0.2.10\r\n"
			"t=0 0\r\n"
			"a=key-mgmt:mikey %s\r\n"
			"m=audio %u RTP/SAVP 0\r\n"
			"a=rtpmap:0 PCMU/8000\r\n",
			n, b64, 16000 + 2 * n);
	if (slen < 0 || (size_t)slen >= sizeof(sdp))
		return -1;
	len = snprintf(out, cap,
		       "INVITE sip:bob@example.org SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKcc%u\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <sip:alice@example.org>;tag=cc%u\r\n"
		       "To: <sip:bob@example.org>\r\n"
		       "Call-ID: conclave-interop-%u@192.0.2.10\r\n"
		       "CSeq: 1 INVITE\r\n"
		       "Contact: <sip:alice@192.0.2.10:5060>\r\n"
		       "Content-Type: application/sdp\r\n"
		       "Content-Length: %d\r\n"
		       "\r\n"
		       "%s",
		       n, n, n, slen, sdp);
	if (len < 0 || (size_t)len >= cap)
		return -1;
	return len;
}

/* ---- pcap ------------------------------------------------------------ */

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void be16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 791 header checksum: ones' complement of the ones' complement sum. */
static unsigned ip_checksum(const uint8_t *h, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Ethernet II + IPv4 (192.0.2.10 -> 192.0.2.20) + UDP 5060 -> 5060. */
static size_t frame_headers(uint8_t *f, size_t payload, unsigned id)
{
	static const uint8_t eth[ETH_LEN] = { 0x02, 0, 0, 0, 0,    0x02, 0x02,
					      0,    0, 0, 0, 0x01, 0x08, 0x00 };
	uint8_t *ip = f + ETH_LEN, *udp = ip + IP_LEN;

	memcpy(f, eth, sizeof(eth));
	memset(ip, 0, IP_LEN);
	ip[0] = 0x45;
	be16(ip + 2, (unsigned)(IP_LEN + UDP_LEN + payload));
	be16(ip + 4, id);
	be16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, (const uint8_t[]){ 192, 0, 2, 10 }, 4);
	memcpy(ip + 16, (const uint8_t[]){ 192, 0, 2, 20 }, 4);
	be16(ip + 10, ip_checksum(ip, IP_LEN));
	be16(udp, SIP_PORT);
	be16(udp + 2, SIP_PORT);
	be16(udp + 4, (unsigned)(UDP_LEN + payload));
	be16(udp + 6, 0); /* RFC 768: zero = no checksum */
	return ETH_LEN + IP_LEN + UDP_LEN;
}

static int write_pcap(const char *path)
{
	static uint8_t frame[ETH_LEN + IP_LEN + UDP_LEN + SIP_CAP];
	uint8_t gh[24], rh[16];
	char *sip = (char *)frame + ETH_LEN + IP_LEN + UDP_LEN;
	FILE *fp = fopen(path, "wb");
	int ok = fp != NULL;
	unsigned i;

	/* Classic pcap, little-endian, microseconds, v2.4 */
	le32(gh, 0xa1b2c3d4u);
	gh[4] = 2, gh[5] = 0, gh[6] = 4, gh[7] = 0;
	le32(gh + 8, 0);
	le32(gh + 12, 0);
	le32(gh + 16, PCAP_SNAPLEN);
	le32(gh + 20, LINKTYPE_ETHERNET);
	ok = ok && fwrite(gh, sizeof(gh), 1, fp) == 1;
	for (i = 0; ok && i < N_MSG; i++) {
		int slen = make_invite(&items[i], i + 1, sip, SIP_CAP);
		size_t flen;

		ok = slen > 0;
		if (!ok)
			break;
		flen = frame_headers(frame, (size_t)slen, i + 1) + (size_t)slen;
		le32(rh, T_UNIX0 + i);
		le32(rh + 4, 0);
		le32(rh + 8, (uint32_t)flen);
		le32(rh + 12, (uint32_t)flen);
		ok = fwrite(rh, sizeof(rh), 1, fp) == 1 &&
		     fwrite(frame, flen, 1, fp) == 1;
	}
	if (fp && fclose(fp))
		ok = 0;
	if (!ok)
		fprintf(stderr, "pcap_invite: cannot write %s\n", path);
	return ok ? 0 : 1;
}

/* ---- JSON of what we encoded ----------------------------------------- */

static void jhex(FILE *fp, const char *name, const uint8_t *p, size_t n)
{
	size_t i;

	fprintf(fp, "\"%s\": \"", name);
	for (i = 0; i < n; i++)
		fprintf(fp, "%02x", p[i]);
	fprintf(fp, "\"");
}

/* ID data are URIs we chose: printable ASCII, no quote or backslash. */
static void jstr(FILE *fp, const char *name, struct cc_slice s)
{
	fprintf(fp, "\"%s\": \"%.*s\"", name, (int)s.len, (const char *)s.p);
}

static void json_hdr(FILE *fp, const struct item *it)
{
	const struct mikey_hdr *h = &it->msg.hdr;
	size_t i;

	/* #CS on the wire: the Empty map always carries 0 (RFC 4563 §5) */
	fprintf(fp,
		"\"hdr\": {\"version\": %u, \"data_type\": %u, "
		"\"next_payload\": %u, \"v\": %u, \"prf\": %u, "
		"\"csb_id\": %u, \"ncs\": %u, \"map_type\": %u, \"srtp_id\": [",
		h->version, h->data_type,
		it->msg.ch.n ? it->msg.ch.pl[0].type : 0, h->v ? 1 : 0, h->prf,
		h->csb_id, h->map_type == MIKEY_MAP_EMPTY ? 0 : h->ncs,
		h->map_type);
	for (i = 0; h->map_type == MIKEY_MAP_SRTP_ID && i < h->ncs; i++)
		fprintf(fp, "%s{\"policy_no\": %u, \"ssrc\": %u, \"roc\": %u}",
			i ? ", " : "", h->cs[i].policies[0], h->cs[i].ssrc,
			h->cs[i].roc);
	fprintf(fp, "]}");
}

static void json_sp(FILE *fp, const struct mikey_pl *pl)
{
	struct mikey_srtp_policy pol;
	const char *sep = "";
	unsigned t;

	fprintf(fp, ", \"policy_no\": %u, \"prot\": %u, \"param_len\": %zu, ",
		pl->u.sp.policy_no, pl->u.sp.prot, pl->u.sp.params.len);
	fprintf(fp, "\"params\": [");
	/* our encoder writes the TLVs in ascending type order */
	if (mikey_srtp_policy_decode(pl->u.sp.params, &pol, NULL) == CC_OK)
		for (t = 0; t < MIKEY_SRTP_PARAM__COUNT; t++) {
			if (!(pol.present & (1u << t)))
				continue;
			fprintf(fp,
				"%s{\"type\": %u, \"len\": %u, \"value\": %u}",
				sep, t, pol.vlen[t], pol.val[t]);
			sep = ", ";
		}
	fprintf(fp, "]");
}

static void json_keys(FILE *fp, const struct item *it)
{
	size_t i;

	fprintf(fp, ", \"keys\": [");
	for (i = 0; it->have_keys && i < it->keys.n; i++) {
		const struct mikey_key *k = &it->keys.k[i];

		fprintf(fp, "%s{\"type\": %u, \"kv\": %u, ", i ? ", " : "",
			k->type, k->kv);
		jhex(fp, "key", k->key.p, k->key.len);
		fprintf(fp, ", ");
		jhex(fp, "salt", k->salt.p, k->salt.len);
		fprintf(fp, ", ");
		jhex(fp, "spi", k->spi.p, k->spi.len);
		fprintf(fp, "}");
	}
	fprintf(fp, "]");
}

static void json_pl(FILE *fp, const struct item *it, const struct mikey_pl *pl)
{
	fprintf(fp,
		"{\"type\": %u, \"name\": \"%s\", \"off\": %zu, \"len\": %zu",
		pl->type, mikey_pt_name(pl->type), pl->off, pl->len);
	switch (pl->type) {
	case MIKEY_PT_T:
		fprintf(fp, ", \"ts_type\": %u, \"value\": \"%016llx\"",
			pl->u.t.type, (unsigned long long)pl->u.t.value);
		break;
	case MIKEY_PT_RAND:
	case MIKEY_PT_RANDR:
		fprintf(fp, ", \"role\": %u, ", pl->u.rand.role);
		jhex(fp, "data", pl->u.rand.data.p, pl->u.rand.data.len);
		break;
	case MIKEY_PT_ID:
	case MIKEY_PT_IDR:
		fprintf(fp, ", \"role\": %u, \"id_type\": %u, ", pl->u.id.role,
			pl->u.id.type);
		jstr(fp, "data", pl->u.id.data);
		break;
	case MIKEY_PT_SP:
		json_sp(fp, pl);
		break;
	case MIKEY_PT_KEMAC:
		fprintf(fp, ", \"encr_alg\": %u, \"encr_len\": %zu, ",
			pl->u.kemac.encr_alg, pl->u.kemac.encr.len);
		jhex(fp, "encr", pl->u.kemac.encr.p, pl->u.kemac.encr.len);
		fprintf(fp, ", \"mac_alg\": %u, ", pl->u.kemac.mac_alg);
		jhex(fp, "mac", pl->u.kemac.mac.p, pl->u.kemac.mac.len);
		json_keys(fp, it);
		break;
	case MIKEY_PT_V:
		fprintf(fp, ", \"alg\": %u, ", pl->u.v.alg);
		jhex(fp, "mac", pl->u.v.mac.p, pl->u.v.mac.len);
		break;
	default:
		break;
	}
	fprintf(fp, "}");
}

static void json_item(FILE *fp, const struct item *it, unsigned frame)
{
	size_t i;

	fprintf(fp, "  {\"frame\": %u, \"label\": \"%s\", \"len\": %zu, ",
		frame, it->label, it->len);
	jhex(fp, "bytes", it->buf, it->len);
	fprintf(fp, ",\n   ");
	json_hdr(fp, it);
	fprintf(fp, ",\n   \"payloads\": [");
	for (i = 0; i < it->msg.ch.n; i++) {
		fprintf(fp, "%s\n    ", i ? "," : "");
		json_pl(fp, it, &it->msg.ch.pl[i]);
	}
	fprintf(fp, "]}");
}

static int write_json(const char *path)
{
	FILE *fp = fopen(path, "w");
	unsigned i;
	int ok;

	if (!fp) {
		fprintf(stderr, "pcap_invite: cannot write %s\n", path);
		return 1;
	}
	fprintf(fp, "[\n");
	for (i = 0; i < N_MSG; i++) {
		json_item(fp, &items[i], i + 1);
		fprintf(fp, "%s\n", i + 1 < N_MSG ? "," : "");
	}
	fprintf(fp, "]\n");
	ok = !ferror(fp);
	if (fclose(fp))
		ok = 0;
	if (!ok)
		fprintf(stderr, "pcap_invite: cannot write %s\n", path);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	enum cc_err err;
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s OUT.pcap [OUT.json]\n", argv[0]);
		return 2;
	}
	err = build_all();
	if (err)
		return fail("building the MIKEY messages", err);
	rc = write_pcap(argv[1]);
	if (!rc && argc == 3)
		rc = write_json(argv[2]);
	return rc;
}
