/*
 * kms_cmd_credential.c -- `conclave kms credential export`: the file a
 * participant (conclave ua, libconclave) needs to talk to the KMS. It holds
 * the user's PSK, so it is created 0600 with O_EXCL (never through an
 * existing file or a symlink) and the secret is written with write(2) from
 * a buffer that is wiped afterwards (no stdio copy left behind).
 */
#include "kms_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string.h>

static const char usage_export[] =
	"usage: conclave kms credential export USER --kms-url URL --identity "
	"IDENTITY\n"
	"              [--kms-identity ID] [-o FILE] [--force]\n\n"
	"Writes the credential file of USER for the participant side, mode "
	"0600.\n"
	"IDENTITY must be one of USER's identities (or match one of its "
	"patterns).\n\n"
	"  --kms-url URL       where the KMS listens (http:// or https://)\n"
	"  --identity ID       the participant's public identity\n"
	"  --kms-identity ID   the KMS identity (IDRkms; default "
	"sip:kms.<realm of\n"
	"                      IDENTITY>)\n"
	"  -o FILE             output file (default USER.cred); never "
	"stdout\n"
	"  --force             replace FILE if it exists\n\n"
	"File format: UTF-8 text, one `key = value` a line, '#' starts a "
	"comment:\n"
	"  # conclave participant credential: secret, keep mode 0600\n"
	"  identity = sip:alice@example.org\n"
	"  psk_id = alice@example.org\n"
	"  psk = <32 or 64 hex digits>\n"
	"  kms_url = https://kms.example.org/mikey\n"
	"  kms_identity = sip:kms.example.org\n";

struct export_args {
	const char *user, *url, *identity, *kms_identity, *out;
	bool force;
};

static enum cc_err write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return CC_ERR_STORE;
		p += w;
		n -= (size_t)w;
	}
	return CC_OK;
}

/* Create FILE 0600 and write body; with force, an existing file is
 * unlinked first (not truncated: its mode and owner are not ours). */
static int write_file(const struct export_args *a, const char *body, size_t len)
{
	enum cc_err err;
	int fd;

	if (a->force && unlink(a->out) && errno != ENOENT) {
		fprintf(stderr,
			"conclave kms: credential export: cannot "
			"replace '%s': %s\n",
			a->out, strerror(errno));
		return KMS_EXIT_FAIL;
	}
	fd = open(a->out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		fprintf(stderr,
			"conclave kms: credential export: cannot "
			"create '%s': %s%s\n",
			a->out, strerror(errno),
			errno == EEXIST ? " (use --force to replace it)" : "");
		return KMS_EXIT_FAIL;
	}
	err = fchmod(fd, 0600) ? CC_ERR_STORE : write_all(fd, body, len);
	if (!err && fsync(fd))
		err = CC_ERR_STORE;
	if (close(fd) && !err)
		err = CC_ERR_STORE;
	if (err) {
		fprintf(stderr,
			"conclave kms: credential export: writing "
			"'%s' failed\n",
			a->out);
		if (unlink(a->out)) {
			/* reported above; nothing more to do */
		}
		return KMS_EXIT_FAIL;
	}
	return KMS_EXIT_OK;
}

/* The identity must be the user's: exact, or through one of its patterns. */
static int check_identity(struct kms_db *db, const struct export_args *a)
{
	struct kms_store *st = kms_db_store(db);
	struct kms_user_info info;
	struct kms_user u;
	enum cc_err err;
	bool same;

	err = kms_db_user_get(db, a->user, &info);
	if (err == CC_ERR_NOT_FOUND) {
		fprintf(stderr,
			"conclave kms: credential export: no user "
			"'%s'\n",
			a->user);
		return KMS_EXIT_FAIL;
	}
	if (err)
		return kms_cli_fail("credential export", err);
	err = st->ops->user_by_identity(
		st,
		(struct cc_slice){ (const uint8_t *)a->identity,
				   strlen(a->identity) },
		&u);
	same = !err && u.id == info.id;
	cc_wipe(&u, sizeof(u));
	if (same)
		return KMS_EXIT_OK;
	fprintf(stderr,
		"conclave kms: credential export: identity '%s' is not "
		"user %s's (`identity add %s %s` first)\n",
		a->identity, a->user, a->user, a->identity);
	return KMS_EXIT_FAIL;
}

static int export_to_file(struct kms_db *db, const struct export_args *a)
{
	char psk_id[KMS_MAX_NAME], hex[2 * KMS_MAX_PSK + 1], body[1024];
	uint8_t psk[KMS_MAX_PSK];
	size_t psk_len = 0;
	enum cc_err err;
	int n, rc = KMS_EXIT_FAIL;

	err = kms_db_user_psk(db, a->user, psk_id, psk, &psk_len);
	if (err) {
		rc = kms_cli_fail("credential export: reading the PSK", err);
		goto out;
	}
	cc_hex_encode(psk, psk_len, hex);
	n = snprintf(body, sizeof(body),
		     "# conclave participant credential: secret, keep mode "
		     "0600\n"
		     "identity = %s\npsk_id = %s\npsk = %s\nkms_url = %s\n"
		     "kms_identity = %s\n",
		     a->identity, psk_id, hex, a->url, a->kms_identity);
	if (n < 0 || (size_t)n >= sizeof(body)) {
		fprintf(stderr, "conclave kms: credential export: values too "
				"long\n");
		goto out;
	}
	rc = write_file(a, body, (size_t)n);
out:
	cc_wipe(psk, sizeof(psk));
	cc_wipe(hex, sizeof(hex));
	cc_wipe(body, sizeof(body));
	return rc;
}

/* Values go into a line-based file: no control characters or spaces. */
static bool value_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static int check_args(struct export_args *a, char *kms_id, size_t cap)
{
	const char *at;

	if (!a->url || !a->identity) {
		fprintf(stderr,
			"conclave kms: credential export: --kms-url "
			"and --identity are required\n\n%s",
			usage_export);
		return KMS_EXIT_USAGE;
	}
	if ((strncmp(a->url, "http://", 7) && strncmp(a->url, "https://", 8)) ||
	    !value_ok(a->url) || !value_ok(a->identity) ||
	    (a->kms_identity && !value_ok(a->kms_identity))) {
		fprintf(stderr, "conclave kms: credential export: --kms-url "
				"must be http(s)://..., and no value may hold "
				"spaces or control characters\n");
		return KMS_EXIT_USAGE;
	}
	at = strrchr(a->identity, '@');
	if (!a->kms_identity && (!at || !at[1])) {
		fprintf(stderr,
			"conclave kms: credential export: '%s' has no "
			"realm; give --kms-identity\n",
			a->identity);
		return KMS_EXIT_USAGE;
	}
	if (!a->kms_identity) {
		snprintf(kms_id, cap, "sip:kms.%s", at + 1);
		a->kms_identity = kms_id;
	}
	return -1;
}

int kms_cmd_credential_export(const struct kms_cli *cli, int argc, char **argv)
{
	struct export_args a = { 0 };
	const char *pos[1];
	const struct kms_opt opts[] = {
		{ "--kms-url", &a.url, NULL },
		{ "--identity", &a.identity, NULL },
		{ "--kms-identity", &a.kms_identity, NULL },
		{ "-o", &a.out, NULL },
		{ "--force", NULL, &a.force },
	};
	char kms_id[KMS_MAX_NAME + 16], out[KMS_MAX_NAME + 8];
	struct kms_db *db;
	int rc;

	rc = kms_cli_parse(usage_export, argc, argv, opts, 5, pos, 1, 1);
	if (rc >= 0)
		return rc;
	a.user = pos[0];
	rc = check_args(&a, kms_id, sizeof(kms_id));
	if (rc >= 0)
		return rc;
	if (!a.out) {
		snprintf(out, sizeof(out), "%s.cred", a.user);
		a.out = out;
	}
	rc = kms_cli_open(cli, &db);
	if (rc)
		return rc;
	rc = check_identity(db, &a);
	if (!rc)
		rc = export_to_file(db, &a);
	kms_db_close(db);
	if (!rc)
		printf("wrote the credential of %s (%s) to %s (mode 0600)\n",
		       a.user, a.identity, a.out);
	return rc;
}
