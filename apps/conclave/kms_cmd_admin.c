/*
 * kms_cmd_admin.c -- `conclave kms identity|policy|ticket-key|audit`.
 */
#include "kms_cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Open, run one store call, close, and report: the shape most of these
 * commands share. */
static int finish(struct kms_db *db, enum cc_err err, const char *what,
		  const char *not_found)
{
	kms_db_close(db);
	if (err == CC_ERR_NOT_FOUND && not_found) {
		fprintf(stderr, "conclave kms: %s: %s\n", what, not_found);
		return KMS_EXIT_FAIL;
	}
	return err ? kms_cli_fail(what, err) : KMS_EXIT_OK;
}

/* ---- identity ---------------------------------------------------------------- */

static const char usage_id_add[] =
	"usage: conclave kms identity add USER IDENTITY [--factory]\n\n"
	"Gives USER a public identity, or a pattern of identities: '*' in "
	"the\n"
	"user part (before the last '@') matches one or more of "
	"[A-Za-z0-9_-],\n"
	"the realm must match exactly (DESIGN.md D5). Examples:\n"
	"  conclave kms identity add alice sip:alice@example.org\n"
	"  conclave kms identity add conf1 'sip:focus*.conf1@example.org'\n"
	"An identity belongs to one user; an exact identity wins over a "
	"pattern.\n\n"
	"  --factory  the identity names a conference factory: a ticket "
	"for it,\n"
	"             or resolved by it, needs `policy allow-conference`\n"
	"             (docs/KMS.md)\n";

/* A new identity marked factory: undone if the mark cannot be set, so
 * no factory URI is ever left without its creation check. */
static enum cc_err add_factory(struct kms_db *db, const char *identity)
{
	enum cc_err err = kms_db_identity_set_factory(db, identity, true);

	if (err && kms_db_identity_del(db, identity)) {
		/* the first error says what failed */
	}
	return err;
}

int kms_cmd_identity_add(const struct kms_cli *cli, int argc, char **argv)
{
	bool factory = false;
	const struct kms_opt opts[] = { { "--factory", NULL, &factory } };
	const char *pos[2];
	struct kms_db *db;
	enum cc_err err;
	int rc;

	rc = kms_cli_parse(usage_id_add, argc, argv, opts, 1, pos, 2, 2);
	if (rc >= 0)
		return rc;
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	err = kms_db_identity_add(db, pos[0], pos[1]);
	if (!err && factory)
		err = add_factory(db, pos[1]);
	if (err == CC_ERR_INVAL) {
		kms_db_close(db);
		fprintf(stderr,
			"conclave kms: identity add: '%s' already belongs to "
			"a user, or is not a valid identity\n",
			pos[1]);
		return KMS_EXIT_FAIL;
	}
	if (err == CC_ERR_MALFORMED) {
		kms_db_close(db);
		fprintf(stderr,
			"conclave kms: identity add: '%s' is not a valid "
			"identity or pattern (at most one '*', only before "
			"the last '@', a non-empty realm, no spaces)\n",
			pos[1]);
		return KMS_EXIT_FAIL;
	}
	rc = finish(db, err, "identity add", "no such user");
	if (!rc)
		printf("user %s: identity %s%s\n", pos[0], pos[1],
		       factory ? " (factory)" : "");
	return rc;
}

static const char usage_id_factory[] = "usage: conclave kms identity "
				       "set-factory IDENTITY yes|no\n\n"
				       "Marks an identity or pattern as naming "
				       "a conference factory, or "
				       "not\n"
				       "(see `identity add --factory`).\n";

int kms_cmd_identity_set_factory(const struct kms_cli *cli, int argc,
				 char **argv)
{
	const char *pos[2];
	struct kms_db *db;
	bool yes;
	int rc;

	rc = kms_cli_parse(usage_id_factory, argc, argv, NULL, 0, pos, 2, 2);
	if (rc >= 0)
		return rc;
	yes = !strcmp(pos[1], "yes");
	if (!yes && strcmp(pos[1], "no")) {
		fprintf(stderr,
			"conclave kms: identity set-factory: want yes "
			"or no, not '%s'\n",
			pos[1]);
		return KMS_EXIT_USAGE;
	}
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	rc = finish(db, kms_db_identity_set_factory(db, pos[0], yes),
		    "identity set-factory", "no such identity");
	if (!rc)
		printf("identity %s: factory %s\n", pos[0], yes ? "yes" : "no");
	return rc;
}

static const char usage_id_del[] = "usage: conclave kms identity del "
				   "IDENTITY\n\n"
				   "Removes an identity or pattern (as "
				   "written when added).\n";

int kms_cmd_identity_del(const struct kms_cli *cli, int argc, char **argv)
{
	const char *pos[1];
	struct kms_db *db;
	int rc;

	rc = kms_cli_parse(usage_id_del, argc, argv, NULL, 0, pos, 1, 1);
	if (rc >= 0)
		return rc;
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	rc = finish(db, kms_db_identity_del(db, pos[0]), "identity del",
		    "no such identity");
	if (!rc)
		printf("removed identity %s\n", pos[0]);
	return rc;
}

static const char usage_id_list[] = "usage: conclave kms identity list "
				    "USER\n\n"
				    "The identities and patterns of USER.\n";

static bool id_cb(const char *identity, bool factory, void *arg)
{
	(void)arg;
	printf("%s%s\n", identity, factory ? " (factory)" : "");
	return true;
}

int kms_cmd_identity_list(const struct kms_cli *cli, int argc, char **argv)
{
	const char *pos[1];
	struct kms_db *db;
	int rc;

	rc = kms_cli_parse(usage_id_list, argc, argv, NULL, 0, pos, 1, 1);
	if (rc >= 0)
		return rc;
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	return finish(db, kms_db_identity_list(db, pos[0], id_cb, NULL),
		      "identity list", "no such user");
}

/* ---- policy ------------------------------------------------------------------- */

static const char usage_allow[] = "usage: conclave kms policy allow-conference "
				  "CREATOR FACTORY_USER\n\n"
				  "Lets user CREATOR create conferences at the "
				  "conference factory "
				  "owned by\n"
				  "FACTORY_USER (normally a key supplier). "
				  "Without such a rule the "
				  "KMS\n"
				  "refuses a creator's ticket for a factory.\n";

static const char usage_deny[] = "usage: conclave kms policy deny FROM TO\n\n"
				 "Denies tickets for sessions from user FROM "
				 "to user TO (sessions "
				 "are\n"
				 "allowed unless denied).\n";

static const char usage_pdel[] = "usage: conclave kms policy del KIND A B\n\n"
				 "Removes a rule; KIND is allow-conference or "
				 "deny, A and B user "
				 "names.\n";

static int policy_add(const struct kms_cli *cli, int argc, char **argv,
		      const char *usage, bool allow)
{
	const char *pos[2];
	struct kms_db *db;
	struct kms_user_info f;
	enum cc_err err;
	int rc;

	rc = kms_cli_parse(usage, argc, argv, NULL, 0, pos, 2, 2);
	if (rc >= 0)
		return rc;
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	err = allow ? kms_db_policy_allow_conference(db, pos[0], pos[1]) :
		      kms_db_policy_deny(db, pos[0], pos[1]);
	if (!err && allow && !kms_db_user_get(db, pos[1], &f) &&
	    !f.key_supplier)
		fprintf(stderr,
			"conclave kms: warning: %s is not a key supplier "
			"(`user set-supplier %s yes`)\n",
			pos[1], pos[1]);
	if (err == CC_ERR_INVAL) {
		kms_db_close(db);
		fprintf(stderr, "conclave kms: policy: the rule exists\n");
		return KMS_EXIT_FAIL;
	}
	rc = finish(db, err, "policy", "no such user");
	if (!rc)
		printf("policy %s %s %s\n", allow ? "allow-conference" : "deny",
		       pos[0], pos[1]);
	return rc;
}

int kms_cmd_policy_allow(const struct kms_cli *cli, int argc, char **argv)
{
	return policy_add(cli, argc, argv, usage_allow, true);
}

int kms_cmd_policy_deny(const struct kms_cli *cli, int argc, char **argv)
{
	return policy_add(cli, argc, argv, usage_deny, false);
}

int kms_cmd_policy_del(const struct kms_cli *cli, int argc, char **argv)
{
	const char *pos[3];
	struct kms_db *db;
	int rc;

	rc = kms_cli_parse(usage_pdel, argc, argv, NULL, 0, pos, 3, 3);
	if (rc >= 0)
		return rc;
	if (strcmp(pos[0], "allow-conference") && strcmp(pos[0], "deny")) {
		fprintf(stderr,
			"conclave kms: policy del: KIND is "
			"allow-conference or deny, not '%s'\n",
			pos[0]);
		return KMS_EXIT_USAGE;
	}
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	rc = finish(db, kms_db_policy_del(db, pos[0], pos[1], pos[2]),
		    "policy del", "no such rule or user");
	if (!rc)
		printf("removed policy %s %s %s\n", pos[0], pos[1], pos[2]);
	return rc;
}

static const char usage_plist[] = "usage: conclave kms policy list\n\n"
				  "One rule a line: KIND A B.\n";

static bool policy_cb(const char *kind, const char *a, const char *b, void *arg)
{
	(void)arg;
	printf("%s %s %s\n", kind, a, b);
	return true;
}

int kms_cmd_policy_list(const struct kms_cli *cli, int argc, char **argv)
{
	struct kms_db *db;
	int rc;

	rc = kms_cli_parse(usage_plist, argc, argv, NULL, 0, NULL, 0, 0);
	if (rc >= 0)
		return rc;
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	return finish(db, kms_db_policy_list(db, policy_cb, NULL),
		      "policy list", NULL);
}

/* ---- ticket-key, audit --------------------------------------------------------- */

static const char usage_rotate[] =
	"usage: conclave kms ticket-key rotate [--grace SECONDS]\n\n"
	"Makes a new random ticket-protection key current. The previous "
	"key\n"
	"keeps resolving tickets sealed under it for --grace seconds "
	"(default\n"
	"86400); keys already past their grace period are deleted.\n";

static bool parse_i64(const char *s, int64_t max, int64_t *v)
{
	char *end;
	long long x;

	if (!s || !*s || *s == '-')
		return false;
	x = strtoll(s, &end, 10);
	if (*end || x < 0 || x > max)
		return false;
	*v = x;
	return true;
}

int kms_cmd_tpk_rotate(const struct kms_cli *cli, int argc, char **argv)
{
	const char *grace_s = NULL;
	const struct kms_opt opts[] = { { "--grace", &grace_s, NULL } };
	char id[KMS_MAX_NAME], t[32];
	int64_t grace = 86400, now = (int64_t)time(NULL);
	struct kms_db *db;
	int rc;

	rc = kms_cli_parse(usage_rotate, argc, argv, opts, 1, NULL, 0, 0);
	if (rc >= 0)
		return rc;
	if (grace_s && !parse_i64(grace_s, INT32_MAX, &grace)) {
		fprintf(stderr, "conclave kms: ticket-key rotate: --grace "
				"wants seconds (0..2147483647)\n");
		return KMS_EXIT_USAGE;
	}
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	rc = finish(db, kms_db_tpk_rotate(db, now, grace, KMS_MAX_TPK, id),
		    "ticket-key rotate", NULL);
	if (rc)
		return rc;
	kms_cli_time(now + grace, t);
	printf("new ticket key %s; the previous key resolves until %s\n", id,
	       t);
	return KMS_EXIT_OK;
}

static const char usage_tail[] = "usage: conclave kms audit tail [-n N]\n\n"
				 "The last N (default 20) audit records, "
				 "oldest first: sequence, "
				 "time,\n"
				 "operation, outcome, reason, ticket id, "
				 "requester, initiator, "
				 "peer.\n"
				 "The log is append-only and never holds "
				 "keys.\n";

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static bool tail_cb(int64_t seq, const struct kms_audit *a, void *arg)
{
	char t[32];

	(void)arg;
	kms_cli_time(a->time, t);
	printf("%lld %s %s %s reason=%s ticket=%s requester=%s initiator=%s "
	       "peer=%s\n",
	       (long long)seq, t,
	       a->op == KMS_OP_REQUEST ? "request" :
	       a->op == KMS_OP_RESOLVE ? "resolve" :
					 "?",
	       or_dash(a->outcome), or_dash(a->reason), or_dash(a->ticket_id),
	       or_dash(a->requester), or_dash(a->initiator), or_dash(a->peer));
	return true;
}

int kms_cmd_audit_tail(const struct kms_cli *cli, int argc, char **argv)
{
	const char *n_s = NULL;
	const struct kms_opt opts[] = { { "-n", &n_s, NULL } };
	struct kms_db *db;
	int64_t n = 20;
	int rc;

	rc = kms_cli_parse(usage_tail, argc, argv, opts, 1, NULL, 0, 0);
	if (rc >= 0)
		return rc;
	if (n_s && !parse_i64(n_s, INT32_MAX, &n)) {
		fprintf(stderr, "conclave kms: audit tail: -n wants a "
				"count\n");
		return KMS_EXIT_USAGE;
	}
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	return finish(db, kms_db_audit_tail(db, (size_t)n, tail_cb, NULL),
		      "audit tail", NULL);
}
