/*
 * sdes.h -- SDP Security Descriptions for SRTP: RFC 4568 `a=crypto`
 * (DESIGN.md D8; spec/sdp-sdes-srtp.md §2; docs/SDES.md). Part of the SIP
 * glue library (cc_sip, src/sip/sdes.c); no I/O, no libre types.
 *
 *   parse   one a=crypto line, strictly validated; every refusal names a
 *           specific reason (enum sdes_reason) whose text a 488 can carry;
 *   build   one a=crypto line for one key (the focus's answer: the
 *           conference's downstream group key, the same line in every
 *           dialog);
 *   find    every a=crypto line of an SDP body, with its m-line;
 *   pick    the answer's choice among an m-line's offered lines: the first
 *           one that is valid and acceptable [RFC 4568 §5.1.2, §7.1.2].
 *
 * Keys. A struct sdes_key holds secret key material: wipe it
 * (sdes_crypto_wipe) when done. No function here writes a key into an
 * error, a reason or a log; reasons are static strings.
 *
 * Trust model. SDES keys travel in the SDP in clear text: every SIP hop
 * that can read the body can read the keys [RFC 4568 §8.3]. SDES is
 * therefore only offered or accepted on SIP over TLS (sdes_check_transport)
 * unless a test configuration says otherwise, loudly.
 */
#ifndef CONCLAVE_SDES_H
#define CONCLAVE_SDES_H

#include <conclave/media.h>
#include <conclave/sipglue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	SDES_KEYS_MAX = 4,          /* inline keys in one a=crypto line */
	SDES_MKI_MAX = 128,         /* MKI length bound [RFC 4568 §6.1] */
	SDES_MASTER_MAX = 30,       /* key || salt of the suites we parse */
	SDES_TAG_MAX = 999999999,   /* tag = 1*9DIGIT [RFC 4568 §9.1] */
	SDES_LINE_MAX = 4096,       /* one a=crypto line, bytes */
	SDES_SDP_LINES_MAX = 32,    /* a=crypto lines in one SDP */
	SDES_LIFETIME_LOG2_MAX = 48 /* SRTP key lifetime <= 2^48 */
};

/** The SRTP crypto-suites this parser knows as valid [RFC 4568 §6.2,
 *  RFC 7714 §14.2]. Suites it knows but refuses (F8, NULL, AES-192/256,
 *  AEAD_AES_256_GCM) are SDES_R_SUITE_REFUSED, all others
 *  SDES_R_SUITE_UNKNOWN. */
enum sdes_suite {
	SDES_SUITE_NONE = 0,
	SDES_AES_CM_128_HMAC_SHA1_80 = 1, /* key 16, salt 14, tag 10 */
	SDES_AES_CM_128_HMAC_SHA1_32 = 2, /* key 16, salt 14, tag 4 */
	SDES_AEAD_AES_128_GCM = 3,        /* key 16, salt 12, tag 16 */
};

/** A set of suites for sdes_pick(). */
#define SDES_SUITE_BIT(s) (1u << (unsigned)(s))

/**
 * Why a line, an SDP or an offer was refused. Each value has a text
 * (sdes_reason_str) and a class in the one error enum (sdes_reason_err):
 * the functions below return that class and set *why.
 */
enum sdes_reason {
	SDES_R_OK = 0,
	SDES_R_INVAL,         /* caller error */
	SDES_R_SYNTAX,        /* not a=crypto:<tag> <suite> <key-params>... */
	SDES_R_TOO_LONG,      /* line longer than SDES_LINE_MAX */
	SDES_R_TAG,           /* tag not 1*9DIGIT without leading zero */
	SDES_R_SUITE_UNKNOWN, /* a crypto-suite we do not know */
	SDES_R_SUITE_REFUSED, /* known, refused: F8, NULL, AES-192/256 */
	SDES_R_SUITE_NOT_ALLOWED, /* valid, but not one the caller accepts */
	SDES_R_KEY_METHOD,        /* key-method other than "inline" */
	SDES_R_BASE64,            /* key||salt is not base64 */
	SDES_R_KEY_LENGTH,        /* key||salt length wrong for the suite */
	SDES_R_LIFETIME,          /* lifetime syntax (decimal or 2^n) */
	SDES_R_LIFETIME_RANGE,    /* lifetime 0 or above 2^48 */
	SDES_R_MKI,               /* MKI syntax (<value>:<length>) */
	SDES_R_MKI_LENGTH,        /* MKI length not 1..128 */
	SDES_R_MKI_VALUE,         /* MKI value 0 or too large for its length */
	SDES_R_KEYS_NO_MKI,       /* several keys, one without an MKI */
	SDES_R_KEYS_MKI_LENGTH,   /* several keys, MKI lengths differ */
	SDES_R_KEYS_MKI_DUP,      /* several keys, an MKI value repeated */
	SDES_R_KEYS_TOO_MANY,     /* more than SDES_KEYS_MAX keys */
	SDES_R_KEY_REUSED,        /* a master key not unique in the SDP */
	SDES_R_PARAM,             /* bad KDR/WSH/FEC_ORDER/FEC_KEY value */
	SDES_R_PARAM_DUP,         /* a session parameter given twice */
	SDES_R_PARAM_UNKNOWN,     /* unknown mandatory session parameter */
	SDES_R_KDR,             /* KDR=1..24: key derivation rate unsupported */
	SDES_R_UNENCRYPTED,     /* UNENCRYPTED_SRTP / _SRTCP refused */
	SDES_R_UNAUTHENTICATED, /* UNAUTHENTICATED_SRTP refused */
	SDES_R_NOT_SDP,         /* the body is not an SDP we read */
	SDES_R_SESSION_LEVEL,   /* a=crypto above the first m-line */
	SDES_R_TOO_MANY_LINES,  /* more than SDES_SDP_LINES_MAX a=crypto */
	SDES_R_NO_MEDIA,        /* no such m-line */
	SDES_R_NO_CRYPTO,       /* the m-line carries no a=crypto */
	SDES_R_TAG_DUP,         /* a tag repeated on one m-line */
	SDES_R_NOT_TLS,         /* SDES keys offered without SIP over TLS */
	SDES_R__COUNT
};

/** A reason as text for a 488 or a log: static, never NULL, never holds
 *  any part of a key. */
const char *sdes_reason_str(enum sdes_reason r);
/** The error class of a reason (CC_ERR_MALFORMED, CC_ERR_UNSUPPORTED,
 *  CC_ERR_POLICY, ...); CC_OK for SDES_R_OK. */
enum cc_err sdes_reason_err(enum sdes_reason r);

/** The suite's name as written in SDP ("" for SDES_SUITE_NONE). */
const char *sdes_suite_name(enum sdes_suite s);
/** key || salt bytes of a suite (0 if none). */
size_t sdes_suite_master_len(enum sdes_suite s);
/** The media profile of a suite; false if the media plane has none
 *  (AES_CM_128_HMAC_SHA1_32). */
bool sdes_suite_profile(enum sdes_suite s, enum media_profile *p);
/** The suite of a media profile (the conference's downstream suite). */
enum sdes_suite sdes_profile_suite(enum media_profile p);

/** One inline key [RFC 4568 §6.1]. SECRET: wipe after use. */
struct sdes_key {
	uint8_t master[SDES_MASTER_MAX]; /* master key || master salt */
	size_t master_len;
	uint64_t lifetime;         /* packets; 0 = omitted (suite default) */
	uint8_t mki[SDES_MKI_MAX]; /* MKI value, big-endian, mki_len bytes */
	size_t mki_len;            /* 0 = no MKI */
};

/** One a=crypto line. SECRET (keys): wipe with sdes_crypto_wipe(). */
struct sdes_crypto {
	uint32_t tag;
	enum sdes_suite suite;
	struct sdes_key key[SDES_KEYS_MAX];
	size_t nkeys; /* >= 1 */
	/* session parameters [RFC 4568 §6.3] */
	uint8_t kdr;               /* KDR=n, 1..24; 0 = absent or KDR=0 */
	bool unencrypted_srtp;     /* negotiated */
	bool unencrypted_srtcp;    /* negotiated */
	bool unauthenticated_srtp; /* negotiated */
	bool srtp_fec;             /* FEC_ORDER=SRTP_FEC (declarative) */
	bool fec_key;              /* FEC_KEY= present, validated, unused */
	uint32_t wsh;              /* WSH >= 64; 0 = absent or ignored */
};

/** Wipe a parsed line (its keys). NULL is fine. */
void sdes_crypto_wipe(struct sdes_crypto *c);

/**
 * Parse one attribute line "a=crypto:<tag> <suite> <key-params>
 * [<session-params>]" (len bytes, no NUL needed; a trailing CR/LF and
 * trailing blanks are ignored) under the grammar of RFC 4568 §9.1-§9.2
 * and the rules of §4-§6. Names (suite, "inline", parameters) are
 * case-insensitive [RFC 4568 §4], the attribute name is not. Validation
 * is syntactic and per line: whether the line is acceptable to us is
 * sdes_acceptable(). Results: CC_OK (out filled), else the class of *why
 * (CC_ERR_MALFORMED, CC_ERR_UNSUPPORTED, CC_ERR_POLICY, CC_ERR_SPACE,
 * CC_ERR_INVAL); out is wiped on failure. why may be NULL.
 */
CC_MUST_USE enum cc_err sdes_parse(const char *line, size_t len,
				   struct sdes_crypto *out,
				   enum sdes_reason *why);

/**
 * Is a parsed line one we can use? Its suite must be in `suites` (a set of
 * SDES_SUITE_BIT) and it must not ask for what the media plane does not do
 * or we refuse: KDR (libsrtp derives once), UNENCRYPTED_SRTP/SRTCP,
 * UNAUTHENTICATED_SRTP (all negotiated, so refusing the line is the
 * answer [RFC 4568 §6.3.2-§6.3.3]). CC_ERR_UNSUPPORTED or CC_ERR_POLICY
 * with *why set.
 */
CC_MUST_USE enum cc_err sdes_acceptable(const struct sdes_crypto *c,
					unsigned suites, enum sdes_reason *why);

/**
 * Fill a key from its parts (e.g. the conference's group TEK and salt and
 * its MKI 0x80000000|epoch in 4 bytes). mki_len 0: no MKI (mki ignored);
 * else 1..8 bytes and mki must fit in them. lifetime 0 = omitted.
 * CC_ERR_INVAL on bad sizes.
 */
CC_MUST_USE enum cc_err sdes_key_set(struct sdes_key *k, const uint8_t *key,
				     size_t key_len, const uint8_t *salt,
				     size_t salt_len, uint64_t mki,
				     size_t mki_len, uint64_t lifetime);

/**
 * "a=crypto:<tag> <suite> inline:<base64 key||salt>[|<lifetime>]
 * [|<MKI>:<length>]\r\n" for one key (lifetime written as 2^n when it is a
 * power of two). The key length must match the suite; MKI value 0 is
 * refused (RFC 4568 §6.1: positive). *outlen = characters written (a NUL
 * follows). The output holds the key: wipe it after use.
 */
CC_MUST_USE enum cc_err sdes_build(uint32_t tag, enum sdes_suite suite,
				   const struct sdes_key *k, char *out,
				   size_t cap, size_t *outlen);

/** One a=crypto line found in an SDP: a view into the caller's body. */
struct sdes_line {
	size_t media;  /* index of its m-line */
	const char *p; /* "a=crypto:..." without the end of line */
	size_t n;
};

/** The a=crypto lines of an SDP body, m-line aware. Borrowed views: valid
 *  while the body is. */
struct sdes_sdp {
	struct sipglue_media media[SIPGLUE_MAX_MEDIA];
	size_t nmedia;
	struct sdes_line line[SDES_SDP_LINES_MAX];
	size_t nlines;
};

/**
 * Find every a=crypto line of an SDP body (first line "v=0"; CRLF or LF),
 * each with the index of its m-line; the m-lines are parsed as
 * sipglue_km_parse() does. Lines are not parsed (sdes_pick does that).
 * An a=crypto at session level makes the body invalid (RFC 4568 §4:
 * media level only): CC_ERR_MALFORMED, SDES_R_SESSION_LEVEL. Other
 * failures: SDES_R_NOT_SDP, SDES_R_TOO_MANY_LINES. out is zeroed first.
 */
CC_MUST_USE enum cc_err sdes_sdp_find(const char *sdp, size_t len,
				      struct sdes_sdp *out,
				      enum sdes_reason *why);

/**
 * The answerer's choice for m-line `media` [RFC 4568 §5.1.2, §7.1.2]:
 * the first of its a=crypto lines, in offer order, that parses and is
 * acceptable (sdes_acceptable with `suites`). Invalid lines are skipped,
 * not fatal (the answer accepts one valid line or rejects the stream),
 * except that:
 *   - two lines of the m-line with the same tag make the m-line invalid
 *     (SDES_R_TAG_DUP) [RFC 4568 §4.1];
 *   - the chosen line's keys must not appear in a line of another m-line
 *     (SDES_R_KEY_REUSED) [RFC 4568 §6.1]; the same key offered again in
 *     an alternative line of the same m-line is tolerated (only one line
 *     is ever used; common practice).
 * On success out holds the chosen line (its tag is out->tag; the answer
 * repeats tag and suite). When no line is acceptable the result is the
 * class of the FIRST (most preferred) line's reason, in *why; an m-line
 * without a=crypto is CC_ERR_MISSING (SDES_R_NO_CRYPTO). out is wiped on
 * failure.
 */
CC_MUST_USE enum cc_err sdes_pick(const struct sdes_sdp *s, size_t media,
				  unsigned suites, struct sdes_crypto *out,
				  enum sdes_reason *why);

/**
 * SDES keys may travel only over SIP over TLS (sips / transport=tls)
 * [RFC 4568 §8.3, DESIGN.md D8]: CC_OK if tls, or if allow_insecure (a
 * test configuration that must say so loudly); CC_ERR_POLICY with
 * SDES_R_NOT_TLS otherwise.
 */
CC_MUST_USE enum cc_err sdes_check_transport(bool tls, bool allow_insecure,
					     enum sdes_reason *why);

/** A Warning header value for a refused SDES offer (RFC 3261 §20.43):
 *  `399 <agent> "<reason text>"`. */
CC_MUST_USE enum cc_err sdes_warning(const char *agent, enum sdes_reason r,
				     char *out, size_t cap);

#endif
