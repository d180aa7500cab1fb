/*
 * test_kms_store.c -- the SQLite KMS store (kms_store.h): master key
 * files, create / open / migrate, wrong master key, users, identities and
 * patterns, policies, ticket-key rotation, the append-only audit log,
 * secrets never in clear in the file, and data surviving a crash-like
 * copy of the files (db + WAL, no checkpoint).
 *
 * With CONCLAVE_TEST_PG=CONNINFO (an empty PostgreSQL database; kms_pg.sh
 * sets it) the engine-independent parts run again on "postgresql:CONNINFO":
 * users, identities and patterns, policies, deletion, ticket keys, audit
 * records, and a daemon and an administrator sharing the store.
 */
#include "check.h"

#include "../src/kms/store_sqlite_int.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64];

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void rm_dir(void)
{
	char p[512];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			path_of(p, sizeof(p), e->d_name);
			CHECK(unlink(p) == 0);
		}
	closedir(d);
	CHECK(rmdir(dir) == 0);
}

static void write_file(const char *path, const void *p, size_t n, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	CHECK(fd >= 0);
	CHECK(write(fd, p, n) == (ssize_t)n);
	CHECK(fchmod(fd, (mode_t)mode) == 0);
	close(fd);
}

static uint8_t master[KMS_MASTER_KEY_LEN];

static struct cc_slice sl(const char *s)
{
	return (struct cc_slice){ (const uint8_t *)s, strlen(s) };
}

/* ---- master key files ---------------------------------------------------- */

static void test_master_key(void)
{
	uint8_t k[KMS_MASTER_KEY_LEN], k2[KMS_MASTER_KEY_LEN], raw[32];
	char p[256], hex[] = "  00112233445566778899aabbccddeeff\n"
			     "00112233445566778899AABBCCDDEEFF \n";
	struct stat st;

	path_of(p, sizeof(p), "master.key");
	CHECK_OK(kms_master_key_create(p));
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(st.st_size == 65);
	CHECK_ERR(kms_master_key_create(p), CC_ERR_INVAL); /* O_EXCL */
	CHECK_OK(kms_master_key_load(p, master));
	CHECK(chmod(p, 0644) == 0);
	CHECK_ERR(kms_master_key_load(p, k), CC_ERR_NOT_AUTHORISED);
	CHECK(chmod(p, 0620) == 0);
	CHECK_ERR(kms_master_key_load(p, k), CC_ERR_NOT_AUTHORISED);
	CHECK(chmod(p, 0400) == 0);
	CHECK_OK(kms_master_key_load(p, k));
	CHECK(!memcmp(k, master, sizeof(k)));

	/* hex with whitespace, any case */
	path_of(p, sizeof(p), "hex.key");
	write_file(p, hex, strlen(hex), 0600);
	CHECK_OK(kms_master_key_load(p, k));
	CHECK_HEX(k, sizeof(k),
		  "00112233445566778899aabbccddeeff"
		  "00112233445566778899aabbccddeeff");
	/* exactly 32 raw bytes */
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(0xf0 ^ i);
	path_of(p, sizeof(p), "raw.key");
	write_file(p, raw, sizeof(raw), 0600);
	CHECK_OK(kms_master_key_load(p, k2));
	CHECK(!memcmp(k2, raw, sizeof(raw)));
	/* not a key */
	path_of(p, sizeof(p), "short.key");
	write_file(p, hex, 40, 0600);
	CHECK_ERR(kms_master_key_load(p, k), CC_ERR_MALFORMED);
	write_file(p, raw, 31, 0600);
	CHECK_ERR(kms_master_key_load(p, k), CC_ERR_MALFORMED);
	/* not a regular file; a symlink; missing */
	CHECK_ERR(kms_master_key_load(dir, k), CC_ERR_NOT_AUTHORISED);
	path_of(p, sizeof(p), "link.key");
	CHECK(symlink("raw.key", p) == 0);
	CHECK_ERR(kms_master_key_load(p, k), CC_ERR_NOT_AUTHORISED);
	path_of(p, sizeof(p), "missing.key");
	CHECK_ERR(kms_master_key_load(p, k), CC_ERR_NOT_FOUND);
}

/* ---- open, create, migrate ------------------------------------------------ */

static int raw_version(const char *path)
{
	sqlite3 *sq;
	sqlite3_stmt *s;
	int v = -1;

	CHECK(sqlite3_open(path, &sq) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(sq, "PRAGMA user_version", -1, &s, NULL) ==
	      SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(sq);
	return v;
}

static int raw_exec(const char *path, const char *sql)
{
	sqlite3 *sq;
	int rc;

	CHECK(sqlite3_open(path, &sq) == SQLITE_OK);
	rc = sqlite3_exec(sq, sql, NULL, NULL, NULL);
	sqlite3_close(sq);
	return rc;
}

static void test_open(void)
{
	uint8_t wrong[KMS_MASTER_KEY_LEN];
	char p[256], spec[300];
	struct kms_db *db;
	struct kms_tpk k;
	struct stat st;

	path_of(p, sizeof(p), "open.db");
	snprintf(spec, sizeof(spec), "sqlite:%s", p);
	CHECK_ERR(kms_db_open(&db, spec, master, false), CC_ERR_NOT_FOUND);
	CHECK(db == NULL);
	CHECK_OK(kms_db_open(&db, spec, master, true));
	CHECK(kms_db_schema_version(db) == kdb_schema_latest);
	/* create also made the first ticket key */
	CHECK_OK(kms_db_store(db)->ops->tpk_current(kms_db_store(db), &k));
	CHECK(k.key_len == 32 && k.retire_at == 0 && !strncmp(k.id, "tpk-", 4));
	kms_db_close(db);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 077) == 0);
	CHECK_ERR(kms_db_open(&db, spec, master, true), CC_ERR_INVAL);
	CHECK_OK(kms_db_open(&db, p, master, false)); /* a bare path */
	kms_db_close(db);

	memcpy(wrong, master, sizeof(wrong));
	wrong[7] ^= 1;
	CHECK_ERR(kms_db_open(&db, spec, wrong, false), CC_ERR_BAD_MAC);
	CHECK(db == NULL);
	CHECK_ERR(kms_db_open(&db, "postgres://x/y", master, false),
		  CC_ERR_UNSUPPORTED);
	CHECK_ERR(kms_db_open(&db, "sqlite:", master, false), CC_ERR_INVAL);

	/* not a store */
	path_of(p, sizeof(p), "junk.db");
	write_file(p, "this is not sqlite at all, not at all......", 43, 0600);
	CHECK_ERR(kms_db_open(&db, p, master, false), CC_ERR_MALFORMED);
}

static void test_migrate(void)
{
	char p[256];
	struct kms_db *db;
	struct kms_audit a = { .time = 5,
			       .op = KMS_OP_REQUEST,
			       .outcome = "issued",
			       .reason = "" };

	/* a v1 file: only the first migration step */
	path_of(p, sizeof(p), "v1.db");
	CHECK_OK(kdb_open(&db, p, master, true, 1));
	CHECK(kms_db_schema_version(db) == 1);
	CHECK_OK(kms_db_user_add(db, "old", "old-psk",
				 (const uint8_t *)"0123456789abcdef", 16,
				 false));
	kms_db_close(db);
	CHECK(raw_version(p) == 1);
	CHECK(raw_exec(p, "SELECT count(*) FROM audit") != SQLITE_OK);

	/* opening migrates forward and keeps the data */
	CHECK_OK(kms_db_open(&db, p, master, false));
	CHECK(kms_db_schema_version(db) == kdb_schema_latest);
	CHECK(kdb_schema_latest >= 2);
	CHECK_OK(kms_db_store(db)->ops->audit(kms_db_store(db), &a));
	CHECK_OK(kms_db_user_get(db, "old", &(struct kms_user_info){ 0 }));
	kms_db_close(db);
	CHECK(raw_version(p) == kdb_schema_latest);
	CHECK(raw_exec(p, "SELECT count(*) FROM audit") == SQLITE_OK);

	/* a file from a newer version is refused */
	CHECK(raw_exec(p, "PRAGMA user_version = 99") == SQLITE_OK);
	CHECK_ERR(kms_db_open(&db, p, master, false), CC_ERR_UNSUPPORTED);
}

/* ---- users, identities, policies ------------------------------------------ */

static const uint8_t psk_alice[32] = "ALICE-PSK-secret-0123456789abcde";
static const uint8_t psk_bob[16] = "BOB-PSK-secret-0";

static bool count_user(const struct kms_user_info *u, void *arg)
{
	(void)u;
	++*(int *)arg;
	return true;
}

static bool count_str(const char *s, bool factory, void *arg)
{
	(void)s, (void)factory;
	++*(int *)arg;
	return true;
}

static bool count_policy(const char *kind, const char *a, const char *b,
			 void *arg)
{
	(void)kind, (void)a, (void)b;
	++*(int *)arg;
	return true;
}

static void test_users(struct kms_db *db)
{
	struct kms_store *st = kms_db_store(db);
	struct kms_user_info info;
	struct kms_user u;
	char psk_id[KMS_MAX_NAME];
	uint8_t psk[KMS_MAX_PSK];
	size_t psk_len;
	int n = 0;

	CHECK_OK(kms_db_user_add(db, "alice", "alice-psk", psk_alice, 32,
				 false));
	CHECK_OK(kms_db_user_add(db, "bob", "bob-psk", psk_bob, 16, false));
	CHECK_OK(kms_db_user_add(db, "conf", "conf-psk", psk_alice, 32, true));
	CHECK_ERR(kms_db_user_add(db, "alice", "x", psk_bob, 16, false),
		  CC_ERR_INVAL);
	CHECK_ERR(kms_db_user_add(db, "carol", "bob-psk", psk_bob, 16, false),
		  CC_ERR_INVAL);
	CHECK_ERR(kms_db_user_add(db, "carol", "c", psk_bob, 15, false),
		  CC_ERR_INVAL);
	CHECK_ERR(kms_db_user_add(db, "bad name", "c", psk_bob, 16, false),
		  CC_ERR_INVAL);
	CHECK_ERR(kms_db_user_add(db, "", "c", psk_bob, 16, false),
		  CC_ERR_INVAL);

	CHECK_OK(kms_db_user_list(db, count_user, &n));
	CHECK(n == 3);
	CHECK_OK(kms_db_user_get(db, "conf", &info));
	CHECK(info.key_supplier && !strcmp(info.psk_id, "conf-psk"));
	CHECK(info.created > 0 && info.n_identities == 0);
	CHECK_ERR(kms_db_user_get(db, "nobody", &info), CC_ERR_NOT_FOUND);

	CHECK_OK(st->ops->user_by_psk_id(st, sl("alice-psk"), &u));
	CHECK(!strcmp(u.name, "alice") && u.psk_len == 32 && !u.key_supplier);
	CHECK(!memcmp(u.psk, psk_alice, 32));
	CHECK_ERR(st->ops->user_by_psk_id(st, sl("alice-ps"), &u),
		  CC_ERR_NOT_FOUND);

	/* set-psk: new PSK and id; only the id; supplier flag */
	CHECK_OK(kms_db_user_set_psk(db, "bob", "bob-psk2", psk_alice, 32));
	CHECK_ERR(st->ops->user_by_psk_id(st, sl("bob-psk"), &u),
		  CC_ERR_NOT_FOUND);
	CHECK_OK(st->ops->user_by_psk_id(st, sl("bob-psk2"), &u));
	CHECK(u.psk_len == 32 && !memcmp(u.psk, psk_alice, 32));
	CHECK_OK(kms_db_user_set_psk(db, "bob", NULL, psk_bob, 16));
	CHECK_OK(kms_db_user_set_psk(db, "bob", "bob-psk", NULL, 0));
	CHECK_OK(kms_db_user_psk(db, "bob", psk_id, psk, &psk_len));
	CHECK(!strcmp(psk_id, "bob-psk") && psk_len == 16 &&
	      !memcmp(psk, psk_bob, 16));
	CHECK_ERR(kms_db_user_set_psk(db, "nobody", "z", psk_bob, 16),
		  CC_ERR_NOT_FOUND);
	CHECK_ERR(kms_db_user_set_psk(db, "bob", "alice-psk", NULL, 0),
		  CC_ERR_INVAL);
	CHECK_OK(kms_db_user_set_supplier(db, "bob", true));
	CHECK_OK(st->ops->user_by_psk_id(st, sl("bob-psk"), &u));
	CHECK(u.key_supplier);
	CHECK_OK(kms_db_user_set_supplier(db, "bob", false));
	CHECK_ERR(kms_db_user_set_supplier(db, "nobody", true),
		  CC_ERR_NOT_FOUND);
	CHECK_ERR(kms_db_user_del(db, "nobody"), CC_ERR_NOT_FOUND);
}

static void test_identities(struct kms_db *db)
{
	struct kms_store *st = kms_db_store(db);
	struct kms_user u;
	int n = 0;

	CHECK_OK(kms_db_identity_add(db, "alice", "sip:alice@example.org"));
	CHECK_OK(kms_db_identity_add(db, "bob", "sip:bob@example.org"));
	CHECK_OK(kms_db_identity_add(db, "conf",
				     "sip:factory.conf1@example.org"));
	CHECK_OK(kms_db_identity_add(db, "conf",
				     "sip:focus*.conf1@example.org"));
	CHECK_ERR(kms_db_identity_add(db, "bob", "sip:alice@example.org"),
		  CC_ERR_INVAL); /* one owner */
	CHECK(kms_db_identity_add(db, "bob", "sip:a*b*@example.org") != CC_OK);
	CHECK(kms_db_identity_add(db, "bob", "sip:bob@ex*.org") != CC_OK);
	CHECK(kms_db_identity_add(db, "bob", "sip:*@") != CC_OK);
	CHECK_ERR(kms_db_identity_add(db, "nobody", "sip:x@example.org"),
		  CC_ERR_NOT_FOUND);
	CHECK_OK(kms_db_identity_list(db, "conf", count_str, &n));
	CHECK(n == 2);

	CHECK_OK(
		st->ops->user_by_identity(st, sl("sip:alice@example.org"), &u));
	/* identity lookups leave the PSK sealed (kms.h) */
	CHECK(!strcmp(u.name, "alice") && u.psk_len == 0);
	CHECK_OK(st->ops->user_by_identity(
		st, sl("sip:focus17.conf1@example.org"), &u));
	CHECK(!strcmp(u.name, "conf") && u.key_supplier);
	CHECK(!u.factory_identity);
	CHECK_OK(st->ops->user_by_identity(
		st, sl("sip:factory.conf1@example.org"), &u));
	CHECK(!strcmp(u.name, "conf") && !u.factory_identity);
	/* factory identities: exact and pattern */
	CHECK_OK(kms_db_identity_set_factory(
		db, "sip:factory.conf1@example.org", true));
	CHECK_ERR(kms_db_identity_set_factory(db, "sip:no@example.org", true),
		  CC_ERR_NOT_FOUND);
	CHECK_OK(st->ops->user_by_identity(
		st, sl("sip:factory.conf1@example.org"), &u));
	CHECK(!strcmp(u.name, "conf") && u.factory_identity);
	CHECK_OK(st->ops->user_by_identity(
		st, sl("sip:focus17.conf1@example.org"), &u));
	CHECK(!u.factory_identity);
	CHECK_OK(kms_db_identity_set_factory(db, "sip:focus*.conf1@example.org",
					     true));
	CHECK_OK(st->ops->user_by_identity(
		st, sl("sip:focus17.conf1@example.org"), &u));
	CHECK(u.factory_identity);
	CHECK_OK(kms_db_identity_set_factory(db, "sip:focus*.conf1@example.org",
					     false));
	CHECK_OK(
		st->ops->user_by_identity(st, sl("sip:alice@example.org"), &u));
	CHECK(!u.factory_identity);
	/* anchored, and never another realm */
	CHECK_ERR(st->ops->user_by_identity(
			  st, sl("sip:focus17.conf2@example.org"), &u),
		  CC_ERR_NOT_FOUND);
	CHECK_ERR(st->ops->user_by_identity(
			  st, sl("sip:focus17.conf1@example.org.evil"), &u),
		  CC_ERR_NOT_FOUND);
	CHECK_ERR(st->ops->user_by_identity(
			  st, sl("sip:focus17.conf1@other.org"), &u),
		  CC_ERR_NOT_FOUND);
	CHECK_ERR(st->ops->user_by_identity(
			  st, sl("sip:focus*.conf1@example.org"), &u),
		  CC_ERR_NOT_FOUND); /* a pattern is not an identity */
	/* a slice that is not NUL-terminated */
	CHECK_OK(st->ops->user_by_identity(
		st,
		(struct cc_slice){ (const uint8_t *)"sip:bob@example.orgXX",
				   19 },
		&u));
	CHECK(!strcmp(u.name, "bob"));

	/* exact beats pattern; two users' patterns matching = refused */
	CHECK_OK(kms_db_identity_add(db, "bob", "sip:*@example.org"));
	CHECK_OK(
		st->ops->user_by_identity(st, sl("sip:alice@example.org"), &u));
	CHECK(!strcmp(u.name, "alice"));
	CHECK_OK(st->ops->user_by_identity(st, sl("sip:zed@example.org"), &u));
	CHECK(!strcmp(u.name, "bob"));
	CHECK_OK(kms_db_identity_del(db, "sip:*@example.org"));
	CHECK_OK(kms_db_identity_add(db, "bob", "sip:*.conf1@example.org"));
	CHECK_ERR(st->ops->user_by_identity(
			  st, sl("sip:focus3.conf1@example.org"), &u),
		  CC_ERR_NOT_AUTHORISED);
	CHECK_OK(kms_db_identity_del(db, "sip:*.conf1@example.org"));
	CHECK_ERR(kms_db_identity_del(db, "sip:*.conf1@example.org"),
		  CC_ERR_NOT_FOUND);
	CHECK_OK(st->ops->user_by_identity(
		st, sl("sip:focus3.conf1@example.org"), &u));
	CHECK(!strcmp(u.name, "conf"));
}

/* The optional user_by_psk_id_and_owner (PostgreSQL): both lookups. */
static void test_user_and_owner(struct kms_db *db)
{
	struct kms_store *st = kms_db_store(db);
	struct cc_slice alice = sl("alice-psk"), bob = sl("sip:bob@example."
							  "org");
	struct kms_user u, o, v;
	enum cc_err oe;

	if (!st->ops->user_by_psk_id_and_owner)
		return;
	CHECK_OK(
		st->ops->user_by_psk_id_and_owner(st, alice, bob, &u, &o, &oe));
	CHECK_OK(st->ops->user_by_psk_id(st, alice, &v));
	CHECK(u.id == v.id && !strcmp(u.name, "alice") &&
	      u.psk_len == v.psk_len && cc_ct_equal(u.psk, v.psk, u.psk_len));
	CHECK_OK(oe);
	CHECK(!strcmp(o.name, "bob") && o.psk_len == 0);
	CHECK_OK(st->ops->user_by_identity(st, bob, &v));
	CHECK(o.id == v.id && o.factory_identity == v.factory_identity &&
	      o.key_supplier == v.key_supplier);
	/* a pattern's identity, or none: ask user_by_identity */
	CHECK_OK(st->ops->user_by_psk_id_and_owner(
		st, alice, sl("sip:focus3.conf1@example.org"), &u, &o, &oe));
	CHECK(oe == CC_ERR_NOT_FOUND);
	bob.len--; /* "sip:bob@example.or": nobody's */
	CHECK_OK(
		st->ops->user_by_psk_id_and_owner(st, alice, bob, &u, &o, &oe));
	CHECK(oe == CC_ERR_NOT_FOUND);
	CHECK_ERR(st->ops->user_by_psk_id_and_owner(st, sl("nobody-psk"), bob,
						    &u, &o, &oe),
		  CC_ERR_NOT_FOUND);
	cc_wipe(&u, sizeof(u));
	cc_wipe(&v, sizeof(v));
}

/* user_by_identity_with_policy (optional; PostgreSQL) answers as the
 * three lookups it stands for, both ways. */
static void check_with_policy(struct kms_store *st, const char *identity,
			      int64_t other)
{
	struct kms_user u, v;
	bool d = false, m = false, d2, m2;
	enum cc_err e;
	int in;

	if (!st->ops->user_by_identity_with_policy)
		return;
	for (in = 0; in < 2; in++) {
		int64_t from, to;

		e = st->ops->user_by_identity_with_policy(
			st, sl(identity), other, in, &u, &d, &m);
		CHECK(e == st->ops->user_by_identity(st, sl(identity), &v));
		if (e)
			continue;
		CHECK(u.id == v.id && !strcmp(u.name, v.name) &&
		      u.factory_identity == v.factory_identity &&
		      u.key_supplier == v.key_supplier && u.psk_len == 0);
		from = in ? other : u.id;
		to = in ? u.id : other;
		CHECK_OK(st->ops->session_denied(st, from, to, &d2));
		CHECK_OK(st->ops->may_create_conference(st, from, to, &m2));
		CHECK(d == d2 && m == m2);
	}
}

static void test_policies(struct kms_db *db)
{
	struct kms_store *st = kms_db_store(db);
	struct kms_user_info alice, bob, conf;
	bool yes;
	int n = 0;

	CHECK_OK(kms_db_user_get(db, "alice", &alice));
	CHECK_OK(kms_db_user_get(db, "bob", &bob));
	CHECK_OK(kms_db_user_get(db, "conf", &conf));
	CHECK_OK(kms_db_policy_allow_conference(db, "alice", "conf"));
	CHECK_ERR(kms_db_policy_allow_conference(db, "alice", "conf"),
		  CC_ERR_INVAL);
	CHECK_ERR(kms_db_policy_allow_conference(db, "alice", "nobody"),
		  CC_ERR_NOT_FOUND);
	CHECK_OK(kms_db_policy_deny(db, "bob", "alice"));
	CHECK_OK(kms_db_policy_list(db, count_policy, &n));
	CHECK(n == 2);

	CHECK_OK(st->ops->may_create_conference(st, alice.id, conf.id, &yes));
	CHECK(yes);
	CHECK_OK(st->ops->may_create_conference(st, bob.id, conf.id, &yes));
	CHECK(!yes);
	CHECK_OK(st->ops->session_denied(st, bob.id, alice.id, &yes));
	CHECK(yes);
	CHECK_OK(st->ops->session_denied(st, alice.id, bob.id, &yes));
	CHECK(!yes);
	check_with_policy(st, "sip:alice@example.org", bob.id);
	check_with_policy(st, "sip:bob@example.org", alice.id);
	check_with_policy(st, "sip:factory.conf1@example.org", alice.id);
	check_with_policy(st, "sip:factory.conf1@example.org", bob.id);
	check_with_policy(st, "sip:focus3.conf1@example.org", alice.id);
	check_with_policy(st, "sip:nobody@example.org", alice.id);
	CHECK_OK(kms_db_policy_del(db, "deny", "bob", "alice"));
	CHECK_ERR(kms_db_policy_del(db, "deny", "bob", "alice"),
		  CC_ERR_NOT_FOUND);
	CHECK_ERR(kms_db_policy_del(db, "allow", "bob", "alice"), CC_ERR_INVAL);
	CHECK_OK(st->ops->session_denied(st, bob.id, alice.id, &yes));
	CHECK(!yes);
}

/* Deleting a user takes its identities and policies with it. */
static void test_user_del(struct kms_db *db)
{
	struct kms_store *st = kms_db_store(db);
	struct kms_user u;
	int n = 0;

	CHECK_OK(kms_db_user_add(db, "temp", "temp-psk", psk_bob, 16, false));
	CHECK_OK(kms_db_identity_add(db, "temp", "sip:temp@example.org"));
	CHECK_OK(kms_db_policy_deny(db, "temp", "alice"));
	CHECK_OK(kms_db_user_del(db, "temp"));
	CHECK_ERR(st->ops->user_by_identity(st, sl("sip:temp@example.org"), &u),
		  CC_ERR_NOT_FOUND);
	CHECK_OK(kms_db_policy_list(db, count_policy, &n));
	CHECK(n == 1);
	CHECK_OK(kms_db_identity_add(db, "bob", "sip:temp@example.org"));
	CHECK_OK(kms_db_identity_del(db, "sip:temp@example.org"));
}

/* ---- ticket keys ----------------------------------------------------------- */

static void test_tpk(struct kms_db *db)
{
	struct kms_store *st = kms_db_store(db);
	char id1[KMS_MAX_NAME], id2[KMS_MAX_NAME], id3[KMS_MAX_NAME];
	struct kms_tpk k0, k;

	CHECK_OK(st->ops->tpk_current(st, &k0));
	CHECK_OK(kms_db_tpk_rotate(db, 1000, 100, 32, id1));
	CHECK(strcmp(id1, k0.id) != 0);
	CHECK_OK(st->ops->tpk_current(st, &k));
	CHECK(!strcmp(k.id, id1) && k.retire_at == 0 && k.created == 1000);
	CHECK(!cc_ct_equal(k.key, k0.key, 32));
	/* the old key resolves until its retirement date, not after */
	CHECK_OK(st->ops->tpk_by_id(st, sl(k0.id), 1099, &k));
	CHECK(k.retire_at == 1100 && !memcmp(k.key, k0.key, 32));
	CHECK_ERR(st->ops->tpk_by_id(st, sl(k0.id), 1100, &k),
		  CC_ERR_NOT_FOUND);
	CHECK_OK(st->ops->tpk_by_id(st, sl(id1), 999999, &k));
	CHECK_ERR(st->ops->tpk_by_id(st, sl("tpk-none"), 0, &k),
		  CC_ERR_NOT_FOUND);

	CHECK_OK(kms_db_tpk_rotate(db, 2000, 0, 16, id2));
	CHECK_OK(st->ops->tpk_current(st, &k));
	CHECK(!strcmp(k.id, id2) && k.key_len == 16);
	CHECK_ERR(st->ops->tpk_by_id(st, sl(id1), 2000, &k),
		  CC_ERR_NOT_FOUND); /* grace 0: retired at once */
	CHECK_OK(kms_db_tpk_rotate(db, 3000, 500, 32, id3));
	CHECK_OK(st->ops->tpk_by_id(st, sl(id2), 3499, &k));
	CHECK_ERR(kms_db_tpk_rotate(db, 3000, -1, 32, id3), CC_ERR_INVAL);
	CHECK_ERR(kms_db_tpk_rotate(db, 3000, 1, 20, id3), CC_ERR_INVAL);
	cc_wipe(&k, sizeof(k));
	cc_wipe(&k0, sizeof(k0));
}

/* ---- audit ----------------------------------------------------------------- */

static bool tail_cb(int64_t seq, const struct kms_audit *a, void *arg)
{
	int64_t *last = arg;

	CHECK(seq > *last);
	CHECK(a->op == KMS_OP_RESOLVE || a->op == KMS_OP_REQUEST);
	CHECK(!strcmp(a->requester, "sip:alice@example.org"));
	*last = seq;
	return true;
}

static void test_audit(struct kms_db *db, const char *path)
{
	struct kms_store *st = kms_db_store(db);
	struct kms_audit a = { .time = 1234,
			       .op = KMS_OP_REQUEST,
			       .outcome = "issued",
			       .reason = "",
			       .ticket_id = "00112233445566778899aabbccddeeff",
			       .requester = "sip:alice@example.org",
			       .peer = "sip:bob@example.org" };
	int64_t last = 0;
	int i;

	for (i = 0; i < 5; i++) {
		a.op = i % 2 ? KMS_OP_RESOLVE : KMS_OP_REQUEST;
		CHECK_OK(st->ops->audit(st, &a));
	}
	CHECK_OK(kms_db_audit_tail(db, 3, tail_cb, &last));
	CHECK(last > 0);
	if (!path)
		return; /* PostgreSQL: kms_pg.sh tries the trigger with psql */
	/* append-only, even for someone with the file and sqlite3 */
	CHECK(raw_exec(path, "UPDATE audit SET outcome = 'x'") != SQLITE_OK);
	CHECK(raw_exec(path, "DELETE FROM audit") != SQLITE_OK);
	CHECK(raw_exec(path, "INSERT INTO audit(time, op, outcome) "
			     "VALUES (1, 'request', 'issued')") == SQLITE_OK);
}

static bool seq_cb(int64_t seq, const struct kms_audit *a, void *arg)
{
	int64_t *seqs = arg;

	seqs[0]++;
	seqs[seqs[0]] = seq;
	CHECK(!strcmp(a->reason, "batch"));
	return true;
}

/* One transaction around several requests (kmsd's batches): its audit
 * records land in order on commit and not at all on rollback; the ticket
 * key it reads is the same each time. */
static void test_batch(struct kms_db *db)
{
	struct kms_store *st = kms_db_store(db);
	struct kms_audit a = { .time = 77,
			       .op = KMS_OP_REQUEST,
			       .outcome = "issued",
			       .reason = "batch",
			       .requester = "sip:alice@example.org" };
	struct kms_tpk k1, k2, k3;
	struct kms_user u;
	int64_t seqs[8] = { 0 };
	int i;

	CHECK_OK(st->ops->begin(st));
	for (i = 0; i < 3; i++) {
		snprintf(a.peer, sizeof(a.peer), "sip:r%d@example.org", i);
		CHECK_OK(st->ops->audit(st, &a));
		CHECK_OK(st->ops->tpk_current(st, &k1));
	}
	CHECK_OK(st->ops->user_by_psk_id(st, sl("alice-psk"), &u));
	CHECK_OK(st->ops->tpk_current(st, &k2));
	CHECK_OK(st->ops->tpk_by_id(st, sl(k2.id), 0, &k3));
	CHECK(!strcmp(k1.id, k2.id) && !strcmp(k2.id, k3.id) &&
	      k2.key_len == k3.key_len && cc_ct_equal(k2.key, k3.key, 16));
	CHECK_ERR(st->ops->tpk_by_id(st, sl("no-such-key"), 0, &k3),
		  CC_ERR_NOT_FOUND);
	snprintf(a.peer, sizeof(a.peer), "sip:last@example.org");
	CHECK_OK(st->ops->audit(st, &a)); /* goes with the COMMIT */
	CHECK_OK(st->ops->end(st, true));
	CHECK_OK(kms_db_audit_tail(db, 4, seq_cb, seqs));
	CHECK(seqs[0] == 4);
	for (i = 1; i < 4; i++)
		CHECK(seqs[i + 1] > seqs[i]);
	/* rolled back: nothing */
	CHECK_OK(st->ops->begin(st));
	CHECK_OK(st->ops->audit(st, &a));
	CHECK_OK(st->ops->end(st, false));
	seqs[0] = 0;
	CHECK_OK(kms_db_audit_tail(db, 1, seq_cb, seqs));
	CHECK(seqs[0] == 1 && seqs[1] == seqs[4]);
	/* a transaction that only writes its audit */
	CHECK_OK(st->ops->begin(st));
	CHECK_OK(st->ops->audit(st, &a));
	CHECK_OK(st->ops->end(st, true));
	seqs[0] = 0;
	CHECK_OK(kms_db_audit_tail(db, 1, seq_cb, seqs));
	CHECK(seqs[0] == 1 && seqs[1] > seqs[4]);
	cc_wipe(&u, sizeof(u));
	cc_wipe(&k1, sizeof(k1));
	cc_wipe(&k2, sizeof(k2));
	cc_wipe(&k3, sizeof(k3));
}

/* ---- secrets at rest -------------------------------------------------------- */

static bool file_has(const char *path, const uint8_t *needle, size_t n)
{
	static uint8_t buf[4 << 20];
	size_t len, i;
	FILE *f = fopen(path, "rb");

	if (!f)
		return false;
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (i = 0; i + n <= len; i++)
		if (!memcmp(buf + i, needle, n))
			return true;
	return false;
}

static void test_at_rest(const char *path)
{
	struct kms_db *db;
	struct kms_tpk k;
	struct kms_user u;
	char wal[300];

	snprintf(wal, sizeof(wal), "%s-wal", path);
	CHECK_OK(kms_db_open(&db, path, master, false));
	CHECK_OK(kms_db_store(db)->ops->tpk_current(kms_db_store(db), &k));
	/* in the WAL, before any checkpoint, and in the db after close */
	CHECK(!file_has(wal, psk_alice, 16) && !file_has(wal, psk_bob, 16));
	kms_db_close(db);
	CHECK(!file_has(path, psk_alice, 16) && !file_has(path, psk_bob, 16));
	CHECK(!file_has(path, k.key, 16));
	CHECK(file_has(path, (const uint8_t *)"alice-psk", 9)); /* sanity */

	/* a sealed PSK moved to another row does not open */
	CHECK(raw_exec(path, "UPDATE users SET psk_enc = (SELECT psk_enc "
			     "FROM users WHERE name = 'alice') "
			     "WHERE name = 'bob'") == SQLITE_OK);
	CHECK_OK(kms_db_open(&db, path, master, false));
	CHECK_ERR(kms_db_store(db)->ops->user_by_psk_id(kms_db_store(db),
							sl("bob-psk"), &u),
		  CC_ERR_BAD_MAC);
	CHECK_OK(kms_db_user_set_psk(db, "bob", NULL, psk_bob, 16));
	kms_db_close(db);
	cc_wipe(&k, sizeof(k));
}

/* ---- durability -------------------------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
	static uint8_t buf[4 << 20];
	FILE *f = fopen(from, "rb");
	size_t n;

	CHECK(f != NULL);
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	write_file(to, buf, n, 0600);
}

/*
 * What a kill -9 leaves: the db file and its WAL as they are after the
 * last commit, no checkpoint, no close. Copy both while the store is
 * still open, then open the copy.
 */
static void test_crash_copy(const char *path)
{
	struct kms_db *db, *db2;
	struct kms_user_info info;
	char cp[256], from[300], to[300];
	struct stat st;

	CHECK_OK(kms_db_open(&db, path, master, false));
	CHECK_OK(kms_db_user_add(db, "late", "late-psk", psk_bob, 16, false));
	snprintf(from, sizeof(from), "%s-wal", path);
	CHECK(stat(from, &st) == 0 && st.st_size > 0);
	CHECK(!file_has(from, psk_bob, 16)); /* sealed in the WAL too */
	path_of(cp, sizeof(cp), "crash.db");
	copy_file(path, cp);
	snprintf(to, sizeof(to), "%s-wal", cp);
	copy_file(from, to);
	CHECK_OK(kms_db_open(&db2, cp, master, false));
	CHECK_OK(kms_db_user_get(db2, "late", &info));
	CHECK_OK(kms_db_user_get(db2, "alice", &info));
	CHECK(info.n_identities == 1);
	kms_db_close(db2);
	kms_db_close(db);
}

/* Two handles on one file (kmsd and the admin CLI): a change made
 * through one is seen by the other's cached statements at once. */
static void test_shared(const char *path)
{
	struct kms_db *daemon, *admin;
	struct kms_store *st;
	struct kms_user_info alice;
	struct kms_user u;
	bool denied = false;

	CHECK_OK(kms_db_open(&daemon, path, master, false));
	CHECK_OK(kms_db_open(&admin, path, master, false));
	if (!daemon || !admin)
		goto out;
	st = kms_db_store(daemon);
	CHECK_ERR(st->ops->user_by_psk_id(st, sl("shared-psk"), &u),
		  CC_ERR_NOT_FOUND);
	CHECK_OK(kms_db_user_add(admin, "shared", "shared-psk", psk_bob, 16,
				 false));
	CHECK_OK(kms_db_policy_deny(admin, "shared", "alice"));
	CHECK_OK(st->ops->user_by_psk_id(st, sl("shared-psk"), &u));
	CHECK_OK(kms_db_user_get(admin, "alice", &alice));
	CHECK_OK(st->ops->session_denied(st, u.id, alice.id, &denied));
	CHECK(denied);
	CHECK_OK(kms_db_user_del(admin, "shared"));
	CHECK_ERR(st->ops->user_by_psk_id(st, sl("shared-psk"), &u),
		  CC_ERR_NOT_FOUND);
out:
	kms_db_close(admin);
	kms_db_close(daemon);
}

/* The hot path, for the record (not a pass/fail timing). */
static void bench_hot_path(struct kms_db *db)
{
	struct kms_store *st = kms_db_store(db);
	struct kms_audit a = { .time = 1,
			       .op = KMS_OP_REQUEST,
			       .outcome = "issued",
			       .reason = "" };
	struct timespec t0, t1;
	struct kms_user u;
	struct kms_tpk k;
	const int n = 5000;
	double s;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		CHECK_OK(st->ops->user_by_psk_id(st, sl("alice-psk"), &u));
		CHECK_OK(st->ops->user_by_identity(
			st, sl("sip:focus9.conf1@example.org"), &u));
		CHECK_OK(st->ops->tpk_current(st, &k));
		CHECK_OK(st->ops->audit(st, &a));
		CHECK_OK(st->ops->user_by_psk_id(st, sl("conf-psk"), &u));
		CHECK_OK(st->ops->tpk_by_id(st, sl(k.id), 0, &k));
		a.op = KMS_OP_RESOLVE;
		CHECK_OK(st->ops->audit(st, &a));
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("store hot path: %.0f request+resolve store pairs/s\n", n / s);
	cc_wipe(&u, sizeof(u));
	cc_wipe(&k, sizeof(k));
}

/* The same checks on PostgreSQL, when the environment names a database. */
static void test_pg(void)
{
	const char *ci = getenv("CONCLAVE_TEST_PG");
	struct kms_db *db = NULL;
	char spec[1024];

	if (!ci || !*ci) {
		printf("PostgreSQL part skipped (set CONCLAVE_TEST_PG)\n");
		return;
	}
	snprintf(spec, sizeof(spec), "postgresql:%s", ci);
	if (!kms_db_pg_available()) {
		CHECK_ERR(kms_db_open(&db, spec, master, true),
			  CC_ERR_UNSUPPORTED);
		return;
	}
	CHECK_OK(kms_db_open(&db, spec, master, true));
	if (!db) {
		fprintf(stderr, "PostgreSQL: %s\n", kms_db_error(NULL));
		return;
	}
	CHECK(kms_db_schema_version(db) == kdb_schema_latest);
	test_users(db);
	test_identities(db);
	test_user_and_owner(db);
	test_policies(db);
	test_user_del(db);
	test_tpk(db);
	test_audit(db, NULL);
	test_batch(db);
	kms_db_close(db);
	CHECK_ERR(kms_db_open(&db, spec, master, true), CC_ERR_INVAL);
	{
		uint8_t wrong[KMS_MASTER_KEY_LEN];

		memcpy(wrong, master, sizeof(wrong));
		wrong[0] ^= 1;
		CHECK_ERR(kms_db_open(&db, spec, wrong, false), CC_ERR_BAD_MAC);
	}
	test_shared(spec);
	CHECK_OK(kms_db_open(&db, spec, master, false));
	if (db) {
		bench_hot_path(db);
		kms_db_close(db);
	}
	printf("PostgreSQL part done\n");
}

int main(void)
{
	struct kms_db *db;
	char p[256];

	snprintf(dir, sizeof(dir), "/tmp/test_kms_store.XXXXXX");
	if (!mkdtemp(dir))
		return 2;
	test_master_key();
	test_open();
	test_migrate();

	path_of(p, sizeof(p), "kms.db");
	CHECK_OK(kms_db_open(&db, p, master, true));
	if (db) {
		test_users(db);
		test_identities(db);
		test_policies(db);
		test_user_del(db);
		test_tpk(db);
		test_audit(db, p);
		test_batch(db);
		kms_db_close(db);
	}
	test_at_rest(p);
	test_crash_copy(p);
	test_shared(p);
	CHECK_OK(kms_db_open(&db, p, master, false));
	if (db) {
		bench_hot_path(db);
		kms_db_close(db);
	}
	test_pg();
	rm_dir();
	CHECK_DONE();
}
