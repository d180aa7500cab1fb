/*
 * store_sqlite_int.h -- private to src/kms/store_sqlite*.c, seal_at_rest.c
 * and tests/test_kms_store.c: the db struct, its cached statements, the
 * error mapping and the sealing of secrets at rest.
 */
#ifndef CONCLAVE_KMS_STORE_SQLITE_INT_H
#define CONCLAVE_KMS_STORE_SQLITE_INT_H

#include <conclave/kms_store.h>

#include <sqlite3.h>

/* Sealed value: nonce || ciphertext || tag (AES-256-GCM). */
enum {
	SEAL_NONCE = 12,
	SEAL_TAG = 16,
	SEAL_OVERHEAD = SEAL_NONCE + SEAL_TAG,
	SEAL_MAX_PLAIN = 64,
	SEAL_MAX = SEAL_MAX_PLAIN + SEAL_OVERHEAD,
};

/* Hot-path statements, prepared once at open (no per-call prepare). */
enum kdb_stmt {
	KDB_USER_BY_PSK_ID,
	KDB_USER_BY_IDENTITY,
	KDB_PATTERNS_IN_REALM,
	KDB_USER_BY_ROWID,
	KDB_POLICY_HAS,
	KDB_TPK_CURRENT,
	KDB_TPK_BY_ID,
	KDB_AUDIT_INSERT,
	KDB_BEGIN,
	KDB_COMMIT,
	KDB_ROLLBACK,
	KDB__COUNT
};

struct kms_db {
	struct kms_store store; /* first: kms_db_store() hands this out */
	sqlite3 *sql;
	sqlite3_stmt *stmt[KDB__COUNT];
	uint8_t master[KMS_MASTER_KEY_LEN]; /* wiped on close */
	int version;
	char path[4096]; /* for the checkpoint thread's connection */
	struct kdb_checkpointer *cp; /* background checkpoints, or NULL */
};

/** Schema migrations: step i brings user_version from i to i + 1. */
extern const char *const kdb_migrations[];
extern const int kdb_schema_latest;

/**
 * kms_db_open with a ceiling on the migrations applied when creating
 * (tests use it to make an old-version file); max_version <= 0 = latest.
 * A db left below the latest version has no prepared statements: it may
 * only use the admin functions its schema has tables for, then close.
 */
CC_MUST_USE enum cc_err kdb_open(struct kms_db **dbp, const char *spec,
				 const uint8_t master[KMS_MASTER_KEY_LEN],
				 bool create, int max_version);

/** Stop the background checkpoint thread, if any (checkpoint.c). */
void kdb_checkpointer_stop(struct kms_db *db);

/** Map a SQLite result code onto enum cc_err (table in store_sqlite.c). */
enum cc_err kdb_err(int rc);

/** Run one SQL text with no result rows. */
CC_MUST_USE enum cc_err kdb_exec(struct kms_db *db, const char *sql);

/** Seal plain (<= SEAL_MAX_PLAIN bytes) under the master key with AAD
 *  "<label>:<name>"; out gets plain_len + SEAL_OVERHEAD bytes. */
CC_MUST_USE enum cc_err kdb_seal(const uint8_t key[KMS_MASTER_KEY_LEN],
				 const char *label, const char *name,
				 const uint8_t *plain, size_t plain_len,
				 uint8_t *out, size_t *out_len);
/** Open a sealed value; CC_ERR_BAD_MAC if the tag does not verify (wrong
 *  key, tampered value, or a value moved to another row). */
CC_MUST_USE enum cc_err kdb_unseal(const uint8_t key[KMS_MASTER_KEY_LEN],
				   const char *label, const char *name,
				   const uint8_t *sealed, size_t sealed_len,
				   uint8_t *plain, size_t cap,
				   size_t *plain_len);

/** Look up a user's row id by name: CC_ERR_NOT_FOUND if none. */
CC_MUST_USE enum cc_err kdb_user_id(struct kms_db *db, const char *name,
				    int64_t *id);

/** The realm of an identity: the bytes after the last '@' ("" if none). */
struct cc_slice kdb_realm(struct cc_slice identity);

/** Random bytes from OpenSSL; CC_ERR_CRYPTO on failure. */
CC_MUST_USE enum cc_err kdb_random(uint8_t *p, size_t n);

#endif
