/*
 * store_pg_int.h -- private to src/kms/store_pg*.c: the PostgreSQL state
 * of a struct kms_db, its prepared statements and query helpers.
 */
#ifndef CONCLAVE_KMS_STORE_PG_INT_H
#define CONCLAVE_KMS_STORE_PG_INT_H

#include "store_sqlite_int.h"

#include <libpq-fe.h>

/* Hot-path statements, prepared on every (re)connection. */
enum kpg_stmt {
	KPG_USER_BY_PSK_ID,
	KPG_USER_AND_OWNER,
	KPG_USER_BY_IDENTITY,
	KPG_PATTERNS_IN_REALM,
	KPG_USER_BY_ROWID,
	KPG_POLICY_HAS,
	KPG_USER_POLICY_IN,
	KPG_USER_POLICY_OUT,
	KPG_POLICY_PAIR,
	KPG_TPK_CURRENT,
	KPG_TPK_BY_ID,
	KPG_AUDIT_INSERT,
	KPG__COUNT
};

/* An audit record waiting to go with the transaction's next statement
 * (never a key: the fields of struct kms_audit, cleaned). */
struct kpg_audit_row {
	char time[24];
	char f[7][KMS_MAX_NAME];
};

enum {
	KPG_AUDIT_QUEUE = 16 /* rows held before they are sent on their own */
};

struct kpg {
	PGconn *conn;
	char *conninfo; /* for reconnects; may hold a password: never logged */
	bool prepared;  /* the KPG_* statements exist on this connection */
	bool in_tx;     /* inside op_begin .. op_end: no silent reconnect */
	/* Inside a transaction, BEGIN and the audit INSERTs wait and go in
	 * one pipeline with the next statement or the COMMIT: */
	bool begin_pending; /* BEGIN not sent yet: nothing has run */
	size_t n_audit;     /* rows in audit_q, in the order of op_audit */
	struct kpg_audit_row audit_q[KPG_AUDIT_QUEUE];
	/* The current ticket key as read in this transaction (secret: wiped
	 * at its end): the batch's other requests reuse it, as they see one
	 * tpks table on SQLite, whose transaction holds the write lock. */
	bool tpk_ok;
	struct kms_tpk tpk;
	int version;
	char err[256]; /* the last failure, for kms_db_error */
};

/* One query parameter: text (NUL-terminated) unless len >= 0 (bytea). */
struct kpg_arg {
	const char *v;
	int len;
};
#define KPG_TEXT(s)      \
	(struct kpg_arg) \
	{                \
		(s), -1  \
	}

/**
 * Run one statement: a prepared one (stmt >= 0) or sql. CC_OK with *res
 * holding the result (PQclear it), else the mapped error with the
 * server's message in db->pg->err and *res NULL. Reconnects first if the
 * connection was lost and no transaction is open.
 */
CC_MUST_USE enum cc_err kpg_run(struct kms_db *db, int stmt, const char *sql,
				const struct kpg_arg *args, int n,
				PGresult **res);

/** Run sql (no parameters, no rows wanted). */
CC_MUST_USE enum cc_err kpg_exec(struct kms_db *db, const char *sql);

/** Copy a text column (truncated to cap - 1). */
void kpg_text(char *dst, size_t cap, const PGresult *r, int row, int col);
/** A bigint / boolean column. */
int64_t kpg_int(const PGresult *r, int row, int col);
bool kpg_bool(const PGresult *r, int row, int col);
/** A bytea column (hex text) into out; CC_ERR_MALFORMED if it is not. */
CC_MUST_USE enum cc_err kpg_bytea(const PGresult *r, int row, int col,
				  uint8_t *out, size_t cap, size_t *n);

/** Tickets keys: the rotation shared by kms init and tpk_rotate. */
CC_MUST_USE enum cc_err kpg_tpk_rotate_in(struct kms_db *db, int64_t now,
					  int64_t grace, size_t key_len,
					  char *id);

KDB_ENGINE_DECLARE(kpg)

/** The server's or libpq's message of the last failed kpg_open. */
extern char kpg_open_err[256];

#endif
