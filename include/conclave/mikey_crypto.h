/*
 * mikey_crypto.h -- MIKEY / MIKEY-TICKET cryptography on OpenSSL libcrypto:
 * the two PRFs, every key derivation, KEMAC encryption and MACs.
 * No I/O; randomness is never drawn here (callers pass keys in).
 */
#ifndef CONCLAVE_MIKEY_CRYPTO_H
#define CONCLAVE_MIKEY_CRYPTO_H

#include <conclave/base.h>
#include <conclave/mikey_wire.h>

/**
 * The MIKEY PRF (RFC 3830 §4.1.2; PRF-HMAC-SHA-256 RFC 6043 §6.1):
 * out = first out_len bytes of XOR over 256-bit inkey chunks of P(s_i,label,m).
 */
CC_MUST_USE enum cc_err mikey_prf(enum mikey_prf prf, const uint8_t *inkey,
				  size_t inkey_len, const uint8_t *label,
				  size_t label_len, uint8_t *out,
				  size_t out_len);

/** Key length in bytes for an encryption / MAC algorithm, 0 for NULL. */
size_t mikey_encr_key_len(enum mikey_encr alg);
size_t mikey_encr_salt_len(enum mikey_encr alg); /* 14 for CM, 8 for KW */
size_t mikey_mac_key_len(enum mikey_mac alg);
size_t mikey_mac_len(enum mikey_mac alg); /* tag bytes: 0, 20, 32 */

/** encr_key, auth_key, salt_key protecting one MIKEY message. Secret. */
struct mikey_msg_keys {
	enum mikey_encr encr_alg;
	enum mikey_mac mac_alg;
	uint8_t encr[32];
	uint8_t auth[32];
	uint8_t salt[14];
};

/**
 * Message-protection keys from a PSK, envelope key, MPKi or MPKr'
 * (RFC 6043 §5.1.2): label = const || 0xFF || csb_id || dir ||
 * len(RANDRi) || RANDRi || len(RANDRr) || RANDRr. dir is MIKEY_LBL_INIT or
 * MIKEY_LBL_RESP. An absent RAND is an empty slice. The PRF is the HDR's
 * PRF func (RFC 6043 names none here; spec/ambiguities.md A13); forking,
 * Vr, TPK and MPK derivations take the Ticket Policy PRF instead.
 */
CC_MUST_USE enum cc_err
mikey_derive_msg_keys(enum mikey_prf prf, const uint8_t *inkey,
		      size_t inkey_len, uint32_t csb_id, uint8_t dir,
		      struct cc_slice randri, struct cc_slice randrr,
		      enum mikey_encr encr, enum mikey_mac mac,
		      struct mikey_msg_keys *out);

/**
 * Base-ticket keys from the TPK (RFC 6043 App. A.2.1): label = const ||
 * 0xFF || 0xFFFFFFFF || 0x05 || len(RAND) || RAND.
 */
CC_MUST_USE enum cc_err
mikey_derive_ticket_keys(enum mikey_prf prf, const uint8_t *tpk, size_t tpk_len,
			 struct cc_slice rand, enum mikey_encr encr,
			 enum mikey_mac mac, struct mikey_msg_keys *out);

/**
 * MPKi (responder=false) or MPKr (responder=true) from the MPK
 * (RFC 6043 App. A.2.2); out has mpk_len bytes.
 */
CC_MUST_USE enum cc_err mikey_derive_mpk(enum mikey_prf prf, const uint8_t *mpk,
					 size_t mpk_len, struct cc_slice rand,
					 bool responder, uint8_t *out);

/**
 * TEK (or salt, or other key chosen by constant) for a CS from a TGK, TGK'
 * or GTGK (RFC 6043 §5.1.3): label = const || cs_id || 0xFFFFFFFF || 0x03
 * || len(RANDRi) || RANDRi || len(RANDRr) || RANDRr. Pass an empty slice
 * for a RAND the H/G flags exclude.
 */
CC_MUST_USE enum cc_err mikey_derive_tek(enum mikey_prf prf, const uint8_t *tgk,
					 size_t tgk_len, uint32_t constant,
					 uint8_t cs_id, struct cc_slice randri,
					 struct cc_slice randrr, uint8_t *out,
					 size_t out_len);

/**
 * Key forking (RFC 6043 §5.1.1): MPKr' (constant MIKEY_C_FORK_MPKR) or TGK'
 * (MIKEY_C_FORK_TGK) from MPKr/TGK with the modifier IDRr ID Data and
 * RANDRkms. label = const || 0xFF || 0xFFFFFFFF || 0x00 || len16(id) || id
 * || len8(randrkms) || randrkms. out has key_len bytes.
 */
CC_MUST_USE enum cc_err mikey_fork(enum mikey_prf prf, uint32_t constant,
				   const uint8_t *key, size_t key_len,
				   struct cc_slice id, struct cc_slice randrkms,
				   uint8_t *out);

/**
 * Vr auth key from the un-forked MPKr (RFC 6043 §6.10): label = 0x2D22AC75
 * || 0xFF || 0xFFFFFFFF || 0x04. out has mikey_mac_key_len(mac) bytes.
 */
CC_MUST_USE enum cc_err mikey_derive_vr_key(enum mikey_prf prf,
					    const uint8_t *mpkr,
					    size_t mpkr_len, enum mikey_mac mac,
					    uint8_t *out);

/**
 * KEMAC AES-CM IV (RFC 3830 §4.2.3): (salt XOR (0x0000 || csb_id || t64))
 * || 0x0000. t64 is the 64-bit timestamp (32-bit types zero-extended,
 * spec/ambiguities.md A20; the T of the carrying message, A2).
 */
void mikey_kemac_iv(const uint8_t salt[14], uint32_t csb_id, uint64_t t64,
		    uint8_t iv[16]);

/**
 * Encrypt key-data bytes for a KEMAC with keys->encr_alg.
 * NULL: copy. AES-CM-128/256: counter mode from mikey_kemac_iv, same length.
 * AES-KW-128: KW-PAD of spec/ambiguities.md A28 (zero-pad to a multiple of
 * 8 and >= 16, RFC 3394 wrap with IV = the 64-bit salt); out_len = padded+8.
 * out must have room for in_len + 24.
 */
CC_MUST_USE enum cc_err mikey_kemac_encrypt(const struct mikey_msg_keys *keys,
					    uint32_t csb_id, uint64_t t64,
					    const uint8_t *in, size_t in_len,
					    uint8_t *out, size_t out_cap,
					    size_t *out_len);

/**
 * Decrypt KEMAC Encr data. For AES-KW the result still holds the zero
 * padding (the key-data parser accepts <= 7 trailing zero bytes, A28); a
 * length not a multiple of 8 or below 24 is CC_ERR_MALFORMED, a failed
 * integrity check CC_ERR_BAD_MAC.
 */
CC_MUST_USE enum cc_err mikey_kemac_decrypt(const struct mikey_msg_keys *keys,
					    uint32_t csb_id, uint64_t t64,
					    const uint8_t *in, size_t in_len,
					    uint8_t *out, size_t out_cap,
					    size_t *out_len);

/**
 * MAC over the concatenation of parts (HMAC-SHA-1-160 or HMAC-SHA-256-256,
 * RFC 3830 §4.2.4, RFC 6043 §6.2). Writes mikey_mac_len(alg) bytes.
 */
CC_MUST_USE enum cc_err mikey_mac_compute(enum mikey_mac alg,
					  const uint8_t *key, size_t key_len,
					  const struct cc_slice *parts,
					  size_t nparts, uint8_t *mac);

/** Recompute and compare in constant time; CC_ERR_BAD_MAC on mismatch. */
CC_MUST_USE enum cc_err mikey_mac_verify(enum mikey_mac alg, const uint8_t *key,
					 size_t key_len,
					 const struct cc_slice *parts,
					 size_t nparts, const uint8_t *mac,
					 size_t mac_len);

/** Wipe a key set. */
void mikey_msg_keys_wipe(struct mikey_msg_keys *k);

/*
 * A key set made ready for many messages: the HMAC inner/outer digest
 * states and the AES-CM key schedule are computed once, so each message
 * costs only its hashing and counter-mode work. A CSB keeps one for the
 * TRANSFER_RESP / update keys (RFC 6043 §5.2 reuses them for every CSB
 * update). Use from one thread at a time.
 */
struct mikey_keyed;

/** Prepare k (copied; the caller may wipe its own copy afterwards). */
CC_MUST_USE enum cc_err mikey_keyed_alloc(struct mikey_keyed **kp,
					  const struct mikey_msg_keys *k);
/** Wipe and free (NULL is fine). */
void mikey_keyed_free(struct mikey_keyed *kd);
/** The keys a prepared set was made from. */
const struct mikey_msg_keys *mikey_keyed_keys(const struct mikey_keyed *kd);
/** MAC with the prepared auth key, as mikey_mac_compute. */
CC_MUST_USE enum cc_err mikey_keyed_mac(struct mikey_keyed *kd,
					const struct cc_slice *parts,
					size_t nparts, uint8_t *mac);
/** Constant-time check, as mikey_mac_verify. */
CC_MUST_USE enum cc_err
mikey_keyed_mac_verify(struct mikey_keyed *kd, const struct cc_slice *parts,
		       size_t nparts, const uint8_t *mac, size_t mac_len);
/** KEMAC encryption / decryption with the prepared key schedule. */
CC_MUST_USE enum cc_err
mikey_keyed_kemac_crypt(struct mikey_keyed *kd, bool encrypt, uint32_t csb_id,
			uint64_t t64, const uint8_t *in, size_t in_len,
			uint8_t *out, size_t out_cap, size_t *out_len);

#endif
