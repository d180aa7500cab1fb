/*
 * store_pg_admin.c -- administration of the PostgreSQL store
 * (kms_store.h): users, identities, policies, ticket-key rotation and the
 * audit tail, as store_sqlite_admin.c does them on SQLite (same checks,
 * same errors). Each call outside a request is its own transaction
 * (autocommit); the ticket-key rotation runs in one explicit transaction.
 * Error mapping: see the top of store_pg.c.
 */
#include "store_pg_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */

/* As store_sqlite_admin.c: 1..KMS_MAX_NAME-1 printable ASCII, no space. */
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

static bool psk_len_ok(size_t n)
{
	return n == 16 || n == 32;
}

/* Run sql with args; CC_ERR_NOT_FOUND if want_change and no row changed. */
static enum cc_err run(struct kms_db *db, const char *sql,
		       const struct kpg_arg *a, int n, bool want_change)
{
	PGresult *r;
	enum cc_err err = kpg_run(db, -1, sql, a, n, &r);

	if (!err && want_change && !strcmp(PQcmdTuples(r), "0"))
		err = CC_ERR_NOT_FOUND;
	PQclear(r);
	return err;
}

static enum cc_err user_id(struct kms_db *db, const char *name, int64_t *id)
{
	struct kpg_arg a = KPG_TEXT(name);
	PGresult *r;
	enum cc_err err;

	if (!name_ok(name))
		return CC_ERR_NOT_FOUND;
	err = kpg_run(db, -1, "SELECT id FROM users WHERE name = $1", &a, 1,
		      &r);
	if (err)
		return err;
	if (PQntuples(r) == 1)
		*id = kpg_int(r, 0, 0);
	else
		err = CC_ERR_NOT_FOUND;
	PQclear(r);
	return err;
}

static void i64(char out[24], int64_t v)
{
	snprintf(out, 24, "%" PRId64, v);
}

/* ---- users --------------------------------------------------------------- */

enum cc_err kpg_user_add(struct kms_db *db, const char *name,
			 const char *psk_id, const uint8_t *psk, size_t psk_len,
			 bool key_supplier)
{
	uint8_t sealed[SEAL_MAX];
	enum cc_err err;
	size_t n;

	if (!name_ok(name) || !name_ok(psk_id) || !psk || !psk_len_ok(psk_len))
		return CC_ERR_INVAL;
	err = kdb_seal(db->master, "psk", name, psk, psk_len, sealed, &n);
	if (err)
		return err;
	struct kpg_arg a[4] = { KPG_TEXT(name),
				KPG_TEXT(psk_id),
				{ (const char *)sealed, (int)n },
				KPG_TEXT(key_supplier ? "t" : "f") };
	return run(db,
		   "INSERT INTO users(name, psk_id, psk_enc, key_supplier,"
		   " created) VALUES ($1, $2, $3, $4,"
		   " extract(epoch FROM now())::bigint)",
		   a, 4, false);
}

/* psk_id NULL keeps the PSK id; psk NULL keeps the PSK. */
enum cc_err kpg_user_set_psk(struct kms_db *db, const char *name,
			     const char *psk_id, const uint8_t *psk,
			     size_t psk_len)
{
	uint8_t sealed[SEAL_MAX];
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
	struct kpg_arg a[3] = { KPG_TEXT(name),
				KPG_TEXT(psk_id),
				{ psk ? (const char *)sealed : NULL, (int)n } };
	return run(db,
		   "UPDATE users SET psk_id = coalesce($2, psk_id),"
		   " psk_enc = coalesce($3, psk_enc) WHERE name = $1",
		   a, 3, true);
}

enum cc_err kpg_user_set_supplier(struct kms_db *db, const char *name,
				  bool key_supplier)
{
	struct kpg_arg a[2] = { KPG_TEXT(name),
				KPG_TEXT(key_supplier ? "t" : "f") };

	if (!name_ok(name))
		return CC_ERR_NOT_FOUND;
	return run(db, "UPDATE users SET key_supplier = $2 WHERE name = $1", a,
		   2, true);
}

enum cc_err kpg_user_del(struct kms_db *db, const char *name)
{
	struct kpg_arg a = KPG_TEXT(name);

	if (!name_ok(name))
		return CC_ERR_NOT_FOUND;
	return run(db, "DELETE FROM users WHERE name = $1", &a, 1, true);
}

#define USER_COLS                                                         \
	"SELECT id, name, psk_id, key_supplier, created,"                 \
	" (SELECT count(*) FROM identities i WHERE i.user_id = users.id)" \
	" FROM users"

static void info_from_row(const PGresult *r, int i, struct kms_user_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = kpg_int(r, i, 0);
	kpg_text(info->name, sizeof(info->name), r, i, 1);
	kpg_text(info->psk_id, sizeof(info->psk_id), r, i, 2);
	info->key_supplier = kpg_bool(r, i, 3);
	info->created = kpg_int(r, i, 4);
	info->n_identities = (size_t)kpg_int(r, i, 5);
}

enum cc_err kpg_user_get(struct kms_db *db, const char *name,
			 struct kms_user_info *info)
{
	struct kpg_arg a = KPG_TEXT(name);
	PGresult *r;
	enum cc_err err;

	if (!name_ok(name))
		return CC_ERR_NOT_FOUND;
	err = kpg_run(db, -1, USER_COLS " WHERE name = $1", &a, 1, &r);
	if (err)
		return err;
	if (PQntuples(r) == 1)
		info_from_row(r, 0, info);
	else
		err = CC_ERR_NOT_FOUND;
	PQclear(r);
	return err;
}

enum cc_err kpg_user_list(struct kms_db *db,
			  bool (*cb)(const struct kms_user_info *u, void *arg),
			  void *arg)
{
	struct kms_user_info info;
	PGresult *r;
	enum cc_err err;
	int i;

	err = kpg_run(db, -1, USER_COLS " ORDER BY name", NULL, 0, &r);
	if (err)
		return err;
	for (i = 0; i < PQntuples(r); i++) {
		info_from_row(r, i, &info);
		if (!cb(&info, arg))
			break;
	}
	PQclear(r);
	return CC_OK;
}

enum cc_err kpg_user_psk(struct kms_db *db, const char *name,
			 char psk_id[KMS_MAX_NAME], uint8_t psk[KMS_MAX_PSK],
			 size_t *psk_len)
{
	struct kpg_arg a = KPG_TEXT(name);
	uint8_t sealed[SEAL_MAX];
	size_t n = 0;
	PGresult *r;
	enum cc_err err;

	if (!name_ok(name))
		return CC_ERR_NOT_FOUND;
	err = kpg_run(db, -1,
		      "SELECT psk_id, psk_enc FROM users WHERE name = $1", &a,
		      1, &r);
	if (err)
		return err;
	if (PQntuples(r) != 1)
		err = CC_ERR_NOT_FOUND;
	if (!err) {
		kpg_text(psk_id, KMS_MAX_NAME, r, 0, 0);
		err = kpg_bytea(r, 0, 1, sealed, sizeof(sealed), &n);
	}
	PQclear(r);
	if (!err)
		err = kdb_unseal(db->master, "psk", name, sealed, n, psk,
				 KMS_MAX_PSK, psk_len);
	return err;
}

/* ---- identities ---------------------------------------------------------- */

enum cc_err kpg_identity_add(struct kms_db *db, const char *user,
			     const char *identity)
{
	char realm[KMS_MAX_NAME], uid[24];
	struct cc_slice id, rs;
	enum cc_err err;
	int64_t u;

	if (!name_ok(identity) || kms_identity_check(identity) != CC_OK)
		return CC_ERR_MALFORMED;
	err = user_id(db, user, &u);
	if (err)
		return err;
	id = (struct cc_slice){ (const uint8_t *)identity, strlen(identity) };
	rs = kdb_realm(id);
	snprintf(realm, sizeof(realm), "%.*s", (int)rs.len, (const char *)rs.p);
	i64(uid, u);
	struct kpg_arg a[4] = { KPG_TEXT(identity),
				KPG_TEXT(strchr(identity, '*') ? "t" : "f"),
				KPG_TEXT(realm), KPG_TEXT(uid) };
	return run(db,
		   "INSERT INTO identities(identity, is_pattern, realm,"
		   " user_id) VALUES ($1, $2, $3, $4)",
		   a, 4, false);
}

enum cc_err kpg_identity_set_factory(struct kms_db *db, const char *identity,
				     bool factory)
{
	struct kpg_arg a[2] = { KPG_TEXT(identity),
				KPG_TEXT(factory ? "t" : "f") };

	if (!name_ok(identity))
		return CC_ERR_NOT_FOUND;
	return run(db, "UPDATE identities SET factory = $2 WHERE identity = $1",
		   a, 2, true);
}

enum cc_err kpg_identity_del(struct kms_db *db, const char *identity)
{
	struct kpg_arg a = KPG_TEXT(identity);

	if (!name_ok(identity))
		return CC_ERR_NOT_FOUND;
	return run(db, "DELETE FROM identities WHERE identity = $1", &a, 1,
		   true);
}

enum cc_err kpg_identity_list(struct kms_db *db, const char *user,
			      bool (*cb)(const char *identity, bool factory,
					 void *arg),
			      void *arg)
{
	char uid[24];
	struct kpg_arg a = KPG_TEXT(uid);
	PGresult *r;
	enum cc_err err;
	int64_t u;
	int i;

	err = user_id(db, user, &u);
	if (err)
		return err;
	i64(uid, u);
	err = kpg_run(db, -1,
		      "SELECT identity, factory FROM identities"
		      " WHERE user_id = $1 ORDER BY identity",
		      &a, 1, &r);
	if (err)
		return err;
	for (i = 0; i < PQntuples(r); i++)
		if (!cb(PQgetvalue(r, i, 0), kpg_bool(r, i, 1), arg))
			break;
	PQclear(r);
	return CC_OK;
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
	char va[24], vb[24];
	struct kpg_arg args[3] = { KPG_TEXT(kind), KPG_TEXT(va), KPG_TEXT(vb) };
	int64_t ia, ib;
	enum cc_err err;

	if (!kind_ok(kind))
		return CC_ERR_INVAL;
	err = user_id(db, a, &ia);
	if (!err)
		err = user_id(db, b, &ib);
	if (err)
		return err;
	i64(va, ia);
	i64(vb, ib);
	return run(db, sql, args, 3, want_change);
}

static const char policy_insert[] = "INSERT INTO policies(kind, a, b)"
				    " VALUES ($1, $2, $3)";

enum cc_err kpg_policy_allow_conference(struct kms_db *db, const char *creator,
					const char *factory)
{
	return policy_op(db, policy_insert, "allow-conference", creator,
			 factory, false);
}

enum cc_err kpg_policy_deny(struct kms_db *db, const char *from, const char *to)
{
	return policy_op(db, policy_insert, "deny", from, to, false);
}

enum cc_err kpg_policy_del(struct kms_db *db, const char *kind, const char *a,
			   const char *b)
{
	return policy_op(db,
			 "DELETE FROM policies WHERE kind = $1 AND a = $2"
			 " AND b = $3",
			 kind, a, b, true);
}

enum cc_err kpg_policy_list(struct kms_db *db,
			    bool (*cb)(const char *kind, const char *a,
				       const char *b, void *arg),
			    void *arg)
{
	PGresult *r;
	enum cc_err err;
	int i;

	err = kpg_run(db, -1,
		      "SELECT p.kind, ua.name, ub.name FROM policies p"
		      " JOIN users ua ON ua.id = p.a"
		      " JOIN users ub ON ub.id = p.b"
		      " ORDER BY p.kind, ua.name, ub.name",
		      NULL, 0, &r);
	if (err)
		return err;
	for (i = 0; i < PQntuples(r); i++)
		if (!cb(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
			PQgetvalue(r, i, 2), arg))
			break;
	PQclear(r);
	return CC_OK;
}

/* ---- ticket-protection keys ---------------------------------------------- */

static enum cc_err tpk_insert(struct kms_db *db, const char *id,
			      const uint8_t *key, size_t key_len, int64_t now)
{
	uint8_t sealed[SEAL_MAX];
	char t[24];
	enum cc_err err;
	size_t n;

	err = kdb_seal(db->master, "tpk", id, key, key_len, sealed, &n);
	if (err)
		return err;
	i64(t, now);
	struct kpg_arg a[3] = { KPG_TEXT(id),
				{ (const char *)sealed, (int)n },
				KPG_TEXT(t) };
	return run(db,
		   "INSERT INTO tpks(id, key_enc, created, retire_at, current)"
		   " VALUES ($1, $2, $3, 0, true)",
		   a, 3, false);
}

/* Retire the current key at retire_at; drop keys past their retirement. */
static enum cc_err tpk_retire(struct kms_db *db, int64_t now, int64_t retire_at)
{
	char vr[24], vn[24];
	struct kpg_arg ar = KPG_TEXT(vr), an = KPG_TEXT(vn);
	enum cc_err err;

	i64(vr, retire_at);
	i64(vn, now);
	err = run(db,
		  "UPDATE tpks SET current = false, retire_at = $1"
		  " WHERE current",
		  &ar, 1, false);
	if (!err)
		err = run(db,
			  "DELETE FROM tpks WHERE NOT current"
			  " AND retire_at <= $1",
			  &an, 1, false);
	return err;
}

/* Inside a transaction: the advisory lock serialises two rotations, so
 * the second retires the first's key instead of colliding with it. */
enum cc_err kpg_tpk_rotate_in(struct kms_db *db, int64_t now, int64_t grace,
			      size_t key_len, char *id)
{
	uint8_t key[KMS_MAX_TPK], rnd[8];
	char hex[2 * sizeof(rnd) + 1];
	enum cc_err err;

	err = kpg_exec(db, "SELECT pg_advisory_xact_lock(7263461002)");
	if (!err)
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

enum cc_err kpg_tpk_rotate(struct kms_db *db, int64_t now, int64_t grace,
			   size_t key_len, char new_id[KMS_MAX_NAME])
{
	char id[KMS_MAX_NAME];
	enum cc_err err;

	if (grace < 0 || grace > INT32_MAX || now < 0 ||
	    (key_len != 16 && key_len != 32))
		return CC_ERR_INVAL;
	err = kpg_exec(db, "BEGIN");
	if (err)
		return err;
	err = kpg_tpk_rotate_in(db, now, grace, key_len, id);
	if (!err)
		err = kpg_exec(db, "COMMIT");
	if (err && kpg_exec(db, "ROLLBACK")) {
		/* the error already says what failed */
	}
	if (!err && new_id)
		memcpy(new_id, id, KMS_MAX_NAME);
	return err;
}

/* ---- audit --------------------------------------------------------------- */

enum cc_err kpg_audit_tail(struct kms_db *db, size_t n,
			   bool (*cb)(int64_t seq, const struct kms_audit *a,
				      void *arg),
			   void *arg)
{
	struct kms_audit a;
	char lim[24];
	struct kpg_arg arg0 = KPG_TEXT(lim);
	const char *op;
	PGresult *r;
	enum cc_err err;
	int i;

	i64(lim, n > INT64_MAX ? INT64_MAX : (int64_t)n);
	err = kpg_run(db, -1,
		      "SELECT seq, time, op, outcome, reason, ticket_id,"
		      " requester, initiator, peer FROM (SELECT * FROM audit"
		      " ORDER BY seq DESC LIMIT $1) t ORDER BY seq",
		      &arg0, 1, &r);
	if (err)
		return err;
	for (i = 0; i < PQntuples(r); i++) {
		memset(&a, 0, sizeof(a));
		a.time = kpg_int(r, i, 1);
		op = PQgetvalue(r, i, 2);
		a.op = !strcmp(op, "request") ? KMS_OP_REQUEST :
		       !strcmp(op, "resolve") ? KMS_OP_RESOLVE :
						(enum kms_op)0;
		a.outcome = PQgetvalue(r, i, 3);
		a.reason = PQgetvalue(r, i, 4);
		kpg_text(a.ticket_id, sizeof(a.ticket_id), r, i, 5);
		kpg_text(a.requester, sizeof(a.requester), r, i, 6);
		kpg_text(a.initiator, sizeof(a.initiator), r, i, 7);
		kpg_text(a.peer, sizeof(a.peer), r, i, 8);
		if (!cb(kpg_int(r, i, 0), &a, arg))
			break;
	}
	PQclear(r);
	return CC_OK;
}
