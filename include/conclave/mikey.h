/*
 * mikey.h -- the MIKEY (RFC 3830) / MIKEY-TICKET (RFC 6043) library.
 *
 * Layers, bottom up (none does I/O; time and randomness come from callers):
 *   codec    mikey_decode / mikey_encode: HDR + payload chain <-> structs.
 *            Zero-copy: decoded slices point into the caller's buffer.
 *   layout   mikey_check_layout: payload order and optionality per message
 *            type (spec/mikey-ticket.md §4, §8, §9).
 *   seal     mikey_seal / mikey_verify: KEMAC encryption and the V MAC with
 *            the RFC 6043 §5.5 coverage rules.
 *   ticket   the MIKEY base ticket (RFC 6043 App. A) and Initiator Data.
 *   replay   timestamp window and bounded replay cache.
 * Crypto primitives live in mikey_crypto.h, code points in mikey_wire.h.
 */
#ifndef CONCLAVE_MIKEY_H
#define CONCLAVE_MIKEY_H

#include <conclave/base.h>
#include <conclave/mikey_crypto.h>
#include <conclave/mikey_wire.h>

enum {
	MIKEY_MAX_CS = 32,     /* crypto sessions per message */
	MIKEY_MAX_PL = 32,     /* payloads per chain */
	MIKEY_MAX_POLNO = 8,   /* policies offered per GENERIC-ID CS */
	MIKEY_MAX_SPI = 16,    /* SPI / MKI bytes */
	MIKEY_MAX_KEYS = 16,   /* key-data sub-payloads per KEMAC */
	MIKEY_MAX_MSG = 65535, /* largest message we build or accept */
};

/** Where a decode failed: payload and field names, byte offset. */
struct mikey_diag {
	const char *payload;
	const char *field;
	size_t offset;
};

/** One CS ID map entry (SRTP-ID, RFC 3830 §6.1.1; GENERIC-ID, RFC 6043
 *  §6.1.1). For SRTP-ID cs_id is the ordinal, policies[0] the policy. */
struct mikey_cs {
	uint8_t cs_id;
	uint8_t prot;
	bool s; /* GENERIC-ID: ROC and SEQ present */
	uint8_t npol;
	uint8_t policies[MIKEY_MAX_POLNO];
	bool has_ssrc; /* session data present (SRTP) */
	uint32_t ssrc;
	uint32_t roc;
	uint16_t seq;
	struct cc_slice sdata; /* GENERIC-ID non-SRTP session data, raw */
	uint8_t spi_len;
	uint8_t spi[MIKEY_MAX_SPI];
};

/** Common header (RFC 3830 §6.1). */
struct mikey_hdr {
	uint8_t version;
	uint8_t data_type;
	bool v;
	uint8_t prf;
	uint32_t csb_id;
	uint8_t ncs;
	uint8_t map_type;
	struct mikey_cs cs[MIKEY_MAX_CS];
};

/** T (RFC 3830 §6.6): value as on the wire (32 or 64 bits). */
struct mikey_ts {
	uint8_t type;
	uint64_t value;
};

/** Payload bodies. Slices point into the decoded buffer. */
struct mikey_pl_kemac {
	uint8_t encr_alg;
	struct cc_slice encr; /* Encr data (ciphertext) */
	uint8_t mac_alg;
	struct cc_slice mac;
};

struct mikey_pl_ticket {
	uint16_t ticket_type;
	uint8_t subtype;
	uint8_t version;
	uint8_t prf;
	uint16_t flags; /* enum mikey_tp_flag, D included */
	struct cc_slice tp_data;
	/* TICKET only (not TP): */
	struct cc_slice ticket_data;
	struct cc_slice init_data;
};

struct mikey_pl {
	uint16_t type; /* enum mikey_pt */
	size_t off;    /* offset of the payload in the encoded buffer */
	size_t len;    /* its encoded length */
	union {
		struct mikey_ts t; /* T */
		struct {
			uint8_t role;
			struct mikey_ts ts;
		} tr; /* TR */
		struct {
			uint8_t role;
			struct cc_slice data;
		} rand; /* RAND, RANDR */
		struct {
			uint8_t role;
			uint8_t type;
			struct cc_slice data;
		} id; /* ID, IDR */
		struct {
			uint8_t policy_no;
			uint8_t prot;
			struct cc_slice params;
		} sp;
		struct mikey_pl_kemac kemac;
		struct {
			uint8_t alg;
			struct cc_slice mac;
		} v;
		struct {
			uint8_t errno_;
			uint16_t reserved;
		} err;
		struct {
			uint8_t type;
			struct cc_slice data;
		} ext;
		struct mikey_pl_ticket ticket; /* TP and TICKET */
		struct {
			struct cc_slice data;
		} thdr;
	} u;
};

/** A payload chain (a message body, TP Data, Ticket Data, Initiator Data). */
struct mikey_chain {
	struct mikey_pl pl[MIKEY_MAX_PL];
	size_t n;
	bool overflow; /* sticky: an add found the chain full */
};

/** A decoded or to-be-encoded message. */
struct mikey_msg {
	struct mikey_hdr hdr;
	struct mikey_chain ch;
};

/* ---- codec ---------------------------------------------------------- */

/**
 * Decode a whole message: HDR then the chain, which must end exactly at the
 * end of the buffer. Structural checks only (lengths, code points, nested
 * TICKET/TP fields); order per message type is mikey_check_layout's job.
 * On failure *diag (if given) names the payload and field.
 */
CC_MUST_USE enum cc_err mikey_decode(const uint8_t *buf, size_t len,
				     struct mikey_msg *msg,
				     struct mikey_diag *diag);

/**
 * Decode a nested chain: TP Data and Initiator Data (first byte = first
 * payload type, A9) with first_byte = true; base-ticket Ticket Data (starts
 * with the implicit THDR) with first_byte = false. Offsets are relative to
 * buf.
 */
CC_MUST_USE enum cc_err mikey_decode_chain(const uint8_t *buf, size_t len,
					   bool first_byte,
					   struct mikey_chain *ch,
					   struct mikey_diag *diag);

/**
 * Decode the body of a TICKET (ticket = true) or TP payload -- the payload
 * without its next-payload byte, e.g. a TICKET kept byte-exact from a
 * REQUEST_RESP -- with the same checks mikey_decode applies.
 */
CC_MUST_USE enum cc_err mikey_ticket_decode(const uint8_t *body, size_t len,
					    bool ticket,
					    struct mikey_pl_ticket *t,
					    struct mikey_diag *diag);

/**
 * Encode msg into wr. Next-payload bytes are filled from the chain order.
 * Each payload's off/len in msg are set to where it was written (so the
 * caller can find the V and KEMAC payloads).
 */
CC_MUST_USE enum cc_err mikey_encode(struct mikey_msg *msg, struct cc_wr *wr);

/** Encode a nested chain (see mikey_decode_chain for first_byte). */
CC_MUST_USE enum cc_err mikey_encode_chain(struct mikey_chain *ch,
					   bool first_byte, struct cc_wr *wr);

/** Append a payload to a chain; returns NULL (and marks the chain, so
 *  encoding fails with CC_ERR_FULL) if the chain is full. */
struct mikey_pl *mikey_chain_add(struct mikey_chain *ch, uint16_t type);

/** The role byte of an IDR, RANDR or TR payload; 0 for other types. */
uint8_t mikey_pl_role(const struct mikey_pl *pl);

/** Fill *diag (if given) and return err: how every decoder reports. */
enum cc_err mikey_diag_fail(struct mikey_diag *diag, enum cc_err err,
			    const char *payload, const char *field,
			    size_t offset);

/** First payload of a type (and, for IDR/RANDR/TR, role; 0 = any role). */
const struct mikey_pl *mikey_chain_find(const struct mikey_chain *ch,
					uint16_t type, uint8_t role);

/* Builders: append one payload to a chain (NULL if full, see above). */
void mikey_msg_init(struct mikey_msg *msg, uint8_t data_type, bool v,
		    enum mikey_prf prf, uint32_t csb_id, uint8_t map_type);
struct mikey_pl *mikey_add_t(struct mikey_chain *ch, uint8_t ts_type,
			     uint64_t value);
struct mikey_pl *mikey_add_tr(struct mikey_chain *ch, uint8_t role,
			      uint8_t ts_type, uint64_t value);
struct mikey_pl *mikey_add_randr(struct mikey_chain *ch, uint8_t role,
				 struct cc_slice rand);
struct mikey_pl *mikey_add_idr(struct mikey_chain *ch, uint8_t role,
			       uint8_t id_type, struct cc_slice id);
struct mikey_pl *mikey_add_sp(struct mikey_chain *ch, uint8_t policy_no,
			      struct cc_slice params);
struct mikey_pl *mikey_add_kemac(struct mikey_chain *ch);
struct mikey_pl *mikey_add_v(struct mikey_chain *ch);
struct mikey_pl *mikey_add_ext(struct mikey_chain *ch, uint8_t type,
			       struct cc_slice data);
/** A GENERIC-ID CS for SRTP (ssrc 0 with has_ssrc false = left empty). */
CC_MUST_USE enum cc_err mikey_hdr_add_cs(struct mikey_hdr *h, uint8_t cs_id,
					 uint8_t policy_no, bool has_ssrc,
					 uint32_t ssrc, const uint8_t *spi,
					 uint8_t spi_len);
/** Slice of a NUL-terminated string (identities are ID Data bytes). */
struct cc_slice mikey_str(const char *s);

/** Names for code points (never NULL; "unknown" for unknown values). */
const char *mikey_data_type_name(unsigned v);
const char *mikey_pt_name(unsigned v);
const char *mikey_errno_name(unsigned v);

/* ---- General Extension contents (RFC 3830 §6.15, RFC 4563 §4) ------- */

struct mikey_key_id {
	uint8_t type;
	struct cc_slice id;
};

/**
 * Split the data of a Key ID extension (type 3) into its entries:
 * Key ID Type (8) || Key ID Length (8) || Key ID, repeated. The decoder
 * already rejects Key ID data that does not tile exactly.
 */
CC_MUST_USE enum cc_err mikey_key_ids_decode(struct cc_slice data,
					     struct mikey_key_id *out,
					     size_t max, size_t *n);

/* ---- key data (KEMAC plaintext, RFC 3830 §6.13, RFC 6043 §6.2.1) ----- */

struct mikey_key {
	uint8_t type; /* enum mikey_key_type */
	uint8_t kv;   /* enum mikey_kv */
	struct cc_slice key;
	struct cc_slice salt;   /* only for +SALT types */
	struct cc_slice spi;    /* KV = SPI */
	struct cc_slice vf, vt; /* KV = Interval */
};

struct mikey_keys {
	struct mikey_key k[MIKEY_MAX_KEYS];
	size_t n;
};

/**
 * Parse a decrypted key-data chain. allow_pad accepts up to 7 trailing zero
 * bytes after the last sub-payload (AES-KW KW-PAD, spec/ambiguities.md A28).
 */
CC_MUST_USE enum cc_err mikey_keys_decode(const uint8_t *buf, size_t len,
					  bool allow_pad,
					  struct mikey_keys *keys,
					  struct mikey_diag *diag);

/** Encode a key-data chain (plaintext; encrypt with mikey_kemac_encrypt). */
CC_MUST_USE enum cc_err mikey_keys_encode(const struct mikey_keys *keys,
					  struct cc_wr *wr);

/* ---- SRTP security policy (SP payload TLVs, RFC 3830 §6.10.1) -------- */

struct mikey_srtp_policy {
	uint32_t present;                      /* bit n = param n sent */
	uint32_t val[MIKEY_SRTP_PARAM__COUNT]; /* big-endian integer value */
	uint8_t vlen[MIKEY_SRTP_PARAM__COUNT]; /* bytes on the wire */
};

/** Parse SRTP policy TLVs. Unknown types / bad lengths are rejected. */
CC_MUST_USE enum cc_err mikey_srtp_policy_decode(struct cc_slice params,
						 struct mikey_srtp_policy *pol,
						 struct mikey_diag *diag);

/** Encode SRTP TLVs in ascending type order. */
CC_MUST_USE enum cc_err
mikey_srtp_policy_encode(const struct mikey_srtp_policy *pol, struct cc_wr *wr);

/** Set one SRTP parameter (1-byte value unless vlen says otherwise). */
void mikey_srtp_policy_set(struct mikey_srtp_policy *pol, unsigned type,
			   uint32_t val, uint8_t vlen);

/** The default policies: AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM. */
void mikey_srtp_policy_aes_cm_128_sha1_80(struct mikey_srtp_policy *pol);
void mikey_srtp_policy_aes_128_gcm(struct mikey_srtp_policy *pol);

/* ---- layout (payload order per message, spec/mikey-ticket.md §4) ---- */

/** Which exchange a TRANSFER_INIT / TRANSFER_RESP belongs to. */
enum mikey_variant {
	MIKEY_INITIAL = 0, /* the first Ticket Transfer of a CSB */
	MIKEY_UPDATE_BY_I, /* CSB update started by the original Initiator */
	MIKEY_UPDATE_BY_R, /* CSB update started by the original Responder */
};

/**
 * Check HDR rules and payload order/optionality for msg's data type
 * (RFC 6043 §4.2, §5.2, §5.4). Known payloads a message does not list are
 * ignored (spec/ambiguities.md A10), except that V must be last and an
 * update may not carry RANDR or TICKET. Only the PSK variants are accepted.
 */
CC_MUST_USE enum cc_err mikey_check_layout(const struct mikey_msg *msg,
					   enum mikey_variant variant,
					   struct mikey_diag *diag);

/** Layout of TP Data (RFC 6043 §6.10). ticket=true: granted policy (no
 *  KEMAC allowed). */
CC_MUST_USE enum cc_err mikey_check_tp_data(const struct mikey_chain *ch,
					    bool granted,
					    struct mikey_diag *diag);

/** RFC 6043 §6.10 flag dependencies; CC_ERR_POLICY names the rule. */
CC_MUST_USE enum cc_err mikey_check_flags(uint16_t flags,
					  struct mikey_diag *diag);

/**
 * Who may supply session keys (RFC 6043 §4.2.2, §5.2, §6.10;
 * spec/ambiguities.md A29): a KEMAC sent by the Initiator needs L = 1, one
 * sent by the Responder M = 1. The sender follows from the data type and
 * variant. CC_ERR_POLICY (Error no 15) otherwise. Run after the MAC check
 * and before installing anything.
 */
CC_MUST_USE enum cc_err mikey_check_key_supply(const struct mikey_msg *msg,
					       enum mikey_variant variant,
					       uint16_t flags,
					       struct mikey_diag *diag);

/* ---- seal and open (KEMAC + V with RFC 6043 §5.5 coverage) ---------- */

/** What to append to the MAC input (Table 5.2): identities for *_INIT,
 *  the complete initial message for *_RESP. */
struct mikey_mac_extra {
	struct cc_slice part[3];
	size_t n;
};

struct mikey_seal_opts {
	const struct mikey_msg_keys *keys; /* V auth key, KEMAC encr/salt */
	struct mikey_keyed *keyed;         /* or the same, prepared (faster) */
	const struct mikey_keys *kemac;    /* plaintext for the KEMAC, if any */
	struct mikey_mac_extra extra;
	/* Key forking (I = 1) in a TRANSFER_INIT: build Initiator Data with
	 * Vi and Vr (RFC 6043 §6.10); Vr is keyed from the un-forked MPKr. */
	const uint8_t *fork_mpkr;
	size_t fork_mpkr_len;
	uint8_t fork_prf;
};

/**
 * Encode msg into wr, encrypting the KEMAC payload's key data (if
 * opts->kemac) with the message's CSB ID and T (A2), and filling the V
 * payload's MAC. The chain must end with a V payload whose alg equals
 * keys->mac_alg (set by mikey_seal if left 0 and keys given).
 */
CC_MUST_USE enum cc_err mikey_seal(struct mikey_msg *msg,
				   const struct mikey_seal_opts *opts,
				   struct cc_wr *wr);

/**
 * Verify the V MAC of a decoded message (buf/len as decoded) in constant
 * time. CC_ERR_MISSING if there is no V; CC_ERR_BAD_MAC if it fails or the
 * alg does not match keys->mac_alg.
 */
CC_MUST_USE enum cc_err mikey_verify(const uint8_t *buf, size_t len,
				     const struct mikey_msg *msg,
				     const struct mikey_msg_keys *keys,
				     const struct mikey_mac_extra *extra);

/** mikey_verify with a prepared key set (mikey_keyed_alloc). */
CC_MUST_USE enum cc_err mikey_verify_keyed(const uint8_t *buf, size_t len,
					   const struct mikey_msg *msg,
					   struct mikey_keyed *kd,
					   const struct mikey_mac_extra *extra);

/**
 * Decrypt and parse the message's KEMAC (the first one in the chain).
 * Key slices point into plain (secret: wipe it after use).
 */
CC_MUST_USE enum cc_err mikey_kemac_open(const struct mikey_msg *msg,
					 const struct mikey_msg_keys *keys,
					 uint8_t *plain, size_t cap,
					 struct mikey_keys *out,
					 struct mikey_diag *diag);

/** mikey_kemac_open with a prepared key set. */
CC_MUST_USE enum cc_err mikey_kemac_open_keyed(const struct mikey_msg *msg,
					       struct mikey_keyed *kd,
					       uint8_t *plain, size_t cap,
					       struct mikey_keys *out,
					       struct mikey_diag *diag);

/** 64-bit timestamp of the message's T payload for IVs (A2, A20). */
CC_MUST_USE enum cc_err mikey_msg_t64(const struct mikey_msg *msg,
				      uint64_t *t64);

/** Expand a T value to 64 bits (A20). */
uint64_t mikey_ts_to64(const struct mikey_ts *ts);

/* ---- base ticket (Ticket Type 1, RFC 6043 App. A) -------------------- */

struct mikey_ticket_seal_in {
	const uint8_t *tpk; /* ticket-protection key */
	size_t tpk_len;
	struct cc_slice tpk_id; /* IDRpsk: names the TPK, so it can rotate */
	enum mikey_encr encr_alg;
	enum mikey_mac mac_alg;
	struct mikey_ts t;    /* time of issue */
	struct cc_slice rand; /* Ticket Data RAND (>= TPK/MPK length) */
	const struct mikey_keys *keys; /* MPK first, then TGK/TEK/GTGK */
};

/**
 * Build Ticket Data into out and point t->ticket_data at it. t's policy
 * fields and tp_data must be final: the ticket MAC covers them.
 */
CC_MUST_USE enum cc_err mikey_ticket_seal(struct mikey_pl_ticket *t,
					  const struct mikey_ticket_seal_in *in,
					  uint8_t *out, size_t cap);

/** Look up a TPK by its id; returns CC_ERR_NOT_FOUND if unknown. */
typedef enum cc_err(mikey_tpk_lookup_h)(struct cc_slice tpk_id, void *arg,
					const uint8_t **tpk, size_t *tpk_len);

/**
 * Open a base ticket: check type/subtype/version (CC_ERR_TICKET_TYPE),
 * find the TPK by IDRpsk, verify the ticket MAC (CC_ERR_BAD_MAC), decrypt
 * the KEMAC into plain. *issued receives the ticket's T.
 */
CC_MUST_USE enum cc_err mikey_ticket_open(const struct mikey_pl_ticket *t,
					  mikey_tpk_lookup_h *lookup, void *arg,
					  uint8_t *plain, size_t cap,
					  struct mikey_keys *keys,
					  struct mikey_ts *issued,
					  struct mikey_diag *diag);

/** Vi MAC of the Initiator Data (alg and MAC), for the Responder's check
 *  against the TRANSFER_INIT's V (RFC 6043 §4.2.3.6, A27). */
CC_MUST_USE enum cc_err mikey_initiator_data_vi(struct cc_slice init_data,
						uint8_t *alg,
						struct cc_slice *mac);

/** KMS check of Vr over the Initiator Data with the un-forked MPKr. */
CC_MUST_USE enum cc_err mikey_initiator_data_verify(struct cc_slice init_data,
						    enum mikey_prf prf,
						    const uint8_t *mpkr,
						    size_t mpkr_len);

/* ---- time and replay (RFC 3830 §5.3-5.4) ---------------------------- */

/** NTP (seconds since 1900 << 32 | fraction) from Unix seconds. */
uint64_t mikey_ntp_from_unix(int64_t unix_sec, uint32_t frac);
/** Unix seconds of a T/TR value, with the RFC 4330 era rule. */
int64_t mikey_ts_unix(const struct mikey_ts *ts);

/**
 * Timestamp window: CC_ERR_STALE if ts is more than skew seconds before
 * now, CC_ERR_FUTURE if more than skew after; COUNTER is not a clock and
 * always passes here (the replay cache catches repeats).
 */
CC_MUST_USE enum cc_err mikey_ts_check(const struct mikey_ts *ts,
				       int64_t now_unix, uint32_t skew);

struct mikey_replay;

/** A bounded replay cache of capacity entries and the given skew. */
CC_MUST_USE enum cc_err mikey_replay_alloc(struct mikey_replay **rp,
					   size_t capacity, uint32_t skew);
void mikey_replay_free(struct mikey_replay *r);
/** Change the skew for entries added from now on (entries already in the
 *  cache keep their expiry). */
void mikey_replay_set_skew(struct mikey_replay *r, uint32_t skew);

/**
 * Check a verified message against the cache and remember it until
 * T + skew. The key is the message's V MAC (unforgeable without the key)
 * with its data type and CSB ID. CC_ERR_REPLAY if seen. The cache is
 * bounded and allocated up front: when it is full the oldest entry goes
 * and the window shrinks to exclude its T (RFC 3830 §5.4), so a message
 * stamped at or before that is CC_ERR_STALE.
 */
CC_MUST_USE enum cc_err mikey_replay_add(struct mikey_replay *r,
					 const struct mikey_msg *msg,
					 int64_t now_unix);
size_t mikey_replay_count(const struct mikey_replay *r);

/** Has this (verified) message been seen? CC_ERR_REPLAY if so; changes
 *  nothing, so a handler can refuse a replay early and commit it with
 *  mikey_replay_add only once everything else passed. */
CC_MUST_USE enum cc_err mikey_replay_seen(const struct mikey_replay *r,
					  const struct mikey_msg *msg,
					  int64_t now_unix);

/* ---- MIKEY Error messages (RFC 6043 §5.4) --------------------------- */

/** The MIKEY error number for a library error (for Error messages). */
enum mikey_errno mikey_errno_for(enum cc_err err);

/**
 * Build an unauthenticated Error message answering the failed message
 * hdr (version, PRF, CSB ID copied; V = 0): HDR, T, ERR (A26).
 */
CC_MUST_USE enum cc_err mikey_build_error(const struct mikey_hdr *failed,
					  uint64_t now_ntp,
					  enum mikey_errno errno_,
					  struct cc_wr *wr);

/** The KEMAC encr alg (MIKEY_ENCR_NULL if no KEMAC) and V auth alg
 *  (MIKEY_MAC_NULL if no V) of a message: what keys to derive. */
void mikey_msg_algs(const struct mikey_msg *msg, enum mikey_encr *encr,
		    enum mikey_mac *mac);

/** Error number for a failure, refined by the diag field when given. */
enum mikey_errno mikey_errno_for_diag(enum cc_err err,
				      const struct mikey_diag *diag);

#endif
