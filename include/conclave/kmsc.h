/*
 * kmsc.h -- the KMS client: what a participant or a focus does in the
 * KMS-based solution (TR 33.829 clause 5.3, RFC 6043 mode 1), profile of
 * spec/3gpp-kms-conferencing.md §4.2.
 *
 *   Ticket Request   kmsc_request_build -> (POST) -> kmsc_request_open
 *   Ticket Transfer  Initiator: kmsc_transfer_init ... kmsc_transfer_resp_open
 *                    Responder: kmsc_resolve_init -> (POST) ->
 *                               kmsc_resolve_open -> kmsc_transfer_resp
 *
 * The message functions (src/kms/client*.c) do no I/O: the clock and the
 * random source come in a struct kmsc_env. Only kmsc_cred_load reads a
 * file, and only the kmsc_http_* / kmsc_*_ticket functions (src/kmsnet,
 * library cc_kmsnet, on libre) touch the network. Every secret (PSK, MPKs,
 * TGKs, TEKs, derived keys) is wiped by the *_wipe / kmsc_csb_free calls
 * and on every error path inside.
 */
#ifndef CONCLAVE_KMSC_H
#define CONCLAVE_KMSC_H

#include <conclave/mikey.h>

enum {
	KMSC_MAX_ID = 256, /* identities (ID Data bytes) + NUL */
	KMSC_MAX_URL = 512,
	KMSC_MAX_PSK = 32,
	KMSC_MAX_KEY = 32, /* MPK, TGK, TEK */
	KMSC_MAX_SALT = 32,
	KMSC_MAX_KEYS = 4, /* session keys per ticket / per KEMAC */
	KMSC_MAX_RESPONDERS = 16,
	KMSC_MAX_MEDIA = 8, /* m-lines: 2 crypto sessions each (A22) */
	/* our 2 per m-line plus the other members' streams a focus names
	 * with their ROC for a late joiner (D6) */
	KMSC_MAX_CS = MIKEY_MAX_CS,
	KMSC_MAX_MSG = 4096, /* MIKEY messages we keep for MAC coverage */
	KMSC_MAX_TICKET = 2048,
	KMSC_RAND_LEN = 16, /* RANDRi / RANDRr (profile: 128-bit keys) */
	KMSC_SKEW = 300,    /* default timestamp window, seconds */
};

/* ---- environment: time and randomness come from the caller ----------- */

typedef enum cc_err(kmsc_rand_h)(uint8_t *p, size_t n, void *arg);

struct kmsc_env {
	int64_t now;       /* Unix seconds */
	uint32_t skew;     /* timestamp window; 0 = KMSC_SKEW */
	kmsc_rand_h *rand; /* e.g. kmsc_rand_system */
	void *rand_arg;
};

/** OpenSSL RAND_bytes as a kmsc_rand_h. */
CC_MUST_USE enum cc_err kmsc_rand_system(uint8_t *p, size_t n, void *arg);

/* ---- typed outcome ----------------------------------------------------- */

enum kmsc_fail {
	KMSC_FAIL_NONE = 0,
	KMSC_FAIL_LOCAL,     /* our own check failed: err says why */
	KMSC_FAIL_MIKEY,     /* the peer answered with a MIKEY Error message */
	KMSC_FAIL_HTTP,      /* HTTP status other than 200 */
	KMSC_FAIL_TRANSPORT, /* connect/TLS/timeout: sys_err is an errno */
};

struct kmsc_status {
	enum kmsc_fail kind;
	enum cc_err err;
	int mikey_err;          /* Error no of a MIKEY Error message, else -1 */
	int http_status;        /* 0 if no HTTP answer */
	int sys_err;            /* errno of a transport failure */
	struct mikey_diag diag; /* where a local check failed */
};

/**
 * The cc_err a function returns for a received MIKEY Error message:
 * 0 Auth failure -> CC_ERR_BAD_MAC, 1 Invalid TS -> CC_ERR_STALE,
 * 7 Invalid ID -> CC_ERR_UNKNOWN_USER, 14 Invalid TICKET ->
 * CC_ERR_TICKET_TYPE, 15 Invalid TPpar -> CC_ERR_NOT_AUTHORISED, anything
 * else CC_ERR_MALFORMED. status.kind == KMSC_FAIL_MIKEY tells it apart from
 * a local failure with the same code.
 */
enum cc_err kmsc_err_for_mikey(int mikey_errno);

/** One line for logs ("MIKEY Error 15 (Invalid TPpar)", "HTTP 503", ...):
 *  never a key. */
const char *kmsc_status_str(const struct kmsc_status *st, char *buf,
			    size_t cap);

/* ---- participant credential (`conclave kms credential export`) ------- */

struct kmsc_cred {
	char identity[KMSC_MAX_ID]; /* IDRi / IDRr, e.g. sip:alice@... */
	char psk_id[KMSC_MAX_ID];   /* IDRpsk */
	uint8_t psk[KMSC_MAX_PSK];  /* secret */
	size_t psk_len;
	char kms_url[KMSC_MAX_URL];     /* e.g. http://127.0.0.1:8770/mikey */
	char kms_identity[KMSC_MAX_ID]; /* IDRkms */
};

/**
 * Read a credential file of `key = value` lines (identity, psk_id, psk as
 * hex, kms_url, kms_identity; '#' comments and blank lines ignored).
 * CC_ERR_NOT_AUTHORISED if the file is readable or writable by group or
 * others or is not a regular file; CC_ERR_MISSING if a key is absent;
 * CC_ERR_MALFORMED for a bad line or PSK; CC_ERR_NOT_FOUND if it cannot
 * be opened. The PSK is wiped from every temporary.
 */
CC_MUST_USE enum cc_err kmsc_cred_load(const char *path,
				       struct kmsc_cred *cred);
void kmsc_cred_wipe(struct kmsc_cred *cred);

/* ---- keys ---------------------------------------------------------------- */

/** A session key with its SPI/MKI (TGK, TEK, GTGK, +SALT). Secret. */
struct kmsc_key {
	uint8_t type; /* enum mikey_key_type */
	uint8_t key[KMSC_MAX_KEY];
	size_t key_len;
	uint8_t salt[KMSC_MAX_SALT];
	size_t salt_len;
	uint8_t spi[MIKEY_MAX_SPI];
	size_t spi_len;
};

/** The SRTP master key and salt of one crypto session. Secret. */
struct kmsc_tek {
	uint8_t cs_id;
	uint8_t policy_no;
	bool has_ssrc;
	uint32_t ssrc;
	uint32_t roc;
	uint16_t seq;
	uint8_t key[KMSC_MAX_KEY];
	size_t key_len;
	uint8_t salt[KMSC_MAX_SALT];
	size_t salt_len;
	uint8_t spi[MIKEY_MAX_SPI]; /* MKI */
	size_t spi_len;
};

/* ---- Ticket Request (RFC 6043 §4.2.1) -------------------------------- */

/** What the ticket is for: decides the desired L and M (A29 rule 1). */
enum kmsc_use {
	KMSC_CALL = 0,        /* ordinary 1:1 call: L = 0, M = 0 */
	KMSC_JOIN_CONFERENCE, /* participant -> factory/focus: M = 1 */
	KMSC_DIAL_OUT,        /* focus -> invited user: L = 1 */
};

struct kmsc_request_opts {
	enum kmsc_use use;
	const char *const *responders; /* IDRr list: who may resolve (>= 1) */
	size_t nresponders;
	uint32_t lifetime; /* TRe = now + lifetime; 0 = let the KMS choose */
	bool reuse;        /* ask for J */
};

/** A REQUEST_INIT_PSK in flight: POST msg[0..len) to the KMS. */
struct kmsc_request {
	uint8_t msg[KMSC_MAX_MSG];
	size_t len;
	uint32_t csb_id;
	uint8_t randri[KMSC_RAND_LEN];
	enum kmsc_use use;
	uint16_t flags; /* desired */
	bool open;      /* built, not yet answered */
};

/** A granted ticket and the keys the KMS gave its requester. Secret. */
struct kmsc_ticket {
	/* The TICKET payload as received, from Ticket Type to the end of the
	 * (empty) Initiator Data length: byte-exact, re-sent in every
	 * TRANSFER_INIT (RFC 6043 §4.2.2.1). */
	uint8_t raw[KMSC_MAX_TICKET];
	size_t raw_len;
	uint16_t ticket_type;
	uint8_t prf; /* Ticket Policy PRF (forking, A13) */
	uint16_t flags;
	int64_t valid_from;          /* Unix seconds; 0 = open */
	int64_t valid_to;            /* 0 = open */
	char initiator[KMSC_MAX_ID]; /* TP IDRi */
	char kms[KMSC_MAX_ID];       /* TP IDRkms */
	char responders[KMSC_MAX_RESPONDERS][KMSC_MAX_ID];
	size_t nresponders;
	uint8_t mpki[KMSC_MAX_KEY];
	uint8_t mpkr[KMSC_MAX_KEY]; /* only when I = 1 */
	size_t mpk_len;
	bool has_mpkr;
	struct kmsc_key keys[KMSC_MAX_KEYS]; /* TGK/TEK/GTGK with SPIs */
	size_t nkeys;
};

/**
 * Build a REQUEST_INIT_PSK: random CSB ID, NTP-UTC T, 16-byte RANDRi,
 * IDRi, IDRkms, TP (type 1/1/1, D E F H I N O, L/M per o->use, J if asked;
 * TP Data: IDRkms, IDRi, TRe, a KEMAC template for one TGK, IDRr list),
 * IDRpsk, V (PSK keys, dir 0x01; MAC extras Identity_i || Identity_kms).
 */
CC_MUST_USE enum cc_err kmsc_request_build(struct kmsc_request *rq,
					   const struct kmsc_cred *cred,
					   const struct kmsc_request_opts *o,
					   const struct kmsc_env *env);

/**
 * Open the KMS's answer. A REQUEST_RESP is verified (PSK keys dir 0x02,
 * MAC over RESP || INIT), its KEMAC opened (MPKi, [MPKr], keys) and the
 * granted policy checked (A29 rule 3: a JOIN without M is unacceptable;
 * I = 1, D = E = 1, flags consistent, type 1/1/1) -> *t. A MIKEY Error
 * message -> kmsc_err_for_mikey(no) with st->kind = KMSC_FAIL_MIKEY.
 * On any failure *t is wiped.
 */
CC_MUST_USE enum cc_err
kmsc_request_open(struct kmsc_request *rq, const struct kmsc_cred *cred,
		  const uint8_t *resp, size_t len, const struct kmsc_env *env,
		  struct kmsc_ticket *t, struct kmsc_status *st);

void kmsc_ticket_wipe(struct kmsc_ticket *t);

/* ---- one CSB (crypto session bundle) per Ticket Transfer -------------- */

enum kmsc_role {
	KMSC_INITIATOR = 1,
	KMSC_RESPONDER = 2
};

enum kmsc_csb_state {
	KMSC_CSB_NONE = 0,
	KMSC_CSB_INIT_SENT, /* I: TRANSFER_INIT built, waiting for RESP */
	KMSC_CSB_RESOLVING, /* R: RESOLVE_INIT built, waiting for the KMS */
	KMSC_CSB_RESOLVED,  /* R: TRANSFER_INIT verified, answer next */
	KMSC_CSB_READY,     /* both: TEKs derived, update keys prepared */
	KMSC_CSB_FAILED,
};

/**
 * What each side keeps for a CSB (spec/mikey-ticket.md §14 "Store per
 * CSB"): enough to verify the TRANSFER_RESP, derive TEKs, and protect the
 * CSB updates of RFC 6043 §5.2 with `update` (the TRANSFER_RESP keys).
 * Secret: free with kmsc_csb_free.
 */
struct kmsc_csb {
	enum kmsc_role role;
	enum kmsc_csb_state state;
	uint32_t csb_id;
	uint8_t hdr_prf; /* HDR PRF: message keys and TEKs (A13) */
	uint8_t tp_prf;  /* Ticket Policy PRF: forking */
	uint16_t flags;  /* granted Ticket Policy */
	enum mikey_encr encr;
	enum mikey_mac mac;
	uint8_t randri[KMSC_RAND_LEN];
	size_t randri_len;
	uint8_t randrr[KMSC_RAND_LEN]; /* of the TRANSFER_RESP, iff G */
	size_t randrr_len;
	uint8_t randrkms[KMSC_MAX_KEY]; /* fork modifier */
	size_t randrkms_len;
	char initiator[KMSC_MAX_ID]; /* Identity_i (R: verified, from TP) */
	char responder[KMSC_MAX_ID]; /* Identity_r of the TRANSFER_INIT MAC */
	char peer_r[KMSC_MAX_ID];    /* IDRr of RESOLVE_RESP / TRANSFER_RESP:
				      * the fork modifier and the Identity_r
				      * of later update MACs (A4, A23) */
	uint8_t mpki[KMSC_MAX_KEY];
	uint8_t mpkr[KMSC_MAX_KEY];      /* I only: the un-forked MPKr */
	uint8_t mpkr_fork[KMSC_MAX_KEY]; /* MPKr' */
	size_t mpk_len;
	struct kmsc_key keys[KMSC_MAX_KEYS * 2]; /* TGK' etc. + supplied */
	size_t nkeys;
	size_t nticket_keys; /* keys[0..nticket_keys) came from the ticket */
	struct kmsc_tek tek[KMSC_MAX_CS];
	size_t ntek;
	/* CS IDs 1..ncs_own are this CSB's own streams (A22); a higher one
	 * is another member's stream the focus named (D6), never updated */
	size_t ncs_own;
	uint64_t last_t;             /* newest T (NTP) accepted on this CSB */
	uint8_t xinit[KMSC_MAX_MSG]; /* the TRANSFER_INIT (RESP MAC input) */
	size_t xinit_len;
	/* Responder's Resolve exchange */
	uint8_t rinit[KMSC_MAX_MSG];
	size_t rinit_len;
	uint32_t r_csb_id;
	uint8_t r_rand[KMSC_RAND_LEN];
	/* The TRANSFER_RESP keys, prepared: they protect CSB updates in both
	 * directions (RFC 6043 §5.2). NULL until READY. */
	struct mikey_keyed *update;
};

/** Wipe every secret and free the prepared keys (NULL is fine). */
void kmsc_csb_free(struct kmsc_csb *c);

/* ---- Ticket Transfer, Initiator side (RFC 6043 §4.2.2) ---------------- */

struct kmsc_transfer_opts {
	const char *responder; /* IDRr = Identity_r of the MAC (required) */
	const uint32_t *ssrc;  /* our SSRC per m-line: CS 2k-1 (A22) */
	size_t nmedia;         /* 1..KMSC_MAX_MEDIA */
	/* the Responder's SSRC per m-line, CS 2k, filled in by a focus that
	 * assigns it (D6, dial-out); NULL leaves CS 2k to the Responder */
	const uint32_t *peer_ssrc;
	const struct kmsc_key *supply; /* KEMAC keys (needs L) or NULL */
	size_t nsupply;
};

/**
 * Build the TRANSFER_INIT (HDR V = F, GENERIC-ID map with CS 2k-1 = ours
 * and 2k = left for the Responder, T, RANDRi, IDRi, IDRr, SP 0 =
 * AES_CM_128_HMAC_SHA1_80, the TICKET byte-exact, [KEMAC], V with MPKi
 * keys dir 0x01 over INIT || Identity_i || Identity_r; with I = 1 the
 * Initiator Data Vi/Vr keyed from MPKr). *c is initialised.
 */
CC_MUST_USE enum cc_err kmsc_transfer_init(
	struct kmsc_csb *c, const struct kmsc_ticket *t,
	const struct kmsc_cred *cred, const struct kmsc_transfer_opts *o,
	const struct kmsc_env *env, uint8_t *out, size_t cap, size_t *outlen);

/**
 * Verify the TRANSFER_RESP: CSB ID, T window, IDRr and RANDRkms (forking:
 * MPKr' = fork(MPKr)), MAC with MPKr' (or MPKi) dir 0x02 over RESP || INIT,
 * a KEMAC only if M = 1; then derive the TEKs of every CS of the answer's
 * map (TGK' with H/G rules, or a supplied TEK+SALT) and prepare the update
 * keys. accept: identities or patterns (kms_identity_match) the answering
 * IDRr may have, e.g. the focus URI learnt from SIP when we called a
 * factory; NULL = exactly the IDRr of our TRANSFER_INIT. Otherwise
 * CC_ERR_NOT_AUTHORISED: every responder the ticket allows can answer
 * with a valid MAC under its own MPKr', so who answered is checked here.
 * On failure the CSB is unchanged and can take another answer.
 */
CC_MUST_USE enum cc_err
kmsc_transfer_resp_open(struct kmsc_csb *c, const uint8_t *resp, size_t len,
			const char *const *accept, size_t naccept,
			const struct kmsc_env *env, struct kmsc_status *st);

/* ---- Ticket Resolve + Transfer, Responder side ------------------------- */

struct kmsc_responder {
	const struct kmsc_cred *cred;
	const char *identity; /* IDRr sent to the KMS; NULL = cred->identity */
	const char *const *aliases; /* other identities of ours (exact), e.g.
				     * the factory URI a focus serves */
	size_t naliases;
	bool defer_authz; /* no local IDRr check: the KMS decides (patterns) */
	/* Optional, long-lived: TRANSFER_INITs already accepted. Checked
	 * before the Resolve, entered only once the INIT verified
	 * (spec/mikey-ticket.md §7 steps 2 and 7). */
	struct mikey_replay *replay;
};

/**
 * Take a received TRANSFER_INIT: decode, layout, early checks (A21: ticket
 * type 1/1/1, flags, D = E = 1, Initiator Data iff I, TRs/TRe vs now ±
 * skew, one of our identities among the ticket's IDRr unless defer_authz,
 * T window) and build the RESOLVE_INIT_PSK (RANDRr, IDRr, IDRkms, the
 * TICKET exactly as received with its Initiator Data, IDRpsk, V) into
 * out. Nothing here needs the KMS; a rejection here costs it nothing.
 */
CC_MUST_USE enum cc_err
kmsc_resolve_init(struct kmsc_csb *c, const struct kmsc_responder *r,
		  const uint8_t *xfer_init, size_t len,
		  const struct kmsc_env *env, uint8_t *out, size_t cap,
		  size_t *outlen, struct kmsc_status *st);

/**
 * Open the RESOLVE_RESP (or MIKEY Error): MAC over RESP || RESOLVE_INIT,
 * KEMAC -> MPKi, MPKr', TGK'; IDRr, RANDRkms. Then verify the
 * TRANSFER_INIT with MPKi (Identity_i = the ticket's IDRi, now trusted;
 * Identity_r = our identity the INIT named, else r->identity) and, with
 * forking, that its V equals Vi (RFC 6043 §4.2.3.6). On failure every key
 * is wiped and the CSB is FAILED.
 */
CC_MUST_USE enum cc_err kmsc_resolve_open(struct kmsc_csb *c,
					  const struct kmsc_responder *r,
					  const uint8_t *resp, size_t len,
					  const struct kmsc_env *env,
					  struct kmsc_status *st);

/** Another member's stream, named in a TRANSFER_RESP CS map with its
 *  ROC and SEQ (S = 1) so that a late joiner decrypts it at once (D6). */
struct kmsc_stream {
	uint32_t ssrc;
	uint32_t roc;
	uint16_t seq;
};

struct kmsc_answer_opts {
	const uint32_t *ssrc; /* our SSRC per m-line: CS 2k (A22) */
	size_t nmedia;
	/* the SSRC the Initiator must send with per m-line, CS 2k-1 (D6:
	 * a colliding offer is replaced); NULL keeps the offered ones */
	const uint32_t *peer_ssrc;
	/* other senders' streams, appended as CS IDs after the offered
	 * ones, each naming supply[0]'s SPI (needs nsupply) */
	const struct kmsc_stream *streams;
	size_t nstreams;
	const struct kmsc_key *supply; /* KEMAC keys (needs M), e.g. the
					* conference group key; the map then
					* names supply[0]'s SPI */
	size_t nsupply;
};

/**
 * Build the TRANSFER_RESP (T, [RANDRr iff G], IDRr and RANDRkms as in the
 * RESOLVE_RESP, [KEMAC], V with MPKr' (or MPKi) keys dir 0x02 over RESP ||
 * INIT), derive the TEKs and prepare the update keys. CSB -> READY.
 */
CC_MUST_USE enum cc_err kmsc_transfer_resp(struct kmsc_csb *c,
					   const struct kmsc_answer_opts *o,
					   const struct kmsc_env *env,
					   uint8_t *out, size_t cap,
					   size_t *outlen);

/** The TEK of a CS (NULL if none). */
const struct kmsc_tek *kmsc_csb_tek(const struct kmsc_csb *c, uint8_t cs_id);

/* ---- HTTP(S) transport (src/kmsnet, library cc_kmsnet, libre) ---------
 * POST <url> with Content-Type: application/mikey and the binary message
 * (DESIGN.md D11, spec/3gpp-kms-conferencing.md §4.1). The answer must be
 * HTTP 200 with a MIKEY body. */

struct kmsc_http_opts {
	const char *ca_file; /* PEM CA bundle for https:// (NULL: none) */
	uint32_t timeout_ms; /* whole request; 0 = 10000 */
	size_t max_body;     /* answer limit; 0 = KMSC_MAX_MSG */
};

/** Initialise libre once for this process (idempotent). */
CC_MUST_USE enum cc_err kmsc_net_init(void);

struct kmsc_httpc;

/** Answer handler: st->kind NONE with the body, or the failure. */
typedef void(kmsc_http_h)(const struct kmsc_status *st, const uint8_t *body,
			  size_t len, void *arg);

/** A client (holds libre's http_cli, DNS and TLS context); the caller
 *  runs libre's main loop. */
CC_MUST_USE enum cc_err kmsc_httpc_alloc(struct kmsc_httpc **cp,
					 const struct kmsc_http_opts *o);
void kmsc_httpc_free(struct kmsc_httpc *c);

/** Start one POST; h is called exactly once (from the main loop), unless
 *  the client is freed first. */
CC_MUST_USE enum cc_err kmsc_http_post(struct kmsc_httpc *c, const char *url,
				       const uint8_t *body, size_t len,
				       kmsc_http_h *h, void *arg);

/**
 * Blocking POST for CLIs and tests: runs re_main until the answer, an
 * error or timeout_ms. Must not be called from inside a running re_main.
 */
CC_MUST_USE enum cc_err kmsc_http_call(const char *url, const uint8_t *body,
				       size_t len, uint8_t *out, size_t cap,
				       size_t *outlen, uint32_t timeout_ms);

/** kmsc_http_call with options and a typed status. */
CC_MUST_USE enum cc_err
kmsc_http_call_opts(const char *url, const uint8_t *body, size_t len,
		    uint8_t *out, size_t cap, size_t *outlen,
		    const struct kmsc_http_opts *o, struct kmsc_status *st);

/** Ticket Request over HTTP (blocking): build, POST to cred->kms_url,
 *  open (issue §5 request_ticket). */
CC_MUST_USE enum cc_err kmsc_request_ticket(const struct kmsc_cred *cred,
					    const struct kmsc_request_opts *o,
					    const struct kmsc_env *env,
					    const struct kmsc_http_opts *ho,
					    struct kmsc_ticket *t,
					    struct kmsc_status *st);

/** Ticket Resolve over HTTP (blocking): kmsc_resolve_init, POST,
 *  kmsc_resolve_open (issue §5 resolve_ticket). */
CC_MUST_USE enum cc_err
kmsc_resolve_ticket(struct kmsc_csb *c, const struct kmsc_responder *r,
		    const uint8_t *xfer_init, size_t len,
		    const struct kmsc_env *env, const struct kmsc_http_opts *ho,
		    struct kmsc_status *st);

/* ==== CSB updates (RFC 6043 §5.2; src/kms/client_update.c) ==============
 * Re-keying a READY CSB by running the Ticket Transfer again (spec/
 * mikey-ticket.md §9, worked-examples.md §9/§10). Either side may start;
 * the CSB's role decides the variant: a Responder (e.g. the focus) sends
 * HDR, T, IDRr, IDRi, [KEMAC], V; an Initiator HDR, T, IDRi, IDRr, [KEMAC],
 * V. Both messages are protected with the CSB's `update` keys (the
 * TRANSFER_RESP keys), carry the same CSB ID and a NEW T, and never a
 * RANDR or TICKET. Each new key carries its own SPI (= SRTP MKI) and the
 * CS map points every crypto session at supply[0] (A15).
 *
 *   sender                              receiver
 *   kmsc_update_init  -- TRANSFER_INIT -->  kmsc_update_open
 *   kmsc_update_resp_open <- TRANSFER_RESP -- kmsc_update_resp
 *
 * The new keys and TEKs enter the CSB (keys[], tek[]) on the receiver when
 * the INIT verifies, on the sender when the RESP verifies (or at once when
 * no answer is wanted). Failures leave the CSB unchanged.
 */

/** One update exchange in flight (either side). Secret: wipe with
 *  kmsc_update_wipe. */
struct kmsc_update {
	uint8_t init[KMSC_MAX_MSG]; /* the update TRANSFER_INIT (RESP MAC) */
	size_t init_len;
	bool by_me;     /* we built init */
	bool want_resp; /* its V flag */
	bool done;      /* answered (or no answer wanted) */
	struct kmsc_key keys[KMSC_MAX_KEYS]; /* sender: installed on answer */
	size_t nkeys;
};

struct kmsc_update_opts {
	const struct kmsc_key *supply; /* new keys with SPIs (1..MAX_KEYS);
					* TEK+SALT or TGK; needs L (Initiator)
					* or M (Responder) in the policy */
	size_t nsupply;
	bool want_resp; /* V flag: a TRANSFER_RESP is expected */
	/* without supply: re-map every CS to this SPI of a key the CSB
	 * already holds, no KEMAC ("send under this key now", D7) */
	const uint8_t *map_spi;
	size_t map_spi_len;
};

/** Wipe an update record. */
void kmsc_update_wipe(struct kmsc_update *u);

/**
 * Build an update TRANSFER_INIT on a READY CSB (into out and u->init).
 * The map keeps every CS of c->tek (SSRC, policy) and names supply[0]'s
 * SPI (or map_spi, a key the CSB holds: CC_ERR_NOT_FOUND if it does
 * not). T = max(now, last T + 1 unit) so two updates within a second stay
 * ordered. CC_ERR_POLICY if the ticket forbids us to supply keys;
 * CC_ERR_INVAL if a supplied SPI is already a key of the CSB.
 */
CC_MUST_USE enum cc_err kmsc_update_init(struct kmsc_csb *c,
					 const struct kmsc_update_opts *o,
					 const struct kmsc_env *env,
					 struct kmsc_update *u, uint8_t *out,
					 size_t cap, size_t *outlen);

/**
 * Open a received update TRANSFER_INIT on a READY CSB: layout of the
 * peer's variant (no RANDR/TICKET), same CSB ID, T within the window and
 * newer than any T seen on the CSB (else CC_ERR_REPLAY), MAC with the
 * update keys over INIT || Identity_i || Identity_r (A4), KEMAC only if
 * the policy lets the peer supply keys (mikey_check_key_supply: L for the
 * Initiator, M for the Responder; CC_ERR_POLICY), IDRi/IDRr if present
 * must name the CSB's parties. Then the new keys and TEKs are installed
 * and u keeps the INIT for the answer; u->want_resp is its V flag.
 */
CC_MUST_USE enum cc_err kmsc_update_open(struct kmsc_csb *c, const uint8_t *msg,
					 size_t len, const struct kmsc_env *env,
					 struct kmsc_update *u,
					 struct kmsc_status *st);

/** Build the update TRANSFER_RESP for the INIT u holds (after
 *  kmsc_update_open): the same CS map, T, our IDR, V over RESP || INIT. */
CC_MUST_USE enum cc_err kmsc_update_resp(struct kmsc_csb *c,
					 const struct kmsc_env *env,
					 struct kmsc_update *u, uint8_t *out,
					 size_t cap, size_t *outlen);

/**
 * Open the update TRANSFER_RESP to u's INIT: layout, CSB ID, new T, MAC
 * over RESP || INIT, no KEMAC, every CS of the INIT answered. Then the
 * supplied keys and the TEKs of the map enter the CSB. A MIKEY Error
 * message -> kmsc_err_for_mikey with st->kind = KMSC_FAIL_MIKEY.
 */
CC_MUST_USE enum cc_err kmsc_update_resp_open(struct kmsc_csb *c,
					      const uint8_t *msg, size_t len,
					      const struct kmsc_env *env,
					      struct kmsc_update *u,
					      struct kmsc_status *st);

#endif
