/*
 * kms.h -- the KMS of the KMS-based solution (TR 33.829 clause 5.3, TS 33.328
 * as far as RFC 6043 mode 1 goes): ticket issue (REQUEST_INIT_PSK ->
 * REQUEST_RESP) and resolve (RESOLVE_INIT_PSK -> RESOLVE_RESP), identities
 * with patterns, policy, and the store interface. No I/O: the store is a
 * table of functions, the clock and the random source are passed in.
 */
#ifndef CONCLAVE_KMS_H
#define CONCLAVE_KMS_H

#include <conclave/mikey.h>

enum {
	KMS_MAX_NAME = 128, /* user names, identities, key ids */
	KMS_MAX_PSK = 32,
	KMS_MAX_TPK = 32,
	KMS_MAX_RESPONDERS = 16, /* IDRr entries in one ticket */
};

/* ---- identities (DESIGN.md D5) ------------------------------------------ */

/**
 * Does identity match pattern? Exact and anchored: the only wildcard is
 * '*' in the user part (before the last '@'), matching one or more of
 * [A-Za-z0-9_-]; the realm (after the last '@') must be equal byte for
 * byte, so a pattern never matches another realm.
 */
bool kms_identity_match(const char *pattern, struct cc_slice identity);

/** Is pattern acceptable to store? ('*' only in the user part, at most
 *  one '*', a non-empty realm, printable, no spaces.) */
CC_MUST_USE enum cc_err kms_identity_check(const char *pattern);

/* ---- the store interface (SQLite now, PostgreSQL later) ---------------- */

/** A KMS user, as the core sees it. psk is decrypted (secret). */
struct kms_user {
	int64_t id;
	char name[KMS_MAX_NAME];
	char psk_id[KMS_MAX_NAME]; /* IDRpsk value naming the PSK */
	uint8_t psk[KMS_MAX_PSK];
	size_t psk_len;
	bool key_supplier;     /* a conference factory/focus (A29) */
	bool factory_identity; /* user_by_identity: the identity that matched
				* is a conference factory URI */
};

/** A ticket-protection key. key is decrypted (secret). */
struct kms_tpk {
	char id[KMS_MAX_NAME];
	uint8_t key[KMS_MAX_TPK];
	size_t key_len;
	int64_t created;   /* Unix seconds */
	int64_t retire_at; /* 0 = current key; else it resolves until then */
};

enum kms_op {
	KMS_OP_REQUEST = 1,
	KMS_OP_RESOLVE = 2
};

/** One audit record: never a key. */
struct kms_audit {
	int64_t time;
	enum kms_op op;
	const char *outcome; /* "issued", "resolved", or cc_strerror */
	const char *reason;  /* what failed, "" on success */
	char ticket_id[33];  /* hex of 16 bytes of the ticket MAC, "" */
	char requester[KMS_MAX_NAME]; /* authenticated identity, or
				       * "unauthenticated:<claimed>" */
	char initiator[KMS_MAX_NAME]; /* ticket's IDRi (resolve) */
	char peer[KMS_MAX_NAME];      /* first IDRr (request) */
};

struct kms_store;

struct kms_store_ops {
	/* The user owning a PSK id, CC_ERR_NOT_FOUND if none. */
	enum cc_err (*user_by_psk_id)(struct kms_store *st,
				      struct cc_slice psk_id,
				      struct kms_user *u);
	/* The user owning an identity (exact, else pattern). The PSK is
	 * not filled in (psk_len 0): ask user_by_psk_id for it. */
	enum cc_err (*user_by_identity)(struct kms_store *st,
					struct cc_slice identity,
					struct kms_user *u);
	/* Optional: user_by_psk_id(psk_id, u) and, in the same round trip
	 * to a database server, the user owning `identity` exactly (not by
	 * a pattern) into owner, with *owner_err CC_OK, CC_ERR_NOT_FOUND
	 * (no exact owner: ask user_by_identity) or a store error. The
	 * return value and u are user_by_psk_id's; owner is only set when
	 * that is CC_OK. */
	enum cc_err (*user_by_psk_id_and_owner)(struct kms_store *st,
						struct cc_slice psk_id,
						struct cc_slice identity,
						struct kms_user *u,
						struct kms_user *owner,
						enum cc_err *owner_err);
	/* Optional: user_by_identity(identity, u) and the policies between
	 * u and user `other`, in one round trip to a database server when
	 * the identity is not matched by a pattern: *denied and *may_create
	 * as session_denied and may_create_conference answer for (other,
	 * u->id) if inbound, else for (u->id, other). Answers as
	 * user_by_identity; *denied and *may_create only with CC_OK. */
	enum cc_err (*user_by_identity_with_policy)(struct kms_store *st,
						    struct cc_slice identity,
						    int64_t other, bool inbound,
						    struct kms_user *u,
						    bool *denied,
						    bool *may_create);
	/* May `creator` create conferences at factory user `factory`? */
	enum cc_err (*may_create_conference)(struct kms_store *st,
					     int64_t creator, int64_t factory,
					     bool *allowed);
	/* Is a session from `from` to `to` denied (default: allowed)? */
	enum cc_err (*session_denied)(struct kms_store *st, int64_t from,
				      int64_t to, bool *denied);
	/* The current ticket-protection key. */
	enum cc_err (*tpk_current)(struct kms_store *st, struct kms_tpk *k);
	/* A ticket-protection key by id that is still valid at now. */
	enum cc_err (*tpk_by_id)(struct kms_store *st, struct cc_slice id,
				 int64_t now, struct kms_tpk *k);
	/* Append an audit record. */
	enum cc_err (*audit)(struct kms_store *st, const struct kms_audit *a);
	/* Optional: one transaction around one request's reads and its
	 * audit write (one lock, one commit). commit(false) rolls back. */
	enum cc_err (*begin)(struct kms_store *st);
	enum cc_err (*end)(struct kms_store *st, bool commit);
};

struct kms_store {
	const struct kms_store_ops *ops;
};

/* ---- the KMS ------------------------------------------------------------ */

/** Random bytes (OpenSSL RAND_bytes in the daemon); CC_OK or failure. */
typedef enum cc_err(kms_rand_h)(uint8_t *p, size_t n, void *arg);

struct kms_config {
	const char *identity;      /* IDRkms, e.g. "sip:kms.example.org" */
	uint32_t skew;             /* timestamp window, seconds (300) */
	uint32_t max_lifetime;     /* longest ticket validity, seconds */
	uint32_t default_lifetime; /* when the request names no TRe */
	size_t replay_capacity;    /* entries in the replay cache */
	bool allow_reuse;          /* grant J when asked */
};

struct kms;

CC_MUST_USE enum cc_err kms_alloc(struct kms **kp, const struct kms_config *cfg,
				  struct kms_store *store, kms_rand_h *rand,
				  void *rand_arg);
void kms_free(struct kms *k);

/**
 * Apply reloadable settings (SIGHUP): skew, lifetimes, ticket reuse. The
 * identity and the replay cache stay, so replays inside the old window are
 * still caught.
 */
CC_MUST_USE enum cc_err kms_reconfigure(struct kms *k,
					const struct kms_config *cfg);

/** What happened to one request, for logs and metrics (no keys). */
struct kms_result {
	enum kms_op op;               /* 0 if the message never got that far */
	enum cc_err err;              /* CC_OK: a REQUEST_RESP / RESOLVE_RESP */
	enum mikey_errno mikey_err;   /* the ERR sent when err != CC_OK */
	const char *reason;           /* payload/field or rule that failed */
	bool authenticated;           /* the requester passed the MAC check */
	char requester[KMS_MAX_NAME]; /* claimed identity: trust it only if
				       * authenticated */
	char ticket_id[33];
};

/**
 * Handle one message from a client: REQUEST_INIT_PSK or RESOLVE_INIT_PSK.
 * Writes the response (REQUEST_RESP, RESOLVE_RESP, or a MIKEY Error
 * message) into resp and fills *res. Every refusal writes an audit record
 * and changes no state (the replay cache takes only authenticated
 * messages, and only once everything else passed). Returns CC_OK when resp
 * holds a message to send (a response or an Error), else the reason no
 * answer can be given (e.g. the output buffer is too small).
 */
CC_MUST_USE enum cc_err kms_handle(struct kms *k, const uint8_t *msg,
				   size_t len, int64_t now, struct cc_wr *resp,
				   struct kms_result *res);

/**
 * Group the kms_handle calls that follow into one store transaction,
 * until kms_batch_end. A daemon opens a batch for the requests of one
 * event-loop pass, commits once, and only then sends their answers, so
 * no answer leaves before its audit record is stored. If begin fails,
 * kms_handle keeps using one transaction per request.
 */
CC_MUST_USE enum cc_err kms_batch_begin(struct kms *k);
/** Commit (or roll back) the batch. A failed commit means none of the
 *  batch's answers may be sent. */
CC_MUST_USE enum cc_err kms_batch_end(struct kms *k, bool commit);
bool kms_batch_open(const struct kms *k);

/** Entries in the replay cache (for /metrics). */
size_t kms_replay_size(const struct kms *k);

#endif
