/*
 * store_sqlite_admin.c -- administration of the SQLite store
 * (kms_store.h): users, identities, policies, ticket-key rotation and the
 * audit tail, as `conclave kms` uses them. These run once per command, so
 * they prepare their statements per call; the hot path is in
 * store_sqlite.c. Error mapping: see the top of store_sqlite.c.
 */
#include "store_sqlite_int.h"

#include <stdio.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */

/* Names, psk ids and identities: 1..KMS_MAX_NAME-1 printable ASCII bytes,
 * no spaces (they appear in AADs, logs and credential files). */
static bool name_ok(const char *s)
{
	size_t n;

	if (!s)
		return false;
	for (n = 0; s[n]; n++)
		if (s[n] <= ' ' || s[n] > '~' || n + 1 >= KMS_MAX_NAME)
			return false;
	return n > 0;
}

static enum cc_err prep(struct kms_db *db, const char *sql, sqlite3_stmt **s)
{
	return kdb_err(sqlite3_prepare_v2(db->sql, sql, -1, s, NULL));
}

static void bind_s(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Step a one-shot statement that returns no rows, then finalize it;
 * CC_ERR_NOT_FOUND if want_change and no row changed. */
static enum cc_err run(struct kms_db *db, sqlite3_stmt *s, bool want_change)
{
	enum cc_err err = kdb_err(sqlite3_step(s));

	sqlite3_finalize(s);
	if (!err && want_change && sqlite3_changes(db->sql) == 0)
		err = CC_ERR_NOT_FOUND;
	return err;
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(s, col) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

enum cc_err kdb_user_id(struct kms_db *db, const char *name, int64_t *id)
{
	sqlite3_stmt *s;
	enum cc_err err;
	int rc;

	if (!name_ok(name))
		return CC_ERR_NOT_FOUND;
	err = prep(db, "SELECT id FROM users WHERE name = ?1", &s);
	if (err)
		return err;
	bind_s(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	err = rc == SQLITE_ROW  ? CC_OK :
	      rc == SQLITE_DONE ? CC_ERR_NOT_FOUND :
				  kdb_err(rc);
	sqlite3_finalize(s);
	return err;
}

static bool psk_len_ok(size_t n)
{
	return n == 16 || n == 32;
}

/* ---- users --------------------------------------------------------------- */

enum cc_err ksq_user_add(struct kms_db *db, const char *name,
			 const char *psk_id, const uint8_t *psk, size_t psk_len,
			 bool key_supplier)
{
	uint8_t sealed[SEAL_MAX];
	sqlite3_stmt *s;
	enum cc_err err;
	size_t n;

	if (!name_ok(name) || !name_ok(psk_id) || !psk || !psk_len_ok(psk_len))
		return CC_ERR_INVAL;
	err = kdb_seal(db->master, "psk", name, psk, psk_len, sealed, &n);
	if (err)
		return err;
	err = prep(db,
		   "INSERT INTO users(name, psk_id, psk_enc, key_supplier,"
		   " created) VALUES (?1, ?2, ?3, ?4, strftime('%s','now'))",
		   &s);
	if (err)
		return err;
	bind_s(s, 1, name);
	bind_s(s, 2, psk_id);
	sqlite3_bind_blob(s, 3, sealed, (int)n, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, key_supplier ? 1 : 0);
	return run(db, s, false);
}

/* psk_id NULL keeps the PSK id; psk NULL keeps the PSK. */
enum cc_err ksq_user_set_psk(struct kms_db *db, const char *name,
			     const char *psk_id, const uint8_t *psk,
			     size_t psk_len)
{
	uint8_t sealed[SEAL_MAX];
	sqlite3_stmt *s;
	enum cc_err err;
	size_t n = 0;

	if (!name_ok(name) || (psk_id && !name_ok(psk_id)) ||
	    (psk && !psk_len_ok(psk_len)) || (!psk && !psk_id))
		return CC_ERR_INVAL;
	if (psk) {
		err = kdb_seal(db->master, "psk", name, psk, psk_len, sealed,
			       &n);
		if (err)
			return err;
	}
	err = prep(db,
		   "UPDATE users SET psk_id = coalesce(?2, psk_id),"
		   " psk_enc = coalesce(?3, psk_enc) WHERE name = ?1",
		   &s);
	if (err)
		return err;
	bind_s(s, 1, name);
	if (psk_id)
		bind_s(s, 2, psk_id);
	if (psk)
		sqlite3_bind_blob(s, 3, sealed, (int)n, SQLITE_STATIC);
	return run(db, s, true);
}

enum cc_err ksq_user_set_supplier(struct kms_db *db, const char *name,
				  bool key_supplier)
{
	sqlite3_stmt *s;
	enum cc_err err;

	err = prep(db, "UPDATE users SET key_supplier = ?2 WHERE name = ?1",
		   &s);
	if (err)
		return err;
	bind_s(s, 1, name);
	sqlite3_bind_int(s, 2, key_supplier ? 1 : 0);
	return run(db, s, true);
}

/* Identities and policies go with it (ON DELETE CASCADE); the audit log,
 * which names identities and not user rows, stays. */
enum cc_err ksq_user_del(struct kms_db *db, const char *name)
{
	sqlite3_stmt *s;
	enum cc_err err;

	err = prep(db, "DELETE FROM users WHERE name = ?1", &s);
	if (err)
		return err;
	bind_s(s, 1, name);
	return run(db, s, true);
}

static const char user_cols[] = "SELECT id, name, psk_id, key_supplier, "
				"created,"
				" (SELECT count(*) FROM identities i WHERE "
				"i.user_id = users.id)"
				" FROM users";

static void info_from_row(sqlite3_stmt *s, struct kms_user_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = sqlite3_column_int64(s, 0);
	copy_text(info->name, sizeof(info->name), s, 1);
	copy_text(info->psk_id, sizeof(info->psk_id), s, 2);
	info->key_supplier = sqlite3_column_int(s, 3) != 0;
	info->created = sqlite3_column_int64(s, 4);
	info->n_identities = (size_t)sqlite3_column_int64(s, 5);
}

enum cc_err ksq_user_get(struct kms_db *db, const char *name,
			 struct kms_user_info *info)
{
	char sql[256];
	sqlite3_stmt *s;
	enum cc_err err;
	int rc;

	snprintf(sql, sizeof(sql), "%s WHERE name = ?1", user_cols);
	err = prep(db, sql, &s);
	if (err)
		return err;
	bind_s(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		info_from_row(s, info);
	err = rc == SQLITE_ROW  ? CC_OK :
	      rc == SQLITE_DONE ? CC_ERR_NOT_FOUND :
				  kdb_err(rc);
	sqlite3_finalize(s);
	return err;
}

enum cc_err ksq_user_list(struct kms_db *db,
			  bool (*cb)(const struct kms_user_info *u, void *arg),
			  void *arg)
{
	struct kms_user_info info;
	char sql[256];
	sqlite3_stmt *s;
	enum cc_err err;
	int rc;

	snprintf(sql, sizeof(sql), "%s ORDER BY name", user_cols);
	err = prep(db, sql, &s);
	if (err)
		return err;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		info_from_row(s, &info);
		if (!cb(&info, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	err = kdb_err(rc);
	sqlite3_finalize(s);
	return err;
}

enum cc_err ksq_user_psk(struct kms_db *db, const char *name,
			 char psk_id[KMS_MAX_NAME], uint8_t psk[KMS_MAX_PSK],
			 size_t *psk_len)
{
	sqlite3_stmt *s;
	enum cc_err err;
	int rc;

	err = prep(db, "SELECT psk_id, psk_enc FROM users WHERE name = ?1", &s);
	if (err)
		return err;
	bind_s(s, 1, name);
	rc = sqlite3_step(s);
	err = rc == SQLITE_ROW  ? CC_OK :
	      rc == SQLITE_DONE ? CC_ERR_NOT_FOUND :
				  kdb_err(rc);
	if (!err) {
		copy_text(psk_id, KMS_MAX_NAME, s, 0);
		err = kdb_unseal(db->master, "psk", name,
				 sqlite3_column_blob(s, 1),
				 (size_t)sqlite3_column_bytes(s, 1), psk,
				 KMS_MAX_PSK, psk_len);
	}
	sqlite3_finalize(s);
	return err;
}

/* ---- identities ---------------------------------------------------------- */

enum cc_err ksq_identity_add(struct kms_db *db, const char *user,
			     const char *identity)
{
	struct cc_slice id, realm;
	sqlite3_stmt *s;
	enum cc_err err;
	int64_t uid;

	/* CC_ERR_MALFORMED: not an identity; CC_ERR_INVAL: already owned */
	if (!name_ok(identity) || kms_identity_check(identity) != CC_OK)
		return CC_ERR_MALFORMED;
	err = kdb_user_id(db, user, &uid);
	if (err)
		return err;
	id = (struct cc_slice){ (const uint8_t *)identity, strlen(identity) };
	realm = kdb_realm(id);
	err = prep(db,
		   "INSERT INTO identities(identity, is_pattern, realm,"
		   " user_id) VALUES (?1, ?2, ?3, ?4)",
		   &s);
	if (err)
		return err;
	bind_s(s, 1, identity);
	sqlite3_bind_int(s, 2, strchr(identity, '*') ? 1 : 0);
	sqlite3_bind_text(s, 3, (const char *)realm.p, (int)realm.len,
			  SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, uid);
	return run(db, s, false);
}

enum cc_err ksq_identity_set_factory(struct kms_db *db, const char *identity,
				     bool factory)
{
	sqlite3_stmt *s;
	enum cc_err err;

	err = prep(db, "UPDATE identities SET factory = ?2 WHERE identity = ?1",
		   &s);
	if (err)
		return err;
	bind_s(s, 1, identity);
	sqlite3_bind_int(s, 2, factory ? 1 : 0);
	return run(db, s, true);
}

enum cc_err ksq_identity_del(struct kms_db *db, const char *identity)
{
	sqlite3_stmt *s;
	enum cc_err err;

	err = prep(db, "DELETE FROM identities WHERE identity = ?1", &s);
	if (err)
		return err;
	bind_s(s, 1, identity);
	return run(db, s, true);
}

enum cc_err ksq_identity_list(struct kms_db *db, const char *user,
			      bool (*cb)(const char *identity, bool factory,
					 void *arg),
			      void *arg)
{
	sqlite3_stmt *s;
	enum cc_err err;
	int64_t uid;
	int rc;

	err = kdb_user_id(db, user, &uid);
	if (err)
		return err;
	err = prep(db,
		   "SELECT identity, factory FROM identities WHERE user_id = ?1"
		   " ORDER BY identity",
		   &s);
	if (err)
		return err;
	sqlite3_bind_int64(s, 1, uid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!cb((const char *)sqlite3_column_text(s, 0),
			sqlite3_column_int(s, 1) != 0, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	err = kdb_err(rc);
	sqlite3_finalize(s);
	return err;
}

/* ---- policies ------------------------------------------------------------ */

static bool kind_ok(const char *kind)
{
	return kind &&
	       (!strcmp(kind, "allow-conference") || !strcmp(kind, "deny"));
}

static enum cc_err policy_op(struct kms_db *db, const char *sql,
			     const char *kind, const char *a, const char *b,
			     bool want_change)
{
	int64_t ia, ib;
	sqlite3_stmt *s;
	enum cc_err err;

	if (!kind_ok(kind))
		return CC_ERR_INVAL;
	err = kdb_user_id(db, a, &ia);
	if (!err)
		err = kdb_user_id(db, b, &ib);
	if (!err)
		err = prep(db, sql, &s);
	if (err)
		return err;
	bind_s(s, 1, kind);
	sqlite3_bind_int64(s, 2, ia);
	sqlite3_bind_int64(s, 3, ib);
	return run(db, s, want_change);
}

static const char policy_insert[] = "INSERT INTO policies(kind, a, b) VALUES "
				    "(?1, ?2, ?3)";

enum cc_err ksq_policy_allow_conference(struct kms_db *db, const char *creator,
					const char *factory)
{
	return policy_op(db, policy_insert, "allow-conference", creator,
			 factory, false);
}

enum cc_err ksq_policy_deny(struct kms_db *db, const char *from, const char *to)
{
	return policy_op(db, policy_insert, "deny", from, to, false);
}

enum cc_err ksq_policy_del(struct kms_db *db, const char *kind, const char *a,
			   const char *b)
{
	return policy_op(db,
			 "DELETE FROM policies WHERE kind = ?1 AND a = ?2"
			 " AND b = ?3",
			 kind, a, b, true);
}

enum cc_err ksq_policy_list(struct kms_db *db,
			    bool (*cb)(const char *kind, const char *a,
				       const char *b, void *arg),
			    void *arg)
{
	sqlite3_stmt *s;
	enum cc_err err;
	int rc;

	err = prep(db,
		   "SELECT p.kind, ua.name, ub.name FROM policies p"
		   " JOIN users ua ON ua.id = p.a JOIN users ub ON ub.id = p.b"
		   " ORDER BY p.kind, ua.name, ub.name",
		   &s);
	if (err)
		return err;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!cb((const char *)sqlite3_column_text(s, 0),
			(const char *)sqlite3_column_text(s, 1),
			(const char *)sqlite3_column_text(s, 2), arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	err = kdb_err(rc);
	sqlite3_finalize(s);
	return err;
}

/* ---- ticket-protection keys ---------------------------------------------- */

static enum cc_err tpk_insert(struct kms_db *db, const char *id,
			      const uint8_t *key, size_t key_len, int64_t now)
{
	uint8_t sealed[SEAL_MAX];
	sqlite3_stmt *s;
	enum cc_err err;
	size_t n;

	err = kdb_seal(db->master, "tpk", id, key, key_len, sealed, &n);
	if (!err)
		err = prep(db,
			   "INSERT INTO tpks(id, key_enc, created, retire_at,"
			   " current) VALUES (?1, ?2, ?3, 0, 1)",
			   &s);
	if (err)
		return err;
	bind_s(s, 1, id);
	sqlite3_bind_blob(s, 2, sealed, (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	return run(db, s, false);
}

/* Retire the current key at retire_at, and drop keys already past their
 * retirement: they can resolve nothing, so keeping them only adds risk. */
static enum cc_err tpk_retire(struct kms_db *db, int64_t now, int64_t retire_at)
{
	sqlite3_stmt *s;
	enum cc_err err;

	err = prep(db,
		   "UPDATE tpks SET current = 0, retire_at = ?1"
		   " WHERE current = 1",
		   &s);
	if (err)
		return err;
	sqlite3_bind_int64(s, 1, retire_at);
	err = run(db, s, false);
	if (!err)
		err = prep(db,
			   "DELETE FROM tpks WHERE current = 0"
			   " AND retire_at <= ?1",
			   &s);
	if (err)
		return err;
	sqlite3_bind_int64(s, 1, now);
	return run(db, s, false);
}

static enum cc_err tpk_rotate_in(struct kms_db *db, int64_t now, int64_t grace,
				 size_t key_len, char *id)
{
	uint8_t key[KMS_MAX_TPK], rnd[8];
	char hex[2 * sizeof(rnd) + 1];
	enum cc_err err;

	err = kdb_random(rnd, sizeof(rnd));
	if (!err)
		err = kdb_random(key, key_len);
	if (err)
		goto out;
	cc_hex_encode(rnd, sizeof(rnd), hex);
	snprintf(id, KMS_MAX_NAME, "tpk-%s", hex);
	err = tpk_retire(db, now, now + grace > 0 ? now + grace : 1);
	if (!err)
		err = tpk_insert(db, id, key, key_len, now);
out:
	cc_wipe(key, sizeof(key));
	return err;
}

/* A savepoint, not BEGIN: ksq_open(create) calls this inside its own
 * transaction. */
enum cc_err ksq_tpk_rotate(struct kms_db *db, int64_t now, int64_t grace,
			   size_t key_len, char new_id[KMS_MAX_NAME])
{
	char id[KMS_MAX_NAME];
	enum cc_err err;

	if (grace < 0 || grace > INT32_MAX || now < 0 ||
	    (key_len != 16 && key_len != 32))
		return CC_ERR_INVAL;
	err = kdb_exec(db, "SAVEPOINT tpk_rotate");
	if (err)
		return err;
	err = tpk_rotate_in(db, now, grace, key_len, id);
	if (err && kdb_exec(db, "ROLLBACK TO tpk_rotate")) {
		/* the error already says what failed */
	}
	if (kdb_exec(db, "RELEASE tpk_rotate") && !err)
		err = CC_ERR_STORE;
	if (!err && new_id)
		memcpy(new_id, id, KMS_MAX_NAME);
	return err;
}

/* ---- audit --------------------------------------------------------------- */

enum cc_err ksq_audit_tail(struct kms_db *db, size_t n,
			   bool (*cb)(int64_t seq, const struct kms_audit *a,
				      void *arg),
			   void *arg)
{
	struct kms_audit a;
	sqlite3_stmt *s;
	enum cc_err err;
	const char *op;
	int rc;

	err = prep(db,
		   "SELECT seq, time, op, outcome, reason, ticket_id,"
		   " requester, initiator, peer FROM (SELECT * FROM audit"
		   " ORDER BY seq DESC LIMIT ?1) ORDER BY seq",
		   &s);
	if (err)
		return err;
	sqlite3_bind_int64(s, 1, n > INT64_MAX ? INT64_MAX : (int64_t)n);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		a.time = sqlite3_column_int64(s, 1);
		op = (const char *)sqlite3_column_text(s, 2);
		a.op = op && !strcmp(op, "request") ? KMS_OP_REQUEST :
		       op && !strcmp(op, "resolve") ? KMS_OP_RESOLVE :
						      (enum kms_op)0;
		a.outcome = (const char *)sqlite3_column_text(s, 3);
		a.reason = (const char *)sqlite3_column_text(s, 4);
		copy_text(a.ticket_id, sizeof(a.ticket_id), s, 5);
		copy_text(a.requester, sizeof(a.requester), s, 6);
		copy_text(a.initiator, sizeof(a.initiator), s, 7);
		copy_text(a.peer, sizeof(a.peer), s, 8);
		if (!cb(sqlite3_column_int64(s, 0), &a, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	err = kdb_err(rc);
	sqlite3_finalize(s);
	return err;
}

/* ---- the engine table (store.c dispatches through it) -------------------- */

const struct kdb_engine kdb_sqlite_engine = KDB_ENGINE_TABLE(ksq);
