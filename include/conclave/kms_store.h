/*
 * kms_store.h -- the KMS store: struct kms_store (kms.h) on SQLite or
 * PostgreSQL, and the administration operations `conclave kms` uses. Both
 * engines provide the same functions behind the same tables, so nothing
 * outside src/kms/store*.c knows which engine is in use.
 *
 * Secrets at rest: PSKs and ticket-protection keys are stored encrypted
 * with AES-256-GCM under a 32-byte master key read from a file that only
 * its owner may read (kms_master_key_load refuses anything else).
 */
#ifndef CONCLAVE_KMS_STORE_H
#define CONCLAVE_KMS_STORE_H

#include <conclave/kms.h>

enum {
	KMS_MASTER_KEY_LEN = 32
};

/**
 * Read the master key file: 64 hex digits (whitespace ignored) or 32 raw
 * bytes. CC_ERR_NOT_AUTHORISED if the file is readable or writable by group
 * or others, or not a regular file; CC_ERR_MALFORMED if the content is not
 * a key.
 */
CC_MUST_USE enum cc_err kms_master_key_load(const char *path,
					    uint8_t key[KMS_MASTER_KEY_LEN]);

/** Create a new master key file (mode 0600, O_EXCL) from RAND_bytes. */
CC_MUST_USE enum cc_err kms_master_key_create(const char *path);

struct kms_db;

/**
 * Open a store. spec is "sqlite:PATH" (or a bare path) or
 * "postgresql:CONNINFO" (a libpq connection string or URI; CC_ERR_UNSUPPORTED
 * if this build has no PostgreSQL, see kms_db_pg_available). create: make
 * the file (PostgreSQL: the tables, in an empty database) and run every
 * migration (kms init); otherwise the store must exist and is migrated
 * forward if older. The master key is copied and checked
 * against a verifier kept in the store (CC_ERR_BAD_MAC if it is not the
 * key the store was created with).
 */
CC_MUST_USE enum cc_err kms_db_open(struct kms_db **dbp, const char *spec,
				    const uint8_t master[KMS_MASTER_KEY_LEN],
				    bool create);
void kms_db_close(struct kms_db *db);

/**
 * SQLite: move WAL checkpoints off the caller's thread: automatic checkpoints are
 * turned off on this connection and a background thread with its own
 * connection runs a passive checkpoint every interval_ms. A daemon uses
 * this so that no request waits for the fsync a checkpoint does. Stopped
 * by kms_db_close. PostgreSQL: nothing to do (the server checkpoints),
 * CC_OK.
 */
CC_MUST_USE enum cc_err kms_db_background_checkpoint(struct kms_db *db,
						     unsigned interval_ms);

/** True if spec names a PostgreSQL store ("postgresql:..."). */
bool kms_db_spec_is_pg(const char *spec);

/** spec as it may appear in a log or a message: a PostgreSQL conninfo
 *  that holds a password is replaced by a placeholder. */
const char *kms_db_spec_safe(const char *spec);

/** True if this build has the PostgreSQL store (CMake CONCLAVE_PG). */
bool kms_db_pg_available(void);

/**
 * The engine's message for the last failure on this db (SQLite's errmsg,
 * the PostgreSQL server's or libpq's message), for logs; never holds a
 * key. "" if none. kms_db_error(NULL): why the last kms_db_open of a
 * PostgreSQL store failed (the connection's message).
 */
const char *kms_db_error(struct kms_db *db);

/** The struct kms_store view of a db, for kms_alloc. */
struct kms_store *kms_db_store(struct kms_db *db);

/** Schema version of the open store. */
int kms_db_schema_version(struct kms_db *db);

/* ---- administration ---------------------------------------------------- */

struct kms_user_info {
	int64_t id;
	char name[KMS_MAX_NAME];
	char psk_id[KMS_MAX_NAME];
	bool key_supplier;
	int64_t created;
	size_t n_identities;
};

/** Add a user with a PSK (psk_len 16 or 32) named psk_id. */
CC_MUST_USE enum cc_err kms_db_user_add(struct kms_db *db, const char *name,
					const char *psk_id, const uint8_t *psk,
					size_t psk_len, bool key_supplier);
CC_MUST_USE enum cc_err kms_db_user_set_psk(struct kms_db *db, const char *name,
					    const char *psk_id,
					    const uint8_t *psk, size_t psk_len);
CC_MUST_USE enum cc_err kms_db_user_set_supplier(struct kms_db *db,
						 const char *name,
						 bool key_supplier);
/** Delete a user with its identities and policies. */
CC_MUST_USE enum cc_err kms_db_user_del(struct kms_db *db, const char *name);
CC_MUST_USE enum cc_err kms_db_user_get(struct kms_db *db, const char *name,
					struct kms_user_info *info);
/** List users; cb returns false to stop. */
CC_MUST_USE enum cc_err
kms_db_user_list(struct kms_db *db,
		 bool (*cb)(const struct kms_user_info *u, void *arg),
		 void *arg);
/** Read a user's PSK (for `credential export`); psk is secret. */
CC_MUST_USE enum cc_err kms_db_user_psk(struct kms_db *db, const char *name,
					char psk_id[KMS_MAX_NAME],
					uint8_t psk[KMS_MAX_PSK],
					size_t *psk_len);

/** Add / delete an identity or pattern (kms_identity_check) of a user.
 *  An identity belongs to at most one user (CC_ERR_INVAL otherwise). */
CC_MUST_USE enum cc_err kms_db_identity_add(struct kms_db *db, const char *user,
					    const char *identity);
CC_MUST_USE enum cc_err kms_db_identity_del(struct kms_db *db,
					    const char *identity);
/** Mark an identity or pattern as naming a conference factory (or not);
 *  user_by_identity reports it in kms_user.factory_identity. */
CC_MUST_USE enum cc_err kms_db_identity_set_factory(struct kms_db *db,
						    const char *identity,
						    bool factory);
CC_MUST_USE enum cc_err
kms_db_identity_list(struct kms_db *db, const char *user,
		     bool (*cb)(const char *identity, bool factory, void *arg),
		     void *arg);

/** Policy: `creator` may create conferences at the factory user. */
CC_MUST_USE enum cc_err kms_db_policy_allow_conference(struct kms_db *db,
						       const char *creator,
						       const char *factory);
/** Policy: deny sessions from `from` to `to` (user names). */
CC_MUST_USE enum cc_err kms_db_policy_deny(struct kms_db *db, const char *from,
					   const char *to);
/** Remove a rule (kind "allow-conference" or "deny"). */
CC_MUST_USE enum cc_err kms_db_policy_del(struct kms_db *db, const char *kind,
					  const char *a, const char *b);
CC_MUST_USE enum cc_err kms_db_policy_list(struct kms_db *db,
					   bool (*cb)(const char *kind,
						      const char *a,
						      const char *b, void *arg),
					   void *arg);

/**
 * Rotate the ticket-protection key: a new random key (RAND_bytes) becomes
 * current with a new id; the previous current key keeps resolving until
 * now + grace seconds (its retirement date).
 */
CC_MUST_USE enum cc_err kms_db_tpk_rotate(struct kms_db *db, int64_t now,
					  int64_t grace, size_t key_len,
					  char new_id[KMS_MAX_NAME]);

/** The last n audit records, oldest first; cb returns false to stop. */
CC_MUST_USE enum cc_err
kms_db_audit_tail(struct kms_db *db, size_t n,
		  bool (*cb)(int64_t seq, const struct kms_audit *a, void *arg),
		  void *arg);

#endif
