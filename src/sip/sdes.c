/*
 * sdes.c -- RFC 4568 `a=crypto` for SRTP: one line, parsed (strict, a
 * reason per refusal) and built (DESIGN.md D8,
 * spec/sdp-sdes-srtp.md §2, spec/ambiguities.md A17, docs/SDES.md).
 * The SDP-level part (find, pick) is sdes_sdp.c.
 *
 * The line is untrusted text read within [line, line + len); every field
 * is a (pointer, length) view into it, never NUL-terminated. Keys are
 * decoded into the caller's struct and into stack temporaries that are
 * wiped on every path; no key byte reaches a reason string.
 */
#include <conclave/sdes.h>

#include "sip_int.h"

#include <stdio.h>
#include <string.h>

/* ---- reasons ----------------------------------------------------------- */

static const struct {
	enum cc_err err;
	const char *text;
} reasons[SDES_R__COUNT] = {
	[SDES_R_OK] = {
		CC_OK,
		"ok",
	},
	[SDES_R_INVAL] = {
		CC_ERR_INVAL,
		"invalid argument",
	},
	[SDES_R_SYNTAX] = {
		CC_ERR_MALFORMED,
		"a=crypto: malformed attribute (RFC 4568 §9)",
	},
	[SDES_R_TOO_LONG] = {
		CC_ERR_SPACE,
		"a=crypto: line too long",
	},
	[SDES_R_TAG] = {
		CC_ERR_MALFORMED,
		"a=crypto: bad tag (1-9 digits, no leading zero)",
	},
	[SDES_R_SUITE_UNKNOWN] = {
		CC_ERR_UNSUPPORTED,
		"a=crypto: unknown crypto-suite",
	},
	[SDES_R_SUITE_REFUSED] = {
		CC_ERR_UNSUPPORTED,
		"a=crypto: crypto-suite not supported",
	},
	[SDES_R_SUITE_NOT_ALLOWED] = {
		CC_ERR_UNSUPPORTED,
		"a=crypto: crypto-suite not the conference's",
	},
	[SDES_R_KEY_METHOD] = {
		CC_ERR_UNSUPPORTED,
		"a=crypto: key method is not inline",
	},
	[SDES_R_BASE64] = {
		CC_ERR_MALFORMED,
		"a=crypto: key||salt is not valid base64",
	},
	[SDES_R_KEY_LENGTH] = {
		CC_ERR_MALFORMED,
		"a=crypto: key||salt length wrong for the crypto-suite",
	},
	[SDES_R_LIFETIME] = {
		CC_ERR_MALFORMED,
		"a=crypto: bad key lifetime syntax",
	},
	[SDES_R_LIFETIME_RANGE] = {
		CC_ERR_MALFORMED,
		"a=crypto: key lifetime zero or above 2^48",
	},
	[SDES_R_MKI] = {
		CC_ERR_MALFORMED,
		"a=crypto: bad MKI syntax (value:length)",
	},
	[SDES_R_MKI_LENGTH] = {
		CC_ERR_MALFORMED,
		"a=crypto: MKI length not in 1..128",
	},
	[SDES_R_MKI_VALUE] = {
		CC_ERR_MALFORMED,
		"a=crypto: MKI value zero or too large for its length",
	},
	[SDES_R_KEYS_NO_MKI] = {
		CC_ERR_MALFORMED,
		"a=crypto: several keys, not all with an MKI",
	},
	[SDES_R_KEYS_MKI_LENGTH] = {
		CC_ERR_MALFORMED,
		"a=crypto: several keys with different MKI lengths",
	},
	[SDES_R_KEYS_MKI_DUP] = {
		CC_ERR_MALFORMED,
		"a=crypto: several keys with the same MKI",
	},
	[SDES_R_KEYS_TOO_MANY] = {
		CC_ERR_UNSUPPORTED,
		"a=crypto: too many keys in one line",
	},
	[SDES_R_KEY_REUSED] = {
		CC_ERR_POLICY,
		"a=crypto: master key not unique in the SDP",
	},
	[SDES_R_PARAM] = {
		CC_ERR_MALFORMED,
		"a=crypto: bad session parameter value",
	},
	[SDES_R_PARAM_DUP] = {
		CC_ERR_MALFORMED,
		"a=crypto: session parameter repeated",
	},
	[SDES_R_PARAM_UNKNOWN] = {
		CC_ERR_UNSUPPORTED,
		"a=crypto: unknown mandatory session parameter",
	},
	[SDES_R_KDR] = {
		CC_ERR_UNSUPPORTED,
		"a=crypto: KDR (key derivation rate) not supported",
	},
	[SDES_R_UNENCRYPTED] = {
		CC_ERR_POLICY,
		"a=crypto: unencrypted SRTP/SRTCP refused",
	},
	[SDES_R_UNAUTHENTICATED] = {
		CC_ERR_POLICY,
		"a=crypto: unauthenticated SRTP refused",
	},
	[SDES_R_NOT_SDP] = {
		CC_ERR_MALFORMED,
		"not an SDP body",
	},
	[SDES_R_SESSION_LEVEL] = {
		CC_ERR_MALFORMED,
		"a=crypto at session level (media level only)",
	},
	[SDES_R_TOO_MANY_LINES] = {
		CC_ERR_UNSUPPORTED,
		"too many a=crypto or m= lines",
	},
	[SDES_R_NO_MEDIA] = {
		CC_ERR_NOT_FOUND,
		"no such m-line",
	},
	[SDES_R_NO_CRYPTO] = {
		CC_ERR_MISSING,
		"no a=crypto on the m-line",
	},
	[SDES_R_TAG_DUP] = {
		CC_ERR_MALFORMED,
		"a=crypto: tag repeated on one m-line",
	},
	[SDES_R_NOT_TLS] = {
		CC_ERR_POLICY,
		"SDES keys need SIP over TLS (RFC 4568 §8.3)",
	},
};

const char *sdes_reason_str(enum sdes_reason r)
{
	if ((unsigned)r >= SDES_R__COUNT || !reasons[r].text)
		return "a=crypto: refused";
	return reasons[r].text;
}

enum cc_err sdes_reason_err(enum sdes_reason r)
{
	if ((unsigned)r >= SDES_R__COUNT)
		return CC_ERR_MALFORMED;
	return reasons[r].err;
}

enum cc_err sdes_result(enum sdes_reason r, struct sdes_crypto *c,
			enum sdes_reason *why)
{
	if (why)
		*why = r;
	if (r != SDES_R_OK && c)
		sdes_crypto_wipe(c);
	return sdes_reason_err(r);
}

void sdes_crypto_wipe(struct sdes_crypto *c)
{
	if (c)
		cc_wipe(c, sizeof(*c));
}

/* ---- suites [RFC 4568 §6.2, RFC 6188, RFC 7714 §14.2] ---------------- */

static const char *const suite_names[] = {
	[SDES_SUITE_NONE] = "",
	[SDES_AES_CM_128_HMAC_SHA1_80] = "AES_CM_128_HMAC_SHA1_80",
	[SDES_AES_CM_128_HMAC_SHA1_32] = "AES_CM_128_HMAC_SHA1_32",
	[SDES_AEAD_AES_128_GCM] = "AEAD_AES_128_GCM",
};

/* Registered suites we refuse: F8 (A17: only the _80 name is the
 * RFC's), NULL ciphers, and the key sizes the media plane lacks. */
static const char *const refused_suites[] = {
	"F8_128_HMAC_SHA1_80",     "AES_192_CM_HMAC_SHA1_80",
	"AES_192_CM_HMAC_SHA1_32", "AES_256_CM_HMAC_SHA1_80",
	"AES_256_CM_HMAC_SHA1_32", "AEAD_AES_256_GCM",
	"NULL_HMAC_SHA1_80",       "NULL_HMAC_SHA1_32",
};

const char *sdes_suite_name(enum sdes_suite s)
{
	if ((unsigned)s > SDES_AEAD_AES_128_GCM)
		return "";
	return suite_names[s];
}

size_t sdes_suite_master_len(enum sdes_suite s)
{
	switch (s) {
	case SDES_AES_CM_128_HMAC_SHA1_80:
	case SDES_AES_CM_128_HMAC_SHA1_32:
		return 30; /* RFC 4568 §6.2.1-§6.2.2 */
	case SDES_AEAD_AES_128_GCM:
		return 28; /* RFC 7714 §12 */
	default:
		return 0;
	}
}

bool sdes_suite_profile(enum sdes_suite s, enum media_profile *p)
{
	switch (s) {
	case SDES_AES_CM_128_HMAC_SHA1_80:
		*p = MEDIA_AES_CM_128_HMAC_SHA1_80;
		return true;
	case SDES_AEAD_AES_128_GCM:
		*p = MEDIA_AEAD_AES_128_GCM;
		return true;
	default:
		return false;
	}
}

enum sdes_suite sdes_profile_suite(enum media_profile p)
{
	switch (p) {
	case MEDIA_AES_CM_128_HMAC_SHA1_80:
		return SDES_AES_CM_128_HMAC_SHA1_80;
	case MEDIA_AEAD_AES_128_GCM:
		return SDES_AEAD_AES_128_GCM;
	default:
		return SDES_SUITE_NONE;
	}
}

/* ---- lexical helpers ----------------------------------------------------- */

/* A view of part of the line. */
struct tok {
	const char *p;
	size_t n;
};

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_vchar(char c)
{
	return c >= 0x21 && c <= 0x7e;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_name(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit(c) || c == '_';
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Case-insensitive equality with a NUL-terminated name [RFC 4568 §4]. */
static bool ieq(struct tok t, const char *name)
{
	size_t i;

	for (i = 0; i < t.n; i++)
		if (!name[i] || upper(t.p[i]) != upper(name[i]))
			return false;
	return name[t.n] == '\0';
}

/* The next run of non-WSP characters of [*p, end), after 1*WSP unless
 * first. */
static bool next_tok(const char **p, const char *end, struct tok *t)
{
	const char *s = *p, *e;

	while (s < end && is_wsp(*s))
		s++;
	for (e = s; e < end && !is_wsp(*e); e++)
		;
	if (e == s)
		return false;
	t->p = s;
	t->n = (size_t)(e - s);
	*p = e;
	return true;
}

/* Split t at the first c: head before it, tail after it; false if none. */
static bool split(struct tok t, char c, struct tok *head, struct tok *tail)
{
	const char *at = t.n ? memchr(t.p, c, t.n) : NULL;

	if (!at)
		return false;
	head->p = t.p;
	head->n = (size_t)(at - t.p);
	tail->p = at + 1;
	tail->n = t.n - head->n - 1;
	return true;
}

enum dec {
	DEC_OK,
	DEC_SYNTAX,
	DEC_RANGE
};

/* A decimal without leading zeros ("0" itself is syntax-valid), at most
 * max. */
static enum dec parse_dec(struct tok t, uint64_t max, uint64_t *v)
{
	size_t i;

	*v = 0;
	if (!t.n || (t.n > 1 && t.p[0] == '0'))
		return DEC_SYNTAX;
	for (i = 0; i < t.n; i++)
		if (!is_digit(t.p[i]))
			return DEC_SYNTAX;
	for (i = 0; i < t.n; i++) {
		unsigned d = (unsigned)(t.p[i] - '0');

		if (*v > (max - d) / 10)
			return DEC_RANGE;
		*v = *v * 10 + d;
	}
	return DEC_OK;
}

/* ---- fields ------------------------------------------------------------ */

/* tag = 1*9DIGIT, no leading zeros [RFC 4568 §4.1, §9.1] */
static enum sdes_reason parse_tag(struct tok t, uint32_t *tag)
{
	uint64_t v;

	if (t.n > 9 || parse_dec(t, SDES_TAG_MAX, &v) != DEC_OK)
		return SDES_R_TAG;
	*tag = (uint32_t)v;
	return SDES_R_OK;
}

static enum sdes_reason parse_suite(struct tok t, enum sdes_suite *s)
{
	size_t i;

	for (i = 0; i < t.n; i++)
		if (!is_name(t.p[i]))
			return SDES_R_SYNTAX;
	for (i = SDES_AES_CM_128_HMAC_SHA1_80; i <= SDES_AEAD_AES_128_GCM;
	     i++) {
		if (ieq(t, suite_names[i])) {
			*s = (enum sdes_suite)i;
			return SDES_R_OK;
		}
	}
	for (i = 0; i < sizeof(refused_suites) / sizeof(refused_suites[0]); i++)
		if (ieq(t, refused_suites[i]))
			return SDES_R_SUITE_REFUSED;
	return SDES_R_SUITE_UNKNOWN;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (is_digit(c))
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* key||salt: base64 with the padding optional ("padding characters are
 * discarded", RFC 4568 §6.1); canonical (unused bits zero); exactly the
 * suite's length. */
static enum sdes_reason parse_key_salt(struct tok t, enum sdes_suite s,
				       struct sdes_key *k)
{
	size_t want = sdes_suite_master_len(s), n = t.n, i, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	while (n && t.p[n - 1] == '=' && t.n - n < 2)
		n--;
	if (!n || (n != t.n && t.n % 4) || n % 4 == 1)
		return SDES_R_BASE64;
	for (i = 0; i < n; i++)
		if (b64_value(t.p[i]) < 0)
			return SDES_R_BASE64;
	if (n * 6 / 8 != want)
		return SDES_R_KEY_LENGTH;
	for (i = 0; i < n; i++) {
		acc = (acc << 6 | (uint32_t)b64_value(t.p[i])) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			k->master[o++] = (uint8_t)(acc >> bits);
		}
	}
	i = acc & ((1u << bits) - 1); /* the unused low bits */
	cc_wipe(&acc, sizeof(acc));
	if (i) {
		cc_wipe(k->master, sizeof(k->master));
		return SDES_R_BASE64;
	}
	k->master_len = o;
	return SDES_R_OK;
}

/* lifetime = ["2^"] 1*DIGIT, no leading zeros, 1..2^48 [RFC 4568 §6.1] */
static enum sdes_reason parse_lifetime(struct tok t, uint64_t *life)
{
	struct tok e;
	uint64_t v;
	enum dec d;

	if (t.n >= 2 && t.p[0] == '2' && t.p[1] == '^') {
		e.p = t.p + 2;
		e.n = t.n - 2;
		d = parse_dec(e, SDES_LIFETIME_LOG2_MAX, &v);
		if (d == DEC_SYNTAX)
			return SDES_R_LIFETIME;
		if (d == DEC_RANGE)
			return SDES_R_LIFETIME_RANGE;
		*life = (uint64_t)1 << v;
		return SDES_R_OK;
	}
	d = parse_dec(t, (uint64_t)1 << SDES_LIFETIME_LOG2_MAX, &v);
	if (d == DEC_SYNTAX)
		return SDES_R_LIFETIME;
	if (d == DEC_RANGE || v == 0)
		return SDES_R_LIFETIME_RANGE;
	*life = v;
	return SDES_R_OK;
}

/* The decimal MKI value into len big-endian bytes; false if it does not
 * fit. */
static bool mki_to_bytes(struct tok t, uint8_t *out, size_t len)
{
	size_t i, j;

	memset(out, 0, len);
	for (i = 0; i < t.n; i++) {
		unsigned carry = (unsigned)(t.p[i] - '0');

		for (j = len; j-- > 0;) {
			unsigned x = out[j] * 10u + carry;

			out[j] = (uint8_t)x;
			carry = x >> 8;
		}
		if (carry)
			return false;
	}
	return true;
}

/* mki = mki-value ":" mki-length [RFC 4568 §6.1, §9.2]: both decimal
 * without leading zeros; length 1..128; value positive and fitting. */
static enum sdes_reason parse_mki(struct tok t, struct sdes_key *k)
{
	struct tok val, len;
	uint64_t n;
	size_t i;
	bool zero = true;

	if (!split(t, ':', &val, &len) || !val.n || len.n > 3)
		return SDES_R_MKI;
	for (i = 0; i < val.n; i++)
		if (!is_digit(val.p[i]))
			return SDES_R_MKI;
	if (parse_dec(len, 999, &n) != DEC_OK)
		return SDES_R_MKI;
	if (val.n > 1 && val.p[0] == '0')
		return SDES_R_MKI;
	if (n < 1 || n > SDES_MKI_MAX)
		return SDES_R_MKI_LENGTH;
	/* 2^1024 has 309 digits: longer cannot fit (and bounds the work) */
	if (val.n > 309 || !mki_to_bytes(val, k->mki, (size_t)n))
		return SDES_R_MKI_VALUE;
	for (i = 0; i < n; i++)
		zero = zero && !k->mki[i];
	if (zero)
		return SDES_R_MKI_VALUE;
	k->mki_len = (size_t)n;
	return SDES_R_OK;
}

/* key-param = "inline:" key-salt ["|" lifetime] ["|" mki] */
static enum sdes_reason parse_key(struct tok t, enum sdes_suite s,
				  struct sdes_key *k)
{
	struct tok method, info, f[3], rest;
	size_t nf = 0, i;
	enum sdes_reason r;

	if (!split(t, ':', &method, &info) || !method.n || !info.n)
		return SDES_R_SYNTAX;
	for (i = 0; i < method.n; i++)
		if (!is_name(method.p[i]))
			return SDES_R_SYNTAX;
	if (!ieq(method, "inline"))
		return SDES_R_KEY_METHOD;
	for (rest = info; nf < 3 && split(rest, '|', &f[nf], &rest); nf++)
		;
	if (nf == 3)
		return SDES_R_SYNTAX; /* a fourth field */
	f[nf++] = rest;
	r = parse_key_salt(f[0], s, k);
	if (r == SDES_R_OK && nf == 2 && memchr(f[1].p, ':', f[1].n))
		return parse_mki(f[1], k); /* only an MKI has a colon */
	if (r == SDES_R_OK && nf >= 2)
		r = f[1].n && memchr(f[1].p, ':', f[1].n) ?
			    SDES_R_LIFETIME :
			    parse_lifetime(f[1], &k->lifetime);
	if (r == SDES_R_OK && nf == 3)
		r = parse_mki(f[2], k);
	return r;
}

static bool key_equal(const struct sdes_key *a, const struct sdes_key *b)
{
	return a->master_len == b->master_len &&
	       cc_ct_equal(a->master, b->master, a->master_len);
}

/* Several keys: each with an MKI, one MKI length, distinct MKIs and keys
 * [RFC 4568 §6.1, §4.3]. */
static enum sdes_reason check_keys(const struct sdes_key *k, size_t n)
{
	size_t i, j;

	for (i = 0; n > 1 && i < n; i++) {
		if (!k[i].mki_len)
			return SDES_R_KEYS_NO_MKI;
		if (k[i].mki_len != k[0].mki_len)
			return SDES_R_KEYS_MKI_LENGTH;
	}
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			if (cc_ct_equal(k[i].mki, k[j].mki, k[i].mki_len) &&
			    k[i].mki_len)
				return SDES_R_KEYS_MKI_DUP;
			if (key_equal(&k[i], &k[j]))
				return SDES_R_KEY_REUSED;
		}
	}
	return SDES_R_OK;
}

/* key-params = key-param *(";" key-param) */
static enum sdes_reason parse_keys(struct tok t, enum sdes_suite s,
				   struct sdes_key *k, size_t *n)
{
	struct tok one, rest = t;
	enum sdes_reason r = SDES_R_OK;
	bool more = true;

	*n = 0;
	while (r == SDES_R_OK && more) {
		more = split(rest, ';', &one, &rest);
		if (!more)
			one = rest;
		if (*n == SDES_KEYS_MAX)
			return SDES_R_KEYS_TOO_MANY;
		r = parse_key(one, s, &k[(*n)++]);
	}
	return r == SDES_R_OK ? check_keys(k, *n) : r;
}

/* ---- session parameters [RFC 4568 §6.3, §9.2; A17] --------------------- */

enum {
	P_KDR = 1u << 0,
	P_UNENC_SRTP = 1u << 1,
	P_UNENC_SRTCP = 1u << 2,
	P_UNAUTH = 1u << 3,
	P_FEC_ORDER = 1u << 4,
	P_FEC_KEY = 1u << 5,
	P_WSH = 1u << 6,
};

/* FEC_KEY=key-params: validated as keys of the same suite, distinct from
 * the line's own keys [RFC 4568 §6.3.5], then dropped (no FEC here). */
static enum sdes_reason parse_fec_key(struct tok v, struct sdes_crypto *c)
{
	struct sdes_key fk[SDES_KEYS_MAX];
	size_t n = 0, i, j;
	enum sdes_reason r;

	memset(fk, 0, sizeof(fk));
	r = parse_keys(v, c->suite, fk, &n);
	for (i = 0; r == SDES_R_OK && i < n; i++)
		for (j = 0; j < c->nkeys; j++)
			if (key_equal(&fk[i], &c->key[j]))
				r = SDES_R_KEY_REUSED;
	cc_wipe(fk, sizeof(fk));
	if (r == SDES_R_OK)
		c->fec_key = true;
	return r;
}

static enum sdes_reason param_value(struct tok name, struct tok v,
				    struct sdes_crypto *c, unsigned *bit)
{
	uint64_t n;

	if (ieq(name, "KDR")) {
		*bit = P_KDR;
		if (v.n > 2 || parse_dec(v, 24, &n) != DEC_OK)
			return SDES_R_PARAM;
		c->kdr = (uint8_t)n; /* A17: KDR=0 read as absent */
		return SDES_R_OK;
	}
	if (ieq(name, "FEC_ORDER")) {
		*bit = P_FEC_ORDER;
		if (!ieq(v, "FEC_SRTP") && !ieq(v, "SRTP_FEC"))
			return SDES_R_PARAM;
		c->srtp_fec = ieq(v, "SRTP_FEC");
		return SDES_R_OK;
	}
	if (ieq(name, "FEC_KEY")) {
		*bit = P_FEC_KEY;
		return v.n ? parse_fec_key(v, c) : SDES_R_PARAM;
	}
	if (ieq(name, "UNENCRYPTED_SRTP") || ieq(name, "UNENCRYPTED_SRTCP") ||
	    ieq(name, "UNAUTHENTICATED_SRTP"))
		return SDES_R_PARAM; /* flags take no value */
	if (ieq(name, "WSH")) {
		*bit = P_WSH;
		if (v.n < 2 || parse_dec(v, UINT32_MAX, &n) != DEC_OK)
			return SDES_R_PARAM;
		c->wsh = n >= 64 ? (uint32_t)n : 0; /* A17: below 64 ignored */
		return SDES_R_OK;
	}
	return SDES_R_PARAM_UNKNOWN;
}

static enum sdes_reason param_flag(struct tok name, struct sdes_crypto *c,
				   unsigned *bit)
{
	if (ieq(name, "UNENCRYPTED_SRTP")) {
		*bit = P_UNENC_SRTP;
		c->unencrypted_srtp = true;
	} else if (ieq(name, "UNENCRYPTED_SRTCP")) {
		*bit = P_UNENC_SRTCP;
		c->unencrypted_srtcp = true;
	} else if (ieq(name, "UNAUTHENTICATED_SRTP")) {
		*bit = P_UNAUTH;
		c->unauthenticated_srtp = true;
	} else {
		return SDES_R_PARAM_UNKNOWN;
	}
	return SDES_R_OK;
}

/* One session parameter. Unknown ones make the line invalid unless
 * prefixed with "-" (optional) [RFC 4568 §6.3.7]. */
static enum sdes_reason parse_param(struct tok t, struct sdes_crypto *c,
				    unsigned *seen)
{
	struct tok name, value;
	unsigned bit = 0;
	enum sdes_reason r;

	if (t.p[0] == '-')
		return SDES_R_OK;
	if (split(t, '=', &name, &value))
		r = param_value(name, value, c, &bit);
	else
		r = param_flag(t, c, &bit);
	if (r == SDES_R_OK && (*seen & bit))
		return SDES_R_PARAM_DUP;
	*seen |= bit;
	return r;
}

/* ---- the line ---------------------------------------------------------- */

static enum sdes_reason parse_line(const char *line, size_t len,
				   struct sdes_crypto *c)
{
	static const char pfx[] = "a=crypto:";
	const size_t pn = sizeof(pfx) - 1;
	const char *p, *end;
	struct tok tag, suite, keys, param;
	unsigned seen = 0;
	enum sdes_reason r;

	memset(c, 0, sizeof(*c));
	while (len && (is_wsp(line[len - 1]) || line[len - 1] == '\r' ||
		       line[len - 1] == '\n'))
		len--;
	if (len > SDES_LINE_MAX)
		return SDES_R_TOO_LONG;
	if (len < pn || !cc_ct_equal(line, pfx, pn))
		return SDES_R_SYNTAX;
	p = line + pn;
	end = line + len;
	for (; p < end; p++)
		if (!is_vchar(*p) && !is_wsp(*p))
			return SDES_R_SYNTAX;
	p = line + pn;
	if (p == end || is_wsp(*p) || !next_tok(&p, end, &tag) ||
	    !next_tok(&p, end, &suite) || !next_tok(&p, end, &keys))
		return SDES_R_SYNTAX;
	if ((r = parse_tag(tag, &c->tag)) != SDES_R_OK ||
	    (r = parse_suite(suite, &c->suite)) != SDES_R_OK ||
	    (r = parse_keys(keys, c->suite, c->key, &c->nkeys)) != SDES_R_OK)
		return r;
	while (r == SDES_R_OK && next_tok(&p, end, &param))
		r = parse_param(param, c, &seen);
	return r;
}

enum cc_err sdes_parse(const char *line, size_t len, struct sdes_crypto *out,
		       enum sdes_reason *why)
{
	if (!line || !out)
		return sdes_result(SDES_R_INVAL, out, why);
	return sdes_result(parse_line(line, len, out), out, why);
}

enum cc_err sdes_acceptable(const struct sdes_crypto *c, unsigned suites,
			    enum sdes_reason *why)
{
	enum sdes_reason r = SDES_R_OK;

	if (!c || c->suite == SDES_SUITE_NONE)
		r = SDES_R_INVAL;
	else if (!(suites & SDES_SUITE_BIT(c->suite)))
		r = SDES_R_SUITE_NOT_ALLOWED;
	else if (c->unencrypted_srtp || c->unencrypted_srtcp)
		r = SDES_R_UNENCRYPTED;
	else if (c->unauthenticated_srtp)
		r = SDES_R_UNAUTHENTICATED;
	else if (c->kdr)
		r = SDES_R_KDR;
	return sdes_result(r, NULL, why);
}

/* ---- build --------------------------------------------------------------- */

enum cc_err sdes_key_set(struct sdes_key *k, const uint8_t *key, size_t key_len,
			 const uint8_t *salt, size_t salt_len, uint64_t mki,
			 size_t mki_len, uint64_t lifetime)
{
	size_t i;

	if (!k || !key || !salt || !key_len || !salt_len ||
	    key_len + salt_len > SDES_MASTER_MAX || mki_len > 8 ||
	    (mki_len && (!mki || (mki_len < 8 && mki >> (8 * mki_len)))) ||
	    lifetime > (uint64_t)1 << SDES_LIFETIME_LOG2_MAX)
		return CC_ERR_INVAL;
	memset(k, 0, sizeof(*k));
	memcpy(k->master, key, key_len);
	memcpy(k->master + key_len, salt, salt_len);
	k->master_len = key_len + salt_len;
	for (i = 0; i < mki_len; i++)
		k->mki[i] = (uint8_t)(mki >> (8 * (mki_len - 1 - i)));
	k->mki_len = mki_len;
	k->lifetime = lifetime;
	return CC_OK;
}

/* The MKI bytes as a decimal string (out: >= 310 bytes for 128 bytes). */
static void mki_decimal(const uint8_t *mki, size_t len, char *out)
{
	uint8_t v[SDES_MKI_MAX];
	char rev[320];
	size_t n = 0, i;
	bool nonzero = true;

	memcpy(v, mki, len);
	while (nonzero) {
		unsigned rem = 0;

		nonzero = false;
		for (i = 0; i < len; i++) {
			unsigned x = rem << 8 | v[i];

			v[i] = (uint8_t)(x / 10);
			rem = x % 10;
			nonzero = nonzero || v[i];
		}
		rev[n++] = (char)('0' + rem);
	}
	for (i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	out[n] = '\0';
}

static bool is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static unsigned log2_exact(uint64_t v)
{
	unsigned e = 0;

	while (v > 1 && !(v & 1)) {
		v >>= 1;
		e++;
	}
	return v == 1 ? e : 0;
}

/* Append "|<lifetime>" and "|<mki>:<len>" at *n. */
static enum cc_err put_tail(const struct sdes_key *k, char *out, size_t cap,
			    size_t *n)
{
	char dec[320];
	int r = 0;

	if (k->lifetime && (k->lifetime == 1 || log2_exact(k->lifetime)))
		r = snprintf(out + *n, cap - *n, "|2^%u",
			     log2_exact(k->lifetime));
	else if (k->lifetime)
		r = snprintf(out + *n, cap - *n, "|%llu",
			     (unsigned long long)k->lifetime);
	if (r < 0 || (size_t)r >= cap - *n)
		return CC_ERR_SPACE;
	*n += (size_t)r;
	if (!k->mki_len)
		return CC_OK;
	mki_decimal(k->mki, k->mki_len, dec);
	r = snprintf(out + *n, cap - *n, "|%s:%zu", dec, k->mki_len);
	if (r < 0 || (size_t)r >= cap - *n)
		return CC_ERR_SPACE;
	*n += (size_t)r;
	return CC_OK;
}

enum cc_err sdes_build(uint32_t tag, enum sdes_suite suite,
		       const struct sdes_key *k, char *out, size_t cap,
		       size_t *outlen)
{
	char b64[4 * ((SDES_MASTER_MAX + 2) / 3) + 1];
	size_t n = 0;
	int r;
	enum cc_err err;

	if (!k || !out || !outlen || tag > SDES_TAG_MAX ||
	    !sdes_suite_master_len(suite) ||
	    k->master_len != sdes_suite_master_len(suite) ||
	    k->mki_len > SDES_MKI_MAX ||
	    (k->mki_len && is_zero(k->mki, k->mki_len)) ||
	    k->lifetime > (uint64_t)1 << SDES_LIFETIME_LOG2_MAX)
		return CC_ERR_INVAL;
	err = cc_b64_encode(k->master, k->master_len, b64, sizeof(b64));
	if (err)
		goto out;
	r = snprintf(out, cap, "a=crypto:%u %s inline:%s", (unsigned)tag,
		     sdes_suite_name(suite), b64);
	err = r < 0 || (size_t)r >= cap ? CC_ERR_SPACE : CC_OK;
	if (!err) {
		n = (size_t)r;
		err = put_tail(k, out, cap, &n);
	}
	if (!err && cap - n < 3)
		err = CC_ERR_SPACE;
	if (!err) {
		memcpy(out + n, "\r\n", 3);
		*outlen = n + 2;
	}
out:
	cc_wipe(b64, sizeof(b64));
	if (err && cap)
		cc_wipe(out, cap); /* no half line with a key in it */
	return err;
}
