/*
 * store.c -- the public face of the KMS store (kms_store.h): pick the
 * engine from the spec, then hand every call to that engine's table
 * (struct kdb_engine): SQLite (store_sqlite*.c) or PostgreSQL
 * (store_pg*.c, when built with CONCLAVE_PG).
 */
#include "store_sqlite_int.h"
#ifdef CONCLAVE_HAVE_PG
#include "store_pg_int.h"
#endif

#include <string.h>

static const char pg_prefix[] = "postgresql:";

bool kms_db_spec_is_pg(const char *spec)
{
	return spec && !strncmp(spec, pg_prefix, sizeof(pg_prefix) - 1);
}

bool kms_db_pg_available(void)
{
#ifdef CONCLAVE_HAVE_PG
	return true;
#else
	return false;
#endif
}

enum cc_err kms_db_open(struct kms_db **dbp, const char *spec,
			const uint8_t master[KMS_MASTER_KEY_LEN], bool create)
{
	if (!kms_db_spec_is_pg(spec))
		return kdb_open(dbp, spec, master, create, 0);
	*dbp = NULL;
	if (!master)
		return CC_ERR_INVAL;
#ifdef CONCLAVE_HAVE_PG
	return kpg_open(dbp, spec + sizeof(pg_prefix) - 1, master, create);
#else
	return CC_ERR_UNSUPPORTED; /* kms_db_pg_available() says why */
#endif
}

void kms_db_close(struct kms_db *db)
{
	if (db)
		db->eng->close(db);
}

enum cc_err kms_db_background_checkpoint(struct kms_db *db,
					 unsigned interval_ms)
{
	return db->eng->background_checkpoint(db, interval_ms);
}

struct kms_store *kms_db_store(struct kms_db *db)
{
	return &db->store;
}

int kms_db_schema_version(struct kms_db *db)
{
	return db->eng->schema_version(db);
}

const char *kms_db_spec_safe(const char *spec)
{
	const char *ci;

	if (!kms_db_spec_is_pg(spec))
		return spec;
	ci = spec + sizeof(pg_prefix) - 1;
	/* key=value "password=", or a URI's user:password@ */
	if (strstr(ci, "password") ||
	    (strstr(ci, "://") && strchr(ci, '@') &&
	     strchr(strstr(ci, "://") + 3, ':') &&
	     strchr(strstr(ci, "://") + 3, ':') < strchr(ci, '@')))
		return "postgresql:(conninfo not shown: it holds a password)";
	return spec;
}

const char *kms_db_error(struct kms_db *db)
{
	const char *e = db ? db->eng->error(db) : NULL;

#ifdef CONCLAVE_HAVE_PG
	if (!db)
		e = kpg_open_err;
#endif
	return e ? e : "";
}

enum cc_err kms_db_user_add(struct kms_db *db, const char *name,
			    const char *psk_id, const uint8_t *psk,
			    size_t psk_len, bool key_supplier)
{
	return db->eng->user_add(db, name, psk_id, psk, psk_len, key_supplier);
}

enum cc_err kms_db_user_set_psk(struct kms_db *db, const char *name,
				const char *psk_id, const uint8_t *psk,
				size_t psk_len)
{
	return db->eng->user_set_psk(db, name, psk_id, psk, psk_len);
}

enum cc_err kms_db_user_set_supplier(struct kms_db *db, const char *name,
				     bool key_supplier)
{
	return db->eng->user_set_supplier(db, name, key_supplier);
}

enum cc_err kms_db_user_del(struct kms_db *db, const char *name)
{
	return db->eng->user_del(db, name);
}

enum cc_err kms_db_user_get(struct kms_db *db, const char *name,
			    struct kms_user_info *info)
{
	return db->eng->user_get(db, name, info);
}

enum cc_err kms_db_user_list(struct kms_db *db,
			     bool (*cb)(const struct kms_user_info *u,
					void *arg),
			     void *arg)
{
	return db->eng->user_list(db, cb, arg);
}

enum cc_err kms_db_user_psk(struct kms_db *db, const char *name,
			    char psk_id[KMS_MAX_NAME], uint8_t psk[KMS_MAX_PSK],
			    size_t *psk_len)
{
	return db->eng->user_psk(db, name, psk_id, psk, psk_len);
}

enum cc_err kms_db_identity_add(struct kms_db *db, const char *user,
				const char *identity)
{
	return db->eng->identity_add(db, user, identity);
}

enum cc_err kms_db_identity_del(struct kms_db *db, const char *identity)
{
	return db->eng->identity_del(db, identity);
}

enum cc_err kms_db_identity_set_factory(struct kms_db *db, const char *identity,
					bool factory)
{
	return db->eng->identity_set_factory(db, identity, factory);
}

enum cc_err kms_db_identity_list(struct kms_db *db, const char *user,
				 bool (*cb)(const char *identity, bool factory,
					    void *arg),
				 void *arg)
{
	return db->eng->identity_list(db, user, cb, arg);
}

enum cc_err kms_db_policy_allow_conference(struct kms_db *db,
					   const char *creator,
					   const char *factory)
{
	return db->eng->policy_allow_conference(db, creator, factory);
}

enum cc_err kms_db_policy_deny(struct kms_db *db, const char *from,
			       const char *to)
{
	return db->eng->policy_deny(db, from, to);
}

enum cc_err kms_db_policy_del(struct kms_db *db, const char *kind,
			      const char *a, const char *b)
{
	return db->eng->policy_del(db, kind, a, b);
}

enum cc_err kms_db_policy_list(struct kms_db *db,
			       bool (*cb)(const char *kind, const char *a,
					  const char *b, void *arg),
			       void *arg)
{
	return db->eng->policy_list(db, cb, arg);
}

enum cc_err kms_db_tpk_rotate(struct kms_db *db, int64_t now, int64_t grace,
			      size_t key_len, char new_id[KMS_MAX_NAME])
{
	return db->eng->tpk_rotate(db, now, grace, key_len, new_id);
}

enum cc_err kms_db_audit_tail(struct kms_db *db, size_t n,
			      bool (*cb)(int64_t seq, const struct kms_audit *a,
					 void *arg),
			      void *arg)
{
	return db->eng->audit_tail(db, n, cb, arg);
}
