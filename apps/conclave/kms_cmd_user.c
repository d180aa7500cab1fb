/*
 * kms_cmd_user.c -- `conclave kms user add|list|show|del|set-psk|
 * set-supplier`. A PSK is never printed, except a generated one, once,
 * when --show-psk asks for it.
 */
#include "kms_cli.h"

#include <string.h>

static const char usage_add[] =
	"usage: conclave kms user add NAME --psk-id ID [--psk HEX | "
	"--generate]\n"
	"                             [--psk-len 16|32] [--show-psk] "
	"[--key-supplier]\n\n"
	"Adds a user. Its PSK authenticates it to the KMS; ID is the IDRpsk\n"
	"name its client sends for that PSK.\n\n"
	"  --psk-id ID     the PSK's name (unique)\n"
	"  --psk HEX       the PSK, 32 or 64 hex digits; `--psk -` reads "
	"them from\n"
	"                  stdin (keeps the key out of ps and shell "
	"history)\n"
	"  --generate      a random PSK (the default without --psk)\n"
	"  --psk-len N     generated PSK length in bytes, 16 or 32 "
	"(default 32)\n"
	"  --show-psk      with --generate: print the new PSK once (hex);\n"
	"                  otherwise it is never shown: use `credential "
	"export`\n"
	"  --key-supplier  the user is a conference factory/focus and may "
	"supply\n"
	"                  group keys (TR 33.829; spec ambiguity A29)\n";

static void show_psk(bool show, bool generated, const uint8_t *psk, size_t len)
{
	char hex[2 * KMS_MAX_PSK + 1];

	if (!show || !generated)
		return;
	cc_hex_encode(psk, len, hex);
	printf("psk: %s\n", hex);
	fflush(stdout);
	cc_wipe(hex, sizeof(hex));
}

int kms_cmd_user_add(const struct kms_cli *cli, int argc, char **argv)
{
	const char *pos[1], *psk_id = NULL, *hex = NULL, *len_s = NULL;
	bool gen = false, show = false, supplier = false;
	const struct kms_opt opts[] = {
		{ "--psk-id", &psk_id, NULL },
		{ "--psk", &hex, NULL },
		{ "--generate", NULL, &gen },
		{ "--psk-len", &len_s, NULL },
		{ "--show-psk", NULL, &show },
		{ "--key-supplier", NULL, &supplier },
	};
	uint8_t psk[KMS_MAX_PSK];
	struct kms_db *db = NULL;
	enum cc_err err;
	size_t len = 0;
	int rc;

	rc = kms_cli_parse(usage_add, argc, argv, opts, 6, pos, 1, 1);
	if (rc >= 0)
		return rc;
	if (!psk_id) {
		fprintf(stderr,
			"conclave kms: user add: --psk-id is "
			"required\n\n%s",
			usage_add);
		return KMS_EXIT_USAGE;
	}
	rc = kms_cli_psk("user add", hex, gen, len_s, psk, &len);
	if (!rc)
		rc = kms_cli_open(cli, &db);
	if (rc)
		goto out;
	err = kms_db_user_add(db, pos[0], psk_id, psk, len, supplier);
	if (err == CC_ERR_INVAL)
		fprintf(stderr,
			"conclave kms: user add '%s': refused: the name or "
			"PSK id '%s' is already in use, or not 1..127 "
			"printable characters without spaces\n",
			pos[0], psk_id);
	else if (err)
		kms_cli_fail("user add", err);
	rc = err ? KMS_EXIT_FAIL : KMS_EXIT_OK;
	if (!err) {
		printf("added user %s (psk id %s, %zu-byte PSK%s)\n", pos[0],
		       psk_id, len, supplier ? ", key supplier" : "");
		show_psk(show, !hex, psk, len);
	}
out:
	kms_db_close(db);
	cc_wipe(psk, sizeof(psk));
	return rc;
}

static const char usage_set_psk[] =
	"usage: conclave kms user set-psk NAME [--psk HEX | --generate]\n"
	"                                 [--psk-len 16|32] [--show-psk] "
	"[--psk-id ID]\n\n"
	"Replaces a user's PSK (a random one unless --psk is given) and/or "
	"its\n"
	"PSK id. With only --psk-id the PSK stays. Options as `user "
	"add`.\n";

int kms_cmd_user_set_psk(const struct kms_cli *cli, int argc, char **argv)
{
	const char *pos[1], *psk_id = NULL, *hex = NULL, *len_s = NULL;
	bool gen = false, show = false, new_psk;
	const struct kms_opt opts[] = {
		{ "--psk-id", &psk_id, NULL }, { "--psk", &hex, NULL },
		{ "--generate", NULL, &gen },  { "--psk-len", &len_s, NULL },
		{ "--show-psk", NULL, &show },
	};
	uint8_t psk[KMS_MAX_PSK];
	struct kms_db *db = NULL;
	enum cc_err err;
	size_t len = 0;
	int rc;

	rc = kms_cli_parse(usage_set_psk, argc, argv, opts, 5, pos, 1, 1);
	if (rc >= 0)
		return rc;
	new_psk = hex || gen || !psk_id;
	rc = new_psk ? kms_cli_psk("user set-psk", hex, gen, len_s, psk, &len) :
		       KMS_EXIT_OK;
	if (!rc)
		rc = kms_cli_open(cli, &db);
	if (rc)
		goto out;
	err = kms_db_user_set_psk(db, pos[0], psk_id, new_psk ? psk : NULL,
				  len);
	if (err == CC_ERR_NOT_FOUND)
		fprintf(stderr, "conclave kms: user set-psk: no user '%s'\n",
			pos[0]);
	else if (err == CC_ERR_INVAL)
		fprintf(stderr,
			"conclave kms: user set-psk '%s': refused: PSK id "
			"'%s' is in use or invalid\n",
			pos[0], psk_id ? psk_id : "");
	else if (err)
		kms_cli_fail("user set-psk", err);
	rc = err ? KMS_EXIT_FAIL : KMS_EXIT_OK;
	if (!err) {
		printf("user %s: %s%s%s\n", pos[0], new_psk ? "new PSK" : "",
		       new_psk && psk_id ? ", " : "",
		       psk_id ? "new PSK id" : "");
		show_psk(show, new_psk && !hex, psk, len);
	}
out:
	kms_db_close(db);
	cc_wipe(psk, sizeof(psk));
	return rc;
}

static const char usage_list[] = "usage: conclave kms user list\n\n"
				 "One line per user: name, PSK id, key "
				 "supplier, identities, created.\n";

static bool list_cb(const struct kms_user_info *u, void *arg)
{
	char t[32];

	(void)arg;
	kms_cli_time(u->created, t);
	printf("%-20s %-28s %-8s %10zu  %s\n", u->name, u->psk_id,
	       u->key_supplier ? "yes" : "no", u->n_identities, t);
	return true;
}

int kms_cmd_user_list(const struct kms_cli *cli, int argc, char **argv)
{
	struct kms_db *db;
	enum cc_err err;
	int rc;

	rc = kms_cli_parse(usage_list, argc, argv, NULL, 0, NULL, 0, 0);
	if (rc >= 0)
		return rc;
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	printf("%-20s %-28s %-8s %10s  %s\n", "NAME", "PSK_ID", "SUPPLIER",
	       "IDENTITIES", "CREATED");
	err = kms_db_user_list(db, list_cb, NULL);
	kms_db_close(db);
	return err ? kms_cli_fail("user list", err) : KMS_EXIT_OK;
}

static const char usage_show[] = "usage: conclave kms user show NAME\n\n"
				 "A user's PSK id, flags, identities and the "
				 "policy rules naming it\n"
				 "(never the PSK).\n";

static bool show_ident_cb(const char *identity, bool factory, void *arg)
{
	(void)arg;
	printf("  %s%s\n", identity, factory ? " (factory)" : "");
	return true;
}

static bool show_policy_cb(const char *kind, const char *a, const char *b,
			   void *arg)
{
	const char *name = arg;

	if (!strcmp(a, name) || !strcmp(b, name))
		printf("  %s %s %s\n", kind, a, b);
	return true;
}

int kms_cmd_user_show(const struct kms_cli *cli, int argc, char **argv)
{
	struct kms_user_info u;
	const char *pos[1];
	struct kms_db *db;
	enum cc_err err;
	char t[32];
	int rc;

	rc = kms_cli_parse(usage_show, argc, argv, NULL, 0, pos, 1, 1);
	if (rc >= 0)
		return rc;
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	err = kms_db_user_get(db, pos[0], &u);
	if (!err) {
		kms_cli_time(u.created, t);
		printf("user: %s\npsk_id: %s\nkey_supplier: %s\ncreated: %s\n"
		       "identities:\n",
		       u.name, u.psk_id, u.key_supplier ? "yes" : "no", t);
		err = kms_db_identity_list(db, pos[0], show_ident_cb, NULL);
	}
	if (!err) {
		printf("policies:\n");
		err = kms_db_policy_list(db, show_policy_cb, (void *)pos[0]);
	}
	kms_db_close(db);
	if (err == CC_ERR_NOT_FOUND) {
		fprintf(stderr, "conclave kms: user show: no user '%s'\n",
			pos[0]);
		return KMS_EXIT_FAIL;
	}
	return err ? kms_cli_fail("user show", err) : KMS_EXIT_OK;
}

static const char usage_del[] = "usage: conclave kms user del NAME\n\n"
				"Deletes a user with its identities and policy "
				"rules. The audit log "
				"keeps\n"
				"its records.\n";

int kms_cmd_user_del(const struct kms_cli *cli, int argc, char **argv)
{
	const char *pos[1];
	struct kms_db *db;
	enum cc_err err;
	int rc;

	rc = kms_cli_parse(usage_del, argc, argv, NULL, 0, pos, 1, 1);
	if (rc >= 0)
		return rc;
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	err = kms_db_user_del(db, pos[0]);
	kms_db_close(db);
	if (err == CC_ERR_NOT_FOUND) {
		fprintf(stderr, "conclave kms: user del: no user '%s'\n",
			pos[0]);
		return KMS_EXIT_FAIL;
	}
	if (err)
		return kms_cli_fail("user del", err);
	printf("deleted user %s\n", pos[0]);
	return KMS_EXIT_OK;
}

static const char usage_supplier[] = "usage: conclave kms user set-supplier "
				     "NAME yes|no\n\n"
				     "Marks a user as a key supplier (a "
				     "conference factory/focus: its "
				     "tickets\n"
				     "let it hand out group keys, spec "
				     "ambiguity A29) or not.\n";

int kms_cmd_user_set_supplier(const struct kms_cli *cli, int argc, char **argv)
{
	const char *pos[2];
	struct kms_db *db;
	enum cc_err err;
	bool yes;
	int rc;

	rc = kms_cli_parse(usage_supplier, argc, argv, NULL, 0, pos, 2, 2);
	if (rc >= 0)
		return rc;
	yes = !strcmp(pos[1], "yes");
	if (!yes && strcmp(pos[1], "no")) {
		fprintf(stderr,
			"conclave kms: user set-supplier: want yes or "
			"no, not '%s'\n",
			pos[1]);
		return KMS_EXIT_USAGE;
	}
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	err = kms_db_user_set_supplier(db, pos[0], yes);
	kms_db_close(db);
	if (err == CC_ERR_NOT_FOUND) {
		fprintf(stderr,
			"conclave kms: user set-supplier: no user "
			"'%s'\n",
			pos[0]);
		return KMS_EXIT_FAIL;
	}
	if (err)
		return kms_cli_fail("user set-supplier", err);
	printf("user %s: key supplier %s\n", pos[0], yes ? "yes" : "no");
	return KMS_EXIT_OK;
}
