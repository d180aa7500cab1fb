/*
 * cmd_kms.c -- `conclave kms`: administration of the KMS store (users and
 * their PSKs, identities and patterns, policies, ticket keys, the audit
 * log, participant credentials). A table of subcommands (STYLE.md habit
 * 13), each with --help; the subcommands live in kms_cmd_*.c.
 *
 * Keys are never printed: a generated PSK is shown once, only with
 * --generate --show-psk; `credential export` writes one into a 0600 file.
 */
#include "cmds.h"
#include "kms_cli.h"

#include <openssl/rand.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int (*kms_cmd_fn)(const struct kms_cli *cli, int argc, char **argv);

struct kms_cmd {
	const char *group; /* "user" */
	const char *name;  /* "add"; NULL for a command with no group */
	kms_cmd_fn run;
	const char *summary;
};

static const struct kms_cmd kms_cmds[] = {
	{ "init", NULL, kms_cmd_init,
	  "create the store and its first ticket key" },
	{ "user", "add", kms_cmd_user_add, "add a user with a PSK" },
	{ "user", "list", kms_cmd_user_list, "list users" },
	{ "user", "show", kms_cmd_user_show,
	  "a user's identities and policies" },
	{ "user", "del", kms_cmd_user_del,
	  "delete a user, its identities and policies" },
	{ "user", "set-psk", kms_cmd_user_set_psk,
	  "replace a user's PSK and/or PSK id" },
	{ "user", "set-supplier", kms_cmd_user_set_supplier,
	  "key supplier (factory/focus) yes|no" },
	{ "identity", "add", kms_cmd_identity_add,
	  "give a user an identity or pattern" },
	{ "identity", "set-factory", kms_cmd_identity_set_factory,
	  "mark an identity as a conference factory yes|no" },
	{ "identity", "del", kms_cmd_identity_del, "remove an identity" },
	{ "identity", "list", kms_cmd_identity_list,
	  "list a user's identities" },
	{ "policy", "allow-conference", kms_cmd_policy_allow,
	  "let a user create conferences at a factory" },
	{ "policy", "deny", kms_cmd_policy_deny,
	  "deny sessions from one user to another" },
	{ "policy", "del", kms_cmd_policy_del, "remove a rule" },
	{ "policy", "list", kms_cmd_policy_list, "list the rules" },
	{ "ticket-key", "rotate", kms_cmd_tpk_rotate,
	  "new ticket key; the old one resolves a while" },
	{ "audit", "tail", kms_cmd_audit_tail, "the last audit records" },
	{ "credential", "export", kms_cmd_credential_export,
	  "write a participant credential file (0600)" },
};

enum {
	N_CMDS = sizeof(kms_cmds) / sizeof(kms_cmds[0])
};

static void usage(FILE *f, const char *group)
{
	size_t i;
	char full[64];

	fputs("usage: conclave kms [--db sqlite:PATH|postgresql:CONNINFO]\n"
	      "                    [--master-key-file PATH]"
	      "\n"
	      "                    <command> [options]\n\n"
	      "Administration of the KMS store (TR 33.829 KMS-based "
	      "solution).\n\n"
	      "  --db SPEC               the store (default $CONCLAVE_KMS_DB "
	      "or\n"
	      "                          sqlite:./kms.db)\n"
	      "  --master-key-file PATH  the AES-256 key PSKs and ticket keys "
	      "are\n"
	      "                          encrypted under; mode 0600 or "
	      "stricter\n"
	      "                          (default $CONCLAVE_MASTER_KEY or "
	      "./kms.key)\n\n"
	      "commands:\n",
	      f);
	for (i = 0; i < N_CMDS; i++) {
		if (group && strcmp(group, kms_cmds[i].group))
			continue;
		snprintf(full, sizeof(full), "%s%s%s", kms_cmds[i].group,
			 kms_cmds[i].name ? " " : "",
			 kms_cmds[i].name ? kms_cmds[i].name : "");
		fprintf(f, "  %-27s %s\n", full, kms_cmds[i].summary);
	}
	if (group)
		return;
	fprintf(f, "\nSetting up a KMS:\n"
		   "  conclave kms init --create-master-key\n"
		   "  conclave kms user add alice --psk-id alice@example.org "
		   "--generate\n"
		   "  conclave kms identity add alice sip:alice@example.org\n"
		   "  conclave kms user add conf1 --psk-id conf1 --generate "
		   "--key-supplier\n"
		   "  conclave kms identity add conf1 "
		   "sip:factory.conf1@example.org --factory\n"
		   "  conclave kms identity add conf1 "
		   "'sip:focus*.conf1@example.org'\n"
		   "  conclave kms policy allow-conference alice conf1\n"
		   "  conclave kms credential export alice --identity "
		   "sip:alice@example.org \\\n"
		   "      --kms-url https://kms.example.org/mikey -o "
		   "alice.cred\n"
		   "\n`conclave kms <command> --help` describes each "
		   "command.\n");
}

/* ---- helpers shared by the subcommands ----------------------------------- */

static const struct kms_opt *find_opt(const struct kms_opt *opts, size_t n,
				      const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(opts[i].name, name))
			return &opts[i];
	return NULL;
}

int kms_cli_parse(const char *usage_text, int argc, char **argv,
		  const struct kms_opt *opts, size_t n_opts, const char **pos,
		  int min_pos, int max_pos)
{
	const struct kms_opt *o;
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return KMS_EXIT_OK;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			o = find_opt(opts, n_opts, argv[i]);
			if (!o) {
				fprintf(stderr,
					"conclave kms: unknown option '%s'"
					"\n\n%s",
					argv[i], usage_text);
				return KMS_EXIT_USAGE;
			}
			if (o->flag)
				*o->flag = true;
			if (o->val && i + 1 >= argc) {
				fprintf(stderr,
					"conclave kms: %s needs a value\n",
					argv[i]);
				return KMS_EXIT_USAGE;
			}
			if (o->val)
				*o->val = argv[++i];
			continue;
		}
		if (n >= max_pos) {
			fprintf(stderr,
				"conclave kms: unexpected argument '%s'\n\n%s",
				argv[i], usage_text);
			return KMS_EXIT_USAGE;
		}
		pos[n++] = argv[i];
	}
	if (n < min_pos) {
		fprintf(stderr, "conclave kms: missing argument\n\n%s",
			usage_text);
		return KMS_EXIT_USAGE;
	}
	return -1;
}

static const char *hint(enum cc_err err)
{
	switch (err) {
	case CC_ERR_BAD_MAC:
		return " (wrong master key for this store, or a tampered "
		       "value)";
	case CC_ERR_UNSUPPORTED:
		return " (store from a newer conclave, or not an sqlite: "
		       "or postgresql: spec)";
	case CC_ERR_STORE:
		return " (storage failure: disk, permissions, a lock held "
		       "too long, or the database server unreachable)";
	default:
		return "";
	}
}

int kms_cli_fail(const char *what, enum cc_err err)
{
	fprintf(stderr, "conclave kms: %s: %s%s\n", what, cc_strerror(err),
		hint(err));
	return KMS_EXIT_FAIL;
}

const char *kms_cli_db_path(const struct kms_cli *cli)
{
	return strncmp(cli->db, "sqlite:", 7) ? cli->db : cli->db + 7;
}

static int load_key(const struct kms_cli *cli, uint8_t key[KMS_MASTER_KEY_LEN])
{
	enum cc_err err = kms_master_key_load(cli->key_file, key);

	if (!err)
		return KMS_EXIT_OK;
	if (err == CC_ERR_NOT_AUTHORISED)
		fprintf(stderr,
			"conclave kms: master key file '%s': refused: it "
			"must be a regular file readable and writable by "
			"its owner only (chmod 600)\n",
			cli->key_file);
	else if (err == CC_ERR_NOT_FOUND)
		fprintf(stderr,
			"conclave kms: master key file '%s': not found "
			"(--master-key-file, $CONCLAVE_MASTER_KEY; `kms "
			"init --create-master-key` makes one)\n",
			cli->key_file);
	else
		fprintf(stderr,
			"conclave kms: master key file '%s': %s (want 64 "
			"hex digits or 32 bytes)\n",
			cli->key_file, cc_strerror(err));
	return KMS_EXIT_FAIL;
}

static int open_db(const struct kms_cli *cli, struct kms_db **db, bool create)
{
	uint8_t key[KMS_MASTER_KEY_LEN];
	char what[600];
	enum cc_err err;
	int rc;

	rc = load_key(cli, key);
	if (rc)
		return rc;
	if (kms_db_spec_is_pg(cli->db) && !kms_db_pg_available()) {
		cc_wipe(key, sizeof(key));
		fprintf(stderr,
			"conclave kms: store '%s': not built with PostgreSQL "
			"(configure with -DCONCLAVE_PG=ON and libpq-dev)\n",
			kms_db_spec_safe(cli->db));
		return KMS_EXIT_FAIL;
	}
	err = kms_db_open(db, cli->db, key, create);
	cc_wipe(key, sizeof(key));
	if (!err)
		return KMS_EXIT_OK;
	if (kms_db_spec_is_pg(cli->db) && kms_db_error(NULL)[0])
		fprintf(stderr, "conclave kms: PostgreSQL: %s\n",
			kms_db_error(NULL));
	if (create && err == CC_ERR_INVAL)
		snprintf(what, sizeof(what),
			 "creating store '%s': it already exists",
			 kms_db_spec_safe(cli->db));
	else if (!create && err == CC_ERR_NOT_FOUND)
		snprintf(what, sizeof(what),
			 "store '%s' does not exist (run `conclave kms init`"
			 " first, or give --db)",
			 kms_db_spec_safe(cli->db));
	else
		snprintf(what, sizeof(what), "%s store '%s'",
			 create ? "creating" : "opening",
			 kms_db_spec_safe(cli->db));
	if (!create && err == CC_ERR_NOT_FOUND) {
		fprintf(stderr, "conclave kms: %s\n", what);
		return KMS_EXIT_FAIL;
	}
	if (create && err == CC_ERR_INVAL) {
		fprintf(stderr, "conclave kms: %s\n", what);
		return KMS_EXIT_FAIL;
	}
	return kms_cli_fail(what, err);
}

int kms_cli_open(const struct kms_cli *cli, struct kms_db **db)
{
	return open_db(cli, db, false);
}

void kms_cli_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "%lld", (long long)t);
}

/* Hex from "--psk -": one line on stdin (keeps the PSK out of argv, so
 * out of ps(1) and shell history). */
static enum cc_err psk_stdin(uint8_t psk[KMS_MAX_PSK], size_t *len)
{
	char line[256];
	enum cc_err err = CC_ERR_MALFORMED;

	if (fgets(line, sizeof(line), stdin))
		err = cc_hex_decode(line, psk, KMS_MAX_PSK, len);
	cc_wipe(line, sizeof(line));
	return err;
}

int kms_cli_psk(const char *what, const char *hex, bool generate,
		const char *len_s, uint8_t psk[KMS_MAX_PSK], size_t *len)
{
	enum cc_err err;

	if (hex && generate) {
		fprintf(stderr,
			"conclave kms: %s: give --psk or --generate, "
			"not both\n",
			what);
		return KMS_EXIT_USAGE;
	}
	if (hex) {
		err = strcmp(hex, "-") ?
			      cc_hex_decode(hex, psk, KMS_MAX_PSK, len) :
			      psk_stdin(psk, len);
		if (err || (*len != 16 && *len != 32)) {
			fprintf(stderr,
				"conclave kms: %s: --psk must be 32 or 64 "
				"hex digits (a 16- or 32-byte PSK)\n",
				what);
			cc_wipe(psk, KMS_MAX_PSK);
			return KMS_EXIT_USAGE;
		}
		return KMS_EXIT_OK;
	}
	*len = len_s && !strcmp(len_s, "16") ? 16 : 32;
	if (len_s && strcmp(len_s, "16") && strcmp(len_s, "32")) {
		fprintf(stderr, "conclave kms: %s: --psk-len is 16 or 32\n",
			what);
		return KMS_EXIT_USAGE;
	}
	err = RAND_bytes(psk, (int)*len) == 1 ? CC_OK : CC_ERR_CRYPTO;
	return err ? kms_cli_fail("generating a PSK", err) : KMS_EXIT_OK;
}

/* ---- init ------------------------------------------------------------------ */

static const char usage_init[] =
	"usage: conclave kms init [--create-master-key]\n\n"
	"Creates the store (--db; it must not exist yet) with every schema\n"
	"migration and its first ticket-protection key. The store file and\n"
	"the master key file are mode 0600.\n\n"
	"  --create-master-key  first create the master key file\n"
	"                       (--master-key-file) from 32 random bytes if\n"
	"                       it does not exist; keep a copy somewhere "
	"safe:\n"
	"                       without it the store cannot be opened\n";

int kms_cmd_init(const struct kms_cli *cli, int argc, char **argv)
{
	bool mk = false;
	const struct kms_opt opts[] = { { "--create-master-key", NULL, &mk } };
	struct kms_store *st;
	struct kms_db *db;
	struct kms_tpk k;
	enum cc_err err;
	int rc;

	rc = kms_cli_parse(usage_init, argc, argv, opts, 1, NULL, 0, 0);
	if (rc >= 0)
		return rc;
	if (mk && access(cli->key_file, F_OK) != 0) {
		err = kms_master_key_create(cli->key_file);
		if (err)
			return kms_cli_fail("creating the master key file",
					    err);
		printf("created master key file %s (mode 0600)\n",
		       cli->key_file);
	}
	rc = open_db(cli, &db, true);
	if (rc)
		return rc;
	st = kms_db_store(db);
	err = st->ops->tpk_current(st, &k);
	if (!err)
		printf("created KMS store %s (schema v%d), ticket key %s\n",
		       kms_db_spec_safe(cli->db), kms_db_schema_version(db),
		       k.id);
	cc_wipe(&k, sizeof(k));
	kms_db_close(db);
	return err ? kms_cli_fail("reading the first ticket key", err) : 0;
}

/* ---- dispatch -------------------------------------------------------------- */

/* Take --db / --master-key-file (also --opt=value) out of argv, wherever
 * they are; returns the new argc, or -1 on a missing value. */
static int take_globals(struct kms_cli *cli, int argc, char **argv)
{
	int i, n = 0;
	const char **dst;
	size_t l;

	for (i = 0; i < argc; i++) {
		dst = NULL;
		if (!strncmp(argv[i], "--db", 4))
			dst = &cli->db, l = 4;
		else if (!strncmp(argv[i], "--master-key-file", 17))
			dst = &cli->key_file, l = 17;
		if (dst && argv[i][l] == '=') {
			*dst = argv[i] + l + 1;
			continue;
		}
		if (dst && !argv[i][l]) {
			if (i + 1 >= argc)
				return -1;
			*dst = argv[++i];
			continue;
		}
		argv[n++] = argv[i];
	}
	return n;
}

static const struct kms_cmd *find_cmd(int argc, char **argv, bool *group)
{
	size_t i;

	*group = false;
	for (i = 0; i < N_CMDS; i++) {
		if (strcmp(argv[1], kms_cmds[i].group))
			continue;
		*group = true;
		if (!kms_cmds[i].name)
			return &kms_cmds[i];
		if (argc > 2 && !strcmp(argv[2], kms_cmds[i].name))
			return &kms_cmds[i];
	}
	return NULL;
}

int cmd_kms(int argc, char **argv)
{
	struct kms_cli cli = { getenv("CONCLAVE_KMS_DB"), getenv("CONCLAVE_"
								 "MASTER_"
								 "KEY") };
	const struct kms_cmd *c;
	bool group;

	argc = take_globals(&cli, argc, argv);
	if (argc < 0) {
		fprintf(stderr, "kms: --db and --master-key-file need a "
				"value\n");
		return KMS_EXIT_USAGE;
	}
	if (!cli.db || !*cli.db)
		cli.db = "sqlite:./kms.db";
	if (!cli.key_file || !*cli.key_file)
		cli.key_file = "./kms.key";
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout, NULL);
		return argc < 2 ? KMS_EXIT_USAGE : KMS_EXIT_OK;
	}
	c = find_cmd(argc, argv, &group);
	if (c)
		return c->run(&cli, c->name ? argc - 2 : argc - 1,
			      c->name ? argv + 2 : argv + 1);
	if (group && argc > 2 &&
	    (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
		usage(stdout, argv[1]);
		return KMS_EXIT_OK;
	}
	if (group)
		fprintf(stderr, "kms %s: unknown or missing subcommand%s%s\n\n",
			argv[1], argc > 2 ? " " : "", argc > 2 ? argv[2] : "");
	else
		fprintf(stderr, "kms: unknown command '%s'\n\n", argv[1]);
	usage(stderr, group ? argv[1] : NULL);
	return KMS_EXIT_USAGE;
}
