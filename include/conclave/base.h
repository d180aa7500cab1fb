/*
 * base.h -- bounds-checked cursors, the one error enum, constant-time
 * compare and secure wipe (STYLE.md habits 3, 5, 7).
 *
 * Every read of untrusted bytes goes through a struct cc_rd: each read
 * returns a status and never a silent zero. Nested length-prefixed data is
 * read through a sub-cursor (cc_rd_sub) that must end exactly at its length
 * (cc_rd_done).
 */
#ifndef CONCLAVE_BASE_H
#define CONCLAVE_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CC_MUST_USE __attribute__((warn_unused_result))

/** The one error enum of the protocol libraries. 0 is success. */
enum cc_err {
	CC_OK = 0,
	CC_ERR_TRUNCATED,      /* input ends before a field does */
	CC_ERR_TRAILING,       /* bytes left after a structure that must end */
	CC_ERR_MALFORMED,      /* a field holds a value the format forbids */
	CC_ERR_UNSUPPORTED,    /* well-formed, but a code point we do not do */
	CC_ERR_ORDER,          /* payload where the message may not have it */
	CC_ERR_MISSING,        /* mandatory payload absent */
	CC_ERR_SPACE,          /* output buffer too small */
	CC_ERR_INVAL,          /* caller passed an invalid argument */
	CC_ERR_BAD_MAC,        /* MAC or integrity check failed */
	CC_ERR_REPLAY,         /* message seen before */
	CC_ERR_STALE,          /* timestamp older than the allowed skew */
	CC_ERR_FUTURE,         /* timestamp newer than the allowed skew */
	CC_ERR_EXPIRED,        /* ticket or key past its validity */
	CC_ERR_NOT_YET_VALID,  /* ticket before its start of validity */
	CC_ERR_NOT_AUTHORISED, /* identity not allowed to do this */
	CC_ERR_UNKNOWN_USER,   /* identity or key name unknown */
	CC_ERR_TICKET_TYPE,    /* ticket type/subtype/version not supported */
	CC_ERR_POLICY,         /* ticket policy flags inconsistent/forbid */
	CC_ERR_CRYPTO,         /* the crypto library failed */
	CC_ERR_NOMEM,          /* allocation failed */
	CC_ERR_FULL,           /* a bounded table is full */
	CC_ERR_NOT_FOUND,      /* lookup found nothing */
	CC_ERR_STORE,          /* the store (database, file) failed */
	CC_ERR__COUNT
};

/** Human-readable text for an error; never NULL, never contains secrets. */
const char *cc_strerror(enum cc_err err);

/** A read-only view of bytes owned by someone else. */
struct cc_slice {
	const uint8_t *p;
	size_t len;
};

/** Reader over untrusted bytes. */
struct cc_rd {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

void cc_rd_init(struct cc_rd *rd, const uint8_t *p, size_t len);
CC_MUST_USE enum cc_err cc_rd_u8(struct cc_rd *rd, uint8_t *v);
CC_MUST_USE enum cc_err cc_rd_u16(struct cc_rd *rd, uint16_t *v);
CC_MUST_USE enum cc_err cc_rd_u32(struct cc_rd *rd, uint32_t *v);
CC_MUST_USE enum cc_err cc_rd_u64(struct cc_rd *rd, uint64_t *v);
/** Borrow the next n bytes without copying. */
CC_MUST_USE enum cc_err cc_rd_slice(struct cc_rd *rd, size_t n,
				    struct cc_slice *out);
/** Copy the next n bytes. */
CC_MUST_USE enum cc_err cc_rd_copy(struct cc_rd *rd, void *dst, size_t n);
/** Split off the next n bytes as a sub-reader, advancing rd past them. */
CC_MUST_USE enum cc_err cc_rd_sub(struct cc_rd *rd, size_t n,
				  struct cc_rd *sub);
/** CC_OK iff the reader has consumed every byte. */
CC_MUST_USE enum cc_err cc_rd_done(const struct cc_rd *rd);
size_t cc_rd_left(const struct cc_rd *rd);

/** Writer into a caller-owned buffer; lengths are back-filled. */
struct cc_wr {
	uint8_t *p;
	size_t cap;
	size_t pos;
	enum cc_err err; /* sticky: first failure wins */
};

void cc_wr_init(struct cc_wr *wr, uint8_t *p, size_t cap);
void cc_wr_u8(struct cc_wr *wr, uint8_t v);
void cc_wr_u16(struct cc_wr *wr, uint16_t v);
void cc_wr_u32(struct cc_wr *wr, uint32_t v);
void cc_wr_u64(struct cc_wr *wr, uint64_t v);
void cc_wr_bytes(struct cc_wr *wr, const void *src, size_t n);
/** Reserve n bytes; returns their offset (for back-filling). */
size_t cc_wr_skip(struct cc_wr *wr, size_t n);
/** Back-fill a 16-bit big-endian value at offset off. */
void cc_wr_put_u16_at(struct cc_wr *wr, size_t off, uint16_t v);
void cc_wr_put_u8_at(struct cc_wr *wr, size_t off, uint8_t v);
/** The sticky status. */
CC_MUST_USE enum cc_err cc_wr_status(const struct cc_wr *wr);

/** Constant-time equality of two n-byte buffers. */
CC_MUST_USE bool cc_ct_equal(const void *a, const void *b, size_t n);
/** Wipe memory in a way the compiler cannot drop. */
void cc_wipe(void *p, size_t n);

/** Hex helpers (for tools and tests; never used on secrets in logs). */
CC_MUST_USE enum cc_err cc_hex_decode(const char *hex, uint8_t *out, size_t cap,
				      size_t *outlen);
void cc_hex_encode(const uint8_t *p, size_t n, char *out /* 2n+1 */);

/** Base64 (RFC 4648, with padding), as in SDP a=key-mgmt (RFC 4567).
 *  encode writes a NUL-terminated string of 4*ceil(n/3) chars into out. */
CC_MUST_USE enum cc_err cc_b64_encode(const uint8_t *p, size_t n, char *out,
				      size_t cap);
/** Strict decode: whitespace is skipped; any other non-alphabet byte,
 *  bad padding or a length not a multiple of 4 is CC_ERR_MALFORMED. */
CC_MUST_USE enum cc_err cc_b64_decode(const char *s, size_t slen, uint8_t *out,
				      size_t cap, size_t *outlen);

/* ---- daemon config files ---------------------------------------------- */

/** One `key value` setting; false if the key or value is bad. */
typedef bool(cc_conf_key_h)(const char *key, const char *value, void *arg);

/**
 * Read a config file of `key value` lines ('#' starts a comment, blank
 * lines skipped) and hand each to h. A missing file is fine unless must.
 * On a bad line or an unreadable file, prints "PROG: PATH[:LINE]: ..." on
 * stderr and returns 2 (the daemons' usage exit status); else 0.
 */
int cc_conf_file(const char *prog, const char *path, bool must,
		 cc_conf_key_h *h, void *arg);

#endif
