/*
 * kms_cli.h -- shared by the `conclave kms` subcommands (cmd_kms.c,
 * kms_cmd_*.c): the global options, opening the store, a small option
 * parser and error reporting. Exit status: 0 ok, 1 failure, 2 usage.
 */
#ifndef CONCLAVE_APP_KMS_CLI_H
#define CONCLAVE_APP_KMS_CLI_H

#include <conclave/kms_store.h>

#include <stdio.h>

enum {
	KMS_EXIT_OK = 0,
	KMS_EXIT_FAIL = 1,
	KMS_EXIT_USAGE = 2
};

struct kms_cli {
	const char *db;       /* --db, $CONCLAVE_KMS_DB, ./kms.db */
	const char *key_file; /* --master-key-file, $CONCLAVE_MASTER_KEY */
};

/** One option of a subcommand: a flag (val NULL) or one with a value. */
struct kms_opt {
	const char *name; /* "--psk" */
	const char **val; /* set to the value; NULL for a flag */
	bool *flag;       /* set true when present (flags) */
};

/**
 * Parse argv[1..] (argv[0] names the subcommand) into opts and between
 * min_pos and max_pos positional arguments. Returns -1 to go on, or an
 * exit status (0 after printing help for --help, 2 after a usage error).
 */
int kms_cli_parse(const char *usage, int argc, char **argv,
		  const struct kms_opt *opts, size_t n_opts, const char **pos,
		  int min_pos, int max_pos);

/** Load the master key and open the store; prints what failed. */
int kms_cli_open(const struct kms_cli *cli, struct kms_db **db);

/** "conclave kms <what>: <error>" (+ a hint for the common ones). */
int kms_cli_fail(const char *what, enum cc_err err);

/** The spec's path (after "sqlite:"), for messages and init. */
const char *kms_cli_db_path(const struct kms_cli *cli);

/** Format a Unix time as UTC "YYYY-MM-DDTHH:MM:SSZ". */
void kms_cli_time(int64_t t, char out[32]);

/** A PSK from --psk HEX / "--psk -" (hex on stdin) / --generate. */
int kms_cli_psk(const char *what, const char *hex, bool generate,
		const char *len_s, uint8_t psk[KMS_MAX_PSK], size_t *len);

int kms_cmd_init(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_user_add(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_user_list(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_user_show(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_user_del(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_user_set_psk(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_user_set_supplier(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_identity_add(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_identity_set_factory(const struct kms_cli *cli, int argc,
				 char **argv);
int kms_cmd_identity_del(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_identity_list(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_policy_allow(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_policy_deny(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_policy_del(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_policy_list(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_tpk_rotate(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_audit_tail(const struct kms_cli *cli, int argc, char **argv);
int kms_cmd_credential_export(const struct kms_cli *cli, int argc, char **argv);

#endif
