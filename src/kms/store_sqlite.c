/*
 * store_sqlite.c -- the SQLite store of the KMS (kms_store.h): open,
 * schema migrations, and the struct kms_store operations the KMS core calls
 * on every request (kms.h). Administration is in store_sqlite_admin.c,
 * secrets at rest in seal_at_rest.c, the master key file in masterkey.c.
 *
 * One file in WAL mode (synchronous=NORMAL: a commit survives a process
 * crash; a power loss may drop the last commits but never corrupts),
 * foreign keys on, busy_timeout 5000 ms so several processes (kmsd, the
 * admin CLI) share it. A db is used by one thread at a time.
 *
 * Hot-path statements are prepared once at open and reset after each use
 * (enum kdb_stmt). No secret is ever bound in clear: psk_enc / key_enc hold
 * nonce || AES-256-GCM(master, value) || tag, the AAD naming the row.
 *
 * `kms_db_open(create=true)` also creates the first ticket-protection key
 * (current, 32 bytes), so an initialised store always has a current TPK;
 * `conclave kms init` relies on that.
 *
 * Error mapping (the protocol error enum has no storage code yet):
 *   SQLITE_CONSTRAINT*          -> CC_ERR_INVAL  (duplicate name, psk id,
 *                                  identity or rule; unknown referent)
 *   no row                      -> CC_ERR_NOT_FOUND (every lookup,
 *                                  user_by_psk_id / user_by_identity too, as
 *                                  kms.h says; the core reports unknown user)
 *   SQLITE_NOMEM                -> CC_ERR_NOMEM
 *   SQLITE_NOTADB / CORRUPT     -> CC_ERR_MALFORMED (not a KMS store)
 *   SQLITE_CANTOPEN             -> CC_ERR_NOT_FOUND (open of a missing file)
 *   SQLITE_PERM / AUTH / RO     -> CC_ERR_NOT_AUTHORISED
 *   schema newer than this code, or a spec for another engine
 *                               -> CC_ERR_UNSUPPORTED
 *   kms_db_open(create) on an existing file -> CC_ERR_INVAL
 *   identity_add of a bad identity/pattern  -> CC_ERR_MALFORMED
 *   an identity matched by patterns of two users -> CC_ERR_NOT_AUTHORISED
 *                                  (refused rather than guessed)
 *   any other failure (BUSY after the timeout, IOERR, FULL, ...)
 *                               -> CC_ERR_STORE ("storage failure")
 *   wrong master key / a tampered sealed value -> CC_ERR_BAD_MAC
 *   OpenSSL failure             -> CC_ERR_CRYPTO
 */
#include "store_sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- schema ------------------------------------------------------------ */

/*
 * Migrations in order: step i takes PRAGMA user_version from i to i + 1,
 * in one transaction. Never edit a released step; append a new one.
 */
const char *const kdb_migrations[] = {
	/* v1: users, identities, policies, ticket keys, meta. */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"CREATE TABLE users("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" psk_id TEXT NOT NULL UNIQUE,"
	" psk_enc BLOB NOT NULL,"
	" key_supplier INTEGER NOT NULL DEFAULT 0 CHECK(key_supplier IN (0,1)),"
	" created INTEGER NOT NULL);"
	"CREATE TABLE identities("
	" id INTEGER PRIMARY KEY,"
	" identity TEXT NOT NULL UNIQUE,"
	" is_pattern INTEGER NOT NULL CHECK(is_pattern IN (0,1)),"
	" realm TEXT NOT NULL,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE);"
	"CREATE INDEX identities_realm ON identities(realm, is_pattern);"
	"CREATE INDEX identities_user ON identities(user_id);"
	"CREATE TABLE policies("
	" kind TEXT NOT NULL CHECK(kind IN ('allow-conference','deny')),"
	" a INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" b INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" PRIMARY KEY(kind, a, b)) WITHOUT ROWID;"
	"CREATE INDEX policies_b ON policies(b);"
	"CREATE TABLE tpks("
	" seq INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE,"
	" key_enc BLOB NOT NULL,"
	" created INTEGER NOT NULL,"
	" retire_at INTEGER NOT NULL DEFAULT 0,"
	" current INTEGER NOT NULL DEFAULT 0 CHECK(current IN (0,1)));"
	"CREATE UNIQUE INDEX tpks_one_current ON tpks(current) "
	" WHERE current = 1;",
	/*
	 * v2: the append-only audit log (never keys). seq is the rowid
	 * without AUTOINCREMENT: the triggers forbid DELETE, so max(seq) + 1
	 * is never a reused number, and AUTOINCREMENT's sqlite_sequence
	 * update cost ~40% of every insert (the hot path writes two a pair).
	 */
	"CREATE TABLE audit("
	" seq INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL,"
	" op TEXT NOT NULL,"
	" outcome TEXT NOT NULL,"
	" reason TEXT NOT NULL DEFAULT '',"
	" ticket_id TEXT NOT NULL DEFAULT '',"
	" requester TEXT NOT NULL DEFAULT '',"
	" initiator TEXT NOT NULL DEFAULT '',"
	" peer TEXT NOT NULL DEFAULT '');"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
	" BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
	" BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
	/* v3: identities that name a conference factory (docs/KMS.md):
	 * requests to them and resolves by them need the creation right. */
	("ALTER TABLE identities ADD COLUMN factory INTEGER NOT NULL DEFAULT 0"
	 " CHECK(factory IN (0,1));"),
};
const int kdb_schema_latest =
	(int)(sizeof(kdb_migrations) / sizeof(kdb_migrations[0]));

static const char *const stmt_sql[KDB__COUNT] = {
	[KDB_USER_BY_PSK_ID] = "SELECT id, name, psk_id, psk_enc, key_supplier"
			       " FROM users WHERE psk_id = ?1",
	[KDB_USER_BY_IDENTITY] = "SELECT u.id, u.name, u.psk_id, u.psk_enc, "
				 "u.key_supplier, i.factory"
				 " FROM identities i JOIN users u ON u.id = "
				 "i.user_id"
				 " WHERE i.identity = ?1 AND i.is_pattern = 0",
	[KDB_PATTERNS_IN_REALM] = "SELECT identity, user_id, factory"
				  " FROM identities"
				  " WHERE realm = ?1 AND is_pattern = 1"
				  " ORDER BY id",
	[KDB_USER_BY_ROWID] = "SELECT id, name, psk_id, psk_enc, key_supplier"
			      " FROM users WHERE id = ?1",
	[KDB_POLICY_HAS] = "SELECT 1 FROM policies"
			   " WHERE kind = ?1 AND a = ?2 AND b = ?3",
	[KDB_TPK_CURRENT] = "SELECT id, key_enc, created, retire_at FROM tpks"
			    " WHERE current = 1",
	[KDB_TPK_BY_ID] = "SELECT id, key_enc, created, retire_at FROM tpks"
			  " WHERE id = ?1 AND (current = 1 OR retire_at > ?2)",
	[KDB_AUDIT_INSERT] = "INSERT INTO audit(time, op, outcome, reason, "
			     "ticket_id,"
			     " requester, initiator, peer)"
			     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	/* one request = one transaction; IMMEDIATE takes the write lock at
	 * once, so a second writer waits (busy_timeout) instead of failing
	 * the upgrade half-way through */
	[KDB_BEGIN] = "BEGIN IMMEDIATE",
	[KDB_COMMIT] = "COMMIT",
	[KDB_ROLLBACK] = "ROLLBACK",
};

static const char verifier_text[] = "conclave-kms master key verifier";

/* ---- errors and small helpers ------------------------------------------- */

enum cc_err kdb_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return CC_OK;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
	case SQLITE_TOOBIG:
		return CC_ERR_INVAL;
	case SQLITE_NOMEM:
		return CC_ERR_NOMEM;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_SCHEMA:
		return CC_ERR_MALFORMED;
	case SQLITE_CANTOPEN:
	case SQLITE_NOTFOUND:
		return CC_ERR_NOT_FOUND;
	case SQLITE_PERM:
	case SQLITE_AUTH:
	case SQLITE_READONLY:
		return CC_ERR_NOT_AUTHORISED;
	default:
		return CC_ERR_STORE;
	}
}

enum cc_err kdb_exec(struct kms_db *db, const char *sql)
{
	return kdb_err(sqlite3_exec(db->sql, sql, NULL, NULL, NULL));
}

struct cc_slice kdb_realm(struct cc_slice identity)
{
	size_t i = identity.len;

	while (i > 0 && identity.p[i - 1] != '@')
		i--;
	if (i == 0)
		return (struct cc_slice){ identity.p + identity.len, 0 };
	return (struct cc_slice){ identity.p + i, identity.len - i };
}

/* Bind text that need not be NUL-terminated (the core's slices). */
static int bind_slice(sqlite3_stmt *s, int i, struct cc_slice v)
{
	return sqlite3_bind_text(s, i, v.len ? (const char *)v.p : "",
				 (int)v.len, SQLITE_STATIC);
}

static void copy_col(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(s, col) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

/* Step a cached statement expecting at most one row; CC_OK with the row
 * ready, CC_ERR_NOT_FOUND if none. The caller resets it. */
static enum cc_err step_one(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return CC_OK;
	if (rc == SQLITE_DONE)
		return CC_ERR_NOT_FOUND;
	return kdb_err(rc);
}

static void stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s); /* its result repeats the step's, already seen */
	sqlite3_clear_bindings(s);
}

/* ---- open, create, migrate ---------------------------------------------- */

static enum cc_err set_version(struct kms_db *db, int v)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	return kdb_exec(db, sql);
}

static enum cc_err read_version(struct kms_db *db, int *v)
{
	sqlite3_stmt *s;
	enum cc_err err;

	err = kdb_err(sqlite3_prepare_v2(db->sql, "PRAGMA user_version", -1, &s,
					 NULL));
	if (err)
		return err;
	err = step_one(s);
	if (!err)
		*v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return err;
}

/* Apply migrations from the file's version up to target, one transaction
 * each, so a crash leaves the file at a whole version. */
static enum cc_err migrate(struct kms_db *db, int target)
{
	enum cc_err err;
	int v;

	err = read_version(db, &v);
	if (err)
		return err;
	if (v > kdb_schema_latest)
		return CC_ERR_UNSUPPORTED;
	for (; v < target; v++) {
		err = kdb_exec(db, "BEGIN IMMEDIATE");
		if (err)
			return err;
		err = kdb_exec(db, kdb_migrations[v]);
		if (!err)
			err = set_version(db, v + 1);
		if (!err)
			err = kdb_exec(db, "COMMIT");
		if (err) {
			if (kdb_exec(db, "ROLLBACK")) {
				/* nothing open to roll back */
			}
			return err;
		}
	}
	db->version = v;
	return CC_OK;
}

static enum cc_err meta_put(struct kms_db *db, const char *key,
			    const uint8_t *v, size_t n)
{
	sqlite3_stmt *s;
	enum cc_err err;

	err = kdb_err(sqlite3_prepare_v2(db->sql,
					 "INSERT OR REPLACE INTO meta(key, "
					 "value) VALUES(?,?)",
					 -1, &s, NULL));
	if (err)
		return err;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, v, (int)n, SQLITE_STATIC);
	err = kdb_err(sqlite3_step(s));
	sqlite3_finalize(s);
	return err;
}

static enum cc_err write_verifier(struct kms_db *db)
{
	uint8_t sealed[SEAL_MAX];
	size_t n;
	enum cc_err err;

	err = kdb_seal(db->master, "meta", "verifier",
		       (const uint8_t *)verifier_text, strlen(verifier_text),
		       sealed, &n);
	if (err)
		return err;
	return meta_put(db, "verifier", sealed, n);
}

/* The master key must open the verifier: CC_ERR_BAD_MAC if it does not. */
static enum cc_err check_verifier(struct kms_db *db)
{
	uint8_t plain[SEAL_MAX_PLAIN];
	sqlite3_stmt *s;
	enum cc_err err;
	size_t n = 0;

	err = kdb_err(sqlite3_prepare_v2(db->sql,
					 "SELECT value FROM meta WHERE key = "
					 "'verifier'",
					 -1, &s, NULL));
	if (err)
		return err;
	err = step_one(s);
	if (err == CC_ERR_NOT_FOUND)
		err = CC_ERR_MALFORMED; /* not a store made by kms_db_open */
	if (!err)
		err = kdb_unseal(db->master, "meta", "verifier",
				 sqlite3_column_blob(s, 0),
				 (size_t)sqlite3_column_bytes(s, 0), plain,
				 sizeof(plain), &n);
	if (!err && (n != strlen(verifier_text) ||
		     !cc_ct_equal(plain, verifier_text, n)))
		err = CC_ERR_BAD_MAC; /* public text, memcmp is fine */
	sqlite3_finalize(s);
	return err;
}

static const char *spec_path(const char *spec)
{
	if (!strncmp(spec, "sqlite:", 7))
		return spec + 7;
	if (strstr(spec, "://") || !strncmp(spec, "postgres", 8))
		return NULL; /* another engine */
	return spec;
}

/* Create an empty file with O_EXCL (mode 0600): an existing store is
 * never overwritten, and no one else can read the encrypted secrets. */
static enum cc_err create_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return errno == EEXIST ? CC_ERR_INVAL :
		       errno == ENOENT ? CC_ERR_NOT_FOUND :
		       errno == EACCES ? CC_ERR_NOT_AUTHORISED :
					 CC_ERR_STORE;
	close(fd);
	return CC_OK;
}

static enum cc_err configure(struct kms_db *db)
{
	enum cc_err err;

	sqlite3_busy_timeout(db->sql, 5000);
	sqlite3_extended_result_codes(db->sql, 1);
	err = kdb_exec(db, "PRAGMA journal_mode = WAL;"
			   "PRAGMA synchronous = NORMAL;"
			   "PRAGMA foreign_keys = ON;"
			   "PRAGMA secure_delete = ON;");
	return err;
}

static enum cc_err prepare_all(struct kms_db *db)
{
	enum cc_err err;
	int i;

	for (i = 0; i < KDB__COUNT; i++) {
		err = kdb_err(sqlite3_prepare_v3(db->sql, stmt_sql[i], -1,
						 SQLITE_PREPARE_PERSISTENT,
						 &db->stmt[i], NULL));
		if (err)
			return err;
	}
	return CC_OK;
}

static const struct kms_store_ops sqlite_ops;

/* First ticket key and verifier of a new store, in one transaction. */
static enum cc_err init_contents(struct kms_db *db)
{
	char id[KMS_MAX_NAME];
	enum cc_err err;

	err = write_verifier(db);
	if (!err && db->version >= 1)
		err = ksq_tpk_rotate(db, (int64_t)time(NULL), 0, KMS_MAX_TPK,
				     id);
	return err;
}

static enum cc_err open_existing(struct kms_db *db, const char *path)
{
	enum cc_err err;

	err = kdb_err(sqlite3_open_v2(
		path, &db->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
		NULL));
	if (!err)
		err = configure(db);
	if (!err)
		err = read_version(db, &db->version);
	if (!err && db->version == 0)
		err = CC_ERR_MALFORMED; /* an SQLite file, not a KMS store */
	if (!err && db->version > kdb_schema_latest)
		err = CC_ERR_UNSUPPORTED;
	if (!err)
		err = check_verifier(db); /* before touching anything */
	if (!err)
		err = migrate(db, kdb_schema_latest);
	return err;
}

static enum cc_err open_new(struct kms_db *db, const char *path, int target,
			    bool *made)
{
	enum cc_err err;

	err = create_file(path);
	if (err)
		return err;
	*made = true;
	err = kdb_err(sqlite3_open_v2(
		path, &db->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
		NULL));
	if (!err)
		err = configure(db);
	if (!err)
		err = migrate(db, target);
	if (!err && target == kdb_schema_latest)
		err = prepare_all(db);
	if (!err)
		err = kdb_exec(db, "BEGIN IMMEDIATE");
	if (!err) {
		err = init_contents(db);
		err = err ? err : kdb_exec(db, "COMMIT");
		if (err && kdb_exec(db, "ROLLBACK")) {
			/* the error already says what failed */
		}
	}
	return err;
}

enum cc_err kdb_open(struct kms_db **dbp, const char *spec,
		     const uint8_t master[KMS_MASTER_KEY_LEN], bool create,
		     int max_version)
{
	const char *path = spec ? spec_path(spec) : NULL;
	struct kms_db *db;
	bool made = false;
	enum cc_err err;

	*dbp = NULL;
	if (!spec || !master)
		return CC_ERR_INVAL;
	if (!path)
		return CC_ERR_UNSUPPORTED;
	if (!*path)
		return CC_ERR_INVAL;
	if (max_version <= 0 || max_version > kdb_schema_latest)
		max_version = kdb_schema_latest;
	db = calloc(1, sizeof(*db));
	if (!db)
		return CC_ERR_NOMEM;
	db->store.ops = &sqlite_ops;
	db->eng = &kdb_sqlite_engine;
	memcpy(db->master, master, KMS_MASTER_KEY_LEN);
	if (strlen(path) >= sizeof(db->path)) {
		free(db);
		return CC_ERR_INVAL;
	}
	strcpy(db->path, path);
	err = create ? open_new(db, path, max_version, &made) :
		       open_existing(db, path);
	if (!err && !db->stmt[0] && db->version == kdb_schema_latest)
		err = prepare_all(db);
	if (err) {
		ksq_close(db);
		if (made && unlink(path) == 0) {
			/* leave no half-made store behind; the WAL and shm
			 * files were removed by the close */
		}
		return err;
	}
	*dbp = db;
	return CC_OK;
}

void ksq_close(struct kms_db *db)
{
	int i;

	if (!db)
		return;
	kdb_checkpointer_stop(db);
	for (i = 0; i < KDB__COUNT; i++)
		sqlite3_finalize(db->stmt[i]);
	if (db->sql && sqlite3_close(db->sql) != SQLITE_OK) {
		/* every statement is finalized above: cannot happen */
	}
	cc_wipe(db->master, sizeof(db->master));
	free(db);
}

int ksq_schema_version(struct kms_db *db)
{
	return db->version;
}

const char *ksq_error(struct kms_db *db)
{
	return db->sql ? sqlite3_errmsg(db->sql) : "";
}

/* ---- struct kms_store: the hot path ------------------------------------- */

static struct kms_db *to_db(struct kms_store *st)
{
	return (struct kms_db *)st; /* store is the first member */
}

/* Fill u from a row (id, name, psk_id, psk_enc, key_supplier); the PSK
 * is unsealed only when the caller needs it (lookups by PSK id). */
static enum cc_err user_from_row(struct kms_db *db, sqlite3_stmt *s,
				 struct kms_user *u, bool with_psk)
{
	enum cc_err err;

	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(s, 0);
	copy_col(u->name, sizeof(u->name), s, 1);
	copy_col(u->psk_id, sizeof(u->psk_id), s, 2);
	u->key_supplier = sqlite3_column_int(s, 4) != 0;
	if (!with_psk)
		return CC_OK;
	err = kdb_unseal(db->master, "psk", u->name, sqlite3_column_blob(s, 3),
			 (size_t)sqlite3_column_bytes(s, 3), u->psk,
			 sizeof(u->psk), &u->psk_len);
	if (err)
		cc_wipe(u, sizeof(*u));
	return err;
}

static enum cc_err op_user_by_psk_id(struct kms_store *st,
				     struct cc_slice psk_id, struct kms_user *u)
{
	struct kms_db *db = to_db(st);
	sqlite3_stmt *s = db->stmt[KDB_USER_BY_PSK_ID];
	enum cc_err err;

	if (psk_id.len >= KMS_MAX_NAME)
		return CC_ERR_NOT_FOUND;
	err = kdb_err(bind_slice(s, 1, psk_id));
	if (!err)
		err = step_one(s);
	if (!err)
		err = user_from_row(db, s, u, true);
	stmt_done(s);
	return err;
}

static enum cc_err user_by_row_id(struct kms_db *db, int64_t id,
				  struct kms_user *u)
{
	sqlite3_stmt *s = db->stmt[KDB_USER_BY_ROWID];
	enum cc_err err;

	err = kdb_err(sqlite3_bind_int64(s, 1, id));
	if (!err)
		err = step_one(s);
	if (!err)
		err = user_from_row(db, s, u, false);
	stmt_done(s);
	return err;
}

/*
 * Patterns of the identity's realm (indexed): the one that matches
 * decides. Two patterns of different users matching the same identity is
 * a configuration the KMS refuses to guess about: CC_ERR_NOT_AUTHORISED.
 */
static enum cc_err by_pattern(struct kms_db *db, struct cc_slice identity,
			      struct kms_user *u)
{
	sqlite3_stmt *s = db->stmt[KDB_PATTERNS_IN_REALM];
	bool factory = false;
	int64_t found = 0, uid;
	enum cc_err err;
	int rc = SQLITE_DONE;

	err = kdb_err(bind_slice(s, 1, kdb_realm(identity)));
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *pat = (const char *)sqlite3_column_text(s, 0);

		uid = sqlite3_column_int64(s, 1);
		if (!pat || !kms_identity_match(pat, identity))
			continue;
		if (found && found != uid)
			err = CC_ERR_NOT_AUTHORISED;
		found = uid;
		/* two patterns of one user: factory if either says so (the
		 * stricter reading: it adds the conference-creation check) */
		factory |= sqlite3_column_int(s, 2) != 0;
	}
	if (!err && rc != SQLITE_DONE)
		err = kdb_err(rc);
	stmt_done(s);
	if (!err && !found)
		err = CC_ERR_NOT_FOUND;
	if (!err)
		err = user_by_row_id(db, found, u);
	if (!err)
		u->factory_identity = factory;
	return err;
}

static enum cc_err op_user_by_identity(struct kms_store *st,
				       struct cc_slice identity,
				       struct kms_user *u)
{
	struct kms_db *db = to_db(st);
	sqlite3_stmt *s = db->stmt[KDB_USER_BY_IDENTITY];
	enum cc_err err;

	if (identity.len >= KMS_MAX_NAME)
		return CC_ERR_NOT_FOUND;
	err = kdb_err(bind_slice(s, 1, identity));
	if (!err)
		err = step_one(s);
	if (!err)
		err = user_from_row(db, s, u, false);
	if (!err)
		u->factory_identity = sqlite3_column_int(s, 5) != 0;
	stmt_done(s);
	if (err == CC_ERR_NOT_FOUND)
		err = by_pattern(db, identity, u);
	return err;
}

static enum cc_err policy_has(struct kms_db *db, const char *kind, int64_t a,
			      int64_t b, bool *has)
{
	sqlite3_stmt *s = db->stmt[KDB_POLICY_HAS];
	enum cc_err err;

	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, a);
	sqlite3_bind_int64(s, 3, b);
	err = step_one(s);
	stmt_done(s);
	*has = err == CC_OK;
	return err == CC_ERR_NOT_FOUND ? CC_OK : err;
}

static enum cc_err op_may_create_conference(struct kms_store *st,
					    int64_t creator, int64_t factory,
					    bool *allowed)
{
	return policy_has(to_db(st), "allow-conference", creator, factory,
			  allowed);
}

static enum cc_err op_session_denied(struct kms_store *st, int64_t from,
				     int64_t to, bool *denied)
{
	return policy_has(to_db(st), "deny", from, to, denied);
}

/* Fill k from a row (id, key_enc, created, retire_at). */
static enum cc_err tpk_from_row(struct kms_db *db, sqlite3_stmt *s,
				struct kms_tpk *k)
{
	enum cc_err err;

	memset(k, 0, sizeof(*k));
	copy_col(k->id, sizeof(k->id), s, 0);
	k->created = sqlite3_column_int64(s, 2);
	k->retire_at = sqlite3_column_int64(s, 3);
	err = kdb_unseal(db->master, "tpk", k->id, sqlite3_column_blob(s, 1),
			 (size_t)sqlite3_column_bytes(s, 1), k->key,
			 sizeof(k->key), &k->key_len);
	if (err)
		cc_wipe(k, sizeof(*k));
	return err;
}

static enum cc_err op_tpk_current(struct kms_store *st, struct kms_tpk *k)
{
	struct kms_db *db = to_db(st);
	sqlite3_stmt *s = db->stmt[KDB_TPK_CURRENT];
	enum cc_err err;

	err = step_one(s);
	if (!err)
		err = tpk_from_row(db, s, k);
	stmt_done(s);
	return err;
}

static enum cc_err op_tpk_by_id(struct kms_store *st, struct cc_slice id,
				int64_t now, struct kms_tpk *k)
{
	struct kms_db *db = to_db(st);
	sqlite3_stmt *s = db->stmt[KDB_TPK_BY_ID];
	enum cc_err err;

	if (id.len >= KMS_MAX_NAME)
		return CC_ERR_NOT_FOUND;
	err = kdb_err(bind_slice(s, 1, id));
	if (!err)
		err = kdb_err(sqlite3_bind_int64(s, 2, now));
	if (!err)
		err = step_one(s);
	if (!err)
		err = tpk_from_row(db, s, k);
	stmt_done(s);
	return err;
}

static const char *op_name(enum kms_op op)
{
	switch (op) {
	case KMS_OP_REQUEST:
		return "request";
	case KMS_OP_RESOLVE:
		return "resolve";
	default:
		return "unknown";
	}
}

static void bind_str(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_STATIC);
}

static enum cc_err op_audit(struct kms_store *st, const struct kms_audit *a)
{
	struct kms_db *db = to_db(st);
	sqlite3_stmt *s = db->stmt[KDB_AUDIT_INSERT];
	enum cc_err err;

	sqlite3_bind_int64(s, 1, a->time);
	bind_str(s, 2, op_name(a->op));
	bind_str(s, 3, a->outcome);
	bind_str(s, 4, a->reason);
	bind_str(s, 5, a->ticket_id);
	bind_str(s, 6, a->requester);
	bind_str(s, 7, a->initiator);
	bind_str(s, 8, a->peer);
	err = kdb_err(sqlite3_step(s));
	stmt_done(s);
	return err;
}

static enum cc_err run_stmt(struct kms_db *db, enum kdb_stmt which)
{
	sqlite3_stmt *s = db->stmt[which];
	enum cc_err err = kdb_err(sqlite3_step(s));

	stmt_done(s);
	return err;
}

static enum cc_err op_begin(struct kms_store *st)
{
	return run_stmt(to_db(st), KDB_BEGIN);
}

static enum cc_err op_end(struct kms_store *st, bool commit)
{
	struct kms_db *db = to_db(st);
	enum cc_err err;

	if (!commit)
		return run_stmt(db, KDB_ROLLBACK);
	err = run_stmt(db, KDB_COMMIT);
	if (err && run_stmt(db, KDB_ROLLBACK)) {
		/* the commit's error says what failed */
	}
	return err;
}

static const struct kms_store_ops sqlite_ops = {
	.begin = op_begin,
	.end = op_end,
	.user_by_psk_id = op_user_by_psk_id,
	.user_by_identity = op_user_by_identity,
	.may_create_conference = op_may_create_conference,
	.session_denied = op_session_denied,
	.tpk_current = op_tpk_current,
	.tpk_by_id = op_tpk_by_id,
	.audit = op_audit,
};
