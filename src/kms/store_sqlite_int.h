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

struct kdb_engine;
struct kpg;

/* One struct for both engines: eng says which; the SQLite fields are
 * unused (NULL) when pg is set, and pg is NULL for SQLite. */
struct kms_db {
	struct kms_store store;       /* first: kms_db_store() hands this out */
	const struct kdb_engine *eng; /* the engine's admin operations */
	struct kpg *pg;               /* PostgreSQL state (store_pg.c) */
	sqlite3 *sql;
	sqlite3_stmt *stmt[KDB__COUNT];
	uint8_t master[KMS_MASTER_KEY_LEN]; /* wiped on close */
	int version;
	char path[4096]; /* for the checkpoint thread's connection */
	struct kdb_checkpointer *cp; /* background checkpoints, or NULL */
};

/*
 * The operations kms_store.h dispatches (store.c) to one engine: SQLite
 * (ksq_*, store_sqlite*.c, checkpoint.c) or PostgreSQL (kpg_*,
 * store_pg*.c). Each has the contract of the kms_db_* function of the
 * same name.
 */
#define KDB_ENGINE_DECLARE(P)                                                  \
	void P##_close(struct kms_db *db);                                     \
	CC_MUST_USE enum cc_err P##_background_checkpoint(                     \
		struct kms_db *db, unsigned interval_ms);                      \
	int P##_schema_version(struct kms_db *db);                             \
	const char *P##_error(struct kms_db *db);                              \
	CC_MUST_USE enum cc_err P##_user_add(                                  \
		struct kms_db *db, const char *name, const char *psk_id,       \
		const uint8_t *psk, size_t psk_len, bool key_supplier);        \
	CC_MUST_USE enum cc_err P##_user_set_psk(                              \
		struct kms_db *db, const char *name, const char *psk_id,       \
		const uint8_t *psk, size_t psk_len);                           \
	CC_MUST_USE enum cc_err P##_user_set_supplier(                         \
		struct kms_db *db, const char *name, bool key_supplier);       \
	CC_MUST_USE enum cc_err P##_user_del(struct kms_db *db,                \
					     const char *name);                \
	CC_MUST_USE enum cc_err P##_user_get(struct kms_db *db,                \
					     const char *name,                 \
					     struct kms_user_info *info);      \
	CC_MUST_USE enum cc_err P##_user_list(                                 \
		struct kms_db *db,                                             \
		bool (*cb)(const struct kms_user_info *u, void *arg),          \
		void *arg);                                                    \
	CC_MUST_USE enum cc_err P##_user_psk(struct kms_db *db,                \
					     const char *name,                 \
					     char psk_id[KMS_MAX_NAME],        \
					     uint8_t psk[KMS_MAX_PSK],         \
					     size_t *psk_len);                 \
	CC_MUST_USE enum cc_err P##_identity_add(                              \
		struct kms_db *db, const char *user, const char *identity);    \
	CC_MUST_USE enum cc_err P##_identity_del(struct kms_db *db,            \
						 const char *identity);        \
	CC_MUST_USE enum cc_err P##_identity_set_factory(                      \
		struct kms_db *db, const char *identity, bool factory);        \
	CC_MUST_USE enum cc_err P##_identity_list(                             \
		struct kms_db *db, const char *user,                           \
		bool (*cb)(const char *identity, bool factory, void *arg),     \
		void *arg);                                                    \
	CC_MUST_USE enum cc_err P##_policy_allow_conference(                   \
		struct kms_db *db, const char *creator, const char *factory);  \
	CC_MUST_USE enum cc_err P##_policy_deny(                               \
		struct kms_db *db, const char *from, const char *to);          \
	CC_MUST_USE enum cc_err P##_policy_del(struct kms_db *db,              \
					       const char *kind,               \
					       const char *a, const char *b);  \
	CC_MUST_USE enum cc_err P##_policy_list(                               \
		struct kms_db *db,                                             \
		bool (*cb)(const char *kind, const char *a, const char *b,     \
			   void *arg),                                         \
		void *arg);                                                    \
	CC_MUST_USE enum cc_err P##_tpk_rotate(struct kms_db *db, int64_t now, \
					       int64_t grace, size_t key_len,  \
					       char new_id[KMS_MAX_NAME]);     \
	CC_MUST_USE enum cc_err P##_audit_tail(                                \
		struct kms_db *db, size_t n,                                   \
		bool (*cb)(int64_t seq, const struct kms_audit *a, void *arg), \
		void *arg);

KDB_ENGINE_DECLARE(ksq)

/* The table of one engine, filled by KDB_ENGINE_TABLE(prefix). */
struct kdb_engine {
	void (*close)(struct kms_db *db);
	enum cc_err (*background_checkpoint)(struct kms_db *db, unsigned ms);
	int (*schema_version)(struct kms_db *db);
	const char *(*error)(struct kms_db *db);
	enum cc_err (*user_add)(struct kms_db *db, const char *name,
				const char *psk_id, const uint8_t *psk,
				size_t psk_len, bool key_supplier);
	enum cc_err (*user_set_psk)(struct kms_db *db, const char *name,
				    const char *psk_id, const uint8_t *psk,
				    size_t psk_len);
	enum cc_err (*user_set_supplier)(struct kms_db *db, const char *name,
					 bool key_supplier);
	enum cc_err (*user_del)(struct kms_db *db, const char *name);
	enum cc_err (*user_get)(struct kms_db *db, const char *name,
				struct kms_user_info *info);
	enum cc_err (*user_list)(struct kms_db *db,
				 bool (*cb)(const struct kms_user_info *u,
					    void *arg),
				 void *arg);
	enum cc_err (*user_psk)(struct kms_db *db, const char *name,
				char psk_id[KMS_MAX_NAME],
				uint8_t psk[KMS_MAX_PSK], size_t *psk_len);
	enum cc_err (*identity_add)(struct kms_db *db, const char *user,
				    const char *identity);
	enum cc_err (*identity_del)(struct kms_db *db, const char *identity);
	enum cc_err (*identity_set_factory)(struct kms_db *db,
					    const char *identity, bool factory);
	enum cc_err (*identity_list)(struct kms_db *db, const char *user,
				     bool (*cb)(const char *identity,
						bool factory, void *arg),
				     void *arg);
	enum cc_err (*policy_allow_conference)(struct kms_db *db,
					       const char *creator,
					       const char *factory);
	enum cc_err (*policy_deny)(struct kms_db *db, const char *from,
				   const char *to);
	enum cc_err (*policy_del)(struct kms_db *db, const char *kind,
				  const char *a, const char *b);
	enum cc_err (*policy_list)(struct kms_db *db,
				   bool (*cb)(const char *kind, const char *a,
					      const char *b, void *arg),
				   void *arg);
	enum cc_err (*tpk_rotate)(struct kms_db *db, int64_t now, int64_t grace,
				  size_t key_len, char new_id[KMS_MAX_NAME]);
	enum cc_err (*audit_tail)(struct kms_db *db, size_t n,
				  bool (*cb)(int64_t seq,
					     const struct kms_audit *a,
					     void *arg),
				  void *arg);
};

#define KDB_ENGINE_TABLE(P)                                                   \
	{                                                                     \
		.close = P##_close,                                           \
		.background_checkpoint = P##_background_checkpoint,           \
		.schema_version = P##_schema_version, .error = P##_error,     \
		.user_add = P##_user_add, .user_set_psk = P##_user_set_psk,   \
		.user_set_supplier = P##_user_set_supplier,                   \
		.user_del = P##_user_del, .user_get = P##_user_get,           \
		.user_list = P##_user_list, .user_psk = P##_user_psk,         \
		.identity_add = P##_identity_add,                             \
		.identity_del = P##_identity_del,                             \
		.identity_set_factory = P##_identity_set_factory,             \
		.identity_list = P##_identity_list,                           \
		.policy_allow_conference = P##_policy_allow_conference,       \
		.policy_deny = P##_policy_deny, .policy_del = P##_policy_del, \
		.policy_list = P##_policy_list, .tpk_rotate = P##_tpk_rotate, \
		.audit_tail = P##_audit_tail,                                 \
	}

extern const struct kdb_engine kdb_sqlite_engine;

/** Open a PostgreSQL store (store_pg.c; built with CONCLAVE_PG only):
 *  conninfo is what follows "postgresql:" in the spec. */
CC_MUST_USE enum cc_err kpg_open(struct kms_db **dbp, const char *conninfo,
				 const uint8_t master[KMS_MASTER_KEY_LEN],
				 bool create);

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
